//! TWFE, event study, Sun-Abraham and imputation estimators against reference numbers.
//!
//! Sources: /work/shared/reference/did.md (pyfixest 0.60 TWFE on mpdta and Prop 99) and
//! reference/did.json, written by reference/scripts/did_reference.py (pyfixest 0.60 feols
//! with explicit dummies, numpy delta method, diff-diff 3.13 ImputationDiD and SunAbraham).

use causalkit_did::event_study::{event_study, EventStudyOptions};
use causalkit_did::imputation::imputation;
use causalkit_did::sunab::sun_abraham;
use causalkit_did::twfe::{twfe, TREATED};
use causalkit_did::wild::{wild_cluster_bootstrap, WildOptions};
use causalkit_did::StaggeredPanel;
use causalkit_stats::resample::MultiplierWeights;
use causalkit_stats::{Factor, FixedEffects, LinearModel, Vcov};
use serde_json::Value;

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Minimal CSV reader (no quoting needed for these files).
fn read_csv(rel: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(root().join(rel)).unwrap();
    let mut lines = text.lines();
    let header = lines
        .next()
        .unwrap()
        .split(',')
        .map(|s| s.trim_matches('"').to_string())
        .collect();
    let rows = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.split(',')
                .map(|s| s.trim_matches('"').to_string())
                .collect()
        })
        .collect();
    (header, rows)
}

fn col(h: &[String], rows: &[Vec<String>], name: &str) -> Vec<String> {
    let j = h.iter().position(|c| c == name).unwrap();
    rows.iter().map(|r| r[j].clone()).collect()
}

fn mpdta() -> StaggeredPanel {
    let (h, rows) = read_csv("datasets/mpdta.csv");
    let unit = col(&h, &rows, "countyreal");
    let time: Vec<i64> = col(&h, &rows, "year")
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    let y: Vec<f64> = col(&h, &rows, "lemp")
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    let g: Vec<Option<i64>> = col(&h, &rows, "first.treat")
        .iter()
        .map(|s| Some(s.parse::<i64>().unwrap()).filter(|&v| v != 0))
        .collect();
    StaggeredPanel::new(Factor::from_labels("countyreal", &unit), time, y, g).unwrap()
}

fn reference() -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join("reference/did.json")).unwrap())
        .unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

fn close(a: f64, b: f64, rel: f64, what: &str) {
    assert!(
        (a - b).abs() <= rel * b.abs().max(1e-12),
        "{what}: got {a}, expected {b} (rel tol {rel})"
    );
}

#[test]
fn twfe_mpdta_matches_pyfixest() {
    // did.md: pyfixest 0.60 coefficient -0.036549, CRV1 0.013265, HC1 0.01236;
    // reference/did.json carries the full-precision values.
    let p = mpdta();
    let r = reference();
    let fit = twfe(&p, None, 0.05, None).unwrap();
    let e = fit.effect();
    close(e.estimate, f(&r["mpdta_twfe"]["coef"]), 1e-8, "coef");
    close(
        e.std_error.unwrap(),
        f(&r["mpdta_twfe"]["se_crv1"]),
        1e-6,
        "CRV1",
    );
    close(e.p_value.unwrap(), f(&r["mpdta_twfe"]["p_crv1"]), 1e-5, "p");
    close(
        e.ci_low.unwrap(),
        f(&r["mpdta_twfe"]["ci_crv1"][0]),
        1e-6,
        "ci low",
    );
    assert!(
        (e.estimate - -0.036549).abs() < 5e-7 && (e.std_error.unwrap() - 0.013265).abs() < 5e-7
    );
    let hc1 = twfe(&p, Some(Vcov::Hc1), 0.05, None).unwrap();
    close(
        hc1.effect().std_error.unwrap(),
        f(&r["mpdta_twfe"]["se_hc1"]),
        1e-6,
        "HC1",
    );
    let years = Factor::from_labels("year", &p.time);
    let tw = twfe(
        &p,
        Some(Vcov::TwoWayCluster(p.unit.clone(), years)),
        0.05,
        None,
    )
    .unwrap();
    close(
        tw.effect().std_error.unwrap(),
        f(&r["mpdta_twfe"]["se_twoway_county_year"]),
        1e-6,
        "two-way",
    );
}

#[test]
fn twfe_prop99_matches_pyfixest() {
    // did.md: TWFE state and year FE -27.3491, CRV1 by state 2.8024 (pyfixest 0.60).
    let (h, rows) = read_csv("datasets/california_prop99.csv");
    let state = col(&h, &rows, "State");
    let year: Vec<i64> = col(&h, &rows, "Year")
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    let y: Vec<f64> = col(&h, &rows, "PacksPerCapita")
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    let treated = col(&h, &rows, "treated");
    let first: i64 = (0..rows.len())
        .filter(|&i| treated[i] == "1")
        .map(|i| year[i])
        .min()
        .unwrap();
    let g: Vec<Option<i64>> = state
        .iter()
        .map(|s| (s == "California").then_some(first))
        .collect();
    let p = StaggeredPanel::new(Factor::from_labels("State", &state), year, y, g).unwrap();
    let fit = twfe(&p, None, 0.05, None).unwrap();
    let r = reference();
    close(
        fit.effect().estimate,
        f(&r["prop99_twfe"]["coef"]),
        1e-8,
        "coef",
    );
    close(
        fit.effect().std_error.unwrap(),
        f(&r["prop99_twfe"]["se_crv1"]),
        1e-6,
        "CRV1",
    );
    assert!((fit.effect().estimate - -27.3491).abs() < 1e-4);
    // A single treated unit is flagged.
    assert!(fit
        .warnings
        .iter()
        .any(|w| w.contains("single treated unit")));
}

#[test]
fn event_study_mpdta_matches_pyfixest() {
    let p = mpdta();
    let r = reference();
    let es = event_study(&p, &EventStudyOptions::default(), None, 0.05).unwrap();
    let rf = &r["mpdta_event_study"];
    assert_eq!(es.coefs.len(), 7);
    for c in &es.coefs {
        let k = c.event_time.to_string();
        close(c.row.estimate, f(&rf["coefs"][&k]), 1e-7, &format!("e={k}"));
        close(
            c.row.std_error.unwrap(),
            f(&rf["se"][&k]),
            1e-6,
            &format!("se e={k}"),
        );
    }
    let (fstat, pval, q) = es.pretrend.unwrap();
    assert_eq!(q, 3);
    close(fstat, f(&rf["pretrend_F"]), 1e-6, "pretrend F");
    close(pval, f(&rf["pretrend_p"]), 1e-6, "pretrend p");
    // Binned end points: leads 2, lags 2.
    let opts = EventStudyOptions {
        leads: Some(2),
        lags: Some(2),
        ref_period: None,
    };
    let es = event_study(&p, &opts, None, 0.05).unwrap();
    let rb = &r["mpdta_event_study_binned_2_2"];
    assert_eq!(es.coefs.len(), 4);
    for c in &es.coefs {
        let k = c.event_time.to_string();
        close(
            c.row.estimate,
            f(&rb["coefs"][&k]),
            1e-7,
            &format!("binned e={k}"),
        );
        close(
            c.row.std_error.unwrap(),
            f(&rb["se"][&k]),
            1e-6,
            &format!("binned se e={k}"),
        );
    }
    assert!(
        es.coefs.iter().any(|c| c.row.name == "e<=-2")
            && es.coefs.iter().any(|c| c.row.name == "e>=2")
    );
}

#[test]
fn sun_abraham_mpdta_matches_pyfixest_and_diff_diff() {
    // Reference: saturated regression in pyfixest + numpy delta method (reference/did.json,
    // "mpdta_sunab"), equal to diff-diff 3.13 SunAbraham (-0.0399513, SE 0.0117963).
    // did.md's "-0.04771" is the BJS imputation ATT (see the imputation test), not Sun-Abraham.
    let p = mpdta();
    let r = reference();
    let rs = &r["mpdta_sunab"];
    let fit = sun_abraham(&p, None, 0.05).unwrap();
    close(fit.att.estimate, f(&rs["att"]), 1e-7, "ATT");
    close(fit.att.std_error, f(&rs["att_se"]), 1e-6, "ATT se");
    close(
        fit.att.estimate,
        f(&rs["diff_diff_overall"]["att"]),
        1e-7,
        "ATT vs diff-diff",
    );
    for e in &fit.by_event_time {
        let k = e.event_time.unwrap().to_string();
        close(
            e.estimate,
            f(&rs["by_event_time"][&k]["est"]),
            1e-7,
            &format!("e={k}"),
        );
        close(
            e.std_error,
            f(&rs["by_event_time"][&k]["se"]),
            1e-6,
            &format!("se e={k}"),
        );
    }
    assert_eq!(fit.cells.len(), rs["cells"].as_object().unwrap().len());
}

#[test]
fn imputation_mpdta_matches_diff_diff() {
    // Reference: diff-diff 3.13 ImputationDiD (BJS Theorem 3, cohort x horizon partition).
    let p = mpdta();
    let r = reference();
    let ri = &r["mpdta_imputation"];
    let fit = imputation(&p, None, 0.05).unwrap();
    close(fit.att.estimate, f(&ri["att"]), 1e-7, "ATT");
    close(fit.att.std_error.unwrap(), f(&ri["att_se"]), 1e-6, "ATT se");
    assert!((fit.att.estimate - -0.04771).abs() < 5e-6);
    for e in &fit.by_event_time {
        let k = e.event_time.unwrap().to_string();
        close(
            e.estimate,
            f(&ri["by_event_time"][&k]["est"]),
            1e-7,
            &format!("e={k}"),
        );
        close(
            e.std_error.unwrap(),
            f(&ri["by_event_time"][&k]["se"]),
            1e-6,
            &format!("se e={k}"),
        );
    }
    // With a (time-varying) covariate.
    let lpop: Vec<f64> = {
        let (h, rows) = read_csv("datasets/mpdta.csv");
        let lp: Vec<f64> = col(&h, &rows, "lpop")
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        lp.iter()
            .zip(&p.time)
            .map(|(l, t)| l * (*t - 2003) as f64)
            .collect()
    };
    let pc = p.clone().with_covariate("lpop_t", lpop).unwrap();
    let fit = imputation(&pc, None, 0.05).unwrap();
    let rc = &r["mpdta_imputation_cov"];
    close(fit.att.estimate, f(&rc["att"]), 1e-7, "ATT with covariate");
    close(
        fit.att.std_error.unwrap(),
        f(&rc["att_se"]),
        1e-6,
        "ATT se with covariate",
    );
}

#[test]
fn wild_bootstrap_is_reproducible_and_agrees_with_crv1_with_many_clusters() {
    // With 500 clusters the WCR bootstrap p-value and interval should be close to the
    // CRV1 t-test (Roodman et al. 2019: the bootstrap refines the t approximation, which
    // is already accurate with many balanced clusters). pyfixest CRV1 p = 0.00608.
    let p = mpdta();
    let opts = WildOptions {
        reps: 1999,
        seed: 7,
        weights: MultiplierWeights::Rademacher,
        alpha: 0.05,
    };
    let a = twfe(&p, None, 0.05, Some(opts)).unwrap();
    let b = twfe(&p, None, 0.05, Some(opts)).unwrap();
    let (wa, wb) = (a.wild.clone().unwrap(), b.wild.unwrap());
    assert_eq!(wa, wb);
    close(
        wa.estimate,
        a.effect().estimate,
        1e-9,
        "bootstrap estimate = OLS",
    );
    assert!(wa.p_value > 0.001 && wa.p_value < 0.02, "p {}", wa.p_value);
    let (lo, hi) = (wa.ci_low.unwrap(), wa.ci_high.unwrap());
    let (clo, chi) = (a.effect().ci_low.unwrap(), a.effect().ci_high.unwrap());
    let width = chi - clo;
    assert!(
        (lo - clo).abs() < 0.1 * width && (hi - chi).abs() < 0.1 * width,
        "{lo} {hi} vs {clo} {chi}"
    );
    // The unscaled t statistic times sqrt of the CRV1 factor equals the CRV1 t.
    let n = p.len() as f64;
    let g = 500.0;
    let k_nested = 6.0; // treatment + 5 year levels; nested county effects count 1 - 1 + ... = fixest K = 6
    let factor = (n - 1.0) / (n - k_nested) * g / (g - 1.0);
    let t = a.effect().statistic.unwrap();
    close(wa.t_stat / factor.sqrt(), t, 1e-6, "t statistic");
}

#[test]
fn wild_bootstrap_without_fixed_effects_matches_direct_regression() {
    // A direct consistency check of the FWL algebra: the bootstrap estimate equals the OLS
    // coefficient of the same regression fitted by LinearModel.
    let n = 120;
    let x: Vec<f64> = (0..n).map(|i| ((i * 7) % 11) as f64).collect();
    let z: Vec<f64> = (0..n).map(|i| ((i * 3) % 5) as f64).collect();
    let y: Vec<f64> = (0..n)
        .map(|i| 1.0 + 0.3 * x[i] - 0.5 * z[i] + ((i * 13) % 7) as f64 * 0.2)
        .collect();
    let cl = Factor::from_labels("c", &(0..n).map(|i| i / 12).collect::<Vec<_>>());
    let fit = LinearModel::new("y", y.clone())
        .regressor("x", x.clone())
        .regressor("z", z.clone())
        .fit()
        .unwrap();
    let w = wild_cluster_bootstrap(
        &y,
        &x,
        &[vec![1.0; n], z.clone()],
        None,
        None,
        &cl,
        &WildOptions::default(),
    )
    .unwrap();
    close(w.estimate, fit.coef()[1], 1e-10, "coef");
    // Same with a fixed effect.
    let fe = FixedEffects::new(vec![Factor::from_labels(
        "z",
        &z.iter().map(|v| *v as i64).collect::<Vec<_>>(),
    )])
    .unwrap();
    let fit = LinearModel::new("y", y.clone())
        .regressor("x", x.clone())
        .absorb(fe.clone())
        .fit()
        .unwrap();
    let w =
        wild_cluster_bootstrap(&y, &x, &[], Some(&fe), None, &cl, &WildOptions::default()).unwrap();
    close(w.estimate, fit.coef()[0], 1e-8, "coef with FE");
    let _ = TREATED;
}

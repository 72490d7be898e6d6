//! Borusyak, Jaravel & Spiess (2024) Test 1 (the imputation estimator's pre-trend test) on
//! mpdta against reference/did_imputation.json, written by
//! reference/scripts/did_imputation_reference.py: pyfixest 0.60 feols on the untreated rows
//! with unit and year effects and lead dummies, CRV1 (pyfixest's default small-sample factor
//! and singleton removal, as reghdfe in Stata did_imputation), Wald F against F(q, G - 1).
//! Tolerances: coefficients 1e-8 relative, standard errors and F 1e-6, p-values 1e-6.

use causalkit_did::imputation::{imputation, imputation_pretrend};
use causalkit_did::{DidError, StaggeredPanel};
use causalkit_stats::{Factor, Report, Vcov};
use serde_json::Value;

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// mpdta columns: year, countyreal, lpop, lemp, first.treat.
fn mpdta() -> (StaggeredPanel, Vec<f64>) {
    let text = std::fs::read_to_string(root().join("datasets/mpdta.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let j = |n: &str| header.iter().position(|c| *c == n).unwrap();
    let (mut unit, mut time, mut y, mut g, mut lpop) = (vec![], vec![], vec![], vec![], vec![]);
    for l in lines.filter(|l| !l.is_empty()) {
        let c: Vec<&str> = l.split(',').collect();
        unit.push(c[j("countyreal")].to_string());
        time.push(c[j("year")].parse::<i64>().unwrap());
        y.push(c[j("lemp")].parse::<f64>().unwrap());
        g.push(Some(c[j("first.treat")].parse::<i64>().unwrap()).filter(|&v| v != 0));
        lpop.push(c[j("lpop")].parse::<f64>().unwrap());
    }
    let p = StaggeredPanel::new(Factor::from_labels("countyreal", &unit), time, y, g).unwrap();
    (p, lpop)
}

fn reference() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(root().join("reference/did_imputation.json")).unwrap(),
    )
    .unwrap()
}

fn close(a: f64, b: f64, rel: f64, what: &str) {
    assert!(
        (a - b).abs() <= rel * b.abs().max(1e-12),
        "{what}: got {a}, expected {b} (rel tol {rel})"
    );
}

fn check(
    p: &StaggeredPanel,
    k: usize,
    vcov: Option<&Vcov>,
    r: &Value,
) -> causalkit_did::imputation::ImputationPretrend {
    let t = imputation_pretrend(p, k, vcov, 0.05).unwrap();
    let f = |v: &Value| v.as_f64().unwrap();
    assert_eq!(t.df_num, r["df_num"].as_u64().unwrap() as usize);
    assert_eq!(t.df_den, f(&r["df_den"]));
    assert_eq!(t.n_obs, r["n_obs"].as_u64().unwrap() as usize);
    for l in &t.leads {
        let e = l.event_time.to_string();
        close(
            l.row.estimate,
            f(&r["coef"][&e]),
            1e-8,
            &format!("lead {e}"),
        );
        close(
            l.row.std_error.unwrap(),
            f(&r["se"][&e]),
            1e-6,
            &format!("se {e}"),
        );
    }
    close(t.statistic, f(&r["F"]), 1e-6, "F");
    close(t.p_value, f(&r["p_value"]), 1e-6, "p");
    t
}

#[test]
fn pretrend_test_matches_pyfixest_on_mpdta() {
    let (p, lpop) = mpdta();
    let r = reference();
    let t = check(&p, 3, None, &r["pretrend_k3"]);
    // 20 units of cohort 2004 have a single untreated row (2003): singletons, dropped.
    assert_eq!(t.n_singletons, 20);
    assert_eq!(
        t.leads.iter().map(|l| l.event_time).collect::<Vec<_>>(),
        vec![-1, -2, -3]
    );
    assert!(t.vcov.contains("G = 480"), "{}", t.vcov);
    check(&p, 1, None, &r["pretrend_k1"]);
    check(&p, 2, None, &r["pretrend_k2"]);
    // Time-varying covariate lpop * (year - 2003) and analytic weights exp(lpop).
    let lpop_t: Vec<f64> = lpop
        .iter()
        .zip(&p.time)
        .map(|(l, t)| l * (*t - 2003) as f64)
        .collect();
    let pc = p.clone().with_covariate("lpop_t", lpop_t).unwrap();
    check(&pc, 3, None, &r["pretrend_k3_cov"]);
    let pw = p
        .clone()
        .with_weights(lpop.iter().map(|l| l.exp()).collect())
        .unwrap();
    check(&pw, 3, None, &r["pretrend_k3_weighted"]);
    // Two-way clustering by county and year: df_den = min(G) - 1 = 4.
    let tw = Vcov::TwoWayCluster(p.unit.clone(), Factor::from_labels("year", &p.time));
    check(&p, 3, Some(&tw), &r["pretrend_k3_twoway"]);
    // diff-diff 3.13 (leads -2..-4, singletons kept) spans the same lead space for K = 3;
    // its F differs only by the singleton small-sample factor (1.838092 vs 1.837885).
    let dd = r["diff_diff_pretrend_test_n3"]["f_stat"].as_f64().unwrap();
    assert!((t.statistic / dd - 1.0).abs() < 2e-4);
}

#[test]
fn pretrend_test_errors_are_typed() {
    let (p, _) = mpdta();
    // K = 4 leads cover every untreated row of the treated cohorts: collinear with the
    // unit effects (pyfixest drops pre4).
    match imputation_pretrend(&p, 4, None, 0.05).unwrap_err() {
        DidError::InvalidArgument { name, reason } => {
            assert_eq!(name, "leads");
            assert!(reason.contains("pre e=-4"), "{reason}");
        }
        e => panic!("unexpected {e:?}"),
    }
    assert!(matches!(
        imputation_pretrend(&p, 0, None, 0.05).unwrap_err(),
        DidError::InvalidArgument { .. }
    ));
    // A cluster factor of the wrong length names itself.
    let short = Vcov::Cluster(Factor::from_labels("region", &[1, 2, 3]));
    let e = imputation_pretrend(&p, 3, Some(&short), 0.05).unwrap_err();
    assert!(e.to_string().contains("region"), "{e}");
}

#[test]
fn pretrend_is_reported_with_the_imputation_fit() {
    let (p, _) = mpdta();
    let t = imputation_pretrend(&p, 3, None, 0.05).unwrap();
    let fit = imputation(&p, None, 0.05).unwrap().with_pretrend(t.clone());
    let r = fit.result();
    let d = &r.diagnostics["pretrend_test"];
    assert_eq!(d["F"].as_f64().unwrap(), t.statistic);
    assert_eq!(d["leads"].as_u64().unwrap(), 3);
    assert!(r.effects.iter().any(|e| e.label == "pre e=-2"));
    assert!(r.to_table().contains("pretrend_test"));
}

#[test]
fn imputation_clustered_variance_matches_numpy() {
    // Reference: reference/did_imputation.json "imputation_clustered", a numpy re-derivation
    // of BJS Theorem 3 with explicit unit/year dummies (its one-way county SE is asserted in
    // the script against diff-diff 3.13 ImputationDiD to 1e-8). Two-way clustering is
    // S_A + S_B - S_AxB on the same scores. Tolerances: estimates 1e-8, SEs 1e-6 relative.
    use causalkit_did::imputation::imputation_vcov;
    let (p, _) = mpdta();
    let r = &reference()["imputation_clustered"];
    let f = |v: &Value| v.as_f64().unwrap();
    let year = Factor::from_labels("year", &p.time);
    let state_of: Vec<String> = p
        .unit
        .codes()
        .iter()
        .map(|&c| (p.unit.labels()[c as usize].parse::<u32>().unwrap() / 1000).to_string())
        .collect();
    let state = Factor::from_labels("state", &state_of);
    let one = imputation(&p, None, 0.05).unwrap();
    let county_year = imputation_vcov(
        &p,
        Some(&Vcov::TwoWayCluster(p.unit.clone(), year.clone())),
        0.05,
    )
    .unwrap();
    let by_state = imputation(&p, Some(&state), 0.05).unwrap();
    let county_state = imputation_vcov(
        &p,
        Some(&Vcov::TwoWayCluster(p.unit.clone(), state.clone())),
        0.05,
    )
    .unwrap();
    let all = |fit: &causalkit_did::imputation::ImputationFit| {
        let mut v = vec![fit.att.clone()];
        v.extend(
            fit.by_event_time
                .iter()
                .filter(|e| e.event_time.unwrap() >= 0)
                .cloned(),
        );
        v
    };
    let county_year_state = imputation_vcov(
        &p,
        Some(&Vcov::TwoWayCluster(state.clone(), year.clone())),
        0.05,
    )
    .unwrap();
    for (k, fit) in [
        ("se_county", &one),
        ("se_county_year", &county_year),
        ("se_state", &by_state),
        ("se_county_state", &county_state),
        ("se_state_year", &county_year_state),
    ] {
        for e in all(fit) {
            let want = &r[&e.label];
            close(
                e.estimate,
                f(&want["estimate"]),
                1e-8,
                &format!("{k} {}", e.label),
            );
            // null in the reference = a negative two-way variance: no SE, and a warning.
            match (e.std_error, want[k].as_f64()) {
                (Some(se), Some(w)) => close(se, w, 1e-6, &format!("{k} {} se", e.label)),
                (None, None) => {
                    assert!(e.ci_low.is_none() && e.p_value.is_none());
                    assert!(
                        fit.warnings
                            .iter()
                            .any(|w| w.contains(&format!("variance of {} is negative", e.label))),
                        "{k} {}: {:?}",
                        e.label,
                        fit.warnings
                    );
                }
                (got, want) => panic!("{k} {}: got {got:?}, want {want:?}", e.label),
            }
        }
    }
    // On mpdta, county x year leaves e=1 without a standard error (negative variance).
    assert!(county_year
        .by_event_time
        .iter()
        .any(|e| e.std_error.is_none()));
    // County is nested in state: two-way (county, state) equals one-way state.
    close(
        county_state.att.std_error.unwrap(),
        by_state.att.std_error.unwrap(),
        1e-10,
        "nested",
    );
    assert_eq!(county_year.n_clusters, 5);
    let d = county_year.result().diagnostics["vcov"].to_string();
    assert!(d.contains("two-way"), "{d}");
    // A non-cluster variance is a typed error naming the argument.
    match imputation_vcov(&p, Some(&Vcov::Hc1), 0.05).unwrap_err() {
        DidError::InvalidArgument { name, .. } => assert_eq!(name, "vcov"),
        e => panic!("unexpected {e:?}"),
    }
}

#[test]
fn pretrend_leads_follow_anticipation_and_skip_empty_leads() {
    let (p, _) = mpdta();
    // Anticipation 1: untreated rows are t < G - 1, so the leads are e = -2, -3 (cohort
    // 2004 has no untreated year then: a typed error, so it is left out).
    let e = imputation_pretrend(&p.clone().with_anticipation(1).unwrap(), 2, None, 0.05);
    assert!(matches!(e, Err(DidError::NoPrePeriod { cohort: 2004, .. })));
    let rows: Vec<usize> = (0..p.len())
        .filter(|&i| p.cohort[i] != Some(2004))
        .collect();
    let pa = p.subset(&rows).with_anticipation(1).unwrap();
    let t = imputation_pretrend(&pa, 2, None, 0.05).unwrap();
    assert_eq!(
        t.leads.iter().map(|l| l.event_time).collect::<Vec<_>>(),
        vec![-2, -3]
    );
    assert!(t.statistic.is_finite() && t.p_value > 0.0 && t.p_value < 1.0);
    // Cohort 2006 and never-treated counties without 2005: the 2006 cohort's untreated
    // rows are e = -3, -2, so the lead e = -1 has no row: left out with a warning.
    let rows: Vec<usize> = (0..p.len())
        .filter(|&i| p.time[i] != 2005 && matches!(p.cohort[i], None | Some(2006)))
        .collect();
    let sub = p.subset(&rows);
    let t = imputation_pretrend(&sub, 2, None, 0.05).unwrap();
    assert_eq!(
        t.leads.iter().map(|l| l.event_time).collect::<Vec<_>>(),
        vec![-2]
    );
    assert!(t.warnings.iter().any(|w| w.contains("relative period -1")));
}

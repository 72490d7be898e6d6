//! The randomised design on the bundled A/B rows (datasets/contact-centre/ab_contacts.csv).
//! Reference: reference/attribution_randomised.json, written by
//! reference/scripts/attribution_randomised_reference.py (pandas/numpy re-derivation of the
//! effects, CUPED with the pooled slope, and the influence-function covariance, rows with a
//! missing value dropped per KPI). Identity with `causalkit ab` is tested in
//! crates/cli/tests/attribute.rs.

use causalkit_attribution::randomised;
use causalkit_attribution::spec::ReleaseSpec;
use causalkit_attribution::FitOptions;
use serde_json::Value;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn reference() -> Value {
    let text =
        std::fs::read_to_string(root().join("reference/attribution_randomised.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn spec(kpis: &str, covariates: &str) -> ReleaseSpec {
    let text = format!(
        "[release]\nname = \"test\"\n[data]\npath = \"ab_contacts.csv\"\ndrop_missing = true\n\
         [design]\nkind = \"randomised\"\narm = \"arm\"\ncontrol = \"control\"\ntreatment = \"treatment\"\n\
         {covariates}\n{kpis}"
    );
    ReleaseSpec::from_toml(&text, "test.toml", &root().join("datasets/contact-centre")).unwrap()
}

const CUPED_KPIS: &str =
    "[[kpi]]\nname = \"aht\"\nexpr = \"mean(handle_seconds)\"\nbetter = \"lower\"\n\
[[kpi]]\nname = \"fcr\"\nexpr = \"proportion(fcr)\"\nbetter = \"higher\"\n\
[[kpi]]\nname = \"csat\"\nexpr = \"mean(csat)\"\nbetter = \"higher\"\n";

const PLAIN_KPIS: &str = "[[kpi]]\nname = \"aht\"\nexpr = \"mean(handle_seconds)\"\nbetter = \"lower\"\n\
[[kpi]]\nname = \"fcr\"\nexpr = \"proportion(fcr)\"\nbetter = \"higher\"\n\
[[kpi]]\nname = \"seconds_per_resolved\"\nexpr = \"ratio(handle_seconds, fcr)\"\nbetter = \"lower\"\n\
[[kpi]]\nname = \"csat_top2\"\nexpr = \"topbox(csat, 4)\"\nbetter = \"higher\"\n";

#[test]
fn unit_level_ratios_with_cuped_match_numpy() {
    // Customers randomised, rows summed per customer (`unit`): both KPIs become ratios of sums
    // over customers, CUPED on the customer's mean pre-period handle time. Rows:
    // reference/attribution_units.csv (seeded, written by the reference script).
    let text = "[release]\nname = \"units\"\n[data]\npath = \"attribution_units.csv\"\n\
         [design]\nkind = \"randomised\"\narm = \"arm\"\ncontrol = \"control\"\ntreatment = \"treatment\"\n\
         unit = \"customer\"\ncovariates = [\"pre_handle_seconds\"]\n\
         [[kpi]]\nname = \"aht\"\nexpr = \"ratio(handle_seconds, count)\"\nbetter = \"lower\"\n\
         [[kpi]]\nname = \"fcr\"\nexpr = \"proportion(fcr)\"\nbetter = \"higher\"\n";
    let spec = ReleaseSpec::from_toml(text, "units.toml", &root().join("reference")).unwrap();
    check_case("units_cuped", &spec);
}

fn check_case(case: &str, spec: &ReleaseSpec) {
    let r = &reference()["cases"][case];
    let data = spec.load_data().unwrap();
    let fit = randomised::fit(spec, &data, &FitOptions::default()).unwrap();
    let e = &fit.effects;
    let names: Vec<&str> = r["kpis"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        e.effects
            .iter()
            .map(|x| x.label.as_str())
            .collect::<Vec<_>>(),
        names
    );
    for (j, eff) in e.effects.iter().enumerate() {
        // Effects: the engine's (sums of squares, one pass) against pandas' (two-pass means):
        // rounding differences only, 1e-9 relative.
        let want = r["effects"][j].as_f64().unwrap();
        assert!(
            (eff.estimate - want).abs() <= 1e-9 * want.abs(),
            "{case} {}: {} vs {want}",
            eff.label,
            eff.estimate
        );
        // The diagonal of the influence-function covariance is the engine's SE^2. The engine
        // uses one-pass sums of squares, this crate centred two-pass sums: they agree to
        // rounding, amplified by (mean / sd)^2 < 1e3 here, so 1e-9 relative is ample.
        let se = eff.std_error.unwrap();
        let d = e.covariance[(j, j)];
        assert!(
            (d - se * se).abs() <= 1e-9 * se * se,
            "{case} {}: var {d} vs SE^2 {}",
            eff.label,
            se * se
        );
    }
    // Every entry against the numpy re-derivation, relative to sqrt(var_j var_k).
    let k = names.len();
    for j in 0..k {
        for l in 0..k {
            let want = r["covariance"][j][l].as_f64().unwrap();
            let got = e.covariance[(j, l)];
            let scale = (e.covariance[(j, j)] * e.covariance[(l, l)]).sqrt();
            assert!(
                (got - want).abs() <= 1e-9 * scale,
                "{case} cov[{j},{l}]: {got} vs {want}"
            );
        }
    }
    // Symmetric and positive definite.
    assert!((e.covariance.clone() - e.covariance.transpose()).amax() == 0.0);
    assert!(nalgebra::Cholesky::new(e.covariance.clone()).is_some());
}

#[test]
fn cuped_effects_and_covariance_match_numpy() {
    let s = spec(CUPED_KPIS, "covariates = [\"pre_handle_seconds\"]");
    check_case("cuped", &s);
    let data = s.load_data().unwrap();
    let fit = randomised::fit(&s, &data, &FitOptions::default()).unwrap();
    assert!(fit.estimator.contains("CUPED"));
    let cc = fit
        .cross_check
        .expect("CUPED has the unadjusted cross-check");
    assert_eq!(cc.effects.len(), 3);
    assert!(fit.diagnostics.contains_key("srm") && fit.diagnostics.contains_key("cuped"));
}

#[test]
fn ratio_and_topbox_covariance_match_numpy() {
    check_case("plain", &spec(PLAIN_KPIS, ""));
}

#[test]
fn baseline_is_the_control_level() {
    let s = spec(CUPED_KPIS, "");
    let data = s.load_data().unwrap();
    let fit = randomised::fit(&s, &data, &FitOptions::default()).unwrap();
    // The control mean of handle_seconds and share of fcr, computed directly from the rows.
    let arm = data.labels("arm").unwrap();
    for (j, col) in ["handle_seconds", "fcr"].iter().enumerate() {
        let v = data.numeric(col).unwrap();
        let xs: Vec<f64> = v
            .iter()
            .zip(&arm)
            .filter(|(_, a)| a.as_deref() == Some("control"))
            .filter_map(|(x, _)| *x)
            .collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((fit.effects.baseline[j] - mean).abs() < 1e-9 * mean.abs());
    }
    assert!(fit.cross_check.is_none());
}

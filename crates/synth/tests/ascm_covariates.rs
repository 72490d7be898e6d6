//! Ridge ASCM with fixed covariates (augsynth `residualize = TRUE`; Ben-Michael, Feller &
//! Rothstein 2021, Section 6) against pysyncon 1.7.0 `AugSynth(use_covariates=True,
//! residualize=True)`: reference/ascm_covariates.json (reference/scripts/
//! ascm_covariates_reference.py). Data: synthdid-py's CPS state panel (stored in
//! reference/ascm_sdid_covariates.json), outcome log_wage, California as the single treated
//! unit from 2010 (artificial), covariates the 1979-2009 means of urate and hours.
//! pysyncon's SLSQP weights are accurate to ~1e-6: weights are compared to 1e-5, the ATT to
//! 1e-5 (log points); CV curves on pysyncon's own grid to 1e-4 relative.

use causalkit_synth::ascm::{AugmentedSc, CvOptions, LambdaChoice};
use causalkit_synth::SynthError;
use nalgebra::DMatrix;
use serde_json::Value;

fn load(name: &str) -> Value {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    serde_json::from_str(&std::fs::read_to_string(root.join("reference").join(name)).unwrap())
        .unwrap()
}

fn matrix(v: &Value) -> DMatrix<f64> {
    let rows: Vec<Vec<f64>> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect();
    DMatrix::from_fn(rows.len(), rows[0].len(), |i, j| rows[i][j])
}

/// (outcomes, unit names, treated row, t0, covariate means over the pre-period)
fn cps() -> (DMatrix<f64>, Vec<String>, usize, usize, DMatrix<f64>) {
    let d = &load("ascm_sdid_covariates.json")["data"];
    let y = matrix(&d["log_wage"]);
    let units: Vec<String> = d["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap().to_string())
        .collect();
    let years: Vec<i64> = d["years"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let t0 = years.iter().filter(|&&y| y < 2010).count();
    let tr = units.iter().position(|u| u == "CA").unwrap();
    let (ur, hr) = (matrix(&d["urate"]), matrix(&d["hours"]));
    let z = DMatrix::from_fn(units.len(), 2, |i, c| {
        let m = if c == 0 { &ur } else { &hr };
        (0..t0).map(|t| m[(i, t)]).sum::<f64>() / t0 as f64
    });
    (y, units, tr, t0, z)
}

fn spec() -> (AugmentedSc, DMatrix<f64>) {
    let (y, units, tr, t0, z) = cps();
    let s = AugmentedSc::new(&y, tr, t0)
        .unit_names(units)
        .covariates(vec!["urate".into(), "hours".into()], &z);
    (s, z)
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

#[test]
fn matches_pysyncon_residualized_at_fixed_lambda() {
    let r = load("ascm_covariates.json");
    for (label, rec) in r["pysyncon_fixed"].as_object().unwrap() {
        let l = f(&rec["lambda"]);
        let fit = spec().0.lambda(LambdaChoice::Fixed(l)).fit().unwrap();
        for (name, w) in fit.named_weights() {
            let want = f(&rec["weights"][&name]);
            assert!((w - want).abs() < 1e-5, "{label} {name}: {w} vs {want}");
        }
        for (k, name) in fit.donor_names.iter().enumerate() {
            let want = f(&rec["sc_weights"][name]);
            assert!((fit.sc_weights[k] - want).abs() < 1e-5, "{label} sc {name}");
        }
        let att = f(&rec["att"]);
        assert!(
            (fit.att - att).abs() < 1e-5,
            "{label}: att {} vs {att}",
            fit.att
        );
    }
}

#[test]
fn cv_on_pysyncon_grid_picks_its_lambda() {
    let r = load("ascm_covariates.json");
    let py = &r["pysyncon_cv"];
    let grid: Vec<f64> = py["cv"]["lambdas"]
        .as_array()
        .unwrap()
        .iter()
        .map(f)
        .collect();
    let fit = spec()
        .0
        .lambda(LambdaChoice::CrossValidated(CvOptions {
            grid: Some(grid),
            ..CvOptions::default()
        }))
        .fit()
        .unwrap();
    let cv = fit.cv.as_ref().unwrap();
    for (a, b) in cv.errors.iter().zip(py["cv"]["errors"].as_array().unwrap()) {
        assert!((a - f(b)).abs() <= 1e-4 * f(b), "{a} vs {b}");
    }
    assert_eq!(fit.lambda, f(&py["lambda"]));
}

#[test]
fn covariates_are_balanced_exactly_and_errors_are_typed() {
    let (s, z) = spec();
    let fit = s.lambda(LambdaChoice::Fixed(1.0)).fit().unwrap();
    let sum: f64 = fit.weights.iter().sum();
    assert!((sum - 1.0).abs() < 1e-12);
    for c in 0..2 {
        let synth: f64 = fit
            .donors
            .iter()
            .zip(&fit.weights)
            .map(|(&d, w)| w * z[(d, c)])
            .sum();
        assert!((synth - z[(fit.treated, c)]).abs() < 1e-9 * z[(fit.treated, c)].abs());
    }
    let (y, units, tr, t0, z) = cps();
    let mut bad = z.clone();
    bad[(3, 1)] = f64::NAN;
    let e = AugmentedSc::new(&y, tr, t0)
        .unit_names(units.clone())
        .covariates(vec!["urate".into(), "hours".into()], &bad)
        .fit()
        .unwrap_err();
    assert!(
        matches!(e, SynthError::InvalidOption { .. }) && e.to_string().contains(&units[3]),
        "{e}"
    );
    let collinear = DMatrix::from_fn(z.nrows(), 2, |i, c| z[(i, 0)] * (c + 1) as f64);
    let e = AugmentedSc::new(&y, tr, t0)
        .covariates(vec!["a".into(), "b".into()], &collinear)
        .fit()
        .unwrap_err();
    assert!(matches!(e, SynthError::Numerical(_)), "{e}");
}

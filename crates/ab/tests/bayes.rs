//! Bayesian tests. Sources: /work/shared/reference/ab.md case 3 (gbstats
//! `tests/bayesian/test_tests.py`), and reference/ab_seq.json ("bayes_gaussian" from gbstats 0.8
//! `EffectBayesianABTest`; "beta_binomial" from scipy quadrature / dblquad), written by
//! reference/scripts/ab_seq_reference.py.

use causalkit_ab::bayes::{
    beta_binomial, gaussian, Arm, BetaPrior, GaussianOptions, GaussianPrior,
};
use serde_json::Value;

fn reference() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../reference/ab_seq.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("reference/ab_seq.json")).unwrap()
}

fn close(got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol,
        "got {got}, want {want} (abs tol {tol})"
    );
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

#[test]
fn case_3_binomial_to_the_digits_of_ab_md() {
    // ab.md case 3: 49/100 vs 51/100 relative, flat prior: lift 0.04082, posterior SD 0.14725,
    // CI (-0.24779, 0.32943), chance to win 0.60918, risk [0.0814, 0.04058].
    let a = Arm::proportion(49.0, 100.0).unwrap();
    let b = Arm::proportion(51.0, 100.0).unwrap();
    let p = gaussian(&a, &b, &GaussianOptions::default()).unwrap();
    close(p.mean, 0.04082, 5e-6);
    close(p.std_dev, 0.14725, 5e-6);
    close(p.ci_low, -0.24779, 5e-6);
    close(p.ci_high, 0.32943, 5e-6);
    close(p.chance_to_win, 0.60918, 5e-6);
    close(p.risk_control, 0.0814, 5e-5);
    close(p.risk_treatment, 0.04058, 5e-6);
}

#[test]
fn case_3_gaussian_to_the_digits_of_ab_md() {
    // ab.md case 3: (sum 100, sum_sq 1002.25, n 10) vs (105, 1111.5, 10): lift 0.05,
    // CI (-0.02, 0.12), chance to win 0.91923.
    let a = Arm::from_sums(10.0, 100.0, 1002.25).unwrap();
    let b = Arm::from_sums(10.0, 105.0, 1111.5).unwrap();
    let p = gaussian(&a, &b, &GaussianOptions::default()).unwrap();
    close(p.mean, 0.05, 1e-12);
    close(p.ci_low, -0.02, 5e-3);
    close(p.ci_high, 0.12, 5e-3);
    close(p.chance_to_win, 0.91923, 5e-6);
}

#[test]
fn gaussian_matches_gbstats_for_all_reference_configurations() {
    let v = reference();
    let g = &v["bayes_gaussian"];
    let a = Arm::from_sums(10.0, 100.0, 1002.25).unwrap();
    let b = Arm::from_sums(10.0, 105.0, 1111.5).unwrap();
    let pa = Arm::proportion(49.0, 100.0).unwrap();
    let pb = Arm::proportion(51.0, 100.0).unwrap();
    let cases = [
        ("binom_flat_relative", pa, pb, GaussianOptions::default()),
        ("mean_flat_relative", a, b, GaussianOptions::default()),
        (
            "mean_flat_absolute",
            a,
            b,
            GaussianOptions {
                relative: false,
                ..Default::default()
            },
        ),
        (
            "mean_proper_relative_prior",
            a,
            b,
            GaussianOptions {
                prior: Some(GaussianPrior {
                    mean: 0.0,
                    variance: 0.01,
                    relative: true,
                }),
                ..Default::default()
            },
        ),
        (
            "mean_proper_absolute_prior_on_relative",
            a,
            b,
            GaussianOptions {
                prior: Some(GaussianPrior {
                    mean: 0.1,
                    variance: 0.25,
                    relative: false,
                }),
                ..Default::default()
            },
        ),
        (
            "binom_inverse",
            pa,
            pb,
            GaussianOptions {
                inverse: true,
                ..Default::default()
            },
        ),
    ];
    for (key, a, b, o) in cases {
        let r = &g[key];
        let p = gaussian(&a, &b, &o).unwrap();
        close(p.mean, f(&r["mean"]), 1e-12);
        close(p.std_dev, f(&r["sd"]), 1e-12);
        close(p.ci_low, f(&r["ci"][0]), 1e-10);
        close(p.ci_high, f(&r["ci"][1]), 1e-10);
        // scipy vs statrs normal tails differ by a few 1e-12 at z ~ 1.4.
        close(p.chance_to_win, f(&r["ctw"]), 1e-10);
        close(p.risk_control, f(&r["risk"][0]), 1e-10);
        close(p.risk_treatment, f(&r["risk"][1]), 1e-10);
    }
}

#[test]
fn beta_binomial_matches_scipy_quadrature() {
    let v = reference();
    let cases = [
        (
            "49_100_vs_51_100",
            (49.0, 100.0, 51.0, 100.0),
            BetaPrior::default(),
        ),
        (
            "120_1000_vs_145_1000",
            (120.0, 1000.0, 145.0, 1000.0),
            BetaPrior::default(),
        ),
        (
            "prior_half_3_40_vs_9_45",
            (3.0, 40.0, 9.0, 45.0),
            BetaPrior { a: 0.5, b: 0.5 },
        ),
    ];
    for (key, (xa, na, xb, nb), prior) in cases {
        let r = &v["beta_binomial"][key];
        let p = beta_binomial(xa, na, xb, nb, prior, 0.05).unwrap();
        close(p.prob_treatment_better, f(&r["prob_b_better"]), 1e-9);
        close(p.risk_treatment, f(&r["risk_treatment"]), 1e-9);
        close(p.risk_control, f(&r["risk_control"]), 1e-9);
        close(p.control_ci.0, f(&r["control_ci"][0]), 1e-8);
        close(p.control_ci.1, f(&r["control_ci"][1]), 1e-8);
        close(p.treatment_ci.0, f(&r["treatment_ci"][0]), 1e-8);
        close(p.treatment_ci.1, f(&r["treatment_ci"][1]), 1e-8);
        close(p.difference_ci.0, f(&r["difference_ci"][0]), 1e-8);
        close(p.difference_ci.1, f(&r["difference_ci"][1]), 1e-8);
    }
}

#[test]
fn closed_form_sum_agrees_with_quadrature() {
    // Integer posterior parameters use Evan Miller's sum; a tiny prior perturbation forces
    // quadrature. The two must agree to the perturbation's effect.
    let s = beta_binomial(120.0, 1000.0, 145.0, 1000.0, BetaPrior::default(), 0.05).unwrap();
    let q = beta_binomial(
        120.0,
        1000.0,
        145.0,
        1000.0,
        BetaPrior {
            a: 1.0 + 1e-9,
            b: 1.0,
        },
        0.05,
    )
    .unwrap();
    assert_eq!(s.method, "closed-form sum");
    assert_eq!(q.method, "quadrature");
    close(s.prob_treatment_better, q.prob_treatment_better, 1e-8);
    // Symmetry: swapping arms gives 1 - P.
    let w = beta_binomial(145.0, 1000.0, 120.0, 1000.0, BetaPrior::default(), 0.05).unwrap();
    close(
        w.prob_treatment_better,
        1.0 - s.prob_treatment_better,
        1e-12,
    );
    close(w.risk_control, s.risk_treatment, 1e-12);
}

#[test]
fn bad_inputs_are_typed_errors() {
    assert!(Arm::proportion(5.0, 3.0).is_err());
    assert!(Arm::from_sums(1.0, 1.0, 1.0).is_err());
    let zero = Arm {
        n: 10.0,
        mean: 0.0,
        variance: 1.0,
    };
    let b = Arm {
        n: 10.0,
        mean: 1.0,
        variance: 1.0,
    };
    assert!(gaussian(&zero, &b, &GaussianOptions::default()).is_err());
    let flat = Arm {
        n: 10.0,
        mean: 1.0,
        variance: 0.0,
    };
    assert!(gaussian(&flat, &flat, &GaussianOptions::default()).is_err());
    let bad_prior = GaussianOptions {
        prior: Some(GaussianPrior {
            mean: 0.0,
            variance: 0.0,
            relative: true,
        }),
        ..Default::default()
    };
    assert!(gaussian(&b, &b, &bad_prior).is_err());
    assert!(beta_binomial(11.0, 10.0, 1.0, 10.0, BetaPrior::default(), 0.05).is_err());
    assert!(beta_binomial(1.0, 10.0, 1.0, 10.0, BetaPrior { a: 0.0, b: 1.0 }, 0.05).is_err());
}

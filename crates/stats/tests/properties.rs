//! Invariants of the least-squares core (proptest), and the Wald test against the textbook
//! restricted-versus-unrestricted F statistic.

use causalkit_stats::{Factor, FixedEffects, LinearModel, Vcov};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Rescaling a regressor by c rescales its coefficient and standard error by 1/c and
    /// leaves t statistics unchanged (every variance estimator).
    #[test]
    fn ols_is_invariant_to_rescaling_a_column(
        rows in proptest::collection::vec((-10.0f64..10.0, -10.0f64..10.0, -5.0f64..5.0), 12..40),
        c in prop_oneof![0.001f64..0.1, 10.0f64..1000.0],
    ) {
        let x1: Vec<f64> = rows.iter().map(|r| r.0).collect();
        let x2: Vec<f64> = rows.iter().map(|r| r.1).collect();
        let y: Vec<f64> = rows.iter().map(|r| 1.0 + 0.5 * r.0 - 0.3 * r.1 + r.2).collect();
        let a = LinearModel::new("y", y.clone()).regressor("x1", x1.clone()).regressor("x2", x2.clone()).fit();
        prop_assume!(a.is_ok());
        let a = a.unwrap();
        let b = LinearModel::new("y", y).regressor("x1", x1.iter().map(|v| v * c).collect()).regressor("x2", x2).fit().unwrap();
        for v in [Vcov::Iid, Vcov::Hc1, Vcov::Hc3] {
            let ta = a.inference(&v, 0.05).unwrap();
            let tb = b.inference(&v, 0.05).unwrap();
            let (ra, rb) = (&ta.rows()[1], &tb.rows()[1]);
            prop_assert!((ra.estimate - rb.estimate * c).abs() <= 1e-8 * ra.estimate.abs().max(1e-8));
            prop_assert!((ra.std_error.unwrap() - rb.std_error.unwrap() * c).abs() <= 1e-8 * ra.std_error.unwrap());
            prop_assert!((ra.statistic.unwrap() - rb.statistic.unwrap()).abs() <= 1e-7 * ra.statistic.unwrap().abs().max(1.0));
        }
    }

    /// In a 2 x 2 design, TWFE with unit and period effects equals the difference of the four
    /// cell means, (ȳ₁₁ − ȳ₁₀) − (ȳ₀₁ − ȳ₀₀), for any number of units per group.
    #[test]
    fn two_by_two_twfe_equals_difference_of_four_means(
        treated in proptest::collection::vec((-5.0f64..5.0, -5.0f64..5.0), 1..8),
        control in proptest::collection::vec((-5.0f64..5.0, -5.0f64..5.0), 1..8),
    ) {
        let mut y = Vec::new();
        let mut d = Vec::new();
        let mut unit = Vec::new();
        let mut period = Vec::new();
        for (g, group) in [(1.0, &treated), (0.0, &control)] {
            for (pre, post) in group.iter() {
                let u = unit.len() / 2 + 1000 * g as usize;
                for (t, v) in [(0, pre), (1, post)] {
                    y.push(*v);
                    d.push(if g == 1.0 && t == 1 { 1.0 } else { 0.0 });
                    unit.push(u);
                    period.push(t);
                }
            }
        }
        prop_assume!(treated.len() + control.len() >= 3);
        let mean = |v: &Vec<(f64, f64)>, post: bool| v.iter().map(|r| if post { r.1 } else { r.0 }).sum::<f64>() / v.len() as f64;
        let did = (mean(&treated, true) - mean(&treated, false)) - (mean(&control, true) - mean(&control, false));
        let fe = FixedEffects::new(vec![Factor::from_labels("unit", &unit), Factor::from_labels("t", &period)]).unwrap();
        let fit = LinearModel::new("y", y).regressor("d", d).absorb(fe).fit().unwrap();
        prop_assert!((fit.coef()[0] - did).abs() <= 1e-9 * did.abs().max(1.0), "{} vs {}", fit.coef()[0], did);
    }
}

#[test]
fn wald_test_equals_the_classical_f_test_under_iid_errors() {
    // F = ((RSS_r − RSS_u)/q) / (RSS_u/(n − k)) for H0: b2 = b3 = 0 (e.g. Greene,
    // Econometric Analysis, 5.3), computed here from two independent fits.
    let n = 60;
    let x1: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin() * 3.0).collect();
    let x2: Vec<f64> = (0..n).map(|i| (i as f64 * 0.11).cos()).collect();
    let x3: Vec<f64> = (0..n).map(|i| ((i * 7 % 13) as f64) / 13.0).collect();
    let y: Vec<f64> = (0..n)
        .map(|i| 2.0 + 0.8 * x1[i] + 0.3 * x2[i] + ((i * 31 % 17) as f64 - 8.0) / 6.0)
        .collect();
    let full = LinearModel::new("y", y.clone())
        .regressor("x1", x1.clone())
        .regressor("x2", x2)
        .regressor("x3", x3)
        .fit()
        .unwrap();
    let restricted = LinearModel::new("y", y).regressor("x1", x1).fit().unwrap();
    let q = 2.0;
    let f_classic = ((restricted.rss() - full.rss()) / q) / (full.rss() / (n as f64 - 4.0));
    let table = full.inference(&Vcov::Iid, 0.05).unwrap();
    let (f, p) = table.wald_test(&["x2", "x3"]).unwrap();
    assert!(
        (f - f_classic).abs() < 1e-10 * f_classic,
        "{f} vs {f_classic}"
    );
    let p_classic = causalkit_stats::dist::f_sf(f_classic, q, n as f64 - 4.0).unwrap();
    assert!((p - p_classic).abs() < 1e-12);
    // one restriction: F = t²
    let (f1, p1) = table.wald_test(&["x2"]).unwrap();
    let row = table.row("x2").unwrap();
    assert!((f1 - row.statistic.unwrap().powi(2)).abs() < 1e-10 * f1);
    assert!((p1 - row.p_value.unwrap()).abs() < 1e-10);
    assert!(table.wald_test(&["nope"]).is_err());
}

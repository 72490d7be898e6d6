//! Profit curve on simulated data with a known per-customer effect.

use causalkit_uplift::policy::profit_curve;

/// 20 000 customers, half with true uplift +0.3 (x > 0) and half with -0.1, base rate 0.2,
/// fair-coin treatment; the score is the true effect. With value 10 and cost 1 the profit of
/// treating a customer is 10 * 0.3 - 1 = 2 (x > 0) or 10 * -0.1 - 1 = -2, so the best
/// policy treats exactly the top half: profit per customer 0.5 * 2 = 1; treating everyone
/// gives 10 * 0.1 - 1 = 0.
fn data() -> (Vec<f64>, Vec<bool>, Vec<f64>) {
    let mut s: u64 = 12345;
    let mut u = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let (mut y, mut t, mut tau) = (vec![], vec![], vec![]);
    for _ in 0..20_000 {
        let e = if u() < 0.5 { 0.3 } else { -0.1 };
        let w = u() < 0.5;
        let p = 0.2 + if w { e } else { 0.0 };
        y.push(f64::from(u() < p));
        t.push(w);
        tau.push(e);
    }
    (y, t, tau)
}

#[test]
fn best_fraction_and_profits_match_the_known_truth() {
    let (y, t, tau) = data();
    let pc = profit_curve(&y, &t, &tau, 10.0, 1.0, 10, 200, 3, 0.05).unwrap();
    assert!((pc.best_fraction - 0.5).abs() < 0.101, "{pc:?}");
    // Per-customer profit SE ~ 0.5 * 10 * sqrt(2 * 0.25 / 5000) = 0.05; tolerance 3 SE.
    assert!((pc.best_profit - 1.0).abs() < 0.15, "{pc:?}");
    // Treating everyone: SE ~ 10 * sqrt(2 * 0.23 / 10000) = 0.07; 3 SE.
    assert!(pc.profit_treat_all.abs() < 0.21, "{pc:?}");
    assert!((pc.gain_vs_treat_all - (pc.best_profit - pc.profit_treat_all)).abs() < 1e-12);
    assert_eq!(pc.profit.len(), 11);
    assert!(pc.profit[0].unwrap().abs() < 1e-12);
    let (lo, hi) = pc.best_fraction_ci.unwrap();
    assert!(lo <= 0.5 && 0.5 <= hi, "{lo} {hi}");
    let (plo, phi) = pc.best_profit_ci.unwrap();
    assert!(plo < pc.best_profit && pc.best_profit < phi);
    // Seeded: identical on a rerun.
    assert_eq!(
        pc,
        profit_curve(&y, &t, &tau, 10.0, 1.0, 10, 200, 3, 0.05).unwrap()
    );
}

#[test]
fn bad_inputs_are_typed_errors() {
    let (y, t, mut tau) = data();
    assert!(profit_curve(&y, &t, &tau, f64::NAN, 1.0, 10, 0, 0, 0.05).is_err());
    tau[5] = f64::INFINITY;
    let e = profit_curve(&y, &t, &tau, 10.0, 1.0, 10, 0, 0, 0.05).unwrap_err();
    assert!(e.to_string().contains("row 5"), "{e}");
}

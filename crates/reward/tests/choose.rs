//! The weight choice: implied weights by hand; the cone program's optimum against a brute-force
//! grid over the ellipsoid (2 and 3 signals); the KKT form of the weights; infeasible and
//! singular problems as typed errors; the Pareto frontier against brute force; and on the
//! simulated recommender (known truth: the generator's weights and the signals' covariance in
//! closed form) the estimated choice binds where the truth binds and loses little true value.

mod common;

use causalkit_reward::choose::{
    choose, implied_weights, pareto, parse_values, ChoiceProblem, GuardrailModel,
};
use causalkit_reward::{calibrate, CalibrateOptions, Reward, RewardError};
use causalkit_sim::recommender::{history_csv, RecommenderConfig, MEAN_ENGAGEMENT};
use common::*;
use nalgebra::{DMatrix, DVector};

fn guard(name: &str, slopes: &[f64], baseline: f64, margin: f64, lower: bool) -> GuardrailModel {
    GuardrailModel {
        name: name.into(),
        slopes: slopes.to_vec(),
        baseline,
        margin,
        lower_is_better: lower,
        source: "test".into(),
    }
}

fn problem(sigma: DMatrix<f64>, value: &[f64], guardrails: Vec<GuardrailModel>) -> ChoiceProblem {
    ChoiceProblem {
        signals: (0..value.len()).map(|i| format!("s{i}")).collect(),
        value: value.to_vec(),
        value_source: "test".into(),
        guardrails,
        covariance: sigma,
        radius: 1.0,
    }
}

/// Every point `d = r L (unit vector)` of a polar / spherical grid over the ellipsoid
/// `d'Σ⁻¹d ≤ ρ²` (L the Cholesky factor of Σ): the best feasible objective and its move.
fn brute_force(p: &ChoiceProblem, dirs: &[DVector<f64>], radii: usize) -> (f64, DVector<f64>) {
    let l = p.covariance.clone().cholesky().unwrap().l();
    let v = DVector::from_column_slice(&p.value);
    let mut best = (f64::NEG_INFINITY, DVector::zeros(v.len()));
    for u in dirs {
        let lu = &l * u;
        for r in 0..=radii {
            let d = &lu * (p.radius * r as f64 / radii as f64);
            let ok = p.guardrails.iter().all(|g| {
                let c: f64 = g.slopes.iter().zip(d.iter()).map(|(s, x)| s * x).sum();
                if g.lower_is_better {
                    c <= g.bound()
                } else {
                    c >= g.bound()
                }
            });
            let val = v.dot(&d);
            if ok && val > best.0 {
                best = (val, d);
            }
        }
    }
    best
}

fn circle(n: usize) -> Vec<DVector<f64>> {
    (0..n)
        .map(|i| {
            let t = std::f64::consts::TAU * i as f64 / n as f64;
            DVector::from_vec(vec![t.cos(), t.sin()])
        })
        .collect()
}

fn sphere(n_theta: usize, n_phi: usize) -> Vec<DVector<f64>> {
    let mut out = Vec::new();
    for i in 0..=n_theta {
        let th = std::f64::consts::PI * i as f64 / n_theta as f64;
        for j in 0..n_phi {
            let ph = std::f64::consts::TAU * j as f64 / n_phi as f64;
            out.push(DVector::from_vec(vec![
                th.sin() * ph.cos(),
                th.sin() * ph.sin(),
                th.cos(),
            ]));
        }
    }
    out
}

#[test]
fn implied_weights_match_the_reward_scale() {
    let values =
        parse_values("click=0.3, add_to_cart=1,purchase=15,return=-20,order_value=0.5").unwrap();
    let r = Reward::parse("0.1*click + 0.3*add_to_cart + 1*purchase - 0.5*return").unwrap();
    let iw = implied_weights(&values, &r, "test").unwrap();
    // Anchor: purchase (largest |weight| 1): scale 1/15, by hand.
    assert_eq!(iw.anchor, "purchase");
    let by = |s: &str| iw.weights.iter().find(|w| w.signal == s).unwrap();
    for (s, want) in [
        ("click", 0.3 / 15.0),
        ("add_to_cart", 1.0 / 15.0),
        ("purchase", 1.0),
        ("return", -20.0 / 15.0),
        ("order_value", 0.5 / 15.0),
    ] {
        assert!((by(s).implied_weight - want).abs() < 1e-15, "{s}");
    }
    assert_eq!(by("return").reward_weight, Some(-0.5));
    assert_eq!(by("order_value").reward_weight, None);
    // A reward signal the value model does not value, and a model that values nothing.
    let r2 = Reward::parse("1*purchase + 0.2*share").unwrap();
    assert!(matches!(
        implied_weights(&values, &r2, "test"),
        Err(RewardError::Unknown { name, .. }) if name == "share"
    ));
    let zero = parse_values("purchase=0").unwrap();
    let r3 = Reward::parse("1*purchase").unwrap();
    assert!(matches!(
        implied_weights(&zero, &r3, "test"),
        Err(RewardError::Invalid(_))
    ));
    for bad in ["click", "click=x", "click=1,click=2", "=3", ""] {
        assert!(parse_values(bad).is_err(), "{bad}");
    }
}

/// Two signals, one binding guardrail: clarabel's optimum equals the best point of a
/// 20,000-direction x 400-radius grid of the ellipse (value within 1e-4 relative, move within
/// 0.01 — the grid's resolution), the guardrail is binding, and the weights are Σ⁻¹d*, which by
/// the KKT conditions is parallel to v + λg.
#[test]
fn optimum_matches_brute_force_in_two_dimensions() {
    let sigma = DMatrix::from_row_slice(2, 2, &[2.0, 0.6, 0.6, 1.0]);
    let g = guard("csat", &[1.0, -1.5], 1.0, 0.2, false);
    let p = problem(sigma.clone(), &[1.0, 2.0], vec![g]);
    let c = choose(&p, None).unwrap();
    let (bv, bd) = brute_force(&p, &circle(20_000), 400);
    let d = DVector::from_vec(c.constrained.signal_changes.clone());
    assert!(
        (c.constrained.value_change - bv).abs() <= 1e-4 * bv.abs(),
        "{} vs {bv}",
        c.constrained.value_change
    );
    assert!((&d - &bd).norm() < 1e-2, "{d} vs {bd}");
    let gr = &c.constrained.guardrails[0];
    assert!(gr.binding && gr.multiplier > 0.0, "{gr:?}");
    assert!((gr.predicted_change - gr.bound).abs() < 1e-7);
    // The unconstrained optimum violates the guardrail (so it binds for a reason) and is worth more.
    assert!(c.unconstrained.guardrails[0].predicted_change < gr.bound);
    assert!(c.cost_of_guardrails > 0.0);
    // KKT: w ∝ Σ⁻¹d ∝ v + λ g.
    let w = DVector::from_vec(c.constrained.weights.clone());
    let kkt = DVector::from_vec(vec![1.0 + gr.multiplier, 2.0 - 1.5 * gr.multiplier]);
    let cos = w.dot(&kkt) / (w.norm() * kkt.norm());
    assert!((cos - 1.0).abs() < 1e-7, "cos {cos}");
    // Unconstrained: weights ∝ v (the implied weights), scaled to max |w| = 1.
    assert!((c.unconstrained.weights[0] - 0.5).abs() < 1e-6);
    assert!((c.unconstrained.weights[1] - 1.0).abs() < 1e-6);
}

/// Three signals, two guardrails (one lower-is-better that binds, one that does not): the
/// optimum equals the best point of a spherical grid (value within 2e-3 relative).
#[test]
fn optimum_matches_brute_force_in_three_dimensions() {
    let sigma = DMatrix::from_row_slice(3, 3, &[1.0, 0.3, 0.2, 0.3, 2.0, -0.4, 0.2, -0.4, 1.5]);
    let gs = vec![
        guard("returns", &[0.0, 0.5, 1.0], 2.0, 0.05, true),
        guard("csat", &[-0.2, 0.1, 0.0], 5.0, 0.5, false),
    ];
    let p = problem(sigma, &[1.0, 1.0, 2.0], gs);
    let c = choose(&p, None).unwrap();
    let (bv, _) = brute_force(&p, &sphere(300, 600), 100);
    assert!(
        (c.constrained.value_change - bv).abs() <= 2e-3 * bv.abs(),
        "{} vs {bv}",
        c.constrained.value_change
    );
    assert!(
        c.constrained.value_change >= bv - 1e-9,
        "grid beats the solver"
    );
    assert!(c.constrained.guardrails[0].binding);
    assert!(!c.constrained.guardrails[1].binding);
    assert!(c.constrained.guardrails[1].slack > 0.0);
}

#[test]
fn infeasible_and_singular_problems_are_typed_errors() {
    let sigma = DMatrix::from_row_slice(2, 2, &[1.0, 0.0, 0.0, 1.0]);
    // csat must improve by 300% of 1 = 3, but a move of size 1 changes it by at most √2.
    let p = problem(
        sigma.clone(),
        &[1.0, 1.0],
        vec![guard("csat", &[1.0, 1.0], 1.0, -3.0, false)],
    );
    match choose(&p, None) {
        Err(RewardError::Infeasible(m)) => assert!(m.contains("csat"), "{m}"),
        other => panic!("{other:?}"),
    }
    // Each guardrail alone is attainable, both together are not.
    let p = problem(
        sigma.clone(),
        &[1.0, 1.0],
        vec![
            guard("a", &[1.0, 0.0], 1.0, -0.8, false),
            guard("b", &[-1.0, 0.0], 1.0, -0.8, false),
        ],
    );
    match choose(&p, None) {
        Err(RewardError::Infeasible(m)) => assert!(m.contains("`a`") && m.contains("`b`"), "{m}"),
        other => panic!("{other:?}"),
    }
    // A signal that is a multiple of another.
    let singular = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 2.0, 4.0]);
    match choose(&problem(singular, &[1.0, 1.0], vec![]), None) {
        Err(RewardError::Singular { column, .. }) => assert_eq!(column, "s1"),
        other => panic!("{other:?}"),
    }
    let mut p = problem(sigma.clone(), &[0.0, 0.0], vec![]);
    assert!(matches!(choose(&p, None), Err(RewardError::Invalid(_))));
    p.value = vec![1.0, 1.0];
    p.radius = 0.0;
    assert!(matches!(choose(&p, None), Err(RewardError::Invalid(_))));
}

/// The frontier: its first point is the value-maximising choice, its last the KPI-maximising
/// move; value falls and the KPI rises along it; every interior point is the brute-force
/// optimum with the KPI floor it was solved for (no grid point better; the grid within 3e-4
/// relative, its resolution at the kink).
#[test]
fn pareto_frontier_matches_brute_force() {
    let sigma = DMatrix::from_row_slice(2, 2, &[2.0, 0.6, 0.6, 1.0]);
    let g = guard("csat", &[1.0, -1.5], 1.0, 0.2, false);
    let p = problem(sigma, &[1.0, 2.0], vec![g]);
    let f = pareto(&p, "csat", 6, None).unwrap();
    assert_eq!(f.points.len(), 6);
    let free = choose(&problem(p.covariance.clone(), &p.value, vec![]), None).unwrap();
    assert!((f.points[0].value_change - free.constrained.value_change).abs() < 1e-6);
    for w in f.points.windows(2) {
        assert!(w[1].value_change <= w[0].value_change + 1e-9);
        assert!(w[1].kpi_change >= w[0].kpi_change - 1e-9);
    }
    let l = p.covariance.clone().cholesky().unwrap().l();
    let gv = DVector::from_vec(vec![1.0, -1.5]);
    let kpi_max = (l.transpose() * &gv).norm();
    assert!((f.points[5].kpi_change - kpi_max).abs() < 1e-6);
    for pt in &f.points[1..5] {
        let floor = pt.kpi_change;
        let mut q = p.clone();
        q.guardrails[0].margin = -floor; // change >= floor (baseline 1)
        let (bv, _) = brute_force(&q, &circle(20_000), 400);
        // No grid point beats the solver; the grid falls short of the kink where the floor
        // meets the ellipse by its angular resolution (3e-4 relative at most here).
        assert!(pt.value_change >= bv - 1e-9, "{} vs {bv}", pt.value_change);
        assert!(
            pt.value_change - bv <= 3e-4 * bv.abs().max(1.0),
            "{} vs {bv}",
            pt.value_change
        );
    }
    assert!(matches!(
        pareto(&p, "nps", 5, None),
        Err(RewardError::Unknown { .. })
    ));
}

/// The covariance of (click, add_to_cart, purchase, return, order_value) under the simulator:
/// Poisson counts with means μ_k e mixed over the engagement e, and order value the sum of
/// N(40, 10²) over the purchases (compound Poisson), so
/// cov(S_a, S_b) = μ_a μ_b Var(e) + 1[a=b] μ_a E[e], Var(O) = 12² Var(e) + 0.3 E[e] (100 + 40²).
fn true_covariance() -> DMatrix<f64> {
    let m = MEAN_ENGAGEMENT;
    let ef = 0.6 + 30.5 / 60.0;
    let vf = (59.0_f64 / 60.0).powi(2) / 12.0;
    let e2 = (2.0 * 0.35_f64 * 0.35).exp() * (vf + ef * ef);
    let ve = e2 - m * m;
    let mu = [3.0, 0.9, 0.3, 0.06, 0.3 * 40.0];
    DMatrix::from_fn(5, 5, |a, b| {
        let mut c = mu[a] * mu[b] * ve;
        if a == b {
            c += if a == 4 {
                0.3 * m * (100.0 + 1600.0)
            } else {
                mu[a] * m
            };
        } else if (a == 2 && b == 4) || (a == 4 && b == 2) {
            c += 40.0 * 0.3 * m;
        }
        c
    })
}

/// Known truth on the simulated recommender: the value of the signals is the generator's
/// weights, their covariance is `true_covariance`, and a return-rate guardrail (a signal: its
/// slopes are exact) is in tension only when it demands a reduction beyond what the
/// value-maximising move already brings. The estimated problem (weights from the surrogate
/// index on 20,000 customers, the sample covariance) binds exactly when the true problem does
/// (at a required reduction of half and of 1.5x the unconstrained one), and the estimated
/// weights, played in the true model, keep the guardrail within 5% of its bound and reach at
/// least 98% of the true optimum's value; both beat the hand-set reward.
#[test]
fn on_the_simulated_recommender_the_guardrail_binds_where_the_truth_says() {
    let config = RecommenderConfig::default();
    let text = history_csv(&config).unwrap();
    let cd = calibration_data(&text, &["tenure", "pre_revenue"], None);
    let cal = calibrate(
        &cd,
        &CalibrateOptions {
            bootstrap: 0,
            ..CalibrateOptions::default()
        },
    )
    .unwrap();
    let v_hat: Vec<f64> = cal.weights().unwrap().into_iter().map(|(_, w)| w).collect();
    let cols: Vec<Vec<f64>> = cd.signals.iter().map(|(_, c)| c.clone()).collect();
    let n = cols[0].len() as f64;
    let means: Vec<f64> = cols.iter().map(|c| c.iter().sum::<f64>() / n).collect();
    let s_hat = DMatrix::from_fn(5, 5, |i, j| {
        cols[i]
            .iter()
            .zip(&cols[j])
            .map(|(a, b)| (a - means[i]) * (b - means[j]))
            .sum::<f64>()
            / (n - 1.0)
    });
    let s_true = true_covariance();
    let v_true = config.weights.to_vec();
    let unit = [0.0, 0.0, 0.0, 1.0, 0.0];
    let base_true = 0.06 * MEAN_ENGAGEMENT;
    let radius = 0.1;
    let mk = |sigma: &DMatrix<f64>, v: &[f64], base: f64, margin: f64| ChoiceProblem {
        signals: SIGNALS.iter().map(|s| s.to_string()).collect(),
        value: v.to_vec(),
        value_source: "test".into(),
        guardrails: vec![guard("return", &unit, base, margin, true)],
        covariance: sigma.clone(),
        radius,
    };
    let reward = Reward::parse("0.1*click + 0.3*add_to_cart + 1*purchase - 0.5*return").unwrap();
    // The true unconstrained move's change of returns (negative: value dislikes returns).
    let free = choose(&mk(&s_true, &v_true, base_true, 10.0), None).unwrap();
    let r0 = free.unconstrained.signal_changes[3];
    assert!(r0 < 0.0, "{r0}");
    let max_cut = radius * s_true[(3, 3)].sqrt();
    assert!(1.5 * r0.abs() < max_cut, "{r0} vs {max_cut}");
    for (factor, binds) in [(0.5, false), (1.5, true)] {
        let margin = factor * r0 / base_true; // negative: a required reduction
        let truth = choose(&mk(&s_true, &v_true, base_true, margin), Some(&reward)).unwrap();
        assert_eq!(
            truth.constrained.guardrails[0].binding, binds,
            "truth at {factor}"
        );
        let base_hat = means[3];
        let est = choose(&mk(&s_hat, &v_hat, base_hat, margin), Some(&reward)).unwrap();
        assert_eq!(
            est.constrained.guardrails[0].binding, binds,
            "estimate at {factor}"
        );
        // Play the estimated weights in the true model: ρ Σw / √(w'Σw).
        let w = DVector::from_vec(est.constrained.weights.clone());
        let sw = &s_true * &w;
        let d = &sw * (radius / w.dot(&sw).sqrt());
        let value = DVector::from_vec(v_true.clone()).dot(&d);
        let bound = truth.constrained.guardrails[0].bound;
        assert!(
            d[3] <= bound + 0.05 * bound.abs(),
            "returns {} vs bound {bound}",
            d[3]
        );
        assert!(
            value >= 0.98 * truth.constrained.value_change,
            "{value} vs {}",
            truth.constrained.value_change
        );
        let hand = truth.reward.as_ref().unwrap().value_change;
        assert!(value > hand, "{value} vs the reward's {hand}");
    }
}

//! Multi-arm tests. Sources: reference/ab_seq.json "dunnett" (scipy 1.17 `scipy.stats.dunnett`
//! on seeded normal samples, written by reference/scripts/ab_seq_reference.py; scipy integrates
//! the multivariate t by randomised quasi-Monte Carlo, so agreement is to ~1e-4), and Dunnett's
//! (1955) table; max-T is checked against the exact Dunnett integral and for reproducibility.

use causalkit_ab::multiarm::{
    dunnett, dunnett_pooled, dunnett_probability, many_to_one_correlation, max_t,
};
use serde_json::Value;

fn reference() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../reference/ab_seq.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("reference/ab_seq.json")).unwrap()
}

fn fv(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn close(got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol,
        "got {got}, want {want} (abs tol {tol})"
    );
}

#[test]
fn dunnett_matches_scipy() {
    let v = reference();
    let d = &v["dunnett"];
    let r = dunnett_pooled(
        d["n_control"].as_f64().unwrap(),
        d["mean_control"].as_f64().unwrap(),
        &fv(&d["n"]),
        &fv(&d["mean"]),
        d["pooled_var"].as_f64().unwrap(),
        0.05,
    )
    .unwrap();
    assert_eq!(r.df, Some(d["df"].as_f64().unwrap()));
    let (stat, p, lo, hi) = (
        fv(&d["statistic"]),
        fv(&d["pvalue"]),
        fv(&d["ci_low"]),
        fv(&d["ci_high"]),
    );
    for (i, c) in r.comparisons.iter().enumerate() {
        close(c.statistic, stat[i], 1e-10);
        close(c.p_adjusted, p[i], 2e-4);
        close(c.ci_low, lo[i], 2e-3);
        close(c.ci_high, hi[i], 2e-3);
    }
}

#[test]
fn dunnett_critical_values_match_published_table() {
    // Dunnett (1955) two-sided 5 % table, equal n (lambda^2 = 1/2), df = infinity:
    // k = 1: 1.96, k = 2: 2.21, k = 3: 2.35, k = 5: 2.51 (Hochberg & Tamhane 1987, Table 3).
    for (k, want) in [(1usize, 1.96), (2, 2.21), (3, 2.35), (5, 2.51)] {
        let se = vec![2f64.sqrt(); k];
        let r = dunnett(&vec![0.0; k], &se, 1.0, None, 0.05).unwrap();
        close(r.critical_value, want, 6e-3);
    }
    // With one arm Dunnett is the ordinary two-sided t test.
    let r = dunnett(&[1.0], &[2f64.sqrt()], 1.0, Some(20.0), 0.05).unwrap();
    close(r.critical_value, 2.085_963_447_265_837, 1e-8);
    // Independent comparisons (lambda = 0): P(max|Z| <= c) = (2 Phi(c) - 1)^k.
    let c: f64 = 2.2;
    let phi = causalkit_stats::dist::normal_cdf(c);
    close(
        dunnett_probability(c, &[0.0, 0.0, 0.0], None),
        (2.0 * phi - 1.0).powi(3),
        1e-12,
    );
}

#[test]
fn max_t_agrees_with_exact_dunnett_and_is_reproducible() {
    let se = [0.2, 0.22, 0.25, 0.2];
    let control_se = 0.12;
    let est = [0.05, 0.55, -0.3, 0.2];
    let exact = dunnett(&est, &se, control_se, None, 0.05).unwrap();
    let sim = max_t(
        &est,
        &se,
        &many_to_one_correlation(&se, control_se),
        None,
        0.05,
        40_000,
        11,
    )
    .unwrap();
    // Monte Carlo SE of a tail probability p with 40 000 draws: sqrt(p(1-p)/40000) <= 0.0025.
    for (a, b) in exact.comparisons.iter().zip(&sim.comparisons) {
        close(b.p_adjusted, a.p_adjusted, 0.008);
    }
    close(sim.critical_value, exact.critical_value, 0.03);
    let again = max_t(
        &est,
        &se,
        &many_to_one_correlation(&se, control_se),
        None,
        0.05,
        40_000,
        11,
    )
    .unwrap();
    assert_eq!(sim, again, "same seed must give identical results");
    // Multivariate t (df = 30) vs exact Dunnett t integral.
    let exact_t = dunnett(&est, &se, control_se, Some(30.0), 0.05).unwrap();
    let sim_t = max_t(
        &est,
        &se,
        &many_to_one_correlation(&se, control_se),
        Some(30.0),
        0.05,
        40_000,
        3,
    )
    .unwrap();
    close(sim_t.critical_value, exact_t.critical_value, 0.03);
}

#[test]
fn simultaneous_coverage_on_simulated_data() {
    // 4 arms, true effects known; Dunnett intervals must cover all four jointly ~95 %.
    use causalkit_stats::resample::replicate;
    use rand::Rng;
    let truth = [0.0, 0.3, -0.2, 0.1];
    let n: f64 = 50.0;
    let reps = 300;
    let cover: Vec<bool> = replicate(42, reps, |rng, _| {
        let g = |rng: &mut rand_chacha::ChaCha8Rng| {
            let u1: f64 = 1.0 - rng.random::<f64>();
            let u2: f64 = rng.random::<f64>();
            (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
        };
        // Group means with unit variance known: mean ~ N(mu, 1/n).
        let m0 = g(rng) / n.sqrt();
        let est: Vec<f64> = truth.iter().map(|t| t + g(rng) / n.sqrt() - m0).collect();
        let se = vec![(2.0 / n).sqrt(); 4];
        let r = dunnett(&est, &se, (1.0 / n).sqrt(), None, 0.05).unwrap();
        r.comparisons
            .iter()
            .zip(&truth)
            .all(|(c, t)| c.ci_low <= *t && *t <= c.ci_high)
    });
    let rate = cover.iter().filter(|&&c| c).count() as f64 / reps as f64;
    assert!((rate - 0.95).abs() < 0.035, "joint coverage {rate}");
}

#[test]
fn bad_inputs_are_typed_errors() {
    assert!(dunnett(&[], &[], 0.1, None, 0.05).is_err());
    assert!(dunnett(&[0.1], &[0.1, 0.2], 0.1, None, 0.05).is_err());
    // A difference's SE cannot be below the control mean's SE.
    assert!(dunnett(&[0.1], &[0.05], 0.1, None, 0.05).is_err());
    assert!(dunnett(&[f64::NAN], &[0.2], 0.1, None, 0.05).is_err());
    assert!(dunnett(&[0.1], &[0.2], 0.1, Some(-1.0), 0.05).is_err());
    let bad = nalgebra::DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 2.0, 1.0]);
    assert!(max_t(&[0.1, 0.2], &[0.2, 0.2], &bad, None, 0.05, 1000, 1).is_err());
    assert!(max_t(
        &[0.1, 0.2],
        &[0.2, 0.2],
        &many_to_one_correlation(&[0.2, 0.2], 0.1),
        None,
        0.05,
        10,
        1
    )
    .is_err());
    assert!(dunnett_pooled(10.0, 1.0, &[10.0], &[1.0], 0.0, 0.05).is_err());
}

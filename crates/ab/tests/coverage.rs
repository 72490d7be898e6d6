//! Coverage of the 95% intervals on simulated data with known truth: relative lift of a
//! mean, CUPED-adjusted absolute lift, and a clustered ratio metric (contacts within agents,
//! agents randomised). Replicates are seeded from (seed, index) with `replicate_rng`, so the
//! numbers do not depend on the thread count. 400 replications: the Monte Carlo SE of a 95%
//! coverage is 1.1 points, so the accepted band [0.92, 0.98] is about ±3 SE.

use causalkit_ab::adjust::regression_adjust;
use causalkit_ab::*;
use causalkit_stats::resample::replicate_rng;
use causalkit_stats::Moments;
use rand::Rng;
use rand_distr::{Distribution, Exp, Normal};

const REPS: u64 = 400;

fn band(hits: usize, what: &str) {
    let cov = hits as f64 / REPS as f64;
    assert!((0.92..=0.98).contains(&cov), "{what}: coverage {cov}");
}

#[test]
fn relative_lift_and_cuped_cover() {
    let (mut rel_hits, mut cuped_hits) = (0, 0);
    let noise = Normal::new(0.0, 2.0).unwrap();
    for r in 0..REPS {
        let mut rng = replicate_rng(7, r);
        let names = vec!["numerator".into(), "denominator".into(), "x".into()];
        let mut arms = [Moments::new(names.clone()), Moments::new(names)];
        // Control mean 10, treatment mean 10.5 -> relative lift 0.05, absolute 0.5.
        for (k, arm) in arms.iter_mut().enumerate() {
            for _ in 0..300 {
                let x: f64 = 10.0 + noise.sample(&mut rng);
                let y = 0.9 * (x - 10.0) + 10.0 + 0.5 * k as f64 + noise.sample(&mut rng);
                arm.push(&[y, 1.0, x]).unwrap();
            }
        }
        let a = ArmStats::from_moments(&arms[0], MetricType::Mean).unwrap();
        let b = ArmStats::from_moments(&arms[1], MetricType::Mean).unwrap();
        let rel = compare(&a, &b, &TestOptions::default())
            .unwrap()
            .relative
            .unwrap();
        if rel.ci_low <= 0.05 && 0.05 <= rel.ci_high {
            rel_hits += 1;
        }
        let adj = regression_adjust(&[&arms[0], &arms[1]], MetricType::Mean).unwrap();
        let c = compare(&adj.arms[0], &adj.arms[1], &TestOptions::default()).unwrap();
        if c.absolute.ci_low <= 0.5 && 0.5 <= c.absolute.ci_high {
            cuped_hits += 1;
        }
    }
    band(rel_hits, "relative lift (delta method)");
    band(cuped_hits, "CUPED absolute lift");
}

#[test]
fn clustered_ratio_covers_and_naive_does_not() {
    // 40 agents per arm, each with a random agent effect and 5-40 contacts; AHT = handle
    // seconds per contact. Agent effects make contact-level SEs too small.
    let agent = Normal::new(0.0, 60.0).unwrap();
    let contact = Exp::new(1.0 / 300.0).unwrap();
    let truth = -25.0;
    let (mut hits, mut naive_hits) = (0, 0);
    for r in 0..REPS {
        let mut rng = replicate_rng(11, r);
        let names = vec!["numerator".to_string(), "denominator".to_string()];
        let mut unit = [Moments::new(names.clone()), Moments::new(names.clone())];
        let mut rows = [Moments::new(names.clone()), Moments::new(names)];
        for k in 0..2 {
            for _ in 0..40 {
                let u = agent.sample(&mut rng) + if k == 1 { truth } else { 0.0 };
                let m: usize = rng.random_range(5..=40);
                let mut s = 0.0;
                for _ in 0..m {
                    let y = 150.0 + u + contact.sample(&mut rng);
                    s += y;
                    rows[k].push(&[y, 1.0]).unwrap();
                }
                unit[k].push(&[s, m as f64]).unwrap();
            }
        }
        let opts = TestOptions::default();
        let a = ArmStats::from_moments(&unit[0], MetricType::Ratio).unwrap();
        let b = ArmStats::from_moments(&unit[1], MetricType::Ratio).unwrap();
        let c = compare(&a, &b, &opts).unwrap();
        // The estimand is the contact-weighted mean difference; with equal expected contacts per
        // agent in both arms it equals the true shift.
        if c.absolute.ci_low <= truth && truth <= c.absolute.ci_high {
            hits += 1;
        }
        let a = ArmStats::from_moments(&rows[0], MetricType::Mean).unwrap();
        let b = ArmStats::from_moments(&rows[1], MetricType::Mean).unwrap();
        let c = compare(&a, &b, &opts).unwrap();
        if c.absolute.ci_low <= truth && truth <= c.absolute.ci_high {
            naive_hits += 1;
        }
    }
    band(hits, "cluster-robust ratio");
    assert!(
        (naive_hits as f64) < 0.85 * REPS as f64,
        "contact-level SEs should under-cover, got {naive_hits}/{REPS}"
    );
}

//! Unit tests that need the internal model: the analytic CSAT truth against a direct
//! Monte Carlo evaluation of the model's probabilities.

use rand::Rng;

use crate::config::ContactCentreConfig;
use crate::model::{
    categorical, csat_score, cumulative, resolved, staggered_multiplier, stream_rng, World,
};
use crate::truth::truth;

/// Draws of `S(1) - S(0)` for one contact from the CSAT part of the model, with
/// resolution probability `p0` (untreated), multiplier `m`, and common random numbers.
fn csat_pair(
    config: &ContactCentreConfig,
    k: usize,
    p0: f64,
    m: f64,
    rng: &mut impl Rng,
) -> (f64, f64) {
    let it = &config.intents[k];
    let (u_fcr, u_score, u_bump): (f64, f64, f64) = (rng.random(), rng.random(), rng.random());
    let r0 = resolved(p0, u_fcr);
    let r1 = resolved(p0 + m * config.effects.fcr, u_fcr);
    let probs = |r: bool| {
        if r {
            &it.csat_if_resolved
        } else {
            &it.csat_if_unresolved
        }
    };
    let s0 = csat_score(probs(r0), u_score, u_bump, 0.0);
    let s1 = csat_score(
        probs(r1),
        u_score,
        u_bump,
        m * config.effects.csat_uplift_prob,
    );
    (f64::from(s0), f64::from(s1))
}

fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

#[test]
fn ab_csat_truth_matches_monte_carlo() {
    let config = ContactCentreConfig::default();
    let world = World::new(&config);
    let t = truth(&config);
    let day_w: Vec<f64> = world.day_contacts.iter().map(|&n| f64::from(n)).collect();
    let total: f64 = day_w.iter().sum();
    let day_cum = cumulative(&day_w.iter().map(|w| w / total).collect::<Vec<_>>());
    let mut rng = stream_rng(987, 0);
    let n = 300_000;
    let mut diffs = Vec::with_capacity(n);
    let mut s0s = Vec::with_capacity(n);
    for _ in 0..n {
        let ti = categorical(&day_cum, rng.random());
        let s = categorical(&world.site_cum, rng.random());
        let a = rng.random_range(0..config.agents_per_site) as usize;
        let k = categorical(&world.intent_cum, rng.random());
        let p0 = config.intents[k].fcr_base
            + world.site_fcr[s]
            + world.day_fcr[ti]
            + world.agent_fcr[s][a];
        let (s0, s1) = csat_pair(&config, k, p0, 1.0, &mut rng);
        diffs.push(s1 - s0);
        s0s.push(s0);
    }
    let (d, se) = mean_se(&diffs);
    assert!(
        (d - t.ab.csat).abs() < 4.0 * se,
        "MC {d} ± {se} vs analytic {}",
        t.ab.csat
    );
    assert!(se < 0.002, "MC too noisy: se {se}");
    let (c0, se0) = mean_se(&s0s);
    assert!(
        (c0 - t.ab.control_means.csat).abs() < 4.0 * se0,
        "control MC {c0} ± {se0} vs analytic {}",
        t.ab.control_means.csat
    );
    assert!((t.ab.csat - t.ab.csat_via_fcr - t.ab.csat_direct).abs() < 1e-12);
}

#[test]
fn staggered_cell_csat_truth_matches_monte_carlo() {
    let config = ContactCentreConfig::default();
    let world = World::new(&config);
    let t = truth(&config);
    let g = 0usize;
    let spec = &config.rollout.cohorts[g];
    let e = 4u32;
    let day = spec.adoption_day + e;
    let row = t
        .staggered
        .att_by_cohort_event_time
        .iter()
        .find(|r| r.adoption_day == spec.adoption_day && r.event_time == e)
        .expect("cell present");
    let m = staggered_multiplier(&config, g, e);
    // The truth file stores the same computed value: bit-identical.
    assert_eq!(row.effect_multiplier.to_bits(), m.to_bits());
    assert_eq!(row.day, day);
    let members: Vec<usize> = (0..config.sites as usize)
        .filter(|&s| world.site_cohort[s] == Some(g))
        .collect();
    let w: Vec<f64> = members.iter().map(|&s| world.site_share[s]).collect();
    let wsum: f64 = w.iter().sum();
    let cum = cumulative(&w.iter().map(|x| x / wsum).collect::<Vec<_>>());
    let mut rng = stream_rng(4242, 0);
    let n = 300_000;
    let mut diffs = Vec::with_capacity(n);
    for _ in 0..n {
        let s = members[categorical(&cum, rng.random())];
        let a = rng.random_range(0..config.agents_per_site) as usize;
        let k = categorical(&world.intent_cum, rng.random());
        let p0 = config.intents[k].fcr_base
            + world.site_fcr[s]
            + world.day_fcr[(day - 1) as usize]
            + world.agent_fcr[s][a];
        let (s0, s1) = csat_pair(&config, k, p0, m, &mut rng);
        diffs.push(s1 - s0);
    }
    let (d, se) = mean_se(&diffs);
    assert!(
        (d - row.effects.csat).abs() < 4.0 * se,
        "MC {d} ± {se} vs analytic {}",
        row.effects.csat
    );
}

#[test]
fn agent_resolution_shifts_are_centred() {
    let world = World::new(&ContactCentreConfig::default());
    for s in 0..world.agent_fcr.len() {
        assert!(world.agent_fcr_mean(s).abs() < 1e-15);
    }
}

#[test]
fn csat_score_bump_rules() {
    let p = [0.2, 0.2, 0.2, 0.2, 0.2];
    assert_eq!(csat_score(&p, 0.1, 0.0, 0.0), 1);
    assert_eq!(csat_score(&p, 0.1, 0.0, 0.5), 2);
    assert_eq!(csat_score(&p, 0.1, 0.6, 0.5), 1);
    assert_eq!(csat_score(&p, 0.95, 0.0, 1.0), 5);
    // Rounding slack in the cumulative sum falls into the top score.
    assert_eq!(csat_score(&p, 0.999_999_999_999_999_9, 1.0, 0.0), 5);
}

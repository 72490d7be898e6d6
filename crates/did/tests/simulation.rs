//! Monte Carlo with known, heterogeneous and dynamic staggered effects (seeded, small).
//!
//! Design: 60 units over periods 1..8; cohorts 3, 5, 7 (15 units each) and 15 never-treated
//! units. `y_it = a_i + b_t + τ_it + ε_it`, `a_i, b_t, ε_it ~ N(0, 1)`, with
//! `τ_it = s_g (1 + e)` for `e = t − g ≥ 0`, `s_3 = 1.5, s_5 = 1, s_7 = 0.5`: effects grow
//! with exposure and differ by cohort, the case where TWFE's implicit comparisons of late
//! with early-treated units bias it (Goodman-Bacon 2021). The estimand is the average
//! effect over treated rows (the imputation and Sun-Abraham ATT).
#![allow(clippy::needless_range_loop)]

use causalkit_did::imputation::imputation;
use causalkit_did::sunab::sun_abraham;
use causalkit_did::twfe::twfe;
use causalkit_did::wild::WildOptions;
use causalkit_did::StaggeredPanel;
use causalkit_stats::resample::{replicate, replicate_rng, MultiplierWeights};
use causalkit_stats::Factor;
use rand::Rng;
use rand_distr::StandardNormal;

const REPS: usize = 300;

/// One replicate: TWFE, Sun-Abraham and imputation estimates, the truth, and whether the
/// Sun-Abraham and imputation intervals cover it.
type Rep = (f64, f64, f64, f64, bool, bool);

fn draw(seed: u64, rep: u64) -> (StaggeredPanel, f64) {
    let mut rng = replicate_rng(seed, rep);
    let (units, periods) = (60usize, 8i64);
    let cohort = |i: usize| match i / 15 {
        0 => Some(3),
        1 => Some(5),
        2 => Some(7),
        _ => None,
    };
    let scale = |g: i64| match g {
        3 => 1.5,
        5 => 1.0,
        _ => 0.5,
    };
    let a: Vec<f64> = (0..units)
        .map(|_| rng.sample::<f64, _>(StandardNormal))
        .collect();
    let b: Vec<f64> = (0..periods)
        .map(|_| rng.sample::<f64, _>(StandardNormal))
        .collect();
    let (mut u, mut t, mut y, mut g) = (vec![], vec![], vec![], vec![]);
    let (mut tau_sum, mut n_treated) = (0.0, 0usize);
    for i in 0..units {
        for p in 1..=periods {
            let c = cohort(i);
            let tau = match c {
                Some(c) if p >= c => scale(c) * (1.0 + (p - c) as f64),
                _ => 0.0,
            };
            if matches!(c, Some(c) if p >= c) {
                tau_sum += tau;
                n_treated += 1;
            }
            u.push(i);
            t.push(p);
            y.push(a[i] + b[(p - 1) as usize] + tau + rng.sample::<f64, _>(StandardNormal));
            g.push(c);
        }
    }
    let panel = StaggeredPanel::new(Factor::from_labels("unit", &u), t, y, g).unwrap();
    (panel, tau_sum / n_treated as f64)
}

#[test]
fn twfe_is_biased_and_robust_estimators_are_not_and_cover() {
    // (twfe, sunab, imputation, truth, sunab covers, imputation covers)
    let out: Vec<Rep> = replicate(2024, REPS, |_, b| {
        let (p, truth) = draw(99, b as u64);
        let tw = twfe(&p, None, 0.05, None).unwrap().effect().estimate;
        let sa = sun_abraham(&p, None, 0.05).unwrap().att;
        let im = imputation(&p, None, 0.05).unwrap().att;
        (
            tw,
            sa.estimate,
            im.estimate,
            truth,
            sa.ci_low <= truth && truth <= sa.ci_high,
            im.ci_low.unwrap() <= truth && truth <= im.ci_high.unwrap(),
        )
    });
    let n = REPS as f64;
    let truth = out[0].3;
    assert!(
        out.iter().all(|o| (o.3 - truth).abs() < 1e-12),
        "the estimand is fixed by design"
    );
    let mean = |f: &dyn Fn(&Rep) -> f64| out.iter().map(f).sum::<f64>() / n;
    let (tw, sa, im) = (mean(&|o| o.0), mean(&|o| o.1), mean(&|o| o.2));
    let sd_im = (out.iter().map(|o| (o.2 - im).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let mc_se = sd_im / n.sqrt();
    // TWFE is biased downwards by far more than Monte Carlo error (truth 2.5).
    assert!(truth - tw > 0.5, "TWFE mean {tw}, truth {truth}");
    // Sun-Abraham and imputation are unbiased: within 4 Monte Carlo standard errors.
    assert!(
        (im - truth).abs() < 4.0 * mc_se,
        "imputation mean {im}, truth {truth}, mc se {mc_se}"
    );
    assert!(
        (sa - truth).abs() < 4.0 * mc_se * 1.5,
        "Sun-Abraham mean {sa}, truth {truth}"
    );
    // Coverage of nominal 95% intervals (Monte Carlo SE ≈ 1.3 points at 300 replications;
    // BJS's variance is conservative, so coverage at or a little above 95%).
    let cov_sa = out.iter().filter(|o| o.4).count() as f64 / n;
    let cov_im = out.iter().filter(|o| o.5).count() as f64 / n;
    assert!(
        (0.91..=0.99).contains(&cov_sa),
        "Sun-Abraham coverage {cov_sa}"
    );
    assert!(
        (0.92..=1.0).contains(&cov_im),
        "imputation coverage {cov_im}"
    );
}

#[test]
fn wild_bootstrap_has_correct_size_with_few_clusters() {
    // Homogeneous zero effect, 8 clusters (units) of 10 periods each, half treated from
    // period 6: the WCR bootstrap with Webb weights should reject a true null about 5% of
    // the time (Roodman et al. 2019; Webb 2023), where CRV1 t-tests with G = 8 over-reject.
    let reps = 200;
    let rejections: Vec<(bool, bool)> = replicate(77, reps, |rng, b| {
        let (units, periods) = (8usize, 10i64);
        let a: Vec<f64> = (0..units)
            .map(|_| rng.sample::<f64, _>(StandardNormal))
            .collect();
        let (mut u, mut t, mut y, mut g) = (vec![], vec![], vec![], vec![]);
        for i in 0..units {
            // Cluster-level noise sd differs across clusters, but not by treatment status
            // (treated/control heteroskedasticity breaks every wild bootstrap with few
            // treated clusters: MacKinnon & Webb 2017, J. Applied Econometrics 32).
            let sd = if i % 2 == 0 { 1.5 } else { 0.7 };
            for p in 1..=periods {
                u.push(i);
                t.push(p);
                y.push(a[i] + p as f64 * 0.1 + sd * rng.sample::<f64, _>(StandardNormal));
                g.push((i < 4).then_some(6));
            }
        }
        let panel = StaggeredPanel::new(Factor::from_labels("unit", &u), t, y, g).unwrap();
        let opts = WildOptions {
            reps: 399,
            seed: b as u64,
            weights: MultiplierWeights::Webb,
            alpha: 0.05,
        };
        let fit = twfe(&panel, None, 0.05, Some(opts)).unwrap();
        (
            fit.wild.as_ref().unwrap().p_value < 0.05,
            fit.effect().p_value.unwrap() < 0.05,
        )
    });
    let rate = rejections.iter().filter(|r| r.0).count() as f64 / reps as f64;
    let crv1 = rejections.iter().filter(|r| r.1).count() as f64 / reps as f64;
    eprintln!("WCR rejection rate {rate}, CRV1 t-test rejection rate {crv1}");
    assert!((0.01..=0.10).contains(&rate), "WCR rejection rate {rate}");
}

#[test]
fn wild_bootstrap_equals_brute_force_refits() {
    // The O(G²)-per-replicate algebra against brute force: for each replicate, build
    // y* = ŷ_restricted + v_g ü from the same draws and refit the TWFE regression with
    // LinearModel, taking its CRV1 t statistic. The bootstrap p-value must agree exactly.
    use causalkit_stats::{FixedEffects, LinearModel, Vcov};
    let (p, _) = draw(5, 0);
    let p = p.subset(
        &(0..p.len())
            .filter(|&i| p.unit.codes()[i] % 6 == 0)
            .collect::<Vec<_>>(),
    );
    let g = p.unit.levels();
    let opts = WildOptions {
        reps: 199,
        seed: 11,
        weights: MultiplierWeights::Webb,
        alpha: 0.05,
    };
    let fit = twfe(&p, None, 0.05, Some(opts)).unwrap();
    let w = fit.wild.clone().unwrap();
    let d = p.treated();
    let fe = FixedEffects::new(vec![p.unit.clone(), p.time_factor()]).unwrap();
    // Restricted fit (β = 0): FE only; residuals by demeaning y.
    let mut cols = vec![p.outcome.clone()];
    fe.demean(&mut cols, None, &Default::default()).unwrap();
    let u = cols.pop().unwrap();
    let yhat: Vec<f64> = p.outcome.iter().zip(&u).map(|(y, u)| y - u).collect();
    let t_obs = fit.effect().statistic.unwrap().abs();
    let mut count = 0;
    for b in 0..opts.reps {
        let mut rng = replicate_rng(opts.seed, b as u64);
        let v: Vec<f64> = (0..g).map(|_| opts.weights.draw(&mut rng)).collect();
        let ystar: Vec<f64> = (0..p.len())
            .map(|i| yhat[i] + v[p.unit.codes()[i] as usize] * u[i])
            .collect();
        let f = LinearModel::new("y", ystar)
            .regressor("d", d.clone())
            .absorb(fe.clone())
            .fit()
            .unwrap();
        let t = f
            .inference(&Vcov::Cluster(p.unit.clone()), 0.05)
            .unwrap()
            .rows()[0]
            .statistic
            .unwrap();
        if t.abs() >= t_obs * (1.0 - 1e-9) {
            count += 1;
        }
    }
    let brute = count as f64 / opts.reps as f64;
    assert!(
        (w.p_value - brute).abs() < 1e-12,
        "fast {} vs brute force {brute}",
        w.p_value
    );
}

#[test]
fn weighted_wild_bootstrap_equals_brute_force_refits() {
    // The O(G²)-per-replicate algebra against brute force: for each replicate, build
    // y* = ŷ_restricted + v_g ü from the same draws and refit the TWFE regression with
    // LinearModel, taking its CRV1 t statistic. The bootstrap p-value must agree exactly.
    use causalkit_stats::{FixedEffects, LinearModel, Vcov};
    let (p, _) = draw(5, 0);
    let p = p.subset(
        &(0..p.len())
            .filter(|&i| p.unit.codes()[i] % 6 == 0)
            .collect::<Vec<_>>(),
    );
    let wts: Vec<f64> = (0..p.len()).map(|i| 1.0 + (i % 5) as f64).collect();
    let p = p.with_weights(wts.clone()).unwrap();
    let g = p.unit.levels();
    let opts = WildOptions {
        reps: 199,
        seed: 11,
        weights: MultiplierWeights::Webb,
        alpha: 0.05,
    };
    let fit = twfe(&p, None, 0.05, Some(opts)).unwrap();
    let w = fit.wild.clone().unwrap();
    let d = p.treated();
    let fe = FixedEffects::new(vec![p.unit.clone(), p.time_factor()]).unwrap();
    // Restricted fit (β = 0): FE only; residuals by demeaning y.
    let mut cols = vec![p.outcome.clone()];
    fe.demean(&mut cols, Some(&wts), &Default::default())
        .unwrap();
    let u = cols.pop().unwrap();
    let yhat: Vec<f64> = p.outcome.iter().zip(&u).map(|(y, u)| y - u).collect();
    let t_obs = fit.effect().statistic.unwrap().abs();
    let mut count = 0;
    for b in 0..opts.reps {
        let mut rng = replicate_rng(opts.seed, b as u64);
        let v: Vec<f64> = (0..g).map(|_| opts.weights.draw(&mut rng)).collect();
        let ystar: Vec<f64> = (0..p.len())
            .map(|i| yhat[i] + v[p.unit.codes()[i] as usize] * u[i])
            .collect();
        let f = LinearModel::new("y", ystar)
            .regressor("d", d.clone())
            .weights(wts.clone())
            .absorb(fe.clone())
            .fit()
            .unwrap();
        let t = f
            .inference(&Vcov::Cluster(p.unit.clone()), 0.05)
            .unwrap()
            .rows()[0]
            .statistic
            .unwrap();
        if t.abs() >= t_obs * (1.0 - 1e-9) {
            count += 1;
        }
    }
    let brute = count as f64 / opts.reps as f64;
    assert!(
        (w.p_value - brute).abs() < 1e-12,
        "fast {} vs brute force {brute}",
        w.p_value
    );
}

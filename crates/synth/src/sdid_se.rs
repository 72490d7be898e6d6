//! The standard-error driver of the synthetic DiD family, written once for the fits with and
//! without covariates.
//!
//! Arkhangelsky, Athey, Hirshberg, Imbens & Wager (2021, AER), Algorithms 2–4, as R
//! `synthdid`'s `vcov.synthdid_estimate`: the driver checks that the method is defined for the
//! design, draws the pseudo-panels (permutations of the controls for the placebo, unit samples
//! with replacement for the bootstrap, every left-out unit for the jackknife) from
//! [`causalkit_stats::resample::replicate_rng`]`(seed, b)`, and turns the replicate estimates
//! into a standard error. What a replicate fits on its pseudo-panel is the estimator's
//! business ([`PseudoPanelFit`]): [`crate::sdid`] refits without covariates,
//! [`crate::sdid_cov`] re-runs the joint covariate solver.

use crate::error::{Result, SynthError};
use crate::panel::SynthPanel;
use crate::sdid::{CohortFit, SdidSe, SeMethod};
use causalkit_stats::resample::replicate;
use rand::seq::SliceRandom;
use rand::Rng;
use rayon::prelude::*;

/// A fit that can be re-estimated on a pseudo-panel, one method per replicate kind.
pub(crate) trait PseudoPanelFit: Sync {
    /// The fit's adoption cohorts (their unit weights decide whether the jackknife is defined).
    fn cohorts(&self) -> &[CohortFit];
    /// Placebo replicate (Algorithm 4): `perm` is a permutation of the panel's control rows;
    /// its last `N1` entries become pseudo-treated units.
    fn placebo(&self, perm: &[usize]) -> Result<f64>;
    /// Bootstrap replicate (Algorithm 2) on panel rows drawn with replacement.
    fn bootstrap(&self, rows: &[usize]) -> Result<f64>;
    /// Fixed-weight jackknife replicate (Algorithm 3) leaving panel row `drop` out.
    fn jackknife(&self, drop: usize) -> Result<f64>;
}

fn control_rows(panel: &SynthPanel) -> Vec<usize> {
    (0..panel.units.len())
        .filter(|&i| panel.adoption[i].is_none())
        .collect()
}

fn sample_var(v: &[f64]) -> f64 {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0)
}

fn placebo_undefined(n0: usize, n1: usize) -> SynthError {
    SynthError::SeUndefined {
        method: SeMethod::Placebo.name().into(),
        reason: format!(
            "needs more controls than treated units (have {n0} controls, {n1} treated)"
        ),
    }
}

/// The standard error of `fit` on `panel` by `method` (see [`crate::sdid::sdid_se`] for the
/// conventions): `replications` replicates (ignored by the jackknife), replicate `b` drawing
/// from `replicate_rng(seed, b)`, so the numbers do not depend on the thread count.
pub(crate) fn se(
    panel: &SynthPanel,
    fit: &impl PseudoPanelFit,
    method: SeMethod,
    replications: usize,
    seed: u64,
) -> Result<SdidSe> {
    let controls = control_rows(panel);
    let (n, n0) = (panel.units.len(), controls.len());
    let n1 = n - n0;
    let undefined = |reason: String| SynthError::SeUndefined {
        method: method.name().into(),
        reason,
    };
    if method != SeMethod::Jackknife && replications < 2 {
        return Err(SynthError::InvalidOption {
            name: "replications".into(),
            reason: format!("{replications} must be at least 2"),
        });
    }
    if replications > causalkit_stats::limits::MAX_REPLICATIONS {
        return Err(SynthError::InvalidOption {
            name: "replications".into(),
            reason: format!(
                "{replications} is more than the {} allowed",
                causalkit_stats::limits::MAX_REPLICATIONS
            ),
        });
    }
    let reps: Vec<Result<f64>> = match method {
        SeMethod::Placebo => {
            if n0 <= n1 {
                return Err(placebo_undefined(n0, n1));
            }
            replicate(seed, replications, |rng, _| {
                let mut perm = controls.clone();
                perm.shuffle(rng);
                fit.placebo(&perm)
            })
        }
        SeMethod::Bootstrap => {
            if n1 < 2 {
                return Err(undefined(format!(
                    "needs more than one treated unit (have {n1}); use the placebo SE"
                )));
            }
            replicate(seed, replications, |rng, _| loop {
                let ind: Vec<usize> = (0..n).map(|_| rng.random_range(0..n)).collect();
                if ind.iter().all(|&i| panel.adoption[i].is_none())
                    || ind.iter().all(|&i| panel.adoption[i].is_some())
                {
                    continue;
                }
                break fit.bootstrap(&ind);
            })
        }
        SeMethod::Jackknife => {
            if n1 < 2 {
                return Err(undefined(format!(
                    "needs more than one treated unit (have {n1}); use the placebo SE"
                )));
            }
            if fit
                .cohorts()
                .iter()
                .any(|c| c.omega.iter().filter(|w| **w != 0.0).count() == 1)
            {
                return Err(undefined("a single control has all the unit weight".into()));
            }
            // Deterministic: the leave-one-out fits only run in parallel.
            (0..n)
                .into_par_iter()
                .map(|drop| fit.jackknife(drop))
                .collect()
        }
    };
    let reps = reps.into_iter().collect::<Result<Vec<f64>>>()?;
    let b = reps.len() as f64;
    let se = match method {
        SeMethod::Placebo | SeMethod::Bootstrap => {
            ((b - 1.0) / b).sqrt() * sample_var(&reps).sqrt()
        }
        SeMethod::Jackknife => ((b - 1.0) * (b - 1.0) / b * sample_var(&reps)).sqrt(),
    };
    Ok(SdidSe {
        method,
        se,
        replicates: reps,
    })
}

/// The placebo standard error over every assignment of pseudo-treated controls (see
/// [`crate::sdid::placebo_se_exact`]): combinations of `N1` controls in a block design,
/// arrangements under staggered adoption, in lexicographic order of the control rows; refused
/// above `max_assignments`.
pub(crate) fn placebo_se_exact(
    panel: &SynthPanel,
    fit: &impl PseudoPanelFit,
    max_assignments: usize,
) -> Result<SdidSe> {
    let controls = control_rows(panel);
    let starts: Vec<usize> = panel.adoption.iter().flatten().copied().collect();
    let (n0, n1) = (controls.len(), starts.len());
    if n0 <= n1 {
        return Err(placebo_undefined(n0, n1));
    }
    let block = starts.iter().all(|&s| s == starts[0]);
    // Number of assignments, saturating so huge counts are refused rather than overflowing.
    let mut count: usize = 1;
    for k in 0..n1 {
        count = count.saturating_mul(n0 - k);
    }
    if block {
        for k in 1..=n1 {
            count /= k;
        }
    }
    if count > max_assignments {
        return Err(SynthError::InvalidOption {
            name: "max_assignments".into(),
            reason: format!(
                "the exact placebo needs {count} fits ({n0} controls, {n1} treated{}), more than the limit {max_assignments}; use the random placebo",
                if block { "" } else { ", staggered" }
            ),
        });
    }
    // All pseudo-treated tuples: combinations in a block design, arrangements otherwise.
    let mut tuples: Vec<Vec<usize>> = Vec::with_capacity(count);
    let mut current: Vec<usize> = Vec::with_capacity(n1);
    fn extend(
        n0: usize,
        n1: usize,
        block: bool,
        current: &mut Vec<usize>,
        out: &mut Vec<Vec<usize>>,
    ) {
        if current.len() == n1 {
            out.push(current.clone());
            return;
        }
        let start = if block {
            current.last().map_or(0, |&l| l + 1)
        } else {
            0
        };
        for i in start..n0 {
            if !block && current.contains(&i) {
                continue;
            }
            current.push(i);
            extend(n0, n1, block, current, out);
            current.pop();
        }
    }
    extend(n0, n1, block, &mut current, &mut tuples);
    let reps: Vec<Result<f64>> = tuples
        .par_iter()
        .map(|t| {
            let mut perm: Vec<usize> = (0..n0)
                .filter(|i| !t.contains(i))
                .map(|i| controls[i])
                .collect();
            perm.extend(t.iter().map(|&i| controls[i]));
            fit.placebo(&perm)
        })
        .collect();
    let reps = reps.into_iter().collect::<Result<Vec<f64>>>()?;
    let b = reps.len() as f64;
    Ok(SdidSe {
        method: SeMethod::Placebo,
        se: ((b - 1.0) / b * sample_var(&reps)).sqrt(),
        replicates: reps,
    })
}

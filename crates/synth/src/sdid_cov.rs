//! Synthetic DiD (and its SC / DiD variants) with time-varying covariates.
//!
//! # Method
//!
//! Arkhangelsky, Athey, Hirshberg, Imbens & Wager (2021, AER, "Synthetic
//! Difference-in-Differences", Section 4 footnote on covariates) as implemented in the R
//! package `synthdid`: `synthdid_estimate(Y, N0, T0, X)` with `sc.weight.fw.covariates`. The
//! outcome is adjusted as `Y(beta) = Y - sum_c beta_c X_c`, and `beta`, the unit weights
//! `omega` and the time weights `lambda` are found jointly on the collapsed
//! `(N0+1) x (T0+1)` form (treated rows averaged, post columns averaged) of `Y` and of every
//! covariate `X_c`. Starting from uniform weights and `beta = 0`, iteration `t = 1, 2, ...`
//!
//! 1. takes one exact-line-search Frank–Wolfe step for `lambda` on the column-centred control
//!    rows of `Y(beta)` (penalty `N0 zeta_lambda^2`) and one for `omega` on the column-centred
//!    transposed pre-period columns (penalty `T0 zeta_omega^2`), giving the residual vectors
//!    `e_lambda` (controls) and `e_omega` (pre-periods) and the objective
//!    `zeta_omega^2 |omega|^2 + zeta_lambda^2 |lambda|^2 + |e_omega|^2 / T0 + |e_lambda|^2 / N0`;
//! 2. moves `beta` by a `1/t` gradient step, with
//!    `grad_c = -(e_lambda' X_c[controls, :] (lambda, -1) / N0 + e_omega' X_c[:, pre]' (omega, -1) / T0)`
//!
//! until the objective decreases by no more than `min_decrease^2` (R's rule: the signed
//! decrease) or `max_iter` (10 000) iterations. There is no sparsification step in this branch
//! of R `synthdid`. The estimate is `(-omega, 1/N1)' Y(beta) (-lambda, 1/T1)`. `sigma` (the
//! noise level behind `zeta`) is computed from the unadjusted `Y`, as in R.
//!
//! The SC variant fixes `lambda = 0` and drops the unit-weight intercept (`sc_estimate`,
//! `eta_omega = 1e-6`); the DiD variant fixes uniform weights and only moves `beta`
//! (`did_estimate`).
//!
//! Standard errors ([`se_cov`]) follow R synthdid's `vcov.synthdid_estimate` with `X`: the
//! placebo (Algorithm 4), the unit bootstrap (Algorithm 2: weights re-estimated from the fit's
//! weights, `beta` from 0) and the fixed-weight jackknife (Algorithm 3: `omega` and `lambda`
//! fixed, `beta` re-estimated from 0 on the left-out sample), each re-running the joint solver
//! with the covariates subset to the replicate's units and the fit's `zeta`s.
//!
//! Staggered adoption follows Clarke, Pailañir, Athey & Imbens (2023; Stata `sdid`) as
//! [`crate::sdid::sdid`] does without covariates (and synthdid-py's `staggered_synthdid_estimate`
//! with `control_pool = "never_treated"`): each adoption cohort is fitted as a block against the
//! never-treated units over all periods, with its own `zeta`s and its own `beta`, and the cohort
//! estimates are averaged with weights `N1_a T1_a`. Standard errors ([`se_cov`],
//! [`placebo_se_cov`]) are implemented for block designs only.
//!
//! Convention: covariates must be observed (finite) in every unit-period of the panel; a
//! missing value is an error naming the covariate, unit and period (no imputation).

use crate::error::{Result, SynthError};
use crate::panel::{period_label, SynthPanel};
use crate::sdid::{CohortFit, SdidFit, SdidMethod, SdidOptions, SdidSe, SeMethod};
use crate::sdid_se::{self, PseudoPanelFit};
use nalgebra::DMatrix;

/// A covariate-adjusted SDID / SC / DiD fit.
#[derive(Debug, Clone)]
pub struct SdidCovFit {
    /// The fit (one cohort per adoption period); its estimate is on the covariate-adjusted
    /// outcome.
    pub fit: SdidFit,
    /// Covariate names and coefficients `beta`. Block design: the solver's `beta`. Staggered
    /// adoption: each cohort has its own `beta` ([`SdidCovFit::cohort_beta`]); this is their
    /// average with the cohort weights `N1_a T1_a` (a summary only; no single beta is fitted).
    pub beta: Vec<(String, f64)>,
    /// `beta` of each cohort, in the order of `fit.cohorts`.
    pub cohort_beta: Vec<Vec<f64>>,
    /// Iterations of the joint solver (the largest over cohorts).
    pub iterations: usize,
    /// Iterations of the joint solver of each cohort.
    pub cohort_iterations: Vec<usize>,
    /// Final objective value (summed over cohorts under staggered adoption).
    pub objective: f64,
}

/// One side of the weight update (the lambda problem or the omega problem, one the other's
/// transpose): the `rows x (cols + 1)` matrix `get(r, c)`, each column centred over the rows
/// when `intercept`, split into `A` (the first `cols` columns) and the target `b` (the last);
/// one Frank–Wolfe step on `w` with penalty `rows * zeta^2` when `update`; returns the
/// residuals `A w - b`.
fn weight_step(
    get: impl Fn(usize, usize) -> f64,
    rows: usize,
    cols: usize,
    intercept: bool,
    update: bool,
    w: &mut [f64],
    zeta: f64,
) -> Vec<f64> {
    let mut m = vec![0.0; rows * (cols + 1)];
    for c in 0..=cols {
        let mu = if intercept {
            (0..rows).map(|r| get(r, c)).sum::<f64>() / rows as f64
        } else {
            0.0
        };
        for r in 0..rows {
            m[r * (cols + 1) + c] = get(r, c) - mu;
        }
    }
    let a: Vec<f64> = (0..rows)
        .flat_map(|r| m[r * (cols + 1)..r * (cols + 1) + cols].to_vec())
        .collect();
    let b: Vec<f64> = (0..rows).map(|r| m[r * (cols + 1) + cols]).collect();
    if update {
        fw_step(&a, rows, cols, w, &b, rows as f64 * zeta * zeta);
    }
    (0..rows)
        .map(|r| (0..cols).map(|c| a[r * cols + c] * w[c]).sum::<f64>() - b[r])
        .collect()
}

/// One exact-line-search Frank–Wolfe step for `|A x - b|^2 + eta |x|^2` over the simplex
/// (`A` row-major `m x k`).
fn fw_step(a: &[f64], m: usize, k: usize, x: &mut [f64], b: &[f64], eta: f64) {
    let mut ax = vec![0.0; m];
    for i in 0..m {
        ax[i] = (0..k).map(|j| a[i * k + j] * x[j]).sum();
    }
    let res: Vec<f64> = ax.iter().zip(b).map(|(p, q)| p - q).collect();
    let half_grad: Vec<f64> = (0..k)
        .map(|j| (0..m).map(|i| res[i] * a[i * k + j]).sum::<f64>() + eta * x[j])
        .collect();
    let mut bi = 0;
    for j in 1..k {
        if half_grad[j] < half_grad[bi] {
            bi = j;
        }
    }
    let mut dx: Vec<f64> = x.iter().map(|v| -v).collect();
    dx[bi] = 1.0 - x[bi];
    if dx.iter().all(|v| *v == 0.0) {
        return;
    }
    let derr: Vec<f64> = (0..m).map(|i| a[i * k + bi] - ax[i]).collect();
    let den = derr.iter().map(|v| v * v).sum::<f64>() + eta * dx.iter().map(|v| v * v).sum::<f64>();
    if den <= 0.0 {
        return;
    }
    let num: f64 = half_grad.iter().zip(&dx).map(|(g, d)| g * d).sum();
    let step = (-num / den).clamp(0.0, 1.0);
    for (xj, dj) in x.iter_mut().zip(&dx) {
        *xj += step * dj;
    }
}

/// Collapsed `(N0+1) x (T0+1)` form, row-major.
fn collapse(y: &DMatrix<f64>, controls: &[usize], treated: &[usize], t0: usize) -> Vec<Vec<f64>> {
    let t = y.ncols();
    let post = |r: usize| (t0..t).map(|c| y[(r, c)]).sum::<f64>() / (t - t0) as f64;
    let mut out: Vec<Vec<f64>> = controls
        .iter()
        .map(|&r| {
            (0..t0)
                .map(|c| y[(r, c)])
                .chain(std::iter::once(post(r)))
                .collect()
        })
        .collect();
    let n1 = treated.len() as f64;
    let mut last: Vec<f64> = (0..t0)
        .map(|c| treated.iter().map(|&r| y[(r, c)]).sum::<f64>() / n1)
        .collect();
    last.push(treated.iter().map(|&r| post(r)).sum::<f64>() / n1);
    out.push(last);
    out
}

/// Output of the joint solver: (omega, lambda, beta, iterations, objective, estimate).
type Solved = (Vec<f64>, Vec<f64>, Vec<f64>, usize, f64, f64);

/// The joint Frank–Wolfe / gradient solver on rows `controls` and `treated` of `y` (module
/// docs), from the given starting weights and `beta = 0`; with `fixed_weights` only `beta`
/// moves. Rows may repeat (bootstrap samples).
#[allow(clippy::too_many_arguments)] // a numerical kernel: the R argument list
fn solve(
    y: &DMatrix<f64>,
    covariates: &[(String, DMatrix<f64>)],
    controls: &[usize],
    treated: &[usize],
    t0: usize,
    method: SdidMethod,
    (zo, zl, md): (f64, f64, f64),
    init_lambda: Vec<f64>,
    init_omega: Vec<f64>,
    max_iter: usize,
    fixed_weights: bool,
) -> Solved {
    let (update_l, update_o, l_int, o_int) = match method {
        SdidMethod::Sdid => (true, true, true, true),
        SdidMethod::Sc => (false, true, true, false),
        SdidMethod::Did => (false, false, true, true),
    };
    // R's fixed-weight jackknife sets update.omega = update.lambda = FALSE; beta still moves.
    let (update_l, update_o) = if fixed_weights {
        (false, false)
    } else {
        (update_l, update_o)
    };
    let (n0, n1) = (controls.len(), treated.len());
    let (t, t1) = (y.ncols(), y.ncols() - t0);
    let yc = collapse(y, controls, treated, t0);
    let xc: Vec<Vec<Vec<f64>>> = covariates
        .iter()
        .map(|(_, x)| collapse(x, controls, treated, t0))
        .collect();
    let nc = covariates.len();
    let mut lambda = init_lambda;
    let mut omega = init_omega;
    let mut beta = vec![0.0; nc];

    // One weight update on Y(beta); returns (objective, e_lambda, e_omega).
    let update = |beta: &[f64], lambda: &mut Vec<f64>, omega: &mut Vec<f64>| {
        let yb: Vec<Vec<f64>> = (0..=n0)
            .map(|i| {
                (0..=t0)
                    .map(|c| yc[i][c] - (0..nc).map(|k| beta[k] * xc[k][i][c]).sum::<f64>())
                    .collect()
            })
            .collect();
        // lambda problem: rows = controls (N0), columns = T0 + 1 (the last is the target).
        let el = weight_step(|i, c| yb[i][c], n0, t0, l_int, update_l, lambda, zl);
        // omega problem: rows = pre-periods (T0), columns = N0 + 1 (the last is the target).
        let eo = weight_step(|c, i| yb[i][c], t0, n0, o_int, update_o, omega, zo);
        let sq = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>();
        let val =
            zo * zo * sq(omega) + zl * zl * sq(lambda) + sq(&eo) / t0 as f64 + sq(&el) / n0 as f64;
        (val, el, eo)
    };

    let (mut val, mut el, mut eo) = update(&beta, &mut lambda, &mut omega);
    let mut vals: Vec<f64> = Vec::new();
    while vals.len() < max_iter
        && (vals.len() < 2 || vals[vals.len() - 2] - vals[vals.len() - 1] > md * md)
    {
        let it = (vals.len() + 1) as f64;
        for k in 0..nc {
            let x = &xc[k];
            // e_lambda' X[controls, :] (lambda, -1) / N0
            let g1: f64 = (0..n0)
                .map(|i| {
                    let row: f64 = (0..t0).map(|c| x[i][c] * lambda[c]).sum::<f64>() - x[i][t0];
                    el[i] * row
                })
                .sum::<f64>()
                / n0 as f64;
            // e_omega' X[:, pre]' (omega, -1) / T0
            let g2: f64 = (0..t0)
                .map(|c| {
                    let col: f64 = (0..n0).map(|i| x[i][c] * omega[i]).sum::<f64>() - x[n0][c];
                    eo[c] * col
                })
                .sum::<f64>()
                / t0 as f64;
            beta[k] += (g1 + g2) / it;
        }
        (val, el, eo) = update(&beta, &mut lambda, &mut omega);
        vals.push(val);
    }

    // Estimate on Y(beta): (-omega, 1/N1)' Y(beta) (-lambda, 1/T1).
    let yadj = |r: usize, c: usize| {
        y[(r, c)]
            - covariates
                .iter()
                .zip(&beta)
                .map(|((_, x), b)| b * x[(r, c)])
                .sum::<f64>()
    };
    let contrast = |r: usize| {
        let post = (t0..t).map(|c| yadj(r, c)).sum::<f64>() / t1 as f64;
        post - (0..t0).map(|c| lambda[c] * yadj(r, c)).sum::<f64>()
    };
    let est = treated.iter().map(|&r| contrast(r)).sum::<f64>() / n1 as f64
        - controls
            .iter()
            .zip(&omega)
            .map(|(&r, w)| w * contrast(r))
            .sum::<f64>();
    (omega, lambda, beta, vals.len(), val, est)
}

/// Fits SDID / SC / DiD with time-varying covariates (module docs). `covariates` are
/// `(name, units x periods)` matrices in the panel's row and column order.
pub fn sdid_covariates(
    panel: &SynthPanel,
    covariates: &[(String, DMatrix<f64>)],
    opts: &SdidOptions,
) -> Result<SdidCovFit> {
    if covariates.is_empty() {
        return Err(SynthError::InvalidOption {
            name: "covariates".into(),
            reason: "no covariate given; use sdid() without covariates".into(),
        });
    }
    if opts.max_iter == 0 {
        return Err(SynthError::InvalidOption {
            name: "max_iter".into(),
            reason: "must be positive".into(),
        });
    }
    let (n, t) = panel.y.shape();
    for (name, x) in covariates {
        if x.shape() != (n, t) {
            return Err(SynthError::InvalidOption {
                name: format!("covariate {name}"),
                reason: format!("is {:?}, the panel is {:?}", x.shape(), (n, t)),
            });
        }
        for i in 0..n {
            for c in 0..t {
                if !x[(i, c)].is_finite() {
                    return Err(SynthError::InvalidOption {
                        name: format!("covariate {name}"),
                        reason: format!(
                            "missing or non-finite value {} for unit `{}` in period {} (covariates must be observed in every unit-period)",
                            x[(i, c)],
                            panel.units[i],
                            period_label(panel.periods[c])
                        ),
                    });
                }
            }
        }
    }
    let controls: Vec<usize> = (0..n).filter(|&i| panel.adoption[i].is_none()).collect();
    let mut starts: Vec<usize> = panel.adoption.iter().flatten().copied().collect();
    starts.sort_unstable();
    starts.dedup();
    if starts.is_empty() {
        return Err(SynthError::InsufficientData(
            "no treated unit-period in the panel".into(),
        ));
    }
    let mut cohorts = Vec::with_capacity(starts.len());
    let mut betas = Vec::with_capacity(starts.len());
    let mut iters = Vec::with_capacity(starts.len());
    let mut objective = 0.0;
    for &t0 in &starts {
        let treated: Vec<usize> = (0..n).filter(|&i| panel.adoption[i] == Some(t0)).collect();
        let (cohort, beta, it, obj) =
            fit_cov_cohort(panel, covariates, &controls, &treated, t0, opts)?;
        cohorts.push(cohort);
        betas.push(beta);
        iters.push(it);
        objective += obj;
    }
    let wsum: f64 = cohorts.iter().map(|c| c.weight).sum();
    let estimate = cohorts.iter().map(|c| c.weight * c.estimate).sum::<f64>() / wsum;
    let beta = covariates
        .iter()
        .enumerate()
        .map(|(k, (name, _))| {
            let b = cohorts
                .iter()
                .zip(&betas)
                .map(|(c, b)| c.weight * b[k])
                .sum::<f64>()
                / wsum;
            (name.clone(), b)
        })
        .collect();
    Ok(SdidCovFit {
        fit: SdidFit {
            method: opts.method,
            estimate,
            cohorts,
        },
        beta,
        cohort_beta: betas,
        iterations: iters.iter().copied().max().unwrap_or(0),
        cohort_iterations: iters,
        objective,
    })
}

/// Fits one adoption cohort (rows `controls` and `treated`, first treated period `t0`) as a
/// block: (cohort fit, beta, iterations, objective).
fn fit_cov_cohort(
    panel: &SynthPanel,
    covariates: &[(String, DMatrix<f64>)],
    controls: &[usize],
    treated: &[usize],
    t0: usize,
    opts: &SdidOptions,
) -> Result<(CohortFit, Vec<f64>, usize, f64)> {
    let t = panel.y.ncols();
    let (n0, n1, t1) = (controls.len(), treated.len(), t - t0);
    if n0 < 2 || t0 < 2 {
        return Err(SynthError::InsufficientData(format!(
            "need at least 2 controls and 2 pre-periods; have N0 = {n0}, T0 = {t0} (cohort from period {})",
            period_label(panel.periods[t0])
        )));
    }
    // Noise level from the unadjusted outcomes (R: sd(apply(Y[1:N0, 1:T0], 1, diff))).
    let diffs: Vec<f64> = controls
        .iter()
        .flat_map(|&r| (1..t0).map(move |c| (r, c)))
        .map(|(r, c)| panel.y[(r, c)] - panel.y[(r, c - 1)])
        .collect();
    let m = diffs.len() as f64;
    let mean = diffs.iter().sum::<f64>() / m;
    let noise = (diffs.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (m - 1.0)).sqrt();
    let eta_omega = opts.eta_omega.unwrap_or(match opts.method {
        SdidMethod::Sc => 1e-6,
        _ => ((n1 * t1) as f64).powf(0.25),
    });
    let (zo, zl) = (eta_omega * noise, opts.eta_lambda * noise);
    let md = opts.min_decrease_factor * noise;
    let init_lambda = match opts.method {
        SdidMethod::Sc => vec![0.0; t0],
        _ => vec![1.0 / t0 as f64; t0],
    };
    let (omega, lambda, beta, iterations, objective, est) = solve(
        &panel.y,
        covariates,
        controls,
        treated,
        t0,
        opts.method,
        (zo, zl, md),
        init_lambda,
        vec![1.0 / n0 as f64; n0],
        opts.max_iter,
        false,
    );
    let cohort = CohortFit {
        start: t0,
        controls: controls.to_vec(),
        treated: treated.to_vec(),
        omega,
        lambda,
        estimate: est,
        weight: (n1 * t1) as f64,
        noise_level: noise,
        zeta_omega: zo,
        zeta_lambda: zl,
    };
    Ok((cohort, beta, iterations, objective))
}

/// The SEs are implemented for block designs only.
fn block_only(fit: &SdidCovFit, method: SeMethod) -> Result<()> {
    if fit.fit.cohorts.len() != 1 {
        return Err(SynthError::SeUndefined {
            method: method.name().into(),
            reason: format!(
                "not implemented for covariate-adjusted fits under staggered adoption ({} adoption cohorts); block designs only",
                fit.fit.cohorts.len()
            ),
        });
    }
    Ok(())
}

/// One placebo replicate of a covariate-adjusted fit (AAHIW 2021, Algorithm 4; R
/// `placebo_se` with `X`): `perm` is a permutation of the panel's control rows; its last `N1`
/// entries become pseudo-treated units and the others the controls, in `perm` order. The
/// refit keeps the fit's `zeta`s and `min_decrease`, starts from its `lambda` and from its
/// `omega` restricted to the remaining controls and renormalised, and from `beta = 0` (as R).
pub fn placebo_replicate_cov(
    panel: &SynthPanel,
    covariates: &[(String, DMatrix<f64>)],
    fit: &SdidCovFit,
    opts: &SdidOptions,
    perm: &[usize],
) -> Result<f64> {
    block_only(fit, SeMethod::Placebo)?;
    let c = &fit.fit.cohorts[0];
    let n1 = c.treated.len();
    if perm.len() <= n1 || perm.iter().any(|r| !c.controls.contains(r)) {
        return Err(SynthError::InvalidOption {
            name: "perm".into(),
            reason: format!("must list more than {n1} control rows"),
        });
    }
    let (pc, pt) = perm.split_at(perm.len() - n1);
    let omega: Vec<f64> = pc
        .iter()
        .map(|r| c.omega[c.controls.iter().position(|x| x == r).unwrap()])
        .collect();
    let s: f64 = omega.iter().sum();
    let omega = if s != 0.0 {
        omega.iter().map(|w| w / s).collect()
    } else {
        vec![1.0 / pc.len() as f64; pc.len()]
    };
    Ok(resolve_att(
        panel,
        covariates,
        fit,
        opts,
        (pc, pt),
        omega,
        false,
    ))
}

/// The ATT of `fit`'s joint solver rerun on the control and treated rows `(ctrl, tr)` from the
/// start weights `omega`, with the fit's `zeta`s, `lambda` and method and the options'
/// `min_decrease` and `max_iter`; `fixed_weights` keeps the weights (jackknife). Shared by the
/// placebo, bootstrap and jackknife replicates.
fn resolve_att(
    panel: &SynthPanel,
    covariates: &[(String, DMatrix<f64>)],
    fit: &SdidCovFit,
    opts: &SdidOptions,
    (ctrl, tr): (&[usize], &[usize]),
    omega: Vec<f64>,
    fixed_weights: bool,
) -> f64 {
    let c = &fit.fit.cohorts[0];
    let md = opts.min_decrease_factor * c.noise_level;
    let solved = solve(
        &panel.y,
        covariates,
        ctrl,
        tr,
        c.start,
        fit.fit.method,
        (c.zeta_omega, c.zeta_lambda, md),
        c.lambda.clone(),
        omega,
        opts.max_iter,
        fixed_weights,
    );
    solved.5
}

/// Placebo standard error of a covariate-adjusted fit: `replications` placebo replicates
/// ([`placebo_replicate_cov`]), replicate `b` permuting the controls with
/// [`causalkit_stats::resample::replicate_rng`]`(seed, b)` exactly as
/// [`crate::sdid::sdid_se`] does; `se = sqrt((B-1)/B) sd(replicates)` (R `placebo_se`).
pub fn placebo_se_cov(
    panel: &SynthPanel,
    covariates: &[(String, DMatrix<f64>)],
    fit: &SdidCovFit,
    opts: &SdidOptions,
    replications: usize,
    seed: u64,
) -> Result<SdidSe> {
    block_only(fit, SeMethod::Placebo)?;
    let reps = CovReplicates {
        panel,
        covariates,
        fit,
        opts,
    };
    sdid_se::se(panel, &reps, SeMethod::Placebo, replications, seed)
}

/// R `sum_normalize`: `v / sum(v)`, or uniform weights when the sum is zero.
fn sum_normalize(v: Vec<f64>) -> Vec<f64> {
    let s: f64 = v.iter().sum();
    if s != 0.0 {
        v.iter().map(|w| w / s).collect()
    } else {
        vec![1.0 / v.len() as f64; v.len()]
    }
}

/// The fit's unit weights at the control rows `rows` (repeats allowed), renormalised.
fn omega_at(c: &CohortFit, rows: &[usize]) -> Result<Vec<f64>> {
    let w = rows
        .iter()
        .map(|r| {
            c.controls
                .iter()
                .position(|x| x == r)
                .map(|k| c.omega[k])
                .ok_or_else(|| SynthError::InvalidOption {
                    name: "rows".into(),
                    reason: format!("row {r} is not a control of the fit"),
                })
        })
        .collect::<Result<Vec<f64>>>()?;
    Ok(sum_normalize(w))
}

/// Splits panel rows into (controls, treated) in sorted order, keeping repeats.
fn split_rows(panel: &SynthPanel, rows: &[usize]) -> Result<(Vec<usize>, Vec<usize>)> {
    let mut ind = rows.to_vec();
    ind.sort_unstable();
    if let Some(r) = ind.iter().find(|&&r| r >= panel.adoption.len()) {
        return Err(SynthError::InvalidOption {
            name: "rows".into(),
            reason: format!(
                "row index {r} out of range ({} units)",
                panel.adoption.len()
            ),
        });
    }
    let c: Vec<usize> = ind
        .iter()
        .copied()
        .filter(|&i| panel.adoption[i].is_none())
        .collect();
    let t: Vec<usize> = ind
        .iter()
        .copied()
        .filter(|&i| panel.adoption[i].is_some())
        .collect();
    if c.is_empty() || t.is_empty() {
        return Err(SynthError::InsufficientData(
            "a replicate needs at least one control and one treated unit".into(),
        ));
    }
    Ok((c, t))
}

/// Re-runs the joint solver of `fit` on the panel rows `rows` (R `synthdid_estimate` on
/// `Y[rows, ]`, `X[rows, , ]` with the fit's options).
fn refit_rows(
    panel: &SynthPanel,
    covariates: &[(String, DMatrix<f64>)],
    fit: &SdidCovFit,
    opts: &SdidOptions,
    rows: &[usize],
    fixed_weights: bool,
) -> Result<f64> {
    block_only(
        fit,
        if fixed_weights {
            SeMethod::Jackknife
        } else {
            SeMethod::Bootstrap
        },
    )?;
    let c = &fit.fit.cohorts[0];
    let (ctrl, tr) = split_rows(panel, rows)?;
    let omega = omega_at(c, &ctrl)?;
    Ok(resolve_att(
        panel,
        covariates,
        fit,
        opts,
        (&ctrl, &tr),
        omega,
        fixed_weights,
    ))
}

/// One bootstrap replicate of a covariate-adjusted fit (AAHIW 2021, Algorithm 2; R
/// `bootstrap_sample`'s `theta` with `X`) on the panel rows `rows`, drawn with replacement
/// (sorted here; repeated rows count repeatedly). The refit keeps the fit's `zeta`s and
/// `min_decrease`, starts from its `lambda` and from its `omega` at the sampled controls
/// (renormalised), and from `beta = 0`; weights are re-estimated as in the original fit.
/// Needs at least one control and one treated row.
pub fn bootstrap_replicate_cov(
    panel: &SynthPanel,
    covariates: &[(String, DMatrix<f64>)],
    fit: &SdidCovFit,
    opts: &SdidOptions,
    rows: &[usize],
) -> Result<f64> {
    refit_rows(panel, covariates, fit, opts, rows, false)
}

/// One fixed-weight jackknife replicate of a covariate-adjusted fit (AAHIW 2021, Algorithm
/// 3; R `jackknife_se`'s `theta` with `X`): unit `drop` (a panel row) is left out, `omega` is
/// the fit's weights on the remaining controls renormalised and `lambda` the fit's, both held
/// fixed (R sets `update.omega = update.lambda = FALSE`), while `beta` is re-estimated from 0
/// by the joint solver's gradient steps on the left-out sample.
pub fn jackknife_replicate_cov(
    panel: &SynthPanel,
    covariates: &[(String, DMatrix<f64>)],
    fit: &SdidCovFit,
    opts: &SdidOptions,
    drop: usize,
) -> Result<f64> {
    let rows: Vec<usize> = (0..panel.units.len()).filter(|&i| i != drop).collect();
    refit_rows(panel, covariates, fit, opts, &rows, true)
}

/// Standard error of a covariate-adjusted fit, as R synthdid's `vcov(method = ...)` with `X`
/// (Arkhangelsky et al. 2021, Algorithms 2-4):
///
/// * placebo: [`placebo_se_cov`];
/// * bootstrap: replicate `b` draws `N` panel rows with replacement from
///   [`causalkit_stats::resample::replicate_rng`]`(seed, b)` (redrawing samples with only
///   controls or only treated units, the same draws as [`crate::sdid::sdid_se`]) and runs
///   [`bootstrap_replicate_cov`]; `se = sqrt((B-1)/B) sd(replicates)`;
/// * jackknife: [`jackknife_replicate_cov`] for every unit, `se = sqrt((N-1)^2/N var(u))`;
///   `replications` and `seed` are unused.
///
/// Bootstrap and jackknife are undefined with a single treated unit (R returns `NA`), the
/// jackknife also when one control carries all the unit weight: both are
/// [`SynthError::SeUndefined`].
pub fn se_cov(
    panel: &SynthPanel,
    covariates: &[(String, DMatrix<f64>)],
    fit: &SdidCovFit,
    opts: &SdidOptions,
    method: SeMethod,
    replications: usize,
    seed: u64,
) -> Result<SdidSe> {
    block_only(fit, method)?;
    let reps = CovReplicates {
        panel,
        covariates,
        fit,
        opts,
    };
    sdid_se::se(panel, &reps, method, replications, seed)
}

/// The replicates of a covariate-adjusted fit, for the standard-error driver.
struct CovReplicates<'a> {
    panel: &'a SynthPanel,
    covariates: &'a [(String, DMatrix<f64>)],
    fit: &'a SdidCovFit,
    opts: &'a SdidOptions,
}

impl PseudoPanelFit for CovReplicates<'_> {
    fn cohorts(&self) -> &[CohortFit] {
        &self.fit.fit.cohorts
    }

    fn placebo(&self, perm: &[usize]) -> Result<f64> {
        placebo_replicate_cov(self.panel, self.covariates, self.fit, self.opts, perm)
    }

    fn bootstrap(&self, rows: &[usize]) -> Result<f64> {
        bootstrap_replicate_cov(self.panel, self.covariates, self.fit, self.opts, rows)
    }

    fn jackknife(&self, drop: usize) -> Result<f64> {
        jackknife_replicate_cov(self.panel, self.covariates, self.fit, self.opts, drop)
    }
}

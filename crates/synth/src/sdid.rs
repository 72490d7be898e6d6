//! Synthetic difference-in-differences and its SC and DiD special cases.
//!
//! Arkhangelsky, Athey, Hirshberg, Imbens & Wager (2021), "Synthetic Difference-in-Differences",
//! *American Economic Review* 111(12), 4088–4118, following the reference implementation R
//! `synthdid` (functions `synthdid_estimate`, `sc_estimate`, `did_estimate`, `sc.weight.fw`,
//! `placebo_se`, `bootstrap_se`, `jackknife_se`). Staggered adoption is handled cohort by
//! cohort and aggregated with weights proportional to treated unit-periods, as in Clarke,
//! Pailañir, Athey & Imbens (2023), "Synthetic difference-in-differences estimation", the
//! Stata `sdid` command.
//!
//! For one adoption cohort with `N0` controls, `N1` treated units, `T0` pre-periods and `T1`
//! post-periods, the estimate is
//!
//! `τ = (−ω, 1/N1 ·1)ᵀ Y (−λ, 1/T1 ·1)`,
//!
//! with unit weights `ω` (on the simplex) solving
//! `min_{ω0, ω} Σ_t (ω0 + ω·Y_{co,t} − Ȳ_{tr,t})² + ζ_ω² T0 ‖ω‖²` over pre-periods, and time
//! weights `λ` solving `min_{λ0, λ} Σ_i (λ0 + λ·Y_{i,pre} − Ȳ_{i,post})² + ζ_λ² N0 ‖λ‖²` over
//! controls. The regularisation is `ζ_ω = (N1 T1)^{1/4} σ̂`, `ζ_λ = 10⁻⁶ σ̂`, with `σ̂` the
//! standard deviation of the first differences of the control pre-period outcomes. Both
//! problems are solved by Frank–Wolfe (100 iterations, sparsification `v ← v·1{v > max v / 4}`
//! renormalised, then up to 10 000 iterations, stopping when the objective decreases by less
//! than `(10⁻⁵ σ̂)²`).
//!
//! * SC (`sc_estimate`): `λ = 0`, no unit intercept, `ζ_ω = 10⁻⁶ σ̂`.
//! * DiD (`did_estimate`): uniform `ω = 1/N0`, `λ = 1/T0`.

use crate::error::{Result, SynthError};
use crate::panel::{period_label, SynthPanel};
use crate::placebo::rotate;
pub use crate::placebo::GapPath;
use crate::sdid_se::{self, PseudoPanelFit};
use causalkit_stats::dist::{normal_quantile, normal_sf};
use causalkit_stats::{EffectKey, EffectKind, EstimationResult, Report};
use nalgebra::DMatrix;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Which member of the synthetic DiD family to estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SdidMethod {
    /// Synthetic difference-in-differences (unit and time weights, intercepts).
    Sdid,
    /// synthdid's synthetic control: unit weights only, no intercept, ζ_ω = 10⁻⁶ σ̂.
    Sc,
    /// Difference-in-differences: uniform unit and time weights.
    Did,
}

impl SdidMethod {
    /// Short name ("sdid", "sc", "did").
    pub fn name(self) -> &'static str {
        match self {
            SdidMethod::Sdid => "sdid",
            SdidMethod::Sc => "sc",
            SdidMethod::Did => "did",
        }
    }
}

/// Solver options; the defaults are those of R `synthdid`.
#[derive(Debug, Clone)]
pub struct SdidOptions {
    /// Estimator.
    pub method: SdidMethod,
    /// Frank–Wolfe iterations after sparsification (R `max.iter`, 10 000).
    pub max_iter: usize,
    /// Iterations before sparsification (R `max.iter.pre.sparsify`, 100).
    pub max_iter_pre_sparsify: usize,
    /// Apply the sparsification step (R default `sparsify_function`).
    pub sparsify: bool,
    /// `min.decrease = min_decrease_factor · σ̂` (R: 10⁻⁵).
    pub min_decrease_factor: f64,
    /// Override of η_ω (ζ_ω = η_ω σ̂); `None` uses the method's default.
    pub eta_omega: Option<f64>,
    /// η_λ (ζ_λ = η_λ σ̂), R default 10⁻⁶.
    pub eta_lambda: f64,
}

impl SdidOptions {
    /// The R defaults for `method`.
    pub fn new(method: SdidMethod) -> Self {
        SdidOptions {
            method,
            max_iter: 10_000,
            max_iter_pre_sparsify: 100,
            sparsify: true,
            min_decrease_factor: 1e-5,
            eta_omega: None,
            eta_lambda: 1e-6,
        }
    }
}

impl Default for SdidOptions {
    fn default() -> Self {
        SdidOptions::new(SdidMethod::Sdid)
    }
}

/// The fit of one adoption cohort (the whole fit in a block design).
#[derive(Debug, Clone)]
pub struct CohortFit {
    /// Index (into the panel's periods) of the cohort's first treated period = `T0`.
    pub start: usize,
    /// Panel rows of the controls, in the order of `omega`.
    pub controls: Vec<usize>,
    /// Panel rows of the cohort's treated units.
    pub treated: Vec<usize>,
    /// Unit weights ω over `controls` (sum to 1).
    pub omega: Vec<f64>,
    /// Time weights λ over pre-periods `0..start` (sum to 1; all zero for SC).
    pub lambda: Vec<f64>,
    /// The cohort's estimate τ_a.
    pub estimate: f64,
    /// Aggregation weight `N1 · T1` (treated unit-periods).
    pub weight: f64,
    /// σ̂: sd of first differences of control pre-period outcomes.
    pub noise_level: f64,
    /// ζ_ω used.
    pub zeta_omega: f64,
    /// ζ_λ used.
    pub zeta_lambda: f64,
}

impl CohortFit {
    /// Effective number of controls `1 / Σ ω²`.
    pub fn effective_controls(&self) -> f64 {
        1.0 / self.omega.iter().map(|w| w * w).sum::<f64>()
    }

    /// Effective number of pre-periods `1 / Σ λ²` (infinite for SC, whose λ is 0).
    pub fn effective_periods(&self) -> f64 {
        1.0 / self.lambda.iter().map(|w| w * w).sum::<f64>()
    }

    /// Per-period paths over all periods: (mean of treated, ω-weighted controls, ω-weighted
    /// controls shifted by the λ-weighted pre-period gap, as in `synthdid_plot`).
    pub fn paths(&self, y: &DMatrix<f64>) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let t = y.ncols();
        let n1 = self.treated.len() as f64;
        let tr: Vec<f64> = (0..t)
            .map(|c| self.treated.iter().map(|&r| y[(r, c)]).sum::<f64>() / n1)
            .collect();
        let sc: Vec<f64> = (0..t)
            .map(|c| {
                self.controls
                    .iter()
                    .zip(&self.omega)
                    .map(|(&r, w)| w * y[(r, c)])
                    .sum()
            })
            .collect();
        let lsum: f64 = self.lambda.iter().sum();
        let offset = if lsum > 0.0 {
            (0..self.start)
                .map(|c| self.lambda[c] * (tr[c] - sc[c]))
                .sum::<f64>()
        } else {
            0.0
        };
        let adj = sc.iter().map(|v| v + offset).collect();
        (tr, sc, adj)
    }
}

/// A synthetic DiD (or SC / DiD) fit, possibly over several adoption cohorts.
#[derive(Debug, Clone)]
pub struct SdidFit {
    /// Estimator used.
    pub method: SdidMethod,
    /// Overall ATT: Σ_a w_a τ_a / Σ_a w_a with `w_a = N1_a T1_a`.
    pub estimate: f64,
    /// Per-cohort fits, sorted by adoption period.
    pub cohorts: Vec<CohortFit>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Update {
    /// Estimate weights from the default (uniform) start.
    Fresh,
    /// Re-estimate, starting from the prior fit's weights (R placebo/bootstrap).
    Warm,
    /// Keep the prior fit's weights (R jackknife).
    Fixed,
}

/// Frank–Wolfe on `min_{x ∈ simplex} ‖A x − b‖² / m + ζ² ‖x‖²` with `A` an `m × k` column-major
/// buffer (R `sc.weight.fw` after centring): the same iterates, steps and stopping rule as R,
/// but every quantity the step needs (`A'r`, `b'r`, `r'r` with `r = Ax − b`) is updated from
/// the Gram matrix `A'A` in `O(k)` per iteration instead of `O(mk)`.
#[allow(clippy::too_many_arguments)] // a numerical kernel: the R argument list
fn fw(
    a: &[f64],
    m: usize,
    k: usize,
    b: &[f64],
    zeta: f64,
    mut x: Vec<f64>,
    min_decrease: f64,
    max_iter: usize,
) -> Vec<f64> {
    let eta = m as f64 * zeta * zeta;
    let col = |j: usize| &a[j * m..(j + 1) * m];
    let dot = |u: &[f64], v: &[f64]| u.iter().zip(v).map(|(p, q)| p * q).sum::<f64>();
    // Gram matrix G = A'A (column-major k × k), A'b and b'b.
    let mut gram = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..=i {
            let v = dot(col(i), col(j));
            gram[i * k + j] = v;
            gram[j * k + i] = v;
        }
    }
    let atb: Vec<f64> = (0..k).map(|j| dot(col(j), b)).collect();
    let bb = dot(b, b);
    // r = Ax − b and its summaries.
    let mut r: Vec<f64> = b.iter().map(|v| -v).collect();
    for (j, &xj) in x.iter().enumerate() {
        if xj != 0.0 {
            for (ri, c) in r.iter_mut().zip(col(j)) {
                *ri += xj * c;
            }
        }
    }
    let mut g: Vec<f64> = (0..k).map(|j| dot(col(j), &r)).collect(); // A'r
    let mut rb = dot(&r, b);
    let mut rr = dot(&r, &r);
    let mut xx: f64 = x.iter().map(|v| v * v).sum();
    let md2 = min_decrease * min_decrease;
    let (mut prev, mut cur) = (f64::NAN, f64::NAN);
    let mut t = 0;
    while t < max_iter && (t < 2 || prev - cur > md2) {
        t += 1;
        let mut best = f64::INFINITY;
        let mut bi = 0;
        for j in 0..k {
            let h = g[j] + eta * x[j];
            if h < best {
                best = h;
                bi = j;
            }
        }
        // Exact by design: a vertex weight of exactly 1 means the step did not move.
        #[allow(clippy::float_cmp)]
        let moved = !(x[bi] == 1.0 && xx == 1.0);
        if moved {
            // d_err = A_i − Ax = (A_i − b) − r.
            let ai_r = g[bi] - rb; // (A_i − b)·r
            let ai_ai = gram[bi * k + bi] - 2.0 * atb[bi] + bb; // ‖A_i − b‖²
            let derr_r = ai_r - rr;
            let derr2 = ai_ai - 2.0 * ai_r + rr;
            // d = e_i − x: x·d = x_i − ‖x‖², ‖d‖² = ‖x‖² − 2 x_i + 1.
            let xd = x[bi] - xx;
            let dd = xx - 2.0 * x[bi] + 1.0;
            let num = -derr_r - eta * xd;
            let den = derr2 + eta * dd;
            let step = if den > 0.0 {
                (num / den).clamp(0.0, 1.0)
            } else {
                0.0
            };
            if step > 0.0 {
                let s1 = 1.0 - step;
                rr = s1 * s1 * rr + 2.0 * step * s1 * ai_r + step * step * ai_ai;
                rb = s1 * rb + step * (atb[bi] - bb);
                let gi = &gram[bi * k..(bi + 1) * k];
                for j in 0..k {
                    g[j] = s1 * g[j] + step * (gi[j] - atb[j]);
                }
                xx = s1 * s1 * xx + 2.0 * step * s1 * x[bi] + step * step;
                for v in x.iter_mut() {
                    *v *= s1;
                }
                x[bi] += step;
            }
        }
        let val = zeta * zeta * xx + rr.max(0.0) / m as f64;
        prev = cur;
        cur = val;
    }
    x
}

/// R `sc.weight.fw` with optional column centring (the intercept) on an `m × (k+1)` matrix
/// given as `k+1` columns: the first `k` are the regressors, the last the target.
fn sc_weight_fw(
    cols: &mut [Vec<f64>],
    zeta: f64,
    intercept: bool,
    init: Vec<f64>,
    min_decrease: f64,
    max_iter: usize,
) -> Vec<f64> {
    let k = cols.len() - 1;
    let m = cols[0].len();
    if intercept {
        for c in cols.iter_mut() {
            let mean = c.iter().sum::<f64>() / m as f64;
            c.iter_mut().for_each(|v| *v -= mean);
        }
    }
    let mut a = Vec::with_capacity(m * k);
    for c in &cols[..k] {
        a.extend_from_slice(c);
    }
    fw(&a, m, k, &cols[k], zeta, init, min_decrease, max_iter)
}

fn sparsify(v: &[f64]) -> Vec<f64> {
    let mx = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = v
        .iter()
        .map(|&x| if x <= mx / 4.0 { 0.0 } else { x })
        .collect();
    sum_normalize(w)
}

fn sum_normalize(v: Vec<f64>) -> Vec<f64> {
    let s: f64 = v.iter().sum();
    if s != 0.0 {
        v.into_iter().map(|x| x / s).collect()
    } else {
        let n = v.len() as f64;
        vec![1.0 / n; v.len()]
    }
}

fn two_stage(
    cols: &[Vec<f64>],
    zeta: f64,
    intercept: bool,
    init: Vec<f64>,
    md: f64,
    opts: &SdidOptions,
) -> Vec<f64> {
    let mut c1 = cols.to_vec();
    let first = sc_weight_fw(
        &mut c1,
        zeta,
        intercept,
        init,
        md,
        opts.max_iter_pre_sparsify,
    );
    if !opts.sparsify {
        return first;
    }
    let mut c2 = cols.to_vec();
    sc_weight_fw(
        &mut c2,
        zeta,
        intercept,
        sparsify(&first),
        md,
        opts.max_iter,
    )
}

/// σ̂: sample sd of the first differences of the control pre-period outcomes.
fn noise_level(y: &DMatrix<f64>, controls: &[usize], t0: usize) -> Result<f64> {
    let mut d = Vec::with_capacity(controls.len() * t0.saturating_sub(1));
    for &r in controls {
        for t in 1..t0 {
            d.push(y[(r, t)] - y[(r, t - 1)]);
        }
    }
    if d.len() < 2 {
        return Err(SynthError::InsufficientData(format!(
            "the noise level needs at least 2 first differences of control pre-period outcomes; have {} (controls {}, pre-periods {t0})",
            d.len(),
            controls.len()
        )));
    }
    let n = d.len() as f64;
    let mean = d.iter().sum::<f64>() / n;
    Ok((d.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0)).sqrt())
}

/// Fits one cohort on the given rows (controls, treated) of `y` with `T0 = start`.
fn fit_cohort(
    y: &DMatrix<f64>,
    controls: &[usize],
    treated: &[usize],
    start: usize,
    opts: &SdidOptions,
    prior: Option<&CohortFit>,
    update: Update,
) -> Result<CohortFit> {
    let t = y.ncols();
    let (n0, n1, t0, t1) = (controls.len(), treated.len(), start, t - start);
    if n0 == 0 || n1 == 0 || t0 == 0 || t1 == 0 {
        return Err(SynthError::InsufficientData(format!(
            "a cohort needs controls, treated units, pre- and post-periods; have N0 = {n0}, N1 = {n1}, T0 = {t0}, T1 = {t1}"
        )));
    }
    let (noise, zeta_omega, zeta_lambda) = match prior {
        Some(p) => (p.noise_level, p.zeta_omega, p.zeta_lambda),
        None => {
            let noise = noise_level(y, controls, t0)?;
            let eta_omega = opts.eta_omega.unwrap_or(match opts.method {
                SdidMethod::Sc => 1e-6,
                _ => ((n1 * t1) as f64).powf(0.25),
            });
            (noise, eta_omega * noise, opts.eta_lambda * noise)
        }
    };
    let md = opts.min_decrease_factor * noise;
    // Prior weights mapped onto these rows (R: sum_normalize(weights$omega[ind])).
    let prior_omega = prior.map(|p| {
        let map: HashMap<usize, f64> = p
            .controls
            .iter()
            .cloned()
            .zip(p.omega.iter().cloned())
            .collect();
        sum_normalize(
            controls
                .iter()
                .map(|r| *map.get(r).unwrap_or(&0.0))
                .collect(),
        )
    });
    let prior_lambda = prior.map(|p| p.lambda.clone());
    let uniform_l = vec![1.0 / t0 as f64; t0];
    let uniform_o = vec![1.0 / n0 as f64; n0];
    let tr_mean = |c: usize| treated.iter().map(|&r| y[(r, c)]).sum::<f64>() / n1 as f64;
    let post_mean = |r: usize| (t0..t).map(|c| y[(r, c)]).sum::<f64>() / t1 as f64;

    let lambda = match opts.method {
        SdidMethod::Did => uniform_l,
        SdidMethod::Sc => vec![0.0; t0],
        SdidMethod::Sdid => match update {
            Update::Fixed => prior_lambda.unwrap_or(uniform_l),
            _ => {
                // Columns: pre-periods over controls, then the control post-period means.
                let mut cols: Vec<Vec<f64>> = (0..t0)
                    .map(|c| controls.iter().map(|&r| y[(r, c)]).collect())
                    .collect();
                cols.push(controls.iter().map(|&r| post_mean(r)).collect());
                let init = if update == Update::Warm {
                    prior_lambda.unwrap_or(uniform_l)
                } else {
                    uniform_l
                };
                two_stage(&cols, zeta_lambda, true, init, md, opts)
            }
        },
    };
    let omega = match opts.method {
        SdidMethod::Did => uniform_o,
        _ => match update {
            Update::Fixed => prior_omega.unwrap_or(uniform_o),
            _ => {
                // Columns: controls over pre-periods, then the treated pre-period mean path.
                let mut cols: Vec<Vec<f64>> = controls
                    .iter()
                    .map(|&r| (0..t0).map(|c| y[(r, c)]).collect())
                    .collect();
                cols.push((0..t0).map(tr_mean).collect());
                let init = if update == Update::Warm {
                    prior_omega.unwrap_or(uniform_o)
                } else {
                    uniform_o
                };
                let intercept = opts.method == SdidMethod::Sdid;
                two_stage(&cols, zeta_omega, intercept, init, md, opts)
            }
        },
    };
    // τ = (−ω, 1/N1)ᵀ Y (−λ, 1/T1).
    let row_contrast = |r: usize| -> f64 {
        let pre: f64 = (0..t0).map(|c| lambda[c] * y[(r, c)]).sum();
        post_mean(r) - pre
    };
    let treated_part: f64 = treated.iter().map(|&r| row_contrast(r)).sum::<f64>() / n1 as f64;
    let control_part: f64 = controls
        .iter()
        .zip(&omega)
        .map(|(&r, w)| w * row_contrast(r))
        .sum();
    Ok(CohortFit {
        start,
        controls: controls.to_vec(),
        treated: treated.to_vec(),
        omega,
        lambda,
        estimate: treated_part - control_part,
        weight: (n1 * t1) as f64,
        noise_level: noise,
        zeta_omega,
        zeta_lambda,
    })
}

/// Fits all cohorts found among `treated` (pairs of panel row and adoption period index).
fn fit_rows(
    y: &DMatrix<f64>,
    controls: &[usize],
    treated: &[(usize, usize)],
    opts: &SdidOptions,
    prior: Option<&SdidFit>,
    update: Update,
) -> Result<SdidFit> {
    let mut starts: Vec<usize> = treated.iter().map(|p| p.1).collect();
    starts.sort_unstable();
    starts.dedup();
    let mut cohorts = Vec::with_capacity(starts.len());
    for s in starts {
        let rows: Vec<usize> = treated.iter().filter(|p| p.1 == s).map(|p| p.0).collect();
        let pc = prior.and_then(|p| p.cohorts.iter().find(|c| c.start == s));
        cohorts.push(fit_cohort(y, controls, &rows, s, opts, pc, update)?);
    }
    let wsum: f64 = cohorts.iter().map(|c| c.weight).sum();
    let estimate = cohorts.iter().map(|c| c.weight * c.estimate).sum::<f64>() / wsum;
    Ok(SdidFit {
        method: opts.method,
        estimate,
        cohorts,
    })
}

fn treated_pairs(panel: &SynthPanel) -> Vec<(usize, usize)> {
    panel
        .adoption
        .iter()
        .enumerate()
        .filter_map(|(i, a)| a.map(|s| (i, s)))
        .collect()
}

fn control_rows(panel: &SynthPanel) -> Vec<usize> {
    (0..panel.units.len())
        .filter(|&i| panel.adoption[i].is_none())
        .collect()
}

/// Fits SDID / SC / DiD on a panel. With one adoption period this is exactly R
/// `synthdid_estimate` / `sc_estimate` / `did_estimate`; with several, cohort fits against the
/// never-treated units are averaged with weights `N1_a · T1_a`.
///
/// ```
/// use causalkit_synth::panel::SynthPanel;
/// use causalkit_synth::sdid::{sdid, SdidMethod, SdidOptions};
/// use nalgebra::DMatrix;
/// // 4 controls and 1 treated unit over 5 periods, treated from period 3 on.
/// let y = DMatrix::from_row_slice(5, 5, &[
///     1.0, 2.0, 3.0, 4.0, 5.0,
///     2.0, 3.0, 3.5, 5.0, 6.0,
///     0.0, 1.5, 2.0, 3.0, 4.5,
///     1.0, 1.0, 2.5, 3.5, 4.0,
///     1.0, 2.0, 3.0, 7.0, 8.0,
/// ]);
/// let names = (0..5).map(|i| format!("u{i}")).collect();
/// let panel = SynthPanel::from_matrix(y, names, (0..5).map(f64::from).collect(), 1, 3).unwrap();
/// let fit = sdid(&panel, &SdidOptions::new(SdidMethod::Did)).unwrap();
/// assert!((fit.estimate - 3.0).abs() < 1e-12); // (7.5 - 2) - mean of control differences 2.5
/// ```
pub fn sdid(panel: &SynthPanel, opts: &SdidOptions) -> Result<SdidFit> {
    check_opts(opts)?;
    let controls = control_rows(panel);
    let treated = treated_pairs(panel);
    if treated.is_empty() {
        return Err(SynthError::InsufficientData(
            "no treated unit-period in the panel".into(),
        ));
    }
    if controls.is_empty() {
        return Err(SynthError::InsufficientData(
            "no never-treated (control) unit in the panel".into(),
        ));
    }
    fit_rows(&panel.y, &controls, &treated, opts, None, Update::Fresh)
}

fn check_opts(opts: &SdidOptions) -> Result<()> {
    if opts.max_iter == 0 {
        return Err(SynthError::InvalidOption {
            name: "max_iter".into(),
            reason: "must be positive".into(),
        });
    }
    if !(opts.min_decrease_factor >= 0.0 && opts.min_decrease_factor.is_finite()) {
        return Err(SynthError::InvalidOption {
            name: "min_decrease_factor".into(),
            reason: "must be finite and >= 0".into(),
        });
    }
    if let Some(e) = opts.eta_omega {
        if !(e >= 0.0 && e.is_finite()) {
            return Err(SynthError::InvalidOption {
                name: "eta_omega".into(),
                reason: format!("{e} must be finite and >= 0"),
            });
        }
    }
    Ok(())
}

/// Variance estimator of [`sdid_inference`] (AAHIW 2021, Algorithms 2–4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeMethod {
    /// Placebo: controls are randomly assigned the treated units' adoption times (needs more
    /// controls than treated units). R `placebo_se`.
    Placebo,
    /// Unit bootstrap with re-estimated weights (needs > 1 treated unit). R `bootstrap_se`.
    Bootstrap,
    /// Leave-one-unit-out jackknife with fixed weights (needs > 1 treated unit). R
    /// `jackknife_se`.
    Jackknife,
}

impl SeMethod {
    /// Name ("placebo", "bootstrap", "jackknife").
    pub fn name(self) -> &'static str {
        match self {
            SeMethod::Placebo => "placebo",
            SeMethod::Bootstrap => "bootstrap",
            SeMethod::Jackknife => "jackknife",
        }
    }
}

/// Standard error and the replicate estimates it came from.
#[derive(Debug, Clone)]
pub struct SdidSe {
    /// Method used.
    pub method: SeMethod,
    /// Standard error: `sqrt((B−1)/B) · sd(replicates)` for placebo and bootstrap,
    /// `sqrt((n−1)²/n · var(u))` for the jackknife.
    pub se: f64,
    /// Replicate estimates (in replicate order; for the jackknife, leave-unit-`i`-out).
    pub replicates: Vec<f64>,
}

/// Computes the standard error of `fit` on `panel` by the chosen method; `replications` is
/// ignored by the jackknife. Replicate `b` uses
/// [`causalkit_stats::resample::replicate_rng`]`(seed, b)`, so results are reproducible and
/// independent of the number of threads.
pub fn sdid_se(
    panel: &SynthPanel,
    fit: &SdidFit,
    opts: &SdidOptions,
    method: SeMethod,
    replications: usize,
    seed: u64,
) -> Result<SdidSe> {
    sdid_se::se(
        panel,
        &Replicates { panel, fit, opts },
        method,
        replications,
        seed,
    )
}

/// The placebo standard error without Monte Carlo error: every assignment of pseudo-treated
/// controls is evaluated once, and the SE is the population standard deviation of the
/// replicates (each assignment equally likely).
///
/// R `placebo_se` (Arkhangelsky, Athey, Hirshberg, Imbens & Wager 2021, AER, Algorithm 4)
/// draws `B` random permutations of the `N0` controls and reports
/// `sqrt((B−1)/B) · sd(replicates)`; a replicate depends only on which controls are
/// pseudo-treated (and, under staggered adoption, which treated unit's adoption period each
/// takes), so as `B` grows that converges to the value computed here. In a block design there
/// are `C(N0, N1)` assignments (38 for Prop 99); under staggered adoption the order matters and
/// there are `N0!/(N0−N1)!`. With 200 random draws the SE of Prop 99's SDID still varies by
/// about ±10% from seed to seed (the replicates are heavy-tailed); enumerating removes that
/// noise at the cost of one fit per assignment. Refused with
/// [`SynthError::InvalidOption`] when there are more than `max_assignments` assignments.
///
/// Replicates are in lexicographic order of the pseudo-treated control rows (in panel order);
/// the numbers do not depend on the thread count.
pub fn placebo_se_exact(
    panel: &SynthPanel,
    fit: &SdidFit,
    opts: &SdidOptions,
    max_assignments: usize,
) -> Result<SdidSe> {
    sdid_se::placebo_se_exact(panel, &Replicates { panel, fit, opts }, max_assignments)
}

/// The replicates of a fit without covariates, for the standard-error driver.
struct Replicates<'a> {
    panel: &'a SynthPanel,
    fit: &'a SdidFit,
    opts: &'a SdidOptions,
}

impl PseudoPanelFit for Replicates<'_> {
    fn cohorts(&self) -> &[CohortFit] {
        &self.fit.cohorts
    }

    fn placebo(&self, perm: &[usize]) -> Result<f64> {
        placebo_replicate(self.panel, self.fit, self.opts, perm)
    }

    fn bootstrap(&self, rows: &[usize]) -> Result<f64> {
        bootstrap_replicate(self.panel, self.fit, self.opts, rows)
    }

    /// Leave unit `drop` out with the fit's weights fixed (R `jackknife_se`).
    fn jackknife(&self, drop: usize) -> Result<f64> {
        let c: Vec<usize> = control_rows(self.panel)
            .into_iter()
            .filter(|&i| i != drop)
            .collect();
        let t: Vec<(usize, usize)> = treated_pairs(self.panel)
            .into_iter()
            .filter(|p| p.0 != drop)
            .collect();
        fit_rows(
            &self.panel.y,
            &c,
            &t,
            self.opts,
            Some(self.fit),
            Update::Fixed,
        )
        .map(|f| f.estimate)
    }
}

/// How replicates re-estimate weights: warm-started from the fit's weights in a block design
/// (R `synthdid`), from scratch per cohort under staggered adoption (Stata `sdid`,
/// synthdid-py `staggered`).
fn replicate_update(fit: &SdidFit) -> Update {
    if fit.cohorts.len() == 1 {
        Update::Warm
    } else {
        Update::Fresh
    }
}

/// One placebo replicate (AAHIW 2021, Algorithm 4; R `placebo_se`'s `theta`): `perm` is a
/// permutation of the panel's control rows; its last `N1` entries become pseudo-treated units
/// (taking the treated units' adoption periods, in panel order) and the others stay controls.
/// Unit weights are restricted to the remaining controls and renormalised as starting values.
pub fn placebo_replicate(
    panel: &SynthPanel,
    fit: &SdidFit,
    opts: &SdidOptions,
    perm: &[usize],
) -> Result<f64> {
    let treated = treated_pairs(panel);
    let n1 = treated.len();
    if perm.len() <= n1
        || perm
            .iter()
            .any(|&r| r >= panel.adoption.len() || panel.adoption[r].is_some())
    {
        return Err(SynthError::InvalidOption {
            name: "perm".into(),
            reason: format!("must list more than {n1} control rows"),
        });
    }
    let (pc, pt) = perm.split_at(perm.len() - n1);
    let pseudo: Vec<(usize, usize)> = pt
        .iter()
        .zip(&treated)
        .map(|(&r, &(_, s))| (r, s))
        .collect();
    fit_rows(
        &panel.y,
        pc,
        &pseudo,
        opts,
        Some(fit),
        replicate_update(fit),
    )
    .map(|f| f.estimate)
}

/// One bootstrap replicate (AAHIW 2021, Algorithm 2; R `bootstrap_sample`'s `theta`) on the
/// panel rows `rows` (drawn with replacement; sorted here, controls keep their weights as
/// starting values). Needs at least one control and one treated row.
pub fn bootstrap_replicate(
    panel: &SynthPanel,
    fit: &SdidFit,
    opts: &SdidOptions,
    rows: &[usize],
) -> Result<f64> {
    let mut ind = rows.to_vec();
    ind.sort_unstable();
    if ind.iter().any(|&r| r >= panel.adoption.len()) {
        return Err(SynthError::InvalidOption {
            name: "rows".into(),
            reason: "row index out of range".into(),
        });
    }
    let c: Vec<usize> = ind
        .iter()
        .cloned()
        .filter(|&i| panel.adoption[i].is_none())
        .collect();
    let t: Vec<(usize, usize)> = ind
        .iter()
        .filter_map(|&i| panel.adoption[i].map(|s| (i, s)))
        .collect();
    if c.is_empty() || t.is_empty() {
        return Err(SynthError::InsufficientData(
            "a bootstrap sample needs a control and a treated unit".into(),
        ));
    }
    fit_rows(&panel.y, &c, &t, opts, Some(fit), replicate_update(fit)).map(|f| f.estimate)
}

/// A fit with its inference, ready to report.
#[derive(Debug, Clone)]
pub struct SdidReport {
    /// The point fit.
    pub fit: SdidFit,
    /// The standard error, if requested.
    pub se: Option<SdidSe>,
    /// Confidence level complement α (normal-theory interval `τ ± z_{1−α/2} SE`, as R
    /// `synthdid`'s `confint`).
    pub alpha: f64,
    /// Unit names (panel rows).
    pub units: Vec<String>,
    /// Period values (panel columns).
    pub periods: Vec<f64>,
}

/// Fits and, when `se` is given, computes the SE; the result reports unit and time weights.
pub fn sdid_inference(
    panel: &SynthPanel,
    opts: &SdidOptions,
    se: Option<(SeMethod, usize, u64)>,
    alpha: f64,
) -> Result<SdidReport> {
    causalkit_stats::limits::check_alpha_level("alpha", alpha)?;
    let fit = sdid(panel, opts)?;
    let se = match se {
        Some((m, b, seed)) => Some(sdid_se(panel, &fit, opts, m, b, seed)?),
        None => None,
    };
    Ok(SdidReport {
        fit,
        se,
        alpha,
        units: panel.units.clone(),
        periods: panel.periods.clone(),
    })
}

impl Report for SdidReport {
    fn result(&self) -> EstimationResult {
        let method = match self.fit.method {
            SdidMethod::Sdid => "synthetic difference-in-differences (Arkhangelsky et al. 2021)",
            SdidMethod::Sc => "synthetic control (synthdid sc_estimate)",
            SdidMethod::Did => "difference-in-differences (synthdid did_estimate)",
        };
        let mut res = EstimationResult::new(method, "ATT (average over treated unit-periods)");
        let mut eff = causalkit_stats::Effect::point("ATT", self.fit.estimate)
            .with_key(EffectKey::kind(EffectKind::Att));
        if let Some(se) = &self.se {
            let z = normal_quantile(1.0 - self.alpha / 2.0).unwrap_or(f64::NAN);
            eff.std_error = Some(se.se);
            eff.ci_low = Some(self.fit.estimate - z * se.se);
            eff.ci_high = Some(self.fit.estimate + z * se.se);
            eff.p_value = Some(if se.se > 0.0 {
                2.0 * normal_sf((self.fit.estimate / se.se).abs())
            } else {
                f64::NAN
            });
            res.diagnostics
                .insert("se_method".into(), se.method.name().into());
            res.diagnostics
                .insert("replications".into(), (se.replicates.len() as u64).into());
        }
        res.effects.push(eff);
        let single = self.fit.cohorts.len() == 1;
        for c in &self.fit.cohorts {
            if !single {
                let mut key = EffectKey::kind(EffectKind::Group);
                let start = self.periods[c.start];
                if start.fract() == 0.0 && start.abs() < 9.0e15 {
                    key = key.group(start as i64);
                }
                res.effects.push(
                    causalkit_stats::Effect::point(
                        format!("cohort {}", period_label(self.periods[c.start])),
                        c.estimate,
                    )
                    .with_key(key),
                );
            }
        }
        let weights_of = |c: &CohortFit| -> (Value, Value) {
            let mut uw = Map::new();
            for (&r, &w) in c.controls.iter().zip(&c.omega) {
                uw.insert(self.units[r].clone(), w.into());
            }
            let mut tw = Map::new();
            for (t, &w) in c.lambda.iter().enumerate() {
                tw.insert(period_label(self.periods[t]), w.into());
            }
            (Value::Object(uw), Value::Object(tw))
        };
        let c0 = &self.fit.cohorts[0];
        if single {
            let (uw, tw) = weights_of(c0);
            res.diagnostics.insert("unit_weights".into(), uw);
            if self.fit.method != SdidMethod::Sc {
                res.diagnostics.insert("time_weights".into(), tw);
            }
            res.diagnostics
                .insert("effective_controls".into(), c0.effective_controls().into());
            if self.fit.method != SdidMethod::Sc {
                res.diagnostics.insert(
                    "effective_pre_periods".into(),
                    c0.effective_periods().into(),
                );
            }
            res.diagnostics
                .insert("noise_level".into(), c0.noise_level.into());
            res.diagnostics
                .insert("zeta_omega".into(), c0.zeta_omega.into());
            res.diagnostics
                .insert("zeta_lambda".into(), c0.zeta_lambda.into());
            res.diagnostics
                .insert("n_controls".into(), (c0.controls.len() as u64).into());
            res.diagnostics
                .insert("n_treated".into(), (c0.treated.len() as u64).into());
            res.diagnostics
                .insert("pre_periods".into(), (c0.start as u64).into());
            res.diagnostics.insert(
                "post_periods".into(),
                ((self.periods.len() - c0.start) as u64).into(),
            );
        } else {
            let cohorts: Vec<Value> = self
                .fit
                .cohorts
                .iter()
                .map(|c| {
                    let (uw, tw) = weights_of(c);
                    let mut m = Map::new();
                    m.insert("start".into(), period_label(self.periods[c.start]).into());
                    m.insert("estimate".into(), c.estimate.into());
                    m.insert("weight".into(), c.weight.into());
                    m.insert("n_treated".into(), (c.treated.len() as u64).into());
                    m.insert("effective_controls".into(), c.effective_controls().into());
                    if self.fit.method != SdidMethod::Sc {
                        m.insert("effective_pre_periods".into(), c.effective_periods().into());
                        m.insert("time_weights".into(), tw);
                    }
                    m.insert("unit_weights".into(), uw);
                    Value::Object(m)
                })
                .collect();
            res.diagnostics
                .insert("cohorts".into(), Value::Array(cohorts));
        }
        if self.se.is_none() {
            res.warnings.push("no standard error requested".into());
        }
        res
    }
}

/// In-space placebo paths for a block design: the real gap path first, then, for every
/// control `j`, the gap path of a fit with `j` as the only treated unit and the other controls
/// as donors (same method; weights re-estimated from scratch). For plots and the RMSPE-ratio
/// ranking; the standard error comes from [`sdid_se`].
pub fn in_space_placebos(
    panel: &SynthPanel,
    fit: &SdidFit,
    opts: &SdidOptions,
) -> Result<Vec<GapPath>> {
    if fit.cohorts.len() != 1 {
        return Err(SynthError::InvalidOption {
            name: "placebo paths".into(),
            reason: "in-space placebo paths are defined for one adoption period only".into(),
        });
    }
    let c = &fit.cohorts[0];
    let (tr, _, adj) = c.paths(&panel.y);
    let label = if c.treated.len() == 1 {
        panel.units[c.treated[0]].clone()
    } else {
        "treated (mean)".into()
    };
    let mut out = vec![GapPath::new(label, &tr, &adj, c.start)];
    let placebos = rotate(&control_rows(panel), |j, others| {
        let f = fit_cohort(&panel.y, &others, &[j], c.start, opts, None, Update::Fresh)?;
        let (t, _, a) = f.paths(&panel.y);
        Ok::<_, SynthError>(GapPath::new(panel.units[j].clone(), &t, &a, c.start))
    })?;
    out.extend(placebos);
    Ok(out)
}

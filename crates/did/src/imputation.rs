//! Borusyak, Jaravel & Spiess (2024) imputation estimator.
//!
//! Borusyak, K., Jaravel, X. & Spiess, J. (2024), "Revisiting event-study designs: robust and
//! efficient estimation", *Review of Economic Studies* 91(6), 3253–3285; Stata
//! `did_imputation`.
//!
//! 1. On the untreated rows `Ω₀` (never-treated, and not-yet-treated `t < G_i − K`), fit
//!    `y_it = α_i + λ_t + X_it β + ε_it` by (weighted) least squares.
//! 2. Impute `Ŷ_it(0) = α̂_i + λ̂_t + X_it β̂` on the treated rows `Ω₁` and set
//!    `τ̂_it = Y_it − Ŷ_it(0)`.
//! 3. Aggregate `τ̂_w = Σ_{Ω₁} w_it τ̂_it` with weights proportional to the row weights: over
//!    all treated rows (ATT) and by relative period `e = t − G_i` (event-study horizons).
//!
//! # Standard errors (BJS Theorem 3, conservative)
//! `τ̂_w = Σ_it v_it Y_it` is linear in the outcomes, with `v_it = w_it` on `Ω₁` and
//! `v₀ = −Ω Z₀ (Z₀'ΩZ₀)⁻¹ Z₁'w₁` on `Ω₀` (`Z` the unit and period dummies and covariates,
//! `Ω` the row weights). The variance estimate is
//! `σ̂² = Σ_c (Σ_{it∈c} v_it ε̃_it)²` over clusters `c`, where `ε̃_it` are the first-step
//! residuals on `Ω₀` and `τ̂_it − τ̄_{g,t}` on `Ω₁`, with
//! `τ̄_{g,t} = Σ v_it² τ̂_it / Σ v_it²` over the cohort × period cell (did_imputation's default
//! `avgeffectsby`). No small-sample factor; normal inference. The system
//! `(Z₀'ΩZ₀) c = a` for the fixed effects is solved by Gauss–Seidel sweeps (the same
//! alternating projections that absorb fixed effects), so memory stays O(rows).
//!
//! Identification: every treated unit needs an untreated row (a cohort treated in the first
//! period is an error, [`DidError::NoPrePeriod`]), and every period with treated rows
//! needs an untreated row ([`DidError::NoControlInPeriod`]).
//!
//! # Pre-trend test (BJS Test 1)
//! [`imputation_pretrend`] is BJS (2024) section 4.4, Test 1 (`did_imputation`'s
//! `pretrends(K)`): on the untreated rows only, regress
//! `y_it = α_i + λ_t + X_it β + Σ_{h=1..K} γ_h 1{t − G_i = −h − A} + ε_it` (`A` the
//! anticipation) and test `γ = 0` jointly with the Wald `F = γ̂'V̂⁻¹γ̂ / K` against
//! `F(K, G − 1)`, `V̂` cluster-robust (CRV1, clustered by the unit unless told otherwise).
//! As `reghdfe` (which `did_imputation` calls) and pyfixest, singleton fixed-effect groups
//! (e.g. a unit with a single untreated row) are dropped first; they fit exactly and only
//! change the small-sample factor and the cluster count. Because the test uses only
//! untreated rows, it is not contaminated by treatment-effect heterogeneity, unlike TWFE
//! event-study leads.
//!
//! # Clustering
//! [`imputation`] clusters by one factor (default: the unit), as BJS and `did_imputation`.
//! [`imputation_vcov`] also takes two factors `A`, `B`: the two-way variance of Cameron,
//! Gelbach & Miller (2011) applied to the same scores `s_it = v_it ε̃_it`,
//! `σ̂² = Σ_{a∈A}(Σ s)² + Σ_{b∈B}(Σ s)² − Σ_{(a,b)}(Σ s)²` (an extension: BJS derive the
//! one-way case; an estimate whose two-way variance is negative gets no standard error and
//! a warning). The pre-trend test, an ordinary
//! regression, also accepts two-way clustering.

use crate::error::{DidError, Result};
use crate::panel::StaggeredPanel;
use causalkit_stats::{
    dist, DemeanOptions, Effect, EffectKey, EffectKind, EstimationResult, Factor, FixedEffects,
    LinearModel, Report, StatsError, Vcov,
};
use nalgebra::{DMatrix, DVector};
use std::collections::BTreeMap;

/// One imputation estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct ImputationEstimate {
    /// `"ATT"` or `"e=h"`.
    pub label: String,
    /// Relative period (None for the overall ATT).
    pub event_time: Option<i64>,
    /// Estimate.
    pub estimate: f64,
    /// Conservative standard error (BJS Theorem 3). `None` only when a two-way clustered
    /// variance is negative (a warning names the estimate); never `None` one-way.
    pub std_error: Option<f64>,
    /// Lower confidence limit (normal).
    pub ci_low: Option<f64>,
    /// Upper confidence limit (normal).
    pub ci_high: Option<f64>,
    /// Two-sided p-value (normal).
    pub p_value: Option<f64>,
    /// Treated rows averaged.
    pub n_treated: usize,
}

/// A fitted imputation estimator.
#[derive(Debug, Clone)]
pub struct ImputationFit {
    /// Overall ATT.
    pub att: ImputationEstimate,
    /// Effects by relative period `e ≥ −K`.
    pub by_event_time: Vec<ImputationEstimate>,
    /// Covariate coefficients of the first step.
    pub beta: Vec<(String, f64)>,
    /// Untreated rows used in the first step.
    pub n_untreated: usize,
    /// Treated rows.
    pub n_treated: usize,
    /// Clusters (the smaller count with two-way clustering).
    pub n_clusters: usize,
    /// Cluster variable name (both names and `"two-way"` with two-way clustering).
    pub cluster_name: String,
    /// Gauss–Seidel sweeps of the first-step fixed effects.
    pub sweeps: usize,
    /// Warnings.
    pub warnings: Vec<String>,
    /// BJS Test 1 pre-trend test, when requested (see [`ImputationFit::with_pretrend`]).
    pub pretrend: Option<ImputationPretrend>,
}

impl ImputationFit {
    /// Attaches a pre-trend test (from [`imputation_pretrend`]) so that it is reported with
    /// the estimates: its leads as effects `pre e=-h` and its Wald test as the diagnostic
    /// `pretrend_test`.
    pub fn with_pretrend(mut self, test: ImputationPretrend) -> Self {
        self.pretrend = Some(test);
        self
    }
}

/// One lead coefficient `γ_h` of the imputation pre-trend test.
#[derive(Debug, Clone, PartialEq)]
pub struct PretrendLead {
    /// Relative period `t − G_i` of the lead (`−h − anticipation`).
    pub event_time: i64,
    /// Estimate, standard error (cluster-robust), t, p and interval (t with `G − 1` df).
    pub row: causalkit_stats::ols::CoefRow,
    /// Untreated rows with this relative period used in the regression.
    pub n_rows: usize,
}

/// Borusyak, Jaravel & Spiess (2024) Test 1: the joint Wald test of `K` leads in a
/// regression on the untreated rows (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq)]
pub struct ImputationPretrend {
    /// The lead coefficients, from `e = −1 − A` backwards.
    pub leads: Vec<PretrendLead>,
    /// Wald statistic `F = γ̂'V̂⁻¹γ̂ / q`.
    pub statistic: f64,
    /// Numerator degrees of freedom `q` (number of leads estimated).
    pub df_num: usize,
    /// Denominator degrees of freedom (`G − 1`; the smaller `G − 1` with two-way clusters).
    pub df_den: f64,
    /// p-value from `F(q, df_den)`.
    pub p_value: f64,
    /// Rows of the regression (untreated rows less singletons).
    pub n_obs: usize,
    /// Singleton rows dropped (their unit or period has no other untreated row).
    pub n_singletons: usize,
    /// The covariance estimator, e.g. `"CRV1 by countyreal, G = 480"`.
    pub vcov: String,
    /// Warnings (leads without rows, negative two-way variances).
    pub warnings: Vec<String>,
}

/// Borusyak, Jaravel & Spiess (2024, *Review of Economic Studies* 91(6), sec. 4.4, Test 1)
/// pre-trend test of the imputation estimator, as Stata `did_imputation`'s `pretrends(K)`.
///
/// On the untreated rows (never-treated rows and rows with `t < G_i − anticipation`), with
/// singleton fixed-effect groups dropped, regresses the outcome on unit and period effects,
/// the panel's covariates and `leads` dummies `1{t − G_i = −h − anticipation}`,
/// `h = 1..=leads`, with the panel's weights, and tests the leads jointly with the
/// cluster-robust (CRV1) Wald F test. `vcov` defaults to clustering by the unit; cluster
/// factors (one- or two-way) are given over all panel rows and are restricted to the
/// untreated rows here. A lead with no (non-singleton) row is left out with a warning.
///
/// Errors: `leads == 0` or no lead with rows ([`DidError::InvalidArgument`]), a lead
/// collinear with the fixed effects, or a singular lead covariance.
pub fn imputation_pretrend(
    panel: &StaggeredPanel,
    leads: usize,
    vcov: Option<&Vcov>,
    alpha: f64,
) -> Result<ImputationPretrend> {
    panel.validate()?;
    panel.check_design()?;
    causalkit_stats::limits::check_alpha_level("alpha", alpha)?;
    if leads == 0 {
        return Err(crate::error::invalid(
            "leads",
            "the pre-trend test needs at least one lead",
        ));
    }
    let n = panel.len();
    let unit = panel.unit.codes();
    let tf = panel.time_factor();
    let time = tf.codes();
    // Untreated rows, then drop singletons of the unit and period effects until none is left.
    let mut keep: Vec<bool> = (0..n).map(|i| !panel.is_treated(i)).collect();
    let n_untreated = keep.iter().filter(|k| **k).count();
    loop {
        let mut cu = vec![0usize; panel.unit.levels()];
        let mut ct = vec![0usize; tf.levels()];
        for i in (0..n).filter(|&i| keep[i]) {
            cu[unit[i] as usize] += 1;
            ct[time[i] as usize] += 1;
        }
        let mut changed = false;
        for i in 0..n {
            if keep[i] && (cu[unit[i] as usize] == 1 || ct[time[i] as usize] == 1) {
                keep[i] = false;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let rows: Vec<usize> = (0..n).filter(|&i| keep[i]).collect();
    let n_singletons = n_untreated - rows.len();
    let mut warnings = Vec::new();
    if n_singletons > 0 {
        warnings.push(format!(
            "pre-trend test: {n_singletons} singleton untreated row(s) dropped (a unit or period with a single untreated row), as reghdfe and pyfixest"
        ));
    }
    let ant = panel.anticipation;
    let mut lead_cols: Vec<(i64, Vec<f64>, usize)> = Vec::new();
    for h in 1..=leads as i64 {
        let e = -h - ant;
        let col: Vec<f64> = rows
            .iter()
            .map(|&i| f64::from(u8::from(panel.relative_time(i) == Some(e))))
            .collect();
        let count = col.iter().filter(|v| **v != 0.0).count();
        if count == 0 {
            warnings.push(format!(
                "pre-trend test: no untreated row at relative period {e}; that lead is left out"
            ));
        } else {
            lead_cols.push((e, col, count));
        }
    }
    if lead_cols.is_empty() {
        return Err(crate::error::invalid(
            "leads",
            format!("no untreated row at relative periods -1-{ant} .. -{leads}-{ant}"),
        ));
    }
    let sub = |f: &Factor| -> Factor {
        let codes: Vec<u32> = rows.iter().map(|&i| f.codes()[i]).collect();
        Factor::from_labels(f.name(), &codes)
    };
    let fe = FixedEffects::new(vec![sub(&panel.unit), sub(&tf)])?;
    let pick = |v: &[f64]| -> Vec<f64> { rows.iter().map(|&i| v[i]).collect() };
    let mut model = LinearModel::new(&panel.outcome_name, pick(&panel.outcome)).absorb(fe);
    let name = |e: i64| format!("pre e={e}");
    for (e, col, _) in &lead_cols {
        model = model.regressor(&name(*e), col.clone());
    }
    for (cname, c) in &panel.covariates {
        model = model.regressor(cname, pick(c));
    }
    if let Some(w) = &panel.weights {
        model = model.weights(pick(w));
    }
    let fit = match model.fit() {
        Ok(fit) => fit,
        Err(StatsError::Collinear { column, .. }) if column.starts_with("pre e=") => {
            return Err(crate::error::invalid(
                "leads",
                format!(
                    "lead `{column}` is collinear with the other leads and the unit and period effects (the {leads} leads cover every untreated row of the treated cohorts); use fewer leads"
                ),
            ))
        }
        Err(e) => return Err(e.into()),
    };
    let check = |f: &Factor| causalkit_stats::error::check_len(f.name(), f.len(), n);
    let v = match vcov {
        None => Vcov::Cluster(sub(&panel.unit)),
        Some(Vcov::Cluster(f)) => {
            check(f)?;
            Vcov::Cluster(sub(f))
        }
        Some(Vcov::TwoWayCluster(a, b)) => {
            check(a)?;
            check(b)?;
            Vcov::TwoWayCluster(sub(a), sub(b))
        }
        Some(other) => other.clone(),
    };
    let table = fit.inference(&v, alpha)?;
    warnings.extend(table.warnings().iter().cloned());
    let names: Vec<String> = lead_cols.iter().map(|(e, _, _)| name(*e)).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let (statistic, p_value) = table.wald_test(&refs)?;
    let vcov_label = fit.vcov(&v)?.label;
    Ok(ImputationPretrend {
        leads: lead_cols
            .iter()
            .map(|(e, _, count)| PretrendLead {
                event_time: *e,
                row: table.row(&name(*e)).expect("a lead regressor").clone(),
                n_rows: *count,
            })
            .collect(),
        statistic,
        df_num: refs.len(),
        df_den: table.df(),
        p_value,
        n_obs: rows.len(),
        n_singletons,
        vcov: vcov_label,
        warnings,
    })
}

struct FeSystem<'a> {
    unit: &'a [u32],
    time: &'a [u32],
    rows0: &'a [usize],
    omega: &'a [f64],
    nu: usize,
    nt: usize,
    wu: Vec<f64>,
    wt: Vec<f64>,
}

impl<'a> FeSystem<'a> {
    /// Solves `(D₀'ΩD₀) c = a` by Gauss–Seidel; returns `(c_unit, c_time, sweeps)`.
    fn solve(&self, a_unit: &[f64], a_time: &[f64]) -> Result<(Vec<f64>, Vec<f64>, usize)> {
        let mut cu = vec![0.0; self.nu];
        let mut ct = vec![0.0; self.nt];
        let scale = a_unit
            .iter()
            .chain(a_time)
            .fold(0.0f64, |m, v| m.max(v.abs()))
            .max(1e-300);
        let opts = DemeanOptions::default();
        for sweep in 1..=opts.max_iterations {
            let mut su = a_unit.to_vec();
            for &i in self.rows0 {
                su[self.unit[i] as usize] -= self.omega[i] * ct[self.time[i] as usize];
            }
            let mut change = 0.0f64;
            for u in 0..self.nu {
                if self.wu[u] > 0.0 {
                    let new = su[u] / self.wu[u];
                    change = change.max((new - cu[u]).abs());
                    cu[u] = new;
                }
            }
            let mut st = a_time.to_vec();
            for &i in self.rows0 {
                st[self.time[i] as usize] -= self.omega[i] * cu[self.unit[i] as usize];
            }
            for t in 0..self.nt {
                if self.wt[t] > 0.0 {
                    let new = st[t] / self.wt[t];
                    change = change.max((new - ct[t]).abs());
                    ct[t] = new;
                }
            }
            let mag = cu
                .iter()
                .chain(&ct)
                .fold(0.0f64, |m, v| m.max(v.abs()))
                .max(scale);
            if change <= 1e-13 * mag {
                return Ok((cu, ct, sweep));
            }
        }
        Err(StatsError::NotConverged {
            method: "imputation fixed effects (Gauss-Seidel)".into(),
            iterations: opts.max_iterations,
            tolerance: 1e-13,
            last_change: f64::NAN,
        }
        .into())
    }
}

/// Fits the Borusyak, Jaravel & Spiess (2024, *Review of Economic Studies* 91(6)) imputation
/// estimator with the conservative variance of their Theorem 3, clustering by `cluster`
/// (default: the unit). See the [module docs](self).
pub fn imputation(
    panel: &StaggeredPanel,
    cluster: Option<&Factor>,
    alpha: f64,
) -> Result<ImputationFit> {
    imputation_vcov(panel, cluster.cloned().map(Vcov::Cluster).as_ref(), alpha)
}

/// The imputation estimator (Borusyak, Jaravel & Spiess 2024) with a one-way
/// ([`Vcov::Cluster`]) or two-way ([`Vcov::TwoWayCluster`]) clustered Theorem 3 variance;
/// `None` clusters by the unit. Other variance estimators are an
/// [`DidError::InvalidArgument`] (the BJS variance is cluster-based). An estimate whose
/// two-way variance comes out negative has no standard error (`None`), with a warning.
pub fn imputation_vcov(
    panel: &StaggeredPanel,
    vcov: Option<&Vcov>,
    alpha: f64,
) -> Result<ImputationFit> {
    panel.validate()?;
    panel.check_design()?;
    causalkit_stats::limits::check_alpha_level("alpha", alpha)?;
    let n = panel.len();
    // (sign, factor) terms of the clustered variance.
    let terms: Vec<(f64, Factor)> = match vcov {
        None => vec![(1.0, panel.unit.clone())],
        Some(Vcov::Cluster(f)) => vec![(1.0, f.clone())],
        Some(Vcov::TwoWayCluster(a, b)) => {
            causalkit_stats::error::check_len(a.name(), a.len(), n)?;
            causalkit_stats::error::check_len(b.name(), b.len(), n)?;
            vec![(1.0, a.clone()), (1.0, b.clone()), (-1.0, a.interact(b)?)]
        }
        Some(other) => {
            return Err(crate::error::invalid(
                "vcov",
                format!(
                    "the imputation estimator's variance (BJS Theorem 3) is cluster-based; {} is not available — give one or two cluster factors",
                    other.label()
                ),
            ))
        }
    };
    for (_, f) in &terms {
        causalkit_stats::error::check_len(f.name(), f.len(), n)?;
    }
    let (cluster_name, n_clusters) = match vcov {
        Some(Vcov::TwoWayCluster(a, b)) => (
            format!(
                "{} (G = {}) and {} (G = {}), two-way",
                a.name(),
                a.levels(),
                b.name(),
                b.levels()
            ),
            a.levels().min(b.levels()),
        ),
        _ => (terms[0].1.name().to_string(), terms[0].1.levels()),
    };
    let unit = panel.unit.codes();
    let tf = panel.time_factor();
    let time = tf.codes();
    let periods = panel.periods();
    let (nu, nt) = (panel.unit.levels(), tf.levels());
    let treated: Vec<bool> = (0..n).map(|i| panel.is_treated(i)).collect();
    let rows0: Vec<usize> = (0..n).filter(|&i| !treated[i]).collect();
    let rows1: Vec<usize> = (0..n).filter(|&i| treated[i]).collect();
    let omega: Vec<f64> = panel.weights.clone().unwrap_or_else(|| vec![1.0; n]);
    let mut wu = vec![0.0; nu];
    let mut wt = vec![0.0; nt];
    for &i in &rows0 {
        wu[unit[i] as usize] += omega[i];
        wt[time[i] as usize] += omega[i];
    }
    for &i in &rows1 {
        if wu[unit[i] as usize] == 0.0 {
            let g = panel.cohort[i].expect("treated rows have a cohort");
            return Err(DidError::NoPrePeriod {
                cohort: g,
                first_period: periods[0],
            });
        }
        if wt[time[i] as usize] == 0.0 {
            return Err(DidError::NoControlInPeriod {
                period: panel.time[i],
            });
        }
    }
    // First step: covariates by FWL on the untreated rows, then the fixed effects.
    let k = panel.covariates.len();
    let mut beta = vec![0.0; k];
    let mut warnings = Vec::new();
    let mut xt0: Option<DMatrix<f64>> = None;
    let mut xtwx_inv: Option<DMatrix<f64>> = None;
    if k > 0 {
        let sub_u: Vec<u32> = rows0.iter().map(|&i| unit[i]).collect();
        let sub_t: Vec<u32> = rows0.iter().map(|&i| time[i]).collect();
        let fe = FixedEffects::new(vec![
            Factor::from_labels(panel.unit.name(), &sub_u),
            Factor::from_labels("time", &sub_t),
        ])?;
        let y0: Vec<f64> = rows0.iter().map(|&i| panel.outcome[i]).collect();
        let mut model = LinearModel::new(&panel.outcome_name, y0).absorb(fe.clone());
        for (name, c) in &panel.covariates {
            model = model.regressor(name, rows0.iter().map(|&i| c[i]).collect());
        }
        let w0: Vec<f64> = rows0.iter().map(|&i| omega[i]).collect();
        if panel.weights.is_some() {
            model = model.weights(w0.clone());
        }
        let fit = model.fit()?;
        beta = fit.coef().to_vec();
        let mut cols: Vec<Vec<f64>> = panel
            .covariates
            .iter()
            .map(|(_, c)| rows0.iter().map(|&i| c[i]).collect())
            .collect();
        fe.demean(&mut cols, Some(&w0), &DemeanOptions::default())?;
        let m = DMatrix::from_fn(rows0.len(), k, |r, j| cols[j][r]);
        let mw = DMatrix::from_fn(rows0.len(), k, |r, j| cols[j][r] * w0[r]);
        let xtwx = m.tr_mul(&mw);
        xtwx_inv = Some(xtwx.try_inverse().ok_or_else(|| StatsError::Collinear {
            column: panel.covariates[0].0.clone(),
            with: "the other covariates on the untreated rows".into(),
        })?);
        xt0 = Some(m);
    }
    let xb = |i: usize| -> f64 {
        panel
            .covariates
            .iter()
            .zip(&beta)
            .map(|((_, c), b)| c[i] * b)
            .sum()
    };
    let sys = FeSystem {
        unit,
        time,
        rows0: &rows0,
        omega: &omega,
        nu,
        nt,
        wu,
        wt,
    };
    let mut au = vec![0.0; nu];
    let mut at = vec![0.0; nt];
    for &i in &rows0 {
        let r = omega[i] * (panel.outcome[i] - xb(i));
        au[unit[i] as usize] += r;
        at[time[i] as usize] += r;
    }
    let (alpha_u, lambda_t, sweeps) = sys.solve(&au, &at)?;
    let fitted = |i: usize| alpha_u[unit[i] as usize] + lambda_t[time[i] as usize] + xb(i);
    let resid0: Vec<f64> = rows0
        .iter()
        .map(|&i| panel.outcome[i] - fitted(i))
        .collect();
    let tau: Vec<f64> = rows1
        .iter()
        .map(|&i| panel.outcome[i] - fitted(i))
        .collect();
    // One estimand: weights w1 (normalised) over rows1 (zero = excluded).
    let estimate =
        |label: String, event_time: Option<i64>, w1: Vec<f64>| -> Result<ImputationEstimate> {
            let total: f64 = w1.iter().sum();
            let w1: Vec<f64> = w1.iter().map(|w| w / total).collect();
            let est: f64 = w1.iter().zip(&tau).map(|(w, t)| w * t).sum();
            let mut au = vec![0.0; nu];
            let mut at = vec![0.0; nt];
            for (j, &i) in rows1.iter().enumerate() {
                au[unit[i] as usize] += w1[j];
                at[time[i] as usize] += w1[j];
            }
            let (cu, ct, _) = sys.solve(&au, &at)?;
            // u on untreated rows; v0 = -(Ω u + Ω X̃ (X̃'ΩX̃)⁻¹ (X1'w1 − X0'Ωu)).
            let u: Vec<f64> = rows0
                .iter()
                .map(|&i| cu[unit[i] as usize] + ct[time[i] as usize])
                .collect();
            let mut v0: Vec<f64> = rows0.iter().zip(&u).map(|(&i, u)| -omega[i] * u).collect();
            if let (Some(m), Some(inv)) = (&xt0, &xtwx_inv) {
                let mut d = DVector::zeros(k);
                for (j, (_, c)) in panel.covariates.iter().enumerate() {
                    let x1w: f64 = rows1.iter().zip(&w1).map(|(&i, w)| c[i] * w).sum();
                    let x0u: f64 = rows0
                        .iter()
                        .zip(&u)
                        .map(|(&i, u)| c[i] * omega[i] * u)
                        .sum();
                    d[j] = x1w - x0u;
                }
                let coef = inv * d;
                let adj = m * coef;
                for (r, &i) in rows0.iter().enumerate() {
                    v0[r] -= omega[i] * adj[r];
                }
            }
            // τ̄ by cohort × period among rows with w1 > 0.
            let mut cell: BTreeMap<(i64, i64), (f64, f64)> = BTreeMap::new();
            for (j, &i) in rows1.iter().enumerate() {
                if w1[j] != 0.0 {
                    let key = (panel.cohort[i].expect("treated"), panel.time[i]);
                    let e = cell.entry(key).or_insert((0.0, 0.0));
                    e.0 += w1[j] * w1[j] * tau[j];
                    e.1 += w1[j] * w1[j];
                }
            }
            // Scores s_it = v_it ε̃_it, summed within clusters.
            let mut scores: Vec<(usize, f64)> = Vec::with_capacity(n);
            for (r, &i) in rows0.iter().enumerate() {
                scores.push((i, v0[r] * resid0[r]));
            }
            for (j, &i) in rows1.iter().enumerate() {
                if w1[j] != 0.0 {
                    let (a, b) = cell[&(panel.cohort[i].expect("treated"), panel.time[i])];
                    scores.push((i, w1[j] * (tau[j] - a / b)));
                }
            }
            let mut var = 0.0;
            for (sign, f) in &terms {
                let mut sc = vec![0.0; f.levels()];
                for &(i, s) in &scores {
                    sc[f.codes()[i] as usize] += s;
                }
                var += sign * sc.iter().map(|s| s * s).sum::<f64>();
            }
            if var < 0.0 {
                // Only possible two-way: no standard error (warned below).
                return Ok(ImputationEstimate {
                    label,
                    event_time,
                    estimate: est,
                    std_error: None,
                    ci_low: None,
                    ci_high: None,
                    p_value: None,
                    n_treated: w1.iter().filter(|w| **w != 0.0).count(),
                });
            }
            let se = var.sqrt();
            let z = dist::normal_quantile(1.0 - alpha / 2.0)?;
            let p = if se > 0.0 {
                2.0 * dist::normal_sf((est / se).abs())
            } else {
                f64::NAN
            };
            if !p.is_finite() {
                return Err(StatsError::InsufficientData(format!(
                    "the standard error of {label} is zero"
                ))
                .into());
            }
            Ok(ImputationEstimate {
                label,
                event_time,
                estimate: est,
                std_error: Some(se),
                ci_low: Some(est - z * se),
                ci_high: Some(est + z * se),
                p_value: Some(p),
                n_treated: w1.iter().filter(|w| **w != 0.0).count(),
            })
        };
    let w_all: Vec<f64> = rows1.iter().map(|&i| omega[i]).collect();
    let att = estimate("ATT".into(), None, w_all)?;
    let mut events: Vec<i64> = rows1
        .iter()
        .map(|&i| panel.time[i] - panel.cohort[i].expect("treated"))
        .collect();
    events.sort_unstable();
    events.dedup();
    let mut by_event_time = Vec::new();
    for e in events {
        let w: Vec<f64> = rows1
            .iter()
            .map(|&i| {
                if panel.time[i] - panel.cohort[i].expect("treated") == e {
                    omega[i]
                } else {
                    0.0
                }
            })
            .collect();
        by_event_time.push(estimate(format!("e={e}"), Some(e), w)?);
    }
    for e in std::iter::once(&att).chain(&by_event_time) {
        if e.std_error.is_none() {
            warnings.push(format!(
                "the two-way clustered variance of {} is negative; its standard error is not reported (use one-way clustering)",
                e.label
            ));
        }
    }
    if panel.treated_units() == 1 {
        warnings.push("a single treated unit: the conservative variance relies on averaging over treated units and is unreliable".into());
    }
    Ok(ImputationFit {
        att,
        by_event_time,
        beta: panel
            .covariates
            .iter()
            .map(|(n, _)| n.clone())
            .zip(beta)
            .collect(),
        n_untreated: rows0.len(),
        n_treated: rows1.len(),
        n_clusters,
        cluster_name,
        sweeps,
        warnings,
        pretrend: None,
    })
}

fn effect(e: &ImputationEstimate) -> Effect {
    Effect {
        key: match e.event_time {
            Some(t) => EffectKey::kind(EffectKind::EventTime).event_time(t),
            None => EffectKey::kind(EffectKind::Att),
        },
        label: e.label.clone(),
        estimate: e.estimate,
        std_error: e.std_error,
        ci_low: e.ci_low,
        ci_high: e.ci_high,
        p_value: e.p_value,
    }
}

impl Report for ImputationFit {
    fn result(&self) -> EstimationResult {
        let mut r = EstimationResult::new(
            "Borusyak-Jaravel-Spiess imputation",
            "ATT over treated rows, and by period relative to adoption",
        );
        r.effects.push(effect(&self.att));
        r.effects.extend(self.by_event_time.iter().map(effect));
        let d = &mut r.diagnostics;
        d.insert("n_untreated_rows".into(), self.n_untreated.into());
        d.insert("n_treated_rows".into(), self.n_treated.into());
        d.insert(
            "vcov".into(),
            if self.cluster_name.ends_with("two-way") {
                format!("BJS conservative, clustered by {}", self.cluster_name)
            } else {
                format!(
                    "BJS conservative, clustered by {}, G = {}",
                    self.cluster_name, self.n_clusters
                )
            }
            .into(),
        );
        d.insert("fe_sweeps".into(), self.sweeps.into());
        if !self.beta.is_empty() {
            let m: serde_json::Map<String, serde_json::Value> = self
                .beta
                .iter()
                .map(|(n, b)| (n.clone(), (*b).into()))
                .collect();
            d.insert("covariate_coefficients".into(), m.into());
        }
        r.warnings = self.warnings.clone();
        if let Some(pt) = &self.pretrend {
            for l in &pt.leads {
                r.effects.push(Effect {
                    key: EffectKey::kind(EffectKind::EventTime)
                        .event_time(l.event_time)
                        .variant("pretrend_test"),
                    label: l.row.name.clone(),
                    estimate: l.row.estimate,
                    std_error: l.row.std_error,
                    ci_low: l.row.ci_low,
                    ci_high: l.row.ci_high,
                    p_value: l.row.p_value,
                });
            }
            r.diagnostics.insert(
                "pretrend_test".into(),
                serde_json::json!({
                    "test": "BJS (2024) Test 1: leads on untreated rows, joint Wald F",
                    "F": pt.statistic,
                    "p_value": pt.p_value,
                    "leads": pt.df_num,
                    "df_den": pt.df_den,
                    "n_obs": pt.n_obs,
                    "n_singletons": pt.n_singletons,
                    "vcov": pt.vcov,
                }),
            );
            r.warnings.extend(pt.warnings.iter().cloned());
        }
        r
    }
}

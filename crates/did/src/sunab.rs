//! Sun & Abraham (2021) interaction-weighted (IW) estimator.
//!
//! Sun, L. & Abraham, S. (2021), "Estimating dynamic treatment effects in event studies with
//! heterogeneous treatment effects", *J. Econometrics* 225(2), 175–199.
//!
//! 1. Control cohort `C`: the never-treated units, or if there are none the last-treated
//!    cohort, whose units then serve as controls and whose treated periods
//!    (`t ≥ G_last − K`) are dropped for every unit.
//! 2. Saturated regression with unit and period effects:
//!    `y_it = α_i + λ_t + Σ_{g ∉ C} Σ_{e ≠ r} δ_{g,e} 1{G_i = g, t − g = e} + X_it γ + u_it`,
//!    reference `r = −1 − K`. `δ_{g,e}` is the cohort-specific CATT(g, e).
//! 3. Interaction weighting: `β_e = Σ_g w_{g,e} δ_{g,e}` with `w_{g,e}` the share of cohort
//!    `g` among the (weighted) rows at relative period `e`; the overall ATT averages all
//!    treated cells `e ≥ −K` with weights proportional to their row counts (fixest
//!    `sunab(att = TRUE)`, which weights by the column sums of the interaction
//!    indicators). The weights are treated as fixed: standard errors are the delta method
//!    `√(w' V w)` on the cluster-robust covariance of `δ` (as fixest's `aggregate`), t
//!    inference with the variance's degrees of freedom.

use crate::error::{DidError, Result};
use crate::panel::StaggeredPanel;
use causalkit_stats::{
    dist, CoefTable, Effect, EffectKey, EffectKind, EstimationResult, Factor, FixedEffects,
    LinearModel, Report, Vcov,
};
use std::collections::{BTreeMap, BTreeSet};

/// One aggregated Sun-Abraham estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct IwEstimate {
    /// Label (`"ATT"`, `"e=2"`, `"CATT(2004,e=1)"`).
    pub label: String,
    /// Relative period (None for the overall ATT).
    pub event_time: Option<i64>,
    /// Cohort of a cohort-specific effect `CATT(g,e)` (None for the ATT and `e=…`).
    pub group: Option<i64>,
    /// Estimate.
    pub estimate: f64,
    /// Delta-method standard error.
    pub std_error: f64,
    /// Lower confidence limit.
    pub ci_low: f64,
    /// Upper confidence limit.
    pub ci_high: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

/// A fitted Sun-Abraham model.
#[derive(Debug, Clone)]
pub struct SunAbrahamFit {
    /// Overall ATT over treated cells.
    pub att: IwEstimate,
    /// Interaction-weighted effects by relative period.
    pub by_event_time: Vec<IwEstimate>,
    /// Cohort-specific effects CATT(g, e).
    pub cells: Vec<IwEstimate>,
    /// The control cohort: `None` = never treated, `Some(g)` = last-treated cohort `g`.
    pub control: Option<i64>,
    /// The saturated regression's coefficient table.
    pub table: CoefTable,
    /// Rows used.
    pub n_obs: usize,
    /// Warnings.
    pub warnings: Vec<String>,
}

fn combine(
    label: String,
    event_time: Option<i64>,
    group: Option<i64>,
    idx_w: &[(usize, f64)],
    table: &CoefTable,
    alpha: f64,
) -> Result<IwEstimate> {
    let total: f64 = idx_w.iter().map(|(_, w)| w).sum();
    let rows = table.rows();
    let v = table.vcov();
    let est: f64 = idx_w
        .iter()
        .map(|&(i, w)| w * rows[i].estimate)
        .sum::<f64>()
        / total;
    let mut var = 0.0;
    for &(i, wi) in idx_w {
        for &(j, wj) in idx_w {
            var += wi * wj * v[(i, j)];
        }
    }
    var /= total * total;
    let se = var.max(0.0).sqrt();
    let df = table.df();
    let crit = dist::t_critical(alpha, df)?;
    let p = dist::t_two_sided_p(est / se, df)?;
    Ok(IwEstimate {
        label,
        event_time,
        group,
        estimate: est,
        std_error: se,
        ci_low: est - crit * se,
        ci_high: est + crit * se,
        p_value: p,
    })
}

/// Fits the Sun-Abraham estimator. `vcov` defaults to CRV1 by unit.
pub fn sun_abraham(
    panel: &StaggeredPanel,
    vcov: Option<Vcov>,
    alpha: f64,
) -> Result<SunAbrahamFit> {
    panel.validate()?;
    panel.check_design()?;
    let k = panel.anticipation;
    let r = -1 - k;
    let cohorts = panel.cohorts();
    let has_never = panel.cohort.iter().any(Option::is_none);
    let mut warnings = Vec::new();
    let control = if has_never {
        None
    } else {
        if cohorts.len() < 2 {
            return Err(DidError::NoControls(
                "no never-treated units and a single cohort: Sun-Abraham needs a never-treated or a later-treated control cohort".into(),
            ));
        }
        let last = *cohorts.last().expect("non-empty");
        warnings.push(format!(
            "no never-treated units: the last-treated cohort ({last}) is the control; periods from {} on are dropped",
            last - k
        ));
        Some(last)
    };
    // Rows kept.
    let keep: Vec<usize> = (0..panel.len())
        .filter(|&i| control.is_none_or(|c| panel.time[i] < c - k))
        .collect();
    let sub = |v: &[f64]| -> Vec<f64> { keep.iter().map(|&i| v[i]).collect() };
    let unit_codes: Vec<u32> = keep.iter().map(|&i| panel.unit.codes()[i]).collect();
    let unit = Factor::from_labels(panel.unit.name(), &unit_codes);
    let times: Vec<i64> = keep.iter().map(|&i| panel.time[i]).collect();
    let time = Factor::from_labels("time", &times);
    let y = sub(&panel.outcome);
    let w_rows: Vec<f64> = match &panel.weights {
        Some(w) => sub(w),
        None => vec![1.0; keep.len()],
    };
    // Cells (g, e) of treated cohorts.
    let mut cells: BTreeMap<(i64, i64), Vec<usize>> = BTreeMap::new();
    for (j, &i) in keep.iter().enumerate() {
        if let Some(g) = panel.cohort[i] {
            if Some(g) != control {
                let e = panel.time[i] - g;
                if e != r {
                    cells.entry((g, e)).or_default().push(j);
                }
            }
        }
    }
    let treated_cells: Vec<(i64, i64)> = cells.keys().copied().filter(|&(_, e)| e >= -k).collect();
    if treated_cells.is_empty() {
        return Err(DidError::NoTreated(
            "no treated cohort-period cell remains".into(),
        ));
    }
    let fe = FixedEffects::new(vec![unit.clone(), time])?;
    let mut model = LinearModel::new(&panel.outcome_name, y).absorb(fe);
    let mut names = Vec::new();
    for (&(g, e), rows) in &cells {
        let mut col = vec![0.0; keep.len()];
        for &j in rows {
            col[j] = 1.0;
        }
        let name = format!("CATT({g},e={e})");
        model = model.regressor(&name, col);
        names.push(((g, e), name));
    }
    for (name, c) in &panel.covariates {
        model = model.regressor(name, sub(c));
    }
    if let Some(w) = &panel.weights {
        model = model.weights(sub(w));
    }
    let fit = model.fit()?;
    let vcov = match vcov {
        Some(Vcov::Cluster(f)) if f.len() == panel.len() => {
            let codes: Vec<u32> = keep.iter().map(|&i| f.codes()[i]).collect();
            Vcov::Cluster(Factor::from_labels(f.name(), &codes))
        }
        Some(Vcov::TwoWayCluster(a, b)) if a.len() == panel.len() => {
            let ca: Vec<u32> = keep.iter().map(|&i| a.codes()[i]).collect();
            let cb: Vec<u32> = keep.iter().map(|&i| b.codes()[i]).collect();
            Vcov::TwoWayCluster(
                Factor::from_labels(a.name(), &ca),
                Factor::from_labels(b.name(), &cb),
            )
        }
        Some(v) => v,
        None => Vcov::Cluster(unit),
    };
    let table = fit.inference(&vcov, alpha)?;
    warnings.extend(table.warnings().iter().cloned());
    let cell_w = |(g, e): (i64, i64)| -> f64 { cells[&(g, e)].iter().map(|&j| w_rows[j]).sum() };
    let att_idx: Vec<(usize, f64)> = names
        .iter()
        .enumerate()
        .filter(|(_, ((_, e), _))| *e >= -k)
        .map(|(i, (c, _))| (i, cell_w(*c)))
        .collect();
    let att = combine("ATT".into(), None, None, &att_idx, &table, alpha)?;
    let events: BTreeSet<i64> = cells.keys().map(|&(_, e)| e).collect();
    let mut by_event_time = Vec::new();
    for e in events {
        let idx: Vec<(usize, f64)> = names
            .iter()
            .enumerate()
            .filter(|(_, ((_, ee), _))| *ee == e)
            .map(|(i, (c, _))| (i, cell_w(*c)))
            .collect();
        by_event_time.push(combine(
            format!("e={e}"),
            Some(e),
            None,
            &idx,
            &table,
            alpha,
        )?);
    }
    let mut cell_estimates = Vec::new();
    for (i, ((g, e), name)) in names.iter().enumerate() {
        cell_estimates.push(combine(
            name.clone(),
            Some(*e),
            Some(*g),
            &[(i, 1.0)],
            &table,
            alpha,
        )?);
    }
    Ok(SunAbrahamFit {
        att,
        by_event_time,
        cells: cell_estimates,
        control,
        table,
        n_obs: keep.len(),
        warnings,
    })
}

fn effect(e: &IwEstimate) -> Effect {
    let key = match (e.group, e.event_time) {
        (Some(g), Some(t)) => EffectKey::kind(EffectKind::GroupTime)
            .group(g)
            .event_time(t)
            .time(g + t),
        (None, Some(t)) => EffectKey::kind(EffectKind::EventTime).event_time(t),
        _ => EffectKey::kind(EffectKind::Att),
    };
    Effect {
        key,
        label: e.label.clone(),
        estimate: e.estimate,
        std_error: Some(e.std_error),
        ci_low: Some(e.ci_low),
        ci_high: Some(e.ci_high),
        p_value: Some(e.p_value),
    }
}

impl Report for SunAbrahamFit {
    fn result(&self) -> EstimationResult {
        let mut r = EstimationResult::new(
            "Sun-Abraham interaction-weighted",
            "ATT over treated cohort-periods, and interaction-weighted effects by relative period",
        );
        r.effects.push(effect(&self.att));
        r.effects.extend(self.by_event_time.iter().map(effect));
        r.effects.extend(self.cells.iter().map(effect));
        let base = self.table.result();
        r.diagnostics = base.diagnostics;
        r.diagnostics.insert(
            "control_cohort".into(),
            match self.control {
                None => "never treated".into(),
                Some(g) => format!("last treated ({g})").into(),
            },
        );
        r.warnings = self.warnings.clone();
        r
    }
}

//! TWFE event study: leads and lags of treatment with a reference period, binned end points
//! and a joint pre-trend test.
//!
//! `y_it = α_i + λ_t + Σ_{e ≠ r} β_e 1{t − G_i = e} + X_it γ + u_it` over the relative
//! periods `e` of ever-treated units (never-treated units have all indicators zero). With
//! `leads = L` and `lags = M`, relative periods below `−L` are binned into `e ≤ −L` and above
//! `M` into `e ≥ M` (end-point binning, Schmidheiny & Siegloch 2023, *J. Applied
//! Econometrics* 38). The reference period `r` defaults to `−1 − K` (anticipation `K`).
//! Without never-treated units the relative-period indicators are collinear with the unit
//! and period effects (Borusyak, Jaravel & Spiess 2024, sec. 4.1): periods in which every
//! unit is treated are dropped, and indicators that remain collinear are normalised to zero
//! one at a time (as fixest drops collinear variables), each with a warning; the reference
//! periods are listed in [`EventStudyFit::reference`].
//!
//! Pre-trends: the joint Wald test `F = β̂_pre' V̂_pre⁻¹ β̂_pre / q` of all leads
//! `e < −K`, `e ≠ r`, against F(q, df) with the cluster-robust variance. Under
//! heterogeneous effects these coefficients are contaminated (Sun & Abraham 2021); see
//! [`crate::sunab`].

use crate::error::{invalid, Result};
use crate::panel::StaggeredPanel;
use causalkit_stats::ols::CoefRow;
use causalkit_stats::{
    CoefTable, Effect, EffectKey, EffectKind, EstimationResult, FixedEffects, LinearModel, Report,
    StatsError, Vcov,
};
use std::collections::BTreeSet;

/// Settings of an event study.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EventStudyOptions {
    /// Number of leads kept separately; earlier periods are binned into `e ≤ −leads`.
    pub leads: Option<i64>,
    /// Number of lags kept separately; later periods are binned into `e ≥ lags`.
    pub lags: Option<i64>,
    /// Reference (omitted) relative period; default `−1 − anticipation`.
    pub ref_period: Option<i64>,
}

/// One relative-period coefficient.
#[derive(Debug, Clone, PartialEq)]
pub struct EventCoef {
    /// Relative period (the end point for a bin).
    pub event_time: i64,
    /// Whether the coefficient is a binned end point.
    pub binned: bool,
    /// Estimate, standard error, t, p and interval.
    pub row: CoefRow,
}

/// A fitted event study.
#[derive(Debug, Clone)]
pub struct EventStudyFit {
    /// Coefficients in event-time order.
    pub coefs: Vec<EventCoef>,
    /// The reference period(s), normalised to zero.
    pub reference: Vec<i64>,
    /// Joint pre-trend test `(F, p, q)`, when there are leads.
    pub pretrend: Option<(f64, f64, usize)>,
    /// The full coefficient table.
    pub table: CoefTable,
    /// Rows used.
    pub n_obs: usize,
    /// Warnings.
    pub warnings: Vec<String>,
}

pub(crate) fn event_label(e: i64, lo_bin: Option<i64>, hi_bin: Option<i64>) -> String {
    if Some(e) == lo_bin {
        format!("e<={e}")
    } else if Some(e) == hi_bin {
        format!("e>={e}")
    } else {
        format!("e={e}")
    }
}

/// Fits the event study. `vcov` defaults to CRV1 by unit.
pub fn event_study(
    panel: &StaggeredPanel,
    options: &EventStudyOptions,
    vcov: Option<Vcov>,
    alpha: f64,
) -> Result<EventStudyFit> {
    panel.validate()?;
    panel.check_design()?;
    for (name, v) in [("leads", options.leads), ("lags", options.lags)] {
        if let Some(v) = v {
            if v < 0 {
                return Err(invalid(name, format!("{v} is negative")));
            }
        }
    }
    let mut warnings = Vec::new();
    let has_never = panel.cohort.iter().any(Option::is_none);
    let dropped = panel.fully_treated_periods();
    let reduced;
    let panel = if !has_never && !dropped.is_empty() {
        let keep: Vec<usize> = (0..panel.len())
            .filter(|&i| !dropped.contains(&panel.time[i]))
            .collect();
        warnings.push(format!(
            "no never-treated units: periods {dropped:?}, in which every unit is treated, are dropped (their period effects are not identified separately from the relative-period effects)"
        ));
        reduced = panel.subset(&keep);
        reduced.check_design()?;
        &reduced
    } else {
        panel
    };
    let k = panel.anticipation;
    let r = options.ref_period.unwrap_or(-1 - k);
    let lo = options.leads.map(|l| -l);
    let hi = options.lags;
    if let Some(lo) = lo {
        if r < lo {
            return Err(invalid(
                "ref_period",
                format!("{r} is before the first lead bin {lo}"),
            ));
        }
    }
    let n = panel.len();
    let binned: Vec<Option<i64>> = (0..n)
        .map(|i| {
            panel.relative_time(i).map(|mut e| {
                if let Some(lo) = lo {
                    e = e.max(lo);
                }
                if let Some(hi) = hi {
                    e = e.min(hi);
                }
                e
            })
        })
        .collect();
    let all: BTreeSet<i64> = binned.iter().flatten().copied().collect();
    if !all.contains(&r) {
        return Err(invalid(
            "ref_period",
            format!("relative period {r} is not observed for any treated unit"),
        ));
    }
    let mut reference = vec![r];
    if !has_never {
        let first = *all.iter().next().expect("non-empty");
        if first != r {
            reference.push(first);
            warnings.push(format!(
                "no never-treated units: relative period {first} is also normalised to zero (the relative-period indicators are otherwise collinear with the unit and period effects)"
            ));
        }
    }
    let events: Vec<i64> = all
        .iter()
        .copied()
        .filter(|e| !reference.contains(e))
        .collect();
    if events.is_empty() {
        return Err(invalid("leads/lags", "no relative period left to estimate"));
    }
    let lo_bin = lo.filter(|l| all.iter().next() == Some(l) && panel.relative_time_min() < *l);
    let hi_bin = hi.filter(|h| all.iter().last() == Some(h) && panel.relative_time_max() > *h);
    let fe = FixedEffects::new(vec![panel.unit.clone(), panel.time_factor()])?;
    let mut events = events;
    let fit = loop {
        let mut model =
            LinearModel::new(&panel.outcome_name, panel.outcome.clone()).absorb(fe.clone());
        for &e in &events {
            let col: Vec<f64> = binned
                .iter()
                .map(|b| if *b == Some(e) { 1.0 } else { 0.0 })
                .collect();
            model = model.regressor(&event_label(e, lo_bin, hi_bin), col);
        }
        for (name, c) in &panel.covariates {
            model = model.regressor(name, c.clone());
        }
        if let Some(w) = &panel.weights {
            model = model.weights(w.clone());
        }
        match model.fit() {
            Ok(fit) => break fit,
            // As fixest: a relative-period indicator collinear with the others and the
            // fixed effects is normalised to zero (only happens without never-treated units).
            Err(StatsError::Collinear { column, .. }) if !has_never && events.len() > 1 => {
                match events
                    .iter()
                    .position(|&e| event_label(e, lo_bin, hi_bin) == column)
                {
                    Some(pos) => {
                        let e = events.remove(pos);
                        reference.push(e);
                        warnings.push(format!(
                            "relative period {e} is collinear with the other indicators and the fixed effects (no never-treated units); it is normalised to zero"
                        ));
                    }
                    None => {
                        return Err(StatsError::Collinear {
                            column,
                            with: "the relative-period indicators and fixed effects".into(),
                        }
                        .into())
                    }
                }
            }
            Err(e) => return Err(e.into()),
        }
    };
    let table = fit.inference(&vcov.unwrap_or_else(|| panel.default_vcov()), alpha)?;
    warnings.extend(table.warnings().iter().cloned());
    let coefs: Vec<EventCoef> = events
        .iter()
        .map(|&e| {
            let label = event_label(e, lo_bin, hi_bin);
            EventCoef {
                event_time: e,
                binned: Some(e) == lo_bin || Some(e) == hi_bin,
                row: table
                    .row(&label)
                    .expect("every event time is a regressor")
                    .clone(),
            }
        })
        .collect();
    let pre: Vec<String> = coefs
        .iter()
        .filter(|c| c.event_time < -k)
        .map(|c| c.row.name.clone())
        .collect();
    let pretrend = if pre.is_empty() {
        None
    } else {
        let names: Vec<&str> = pre.iter().map(String::as_str).collect();
        match table.wald_test(&names) {
            Ok((f, p)) => Some((f, p, names.len())),
            Err(e) => {
                warnings.push(format!(
                    "the joint pre-trend test is not available: {e} (a cluster-robust covariance has rank at most G - 1; use fewer leads or bin them)"
                ));
                None
            }
        }
    };
    Ok(EventStudyFit {
        coefs,
        reference,
        pretrend,
        table,
        n_obs: n,
        warnings,
    })
}

impl StaggeredPanel {
    pub(crate) fn relative_time_min(&self) -> i64 {
        (0..self.len())
            .filter_map(|i| self.relative_time(i))
            .min()
            .unwrap_or(0)
    }
    pub(crate) fn relative_time_max(&self) -> i64 {
        (0..self.len())
            .filter_map(|i| self.relative_time(i))
            .max()
            .unwrap_or(0)
    }
}

impl Report for EventStudyFit {
    fn result(&self) -> EstimationResult {
        let mut r = EstimationResult::new(
            "TWFE event study",
            "effects relative to the reference period, by period relative to adoption",
        );
        r.effects = self
            .coefs
            .iter()
            .map(|c| Effect {
                key: EffectKey::kind(EffectKind::EventTime).event_time(c.event_time),
                label: c.row.name.clone(),
                estimate: c.row.estimate,
                std_error: c.row.std_error,
                ci_low: c.row.ci_low,
                ci_high: c.row.ci_high,
                p_value: c.row.p_value,
            })
            .collect();
        let base = self.table.result();
        r.diagnostics = base.diagnostics;
        r.diagnostics
            .insert("reference_periods".into(), self.reference.clone().into());
        if let Some((f, p, q)) = self.pretrend {
            r.diagnostics.insert(
                "pretrend_test".into(),
                serde_json::json!({"F": f, "p_value": p, "leads": q}),
            );
        }
        r.warnings = self.warnings.clone();
        r
    }
}

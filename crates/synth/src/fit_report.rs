//! One report wrapper for the single-treated-unit synthetic controls (Abadie SC and ASCM): a
//! fit together with the inference computed after it — the in-space placebo test
//! ([`PlaceboInSpace`], its rank p-value on the ATT row) and per-period conformal intervals
//! ([`ConformalIntervals`], on the gap rows) — as one [`Report`]able value, and the gap and
//! ATT effects both estimators report.

use crate::abadie::ConformalIntervals;
use crate::placebo::PlaceboInSpace;
use causalkit_stats::{Effect, EffectKey, EffectKind, EstimationResult, Report};

/// A fitted synthetic control whose result can carry a placebo test and conformal intervals
/// computed after the fit (implemented by [`crate::abadie::ScFit`] and
/// [`crate::ascm::AscmFit`]).
pub trait WithInference {
    /// The common result with the placebo p-value on the ATT effect and the conformal
    /// intervals and `p(0)` on the per-period gap effects, when given.
    fn to_result_with(
        &self,
        placebo: Option<&PlaceboInSpace>,
        conformal: Option<&ConformalIntervals>,
    ) -> EstimationResult;
}

/// A fit with the inference computed after it, ready to report (e.g. [`crate::abadie::ScFit::report`]).
#[derive(Debug)]
pub struct FitReport<'a, F> {
    /// The fit.
    pub fit: &'a F,
    /// The in-space placebo test (its p-value goes on the ATT effect).
    pub placebo: Option<&'a PlaceboInSpace>,
    /// Per-period conformal intervals (on the gap effects).
    pub conformal: Option<&'a ConformalIntervals>,
}

// Manual impls: the wrapper holds references only, so it is `Copy` whatever `F` is.
impl<F> Clone for FitReport<'_, F> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<F> Copy for FitReport<'_, F> {}

impl<'a, F> FitReport<'a, F> {
    /// Bundles a fit with its placebo test and conformal intervals.
    pub fn new(
        fit: &'a F,
        placebo: Option<&'a PlaceboInSpace>,
        conformal: Option<&'a ConformalIntervals>,
    ) -> Self {
        FitReport {
            fit,
            placebo,
            conformal,
        }
    }
}

impl<F: WithInference> Report for FitReport<'_, F> {
    fn result(&self) -> EstimationResult {
        self.fit.to_result_with(self.placebo, self.conformal)
    }
}

/// What the gap effects are built from: the treated unit's name, the period labels, the gaps
/// in every period, the first post period and the ATT.
pub(crate) struct Gaps<'a> {
    pub treated: &'a str,
    pub period_labels: &'a [String],
    pub gaps: &'a [f64],
    pub t0: usize,
    pub att: f64,
}

/// Pushes one effect per post period (`gap[<period>]`, with the conformal interval and `p(0)`
/// when given) and the ATT (`ATT (mean post-period gap)`, with the placebo p-value when given)
/// for the treated unit against its synthetic control.
pub(crate) fn push_gap_effects(
    r: &mut EstimationResult,
    g: Gaps<'_>,
    placebo: Option<&PlaceboInSpace>,
    conformal: Option<&ConformalIntervals>,
) {
    let Gaps {
        treated,
        period_labels,
        gaps,
        t0,
        att,
    } = g;
    for t in t0..gaps.len() {
        let mut key = EffectKey::kind(EffectKind::Gap).contrast(treated, "synthetic");
        // Whole-number periods (years, days) are the key's `time`; others stay in the label.
        if let Ok(p) = period_labels[t].parse::<i64>() {
            key = key.time(p);
        }
        let mut e = Effect::point(format!("gap[{}]", period_labels[t]), gaps[t]).with_key(key);
        if let Some(c) = conformal {
            if let Some(i) = c.periods.iter().position(|&p| p == t) {
                e.ci_low = Some(c.lower[i]);
                e.ci_high = Some(c.upper[i]);
                e.p_value = Some(c.p_value_zero[i]);
            }
        }
        r.effects.push(e);
    }
    let mut e = Effect::point("ATT (mean post-period gap)", att)
        .with_key(EffectKey::kind(EffectKind::Att).contrast(treated, "synthetic"));
    if let Some(p) = placebo {
        e.p_value = Some(p.p_value);
    }
    r.effects.push(e);
}

/// Adds the placebo test's diagnostics (treated ratio, kept placebos, p-value) and the
/// conformal level and warnings, when given.
pub(crate) fn add_inference_diagnostics(
    mut r: EstimationResult,
    placebo: Option<&PlaceboInSpace>,
    conformal: Option<&ConformalIntervals>,
) -> EstimationResult {
    if let Some(p) = placebo {
        r = r
            .with_diagnostic("placebo_rmspe_ratio_treated", p.treated_ratio)
            .with_diagnostic("placebo_n_kept", p.n_kept)
            .with_diagnostic("placebo_p_value", p.p_value);
    }
    if let Some(c) = conformal {
        r = r.with_diagnostic("conformal_alpha", c.alpha);
        r.warnings.extend(c.warnings.iter().cloned());
    }
    r
}

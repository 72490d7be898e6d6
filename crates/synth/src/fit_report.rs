//! One report wrapper for the single-treated-unit synthetic controls (Abadie SC and ASCM): a
//! fit together with the inference computed after it — the in-space placebo test
//! ([`PlaceboInSpace`], its rank p-value on the ATT row) and per-period conformal intervals
//! ([`ConformalIntervals`], on the gap rows) — as one
//! [`Report`](causalkit_stats::Report)able value, and the gap and ATT effects both estimators
//! report.

use crate::abadie::ConformalIntervals;
use crate::placebo::PlaceboInSpace;
use causalkit_stats::{Effect, EffectKey, EffectKind, EstimationResult};

/// A fit with the inference computed after it, ready to report (e.g. [`crate::abadie::ScFit::report`]):
/// its [`Report`](causalkit_stats::Report) result is the fit's with the placebo p-value on the
/// ATT effect and the conformal intervals and `p(0)` on the per-period gap effects.
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

/// The members Abadie SC and ASCM share word for word, written once: `gap_path`, `report`
/// (the fit with its placebo test and conformal intervals), the `Report` impls of the fit
/// (point estimates alone) and of its [`FitReport`], and `rotate_placebos`, the in-space
/// placebo over the fit's donors (each donor refitted from the fit's `spec` as the treated
/// unit with the others as its pool, then [`PlaceboInSpace::from_runs`]). The fit type needs
/// the fields `spec` (with `treated` and `donors`), `donors`, `treated_name`, `gaps`,
/// `rmspe_pre`, `rmspe_post` and an inherent `result_with(placebo, conformal)`;
/// `invalid(name, why)` in scope at the call site builds the error of a bad option.
macro_rules! single_unit_fit_members {
    ($fit:ident, $report:ident, $err:ty) => {
        #[doc = concat!("A [`", stringify!($fit), "`] with the inference computed after the fit (the in-space")]
        #[doc = concat!("placebo test and the conformal intervals), ready to report ([`", stringify!($fit), "::report`]).")]
        pub type $report<'a> = $crate::fit_report::FitReport<'a, $fit>;

        impl $fit {
            /// The fit with its placebo test and conformal intervals, as one reportable value.
            pub fn report<'a>(
                &'a self,
                placebo: Option<&'a $crate::placebo::PlaceboInSpace>,
                conformal: Option<&'a $crate::abadie::ConformalIntervals>,
            ) -> $report<'a> {
                $crate::fit_report::FitReport::new(self, placebo, conformal)
            }

            /// The treated unit's gap path (all periods) with its pre- and post-period RMSPE.
            pub fn gap_path(&self) -> $crate::placebo::GapPath {
                $crate::placebo::GapPath {
                    unit: self.treated_name.clone(),
                    gaps: self.gaps.clone(),
                    rmspe_pre: self.rmspe_pre,
                    rmspe_post: self.rmspe_post,
                }
            }

            /// The in-space placebo: every donor refitted as the treated unit (in parallel,
            /// deterministic), ranked against this fit.
            fn rotate_placebos(
                &self,
                options: &$crate::placebo::PlaceboOptions,
            ) -> ::std::result::Result<$crate::placebo::PlaceboInSpace, $err> {
                options.check().map_err(|(name, why)| invalid(name, why))?;
                let runs = $crate::placebo::rotate(&self.donors, |j, others| {
                    let mut spec = self.spec.clone();
                    spec.treated = j;
                    spec.donors = Some(others);
                    spec.fit().map(|f| (f.gap_path(), f.att))
                })?;
                Ok($crate::placebo::PlaceboInSpace::from_runs(
                    self.donors.clone(),
                    &self.gap_path(),
                    runs,
                    options.max_pre_rmspe_ratio,
                ))
            }
        }

        /// The point estimates alone (no placebo, no intervals).
        impl ::causalkit_stats::Report for $fit {
            fn result(&self) -> ::causalkit_stats::EstimationResult {
                self.result_with(None, None)
            }
        }

        /// The fit's result with the placebo p-value and the conformal intervals.
        impl ::causalkit_stats::Report for $crate::fit_report::FitReport<'_, $fit> {
            fn result(&self) -> ::causalkit_stats::EstimationResult {
                self.fit.result_with(self.placebo, self.conformal)
            }
        }
    };
}
pub(crate) use single_unit_fit_members;

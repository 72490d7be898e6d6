//! Release attribution: a release spec and raw operational logs in, KPI effects with honest
//! intervals out, turned into money through a KPI value tree; and model errors ranked by
//! the money they cost.
//!
//! This crate sits above the estimator crates (it composes `causalkit-ab`,
//! `causalkit-did` and `causalkit-synth` as library calls) and uses the data layer
//! (`causalkit-data`) to read the rows. It does not print; the CLI's `causalkit attribute`
//! is a thin wrapper.
//!
//! Flow: [`spec::ReleaseSpec`] (TOML) → per-design KPI effects with their joint
//! covariance ([`KpiEffects`]) → value tree → money per node.
//!
//! # Modules (each states its method and sources)
//! - [`spec`]: the TOML spec types, loading ([`spec::ReleaseSpec::load`]: paths relative to
//!   the spec file) and validation (errors name the file and the key).
//! - [`value`]: the value tree — expressions over constants, KPIs and nodes; the change of
//!   every node caused by the release, exact for non-linear nodes, with a delta-method
//!   interval from [`KpiEffects::covariance`] and a bootstrap cross-check. Its entry point is
//!   [`value::ValueTree::changes`]`(&KpiEffects, overrides, alpha)`, where `overrides`
//!   replaces value constants (the errors ranking scales the volume constant).
//! - [`randomised`] (and, planned, `rollout`, `single_unit`): one [`DesignFit`] per design,
//!   from the A/B engine, Callaway-Sant'Anna and synthetic DiD, each with its cross-check.
//! - [`orchestrate`]: [`attribute`] — spec → data → design → value tree → [`Attribution`]
//!   (a `causalkit_stats::Report`), with the verdict and the executive summary.
//! - Planned: `refute`, `decompose`, `cumulative` (refuters, ratio and rate/mix
//!   decomposition, the running effect and money) and `errors` (model errors ranked by money).
#![deny(clippy::float_cmp)]

pub mod cumulative;
pub mod decompose;
mod design_panel;
pub mod error;
pub mod errors;
pub mod orchestrate;
pub mod randomised;
pub mod refute;
pub mod rollout;
pub mod single_unit;
pub mod source;
pub mod spec;
pub mod value;

pub use error::{AttributionError, Result};
pub use orchestrate::{
    attribute, attribute_data, attribute_source, attribute_spec, AttributeOptions, Attribution,
    MoneyBar, Part,
};
pub use source::{EngineTable, Input, Source};

use causalkit_stats::Effect;
use nalgebra::DMatrix;

/// The KPI effects of a release with their joint uncertainty: what every design
/// (randomised, rollout, single-unit) hands to the value tree.
///
/// `effects[k]` is the absolute effect of the release on KPI `k` (in KPI units) as the
/// design's estimator reports it; `baseline[k]` is the KPI's level without the release
/// (the control mean, or the counterfactual level of the treated units) so that
/// `baseline[k] + effects[k].estimate` is the level with it. `covariance` is the joint
/// covariance of the effect estimates, in `effects` order; its diagonal equals the squared
/// standard errors. `replicates`, when the design has them (joint bootstrap or placebo
/// draws of all KPI effects at once), holds one row per replicate and one column per KPI.
#[derive(Debug, Clone)]
pub struct KpiEffects {
    /// One effect per KPI, labelled with the KPI name.
    pub effects: Vec<Effect>,
    /// The KPI level without the release, per KPI.
    pub baseline: Vec<f64>,
    /// Joint covariance of the effect estimates.
    pub covariance: DMatrix<f64>,
    /// How `covariance` was obtained (e.g. "influence functions", "joint placebo").
    pub covariance_source: String,
    /// Joint replicate draws of the effects, if the design produces them.
    pub replicates: Option<DMatrix<f64>>,
}

/// Options every design's fit takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitOptions {
    /// Significance level of the intervals (two-sided; 0.05 gives 95% intervals).
    pub alpha: f64,
    /// Seed of every resampling step (bootstrap, placebo draws, random subsets).
    pub seed: u64,
}

impl Default for FitOptions {
    /// alpha 0.05, seed 0.
    fn default() -> Self {
        FitOptions {
            alpha: 0.05,
            seed: 0,
        }
    }
}

/// What a design (randomised, rollout, single-unit) returns: the KPI effects with their joint
/// covariance, which estimator produced them and why, and the cross-check.
#[derive(Debug, Clone)]
pub struct DesignFit {
    /// The KPI effects of the release, one per `[[kpi]]`, in spec order.
    pub effects: KpiEffects,
    /// The main estimator (e.g. "A/B engine (Welch, CUPED)", "Callaway-Sant'Anna").
    pub estimator: String,
    /// Why this estimator for this design, in one sentence for the output.
    pub reason: String,
    /// The cross-check estimator's effects, where the design has one.
    pub cross_check: Option<CrossCheck>,
    /// Design-specific diagnostics (SRM, pre-trend test, pre-period fit, ...).
    pub diagnostics: serde_json::Map<String, serde_json::Value>,
    /// Warnings a reviewer must read (e.g. estimator and cross-check disagree).
    pub warnings: Vec<String>,
}

/// A second estimator run on the same design to check the first.
#[derive(Debug, Clone)]
pub struct CrossCheck {
    /// The cross-check estimator's name.
    pub estimator: String,
    /// Its effect per KPI, labelled with the KPI name, in spec order.
    pub effects: Vec<Effect>,
}

/// The outcome of one refuter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefuterOutcome {
    /// The pass rule held.
    Pass,
    /// The pass rule failed: the estimate deserves doubt.
    Fail,
    /// The refuter does not apply to this design or spec (never counted as a pass).
    NotApplicable,
    /// The refuter applies but was not run on this source (the detail says why; never
    /// counted as a pass): it reads individual rows, and the rows stay in a query engine.
    NotRun,
}

impl RefuterOutcome {
    /// [`RefuterOutcome::Pass`] when the pass rule held, [`RefuterOutcome::Fail`] otherwise.
    pub fn from_pass(pass: bool) -> Self {
        if pass {
            RefuterOutcome::Pass
        } else {
            RefuterOutcome::Fail
        }
    }
}

/// One refutation check with its pass rule stated in words.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RefuterResult {
    /// Short name, e.g. "placebo release date".
    pub name: String,
    /// The pass rule in words, e.g. "the placebo effect's 95% CI covers 0 for every KPI".
    pub rule: String,
    /// Pass, fail or not applicable.
    pub outcome: RefuterOutcome,
    /// What was found (numbers), or why it does not apply.
    pub detail: String,
}

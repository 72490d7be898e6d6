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
#![deny(clippy::float_cmp)]

pub mod spec;

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

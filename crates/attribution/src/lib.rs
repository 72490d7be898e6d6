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
//! # Modules (planned layout; each states its method and sources)
//! - `spec`: the TOML spec types and their validation (errors name the file and the key).
//! - `value`: the value tree — expressions over constants, KPIs and nodes; the change of every
//!   node caused by the release, exact for non-linear nodes, with a delta-method interval from
//!   [`KpiEffects::covariance`] and a bootstrap cross-check. Its entry point is
//!   `ValueTree::changes(&KpiEffects, overrides: &BTreeMap<String, f64>, alpha)`, where
//!   `overrides` replaces value constants (the errors ranking scales the volume constant).
//! - `randomised`, `rollout`, `single_unit`: one [`KpiEffects`] per design, from the A/B
//!   engine, Callaway-Sant'Anna and synthetic DiD, each with its cross-check.
//! - `refute`, `decompose`, `cumulative`: refuters, ratio and rate/mix decomposition, the
//!   running effect and money.
//! - `errors`: model errors (confusion cells) ranked by money.
#![deny(clippy::float_cmp)]

pub mod error;
pub mod spec;

pub use error::{AttributionError, Result};

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

//! # causalkit-stats — the numeric core of causalkit
//!
//! Pure numerics on slices, `nalgebra` matrices and sufficient statistics; no data frames,
//! no IO, no plotting. Every estimator crate builds on this one.
//!
//! - [`ols`]: OLS/WLS by QR with absorbed fixed effects and iid, HC0–HC3 and one- and
//!   two-way CR1 variances under fixest's small-sample conventions.
//! - [`fe`]: absorption of high-dimensional fixed effects by alternating projections.
//! - [`logit`]: logistic regression by IRLS, with separation detection.
//! - [`dist`]: accurate distribution tails and quantiles (statrs).
//! - [`multitest`]: Bonferroni, Holm, Hochberg, Benjamini–Hochberg, Benjamini–Yekutieli.
//! - [`resample`]: seeded, parallel resampling independent of the thread count.
//! - [`suff`]: mergeable sufficient statistics (counts, sums, cross-products).
//! - [`result`]: the common result shape and summary table every estimator reports.
//! - [`winsor`]: capping extreme values at percentiles (winsorisation).
//! - [`kpi`]: what a KPI computes from a row (mean, proportion, ratio, NPS, top-box,
//!   composite), shared by the data layer and the warehouse SQL.
#![warn(missing_docs)]
#![deny(clippy::float_cmp)]

pub mod dist;
pub mod error;
pub mod factor;
pub mod fe;
pub mod kpi;
pub mod limits;
pub mod logit;
pub mod multitest;
pub mod ols;
pub mod resample;
pub mod result;
pub mod suff;
pub mod text;
pub mod winsor;

pub use error::{Result, StatsError};
pub use factor::Factor;
pub use fe::{DemeanOptions, FixedEffects};
pub use logit::{Logit, LogitFit, LogitVcov};
pub use multitest::{adjust_p_values, Adjustment};
pub use ols::{CoefTable, LinearModel, OlsFit, Vcov};
pub use result::{
    count_value, fmt_p_value, fmt_value, Effect, EffectKey, EffectKind, EstimationResult, Report,
};
pub use suff::Moments;

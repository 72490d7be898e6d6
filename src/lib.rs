//! # causalkit
//!
//! Causal inference and experiment analysis in Rust: one data layer that feeds every
//! estimator, and one report. This facade re-exports the workspace crates for library users:
//!
//! - [`stats`]: the numeric core (least squares with fixed effects and robust/clustered
//!   variances, logistic regression, distributions, multiple testing, resampling,
//!   sufficient statistics, the common result type).
//! - [`data`]: the data layer (CSV/Parquet, KPI definitions, grouped sufficient statistics,
//!   panels, typed validation errors).
//! - [`report`]: plots (SVG/PNG with a bundled font).
//! - [`ab`]: A/B test analysis on sufficient statistics.
//! - [`did`]: difference-in-differences and staggered adoption.
//! - [`synth`]: synthetic control, synthetic DiD, augmented SC.
//!
//! ```
//! use causalkit::stats::{LinearModel, Vcov, Report};
//! let fit = LinearModel::new("y", vec![1.0, 2.9, 5.2, 7.1, 8.8])
//!     .regressor("x", vec![0.0, 1.0, 2.0, 3.0, 4.0])
//!     .fit()
//!     .unwrap();
//! let table = fit.inference(&Vcov::Hc1, 0.05).unwrap();
//! assert!(table.result().to_json().contains("\"label\": \"x\""));
//! ```
#![warn(missing_docs)]

pub use causalkit_ab as ab;
pub use causalkit_data as data;
pub use causalkit_did as did;
pub use causalkit_report as report;
pub use causalkit_stats as stats;
pub use causalkit_synth as synth;

/// The README's Rust examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

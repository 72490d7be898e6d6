//! # causalkit-uplift
//!
//! Uplift modelling for retention and marketing decisions: which customers change behaviour
//! *because* of a treatment. Pure numerics on slices (no data frames, no IO).
//!
//! - [`metrics`]: Qini and uplift curves, `qini_auc`, `qini_auc_positive`, `uplift_auc`,
//!   `uplift_at_k`, the uplift-by-percentile table and its weighted average, causalml's
//!   Qini and AUUC scores; explicit tie handling, continuous outcomes, several treatment
//!   arms and seeded bootstrap intervals.
#![warn(missing_docs)]
#![deny(clippy::float_cmp)]

pub mod error;
pub mod metrics;

pub use error::{Result, UpliftError};
pub use metrics::{
    evaluate, evaluate_arms, ArmsEvaluation, Curve, EvalOptions, Ranked, Strategy, Ties,
    UpliftEvaluation, METRIC_LABELS,
};

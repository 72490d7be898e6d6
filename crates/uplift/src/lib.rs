//! # causalkit-uplift
//!
//! Uplift modelling for retention and marketing decisions: which customers change behaviour
//! *because* of a treatment. Pure numerics on slices (no data frames, no IO).
//!
//! - [`metrics`]: Qini and uplift curves, `qini_auc`, `qini_auc_positive`, `uplift_auc`,
//!   `uplift_at_k`, the uplift-by-percentile table and its weighted average, causalml's
//!   Qini and AUUC scores; explicit tie handling, continuous outcomes, several treatment
//!   arms and seeded bootstrap intervals.
//! - [`binned`]: features binned once for histogram split search.
//! - [`gbdt`]: histogram gradient-boosted trees (squared and logistic loss), the base
//!   learner of the meta-learners.
//! - [`meta`]: meta-learners S, T, X, R, DR, class transformation and IPW transformed
//!   outcome on boosted trees, logistic or linear regression, with propensity trimming.
//! - [`pipeline`]: feature encoding (categorical codes, missing values), seeded split,
//!   fitted models of every kind and the versioned saved-model file.
//! - [`tree`], [`forest`]: uplift trees and random forests with causalml's KL, ED, Chi and
//!   CTS criteria, binary and continuous outcomes, several treatments, honest estimation.
#![warn(missing_docs)]
#![deny(clippy::float_cmp)]

pub mod binned;
pub mod error;
pub mod forest;
pub mod gbdt;
pub mod meta;
pub mod metrics;
pub mod pipeline;
pub mod policy;
pub mod tree;

pub use binned::Binned;
pub use error::{Result, UpliftError};
pub use forest::{ForestOptions, UpliftForest};
pub use gbdt::{Gbdt, GbdtOptions, Loss};
pub use meta::{Base, Learner, MetaFit, MetaLearner, Propensity};
pub use metrics::{
    evaluate, evaluate_arms, ArmsEvaluation, Curve, EvalOptions, Ranked, Strategy, Ties,
    UpliftEvaluation, METRIC_LABELS,
};
pub use tree::{Criterion, TreeOptions, UpliftTree};

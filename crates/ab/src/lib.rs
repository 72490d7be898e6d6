//! # causalkit-ab
//!
//! A/B test analysis on sufficient statistics (counts, sums and cross-products per arm, as the
//! data layer or a warehouse produces them):
//!
//! - [`frequentist`]: per-arm summaries of means, proportions and ratio metrics (delta method,
//!   cluster-robust when the randomisation unit is coarser than the analysis unit), Welch t and
//!   z tests, absolute and relative lifts with delta-method and Fieller intervals, Wilson and
//!   Newcombe intervals for proportions.
//! - [`adjust`]: CUPED / regression adjustment on several pre-period covariates (also for ratio
//!   metrics) and post-stratification.
//! - [`influence`]: the joint covariance of several metrics' effects from per-unit influence
//!   functions (CUPED-adjusted), for value trees and composite rewards.
//! - [`winsor`]: capping extreme values at pooled percentiles before analysis.
//! - [`quantile`]: quantile metrics with order-statistic standard errors (iid or clustered).
//! - [`checks`]: sample-ratio mismatch, guardrail non-inferiority and the ship verdict.
//! - [`error`]: the review specification's errors, naming the option at fault as a typed
//!   [`AbOption`].
//! - [`sequential`], [`planning`], [`multiarm`], [`bayes`]: always-valid inference, power and
//!   sample size, many-to-one comparisons, and Bayesian analysis.
#![warn(missing_docs)]
#![deny(clippy::float_cmp)]

pub mod adjust;
pub mod bayes;
pub mod checks;
pub mod cumulative;
pub mod error;
pub mod frequentist;
pub mod influence;
pub mod multiarm;
pub mod planning;
pub mod quantile;
pub mod review;
pub mod sequential;
pub mod winsor;

pub use adjust::{post_stratify, ratio_regression_adjust, regression_adjust};
pub use checks::{non_inferiority_p, srm, verdict, Decision, Direction, Srm, Verdict};
pub use error::{AbError, AbOption, AbResult};
pub use frequentist::{
    compare, fieller, ArmStats, Comparison, FiellerInterval, Lift, MetricType, TestKind,
    TestOptions,
};
pub use quantile::{quantile_arm, quantile_arm_clustered};

//! Typed errors of the uplift crate.

use causalkit_stats::StatsError;
use thiserror::Error;

/// Everything that can go wrong when evaluating or fitting uplift models. Each variant names
/// the input, row or value at fault.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum UpliftError {
    /// Two inputs that must have the same length do not.
    #[error("length mismatch: `{what}` has {got} rows, expected {expected}")]
    LengthMismatch {
        /// Which input.
        what: String,
        /// Its length.
        got: usize,
        /// The length it should have.
        expected: usize,
    },
    /// A value is NaN or infinite.
    #[error("non-finite value {value} in `{variable}` at row {row}")]
    NonFinite {
        /// The input.
        variable: String,
        /// Zero-based row index.
        row: usize,
        /// The value.
        value: f64,
    },
    /// A value outside the allowed set (e.g. a non-binary outcome where the metric needs 0/1).
    #[error("value {value} in `{variable}` at row {row} is not allowed: {expected}")]
    BadValue {
        /// The input.
        variable: String,
        /// Zero-based row index.
        row: usize,
        /// The value.
        value: f64,
        /// What was expected, in words.
        expected: String,
    },
    /// Not enough rows (or no treated / no control rows) for the computation.
    #[error("not enough data: {0}")]
    InsufficientData(String),
    /// A metric is not defined for these data (e.g. a zero denominator), with the reason.
    #[error("`{metric}` is undefined here: {reason}")]
    Undefined {
        /// The metric.
        metric: String,
        /// Why.
        reason: String,
    },
    /// A bad option value.
    #[error("invalid option `{name}`: {reason}")]
    InvalidOption {
        /// The option.
        name: String,
        /// Why.
        reason: String,
    },
    /// A missing feature value (and missing values are not allowed).
    #[error(
        "missing value in feature `{column}` at row {row} (pass --allow-missing to impute it)"
    )]
    Missing {
        /// The column.
        column: String,
        /// Zero-based row index.
        row: usize,
    },
    /// A category that the model did not see in training.
    #[error("feature `{column}` at row {row} holds category `{value}`, unseen when the model was fitted")]
    UnknownCategory {
        /// The column.
        column: String,
        /// Zero-based row index.
        row: usize,
        /// The category.
        value: String,
    },
    /// An error from the statistics core.
    #[error(transparent)]
    Stats(#[from] StatsError),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, UpliftError>;

pub(crate) fn undefined(metric: &str, reason: impl Into<String>) -> UpliftError {
    UpliftError::Undefined {
        metric: metric.into(),
        reason: reason.into(),
    }
}

pub(crate) fn invalid(name: &str, reason: impl Into<String>) -> UpliftError {
    UpliftError::InvalidOption {
        name: name.into(),
        reason: reason.into(),
    }
}

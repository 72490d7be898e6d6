//! Typed errors of the numeric core.

use thiserror::Error;

/// Everything that can go wrong in the numeric core. Each variant names the variable, row or
/// value at fault so that a caller can show it to the user unchanged.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum StatsError {
    /// Two inputs that must have the same length do not.
    #[error("length mismatch: {what} has {got} rows, expected {expected}")]
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
        /// The variable.
        variable: String,
        /// Zero-based row index.
        row: usize,
        /// The offending value.
        value: f64,
    },
    /// A value lies outside the range the method allows.
    #[error("value {value} in `{variable}` at row {row} is out of range: {expected}")]
    OutOfRange {
        /// The variable.
        variable: String,
        /// Zero-based row index.
        row: usize,
        /// The offending value.
        value: f64,
        /// What was expected, in words.
        expected: String,
    },
    /// Not enough observations (or clusters, groups) for the requested computation.
    #[error("not enough data: {0}")]
    InsufficientData(String),
    /// The design matrix is rank deficient: the named column is (numerically) a linear
    /// combination of the others or of the absorbed fixed effects.
    #[error("singular design: column `{column}` is collinear with {with}")]
    Collinear {
        /// The column that was found redundant.
        column: String,
        /// What it is collinear with, in words.
        with: String,
    },
    /// A logistic regression has (quasi-)complete separation: the maximum-likelihood estimate
    /// does not exist.
    #[error("separation in logistic regression: {0}")]
    Separation(String),
    /// An iterative method did not reach its tolerance.
    #[error("{method} did not converge in {iterations} iterations (tolerance {tolerance:e}, last change {last_change:e})")]
    NotConverged {
        /// The method.
        method: String,
        /// Iterations performed.
        iterations: usize,
        /// The tolerance asked for.
        tolerance: f64,
        /// The last change seen.
        last_change: f64,
    },
    /// A parameter is invalid (e.g. alpha outside (0, 1)).
    #[error("invalid argument `{name}`: {reason}")]
    InvalidArgument {
        /// The parameter.
        name: String,
        /// Why it is invalid.
        reason: String,
    },
    /// The requested variance estimator is not available for this model.
    #[error("variance estimator {vcov} is not available here: {reason}")]
    UnsupportedVcov {
        /// The estimator asked for.
        vcov: String,
        /// Why not, and what to use instead.
        reason: String,
    },
}

impl StatsError {
    /// Whether this is a numerical failure on valid input (an iterative method that did not
    /// reach its tolerance) rather than a problem with the input; the CLI exits 1 for these
    /// and 2 for bad input. A collinear design or separation in a logistic regression is a
    /// property of the data the user gave (the error names the column), so it counts as
    /// input. The estimator crates' `is_numerical` delegate here for their `Stats` variants.
    pub fn is_numerical(&self) -> bool {
        matches!(self, StatsError::NotConverged { .. })
    }
}

/// Result alias of the numeric core.
pub type Result<T> = std::result::Result<T, StatsError>;

pub(crate) fn invalid(name: &str, reason: impl Into<String>) -> StatsError {
    StatsError::InvalidArgument {
        name: name.to_string(),
        reason: reason.into(),
    }
}

/// Checks that every value of `x` is finite, naming the variable and row otherwise.
pub fn check_finite(variable: &str, x: &[f64]) -> Result<()> {
    match x.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(row) => Err(StatsError::NonFinite {
            variable: variable.to_string(),
            row,
            value: x[row],
        }),
    }
}

/// Checks that `x` has `expected` rows.
pub fn check_len(what: &str, got: usize, expected: usize) -> Result<()> {
    if got == expected {
        Ok(())
    } else {
        Err(StatsError::LengthMismatch {
            what: what.to_string(),
            got,
            expected,
        })
    }
}

/// Checks a significance level lies in (0, 1).
pub fn check_alpha(alpha: f64) -> Result<()> {
    if alpha > 0.0 && alpha < 1.0 {
        Ok(())
    } else {
        Err(invalid("alpha", format!("must lie in (0, 1), got {alpha}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_non_convergence_is_numerical() {
        let nc = StatsError::NotConverged {
            method: "IRLS".into(),
            iterations: 25,
            tolerance: 1e-10,
            last_change: 1e-3,
        };
        assert!(nc.is_numerical());
        let collinear = StatsError::Collinear {
            column: "x2".into(),
            with: "x1".into(),
        };
        assert!(!collinear.is_numerical());
        assert!(!invalid("alpha", "must lie in (0, 1)").is_numerical());
        assert!(!StatsError::Separation("x".into()).is_numerical());
    }
}

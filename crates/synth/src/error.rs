//! Typed errors of the synthetic DiD / augmented SC estimators.

use causalkit_stats::StatsError;
use thiserror::Error;

/// Errors raised by the synthetic DiD family, the augmented SC and the panel builder.
#[derive(Debug, Error)]
pub enum SynthError {
    /// A value is NaN or infinite.
    #[error("non-finite outcome {value} for unit `{unit}` in period {period}")]
    NonFinite {
        /// The unit.
        unit: String,
        /// The period.
        period: String,
        /// The value.
        value: f64,
    },
    /// A unit has no row (or more than one row) in a period.
    #[error("unbalanced panel: unit `{unit}` has {rows} rows in period {period} (need exactly 1)")]
    Unbalanced {
        /// The unit.
        unit: String,
        /// The period.
        period: String,
        /// Number of rows found.
        rows: usize,
    },
    /// A treated unit name does not occur in the data.
    #[error("treated unit `{0}` does not occur in the unit column")]
    UnknownUnit(String),
    /// Not enough units or periods for the requested computation.
    #[error("not enough data: {0}")]
    InsufficientData(String),
    /// The requested standard error is not defined for this design.
    #[error("{method} standard error is not defined here: {reason}")]
    SeUndefined {
        /// The SE method.
        method: String,
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
    /// The simplex QP of the synthetic control weights did not reach its KKT conditions, or
    /// a ridge system was singular (reported, never hidden).
    #[error("numerical failure: {0}")]
    Numerical(String),
    /// An error from the statistics core.
    #[error(transparent)]
    Stats(#[from] StatsError),
}

impl SynthError {
    /// Whether this is a numerical failure (a solver that failed or did not converge) rather
    /// than a problem with the input; the CLI exits 1 for these and 2 for bad input.
    pub fn is_numerical(&self) -> bool {
        match self {
            SynthError::Numerical(_) => true,
            SynthError::Stats(e) => e.is_numerical(),
            _ => false,
        }
    }
}

/// Result alias of this crate's estimators.
pub type Result<T> = std::result::Result<T, SynthError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numerical_failures_are_told_apart_from_bad_input() {
        assert!(SynthError::Numerical("QP broke down".into()).is_numerical());
        assert!(!SynthError::UnknownUnit("Atlantis".into()).is_numerical());
        assert!(!SynthError::Stats(StatsError::InsufficientData("x".into())).is_numerical());
    }
}

//! Typed errors of the difference-in-differences estimators.

use crate::cs::CsError;
use causalkit_stats::StatsError;
use thiserror::Error;

/// Everything that can go wrong in a DiD estimator. Each variant names the unit, cohort,
/// period or argument at fault.
///
/// The estimators on a [`crate::StaggeredPanel`] (TWFE, event study, Sun–Abraham,
/// imputation, wild bootstrap) return this type. Callaway–Sant'Anna ([`crate::cs`]) works on
/// row-level [`crate::cs::CsData`] and returns [`CsError`], whose variants name rows rather
/// than unit labels (see there why it is a separate type); it converts into this one
/// ([`DidError::Cs`]), so one `Result<_, DidError>` covers every DiD call.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum DidError {
    /// An error of the numeric core (length mismatch, non-finite value, singular design...).
    #[error(transparent)]
    Stats(#[from] StatsError),
    /// A unit's cohort (first treated period) is not the same on all its rows.
    #[error("unit `{unit}` has more than one cohort (first treated period): {first} and {second}")]
    CohortNotConstant {
        /// The unit label.
        unit: String,
        /// One cohort value seen.
        first: String,
        /// Another cohort value seen.
        second: String,
    },
    /// The same unit appears twice in one period.
    #[error("unit `{unit}` appears more than once in period {period}")]
    DuplicateUnitPeriod {
        /// The unit label.
        unit: String,
        /// The period.
        period: i64,
    },
    /// There are no treated observations.
    #[error("no treated observations: {0}")]
    NoTreated(String),
    /// There are no comparison (not-yet- or never-treated) observations to identify the
    /// counterfactual.
    #[error("no comparison observations: {0}")]
    NoControls(String),
    /// A cohort has no untreated period in the data, so its counterfactual cannot be
    /// identified (e.g. a cohort treated in the first period).
    #[error("cohort {cohort} has no untreated period in the data (first period observed: {first_period}); its units cannot be used — drop them or recode them")]
    NoPrePeriod {
        /// The cohort (first treated period).
        cohort: i64,
        /// The first period in the data.
        first_period: i64,
    },
    /// A period in which every unit is treated (no comparison unit) makes the period
    /// effect unidentified.
    #[error("period {period}: every unit observed is treated, so the period effect is not identified; restrict the sample to earlier periods")]
    NoControlInPeriod {
        /// The period.
        period: i64,
    },
    /// An argument is invalid.
    #[error("invalid argument `{name}`: {reason}")]
    InvalidArgument {
        /// The argument.
        name: String,
        /// Why.
        reason: String,
    },
    /// An error of the Callaway–Sant'Anna estimator (row-level input, see [`CsError`]).
    #[error(transparent)]
    Cs(#[from] CsError),
}

impl DidError {
    /// Whether this is a numerical failure (an iterative solver that did not converge) rather
    /// than a problem with the input; the CLI exits 1 for these and 2 for bad input.
    pub fn is_numerical(&self) -> bool {
        match self {
            DidError::Stats(e) => e.is_numerical(),
            DidError::Cs(e) => e.is_numerical(),
            _ => false,
        }
    }
}

/// Result alias of the DiD estimators.
pub type Result<T> = std::result::Result<T, DidError>;

pub(crate) fn invalid(name: &str, reason: impl Into<String>) -> DidError {
    DidError::InvalidArgument {
        name: name.to_string(),
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numerical_failures_are_told_apart_from_bad_input() {
        let nc = DidError::Stats(StatsError::NotConverged {
            method: "demeaning".into(),
            iterations: 10,
            tolerance: 1e-8,
            last_change: 1e-3,
        });
        assert!(nc.is_numerical());
        assert!(!invalid("alpha", "bad").is_numerical());
        assert!(!DidError::NoTreated("none".into()).is_numerical());
        // Callaway–Sant'Anna errors keep their classification through the conversion.
        let cs_nc = CsError::Stats(StatsError::NotConverged {
            method: "logit".into(),
            iterations: 25,
            tolerance: 1e-10,
            last_change: 1e-2,
        });
        assert!(DidError::from(cs_nc).is_numerical());
        let bad: DidError = CsError::NoNeverTreated.into();
        assert!(!bad.is_numerical());
        assert_eq!(bad.to_string(), CsError::NoNeverTreated.to_string());
    }
}

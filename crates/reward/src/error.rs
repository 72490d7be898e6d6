//! Typed errors of the reward crate; each names the signal, column, row or key at fault.

use thiserror::Error;

/// Everything that can go wrong in calibration and evaluation.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum RewardError {
    /// A reward expression does not parse; `position` is the 1-based character at fault.
    #[error("malformed reward expression at character {position}: {message} (in `{expression}`)")]
    Expression {
        /// The expression as given.
        expression: String,
        /// 1-based character position.
        position: usize,
        /// What was expected.
        message: String,
    },
    /// A name (signal, covariate, KPI) that the data or calibration does not have.
    #[error("unknown {what} `{name}` ({known})")]
    Unknown {
        /// "signal", "covariate", ...
        what: String,
        /// The name given.
        name: String,
        /// The names that exist, in words.
        known: String,
    },
    /// The design of the surrogate-index regression is singular: the named column is constant
    /// or a linear combination of the others.
    #[error("singular design: `{column}` is collinear with {with} (a constant signal, or one that is a linear combination of the others, has no identifiable weight)")]
    Singular {
        /// The redundant column.
        column: String,
        /// What it is collinear with.
        with: String,
    },
    /// Columns of different lengths, too few rows or units, bad options.
    #[error("{0}")]
    Invalid(String),
    /// A statistics or A/B routine refused its input (names the variable and row).
    #[error(transparent)]
    Stats(#[from] causalkit_stats::StatsError),
    /// The boosted learner refused its input.
    #[error("boosted index: {0}")]
    Uplift(String),
    /// The weight choice has no solution: no move of the given size meets the guardrails
    /// (names them and what they require).
    #[error("infeasible weight choice: {0}")]
    Infeasible(String),
    /// The cone solver stopped without a solution on a feasible problem.
    #[error("cone solver: {0}")]
    Solver(String),
    /// A calibration file cannot be read or has another version.
    #[error("calibration file: {0}")]
    File(String),
}

impl RewardError {
    /// True when the failure is numerical on valid input (exit 1), not bad input.
    pub fn is_numerical(&self) -> bool {
        matches!(self, RewardError::Solver(_))
            || matches!(self, RewardError::Stats(e) if e.is_numerical())
    }
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, RewardError>;

/// Maps a statistics error, turning a collinear design into [`RewardError::Singular`].
pub(crate) fn from_stats(e: causalkit_stats::StatsError) -> RewardError {
    match e {
        causalkit_stats::StatsError::Collinear { column, with } => {
            RewardError::Singular { column, with }
        }
        other => RewardError::Stats(other),
    }
}

//! The attribution error type.

use thiserror::Error;

/// Everything that can go wrong between a release spec and its money.
///
/// [`AttributionError::is_numerical`] separates failures on valid input (an estimator that did
/// not converge, a singular design after validation: exit 1 in the CLI) from bad input
/// (exit 2).
#[derive(Debug, Error)]
pub enum AttributionError {
    /// The spec file is wrong: an unknown or missing key, a key that does not fit the
    /// design kind, an undefined name, a cycle. Names the file and the key.
    #[error("{file}: `{key}`: {message}")]
    Spec {
        /// The spec file as given.
        file: String,
        /// The key at fault (e.g. `design.adoption`, `value.node.total_cost.expr`).
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// The data layer refused the data (missing column, bad value, ...).
    #[error(transparent)]
    Data(#[from] causalkit_data::DataError),
    /// A statistics routine refused its input.
    #[error(transparent)]
    Stats(#[from] causalkit_stats::StatsError),
    /// An estimator failed on this design (names the estimator).
    #[error("{estimator}: {message}")]
    Estimator {
        /// The estimator (e.g. "A/B engine", "Callaway-Sant'Anna", "synthetic DiD").
        estimator: String,
        /// What it said.
        message: String,
        /// True when the input was valid but the numerics failed (exit 1).
        numerical: bool,
    },
    /// The query engine of `[data] engine` refused the request or failed (names the engine,
    /// the table and the column).
    /// (Boxed: the engine's error is large and rare.)
    #[error(transparent)]
    Engine(Box<causalkit_warehouse::WarehouseError>),
    /// Any other invalid request (names the value at fault in the message).
    #[error("{0}")]
    Invalid(String),
}

impl AttributionError {
    /// The same error with the spec file's name filled in (a [`AttributionError::Spec`] raised
    /// before the file was known, e.g. by `value::ValueTree::from_spec`); other errors are
    /// returned unchanged.
    pub fn with_file(self, file: &str) -> Self {
        match self {
            AttributionError::Spec { key, message, .. } => AttributionError::Spec {
                file: file.to_string(),
                key,
                message,
            },
            other => other,
        }
    }

    /// The same error with the data layer's advice phrased for a release spec: a
    /// [`causalkit_data::DataError::MissingValues`] advises `--drop-missing`, a CLI flag that
    /// `attribute` does not have. In a randomised design whose spec does not set
    /// `[data] drop_missing`, it becomes a [`AttributionError::Spec`] error on that key; in a
    /// design where the key does not apply (rollout, single-unit: every row needs its unit and
    /// period), or where it is already set, the advice is to fill or remove those rows.
    pub fn in_spec(self, spec: &crate::spec::ReleaseSpec) -> Self {
        let AttributionError::Data(causalkit_data::DataError::MissingValues {
            column,
            count,
            first_row,
        }) = self
        else {
            return self;
        };
        let what = format!(
            "column `{column}` has {count} missing value(s), the first at {}",
            causalkit_data::error::row_label(first_row)
        );
        let randomised = matches!(
            spec.design.as_ref().map(|d| d.kind),
            Some(crate::spec::DesignKind::Randomised)
        );
        if randomised && !spec.data.drop_missing {
            AttributionError::Spec {
                file: spec.file.clone(),
                key: "data.drop_missing".into(),
                message: format!(
                    "{what}; set `drop_missing = true` under [data] to leave such rows out of \
                     the KPIs they lack (the counts are reported)"
                ),
            }
        } else {
            AttributionError::Invalid(format!(
                "{}: {what}; fill or remove those rows (every row needs its unit, period and \
                 assignment columns)",
                spec.file
            ))
        }
    }

    /// An estimator's failure on one KPI: names the estimator and the KPI; `numerical` says
    /// whether the input was valid and the numerics failed (exit 1) or the input was bad
    /// (exit 2).
    pub fn on_kpi(
        estimator: &str,
        kpi: &str,
        error: impl std::fmt::Display,
        numerical: bool,
    ) -> Self {
        AttributionError::Estimator {
            estimator: estimator.into(),
            message: format!("KPI `{kpi}`: {error}"),
            numerical,
        }
    }

    /// True when the failure is numerical on valid input, not bad input.
    pub fn is_numerical(&self) -> bool {
        matches!(
            self,
            AttributionError::Estimator {
                numerical: true,
                ..
            }
        )
    }
}

impl From<causalkit_warehouse::WarehouseError> for AttributionError {
    fn from(e: causalkit_warehouse::WarehouseError) -> Self {
        AttributionError::Engine(Box::new(e))
    }
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, AttributionError>;

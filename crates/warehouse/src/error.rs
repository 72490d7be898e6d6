//! Typed errors: each names the engine, table and column (or request field) at fault.

use thiserror::Error;

/// An error of the warehouse layer.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum WarehouseError {
    /// The request itself is not valid (before any engine is contacted).
    #[error("invalid warehouse request: {field}: {reason}")]
    InvalidRequest {
        /// The request field (e.g. `metrics`, `covariate`, `dialect`).
        field: String,
        /// Why.
        reason: String,
    },
    /// The engine could not be reached (connection refused, authentication, TLS...).
    #[error("cannot reach engine {engine}: {reason}")]
    Unreachable {
        /// The engine's address, without credentials.
        engine: String,
        /// The client's message.
        reason: String,
    },
    /// The table does not exist (or is not visible to the user).
    #[error("engine {engine}: table {table} does not exist")]
    MissingTable {
        /// The engine's address.
        engine: String,
        /// The table as given.
        table: String,
    },
    /// A column the request uses is not in the table.
    #[error("engine {engine}: table {table} has no column `{column}` (it has: {available})")]
    MissingColumn {
        /// The engine's address.
        engine: String,
        /// The table.
        table: String,
        /// The missing column.
        column: String,
        /// The table's columns, comma separated.
        available: String,
    },
    /// A column has a type the request cannot use (e.g. text where a number is needed).
    #[error(
        "engine {engine}: column `{column}` of table {table} is {found}, but {expected} is needed"
    )]
    TypeMismatch {
        /// The engine's address.
        engine: String,
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The column's type in the engine.
        found: String,
        /// What the request needs.
        expected: String,
    },
    /// The query ran longer than the allowed time.
    #[error("engine {engine}: the query on table {table} timed out after {seconds} s")]
    Timeout {
        /// The engine's address.
        engine: String,
        /// The table.
        table: String,
        /// The limit.
        seconds: f64,
    },
    /// Rows with a missing value in a column the metric uses (and dropping was not asked for).
    #[error("engine {engine}: table {table}: {rows} row(s) used by metric `{metric}` have a missing value in one of the columns {columns}; drop them (--drop-missing) or fill them")]
    MissingValues {
        /// The engine's address.
        engine: String,
        /// The table.
        table: String,
        /// The metric.
        metric: String,
        /// The columns checked.
        columns: String,
        /// How many rows.
        rows: u64,
    },
    /// Rows whose value is outside what the metric allows (a proportion not 0/1, an NPS
    /// score not an integer 0–10, a negative ratio denominator).
    #[error("engine {engine}: table {table}: {rows} row(s) of column `{column}` are not {expected} (metric `{metric}`)")]
    OutOfRange {
        /// The engine's address.
        engine: String,
        /// The table.
        table: String,
        /// The metric.
        metric: String,
        /// The column.
        column: String,
        /// What was expected.
        expected: &'static str,
        /// How many rows.
        rows: u64,
    },
    /// A unit found in two arms: randomisation must be at or above the analysis unit.
    #[error("engine {engine}: table {table}: unit `{unit}` of column `{column}` is in several arms; randomisation must be at or above the analysis unit")]
    UnitInSeveralArms {
        /// The engine's address.
        engine: String,
        /// The table.
        table: String,
        /// The unit column.
        column: String,
        /// One unit in several arms.
        unit: String,
    },
    /// A value in the table breaks what the request needs (e.g. a cohort that is not constant
    /// within a unit, a treated indicator that is not 0/1, a fractional period).
    #[error("engine {engine}: table {table}: column `{column}`: {reason}")]
    InvalidData {
        /// The engine's address.
        engine: String,
        /// The table.
        table: String,
        /// The column at fault.
        column: String,
        /// What is wrong, naming the value (and unit or period where there is one).
        reason: String,
    },
    /// The engine answered with something the statistics cannot come from.
    #[error("engine {engine}: table {table}: unexpected result column `{column}`: {reason}")]
    BadResult {
        /// The engine's address.
        engine: String,
        /// The table.
        table: String,
        /// The result column.
        column: String,
        /// Why.
        reason: String,
    },
    /// Any other failure reported by the engine.
    #[error("engine {engine}: query on table {table} failed: {reason}")]
    Engine {
        /// The engine's address.
        engine: String,
        /// The table.
        table: String,
        /// The engine's message.
        reason: String,
    },
}

impl WarehouseError {
    /// [`WarehouseError::MissingValues`] for `metric`: `rows` (a count the engine returned)
    /// rows with a missing value in one of `columns`, listed as `` `a`, `b` ``.
    pub(crate) fn missing_values(
        engine: String,
        table: String,
        metric: &str,
        columns: &[&str],
        rows: f64,
    ) -> WarehouseError {
        WarehouseError::MissingValues {
            engine,
            table,
            metric: metric.to_string(),
            columns: columns
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", "),
            rows: rows as u64,
        }
    }

    /// True for failures of the engine (unreachable, timeout, other engine errors), false
    /// for errors of the request or the data; the CLI exits 1 for the former and 2 for the
    /// latter.
    pub fn is_engine_failure(&self) -> bool {
        matches!(
            self,
            WarehouseError::Unreachable { .. }
                | WarehouseError::Timeout { .. }
                | WarehouseError::Engine { .. }
                | WarehouseError::BadResult { .. }
        )
    }
}

/// Result with [`WarehouseError`].
pub type Result<T> = std::result::Result<T, WarehouseError>;

//! Typed errors of the data layer.

use causalkit_stats::StatsError;
use thiserror::Error;

/// What can be wrong with input data. Every variant names the column, row (zero-based data
/// row, header excluded) or value at fault.
#[derive(Debug, Error)]
pub enum DataError {
    /// The file could not be read.
    #[error("cannot read `{path}`: {message}")]
    Read {
        /// The file.
        path: String,
        /// What the reader said.
        message: String,
    },
    /// A file could not be written.
    #[error("cannot write `{path}`: {message}")]
    Write {
        /// The file.
        path: String,
        /// What the writer said.
        message: String,
    },
    /// The file's extension is not one we read.
    #[error("unsupported file type `{path}`: use .csv or .parquet")]
    UnsupportedFormat {
        /// The file.
        path: String,
    },
    /// A named column does not exist.
    #[error("column `{column}` not found; available columns: {}", available.join(", "))]
    MissingColumn {
        /// The column asked for.
        column: String,
        /// The columns that exist.
        available: Vec<String>,
    },
    /// A column that must be numeric holds a value that is not a number.
    #[error("column `{column}` must be numeric, but row {row} holds `{value}`")]
    NonNumeric {
        /// The column.
        column: String,
        /// Zero-based data row.
        row: usize,
        /// The value as text.
        value: String,
    },
    /// A value is outside the range its role allows.
    #[error("column `{column}`, row {row}: value {value} is out of range ({expected})")]
    OutOfRange {
        /// The column.
        column: String,
        /// Zero-based data row.
        row: usize,
        /// The value.
        value: f64,
        /// What is allowed.
        expected: String,
    },
    /// Missing values where none are allowed.
    #[error("column `{column}` has {count} missing value(s), the first at row {first_row}; pass --drop-missing to drop such rows")]
    MissingValues {
        /// The column.
        column: String,
        /// How many.
        count: usize,
        /// The first row with a missing value.
        first_row: usize,
    },
    /// The same unit and period appear twice in a panel.
    #[error(
        "duplicate panel row: unit `{unit}`, period {period} at rows {first_row} and {second_row}"
    )]
    DuplicateUnitPeriod {
        /// The unit.
        unit: String,
        /// The period.
        period: String,
        /// The first row.
        first_row: usize,
        /// The duplicate.
        second_row: usize,
    },
    /// An analysis unit appears in more than one group (e.g. an agent in both arms): the
    /// randomisation unit must be at or above the analysis unit.
    #[error("unit `{unit}` of column `{column}` is in group {first_group} (row {first_row}) and in group {second_group} (row {second_row}); each analysis unit must belong to one group")]
    UnitInSeveralGroups {
        /// The unit column.
        column: String,
        /// The unit.
        unit: String,
        /// Its first group.
        first_group: String,
        /// Where it was first seen.
        first_row: usize,
        /// The other group.
        second_group: String,
        /// Where it was seen in the other group.
        second_row: usize,
    },
    /// A column that must vary is constant (e.g. an arm column with one arm, a covariate
    /// with one value).
    #[error("column `{column}` is constant (every non-missing value is `{value}`); {why}")]
    ConstantColumn {
        /// The column.
        column: String,
        /// Its only value.
        value: String,
        /// Why it must vary.
        why: String,
    },
    /// A group needed by the analysis has no usable rows.
    #[error("empty group: {0}")]
    EmptyGroup(String),
    /// A KPI definition cannot be parsed or used.
    #[error("invalid KPI definition `{spec}`: {reason}")]
    InvalidKpi {
        /// The definition as given.
        spec: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A column that must be constant within each unit (a cohort, a cluster) is not.
    #[error("column `{column}` must be constant within each unit, but unit `{unit}` has {first} (row {first_row}) and {second} (row {second_row})")]
    NotConstantWithinUnit {
        /// The column.
        column: String,
        /// The unit.
        unit: String,
        /// One value.
        first: String,
        /// Its row.
        first_row: usize,
        /// Another value.
        second: String,
        /// Its row.
        second_row: usize,
    },
    /// One column named for two roles that must differ (e.g. the outcome also given as a
    /// covariate or regressor).
    #[error(
        "column `{column}` is given as {first} and as {second}; one column cannot play both roles"
    )]
    ColumnInTwoRoles {
        /// The column.
        column: String,
        /// The first role (with its flag, e.g. "the outcome (--outcome)").
        first: String,
        /// The second role.
        second: String,
    },
    /// An error of the numeric core.
    #[error(transparent)]
    Stats(#[from] StatsError),
}

/// Result alias of the data layer.
pub type Result<T> = std::result::Result<T, DataError>;

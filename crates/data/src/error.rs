//! Typed errors of the data layer.

use causalkit_stats::StatsError;
use thiserror::Error;

/// What can be wrong with input data. Every variant names the column, row or value at fault.
///
/// Row fields (`row`, `first_row`, `second_row`) hold the zero-based index of the data row
/// (header excluded), for programs; the message shows people the row as they count it, one-based:
/// "row N (CSV line M)", where M = N + 1 is the line of a CSV file with its header line counted,
/// and N the row of a Parquet file. Values and labels echoed in messages are cut to
/// [`ECHO_CHARS`] characters (with their full length said).
#[derive(Debug, Error)]
pub enum DataError {
    /// The file could not be read: it does not exist ("no such file"), is a directory, or the
    /// reader failed for a reason without a more specific variant below.
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
    /// A CSV record has more or fewer fields than the header.
    #[error("`{path}`, row {} (CSV line {line}): {fields} field(s), but the header has {expected}", row + 1)]
    RaggedRow {
        /// The file.
        path: String,
        /// Zero-based data row (record) of the file, as in every other row field.
        row: usize,
        /// One-based line number where the record starts (the header is line 1; a quoted
        /// field spanning lines or a skipped blank line makes it differ from `row + 2`).
        line: usize,
        /// Fields on that line.
        fields: usize,
        /// Fields in the header.
        expected: usize,
    },
    /// A CSV file holds bytes that are not UTF-8 text.
    #[error("`{path}`, {}, byte {column}: the bytes are not valid UTF-8 text; save the file as UTF-8", row.map_or_else(|| "the header (CSV line 1)".to_string(), |r| format!("row {} (CSV line {line})", r + 1)))]
    InvalidUtf8 {
        /// The file.
        path: String,
        /// Zero-based data row (record) holding the bytes; None for the header.
        row: Option<usize>,
        /// One-based line number (the header is line 1).
        line: usize,
        /// One-based byte position in that line.
        column: usize,
    },
    /// Two columns of a file have the same name.
    #[error(
        "`{path}`: the column name `{}` appears more than once; column names must be unique",
        clip(column)
    )]
    DuplicateColumn {
        /// The file.
        path: String,
        /// The repeated name.
        column: String,
    },
    /// A named column does not exist.
    #[error(
        "column `{}` not found; available columns: {}",
        clip(column),
        list(available)
    )]
    MissingColumn {
        /// The column asked for.
        column: String,
        /// The columns that exist.
        available: Vec<String>,
    },
    /// A column that must be numeric holds a value that is not a number.
    #[error("column `{column}` must be numeric, but {} holds `{}`", at(*row), clip(value))]
    NonNumeric {
        /// The column.
        column: String,
        /// Zero-based data row.
        row: usize,
        /// The value as text.
        value: String,
    },
    /// A value is outside the range its role allows.
    #[error("column `{column}`, {}: value {value} is out of range ({expected})", at(*row))]
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
    #[error("column `{column}` has {count} missing value(s), the first at {}; pass --drop-missing to drop such rows", at(*first_row))]
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
        "duplicate panel row: unit `{}`, period {} at {} and {}", clip(unit), clip(period), at(*first_row), at(*second_row)
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
    #[error("unit `{}` of column `{column}` is in group {} ({}) and in group {} ({}); each analysis unit must belong to one group", clip(unit), clip(first_group), at(*first_row), clip(second_group), at(*second_row))]
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
    #[error(
        "column `{column}` is constant (every non-missing value is `{}`); {why}",
        clip(value)
    )]
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
    /// A row of a sufficient-statistics file that no data could produce (a sum of squares
    /// below the square of the sum over the count, a cross-product beyond the Cauchy–Schwarz
    /// bound, a negative count or denominator sum, a proportion's sum outside 0..count), or a
    /// missing value in such a file.
    #[error("sufficient statistics of metric `{}`, group `{}` ({}): {reason}", clip(metric), clip(group), at(*row))]
    InvalidStatistics {
        /// The metric.
        metric: String,
        /// The group (arm, or arm/segment) of the row.
        group: String,
        /// Zero-based data row.
        row: usize,
        /// What is wrong, with the values.
        reason: String,
    },
    /// A time column that must hold dates holds something else.
    #[error("column `{column}` must hold dates (YYYY-MM-DD) or datetimes, but {} holds `{}`", at(*row), clip(value))]
    NotADate {
        /// The column.
        column: String,
        /// Zero-based data row.
        row: usize,
        /// The value as text (or its type).
        value: String,
    },
    /// A period width that is not a positive number of days, or a width given for a column of
    /// numbers (a width applies to dates only).
    #[error("invalid period width for column `{column}`: {reason}")]
    PeriodWidth {
        /// The time column.
        column: String,
        /// Why the width cannot be used.
        reason: String,
    },
    /// A column that must be constant within each unit (a cohort, a cluster) is not.
    #[error("column `{column}` must be constant within each unit, but unit `{unit}` has {} ({}) and {} ({})", clip(first), at(*first_row), clip(second), at(*second_row))]
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
    /// A cell of a unit × period matrix that must be observed is missing (e.g. a covariate
    /// of synthetic control in a period the method needs).
    #[error("missing value in {what} column `{column}` at {} (unit `{}`, period {}): {why}", at(*row), clip(unit), clip(period))]
    MissingCell {
        /// The column's role (e.g. "covariate").
        what: &'static str,
        /// The column.
        column: String,
        /// Zero-based data row.
        row: usize,
        /// The unit of the row.
        unit: String,
        /// The period of the row.
        period: String,
        /// Why the value is needed.
        why: String,
    },
    /// A value named by the user (e.g. a treated unit, a first treated period) does not occur
    /// in its column.
    #[error(
        "{what} `{}` does not occur in column `{column}`; its values: {}",
        clip(value),
        list_of(known, "in all")
    )]
    UnknownValue {
        /// What the value is, with the option that gave it (e.g. "--treated-unit").
        what: String,
        /// The value as given.
        value: String,
        /// The column searched.
        column: String,
        /// The values that occur (sorted).
        known: Vec<String>,
    },
    /// A winsorisation request that cannot be carried out
    /// ([`crate::winsor::winsorize_kpis`]): a malformed request, one naming no metric or a
    /// metric that cannot be capped, or two requests for one metric.
    #[error("winsorize {reason}")]
    Winsorize {
        /// Why, phrased to follow the option's name (e.g. ``"`1.5`: expected LOW,HIGH ..."``),
        /// so a front end can name the option its own way (`--winsorize`).
        reason: String,
    },
    /// An error of the numeric core.
    #[error(transparent)]
    Stats(#[from] StatsError),
}

/// How many characters of a value or label an error message echoes.
pub const ECHO_CHARS: usize = 80;

/// A value as echoed in a message: at most [`ECHO_CHARS`] characters, then an ellipsis and the
/// full length.
pub fn clip(value: &str) -> String {
    let n = value.chars().count();
    if n <= ECHO_CHARS {
        value.to_string()
    } else {
        let head: String = value.chars().take(ECHO_CHARS).collect();
        format!("{head}… ({n} characters)")
    }
}

/// A zero-based data row as people count it: "row N (CSV line N + 1)" — the form every
/// error of this crate uses, public so that layers above (a release spec) word theirs alike.
pub fn row_label(row: usize) -> String {
    at(row)
}

/// A zero-based data row as people count it: "row N (CSV line N + 1)".
fn at(row: usize) -> String {
    format!("row {} (CSV line {})", row + 1, row + 2)
}

/// A list of column names, cut after 20 names (and each name cut as [`clip`] does).
fn list(names: &[String]) -> String {
    list_of(names, "columns")
}

/// A list of names or values, cut after 20 (each cut as [`clip`] does), the total said as
/// "(N `noun`)".
fn list_of(names: &[String], noun: &str) -> String {
    const MAX: usize = 20;
    let shown: Vec<String> = names.iter().take(MAX).map(|n| clip(n)).collect();
    if names.len() > MAX {
        format!("{}, … ({} {noun})", shown.join(", "), names.len())
    } else {
        shown.join(", ")
    }
}

/// Result alias of the data layer.
pub type Result<T> = std::result::Result<T, DataError>;

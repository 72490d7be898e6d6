//! Engines: anything that runs a SQL statement and returns rows of named text or numeric
//! columns. [`run_stats`] checks the request against the table, picks shift constants from
//! a small sample, runs the aggregation and checks its missing and invalid value counts.
//!
//! The trait is synchronous and row-oriented so that a PostgreSQL client, a Spark Connect
//! client (Arrow batches converted to rows) or a test double fit it alike.

use crate::dialect::Dialect;
use crate::error::{Result, WarehouseError};
use crate::request::{Caps, Metric, Shift, StatsRequest, TableName};
use crate::sql::{
    caps_sql, pilot_sql, result_columns, schema_sql, stats_sql, unit_check_sql, value_check,
    variables, ROWS_INVALID, ROWS_MISSING,
};
use std::collections::{BTreeMap, BTreeSet};

/// One value of a result.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// SQL NULL.
    Null,
    /// Any numeric value, as a double.
    Number(f64),
    /// Text (group labels).
    Text(String),
}

/// A query's result: column names and rows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// Column names, in order.
    pub columns: Vec<String>,
    /// Rows, one cell per column.
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// The index of a column.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// The table as CSV (header, then rows; numbers in Rust's shortest round-trip form, so
    /// they read back exactly; NULL as an empty field), which `causalkit ab --stats` reads.
    pub fn to_csv(&self) -> String {
        fn field(s: &str) -> String {
            if s.contains([',', '"', '\n', '\r']) || s.trim() != s || s.is_empty() {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        }
        let mut out = self
            .columns
            .iter()
            .map(|c| field(c))
            .collect::<Vec<_>>()
            .join(",");
        out.push('\n');
        for r in &self.rows {
            let line: Vec<String> = r
                .iter()
                .map(|c| match c {
                    Cell::Null => String::new(),
                    Cell::Number(x) => format!("{x:?}"),
                    Cell::Text(t) => field(t),
                })
                .collect();
            out += &line.join(",");
            out.push('\n');
        }
        out
    }
}

/// The broad type of a table column, as an engine reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnType {
    /// Integers, floats, decimals.
    Numeric,
    /// Booleans.
    Boolean,
    /// Text.
    Text,
    /// Anything else, with the engine's type name.
    Other(String),
}

impl std::fmt::Display for ColumnType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ColumnType::Numeric => f.write_str("numeric"),
            ColumnType::Boolean => f.write_str("boolean"),
            ColumnType::Text => f.write_str("text"),
            ColumnType::Other(t) => write!(f, "of type {t}"),
        }
    }
}

/// A SQL engine.
pub trait Engine {
    /// The engine's address for messages (never credentials).
    fn address(&self) -> String;
    /// The dialect the engine speaks.
    fn dialect(&self) -> Dialect;
    /// The columns of the result of `sql` (a statement returning no rows), without running
    /// an aggregation; a missing table is [`WarehouseError::MissingTable`] naming `table`.
    fn columns(&mut self, table: &TableName, sql: &str) -> Result<Vec<(String, ColumnType)>>;
    /// Runs `sql` (over `table`, for messages) and returns its rows.
    fn query(&mut self, table: &TableName, sql: &str) -> Result<Table>;
}

/// Checks that every column the request reads is in the table, and that metric and
/// covariate columns are numeric.
pub fn check_schema(engine: &mut dyn Engine, req: &StatsRequest) -> Result<()> {
    let sql = schema_sql(req, engine.dialect());
    check_columns(
        engine,
        &req.table,
        &sql,
        &req.all_columns(),
        &req.numeric_columns(),
    )
}

/// Checks that every one of `all` is a column of `table` (whose columns `schema_sql`, a
/// statement returning no rows, gives), and that the `numeric` ones are numeric.
pub(crate) fn check_columns(
    engine: &mut dyn Engine,
    table: &TableName,
    schema_sql: &str,
    all: &BTreeSet<&str>,
    numeric: &BTreeSet<&str>,
) -> Result<()> {
    let cols = engine.columns(table, schema_sql)?;
    let available = || {
        cols.iter()
            .map(|(c, _)| c.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    for c in all {
        if !cols.iter().any(|(n, _)| n == c) {
            return Err(WarehouseError::MissingColumn {
                engine: engine.address(),
                table: table.to_string(),
                column: c.to_string(),
                available: available(),
            });
        }
    }
    for (c, t) in &cols {
        if numeric.contains(c.as_str()) && *t != ColumnType::Numeric {
            return Err(WarehouseError::TypeMismatch {
                engine: engine.address(),
                table: table.to_string(),
                column: c.clone(),
                found: t.to_string(),
                expected: "a numeric column".into(),
            });
        }
    }
    Ok(())
}

/// The number in column `col` of row `row` of the result `t` of a query over `table` (0 for
/// NULL: an empty sum); a missing column or text is [`WarehouseError::BadResult`].
pub(crate) fn number(
    engine: &dyn Engine,
    table: &TableName,
    t: &Table,
    row: usize,
    col: &str,
) -> Result<f64> {
    Ok(optional_number(engine, table, t, row, col)?.unwrap_or(0.0))
}

/// The number in column `col` of row `row` of the result `t` (`None` for NULL); a missing
/// column or a text value is [`WarehouseError::BadResult`].
pub(crate) fn optional_number(
    engine: &dyn Engine,
    table: &TableName,
    t: &Table,
    row: usize,
    col: &str,
) -> Result<Option<f64>> {
    let bad = |reason: String| WarehouseError::BadResult {
        engine: engine.address(),
        table: table.to_string(),
        column: col.to_string(),
        reason,
    };
    let i = t
        .index(col)
        .ok_or_else(|| bad("the engine's result has no such column".into()))?;
    match &t.rows[row][i] {
        Cell::Number(x) => Ok(Some(*x)),
        Cell::Null => Ok(None),
        Cell::Text(s) => Err(bad(format!("`{s}` is not a number"))),
    }
}

/// [`WarehouseError::OutOfRange`] for `rows` (a count the engine returned) rows of `table`
/// whose value metric `m` does not allow (its [`value_check`]).
pub(crate) fn out_of_range(
    engine: &dyn Engine,
    table: &TableName,
    m: &Metric,
    rows: f64,
) -> WarehouseError {
    let check = value_check(m).unwrap_or(crate::sql::ValueCheck {
        column: String::new(),
        expected: "valid",
    });
    WarehouseError::OutOfRange {
        engine: engine.address(),
        table: table.to_string(),
        metric: m.name.clone(),
        column: check.column,
        expected: check.expected,
        rows: rows as u64,
    }
}

/// Shift constants from a sample of `sample` rows: the sample mean of each row value (times
/// the sample's rows per unit for the unit sums of numerator and denominator; covariates are
/// unit means). Any constant is exact; one near the mean keeps the sums of squares precise.
pub fn pilot_shifts(
    engine: &mut dyn Engine,
    req: &StatsRequest,
    sample: usize,
) -> Result<BTreeMap<String, Shift>> {
    let t = engine.query(&req.table, &pilot_sql(req, engine.dialect(), sample)?)?;
    let mut out = BTreeMap::new();
    if t.rows.is_empty() {
        return Ok(out);
    }
    let rows = number(engine, &req.table, &t, 0, "p_rows")?;
    let units = number(engine, &req.table, &t, 0, "p_units")?;
    let per_unit = if req.unit.is_some() && units > 0.0 {
        rows / units
    } else {
        1.0
    };
    for (k, m) in req.metrics.iter().enumerate() {
        let mut s = [0.0; 4];
        for i in variables(req, m) {
            let mean = number(engine, &req.table, &t, 0, &format!("m{k}_v{i}"))?;
            s[i] = if i < 2 { mean * per_unit } else { mean };
        }
        out.insert(
            m.name.clone(),
            Shift {
                numerator: s[0],
                denominator: s[1],
                covariate: s[2],
                denominator_pre: s[3],
            },
        );
    }
    Ok(out)
}

/// Runs `sql` over `table` (`what` it is and its first `column`, for messages), which must
/// return exactly one row.
pub(crate) fn query_one_row(
    engine: &mut dyn Engine,
    table: &TableName,
    sql: &str,
    what: &str,
    column: &str,
) -> Result<Table> {
    let t = engine.query(table, sql)?;
    if t.rows.len() != 1 {
        return Err(WarehouseError::BadResult {
            engine: engine.address(),
            table: table.to_string(),
            column: column.into(),
            reason: format!("{what} returned {} rows, not 1", t.rows.len()),
        });
    }
    Ok(t)
}

/// The winsorisation caps of every winsorised metric whose caps are not known yet, from one
/// pre-query ([`caps_sql`]): percentiles of the metric's column over the rows it reads,
/// pooled over the arms. A metric with no value to take percentiles of is an error naming it.
pub fn winsor_caps(engine: &mut dyn Engine, req: &StatsRequest) -> Result<BTreeMap<String, Caps>> {
    let mut out = BTreeMap::new();
    let Some(sql) = caps_sql(req, engine.dialect()) else {
        return Ok(out);
    };
    let t = query_one_row(engine, &req.table, &sql, "the caps query", "m0_rows")?;
    for (k, m) in req.metrics.iter().enumerate() {
        if !req.winsor.contains_key(&m.name) {
            continue;
        }
        let rows = number(engine, &req.table, &t, 0, &format!("m{k}_rows"))?;
        if rows < 1.0 {
            return Err(WarehouseError::InvalidRequest {
                field: "winsorize".into(),
                reason: format!(
                    "metric `{}`: no non-missing values in table {} to winsorise",
                    m.name, req.table
                ),
            });
        }
        let cap = |suffix: &str| -> Result<Option<f64>> {
            let col = format!("m{k}_{suffix}");
            let i = t.index(&col);
            Ok(match i.map(|i| &t.rows[0][i]) {
                Some(Cell::Number(x)) => Some(*x),
                Some(Cell::Null) | None => None,
                Some(Cell::Text(_)) => Some(number(engine, &req.table, &t, 0, &col)?),
            })
        };
        out.insert(
            m.name.clone(),
            Caps {
                lower: cap("lo")?,
                upper: cap("hi")?,
                rows,
            },
        );
    }
    Ok(out)
}

/// Runs the request: checks the table's columns, that no unit is in two arms, computes the
/// winsorisation caps not given ([`winsor_caps`]), picks shifts from a sample of 1000 rows
/// when the request gives none, aggregates, and turns the
/// result's `rows_missing` / `rows_invalid` counts into errors naming metric and columns.
/// The returned table has the columns of [`result_columns`].
pub fn run_stats(engine: &mut dyn Engine, req: &StatsRequest) -> Result<Table> {
    req.validate()?;
    check_schema(engine, req)?;
    let d = engine.dialect();
    if let Some(sql) = unit_check_sql(req, d) {
        let t = engine.query(&req.table, &sql)?;
        if let Some(row) = t.rows.first() {
            let unit = match row.first() {
                Some(Cell::Text(s)) => s.clone(),
                Some(Cell::Number(x)) => x.to_string(),
                _ => String::new(),
            };
            return Err(WarehouseError::UnitInSeveralArms {
                engine: engine.address(),
                table: req.table.to_string(),
                column: req.unit.clone().unwrap_or_default(),
                unit,
            });
        }
    }
    let mut req = req.clone();
    if req.winsor.values().any(|w| w.caps.is_none()) {
        for (name, caps) in winsor_caps(engine, &req)? {
            if let Some(w) = req.winsor.get_mut(&name) {
                w.caps.get_or_insert(caps);
            }
        }
    }
    if req.shifts.is_empty() {
        req.shifts = pilot_shifts(engine, &req, 1000)?;
    }
    let t = engine.query(&req.table, &stats_sql(&req, d)?)?;
    let expected = result_columns(&req);
    if let Some(c) = expected.iter().find(|c| t.index(c).is_none()) {
        return Err(WarehouseError::BadResult {
            engine: engine.address(),
            table: req.table.to_string(),
            column: c.clone(),
            reason: "missing from the engine's result".into(),
        });
    }
    let metric_col = t.index("metric").unwrap_or(0);
    for m in &req.metrics {
        let mut missing = 0.0;
        let mut invalid = 0.0;
        for (r, row) in t.rows.iter().enumerate() {
            if row[metric_col] != Cell::Text(m.name.clone()) {
                continue;
            }
            if !req.drop_missing {
                missing += number(engine, &req.table, &t, r, ROWS_MISSING)?;
            }
            invalid += number(engine, &req.table, &t, r, ROWS_INVALID)?;
        }
        if missing > 0.0 {
            let mut cols: Vec<&str> = req.group_columns();
            cols.extend(req.unit.as_deref());
            cols.extend(m.columns());
            cols.extend(req.covariate_columns());
            return Err(WarehouseError::missing_values(
                engine.address(),
                req.table.to_string(),
                &m.name,
                &cols,
                missing,
            ));
        }
        if invalid > 0.0 {
            return Err(out_of_range(engine, &req.table, m, invalid));
        }
    }
    Ok(t)
}

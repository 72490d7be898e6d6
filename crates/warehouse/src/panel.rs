//! The unit × period panel of difference-in-differences and synthetic control, aggregated
//! where the events live.
//!
//! A [`PanelRequest`] describes what the data layer's event path
//! (`causalkit_data::design::PanelRoles` with `events`, i.e. `Panel::from_events`) computes in
//! process: event rows (contacts, orders) grouped into unit × period cells, each cell's KPI
//! numerator and denominator summed (the data layer's KPI grammar: mean, proportion, ratio,
//! NPS, top-box, composite), the cell value their ratio and the cell weight the summed
//! denominator (the number of events for a mean). The time column holds whole-number periods,
//! or dates (a `DATE`/`TIMESTAMP` column or ISO text) grouped into periods of `width_days`
//! days counted from the earliest date of the column, as `--period-width` does in process.
//! An optional cohort column (first treated period or date; 0 or missing for never treated,
//! constant within a unit) and a 0/1 treated column (a cell is treated if any of its events
//! is) ride along.
//!
//! [`panel_sql`] writes one `GROUP BY unit, period` statement per dialect; [`run_panel`] runs
//! it on an [`Engine`] and returns the small [`PanelCells`] (one row per unit × period, sorted),
//! checking on the way what the in-process path checks (missing values, out-of-range KPI
//! inputs, 0/1 treated values, whole-number periods, cohorts constant within units) with
//! errors naming the engine, table and column.

use crate::dialect::Dialect;
use crate::engine::{out_of_range, Cell, ColumnType, Engine, Table};
use crate::error::{Result, WarehouseError};
use crate::request::{Denominator, Metric, MetricKind, StatsRequest, TableName};
use crate::sql::{all_present, invalid_condition, quote_table, row_expr};
use std::collections::{BTreeMap, BTreeSet};

/// How the time column becomes integer periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanelTime {
    /// Whole numbers: the periods themselves (day index, week number, year).
    Periods,
    /// Dates (a `DATE` or `TIMESTAMP` column, or ISO `YYYY-MM-DD` text): period `k` holds the
    /// `width_days` days from the earliest date of the column + `k · width_days`.
    Dates {
        /// Days per period (at least 1).
        width_days: i64,
    },
}

/// The unit × period panel of one KPI from event rows (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct PanelRequest {
    /// The table holding event rows.
    pub table: TableName,
    /// The unit column (site, agent, region).
    pub unit: String,
    /// The period column.
    pub time: String,
    /// How the period column becomes periods.
    pub time_kind: PanelTime,
    /// The outcome KPI of each cell: Σ numerator / Σ denominator over the cell's events.
    pub outcome: Metric,
    /// First treated period (or date, with [`PanelTime::Dates`]) of each unit; 0 or missing
    /// means never treated.
    pub cohort: Option<String>,
    /// A 0/1 treated column: a cell is treated if any of its events is.
    pub treated: Option<String>,
    /// Skip rows with a missing unit, period or KPI input (counted in
    /// [`PanelCells::dropped_rows`]); otherwise such rows are an error.
    pub drop_missing: bool,
}

impl PanelRequest {
    /// A request over integer periods with no cohort or treated column.
    pub fn new(table: TableName, unit: &str, time: &str, outcome: Metric) -> PanelRequest {
        PanelRequest {
            table,
            unit: unit.to_string(),
            time: time.to_string(),
            time_kind: PanelTime::Periods,
            outcome,
            cohort: None,
            treated: None,
            drop_missing: false,
        }
    }

    /// Checks the request before any SQL is written.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, reason: String| {
            Err(WarehouseError::InvalidRequest {
                field: field.into(),
                reason,
            })
        };
        if let PanelTime::Dates { width_days } = self.time_kind {
            if width_days < 1 {
                return bad(
                    "period_width",
                    format!("{width_days} is not a positive number of days"),
                );
            }
        }
        let mut cols: Vec<&str> = vec![&self.unit, &self.time];
        cols.extend(self.cohort.as_deref());
        cols.extend(self.treated.as_deref());
        cols.extend(self.outcome.columns());
        if cols.iter().any(|c| c.is_empty()) {
            return bad("columns", "a column name is empty".into());
        }
        let roles: Vec<(&str, &str)> = [
            ("unit", Some(self.unit.as_str())),
            ("time", Some(self.time.as_str())),
            ("cohort", self.cohort.as_deref()),
            ("treated", self.treated.as_deref()),
        ]
        .into_iter()
        .filter_map(|(r, c)| c.map(|c| (r, c)))
        .collect();
        for (i, (r1, c1)) in roles.iter().enumerate() {
            for (r2, c2) in &roles[..i] {
                if c1 == c2 {
                    return bad(r1, format!("`{c1}` is also the {r2} column"));
                }
            }
            if self.outcome.columns().contains(c1) {
                return bad(r1, format!("`{c1}` is also an input of the outcome KPI"));
            }
        }
        // The KPI checks of the A/B request (names, thresholds, weights).
        self.as_stats().validate()
    }

    /// The KPI as a one-metric statistics request (the row expressions are shared).
    fn as_stats(&self) -> StatsRequest {
        StatsRequest::new(self.table.clone(), &self.unit, vec![self.outcome.clone()])
    }

    /// Columns that must be numeric: the KPI's inputs, the treated indicator, and the period
    /// and cohort columns of whole-number periods.
    pub fn numeric_columns(&self) -> BTreeSet<&str> {
        let mut s: BTreeSet<&str> = self.outcome.columns().into_iter().collect();
        s.extend(self.treated.as_deref());
        if self.time_kind == PanelTime::Periods {
            s.insert(&self.time);
            s.extend(self.cohort.as_deref());
        }
        s
    }

    /// Every column the request reads.
    pub fn all_columns(&self) -> BTreeSet<&str> {
        let mut s = self.numeric_columns();
        s.insert(&self.unit);
        s.insert(&self.time);
        s.extend(self.cohort.as_deref());
        s
    }
}

/// Result columns of [`panel_sql`], in order.
pub const PANEL_COLUMNS: [&str; 13] = [
    "unit",
    "period",
    "numerator_sum",
    "denominator_sum",
    "events",
    "rows_missing",
    "rows_invalid",
    "cohort_min",
    "cohort_max",
    "cohort_missing",
    "treated_max",
    "treated_invalid",
    "origin_day",
];

/// Days since 1970-01-01 of `expr` cast to a date, in `d`'s functions.
fn epoch_day(d: Dialect, expr: &str) -> String {
    let date = match d {
        Dialect::ClickHouse => format!("CAST({expr} AS Date)"),
        _ => format!("CAST({expr} AS DATE)"),
    };
    match d {
        Dialect::Postgres => format!("({date} - DATE '1970-01-01')"),
        Dialect::Spark => format!("DATEDIFF({date}, DATE '1970-01-01')"),
        Dialect::BigQuery => format!("UNIX_DATE({date})"),
        Dialect::Snowflake => format!("DATEDIFF(day, DATE '1970-01-01', {date})"),
        Dialect::Trino | Dialect::DuckDb => format!("date_diff('day', DATE '1970-01-01', {date})"),
        Dialect::ClickHouse => format!("dateDiff('day', toDate('1970-01-01'), {date})"),
    }
}

/// The SQL of the panel in `dialect`: one row per unit × period (a NULL unit or period holds
/// the rows missing it) with the columns of [`PANEL_COLUMNS`]: the KPI's summed numerator
/// and denominator over the rows with every KPI input present, the row count, the rows with
/// a missing KPI input and with an out-of-range one, the cohort's smallest and largest value
/// (whole numbers, or days since 1970-01-01 for dates; 0 and missing are never treated) and
/// its never-treated rows, the largest treated value and the rows whose treated value is
/// missing or not 0/1, and the earliest day of the time column (dates only).
pub fn panel_sql(req: &PanelRequest, dialect: Dialect) -> Result<String> {
    req.validate()?;
    let d = dialect;
    let table = quote_table(&req.table, d);
    let stats = req.as_stats();
    let m = &req.outcome;
    let col = |c: &str| d.to_double(&d.ident(c));
    let (one, zero) = (d.double(1.0), d.double(0.0));
    let present = all_present(&m.columns(), d);
    let time = d.ident(&req.time);
    let (period, origin) = match req.time_kind {
        PanelTime::Periods => (col(&req.time), d.null_double()),
        PanelTime::Dates { width_days } => {
            let origin = format!("(SELECT MIN({}) FROM {table})", epoch_day(d, &time));
            (
                format!(
                    "FLOOR({} / {})",
                    d.to_double(&format!("{} - {origin}", epoch_day(d, &time))),
                    d.double(width_days as f64)
                ),
                d.to_double(&origin),
            )
        }
    };
    let mut inner = vec![
        format!("CAST({} AS {}) AS u", d.ident(&req.unit), d.text_type()),
        format!("{period} AS p"),
        format!(
            "CASE WHEN {present} THEN {} ELSE {zero} END AS n",
            row_expr(&stats, m, 0, d)
        ),
        format!(
            "CASE WHEN {present} THEN {} ELSE {zero} END AS dn",
            row_expr(&stats, m, 1, d)
        ),
        format!("CASE WHEN {present} THEN {zero} ELSE {one} END AS r_missing"),
        match invalid_condition(m, d) {
            Some(c) => {
                format!("CASE WHEN {present} AND ({c}) THEN {one} ELSE {zero} END AS r_invalid")
            }
            None => format!("{zero} AS r_invalid"),
        },
    ];
    match &req.cohort {
        Some(g) => {
            let gi = d.ident(g);
            let e = match req.time_kind {
                PanelTime::Periods => {
                    let x = col(g);
                    format!(
                        "CASE WHEN {x} = {zero} THEN {} ELSE {x} END",
                        d.null_double()
                    )
                }
                PanelTime::Dates { .. } => format!(
                    "CASE WHEN CAST({gi} AS {t}) IN ('', '0') THEN {} ELSE {} END",
                    d.null_double(),
                    d.to_double(&epoch_day(d, &gi)),
                    t = d.text_type()
                ),
            };
            inner.push(format!("{e} AS c"));
        }
        None => inner.push(format!("{} AS c", d.null_double())),
    }
    match &req.treated {
        Some(t) => {
            let x = col(t);
            inner.push(format!("{x} AS t"));
            inner.push(format!(
                "CASE WHEN {x} = {zero} OR {x} = {one} THEN {zero} ELSE {one} END AS t_invalid"
            ));
        }
        None => {
            inner.push(format!("{} AS t", d.null_double()));
            inner.push(format!("{zero} AS t_invalid"));
        }
    }
    inner.push(format!("{origin} AS o"));
    let outer = [
        ("u", "unit"),
        ("p", "period"),
        ("SUM(n)", "numerator_sum"),
        ("SUM(dn)", "denominator_sum"),
        ("COUNT(*)", "events"),
        ("SUM(r_missing)", "rows_missing"),
        ("SUM(r_invalid)", "rows_invalid"),
        ("MIN(c)", "cohort_min"),
        ("MAX(c)", "cohort_max"),
        (
            "SUM(CASE WHEN c IS NULL THEN 1 ELSE 0 END)",
            "cohort_missing",
        ),
        ("MAX(t)", "treated_max"),
        ("SUM(t_invalid)", "treated_invalid"),
        ("MIN(o)", "origin_day"),
    ];
    debug_assert!(outer.iter().map(|o| o.1).eq(PANEL_COLUMNS));
    let outer: Vec<String> = outer
        .iter()
        .map(|(e, name)| {
            let e = if *e == "u" {
                e.to_string()
            } else {
                d.to_double(e)
            };
            format!("{e} AS {}", d.ident(name))
        })
        .collect();
    Ok(format!(
        "SELECT\n  {}\nFROM (\n  SELECT\n    {}\n  FROM {table}\n) AS s\nGROUP BY u, p\n",
        outer.join(",\n  "),
        inner.join(",\n    "),
    ))
}

/// The panel an engine returned: one entry per unit × period cell, sorted by unit then
/// period — what `causalkit_data::design::PanelRoles::read` returns for event rows before any
/// blocking of periods (`causalkit_data::design::PanelColumns::from_cells` turns it into
/// that panel).
#[derive(Debug, Clone, PartialEq)]
pub struct PanelCells {
    /// The KPI's name.
    pub outcome: String,
    /// Unit label per cell.
    pub unit: Vec<String>,
    /// Period per cell.
    pub period: Vec<i64>,
    /// The KPI value of the cell: Σ numerator / Σ denominator over its events.
    pub value: Vec<f64>,
    /// The cell weight: the summed KPI denominator (the number of events for a mean).
    pub weight: Vec<f64>,
    /// Rows (events) per cell.
    pub events: Vec<u64>,
    /// The first treated period of the cell's unit (None: never treated), with a cohort.
    pub cohort: Option<Vec<Option<i64>>>,
    /// 1 if any event of the cell is treated, with a treated column.
    pub treated: Option<Vec<f64>>,
    /// For dates: the earliest day of the time column (days since 1970-01-01) and the
    /// period width in days.
    pub dates: Option<(i64, i64)>,
    /// Rows skipped for a missing unit, period or KPI input (`drop_missing`).
    pub dropped_rows: usize,
}

impl PanelCells {
    /// Number of cells.
    pub fn len(&self) -> usize {
        self.unit.len()
    }

    /// Whether there is no cell.
    pub fn is_empty(&self) -> bool {
        self.unit.is_empty()
    }
}

/// The engine's type of `column` of `table` (e.g. to tell whole-number periods from dates).
pub fn column_type(engine: &mut dyn Engine, table: &TableName, column: &str) -> Result<ColumnType> {
    let cols = table_columns(engine, table)?;
    cols.iter()
        .find(|(c, _)| c == column)
        .map(|(_, t)| t.clone())
        .ok_or_else(|| missing_column(engine, table, column, &cols))
}

fn table_columns(engine: &mut dyn Engine, table: &TableName) -> Result<Vec<(String, ColumnType)>> {
    let sql = format!(
        "SELECT * FROM {} WHERE 1 = 0",
        quote_table(table, engine.dialect())
    );
    engine.columns(table, &sql)
}

fn missing_column(
    engine: &dyn Engine,
    table: &TableName,
    column: &str,
    cols: &[(String, ColumnType)],
) -> WarehouseError {
    WarehouseError::MissingColumn {
        engine: engine.address(),
        table: table.to_string(),
        column: column.to_string(),
        available: cols
            .iter()
            .map(|(c, _)| c.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Checks the table's columns: each one the request reads exists; KPI inputs, the treated
/// indicator and (whole-number periods) the time and cohort columns are numeric; a date
/// time column is not.
fn check_schema(engine: &mut dyn Engine, req: &PanelRequest) -> Result<()> {
    let cols = table_columns(engine, &req.table)?;
    for c in req.all_columns() {
        if !cols.iter().any(|(n, _)| n == c) {
            return Err(missing_column(engine, &req.table, c, &cols));
        }
    }
    let numeric = req.numeric_columns();
    for (c, t) in &cols {
        let mismatch = |expected: &str| WarehouseError::TypeMismatch {
            engine: engine.address(),
            table: req.table.to_string(),
            column: c.clone(),
            found: t.to_string(),
            expected: expected.into(),
        };
        if numeric.contains(c.as_str()) && *t != ColumnType::Numeric {
            return Err(mismatch(if *c == req.time {
                "a numeric column of whole-number periods (a date column needs a period width in days)"
            } else {
                "a numeric column"
            }));
        }
        if *c == req.time
            && matches!(req.time_kind, PanelTime::Dates { .. })
            && matches!(t, ColumnType::Numeric | ColumnType::Boolean)
        {
            return Err(mismatch(
                "a date, timestamp or ISO-date text column (numbers are the periods themselves)",
            ));
        }
    }
    Ok(())
}

/// Runs the panel query and returns the cells (see [`PanelCells`]): checks the table's
/// columns first, then the result: rows with a missing unit, period or KPI input are an error
/// naming the columns (or skipped with `drop_missing`); an out-of-range KPI input, a treated
/// value that is missing or not 0/1, a fractional period, a cohort that is negative,
/// fractional or not constant within a unit, and a cell without usable events (a zero
/// denominator) are errors naming the column and value.
pub fn run_panel(engine: &mut dyn Engine, req: &PanelRequest) -> Result<PanelCells> {
    req.validate()?;
    check_schema(engine, req)?;
    let t = engine.query(&req.table, &panel_sql(req, engine.dialect())?)?;
    cells_of(engine, req, &t)
}

/// The cells of the engine's result `t` (see [`run_panel`]).
fn cells_of(engine: &dyn Engine, req: &PanelRequest, t: &Table) -> Result<PanelCells> {
    let address = engine.address();
    let table = req.table.to_string();
    let bad_result = |column: &str, reason: String| WarehouseError::BadResult {
        engine: address.clone(),
        table: table.clone(),
        column: column.to_string(),
        reason,
    };
    let invalid = |column: &str, reason: String| WarehouseError::InvalidData {
        engine: address.clone(),
        table: table.clone(),
        column: column.to_string(),
        reason,
    };
    let mut idx = BTreeMap::new();
    for c in PANEL_COLUMNS {
        let i = t
            .index(c)
            .ok_or_else(|| bad_result(c, "missing from the engine's result".into()))?;
        idx.insert(c, i);
    }
    let num = |row: &[Cell], c: &str| -> Result<Option<f64>> {
        match &row[idx[c]] {
            Cell::Null => Ok(None),
            Cell::Number(x) => Ok(Some(*x)),
            Cell::Text(s) => Err(bad_result(c, format!("`{s}` is not a number"))),
        }
    };
    let count = |row: &[Cell], c: &str| -> Result<f64> { Ok(num(row, c)?.unwrap_or(0.0)) };
    let whole = |x: f64, column: &str, what: &str| -> Result<i64> {
        if x.is_finite() && x.fract() == 0.0 && x.abs() < 9.0e15 {
            Ok(x as i64)
        } else {
            Err(invalid(column, format!("{x} is not {what}")))
        }
    };
    let dates = match req.time_kind {
        PanelTime::Periods => None,
        PanelTime::Dates { width_days } => {
            let origin = t
                .rows
                .iter()
                .map(|r| num(r, "origin_day"))
                .collect::<Result<Vec<_>>>()?
                .into_iter()
                .flatten()
                .next();
            origin.map(|o| Ok::<_, WarehouseError>((whole(o, &req.time, "a day")?, width_days)))
        }
    }
    .transpose()?;
    // Rows whose KPI inputs or the treated indicator break the in-process checks, in any cell.
    let mut invalid_rows = 0.0;
    let mut treated_invalid = 0.0;
    for r in &t.rows {
        invalid_rows += count(r, "rows_invalid")?;
        treated_invalid += count(r, "treated_invalid")?;
    }
    if invalid_rows > 0.0 {
        return Err(out_of_range(engine, &req.table, &req.outcome, invalid_rows));
    }
    if let (Some(tr), true) = (&req.treated, treated_invalid > 0.0) {
        return Err(invalid(
            tr,
            format!("{treated_invalid} row(s) are missing or not 0 or 1 (a treated indicator)"),
        ));
    }
    // Rows missing a KPI input (in cells with a unit and a period) or the unit or period.
    let mut missing = 0.0;
    // The cohort values of each unit and whether it has never-treated rows, from every row
    // holding the unit (as in process).
    let mut cohort_of: BTreeMap<String, (Vec<f64>, bool)> = BTreeMap::new();
    // (unit, period, numerator sum, denominator sum, events, largest treated value)
    type Row = (String, i64, f64, f64, u64, Option<f64>);
    let mut cells: Vec<Row> = Vec::new();
    for r in &t.rows {
        let unit = match &r[idx["unit"]] {
            Cell::Null => None,
            Cell::Text(s) => Some(s.clone()),
            Cell::Number(x) => Some(format!("{x}")),
        };
        let events = count(r, "events")?;
        if let (Some(_), Some(u)) = (&req.cohort, &unit) {
            let entry = cohort_of.entry(u.clone()).or_default();
            entry.0.extend(num(r, "cohort_min")?);
            entry.0.extend(num(r, "cohort_max")?);
            entry.1 |= count(r, "cohort_missing")? > 0.0;
        }
        let period = num(r, "period")?;
        let (Some(unit), Some(period)) = (unit, period) else {
            missing += events;
            continue;
        };
        missing += count(r, "rows_missing")?;
        let period = whole(period, &req.time, "a whole-number period")?;
        let n = count(r, "numerator_sum")?;
        let den = count(r, "denominator_sum")?;
        let treated = num(r, "treated_max")?;
        cells.push((unit, period, n, den, events as u64, treated));
    }
    let mut cohort_per_unit: BTreeMap<&str, Option<f64>> = BTreeMap::new();
    if let Some(g) = &req.cohort {
        for (u, (values, never)) in &mut cohort_of {
            values.sort_by(f64::total_cmp);
            values.dedup_by(|a, b| a.total_cmp(b).is_eq());
            if values.len() > 1 || (*never && !values.is_empty()) {
                let mut shown: Vec<String> = values.iter().map(|v| v.to_string()).collect();
                if *never {
                    shown.push("never treated (0 or missing)".into());
                }
                return Err(invalid(
                    g,
                    format!(
                        "the cohort is not constant within unit `{u}`: it holds {}",
                        shown.join(" and ")
                    ),
                ));
            }
            cohort_per_unit.insert(u, values.first().copied());
        }
    }
    if !req.drop_missing && missing > 0.0 {
        let mut cols = vec![req.unit.as_str(), &req.time];
        cols.extend(req.outcome.columns());
        return Err(WarehouseError::missing_values(
            address.clone(),
            table.clone(),
            &req.outcome.name,
            &cols,
            missing,
        ));
    }
    if cells.is_empty() {
        return Err(invalid(
            &req.unit,
            "no rows with both a unit and a period".into(),
        ));
    }
    cells.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    if let Some(w) = cells
        .windows(2)
        .find(|w| w[0].0 == w[1].0 && w[0].1 == w[1].1)
    {
        return Err(bad_result(
            "period",
            format!("unit `{}`, period {} is returned twice", w[0].0, w[0].1),
        ));
    }
    if let Some(c) = cells.iter().find(|c| c.3 <= 0.0) {
        let what = match &req.outcome.kind {
            MetricKind::Ratio {
                denominator: Denominator::Column(d),
                ..
            } => d.as_str(),
            _ => req.unit.as_str(),
        };
        return Err(invalid(
            what,
            format!(
                "KPI `{}` has no usable events (zero denominator) for unit `{}` in period {}; drop the cell or choose a coarser period",
                req.outcome.name, c.0, c.1
            ),
        ));
    }
    let cohort = match &req.cohort {
        None => None,
        Some(g) => {
            let mut per_unit: BTreeMap<&str, Option<i64>> = BTreeMap::new();
            for (u, v) in &cohort_per_unit {
                let p = match (v, dates) {
                    (None, _) => None,
                    (Some(x), None) if *x < 0.0 => {
                        return Err(invalid(
                            g,
                            format!("{x} is not a first treated period, or 0 / empty for never treated (unit `{u}`)"),
                        ))
                    }
                    (Some(x), None) => Some(whole(*x, g, "a whole-number first treated period")?),
                    (Some(x), Some((origin, width))) => {
                        Some((whole(*x, g, "a day")? - origin).div_euclid(width))
                    }
                };
                per_unit.insert(u, p);
            }
            Some(cells.iter().map(|c| per_unit[c.0.as_str()]).collect())
        }
    };
    let treated = req.treated.as_ref().map(|_| {
        cells
            .iter()
            .map(|c| if c.5.unwrap_or(0.0) > 0.5 { 1.0 } else { 0.0 })
            .collect()
    });
    let dropped_rows = if req.drop_missing {
        missing as usize
    } else {
        0
    };
    Ok(PanelCells {
        outcome: req.outcome.name.clone(),
        unit: cells.iter().map(|c| c.0.clone()).collect(),
        period: cells.iter().map(|c| c.1).collect(),
        value: cells.iter().map(|c| c.2 / c.3).collect(),
        weight: cells.iter().map(|c| c.3).collect(),
        events: cells.iter().map(|c| c.4).collect(),
        cohort,
        treated,
        dates,
        dropped_rows,
    })
}

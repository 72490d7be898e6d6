//! `causalkit did|synth --engine URL --table T` (or `--dialect NAME --table T --explain`): the
//! unit × period panel is aggregated by a SQL engine from the event rows of a table
//! (causalkit-warehouse's [`PanelRequest`]), then the usual estimator runs on the small panel.
//!
//! The rows of the table are events (as with `--events`): the outcome KPI is averaged within
//! unit × period cells and the cell's summed denominator (the event count for a mean) is its
//! weight. `--explain` prints the panel SQL and runs nothing (it does not connect).

use crate::output::CliError;
use causalkit_data::design::{EventCells, PanelColumns, PanelRoles};
use causalkit_data::{Kpi, MissingPolicy};
use causalkit_warehouse::{
    panel::column_type, panel_sql, run_panel, ColumnType, Dialect, PanelRequest, PanelTime,
    TableName,
};
use clap::{Args, ValueEnum};
use std::path::Path;

/// What the time column of the table holds (for `--explain`, which does not look at the table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TimeType {
    /// Whole-number periods.
    Number,
    /// Dates or timestamps (or ISO date text), grouped into periods of --period-width days.
    Date,
}

/// The flags of the engine path, shared by `did` and `synth`.
#[derive(Debug, Clone, Default, Args)]
pub struct PanelEngineArgs {
    /// A SQL engine aggregates the event rows of --table into the unit × period panel:
    /// `postgres://USER@HOST:PORT/DB` (password from PGPASSWORD or ~/.pgpass) or
    /// `sc://HOST:PORT` (Spark Connect, also Databricks), when built with that engine's
    /// feature. The rows are events, as with --events.
    #[arg(long)]
    pub engine: Option<String>,
    /// The SQL dialect of --explain without --engine: spark, postgres, bigquery, snowflake,
    /// trino, duckdb or clickhouse.
    #[arg(long)]
    pub dialect: Option<String>,
    /// The table (NAME, SCHEMA.NAME or CATALOG.SCHEMA.NAME) holding the event rows, instead
    /// of --data.
    #[arg(long)]
    pub table: Option<String>,
    /// Print the panel SQL (with --dialect or --engine) and run nothing.
    #[arg(long)]
    pub explain: bool,
    /// What the --time column holds, for --explain (which does not look at the table):
    /// `number` (whole-number periods, the default) or `date`. With --engine the column's
    /// type decides.
    #[arg(long, value_enum)]
    pub time_type: Option<TimeType>,
}

impl PanelEngineArgs {
    /// The source of the rows as the diagnostics name it: the file, or the engine's table.
    pub fn source(&self, data: Option<&Path>) -> String {
        match (&self.table, data) {
            (Some(t), _) => match &self.engine {
                Some(e) => format!("{t} on {}", redact(e)),
                None => t.clone(),
            },
            (None, Some(p)) => p.display().to_string(),
            (None, None) => String::new(),
        }
    }
}

/// An address without a password (`postgres://user:secret@host` -> `postgres://user@host`).
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let user = &url[s + 3..at];
            let user = user.split(':').next().unwrap_or("");
            format!("{}{user}{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

/// The flags' request: the roles' unit, time, outcome KPI, cohort and treated columns over
/// the table; `time` says how the time column becomes periods.
fn request(
    w: &PanelEngineArgs,
    roles: &PanelRoles,
    time: PanelTime,
) -> Result<PanelRequest, CliError> {
    let table = w.table.as_deref().ok_or_else(|| {
        CliError::bad(
            "--engine/--dialect/--explain need --table NAME (the table holding the event rows)",
        )
    })?;
    let (Some(unit), Some(t)) = (&roles.unit, &roles.time) else {
        return Err(CliError::bad(
            "--table aggregates event rows into unit x period cells: give --unit and --time",
        ));
    };
    if !roles.covariates.is_empty()
        || roles.weight.is_some()
        || !roles.cluster.is_empty()
        || roles.post.is_some()
    {
        return Err(CliError::bad(
            "--table aggregates event rows into unit x period cells (as --events), which take no --covariates, --weights, --cluster or --post",
        ));
    }
    roles.check_distinct()?;
    let kpi: Kpi = roles.outcome_kpi()?;
    let mut req = PanelRequest::new(
        TableName::parse(table)?,
        unit,
        t,
        crate::warehouse::metric_of(&kpi),
    );
    req.time_kind = time;
    req.cohort = roles.cohort.clone();
    req.treated = roles.treated.clone();
    req.drop_missing = roles.policy == MissingPolicy::Drop;
    Ok(req)
}

/// The periods of a date time column: `--period-width` days (default 1).
fn dates(roles: &PanelRoles) -> PanelTime {
    PanelTime::Dates {
        width_days: roles.period_width.unwrap_or(1),
    }
}

/// With `--explain`: the panel SQL of the flags (in `--dialect`, or the dialect of
/// `--engine`'s scheme), without connecting. None without `--explain`.
pub fn explain(
    w: &PanelEngineArgs,
    roles: &PanelRoles,
    data: Option<&Path>,
) -> Result<Option<String>, CliError> {
    if !w.explain {
        return Ok(None);
    }
    check_source(w, data)?;
    let dialect: Dialect = match (&w.dialect, &w.engine) {
        (Some(d), _) => d.parse()?,
        (None, Some(e)) => dialect_of(e)?,
        (None, None) => {
            return Err(CliError::bad(
                "--explain needs --dialect spark|postgres|bigquery|snowflake|trino|duckdb|clickhouse (or --engine URL)",
            ))
        }
    };
    let time = match w.time_type {
        Some(TimeType::Date) => dates(roles),
        Some(TimeType::Number) | None => PanelTime::Periods,
    };
    let req = request(w, roles, time)?;
    Ok(Some(panel_sql(&req, dialect)?))
}

/// The dialect an engine address speaks, from its scheme.
fn dialect_of(url: &str) -> Result<Dialect, CliError> {
    let scheme = url.split("://").next().unwrap_or("");
    match scheme {
        "postgres" | "postgresql" => Ok(Dialect::Postgres),
        "sc" => Ok(Dialect::Spark),
        _ => Err(CliError::bad(format!(
            "--engine `{}`: unknown scheme; use postgres://USER@HOST:PORT/DB or sc://HOST:PORT",
            redact(url)
        ))),
    }
}

/// Exactly one source of rows: --data, or --table with --engine (or --dialect --explain).
fn check_source(w: &PanelEngineArgs, data: Option<&Path>) -> Result<(), CliError> {
    match (data.is_some(), w.table.is_some()) {
        (true, true) => Err(CliError::bad(
            "--table reads the event rows in the engine; drop --data",
        )),
        (false, false) => Err(CliError::bad(
            "give --data FILE, or --table NAME with --engine URL (or --dialect NAME --explain)",
        )),
        _ => Ok(()),
    }
}

/// With `--engine` and `--table` (no `--explain`): connects, aggregates the event rows into
/// unit × period cells of the roles' outcome KPI and returns them as the data layer's panel
/// columns (what `roles.read` returns for the same rows with `events`). None without
/// `--table`.
pub fn read(
    w: &PanelEngineArgs,
    roles: &PanelRoles,
    data: Option<&Path>,
) -> Result<Option<PanelColumns>, CliError> {
    check_source(w, data)?;
    if w.table.is_none() {
        return Ok(None);
    }
    if w.dialect.is_some() && w.engine.is_none() {
        return Err(CliError::bad(
            "--dialect prints the SQL with --explain; running it needs --engine URL",
        ));
    }
    let url = w
        .engine
        .as_deref()
        .ok_or_else(|| CliError::bad("--table needs --engine URL (or --dialect NAME --explain)"))?;
    let mut engine = causalkit_warehouse::connect(url)?;
    if let Some(d) = &w.dialect {
        let d: Dialect = d.parse()?;
        if d != engine.dialect() {
            return Err(CliError::bad(format!(
                "--dialect {d} does not match the engine, which speaks {}",
                engine.dialect()
            )));
        }
    }
    let mut roles = roles.clone();
    roles.events = true;
    let table = TableName::parse(w.table.as_deref().unwrap_or_default())?;
    let time_col = roles.time.clone().unwrap_or_default();
    let time = match column_type(engine.as_mut(), &table, &time_col)? {
        ColumnType::Numeric => PanelTime::Periods,
        _ => dates(&roles),
    };
    let req = request(w, &roles, time)?;
    let cells = run_panel(engine.as_mut(), &req)?;
    Ok(Some(PanelColumns::from_cells(
        &roles,
        EventCells {
            unit: cells.unit,
            period: cells.period,
            value: cells.value,
            weight: cells.weight,
            cohort: cells.cohort,
            treated: cells.treated,
            dates: cells.dates,
            dropped: cells.dropped_rows,
        },
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_lose_their_password() {
        assert_eq!(
            redact("postgres://me:secret@db:5432/x"),
            "postgres://me@db:5432/x"
        );
        assert_eq!(redact("sc://127.0.0.1:15002"), "sc://127.0.0.1:15002");
    }
}

//! The warehouse path of `causalkit ab` (causalkit-warehouse):
//!
//! - `ab --dialect NAME --table T --explain [the usual ab flags]` prints the SQL that
//!   aggregates the A/B statistics, without connecting to anything; its result rows go back
//!   in through `causalkit ab --stats FILE`.
//! - `ab --engine URL --table T [the usual ab flags]` connects (`causalkit_warehouse::connect`),
//!   runs the aggregation there and hands the statistics rows to the same code path as
//!   `--stats`; with `--explain` it prints the SQL in the engine's dialect and connects to
//!   nothing.
//! - `causalkit sql --dialect NAME --table T [the ab flags]` prints the same SQL as
//!   `ab --dialect NAME --table T --explain`, for engines causalkit cannot reach: the user runs
//!   it and feeds the result file back with `ab --stats FILE`.

use crate::output::{CliError, ErrorKind, Rendered};
use causalkit_data::{Dataset, Kpi};
use causalkit_warehouse::connect::Scheme;
use causalkit_warehouse::engine::winsor_caps;
use causalkit_warehouse::{
    run_stats, stats_sql, Adjustment, Denominator, Dialect, Metric, StatsRequest, TableName,
    WarehouseError, Winsor,
};
use clap::Args;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

impl From<WarehouseError> for CliError {
    fn from(e: WarehouseError) -> Self {
        CliError {
            kind: if e.is_engine_failure() {
                ErrorKind::Internal
            } else {
                ErrorKind::BadInput
            },
            message: e.to_string(),
        }
    }
}

/// The `ab` flags the warehouse path uses.
pub struct Flags<'a> {
    /// `--engine`.
    pub engine: Option<&'a str>,
    /// `--dialect`.
    pub dialect: Option<&'a str>,
    /// `--table`.
    pub table: Option<&'a str>,
    /// `--explain`.
    pub explain: bool,
    /// `--data` or `--stats` was given too.
    pub has_file: bool,
    /// `--arm`.
    pub arm: &'a str,
    /// `--segment`.
    pub segment: Option<&'a str>,
    /// `--stratify`.
    pub stratify: Option<&'a str>,
    /// `--unit`.
    pub unit: Option<&'a str>,
    /// `--metric` specs.
    pub metrics: &'a [String],
    /// `--covariate` values.
    pub covariates: &'a [String],
    /// `--drop-missing`.
    pub drop_missing: bool,
    /// `--winsorize` specs.
    pub winsorize: &'a [String],
}

/// The warehouse metric of a data-layer KPI (the same kinds).
pub fn metric_of(k: &Kpi) -> Metric {
    Metric {
        name: k.name.clone(),
        kind: k.kind.clone(),
    }
}

/// The request the flags describe.
pub fn request(f: &Flags) -> Result<StatsRequest, CliError> {
    let table = f.table.ok_or_else(|| {
        CliError::bad("--engine/--dialect/--explain need --table NAME (the table holding the rows)")
    })?;
    if f.has_file {
        return Err(CliError::bad(
            "--table reads the rows in the warehouse; drop --data/--stats",
        ));
    }
    if f.stratify.is_some() {
        return Err(CliError::bad(
            "--stratify is not yet aggregated in the warehouse; drop it or use --data",
        ));
    }
    if f.metrics.is_empty() {
        return Err(CliError::bad("give at least one --metric"));
    }
    let metrics = f
        .metrics
        .iter()
        .map(|m| m.parse::<Kpi>().map(|k| metric_of(&k)))
        .collect::<Result<Vec<_>, _>>()?;
    let adjustment =
        match f.covariates {
            [] => Adjustment::None,
            [c] => match c.split_once('/') {
                Some((num, den)) => Adjustment::RatioCuped {
                    numerator: num.trim().to_string(),
                    denominator: match den.trim() {
                        "count" => Denominator::Count,
                        d => Denominator::Column(d.to_string()),
                    },
                },
                None => Adjustment::Cuped(c.trim().to_string()),
            },
            _ => return Err(CliError::bad(
                "the warehouse statistics carry one --covariate (or one pre-period ratio NUM/DEN)",
            )),
        };
    let mut req = StatsRequest::new(TableName::parse(table)?, f.arm, metrics);
    req.segment = f.segment.map(str::to_string);
    req.unit = f.unit.map(str::to_string);
    req.adjustment = adjustment;
    req.drop_missing = f.drop_missing;
    req.winsor = winsor(f.winsorize, &req.metrics)?;
    Ok(req)
}

/// The `--winsorize` specs as per-metric winsorisation (the same rules as `ab --data`: one
/// global `LOW,HIGH` for every mean and ratio metric, `metric=LOW,HIGH` for one, which must be
/// a mean or ratio metric).
fn winsor(specs: &[String], metrics: &[Metric]) -> Result<BTreeMap<String, Winsor>, CliError> {
    let specs: Vec<causalkit_data::winsor::WinsorRequest> =
        specs.iter().map(|s| s.parse()).collect::<Result<_, _>>()?;
    if specs.is_empty() {
        return Ok(BTreeMap::new());
    }
    let cappable: Vec<(&str, bool)> = metrics
        .iter()
        .map(|m| (m.name.as_str(), m.winsor_column().is_some()))
        .collect();
    let out: BTreeMap<String, Winsor> =
        causalkit_data::winsor::resolve_requests(&specs, &cappable)?
            .into_iter()
            .map(|(name, s)| {
                (
                    name,
                    Winsor {
                        lower: s.lower,
                        upper: s.upper,
                        caps: None,
                    },
                )
            })
            .collect();
    if out.is_empty() {
        return Err(CliError::bad(
            "--winsorize: none of the metrics is a mean or ratio metric; winsorising applies to numeric values, not to proportions, NPS, top-box shares, composites or quantiles",
        ));
    }
    Ok(out)
}

/// Where `ab` takes its statistics from.
pub enum Route {
    /// No warehouse flag: the `--data` / `--stats` file.
    Local,
    /// `--explain`: the SQL, to print; nothing ran.
    Explain(Rendered),
    /// `--engine`: the statistics rows the engine returned.
    Rows(EngineRows),
}

/// The statistics rows of an engine, in GrowthBook's columns (what a `--stats` file holds).
pub struct EngineRows {
    /// The rows.
    pub data: Dataset,
    /// Where they came from, for the `source` diagnostic: the engine's address and the table.
    pub source: PathBuf,
    /// Per winsorised metric, what was done (the `winsorized` note of `ab --data`, without
    /// `values_changed`, which would cost another pass).
    pub winsor: BTreeMap<String, Value>,
}

/// The route of the flags: the file path, `--explain` (the SQL, connecting to nothing) or
/// the engine's statistics rows.
pub fn route(f: &Flags) -> Result<Route, CliError> {
    if f.engine.is_none() && !f.explain && f.dialect.is_none() && f.table.is_none() {
        return Ok(Route::Local);
    }
    let dialect: Dialect = match (f.engine, f.dialect) {
        (Some(_), Some(_)) => {
            return Err(CliError::bad(
                "--engine speaks its own dialect; drop --dialect (which is for --explain without an engine)",
            ))
        }
        (Some(url), None) => Scheme::of(url)?.dialect(),
        (None, Some(d)) => d.parse()?,
        (None, None) => {
            return Err(CliError::bad(
                "--explain needs --dialect spark|postgres|bigquery|snowflake|trino|duckdb|clickhouse (or --engine URL)",
            ))
        }
    };
    let Some(url) = f.engine.filter(|_| !f.explain) else {
        if !f.explain {
            return Err(CliError::bad(
                "--dialect prints the SQL with --explain; to run it, give --engine URL instead (postgres://USER@HOST:PORT/DB or sc://HOST:PORT)",
            ));
        }
        let req = request(f)?;
        return Ok(Route::Explain(Rendered::from(stats_sql(&req, dialect)?)));
    };
    let mut req = request(f)?;
    let mut engine = causalkit_warehouse::connect(url)?;
    let mut notes = BTreeMap::new();
    if !req.winsor.is_empty() {
        req.validate()?;
        causalkit_warehouse::engine::check_schema(engine.as_mut(), &req)?;
        let caps = winsor_caps(engine.as_mut(), &req)?;
        for m in &req.metrics {
            let (Some(w), Some(c)) = (req.winsor.get_mut(&m.name), caps.get(&m.name)) else {
                continue;
            };
            w.caps = Some(*c);
            notes.insert(
                m.name.clone(),
                json!({
                    "column": m.winsor_column(),
                    "lower_level": w.lower,
                    "upper_level": w.upper,
                    "lower_cap": c.lower,
                    "upper_cap": c.upper,
                    "rows": c.rows,
                    "pooled_over_arms": true,
                    "percentiles": if causalkit_warehouse::sql::percentile_is_exact(dialect) { "exact" } else { "approximate" },
                }),
            );
        }
    }
    let table = run_stats(engine.as_mut(), &req)?;
    let source = PathBuf::from(format!("{} table {}", engine.address(), req.table));
    Ok(Route::Rows(EngineRows {
        data: Dataset::from_csv_text(&table.to_csv(), &source.display().to_string())?,
        source,
        winsor: notes,
    }))
}

/// Arguments of `causalkit sql`: the `ab` flags that shape the aggregation.
#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The SQL dialect: spark (Databricks), postgres (Redshift), bigquery, snowflake, trino
    /// (Athena), duckdb or clickhouse.
    #[arg(long)]
    dialect: String,
    /// The warehouse table holding the rows (NAME, SCHEMA.NAME or CATALOG.SCHEMA.NAME).
    #[arg(long)]
    table: String,
    /// The arm (variant) column.
    #[arg(long, default_value = "arm")]
    arm: String,
    /// Metric, repeatable, as for `ab --data`: `name=mean(col)`, `proportion(col)`,
    /// `ratio(num, den|count)`, `nps(col)`, `topbox(col, threshold)`,
    /// `composite(0.5*a + 2*b)`. With the result file, `ab --stats` takes `name`,
    /// `name=proportion` or `name=ratio`.
    #[arg(long = "metric")]
    metrics: Vec<String>,
    /// The analysis unit: rows are summed per unit first.
    #[arg(long)]
    unit: Option<String>,
    /// One pre-period covariate (CUPED) or one pre-period ratio `NUM/DEN` (ratio CUPED).
    #[arg(long = "covariate", value_delimiter = ',')]
    covariates: Vec<String>,
    /// Per-segment rows from this column too.
    #[arg(long)]
    segment: Option<String>,
    /// Drop rows with a missing value in a column a metric uses (otherwise the result counts
    /// them in `rows_missing`).
    #[arg(long)]
    drop_missing: bool,
    /// Winsorise as `ab --winsorize`: `LOW,HIGH` percentile levels (one side may be empty)
    /// for every mean and ratio metric, or `metric=LOW,HIGH`; repeatable. The caps are
    /// percentiles computed by subqueries of the printed statement.
    #[arg(long = "winsorize")]
    winsorize: Vec<String>,
}

/// `causalkit sql`: the SQL of the flags' request, exactly what `ab --dialect --explain`
/// prints (both go through [`route`]).
pub fn sql(a: &SqlArgs) -> Result<Rendered, CliError> {
    match route(&Flags {
        engine: None,
        dialect: Some(&a.dialect),
        table: Some(&a.table),
        explain: true,
        has_file: false,
        arm: &a.arm,
        segment: a.segment.as_deref(),
        stratify: None,
        unit: a.unit.as_deref(),
        metrics: &a.metrics,
        covariates: &a.covariates,
        drop_missing: a.drop_missing,
        winsorize: &a.winsorize,
    })? {
        Route::Explain(r) => Ok(r),
        Route::Local | Route::Rows(_) => Err(CliError::internal(
            "causalkit sql: the request did not resolve to SQL",
        )),
    }
}

//! `causalkit ab --dialect NAME --table T --explain [the usual ab flags]`: the SQL that
//! aggregates the A/B statistics in a warehouse (causalkit-warehouse), printed without
//! connecting to anything. Its result rows go back in through `causalkit ab --stats FILE`.

use crate::output::{CliError, ErrorKind, Rendered};
use causalkit_data::{Kpi, KpiKind};
use causalkit_warehouse::{
    stats_sql, Adjustment, Denominator, Dialect, Metric, MetricKind, StatsRequest, TableName,
    WarehouseError,
};

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
}

/// The warehouse metric of a data-layer KPI (the same grammar).
pub fn metric_of(k: &Kpi) -> Metric {
    let kind = match &k.kind {
        KpiKind::Mean { column } => MetricKind::Mean {
            column: column.clone(),
        },
        KpiKind::Proportion { column } => MetricKind::Proportion {
            column: column.clone(),
        },
        KpiKind::Ratio {
            numerator,
            denominator,
        } => MetricKind::Ratio {
            numerator: numerator.clone(),
            denominator: match denominator {
                causalkit_data::Denominator::Count => Denominator::Count,
                causalkit_data::Denominator::Column(c) => Denominator::Column(c.clone()),
            },
        },
        KpiKind::Nps { column } => MetricKind::Nps {
            column: column.clone(),
        },
        KpiKind::TopBox { column, threshold } => MetricKind::TopBox {
            column: column.clone(),
            threshold: *threshold,
        },
        KpiKind::Composite { terms } => MetricKind::Composite {
            terms: terms.clone(),
        },
    };
    Metric {
        name: k.name.clone(),
        kind,
    }
}

/// The request the flags describe.
pub fn request(f: &Flags) -> Result<StatsRequest, CliError> {
    let table = f.table.ok_or_else(|| {
        CliError::bad("--dialect/--explain need --table NAME (the table holding the rows)")
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
    Ok(req)
}

/// Prints the SQL (`--explain`); running it needs `--engine` (next phase).
pub fn explain(f: &Flags) -> Result<Rendered, CliError> {
    let dialect: Dialect = f
        .dialect
        .ok_or_else(|| CliError::bad("--explain needs --dialect spark|postgres|bigquery|snowflake|trino|duckdb|clickhouse"))?
        .parse()?;
    if !f.explain {
        return Err(CliError::bad(
            "--dialect prints the SQL with --explain; running it on an engine (--engine) is not available yet",
        ));
    }
    let req = request(f)?;
    Ok(Rendered::from(stats_sql(&req, dialect)?))
}

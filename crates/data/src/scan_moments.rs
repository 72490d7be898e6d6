//! Grouped sufficient statistics computed by polars' streaming engine, straight from a file.
//!
//! [`kpi_moments_scan`] expresses the whole aggregation — validation counts, per-unit sums,
//! per-group counts, sums and cross-products — as one lazy query over
//! [`scan`](crate::dataset::scan), executed with `Engine::Streaming`, so a file larger than
//! memory is aggregated in bounded memory. It gives the same [`GroupedMoments`] as
//! [`kpi_moments`](crate::aggregate::kpi_moments) on the loaded data (a test checks this). The
//! same query is what a warehouse would run as SQL; Rust then does the small final algebra.

use crate::aggregate::{moment_names, GroupKey, GroupedMoments};
use crate::dataset::{scan, MissingPolicy};
use crate::error::{DataError, Result};
use crate::kpi::{Denominator, Kpi, KpiKind};
use causalkit_stats::Moments;
use polars::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

const ROW: &str = "__causalkit_row";

fn pl_err(path: &Path, e: PolarsError) -> DataError {
    DataError::Read {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

fn run(path: &Path, lf: LazyFrame) -> Result<DataFrame> {
    lf.collect_with_engine(Engine::Streaming)
        .map(|r| r.unwrap_single())
        .map_err(|e| pl_err(path, e))
}

fn num(c: &str) -> Expr {
    col(c).cast(DataType::Float64)
}

/// The count in column `name`, row `row` of a small result frame (0 when absent).
fn cell_u64(df: &DataFrame, name: &str, row: usize) -> u64 {
    df.column(name)
        .ok()
        .and_then(|c| c.get(row).ok())
        .and_then(|v| v.extract::<u64>())
        .unwrap_or(0)
}

/// The first row (and its value) matching `bad` — only computed when an error is certain.
fn first_bad(path: &Path, lf: &LazyFrame, column: &str, bad: Expr) -> Result<(usize, String)> {
    let df = run(
        path,
        lf.clone()
            .filter(bad)
            .select([col(ROW), col(column).cast(DataType::String).alias("v")])
            .limit(1),
    )?;
    let row = cell_u64(&df, ROW, 0) as usize;
    let value = df
        .column("v")
        .ok()
        .and_then(|c| c.get(0).ok())
        .map(|v| v.get_str().unwrap_or_default().to_string())
        .unwrap_or_default();
    Ok((row, value))
}

/// Per-group sufficient statistics of `kpi`, computed from a CSV or Parquet file with the
/// streaming engine. Semantics and errors are those of
/// [`kpi_moments`](crate::aggregate::kpi_moments): missing values are an error unless
/// dropped, non-numbers and out-of-range values name their row, and with `unit` the rows are
/// summed per unit first (a unit in two groups is an error).
pub fn kpi_moments_scan(
    path: &Path,
    kpi: &Kpi,
    group_by: &[&str],
    unit: Option<&str>,
    covariates: &[&str],
    policy: MissingPolicy,
) -> Result<GroupedMoments> {
    let mut lf = scan(path)?;
    let schema = lf.collect_schema().map_err(|e| pl_err(path, e))?;
    let available: Vec<String> = schema.iter_names().map(|s| s.to_string()).collect();
    let mut used: Vec<&str> = group_by.to_vec();
    used.extend(unit);
    let numeric_cols: Vec<&str> = kpi
        .columns()
        .into_iter()
        .chain(covariates.iter().copied())
        .collect();
    used.extend(numeric_cols.iter().copied());
    for c in &used {
        if !available.iter().any(|a| a == c) {
            return Err(DataError::MissingColumn {
                column: c.to_string(),
                available,
            });
        }
    }
    let lf = lf.with_row_index(ROW, None);

    // Validation counts in one streaming pass: nulls per used column, unparsable text per
    // numeric column, out-of-range values per KPI kind.
    let mut checks: Vec<Expr> = vec![len().alias("__rows")];
    for (i, c) in used.iter().enumerate() {
        checks.push(col(*c).null_count().alias(format!("null_{i}")));
    }
    for (i, c) in numeric_cols.iter().enumerate() {
        checks.push(
            col(*c)
                .is_not_null()
                .and(num(c).is_null())
                .sum()
                .alias(format!("nonnum_{i}")),
        );
    }
    let range_bad: Option<(String, Expr, &str)> = match &kpi.kind {
        KpiKind::Proportion { column } => Some((
            column.clone(),
            num(column).neq(lit(0.0)).and(num(column).neq(lit(1.0))),
            "0 or 1 for a proportion",
        )),
        KpiKind::Nps { column } => Some((
            column.clone(),
            num(column)
                .lt(lit(0.0))
                .or(num(column).gt(lit(10.0)))
                .or(num(column).neq(num(column).floor_div(lit(1.0)))),
            "an integer score from 0 to 10",
        )),
        KpiKind::Ratio {
            denominator: Denominator::Column(d),
            ..
        } => Some((d.clone(), num(d).lt(lit(0.0)), "a non-negative denominator")),
        _ => None,
    };
    if let Some((_, bad, _)) = &range_bad {
        checks.push(bad.clone().sum().alias("range_bad"));
    }
    let counts = run(path, lf.clone().select(checks))?;
    let get = |name: &str| cell_u64(&counts, name, 0);
    let total_rows = get("__rows") as usize;
    for (i, c) in numeric_cols.iter().enumerate() {
        if get(&format!("nonnum_{i}")) > 0 {
            let (row, value) =
                first_bad(path, &lf, c, col(*c).is_not_null().and(num(c).is_null()))?;
            return Err(DataError::NonNumeric {
                column: c.to_string(),
                row,
                value,
            });
        }
    }
    let mut keep = lit(true);
    for (i, c) in used.iter().enumerate() {
        let nulls = get(&format!("null_{i}")) as usize;
        if nulls > 0 {
            if policy == MissingPolicy::Error {
                let (first_row, _) = first_bad(path, &lf, c, col(*c).is_null())?;
                return Err(DataError::MissingValues {
                    column: c.to_string(),
                    count: nulls,
                    first_row,
                });
            }
            keep = keep.and(col(*c).is_not_null());
        }
    }
    let lf = lf.filter(keep);
    if let Some((column, bad, expected)) = &range_bad {
        // Out-of-range values among the rows kept.
        let n_bad = run(path, lf.clone().select([bad.clone().sum().alias("b")]))?;
        let n_bad = cell_u64(&n_bad, "b", 0);
        if n_bad > 0 {
            let (row, value) = first_bad(path, &lf, column, bad.clone())?;
            return Err(DataError::OutOfRange {
                column: column.clone(),
                row,
                value: value.parse().unwrap_or(f64::NAN),
                expected: expected.to_string(),
            });
        }
    }

    let (numerator, denominator): (Expr, Expr) = match &kpi.kind {
        KpiKind::Mean { column } | KpiKind::Proportion { column } => (num(column), lit(1.0)),
        KpiKind::Ratio {
            numerator,
            denominator,
        } => (
            num(numerator),
            match denominator {
                Denominator::Count => lit(1.0),
                Denominator::Column(d) => num(d),
            },
        ),
        KpiKind::Nps { column } => (
            when(num(column).gt_eq(lit(9.0)))
                .then(lit(1.0))
                .when(num(column).lt_eq(lit(6.0)))
                .then(lit(-1.0))
                .otherwise(lit(0.0)),
            lit(1.0),
        ),
        KpiKind::TopBox { column, threshold } => (
            when(num(column).gt_eq(lit(*threshold)))
                .then(lit(1.0))
                .otherwise(lit(0.0)),
            lit(1.0),
        ),
        KpiKind::Composite { terms } => {
            let mut e = lit(0.0);
            for (c, w) in terms {
                e = e + lit(*w) * num(c);
            }
            (e, lit(1.0))
        }
    };
    let names = moment_names(covariates);
    let vars: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, _)| format!("v{i}"))
        .collect();
    let group_cols: Vec<Expr> = group_by
        .iter()
        .map(|g| col(*g).cast(DataType::String))
        .collect();
    let mut row_exprs = group_cols.clone();
    row_exprs.push(numerator.alias("v0"));
    row_exprs.push(denominator.alias("v1"));
    for (j, c) in covariates.iter().enumerate() {
        row_exprs.push(num(c).alias(format!("v{}", j + 2)));
    }
    let mut units = lf.clone().with_columns(row_exprs);
    if let Some(u) = unit {
        // Each unit must lie in one group.
        if !group_by.is_empty() {
            let mut spread_aggs = Vec::new();
            let mut any_spread = lit(false);
            for (i, g) in group_by.iter().enumerate() {
                spread_aggs.push(col(*g).n_unique().alias(format!("__g{i}")));
                any_spread = any_spread.or(col(format!("__g{i}")).gt(lit(1)));
            }
            let spread = run(
                path,
                units
                    .clone()
                    .group_by([col(u)])
                    .agg(spread_aggs)
                    .filter(any_spread)
                    .limit(1),
            )?;
            if spread.height() > 0 {
                let name = spread
                    .column(u)
                    .ok()
                    .and_then(|c| c.get(0).ok())
                    .map(|v| v.to_string().trim_matches('"').to_string())
                    .unwrap_or_default();
                return Err(DataError::UnitInSeveralGroups {
                    column: u.to_string(),
                    unit: name,
                    first_group: "one group".into(),
                    first_row: 0,
                    second_group:
                        "another (streaming scan; run the in-memory path for row numbers)".into(),
                    second_row: 0,
                });
            }
        }
        let mut keys: Vec<Expr> = group_by.iter().map(|g| col(*g)).collect();
        keys.push(col(u));
        let mut aggs = vec![col("v0").sum().alias("v0"), col("v1").sum().alias("v1")];
        for j in 0..covariates.len() {
            aggs.push(
                col(format!("v{}", j + 2))
                    .mean()
                    .alias(format!("v{}", j + 2)),
            );
        }
        units = units.group_by(keys).agg(aggs);
    }
    let mut aggs = vec![len().alias("__n")];
    for (i, vi) in vars.iter().enumerate() {
        aggs.push(col(vi.as_str()).sum().alias(format!("s{i}")));
        for (j, vj) in vars.iter().enumerate().take(i + 1) {
            aggs.push(
                (col(vi.as_str()) * col(vj.as_str()))
                    .sum()
                    .alias(format!("c{i}_{j}")),
            );
        }
    }
    let out = if group_by.is_empty() {
        run(path, units.select(aggs))?
    } else {
        run(
            path,
            units
                .group_by(group_by.iter().map(|g| col(*g)).collect::<Vec<_>>())
                .agg(aggs),
        )?
    };
    let f = |name: &str, r: usize| -> f64 {
        out.column(name)
            .ok()
            .and_then(|c| c.get(r).ok())
            .and_then(|v| v.extract::<f64>())
            .unwrap_or(0.0)
    };
    let mut groups: BTreeMap<GroupKey, Moments> = BTreeMap::new();
    let mut kept_rows = 0usize;
    for r in 0..out.height() {
        let n = f("__n", r) as u64;
        if n == 0 {
            continue;
        }
        kept_rows += n as usize;
        let key: GroupKey = group_by
            .iter()
            .map(|g| {
                out.column(g)
                    .ok()
                    .and_then(|c| c.get(r).ok())
                    .map(|v| {
                        v.get_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string())
                    })
                    .unwrap_or_default()
            })
            .collect();
        let sums: Vec<f64> = (0..vars.len()).map(|i| f(&format!("s{i}"), r)).collect();
        let m = Moments::from_parts(names.clone(), n, sums, |i, j| {
            f(&format!("c{}_{}", i.max(j), i.min(j)), r)
        })?;
        groups.insert(key, m);
    }
    if groups.is_empty() {
        return Err(DataError::EmptyGroup(format!(
            "no usable rows for KPI `{}`",
            kpi.name
        )));
    }
    let dropped_rows = if unit.is_none() {
        total_rows - kept_rows
    } else {
        total_rows - cell_u64(&run(path, lf.select([len().alias("k")]))?, "k", 0) as usize
    };
    Ok(GroupedMoments {
        kpi: kpi.name.clone(),
        group_by: group_by.iter().map(|s| s.to_string()).collect(),
        unit: unit.map(str::to_string),
        groups,
        dropped_rows,
    })
}

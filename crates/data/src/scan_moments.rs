//! Grouped sufficient statistics computed straight from a file, in one pass and bounded memory.
//!
//! [`kpi_moments_scan`] gives the same [`GroupedMoments`] as
//! [`kpi_moments`](crate::aggregate::kpi_moments) on the loaded data, and the same errors
//! (tests check both), without loading the file. Two readers do the pass:
//!
//! - the direct Parquet reader (Parquet files, no `unit`, numeric KPI and covariate columns):
//!   row groups are read with plain reads (no memory map, so file pages do not count as
//!   resident memory), decoded by polars' Parquet decoder, several at a time on rayon's pool,
//!   and accumulated in Rust (a column without missing values skips the validity handling);
//!   the per-row-group sums are merged in file order, so the result does not depend on the
//!   number of threads;
//! - otherwise polars' streaming engine (`sink_batches`) over [`scan`]:
//!   polars evaluates the row expressions (numerator, denominator, missing-value and range
//!   flags) per batch and Rust accumulates each batch.
//!
//! Either way Rust then does the small final algebra, and only when an error is certain is the
//! file read again to find the first offending row.

use crate::aggregate::{moment_names, GroupKey, GroupedMoments};
use crate::dataset::{scan, MissingPolicy};
use crate::error::{DataError, Result};
use crate::kpi::{Denominator, Kpi, KpiKind};
use causalkit_stats::Moments;
use polars::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

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

/// The numerator and denominator of one row of `kpi`, as polars expressions.
fn kpi_exprs(kpi: &Kpi) -> Result<(Expr, Expr)> {
    #[allow(unreachable_patterns)]
    Ok(match &kpi.kind {
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
        _ => {
            return Err(DataError::InvalidKpi {
                spec: kpi.name.clone(),
                reason: "this KPI kind has no sufficient statistics that the streaming scan can \
                         compute; load the file and use kpi_moments instead"
                    .into(),
            })
        }
    })
}

/// Sums of one group (or one unit): count, sums and the lower triangle of the cross-products.
#[derive(Debug, Clone)]
struct Acc {
    n: u64,
    sums: Vec<f64>,
    cross: Vec<f64>,
}

impl Acc {
    fn new(p: usize) -> Self {
        Acc {
            n: 0,
            sums: vec![0.0; p],
            cross: vec![0.0; p * (p + 1) / 2],
        }
    }
    fn merge(&mut self, o: &Acc) {
        self.n += o.n;
        for (a, b) in self.sums.iter_mut().zip(&o.sums) {
            *a += b;
        }
        for (a, b) in self.cross.iter_mut().zip(&o.cross) {
            *a += b;
        }
    }
}

/// What one pass over the file accumulates.
#[derive(Debug, Default)]
struct ScanState {
    rows: u64,
    kept: u64,
    nulls: Vec<u64>,
    nonnum: Vec<u64>,
    range_bad: u64,
    /// Per group (no unit): sums over rows.
    groups: HashMap<GroupKey, Acc>,
    /// Per unit: its group and the sums of its rows (only sums, no cross-products).
    units: HashMap<String, (GroupKey, Acc)>,
    /// The first unit seen in two groups: (unit, first group, second group).
    conflict: Option<(String, GroupKey, GroupKey)>,
}

/// The layout of the batches the query produces.
#[derive(Debug, Clone)]
struct Layout {
    keys: Vec<String>,
    unit: bool,
    p: usize,
    n_used: usize,
    n_text: usize,
    range: bool,
}

fn f64_values(df: &DataFrame, name: &str) -> PolarsResult<Vec<f64>> {
    let ca = df.column(name)?.as_materialized_series().f64()?.rechunk();
    let mut out = Vec::with_capacity(ca.len());
    for arr in ca.downcast_iter() {
        // Slots under a null hold an unspecified number; only kept rows (no nulls) are read.
        out.extend_from_slice(arr.values().as_slice());
    }
    Ok(out)
}

fn bool_count(df: &DataFrame, name: &str) -> PolarsResult<u64> {
    Ok(df
        .column(name)?
        .as_materialized_series()
        .bool()?
        .sum()
        .unwrap_or(0) as u64)
}

/// Per-row codes of a text column: each distinct value gets the next code in order of
/// appearance (`dict` holds the values). Missing values get the code of "" (such rows are
/// not kept anyway). Few distinct values are found by a linear scan, many by hashing.
fn text_codes(ca: &StringChunked, dict: &mut Vec<String>) -> Vec<u32> {
    let mut out = Vec::with_capacity(ca.len());
    let mut map: HashMap<String, u32> = HashMap::new();
    let mut last: Option<(&str, u32)> = None;
    for v in ca.iter() {
        let s = v.unwrap_or_default();
        let code = match last {
            Some((l, c)) if l == s => c,
            _ => {
                let found = if dict.len() <= 16 {
                    dict.iter().position(|d| d == s).map(|i| i as u32)
                } else {
                    map.get(s).copied()
                };
                found.unwrap_or_else(|| {
                    dict.push(s.to_string());
                    let c = (dict.len() - 1) as u32;
                    if dict.len() > 16 {
                        if map.is_empty() {
                            for (i, d) in dict.iter().enumerate() {
                                map.insert(d.clone(), i as u32);
                            }
                        } else {
                            map.insert(s.to_string(), c);
                        }
                    }
                    c
                })
            }
        };
        last = Some((s, code));
        out.push(code);
    }
    out
}

/// Accumulates one batch into a partial state (no locking), merged by the caller.
fn process_batch(df: &DataFrame, lay: &Layout) -> PolarsResult<ScanState> {
    let h = df.height();
    let mut st = ScanState {
        rows: h as u64,
        nulls: vec![0; lay.n_used],
        nonnum: vec![0; lay.n_text],
        ..Default::default()
    };
    for i in 0..lay.n_used {
        st.nulls[i] = bool_count(df, &format!("null_{i}"))?;
    }
    for i in 0..lay.n_text {
        st.nonnum[i] = bool_count(df, &format!("nonnum_{i}"))?;
    }
    let keep_ca = df
        .column("__keep")?
        .as_materialized_series()
        .bool()?
        .rechunk();
    let keep: Vec<bool> = keep_ca.iter().map(|b| b.unwrap_or(false)).collect();
    if lay.range {
        // The flag is already restricted to rows where the KPI's columns are present.
        st.range_bad = bool_count(df, "range_bad")?;
    }
    let values: Vec<Vec<f64>> = (0..lay.p)
        .map(|i| f64_values(df, &format!("v{i}")))
        .collect::<PolarsResult<_>>()?;
    // Each key column as per-row codes into a small per-batch dictionary, combined into one
    // code per row (mixed radix): no allocation or hashing per row.
    let mut dicts: Vec<Vec<String>> = Vec::with_capacity(lay.keys.len());
    let mut combined: Vec<u64> = vec![0; h];
    for k in &lay.keys {
        let ca = df.column(k)?.as_materialized_series().str()?.rechunk();
        let mut dict: Vec<String> = Vec::new();
        let codes = text_codes(&ca, &mut dict);
        let radix = dict.len().max(1) as u64;
        for (c, code) in combined.iter_mut().zip(&codes) {
            *c = *c * radix + u64::from(*code);
        }
        dicts.push(dict);
    }
    let key_of = |code: u64| -> GroupKey {
        let mut parts = Vec::with_capacity(dicts.len());
        let mut rest = code;
        for d in dicts.iter().rev() {
            let radix = d.len().max(1) as u64;
            parts.push(d.get((rest % radix) as usize).cloned().unwrap_or_default());
            rest /= radix;
        }
        parts.reverse();
        parts
    };
    let unit_col = if lay.unit {
        Some(
            df.column("__unit")?
                .as_materialized_series()
                .str()?
                .rechunk()
                .into_owned(),
        )
    } else {
        None
    };
    let units: Option<Vec<Option<&str>>> = unit_col.as_ref().map(|c| c.iter().collect());
    let mut local: Vec<(GroupKey, Acc)> = Vec::new();
    let mut index: HashMap<u64, usize> = HashMap::new();
    let mut last: Option<(u64, usize)> = None;
    let p = lay.p;
    let mut row = vec![0.0; p];
    for r in 0..h {
        if !keep[r] {
            continue;
        }
        st.kept += 1;
        let code = combined[r];
        let g = match last {
            Some((c, g)) if c == code => g,
            _ => *index.entry(code).or_insert_with(|| {
                local.push((key_of(code), Acc::new(p)));
                local.len() - 1
            }),
        };
        last = Some((code, g));
        for (x, v) in row.iter_mut().zip(&values) {
            *x = v[r];
        }
        match &units {
            None => {
                let acc = &mut local[g].1;
                acc.n += 1;
                let mut t = 0;
                for i in 0..p {
                    acc.sums[i] += row[i];
                    for j in 0..=i {
                        acc.cross[t] += row[i] * row[j];
                        t += 1;
                    }
                }
            }
            Some(units) => {
                let u = units[r].unwrap_or_default();
                if !st.units.contains_key(u) {
                    st.units
                        .insert(u.to_string(), (local[g].0.clone(), Acc::new(p)));
                }
                let Some(entry) = st.units.get_mut(u) else {
                    continue;
                };
                if entry.0 != local[g].0 && st.conflict.is_none() {
                    st.conflict = Some((u.to_string(), entry.0.clone(), local[g].0.clone()));
                }
                entry.1.n += 1;
                for (s, x) in entry.1.sums.iter_mut().zip(&row) {
                    *s += x;
                }
            }
        }
    }
    if units.is_none() {
        st.groups = local.into_iter().collect();
    }
    Ok(st)
}

impl ScanState {
    fn merge(&mut self, o: ScanState) {
        self.rows += o.rows;
        self.kept += o.kept;
        if self.nulls.len() < o.nulls.len() {
            self.nulls.resize(o.nulls.len(), 0);
        }
        for (a, b) in self.nulls.iter_mut().zip(&o.nulls) {
            *a += b;
        }
        if self.nonnum.len() < o.nonnum.len() {
            self.nonnum.resize(o.nonnum.len(), 0);
        }
        for (a, b) in self.nonnum.iter_mut().zip(&o.nonnum) {
            *a += b;
        }
        self.range_bad += o.range_bad;
        for (k, acc) in o.groups {
            match self.groups.get_mut(&k) {
                Some(a) => a.merge(&acc),
                None => {
                    self.groups.insert(k, acc);
                }
            }
        }
        if self.conflict.is_none() {
            self.conflict = o.conflict;
        }
        for (u, (g, acc)) in o.units {
            match self.units.get_mut(&u) {
                Some((g0, a)) => {
                    if *g0 != g && self.conflict.is_none() {
                        self.conflict = Some((u.clone(), g0.clone(), g.clone()));
                    }
                    a.merge(&acc);
                }
                None => {
                    self.units.insert(u, (g, acc));
                }
            }
        }
    }
}

/// Per-group sufficient statistics of `kpi`, computed from a CSV or Parquet file with the
/// streaming engine. Semantics and errors are those of
/// [`kpi_moments`](crate::aggregate::kpi_moments): missing values are an error unless
/// dropped, non-numbers and out-of-range values name their row, and with `unit` the rows are
/// summed per unit first (a unit in two groups is an error).
///
/// The file is read once, by the direct Parquet reader when it applies and otherwise by
/// polars' streaming engine (see the [module docs](self) and [`ScanReader`]); each row group
/// or batch's sums and cross-products are accumulated in Rust and merged, so memory is bounded
/// by a few row groups (or batches) and the number of groups (with `unit`: the number of
/// units, one row of sums each). Only when an error is certain is the file read again to find
/// the first offending row.
pub fn kpi_moments_scan(
    path: &Path,
    kpi: &Kpi,
    group_by: &[&str],
    unit: Option<&str>,
    covariates: &[&str],
    policy: MissingPolicy,
) -> Result<GroupedMoments> {
    kpi_moments_scan_with(
        path,
        kpi,
        group_by,
        unit,
        covariates,
        policy,
        ScanReader::Auto,
    )
}

/// [`kpi_moments_scan`] with a choice of reader ([`ScanReader`]); both give the same
/// statistics (to rounding: the sums are added in a different order) and the same errors.
pub fn kpi_moments_scan_with(
    path: &Path,
    kpi: &Kpi,
    group_by: &[&str],
    unit: Option<&str>,
    covariates: &[&str],
    policy: MissingPolicy,
    reader: ScanReader,
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
    // Only text columns can hold values that do not parse as numbers.
    let text_numeric: Vec<&str> = numeric_cols
        .iter()
        .copied()
        .filter(|c| matches!(schema.get(c), Some(DataType::String)))
        .collect();
    let (numerator, denominator) = kpi_exprs(kpi)?;
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
                .or((num(column) % lit(1.0)).neq(lit(0.0))),
            "an integer score from 0 to 10",
        )),
        KpiKind::Ratio {
            denominator: Denominator::Column(d),
            ..
        } => Some((d.clone(), num(d).lt(lit(0.0)), "a non-negative denominator")),
        _ => None,
    };

    // A row is kept when none of the used columns is missing.
    let mut keep = col(used[0]).is_not_null();
    for c in &used[1..] {
        keep = keep.and(col(*c).is_not_null());
    }
    let names = moment_names(covariates);
    let p = names.len();
    let key_names: Vec<String> = (0..group_by.len()).map(|i| format!("__k{i}")).collect();
    let mut row_exprs: Vec<Expr> = group_by
        .iter()
        .zip(&key_names)
        .map(|(g, k)| col(*g).cast(DataType::String).alias(k.as_str()))
        .collect();
    if let Some(u) = unit {
        row_exprs.push(col(u).cast(DataType::String).alias("__unit"));
    }
    row_exprs.push(keep.clone().alias("__keep"));
    row_exprs.push(numerator.cast(DataType::Float64).alias("v0"));
    row_exprs.push(denominator.cast(DataType::Float64).alias("v1"));
    for (j, c) in covariates.iter().enumerate() {
        row_exprs.push(num(c).alias(format!("v{}", j + 2)));
    }
    for (i, c) in used.iter().enumerate() {
        row_exprs.push(col(*c).is_null().alias(format!("null_{i}")));
    }
    for (i, c) in text_numeric.iter().enumerate() {
        row_exprs.push(
            col(*c)
                .is_not_null()
                .and(num(c).is_null())
                .alias(format!("nonnum_{i}")),
        );
    }
    // As in the in-memory path, values out of range are looked for among the rows where the
    // KPI's own columns are present (a row dropped for a missing covariate is still checked).
    let kpi_cols = kpi.columns();
    let mut kpi_present = col(kpi_cols[0]).is_not_null();
    for c in &kpi_cols[1..] {
        kpi_present = kpi_present.and(col(*c).is_not_null());
    }
    if let Some((_, bad, _)) = &range_bad {
        row_exprs.push(
            kpi_present
                .clone()
                .and(bad.clone())
                .fill_null(lit(false))
                .alias("range_bad"),
        );
    }
    let layout = Layout {
        keys: key_names,
        unit: unit.is_some(),
        p,
        n_used: used.len(),
        n_text: text_numeric.len(),
        range: range_bad.is_some(),
    };
    let is_parquet = matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .as_deref(),
        Some("parquet") | Some("pq")
    );
    let readable = |c: &&str, key: bool| match schema.get(c) {
        Some(DataType::String) => key,
        Some(DataType::Boolean) => true,
        Some(d) => d.is_primitive_numeric(),
        None => false,
    };
    let direct = reader == ScanReader::Auto
        && is_parquet
        && unit.is_none()
        && group_by.iter().all(|c| readable(c, true))
        && numeric_cols
            .iter()
            .all(|c| readable(c, false) && !group_by.contains(c));
    let mut direct_state = None;
    if direct {
        let mut read: Vec<&str> = group_by.to_vec();
        for c in &numeric_cols {
            if !read.contains(c) {
                read.push(c);
            }
        }
        let plan = DirectPlan {
            kpi,
            group_by,
            covariates,
            used: &used,
            read,
            p,
        };
        direct_state = scan_parquet_direct(path, &plan)?;
    }
    let state = match direct_state {
        Some(s) => s,
        None => scan_streaming(path, lf, row_exprs, &layout)?,
    };

    // Validation, in the order of the in-memory path (`Kpi::row_values` first: the KPI's
    // columns not numbers, missing, out of range; then the other columns not numbers and
    // missing); the offending row is looked up only now.
    let indexed = || -> Result<LazyFrame> { Ok(scan(path)?.with_row_index(ROW, None)) };
    let non_numeric = |only_kpi: bool| -> Result<()> {
        for (i, c) in text_numeric.iter().enumerate() {
            if kpi_cols.contains(c) != only_kpi || state.nonnum[i] == 0 {
                continue;
            }
            let (row, value) = first_bad(
                path,
                &indexed()?,
                c,
                col(*c).is_not_null().and(num(c).is_null()),
            )?;
            return Err(DataError::NonNumeric {
                column: c.to_string(),
                row,
                value,
            });
        }
        Ok(())
    };
    let missing = |columns: &[&str]| -> Result<()> {
        if policy == MissingPolicy::Drop {
            return Ok(());
        }
        for c in columns {
            let Some(i) = used.iter().position(|u| u == c) else {
                continue;
            };
            let nulls = state.nulls[i] as usize;
            if nulls > 0 {
                let (first_row, _) = first_bad(path, &indexed()?, c, col(*c).is_null())?;
                return Err(DataError::MissingValues {
                    column: c.to_string(),
                    count: nulls,
                    first_row,
                });
            }
        }
        Ok(())
    };
    non_numeric(true)?;
    missing(&kpi_cols)?;
    if let Some((column, bad, expected)) = &range_bad {
        if state.range_bad > 0 {
            let (row, value) = first_bad(
                path,
                &indexed()?.filter(kpi_present.clone()),
                column,
                bad.clone(),
            )?;
            return Err(DataError::OutOfRange {
                column: column.clone(),
                row,
                value: value.parse().unwrap_or(f64::NAN),
                expected: expected.to_string(),
            });
        }
    }
    non_numeric(false)?;
    let mut others: Vec<&str> = group_by.to_vec();
    others.extend(unit);
    others.extend(covariates.iter().copied());
    missing(&others)?;
    if let (Some(u), Some((name, first, second))) = (unit, &state.conflict) {
        return Err(unit_in_two_groups(path, group_by, u, name, first, second));
    }

    let mut groups: BTreeMap<GroupKey, Moments> = BTreeMap::new();
    let tri = |i: usize, j: usize| {
        let (i, j) = (i.max(j), i.min(j));
        i * (i + 1) / 2 + j
    };
    match unit {
        None => {
            for (key, acc) in &state.groups {
                if acc.n == 0 {
                    continue;
                }
                let m = Moments::from_parts(names.clone(), acc.n, acc.sums.clone(), |i, j| {
                    acc.cross[tri(i, j)]
                })?;
                groups.insert(key.clone(), m);
            }
        }
        Some(_) => {
            // Units in a fixed order, so that the sums do not depend on hashing.
            let mut units: Vec<(&String, &(GroupKey, Acc))> = state.units.iter().collect();
            units.sort_by(|a, b| a.0.cmp(b.0));
            let mut values = vec![0.0; p];
            for (_, (key, acc)) in units {
                let n = acc.n as f64;
                values[0] = acc.sums[0];
                values[1] = acc.sums[1];
                for (i, v) in values.iter_mut().enumerate().skip(2) {
                    *v = acc.sums[i] / n;
                }
                groups
                    .entry(key.clone())
                    .or_insert_with(|| Moments::new(names.clone()))
                    .push(&values)?;
            }
        }
    }
    if groups.is_empty() {
        return Err(DataError::EmptyGroup(format!(
            "no usable rows for KPI `{}`",
            kpi.name
        )));
    }
    Ok(GroupedMoments {
        kpi: kpi.name.clone(),
        group_by: group_by.iter().map(|s| s.to_string()).collect(),
        unit: unit.map(str::to_string),
        groups,
        dropped_rows: (state.rows - state.kept) as usize,
    })
}

/// One pass with polars' streaming engine: the row expressions are evaluated by polars and
/// each batch is accumulated in Rust and merged.
fn scan_streaming(
    path: &Path,
    lf: LazyFrame,
    row_exprs: Vec<Expr>,
    layout: &Layout,
) -> Result<ScanState> {
    let state = Arc::new(Mutex::new(ScanState {
        nulls: vec![0; layout.n_used],
        nonnum: vec![0; layout.n_text],
        ..Default::default()
    }));
    let sink_state = Arc::clone(&state);
    let sink_layout = layout.clone();
    let query = lf
        .select(row_exprs)
        .sink_batches(
            PlanCallback::new(move |df: DataFrame| {
                let partial = process_batch(&df, &sink_layout)?;
                sink_state
                    .lock()
                    .map_err(|_| polars_err!(ComputeError: "scan state lock poisoned"))?
                    .merge(partial);
                Ok(false)
            }),
            false,
            None,
        )
        .map_err(|e| pl_err(path, e))?;
    query
        .collect_with_engine(Engine::Streaming)
        .map_err(|e| pl_err(path, e))?;
    let state: ScanState = std::mem::take(&mut *state.lock().map_err(|_| DataError::Read {
        path: path.display().to_string(),
        message: "scan state lock poisoned".into(),
    })?);

    Ok(state)
}

// ---------------------------------------------------------------------------------------------
// Direct Parquet path: row groups decoded by polars' Parquet decoder, in parallel, without
// polars' query engine and without memory-mapping the file.
// ---------------------------------------------------------------------------------------------

/// Which reader [`kpi_moments_scan_with`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScanReader {
    /// The direct Parquet reader when it applies (a Parquet file, no `unit`, numeric KPI and
    /// covariate columns, row groups of at most [`MAX_DIRECT_ROW_GROUP_BYTES`] decoded), else
    /// polars' streaming engine.
    #[default]
    Auto,
    /// Always polars' streaming engine (`sink_batches`), for CSV and as a reference.
    Streaming,
}

/// The largest decoded row group (estimated from its rows and the columns read) that the
/// direct Parquet reader takes; files with larger row groups go through polars' streaming
/// engine, which splits them.
pub const MAX_DIRECT_ROW_GROUP_BYTES: usize = 512 << 20;

/// What the direct Parquet path needs to know about the query.
struct DirectPlan<'a> {
    kpi: &'a Kpi,
    group_by: &'a [&'a str],
    covariates: &'a [&'a str],
    /// All used columns, in the order of `ScanState::nulls`.
    used: &'a [&'a str],
    /// The distinct columns to decode: group keys first, then numeric columns.
    read: Vec<&'a str>,
    p: usize,
}

/// One decoded row group: each column of `read` as a polars column (keys cast to text,
/// numeric columns to `f64`).
fn decode_row_group(
    path: &Path,
    meta: &polars::io::parquet::read::FileMetadata,
    schema: &ArrowSchema,
    rg: usize,
    plan: &DirectPlan,
) -> PolarsResult<Vec<Series>> {
    use polars::io::parquet::read::_internal::to_deserializer;
    use std::io::{Read, Seek, SeekFrom};
    let md = &meta.row_groups[rg];
    let mut file = std::fs::File::open(path)?;
    let n_keys = plan.group_by.len();
    let mut out = Vec::with_capacity(plan.read.len());
    for (i, name) in plan.read.iter().enumerate() {
        let field = schema
            .get(name)
            .ok_or_else(|| polars_err!(ColumnNotFound: "{name}"))?;
        let chunks = md
            .columns_under_root_iter(name)
            .ok_or_else(|| polars_err!(ColumnNotFound: "{name} in row group {rg}"))?;
        let mut columns = Vec::new();
        for c in chunks {
            // Plain reads (no memory map): only the bytes of this column chunk are resident,
            // and only while it is decoded.
            let range = c.byte_range();
            let len = (range.end - range.start) as usize;
            let mut buf = Vec::with_capacity(len);
            file.seek(SeekFrom::Start(range.start))?;
            (&mut file).take(len as u64).read_to_end(&mut buf)?;
            if buf.len() != len {
                polars_bail!(ComputeError: "column `{name}` of row group {rg} is cut short");
            }
            columns.push((c, buf.into()));
        }
        let (arrays, _) = to_deserializer(columns, field.clone(), None)?;
        let s = Series::try_from((field, arrays))?;
        let target = if i < n_keys {
            DataType::String
        } else {
            DataType::Float64
        };
        out.push(if s.dtype() == &target {
            s
        } else {
            s.cast(&target)?
        });
    }
    Ok(out)
}

/// Per-row group codes of one text key column (codes in order of first appearance, `dict`
/// holds the values). Identical 16-byte views are the same string, so rows are matched on the
/// view first and on the bytes only for a view not seen before. Missing keys get code 0.
fn view_codes(ca: &StringChunked, dict: &mut Vec<String>) -> Vec<u32> {
    let mut out = Vec::with_capacity(ca.len());
    let mut map: HashMap<String, u32> = HashMap::new();
    let present: Option<Vec<bool>> = (ca.null_count() > 0).then(|| {
        ca.is_not_null()
            .downcast_iter()
            .flat_map(|a| a.values_iter())
            .collect()
    });
    let mut row = 0;
    for arr in ca.downcast_iter() {
        // Views that point into buffers are only comparable within one array.
        let mut seen: Vec<(u128, u32)> = Vec::new();
        let views = arr.views();
        for (r, view) in views.iter().enumerate() {
            let at = row;
            row += 1;
            if present.as_ref().is_some_and(|p| !p[at]) {
                if dict.is_empty() {
                    dict.push(String::new());
                }
                out.push(0);
                continue;
            }
            let bits = view.as_u128();
            let code = match seen.iter().find(|(b, _)| *b == bits) {
                Some((_, c)) => *c,
                None => {
                    let s = arr.value(r);
                    let c = match map.get(s) {
                        Some(c) => *c,
                        None => {
                            dict.push(s.to_string());
                            let c = (dict.len() - 1) as u32;
                            map.insert(s.to_string(), c);
                            c
                        }
                    };
                    if seen.len() < 32 {
                        seen.push((bits, c));
                    }
                    c
                }
            };
            out.push(code);
        }
    }
    out
}

/// Adds rows `r` of `cols` (kept per `keep`) to the sums of group `codes[r]`: `buf` holds, per
/// group, `P` sums then the lower triangle of cross-products. `P` is a compile-time constant
/// for the common sizes, so the inner loops unroll.
fn accumulate<const P: usize>(
    cols: &[&[f64]],
    codes: &[u32],
    keep: Option<&[bool]>,
    counts: &mut [u64],
    buf: &mut [f64],
) {
    let stride = P + P * (P + 1) / 2;
    let cols: [&[f64]; P] = std::array::from_fn(|i| &cols[i][..codes.len()]);
    for (r, &code) in codes.iter().enumerate() {
        if let Some(k) = keep {
            if !k[r] {
                continue;
            }
        }
        let g = code as usize;
        counts[g] += 1;
        let acc = &mut buf[g * stride..(g + 1) * stride];
        let x: [f64; P] = std::array::from_fn(|i| cols[i][r]);
        for i in 0..P {
            acc[i] += x[i];
        }
        let mut t = P;
        for i in 0..P {
            for j in 0..=i {
                acc[t] += x[i] * x[j];
                t += 1;
            }
        }
    }
}

/// The same as [`accumulate`] for any number of columns.
fn accumulate_dyn(
    cols: &[&[f64]],
    codes: &[u32],
    keep: Option<&[bool]>,
    counts: &mut [u64],
    buf: &mut [f64],
) {
    let p = cols.len();
    let stride = p + p * (p + 1) / 2;
    let mut x = vec![0.0; p];
    for (r, &code) in codes.iter().enumerate() {
        if keep.is_some_and(|k| !k[r]) {
            continue;
        }
        let g = code as usize;
        counts[g] += 1;
        let acc = &mut buf[g * stride..(g + 1) * stride];
        for (xi, c) in x.iter_mut().zip(cols) {
            *xi = c[r];
        }
        for i in 0..p {
            acc[i] += x[i];
        }
        let mut t = p;
        for i in 0..p {
            for j in 0..=i {
                acc[t] += x[i] * x[j];
                t += 1;
            }
        }
    }
}

/// The partial state of one row group.
fn process_row_group(cols: &[Series], h: usize, plan: &DirectPlan) -> PolarsResult<ScanState> {
    let n_keys = plan.group_by.len();
    let index_of = |name: &str| plan.read.iter().position(|c| *c == name);
    let mut st = ScanState {
        rows: h as u64,
        nulls: vec![0; plan.used.len()],
        ..Default::default()
    };
    // Missing values: counted per used column; the mask of kept rows is only built when a
    // column of this row group has any.
    let mut any_null = false;
    for (i, c) in plan.used.iter().enumerate() {
        let j = index_of(c).ok_or_else(|| polars_err!(ColumnNotFound: "{c}"))?;
        st.nulls[i] = cols[j].null_count() as u64;
        any_null |= st.nulls[i] > 0;
    }
    let keep: Option<Vec<bool>> = if any_null {
        let mut k = vec![true; h];
        for s in cols {
            if s.null_count() == 0 {
                continue;
            }
            let mut r = 0;
            for v in s.is_not_null().downcast_iter() {
                for b in v.values_iter() {
                    k[r] &= b;
                    r += 1;
                }
            }
        }
        Some(k)
    } else {
        None
    };
    st.kept = keep
        .as_ref()
        .map_or(h as u64, |k| k.iter().filter(|b| **b).count() as u64);
    // Numeric columns as f64 slices (values under a null are never read).
    let numeric: Vec<Float64Chunked> = cols[n_keys..]
        .iter()
        .map(|s| s.f64().map(|c| c.rechunk().into_owned()))
        .collect::<PolarsResult<_>>()?;
    let slice_of = |name: &str| -> PolarsResult<&[f64]> {
        let j = index_of(name).ok_or_else(|| polars_err!(ColumnNotFound: "{name}"))?;
        let ca = &numeric[j - n_keys];
        Ok(ca
            .downcast_iter()
            .next()
            .map_or(&[][..], |a| a.values().as_slice()))
    };
    // Range checks, as in the in-memory path, among the rows where the KPI's columns are
    // present.
    let kpi_cols = plan.kpi.columns();
    let mut kpi_present: Option<Vec<bool>> = None;
    for c in &kpi_cols {
        let j = index_of(c).ok_or_else(|| polars_err!(ColumnNotFound: "{c}"))?;
        if cols[j].null_count() > 0 {
            let k = kpi_present.get_or_insert_with(|| vec![true; h]);
            let mut r = 0;
            for v in cols[j].is_not_null().downcast_iter() {
                for b in v.values_iter() {
                    k[r] &= b;
                    r += 1;
                }
            }
        }
    }
    let bad_count = |x: &[f64], bad: &dyn Fn(f64) -> bool| -> u64 {
        x.iter()
            .enumerate()
            .filter(|(r, v)| kpi_present.as_ref().is_none_or(|k| k[*r]) && bad(**v))
            .count() as u64
    };
    st.range_bad = match &plan.kpi.kind {
        KpiKind::Proportion { column } => bad_count(slice_of(column)?, &|v| v != 0.0 && v != 1.0),
        KpiKind::Nps { column } => bad_count(slice_of(column)?, &|v| {
            v < 0.0 || v.is_nan() || v > 10.0 || v != v.floor()
        }),
        KpiKind::Ratio {
            denominator: Denominator::Column(d),
            ..
        } => bad_count(slice_of(d)?, &|v| v < 0.0),
        _ => 0,
    };
    // The KPI's numerator and denominator per row, borrowed when they are a column.
    let ones = || vec![1.0; h];
    let derived = |name: &str, f: &dyn Fn(f64) -> f64| -> PolarsResult<Vec<f64>> {
        Ok(slice_of(name)?.iter().map(|v| f(*v)).collect())
    };
    let (num_v, den_v): (std::borrow::Cow<[f64]>, std::borrow::Cow<[f64]>) = match &plan.kpi.kind {
        KpiKind::Mean { column } | KpiKind::Proportion { column } => {
            (slice_of(column)?.into(), ones().into())
        }
        KpiKind::Ratio {
            numerator,
            denominator,
        } => (
            slice_of(numerator)?.into(),
            match denominator {
                Denominator::Count => ones().into(),
                Denominator::Column(d) => slice_of(d)?.into(),
            },
        ),
        KpiKind::Nps { column } => (
            derived(column, &|v| {
                if v >= 9.0 {
                    1.0
                } else if v <= 6.0 {
                    -1.0
                } else {
                    0.0
                }
            })?
            .into(),
            ones().into(),
        ),
        KpiKind::TopBox { column, threshold } => (
            derived(column, &|v| if v >= *threshold { 1.0 } else { 0.0 })?.into(),
            ones().into(),
        ),
        KpiKind::Composite { terms } => {
            let mut e = vec![0.0; h];
            for (c, w) in terms {
                for (a, v) in e.iter_mut().zip(slice_of(c)?) {
                    *a += *w * *v;
                }
            }
            (e.into(), ones().into())
        }
        #[allow(unreachable_patterns)]
        _ => polars_bail!(ComputeError: "KPI kind not supported by the direct reader"),
    };
    let mut values: Vec<&[f64]> = vec![num_v.as_ref(), den_v.as_ref()];
    for c in plan.covariates {
        values.push(slice_of(c)?);
    }
    // Group codes: per key column in order of appearance, combined in mixed radix.
    let mut dicts: Vec<Vec<String>> = Vec::with_capacity(n_keys);
    let mut combined: Vec<u32> = vec![0; h];
    let mut n_groups: u64 = 1;
    for s in &cols[..n_keys] {
        let mut dict = Vec::new();
        let codes = view_codes(s.str()?, &mut dict);
        let radix = dict.len().max(1) as u64;
        n_groups *= radix;
        if n_groups > u64::from(u32::MAX) {
            polars_bail!(ComputeError: "too many key combinations for the direct reader");
        }
        if dicts.is_empty() {
            combined = codes;
        } else {
            for (c, code) in combined.iter_mut().zip(&codes) {
                *c = *c * radix as u32 + *code;
            }
        }
        dicts.push(dict);
    }
    // Sparse combinations of several keys: renumber the combinations that occur.
    let mut dense_to_code: Option<Vec<u32>> = None;
    if n_groups > 4096 {
        let mut map: HashMap<u32, u32> = HashMap::new();
        let mut back = Vec::new();
        for c in combined.iter_mut() {
            let next = map.len() as u32;
            let d = *map.entry(*c).or_insert_with(|| {
                back.push(*c);
                next
            });
            *c = d;
        }
        n_groups = back.len() as u64;
        dense_to_code = Some(back);
    }
    let g = n_groups as usize;
    let p = plan.p;
    let stride = p + p * (p + 1) / 2;
    let mut counts = vec![0u64; g];
    let mut buf = vec![0.0; g * stride];
    let keep_ref = keep.as_deref();
    match p {
        2 => accumulate::<2>(&values, &combined, keep_ref, &mut counts, &mut buf),
        3 => accumulate::<3>(&values, &combined, keep_ref, &mut counts, &mut buf),
        4 => accumulate::<4>(&values, &combined, keep_ref, &mut counts, &mut buf),
        _ => accumulate_dyn(&values, &combined, keep_ref, &mut counts, &mut buf),
    }
    for (d, n) in counts.iter().enumerate() {
        if *n == 0 {
            continue;
        }
        let mut rest = dense_to_code.as_ref().map_or(d as u32, |b| b[d]);
        let mut key = Vec::with_capacity(n_keys);
        for dict in dicts.iter().rev() {
            let radix = dict.len().max(1) as u32;
            key.push(
                dict.get((rest % radix) as usize)
                    .cloned()
                    .unwrap_or_default(),
            );
            rest /= radix;
        }
        key.reverse();
        let chunk = &buf[d * stride..(d + 1) * stride];
        st.groups.insert(
            key,
            Acc {
                n: *n,
                sums: chunk[..p].to_vec(),
                cross: chunk[p..].to_vec(),
            },
        );
    }
    Ok(st)
}

/// Keeps freed buffers in the process for reuse instead of returning them to the kernel.
///
/// Each row group's decoded columns are tens of megabytes, allocated and freed again for every
/// row group. With glibc's default (dynamic) thresholds such blocks are mapped and unmapped
/// (or trimmed) each time, and zero-filling the fresh pages in the kernel took about 60% of the
/// scan's time. Raising the mmap and trim thresholds to 256 MiB (`mallopt`, once per process)
/// lets the allocator reuse the blocks; the cost is that up to that much freed memory stays
/// with the process. Only on Linux with glibc; elsewhere this does nothing.
fn reuse_large_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        extern "C" {
            fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
        }
        // glibc's malloc.h: M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3.
        const M_TRIM_THRESHOLD: std::ffi::c_int = -1;
        const M_MMAP_THRESHOLD: std::ffi::c_int = -3;
        const BYTES: std::ffi::c_int = 256 << 20;
        ONCE.call_once(|| {
            // SAFETY: mallopt only sets allocator parameters; it is safe to call at any time
            // and from any thread (glibc takes its own locks).
            unsafe {
                mallopt(M_MMAP_THRESHOLD, BYTES);
                mallopt(M_TRIM_THRESHOLD, BYTES);
            }
        });
    }
}

/// Asks the kernel to start reading `range` of `file` into the page cache in the background
/// (`posix_fadvise(WILLNEED)`), so that disk reads of the next row groups overlap with the
/// decoding of the current ones when the file is not (or only partly) cached. A hint only:
/// errors are ignored. Linux only; elsewhere this does nothing.
fn prefetch(file: &std::fs::File, range: std::ops::Range<u64>) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::io::AsRawFd;
        extern "C" {
            fn posix_fadvise(
                fd: std::ffi::c_int,
                offset: i64,
                len: i64,
                advice: std::ffi::c_int,
            ) -> std::ffi::c_int;
        }
        const POSIX_FADV_WILLNEED: std::ffi::c_int = 3;
        // SAFETY: the descriptor is open for the duration of the call; the call only hints.
        unsafe {
            posix_fadvise(
                file.as_raw_fd(),
                range.start as i64,
                (range.end - range.start) as i64,
                POSIX_FADV_WILLNEED,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, range);
}

/// The bytes of the columns read, over row groups `rgs` (one range from the first to the last).
fn byte_span(
    meta: &polars::io::parquet::read::FileMetadata,
    rgs: std::ops::Range<usize>,
    plan: &DirectPlan,
) -> std::ops::Range<u64> {
    let (mut lo, mut hi) = (u64::MAX, 0);
    for rg in rgs {
        for c in &plan.read {
            for chunk in meta.row_groups[rg]
                .columns_under_root_iter(c)
                .into_iter()
                .flatten()
            {
                let r = chunk.byte_range();
                lo = lo.min(r.start);
                hi = hi.max(r.end);
            }
        }
    }
    lo.min(hi)..hi
}

/// One pass over a Parquet file by row groups, in parallel; `None` when the file's layout is
/// not one the direct reader takes (the caller then uses the streaming engine). Row groups are
/// processed in windows of a few per thread and merged in file order, so the sums do not
/// depend on the number of threads; memory is a few decoded row groups per thread.
fn scan_parquet_direct(path: &Path, plan: &DirectPlan) -> Result<Option<ScanState>> {
    use rayon::prelude::*;
    let err = |e: PolarsError| pl_err(path, e);
    let open = || {
        std::fs::File::open(path).map_err(|e| DataError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    };
    let hints = open()?;
    let mut reader = ParquetReader::new(open()?);
    let schema = reader.schema().map_err(err)?;
    let meta = reader.get_metadata().map_err(err)?.clone();
    // Estimated decoded bytes per row of the columns read.
    let row_bytes = plan.group_by.len() * 16 + (plan.read.len() - plan.group_by.len()) * 8;
    for rg in &meta.row_groups {
        if rg.num_rows() * row_bytes > MAX_DIRECT_ROW_GROUP_BYTES {
            return Ok(None);
        }
        for c in &plan.read {
            if rg.columns_under_root_iter(c).is_none() {
                return Ok(None);
            }
        }
    }
    reuse_large_allocations();
    let n_rg = meta.row_groups.len();
    let window = 4 * rayon::current_num_threads().max(1);
    let mut state = ScanState {
        nulls: vec![0; plan.used.len()],
        ..Default::default()
    };
    let mut start = 0;
    while start < n_rg {
        let end = (start + window).min(n_rg);
        if start == 0 {
            prefetch(&hints, byte_span(&meta, start..end, plan));
        }
        // The next window is read ahead while this one is decoded.
        prefetch(
            &hints,
            byte_span(&meta, end..(end + window).min(n_rg), plan),
        );
        let partials: Vec<ScanState> = (start..end)
            .into_par_iter()
            .map(|rg| {
                let cols = decode_row_group(path, &meta, &schema, rg, plan)?;
                process_row_group(&cols, meta.row_groups[rg].num_rows(), plan)
            })
            .collect::<PolarsResult<_>>()
            .map_err(err)?;
        for part in partials {
            state.merge(part);
        }
        start = end;
    }
    Ok(Some(state))
}

/// The error for a unit found in two groups, with the first row of the unit in each (found by
/// a second pass over the file, which only runs on this error).
fn unit_in_two_groups(
    path: &Path,
    group_by: &[&str],
    unit: &str,
    name: &str,
    first: &GroupKey,
    second: &GroupKey,
) -> DataError {
    let first_row_of = |key: &GroupKey| -> usize {
        let mut cond = col(unit).cast(DataType::String).eq(lit(name.to_string()));
        for (g, v) in group_by.iter().zip(key) {
            cond = cond.and(col(*g).cast(DataType::String).eq(lit(v.clone())));
        }
        scan(path)
            .ok()
            .and_then(|lf| {
                run(
                    path,
                    lf.with_row_index(ROW, None)
                        .filter(cond)
                        .select([col(ROW)])
                        .limit(1),
                )
                .ok()
            })
            .map(|df| cell_u64(&df, ROW, 0) as usize)
            .unwrap_or(0)
    };
    let (a, b) = (first_row_of(first), first_row_of(second));
    let ((g1, r1), (g2, r2)) = if a <= b {
        ((first, a), (second, b))
    } else {
        ((second, b), (first, a))
    };
    DataError::UnitInSeveralGroups {
        column: unit.to_string(),
        unit: name.to_string(),
        first_group: g1.join("/"),
        first_row: r1,
        second_group: g2.join("/"),
        second_row: r2,
    }
}

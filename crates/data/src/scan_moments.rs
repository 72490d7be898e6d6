//! Grouped sufficient statistics computed straight from a file, in one pass and bounded memory.
//!
//! [`kpi_moments_scan`] gives the same [`GroupedMoments`] as
//! [`kpi_moments`](crate::aggregate::kpi_moments) on the loaded data, and the same errors
//! (tests check both), without loading the file; [`kpi_moments_scan_many`] does the same for
//! several KPIs (each with its covariates) in one pass over the file, and returns exactly, bit
//! for bit, what one [`kpi_moments_scan`] call per KPI returns. Two readers do the pass:
//!
//! - the direct Parquet reader (Parquet files, no `unit`, group keys and numeric columns of a
//!   type it decodes): row groups are read with plain reads (no memory map, so file pages do
//!   not count as resident memory), decoded by polars' Parquet decoder, several at a time on
//!   rayon's pool, and accumulated in Rust; the per-row-group sums are merged in file order, so
//!   the result does not depend on the number of threads;
//! - otherwise polars' streaming engine (`sink_batches`) over [`scan`]: polars casts the
//!   columns (keys to text, numeric columns to `f64`) and hands over batches of a fixed number
//!   of rows, in file order, which Rust accumulates; the result is again independent of
//!   threads.
//!
//! Both readers hand the same kind of chunk (group-key codes, `f64` columns with their
//! validity, and for text columns the raw text) to one accumulator, which applies the KPI's
//! row transform ([`Kpi::transform`], the same function the in-memory path uses), checks
//! missing, non-numeric, non-finite and out-of-range values and records the first offending
//! row of each, so that errors need no second pass (except a unit found in two groups, whose
//! rows are looked up only then).

use crate::aggregate::{moment_names, GroupKey, GroupedMoments};
use crate::dataset::{scan, MissingPolicy};
use crate::error::{DataError, Result};
use crate::kpi::Kpi;
use causalkit_stats::Moments;
use polars::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

const ROW: &str = "__causalkit_row";

/// Rows per batch handed over by polars' streaming engine (fixed, so that the sums do not
/// depend on how the engine splits the work).
const STREAM_BATCH_ROWS: usize = 1 << 16;

fn pl_err(path: &Path, e: PolarsError) -> DataError {
    crate::dataset::reader_error(path, e)
}

fn run(path: &Path, lf: LazyFrame) -> Result<DataFrame> {
    lf.collect_with_engine(Engine::Streaming)
        .map(|r| r.unwrap_single())
        .map_err(|e| pl_err(path, e))
}

/// The count in column `name`, row `row` of a small result frame (0 when absent).
fn cell_u64(df: &DataFrame, name: &str, row: usize) -> u64 {
    df.column(name)
        .ok()
        .and_then(|c| c.get(row).ok())
        .and_then(|v| v.extract::<u64>())
        .unwrap_or(0)
}

/// One KPI of a multi-KPI scan ([`kpi_moments_scan_many`]): the KPI and the covariates whose
/// sums and cross-products are wanted with it (e.g. the pre-period metric for CUPED).
#[derive(Debug, Clone, Copy)]
pub struct KpiRequest<'a> {
    /// The KPI.
    pub kpi: &'a Kpi,
    /// Its covariates, in the order of the variables after `numerator` and `denominator`.
    pub covariates: &'a [&'a str],
}

/// Whether a column type is text as far as numbers are concerned (values may fail to parse).
fn is_text(d: &DataType) -> bool {
    matches!(
        d,
        DataType::String | DataType::Categorical(..) | DataType::Enum(..)
    )
}

/// A column as `f64`, as [`Dataset::numeric`](crate::Dataset::numeric) reads it: text
/// (including dictionary-encoded text) is parsed, anything that does not parse is missing
/// (and reported as non-numeric), booleans are 0/1, dates are days and datetimes and
/// durations counts of their unit since the epoch.
fn num_expr(c: &str, dtype: &DataType) -> Expr {
    if matches!(dtype, DataType::Categorical(..) | DataType::Enum(..)) {
        col(c).cast(DataType::String).cast(DataType::Float64)
    } else {
        col(c).cast(DataType::Float64)
    }
}

/// Counts and first offending row of one column, over the rows seen so far.
#[derive(Debug, Clone, Default)]
struct ColStats {
    nulls: u64,
    first_null: Option<u64>,
    /// First value that is text but not a number: (row, text).
    nonnum: Option<(u64, String)>,
    /// First value that is NaN or infinite: (row, value).
    nonfinite: Option<(u64, f64)>,
}

impl ColStats {
    /// Adds the statistics of a later chunk.
    fn merge(&mut self, o: ColStats) {
        self.nulls += o.nulls;
        if self.first_null.is_none() {
            self.first_null = o.first_null;
        }
        if self.nonnum.is_none() {
            self.nonnum = o.nonnum;
        }
        if self.nonfinite.is_none() {
            self.nonfinite = o.nonfinite;
        }
    }
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

/// What one pass accumulates for one KPI request.
#[derive(Debug, Default)]
struct ReqState {
    rows: u64,
    kept: u64,
    /// First KPI input out of range among the rows where the KPI's columns are present:
    /// (row, index into `Kpi::columns`, value, what is expected).
    range: Option<(u64, usize, f64, &'static str)>,
    /// Per group (no unit): sums over rows.
    groups: HashMap<GroupKey, Acc>,
    /// Per unit: its group and the sums of its rows (only sums, no cross-products).
    units: HashMap<String, (GroupKey, Acc)>,
    /// The first unit seen in two groups: (unit, first group, second group).
    conflict: Option<(String, GroupKey, GroupKey)>,
}

impl ReqState {
    /// Adds the state of a later chunk (chunks are merged in file order).
    fn merge(&mut self, o: ReqState) {
        self.rows += o.rows;
        self.kept += o.kept;
        if self.range.is_none() {
            self.range = o.range;
        }
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

/// The state of a whole pass: per column read, and per request.
#[derive(Debug, Default)]
struct PassState {
    cols: Vec<ColStats>,
    reqs: Vec<ReqState>,
}

impl PassState {
    fn merge(&mut self, o: PassState) {
        if self.cols.is_empty() {
            self.cols = o.cols;
        } else {
            for (a, b) in self.cols.iter_mut().zip(o.cols) {
                a.merge(b);
            }
        }
        if self.reqs.is_empty() {
            self.reqs = o.reqs;
        } else {
            for (a, b) in self.reqs.iter_mut().zip(o.reqs) {
                a.merge(b);
            }
        }
    }
}

/// The columns one pass reads, and what each request uses of them.
#[derive(Debug, Clone)]
struct PassPlan {
    group_by: Vec<String>,
    unit: Option<String>,
    /// Distinct numeric columns (KPI inputs and covariates of the requests served).
    nums: Vec<String>,
    /// Whether each numeric column is text in the file (non-numbers possible).
    text: Vec<bool>,
    reqs: Vec<ReqPlan>,
}

#[derive(Debug, Clone)]
struct ReqPlan {
    kpi: Kpi,
    /// Index into `PassPlan::nums` of each of `kpi.columns()`.
    kpi_cols: Vec<usize>,
    /// Index into `PassPlan::nums` of each covariate.
    cov_cols: Vec<usize>,
    /// Number of variables: numerator, denominator, covariates.
    p: usize,
}

impl PassPlan {
    fn new(
        group_by: &[&str],
        unit: Option<&str>,
        requests: &[KpiRequest],
        text_of: &dyn Fn(&str) -> bool,
    ) -> Self {
        let mut nums: Vec<String> = Vec::new();
        let mut index = |c: &str| -> usize {
            match nums.iter().position(|n| n == c) {
                Some(i) => i,
                None => {
                    nums.push(c.to_string());
                    nums.len() - 1
                }
            }
        };
        let reqs: Vec<ReqPlan> = requests
            .iter()
            .map(|r| ReqPlan {
                kpi: r.kpi.clone(),
                kpi_cols: r.kpi.columns().into_iter().map(&mut index).collect(),
                cov_cols: r.covariates.iter().map(|c| index(c)).collect(),
                p: 2 + r.covariates.len(),
            })
            .collect();
        let text = nums.iter().map(|c| text_of(c)).collect();
        PassPlan {
            group_by: group_by.iter().map(|s| s.to_string()).collect(),
            unit: unit.map(str::to_string),
            nums,
            text,
            reqs,
        }
    }

    /// Index of a column's statistics in `PassState::cols`: keys, unit, numeric columns.
    fn stat_of_num(&self, j: usize) -> usize {
        self.group_by.len() + usize::from(self.unit.is_some()) + j
    }

    fn n_stats(&self) -> usize {
        self.stat_of_num(self.nums.len())
    }
}

/// One chunk of rows (a row group or a batch), as both readers hand it to the accumulator.
struct Chunk {
    /// Row number (0-based) of the chunk's first row in the file.
    offset: u64,
    h: usize,
    /// Group keys as text, one per key column.
    keys: Vec<StringChunked>,
    unit: Option<StringChunked>,
    /// Numeric columns as `f64` (one array each).
    nums: Vec<Float64Chunked>,
    /// The raw text of text-typed numeric columns (None otherwise).
    texts: Vec<Option<StringChunked>>,
}

/// Per-row validity of a column (None when it has no missing value).
fn validity<T: PolarsDataType>(ca: &ChunkedArray<T>) -> Option<Vec<bool>> {
    (ca.null_count() > 0).then(|| {
        ca.is_not_null()
            .downcast_iter()
            .flat_map(|a| a.values_iter())
            .collect()
    })
}

fn null_stats(valid: &Option<Vec<bool>>, offset: u64) -> ColStats {
    let mut st = ColStats::default();
    if let Some(v) = valid {
        st.nulls = v.iter().filter(|b| !**b).count() as u64;
        st.first_null = v.iter().position(|b| !*b).map(|r| offset + r as u64);
    }
    st
}

/// The `f64` values of a one-array column (values under a null are unspecified).
fn f64_slice(ca: &Float64Chunked) -> &[f64] {
    ca.downcast_iter()
        .next()
        .map_or(&[][..], |a| a.values().as_slice())
}

/// Group codes of a chunk: per key column in order of appearance, combined in mixed radix
/// (renumbered densely when the combinations are sparse).
struct KeyCodes {
    codes: Vec<u32>,
    dicts: Vec<Vec<String>>,
    dense_to_code: Option<Vec<u32>>,
    n_groups: usize,
}

impl KeyCodes {
    fn new(keys: &[StringChunked], h: usize) -> PolarsResult<KeyCodes> {
        let mut dicts: Vec<Vec<String>> = Vec::with_capacity(keys.len());
        let mut combined: Vec<u32> = vec![0; h];
        let mut n_groups: u64 = 1;
        for ca in keys {
            let mut dict = Vec::new();
            let codes = view_codes(ca, &mut dict);
            let radix = dict.len().max(1) as u64;
            n_groups *= radix;
            if n_groups > u64::from(u32::MAX) {
                polars_bail!(ComputeError: "too many key combinations in one chunk");
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
        Ok(KeyCodes {
            codes: combined,
            dicts,
            dense_to_code,
            n_groups: n_groups as usize,
        })
    }

    fn key(&self, d: usize) -> GroupKey {
        let mut rest = self.dense_to_code.as_ref().map_or(d as u32, |b| b[d]);
        let mut key = Vec::with_capacity(self.dicts.len());
        for dict in self.dicts.iter().rev() {
            let radix = dict.len().max(1) as u32;
            key.push(
                dict.get((rest % radix) as usize)
                    .cloned()
                    .unwrap_or_default(),
            );
            rest /= radix;
        }
        key.reverse();
        key
    }
}

/// Accumulates one chunk for every request of the plan: the statistics of every column read
/// (missing, non-numeric and non-finite values with their first row) and each request's
/// sums.
fn process_chunk(ch: &Chunk, plan: &PassPlan) -> PolarsResult<PassState> {
    let h = ch.h;
    let mut cols: Vec<ColStats> = Vec::with_capacity(plan.n_stats());
    let key_valid: Vec<Option<Vec<bool>>> = ch.keys.iter().map(validity).collect();
    for v in &key_valid {
        cols.push(null_stats(v, ch.offset));
    }
    let unit_valid = ch.unit.as_ref().map(validity);
    if let Some(v) = &unit_valid {
        cols.push(null_stats(v, ch.offset));
    }
    let num_valid: Vec<Option<Vec<bool>>> = ch.nums.iter().map(validity).collect();
    let values: Vec<&[f64]> = ch.nums.iter().map(f64_slice).collect();
    for (j, v) in num_valid.iter().enumerate() {
        let mut st = null_stats(v, ch.offset);
        if let Some(text) = &ch.texts[j] {
            if let Some(v) = v {
                st.nonnum = text
                    .iter()
                    .zip(v)
                    .position(|(t, ok)| t.is_some() && !*ok)
                    .map(|r| {
                        (
                            ch.offset + r as u64,
                            text.get(r).unwrap_or_default().to_string(),
                        )
                    });
            }
        }
        // Values under a null may be anything: only a chunk with a non-finite value somewhere
        // is looked at row by row.
        if !all_finite(values[j]) {
            st.nonfinite = values[j]
                .iter()
                .enumerate()
                .find(|(r, x)| !x.is_finite() && v.as_ref().is_none_or(|v| v[*r]))
                .map(|(r, x)| (ch.offset + r as u64, *x));
        }
        cols.push(st);
    }
    let keys = KeyCodes::new(&ch.keys, h)?;
    let units: Option<Vec<Option<&str>>> = ch.unit.as_ref().map(|u| u.iter().collect());
    let mut reqs = Vec::with_capacity(plan.reqs.len());
    for rp in &plan.reqs {
        reqs.push(process_request(
            ch,
            rp,
            &keys,
            &key_valid,
            &unit_valid,
            &num_valid,
            &values,
            units.as_deref(),
        ));
    }
    Ok(PassState { cols, reqs })
}

/// Whether every value is finite: x · 0 is 0 for a finite x and NaN for NaN and ±∞, summed
/// in eight independent lanes (which the compiler vectorises).
fn all_finite(v: &[f64]) -> bool {
    let mut acc = [0.0f64; 8];
    let chunks = v.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for (a, x) in acc.iter_mut().zip(c) {
            *a += x * 0.0;
        }
    }
    let tail: f64 = rest.iter().map(|x| x * 0.0).sum();
    !(acc.iter().sum::<f64>() + tail).is_nan()
}

/// `mask &= valid` (a missing mask starts all true).
fn and_valid(mask: &mut Option<Vec<bool>>, valid: &Option<Vec<bool>>, h: usize) {
    if let Some(v) = valid {
        let m = mask.get_or_insert_with(|| vec![true; h]);
        for (a, b) in m.iter_mut().zip(v) {
            *a &= *b;
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn process_request(
    ch: &Chunk,
    rp: &ReqPlan,
    keys: &KeyCodes,
    key_valid: &[Option<Vec<bool>>],
    unit_valid: &Option<Option<Vec<bool>>>,
    num_valid: &[Option<Vec<bool>>],
    values: &[&[f64]],
    units: Option<&[Option<&str>]>,
) -> ReqState {
    let h = ch.h;
    let mut st = ReqState {
        rows: h as u64,
        ..Default::default()
    };
    // Rows where the KPI's inputs are present: they are transformed (and range-checked).
    let mut kpi_present: Option<Vec<bool>> = None;
    for &j in &rp.kpi_cols {
        and_valid(&mut kpi_present, &num_valid[j], h);
    }
    // Rows kept: every used column present.
    let mut keep = kpi_present.clone();
    for v in key_valid {
        and_valid(&mut keep, v, h);
    }
    if let Some(v) = unit_valid {
        and_valid(&mut keep, v, h);
    }
    for &j in &rp.cov_cols {
        and_valid(&mut keep, &num_valid[j], h);
    }
    st.kept = keep
        .as_ref()
        .map_or(h as u64, |k| k.iter().filter(|b| **b).count() as u64);
    // The KPI's row transform.
    let inputs: Vec<&[f64]> = rp.kpi_cols.iter().map(|&j| values[j]).collect();
    let (num, den, bad) = crate::kpi::transform_columns(&rp.kpi, &inputs, kpi_present.as_deref());
    if let Some((r, bad)) = bad {
        st.range = Some((
            ch.offset + r as u64,
            bad.input,
            inputs[bad.input][r],
            bad.expected,
        ));
    }
    let mut vars: Vec<&[f64]> = vec![&num, &den];
    for &j in &rp.cov_cols {
        vars.push(values[j]);
    }
    let keep_ref = keep.as_deref();
    match units {
        None => {
            let g = keys.n_groups.max(1);
            let p = rp.p;
            let stride = p + p * (p + 1) / 2;
            let mut counts = vec![0u64; g];
            let mut buf = vec![0.0; g * stride];
            match p {
                2 => accumulate::<2>(&vars, &keys.codes, keep_ref, &mut counts, &mut buf),
                3 => accumulate::<3>(&vars, &keys.codes, keep_ref, &mut counts, &mut buf),
                4 => accumulate::<4>(&vars, &keys.codes, keep_ref, &mut counts, &mut buf),
                _ => accumulate_dyn(&vars, &keys.codes, keep_ref, &mut counts, &mut buf),
            }
            for (d, n) in counts.iter().enumerate() {
                if *n == 0 {
                    continue;
                }
                let chunk = &buf[d * stride..(d + 1) * stride];
                st.groups.insert(
                    keys.key(d),
                    Acc {
                        n: *n,
                        sums: chunk[..p].to_vec(),
                        cross: chunk[p..].to_vec(),
                    },
                );
            }
        }
        Some(units) => {
            let mut key_cache: HashMap<u32, GroupKey> = HashMap::new();
            for r in 0..h {
                if keep_ref.is_some_and(|k| !k[r]) {
                    continue;
                }
                let code = keys.codes[r];
                let key = key_cache
                    .entry(code)
                    .or_insert_with(|| keys.key(code as usize));
                let u = units[r].unwrap_or_default();
                if !st.units.contains_key(u) {
                    st.units
                        .insert(u.to_string(), (key.clone(), Acc::new(rp.p)));
                }
                let Some(entry) = st.units.get_mut(u) else {
                    continue;
                };
                if entry.0 != *key && st.conflict.is_none() {
                    st.conflict = Some((u.to_string(), entry.0.clone(), key.clone()));
                }
                entry.1.n += 1;
                for (s, v) in entry.1.sums.iter_mut().zip(&vars) {
                    *s += v[r];
                }
            }
        }
    }
    st
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

/// Per-group sufficient statistics of `kpi`, computed from a CSV or Parquet file in one pass.
/// Semantics and errors are those of [`kpi_moments`](crate::aggregate::kpi_moments):
/// missing values are an error unless dropped, non-numbers and out-of-range values name their
/// row, and with `unit` the rows are summed per unit first (a unit in two groups is an error).
///
/// The file is read once, by the direct Parquet reader when it applies and otherwise by
/// polars' streaming engine (see the [module docs](self) and [`ScanReader`]); each row group
/// or batch's sums and cross-products are accumulated in Rust and merged in file order, so
/// memory is bounded by a few row groups (or batches) and the number of groups (with `unit`:
/// the number of units, one row of sums each).
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
    let request = [KpiRequest { kpi, covariates }];
    let mut out = kpi_moments_scan_many_with(path, &request, group_by, unit, policy, reader)?;
    out.pop()
        .ok_or_else(|| DataError::EmptyGroup(format!("no usable rows for KPI `{}`", kpi.name)))
}

/// Per-group sufficient statistics of several KPIs (each with its own covariates) from one
/// pass over a CSV or Parquet file, sharing the group columns `group_by` (e.g. the arm, or
/// arm × segment) and the analysis `unit`.
///
/// The result has one [`GroupedMoments`] per request, in order, and is exactly — bit for bit —
/// what one [`kpi_moments_scan`] call per request returns, errors included: each request keeps
/// its own rows (a row missing one KPI's input is dropped for that KPI only, under
/// [`MissingPolicy::Drop`]), and the first request that fails gives the error (the requests
/// before it are still checked first, as separate calls would be). The columns every request
/// needs are read once: a request the direct Parquet reader takes and one it does not (e.g. a
/// column of a type it does not decode) are served by one pass each.
pub fn kpi_moments_scan_many(
    path: &Path,
    requests: &[KpiRequest],
    group_by: &[&str],
    unit: Option<&str>,
    policy: MissingPolicy,
) -> Result<Vec<GroupedMoments>> {
    kpi_moments_scan_many_with(path, requests, group_by, unit, policy, ScanReader::Auto)
}

/// [`kpi_moments_scan_many`] with a choice of reader ([`ScanReader`]).
pub fn kpi_moments_scan_many_with(
    path: &Path,
    requests: &[KpiRequest],
    group_by: &[&str],
    unit: Option<&str>,
    policy: MissingPolicy,
    reader: ScanReader,
) -> Result<Vec<GroupedMoments>> {
    let mut lf = scan(path)?;
    let is_csv = matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .as_deref(),
        Some("csv")
    );
    if is_csv {
        // The file's structure (fields per line, UTF-8) as the in-memory path checks it:
        // polars' streaming CSV reader would pad or cut ragged lines silently.
        crate::dataset::check_csv(path)?;
    }
    let schema = lf.collect_schema().map_err(|e| pl_err(path, e))?;
    let available: Vec<String> = schema.iter_names().map(|s| s.to_string()).collect();
    // The first request naming a column that does not exist fails; the requests before it
    // are scanned and checked first, as separate calls would be.
    let mut missing: Option<(usize, DataError)> = None;
    'requests: for (q, r) in requests.iter().enumerate() {
        let mut used: Vec<&str> = group_by.to_vec();
        used.extend(unit);
        used.extend(r.kpi.columns());
        used.extend(r.covariates.iter().copied());
        for c in used {
            if !available.iter().any(|a| a == c) {
                missing = Some((
                    q,
                    DataError::MissingColumn {
                        column: c.to_string(),
                        available: available.clone(),
                    },
                ));
                break 'requests;
            }
        }
    }
    let active = &requests[..missing.as_ref().map_or(requests.len(), |(q, _)| *q)];

    let is_parquet = matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .as_deref(),
        Some("parquet") | Some("pq")
    );
    let key_readable = |c: &&str| {
        schema.get(c).is_some_and(|d| {
            d.is_primitive_numeric()
                || matches!(
                    d,
                    DataType::String
                        | DataType::Boolean
                        | DataType::Categorical(..)
                        | DataType::Enum(..)
                        | DataType::Date
                        | DataType::Datetime(..)
                        | DataType::Duration(..)
                )
        })
    };
    let num_readable = |c: &&str| {
        schema.get(c).is_some_and(|d| {
            d.is_primitive_numeric()
                || matches!(
                    d,
                    DataType::Boolean
                        | DataType::Date
                        | DataType::Datetime(..)
                        | DataType::Duration(..)
                )
        })
    };
    let text_of = |c: &str| schema.get(c).is_some_and(is_text);
    // Which requests the direct reader may serve (the file's layout is checked next).
    let direct_ok: Vec<bool> = active
        .iter()
        .map(|r| {
            reader == ScanReader::Auto
                && is_parquet
                && unit.is_none()
                && group_by.iter().all(key_readable)
                && r.kpi
                    .columns()
                    .iter()
                    .chain(r.covariates.iter())
                    .all(|c| num_readable(c) && !group_by.contains(c))
        })
        .collect();
    let mut results: Vec<Option<ReqState>> = (0..active.len()).map(|_| None).collect();
    let mut col_stats: HashMap<String, ColStats> = HashMap::new();
    let take_stats = |plan: &PassPlan, st: &mut PassState, into: &mut HashMap<String, ColStats>| {
        let names = plan
            .group_by
            .iter()
            .chain(plan.unit.iter())
            .chain(plan.nums.iter());
        for (name, cs) in names.zip(std::mem::take(&mut st.cols)) {
            into.entry(name.clone()).or_insert(cs);
        }
    };
    if direct_ok.iter().any(|b| *b) {
        let (meta, arrow_schema) = parquet_meta(path)?;
        // The file's layout is checked per request, with the columns it alone reads, so that
        // a request goes to the same reader as in a call of its own.
        let idx: Vec<usize> = (0..active.len())
            .filter(|q| {
                let r = &active[*q];
                let mut nums: Vec<&str> = Vec::new();
                for c in r
                    .kpi
                    .columns()
                    .into_iter()
                    .chain(r.covariates.iter().copied())
                {
                    if !nums.contains(&c) {
                        nums.push(c);
                    }
                }
                direct_ok[*q] && direct_layout_fits(&meta, group_by, &nums)
            })
            .collect();
        if !idx.is_empty() {
            let reqs: Vec<KpiRequest> = idx.iter().map(|q| active[*q]).collect();
            let plan = PassPlan::new(group_by, unit, &reqs, &text_of);
            let mut st = scan_parquet_direct(path, &meta, &arrow_schema, &plan)?;
            take_stats(&plan, &mut st, &mut col_stats);
            for (q, rs) in idx.iter().zip(st.reqs) {
                results[*q] = Some(rs);
            }
        }
    }
    let rest: Vec<usize> = (0..active.len())
        .filter(|q| results[*q].is_none())
        .collect();
    if !rest.is_empty() {
        let reqs: Vec<KpiRequest> = rest.iter().map(|q| active[*q]).collect();
        let plan = PassPlan::new(group_by, unit, &reqs, &text_of);
        let mut st = scan_streaming(path, lf, &schema, &plan)?;
        take_stats(&plan, &mut st, &mut col_stats);
        for (q, rs) in rest.iter().zip(st.reqs) {
            results[*q] = Some(rs);
        }
    }

    let mut out = Vec::with_capacity(requests.len());
    for (r, state) in active.iter().zip(results) {
        let state = state.unwrap_or_default();
        out.push(finish(path, r, group_by, unit, policy, &col_stats, state)?);
    }
    if let Some((_, e)) = missing {
        return Err(e);
    }
    Ok(out)
}

/// Checks one request's pass in the order of the in-memory path (the KPI's columns not
/// numbers, missing, out of range; then the covariates not numbers; then missing keys, unit
/// and covariates; then a unit in two groups) and assembles its statistics.
fn finish(
    path: &Path,
    r: &KpiRequest,
    group_by: &[&str],
    unit: Option<&str>,
    policy: MissingPolicy,
    col_stats: &HashMap<String, ColStats>,
    state: ReqState,
) -> Result<GroupedMoments> {
    let stats = |c: &str| col_stats.get(c).cloned().unwrap_or_default();
    let not_numeric = |c: &str| -> Result<()> {
        let s = stats(c);
        if let Some((row, value)) = s.nonnum {
            return Err(DataError::NonNumeric {
                column: c.to_string(),
                row: row as usize,
                value,
            });
        }
        if let Some((row, value)) = s.nonfinite {
            return Err(DataError::NonNumeric {
                column: c.to_string(),
                row: row as usize,
                value: value.to_string(),
            });
        }
        Ok(())
    };
    let missing = |columns: &[&str]| -> Result<()> {
        if policy == MissingPolicy::Drop {
            return Ok(());
        }
        for c in columns {
            let s = stats(c);
            if s.nulls > 0 {
                return Err(DataError::MissingValues {
                    column: c.to_string(),
                    count: s.nulls as usize,
                    first_row: s.first_null.unwrap_or(0) as usize,
                });
            }
        }
        Ok(())
    };
    let kpi_cols = r.kpi.columns();
    for c in &kpi_cols {
        not_numeric(c)?;
    }
    missing(&kpi_cols)?;
    if let Some((row, input, value, expected)) = state.range {
        return Err(DataError::OutOfRange {
            column: kpi_cols[input].to_string(),
            row: row as usize,
            value,
            expected: expected.to_string(),
        });
    }
    for c in r.covariates {
        not_numeric(c)?;
    }
    let mut others: Vec<&str> = group_by.to_vec();
    others.extend(unit);
    others.extend(r.covariates.iter().copied());
    missing(&others)?;
    if let (Some(u), Some((name, first, second))) = (unit, &state.conflict) {
        return Err(unit_in_two_groups(path, group_by, u, name, first, second));
    }

    let names = moment_names(r.covariates);
    let p = names.len();
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
            r.kpi.name
        )));
    }
    Ok(GroupedMoments {
        kpi: r.kpi.name.clone(),
        group_by: group_by.iter().map(|s| s.to_string()).collect(),
        unit: unit.map(str::to_string),
        groups,
        dropped_rows: (state.rows - state.kept) as usize,
    })
}

/// One pass with polars' streaming engine: polars casts the columns and hands over batches of
/// [`STREAM_BATCH_ROWS`] rows in file order, each accumulated in Rust and merged in order.
fn scan_streaming(
    path: &Path,
    lf: LazyFrame,
    schema: &Schema,
    plan: &PassPlan,
) -> Result<PassState> {
    let mut exprs: Vec<Expr> = Vec::new();
    for (i, g) in plan.group_by.iter().enumerate() {
        exprs.push(
            col(g.as_str())
                .cast(DataType::String)
                .alias(format!("__k{i}")),
        );
    }
    if let Some(u) = &plan.unit {
        exprs.push(col(u.as_str()).cast(DataType::String).alias("__unit"));
    }
    for (j, c) in plan.nums.iter().enumerate() {
        let dtype = schema.get(c).cloned().unwrap_or(DataType::Float64);
        exprs.push(num_expr(c, &dtype).alias(format!("__n{j}")));
        if plan.text[j] {
            exprs.push(
                col(c.as_str())
                    .cast(DataType::String)
                    .alias(format!("__t{j}")),
            );
        }
    }
    let state = Arc::new(Mutex::new((0u64, PassState::default())));
    let sink_state = Arc::clone(&state);
    let sink_plan = Arc::new(plan.clone());
    let query = lf
        .select(exprs)
        .sink_batches(
            PlanCallback::new(move |df: DataFrame| {
                let mut guard = sink_state
                    .lock()
                    .map_err(|_| polars_err!(ComputeError: "scan state lock poisoned"))?;
                let offset = guard.0;
                let chunk = batch_chunk(&df, offset, &sink_plan)?;
                let partial = process_chunk(&chunk, &sink_plan)?;
                guard.0 += df.height() as u64;
                guard.1.merge(partial);
                Ok(false)
            }),
            true,
            std::num::NonZeroUsize::new(STREAM_BATCH_ROWS),
        )
        .map_err(|e| pl_err(path, e))?;
    query
        .collect_with_engine(Engine::Streaming)
        .map_err(|e| pl_err(path, e))?;
    let mut guard = state.lock().map_err(|_| DataError::Read {
        path: path.display().to_string(),
        message: "scan state lock poisoned".into(),
    })?;
    let mut st = std::mem::take(&mut guard.1);
    if st.cols.is_empty() {
        st.cols = vec![ColStats::default(); plan.n_stats()];
    }
    if st.reqs.is_empty() {
        st.reqs = plan.reqs.iter().map(|_| ReqState::default()).collect();
    }
    Ok(st)
}

/// The chunk of one streaming batch.
fn batch_chunk(df: &DataFrame, offset: u64, plan: &PassPlan) -> PolarsResult<Chunk> {
    let text = |name: &str| -> PolarsResult<StringChunked> {
        Ok(df
            .column(name)?
            .as_materialized_series()
            .str()?
            .rechunk()
            .into_owned())
    };
    let keys = (0..plan.group_by.len())
        .map(|i| text(&format!("__k{i}")))
        .collect::<PolarsResult<_>>()?;
    let unit = plan.unit.as_ref().map(|_| text("__unit")).transpose()?;
    let mut nums = Vec::with_capacity(plan.nums.len());
    let mut texts = Vec::with_capacity(plan.nums.len());
    for j in 0..plan.nums.len() {
        nums.push(
            df.column(&format!("__n{j}"))?
                .as_materialized_series()
                .f64()?
                .rechunk()
                .into_owned(),
        );
        texts.push(if plan.text[j] {
            Some(text(&format!("__t{j}"))?)
        } else {
            None
        });
    }
    Ok(Chunk {
        offset,
        h: df.height(),
        keys,
        unit,
        nums,
        texts,
    })
}

// ---------------------------------------------------------------------------------------------
// Direct Parquet path: row groups decoded by polars' Parquet decoder, in parallel, without
// polars' query engine and without memory-mapping the file.
// ---------------------------------------------------------------------------------------------

/// Which reader [`kpi_moments_scan_with`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScanReader {
    /// The direct Parquet reader when it applies (a Parquet file, no `unit`, group keys of a
    /// type it decodes (text, dictionary text, integers, booleans, dates, datetimes), numeric
    /// KPI and covariate columns (integers of any width, floats, booleans, dates, datetimes,
    /// durations), row groups of at most [`MAX_DIRECT_ROW_GROUP_BYTES`] decoded), else polars'
    /// streaming engine.
    #[default]
    Auto,
    /// Always polars' streaming engine (`sink_batches`), for CSV and as a reference.
    Streaming,
}

/// The largest decoded row group (estimated from its rows and the columns read) that the
/// direct Parquet reader takes; files with larger row groups go through polars' streaming
/// engine, which splits them.
pub const MAX_DIRECT_ROW_GROUP_BYTES: usize = 512 << 20;

/// The columns of a plan in decoding order: group keys (as text), then numeric columns.
fn plan_columns(plan: &PassPlan) -> Vec<(&str, bool)> {
    plan.group_by
        .iter()
        .map(|c| (c.as_str(), true))
        .chain(plan.nums.iter().map(|c| (c.as_str(), false)))
        .collect()
}

/// One decoded row group: each column of the plan as a polars column (keys cast to text,
/// numeric columns to `f64`).
fn decode_row_group(
    path: &Path,
    meta: &polars::io::parquet::read::FileMetadata,
    schema: &ArrowSchema,
    rg: usize,
    plan: &PassPlan,
) -> PolarsResult<Vec<Series>> {
    use polars::io::parquet::read::_internal::to_deserializer;
    use std::io::{Read, Seek, SeekFrom};
    let md = &meta.row_groups[rg];
    let mut file = std::fs::File::open(path)?;
    let columns = plan_columns(plan);
    let mut out = Vec::with_capacity(columns.len());
    for (name, is_key) in columns {
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
        let target = if is_key {
            DataType::String
        } else {
            DataType::Float64
        };
        let s = if s.dtype() == &target {
            s
        } else {
            s.cast(&target)?
        };
        out.push(s.rechunk());
    }
    Ok(out)
}

/// The chunk of one decoded row group.
fn row_group_chunk(
    cols: Vec<Series>,
    offset: u64,
    h: usize,
    plan: &PassPlan,
) -> PolarsResult<Chunk> {
    let n_keys = plan.group_by.len();
    let mut keys = Vec::with_capacity(n_keys);
    let mut nums = Vec::with_capacity(plan.nums.len());
    for (i, s) in cols.into_iter().enumerate() {
        if i < n_keys {
            keys.push(s.str()?.clone());
        } else {
            nums.push(s.f64()?.clone());
        }
    }
    Ok(Chunk {
        offset,
        h,
        keys,
        unit: None,
        texts: vec![None; plan.nums.len()],
        nums,
    })
}

/// The file's metadata and Arrow schema, for the direct reader.
fn parquet_meta(path: &Path) -> Result<(polars::io::parquet::read::FileMetadata, ArrowSchema)> {
    let file = std::fs::File::open(path).map_err(|e| crate::dataset::io_error(path, e))?;
    let mut reader = ParquetReader::new(file);
    let schema = reader.schema().map_err(|e| pl_err(path, e))?;
    let meta = reader.get_metadata().map_err(|e| pl_err(path, e))?.clone();
    Ok(((*meta).clone(), (*schema).clone()))
}

/// Whether the direct reader takes this file for these columns: every row group holds them
/// and decodes to at most [`MAX_DIRECT_ROW_GROUP_BYTES`].
fn direct_layout_fits(
    meta: &polars::io::parquet::read::FileMetadata,
    keys: &[&str],
    nums: &[&str],
) -> bool {
    // Estimated decoded bytes per row of the columns read.
    let row_bytes = keys.len() * 16 + nums.len() * 8;
    meta.row_groups.iter().all(|rg| {
        rg.num_rows() * row_bytes <= MAX_DIRECT_ROW_GROUP_BYTES
            && keys
                .iter()
                .chain(nums)
                .all(|c| rg.columns_under_root_iter(c).is_some())
    })
}

/// One pass over a Parquet file by row groups, in parallel. Row groups are processed in
/// windows of a few per thread and merged in file order, so the sums do not depend on the
/// number of threads; memory is a few decoded row groups per thread.
fn scan_parquet_direct(
    path: &Path,
    meta: &polars::io::parquet::read::FileMetadata,
    schema: &ArrowSchema,
    plan: &PassPlan,
) -> Result<PassState> {
    use rayon::prelude::*;
    let err = |e: PolarsError| pl_err(path, e);
    let hints = std::fs::File::open(path).map_err(|e| crate::dataset::io_error(path, e))?;
    reuse_large_allocations();
    let n_rg = meta.row_groups.len();
    let mut offsets = Vec::with_capacity(n_rg);
    let mut total = 0u64;
    for rg in &meta.row_groups {
        offsets.push(total);
        total += rg.num_rows() as u64;
    }
    let window = 4 * rayon::current_num_threads().max(1);
    let mut state = PassState::default();
    let mut start = 0;
    while start < n_rg {
        let end = (start + window).min(n_rg);
        if start == 0 {
            prefetch(&hints, byte_span(meta, start..end, plan));
        }
        // The next window is read ahead while this one is decoded.
        prefetch(&hints, byte_span(meta, end..(end + window).min(n_rg), plan));
        let partials: Vec<PassState> = (start..end)
            .into_par_iter()
            .map(|rg| {
                let h = meta.row_groups[rg].num_rows();
                let cols = decode_row_group(path, meta, schema, rg, plan)?;
                let chunk = row_group_chunk(cols, offsets[rg], h, plan)?;
                process_chunk(&chunk, plan)
            })
            .collect::<PolarsResult<_>>()
            .map_err(err)?;
        for part in partials {
            state.merge(part);
        }
        start = end;
    }
    if state.cols.is_empty() {
        state.cols = vec![ColStats::default(); plan.n_stats()];
    }
    if state.reqs.is_empty() {
        state.reqs = plan.reqs.iter().map(|_| ReqState::default()).collect();
    }
    Ok(state)
}

/// The bytes of the columns read, over row groups `rgs` (one range from the first to the last).
fn byte_span(
    meta: &polars::io::parquet::read::FileMetadata,
    rgs: std::ops::Range<usize>,
    plan: &PassPlan,
) -> std::ops::Range<u64> {
    let (mut lo, mut hi) = (u64::MAX, 0);
    for rg in rgs {
        for (c, _) in plan_columns(plan) {
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

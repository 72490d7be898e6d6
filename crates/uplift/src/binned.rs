//! Binned features: each numeric column mapped once to small integer bin codes, so tree
//! split search runs on histograms (as LightGBM and scikit-learn's histogram gradient
//! boosting do) instead of sorting every feature in every node.
//!
//! A column with at most `max_bins` distinct values gets one bin per distinct value and
//! the candidate thresholds are the midpoints between consecutive distinct values — exactly
//! the candidates of an exhaustive (sorting) splitter such as scikit-learn's
//! `BestSplitter`, which causalml's uplift trees use. A column with more distinct values is
//! cut at (approximately) equal-count quantiles into `max_bins` bins; the thresholds are
//! again midpoints between the neighbouring distinct values, so every threshold is one
//! an exhaustive splitter could choose. Rows go left when `x <= threshold`.
//!
//! Missing values are not accepted: a NaN or infinite value is a typed error naming the
//! column and row (impute, or encode missingness as its own column, before fitting).

use crate::error::{invalid, Result, UpliftError};
use rayon::prelude::*;

/// The most bins a column may have (bin codes are `u16`).
pub const MAX_BINS_LIMIT: usize = 65_536;

/// Bin codes of every feature plus the thresholds between bins.
#[derive(Debug, Clone)]
pub struct Binned {
    n: usize,
    names: Vec<String>,
    codes: Vec<Vec<u16>>,
    cuts: Vec<Vec<f64>>,
    /// Smallest and largest value of each bin.
    range: Vec<Vec<(f64, f64)>>,
}

/// The threshold between two neighbouring distinct values `a < b`: their midpoint, as
/// scikit-learn computes it (`a/2 + b/2`, falling back to `a` when rounding lands on `b`).
#[allow(clippy::float_cmp)]
fn midpoint(a: f64, b: f64) -> f64 {
    let m = a / 2.0 + b / 2.0;
    if m == b || m.is_infinite() {
        a
    } else {
        m
    }
}

impl Binned {
    /// Bins the columns (`columns[j]` holds feature `names[j]` for every row).
    pub fn new(names: &[String], columns: &[Vec<f64>], max_bins: usize) -> Result<Self> {
        let n = check_shape(names, columns, max_bins)?;
        Self::build(names, n, |j| {
            bin_column(&names[j], &columns[j], n, max_bins)
        })
    }

    /// As [`Binned::new`] on the rows `rows` of `columns` (in that order; a bad value is
    /// reported by its position in `rows`), copying one column at a time instead of the
    /// whole subset.
    pub fn from_rows(
        names: &[String],
        columns: &[Vec<f64>],
        rows: &[usize],
        max_bins: usize,
    ) -> Result<Self> {
        let n = check_shape(names, columns, max_bins)?;
        if let Some(j) = columns.iter().position(|c| c.len() != n) {
            return Err(UpliftError::LengthMismatch {
                what: format!("feature `{}`", names[j]),
                got: columns[j].len(),
                expected: n,
            });
        }
        if let Some(&r) = rows.iter().find(|&&r| r >= n) {
            return Err(invalid(
                "rows",
                format!("row {r} is out of range for {n} rows"),
            ));
        }
        Self::build(names, rows.len(), |j| {
            let col: Vec<f64> = rows.iter().map(|&r| columns[j][r]).collect();
            bin_column(&names[j], &col, rows.len(), max_bins)
        })
    }

    /// Bins column `j` with `column(j)` for every column, in parallel; the first bad column
    /// (in column order) is reported.
    fn build(
        names: &[String],
        n: usize,
        column: impl Fn(usize) -> Result<ColumnBins> + Sync + Send,
    ) -> Result<Self> {
        let binned: Vec<Result<ColumnBins>> =
            (0..names.len()).into_par_iter().map(column).collect();
        let mut codes = Vec::with_capacity(names.len());
        let mut cuts = Vec::with_capacity(names.len());
        let mut range = Vec::with_capacity(names.len());
        for b in binned {
            let (code, c, r) = b?;
            codes.push(code);
            cuts.push(c);
            range.push(r);
        }
        Ok(Binned {
            n,
            names: names.to_vec(),
            codes,
            cuts,
            range,
        })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.n
    }

    /// Number of features.
    pub fn features(&self) -> usize {
        self.codes.len()
    }

    /// Feature names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Bins of feature `f`.
    pub fn bins(&self, f: usize) -> usize {
        self.cuts[f].len() + 1
    }

    /// Bin codes of feature `f`.
    pub fn codes(&self, f: usize) -> &[u16] {
        &self.codes[f]
    }

    /// The threshold after bin `b` of feature `f` (rows with bin `<= b` go left).
    pub fn threshold(&self, f: usize, b: usize) -> f64 {
        self.cuts[f][b]
    }

    /// The threshold of a split of a node whose rows fill bin `b` (last left) and bin
    /// `next` (first right) with nothing in between: the midpoint of the largest value of
    /// bin `b` and the smallest of bin `next`, as an exhaustive splitter sees the node's
    /// values (scikit-learn's `BestSplitter`).
    pub fn node_threshold(&self, f: usize, b: usize, next: usize) -> f64 {
        midpoint(self.range[f][b].1, self.range[f][next].0)
    }

    /// The largest value of bin `b` of feature `f` (a row of that bin goes left at a
    /// threshold `t` when this is `<= t`; exact for bins of one distinct value).
    pub fn value_upper(&self, f: usize, b: usize) -> f64 {
        self.range[f][b].1
    }

    /// The last bin of feature `f` whose values all lie at or below `threshold`.
    pub fn last_bin_below(&self, f: usize, threshold: f64) -> usize {
        self.range[f]
            .iter()
            .rposition(|&(_, hi)| hi <= threshold)
            .unwrap_or(0)
    }
}

/// Checks that there is a name per column and `max_bins` is allowed; returns the rows of
/// the first column.
fn check_shape(names: &[String], columns: &[Vec<f64>], max_bins: usize) -> Result<usize> {
    if names.len() != columns.len() {
        return Err(UpliftError::LengthMismatch {
            what: "feature names".into(),
            got: names.len(),
            expected: columns.len(),
        });
    }
    if !(2..=MAX_BINS_LIMIT).contains(&max_bins) {
        return Err(invalid(
            "max_bins",
            format!("must lie in 2..={MAX_BINS_LIMIT}, got {max_bins}"),
        ));
    }
    Ok(columns.first().map_or(0, |c| c.len()))
}

/// Codes, cuts and per-bin value ranges of one column.
type ColumnBins = (Vec<u16>, Vec<f64>, Vec<(f64, f64)>);

fn bin_column(name: &str, col: &[f64], n: usize, max_bins: usize) -> Result<ColumnBins> {
    if col.len() != n {
        return Err(UpliftError::LengthMismatch {
            what: format!("feature `{name}`"),
            got: col.len(),
            expected: n,
        });
    }
    if let Some(i) = col.iter().position(|v| !v.is_finite()) {
        return Err(UpliftError::NonFinite {
            variable: name.to_string(),
            row: i,
            value: col[i],
        });
    }
    let c = column_cuts(col, max_bins);
    let code: Vec<u16> = col.iter().map(|&x| bin_of(&c, x)).collect();
    let mut r = vec![(f64::INFINITY, f64::NEG_INFINITY); c.len() + 1];
    for (&b, &x) in code.iter().zip(col) {
        let e = &mut r[b as usize];
        e.0 = e.0.min(x);
        e.1 = e.1.max(x);
    }
    Ok((code, c, r))
}

fn bin_of(cuts: &[f64], x: f64) -> u16 {
    cuts.partition_point(|&c| c < x) as u16
}

fn column_cuts(col: &[f64], max_bins: usize) -> Vec<f64> {
    let mut v = col.to_vec();
    // Unstable is exact here: `total_cmp` is a total order with no two distinct equal values.
    v.sort_unstable_by(f64::total_cmp);
    // Distinct values with their counts (-0.0 and 0.0 are one value).
    let mut distinct: Vec<(f64, usize)> = Vec::new();
    for x in v {
        match distinct.last_mut() {
            Some((d, c)) if *d >= x => *c += 1,
            _ => distinct.push((x, 1)),
        }
    }
    if distinct.len() <= max_bins {
        return distinct
            .windows(2)
            .map(|w| midpoint(w[0].0, w[1].0))
            .collect();
    }
    // Equal-count bins: cut after the distinct value at which the running count first
    // reaches the next multiple of n / max_bins.
    let n = col.len() as f64;
    let step = n / max_bins as f64;
    let mut cuts = Vec::with_capacity(max_bins - 1);
    let mut acc = 0usize;
    let mut next = step;
    for w in distinct.windows(2) {
        acc += w[0].1;
        if acc as f64 >= next && cuts.len() < max_bins - 1 {
            cuts.push(midpoint(w[0].0, w[1].0));
            while next <= acc as f64 {
                next += step;
            }
        }
    }
    cuts
}

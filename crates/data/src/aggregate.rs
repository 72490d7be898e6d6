//! Group-wise sufficient statistics of KPIs: the single representation A/B analysis consumes.
//!
//! For each group (e.g. arm, or arm × segment) and each analysis unit (a row, or a coarser
//! unit such as the agent when agents were randomised), the KPI's numerator and denominator
//! are summed over the unit's rows; the group's [`Moments`] then hold, over units, the count
//! and the sums and cross-products of `numerator`, `denominator` and any covariates
//! (covariates are averaged within a unit). The same statistics come from unit rows
//! ([`kpi_moments`]), from pre-aggregated rows as a warehouse returns them
//! ([`moments_from_stats_rows`], GrowthBook's column names), or chunk by chunk and merged
//! ([`Moments::merge`]).

use crate::dataset::{missing_mask, Dataset, MissingPolicy};
use crate::error::{DataError, Result};
use crate::kpi::Kpi;
use causalkit_stats::Moments;
use std::collections::{BTreeMap, HashMap};

/// Group label: one value per grouping column.
pub type GroupKey = Vec<String>;

/// Sufficient statistics of one KPI per group.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupedMoments {
    /// The KPI's name.
    pub kpi: String,
    /// The grouping columns.
    pub group_by: Vec<String>,
    /// The analysis unit column (None: each row is a unit).
    pub unit: Option<String>,
    /// Statistics per group, over variables `numerator`, `denominator`, then covariates.
    pub groups: BTreeMap<GroupKey, Moments>,
    /// Rows dropped for missing values (when dropping was asked for).
    pub dropped_rows: usize,
}

/// Names of the variables in each group's [`Moments`].
pub fn moment_names(covariates: &[&str]) -> Vec<String> {
    let mut v = vec!["numerator".to_string(), "denominator".to_string()];
    v.extend(covariates.iter().map(|c| c.to_string()));
    v
}

/// Computes per-group sufficient statistics of `kpi` from unit-level (or event-level) rows.
///
/// `group_by` columns label the groups; `unit`, when given, is the analysis unit whose rows
/// are summed first (a unit found in two groups is an error naming it — randomisation must be
/// at or above the analysis unit). Missing values in any used column are an error, or those
/// rows are dropped under [`MissingPolicy::Drop`].
pub fn kpi_moments(
    data: &Dataset,
    kpi: &Kpi,
    group_by: &[&str],
    unit: Option<&str>,
    covariates: &[&str],
    policy: MissingPolicy,
) -> Result<GroupedMoments> {
    let n = data.height();
    let rv = kpi.row_values(data, policy)?;
    let group_labels: Vec<(String, Vec<Option<String>>)> = group_by
        .iter()
        .map(|g| Ok((g.to_string(), data.labels(g)?)))
        .collect::<Result<_>>()?;
    let unit_labels = unit.map(|u| data.labels(u)).transpose()?;
    let cov_values: Vec<Vec<Option<f64>>> = covariates
        .iter()
        .map(|c| data.numeric(c))
        .collect::<Result<_>>()?;
    let mut presence: Vec<(&str, Vec<bool>)> = Vec::new();
    for (g, v) in &group_labels {
        presence.push((g.as_str(), v.iter().map(Option::is_some).collect()));
    }
    if let (Some(u), Some(v)) = (unit, &unit_labels) {
        presence.push((u, v.iter().map(Option::is_some).collect()));
    }
    for (c, v) in covariates.iter().zip(&cov_values) {
        presence.push((c, v.iter().map(Option::is_some).collect()));
    }
    let (keep, _) = missing_mask(&presence, n, policy)?;
    let keep: Vec<bool> = keep.iter().zip(&rv.keep).map(|(a, b)| *a && *b).collect();
    let dropped_rows = keep.iter().filter(|k| !**k).count();
    let names = moment_names(covariates);
    let p = covariates.len();
    let key_of = |i: usize| -> GroupKey {
        group_labels
            .iter()
            .map(|(_, v)| v[i].clone().unwrap_or_default())
            .collect()
    };
    let mut groups: BTreeMap<GroupKey, Moments> = BTreeMap::new();
    match &unit_labels {
        None => {
            let mut obs = vec![0.0; 2 + p];
            for i in (0..n).filter(|&i| keep[i]) {
                obs[0] = rv.numerator[i];
                obs[1] = rv.denominator[i];
                for (j, c) in cov_values.iter().enumerate() {
                    obs[2 + j] = c[i].unwrap_or(0.0);
                }
                groups
                    .entry(key_of(i))
                    .or_insert_with(|| Moments::new(names.clone()))
                    .push(&obs)?;
            }
        }
        Some(units) => {
            // unit -> (group, num, den, covariate sums, rows)
            struct Acc {
                group: GroupKey,
                first_row: usize,
                num: f64,
                den: f64,
                cov: Vec<f64>,
                rows: f64,
            }
            let mut acc: HashMap<&str, Acc> = HashMap::new();
            let mut order: Vec<&str> = Vec::new();
            for i in (0..n).filter(|&i| keep[i]) {
                let u = units[i].as_deref().unwrap_or_default();
                let key = key_of(i);
                let a = acc.entry(u).or_insert_with(|| {
                    order.push(u);
                    Acc {
                        group: key.clone(),
                        first_row: i,
                        num: 0.0,
                        den: 0.0,
                        cov: vec![0.0; p],
                        rows: 0.0,
                    }
                });
                if a.group != key {
                    return Err(DataError::UnitInSeveralGroups {
                        column: unit.unwrap_or_default().to_string(),
                        unit: u.to_string(),
                        first_group: a.group.join("/"),
                        first_row: a.first_row,
                        second_group: key.join("/"),
                        second_row: i,
                    });
                }
                a.num += rv.numerator[i];
                a.den += rv.denominator[i];
                for (j, c) in cov_values.iter().enumerate() {
                    a.cov[j] += c[i].unwrap_or(0.0);
                }
                a.rows += 1.0;
            }
            let mut obs = vec![0.0; 2 + p];
            for u in order {
                let a = &acc[u];
                obs[0] = a.num;
                obs[1] = a.den;
                for j in 0..p {
                    obs[2 + j] = a.cov[j] / a.rows;
                }
                groups
                    .entry(a.group.clone())
                    .or_insert_with(|| Moments::new(names.clone()))
                    .push(&obs)?;
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
        dropped_rows,
    })
}

/// Which statistics columns a file gave (the others are implied: a denominator of 1 per
/// unit, no covariate).
struct StatColumns {
    ratio: bool,
    cuped: bool,
    ratio_ra: bool,
}

impl StatColumns {
    /// The file's column for the sum of variable `i` and for its sum of squares.
    fn sums(&self, i: usize) -> (&'static str, &'static str) {
        match i {
            0 => ("main_sum", "main_sum_squares"),
            1 => ("denominator_sum", "denominator_sum_squares"),
            2 => ("covariate_sum", "covariate_sum_squares"),
            _ => ("denominator_pre_sum", "denominator_pre_sum_squares"),
        }
    }

    /// The file's column for the cross-product of variables `i > j`, if the file gives it.
    fn cross(&self, i: usize, j: usize) -> Option<&'static str> {
        match (i, j) {
            (1, 0) if self.ratio => Some("main_denominator_sum_product"),
            (2, 0) if self.cuped => Some("main_covariate_sum_product"),
            (2, 1) if self.ratio_ra => Some("main_pre_denominator_post_sum_product"),
            (3, 0) => Some("main_post_denominator_pre_sum_product"),
            (3, 1) => Some("denominator_post_denominator_pre_sum_product"),
            (3, 2) => Some("main_pre_denominator_pre_sum_product"),
            _ => None,
        }
    }

    fn given(&self, i: usize) -> bool {
        match i {
            0 => true,
            1 => self.ratio,
            2 => self.cuped,
            _ => self.ratio_ra,
        }
    }
}

/// Why one row's statistics cannot come from any data, or None: with n = count, every
/// variable needs n·Σx² ≥ (Σx)² and every pair (n·Σxy − ΣxΣy)² ≤ (n·Σx² − (Σx)²)(n·Σy² −
/// (Σy)²) (Cauchy–Schwarz on the centred values), to a relative tolerance of 1e-9 (sums of
/// squares) and 1e-8 (cross-products) for the rounding of the sums; with n = 0 every sum is 0.
fn impossible_moments(m: &Moments, cols: &StatColumns) -> Option<String> {
    let p = m.names().len();
    let n = m.n() as f64;
    if m.n() == 0 {
        for i in (0..p).filter(|i| cols.given(*i)) {
            let (s, sq) = cols.sums(i);
            if m.sum(i) != 0.0 || m.sum_product(i, i) != 0.0 {
                return Some(format!(
                    "count is 0 but {s} = {} and {sq} = {}",
                    m.sum(i),
                    m.sum_product(i, i)
                ));
            }
        }
        return None;
    }
    let var = |i: usize| n * m.sum_product(i, i) - m.sum(i) * m.sum(i);
    let scale = |i: usize| (n * m.sum_product(i, i)).abs().max(m.sum(i) * m.sum(i));
    for i in (0..p).filter(|i| cols.given(*i)) {
        if var(i) < -1e-9 * scale(i) {
            let (s, sq) = cols.sums(i);
            return Some(format!(
                "{sq} = {} is below {s}² / count = {} ({s} = {}, count = {}); no data gives this",
                m.sum_product(i, i),
                m.sum(i) * m.sum(i) / n,
                m.sum(i),
                m.n()
            ));
        }
    }
    for i in 0..p {
        for j in 0..i {
            let Some(name) = cols.cross(i, j) else {
                continue;
            };
            let c = n * m.sum_product(i, j) - m.sum(i) * m.sum(j);
            let bound = var(i).max(0.0) * var(j).max(0.0);
            if c * c > bound + 1e-8 * scale(i) * scale(j) {
                let (si, sqi) = cols.sums(i);
                let (sj, sqj) = cols.sums(j);
                return Some(format!(
                    "{name} = {} violates the Cauchy–Schwarz bound given {si} = {}, {sqi} = {}, \
                     {sj} = {}, {sqj} = {}, count = {} (the implied correlation is beyond ±1)",
                    m.sum_product(i, j),
                    m.sum(i),
                    m.sum_product(i, i),
                    m.sum(j),
                    m.sum_product(j, j),
                    m.n()
                ));
            }
        }
    }
    None
}

/// [`kpi_moments`] for several KPIs (each with its covariates) over the same groups and
/// unit: one [`GroupedMoments`] per request, in order, identical to one [`kpi_moments`] call
/// per request (it is that loop; the first failing request gives the error). The in-memory
/// counterpart of
/// [`kpi_moments_scan_many`](crate::scan_moments::kpi_moments_scan_many).
pub fn kpi_moments_many(
    data: &Dataset,
    requests: &[crate::scan_moments::KpiRequest],
    group_by: &[&str],
    unit: Option<&str>,
    policy: MissingPolicy,
) -> Result<Vec<GroupedMoments>> {
    requests
        .iter()
        .map(|r| kpi_moments(data, r.kpi, group_by, unit, r.covariates, policy))
        .collect()
}

/// Reads pre-aggregated sufficient statistics, one row per group, with GrowthBook's column
/// names: `count`, `main_sum`, `main_sum_squares`, and optionally `denominator_sum`,
/// `denominator_sum_squares`, `main_denominator_sum_product` (ratio metrics) and
/// `covariate_sum`, `covariate_sum_squares`, `main_covariate_sum_product` (CUPED); a ratio
/// metric with covariate columns also needs GrowthBook's ratio-CUPED columns
/// `denominator_pre_sum`, `denominator_pre_sum_squares`,
/// `denominator_post_denominator_pre_sum_product`, `main_pre_denominator_pre_sum_product`,
/// `main_post_denominator_pre_sum_product`, `main_pre_denominator_post_sum_product` and gives
/// the variables `numerator`, `denominator`, `covariate` (pre-period numerator),
/// `denominator_pre`.
///
/// The result has the same variables as [`kpi_moments`] (`numerator`, `denominator`, and
/// `covariate` when present): without denominator columns the denominator is 1 per unit, so
/// both paths give identical statistics. A group appearing twice is an error; an optional
/// column whose values are all empty is treated as absent. Every row is checked
/// ([`DataError::InvalidStatistics`], naming metric, group, row and values): no missing value,
/// a whole non-negative count, sums of squares at least the square of the sum over the count,
/// cross-products within the Cauchy–Schwarz bound, non-negative denominator sums. The metric's
/// kind is not known here, so `main_sum_squares` is required; see
/// [`moments_from_stats_rows_for`] for proportion metrics, whose exports omit it.
pub fn moments_from_stats_rows(
    data: &Dataset,
    kpi_name: &str,
    group_by: &[&str],
) -> Result<GroupedMoments> {
    stats_rows(data, kpi_name, false, group_by)
}

/// [`moments_from_stats_rows`] for a known KPI: for a proportion (0/1) metric,
/// `main_sum_squares` may be absent (GrowthBook does not export it for binomial metrics) and
/// is then `main_sum` (x² = x for 0/1 values); `main_sum` must lie between 0 and `count`.
pub fn moments_from_stats_rows_for(
    data: &Dataset,
    kpi: &Kpi,
    group_by: &[&str],
) -> Result<GroupedMoments> {
    let proportion = matches!(kpi.kind, crate::kpi::KpiKind::Proportion { .. });
    stats_rows(data, &kpi.name, proportion, group_by)
}

fn stats_rows(
    data: &Dataset,
    kpi_name: &str,
    proportion: bool,
    group_by: &[&str],
) -> Result<GroupedMoments> {
    let cols = data.column_names();
    // A column left entirely empty counts as absent (a file holding mean and ratio metrics
    // leaves the denominator columns of its mean-metric rows empty).
    let has = |c: &str| {
        cols.iter().any(|x| x == c) && data.null_count(c).is_ok_and(|k| k < data.height())
    };
    let labels: Vec<Vec<Option<String>>> = group_by
        .iter()
        .map(|g| data.labels(g))
        .collect::<Result<_>>()?;
    let group_of = |i: usize| -> String {
        labels
            .iter()
            .map(|v| v[i].clone().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("/")
    };
    let invalid = |i: usize, reason: String| DataError::InvalidStatistics {
        metric: kpi_name.to_string(),
        group: group_of(i),
        row: i,
        reason,
    };
    // A required column: present, numeric, no value missing (a missing value is an error of
    // the file; dropping rows does not apply to statistics).
    let req = |c: &str| -> Result<Vec<f64>> {
        let v = data.numeric(c)?;
        if let Some(i) = v.iter().position(Option::is_none) {
            return Err(invalid(
                i,
                format!("`{c}` is missing; every row of a statistics file needs a value in each statistics column"),
            ));
        }
        Ok(v.into_iter().flatten().collect())
    };
    let count = req("count")?;
    let main_sum = req("main_sum")?;
    let main_sq = if has("main_sum_squares") || !proportion {
        req("main_sum_squares")?
    } else {
        // 0/1 values: x² = x.
        main_sum.clone()
    };
    let ratio = has("denominator_sum");
    let (den_sum, den_sq, md) = if ratio {
        (
            Some(req("denominator_sum")?),
            Some(req("denominator_sum_squares")?),
            Some(req("main_denominator_sum_product")?),
        )
    } else {
        (None, None, None)
    };
    let cuped = has("covariate_sum");
    let (cov_sum, cov_sq, mc) = if cuped {
        (
            Some(req("covariate_sum")?),
            Some(req("covariate_sum_squares")?),
            Some(req("main_covariate_sum_product")?),
        )
    } else {
        (None, None, None)
    };
    // Ratio metric with a pre-period ratio (GrowthBook's ratio regression adjustment): the
    // pre-period numerator is the covariate, plus the pre-period denominator and the
    // cross-products GrowthBook's SQL emits for `RegressionAdjustedRatioStatistic`.
    let ratio_ra = if cuped && ratio {
        if !has("denominator_pre_sum") {
            return Err(DataError::InvalidKpi {
                spec: kpi_name.to_string(),
                reason: "CUPED for a ratio metric needs the pre-period denominator columns (denominator_pre_sum, denominator_pre_sum_squares, denominator_post_denominator_pre_sum_product, main_pre_denominator_pre_sum_product, main_post_denominator_pre_sum_product, main_pre_denominator_post_sum_product)".into(),
            });
        }
        Some([
            req("denominator_pre_sum")?,
            req("denominator_pre_sum_squares")?,
            req("denominator_post_denominator_pre_sum_product")?,
            req("main_pre_denominator_pre_sum_product")?,
            req("main_post_denominator_pre_sum_product")?,
            req("main_pre_denominator_post_sum_product")?,
        ])
    } else {
        None
    };
    let names = if ratio_ra.is_some() {
        moment_names(&["covariate", "denominator_pre"])
    } else if cuped {
        moment_names(&["covariate"])
    } else {
        moment_names(&[])
    };
    let mut groups = BTreeMap::new();
    let mut seen: HashMap<GroupKey, usize> = HashMap::new();
    for i in 0..data.height() {
        let key: GroupKey = labels
            .iter()
            .map(|v| v[i].clone().unwrap_or_default())
            .collect();
        if let Some(first) = seen.insert(key.clone(), i) {
            return Err(DataError::DuplicateUnitPeriod {
                unit: key.join("/"),
                period: "(sufficient-statistics row)".into(),
                first_row: first,
                second_row: i,
            });
        }
        let c = count[i];
        if c < 0.0 || c.fract() != 0.0 {
            return Err(invalid(
                i,
                format!("count = {c} is not a non-negative whole number"),
            ));
        }
        let n = c as u64;
        let mut sums = vec![main_sum[i], den_sum.as_ref().map_or(c, |d| d[i])];
        if let Some(cs) = &cov_sum {
            sums.push(cs[i]);
        }
        if let Some(r) = &ratio_ra {
            sums.push(r[0][i]);
        }
        let cross = |a: usize, b: usize| -> f64 {
            match (a.max(b), a.min(b)) {
                (2, 1) if ratio_ra.is_some() => ratio_ra.as_ref().map_or(0.0, |r| r[5][i]),
                (3, 0) => ratio_ra.as_ref().map_or(0.0, |r| r[4][i]),
                (3, 1) => ratio_ra.as_ref().map_or(0.0, |r| r[2][i]),
                (3, 2) => ratio_ra.as_ref().map_or(0.0, |r| r[3][i]),
                (3, 3) => ratio_ra.as_ref().map_or(0.0, |r| r[1][i]),
                (0, 0) => main_sq[i],
                (1, 0) => md.as_ref().map_or(main_sum[i], |v| v[i]),
                (1, 1) => den_sq.as_ref().map_or(c, |v| v[i]),
                (2, 0) => mc.as_ref().map_or(0.0, |v| v[i]),
                (2, 1) => cov_sum.as_ref().map_or(0.0, |v| v[i]),
                (2, 2) => cov_sq.as_ref().map_or(0.0, |v| v[i]),
                _ => 0.0,
            }
        };
        if proportion && !(0.0..=c).contains(&main_sum[i]) {
            return Err(invalid(
                i,
                format!(
                    "main_sum = {} is outside 0..count = {c} for a proportion metric",
                    main_sum[i]
                ),
            ));
        }
        for (col, v) in [
            ("denominator_sum", den_sum.as_ref()),
            ("denominator_pre_sum", ratio_ra.as_ref().map(|r| &r[0])),
        ] {
            if let Some(v) = v {
                if v[i] < 0.0 {
                    return Err(invalid(
                        i,
                        format!(
                            "{col} = {} is negative; denominators are non-negative",
                            v[i]
                        ),
                    ));
                }
            }
        }
        let m = Moments::from_parts(names.clone(), n, sums, cross)?;
        let file_names = StatColumns {
            ratio,
            cuped,
            ratio_ra: ratio_ra.is_some(),
        };
        if let Some(reason) = impossible_moments(&m, &file_names) {
            return Err(invalid(i, reason));
        }
        groups.insert(key, m);
    }
    if groups.is_empty() {
        return Err(DataError::EmptyGroup(
            "the statistics file has no rows".into(),
        ));
    }
    Ok(GroupedMoments {
        kpi: kpi_name.to_string(),
        group_by: group_by.iter().map(|s| s.to_string()).collect(),
        unit: None,
        groups,
        dropped_rows: 0,
    })
}

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
/// column whose values are all empty is treated as absent.
pub fn moments_from_stats_rows(
    data: &Dataset,
    kpi_name: &str,
    group_by: &[&str],
) -> Result<GroupedMoments> {
    let cols = data.column_names();
    // A column left entirely empty counts as absent (a file holding mean and ratio metrics
    // leaves the denominator columns of its mean-metric rows empty).
    let has = |c: &str| {
        cols.iter().any(|x| x == c) && data.null_count(c).is_ok_and(|k| k < data.height())
    };
    let req = |c: &str| crate::numeric_column(data, c);
    let count = req("count")?;
    let main_sum = req("main_sum")?;
    let main_sq = req("main_sum_squares")?;
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
    let labels: Vec<Vec<Option<String>>> = group_by
        .iter()
        .map(|g| data.labels(g))
        .collect::<Result<_>>()?;
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
            return Err(DataError::OutOfRange {
                column: "count".into(),
                row: i,
                value: c,
                expected: "a non-negative whole number".into(),
            });
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
        groups.insert(key, Moments::from_parts(names.clone(), n, sums, cross)?);
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

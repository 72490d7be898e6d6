//! The statistics an A/B review needs, in one call: for every metric, per segment
//! ([`OVERALL`] plus one entry per segment value) and per arm, the sufficient statistics
//! (`Moments` over `numerator`, `denominator` and the covariates) that
//! `causalkit_ab::review::AbReview::fit` consumes — from unit rows in memory, from a file in
//! one streaming pass, or from GrowthBook-named sufficient-statistics rows.
//!
//! The streaming path reads the file once for every metric, covariate and segment: it groups
//! by (arm, segment) and merges the segment cells of each arm into the overall cell.

use crate::aggregate::{
    kpi_moments, kpi_moments_many, moments_from_stats_rows_for, GroupedMoments,
};
use crate::dataset::{Dataset, MissingPolicy};
use crate::error::{DataError, Result};
use crate::kpi::Kpi;
use crate::scan_moments::{kpi_moments_scan_many, KpiRequest};
use causalkit_stats::Moments;
use std::collections::BTreeMap;
use std::path::Path;

/// The segment key of the overall cells (the same as `causalkit_ab::review::OVERALL`).
pub const OVERALL: &str = "all";

/// segment -> arm -> moments.
pub type ArmCells = BTreeMap<String, BTreeMap<String, Moments>>;

/// (arm, stratum) -> moments, for post-stratification.
pub type StrataCells = BTreeMap<(String, String), Moments>;

/// Where the statistics come from.
#[derive(Debug, Clone, Copy)]
pub enum AbSource<'a> {
    /// Unit (or event) rows in memory.
    Rows(&'a Dataset),
    /// A file aggregated in one streaming pass (rows never held in memory).
    Scan(&'a Path),
    /// Sufficient-statistics rows with GrowthBook's column names (one row per arm [x segment]
    /// [x metric, in a `metric` column]).
    StatsRows(&'a Dataset),
}

/// What to group and adjust by.
#[derive(Debug, Clone, Copy)]
pub struct AbStatsRequest<'a> {
    /// The arm column.
    pub arm: &'a str,
    /// Per-segment cells from this column too.
    pub segment: Option<&'a str>,
    /// Strata cells for post-stratification from this column.
    pub stratify: Option<&'a str>,
    /// Randomisation unit coarser than the rows (rows summed per unit first).
    pub unit: Option<&'a str>,
    /// Covariates (CUPED).
    pub covariates: &'a [&'a str],
    /// Missing values: error or drop.
    pub policy: MissingPolicy,
}

/// One metric's cells.
#[derive(Debug, Clone, PartialEq)]
pub struct AbCells {
    /// segment -> arm -> moments.
    pub segments: ArmCells,
    /// Strata cells when `stratify` was asked for.
    pub strata: Option<StrataCells>,
    /// Rows dropped for missing values (rows paths with `MissingPolicy::Drop`).
    pub dropped_rows: usize,
}

fn by_arm(g: GroupedMoments) -> BTreeMap<String, Moments> {
    g.groups
        .into_iter()
        .map(|(k, m)| (k[0].clone(), m))
        .collect()
}

fn by_arm_extra(g: GroupedMoments) -> BTreeMap<(String, String), Moments> {
    g.groups
        .into_iter()
        .map(|(k, m)| {
            let extra = k.get(1).cloned().unwrap_or_default();
            ((k[0].clone(), extra), m)
        })
        .collect()
}

/// Merges (arm, extra) cells into per-arm cells, in key order.
fn merge_arms(cells: &BTreeMap<(String, String), Moments>) -> Result<BTreeMap<String, Moments>> {
    let mut out: BTreeMap<String, Moments> = BTreeMap::new();
    for ((arm, _), m) in cells {
        match out.get_mut(arm) {
            Some(x) => x.merge(m)?,
            None => {
                out.insert(arm.clone(), m.clone());
            }
        }
    }
    Ok(out)
}

fn with_segments(
    all: BTreeMap<String, Moments>,
    seg: Option<BTreeMap<(String, String), Moments>>,
) -> ArmCells {
    let mut cells = ArmCells::new();
    cells.insert(OVERALL.to_string(), all);
    if let Some(seg) = seg {
        for ((arm, s), m) in seg {
            cells.entry(s).or_default().insert(arm, m);
        }
    }
    cells
}

/// The rows of one metric in a `--stats` file: with a `metric` column, that metric's rows
/// (`None`: the file holds one metric and every row is used).
pub fn stats_rows_of(data: &Dataset, metric: &str) -> Result<Option<Dataset>> {
    if !data.column_names().iter().any(|c| c == "metric") {
        return Ok(None);
    }
    let labels = data.labels("metric")?;
    if let Some(i) = labels.iter().position(Option::is_none) {
        return Err(DataError::InvalidStatistics {
            metric: metric.to_string(),
            group: "-".into(),
            row: i,
            reason: "missing value in column `metric` (every row must name its metric)".into(),
        });
    }
    let keep: Vec<bool> = labels
        .iter()
        .map(|l| l.as_deref() == Some(metric))
        .collect();
    if !keep.iter().any(|&k| k) {
        let present: std::collections::BTreeSet<&str> =
            labels.iter().flatten().map(String::as_str).collect();
        return Err(DataError::EmptyGroup(format!(
            "the sufficient-statistics file has no rows with metric `{metric}` (column `metric` holds {present:?})"
        )));
    }
    Ok(Some(data.filter_rows(&keep)?))
}

/// In memory: groups by (arm, extra) with the unit nested in `extra` when both are given
/// (units are then analysed as unit x extra).
fn rows_by_extra(
    data: &Dataset,
    kpi: &Kpi,
    req: &AbStatsRequest,
    extra: &str,
) -> Result<BTreeMap<(String, String), Moments>> {
    let group_by = [req.arm, extra];
    let g = match req.unit {
        Some(u) => {
            let us = data.labels(u)?;
            let es = data.labels(extra)?;
            let key = us
                .iter()
                .zip(&es)
                .map(|(x, y)| match (x, y) {
                    (Some(x), Some(y)) => Some(format!("{x}\u{1f}{y}")),
                    _ => None,
                })
                .collect();
            let d = data.with_label_column("__unit_x_segment", key)?;
            kpi_moments(
                &d,
                kpi,
                &group_by,
                Some("__unit_x_segment"),
                req.covariates,
                req.policy,
            )?
        }
        None => kpi_moments(data, kpi, &group_by, None, req.covariates, req.policy)?,
    };
    Ok(by_arm_extra(g))
}

/// Every KPI with the request's covariates, for the many-KPI aggregations.
fn kpi_requests<'a>(kpis: &[&'a Kpi], req: &AbStatsRequest<'a>) -> Vec<KpiRequest<'a>> {
    kpis.iter()
        .map(|kpi| KpiRequest {
            kpi,
            covariates: req.covariates,
        })
        .collect()
}

/// The cells of every metric, in the order of `kpis`.
///
/// With [`AbSource::StatsRows`] only each KPI's name and whether it is a proportion are used
/// (a proportion may omit `main_sum_squares`); covariates come from the file's `covariate_*`
/// columns.
pub fn ab_statistics(
    source: AbSource,
    kpis: &[&Kpi],
    req: &AbStatsRequest,
) -> Result<Vec<AbCells>> {
    match source {
        AbSource::StatsRows(data) => kpis
            .iter()
            .map(|kpi| {
                let rows = stats_rows_of(data, &kpi.name)?;
                let rows = rows.as_ref().unwrap_or(data);
                let mut group_by = vec![req.arm];
                if let Some(s) = req.segment {
                    group_by.push(s);
                }
                // The file's generic `covariate` is the one covariate the request names.
                let read = |group_by: &[&str]| -> Result<GroupedMoments> {
                    let mut g = moments_from_stats_rows_for(rows, kpi, group_by)?;
                    if let [c] = req.covariates {
                        for m in g.groups.values_mut() {
                            m.rename("covariate", c);
                        }
                    }
                    Ok(g)
                };
                // One read per (arm [, segment]); the overall cell merges the segments.
                let g = by_arm_extra(read(&group_by)?);
                let all = merge_arms(&g)?;
                let segments = with_segments(all, req.segment.map(|_| g));
                let strata = match req.stratify {
                    Some(st) => Some(by_arm_extra(read(&[req.arm, st])?)),
                    None => None,
                };
                Ok(AbCells {
                    segments,
                    strata,
                    dropped_rows: 0,
                })
            })
            .collect(),
        AbSource::Rows(data) => {
            let requests = kpi_requests(kpis, req);
            let overall = kpi_moments_many(data, &requests, &[req.arm], req.unit, req.policy)?;
            overall
                .into_iter()
                .zip(kpis)
                .map(|(g, kpi)| {
                    let dropped_rows = g.dropped_rows;
                    let seg = match req.segment {
                        Some(s) => Some(rows_by_extra(data, kpi, req, s)?),
                        None => None,
                    };
                    let strata = match req.stratify {
                        Some(st) => Some(rows_by_extra(data, kpi, req, st)?),
                        None => None,
                    };
                    Ok(AbCells {
                        segments: with_segments(by_arm(g), seg),
                        strata,
                        dropped_rows,
                    })
                })
                .collect()
        }
        AbSource::Scan(path) => {
            if req.unit.is_some() && (req.segment.is_some() || req.stratify.is_some()) {
                return Err(DataError::Stats(causalkit_stats::StatsError::InvalidArgument {
                    name: "scan".into(),
                    reason: "the one-pass scan cannot nest units in segments or strata; read the file into memory instead".into(),
                }));
            }
            let requests = kpi_requests(kpis, req);
            // One pass: grouped by (arm, segment or stratum) when one is asked for, and the
            // overall cells merged from those.
            let extra = req.segment.or(req.stratify);
            let mut group_by = vec![req.arm];
            if let Some(e) = extra {
                group_by.push(e);
            }
            let gs = kpi_moments_scan_many(path, &requests, &group_by, req.unit, req.policy)?;
            gs.into_iter()
                .map(|g| {
                    let dropped_rows = g.dropped_rows;
                    if extra.is_none() {
                        return Ok(AbCells {
                            segments: with_segments(by_arm(g), None),
                            strata: None,
                            dropped_rows,
                        });
                    }
                    let cells = by_arm_extra(g);
                    let all = merge_arms(&cells)?;
                    Ok(if req.segment.is_some() {
                        AbCells {
                            segments: with_segments(all, Some(cells)),
                            strata: None,
                            dropped_rows,
                        }
                    } else {
                        AbCells {
                            segments: with_segments(all, None),
                            strata: Some(cells),
                            dropped_rows,
                        }
                    })
                })
                .collect()
        }
    }
}

/// The rows of a quantile metric (`causalkit_ab::quantile::quantile_cells` takes them): the
/// values of one column with each row's arm and, when the request has them, its segment and
/// randomisation unit.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QuantileRows {
    /// The metric's values.
    pub values: Vec<f64>,
    /// Each row's arm.
    pub arms: Vec<String>,
    /// Each row's segment (a missing label is the empty label), with `request.segment`.
    pub segments: Option<Vec<String>>,
    /// Each row's randomisation unit (a missing label is the empty label), with
    /// `request.unit`.
    pub units: Option<Vec<String>>,
}

/// The rows of the quantile metric on `column`: rows with a missing arm or value are an
/// error naming the column and first row, or are dropped under [`MissingPolicy::Drop`]
/// (`request.policy`). Only the request's arm, segment, unit and policy are used.
pub fn quantile_rows(data: &Dataset, column: &str, req: &AbStatsRequest) -> Result<QuantileRows> {
    let values = data.numeric(column)?;
    let arms = data.labels(req.arm)?;
    let segments = req.segment.map(|s| data.labels(s)).transpose()?;
    let units = req.unit.map(|u| data.labels(u)).transpose()?;
    let presence = [
        (req.arm, arms.iter().map(Option::is_some).collect()),
        (column, values.iter().map(Option::is_some).collect()),
    ];
    let (keep, _) = crate::dataset::missing_mask(&presence, values.len(), req.policy)?;
    let kept = |labels: Vec<Option<String>>| -> Vec<String> {
        labels
            .into_iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(l, _)| l.unwrap_or_default())
            .collect()
    };
    Ok(QuantileRows {
        values: values
            .iter()
            .zip(&keep)
            .filter_map(|(v, k)| v.filter(|_| *k))
            .collect(),
        arms: kept(arms),
        segments: segments.map(kept),
        units: units.map(kept),
    })
}

/// One KPI's rows for a two-arm running view (`causalkit_ab::cumulative`): the control arm
/// against the first other arm in sorted order.
#[derive(Debug, Clone, PartialEq)]
pub struct TwoArmRows {
    /// The treatment arm compared with the control.
    pub treatment: String,
    /// Per row: `Some(false)` control, `Some(true)` treatment, `None` another arm or a row
    /// dropped for a missing value.
    pub side: Vec<Option<bool>>,
    /// The KPI's numerator per row (0 for dropped rows).
    pub numerator: Vec<f64>,
    /// The KPI's denominator per row (1 for means and proportions; 0 for dropped rows).
    pub denominator: Vec<f64>,
}

/// The rows of `kpi` for the control arm `control` of column `arm` and the first other arm
/// (in sorted order); missing KPI inputs follow `policy` ([`Kpi::row_values`]). An arm column
/// without another arm is [`DataError::EmptyGroup`].
pub fn two_arm_rows(
    data: &Dataset,
    kpi: &Kpi,
    arm: &str,
    control: &str,
    policy: MissingPolicy,
) -> Result<TwoArmRows> {
    let arms = data.labels(arm)?;
    let treatment = arms
        .iter()
        .flatten()
        .filter(|x| x.as_str() != control)
        .min()
        .cloned()
        .ok_or_else(|| {
            DataError::EmptyGroup(format!(
                "no treatment arm: column `{arm}` holds no arm other than the control `{control}`"
            ))
        })?;
    let rv = kpi.row_values(data, policy)?;
    let side = arms
        .iter()
        .zip(&rv.keep)
        .map(|(x, k)| match (x.as_deref(), k) {
            (_, false) => None,
            (Some(x), true) if x == control => Some(false),
            (Some(x), true) if x == treatment => Some(true),
            _ => None,
        })
        .collect();
    Ok(TwoArmRows {
        treatment,
        side,
        numerator: rv.numerator,
        denominator: rv.denominator,
    })
}

/// The KPI the statistics-rows reader ([`AbSource::StatsRows`]) uses for a SQL engine's rows
/// of `k` (`causalkit_warehouse`'s result): with a `unit`, per-unit sums of a 0/1 column are
/// counts, read as a mean per unit, not as 0/1 values; every other KPI is read as itself.
pub fn engine_kpi(k: &Kpi, unit: bool) -> Kpi {
    match (&k.kind, unit) {
        (crate::kpi::KpiKind::Proportion { column }, true) => Kpi {
            name: k.name.clone(),
            kind: crate::kpi::KpiKind::Mean {
                column: column.clone(),
            },
        },
        _ => k.clone(),
    }
}

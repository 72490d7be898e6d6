//! Winsorising a review's KPIs on the rows before the analysis: each request caps a mean
//! KPI's column (a ratio KPI's numerator; the denominator is left alone) at percentiles of
//! the rows the KPI uses, pooled over the arms, so the same caps apply to every arm (Dixon
//! 1960; the "capping" of Statsig and Eppo). The capping itself is
//! [`causalkit_stats::winsor::winsorize`] (Hyndman & Fan type-7 percentiles).
//!
//! ```
//! use causalkit_data::winsor::{winsorize_kpis, WinsorRequest};
//! use causalkit_data::{Dataset, Kpi, MissingPolicy};
//! let csv = std::env::temp_dir().join(format!("causalkit-winsor-doc-{}.csv", std::process::id()));
//! std::fs::write(&csv, "arm,y\nA,1\nA,2\nA,3\nB,4\nB,100\n").unwrap();
//! let data = Dataset::read(&csv).unwrap();
//! let mut kpis: Vec<Kpi> = vec!["y=mean(y)".parse().unwrap()];
//! let requests: Vec<WinsorRequest> = vec![",0.75".parse().unwrap()];
//! let (data, notes) =
//!     winsorize_kpis(data, &mut kpis, &[], &requests, MissingPolicy::Error).unwrap();
//! let y = &notes["y"];
//! assert_eq!(y.caps.upper, Some(4.0)); // numpy.percentile([1, 2, 3, 4, 100], 75)
//! assert_eq!(y.caps.changed, 1);
//! // The KPI now reads the capped column.
//! assert_eq!(kpis[0].columns(), vec!["y (winsorized for y)"]);
//! assert_eq!(data.numeric("y (winsorized for y)").unwrap()[4], Some(4.0));
//! ```

use crate::dataset::{Dataset, MissingPolicy};
use crate::error::{DataError, Result};
use crate::kpi::{Kpi, KpiKind};
use causalkit_stats::winsor::{winsorize, Caps};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::str::FromStr;

/// One winsorisation request: `LOW,HIGH` percentile levels in [0, 1] (one side may be left
/// out), for one metric or (without a metric) for every mean and ratio KPI.
///
/// Parsed from `LOW,HIGH` or `metric=LOW,HIGH` (`,0.99` caps only the upper tail).
#[derive(Debug, Clone, PartialEq)]
pub struct WinsorRequest {
    /// The metric it applies to; `None` for every mean and ratio KPI without its own request.
    pub metric: Option<String>,
    /// Lower percentile level (`None`: the lower tail is left alone).
    pub lower: Option<f64>,
    /// Upper percentile level (`None`: the upper tail is left alone).
    pub upper: Option<f64>,
}

fn refuse(reason: impl Into<String>) -> DataError {
    DataError::Winsorize {
        reason: reason.into(),
    }
}

impl FromStr for WinsorRequest {
    type Err = DataError;

    fn from_str(spec: &str) -> Result<Self> {
        let (metric, levels) = match spec.split_once('=') {
            Some((m, l)) => (Some(m.trim().to_string()), l),
            None => (None, spec),
        };
        let (lo, hi) = levels.split_once(',').ok_or_else(|| {
            refuse(format!(
                "`{spec}`: expected LOW,HIGH percentile levels (e.g. 0.01,0.99, or ,0.99 for the upper tail only)"
            ))
        })?;
        let level = |x: &str| -> Result<Option<f64>> {
            let x = x.trim();
            if x.is_empty() {
                return Ok(None);
            }
            match x.parse::<f64>() {
                Ok(q) if (0.0..=1.0).contains(&q) => Ok(Some(q)),
                _ => Err(refuse(format!(
                    "`{spec}`: level `{x}` is not a number between 0 and 1"
                ))),
            }
        };
        let (lower, upper) = (level(lo)?, level(hi)?);
        match (lower, upper) {
            (None, None) => Err(refuse(format!(
                "`{spec}`: give at least one of the two levels"
            ))),
            (Some(l), Some(u)) if l >= u => Err(refuse(format!(
                "`{spec}`: the lower level must be below the upper one"
            ))),
            _ => Ok(WinsorRequest {
                metric,
                lower,
                upper,
            }),
        }
    }
}

/// What winsorising did to one KPI.
#[derive(Debug, Clone, PartialEq)]
pub struct Winsorized {
    /// The column capped (a mean's column, a ratio's numerator), as the KPI named it before.
    pub column: String,
    /// The request's lower level.
    pub lower_level: Option<f64>,
    /// The request's upper level.
    pub upper_level: Option<f64>,
    /// The caps (pooled over the arms) and how many values they changed.
    pub caps: Caps,
    /// The non-missing values the percentiles were computed from (the rows the KPI uses).
    pub rows: usize,
}

impl Winsorized {
    /// The record as the review's `winsorized` note: `column`, `lower_level`, `upper_level`,
    /// `lower_cap`, `upper_cap`, `values_changed`, `rows` and `pooled_over_arms` (always true).
    pub fn to_json(&self) -> Value {
        json!({
            "column": self.column,
            "lower_level": self.lower_level,
            "upper_level": self.upper_level,
            "lower_cap": self.caps.lower,
            "upper_cap": self.caps.upper,
            "values_changed": self.caps.changed,
            "rows": self.rows,
            "pooled_over_arms": true,
        })
    }
}

/// The column winsorising caps for this KPI: a mean's column or a ratio's numerator.
fn capped_column(kpi: &Kpi) -> Option<&str> {
    match &kpi.kind {
        KpiKind::Mean { column } => Some(column),
        KpiKind::Ratio { numerator, .. } => Some(numerator),
        _ => None,
    }
}

/// Which request applies to which metric: each metric's own request, else the request
/// without a metric, for the metrics that can be capped (`metrics`: name and whether it is a
/// mean or ratio metric). The rules of `--winsorize`, wherever the caps are computed (in
/// process, or in a warehouse's query). Errors ([`DataError::Winsorize`]): two requests
/// without a metric, two for one metric, a request naming no metric or one that cannot be
/// capped. The result may be empty (no cappable metric); the caller says what that means.
pub fn resolve_requests<'a>(
    requests: &'a [WinsorRequest],
    metrics: &[(&str, bool)],
) -> Result<BTreeMap<String, &'a WinsorRequest>> {
    let global: Vec<&WinsorRequest> = requests.iter().filter(|s| s.metric.is_none()).collect();
    if global.len() > 1 {
        return Err(refuse(
            "without a metric name given twice; use metric=LOW,HIGH for per-metric levels",
        ));
    }
    for s in requests.iter().filter_map(|s| s.metric.as_ref()) {
        if requests
            .iter()
            .filter(|t| t.metric.as_ref() == Some(s))
            .count()
            > 1
        {
            return Err(refuse(format!("given twice for metric `{s}`")));
        }
        match metrics.iter().find(|(m, _)| m == s) {
            Some((_, true)) => {}
            Some((_, false)) => {
                return Err(refuse(format!(
                    "{s}=...: metric `{s}` is not a mean or ratio metric; winsorising applies to numeric values, not to proportions, NPS, top-box shares, composites or quantiles"
                )))
            }
            None => {
                let all: Vec<&str> = metrics.iter().map(|(m, _)| *m).collect();
                return Err(refuse(format!(
                    "{s}=...: no metric named `{s}` (the metrics: {})",
                    all.join(", ")
                )));
            }
        }
    }
    let mut chosen = BTreeMap::new();
    for (name, _) in metrics.iter().filter(|(_, cappable)| *cappable) {
        let request = requests
            .iter()
            .find(|s| s.metric.as_deref() == Some(*name))
            .or(global.first().copied());
        if let Some(r) = request {
            chosen.insert(name.to_string(), r);
        }
    }
    Ok(chosen)
}

/// Applies the winsorisation `requests` to `kpis` on the rows of `data`.
///
/// For each mean (ratio) KPI with a request of its own, or else the request without a metric,
/// the KPI's column (numerator) is capped at percentiles of the rows the KPI uses (missing
/// values follow `policy`, as in the analysis), pooled over the arms; the capped values are
/// added to the data as the column `"<column> (winsorized for <kpi>)"` and the KPI is pointed
/// at it. `other_metrics` names the review's metrics that are not KPIs (e.g. quantile
/// metrics): a request may name them but cannot cap them.
///
/// Returns the data with the new columns and, per winsorised KPI, what was done. Errors
/// ([`DataError::Winsorize`], or the data's own): two requests without a metric, two for one
/// metric, a request naming no metric or one that is not a mean or ratio KPI, no KPI to cap,
/// and missing values under [`MissingPolicy::Error`].
pub fn winsorize_kpis(
    mut data: Dataset,
    kpis: &mut [Kpi],
    other_metrics: &[&str],
    requests: &[WinsorRequest],
    policy: MissingPolicy,
) -> Result<(Dataset, BTreeMap<String, Winsorized>)> {
    let cappable: Vec<(&str, bool)> = kpis
        .iter()
        .map(|k| (k.name.as_str(), capped_column(k).is_some()))
        .chain(other_metrics.iter().map(|m| (*m, false)))
        .collect();
    let chosen = resolve_requests(requests, &cappable)?;
    let mut done = BTreeMap::new();
    for kpi in kpis.iter_mut() {
        let name = kpi.name.clone();
        let Some(request) = chosen.get(name.as_str()).copied() else {
            continue;
        };
        let Some(column) = capped_column(kpi).map(str::to_string) else {
            continue; // resolve_requests gives requests to cappable metrics only
        };
        // Percentiles over exactly the rows the KPI uses.
        let keep = kpi.row_values(&data, policy)?.keep;
        let mut values = data.numeric(&column)?;
        for (v, k) in values.iter_mut().zip(&keep) {
            if !k {
                *v = None;
            }
        }
        let rows = values.iter().flatten().count();
        let caps = winsorize(&mut values, request.lower, request.upper)
            .map_err(|e| refuse(format!("for `{name}`: {e}")))?;
        let derived = format!("{column} (winsorized for {name})");
        data = data.with_numeric_column(&derived, values)?;
        match &mut kpi.kind {
            KpiKind::Mean { column } => *column = derived,
            KpiKind::Ratio { numerator, .. } => *numerator = derived,
            _ => unreachable!("capped_column is Some only for means and ratios"),
        }
        done.insert(
            name,
            Winsorized {
                column,
                lower_level: request.lower,
                upper_level: request.upper,
                caps,
                rows,
            },
        );
    }
    if done.is_empty() {
        return Err(refuse(
            "applies to none of the metrics: winsorising applies to numeric values (mean and ratio metrics), not to proportions, NPS, top-box shares, composites or quantiles",
        ));
    }
    Ok((data, done))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_and_bad_ones_say_why() {
        let r: WinsorRequest = "aht=0.01,0.99".parse().unwrap();
        assert_eq!(r.metric.as_deref(), Some("aht"));
        assert_eq!((r.lower, r.upper), (Some(0.01), Some(0.99)));
        let r: WinsorRequest = ",0.99".parse().unwrap();
        assert_eq!((r.metric, r.lower, r.upper), (None, None, Some(0.99)));
        for (spec, why) in [
            ("0.99,0.01", "lower level must be below"),
            ("1.5", "expected LOW,HIGH"),
            (",1.5", "not a number between 0 and 1"),
            (",", "at least one of the two levels"),
        ] {
            let e = spec.parse::<WinsorRequest>().unwrap_err().to_string();
            assert!(e.starts_with("winsorize `"), "{e}");
            assert!(e.contains(why), "{spec}: {e}");
        }
    }
}

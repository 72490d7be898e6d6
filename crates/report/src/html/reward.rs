//! Charts of reward results (`causalkit reward evaluate|choose`) drawn from their JSON
//! diagnostics alone: the sensitivity grid of the effect on R over two weights
//! (`sensitivity`), and the Pareto frontier between long-term value and one KPI (`pareto`).

use crate::{Chart, HeatMap, LineChart, Matrix, ReportError, Series};
use serde_json::Value;

/// The Pareto frontier of a `pareto` diagnostic (`kpi`, `points[].kpi_change`,
/// `points[].value_change`) as a line chart named `name`; `None` when the diagnostic does not
/// have that shape or has fewer than 2 points.
///
/// # Errors
/// A [`ReportError`] from the chart builder (e.g. a non-finite value).
pub fn pareto_chart(pareto: &Value, name: &str) -> Result<Option<Chart>, ReportError> {
    let (Some(kpi), Some(points)) = (
        pareto.get("kpi").and_then(Value::as_str),
        pareto.get("points").and_then(Value::as_array),
    ) else {
        return Ok(None);
    };
    let col = |k: &str| -> Option<Vec<f64>> {
        points
            .iter()
            .map(|p| p.get(k).and_then(Value::as_f64))
            .collect()
    };
    let (Some(x), Some(y)) = (col("kpi_change"), col("value_change")) else {
        return Ok(None);
    };
    if x.len() < 2 {
        return Ok(None);
    }
    Ok(Some(
        LineChart::new(format!("Pareto frontier: long-term value vs {kpi}"))
            .subtitle(
                "predicted changes per unit under the stated behaviour model (point estimates)",
            )
            .x_label(format!("predicted change of {kpi}"))
            .y_label("predicted change of long-term value")
            .markers(true)
            .chart(name, &[Series::new("frontier", x, y)])?,
    ))
}

/// The effect on R over a two-weight `sensitivity` grid (`ranges[2]`, `steps`,
/// `points[].estimate`, the first range varying slowest) as a heat map named `name`; `None`
/// for other shapes.
///
/// # Errors
/// A [`ReportError`] from the chart builder.
pub fn sensitivity_chart(s: &Value, name: &str) -> Result<Option<Chart>, ReportError> {
    let (Some(ranges), Some(steps), Some(points)) = (
        s.get("ranges").and_then(Value::as_array),
        s.get("steps").and_then(Value::as_u64).map(|n| n as usize),
        s.get("points").and_then(Value::as_array),
    ) else {
        return Ok(None);
    };
    if ranges.len() != 2 || steps < 2 || points.len() != steps * steps {
        return Ok(None);
    }
    let axis = |r: &Value| -> Option<(String, Vec<String>)> {
        let (lo, hi) = (r.get("low")?.as_f64()?, r.get("high")?.as_f64()?);
        Some((
            r.get("signal")?.as_str()?.to_string(),
            (0..steps)
                .map(|i| crate::common::fmt_sig(lo + (hi - lo) * i as f64 / (steps - 1) as f64, 4))
                .collect(),
        ))
    };
    let (Some((ys, yl)), Some((xs, xl))) = (axis(&ranges[0]), axis(&ranges[1])) else {
        return Ok(None);
    };
    let est: Option<Vec<f64>> = points
        .iter()
        .map(|p| p.get("estimate").and_then(Value::as_f64))
        .collect();
    let Some(est) = est else { return Ok(None) };
    let m = Matrix::from_values(
        yl,
        xl,
        (0..steps)
            .map(|i| est[i * steps..(i + 1) * steps].to_vec())
            .collect(),
    );
    Ok(Some(
        HeatMap::new("Effect on R over the weight grid")
            .y_label(format!("weight of {ys}"))
            .x_label(format!("weight of {xs}"))
            .chart(name, &m)?,
    ))
}

/// Every reward chart a result's diagnostics hold, named `<prefix>reward_sensitivity` and
/// `<prefix>reward_pareto`.
///
/// # Errors
/// A [`ReportError`] from the chart builders.
pub(super) fn reward_charts(
    d: &serde_json::Map<String, Value>,
    prefix: &str,
) -> Result<Vec<Chart>, ReportError> {
    let mut out = Vec::new();
    if let Some(s) = d.get("sensitivity") {
        out.extend(sensitivity_chart(
            s,
            &format!("{prefix}reward_sensitivity"),
        )?);
    }
    if let Some(p) = d.get("pareto") {
        out.extend(pareto_chart(p, &format!("{prefix}reward_pareto"))?);
    }
    Ok(out)
}

//! Charts drawn from a saved [`EstimationResult`] alone (its effects' typed keys and the
//! series it keeps in its diagnostics), so `causalkit report RESULT.json` needs no data.

use crate::{
    Chart, ForestPlot, HeatMap, Interval, LineChart, Matrix, PanelBy, ReportError, Series,
};
use causalkit_stats::{Effect, EffectKind, EstimationResult};
use serde_json::Value;
use std::collections::BTreeSet;

/// Most effects drawn in one forest plot (the table lists all of them).
const MAX_FOREST_ROWS: usize = 40;

fn level(result: &EstimationResult) -> f64 {
    1.0 - result
        .diagnostics
        .get("alpha")
        .and_then(Value::as_f64)
        .filter(|a| *a > 0.0 && *a < 1.0)
        .unwrap_or(0.05)
}

fn ab_label(e: &Effect) -> String {
    format!(
        "{} | {} | {} vs {}",
        e.key.metric.as_deref().unwrap_or_default(),
        e.key.segment.as_deref().unwrap_or("all"),
        e.key.arm.as_deref().unwrap_or_default(),
        e.key.control.as_deref().unwrap_or_default()
    )
}

/// Every chart that can be drawn from `result` alone, named `<prefix><chart>`:
///
/// - A/B results (absolute / relative effects): forest plots of the relative (delta) lifts
///   and of the absolute lifts (one panel per metric);
/// - other results: a forest plot of the effects that are neither ATT(g,t) cells nor event
///   times (at most 40 rows);
/// - event-time effects (`event_time` key, kind `event_time`): the event-study path with its
///   pointwise band;
/// - ATT(g,t) effects (`group` and `time` keys): the heat map of point estimates;
/// - series kept in the diagnostics: the A/B cumulative effect with fixed-horizon interval
///   and confidence sequence (`cumulative`), Qini curves (`qini_curve` at the top level or
///   one level down, e.g. per arm), the uplift profit curve (`policy.fraction`,
///   `policy.profit`), synthetic-control unit weights (`unit_weights`, the nonzero ones),
///   the reward sensitivity grid over two weights (`sensitivity`) and the reward Pareto
///   frontier (`pareto`);
/// - release attributions ([`super::is_attribution`]): only
///   [`super::attribution_charts`] (money waterfall, per-KPI forest, cumulative money,
///   errors ranked by money with their Pareto curve).
///
/// # Errors
/// A [`ReportError`] from the chart builders (e.g. a non-finite value).
pub fn charts_from_result(
    result: &EstimationResult,
    prefix: &str,
) -> Result<Vec<Chart>, ReportError> {
    let lvl = level(result);
    if super::attribution::is_attribution(result) {
        return super::attribution::attribution_charts(result, prefix, lvl);
    }
    let mut charts = Vec::new();
    let interval = Interval::pointwise(lvl);
    let fx = &result.effects;
    let finite = |e: &&Effect| {
        e.estimate.is_finite()
            && e.ci_low.is_none_or(f64::is_finite)
            && e.ci_high.is_none_or(f64::is_finite)
    };
    let is_ab = fx.iter().any(|e| e.key.kind == Some(EffectKind::Absolute));
    if is_ab {
        let rel: Vec<Effect> = fx
            .iter()
            .filter(|e| {
                e.key.kind == Some(EffectKind::Relative)
                    && e.key.variant.as_deref() == Some("delta")
            })
            .filter(finite)
            .take(MAX_FOREST_ROWS)
            .map(|e| Effect {
                label: ab_label(e),
                ..e.clone()
            })
            .collect();
        if !rel.is_empty() {
            charts.push(
                ForestPlot::new("relative (delta) lift")
                    .x_label("relative lift")
                    .subtitle("intervals not adjusted for multiplicity")
                    .interval(interval)
                    .chart(format!("{prefix}lift_relative"), &rel)?,
            );
        }
        let abs: Vec<Effect> = fx
            .iter()
            .filter(|e| e.key.kind == Some(EffectKind::Absolute) && e.key.variant.is_none())
            .filter(finite)
            .take(MAX_FOREST_ROWS)
            .map(|e| Effect {
                label: ab_label(e),
                ..e.clone()
            })
            .collect();
        if !abs.is_empty() {
            charts.push(
                ForestPlot::new("absolute lift")
                    .x_label("treatment - control")
                    .panel_by(PanelBy::Metric)
                    .subtitle("intervals not adjusted for multiplicity")
                    .interval(interval)
                    .chart(format!("{prefix}lift_absolute"), &abs)?,
            );
        }
    } else {
        let rest: Vec<Effect> = fx
            .iter()
            .filter(|e| {
                !matches!(
                    e.key.kind,
                    Some(EffectKind::GroupTime | EffectKind::EventTime | EffectKind::Gap)
                )
            })
            .filter(finite)
            .take(MAX_FOREST_ROWS)
            .cloned()
            .collect();
        if !rest.is_empty() {
            let with_ci = rest.iter().any(|e| e.ci_low.is_some());
            let mut f =
                ForestPlot::new(format!("{}: estimates", result.estimand)).x_label("estimate");
            if with_ci {
                f = f.interval(interval);
            } else {
                f = f.subtitle("point estimates (no intervals)");
            }
            charts.push(f.chart(format!("{prefix}forest"), &rest)?);
        }
    }
    // Event study.
    let mut ev: Vec<(i64, f64, Option<f64>, Option<f64>)> = fx
        .iter()
        .filter(|e| e.key.kind == Some(EffectKind::EventTime))
        .filter(finite)
        .filter_map(|e| Some((e.key.event_time?, e.estimate, e.ci_low, e.ci_high)))
        .collect();
    ev.sort_by_key(|p| p.0);
    ev.dedup_by_key(|p| p.0);
    if !ev.is_empty() {
        let split = |pre: bool| -> Series {
            let sel: Vec<_> = ev.iter().filter(|p| (p.0 < 0) == pre).collect();
            let s = Series::new(
                if pre {
                    "pre-treatment"
                } else {
                    "post-treatment"
                },
                sel.iter().map(|p| p.0 as f64).collect(),
                sel.iter().map(|p| p.1).collect(),
            );
            if sel.iter().all(|p| p.2.is_some() && p.3.is_some()) {
                s.with_band(
                    sel.iter().map(|p| p.2.unwrap_or_default()).collect(),
                    sel.iter().map(|p| p.3.unwrap_or_default()).collect(),
                )
            } else {
                s
            }
        };
        let series: Vec<Series> = [split(true), split(false)]
            .into_iter()
            .filter(|s| !s.x.is_empty())
            .collect();
        charts.push(
            LineChart::new("effect by period relative to adoption")
                .x_label("periods since adoption (e)")
                .y_label("effect")
                .interval(interval)
                .vline(-0.5)
                .hline(0.0)
                .markers(true)
                .chart(format!("{prefix}event_study"), &series)?,
        );
    }
    // ATT(g,t) heat map.
    let cells: Vec<(i64, i64, f64)> = fx
        .iter()
        .filter(|e| e.key.kind == Some(EffectKind::GroupTime) && e.estimate.is_finite())
        .filter_map(|e| Some((e.key.group?, e.key.time?, e.estimate)))
        .collect();
    if !cells.is_empty() {
        let groups: BTreeSet<i64> = cells.iter().map(|c| c.0).collect();
        let periods: BTreeSet<i64> = cells.iter().map(|c| c.1).collect();
        let m = Matrix::new(
            groups.iter().map(|g| format!("g={g}")).collect(),
            periods.iter().map(|t| t.to_string()).collect(),
            groups
                .iter()
                .map(|&g| {
                    periods
                        .iter()
                        .map(|&t| cells.iter().find(|c| c.0 == g && c.1 == t).map(|c| c.2))
                        .collect()
                })
                .collect(),
        );
        charts.push(
            HeatMap::new("ATT(g,t) point estimates (no intervals)")
                .x_label("period t")
                .y_label("cohort g")
                .chart(format!("{prefix}att_gt_heatmap"), &m)?,
        );
    }
    // A/B cumulative effects.
    if let Some(cum) = result
        .diagnostics
        .get("cumulative")
        .and_then(Value::as_object)
    {
        let pct = crate::common::fmt_sig(lvl * 100.0, 6);
        for (name, pts) in cum {
            let Some(pts) = pts.as_array() else { continue };
            let col = |k: &str| -> Option<Vec<f64>> {
                pts.iter()
                    .map(|p| p.get(k).and_then(Value::as_f64))
                    .collect()
            };
            let (Some(x), Some(est), Some(lo), Some(hi), Some(cl), Some(ch)) = (
                col("time"),
                col("estimate"),
                col("ci_low"),
                col("ci_high"),
                col("cs_low"),
                col("cs_high"),
            ) else {
                continue;
            };
            if x.is_empty() {
                continue;
            }
            let s = vec![
                Series::band(
                    format!("{pct}% confidence sequence (always valid)"),
                    x.clone(),
                    cl,
                    ch,
                ),
                Series::band(
                    format!("{pct}% fixed-horizon CI (pointwise)"),
                    x.clone(),
                    lo,
                    hi,
                ),
                Series::new("cumulative estimate (unadjusted)", x, est),
            ];
            charts.push(
                LineChart::new(format!("{name}: cumulative unadjusted effect"))
                    .x_label("time")
                    .y_label("absolute lift (unadjusted)")
                    .hline(0.0)
                    .chart(format!("{prefix}cumulative_{}", safe(name)), &s)?,
            );
        }
    }
    // Qini curves (top level or one level down, e.g. per treated arm).
    let mut qini: Vec<(String, &Value)> = Vec::new();
    if let Some(q) = result.diagnostics.get("qini_curve") {
        qini.push((String::new(), q));
    }
    for (k, v) in &result.diagnostics {
        if let Some(q) = v.get("qini_curve") {
            qini.push((k.clone(), q));
        }
    }
    for (arm, q) in qini {
        let xy = |k: &str| -> Option<Vec<f64>> {
            q.get(k)?.as_array()?.iter().map(Value::as_f64).collect()
        };
        let (Some(x), Some(y)) = (xy("x"), xy("y")) else {
            continue;
        };
        if x.len() < 2 || x.len() != y.len() {
            continue;
        }
        let (x0, x1, y1) = (x[0], x[x.len() - 1], y[y.len() - 1]);
        let (x, y, note) = thin(x, y);
        let random = Series::new("random targeting", vec![x0, x1], vec![y[0], y1]);
        let title = if arm.is_empty() {
            "Qini curve".to_string()
        } else {
            format!("Qini curve: {arm}")
        };
        charts.push(
            LineChart::new(title)
                .subtitle(format!("test split; point estimates (no band){note}"))
                .x_label("customers targeted (ranked by score)")
                .y_label("incremental outcomes")
                .chart(
                    format!(
                        "{prefix}qini{}{}",
                        if arm.is_empty() { "" } else { "_" },
                        safe(&arm)
                    ),
                    &[Series::new("model", x, y), random],
                )?,
        );
    }
    // Uplift profit curve (`policy`: profit per customer by fraction targeted).
    if let Some(p) = result.diagnostics.get("policy") {
        let arr = |k: &str| -> Option<Vec<f64>> {
            p.get(k)?.as_array()?.iter().map(Value::as_f64).collect()
        };
        if let (Some(f), Some(pr)) = (arr("fraction"), arr("profit")) {
            if f.len() >= 2 && f.len() == pr.len() {
                let mut chart = LineChart::new("profit curve")
                    .subtitle("profit per customer when the top fraction by score is treated (test split; point estimates)")
                    .x_label("fraction targeted")
                    .y_label("profit per customer")
                    .hline(0.0)
                    .markers(true);
                if let Some(b) = p.get("best_fraction").and_then(Value::as_f64) {
                    chart = chart.vline(b);
                }
                charts.push(chart.chart(
                    format!("{prefix}profit_curve"),
                    &[Series::new("profit", f, pr)],
                )?);
            }
        }
    }
    // Synthetic-control unit weights.
    if let Some(w) = result
        .diagnostics
        .get("unit_weights")
        .and_then(Value::as_object)
    {
        let mut bars: Vec<(String, f64)> = w
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_f64()?)))
            .filter(|(_, v)| v.abs() > 1e-6)
            .collect();
        bars.sort_by(|a, b| b.1.total_cmp(&a.1));
        bars.truncate(MAX_FOREST_ROWS);
        if !bars.is_empty() {
            charts.push(
                crate::BarChart::new("control-unit weights of the synthetic control")
                    .subtitle("units with weight above 1e-6")
                    .x_label("weight")
                    .sort_descending(true)
                    .chart(format!("{prefix}unit_weights"), &bars)?,
            );
        }
    }
    // Reward design: the sensitivity grid and the Pareto frontier.
    charts.extend(super::reward::reward_charts(&result.diagnostics, prefix)?);
    Ok(charts)
}

/// Most points drawn per curve: beyond this a curve is drawn through evenly spaced points
/// (the first and last kept), which is indistinguishable at screen resolution.
const MAX_CURVE_POINTS: usize = 1000;

/// The curve thinned to at most [`MAX_CURVE_POINTS`] points, and a subtitle note saying so.
fn thin(x: Vec<f64>, y: Vec<f64>) -> (Vec<f64>, Vec<f64>, String) {
    let n = x.len();
    if n <= MAX_CURVE_POINTS {
        return (x, y, String::new());
    }
    let idx: Vec<usize> = (0..MAX_CURVE_POINTS)
        .map(|k| k * (n - 1) / (MAX_CURVE_POINTS - 1))
        .collect();
    (
        idx.iter().map(|&i| x[i]).collect(),
        idx.iter().map(|&i| y[i]).collect(),
        format!("; drawn through {MAX_CURVE_POINTS} of {n} points"),
    )
}

/// A chart-name-safe version of a label (letters, digits, `_`, `-`).
fn safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

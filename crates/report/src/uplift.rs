//! Uplift charts: Qini and uplift curves with their random and perfect references, uplift by
//! decile, the profit curve and feature importance, drawn with the crate's [`LineChart`] and
//! [`BarChart`] from the results of `causalkit_uplift`.

use causalkit_uplift::metrics::Curve;
use causalkit_uplift::policy::ProfitCurve;
use causalkit_uplift::UpliftEvaluation;

use crate::{BarChart, Chart, LineChart, ReportError, Series};

/// Legend name of the model's curve in the Qini and uplift charts.
pub const MODEL_SERIES: &str = "model";
/// Legend name of the random-targeting chord.
pub const RANDOM_SERIES: &str = "random";
/// Legend name of the perfect-ranking curve.
pub const PERFECT_SERIES: &str = "perfect";

/// Renders the uplift charts in memory, ready for [`crate::save_all`]:
///
/// - `qini[_<arm>]`: the Qini curve (scikit-uplift `qini_curve`), the random chord from
///   `(0, 0)` to its last point and the perfect curve (`perfect_qini_curve`,
///   `negative_effect=True`);
/// - `uplift_curve[_<arm>]`: the uplift curve with its random chord and, for a 0/1 outcome,
///   the perfect curve (`perfect_uplift_curve`);
/// - `uplift_by_decile[_<arm>]`: the uplift of each bin of the percentile table, best-scored
///   bin first (bins without treated or control rows are left out and named in the subtitle);
/// - `profit` when `profit` is given: incremental profit over the fraction targeted, with the
///   treat-nobody line at 0 and the best fraction marked;
/// - `feature_importance` when `importance` is given: one bar per feature, largest first.
///
/// Curves are in the evaluation's units: x in rows ranked by descending score, y in
/// incremental outcomes (Qini) or outcome-rate difference times rows (uplift curve), exactly
/// the points of the JSON diagnostics. `evaluations` holds one evaluation per treated arm;
/// chart names get the arm's name as a suffix when there are several.
///
/// # Errors
/// [`ReportError::Empty`] if `evaluations` is empty; any error of the chart builders (e.g.
/// [`ReportError::NonFinite`] for a non-finite point).
pub fn uplift_charts(
    evaluations: &[UpliftEvaluation],
    profit: Option<&ProfitCurve>,
    importance: Option<&[(String, f64)]>,
) -> Result<Vec<Chart>, ReportError> {
    if evaluations.is_empty() {
        return Err(ReportError::Empty("no uplift evaluation to plot".into()));
    }
    let several = evaluations.len() > 1;
    let mut charts = Vec::new();
    for ev in evaluations {
        let (suffix, arm_note) = match (&ev.arm, several) {
            (Some(a), true) => (format!("_{}", file_safe(a)), format!(" ({a})")),
            _ => (String::new(), String::new()),
        };
        charts.push(curve_chart(
            &format!("qini{suffix}"),
            &format!("Qini curve{arm_note}"),
            "incremental outcomes (Qini)",
            &ev.qini_curve,
            ev.perfect_qini_curve.as_ref(),
        )?);
        charts.push(curve_chart(
            &format!("uplift_curve{suffix}"),
            &format!("Uplift curve{arm_note}"),
            "uplift x rows targeted",
            &ev.uplift_curve,
            ev.perfect_uplift_curve.as_ref(),
        )?);
        charts.push(decile_chart(ev, &suffix, &arm_note)?);
    }
    if let Some(p) = profit {
        charts.push(profit_chart(p)?);
    }
    if let Some(imp) = importance {
        charts.push(
            BarChart::new("Feature importance")
                .x_label("share of importance")
                .sort_descending(true)
                .show_values(true)
                .digits(3)
                .chart("feature_importance", imp)?,
        );
    }
    Ok(charts)
}

/// An arm name as a file-stem fragment: letters, digits, `-` and `_` kept, others `_`.
fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn curve_chart(
    name: &str,
    title: &str,
    y_label: &str,
    curve: &Curve,
    perfect: Option<&Curve>,
) -> Result<Chart, ReportError> {
    let (Some(&xl), Some(&yl)) = (curve.x.last(), curve.y.last()) else {
        return Err(ReportError::Empty(format!(
            "{title}: the curve has no point"
        )));
    };
    let mut series = vec![Series::new(MODEL_SERIES, curve.x.clone(), curve.y.clone())];
    series.push(Series::new(RANDOM_SERIES, vec![0.0, xl], vec![0.0, yl]));
    if let Some(p) = perfect {
        series.push(Series::new(PERFECT_SERIES, p.x.clone(), p.y.clone()));
    }
    LineChart::new(title)
        .x_label("rows targeted (ranked by descending score)")
        .y_label(y_label)
        .hline(0.0)
        .chart(name, &series)
}

fn decile_chart(ev: &UpliftEvaluation, suffix: &str, arm_note: &str) -> Result<Chart, ReportError> {
    let mut bars = Vec::new();
    let mut empty = Vec::new();
    for row in &ev.percentiles {
        match row.uplift {
            Some(u) => bars.push((row.percentile.clone(), u)),
            None => empty.push(row.percentile.clone()),
        }
    }
    if bars.is_empty() {
        return Err(ReportError::Empty(format!(
            "uplift by decile{arm_note}: no bin has treated and control rows"
        )));
    }
    let mut chart = BarChart::new(format!("Uplift by decile of the score{arm_note}"))
        .x_label("uplift (treated rate - control rate), best-scored bin first")
        .show_values(true)
        .digits(4);
    if !empty.is_empty() {
        chart = chart.subtitle(format!(
            "bins without treated or control rows left out: {}",
            empty.join(", ")
        ));
    }
    chart.chart(format!("uplift_by_decile{suffix}"), &bars)
}

fn profit_chart(p: &ProfitCurve) -> Result<Chart, ReportError> {
    let (x, y): (Vec<f64>, Vec<f64>) = p
        .fraction
        .iter()
        .zip(&p.profit)
        .filter_map(|(&f, v)| v.map(|v| (f, v)))
        .unzip();
    if x.is_empty() {
        return Err(ReportError::Empty(
            "the profit curve has no defined point".into(),
        ));
    }
    let mut sub = format!(
        "value {} per unit, cost {} per treated; best fraction {}",
        p.value, p.cost, p.best_fraction
    );
    if let Some((lo, hi)) = p.best_fraction_ci {
        sub += &format!(" (bootstrap percentile interval {lo} to {hi})");
    }
    LineChart::new("Incremental profit by fraction targeted")
        .x_label("fraction targeted (ranked by descending score)")
        .y_label("profit per customer vs treating nobody")
        .hline(0.0)
        .vline(p.best_fraction)
        .markers(true)
        .subtitle(sub)
        .chart("profit", &[Series::new(MODEL_SERIES, x, y)])
}

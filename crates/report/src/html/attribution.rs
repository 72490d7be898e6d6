//! The release-attribution parts of the report (`causalkit attribute`): the money headline of
//! the top value node, the attribution's checks (refuters, SRM, cross-check, pre-trends), the
//! money table, and the charts drawn from its JSON (money waterfall, per-KPI forest,
//! cumulative money, errors ranked by money with their Pareto curve).
//!
//! Everything is read from the result's diagnostics as `causalkit_attribution` writes them
//! (`design`, `estimator`, `reason`, `cross_check`, `covariance_source`, `design_diagnostics`,
//! `refuters`, `decomposition`, `cumulative`, `value`); a missing or "not run" part is shown
//! as such, never a crash.

use super::text::{Check, Status};
use crate::{
    BarChart, Chart, ForestPlot, Interval, LineChart, PanelBy, ReportError, Series, WaterfallChart,
    WaterfallStep,
};
use causalkit_stats::{fmt_p_value, Effect, EstimationResult};
use serde_json::Value;

/// Whether `result` is a release attribution (`causalkit attribute`, or `causalkit attribute
/// errors`): its method starts with "release attribution" or "model errors ranked by money",
/// or its diagnostics hold both `value` and `design_diagnostics`.
pub fn is_attribution(result: &EstimationResult) -> bool {
    result.method.starts_with("release attribution")
        || result.method.starts_with("model errors ranked by money")
        || (result.diagnostics.contains_key("value")
            && result.diagnostics.contains_key("design_diagnostics"))
}

/// Money as the report prints it everywhere (headline, table): `$1,234,567` (whole units)
/// from 1000 in magnitude, `$12.35` (two decimals) below; the sign before the `$`
/// (`-$1,234`); non-finite values as `NaN`, `Inf`, `-Inf`.
pub fn fmt_money(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Inf".into() } else { "-Inf".into() };
    }
    let body = if x.abs() < 1000.0 {
        format!("{:.2}", x.abs())
    } else {
        let digits = format!("{:.0}", x.abs());
        let mut out = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        out
    };
    let zero = body.chars().all(|c| matches!(c, '0' | '.' | ','));
    if x < 0.0 && !zero {
        format!("-${body}")
    } else {
        format!("${body}")
    }
}

/// One value node of the attribution JSON (`diagnostics.value.nodes[]`).
#[derive(Debug, Clone, PartialEq)]
pub struct MoneyNode {
    /// The node's name.
    pub name: String,
    /// Its expression in the spec.
    pub expr: String,
    /// The node without and with the release (money per period).
    pub without: Option<f64>,
    /// The node with the release.
    pub with: Option<f64>,
    /// The change over one period with its interval.
    pub change: (f64, Option<f64>, Option<f64>),
    /// The annualised change (estimate, low, high), when the effect recurs.
    pub annualised: Option<(f64, f64, f64)>,
    /// Whether lower or higher is better (`better`: "lower" / "higher"), when the JSON says.
    pub better: Option<String>,
}

fn view(v: Option<&Value>) -> Option<(f64, f64, f64)> {
    let v = v?;
    Some((
        v.get("estimate")?.as_f64()?,
        v.get("ci_low")?.as_f64()?,
        v.get("ci_high")?.as_f64()?,
    ))
}

/// The value nodes of an attribution result, in spec order (empty when the spec has no
/// `[value]` section or the JSON lacks it).
pub fn money_nodes(result: &EstimationResult) -> Vec<MoneyNode> {
    let value = result.diagnostics.get("value");
    let better_map = value.and_then(|v| v.get("better"));
    let Some(nodes) = value.and_then(|v| v.get("nodes")).and_then(Value::as_array) else {
        return Vec::new();
    };
    nodes
        .iter()
        .filter_map(|n| {
            let name = n.get("name")?.as_str()?.to_string();
            let c = n.get("change")?;
            let better = n
                .get("better")
                .or_else(|| better_map.and_then(|b| b.get(&name)))
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase);
            Some(MoneyNode {
                expr: n
                    .get("expr")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                without: n.get("without").and_then(Value::as_f64),
                with: n.get("with").and_then(Value::as_f64),
                change: (
                    c.get("estimate")?.as_f64()?,
                    c.get("ci_low").and_then(Value::as_f64),
                    c.get("ci_high").and_then(Value::as_f64),
                ),
                annualised: view(n.get("views").and_then(|v| v.get("annualised"))),
                better,
                name,
            })
        })
        .collect()
}

/// The reporting period of the value tree (`diagnostics.value.period`), "period" if absent.
pub fn money_period(result: &EstimationResult) -> String {
    result
        .diagnostics
        .get("value")
        .and_then(|v| v.get("period"))
        .and_then(Value::as_str)
        .unwrap_or("period")
        .to_string()
}

/// The headline of a model-error ranking (`causalkit attribute errors`): the costliest
/// confusion cell's money per period with its interval, and as a detail the saving of fixing
/// the k costliest cells (the largest `fix_top_k` entry). `None` for other results.
pub fn errors_headline(result: &EstimationResult, level: &str) -> Option<(String, Vec<String>)> {
    if !result.method.starts_with("model errors ranked by money") {
        return None;
    }
    let period = result
        .diagnostics
        .get("period")
        .and_then(Value::as_str)
        .unwrap_or("period");
    let ci = |e: &Effect| match (e.ci_low, e.ci_high) {
        (Some(l), Some(h)) => format!(" ({level} CI {} to {})", fmt_money(l), fmt_money(h)),
        _ => String::new(),
    };
    let top = *ranked_errors(result).first()?;
    let cell = top.label.trim_start_matches("error:");
    let title = format!(
        "Costliest model error: {cell}, {} per {period} if routed correctly{}",
        fmt_money(top.estimate),
        ci(top)
    );
    let mut details = Vec::new();
    // The output lists fix_top_1 .. fix_top_k in order: the last is the largest k.
    let fixes: Vec<&Effect> = result
        .effects
        .iter()
        .filter(|e| e.label.starts_with("fix_top_"))
        .collect();
    if let Some(fix) = fixes.last() {
        let k = fixes.len();
        details.push(format!(
            "Fixing the {k} costliest cells saves {} per {period}{}",
            fmt_money(fix.estimate),
            ci(fix)
        ));
    }
    if let Some(a) = result.diagnostics.get("assumption").and_then(Value::as_str) {
        details.push(format!("Assumption — {a}"));
    }
    Some((title, details))
}

/// What the money headline states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoneyKind {
    /// A cost node (`better = "lower"`) that fell: the number shown is the fall (positive).
    Savings,
    /// A cost node that rose: the number shown is the rise (positive).
    ExtraCost,
    /// A benefit node (`better = "higher"`) that rose: the number shown is the rise.
    Gain,
    /// A benefit node that fell: the number shown is the fall (positive).
    Loss,
    /// The node does not say which direction is better: the signed change.
    Change,
}

/// The headline of an attribution: the top value node's money with its interval.
#[derive(Debug, Clone, PartialEq)]
pub struct MoneyHeadline {
    /// The node.
    pub node: String,
    /// "annual" (annualised view) or the value period ("year", "month", or "one-off").
    pub horizon: String,
    /// Savings, extra cost, gain, loss or a plain change.
    pub kind: MoneyKind,
    /// The signed change of the node in the headline's view (the table's number).
    pub change: f64,
    /// Its interval (signed, as in the table).
    pub ci: Option<(f64, f64)>,
    /// The amount as the headline prints it ([`fmt_money`] of the change, or of its negation
    /// for savings and losses).
    pub amount: String,
    /// The whole line, e.g. "Estimated annual savings: $1,234,567 (95% CI $1,000,000 to
    /// $1,400,000)".
    pub text: String,
}

/// The money headline of an attribution result (`None` without a top value node): the top
/// node's annualised change when the effect recurs (else its change over the period),
/// worded by the node's `better` direction — a cost node (`better = "lower"`) falling is
/// "savings", rising "extra cost"; a benefit node rising is a "gain", falling a "loss"; a
/// node without `better` (in its JSON, or stated by the verdict, "the release pays:
/// value:N falls") states the signed change. The amount is [`fmt_money`] of the same
/// `f64` the money table prints (negated for savings and losses, whose interval is negated
/// and reversed too).
pub fn money_headline(result: &EstimationResult, level: &str) -> Option<MoneyHeadline> {
    let top = result
        .diagnostics
        .get("value")?
        .get("top_node")?
        .as_str()?
        .to_string();
    let nodes = money_nodes(result);
    let n = nodes.iter().find(|n| n.name == top)?;
    let (horizon, change, ci) = match n.annualised {
        Some((e, l, h)) => ("annual".to_string(), e, Some((l, h))),
        None => {
            let recurring = result
                .diagnostics
                .get("value")
                .and_then(|v| v.get("recurring"))
                .and_then(Value::as_bool)
                .unwrap_or(true);
            let h = if recurring {
                format!("per-{}", money_period(result))
            } else {
                "one-off".to_string()
            };
            (h, n.change.0, n.change.1.zip(n.change.2))
        }
    };
    let better = n
        .better
        .clone()
        .or_else(|| better_from_verdict(result, &top, change));
    let kind = match better.as_deref() {
        Some("lower") if change <= 0.0 => MoneyKind::Savings,
        Some("lower") => MoneyKind::ExtraCost,
        Some("higher") if change >= 0.0 => MoneyKind::Gain,
        Some("higher") => MoneyKind::Loss,
        _ => MoneyKind::Change,
    };
    let flip = matches!(kind, MoneyKind::Savings | MoneyKind::Loss);
    let signed = |x: f64| if flip { -x } else { x };
    let amount = fmt_money(signed(change));
    let what = match kind {
        MoneyKind::Savings => "savings".to_string(),
        MoneyKind::ExtraCost => "extra cost".to_string(),
        MoneyKind::Gain => "gain".to_string(),
        MoneyKind::Loss => "loss".to_string(),
        MoneyKind::Change => format!("change in {top}"),
    };
    let mut text = format!("Estimated {horizon} {what}: {amount}");
    if let Some((l, h)) = ci {
        let (a, b) = if flip { (-h, -l) } else { (l, h) };
        text += &format!(" ({level} CI {} to {})", fmt_money(a), fmt_money(b));
    }
    Some(MoneyHeadline {
        node: top,
        horizon,
        kind,
        change,
        ci,
        amount,
        text,
    })
}

/// The node's better direction as the attribution's verdict states it, for JSON without a
/// `better` field: "the release pays: value:N falls" (lower is better) or "... rises" (higher
/// is better), and "the release costs: value:N moves the wrong way" (better is the opposite
/// of the change's sign). `None` for any other verdict.
fn better_from_verdict(result: &EstimationResult, node: &str, change: f64) -> Option<String> {
    let v = result.diagnostics.get("verdict")?.as_str()?;
    let pays = format!("the release pays: value:{node} ");
    let costs = format!("the release costs: value:{node} moves the wrong way");
    if let Some(i) = v.find(&pays) {
        let rest = &v[i + pays.len()..];
        if rest.starts_with("falls") {
            return Some("lower".into());
        }
        if rest.starts_with("rises") {
            return Some("higher".into());
        }
    } else if v.contains(&costs) && change != 0.0 {
        return Some(if change > 0.0 { "lower" } else { "higher" }.into());
    }
    None
}

/// The attribution's checks: each refuter (fail: failed; pass: passed; not applicable is
/// listed in the methods section), the refuters not run (warning), the design's SRM test
/// (`design_diagnostics.srm`: failed on `mismatch`), the cross-check (failed when the
/// intervals do not overlap) and pre-trend tests in the design diagnostics (warning below
/// `alpha`).
pub fn attribution_checks(result: &EstimationResult, alpha: f64) -> Vec<Check> {
    let d = &result.diagnostics;
    let mut out = Vec::new();
    match d.get("refuters") {
        Some(r) => {
            if let Some(status) = r.get("status").and_then(Value::as_str) {
                out.push(Check {
                    status: Status::Warning,
                    text: format!(
                        "refuters {status}: {}",
                        r.get("why")
                            .and_then(Value::as_str)
                            .unwrap_or("no reason given")
                    ),
                });
            }
            for x in r
                .get("results")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let s = |k: &str| x.get(k).and_then(Value::as_str).unwrap_or_default();
                let status = match s("outcome") {
                    "fail" => Status::Failed,
                    "pass" => Status::Passed,
                    _ => continue,
                };
                out.push(Check {
                    status,
                    text: format!("refuter {}: {} ({})", s("name"), s("detail"), s("rule")),
                });
            }
        }
        None => out.push(Check {
            status: Status::Warning,
            text: "refuters not run (the result has no `refuters` entry)".into(),
        }),
    }
    if let Some(dd) = d.get("design_diagnostics") {
        if let Some(srm) = dd.get("srm") {
            let mismatch = srm.get("mismatch").and_then(Value::as_bool);
            let p = srm.get("p_value").and_then(Value::as_f64);
            if mismatch.is_some() || p.is_some() {
                let failed = mismatch == Some(true);
                out.push(Check {
                    status: if failed {
                        Status::Failed
                    } else {
                        Status::Passed
                    },
                    text: format!(
                        "sample ratio mismatch (SRM) check{}: {}",
                        p.map(|p| format!(" (p = {})", fmt_p_value(p)))
                            .unwrap_or_default(),
                        if failed {
                            "the split differs from the plan"
                        } else {
                            "no mismatch"
                        }
                    ),
                });
            }
        }
        pretrend_checks(dd, alpha, "", &mut out);
    }
    if let Some(cc) = d.get("cross_check") {
        if let Some(agrees) = cc.get("agrees").and_then(Value::as_bool) {
            let est = cc.get("estimator").and_then(Value::as_str).unwrap_or("?");
            out.push(Check {
                status: if agrees {
                    Status::Passed
                } else {
                    Status::Failed
                },
                text: format!(
                    "cross-check ({est}): {}",
                    if agrees {
                        "its intervals overlap the main estimator's for every KPI"
                    } else {
                        "its intervals do not overlap the main estimator's for some KPI"
                    }
                ),
            });
        }
    }
    out
}

/// Pre-trend tests anywhere in the design diagnostics: an object with a `p_value` and a
/// `test` naming a pre-test (Wald pre-test, leads), warning below `alpha`.
fn pretrend_checks(v: &Value, alpha: f64, path: &str, out: &mut Vec<Check>) {
    let Value::Object(m) = v else { return };
    if let (Some(test), Some(p)) = (
        m.get("test").and_then(Value::as_str),
        m.get("p_value").and_then(Value::as_f64),
    ) {
        let t = test.to_ascii_lowercase();
        if t.contains("pre") || t.contains("lead") {
            let bad = p < alpha;
            out.push(Check {
                status: if bad { Status::Warning } else { Status::Passed },
                text: format!(
                    "pre-trend test{} ({test}): p = {} ({})",
                    if path.is_empty() {
                        String::new()
                    } else {
                        format!(" {path}")
                    },
                    fmt_p_value(p),
                    if bad {
                        "pre-release effects differ from zero: parallel trends are doubtful"
                    } else {
                        "no evidence against parallel trends"
                    }
                ),
            });
        }
        return;
    }
    for (k, x) in m {
        if k == "srm" {
            continue;
        }
        let p = if path.is_empty() {
            k.clone()
        } else {
            format!("{path}.{k}")
        };
        pretrend_checks(x, alpha, &p, out);
    }
}

/// The node names of a signed sum `a + b - c` (each term a bare identifier), or `None`.
fn signed_sum(expr: &str) -> Option<Vec<(String, f64)>> {
    let mut out = Vec::new();
    let mut sign = 1.0;
    let mut cur = String::new();
    let mut push = |cur: &mut String, sign: f64| -> Option<()> {
        let t = cur.trim();
        if t.is_empty() || !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return None;
        }
        out.push((t.to_string(), sign));
        cur.clear();
        Some(())
    };
    for ch in expr.chars() {
        match ch {
            '+' | '-' => {
                if cur.trim().is_empty() && out_is_start(&cur) {
                    // A leading sign.
                    if ch == '-' {
                        sign = -sign;
                    }
                    continue;
                }
                push(&mut cur, sign)?;
                sign = if ch == '-' { -1.0 } else { 1.0 };
            }
            _ => cur.push(ch),
        }
    }
    push(&mut cur, sign)?;
    Some(out)
}

fn out_is_start(cur: &str) -> bool {
    cur.trim().is_empty()
}

/// The money waterfall of the top node when its expression is a signed sum of other nodes
/// (each part's signed change and interval, then the total); otherwise `None`.
fn waterfall_steps(result: &EstimationResult) -> Option<(Vec<WaterfallStep>, WaterfallStep)> {
    let top = result.diagnostics.get("value")?.get("top_node")?.as_str()?;
    let nodes = money_nodes(result);
    let t = nodes.iter().find(|n| n.name == top)?;
    let parts = signed_sum(&t.expr)?;
    if parts.len() < 2 {
        return None;
    }
    let step = |n: &MoneyNode, s: f64| {
        let ci = n.change.1.zip(n.change.2).map(|(l, h)| {
            let (a, b) = (l * s, h * s);
            (a.min(b), a.max(b))
        });
        let label = if s < 0.0 {
            format!("-{}", n.name)
        } else {
            n.name.clone()
        };
        WaterfallStep::new(label, n.change.0 * s, ci)
    };
    let steps = parts
        .iter()
        .map(|(name, s)| nodes.iter().find(|n| &n.name == name).map(|n| step(n, *s)))
        .collect::<Option<Vec<_>>>()?;
    Some((steps, step(t, 1.0)))
}

/// The errors of `causalkit attribute errors`: effects labelled `error:<true>-><predicted>`
/// (the money of each confusion cell), ranked by money (largest magnitude first).
pub fn ranked_errors(result: &EstimationResult) -> Vec<&Effect> {
    let mut v: Vec<&Effect> = result
        .effects
        .iter()
        .filter(|e| {
            e.label
                .strip_prefix("error:")
                .is_some_and(|rest| rest.contains("->") && !rest.contains(':'))
                && e.estimate.is_finite()
        })
        .collect();
    v.sort_by(|a, b| b.estimate.abs().total_cmp(&a.estimate.abs()));
    v
}

/// The `fix_top_k` entries of a model-error ranking in output order (k = 1, 2, ...): the
/// saving of fixing the k costliest confusion cells together, with the cells it covers (the
/// effect's `term` key, as `causalkit attribute errors` writes it). Empty for other results.
pub fn fix_top_entries(result: &EstimationResult) -> Vec<&Effect> {
    if !result.method.starts_with("model errors ranked by money") {
        return Vec::new();
    }
    result
        .effects
        .iter()
        .filter(|e| {
            e.label
                .strip_prefix("fix_top_")
                .is_some_and(|k| k.parse::<usize>().is_ok())
        })
        .collect()
}

/// The attribution charts drawn from the JSON: the money waterfall of the top node (or a
/// forest of the nodes' money when the top node is not a signed sum of nodes), the per-KPI
/// forest (one panel per KPI), the cumulative money of the top node over time (when the JSON
/// has `cumulative.points`), and the errors ranked by money with their Pareto curve.
///
/// # Errors
/// A [`ReportError`] from a chart builder.
pub fn attribution_charts(
    result: &EstimationResult,
    prefix: &str,
    level: f64,
) -> Result<Vec<Chart>, ReportError> {
    let mut charts = Vec::new();
    let interval = Interval::pointwise(level);
    let period = money_period(result);
    let release = result
        .diagnostics
        .get("release")
        .and_then(Value::as_str)
        .unwrap_or("release")
        .to_string();
    let finite = |e: &Effect| {
        e.estimate.is_finite()
            && e.ci_low.is_none_or(f64::is_finite)
            && e.ci_high.is_none_or(f64::is_finite)
    };
    let mut drew_waterfall = false;
    if let Some((parts, total)) = waterfall_steps(result) {
        if let Ok(c) = WaterfallChart::new(format!("{release}: money by value node"))
            .x_label(format!("change per {period}"))
            .subtitle("each part's own interval; parts add up to the total")
            .interval(interval)
            .chart(format!("{prefix}money_waterfall"), &parts, &total)
        {
            charts.push(c);
            drew_waterfall = true;
        }
    }
    if !drew_waterfall {
        let money: Vec<Effect> = result
            .effects
            .iter()
            .filter(|e| e.label.starts_with("value:"))
            .filter(|e| finite(e))
            .cloned()
            .collect();
        if !money.is_empty() {
            charts.push(
                ForestPlot::new(format!("{release}: money by value node"))
                    .x_label(format!("change per {period}"))
                    .interval(interval)
                    .chart(format!("{prefix}money_by_node"), &money)?,
            );
        }
    }
    let kpis: Vec<Effect> = result
        .effects
        .iter()
        .filter(|e| !e.label.starts_with("value:") && !e.label.starts_with("error:"))
        .filter(|e| finite(e))
        .map(|e| {
            let mut e = e.clone();
            if e.key.metric.is_none() {
                e.key.metric = Some(e.label.clone());
            }
            e
        })
        .collect();
    if !kpis.is_empty() {
        charts.push(
            ForestPlot::new(format!("{release}: KPI effects"))
                .x_label("absolute effect (KPI units)")
                .panel_by(PanelBy::Metric)
                .interval(interval)
                .chart(format!("{prefix}kpi_effects"), &kpis)?,
        );
    }
    if let Some(c) = cumulative_money(result, prefix, level)? {
        charts.push(c);
    }
    let errors = ranked_errors(result);
    if !errors.is_empty() {
        let bars: Vec<(String, f64)> = errors
            .iter()
            .take(40)
            .map(|e| (e.label.clone(), e.estimate))
            .collect();
        charts.push(
            BarChart::new("model errors ranked by money")
                .x_label(format!("money per {period}"))
                .subtitle("confusion cells true -> predicted, largest first")
                .chart(format!("{prefix}errors_by_money"), &bars)?,
        );
        let total: f64 = errors.iter().map(|e| e.estimate.abs()).sum();
        if total > 0.0 && errors.len() >= 2 {
            let mut acc = 0.0;
            let x: Vec<f64> = (1..=errors.len()).map(|k| k as f64).collect();
            let y: Vec<f64> = errors
                .iter()
                .map(|e| {
                    acc += e.estimate.abs();
                    100.0 * acc / total
                })
                .collect();
            charts.push(
                LineChart::new("Pareto curve of the model errors' money")
                    .subtitle("share of all error money in the k costliest cells")
                    .x_label("cells fixed (costliest first)")
                    .y_label("% of error money")
                    .markers(true)
                    .chart(
                        format!("{prefix}errors_pareto"),
                        &[Series::new("cumulative share", x, y)],
                    )?,
            );
        }
    }
    Ok(charts)
}

/// The top node's money over time from `cumulative.points` (accrued money when present,
/// else the running rate), with its band.
fn cumulative_money(
    result: &EstimationResult,
    prefix: &str,
    level: f64,
) -> Result<Option<Chart>, ReportError> {
    let Some(points) = result
        .diagnostics
        .get("cumulative")
        .and_then(|c| c.get("points"))
        .and_then(Value::as_array)
    else {
        return Ok(None);
    };
    let top = result
        .diagnostics
        .get("value")
        .and_then(|v| v.get("top_node"))
        .and_then(Value::as_str);
    let axis = result
        .diagnostics
        .get("cumulative")
        .and_then(|c| c.get("axis"))
        .and_then(Value::as_str)
        .unwrap_or("period")
        .to_string();
    let mut node_name = None;
    let mut rows: Vec<(f64, f64, Option<f64>, Option<f64>)> = Vec::new();
    let mut accrued_all = true;
    for p in points {
        let Some(t) = p.get("period").and_then(Value::as_f64) else {
            continue;
        };
        let Some(money) = p.get("money").and_then(Value::as_array) else {
            continue;
        };
        let m = match top {
            Some(top) => money
                .iter()
                .find(|m| m.get("node").and_then(Value::as_str) == Some(top)),
            None => money.last(),
        };
        let Some(m) = m else { continue };
        node_name = m.get("node").and_then(Value::as_str).map(String::from);
        let e = match m.get("accrued").filter(|a| !a.is_null()) {
            Some(a) => a,
            None => {
                accrued_all = false;
                match m.get("rate") {
                    Some(r) => r,
                    None => continue,
                }
            }
        };
        let Some(est) = e.get("estimate").and_then(Value::as_f64) else {
            continue;
        };
        rows.push((
            t,
            est,
            e.get("ci_low").and_then(Value::as_f64),
            e.get("ci_high").and_then(Value::as_f64),
        ));
    }
    rows.retain(|r| r.1.is_finite());
    if rows.is_empty() {
        return Ok(None);
    }
    let x: Vec<f64> = rows.iter().map(|r| r.0).collect();
    let y: Vec<f64> = rows.iter().map(|r| r.1).collect();
    let mut s = Series::new(
        if accrued_all {
            "money accrued since the release"
        } else {
            "running money rate"
        },
        x,
        y,
    );
    if rows
        .iter()
        .all(|r| r.2.is_some_and(f64::is_finite) && r.3.is_some_and(f64::is_finite))
    {
        s = s.with_band(
            rows.iter().map(|r| r.2.unwrap_or_default()).collect(),
            rows.iter().map(|r| r.3.unwrap_or_default()).collect(),
        );
    }
    let node = node_name.unwrap_or_else(|| "value".into());
    Ok(Some(
        LineChart::new(format!("cumulative money: {node}"))
            .x_label(axis)
            .y_label(if accrued_all {
                "money accrued".to_string()
            } else {
                format!("money per {}", money_period(result))
            })
            .interval(Interval::pointwise(level))
            .hline(0.0)
            .markers(true)
            .chart(format!("{prefix}cumulative_money"), &[s])?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_sums_are_parsed_and_others_refused() {
        assert_eq!(
            signed_sum("handle_cost + followup_cost"),
            Some(vec![
                ("handle_cost".into(), 1.0),
                ("followup_cost".into(), 1.0)
            ])
        );
        assert_eq!(
            signed_sum("a - b"),
            Some(vec![("a".into(), 1.0), ("b".into(), -1.0)])
        );
        assert_eq!(signed_sum("contacts * aht"), None);
        assert_eq!(signed_sum("a + (b - c)"), None);
    }

    #[test]
    fn money_has_separators_and_the_sign_before_the_dollar() {
        assert_eq!(fmt_money(1234567.4), "$1,234,567");
        assert_eq!(fmt_money(-1234567.6), "-$1,234,568");
        assert_eq!(fmt_money(999.994), "$999.99");
        assert_eq!(fmt_money(-12.346), "-$12.35");
        assert_eq!(fmt_money(-0.001), "$0.00");
        assert_eq!(fmt_money(1000.0), "$1,000");
    }
}

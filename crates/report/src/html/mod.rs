//! One self-contained HTML report for any set of [`EstimationResult`]s.
//!
//! The page works offline and without JavaScript: charts are inline SVG, the CSS is inline,
//! and a Content-Security-Policy meta tag (`default-src 'none'; img-src data:; style-src
//! 'unsafe-inline'`) forbids every network request. It prints cleanly (a page break before
//! each section) and reflows to a phone's width. Sections, in order:
//!
//! 1. **Headline**, gated by the diagnostics: the verdict (A/B) or, for a result without one,
//!    the primary effect in words; a `headline` string diagnostic overrides the title (e.g.
//!    "Estimated annual savings"). A failed check turns the headline into a caution.
//! 2. **Checks**: failed and warning diagnostics first (SRM, guardrails, pre-trends, every
//!    warning of the result), then passed ones.
//! 3. **Effects**: the per-KPI table (estimate, interval, p, relative lift) and every effect
//!    in a collapsible table, plus one sentence per main row. Every number is formatted from
//!    the result's own `f64` by [`fmt_number`] (relative lifts by [`fmt_percent`]); the
//!    sentences use the same function, so prose and table cannot disagree.
//! 4. **Charts**: those [`charts_from_result`] draws from the result alone, then the caller's
//!    extra charts ([`Chart::svg`] inlined).
//! 5. **Methods**: estimator, estimand, variance estimator and papers ([`papers`]).
//! 6. **Reproducibility**: [`ReproMeta`] (causalkit version, command line, input files with
//!    SHA-256, seed, threads, time), between the comments `<!--repro:begin-->` and
//!    `<!--repro:end-->` so snapshot tests can cut it out.
//! 7. The full result JSON in `<script type="application/json" id="causalkit-results">`
//!    (an array of results; never executed).
//!
//! Entry points: [`render`] (results + extra charts + metadata; charts derived from each
//! result) and [`render_sections`] (each result with exactly the charts the caller gives).
//! A new estimator gets its section for free through the common result shape; it adds (a)
//! typed effect keys so its rows and charts are picked up, (b) series it wants drawn in its
//! diagnostics under a name [`charts_from_result`] knows (or extra charts passed to
//! [`render`]), and (c) a row in the method -> papers table ([`papers`]).

mod attribution;
mod charts;
pub mod reward;
mod text;

pub use attribution::{
    attribution_charts, attribution_checks, fix_top_entries, fmt_money, is_attribution,
    money_headline, money_nodes, money_period, ranked_errors, MoneyHeadline, MoneyKind, MoneyNode,
};
pub use charts::charts_from_result;
pub use text::{
    checks, fmt_estimate, fmt_number, fmt_percent, headline, is_change, is_relative, level_text,
    papers, papers_for, primary_effect, sentence, subject, variance_estimator, Check, Direction,
    Headline, Sentence, Status, Tone, SIGNIFICANT_DIGITS,
};

use crate::{Chart, ReportError};
use causalkit_stats::{fmt_p_value, Effect, EffectKind, EstimationResult};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// The Content-Security-Policy of every report: no network access of any kind.
pub const CSP: &str = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

/// Marks the start of the reproducibility block (time, paths, command line).
pub const REPRO_BEGIN: &str = "<!--repro:begin-->";
/// Marks the end of the reproducibility block.
pub const REPRO_END: &str = "<!--repro:end-->";

/// An input file named in the reproducibility block, with its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// The path as the user gave it.
    pub name: String,
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
}

impl InputFile {
    /// Reads `path` once and hashes it (streaming, any size).
    ///
    /// # Errors
    /// [`ReportError::Io`] naming the file that could not be read.
    pub fn hash(path: impl AsRef<Path>) -> Result<Self, ReportError> {
        let path = path.as_ref();
        let io = |source| ReportError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut f = std::fs::File::open(path).map_err(io)?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut bytes = 0u64;
        loop {
            let n = f.read(&mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            bytes += n as u64;
            h.update(&buf[..n]);
        }
        let sha256 = h
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        Ok(InputFile {
            name: path.display().to_string(),
            sha256,
            bytes,
        })
    }
}

/// What a reader needs to reproduce the report.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReproMeta {
    /// The causalkit version that wrote the report.
    pub version: String,
    /// The command line (or the spec) that produced the results.
    pub command: String,
    /// Input files with their SHA-256.
    pub inputs: Vec<InputFile>,
    /// The random seed, when one was used.
    pub seed: Option<String>,
    /// The number of worker threads.
    pub threads: Option<usize>,
    /// When the report was written (UTC, ISO 8601; see [`utc_timestamp`]).
    pub generated_at: Option<String>,
}

/// A Unix time as an ISO 8601 UTC timestamp, e.g. `2026-12-03T21:30:00Z`.
pub fn utc_timestamp(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's days_from_civil inverse).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// One result and the charts shown with it.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultSection {
    /// The result.
    pub result: EstimationResult,
    /// Its charts, in display order.
    pub charts: Vec<Chart>,
}

/// The report of `results`: each with the charts [`charts_from_result`] draws from it, and
/// `extra_charts` (drawn by the caller from data the results do not hold) after the first
/// result's charts.
///
/// # Errors
/// A [`ReportError`] from drawing a chart; [`ReportError::Empty`] without results.
pub fn render(
    results: &[EstimationResult],
    extra_charts: &[Chart],
    meta: &ReproMeta,
) -> Result<String, ReportError> {
    let mut sections = Vec::with_capacity(results.len());
    for (i, r) in results.iter().enumerate() {
        let prefix = if results.len() > 1 {
            format!("r{}_", i + 1)
        } else {
            String::new()
        };
        let mut charts = charts_from_result(r, &prefix)?;
        if i == 0 {
            charts.extend(extra_charts.iter().cloned());
        }
        sections.push(ResultSection {
            result: r.clone(),
            charts,
        });
    }
    render_sections(&sections, meta)
}

/// The report of `sections`, each result shown with exactly its own charts.
///
/// # Errors
/// [`ReportError::Empty`] without sections.
pub fn render_sections(
    sections: &[ResultSection],
    meta: &ReproMeta,
) -> Result<String, ReportError> {
    if sections.is_empty() {
        return Err(ReportError::Empty("no results to report".into()));
    }
    let results: Vec<&EstimationResult> = sections.iter().map(|s| &s.result).collect();
    let json = serde_json::to_string_pretty(&results)
        .map_err(|e| ReportError::Invalid(format!("result JSON: {e}")))?;
    let title = match sections {
        [one] => format!("causalkit report: {}", one.result.method),
        many => format!("causalkit report: {} results", many.len()),
    };
    let multi = sections.len() > 1;
    let name = |i: usize, r: &EstimationResult| -> String {
        if multi {
            format!("{}. {}", i + 1, r.method)
        } else {
            r.method.clone()
        }
    };
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(CSP);
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content=(format!("causalkit {}", meta.version));
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                header { h1 { (title) } }
                section #headline {
                    h2 { "Headline" }
                    @for (i, s) in sections.iter().enumerate() {
                        (headline_block(i, &name(i, &s.result), &s.result))
                    }
                }
                section #checks {
                    h2 { "Checks" }
                    @for (i, s) in sections.iter().enumerate() {
                        (checks_block(i, &name(i, &s.result), &s.result))
                    }
                }
                section #effects {
                    h2 { "Effects" }
                    @for (i, s) in sections.iter().enumerate() {
                        (effects_block(i, &name(i, &s.result), &s.result))
                    }
                }
                section #charts {
                    h2 { "Charts" }
                    @for (i, s) in sections.iter().enumerate() {
                        @if multi { h3 { (name(i, &s.result)) } }
                        @if s.charts.is_empty() {
                            p.muted { "No chart can be drawn from this result." }
                        }
                        @for c in &s.charts {
                            figure.chart data-chart=(c.name) {
                                (PreEscaped(inline_svg(&c.svg)))
                                figcaption { (c.name) }
                            }
                        }
                    }
                }
                section #methods {
                    h2 { "Methods" }
                    @for (i, s) in sections.iter().enumerate() {
                        (methods_block(i, &name(i, &s.result), &s.result))
                    }
                }
                section #reproducibility {
                    h2 { "Reproducibility" }
                    (PreEscaped(REPRO_BEGIN))
                    (repro_block(meta))
                    (PreEscaped(REPRO_END))
                    p.muted {
                        "The full result" @if multi { "s" } " (the common JSON shape) "
                        "are embedded in this file as "
                        code { "<script type=\"application/json\" id=\"causalkit-results\">" }
                        "; save them with " code { "causalkit report" } " to re-render."
                    }
                }
                script type="application/json" id="causalkit-results" {
                    (PreEscaped(json.replace('<', "\\u003c").replace('>', "\\u003e")))
                }
            }
        }
    };
    Ok(page.into_string())
}

/// The SVG document without its XML prolog, ready to inline.
fn inline_svg(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}

fn tone_class(t: Tone) -> &'static str {
    match t {
        Tone::Good => "headline good",
        Tone::Bad => "headline bad",
        Tone::Caution => "headline caution",
        Tone::Neutral => "headline neutral",
    }
}

fn headline_block(i: usize, name: &str, r: &EstimationResult) -> Markup {
    let h = headline(r);
    let title = r
        .diagnostics
        .get("headline")
        .and_then(|v| v.as_str())
        .map(|t| match &h.effect {
            Some(s) => format!("{t}: {}", s.text),
            None => t.to_string(),
        })
        .unwrap_or(h.title.clone());
    html! {
        div class=(tone_class(h.tone)) data-result=(i) {
            p.method { (name) }
            p.title { (title) }
            @if let Some(m) = &h.money {
                p.money-headline hidden data-node=(m.node) data-horizon=(m.horizon)
                    data-kind=(format!("{:?}", m.kind)) data-amount=(m.amount) { (m.text) }
            }
            @if let Some(s) = &h.effect {
                p.prose hidden data-effect=(s.effect) data-direction=(format!("{:?}", s.direction))
                    data-magnitude=(s.magnitude) { (s.text) }
            }
            @if !h.details.is_empty() {
                ul { @for d in &h.details { li { (d) } } }
            }
        }
    }
}

fn checks_block(i: usize, name: &str, r: &EstimationResult) -> Markup {
    let cs = checks(r);
    html! {
        div data-result=(i) {
            h3 { (name) }
            @if cs.is_empty() {
                p.muted { "The result reports no checks and no warnings." }
            } @else {
                ul.checks {
                    @for c in &cs {
                        @let (cls, word) = match c.status {
                            Status::Failed => ("failed", "Failed"),
                            Status::Warning => ("warning", "Warning"),
                            Status::Passed => ("passed", "Passed"),
                        };
                        li class=(cls) { strong { (word) ": " } (c.text) }
                    }
                }
            }
        }
    }
}

/// The rows of the main table: A/B results show each absolute effect (with its relative
/// lift in a column); other results show every effect that is not an ATT(g,t) cell.
fn main_rows(r: &EstimationResult) -> Vec<usize> {
    let fx = &r.effects;
    if fx.iter().any(|e| e.key.kind == Some(EffectKind::Absolute)) {
        (0..fx.len())
            .filter(|&i| {
                fx[i].key.kind == Some(EffectKind::Absolute) && fx[i].key.variant.is_none()
            })
            .collect()
    } else {
        let rows: Vec<usize> = (0..fx.len())
            .filter(|&i| fx[i].key.kind != Some(EffectKind::GroupTime))
            .collect();
        if rows.is_empty() {
            (0..fx.len()).collect()
        } else {
            rows
        }
    }
}

/// The relative (delta) lift matching an absolute A/B effect, by its typed keys.
fn relative_of(r: &EstimationResult, e: &Effect) -> Option<usize> {
    r.effects.iter().position(|x| {
        x.key.kind == Some(EffectKind::Relative)
            && x.key.variant.as_deref() == Some("delta")
            && x.key.metric == e.key.metric
            && x.key.segment == e.key.segment
            && x.key.arm == e.key.arm
            && x.key.control == e.key.control
    })
}

fn interval_text(e: &Effect) -> String {
    match (e.ci_low, e.ci_high) {
        (Some(lo), Some(hi)) => format!("{} to {}", fmt_estimate(e, lo), fmt_estimate(e, hi)),
        _ => String::new(),
    }
}

fn effects_block(i: usize, name: &str, r: &EstimationResult) -> Markup {
    let rows = main_rows(r);
    let level = level_text(r);
    let has_rel = rows
        .iter()
        .any(|&k| relative_of(r, &r.effects[k]).is_some());
    let prose: Vec<Sentence> = rows
        .iter()
        .filter_map(|&k| sentence(r, k))
        .take(12)
        .collect();
    html! {
        div data-result=(i) {
            h3 { (name) }
            p.muted { "Estimand: " (r.estimand) }
            div.scroll {
                table.effects {
                    thead { tr {
                        th { "Effect" } th.num { "Estimate" } th.num { (level) " CI" }
                        th.num { "p" }
                        @if has_rel { th.num { "Relative lift" } th.num { "Relative " (level) " CI" } }
                    } }
                    tbody {
                        @for &k in &rows {
                            @let e = &r.effects[k];
                            tr data-effect=(k) {
                                td { (e.label) }
                                td.num.est { (fmt_estimate(e, e.estimate)) }
                                td.num { (interval_text(e)) }
                                td.num { (e.p_value.map(fmt_p_value).unwrap_or_default()) }
                                @if has_rel {
                                    @match relative_of(r, e) {
                                        Some(j) => {
                                            td.num.rel data-effect=(j) { (fmt_estimate(&r.effects[j], r.effects[j].estimate)) }
                                            td.num { (interval_text(&r.effects[j])) }
                                        }
                                        None => { td {} td {} }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if is_attribution(r) {
                @if fix_top_entries(r).is_empty() { (money_table(r)) } @else { (fix_top_table(r)) }
            }
            @if !prose.is_empty() {
                ul.prose-list {
                    @for s in &prose {
                        li.prose data-effect=(s.effect) data-direction=(format!("{:?}", s.direction))
                            data-magnitude=(s.magnitude) { (s.text) }
                    }
                }
            }
            details {
                summary { "All " (r.effects.len()) " effects" }
                div.scroll {
                    table.effects.all {
                        thead { tr {
                            th { "Effect" } th.num { "Estimate" } th.num { "Std. error" }
                            th.num { "CI low" } th.num { "CI high" } th.num { "p" }
                        } }
                        tbody {
                            @for (k, e) in r.effects.iter().enumerate() {
                                tr data-effect=(k) {
                                    td { (e.label) }
                                    td.num.est { (fmt_estimate(e, e.estimate)) }
                                    td.num { (e.std_error.map(|x| fmt_estimate(e, x)).unwrap_or_default()) }
                                    td.num { (e.ci_low.map(|x| fmt_estimate(e, x)).unwrap_or_default()) }
                                    td.num { (e.ci_high.map(|x| fmt_estimate(e, x)).unwrap_or_default()) }
                                    td.num { (e.p_value.map(fmt_p_value).unwrap_or_default()) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The money of every value node: without and with the release, the change per period and
/// per year with their intervals, all by [`fmt_money`] (the numbers the headline states).
fn money_table(r: &EstimationResult) -> Markup {
    let nodes = money_nodes(r);
    let period = money_period(r);
    let level = level_text(r);
    let ci = |l: Option<f64>, h: Option<f64>| match (l, h) {
        (Some(l), Some(h)) => format!("{} to {}", fmt_money(l), fmt_money(h)),
        _ => String::new(),
    };
    html! {
        h4 { "Money by value node" }
        @if nodes.is_empty() {
            p.muted { "No value tree: the spec has no [value] section, so nothing is priced." }
        } @else {
            div.scroll {
                table.money {
                    thead { tr {
                        th { "Value node" } th.num { "Without" } th.num { "With" }
                        th.num { "Change per " (period) } th.num { (level) " CI" }
                        th.num { "Per year" } th.num { (level) " CI" }
                    } }
                    tbody {
                        @for n in &nodes {
                            tr data-node=(n.name) {
                                td { (n.name) br; code { (n.expr) } }
                                td.num { (n.without.map(fmt_money).unwrap_or_default()) }
                                td.num { (n.with.map(fmt_money).unwrap_or_default()) }
                                td.num.money data-view="change" { (fmt_money(n.change.0)) }
                                td.num data-view="change-ci" { (ci(n.change.1, n.change.2)) }
                                @match n.annualised {
                                    Some((e, l, h)) => {
                                        td.num.money data-view="annual" { (fmt_money(e)) }
                                        td.num data-view="annual-ci" { (ci(Some(l), Some(h))) }
                                    }
                                    None => { td.num { "one-off" } td {} }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The `fix_top_k` entries of a model-error ranking as their own table: k, the cells fixed
/// together, the saving per period and its interval (joint covariance), by [`fmt_money`].
fn fix_top_table(r: &EstimationResult) -> Markup {
    let period = r
        .diagnostics
        .get("period")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("period");
    let level = level_text(r);
    html! {
        h4 { "Fixing the k costliest cells" }
        p.muted { "Savings of fixing the k costliest confusion cells together, per " (period)
            ", with intervals from the cells' joint covariance." }
        div.scroll {
            table.fix-top {
                thead { tr {
                    th.num { "k" } th { "Cells fixed" } th.num { "Saving per " (period) }
                    th.num { (level) " CI" }
                } }
                tbody {
                    @for e in fix_top_entries(r) {
                        tr data-fix=(e.label) {
                            td.num { (e.label.trim_start_matches("fix_top_")) }
                            td { (e.key.term.clone().unwrap_or_default()) }
                            td.num.money { (fmt_money(e.estimate)) }
                            td.num { @if let (Some(l), Some(h)) = (e.ci_low, e.ci_high) {
                                (fmt_money(l)) " to " (fmt_money(h))
                            } }
                        }
                    }
                }
            }
        }
    }
}

/// What a part of the attribution JSON says when it was not computed: its status and why
/// (`{"status", "why"}`, or `{"applies": false, ...}`); `None` when it was computed.
fn part_status(v: Option<&serde_json::Value>) -> Option<String> {
    let v = match v {
        None => return Some("not run (absent from the result)".into()),
        Some(v) => v,
    };
    if v.get("applies").and_then(|a| a.as_bool()) == Some(false) {
        let why = ["why", "reason", "not_decomposed"]
            .iter()
            .find_map(|k| v.get(*k).and_then(|w| w.as_str()));
        return Some(match why {
            Some(w) => format!("not applicable: {w}"),
            None => "not applicable".into(),
        });
    }
    let status = v.get("status")?.as_str()?;
    Some(match v.get("why").and_then(|w| w.as_str()) {
        Some(why) => format!("{status}: {why}"),
        None => status.to_string(),
    })
}

fn attribution_methods(r: &EstimationResult) -> Markup {
    let d = &r.diagnostics;
    let s = |k: &str| d.get(k).and_then(|v| v.as_str()).map(String::from);
    let cc = d.get("cross_check");
    let cross = match part_status(cc) {
        Some(st) => st,
        None => {
            let cc = cc.cloned().unwrap_or_default();
            format!(
                "{} — {} ({})",
                cc.get("estimator").and_then(|v| v.as_str()).unwrap_or("?"),
                match cc.get("agrees").and_then(|v| v.as_bool()) {
                    Some(true) => "agrees",
                    Some(false) => "disagrees",
                    None => "agreement not stated",
                },
                cc.get("rule").and_then(|v| v.as_str()).unwrap_or("")
            )
        }
    };
    let refuters: Vec<serde_json::Value> = d
        .get("refuters")
        .and_then(|v| v.get("results"))
        .and_then(|v| v.as_array())
        .cloned()
        .unwrap_or_default();
    let refuter_status = part_status(d.get("refuters"));
    let decomposition = d.get("decomposition");
    let decomposition_status = part_status(decomposition);
    let cumulative_status = part_status(d.get("cumulative"));
    let text = |v: &serde_json::Value, k: &str| {
        v.get(k)
            .and_then(|x| x.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let parts: Vec<Effect> = decomposition
        .and_then(|v| v.get("kpis").or_else(|| v.get("parts")))
        .map(|v| match v {
            serde_json::Value::Array(a) => a.clone(),
            serde_json::Value::Object(m) => m.values().cloned().collect(),
            _ => Vec::new(),
        })
        .unwrap_or_default()
        .iter()
        .flat_map(|k| match k.get("parts") {
            Some(serde_json::Value::Array(ps)) => ps.clone(),
            _ => vec![k.clone()],
        })
        .filter_map(|e| serde_json::from_value::<Effect>(e).ok())
        .collect();
    html! {
        dl.attribution {
            dt { "Design" } dd { (s("design").unwrap_or_else(|| "not stated".into())) }
            dt { "Why this estimator" } dd { (s("reason").unwrap_or_else(|| "not stated".into())) }
            dt { "Cross-check" } dd { (cross) }
            dt { "Covariance of the KPI effects" } dd { (s("covariance_source").unwrap_or_else(|| "not stated".into())) }
            dt { "Money intervals" } dd {
                (d.get("value").and_then(|v| v.get("delta_method")).and_then(|v| v.as_str())
                    .unwrap_or("no value tree"))
            }
            dt { "Cumulative series" } dd {
                (cumulative_status.unwrap_or_else(|| d.get("cumulative")
                    .and_then(|c| c.get("method")).and_then(|m| m.as_str())
                    .unwrap_or("computed").to_string()))
            }
            dt { "Decomposition" } dd {
                (decomposition_status.clone().unwrap_or_else(|| "computed (below)".into()))
            }
        }
        h4 { "Refuters" }
        @if let Some(st) = &refuter_status {
            p.muted { (st) }
        }
        @if !refuters.is_empty() {
            div.scroll { table.refuters {
                thead { tr { th { "Refuter" } th { "Pass rule" } th { "Outcome" } th { "Detail" } } }
                tbody { @for x in &refuters {
                    tr class=(text(x, "outcome")) {
                        td { (text(x, "name")) } td { (text(x, "rule")) }
                        td { (text(x, "outcome").replace('_', " ")) } td { (text(x, "detail")) }
                    }
                } }
            } }
        } @else if refuter_status.is_none() {
            p.muted { "No refuter results." }
        }
        @if decomposition_status.is_none() && !parts.is_empty() {
            h4 { "Decomposition" }
            div.scroll { table.decomposition {
                thead { tr { th { "Part" } th.num { "Estimate" } th.num { (level_text(r)) " CI" } } }
                tbody { @for e in &parts {
                    tr { td { (e.label) } td.num { (fmt_estimate(e, e.estimate)) } td.num { (interval_text(e)) } }
                } }
            } }
        }
    }
}

fn methods_block(i: usize, name: &str, r: &EstimationResult) -> Markup {
    let ps = papers_for(r);
    html! {
        div data-result=(i) {
            h3 { (name) }
            dl {
                dt { "Estimator" } dd { (r.method) }
                dt { "Estimand" } dd { (r.estimand) }
                dt { "Variance estimator" }
                dd { (variance_estimator(r).unwrap_or_else(|| "as stated by the method (see the JSON diagnostics)".into())) }
                dt { "Intervals" } dd { (level_text(r)) " confidence level" }
            }
            @if is_attribution(r) { (attribution_methods(r)) }
            @if !ps.is_empty() {
                p { "Papers:" }
                ol.papers { @for p in &ps { li { (p) } } }
            }
        }
    }
}

fn repro_block(m: &ReproMeta) -> Markup {
    html! {
        dl.repro {
            dt { "causalkit version" } dd { (m.version) }
            dt { "Command" } dd { code { (m.command) } }
            dt { "Seed" } dd { (m.seed.clone().unwrap_or_else(|| "none (no randomness used)".into())) }
            dt { "Threads" } dd { (m.threads.map(|t| t.to_string()).unwrap_or_else(|| "not recorded".into())) }
            dt { "Written at" } dd { (m.generated_at.clone().unwrap_or_else(|| "not recorded".into())) }
        }
        @if !m.inputs.is_empty() {
            div.scroll {
                table.inputs {
                    thead { tr { th { "Input file" } th.num { "Bytes" } th { "SHA-256" } } }
                    tbody {
                        @for f in &m.inputs {
                            tr { td { (f.name) } td.num { (f.bytes) } td { code.hash { (f.sha256) } } }
                        }
                    }
                }
            }
        }
    }
}

/// The report's stylesheet: screen, phone width and print.
const CSS: &str = r#"
:root { --fg: #1d2330; --muted: #5b6475; --line: #d8dce3; --good: #1b7f3b; --bad: #b42318; --warn: #b54708; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: var(--fg);
  max-width: 1100px; margin: 0 auto; padding: 1rem 1.25rem 3rem; line-height: 1.45; }
h1 { font-size: 1.5rem; margin: 0.5rem 0 1rem; }
h2 { font-size: 1.25rem; border-bottom: 2px solid var(--line); padding-bottom: 0.25rem; margin-top: 2rem; }
h3 { font-size: 1.05rem; margin: 1.25rem 0 0.5rem; }
h4 { font-size: 0.95rem; margin: 1rem 0 0.4rem; }
table.refuters tr.fail td { background: #fdeeed; }
.muted { color: var(--muted); }
.headline { border-left: 6px solid var(--muted); background: #f4f6f9; padding: 0.75rem 1rem; margin: 0.75rem 0; }
.headline.good { border-color: var(--good); background: #ecf7ef; }
.headline.bad { border-color: var(--bad); background: #fdeeed; }
.headline.caution { border-color: var(--warn); background: #fff5e6; }
.headline .title { font-size: 1.3rem; font-weight: bold; margin: 0.2rem 0; }
.headline .method { color: var(--muted); margin: 0; font-size: 0.9rem; }
ul.checks { list-style: none; padding: 0; }
ul.checks li { padding: 0.35rem 0.6rem; margin: 0.25rem 0; border-left: 4px solid var(--line); }
ul.checks li.failed { border-color: var(--bad); background: #fdeeed; }
ul.checks li.warning { border-color: var(--warn); background: #fff5e6; }
ul.checks li.passed { border-color: var(--good); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.9rem; margin: 0.5rem 0; }
th, td { padding: 0.3rem 0.6rem; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure.chart { margin: 1rem 0; break-inside: avoid; page-break-inside: avoid; }
figure.chart svg { max-width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 0.8rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }
dt { font-weight: bold; }
dd { margin: 0; overflow-wrap: anywhere; }
code { font-size: 0.85rem; overflow-wrap: anywhere; }
code.hash { font-size: 0.75rem; }
details { margin: 0.5rem 0; }
@media (max-width: 600px) {
  body { padding: 0.5rem; }
  h1 { font-size: 1.2rem; }
  dl { grid-template-columns: 1fr; }
  th, td { padding: 0.25rem 0.35rem; }
}
@media print {
  body { max-width: none; padding: 0; }
  section { break-before: page; page-break-before: always; }
  section#headline { break-before: auto; page-break-before: auto; }
  details > div { display: block; }
  .scroll { overflow: visible; }
}
"#;

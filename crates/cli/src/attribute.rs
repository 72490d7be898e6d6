//! `causalkit attribute`: a release spec and its raw rows to KPI effects and money (the
//! library's `causalkit_attribution::attribute`); this module parses, calls, prints and plots.

use crate::output::{CliError, Format, Rendered};
use causalkit_attribution::spec::ReleaseSpec;
use causalkit_attribution::{
    attribute, attribute_spec, AttributeOptions, Attribution, AttributionError,
};
use causalkit_report::{
    ForestPlot, Interval, LineChart, PanelBy, Series, WaterfallChart, WaterfallStep,
};
use causalkit_stats::Report;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `causalkit attribute --spec FILE`: the attribution of a release from its spec.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AttributeArgs {
    #[command(subcommand)]
    command: Option<AttributeCommand>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum AttributeCommand {
    /// Model errors (confusion cells) ranked by the money they cost, from a spec with an
    /// `[errors]` section.
    Errors(RunArgs),
}

/// The flags of `attribute` and `attribute errors`.
#[derive(Debug, Args)]
struct RunArgs {
    /// The release spec (TOML; see the README's "Release attribution" section).
    #[arg(long)]
    spec: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write the charts (money waterfall by node, per-KPI forest plot, cumulative money over
    /// time) into this directory.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Seed of every resampling step (bootstrap cross-check, refuters).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Significance level of every interval.
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// Read the rows from this query engine instead of the spec's `[data]` (with --table):
    /// `postgres://USER@HOST:PORT/DB` or `sc://HOST:PORT` (Spark Connect, Databricks).
    /// Credentials come from the environment or the engine's password file, never the
    /// address. The aggregation runs in the engine; only sums come back.
    #[arg(long, requires = "table")]
    engine: Option<String>,
    /// The engine's table holding the rows (NAME, SCHEMA.NAME or CATALOG.SCHEMA.NAME), with
    /// --engine.
    #[arg(long, requires = "engine")]
    table: Option<String>,
    /// Skip the refuters (placebo release date, placebo KPIs, random subsets, SRM, balance);
    /// the output then says they were not run.
    #[arg(long)]
    no_refute: bool,
}

impl From<AttributionError> for CliError {
    /// Spec and input errors are bad input (exit 2); a numerical failure on valid input is
    /// exit 1; data and statistics errors keep their own mapping.
    fn from(e: AttributionError) -> Self {
        match e {
            AttributionError::Data(d) => d.into(),
            AttributionError::Stats(s) => s.into(),
            AttributionError::Engine(w) => (*w).into(),
            e if e.is_numerical() => CliError::numerical(e.to_string()),
            other => CliError::bad(other.to_string()),
        }
    }
}

/// Runs `causalkit attribute`.
pub fn run(args: AttributeArgs) -> Result<Rendered, CliError> {
    match args.command {
        Some(AttributeCommand::Errors(a)) => {
            if a.engine.is_some() {
                return Err(CliError::bad(
                    "`attribute errors` reads the confusion cells row by row from the spec's `[data] path`; --engine/--table apply to `attribute` only",
                ));
            }
            let (spec, plot) = (a.spec.as_deref(), a.plot.as_deref());
            crate::attribute_errors::run(spec, a.format, a.alpha, a.seed, plot)
        }
        None => release(args.run),
    }
}

fn release(a: RunArgs) -> Result<Rendered, CliError> {
    let spec = a
        .spec
        .as_ref()
        .ok_or_else(|| CliError::bad("give the release spec: --spec FILE"))?;
    causalkit_stats::limits::check_alpha_level("--alpha", a.alpha)?;
    let options = AttributeOptions {
        alpha: a.alpha,
        seed: a.seed,
        refute: !a.no_refute,
        ..AttributeOptions::default()
    };
    let attribution = match (&a.engine, &a.table) {
        (Some(engine), Some(table)) => attribute_spec(
            ReleaseSpec::load(spec)?.with_engine(engine, table)?,
            &options,
        )?,
        _ => attribute(spec, &options)?,
    };
    if let Some(dir) = &a.plot {
        causalkit_report::save_all(dir, &charts(&attribution, a.alpha)?)?;
    }
    let result = attribution.result();
    crate::report::capture(&result);
    if a.format != Format::Table {
        return Ok(crate::output::render(&result, a.format, None));
    }
    // Table: the executive summary first, then the effects and the scalar diagnostics, then
    // the value views (the full nested diagnostics are in the JSON).
    let mut short = result.clone();
    short
        .diagnostics
        .retain(|_, v| !v.is_object() && !v.is_array());
    let body = crate::output::render(&short, a.format, Some(&attribution.detail_tables()));
    Ok(Rendered {
        stdout: attribution.executive_summary() + "\n" + &body.stdout,
        stderr: body.stderr,
    })
}

/// The money waterfall (or, when the top node is not a sum of nodes, a forest plot of the
/// nodes' changes) and one forest panel per KPI.
fn charts(a: &Attribution, alpha: f64) -> Result<Vec<causalkit_report::Chart>, CliError> {
    let interval = Interval::pointwise(1.0 - alpha);
    let period = a
        .spec
        .value
        .as_ref()
        .map(|v| v.period.clone())
        .unwrap_or_default();
    let mut out = Vec::new();
    if let Some((parts, total)) = a.waterfall() {
        let step = |b: &causalkit_attribution::MoneyBar| {
            WaterfallStep::new(b.label.clone(), b.value, Some(b.ci))
        };
        let parts: Vec<WaterfallStep> = parts.iter().map(step).collect();
        out.push(
            WaterfallChart::new(format!("{}: money by value node", a.spec.release.name))
                .x_label(format!("change per {period}"))
                .subtitle("each part's own interval; parts add up to the total")
                .interval(interval)
                .chart("money_waterfall", &parts, &step(&total))?,
        );
    } else if let Some(changes) = &a.value {
        let effects: Vec<_> = changes.iter().map(|c| c.change.clone()).collect();
        out.push(
            ForestPlot::new(format!("{}: money by value node", a.spec.release.name))
                .x_label(format!("change per {period}"))
                .interval(interval)
                .chart("money_by_node", &effects)?,
        );
    }
    if let Some(c) = cumulative_chart(a, interval)? {
        out.push(c);
    }
    // The KPI effects, from the design fit (typed), one forest panel per KPI.
    let kpis = a.fit.effects.effects.clone();
    if !kpis.is_empty() {
        out.push(
            ForestPlot::new(format!("{}: KPI effects", a.spec.release.name))
                .x_label("absolute effect (KPI units)")
                .panel_by(PanelBy::Metric)
                .interval(interval)
                .chart("kpi_effects", &kpis)?,
        );
    }
    Ok(out)
}

/// Cumulative money of the top value node over time: the money accrued since the release
/// with its band (recurring effects), or else the node's change per value period at the
/// running effect. None without a cumulative series or a value tree.
fn cumulative_chart(
    a: &Attribution,
    interval: Interval,
) -> Result<Option<causalkit_report::Chart>, CliError> {
    let (Some(series), Some(top)) = (&a.cumulative_series, a.top_node.as_ref()) else {
        return Ok(None);
    };
    let period = a
        .spec
        .value
        .as_ref()
        .map(|v| v.period.clone())
        .unwrap_or_default();
    let (mut x, mut y, mut lo, mut hi) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut accrued = true;
    for p in &series.points {
        let Some(m) = p.money.iter().find(|m| &m.node == top) else {
            continue;
        };
        let e = match &m.accrued {
            Some(e) => e,
            None => {
                accrued = false;
                &m.rate
            }
        };
        if let (Some(l), Some(h)) = (e.ci_low, e.ci_high) {
            x.push(p.period as f64);
            y.push(e.estimate);
            lo.push(l);
            hi.push(h);
        }
    }
    if x.len() < 2 {
        return Ok(None);
    }
    let (title, y_label) = if accrued {
        (
            format!(
                "{}: cumulative money since the release",
                a.spec.release.name
            ),
            format!("value:{top} accrued"),
        )
    } else {
        (
            format!("{}: running money", a.spec.release.name),
            format!("value:{top} change per {period}"),
        )
    };
    let line = Series::new(format!("value:{top}"), x, y)
        .with_band(lo, hi)
        .band_label(interval.describe());
    Ok(Some(
        LineChart::new(title)
            .x_label(series.axis.clone())
            .y_label(y_label)
            .subtitle(series.method.clone())
            .hline(0.0)
            .interval(interval)
            .chart("cumulative_money", &[line])?,
    ))
}

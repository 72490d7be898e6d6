//! `causalkit did`: difference-in-differences from a unit × period file.
//!
//! Either `--cohort COL` (first treated period; 0 or empty = never treated) for staggered
//! designs, or `--treated COL --post COL` for the 2×2. Methods: `twfe` (default),
//! `event-study`, `cs` (Callaway & Sant'Anna), `sun-abraham`, `imputation` (Borusyak,
//! Jaravel & Spiess). Output in the common result shape; `--plot DIR` writes an event-study
//! chart, an ATT(g,t) heat map and cohort trends (SVG and PNG).

use crate::output::{render_with, table_nested, CliError, Format, Rendered};
use causalkit_data::design::{PanelColumns, PanelRoles, WeightRule};
use causalkit_data::{Dataset, MissingPolicy};
use causalkit_did::cs::{
    self, Aggregation, BootstrapOptions, ControlGroup, CsData, CsError, CsMethod, CsOptions,
};
use causalkit_did::event_study::{event_study, EventStudyOptions};
use causalkit_did::imputation::{imputation_pretrend, imputation_vcov};
use causalkit_did::panel::cohort_trends;
use causalkit_did::sunab::sun_abraham;
use causalkit_did::twfe::{did_2x2, twfe, TwoByTwo};
use causalkit_did::wild::WildOptions;
use causalkit_did::{DidError, StaggeredPanel};
use causalkit_report::{Chart, HeatMap, LineChart, Matrix, Series};
use causalkit_stats::resample::MultiplierWeights;
use causalkit_stats::{limits, EstimationResult, Factor, Report, Vcov};
use clap::{Args, ValueEnum};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Bad input exits 2; a numerical failure (non-convergence) exits 1 and says so.
impl From<DidError> for CliError {
    fn from(e: DidError) -> Self {
        CliError::estimator(e.is_numerical(), e.to_string())
    }
}

/// As for [`DidError`].
impl From<CsError> for CliError {
    fn from(e: CsError) -> Self {
        CliError::estimator(e.is_numerical(), e.to_string())
    }
}

/// Estimator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Method {
    /// Two-way fixed effects (or the 2×2 regression with --treated/--post).
    Twfe,
    /// TWFE event study with leads and lags.
    EventStudy,
    /// Callaway & Sant'Anna (2021) group-time ATTs and aggregations.
    Cs,
    /// Sun & Abraham (2021) interaction-weighted estimator.
    SunAbraham,
    /// Borusyak, Jaravel & Spiess (2024) imputation estimator.
    Imputation,
}

/// Comparison group (Callaway-Sant'Anna).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Control {
    /// Never-treated units.
    Never,
    /// Never- and not-yet-treated units.
    NotYet,
}

/// Wild bootstrap weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Wild {
    /// ±1.
    Rademacher,
    /// Webb's six-point distribution (better with few clusters).
    Webb,
}

/// Aggregation of group-time effects (Callaway-Sant'Anna).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Aggregate {
    /// Share-weighted average of post-treatment cells.
    Simple,
    /// By event time (event study).
    Dynamic,
    /// By cohort.
    Group,
    /// By calendar period.
    Calendar,
}

/// 2×2 estimator within each CS cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Est {
    /// Outcome regression.
    Or,
    /// Inverse probability weighting.
    Ipw,
    /// Doubly robust (default).
    Dr,
}

/// Arguments of `causalkit did`.
#[derive(Debug, Args)]
pub struct DidArgs {
    /// The data file (.csv or .parquet), one row per unit × period (or per observation
    /// for repeated cross-sections). Or --table with --engine.
    #[arg(long, required_unless_present = "table")]
    data: Option<PathBuf>,
    /// The panel aggregated by a SQL engine (--engine, --dialect, --table, --explain).
    #[command(flatten)]
    warehouse: crate::warehouse_panel::PanelEngineArgs,
    /// Unit identifier column.
    #[arg(long)]
    unit: Option<String>,
    /// Period column: whole numbers, or dates (see --period-width).
    #[arg(long)]
    time: Option<String>,
    /// Outcome column.
    #[arg(long)]
    outcome: String,
    /// First treated period of the unit; 0 or empty means never treated.
    #[arg(long, conflicts_with_all = ["treated", "post"])]
    cohort: Option<String>,
    /// 0/1 treated-group column (2×2 design; with --post).
    #[arg(long, requires = "post")]
    treated: Option<String>,
    /// 0/1 post-period column (2×2 design; with --treated).
    #[arg(long, requires = "treated")]
    post: Option<String>,
    /// Estimator.
    #[arg(long, value_enum, default_value_t = Method::Twfe)]
    method: Method,
    /// Comparison group of Callaway-Sant'Anna.
    #[arg(long, value_enum, default_value_t = Control::Never)]
    control: Control,
    /// Covariates, comma separated.
    #[arg(long, value_delimiter = ',')]
    covariates: Vec<String>,
    /// Cluster column(s): one, or two (comma separated) for two-way clustering (TWFE, event
    /// study, Sun-Abraham, imputation and its pre-trend test). Default: the unit.
    #[arg(long, value_delimiter = ',')]
    cluster: Vec<String>,
    /// Analytic (regression) or sampling (CS) weights column.
    #[arg(long)]
    weights: Option<String>,
    /// Periods of anticipation.
    #[arg(long, default_value_t = 0)]
    anticipation: i64,
    /// Bootstrap replicates: wild cluster bootstrap (TWFE, 2×2) or multiplier bootstrap with
    /// uniform bands (CS).
    #[arg(long)]
    bootstrap: Option<usize>,
    /// Bootstrap seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Wild bootstrap weights (TWFE, 2×2).
    #[arg(long, value_enum, default_value_t = Wild::Webb)]
    wild: Wild,
    /// Reference relative period of the event study (default -1 - anticipation).
    #[arg(long, allow_hyphen_values = true)]
    ref_period: Option<i64>,
    /// Leads kept in the event study; earlier periods are binned.
    #[arg(long)]
    leads: Option<i64>,
    /// Lags kept in the event study; later periods are binned.
    #[arg(long)]
    lags: Option<i64>,
    /// Imputation: Borusyak-Jaravel-Spiess Test 1 with this many leads (relative periods
    /// -1..-K on the untreated rows; joint cluster-robust Wald F). Reported as effects
    /// `pre e=-h` and the diagnostic `pretrend_test`.
    #[arg(long)]
    pretrend_leads: Option<usize>,
    /// Aggregation of Callaway-Sant'Anna group-time effects (default: simple).
    #[arg(long, value_enum)]
    aggregate: Option<Aggregate>,
    /// 2×2 estimator within Callaway-Sant'Anna cells.
    #[arg(long, value_enum, default_value_t = Est::Dr)]
    est: Est,
    /// Callaway-Sant'Anna on repeated cross-sections (no unit is followed over time).
    #[arg(long)]
    repeated_cross_section: bool,
    /// Callaway-Sant'Anna on an unbalanced panel: keep units not observed in every period
    /// (R did's allow_unbalanced_panel = TRUE: cross-section estimators per cell, influence
    /// functions clustered on the unit). Without it such units are dropped with a warning.
    #[arg(long, conflicts_with = "repeated_cross_section")]
    allow_unbalanced_panel: bool,
    /// Significance level.
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// Write charts (SVG and PNG) into this directory.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Drop rows with missing values in the columns used (reported) instead of failing.
    #[arg(long)]
    drop_missing: bool,
    /// The rows are events (e.g. contacts): average the outcome within unit × period cells
    /// (the data layer's `Panel::from_events`) before estimating. The cell's event count is
    /// the regression weight (so effects are per event), except for `cs`, which is
    /// unweighted. Needs --cohort; no covariates, weights or cluster columns.
    #[arg(long)]
    events: bool,
    /// Period width. For a date --time column (a Parquet Date or Timestamp, or ISO
    /// YYYY-MM-DD text): days per period, counted from the earliest date (default 1; 7 gives
    /// weeks), and --cohort holds the first treated date (0 or empty = never treated). For a
    /// whole-number --time column, with --events only: group periods into blocks of this many
    /// (e.g. 7 turns days into weeks), counted from the first period; block `k` holds periods
    /// `first + (k-1)·width .. first + k·width − 1`, and a cohort becomes the block holding
    /// its first treated period (a warning names cohorts that do not start a block).
    #[arg(long)]
    period_width: Option<i64>,
}

/// The declared column roles of the flags (the data layer reads and validates them).
fn roles(a: &DidArgs) -> PanelRoles {
    let mut r = PanelRoles::new(a.outcome.clone());
    r.unit = a.unit.clone();
    r.time = a.time.clone();
    r.cohort = a.cohort.clone();
    r.treated = a.treated.clone();
    r.post = a.post.clone();
    r.weight = a.weights.clone();
    // Callaway-Sant'Anna takes non-negative sampling weights (checked there); the
    // regressions need positive analytic weights.
    r.weight_rule = if a.method == Method::Cs {
        WeightRule::Numeric
    } else {
        WeightRule::Positive
    };
    r.cluster = a.cluster.clone();
    r.covariates = a.covariates.clone();
    r.events = a.events;
    r.period_width = a.period_width;
    r.policy = if a.drop_missing {
        MissingPolicy::Drop
    } else {
        MissingPolicy::Error
    };
    r
}

fn read(a: &DidArgs) -> Result<PanelColumns, CliError> {
    let events = a.events || a.warehouse.table.is_some();
    if events && (a.unit.is_none() || a.time.is_none() || a.cohort.is_none()) {
        return Err(CliError::bad("--events needs --unit, --time and --cohort"));
    }
    if events && (!a.covariates.is_empty() || a.weights.is_some() || !a.cluster.is_empty()) {
        return Err(CliError::bad(
            "--events does not take --covariates, --weights or --cluster",
        ));
    }
    let mut c = match crate::warehouse_panel::read(&a.warehouse, &roles(a), a.data.as_deref())? {
        Some(c) => c,
        None => roles(a).read(&Dataset::read(a.data.as_deref().unwrap_or(Path::new("")))?)?,
    };
    // Callaway-Sant'Anna on event cells is unweighted.
    if events && a.method == Method::Cs {
        c.weights = None;
    }
    Ok(c)
}

fn need<'a, T>(v: &'a Option<T>, flag: &str, why: &str) -> Result<&'a T, CliError> {
    v.as_ref()
        .ok_or_else(|| CliError::bad(format!("{flag} is required {why}")))
}

fn vcov_of(c: &PanelColumns) -> Result<Option<Vcov>, CliError> {
    Ok(match c.cluster.as_slice() {
        [] => None,
        [(n, v)] => Some(Vcov::Cluster(Factor::from_labels(n, v))),
        [(n1, v1), (n2, v2)] => Some(Vcov::TwoWayCluster(
            Factor::from_labels(n1, v1),
            Factor::from_labels(n2, v2),
        )),
        _ => return Err(CliError::bad("--cluster takes one or two columns")),
    })
}

/// Range checks of every numeric option, before any data is read; errors name the flag.
fn check_numeric_args(a: &DidArgs) -> Result<(), CliError> {
    limits::check_alpha_level("--alpha", a.alpha)?;
    if a.anticipation < 0 {
        return Err(CliError::bad("--anticipation must be 0 or more"));
    }
    if let Some(b) = a.bootstrap {
        // The largest per-replicate footprint is Callaway-Sant'Anna's: one draw per reported
        // effect; 8 KiB covers a thousand group-time cells.
        if b < 99 {
            return Err(CliError::bad(format!(
                "--bootstrap needs at least 99 replicates, got {b}"
            )));
        }
        limits::check_replications("--bootstrap", b, 99, 8 << 10)?;
    }
    for (flag, v) in [("--leads", a.leads), ("--lags", a.lags)] {
        if let Some(v) = v {
            if v < 0 {
                return Err(CliError::bad(format!("{flag} must be 0 or more, got {v}")));
            }
        }
    }
    if a.pretrend_leads == Some(0) {
        return Err(CliError::bad("--pretrend-leads must be at least 1"));
    }
    if let Some(w) = a.period_width {
        if w < 1 {
            return Err(CliError::bad(format!(
                "--period-width must be at least 1, got {w}"
            )));
        }
    }
    Ok(())
}

/// Run `causalkit did`.
pub fn run(a: DidArgs) -> Result<Rendered, CliError> {
    if a.cohort.is_none() && a.treated.is_none() {
        return Err(CliError::bad(
            "give either --cohort COL (staggered adoption) or --treated COL --post COL (2x2)",
        ));
    }
    check_numeric_args(&a)?;
    if let Some(sql) = crate::warehouse_panel::explain(&a.warehouse, &roles(&a), a.data.as_deref())?
    {
        return Ok(sql.into());
    }
    let c = read(&a)?;
    let wild = a.bootstrap.map(|reps| WildOptions {
        reps,
        seed: a.seed,
        weights: match a.wild {
            Wild::Rademacher => MultiplierWeights::Rademacher,
            Wild::Webb => MultiplierWeights::Webb,
        },
        alpha: a.alpha,
    });
    let only = |what: &str, ok: &[Method]| -> Result<(), CliError> {
        if ok.contains(&a.method) {
            Ok(())
        } else {
            Err(CliError::bad(format!(
                "{what} does not apply to --method {:?}",
                a.method
            )))
        }
    };
    if a.leads.is_some() || a.lags.is_some() || a.ref_period.is_some() {
        only("--leads/--lags/--ref-period", &[Method::EventStudy])?;
    }
    if a.aggregate.is_some()
        || a.repeated_cross_section
        || a.allow_unbalanced_panel
        || a.control == Control::NotYet
    {
        only(
            "--aggregate/--control/--repeated-cross-section/--allow-unbalanced-panel",
            &[Method::Cs],
        )?;
    }
    if a.bootstrap.is_some() {
        only("--bootstrap", &[Method::Twfe, Method::Cs])?;
    }
    if a.pretrend_leads.is_some() {
        only("--pretrend-leads", &[Method::Imputation])?;
    }
    // 2×2 regression.
    if a.treated.is_some() && a.method == Method::Twfe {
        let vcov = match vcov_of(&c)? {
            Some(v) => Some(v),
            None => c.unit.as_ref().map(|u| {
                Vcov::Cluster(Factor::from_labels(a.unit.as_deref().unwrap_or("unit"), u))
            }),
        };
        let data = TwoByTwo {
            outcome: c.outcome.clone(),
            treat: c.treated.clone().expect("checked"),
            post: c.post.clone().expect("checked"),
            covariates: c.covariates.clone(),
            weights: c.weights.clone(),
            units: match (&a.unit, &c.unit) {
                (Some(n), Some(u)) if !a.repeated_cross_section => Some(Factor::from_labels(n, u)),
                _ => None,
            },
            outcome_name: Some(a.outcome.clone()),
        };
        let fit = did_2x2(&data, vcov, a.alpha, wild)?;
        return finish(&a, &c, fit.result(), None);
    }
    let unit = need(&c.unit, "--unit", "for this design")?;
    let time = need(&c.time, "--time", "for this design")?;
    let cohort: Vec<Option<i64>> = match &c.cohort {
        Some(g) => g.clone(),
        // Derived from --treated/--post: units with treated = 1 on any row are first treated
        // in the first period with post = 1.
        None => c.cohort_from_treated_post()?,
    };
    // Panel checks with the user's names, values and rows (the estimators see codes).
    c.check_panel(
        &roles(&a),
        a.repeated_cross_section,
        !a.repeated_cross_section && a.method == Method::Cs,
    )?;
    if a.method == Method::Cs {
        return run_cs(&a, &c, unit, time, &cohort);
    }
    let mut panel = StaggeredPanel::new(
        Factor::from_labels(a.unit.as_deref().expect("checked"), unit),
        time.clone(),
        c.outcome.clone(),
        cohort.clone(),
    )?
    .with_anticipation(a.anticipation)?
    .with_outcome_name(&a.outcome);
    if let Some(w) = &c.weights {
        panel = panel.with_weights(w.clone())?;
    }
    for (n, v) in &c.covariates {
        panel = panel.with_covariate(n, v.clone())?;
    }
    let vcov = vcov_of(&c)?;
    let mut plots = Plots::default();
    let result = match a.method {
        Method::Twfe => twfe(&panel, vcov, a.alpha, wild)?.result(),
        Method::EventStudy => {
            let opts = EventStudyOptions {
                leads: a.leads,
                lags: a.lags,
                ref_period: a.ref_period,
            };
            let fit = event_study(&panel, &opts, vcov, a.alpha)?;
            plots.event = fit
                .coefs
                .iter()
                .filter_map(|c| Some((c.event_time, c.row.estimate, c.row.ci_low?, c.row.ci_high?)))
                .collect();
            plots.reference = fit.reference.clone();
            fit.result()
        }
        Method::SunAbraham => {
            let fit = sun_abraham(&panel, vcov, a.alpha)?;
            plots.event = fit
                .by_event_time
                .iter()
                .map(|e| (e.event_time.unwrap_or(0), e.estimate, e.ci_low, e.ci_high))
                .collect();
            plots.reference = vec![-1 - a.anticipation];
            plots.cells = fit
                .cells
                .iter()
                .filter_map(|cell| {
                    Some((cell.group?, cell.group? + cell.event_time?, cell.estimate))
                })
                .collect();
            fit.result()
        }
        Method::Imputation => {
            let mut fit = imputation_vcov(&panel, vcov.as_ref(), a.alpha)?;
            if let Some(k) = a.pretrend_leads {
                fit = fit.with_pretrend(imputation_pretrend(&panel, k, vcov.as_ref(), a.alpha)?);
            }
            plots.event = fit
                .by_event_time
                .iter()
                .filter_map(|e| Some((e.event_time?, e.estimate, e.ci_low?, e.ci_high?)))
                .collect();
            fit.result()
        }
        Method::Cs => unreachable!("handled above"),
    };
    plots.trends = Some(trends(time, &cohort, &c.outcome));
    finish(&a, &c, result, Some(plots))
}

fn run_cs(
    a: &DidArgs,
    c: &PanelColumns,
    unit: &[String],
    time: &[i64],
    cohort: &[Option<i64>],
) -> Result<Rendered, CliError> {
    let f = Factor::from_labels("unit", unit);
    let unit_idx: Vec<usize> = f.codes().iter().map(|&u| u as usize).collect();
    let cohort0: Vec<i64> = cohort.iter().map(|g| g.unwrap_or(0)).collect();
    let cluster_idx: Option<Vec<usize>> = match c.cluster.as_slice() {
        [] => None,
        [(n, v)] => Some(
            Factor::from_labels(n, v)
                .codes()
                .iter()
                .map(|&x| x as usize)
                .collect(),
        ),
        _ => return Err(CliError::bad("Callaway-Sant'Anna takes one cluster column")),
    };
    let data = CsData {
        unit: &unit_idx,
        period: time,
        cohort: &cohort0,
        outcome: &c.outcome,
        covariates: c
            .covariates
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect(),
        weights: c.weights.as_deref(),
        cluster: cluster_idx.as_deref(),
    };
    let options = CsOptions {
        control_group: match a.control {
            Control::Never => ControlGroup::NeverTreated,
            Control::NotYet => ControlGroup::NotYetTreated,
        },
        anticipation: a.anticipation,
        method: match a.est {
            Est::Or => CsMethod::Regression,
            Est::Ipw => CsMethod::Ipw,
            Est::Dr => CsMethod::DoublyRobust,
        },
        panel: !a.repeated_cross_section,
        allow_unbalanced_panel: a.allow_unbalanced_panel,
        alpha: a.alpha,
        bootstrap: a.bootstrap.map(|reps| BootstrapOptions {
            reps,
            seed: a.seed,
            ..BootstrapOptions::default()
        }),
        ..CsOptions::default()
    };
    let fit = cs::att_gt(&data, &options)?;
    let kind = match a.aggregate.unwrap_or(Aggregate::Simple) {
        Aggregate::Simple => Aggregation::Simple,
        Aggregate::Dynamic => Aggregation::Dynamic {
            min_e: None,
            max_e: None,
            balance_e: None,
        },
        Aggregate::Group => Aggregation::Group,
        Aggregate::Calendar => Aggregation::Calendar,
    };
    let agg = fit.aggregate(&kind)?;
    let mut result = fit.result();
    let agg_result = agg.report(&fit).result();
    let name = match kind {
        Aggregation::Simple => "simple",
        Aggregation::Dynamic { .. } => "dynamic",
        Aggregation::Group => "group",
        Aggregation::Calendar => "calendar",
    };
    result.method = format!("{} + {name} aggregation", result.method);
    result.estimand = format!("ATT(g,t) and their {name} aggregation");
    for mut e in agg_result.effects {
        if e.key.kind == Some(causalkit_stats::EffectKind::Att) {
            e.label = format!("ATT ({name})");
        }
        result.effects.push(e);
    }
    let mut plots = Plots::default();
    // Event-study chart from the dynamic aggregation (computed for the chart if needed).
    if a.plot.is_some() {
        let dynamic = match kind {
            Aggregation::Dynamic { .. } => agg.clone(),
            _ => fit.aggregate(&Aggregation::Dynamic {
                min_e: None,
                max_e: None,
                balance_e: None,
            })?,
        };
        plots.event = dynamic
            .effects
            .iter()
            .filter_map(|e| Some((e.key?, e.estimate, e.ci?.0, e.ci?.1)))
            .collect();
        plots.cells = fit.rows.iter().map(|r| (r.group, r.time, r.att)).collect();
        plots.trends = Some(trends(time, cohort, &c.outcome));
    }
    finish(a, c, result, Some(plots))
}

/// A confidence level in percent without trailing zeros (0.95 -> "95", 0.9 -> "90").
fn num_level(level: f64) -> String {
    let s = format!("{:.4}", level * 100.0);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A named line: (series name, periods, mean outcome).
type Trend = (String, Vec<f64>, Vec<f64>);

#[derive(Debug, Default)]
struct Plots {
    /// (event time, estimate, ci low, ci high)
    event: Vec<(i64, f64, f64, f64)>,
    reference: Vec<i64>,
    /// (cohort, period, ATT)
    cells: Vec<(i64, i64, f64)>,
    /// (series name, periods, mean outcome)
    trends: Option<Vec<Trend>>,
}

/// The cohort-trend lines (from the library's [`cohort_trends`]) named for the legend.
fn trends(time: &[i64], cohort: &[Option<i64>], y: &[f64]) -> Vec<Trend> {
    cohort_trends(time, cohort, y)
        .into_iter()
        .map(|c| {
            let name = c
                .cohort
                .map_or("never treated".to_string(), |g| format!("cohort {g}"));
            (name, c.periods.iter().map(|&t| t as f64).collect(), c.mean)
        })
        .collect()
}

/// The event-study chart, the ATT(g,t) heat map and the cohort trends, rendered in memory
/// (whichever the method produced); `causalkit_report::save_all` writes them.
fn charts(outcome: &str, alpha: f64, plots: &Plots) -> Result<Vec<Chart>, CliError> {
    let level = format!("{}%", num_level(1.0 - alpha));
    let mut charts = Vec::new();
    if !plots.event.is_empty() {
        let mut pts = plots.event.clone();
        for &r in &plots.reference {
            pts.push((r, 0.0, 0.0, 0.0));
        }
        pts.sort_by_key(|p| p.0);
        let split = |pre: bool| -> Series {
            let sel: Vec<_> = pts.iter().filter(|p| (p.0 < 0) == pre).collect();
            Series::new(
                if pre {
                    "pre-treatment"
                } else {
                    "post-treatment"
                },
                sel.iter().map(|p| p.0 as f64).collect(),
                sel.iter().map(|p| p.1).collect(),
            )
            .with_band(
                sel.iter().map(|p| p.2).collect(),
                sel.iter().map(|p| p.3).collect(),
            )
        };
        let series: Vec<Series> = [split(true), split(false)]
            .into_iter()
            .filter(|s| !s.x.is_empty())
            .collect();
        let chart = LineChart::new(format!(
            "{outcome}: effect by period relative to adoption ({level} pointwise intervals)"
        ))
        .x_label("periods since adoption (e)")
        .y_label(format!("effect ({level} pointwise CI band)"))
        .vline(-0.5)
        .hline(0.0)
        .markers(true);
        charts.push(chart.chart("event_study", &series)?);
    }
    if !plots.cells.is_empty() {
        let groups: BTreeSet<i64> = plots.cells.iter().map(|c| c.0).collect();
        let periods: BTreeSet<i64> = plots.cells.iter().map(|c| c.1).collect();
        let cells: Vec<Vec<Option<f64>>> = groups
            .iter()
            .map(|&g| {
                periods
                    .iter()
                    .map(|&t| {
                        plots
                            .cells
                            .iter()
                            .find(|c| c.0 == g && c.1 == t)
                            .map(|c| c.2)
                    })
                    .collect()
            })
            .collect();
        let m = Matrix::new(
            groups.iter().map(|g| format!("g={g}")).collect(),
            periods.iter().map(|t| t.to_string()).collect(),
            cells,
        );
        let hm = HeatMap::new(format!(
            "{outcome}: ATT(g,t) point estimates (no intervals)"
        ))
        .x_label("period t")
        .y_label("cohort g");
        charts.push(hm.chart("att_gt_heatmap", &m)?);
    }
    if let Some(tr) = &plots.trends {
        let series: Vec<Series> = tr
            .iter()
            .map(|(n, x, y)| Series::new(n.clone(), x.clone(), y.clone()))
            .collect();
        // One coloured, labelled line per cohort (the legend names each cohort).
        let chart = LineChart::new(format!(
            "{outcome}: mean by cohort over time (raw means, no intervals)"
        ))
        .x_label("period")
        .y_label(format!("mean {outcome}"))
        .markers(true);
        charts.push(chart.chart("cohort_trends", &series)?);
    }
    Ok(charts)
}

fn finish(
    a: &DidArgs,
    c: &PanelColumns,
    mut result: EstimationResult,
    plots: Option<Plots>,
) -> Result<Rendered, CliError> {
    result
        .diagnostics
        .insert("data".into(), a.warehouse.source(a.data.as_deref()).into());
    result
        .diagnostics
        .insert("dropped_rows".into(), c.dropped.into());
    if let Some(note) = a.time.as_deref().and_then(|t| c.period_note(t)) {
        result.diagnostics.insert("periods".into(), note.into());
    }
    result.warnings.extend(c.notes.iter().cloned());
    if a.events || a.warehouse.table.is_some() {
        result.diagnostics.insert(
            "panel".into(),
            format!(
                "{} events averaged into {} unit x period cells{}",
                a.outcome,
                c.outcome.len(),
                if c.weights.is_some() {
                    ", weighted by events per cell"
                } else {
                    ", unweighted"
                }
            )
            .into(),
        );
    }
    if c.dropped > 0 {
        result.warnings.push(format!(
            "{} row(s) with missing values were dropped",
            c.dropped
        ));
    }
    if let (Some(dir), Some(p)) = (&a.plot, plots) {
        let charts = charts(&a.outcome, a.alpha, &p)?;
        causalkit_report::save_all(dir, &charts)?;
        result.diagnostics.insert(
            "plots".into(),
            charts
                .iter()
                .map(|c| dir.join(&c.name).display().to_string())
                .collect::<Vec<_>>()
                .into(),
        );
    }
    crate::report::capture(&result);
    Ok(render_with(&result, a.format, |r| table_nested(r, &[])))
}

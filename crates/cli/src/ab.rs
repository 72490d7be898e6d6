//! `causalkit ab`: A/B test analysis from unit rows (`--data`) or pre-aggregated sufficient
//! statistics (`--stats`, GrowthBook column names), and `causalkit ab plan`.

use crate::output::{plain_table, render_keeping, scalar_diagnostic, CliError, Format, Rendered};
use causalkit_ab::cumulative::CumulativePoint;
use causalkit_ab::quantile::quantile_cells;
use causalkit_ab::review::{
    self, AbData, AbReview, AbSpec, AdjustScope, BayesSpec, Guardrail, MetricCells, MetricData,
    MultiArmMethod, SequentialMethod,
};
use causalkit_ab::{bayes, planning, AbError, AbOption, ArmStats, MetricType, TestKind};
use causalkit_data::ab_stats::{
    ab_statistics, quantile_rows, two_arm_rows, AbSource, AbStatsRequest,
};
use causalkit_data::winsor::{winsorize_kpis, WinsorRequest, Winsorized};
use causalkit_data::{self as data, Dataset, Kpi, KpiKind, MissingPolicy};
use causalkit_stats::{Effect, EffectKind, EstimationResult, Report};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Arguments of `causalkit ab`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AbArgs {
    #[command(subcommand)]
    command: Option<AbCommand>,
    #[command(flatten)]
    analyse: Box<AnalyseArgs>,
}

#[derive(Debug, Subcommand)]
enum AbCommand {
    /// Power, minimum detectable effect, sample size and run length of a two-arm test.
    Plan(PlanArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TestArg {
    Welch,
    Z,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SequentialArg {
    /// Asymptotic confidence sequence (Waudby-Smith et al.; gbstats' tuning by --n-plan).
    Cs,
    /// Eppo's documented sequential confidence sequence (Howard et al. 2021 normal mixture,
    /// Eppo's tuning; N_tune = --n-plan, default 10,000).
    Eppo,
    /// Mixture SPRT (Johari et al. 2017) with mixing standard deviation --tau.
    Msprt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum MultiArmArg {
    Dunnett,
    MaxT,
}

#[derive(Debug, Args)]
struct AnalyseArgs {
    /// Unit-level (or event-level) data file (.csv or .parquet).
    #[arg(long, conflicts_with = "stats")]
    data: Option<PathBuf>,
    /// Pre-aggregated sufficient statistics, one row per arm [x segment] [x metric, in a
    /// `metric` column], with GrowthBook's
    /// columns count, main_sum, main_sum_squares [, denominator_sum, denominator_sum_squares,
    /// main_denominator_sum_product] [, covariate_sum, covariate_sum_squares,
    /// main_covariate_sum_product].
    #[arg(long)]
    stats: Option<PathBuf>,
    /// The arm (variant) column.
    #[arg(long, default_value = "arm")]
    arm: String,
    /// The control arm's label (default: `control`, `A` or the first label in sorted order).
    #[arg(long)]
    control: Option<String>,
    /// Metric, repeatable. With --data: `name=mean(col)`, `proportion(col)`,
    /// `ratio(num, den|count)`, `nps(col)`, `topbox(col, threshold)`,
    /// `composite(0.5*a + 2*b)`, `quantile(col, 0.9)`. With --stats: `name` or
    /// `name=mean|proportion|ratio` (one metric per file, or several when the file has a
    /// `metric` column naming each row's metric).
    #[arg(long = "metric")]
    metrics: Vec<String>,
    /// Randomisation unit coarser than the rows (e.g. agent): rows are summed per unit first
    /// and metrics become ratios of sums with cluster-robust (delta-method) variances.
    #[arg(long)]
    unit: Option<String>,
    /// Pre-period covariates for CUPED / regression adjustment, comma separated. For ratio
    /// metrics a single `NUM/DEN` (e.g. `pre_revenue/pre_orders`, DEN may be `count`) is the
    /// pre-period ratio of GrowthBook's ratio regression adjustment.
    #[arg(long = "covariate", value_delimiter = ',')]
    covariates: Vec<String>,
    /// Report effects per value of this column too (e.g. customer_tier).
    #[arg(long)]
    segment: Option<String>,
    /// Post-stratify the overall effects on this column (needs --data or a --stats file with
    /// this column).
    #[arg(long)]
    stratify: Option<String>,
    /// Significance level.
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// Test statistic.
    #[arg(long, value_enum, default_value_t = TestArg::Welch)]
    test: TestArg,
    /// Metrics where lower is better (e.g. handle time), comma separated.
    #[arg(long, value_delimiter = ',')]
    lower_is_better: Vec<String>,
    /// The primary metric of the ship decision.
    #[arg(long)]
    primary: Option<String>,
    /// Guardrail `metric:margin`, repeatable: non-inferiority of the relative lift with this
    /// margin (0.02 = at most 2% worse).
    #[arg(long = "guardrail")]
    guardrails: Vec<String>,
    /// Multiple-testing adjustment: bonferroni, holm, hochberg, bh, by.
    #[arg(long)]
    adjust: Option<String>,
    /// Dimensions the adjustment family spans, comma separated: metrics, arms, segments
    /// (overall effects and per-segment effects are always separate families).
    #[arg(long, value_delimiter = ',', default_value = "metrics,arms,segments")]
    adjust_scope: Vec<String>,
    /// Planned traffic shares per arm (sorted arm order), for the SRM check; default equal.
    #[arg(long, value_delimiter = ',')]
    split: Vec<f64>,
    /// SRM significance level.
    #[arg(long, default_value_t = 0.001)]
    srm_alpha: f64,
    /// Add Bayesian posteriors: the exact beta-binomial model for proportion metrics (prior
    /// --beta-prior, default uniform Beta(1, 1)), gbstats' Gaussian model on the relative lift
    /// for the others; the output names the model used.
    #[arg(long)]
    bayesian: bool,
    /// Beta(A, B) prior of each arm's rate for proportion metrics with --bayesian (default
    /// 1,1: uniform).
    #[arg(long, value_delimiter = ',', num_args = 1)]
    beta_prior: Option<Vec<f64>>,
    /// Normal prior on the relative lift: mean (with --prior-sd).
    #[arg(long, requires = "prior_sd")]
    prior_mean: Option<f64>,
    /// Normal prior on the relative lift: standard deviation.
    #[arg(long, requires = "prior_mean")]
    prior_sd: Option<f64>,
    /// Always-valid inference at this look.
    #[arg(long, value_enum)]
    sequential: Option<SequentialArg>,
    /// Confidence-sequence tuning: the planned total number of units where the sequence is
    /// tightest (default 5000 as gbstats for `cs`, 10000 as Eppo's N_tune for `eppo`); without
    /// `--sequential cs|eppo` it tunes the gbstats sequence of the --time chart.
    #[arg(long)]
    n_plan: Option<f64>,
    /// mSPRT mixing standard deviation on the relative-lift scale.
    #[arg(long, default_value_t = 0.05)]
    tau: f64,
    /// Many-to-one adjustment when there are several treatment arms.
    #[arg(long, value_enum)]
    multiarm: Option<MultiArmArg>,
    /// Drop rows with missing values in the columns a metric uses (e.g. unsurveyed CSAT).
    #[arg(long)]
    drop_missing: bool,
    /// Aggregate the --data file in one streaming pass instead of loading it into memory, for
    /// files larger than memory (Parquet row groups are decoded in parallel). Gives the same
    /// numbers and errors as the in-memory path. Not with quantile metrics, --winsorize,
    /// --time, --covariate NUM/count, or --unit together with --segment or --stratify.
    #[arg(long, requires = "data")]
    scan: bool,
    /// Winsorise (cap) row values at pooled percentiles before the analysis: `LOW,HIGH`
    /// levels in [0, 1], one side may be empty (`,0.99` caps only the upper tail). Applies to
    /// every mean metric and the numerator of every ratio metric (the denominator is left
    /// alone); `metric=LOW,HIGH` applies to one metric and overrides the global form.
    /// Repeatable. Needs --data; not for proportion, NPS, top-box, composite or quantile
    /// metrics. Covariates are not capped.
    #[arg(long = "winsorize")]
    winsorize: Vec<String>,
    /// Time column (numeric, e.g. day, or dates, see --period-width): with --plot, also chart the cumulative absolute effect
    /// of each metric over time with its fixed-horizon interval and confidence sequence
    /// (rows randomised individually; not with --unit or --stats).
    #[arg(long, requires = "plot")]
    time: Option<String>,
    /// Days per period of a date --time column (a Parquet Date or Timestamp, or ISO
    /// YYYY-MM-DD text), counted from the earliest date (default 1). Numeric --time columns
    /// are used as they are.
    #[arg(long, requires = "time")]
    period_width: Option<i64>,
    /// Write a forest plot of the lifts (SVG and PNG) into this directory.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Run the aggregation on this engine (with --table): postgres://USER@HOST:PORT/DB or
    /// sc://HOST:PORT (Spark Connect); credentials come from the environment or a password
    /// file, never the address. With --explain, print its SQL and connect to nothing.
    #[arg(long, conflicts_with_all = ["data", "stats"])]
    engine: Option<String>,
    /// Print the warehouse SQL of the aggregation in this dialect (spark, postgres,
    /// bigquery, snowflake, trino, duckdb, clickhouse) with --table and --explain.
    #[arg(long)]
    dialect: Option<String>,
    /// The warehouse table holding the rows (NAME, SCHEMA.NAME or CATALOG.SCHEMA.NAME).
    #[arg(long)]
    table: Option<String>,
    /// Print the SQL and run nothing.
    #[arg(long)]
    explain: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Debug, Args)]
struct PlanArgs {
    /// Baseline mean of the metric (with --sd).
    #[arg(long, requires = "sd", conflicts_with = "proportion")]
    mean: Option<f64>,
    /// Per-unit standard deviation of the metric.
    #[arg(long)]
    sd: Option<f64>,
    /// Baseline proportion (instead of --mean/--sd).
    #[arg(long)]
    proportion: Option<f64>,
    /// Expected correlation with a CUPED covariate (variance shrinks by 1 - rho^2).
    #[arg(long)]
    cuped_rho: Option<f64>,
    /// Effect to detect (absolute; relative with --relative).
    #[arg(long)]
    effect: Option<f64>,
    /// The effect is relative to the baseline mean (0.05 = +5%).
    #[arg(long)]
    relative: bool,
    /// Total units (both arms): gives the power, or with --power and no --effect the MDE.
    #[arg(long)]
    n_total: Option<f64>,
    /// Target power: with --effect gives the sample size.
    #[arg(long)]
    power: Option<f64>,
    /// Eligible units per day (both arms), for the run length.
    #[arg(long)]
    daily_units: Option<f64>,
    /// Share of units in treatment.
    #[arg(long, default_value_t = 0.5)]
    treatment_share: f64,
    /// Significance level (two-sided).
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// Exact two-sample t power (noncentral t, equal variances) instead of the normal
    /// approximation; needs --mean/--sd, --effect and --n-total.
    #[arg(long)]
    t_test: bool,
    /// Group-sequential design: the looks' information fractions, strictly increasing in
    /// (0, 1] with the last 1 (e.g. 0.2,0.4,0.6,0.8,1); reports the z boundary and nominal
    /// alpha per look and the maximum sample size inflation over the fixed design.
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    looks: Vec<f64>,
    /// Alpha-spending function for --looks (Lan-DeMets): obf, pocock or power:RHO (RHO > 0).
    #[arg(long)]
    spending: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// Run `causalkit ab`.
pub fn run(args: AbArgs) -> Result<Rendered, CliError> {
    match args.command {
        Some(AbCommand::Plan(p)) => plan(p),
        None => analyse(*args.analyse),
    }
}

/// Range-checks one numeric flag of `ab plan`, naming the flag in the error.
fn check_flag(flag: &str, x: f64, ok: bool, range: &str) -> Result<(), CliError> {
    if x.is_finite() && ok {
        Ok(())
    } else {
        Err(CliError::bad(format!("--{flag} must be {range}, got {x}")))
    }
}

fn check_plan_flags(p: &PlanArgs) -> Result<(), CliError> {
    let unit = |x: f64| x > 0.0 && x < 1.0;
    check_flag("alpha", p.alpha, unit(p.alpha), "in (0, 1)")?;
    check_flag(
        "treatment-share",
        p.treatment_share,
        unit(p.treatment_share),
        "in (0, 1)",
    )?;
    if let Some(x) = p.power {
        check_flag("power", x, unit(x), "in (0, 1)")?;
    }
    if let Some(x) = p.proportion {
        check_flag("proportion", x, unit(x), "a baseline rate in (0, 1)")?;
    }
    if let Some(x) = p.sd {
        check_flag("sd", x, x > 0.0, "finite and positive")?;
    }
    if let Some(x) = p.mean {
        check_flag("mean", x, true, "finite")?;
    }
    if let Some(x) = p.effect {
        check_flag("effect", x, x != 0.0, "finite and non-zero")?;
    }
    if let Some(x) = p.n_total {
        check_flag("n-total", x, x > 0.0, "finite and positive")?;
    }
    if let Some(x) = p.daily_units {
        check_flag("daily-units", x, x > 0.0, "finite and positive")?;
    }
    if let Some(x) = p.cuped_rho {
        check_flag("cuped-rho", x, (0.0..1.0).contains(&x), "in [0, 1)")?;
    }
    Ok(())
}

/// Parses and validates `--looks` / `--spending`.
fn sequential_plan(
    p: &PlanArgs,
) -> Result<Option<causalkit_ab::sequential::GroupSequentialDesign>, CliError> {
    use causalkit_ab::sequential::{group_sequential_boundaries, SpendingFunction};
    let spending = match (p.looks.is_empty(), &p.spending) {
        (true, None) => return Ok(None),
        (true, Some(_)) => return Err(CliError::bad("--spending needs --looks")),
        (false, None) => {
            return Err(CliError::bad(
                "--looks needs --spending obf, pocock or power:RHO",
            ))
        }
        (false, Some(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "obf" => SpendingFunction::OBrienFleming,
            "pocock" => SpendingFunction::Pocock,
            other => {
                let rho = other
                    .strip_prefix("power:")
                    .and_then(|r| r.trim().parse::<f64>().ok())
                    .ok_or_else(|| {
                        CliError::bad(format!(
                            "--spending `{s}`: expected obf, pocock or power:RHO"
                        ))
                    })?;
                if !(rho.is_finite() && rho > 0.0) {
                    return Err(CliError::bad(format!(
                        "--spending power:RHO needs RHO > 0, got {rho}"
                    )));
                }
                SpendingFunction::Power(rho)
            }
        },
    };
    let mut prev = 0.0;
    for (i, &t) in p.looks.iter().enumerate() {
        if !(t.is_finite() && t > prev && t <= 1.0) {
            return Err(CliError::bad(format!(
                "--looks must be strictly increasing in (0, 1]: look {} is {t}",
                i + 1
            )));
        }
        prev = t;
    }
    if (prev - 1.0).abs() > 1e-12 {
        return Err(CliError::bad(format!(
            "--looks: the last look must be 1 (the full sample), got {prev}"
        )));
    }
    Ok(Some(group_sequential_boundaries(
        &p.looks, p.alpha, spending, true,
    )?))
}

fn plan(p: PlanArgs) -> Result<Rendered, CliError> {
    check_plan_flags(&p)?;
    let sequential = sequential_plan(&p)?;
    if sequential.is_some() && p.t_test {
        return Err(CliError::bad("--looks is not available with --t-test"));
    }
    let mut metric = match (p.mean, p.sd, p.proportion) {
        (Some(m), Some(sd), None) => planning::MetricPlan::mean(m, sd)?,
        (None, None, Some(q)) => planning::MetricPlan::proportion(q)?,
        _ => {
            return Err(CliError::bad(
                "give the metric as --mean M --sd S or as --proportion P",
            ))
        }
    };
    if let Some(rho) = p.cuped_rho {
        metric = metric.cuped(rho)?;
    }
    let design = planning::Design {
        alpha: p.alpha,
        alternative: planning::Alternative::TwoSided,
        treatment_share: p.treatment_share,
        daily_units: p.daily_units,
    };
    let effect = p.effect.map(|e| {
        if p.relative {
            planning::EffectSize::Relative(e)
        } else {
            planning::EffectSize::Absolute(e)
        }
    });
    let mut result = EstimationResult::new("two-arm power analysis", "");
    if p.t_test {
        let (Some(e), Some(n), Some(sd)) = (p.effect, p.n_total, p.sd) else {
            return Err(CliError::bad(
                "--t-test needs --mean/--sd, --effect and --n-total",
            ));
        };
        let d = if p.relative {
            e * p.mean.unwrap_or(0.0) / sd
        } else {
            e / sd
        };
        // Whole units per arm (rounded up).
        let n1 = (n * (1.0 - p.treatment_share)).ceil();
        let n2 = (n * p.treatment_share).ceil();
        let pw = planning::t_test_power(d, n1, n2, p.alpha, planning::Alternative::TwoSided)?;
        result.estimand = "power of the two-sample t test (noncentral t)".into();
        result.effects.push(Effect::point("power", pw));
        result = result
            .with_diagnostic("cohens_d", d)
            .with_diagnostic("n_control", causalkit_stats::count_value(n1))
            .with_diagnostic("n_treatment", causalkit_stats::count_value(n2));
        return Ok(render_keeping(&result, p.format, None, scalar_diagnostic));
    }
    let analysis = match (effect, p.n_total, p.power) {
        (Some(e), Some(n), None) => {
            result.estimand = "power".into();
            planning::power(&metric, e, n, &design)?
        }
        (Some(e), None, Some(pw)) => {
            result.estimand = "sample size".into();
            result = result.with_diagnostic(
                "rounding",
                "per-arm sample sizes are rounded up to whole units",
            );
            planning::sample_size(&metric, e, pw, &design)?
        }
        (None, Some(n), Some(pw)) => {
            result.estimand = "minimum detectable effect".into();
            planning::mde(&metric, n, pw, &design)?
        }
        _ => {
            return Err(CliError::bad(
                "give two of --effect, --n-total and --power (power: effect + n; sample size: effect + power; MDE: n + power)",
            ))
        }
    };
    let mut e = vec![
        Effect::point("power", analysis.power),
        Effect::point("absolute effect", analysis.absolute_effect),
        Effect::point("n total", analysis.n_total),
        Effect::point("n control", analysis.n_control),
        Effect::point("n treatment", analysis.n_treatment),
    ];
    if let Some(r) = analysis.relative_effect {
        e.insert(2, Effect::point("relative effect", r));
    }
    if let Some(d) = analysis.days {
        e.push(Effect::point("days", d));
    }
    result.effects = e;
    result = result
        .with_diagnostic("alpha", p.alpha)
        .with_diagnostic("std_error_of_difference", analysis.std_error)
        .with_diagnostic("n_total", causalkit_stats::count_value(analysis.n_total))
        .with_diagnostic(
            "n_control",
            causalkit_stats::count_value(analysis.n_control),
        )
        .with_diagnostic(
            "n_treatment",
            causalkit_stats::count_value(analysis.n_treatment),
        );
    let mut extra = String::new();
    if let Some(gs) = sequential {
        let target = p.power.unwrap_or(analysis.power);
        let inflation = causalkit_ab::sequential::max_sample_size_inflation(&gs, target)?;
        let b = gs.boundaries();
        let nominal: Vec<f64> = gs.looks.iter().map(|l| l.nominal_p).collect();
        extra.push_str("\nGroup-sequential boundaries (two-sided):\n");
        extra.push_str(&format!(
            "{:>6} {:>10} {:>12} {:>14}\n",
            "look", "info", "z boundary", "nominal alpha"
        ));
        for (k, l) in gs.looks.iter().enumerate() {
            result.effects.push(Effect::point(
                format!("look {} (t = {}) z boundary", k + 1, l.info_fraction),
                l.z_boundary,
            ));
            extra.push_str(&format!(
                "{:>6} {:>10.4} {:>12.4} {:>14.6}\n",
                k + 1,
                l.info_fraction,
                l.z_boundary,
                l.nominal_p
            ));
        }
        let max_n = (analysis.n_total * inflation).ceil();
        result.method = format!("two-arm power analysis, {}", gs.method);
        result = result
            .with_diagnostic("looks", p.looks.clone())
            .with_diagnostic("boundaries", b)
            .with_diagnostic("nominal_alpha", nominal)
            .with_diagnostic("max_sample_size_inflation", inflation)
            .with_diagnostic("inflation_at_power", target)
            .with_diagnostic("max_n_total", causalkit_stats::count_value(max_n));
    }
    Ok(render_keeping(
        &result,
        p.format,
        Some(&extra),
        scalar_diagnostic,
    ))
}

/// A parsed metric.
#[derive(Debug, Clone)]
enum MetricSpec {
    Kpi(Kpi),
    Quantile {
        name: String,
        column: String,
        nu: f64,
    },
    Stats {
        name: String,
        kind: MetricType,
    },
}

impl MetricSpec {
    fn name(&self) -> &str {
        match self {
            MetricSpec::Kpi(k) => &k.name,
            MetricSpec::Quantile { name, .. } | MetricSpec::Stats { name, .. } => name,
        }
    }
    fn metric_type(&self) -> MetricType {
        match self {
            MetricSpec::Kpi(k) => match &k.kind {
                KpiKind::Proportion { .. } | KpiKind::TopBox { .. } => MetricType::Proportion,
                KpiKind::Ratio { .. } => MetricType::Ratio,
                _ => MetricType::Mean,
            },
            MetricSpec::Quantile { .. } => MetricType::Mean,
            MetricSpec::Stats { kind, .. } => *kind,
        }
    }
}

fn parse_metric(spec: &str, stats: bool) -> Result<MetricSpec, CliError> {
    if stats {
        let (name, kind) = match spec.split_once('=') {
            Some((n, k)) => (n.trim(), k.trim()),
            None => (spec.trim(), "mean"),
        };
        let kind = match kind {
            "mean" => MetricType::Mean,
            "proportion" => MetricType::Proportion,
            "ratio" => MetricType::Ratio,
            other => {
                return Err(CliError::bad(format!(
                    "--metric `{spec}`: with --stats the kind is mean, proportion or ratio, got `{other}`"
                )))
            }
        };
        return Ok(MetricSpec::Stats {
            name: name.to_string(),
            kind,
        });
    }
    let body = spec.split_once('=').map_or(spec, |(_, b)| b).trim();
    if body.to_ascii_lowercase().starts_with("quantile(") {
        let name = spec
            .split_once('=')
            .map_or(spec, |(n, _)| n)
            .trim()
            .to_string();
        let inner = body
            .strip_suffix(')')
            .and_then(|b| b.get("quantile(".len()..))
            .ok_or_else(|| CliError::bad(format!("--metric `{spec}`: missing ')'")))?;
        let (col, q) = inner.split_once(',').ok_or_else(|| {
            CliError::bad(format!(
                "--metric `{spec}`: quantile takes (column, level), e.g. quantile(handle_seconds, 0.9)"
            ))
        })?;
        let nu: f64 = q.trim().parse().map_err(|_| {
            CliError::bad(format!(
                "--metric `{spec}`: quantile level `{}` is not a number",
                q.trim()
            ))
        })?;
        return Ok(MetricSpec::Quantile {
            name,
            column: col.trim().to_string(),
            nu,
        });
    }
    Ok(MetricSpec::Kpi(spec.parse()?))
}

/// Applies the `--winsorize` requests to the KPI metrics (`causalkit_data::winsor`): the
/// data with the capped columns, the KPIs pointed at them, and what was done per metric.
fn winsorize_metrics(
    data: Dataset,
    metrics: &mut [MetricSpec],
    requests: &[String],
    policy: MissingPolicy,
) -> Result<(Dataset, BTreeMap<String, Winsorized>), CliError> {
    let requests: Vec<WinsorRequest> = requests
        .iter()
        .map(|r| r.parse())
        .collect::<Result<_, _>>()?;
    let mut kpis: Vec<Kpi> = Vec::new();
    let mut others: Vec<&str> = Vec::new();
    for m in metrics.iter() {
        match m {
            MetricSpec::Kpi(k) => kpis.push(k.clone()),
            other => others.push(other.name()),
        }
    }
    let (data, done) = winsorize_kpis(data, &mut kpis, &others, &requests, policy)?;
    let mut capped = kpis.into_iter();
    for m in metrics.iter_mut() {
        if let MetricSpec::Kpi(k) = m {
            *k = capped.next().expect("one KPI back per KPI");
        }
    }
    Ok((data, done))
}

/// Refuses, before any reading, the requests that need the rows in memory.
fn check_scan_request(a: &AnalyseArgs, metrics: &[MetricSpec]) -> Result<(), CliError> {
    let refuse = |what: &str| {
        Err(CliError::bad(format!(
            "--scan aggregates the file without keeping its rows, so it cannot be used with {what}; drop --scan"
        )))
    };
    if let Some(m) = metrics
        .iter()
        .find(|m| matches!(m, MetricSpec::Quantile { .. }))
    {
        return refuse(&format!("the quantile metric `{}`", m.name()));
    }
    if !a.winsorize.is_empty() {
        return refuse("--winsorize (the caps are percentiles of the rows)");
    }
    if a.time.is_some() {
        return refuse("--time (the cumulative chart needs the rows)");
    }
    if a.unit.is_some() && (a.segment.is_some() || a.stratify.is_some()) {
        return refuse("--unit together with --segment or --stratify");
    }
    if a.covariates.iter().any(|c| {
        c.split_once('/')
            .is_some_and(|(_, den)| den.trim() == "count")
    }) {
        return refuse("--covariate NUM/count (give the pre-period denominator as a column)");
    }
    Ok(())
}

struct Input {
    /// The rows (or only the schema, with `scan`).
    data: Dataset,
    stats: bool,
    /// With --scan: the file aggregated in one streaming pass per request.
    scan: Option<PathBuf>,
}

fn analyse(a: AnalyseArgs) -> Result<Rendered, CliError> {
    let engine_rows = match crate::warehouse::route(&crate::warehouse::Flags {
        engine: a.engine.as_deref(),
        dialect: a.dialect.as_deref(),
        table: a.table.as_deref(),
        explain: a.explain,
        has_file: a.data.is_some() || a.stats.is_some(),
        arm: &a.arm,
        segment: a.segment.as_deref(),
        stratify: a.stratify.as_deref(),
        unit: a.unit.as_deref(),
        metrics: &a.metrics,
        covariates: &a.covariates,
        drop_missing: a.drop_missing,
        winsorize: &a.winsorize,
    })? {
        crate::warehouse::Route::Local => None,
        crate::warehouse::Route::Explain(sql) => return Ok(sql),
        crate::warehouse::Route::Rows(r) => Some(r),
    };
    // With --engine the statistics rows take the --stats path; the metrics keep their KPIs.
    let engine = engine_rows.is_some();
    let (path, stats) =
        match (&a.data, &a.stats, &engine_rows) {
            (_, _, Some(r)) => (&r.source, true),
            (Some(p), None, None) => (p, false),
            (None, Some(p), None) => (p, true),
            _ => return Err(CliError::bad(
                "give the data as --data FILE (unit rows) or --stats FILE (sufficient statistics)",
            )),
        };
    if a.metrics.is_empty() {
        return Err(CliError::bad("give at least one --metric"));
    }
    if stats && !engine && !a.winsorize.is_empty() {
        return Err(CliError::bad(
            "--winsorize needs the unit rows (--data): sufficient statistics cannot be capped",
        ));
    }
    let mut metrics: Vec<MetricSpec> = a
        .metrics
        .iter()
        .map(|m| parse_metric(m, stats && !engine))
        .collect::<Result<_, _>>()?;
    // The specification is validated before any file is read.
    let review = spec_of(&a, &metrics)?.validate().map_err(spec_error)?;
    if a.scan {
        check_scan_request(&a, &metrics)?;
    }
    let mut data = if let Some(r) = &engine_rows {
        r.data.clone()
    } else if a.scan {
        Dataset::read_schema(path)?
    } else {
        Dataset::read(path)?
    };
    let policy = if a.drop_missing {
        MissingPolicy::Drop
    } else {
        MissingPolicy::Error
    };
    let mut winsorized = BTreeMap::new();
    // With --engine the caps were applied in the engine's query (EngineRows::winsor).
    if !a.winsorize.is_empty() && !engine {
        (data, winsorized) = winsorize_metrics(data, &mut metrics, &a.winsorize, policy)?;
    }
    let input = Input {
        data,
        stats,
        scan: a.scan.then(|| path.clone()),
    };
    if stats && metrics.len() != 1 && !input.data.column_names().iter().any(|c| c == "metric") {
        return Err(CliError::bad(
            "a --stats file without a `metric` column holds one metric: give exactly one --metric (or add a `metric` column naming each row's metric)",
        ));
    }
    if stats && !engine && !a.covariates.is_empty() {
        return Err(CliError::bad(
            "with --stats the covariate comes from the covariate_* columns; drop --covariate",
        ));
    }
    if a.stratify.is_some() && (a.segment.is_some() || !a.covariates.is_empty()) {
        return Err(CliError::bad(
            "use --stratify on its own (not with --segment or --covariate)",
        ));
    }
    // A covariate written NUM/DEN is a pre-period ratio (GrowthBook's ratio regression
    // adjustment); DEN may be `count`.
    let pre_ratio = match a.covariates.iter().filter(|c| c.contains('/')).count() {
        0 => None,
        1 if a.covariates.len() == 1 => {
            let (num, den) = a.covariates[0].split_once('/').expect("contains /");
            Some((num.trim().to_string(), den.trim().to_string()))
        }
        _ => {
            return Err(CliError::bad(
                "a pre-period ratio covariate NUM/DEN must be the only --covariate",
            ))
        }
    };
    check_covariates_not_outcomes(&a, &metrics, pre_ratio.as_ref())?;
    let mut input = input;
    let mut cov_names: Vec<String> = a.covariates.clone();
    if let Some((num, den)) = &pre_ratio {
        for m in &metrics {
            if m.metric_type() != MetricType::Ratio || matches!(m, MetricSpec::Quantile { .. }) {
                return Err(CliError::bad(format!(
                    "--covariate {num}/{den} (a pre-period ratio) adjusts ratio metrics; `{}` is not a ratio metric",
                    m.name()
                )));
            }
        }
        let den_col = if den == "count" {
            let ones = "count (pre-period)";
            input.data = input
                .data
                .with_numeric_column(ones, vec![Some(1.0); input.data.height()])?;
            ones.to_string()
        } else {
            den.clone()
        };
        cov_names = vec![num.clone(), den_col];
    }
    let covs: Vec<&str> = cov_names.iter().map(String::as_str).collect();

    // The statistics of every metric, from the data layer (one pass over the file with
    // --scan).
    let request = AbStatsRequest {
        arm: &a.arm,
        segment: a.segment.as_deref(),
        stratify: a.stratify.as_deref(),
        unit: a.unit.as_deref(),
        covariates: &covs,
        policy,
    };
    let stats_kpis: Vec<Kpi> = metrics
        .iter()
        .filter_map(|m| match m {
            MetricSpec::Kpi(k) if engine => {
                Some(causalkit_data::ab_stats::engine_kpi(k, a.unit.is_some()))
            }
            MetricSpec::Kpi(k) => Some(k.clone()),
            MetricSpec::Stats { name, kind } => Some(Kpi {
                name: name.clone(),
                kind: match kind {
                    MetricType::Proportion => KpiKind::Proportion {
                        column: name.clone(),
                    },
                    _ => KpiKind::Mean {
                        column: name.clone(),
                    },
                },
            }),
            MetricSpec::Quantile { .. } => None,
        })
        .collect();
    let kpi_refs: Vec<&Kpi> = stats_kpis.iter().collect();
    let source = match (&input.scan, stats) {
        (_, true) => AbSource::StatsRows(&input.data),
        (Some(p), false) => AbSource::Scan(p),
        (None, false) => AbSource::Rows(&input.data),
    };
    let mut moment_cells = ab_statistics(source, &kpi_refs, &request)?.into_iter();
    let mut ab_data = AbData::default();
    for metric in &metrics {
        let name = metric.name().to_string();
        let mut notes = Map::new();
        if let Some(w) = winsorized.get(&name) {
            notes.insert("winsorized".into(), w.to_json());
        } else if let Some(w) = engine_rows.as_ref().and_then(|r| r.winsor.get(&name)) {
            notes.insert("winsorized".into(), w.clone());
        }
        let cells = match metric {
            MetricSpec::Quantile { column, nu, .. } => {
                notes.insert("kind".into(), format!("quantile {nu} of {column}").into());
                MetricCells::Summaries(quantile_summaries(&input, &request, column, *nu)?)
            }
            _ => {
                let c = moment_cells
                    .next()
                    .expect("one set of cells per non-quantile metric");
                let first_names = c
                    .segments
                    .values()
                    .next()
                    .and_then(|x| x.values().next())
                    .map(|m| m.names().to_vec())
                    .unwrap_or_default();
                let ratio_covariate = match &pre_ratio {
                    Some((n, d)) => Some(format!("{n}/{d}")),
                    None if first_names.last().is_some_and(|n| n == "denominator_pre") => {
                        Some("covariate/denominator_pre".to_string())
                    }
                    None => None,
                };
                MetricCells::Moments {
                    segments: c.segments,
                    strata: c
                        .strata
                        .map(|s| (a.stratify.clone().unwrap_or_default(), s)),
                    ratio_covariate,
                }
            }
        };
        ab_data.metrics.push(MetricData { name, cells, notes });
    }
    let fit = review.fit(&ab_data)?;
    let mut result = fit.result();
    let control = fit.control.clone();

    let mut extra = String::new();
    if !winsorized.is_empty() {
        extra += "\nWinsorised before analysis (caps pooled over arms):\n";
        let level = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v}"));
        let cap = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.4}"));
        extra += &plain_table(
            &[
                "metric",
                "column",
                "levels",
                "lower cap",
                "upper cap",
                "values changed",
            ],
            &winsorized
                .iter()
                .map(|(m, w)| {
                    vec![
                        m.clone(),
                        w.column.clone(),
                        format!("{},{}", level(w.lower_level), level(w.upper_level)),
                        cap(w.caps.lower),
                        cap(w.caps.upper),
                        w.caps.changed.to_string(),
                    ]
                })
                .collect::<Vec<_>>(),
        );
    }
    // The verdict itself goes to stderr with the warnings (output::render); its reasons stay
    // in the table.
    extra += &fit.summary_blocks(false);
    result.diagnostics.insert(
        "source".into(),
        json!(format!(
            "{} ({})",
            path.display(),
            if stats {
                "sufficient statistics"
            } else if a.scan {
                "rows, aggregated in one streaming pass"
            } else {
                "rows"
            }
        )),
    );
    if let Some(u) = &a.unit {
        result
            .diagnostics
            .insert("randomisation_unit".into(), json!(u));
    }

    let mut charts = Vec::new();
    if a.plot.is_some() {
        let level = 1.0 - a.alpha;
        for kind in [EffectKind::Relative, EffectKind::Absolute] {
            let effects: Vec<Effect> = result
                .effects
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    // Under --adjust the charts draw the multiplicity-adjusted intervals.
                    let mut e = e.clone();
                    if let Some(iv) = fit.adjusted_intervals.iter().find(|iv| iv.effect == i) {
                        e.ci_low = Some(iv.ci_low);
                        e.ci_high = Some(iv.ci_high);
                    }
                    e
                })
                .filter(|e| {
                    e.key.kind == Some(kind)
                        && match kind {
                            EffectKind::Relative => e.key.variant.as_deref() == Some("delta"),
                            _ => e.key.variant.is_none(),
                        }
                })
                .map(|e| {
                    let mut e = e.clone();
                    e.label = format!(
                        "{} | {} | {} vs {}",
                        e.key.metric.as_deref().unwrap_or_default(),
                        e.key.segment.as_deref().unwrap_or_default(),
                        e.key.arm.as_deref().unwrap_or_default(),
                        control
                    );
                    e
                })
                .collect();
            if effects.is_empty() {
                continue;
            }
            let (interval, note) = match fit.spec.adjustment {
                Some(adj) if !fit.adjusted_intervals.is_empty() => (
                    // Bonferroni's intervals cover the family together; the FCR intervals of
                    // BH/BY control the false coverage rate among selected effects instead.
                    if matches!(
                        adj,
                        causalkit_stats::Adjustment::BenjaminiHochberg
                            | causalkit_stats::Adjustment::BenjaminiYekutieli
                    ) {
                        causalkit_report::Interval::pointwise(level)
                    } else {
                        causalkit_report::Interval::uniform(level)
                    },
                    format!(
                        "intervals adjusted for multiplicity (--adjust {}): {}; the table's intervals are unadjusted",
                        a.adjust.as_deref().unwrap_or_default(),
                        causalkit_ab::review::multiplicity_interval_rule(adj)
                    ),
                ),
                _ => (
                    causalkit_report::Interval::pointwise(level),
                    "intervals not adjusted for multiplicity".to_string(),
                ),
            };
            let chart = if kind == EffectKind::Absolute {
                // Seconds and proportions never share an axis: one panel per metric.
                causalkit_report::ForestPlot::new(format!("absolute lift vs {control}"))
                    .x_label("treatment - control")
                    .panel_by(causalkit_report::PanelBy::Metric)
                    .subtitle(note)
                    .interval(interval)
                    .chart("lift_absolute", &effects)?
            } else {
                causalkit_report::ForestPlot::new(format!("relative (delta) lift vs {control}"))
                    .x_label("relative lift")
                    .subtitle(note)
                    .interval(interval)
                    .chart("lift_relative", &effects)?
            };
            charts.push(chart);
        }
    }
    if let Some(tcol) = &a.time {
        let series = cumulative(&input, &a, tcol, &metrics, &control, &review, policy)?;
        let mut cum = Map::new();
        let level = (1.0 - a.alpha) * 100.0;
        for (name, pts) in series {
            let x: Vec<f64> = pts.iter().map(|p| p.time).collect();
            let col = |f: fn(&CumulativePoint) -> f64| pts.iter().map(f).collect::<Vec<f64>>();
            let s = vec![
                causalkit_report::Series::band(
                    format!("{level}% confidence sequence (always valid)"),
                    x.clone(),
                    col(|p| p.cs_low),
                    col(|p| p.cs_high),
                ),
                causalkit_report::Series::band(
                    format!("{level}% fixed-horizon CI (pointwise)"),
                    x.clone(),
                    col(|p| p.ci_low),
                    col(|p| p.ci_high),
                ),
                causalkit_report::Series::new(
                    "cumulative estimate (unadjusted)",
                    x.clone(),
                    col(|p| p.estimate),
                ),
            ];
            charts.push(
                causalkit_report::LineChart::new(format!(
                    "{name}: cumulative unadjusted effect (treatment - {control})"
                ))
                .subtitle("the difference in means without CUPED, as the data arrived")
                .x_label(tcol.as_str())
                .y_label("absolute lift (unadjusted)")
                .hline(0.0)
                .chart(format!("cumulative_{name}"), &s)?,
            );
            cum.insert(
                name,
                json!(pts
                    .iter()
                    .map(|p| json!({"time": p.time, "estimate": p.estimate, "ci_low": p.ci_low, "ci_high": p.ci_high, "cs_low": p.cs_low, "cs_high": p.cs_high, "adjusted": false}))
                    .collect::<Vec<_>>()),
            );
        }
        result
            .diagnostics
            .insert("cumulative".into(), Value::Object(cum));
    }
    if let Some(dir) = &a.plot {
        causalkit_report::save_all(dir, &charts)?;
    }
    crate::report::capture(&result);
    // The table shows the nested diagnostics as the blocks above (SRM, guardrails, multiple
    // testing, winsorisation); the full set is in the JSON.
    Ok(render_keeping(
        &result,
        a.format,
        Some(&extra),
        scalar_diagnostic,
    ))
}

/// The library specification from the flags. Parsing only: every range and name check is
/// `AbSpec::validate`'s, whose errors name the option, mapped back to its flag by
/// [`spec_error`].
fn spec_of(a: &AnalyseArgs, metrics: &[MetricSpec]) -> Result<AbSpec, CliError> {
    let mut spec = AbSpec::new(
        metrics
            .iter()
            .map(|m| review::MetricSpec::new(m.name(), m.metric_type()))
            .collect(),
    );
    spec.set_lower_is_better(&a.lower_is_better)
        .map_err(spec_error)?;
    spec.covariates = a.covariates.clone();
    spec.segment = a.segment.clone();
    spec.control = a.control.clone();
    spec.alpha = a.alpha;
    spec.srm_alpha = a.srm_alpha;
    spec.test = match a.test {
        TestArg::Welch => TestKind::Welch,
        TestArg::Z => TestKind::Z,
    };
    spec.primary = a.primary.clone();
    for g in &a.guardrails {
        let (m, margin) = g.split_once(':').ok_or_else(|| {
            CliError::bad(format!(
                "--guardrail `{g}`: expected metric:margin, e.g. repeat:0.02"
            ))
        })?;
        let margin: f64 = margin.trim().parse().map_err(|_| {
            CliError::bad(format!(
                "--guardrail `{g}`: margin `{margin}` is not a number"
            ))
        })?;
        spec.guardrails.push(Guardrail {
            metric: m.trim().to_string(),
            margin,
        });
    }
    spec.adjustment = a.adjust.as_deref().map(str::parse).transpose()?;
    spec.adjust_scope = AdjustScope::from_names(&a.adjust_scope).map_err(spec_error)?;
    spec.split = a.split.clone();
    if a.bayesian {
        let beta_prior = match a.beta_prior.as_deref() {
            None => bayes::BetaPrior::default(),
            Some(&[a, b]) => bayes::BetaPrior { a, b },
            Some(v) => {
                return Err(CliError::bad(format!(
                    "--beta-prior A,B: two numbers (Beta(A, B) prior of each arm's rate), got {v:?}"
                )))
            }
        };
        spec.bayesian = Some(BayesSpec {
            gaussian_prior: a.prior_mean.zip(a.prior_sd),
            beta_prior,
        });
    } else if a.beta_prior.is_some() {
        return Err(CliError::bad("--beta-prior needs --bayesian"));
    }
    spec.sequential = a.sequential.map(|s| match s {
        SequentialArg::Cs => SequentialMethod::ConfidenceSequence {
            n_plan: a.n_plan.unwrap_or(5000.0),
        },
        SequentialArg::Eppo => SequentialMethod::Eppo {
            n_tune: a.n_plan.unwrap_or(10_000.0),
        },
        SequentialArg::Msprt => SequentialMethod::Msprt { tau: a.tau },
    });
    // Without a confidence sequence at the look, --n-plan still tunes the --time chart's.
    spec.cumulative_sequence = match a.sequential {
        None | Some(SequentialArg::Msprt) => a
            .n_plan
            .map(|n_plan| SequentialMethod::ConfidenceSequence { n_plan }),
        Some(SequentialArg::Cs | SequentialArg::Eppo) => None,
    };
    spec.multiarm = a.multiarm.map(|m| match m {
        MultiArmArg::Dunnett => MultiArmMethod::Dunnett,
        MultiArmArg::MaxT => MultiArmMethod::MaxT,
    });
    Ok(spec)
}

/// The flag that sets a specification option.
fn flag_of(option: AbOption) -> &'static str {
    match option {
        AbOption::Metrics => "--metric",
        AbOption::LowerIsBetter => "--lower-is-better",
        AbOption::Alpha => "--alpha",
        AbOption::SrmAlpha => "--srm-alpha",
        AbOption::Split => "--split",
        AbOption::Primary => "--primary",
        AbOption::Guardrail => "--guardrail",
        AbOption::AdjustScope => "--adjust-scope",
        AbOption::PriorMean => "--prior-mean",
        AbOption::PriorSd => "--prior-sd",
        AbOption::BetaPrior => "--beta-prior",
        AbOption::NPlan | AbOption::NTune => "--n-plan",
        AbOption::Tau => "--tau",
        AbOption::CumulativeSequence => "--n-plan",
    }
}

/// A specification error as the user sees it: the option named by its flag (bad input).
fn spec_error(e: AbError) -> CliError {
    match e.option() {
        Some(option) => CliError::bad(e.message_naming(flag_of(option))),
        None => match e {
            AbError::Stats(s) => s.into(),
            other => CliError::bad(other.to_string()),
        },
    }
}

/// Refuses a covariate that is one of the metric's own columns (the adjustment would remove
/// the effect itself).
fn check_covariates_not_outcomes(
    a: &AnalyseArgs,
    metrics: &[MetricSpec],
    pre_ratio: Option<&(String, String)>,
) -> Result<(), CliError> {
    let covs: Vec<&str> = match pre_ratio {
        Some((n, d)) => vec![n.as_str(), d.as_str()],
        None => a.covariates.iter().map(String::as_str).collect(),
    };
    for m in metrics {
        let cols: Vec<&str> = match m {
            MetricSpec::Kpi(k) => k.columns(),
            MetricSpec::Quantile { column, .. } => vec![column.as_str()],
            MetricSpec::Stats { .. } => vec![],
        };
        if let Some(c) = covs.iter().find(|c| cols.contains(c)) {
            return Err(CliError::bad(format!(
                "--covariate `{c}` is a column of the metric `{}` itself; a covariate must be measured before the experiment (e.g. pre-period values), not the outcome",
                m.name()
            )));
        }
    }
    Ok(())
}

/// Quantile summaries per segment and arm, from the rows (`causalkit_data::ab_stats`).
fn quantile_summaries(
    input: &Input,
    request: &AbStatsRequest,
    column: &str,
    nu: f64,
) -> Result<BTreeMap<String, BTreeMap<String, ArmStats>>, CliError> {
    if input.stats {
        return Err(CliError::bad(
            "quantile metrics need the rows (--data), not sufficient statistics",
        ));
    }
    let r = quantile_rows(&input.data, column, request)?;
    Ok(quantile_cells(
        &r.values,
        &r.arms,
        r.segments.as_deref(),
        r.units.as_deref(),
        nu,
    )?)
}

/// Cumulative absolute effect of each row-level metric at every distinct time value, for the
/// control and the first other arm (`causalkit_data::ab_stats::two_arm_rows`), with the
/// validated review's confidence sequence and alpha ([`AbReview::cumulative`]).
fn cumulative(
    input: &Input,
    a: &AnalyseArgs,
    tcol: &str,
    metrics: &[MetricSpec],
    control: &str,
    review: &AbReview,
    policy: MissingPolicy,
) -> Result<Vec<(String, Vec<CumulativePoint>)>, CliError> {
    if input.stats || a.unit.is_some() {
        return Err(CliError::bad(
            "--time needs row-level data randomised by row (--data without --unit)",
        ));
    }
    let times = data::design::time_values(&input.data, tcol, a.period_width)?;
    let mut out = Vec::new();
    for metric in metrics {
        let MetricSpec::Kpi(kpi) = metric else {
            continue;
        };
        let rows = two_arm_rows(&input.data, kpi, &a.arm, control, policy)?;
        let pts = review.cumulative(
            &times,
            &rows.side,
            &rows.numerator,
            &rows.denominator,
            metric.metric_type(),
        )?;
        out.push((kpi.name.clone(), pts));
    }
    Ok(out)
}

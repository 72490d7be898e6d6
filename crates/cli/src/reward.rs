//! `causalkit reward calibrate|evaluate` (issue 16) and `causalkit simulate recommender`.

use crate::output::{csv, plain_table, render, CliError, Format, Rendered};
use causalkit_data::Dataset;
use causalkit_reward::calibrate::{Calibration, IndexKind};
use causalkit_reward::choose::{implied_weights, parse_values};
use causalkit_reward::sensitivity::{parse_ranges, sensitivity, Sensitivity};
use causalkit_reward::{
    calibrate, evaluate, CalibrateOptions, CalibrationData, EvaluateOptions, Evaluation,
    ExperimentData, GuardrailSpec, Reward, RewardError,
};
use causalkit_sim::recommender::{recommender_truth, write_recommender, RecommenderConfig};
use causalkit_stats::{fmt_value, Effect, EstimationResult, Report};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `causalkit reward`.
#[derive(Debug, Args)]
pub struct RewardArgs {
    #[command(subcommand)]
    command: RewardCommand,
}

#[derive(Debug, Subcommand)]
enum RewardCommand {
    /// Calibrate a reward's weights against a long-term outcome: the surrogate index (Athey,
    /// Chetty, Imbens & Kang 2019), saved to a file for `reward evaluate --calibration`.
    Calibrate(CalibrateArgs),
    /// Evaluate a reward in an experiment: the effect on R, on each component, on the
    /// surrogate index and in money, with the A/B checks and the weight sensitivity.
    Evaluate(EvaluateArgs),
    /// Choose weights: the weights that maximise predicted long-term value with guardrail KPIs
    /// held within margins (a stated behaviour model, solved as a cone program), the weights
    /// the value model implies, and the Pareto frontier between long-term value and one KPI.
    Choose(crate::reward_choose::ChooseArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum IndexArg {
    /// OLS: the coefficients are the weights.
    Linear,
    /// The uplift crate's gradient-boosted trees (no weights).
    Gbdt,
}

/// Flags of `reward calibrate`.
#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// The observational data (.csv or .parquet) where the long-term outcome was observed.
    #[arg(long)]
    data: PathBuf,
    /// The long-term outcome column (e.g. revenue_90d).
    #[arg(long = "long-term")]
    long_term: String,
    /// The short-term signals, comma separated.
    #[arg(long, value_delimiter = ',', required = true)]
    signals: Vec<String>,
    /// Pre-treatment covariates, comma separated.
    #[arg(long, value_delimiter = ',')]
    covariates: Vec<String>,
    /// Unit column: standard errors clustered by unit, bootstrap and CV folds resample units.
    #[arg(long)]
    unit: Option<String>,
    /// The index: linear (weights) or gbdt (boosted, no weights).
    #[arg(long, value_enum, default_value_t = IndexArg::Linear)]
    index: IndexArg,
    /// Bootstrap replicates (0: none).
    #[arg(long, default_value_t = 200)]
    bootstrap: usize,
    /// Cross-validation folds.
    #[arg(long, default_value_t = 5)]
    folds: usize,
    /// Seed of the bootstrap, the folds and the booster.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Significance level of the intervals.
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// Write the calibration (JSON) to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// Flags of `reward evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The experiment's data (.csv or .parquet).
    #[arg(long)]
    data: PathBuf,
    /// The arm column.
    #[arg(long)]
    arm: String,
    /// The reward, e.g. "0.1*click + 0.3*add_to_cart + 1*purchase - 0.5*return".
    #[arg(long, allow_hyphen_values = true)]
    reward: String,
    /// A calibration from `reward calibrate --out`: the surrogate index is evaluated too.
    #[arg(long)]
    calibration: Option<PathBuf>,
    /// A value tree (TOML with a [value] section as in `attribute`) over the evaluated metrics:
    /// the effects in money.
    #[arg(long)]
    spec: Option<PathBuf>,
    /// A value model given directly, long-term value per unit of each signal (e.g.
    /// click=0.3,purchase=15,return=-20): the weights it implies are shown next to the
    /// reward's (as they are for a linear --calibration and a --spec value tree).
    #[arg(long, allow_hyphen_values = true)]
    value: Option<String>,
    /// Pre-treatment covariates for CUPED, comma separated.
    #[arg(long, value_delimiter = ',')]
    covariates: Vec<String>,
    /// Unit column: rows of a unit are summed.
    #[arg(long)]
    unit: Option<String>,
    /// The long-term outcome, when the experiment observed it: the surrogacy validation.
    #[arg(long = "long-term")]
    long_term: Option<String>,
    /// Guardrail `metric:margin` (relative non-inferiority margin), repeatable, e.g. nps:0.02.
    #[arg(long = "guardrail")]
    guardrails: Vec<String>,
    /// Guardrails where lower is better (e.g. return), comma separated.
    #[arg(long = "lower-is-better", value_delimiter = ',')]
    lower_is_better: Vec<String>,
    /// Control arm (default: the first in sorted order).
    #[arg(long)]
    control: Option<String>,
    /// Treatment arm (default: the other one).
    #[arg(long)]
    treatment: Option<String>,
    /// Weight ranges for the sensitivity grid, e.g. click=0:0.5,return=0:2 (weights of the
    /// reward's own signals; a negative weight range such as return=-2:0 is allowed).
    #[arg(long, allow_hyphen_values = true)]
    weights: Option<String>,
    /// Grid points per weight range.
    #[arg(long, default_value_t = 11)]
    steps: usize,
    /// Significance level.
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// Write charts (SVG and PNG) into this directory: the component forest
    /// (`components.*`) and, with two --weights ranges, the sensitivity heat map of the effect
    /// on R (`sensitivity.*`).
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// Maps a reward error to the CLI's exit codes (numerical: 1, else bad input: 2).
pub(crate) fn reward_err(e: RewardError) -> CliError {
    if e.is_numerical() {
        CliError::numerical(e.to_string())
    } else {
        CliError::bad(e.to_string())
    }
}

/// Runs `reward calibrate|evaluate`.
pub fn run(a: RewardArgs) -> Result<Rendered, CliError> {
    match a.command {
        RewardCommand::Calibrate(c) => run_calibrate(c),
        RewardCommand::Evaluate(e) => run_evaluate(e),
        RewardCommand::Choose(c) => crate::reward_choose::run(c),
    }
}

/// One `--guardrail metric:margin` (the metric and the relative margin).
pub(crate) fn parse_guardrail(g: &str) -> Result<(&str, f64), CliError> {
    let (m, margin) = g.rsplit_once(':').ok_or_else(|| {
        CliError::bad(format!(
            "--guardrail `{g}`: expected metric:margin, e.g. nps:0.02"
        ))
    })?;
    let margin: f64 = margin.parse().map_err(|_| {
        CliError::bad(format!(
            "--guardrail `{g}`: margin `{margin}` is not a number"
        ))
    })?;
    Ok((m, margin))
}

/// A numeric column with every value present (the error names the column and data row).
pub(crate) fn dense(data: &Dataset, name: &str, role: &str) -> Result<Vec<f64>, CliError> {
    let col = data
        .numeric(name)
        .map_err(|e| CliError::bad(format!("{role} `{name}`: {e}")))?;
    col.iter()
        .enumerate()
        .map(|(i, v)| {
            v.ok_or_else(|| {
                CliError::bad(format!(
                    "{role} `{name}` is missing at data row {} (row {} of the file counting the header)",
                    i,
                    i + 2
                ))
            })
        })
        .collect()
}

fn run_calibrate(a: CalibrateArgs) -> Result<Rendered, CliError> {
    let data = Dataset::read(&a.data)?;
    let unit = match &a.unit {
        Some(u) => {
            let labels = data.labels(u)?;
            let labels = labels
                .into_iter()
                .enumerate()
                .map(|(i, l)| {
                    l.ok_or_else(|| {
                        CliError::bad(format!("unit column `{u}` is missing at row {}", i + 2))
                    })
                })
                .collect::<Result<Vec<String>, CliError>>()?;
            Some((u.clone(), labels))
        }
        None => None,
    };
    let cd = CalibrationData {
        long_term_name: a.long_term.clone(),
        long_term: dense(&data, &a.long_term, "long-term outcome")?,
        signals: a
            .signals
            .iter()
            .map(|s| Ok((s.clone(), dense(&data, s, "signal")?)))
            .collect::<Result<_, CliError>>()?,
        covariates: a
            .covariates
            .iter()
            .map(|s| Ok((s.clone(), dense(&data, s, "covariate")?)))
            .collect::<Result<_, CliError>>()?,
        unit,
    };
    let opts = CalibrateOptions {
        kind: match a.index {
            IndexArg::Linear => IndexKind::Linear,
            IndexArg::Gbdt => IndexKind::Gbdt,
        },
        bootstrap: a.bootstrap,
        folds: a.folds,
        alpha: a.alpha,
        seed: a.seed,
        ..CalibrateOptions::default()
    };
    let cal = calibrate(&cd, &opts).map_err(reward_err)?;
    if let Some(p) = &a.out {
        cal.save(p).map_err(reward_err)?;
    }
    let mut r = calibration_result(&cal);
    if let Some(p) = &a.out {
        r.diagnostics
            .insert("saved_to".into(), json!(p.display().to_string()));
    }
    crate::report::capture(&r);
    let mut out = render(&r, a.format, None);
    if a.format == Format::Table {
        out.stdout += &format!("\nSurrogacy assumption: {}\n", cal.assumption);
    }
    Ok(out)
}

/// The calibration in the common shape: one effect per coefficient (`weight: <signal>`,
/// `covariate: <name>`, `intercept`) with the robust t interval; the bootstrap intervals, the
/// cross-validated fit and the assumption in the diagnostics.
pub fn calibration_result(cal: &Calibration) -> EstimationResult {
    let mut r = EstimationResult::new(
        match cal.kind {
            IndexKind::Linear => "surrogate index (linear, OLS; Athey, Chetty, Imbens & Kang 2019)",
            IndexKind::Gbdt => "surrogate index (gradient-boosted trees; Athey, Chetty, Imbens & Kang 2019)",
        },
        format!(
            "E[{} | signals, covariates]: the long-term value of one more unit of each signal (the calibrated weights)",
            cal.long_term
        ),
    );
    for c in &cal.coefficients {
        let label = if c.name == "Intercept" {
            "intercept".to_string()
        } else if cal.signals.contains(&c.name) {
            format!("weight: {}", c.name)
        } else {
            format!("covariate: {}", c.name)
        };
        r.effects.push(Effect {
            label,
            estimate: c.estimate,
            std_error: Some(c.std_error),
            ci_low: Some(c.ci_low),
            ci_high: Some(c.ci_high),
            p_value: Some(c.p_value),
            key: Default::default(),
        });
    }
    let boot: serde_json::Map<String, Value> = cal
        .coefficients
        .iter()
        .filter(|c| c.bootstrap_ci_low.is_some())
        .map(|c| {
            (
                c.name.clone(),
                json!({"ci_low": c.bootstrap_ci_low, "ci_high": c.bootstrap_ci_high, "std_error": c.bootstrap_std_error}),
            )
        })
        .collect();
    let d = &mut r.diagnostics;
    d.insert("index".into(), json!(cal.kind));
    d.insert("long_term".into(), json!(cal.long_term));
    d.insert("signals".into(), json!(cal.signals));
    d.insert("covariates".into(), json!(cal.covariates));
    d.insert("n".into(), json!(cal.n));
    d.insert("units".into(), json!(cal.units));
    if let Some(u) = &cal.unit {
        d.insert("unit".into(), json!(u));
    }
    if let Some(v) = &cal.vcov {
        d.insert("vcov".into(), json!(v));
    }
    if let Some(r2) = cal.r_squared {
        d.insert("r_squared".into(), json!(r2));
    }
    d.insert("cross_validation".into(), json!(cal.cross_validation));
    d.insert("bootstrap".into(), json!(cal.bootstrap));
    if !boot.is_empty() {
        d.insert("bootstrap_intervals".into(), Value::Object(boot));
    }
    d.insert("seed".into(), json!(cal.seed));
    d.insert("surrogacy_assumption".into(), json!(cal.assumption));
    r.warnings = cal.notes.clone();
    r
}

fn run_evaluate(a: EvaluateArgs) -> Result<Rendered, CliError> {
    let reward = Reward::parse(&a.reward).map_err(|e| CliError::bad(format!("--reward: {e}")))?;
    let data = Dataset::read(&a.data)?;
    let calibration = a
        .calibration
        .as_deref()
        .map(Calibration::load)
        .transpose()
        .map_err(reward_err)?;
    let columns_all = data.column_names();
    for s in reward.signals() {
        if !columns_all.contains(&s) {
            return Err(CliError::bad(format!(
                "--reward: unknown signal `{s}`: {} has no such column (columns: {})",
                a.data.display(),
                columns_all.join(", ")
            )));
        }
    }
    let mut guardrails = Vec::new();
    for g in &a.guardrails {
        let (m, margin) = parse_guardrail(g)?;
        guardrails.push(GuardrailSpec {
            metric: m.to_string(),
            lower_is_better: a.lower_is_better.iter().any(|l| l == m),
            margin,
        });
    }
    for l in &a.lower_is_better {
        if !guardrails.iter().any(|g| &g.metric == l) {
            return Err(CliError::bad(format!(
                "--lower-is-better `{l}` names no --guardrail"
            )));
        }
    }
    // The numeric columns the evaluation needs.
    let mut needed: Vec<String> = reward.signals();
    needed.extend(a.covariates.iter().cloned());
    needed.extend(a.long_term.iter().cloned());
    needed.extend(guardrails.iter().map(|g| g.metric.clone()));
    if let Some(c) = &calibration {
        needed.extend(c.signals.iter().cloned());
        needed.extend(c.covariates.iter().cloned());
    }
    let mut columns = BTreeMap::new();
    for n in needed {
        if columns.contains_key(&n) {
            continue;
        }
        let col = data.numeric(&n).map_err(|e| CliError::bad(e.to_string()))?;
        columns.insert(n, col);
    }
    let unit = match &a.unit {
        Some(u) => Some((u.clone(), data.labels(u)?)),
        None => None,
    };
    let ed = ExperimentData {
        arm_name: a.arm.clone(),
        arm: data.labels(&a.arm)?,
        unit,
        columns,
    };
    let opts = EvaluateOptions {
        control: a.control.clone(),
        treatment: a.treatment.clone(),
        covariates: a.covariates.clone(),
        long_term: a.long_term.clone(),
        guardrails,
        alpha: a.alpha,
    };
    let ev = evaluate(&ed, &reward, calibration.as_ref(), &opts).map_err(reward_err)?;
    let mut r = ev.result();
    let tree = match &a.spec {
        Some(spec) => Some(money(&ev, spec, &mut r)?),
        None => None,
    };
    let mut extra = String::new();
    let mut implied = Vec::new();
    if let Some(v) = &a.value {
        let values = parse_values(v).map_err(reward_err)?;
        implied.push(implied_weights(&values, &reward, "--value").map_err(reward_err)?);
    }
    if let Some((c, p)) = calibration.as_ref().zip(a.calibration.as_ref()) {
        if let Some(values) = c.weights() {
            let source = format!("calibration {} ({} per unit)", p.display(), c.long_term);
            match implied_weights(&values, &reward, &source) {
                Ok(iw) => implied.push(iw),
                Err(e) => r
                    .warnings
                    .push(format!("no implied weights from {source}: {e}")),
            }
        }
    }
    if let (Some(tree), Some(spec)) = (&tree, &a.spec) {
        let (values, root) = tree_values(&ev, tree)?;
        let source = format!(
            "value tree {}, node `{root}` per unit of each signal at the control means",
            spec.display()
        );
        match implied_weights(&values, &reward, &source) {
            Ok(iw) => implied.push(iw),
            Err(e) => r
                .warnings
                .push(format!("no implied weights from {source}: {e}")),
        }
    }
    if !implied.is_empty() {
        for iw in &implied {
            extra += &crate::reward_choose::implied_table(iw);
        }
        r.diagnostics.insert(
            "implied_weights".into(),
            serde_json::to_value(&implied).map_err(|e| CliError::internal(e.to_string()))?,
        );
    }
    if let Some(dir) = &a.plot {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::bad(format!("cannot create {}: {e}", dir.display())))?;
        let comps: Vec<Effect> = r
            .effects
            .iter()
            .filter(|e| e.label.starts_with("component: "))
            .cloned()
            .collect();
        for (ext, f) in [
            ("svg", causalkit_report::ImageFormat::Svg),
            ("png", causalkit_report::ImageFormat::Png),
        ] {
            causalkit_report::forest_plot(
                &comps,
                "Effect of the treatment on each reward component",
                "absolute effect per unit",
                dir.join(format!("components.{ext}")),
                f,
            )?;
        }
    }
    if let Some(w) = &a.weights {
        let ranges = parse_ranges(w).map_err(reward_err)?;
        let s = sensitivity(&ev, &reward, &ranges, a.steps).map_err(reward_err)?;
        let sv = serde_json::to_value(&s).map_err(|e| CliError::internal(e.to_string()))?;
        if let Some(dir) = &a.plot {
            if let Some(c) = causalkit_report::html::reward::sensitivity_chart(&sv, "sensitivity")?
            {
                c.save(dir)?;
            }
        }
        extra += &sensitivity_table(&s);
        r.diagnostics.insert("sensitivity".into(), sv);
    }
    crate::report::capture(&r);
    let mut out = render(&r, a.format, Some(&extra));
    if a.format == Format::Table {
        if let Some(c) = &calibration {
            out.stdout += &format!("\nSurrogacy assumption: {}\n", c.assumption);
        }
    }
    Ok(out)
}

/// A value tree's money per unit of each of the reward's signals: the change of its first root
/// node when the signal's level rises by 1 from the control means (the others held there);
/// exact for a tree linear in the signal, a unit difference otherwise. Returns the values and
/// the root's name.
fn tree_values(
    ev: &Evaluation,
    tree: &causalkit_attribution::value::ValueTree,
) -> Result<(Vec<(String, f64)>, String), CliError> {
    let root = tree
        .roots()
        .into_iter()
        .next()
        .ok_or_else(|| CliError::bad("the value tree has no node"))?;
    let at = tree
        .node_names()
        .iter()
        .position(|n| *n == root)
        .ok_or_else(|| CliError::internal("value tree root not among its nodes"))?;
    let none = BTreeMap::new();
    let base = tree
        .evaluate(&ev.baseline, &none)
        .map_err(|e| CliError::bad(e.to_string()))?[at];
    let mut out = Vec::new();
    for s in ev.reward.signals() {
        let i = ev.metrics.iter().position(|m| *m == s).unwrap_or(0);
        let mut levels = ev.baseline.clone();
        levels[i] += 1.0;
        let v = tree
            .evaluate(&levels, &none)
            .map_err(|e| CliError::bad(e.to_string()))?[at];
        out.push((s, v - base));
    }
    Ok((out, root))
}

/// The value tree of `--spec` over the evaluated metrics: one `value:<node>` effect per node;
/// returns the tree.
fn money(
    ev: &Evaluation,
    spec: &Path,
    r: &mut EstimationResult,
) -> Result<causalkit_attribution::value::ValueTree, CliError> {
    use causalkit_attribution::spec::ValueSection;
    use causalkit_attribution::value::ValueTree;
    use causalkit_attribution::KpiEffects;
    let text = std::fs::read_to_string(spec)
        .map_err(|e| CliError::bad(format!("cannot read {}: {e}", spec.display())))?;
    let table: toml::Table =
        toml::from_str(&text).map_err(|e| CliError::bad(format!("{}: {e}", spec.display())))?;
    let section: ValueSection = table
        .get("value")
        .ok_or_else(|| CliError::bad(format!("{}: no [value] section", spec.display())))?
        .clone()
        .try_into()
        .map_err(|e| CliError::bad(format!("{}: [value]: {e}", spec.display())))?;
    let tree = ValueTree::from_spec(&section, &ev.metrics)
        .map_err(|e| CliError::bad(e.with_file(&spec.display().to_string()).to_string()))?;
    let effects = KpiEffects {
        effects: ev.effects.clone(),
        baseline: ev.baseline.clone(),
        covariance: ev.covariance.clone(),
        covariance_source: "per-unit influence functions".into(),
        replicates: None,
    };
    let changes = tree
        .changes(&effects, &BTreeMap::new(), ev.alpha)
        .map_err(|e| CliError::bad(e.to_string()))?;
    let mut nodes = Vec::new();
    for c in changes {
        nodes.push(json!({"name": c.name, "expr": c.expr, "without": c.without, "with": c.with}));
        r.effects.push(c.change);
    }
    r.diagnostics.insert("value_nodes".into(), json!(nodes));
    r.diagnostics
        .insert("value_period".into(), json!(tree.period().name()));
    Ok(tree)
}

fn sensitivity_table(s: &Sensitivity) -> String {
    let mut header: Vec<String> = s
        .ranges
        .iter()
        .map(|r| format!("w[{}]", r.signal))
        .collect();
    header.extend(["effect on R", "ci_low", "ci_high", "verdict"].map(String::from));
    let h: Vec<&str> = header.iter().map(String::as_str).collect();
    let rows: Vec<Vec<String>> = s
        .points
        .iter()
        .map(|p| {
            let mut row: Vec<String> = p.weights.iter().map(|w| fmt_value(*w)).collect();
            row.push(format!("{:.4}", p.estimate));
            row.push(format!("{:.4}", p.ci_low));
            row.push(format!("{:.4}", p.ci_high));
            row.push(
                serde_json::to_value(p.verdict)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default(),
            );
            row
        })
        .collect();
    format!(
        "\nWhere the verdict on R flips (treatment wins on {:.0}% of the grid, loses on {:.0}%)\n{}",
        100.0 * s.share_wins,
        100.0 * s.share_loses,
        plain_table(&h, &rows)
    )
}

/// Flags of `simulate recommender`.
#[derive(Debug, Args)]
pub struct SimulateRecommenderArgs {
    /// Random seed (the bundled dataset uses the default).
    #[arg(long, default_value_t = RecommenderConfig::default().seed)]
    seed: u64,
    /// Output directory (created if needed).
    #[arg(long)]
    out: PathBuf,
    /// Customers in the history file and in each experiment file.
    #[arg(long, default_value_t = RecommenderConfig::default().history_customers)]
    customers: usize,
    /// The direct effect of the reward model on revenue_90d in experiment_broken.csv (breaks
    /// surrogacy).
    #[arg(long, default_value_t = RecommenderConfig::default().direct_effect, allow_negative_numbers = true)]
    direct_effect: f64,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// Writes the recommender files and reports every file written with the true weights and
/// effects (table: lists; JSON: `files`, `weights`, `true_effects`; CSV: the true effects on
/// stdout and one `wrote <path>` line per file on stderr).
pub fn simulate(a: SimulateRecommenderArgs) -> Result<Rendered, CliError> {
    let config = RecommenderConfig {
        history_customers: a.customers,
        experiment_customers: a.customers,
        direct_effect: a.direct_effect,
        ..RecommenderConfig::default()
    }
    .with_seed(a.seed);
    let written = write_recommender(&config, &a.out).map_err(|e| CliError::bad(e.to_string()))?;
    let truth = recommender_truth(&config).map_err(|e| CliError::bad(e.to_string()))?;
    let mut files: Vec<&PathBuf> = written.data.iter().collect();
    files.push(&written.truth);
    let mut rows: Vec<(String, f64)> = truth
        .signal_effects
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    rows.push(("nps".into(), truth.nps_effect));
    rows.push(("revenue_90d".into(), truth.long_term_effect));
    rows.push((
        "revenue_90d (experiment_broken)".into(),
        truth.long_term_effect_broken,
    ));
    Ok(match a.format {
        Format::Json => {
            let v = serde_json::json!({
                "seed": a.seed,
                "customers": a.customers,
                "files": files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
                "weights": truth.weights,
                "true_effects": rows.iter().map(|(k, v)| serde_json::json!({"outcome": k, "effect": v})).collect::<Vec<_>>(),
            });
            Rendered::from(
                serde_json::to_string_pretty(&v).map_err(|e| CliError::internal(e.to_string()))?
                    + "\n",
            )
        }
        Format::Csv => Rendered {
            stdout: csv(
                &["outcome", "true_effect"],
                &rows
                    .iter()
                    .map(|(k, v)| vec![k.clone(), fmt_value(*v)])
                    .collect::<Vec<_>>(),
            ),
            stderr: files
                .iter()
                .map(|p| format!("wrote {}\n", p.display()))
                .collect(),
        },
        Format::Table => {
            let mut s = format!(
                "Simulated recommender release (seed {}, {} customers per file)\n",
                a.seed, a.customers
            );
            for p in &files {
                s += &format!("  {}\n", p.display());
            }
            s += "\nTrue weights of revenue_90d on the signals\n";
            s += &plain_table(
                &["signal", "weight"],
                &truth
                    .weights
                    .iter()
                    .map(|(k, v)| vec![k.clone(), fmt_value(*v)])
                    .collect::<Vec<_>>(),
            );
            s += "\nTrue effects of the reward model (engagement -> reward)\n";
            s += &plain_table(
                &["outcome", "true effect"],
                &rows
                    .iter()
                    .map(|(k, v)| vec![k.clone(), format!("{v:.6}")])
                    .collect::<Vec<_>>(),
            );
            Rendered::from(s)
        }
    })
}

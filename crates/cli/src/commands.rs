//! Subcommands.

use crate::output::{csv, num, plain_table, render, CliError, Format, Rendered, SimSummary};
use causalkit_data::{self as data, Dataset, Kpi, MissingPolicy};
use causalkit_stats::{fmt_value, Factor, FixedEffects, LinearModel, Report, Vcov};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// causalkit: causal inference and experiment analysis.
#[derive(Debug, Parser)]
#[command(name = "causalkit", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Also write one self-contained HTML report of the result (ab, did, synth, uplift fit,
    /// attribute).
    #[arg(long, global = true, value_name = "FILE.html")]
    report: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Columns, types, missing values and KPI summaries of a CSV or Parquet file.
    Describe(DescribeArgs),
    /// Linear regression (OLS/WLS) with absorbed fixed effects and robust or clustered errors.
    Regress(RegressArgs),
    /// A/B test analysis (unit rows or pre-aggregated sufficient statistics), and `ab plan`.
    Ab(crate::ab::AbArgs),
    /// Difference-in-differences: 2x2, TWFE, event study, Callaway-Sant'Anna, Sun-Abraham,
    /// imputation.
    Did(crate::did::DidArgs),
    /// Synthetic control family: Abadie SC, synthetic DiD, DiD, augmented SC.
    Synth(crate::synth::SynthArgs),
    /// Uplift models: `uplift fit` (fit and evaluate on a held-out split), `uplift score`.
    Uplift(crate::uplift::UpliftArgs),
    /// Render saved results (`--format json` output) as one self-contained HTML report.
    Report(crate::report::ReportArgs),
    /// Release attribution: a release spec and raw logs to KPI effects and money.
    Attribute(crate::attribute::AttributeArgs),
    /// Print the SQL that aggregates the A/B statistics in a warehouse (the same as
    /// `ab --dialect NAME --table T --explain`); run it there and read its result back with
    /// `ab --stats FILE`.
    Sql(crate::warehouse::SqlArgs),
    /// Reward design: `reward calibrate` (weights against long-term value, the surrogate
    /// index) and `reward evaluate` (a reward in an experiment).
    Reward(crate::reward::RewardArgs),
    /// Write simulated data with known ground truth.
    Simulate {
        #[command(subcommand)]
        what: SimulateWhat,
    },
}

#[derive(Debug, Args)]
struct Common {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Drop rows with missing values in the columns used (the count dropped is reported)
    /// instead of failing.
    #[arg(long)]
    drop_missing: bool,
}

impl Common {
    fn policy(&self) -> MissingPolicy {
        if self.drop_missing {
            MissingPolicy::Drop
        } else {
            MissingPolicy::Error
        }
    }
}

/// The documented shape of `causalkit describe --format json` (shown by `describe --help`).
///
/// One JSON object: `source` (the file as given), `rows` (integer), `columns` (one object per
/// column, in file order) and `kpis` (one object per KPI and group; empty without `--kpi`).
/// Counts, and the minimum and maximum of integer columns, are integers; summaries of
/// non-numeric columns are `null`.
pub const DESCRIBE_JSON_SHAPE: &str = "\
JSON output (--format json) is one object:
  {\"source\": \"<file>\", \"rows\": <integer>,
   \"columns\": [{\"name\": \"<column>\", \"dtype\": \"<polars dtype, e.g. i64, f64, str>\",
                \"missing\": <integer>, \"distinct\": <integer>,
                \"mean\": <number|null>, \"std\": <number|null>,
                \"min\": <number|null>, \"max\": <number|null>}, ...],
   \"kpis\": [{\"kpi\": \"<name>\", \"group\": \"<--by value, or all>\", \"n\": <integer>,
             \"value\": <number>, \"std_error\": <number>,
             \"dropped_rows\": <integer>}, ...]}
Columns are listed in file order; mean/std/min/max are null for non-numeric columns, and
min/max of integer (and boolean) columns are integers; n counts
analysis units (rows, or --unit values); kpis is empty without --kpi.
CSV output (--format csv) is the columns table, then (after a blank line) the KPI table, with
the same field names as headers.";

#[derive(Debug, Args)]
#[command(after_long_help = DESCRIBE_JSON_SHAPE)]
struct DescribeArgs {
    /// The data file (.csv or .parquet).
    file: PathBuf,
    /// KPI definition, repeatable: `name=mean(col)`, `proportion(col)`, `ratio(num, den|count)`,
    /// `nps(col)`, `topbox(col, threshold)`, `composite(0.5*a + 2*b)`.
    #[arg(long = "kpi")]
    kpis: Vec<String>,
    /// Summarise KPIs per value of this column (e.g. the arm).
    #[arg(long)]
    by: Option<String>,
    /// Analysis unit whose rows are summed before summarising (e.g. agent).
    #[arg(long)]
    unit: Option<String>,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum VcovArg {
    Iid,
    Hc0,
    Hc1,
    Hc2,
    Hc3,
}

#[derive(Debug, Args)]
struct RegressArgs {
    /// The data file (.csv or .parquet).
    #[arg(long)]
    data: PathBuf,
    /// Outcome column.
    #[arg(long)]
    outcome: String,
    /// Regressors, comma separated; a text column becomes dummies (first level in sorted
    /// order is the reference), named `col[level]` — unless most of its values are numbers,
    /// in which case the first non-number is reported as bad input.
    #[arg(long, value_delimiter = ',')]
    regressors: Vec<String>,
    /// Fixed effects to absorb, comma separated.
    #[arg(long, value_delimiter = ',')]
    fe: Vec<String>,
    /// Cluster variable(s): one for CRV1, two (comma separated) for two-way CRV1.
    #[arg(long, value_delimiter = ',')]
    cluster: Vec<String>,
    /// Variance estimator when not clustering (default hc1).
    #[arg(long, value_enum)]
    vcov: Option<VcovArg>,
    /// Analytic weights column.
    #[arg(long)]
    weights: Option<String>,
    /// Significance level of the confidence intervals.
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// Write a coefficient forest plot (SVG and PNG) into this directory.
    #[arg(long)]
    plot: Option<PathBuf>,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Subcommand)]
enum SimulateWhat {
    /// Contact-centre logs for an A/B test and a staggered rollout of an intent-routing model.
    ContactCentre {
        /// Random seed (the bundled dataset uses the default).
        #[arg(long, default_value_t = 20240601)]
        seed: u64,
        /// Output directory (created if needed).
        #[arg(long)]
        out: PathBuf,
        /// Multiply the default volume (about 20,000 contacts per design) by this factor.
        #[arg(long, default_value_t = 1)]
        scale: u32,
        /// Output format of the summary.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// An intent-classification model release (randomised, rollout by site, single site) with
    /// release specs and the true KPI effects, money per value node and per confusion cell.
    IntentRelease(crate::simulate_intent::IntentReleaseArgs),
    /// An e-commerce recommender release (history for calibrating a reward, an experiment
    /// with surrogacy holding and one with it broken) with the true weights and effects.
    Recommender(crate::reward::SimulateRecommenderArgs),
    /// Uplift customers (persuadables, sure things, lost causes, sleeping dogs; email and
    /// call arms; `converted` and `spend`) with the true per-customer effects, as one CSV.
    Uplift {
        /// Random seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Customers.
        #[arg(long, default_value_t = 20_000)]
        rows: usize,
        /// Output CSV file.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Runs a parsed command line, returning what to print on stdout and on stderr.
pub fn run(cli: Cli) -> Result<Rendered, CliError> {
    let out = run_command(cli.command)?;
    crate::report::finish(cli.report.as_deref(), out)
}

fn run_command(command: Command) -> Result<Rendered, CliError> {
    match command {
        Command::Describe(a) => describe(a).map(Rendered::from),
        Command::Regress(a) => regress(a),
        // `.map(Into::into)` accepts both `String` and `Rendered` from the subcommand modules.
        #[allow(clippy::useless_conversion)]
        Command::Ab(a) => crate::ab::run(a).map(Into::into),
        #[allow(clippy::useless_conversion)]
        Command::Did(a) => crate::did::run(a).map(Into::into),
        #[allow(clippy::useless_conversion)]
        Command::Synth(a) => crate::synth::run(a).map(Into::into),
        Command::Uplift(a) => crate::uplift::run(a),
        Command::Report(a) => crate::report::run(a),
        Command::Attribute(a) => crate::attribute::run(a),
        Command::Sql(a) => crate::warehouse::sql(&a),
        Command::Reward(a) => crate::reward::run(a),
        Command::Simulate {
            what: SimulateWhat::IntentRelease(a),
        } => crate::simulate_intent::run(a),
        Command::Simulate {
            what: SimulateWhat::Recommender(a),
        } => crate::reward::simulate(a),
        Command::Simulate {
            what: SimulateWhat::Uplift { seed, rows, out },
        } => {
            std::fs::write(&out, causalkit_sim::uplift::uplift_csv(rows, seed))
                .map_err(|e| CliError::bad(format!("cannot write {}: {e}", out.display())))?;
            Ok(Rendered::from(format!(
                "wrote {rows} customers to {}\n",
                out.display()
            )))
        }
        Command::Simulate {
            what:
                SimulateWhat::ContactCentre {
                    seed,
                    out,
                    scale,
                    format,
                },
        } => simulate(seed, &out, scale, format),
    }
}

fn describe(a: DescribeArgs) -> Result<String, CliError> {
    let data = Dataset::read(&a.file)?;
    let kpis: Vec<Kpi> = a.kpis.iter().map(|s| s.parse()).collect::<Result<_, _>>()?;
    let d = data::describe(
        &data,
        &kpis,
        a.by.as_deref(),
        a.unit.as_deref(),
        a.common.policy(),
    )?;
    if a.common.format == Format::Json {
        return Ok(serde_json::to_string_pretty(&d)
            .map_err(|e| CliError::internal(e.to_string()))?
            + "\n");
    }
    // CSV keeps full precision (shortest round-trip numbers); the table shows six decimals.
    let is_csv = a.common.format == Format::Csv;
    let num = |x: Option<f64>| {
        if is_csv {
            x.map(fmt_value).unwrap_or_default()
        } else {
            num(x)
        }
    };
    let column_rows: Vec<Vec<String>> = d
        .columns
        .iter()
        .map(|c| {
            vec![
                c.name.clone(),
                c.dtype.clone(),
                c.missing.to_string(),
                c.distinct.to_string(),
                num(c.mean),
                num(c.std),
                // Integer columns' minimum and maximum as integers (CSV prints whole
                // numbers without decimals already).
                if is_csv {
                    num(c.min)
                } else {
                    c.show_stat(c.min, 6)
                },
                if is_csv {
                    num(c.max)
                } else {
                    c.show_stat(c.max, 6)
                },
            ]
        })
        .collect();
    let kpi_rows: Vec<Vec<String>> = d
        .kpis
        .iter()
        .map(|k| {
            vec![
                k.kpi.clone(),
                k.group.clone(),
                k.n.to_string(),
                num(Some(k.value)),
                num(Some(k.std_error)),
                k.dropped_rows.to_string(),
            ]
        })
        .collect();
    let column_header = [
        "column", "dtype", "missing", "distinct", "mean", "std", "min", "max",
    ];
    let kpi_header = ["kpi", "group", "n", "value", "std_error", "dropped_rows"];
    let mut s = String::new();
    if a.common.format == Format::Csv {
        s += &csv(&column_header, &column_rows);
        if !kpi_rows.is_empty() {
            s += "\n";
            s += &csv(&kpi_header, &kpi_rows);
        }
        return Ok(s);
    }
    s += &format!(
        "{}: {} rows, {} columns\n\n",
        d.source,
        d.rows,
        d.columns.len()
    );
    s += &plain_table(&column_header, &column_rows);
    if !kpi_rows.is_empty() {
        s += "\nKPIs";
        if let Some(u) = &a.unit {
            s += &format!(
                " (analysis unit: {u}; standard errors over units, delta method for ratios)"
            );
        }
        s += "\n";
        s += &plain_table(&kpi_header, &kpi_rows);
    }
    Ok(s)
}

fn regress(a: RegressArgs) -> Result<Rendered, CliError> {
    if a.regressors.is_empty() && a.fe.is_empty() {
        return Err(CliError::bad(
            "give at least one regressor (--regressors) or fixed effect (--fe)",
        ));
    }
    if !a.cluster.is_empty() && a.vcov.is_some() {
        return Err(CliError::bad(
            "use either --cluster (CRV1) or --vcov, not both",
        ));
    }
    if a.cluster.len() > 2 {
        return Err(CliError::bad(format!(
            "--cluster takes one or two columns, got {}",
            a.cluster.len()
        )));
    }
    let mut roles: Vec<(&str, &str)> = vec![("the outcome (--outcome)", a.outcome.as_str())];
    roles.extend(
        a.regressors
            .iter()
            .map(|r| ("a regressor (--regressors)", r.as_str())),
    );
    roles.extend(a.fe.iter().map(|r| ("a fixed effect (--fe)", r.as_str())));
    roles.extend(
        a.weights
            .iter()
            .map(|r| ("the weight (--weights)", r.as_str())),
    );
    data::roles::check_distinct_roles(&roles)?;
    let data = Dataset::read(&a.data)?;
    let policy = a.common.policy();
    // Every column used, to apply the missing-value policy once.
    let mut used: Vec<&str> = vec![a.outcome.as_str()];
    used.extend(a.regressors.iter().map(String::as_str));
    used.extend(a.fe.iter().map(String::as_str));
    used.extend(a.cluster.iter().map(String::as_str));
    used.extend(a.weights.iter().map(String::as_str));
    let m = data::roles::MaskedColumns::new(&data, &used, &[], policy)?;
    let dropped = m.dropped;
    let filter_num = |c: &str| -> Result<Vec<f64>, CliError> { Ok(m.numeric(c)?) };
    let filter_lab = |c: &str| -> Result<Vec<String>, CliError> { Ok(m.labels(c)?) };
    let y = filter_num(&a.outcome)?;
    let mut model = LinearModel::new(&a.outcome, y);
    for r in &a.regressors {
        for (name, x) in m.regressor(r)? {
            model = model.regressor(&name, x);
        }
    }
    if let Some(w) = &a.weights {
        model = model.weights(filter_num(w)?);
    }
    if !a.fe.is_empty() {
        let factors: Vec<Factor> =
            a.fe.iter()
                .map(|f| Ok(Factor::from_labels(f, &filter_lab(f)?)))
                .collect::<Result<_, CliError>>()?;
        model = model.absorb(FixedEffects::new(factors)?);
    }
    let vcov = match a.cluster.as_slice() {
        [] => match a.vcov.unwrap_or(VcovArg::Hc1) {
            VcovArg::Iid => Vcov::Iid,
            VcovArg::Hc0 => Vcov::Hc0,
            VcovArg::Hc1 => Vcov::Hc1,
            VcovArg::Hc2 => Vcov::Hc2,
            VcovArg::Hc3 => Vcov::Hc3,
        },
        [c] => Vcov::Cluster(Factor::from_labels(c, &filter_lab(c)?)),
        [c1, c2] => Vcov::TwoWayCluster(
            Factor::from_labels(c1, &filter_lab(c1)?),
            Factor::from_labels(c2, &filter_lab(c2)?),
        ),
        _ => unreachable!("checked above"),
    };
    let fit = model.fit()?;
    let table = fit.inference(&vcov, a.alpha)?;
    let mut result = table.result();
    result
        .diagnostics
        .insert("data".into(), a.data.display().to_string().into());
    result
        .diagnostics
        .insert("dropped_rows".into(), dropped.into());
    if dropped > 0 {
        result
            .warnings
            .push(format!("{dropped} row(s) with missing values were dropped"));
    }
    if let Some(dir) = &a.plot {
        let effects: Vec<_> = result
            .effects
            .iter()
            .filter(|e| e.label != "Intercept")
            .cloned()
            .collect();
        let mut charts = Vec::new();
        if !effects.is_empty() {
            let title = format!(
                "{}: coefficients ({})",
                a.outcome,
                result.diagnostics["vcov"].as_str().unwrap_or("")
            );
            charts.push(
                causalkit_report::ForestPlot::new(title)
                    .x_label("estimate")
                    .chart("coefficients", &effects)?,
            );
        }
        causalkit_report::save_all(dir, &charts)?;
    }
    Ok(render(&result, a.common.format, None))
}

/// `simulate contact-centre`: writes the files and reports every file written (table: a list;
/// JSON: the `files` object; CSV: the true effects on stdout and one `wrote <path>` line per
/// file on stderr, so the CSV stays one table).
fn simulate(
    seed: u64,
    out: &std::path::Path,
    scale: u32,
    format: Format,
) -> Result<Rendered, CliError> {
    if scale == 0 {
        return Err(CliError::bad("--scale must be at least 1"));
    }
    let config = causalkit_sim::ContactCentreConfig::default()
        .with_seed(seed)
        .scaled(scale);
    let written = causalkit_sim::write_contact_centre(&config, out)?;
    let truth = causalkit_sim::truth(&config);
    // Every file written, so a user (and a script reading the JSON) knows what appeared.
    let files = [
        ("ab_contacts", &written.ab_contacts),
        ("staggered_contacts", &written.staggered_contacts),
        ("single_site_contacts", &written.single_site_contacts),
        ("truth", &written.truth),
    ];
    let summary = SimSummary {
        seed,
        contacts_per_design: config.contacts_per_design(),
        files: files
            .iter()
            .map(|(k, p)| (k.to_string(), p.as_path()))
            .collect(),
        effects: vec![
            ("ab", "aht_seconds", truth.ab.aht_seconds),
            ("ab", "fcr", truth.ab.fcr),
            ("ab", "csat", truth.ab.csat),
            (
                "staggered_overall_att",
                "aht_seconds",
                truth.staggered.att_overall.effects.aht_seconds,
            ),
            (
                "staggered_overall_att",
                "fcr",
                truth.staggered.att_overall.effects.fcr,
            ),
            (
                "staggered_overall_att",
                "csat",
                truth.staggered.att_overall.effects.csat,
            ),
        ],
    };
    match format {
        Format::Json => summary.json(serde_json::Map::new()),
        Format::Csv => Ok(summary.csv()),
        Format::Table => {
            let mut s = format!(
                "Simulated contact-centre data (seed {seed}, {} contacts per design)\n",
                summary.contacts_per_design
            );
            for (k, p) in &summary.files {
                s += &format!("  {k}: {}\n", p.display());
            }
            s += "\nTrue effects of the intent-routing model\n";
            s += &summary.effects_table();
            Ok(Rendered::from(s))
        }
    }
}

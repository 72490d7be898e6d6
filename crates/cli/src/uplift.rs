//! `causalkit uplift`: uplift model evaluation (`evaluate`) from any scores file.
//!
//! `evaluate` reads a treatment column, an outcome column and one score column per treated
//! arm, and reports the metrics of `causalkit_uplift::metrics` with the labels `qini_auc`,
//! `qini_auc_positive`, `uplift_auc`, `uplift_at_k_overall`, `uplift_at_k_by_group`,
//! `wau_overall`, `wau_by_group`, `causalml_qini`, `causalml_auuc` (an arm's labels get
//! ` (ARM)` appended when there are several arms), the Qini and uplift curves and the
//! uplift-by-percentile table (in the JSON diagnostics), and bootstrap intervals with
//! `--bootstrap B --seed S`.

use crate::output::{num, plain_table, CliError, Format};
use causalkit_data::Dataset;
use causalkit_stats::{EstimationResult, Report};
use causalkit_uplift::metrics::{evaluate, evaluate_arms, ArmsEvaluation, EvalOptions, Ties};
use causalkit_uplift::UpliftError;
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

impl From<UpliftError> for CliError {
    fn from(e: UpliftError) -> Self {
        match e {
            UpliftError::Stats(causalkit_stats::StatsError::NotConverged { .. }) => {
                CliError::internal(e.to_string())
            }
            other => CliError::bad(other.to_string()),
        }
    }
}

/// Arguments of `causalkit uplift`.
#[derive(Debug, Args)]
pub struct UpliftArgs {
    #[command(subcommand)]
    command: UpliftCommand,
}

#[derive(Debug, Subcommand)]
enum UpliftCommand {
    /// Evaluate uplift scores: Qini, AUUC, uplift@k, WAU, curves, percentile table.
    Evaluate(EvaluateArgs),
}

/// Tie rule for metrics that cut the ranking at a row position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TiesArg {
    /// A cut tie group contributes the cut fraction of its sums (independent of row order).
    Grouped,
    /// The peers' row-order conventions (scikit-uplift: descending row index inside ties;
    /// causalml: ascending).
    RowOrder,
}

/// Arguments of `causalkit uplift evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The data file (.csv or .parquet).
    #[arg(long)]
    data: PathBuf,
    /// Treatment column.
    #[arg(long)]
    treatment: String,
    /// Value of the treatment column marking control rows (default: `0` or `false`).
    #[arg(long)]
    control: Option<String>,
    /// Treated value(s) to evaluate, in the order of --score (default: every other value,
    /// sorted).
    #[arg(long, value_delimiter = ',')]
    treated: Vec<String>,
    /// Outcome column (0/1 or continuous).
    #[arg(long)]
    outcome: String,
    /// Score column(s): one per treated arm, in the order of --treated.
    #[arg(long, value_delimiter = ',', required = true)]
    score: Vec<String>,
    /// Fraction targeted for uplift@k.
    #[arg(long, default_value_t = 0.3)]
    k: f64,
    /// Bins of the percentile table and WAU.
    #[arg(long, default_value_t = 10)]
    bins: usize,
    /// Bootstrap replicates for intervals (0: none).
    #[arg(long, default_value_t = 0)]
    bootstrap: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Tie rule for uplift@k, the percentile table, WAU and causalml's curves.
    #[arg(long, value_enum, default_value_t = TiesArg::Grouped)]
    ties: TiesArg,
    /// Scores within this relative distance of a group's first score are tied.
    #[arg(long, default_value_t = causalkit_uplift::metrics::DEFAULT_TIE_TOLERANCE)]
    tie_tolerance: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// Runs `causalkit uplift ...`.
pub fn run(a: UpliftArgs) -> Result<String, CliError> {
    match a.command {
        UpliftCommand::Evaluate(e) => run_evaluate(e),
    }
}

fn no_missing(column: &str, v: Vec<Option<f64>>) -> Result<Vec<f64>, CliError> {
    v.into_iter()
        .enumerate()
        .map(|(row, x)| {
            x.ok_or_else(|| {
                CliError::bad(format!("missing value in column `{column}` at row {row}"))
            })
        })
        .collect()
}

fn run_evaluate(a: EvaluateArgs) -> Result<String, CliError> {
    let data = Dataset::read(&a.data)?;
    let labels = data.labels(&a.treatment)?;
    let labels: Vec<String> = labels
        .into_iter()
        .enumerate()
        .map(|(row, l)| {
            l.ok_or_else(|| {
                CliError::bad(format!(
                    "missing value in column `{}` at row {row}",
                    a.treatment
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    let mut values: Vec<String> = labels.clone();
    values.sort();
    values.dedup();
    let control = match &a.control {
        Some(c) => c.clone(),
        None => ["0", "false", "0.0"]
            .iter()
            .find(|c| values.iter().any(|v| v == *c))
            .map(|c| c.to_string())
            .ok_or_else(|| {
                CliError::bad(format!(
                    "column `{}` has no value 0 or false; name the control value with --control (values: {})",
                    a.treatment,
                    values.join(", ")
                ))
            })?,
    };
    if !values.contains(&control) {
        return Err(CliError::bad(format!(
            "control value `{control}` does not occur in column `{}` (values: {})",
            a.treatment,
            values.join(", ")
        )));
    }
    let arms: Vec<String> = if a.treated.is_empty() {
        values.iter().filter(|v| **v != control).cloned().collect()
    } else {
        for t in &a.treated {
            if !values.contains(t) {
                return Err(CliError::bad(format!(
                    "treated value `{t}` does not occur in column `{}`",
                    a.treatment
                )));
            }
        }
        a.treated.clone()
    };
    if arms.is_empty() {
        return Err(CliError::bad(format!(
            "column `{}` has only the control value `{control}`",
            a.treatment
        )));
    }
    if a.score.len() != arms.len() {
        return Err(CliError::bad(format!(
            "{} treated arm(s) ({}) need as many --score columns, got {}",
            arms.len(),
            arms.join(", "),
            a.score.len()
        )));
    }
    let y = no_missing(&a.outcome, data.numeric(&a.outcome)?)?;
    let scores: Vec<Vec<f64>> = a
        .score
        .iter()
        .map(|c| no_missing(c, data.numeric(c)?))
        .collect::<Result<_, _>>()?;
    let options = EvalOptions {
        k: a.k,
        bins: a.bins,
        tie_tolerance: a.tie_tolerance,
        ties: match a.ties {
            TiesArg::Grouped => Ties::Grouped,
            TiesArg::RowOrder => Ties::RowOrder,
        },
        bootstrap: a.bootstrap,
        seed: a.seed,
        alpha: 0.05,
    };
    let (result, tables) = if arms.len() == 1 {
        // Rows of other treatment values are left out.
        let rows: Vec<usize> = (0..y.len())
            .filter(|&i| labels[i] == control || labels[i] == arms[0])
            .collect();
        let yy: Vec<f64> = rows.iter().map(|&i| y[i]).collect();
        let tt: Vec<bool> = rows.iter().map(|&i| labels[i] == arms[0]).collect();
        let ss: Vec<f64> = rows.iter().map(|&i| scores[0][i]).collect();
        let ev = evaluate(&yy, &tt, &ss, &options)?;
        let table = percentile_table(&ev);
        (ev.result(), vec![(None, table)])
    } else {
        let arm: Vec<Option<usize>> = labels
            .iter()
            .map(|l| arms.iter().position(|a| a == l))
            .collect();
        let keep: Vec<usize> = (0..y.len())
            .filter(|&i| labels[i] == control || arm[i].is_some())
            .collect();
        let yy: Vec<f64> = keep.iter().map(|&i| y[i]).collect();
        let aa: Vec<Option<usize>> = keep.iter().map(|&i| arm[i]).collect();
        let ss: Vec<Vec<f64>> = scores
            .iter()
            .map(|s| keep.iter().map(|&i| s[i]).collect())
            .collect();
        let evs = evaluate_arms(&yy, &aa, &arms, &ss, &options)?;
        let tables = evs
            .iter()
            .map(|e| (e.arm.clone(), percentile_table(e)))
            .collect();
        (ArmsEvaluation(evs).result(), tables)
    };
    Ok(render(&result, a.format, &tables))
}

fn percentile_table(ev: &causalkit_uplift::UpliftEvaluation) -> String {
    let rows: Vec<Vec<String>> = ev
        .percentiles
        .iter()
        .map(|r| {
            vec![
                r.percentile.clone(),
                format!("{}", r.n_treatment),
                format!("{}", r.n_control),
                num(r.response_rate_treatment),
                num(r.response_rate_control),
                num(r.uplift),
                num(r.std_uplift),
            ]
        })
        .collect();
    plain_table(
        &[
            "percentile",
            "n_treatment",
            "n_control",
            "rate_treatment",
            "rate_control",
            "uplift",
            "std_uplift",
        ],
        &rows,
    )
}

fn render(
    result: &EstimationResult,
    format: Format,
    tables: &[(Option<String>, String)],
) -> String {
    match format {
        Format::Json => result.to_json() + "\n",
        Format::Csv => result.to_csv(),
        Format::Table => {
            // The curves and the table live in the JSON diagnostics; the table view shows
            // the metrics and the percentile table.
            let mut short = result.clone();
            short.diagnostics.retain(|k, v| {
                !matches!(
                    k.as_str(),
                    "qini_curve" | "uplift_curve" | "uplift_by_percentile"
                ) && !v.is_object()
            });
            let mut s = short.to_table();
            for (arm, t) in tables {
                s += "\nUplift by percentile";
                if let Some(a) = arm {
                    s += &format!(" ({a})");
                }
                s += ":\n";
                s += t;
            }
            s
        }
    }
}

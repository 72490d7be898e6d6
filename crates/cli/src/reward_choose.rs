//! `causalkit reward choose`: the weights a value model implies, the value-maximising weights
//! under guardrail margins and the Pareto frontier between long-term value and one KPI
//! (issue 16; the formulation is in `causalkit_reward::choose`).

use crate::output::{plain_table, render_keeping, scalar_diagnostic, CliError, Format, Rendered};
use crate::reward::{dense, parse_guardrail, reward_err};
use causalkit_data::Dataset;
use causalkit_reward::calibrate::{Calibration, IndexKind};
use causalkit_reward::choose::{
    choose, implied_weights, pareto, parse_values, ChoiceProblem, ChoiceReport, GuardrailModel,
    ImpliedWeights, Pareto,
};
use causalkit_reward::{calibrate, CalibrateOptions, CalibrationData, Reward};
use causalkit_stats::{fmt_value, Effect, EstimationResult};
use clap::Args;
use nalgebra::DMatrix;
use serde_json::json;
use std::path::PathBuf;

/// Flags of `reward choose`.
#[derive(Debug, Args)]
pub struct ChooseArgs {
    /// The history (.csv or .parquet): the signals' covariance, the guardrails' slopes on the
    /// signals and their baselines come from it.
    #[arg(long)]
    data: PathBuf,
    /// The value model: a calibration from `reward calibrate --out` (its linear weights).
    #[arg(long, conflicts_with = "value")]
    calibration: Option<PathBuf>,
    /// The value model given directly: long-term value per unit of each signal, e.g.
    /// click=0.3,add_to_cart=1,purchase=15,return=-20.
    #[arg(long, allow_hyphen_values = true)]
    value: Option<String>,
    /// The signals (default: the value model's).
    #[arg(long, value_delimiter = ',')]
    signals: Vec<String>,
    /// Covariates of the guardrails' regressions on the signals (default: the calibration's).
    #[arg(long, value_delimiter = ',')]
    covariates: Vec<String>,
    /// Guardrail `metric:margin`, repeatable: its predicted mean may worsen by at most
    /// margin × its history mean (a negative margin requires an improvement), e.g. nps:0.02.
    #[arg(long = "guardrail", allow_hyphen_values = true)]
    guardrails: Vec<String>,
    /// Guardrails where lower is better (e.g. return), comma separated.
    #[arg(long = "lower-is-better", value_delimiter = ',')]
    lower_is_better: Vec<String>,
    /// Size of the move a retrained model makes, in multivariate standard deviations of the
    /// signals across units.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    radius: f64,
    /// The reward in use: the weights are scaled like it, it is scored the same way, and the
    /// implied weights are shown next to it.
    #[arg(long, allow_hyphen_values = true)]
    reward: Option<String>,
    /// A guardrail: the Pareto frontier between long-term value and it.
    #[arg(long)]
    pareto: Option<String>,
    /// Points on the frontier.
    #[arg(long = "pareto-points", default_value_t = 11)]
    pareto_points: usize,
    /// Write the frontier chart (`pareto.svg`, `pareto.png`) into this directory.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// The value model: (signal, value per unit), where it comes from, and the calibration's
/// covariates (none for `--value`).
struct ValueModel {
    values: Vec<(String, f64)>,
    source: String,
    covariates: Vec<String>,
}

fn value_model(a: &ChooseArgs) -> Result<ValueModel, CliError> {
    match (&a.calibration, &a.value) {
        (Some(p), None) => {
            let cal = Calibration::load(p).map_err(reward_err)?;
            let w = cal.weights().ok_or_else(|| {
                CliError::bad(format!(
                    "{}: a {} calibration has no weights; use a linear calibration or --value",
                    p.display(),
                    match cal.kind {
                        IndexKind::Gbdt => "boosted",
                        IndexKind::Linear => "linear",
                    }
                ))
            })?;
            Ok(ValueModel {
                values: w,
                source: format!(
                    "calibration {} (linear surrogate index of {})",
                    p.display(),
                    cal.long_term
                ),
                covariates: cal.covariates.clone(),
            })
        }
        (None, Some(v)) => Ok(ValueModel {
            values: parse_values(v).map_err(reward_err)?,
            source: "--value".into(),
            covariates: Vec::new(),
        }),
        _ => Err(CliError::bad(
            "reward choose needs a value model: --calibration cal.json or --value click=0.3,purchase=15,...",
        )),
    }
}

/// Implied weights of a value model next to a reward, as a table.
pub fn implied_table(iw: &ImpliedWeights) -> String {
    let rows: Vec<Vec<String>> = iw
        .weights
        .iter()
        .map(|w| {
            vec![
                w.signal.clone(),
                fmt_value(w.value_per_unit),
                fmt_value(w.implied_weight),
                w.reward_weight.map(fmt_value).unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    format!(
        "\nWeights implied by the value model ({}; scaled so `{}` matches the reward)\n{}",
        iw.source,
        iw.anchor,
        plain_table(
            &[
                "signal",
                "value per unit",
                "implied weight",
                "reward weight"
            ],
            &rows
        )
    )
}

fn choice_tables(c: &ChoiceReport) -> String {
    let mut h = vec!["signal", "value per unit", "unconstrained", "chosen"];
    if c.reward.is_some() {
        h.push("reward");
    }
    let rows: Vec<Vec<String>> = c
        .signals
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut r = vec![
                s.clone(),
                fmt_value(c.value[i]),
                format!("{:.4}", c.unconstrained.weights[i]),
                format!("{:.4}", c.constrained.weights[i]),
            ];
            if let Some(rw) = &c.reward {
                r.push(fmt_value(rw.weights[i]));
            }
            r
        })
        .collect();
    let mut s = format!(
        "\nWeights ({}; move of size {})\n{}",
        c.normalisation,
        fmt_value(c.radius),
        plain_table(&h, &rows)
    );
    let mut gh = vec!["guardrail", "worst allowed", "chosen", "unconstrained"];
    if c.reward.is_some() {
        gh.push("reward");
    }
    gh.extend(["binding", "multiplier"]);
    let grows: Vec<Vec<String>> = c
        .constrained
        .guardrails
        .iter()
        .enumerate()
        .map(|(j, g)| {
            let mut r = vec![
                g.name.clone(),
                format!("{:.6}", g.bound),
                format!("{:.6}", g.predicted_change),
                format!("{:.6}", c.unconstrained.guardrails[j].predicted_change),
            ];
            if let Some(rw) = &c.reward {
                r.push(format!("{:.6}", rw.guardrails[j].predicted_change));
            }
            r.push(if g.binding { "yes" } else { "no" }.into());
            r.push(format!("{:.6}", g.multiplier));
            r
        })
        .collect();
    if !grows.is_empty() {
        s += &format!(
            "\nPredicted guardrail changes per unit\n{}",
            plain_table(&gh, &grows)
        );
    }
    s
}

fn pareto_table(p: &Pareto) -> String {
    let mut h: Vec<String> = vec!["value change".into(), format!("{} change", p.kpi)];
    h.extend(p.signals.iter().map(|s| format!("w[{s}]")));
    h.push("binding".into());
    let hh: Vec<&str> = h.iter().map(String::as_str).collect();
    let rows: Vec<Vec<String>> = p
        .points
        .iter()
        .map(|pt| {
            let mut r = vec![
                format!("{:.6}", pt.value_change),
                format!("{:.6}", pt.kpi_change),
            ];
            r.extend(pt.weights.iter().map(|w| format!("{w:.4}")));
            r.push(if pt.binding.is_empty() {
                "-".into()
            } else {
                pt.binding.join(",")
            });
            r
        })
        .collect();
    format!(
        "\nPareto frontier: predicted long-term value vs {}\n{}",
        p.kpi,
        plain_table(&hh, &rows)
    )
}

fn covariance(cols: &[Vec<f64>]) -> DMatrix<f64> {
    let k = cols.len();
    let n = cols.first().map_or(0, Vec::len) as f64;
    let means: Vec<f64> = cols.iter().map(|c| c.iter().sum::<f64>() / n).collect();
    DMatrix::from_fn(k, k, |i, j| {
        cols[i]
            .iter()
            .zip(&cols[j])
            .map(|(a, b)| (a - means[i]) * (b - means[j]))
            .sum::<f64>()
            / (n - 1.0)
    })
}

/// Runs `reward choose`.
pub fn run(a: ChooseArgs) -> Result<Rendered, CliError> {
    let ValueModel {
        values,
        source,
        covariates: cal_covs,
    } = value_model(&a)?;
    let reward = a
        .reward
        .as_deref()
        .map(Reward::parse)
        .transpose()
        .map_err(|e| CliError::bad(format!("--reward: {e}")))?;
    let signals: Vec<String> = if a.signals.is_empty() {
        values.iter().map(|(s, _)| s.clone()).collect()
    } else {
        a.signals.clone()
    };
    let value: Vec<f64> = signals
        .iter()
        .map(|s| {
            values
                .iter()
                .find(|(n, _)| n == s)
                .map(|(_, v)| *v)
                .ok_or_else(|| {
                    CliError::bad(format!(
                        "--signals: `{s}` has no value in the value model ({source}; it values {})",
                        values
                            .iter()
                            .map(|(n, _)| n.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })
        })
        .collect::<Result<_, CliError>>()?;
    let covariates = if a.covariates.is_empty() {
        cal_covs
    } else {
        a.covariates.clone()
    };
    let data = Dataset::read(&a.data)?;
    let sig_cols: Vec<Vec<f64>> = signals
        .iter()
        .map(|s| dense(&data, s, "signal"))
        .collect::<Result<_, CliError>>()?;
    let cov_cols: Vec<Vec<f64>> = covariates
        .iter()
        .map(|s| dense(&data, s, "covariate"))
        .collect::<Result<_, CliError>>()?;
    let mut guardrails = Vec::new();
    for g in &a.guardrails {
        let (m, margin) = parse_guardrail(g)?;
        let lower = a.lower_is_better.iter().any(|l| l == m);
        guardrails.push(guardrail_model(
            &data,
            m,
            margin,
            lower,
            &signals,
            &sig_cols,
            &covariates,
            &cov_cols,
        )?);
    }
    for l in &a.lower_is_better {
        if !guardrails.iter().any(|g| &g.name == l) {
            return Err(CliError::bad(format!(
                "--lower-is-better `{l}` names no --guardrail"
            )));
        }
    }
    let problem = ChoiceProblem {
        signals: signals.clone(),
        value,
        value_source: source.clone(),
        guardrails,
        covariance: covariance(&sig_cols),
        radius: a.radius,
    };
    let report = choose(&problem, reward.as_ref()).map_err(reward_err)?;
    let front = match &a.pareto {
        Some(k) => Some(pareto(&problem, k, a.pareto_points, reward.as_ref()).map_err(reward_err)?),
        None => None,
    };
    let implied = match &reward {
        Some(r) => Some(implied_weights(&values, r, &source).map_err(reward_err)?),
        None => None,
    };
    let mut r = EstimationResult::new(
        "constrained weight choice (second-order-cone program, clarabel)",
        "weights maximising predicted long-term value within guardrail margins",
    );
    let eff = |label: String, x: f64| Effect {
        label,
        estimate: x,
        std_error: None,
        ci_low: None,
        ci_high: None,
        p_value: None,
        key: Default::default(),
    };
    r.effects.push(eff(
        "predicted value change: chosen weights".into(),
        report.constrained.value_change,
    ));
    r.effects.push(eff(
        "predicted value change: unconstrained (implied) weights".into(),
        report.unconstrained.value_change,
    ));
    if let Some(rw) = &report.reward {
        r.effects.push(eff(
            "predicted value change: the reward".into(),
            rw.value_change,
        ));
    }
    for g in &report.constrained.guardrails {
        r.effects.push(eff(
            format!("predicted change: {} (chosen weights)", g.name),
            g.predicted_change,
        ));
    }
    let d = &mut r.diagnostics;
    d.insert("formulation".into(), json!(report.formulation));
    d.insert("value_source".into(), json!(source));
    d.insert("radius".into(), json!(a.radius));
    d.insert(
        "cost_of_guardrails".into(),
        json!(report.cost_of_guardrails),
    );
    d.insert(
        "binding".into(),
        json!(report
            .constrained
            .guardrails
            .iter()
            .filter(|g| g.binding)
            .map(|g| g.name.clone())
            .collect::<Vec<_>>()),
    );
    d.insert(
        "choice".into(),
        serde_json::to_value(&report).map_err(|e| CliError::internal(e.to_string()))?,
    );
    d.insert(
        "guardrail_models".into(),
        serde_json::to_value(&problem.guardrails).map_err(|e| CliError::internal(e.to_string()))?,
    );
    let mut extra = choice_tables(&report);
    if let Some(iw) = &implied {
        extra += &implied_table(iw);
        r.diagnostics.insert(
            "implied_weights".into(),
            serde_json::to_value(iw).map_err(|e| CliError::internal(e.to_string()))?,
        );
    }
    if let Some(p) = &front {
        extra += &pareto_table(p);
        r.diagnostics.insert(
            "pareto".into(),
            serde_json::to_value(p).map_err(|e| CliError::internal(e.to_string()))?,
        );
        if let Some(dir) = &a.plot {
            let v = serde_json::to_value(p).map_err(|e| CliError::internal(e.to_string()))?;
            if let Some(c) = causalkit_report::html::reward::pareto_chart(&v, "pareto")? {
                causalkit_report::save_all(dir, &[c])?;
            }
        }
    } else if a.plot.is_some() {
        return Err(CliError::bad(
            "--plot draws the Pareto frontier: give --pareto KPI",
        ));
    }
    crate::report::capture(&r);
    Ok(render_keeping(
        &r,
        a.format,
        Some(&extra),
        scalar_diagnostic,
    ))
}

/// A guardrail's linear model: the unit vector when it is a signal, else the linear
/// regression of the guardrail on the signals (and covariates) over the rows where it is
/// present; the baseline is its mean over those rows.
#[allow(clippy::too_many_arguments)]
fn guardrail_model(
    data: &Dataset,
    name: &str,
    margin: f64,
    lower: bool,
    signals: &[String],
    sig_cols: &[Vec<f64>],
    covariates: &[String],
    cov_cols: &[Vec<f64>],
) -> Result<GuardrailModel, CliError> {
    if let Some(i) = signals.iter().position(|s| s == name) {
        let n = sig_cols[i].len() as f64;
        return Ok(GuardrailModel {
            name: name.into(),
            slopes: (0..signals.len())
                .map(|j| f64::from(u8::from(i == j)))
                .collect(),
            baseline: sig_cols[i].iter().sum::<f64>() / n,
            margin,
            lower_is_better: lower,
            source: "a signal (slope 1 on itself)".into(),
        });
    }
    let col = data
        .numeric(name)
        .map_err(|e| CliError::bad(format!("--guardrail `{name}`: {e}")))?;
    let rows: Vec<usize> = (0..col.len())
        .filter(|&i| col[i].is_some_and(f64::is_finite))
        .collect();
    let pick = |c: &Vec<f64>| rows.iter().map(|&i| c[i]).collect::<Vec<f64>>();
    let y: Vec<f64> = rows.iter().map(|&i| col[i].unwrap_or(f64::NAN)).collect();
    let cd = CalibrationData {
        long_term_name: name.into(),
        long_term: y.clone(),
        signals: signals
            .iter()
            .cloned()
            .zip(sig_cols.iter().map(pick))
            .collect(),
        covariates: covariates
            .iter()
            .cloned()
            .zip(cov_cols.iter().map(pick))
            .collect(),
        unit: None,
    };
    let opts = CalibrateOptions {
        bootstrap: 0,
        ..CalibrateOptions::default()
    };
    let cal =
        calibrate(&cd, &opts).map_err(|e| CliError::bad(format!("--guardrail `{name}`: {e}")))?;
    let w = cal.weights().unwrap_or_default();
    Ok(GuardrailModel {
        name: name.into(),
        slopes: signals
            .iter()
            .map(|s| w.iter().find(|(n, _)| n == s).map_or(0.0, |(_, x)| *x))
            .collect(),
        baseline: y.iter().sum::<f64>() / y.len() as f64,
        margin,
        lower_is_better: lower,
        source: format!(
            "linear regression on the signals{} over the {} rows where it is present",
            if covariates.is_empty() {
                String::new()
            } else {
                format!(" and {}", covariates.join(", "))
            },
            rows.len()
        ),
    })
}

//! `causalkit uplift`: fit an uplift model on a seeded train split and evaluate it on the
//! held-out rows (`fit`), and score new rows with a saved model (`score`).
//!
//! Text feature columns are coded by the library (ordinal codes by training mean outcome,
//! `causalkit_uplift::pipeline`); missing feature values are an error naming the column and
//! row unless `--allow-missing` (numeric gaps: training median; text gaps: own category).

use crate::output::{num, plain_table, render, render_keeping, CliError, Format, Rendered};
use causalkit_data::Dataset;
use causalkit_stats::{EstimationResult, Report};
use causalkit_uplift::meta::{Base, Learner, MetaLearner, Propensity};
use causalkit_uplift::metrics::{evaluate, evaluate_arms, ArmsEvaluation, EvalOptions, Ties};
use causalkit_uplift::pipeline::{
    train_test_split, FeatureEncoder, ModelSpec, RawColumn, SavedModel, FORMAT_VERSION,
};
use causalkit_uplift::policy::profit_curve;
use causalkit_uplift::{Criterion, ForestOptions, GbdtOptions, TreeOptions, UpliftError};
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Arguments of `causalkit uplift`.
#[derive(Debug, Args)]
pub struct UpliftArgs {
    #[command(subcommand)]
    cmd: UpliftCmd,
}

#[derive(Debug, Subcommand)]
enum UpliftCmd {
    /// Evaluate uplift scores: Qini, AUUC, uplift@k, WAU, curves, percentile table.
    Evaluate(EvaluateArgs),
    /// Fit on a seeded train split and print the evaluation metrics on the test split.
    Fit(FitArgs),
    /// Score new rows with a model saved by `uplift fit --save`.
    Score(ScoreArgs),
}

/// The model of `uplift fit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LearnerArg {
    S,
    T,
    X,
    R,
    Dr,
    ClassTransform,
    Forest,
    Tree,
}

/// Base learner of the meta-learners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BaseArg {
    Gbdt,
    Logit,
    Linear,
}

/// Split criterion of trees and forests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CriterionArg {
    Kl,
    Ed,
    Chi,
    Cts,
}

/// The data, treatment arms and outcome of `uplift fit` and `uplift evaluate` (flattened into
/// both; clap keeps each subcommand's own help text).
#[derive(Debug, Args)]
struct ArmColumns {
    /// The data file (.csv or .parquet), one row per customer.
    #[arg(long)]
    data: PathBuf,
    /// Treatment column.
    #[arg(long)]
    treatment: String,
    /// Control label of the treatment column (default: `0`, `false` or `0.0`, whichever the
    /// column holds).
    #[arg(long)]
    control: Option<String>,
    /// Treated labels, repeatable or comma separated, in the order of `evaluate`'s --score
    /// (default: every other label, sorted). Given, rows of other labels are left out
    /// (`fit` counts them in `diagnostics.split.rows_left_out`).
    #[arg(long, value_delimiter = ',')]
    treated: Vec<String>,
    /// Outcome column (0/1 or continuous).
    #[arg(long)]
    outcome: String,
}

#[derive(Debug, Args)]
struct FitArgs {
    #[command(flatten)]
    columns: ArmColumns,
    /// Feature columns (comma separated); text columns are coded by the library.
    #[arg(long, value_delimiter = ',', conflicts_with = "features_all_except")]
    features: Vec<String>,
    /// Every column except these (and the treatment and outcome) is a feature.
    #[arg(long, value_delimiter = ',')]
    features_all_except: Vec<String>,
    /// The model.
    #[arg(long, value_enum, default_value_t = LearnerArg::T)]
    learner: LearnerArg,
    /// Base learner of the meta-learners.
    #[arg(long, value_enum, default_value_t = BaseArg::Gbdt)]
    base: BaseArg,
    /// Split criterion of tree and forest.
    #[arg(long, value_enum, default_value_t = CriterionArg::Kl)]
    criterion: CriterionArg,
    /// Trees of the forest, or boosting rounds of the gbdt base.
    #[arg(long)]
    trees: Option<usize>,
    /// Maximum depth of the trees.
    #[arg(long)]
    max_depth: Option<usize>,
    /// Minimum rows per leaf.
    #[arg(long)]
    min_leaf: Option<usize>,
    /// Share of the rows held out for the evaluation.
    #[arg(long, default_value_t = 0.3)]
    test_fraction: f64,
    /// Seed of the split and of the model.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Impute missing feature values (numeric: training median; text: own category).
    #[arg(long)]
    allow_missing: bool,
    /// Value of one conversion (or one unit of a continuous outcome); with --cost adds the
    /// profit curve over the fraction targeted (diagnostics `policy`, one treated arm).
    #[arg(long, requires = "cost")]
    value: Option<f64>,
    /// Cost of treating one customer.
    #[arg(long, requires = "value")]
    cost: Option<f64>,
    /// Bootstrap replicates: given, every test-split metric gets a percentile interval from
    /// B seeded replicates (and the best-fraction interval uses B); not given, the metrics are
    /// points and the best-fraction interval uses 200.
    #[arg(long)]
    bootstrap: Option<usize>,
    /// Write the fitted model (versioned JSON) here.
    #[arg(long)]
    save: Option<PathBuf>,
    /// Write the charts here (SVG and PNG): Qini and uplift curves with random and perfect
    /// references, uplift by decile, profit curve (with --value/--cost), feature importance.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Debug, Args)]
struct ScoreArgs {
    /// A model written by `uplift fit --save`.
    #[arg(long)]
    model: PathBuf,
    /// New rows holding the model's feature columns.
    #[arg(long)]
    data: PathBuf,
    /// Output CSV: row, uplift per arm, best arm and its uplift.
    #[arg(long)]
    out: PathBuf,
    /// Value of one conversion (or one unit of a continuous outcome); with --cost adds the
    /// expected profit of treating and the decision.
    #[arg(long, requires = "cost")]
    value: Option<f64>,
    /// Cost of treating one customer.
    #[arg(long, requires = "value")]
    cost: Option<f64>,
}

/// Runs `causalkit uplift ...`.
pub fn run(a: UpliftArgs) -> Result<Rendered, CliError> {
    match a.cmd {
        UpliftCmd::Evaluate(e) => run_evaluate(e),
        UpliftCmd::Fit(f) => fit(f),
        UpliftCmd::Score(s) => score(s),
    }
}

impl From<UpliftError> for CliError {
    fn from(e: UpliftError) -> Self {
        uerr(e)
    }
}

fn uerr(e: UpliftError) -> CliError {
    match e {
        // The numeric core's own split: non-convergence is numerical (exit 1), a collinear
        // or separated design names the input at fault (exit 2), as in every subcommand.
        UpliftError::Stats(s) => s.into(),
        other => CliError::bad(other.to_string()),
    }
}

/// Reads feature columns: numeric when the column parses as numbers, text otherwise.
fn read_features(ds: &Dataset, names: &[String]) -> Result<Vec<RawColumn>, CliError> {
    names.iter().map(|n| read_feature(ds, n)).collect()
}

/// Reads one feature column (see [`read_features`]).
fn read_feature(ds: &Dataset, name: &str) -> Result<RawColumn, CliError> {
    let dt = ds.dtype(name)?;
    let text = dt == "str" || dt.starts_with("cat") || dt.starts_with("enum");
    Ok(if text {
        RawColumn::Text(ds.labels(name)?)
    } else {
        RawColumn::Numeric(ds.numeric(name)?)
    })
}

/// The control and treated arms of the treatment column and the rows they keep.
struct Arms {
    control: String,
    treated: Vec<String>,
    /// Per kept row: None = control, Some(a) = arm a.
    arm: Vec<Option<usize>>,
    /// The rows kept: every row, or with explicit --treated the control and treated rows
    /// (rows of other labels are left out).
    keep: Vec<usize>,
}

/// The arms of `uplift fit` and `uplift evaluate`: the control (--control, else `0`, `false`
/// or `0.0`, whichever the column holds), the treated labels (--treated, else every other
/// label in sorted order) and the rows they keep. A missing treatment label is an error.
fn arms(ds: &Dataset, c: &ArmColumns) -> Result<Arms, CliError> {
    let col = c.treatment.as_str();
    let labels = ds.labels(col)?;
    // Sorted distinct labels (a set of references: no copy of every row's label).
    let distinct: Vec<String> = labels
        .iter()
        .flatten()
        .collect::<std::collections::BTreeSet<&String>>()
        .into_iter()
        .cloned()
        .collect();
    let values = distinct.join(", ");
    let control = match &c.control {
        Some(c) => c.clone(),
        None => ["0", "false", "0.0"]
            .iter()
            .find(|x| distinct.iter().any(|v| v == *x))
            .map(|x| x.to_string())
            .ok_or_else(|| {
                CliError::bad(format!(
                    "treatment column `{col}` has no value 0 or false; name the control value with --control (values: {values})"
                ))
            })?,
    };
    if !distinct.contains(&control) {
        return Err(CliError::bad(format!(
            "--control `{control}`: the control value `{control}` does not occur in treatment column `{col}` (values: {values})"
        )));
    }
    let explicit = !c.treated.is_empty();
    let treated: Vec<String> = if explicit {
        c.treated.clone()
    } else {
        distinct
            .iter()
            .filter(|l| **l != control)
            .cloned()
            .collect()
    };
    if treated.is_empty() {
        return Err(CliError::bad(format!(
            "treatment column `{col}` holds no label other than the control `{control}`"
        )));
    }
    for t in &treated {
        if !distinct.contains(t) || *t == control {
            return Err(CliError::bad(format!(
                "--treated `{t}` is not a non-control label of treatment column `{col}` (values: {values})"
            )));
        }
    }
    let mut arm = Vec::with_capacity(labels.len());
    let mut keep = Vec::with_capacity(labels.len());
    for (i, l) in labels.iter().enumerate() {
        let Some(l) = l else {
            return Err(CliError::bad(format!(
                "missing value in treatment column `{col}` at row {} (CSV line {})",
                i + 1,
                i + 2
            )));
        };
        if *l == control {
            arm.push(None);
            keep.push(i);
        } else if let Some(a) = treated.iter().position(|t| t == l) {
            arm.push(Some(a));
            keep.push(i);
        }
        // Otherwise: another label, left out (only with explicit --treated).
    }
    Ok(Arms {
        control,
        treated,
        arm,
        keep,
    })
}

fn spec_of(a: &FitArgs) -> ModelSpec {
    let tree = |max_features: Option<usize>, n_reg: f64| TreeOptions {
        criterion: match a.criterion {
            CriterionArg::Kl => Criterion::Kl,
            CriterionArg::Ed => Criterion::Ed,
            CriterionArg::Chi => Criterion::Chi,
            CriterionArg::Cts => Criterion::Cts,
        },
        max_depth: a.max_depth.unwrap_or(5),
        min_samples_leaf: a.min_leaf.unwrap_or(100),
        max_features,
        n_reg,
        ..TreeOptions::default()
    };
    let learner = match a.learner {
        LearnerArg::Forest => {
            let d = ForestOptions::default();
            return ModelSpec::Forest {
                options: ForestOptions {
                    tree: tree(d.tree.max_features, d.tree.n_reg),
                    n_trees: a.trees.unwrap_or(d.n_trees),
                    seed: a.seed,
                    ..d
                },
                max_bins: 255,
            };
        }
        LearnerArg::Tree => {
            return ModelSpec::Tree {
                options: tree(None, TreeOptions::default().n_reg),
                max_bins: 255,
                seed: a.seed,
            }
        }
        LearnerArg::S => Learner::S,
        LearnerArg::T => Learner::T,
        LearnerArg::X => Learner::X,
        LearnerArg::R => Learner::R,
        LearnerArg::Dr => Learner::Dr,
        LearnerArg::ClassTransform => Learner::ClassTransform,
    };
    let base = match a.base {
        BaseArg::Gbdt => {
            let d = GbdtOptions::default();
            Base::Gbdt(GbdtOptions {
                n_estimators: a.trees.unwrap_or(d.n_estimators),
                max_depth: a.max_depth.unwrap_or(d.max_depth),
                min_data_in_leaf: a.min_leaf.unwrap_or(d.min_data_in_leaf),
                seed: a.seed,
                ..d
            })
        }
        BaseArg::Logit => Base::Logit,
        BaseArg::Linear => Base::Linear,
    };
    ModelSpec::Meta(MetaLearner {
        learner,
        base,
        propensity: Propensity::Share,
        seed: a.seed,
        ..MetaLearner::default()
    })
}

fn pick<T: Clone>(v: &[T], rows: &[usize]) -> Vec<T> {
    rows.iter().map(|&i| v[i].clone()).collect()
}

fn fit(a: FitArgs) -> Result<Rendered, CliError> {
    let c = &a.columns;
    let mut ds = Dataset::read(&c.data)?;
    ds.require(&[c.treatment.as_str(), c.outcome.as_str()])?;
    let features: Vec<String> = if !a.features.is_empty() {
        a.features.clone()
    } else if !a.features_all_except.is_empty() {
        ds.column_names()
            .into_iter()
            .filter(|n| *n != c.treatment && *n != c.outcome && !a.features_all_except.contains(n))
            .collect()
    } else {
        return Err(CliError::bad(
            "give the feature columns with --features or --features-all-except",
        ));
    };
    if features.is_empty() {
        return Err(CliError::bad("no feature column is left"));
    }
    for f in &features {
        if *f == c.treatment || *f == c.outcome {
            return Err(CliError::bad(format!(
                "feature `{f}` is the treatment or the outcome column"
            )));
        }
    }
    let refs: Vec<&str> = features.iter().map(String::as_str).collect();
    ds.require(&refs)?;
    let arms = arms(&ds, c)?;
    let y: Vec<f64> = ds
        .numeric(&c.outcome)?
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            v.ok_or_else(|| {
                CliError::bad(format!(
                    "missing outcome in column `{}` at row {i}",
                    c.outcome
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    let y = pick(&y, &arms.keep);
    let (train, test) = train_test_split(y.len(), a.test_fraction, a.seed).map_err(uerr)?;
    // Row numbers in feature errors count kept rows; report the file's row.
    let file_row = |e: UpliftError| match e {
        UpliftError::Missing { column, row } => UpliftError::Missing {
            column,
            row: arms.keep[row],
        },
        other => other,
    };
    // One feature at a time: read it, keep the rows, learn its encoding on the train rows
    // (each column's encoding depends on that column alone), encode it, split it into its
    // train and test parts and drop it from the file's frame. A large file is so held about
    // once, not as frame + raw columns + encoded columns + train/test copies at the same time
    // (10M rows x 20 features, forest: peak 8.4 GiB before, 3.2 GiB after; benches/results/uplift.md).
    let rows_in_file = ds.height();
    let mut columns = Vec::with_capacity(features.len());
    let (mut train_cols, mut test_cols) = (
        Vec::with_capacity(features.len()),
        Vec::with_capacity(features.len()),
    );
    for (j, f) in features.iter().enumerate() {
        let raw = match read_feature(&ds, f)? {
            RawColumn::Numeric(v) => RawColumn::Numeric(pick(&v, &arms.keep)),
            RawColumn::Text(v) => RawColumn::Text(pick(&v, &arms.keep)),
        };
        let one = std::slice::from_ref(&raw);
        let enc = FeatureEncoder::fit(std::slice::from_ref(f), one, &y, &train, a.allow_missing)
            .map_err(|e| uerr(file_row(e)))?;
        let col = enc.transform(one).map_err(|e| uerr(file_row(e)))?.remove(0);
        drop(raw);
        train_cols.push(pick(&col, &train));
        test_cols.push(pick(&col, &test));
        columns.extend(enc.columns);
        if !features[j + 1..].contains(f) {
            ds.drop_column(f)?;
        }
    }
    drop(ds);
    let encoder = FeatureEncoder {
        names: features.clone(),
        columns,
        allow_missing: a.allow_missing,
    };
    let spec = spec_of(&a);
    let n_arms = arms.treated.len();
    let model = spec
        .fit(
            &features,
            &train_cols,
            &pick(&arms.arm, &train),
            n_arms,
            &pick(&y, &train),
        )
        .map_err(uerr)?;
    drop(train_cols);
    let scores = model.predict(&test_cols).map_err(uerr)?;
    let (y_test, arm_test) = (pick(&y, &test), pick(&arms.arm, &test));
    let eval = EvalOptions {
        bootstrap: a.bootstrap.unwrap_or(0),
        seed: a.seed,
        ..EvalOptions::default()
    };
    let evals = if n_arms == 1 {
        let t: Vec<bool> = arm_test.iter().map(Option::is_some).collect();
        vec![evaluate(&y_test, &t, &scores[0], &eval).map_err(uerr)?]
    } else {
        evaluate_arms(&y_test, &arm_test, &arms.treated, &scores, &eval).map_err(uerr)?
    };
    let mut result: EstimationResult = match evals.as_slice() {
        [one] => one.result(),
        _ => ArmsEvaluation(evals.clone()).result(),
    };
    let mut policy = None;
    if let Some((v, c)) = a.value.zip(a.cost) {
        if n_arms != 1 {
            return Err(CliError::bad(
                "--value/--cost: the profit curve needs one treated arm (pass one --treated)",
            ));
        }
        let t: Vec<bool> = arm_test.iter().map(Option::is_some).collect();
        let pc = profit_curve(
            &y_test,
            &t,
            &scores[0],
            v,
            c,
            10,
            a.bootstrap.unwrap_or(200),
            a.seed,
            0.05,
        )
        .map_err(uerr)?;
        result.diagnostics.insert(
            "policy".into(),
            serde_json::to_value(&pc).unwrap_or_default(),
        );
        policy = Some(pc);
    }
    if let Some(dir) = &a.plot {
        let importance: Option<Vec<(String, f64)>> = model
            .feature_importance()
            .map(|v| features.iter().cloned().zip(v).collect());
        let charts =
            causalkit_report::uplift_charts(&evals, policy.as_ref(), importance.as_deref())
                .and_then(|c| causalkit_report::save_all(dir, &c))?;
        let names: Vec<String> = charts.iter().map(|p| p.display().to_string()).collect();
        result.diagnostics.insert("plots".into(), names.into());
    }
    result.method = format!(
        "uplift {:?} fitted on a seeded train split, evaluated on the test split",
        a.learner
    );
    let encodings: serde_json::Map<String, serde_json::Value> = encoder
        .names
        .iter()
        .zip(&encoder.columns)
        .map(|(n, e)| (n.clone(), serde_json::to_value(e).unwrap_or_default()))
        .collect();
    result.diagnostics.insert(
        "split".into(),
        serde_json::json!({"n_train": train.len(), "n_test": test.len(), "seed": a.seed,
            "test_fraction": a.test_fraction,
            "rows_left_out": rows_in_file - arms.keep.len()}),
    );
    result
        .diagnostics
        .insert("control".into(), arms.control.clone().into());
    result
        .diagnostics
        .insert("arms".into(), arms.treated.clone().into());
    result
        .diagnostics
        .insert("feature_encoding".into(), encodings.into());
    if let Some(path) = &a.save {
        let saved = SavedModel {
            format_version: FORMAT_VERSION,
            treatment: c.treatment.clone(),
            control: arms.control,
            arms: arms.treated,
            outcome: c.outcome.clone(),
            encoder,
            spec,
            model,
        };
        let text = saved.to_json().map_err(uerr)?;
        std::fs::write(path, text)
            .map_err(|e| CliError::bad(format!("cannot write {}: {e}", path.display())))?;
    }
    crate::report::capture(&result);
    Ok(render(&result, a.format, None))
}

fn score(a: ScoreArgs) -> Result<Rendered, CliError> {
    let text = std::fs::read_to_string(&a.model)
        .map_err(|e| CliError::bad(format!("cannot read {}: {e}", a.model.display())))?;
    let model = SavedModel::from_json(&text)
        .map_err(|e| CliError::bad(format!("{}: {e}", a.model.display())))?;
    let ds = Dataset::read(&a.data)?;
    let refs: Vec<&str> = model.encoder.names.iter().map(String::as_str).collect();
    ds.require(&refs)?;
    let raw = read_features(&ds, &model.encoder.names)?;
    let scores = model.predict(&raw).map_err(uerr)?;
    let mut out = String::from("row");
    for arm in &model.arms {
        out += &format!(",uplift_{}", csv_field(arm));
    }
    out += ",best_arm,best_uplift";
    let money = a.value.zip(a.cost);
    if money.is_some() {
        out += ",expected_profit,decision";
    }
    out.push('\n');
    let n = ds.height();
    for i in 0..n {
        let mut best = 0;
        for arm in 1..scores.len() {
            if scores[arm][i] > scores[best][i] {
                best = arm;
            }
        }
        out += &i.to_string();
        for s in &scores {
            out += &format!(",{}", s[i]);
        }
        let b = scores[best][i];
        out += &format!(",{},{}", csv_field(&model.arms[best]), b);
        if let Some((v, c)) = money {
            let profit = v * b - c;
            let decision = if profit > 0.0 {
                model.arms[best].as_str()
            } else {
                model.control.as_str()
            };
            out += &format!(",{profit},{}", csv_field(decision));
        }
        out.push('\n');
    }
    std::fs::write(&a.out, out)
        .map_err(|e| CliError::bad(format!("cannot write {}: {e}", a.out.display())))?;
    Ok(Rendered::from(format!(
        "scored {n} rows with {} arm(s) into {}\n",
        model.arms.len(),
        a.out.display()
    )))
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
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
    #[command(flatten)]
    columns: ArmColumns,
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

fn run_evaluate(a: EvaluateArgs) -> Result<Rendered, CliError> {
    let c = &a.columns;
    let data = Dataset::read(&c.data)?;
    let arms = arms(&data, c)?;
    if a.score.len() != arms.treated.len() {
        return Err(CliError::bad(format!(
            "{} treated arm(s) ({}) need as many --score columns, got {}",
            arms.treated.len(),
            arms.treated.join(", "),
            a.score.len()
        )));
    }
    let y = no_missing(&c.outcome, data.numeric(&c.outcome)?)?;
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
    // The control and treated rows (rows of other treatment values are left out).
    let yy = pick(&y, &arms.keep);
    let (result, tables) = if arms.treated.len() == 1 {
        let tt: Vec<bool> = arms.arm.iter().map(Option::is_some).collect();
        let ev = evaluate(&yy, &tt, &pick(&scores[0], &arms.keep), &options)?;
        let table = percentile_table(&ev);
        (ev.result(), vec![(None, table)])
    } else {
        let ss: Vec<Vec<f64>> = scores.iter().map(|s| pick(s, &arms.keep)).collect();
        let evs = evaluate_arms(&yy, &arms.arm, &arms.treated, &ss, &options)?;
        let tables = evs
            .iter()
            .map(|e| (e.arm.clone(), percentile_table(e)))
            .collect();
        (ArmsEvaluation(evs).result(), tables)
    };
    let mut extra = String::new();
    for (arm, t) in &tables {
        extra += "\nUplift by percentile";
        if let Some(a) = arm {
            extra += &format!(" ({a})");
        }
        extra += ":\n";
        extra += t;
    }
    // The curves and the percentile table live in the JSON diagnostics; the table view shows
    // the metrics and the percentile table.
    Ok(render_keeping(&result, a.format, Some(&extra), |k, v| {
        !matches!(k, "qini_curve" | "uplift_curve" | "uplift_by_percentile") && !v.is_object()
    }))
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

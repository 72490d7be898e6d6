//! Calibration of a reward's weights against long-term value: the surrogate index.
//!
//! Athey, Chetty, Imbens & Kang (2019), "The surrogate index: combining short-term proxies to
//! estimate long-term treatment effects more rapidly and precisely", NBER working paper
//! w26463. The surrogate index is `h(s, x) = E[Y | S = s, X = x]`, the expected long-term
//! outcome `Y` given the short-term signals `S` (and pre-treatment covariates `X`), estimated
//! on observational data where `Y` was observed (the history). In an experiment that observed
//! only `S`, the effect on `E[h(S, X)]` identifies the effect on `Y` under their assumptions
//! (see [`SURROGACY_ASSUMPTION`]).
//!
//! # Linear index (default)
//! OLS of `Y` on an intercept, the signals and the covariates ([`causalkit_stats::LinearModel`],
//! QR). The signal coefficients are the **calibrated weights**: the long-term value of one more
//! unit of each signal, holding the others (and the covariates) fixed. Standard errors are
//! heteroskedasticity-robust (HC1), or cluster-robust by unit (CR1) when a unit column is
//! given, with t intervals. A seeded nonparametric bootstrap (rows, or whole units when a unit
//! column is given — the cluster bootstrap) gives percentile intervals for every coefficient;
//! replicate `b` draws from ChaCha8 stream `(seed, b)`
//! ([`causalkit_stats::resample::replicate`]), so results do not depend on the thread count.
//! The fit is judged out of sample by K-fold cross-validation (folds of rows, or of units):
//! `R²_cv = 1 − Σ(y − ŷ₋ₖ)²/Σ(y − ȳ)²` and `RMSE_cv = √(Σ(y − ŷ₋ₖ)²/n)`, each prediction from
//! the fit without its fold.
//!
//! # Boosted index
//! The uplift crate's histogram gradient-boosted trees (squared error) as `h`: more flexible,
//! but it has no coefficients, so **no weights** — a reward cannot be read off it; it predicts
//! the index for the evaluation and is cross-validated the same way.
//!
//! # File
//! [`Calibration::save`] / [`Calibration::load`]: one JSON object with `format_version`
//! ([`FORMAT_VERSION`]); loading another version is an error.

use crate::error::{from_stats, Result, RewardError};
use causalkit_stats::resample::replicate;
use causalkit_stats::{Factor, LinearModel, Vcov};
use causalkit_uplift::binned::Binned;
use causalkit_uplift::gbdt::{Gbdt, GbdtOptions};
use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// The version of the calibration file format.
pub const FORMAT_VERSION: u32 = 1;

/// The surrogacy assumption, as stated in every output that uses the index.
pub const SURROGACY_ASSUMPTION: &str = "Surrogacy (Athey, Chetty, Imbens & Kang 2019): the treatment affects the long-term outcome only through the short-term signals, given the covariates (the long-term outcome is independent of the treatment given the signals and covariates); and comparability: the relation between signals and the long-term outcome in the calibration data (the history) is the one in the experiment. Then the treatment's effect on the surrogate index equals its effect on the long-term outcome.";

/// Which model estimates the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexKind {
    /// OLS; the coefficients are the weights.
    Linear,
    /// Gradient-boosted trees; no weights.
    Gbdt,
}

/// The data of a calibration: the long-term outcome, the signals and covariates (one value
/// per row each) and an optional unit label per row.
#[derive(Debug, Clone, Default)]
pub struct CalibrationData {
    /// Name of the long-term outcome.
    pub long_term_name: String,
    /// The long-term outcome per row.
    pub long_term: Vec<f64>,
    /// `(name, values)` per signal.
    pub signals: Vec<(String, Vec<f64>)>,
    /// `(name, values)` per covariate.
    pub covariates: Vec<(String, Vec<f64>)>,
    /// `(column name, label per row)`: bootstrap and CV folds resample whole units, and
    /// standard errors are clustered by unit.
    pub unit: Option<(String, Vec<String>)>,
}

/// Options of [`calibrate`].
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrateOptions {
    /// Linear (default) or boosted.
    pub kind: IndexKind,
    /// Bootstrap replicates (0: none).
    pub bootstrap: usize,
    /// Cross-validation folds (at least 2).
    pub folds: usize,
    /// Significance level of the intervals.
    pub alpha: f64,
    /// Seed of the bootstrap, the folds and the booster.
    pub seed: u64,
    /// Booster options (the `seed` field is overwritten by `seed`).
    pub gbdt: GbdtOptions,
}

impl Default for CalibrateOptions {
    /// Linear, 200 bootstrap replicates, 5 folds, alpha 0.05, seed 0.
    fn default() -> Self {
        CalibrateOptions {
            kind: IndexKind::Linear,
            bootstrap: 200,
            folds: 5,
            alpha: 0.05,
            seed: 0,
            gbdt: GbdtOptions::default(),
        }
    }
}

/// One coefficient of the linear index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coefficient {
    /// Signal or covariate name (`Intercept` for the intercept).
    pub name: String,
    /// OLS estimate.
    pub estimate: f64,
    /// Robust (HC1) or cluster-robust (CR1) standard error.
    pub std_error: f64,
    /// t interval, lower end.
    pub ci_low: f64,
    /// t interval, upper end.
    pub ci_high: f64,
    /// Two-sided p-value of the t test of zero.
    pub p_value: f64,
    /// Bootstrap percentile interval, lower end (`None` without bootstrap).
    pub bootstrap_ci_low: Option<f64>,
    /// Bootstrap percentile interval, upper end.
    pub bootstrap_ci_high: Option<f64>,
    /// Bootstrap standard deviation of the estimate.
    pub bootstrap_std_error: Option<f64>,
}

/// Cross-validated fit of the index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrossValidation {
    /// Folds.
    pub folds: usize,
    /// `1 − SSE_cv/SST`.
    pub r_squared: f64,
    /// `√(SSE_cv/n)`.
    pub rmse: f64,
    /// Whether folds hold whole units.
    pub by_unit: bool,
}

/// A fitted, saveable surrogate index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// Linear or boosted.
    pub kind: IndexKind,
    /// The long-term outcome.
    pub long_term: String,
    /// Signals, in order.
    pub signals: Vec<String>,
    /// Covariates, in order.
    pub covariates: Vec<String>,
    /// The unit column, if any.
    pub unit: Option<String>,
    /// Rows used.
    pub n: usize,
    /// Units (rows without a unit column).
    pub units: usize,
    /// Linear: intercept, signals, covariates, in that order; empty for the boosted index.
    pub coefficients: Vec<Coefficient>,
    /// Variance estimator of the standard errors (`HC1` or `CRV1 by <unit>`).
    pub vcov: Option<String>,
    /// In-sample R² (linear).
    pub r_squared: Option<f64>,
    /// Cross-validated fit.
    pub cross_validation: CrossValidation,
    /// Bootstrap replicates used (0: none), what was resampled, and failed replicates.
    pub bootstrap: BootstrapInfo,
    /// Significance level of the intervals.
    pub alpha: f64,
    /// Seed.
    pub seed: u64,
    /// The boosted model (boosted index only).
    pub gbdt: Option<Gbdt>,
    /// The surrogacy assumption in words.
    pub assumption: String,
    /// Notes a reviewer must read (e.g. the boosted index has no weights).
    pub notes: Vec<String>,
}

/// What the bootstrap did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BootstrapInfo {
    /// Replicates asked for.
    pub replicates: usize,
    /// `rows` or `units`.
    pub resampled: String,
    /// Replicates whose design was singular (left out of the intervals).
    pub failed: usize,
}

impl Calibration {
    /// The calibrated weights `(signal, weight)` (linear index only).
    pub fn weights(&self) -> Option<Vec<(String, f64)>> {
        (self.kind == IndexKind::Linear).then(|| {
            self.signals
                .iter()
                .map(|s| {
                    let c = self.coefficients.iter().find(|c| &c.name == s);
                    (s.clone(), c.map_or(f64::NAN, |c| c.estimate))
                })
                .collect()
        })
    }

    /// The coefficient of a name.
    pub fn coefficient(&self, name: &str) -> Option<&Coefficient> {
        self.coefficients.iter().find(|c| c.name == name)
    }

    /// The index `h(s, x)` per row; `columns` holds the signals then the covariates, in the
    /// calibration's order.
    pub fn predict(&self, columns: &[Vec<f64>]) -> Result<Vec<f64>> {
        let k = self.signals.len() + self.covariates.len();
        if columns.len() != k {
            return Err(RewardError::Invalid(format!(
                "the index needs {k} columns (signals then covariates), got {}",
                columns.len()
            )));
        }
        let n = columns.first().map_or(0, Vec::len);
        match self.kind {
            IndexKind::Linear => {
                let mut out = vec![self.coefficients[0].estimate; n];
                for (j, col) in columns.iter().enumerate() {
                    let b = self.coefficients[j + 1].estimate;
                    for (o, v) in out.iter_mut().zip(col) {
                        *o += b * v;
                    }
                }
                Ok(out)
            }
            IndexKind::Gbdt => self
                .gbdt
                .as_ref()
                .ok_or_else(|| RewardError::File("the boosted index has no model".into()))?
                .predict(columns)
                .map_err(|e| RewardError::Uplift(e.to_string())),
        }
    }

    /// Writes the calibration as pretty JSON.
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| RewardError::File(format!("{}: {e}", path.display())))?;
        std::fs::write(path, text + "\n")
            .map_err(|e| RewardError::File(format!("cannot write {}: {e}", path.display())))
    }

    /// Reads a calibration; another `format_version` is an error naming both versions.
    pub fn load(path: &Path) -> Result<Calibration> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| RewardError::File(format!("cannot read {}: {e}", path.display())))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| RewardError::File(format!("{}: not JSON: {e}", path.display())))?;
        let version = v.get("format_version").and_then(|x| x.as_u64());
        if version != Some(FORMAT_VERSION as u64) {
            return Err(RewardError::File(format!(
                "{}: format_version {} is not supported (this build reads {FORMAT_VERSION})",
                path.display(),
                version.map_or("missing".to_string(), |x| x.to_string())
            )));
        }
        serde_json::from_value(v).map_err(|e| RewardError::File(format!("{}: {e}", path.display())))
    }
}

/// Checks lengths and names; returns n.
fn check(data: &CalibrationData, opts: &CalibrateOptions) -> Result<usize> {
    let n = data.long_term.len();
    if data.signals.is_empty() {
        return Err(RewardError::Invalid("no signals given".into()));
    }
    let mut seen: Vec<&str> = vec![data.long_term_name.as_str()];
    for (name, col) in data.signals.iter().chain(&data.covariates) {
        if col.len() != n {
            return Err(RewardError::Invalid(format!(
                "column `{name}` has {} rows, the long-term outcome {n}",
                col.len()
            )));
        }
        if seen.contains(&name.as_str()) {
            return Err(RewardError::Invalid(format!(
                "`{name}` is given twice (as the long-term outcome, a signal or a covariate)"
            )));
        }
        seen.push(name);
    }
    if let Some((u, labels)) = &data.unit {
        if labels.len() != n {
            return Err(RewardError::Invalid(format!(
                "unit column `{u}` has {} rows, the long-term outcome {n}",
                labels.len()
            )));
        }
    }
    if opts.folds < 2 {
        return Err(RewardError::Invalid(format!(
            "--folds must be at least 2, got {}",
            opts.folds
        )));
    }
    if !(opts.alpha > 0.0 && opts.alpha < 1.0) {
        return Err(RewardError::Invalid(format!(
            "alpha must lie in (0, 1), got {}",
            opts.alpha
        )));
    }
    Ok(n)
}

/// Row indices per unit (units in order of first appearance); one group per row without a
/// unit column.
fn groups(data: &CalibrationData, n: usize) -> Vec<Vec<usize>> {
    match &data.unit {
        None => (0..n).map(|i| vec![i]).collect(),
        Some((_, labels)) => {
            let mut index: HashMap<&str, usize> = HashMap::new();
            let mut out: Vec<Vec<usize>> = Vec::new();
            for (i, l) in labels.iter().enumerate() {
                let g = *index.entry(l.as_str()).or_insert_with(|| {
                    out.push(Vec::new());
                    out.len() - 1
                });
                out[g].push(i);
            }
            out
        }
    }
}

/// The OLS model on the rows `rows` (in that order).
fn linear_model(data: &CalibrationData, rows: &[usize]) -> LinearModel {
    let pick = |c: &Vec<f64>| rows.iter().map(|&i| c[i]).collect::<Vec<f64>>();
    let mut m = LinearModel::new(&data.long_term_name, pick(&data.long_term));
    for (name, col) in data.signals.iter().chain(&data.covariates) {
        m = m.regressor(name, pick(col));
    }
    m
}

fn features(data: &CalibrationData, rows: &[usize]) -> (Vec<String>, Vec<Vec<f64>>) {
    let names = data
        .signals
        .iter()
        .chain(&data.covariates)
        .map(|c| c.0.clone())
        .collect();
    let cols = data
        .signals
        .iter()
        .chain(&data.covariates)
        .map(|(_, c)| rows.iter().map(|&i| c[i]).collect())
        .collect();
    (names, cols)
}

fn fit_gbdt(data: &CalibrationData, rows: &[usize], opts: &CalibrateOptions) -> Result<Gbdt> {
    let (names, cols) = features(data, rows);
    let y: Vec<f64> = rows.iter().map(|&i| data.long_term[i]).collect();
    let binned = Binned::new(&names, &cols, 255).map_err(|e| RewardError::Uplift(e.to_string()))?;
    let mut o = opts.gbdt.clone();
    o.seed = opts.seed;
    Gbdt::fit(&binned, &y, &o).map_err(|e| RewardError::Uplift(e.to_string()))
}

/// K-fold cross-validation of the index.
fn cross_validate(
    data: &CalibrationData,
    groups: &[Vec<usize>],
    opts: &CalibrateOptions,
) -> Result<CrossValidation> {
    let n = data.long_term.len();
    let mut order: Vec<usize> = (0..groups.len()).collect();
    let mut rng = causalkit_stats::resample::replicate_rng(opts.seed, u64::MAX);
    order.shuffle(&mut rng);
    let k = opts.folds.min(groups.len());
    if k < 2 {
        return Err(RewardError::Invalid(
            "cross-validation needs at least 2 units".into(),
        ));
    }
    let mut fold_of = vec![0usize; groups.len()];
    for (pos, &g) in order.iter().enumerate() {
        fold_of[g] = pos % k;
    }
    let mut pred = vec![0.0; n];
    for f in 0..k {
        let mut train = Vec::new();
        let mut test = Vec::new();
        for (g, rows) in groups.iter().enumerate() {
            if fold_of[g] == f {
                test.extend_from_slice(rows);
            } else {
                train.extend_from_slice(rows);
            }
        }
        let (_, test_cols) = features(data, &test);
        let p = match opts.kind {
            IndexKind::Linear => {
                let fit = linear_model(data, &train).fit().map_err(from_stats)?;
                let b = fit.coef();
                (0..test.len())
                    .map(|i| {
                        b[0] + test_cols
                            .iter()
                            .zip(&b[1..])
                            .map(|(c, w)| c[i] * w)
                            .sum::<f64>()
                    })
                    .collect::<Vec<f64>>()
            }
            IndexKind::Gbdt => fit_gbdt(data, &train, opts)?
                .predict(&test_cols)
                .map_err(|e| RewardError::Uplift(e.to_string()))?,
        };
        for (&i, v) in test.iter().zip(p) {
            pred[i] = v;
        }
    }
    let ybar = data.long_term.iter().sum::<f64>() / n as f64;
    let sst: f64 = data.long_term.iter().map(|y| (y - ybar).powi(2)).sum();
    let sse: f64 = data
        .long_term
        .iter()
        .zip(&pred)
        .map(|(y, p)| (y - p).powi(2))
        .sum();
    Ok(CrossValidation {
        folds: k,
        r_squared: 1.0 - sse / sst,
        rmse: (sse / n as f64).sqrt(),
        by_unit: data.unit.is_some(),
    })
}

/// Sample quantile (linear interpolation, type 7) of sorted values.
fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Fits the surrogate index (see the module docs).
pub fn calibrate(data: &CalibrationData, opts: &CalibrateOptions) -> Result<Calibration> {
    let n = check(data, opts)?;
    let groups = groups(data, n);
    if groups.len() < 3 {
        return Err(RewardError::Invalid(format!(
            "calibration needs at least 3 units, got {}",
            groups.len()
        )));
    }
    let all: Vec<usize> = (0..n).collect();
    let cross_validation = cross_validate(data, &groups, opts)?;
    let mut notes = Vec::new();
    let base = Calibration {
        format_version: FORMAT_VERSION,
        kind: opts.kind,
        long_term: data.long_term_name.clone(),
        signals: data.signals.iter().map(|s| s.0.clone()).collect(),
        covariates: data.covariates.iter().map(|s| s.0.clone()).collect(),
        unit: data.unit.as_ref().map(|u| u.0.clone()),
        n,
        units: groups.len(),
        coefficients: Vec::new(),
        vcov: None,
        r_squared: None,
        cross_validation,
        bootstrap: BootstrapInfo {
            replicates: 0,
            resampled: if data.unit.is_some() { "units" } else { "rows" }.into(),
            failed: 0,
        },
        alpha: opts.alpha,
        seed: opts.seed,
        gbdt: None,
        assumption: SURROGACY_ASSUMPTION.into(),
        notes: Vec::new(),
    };
    if opts.kind == IndexKind::Gbdt {
        for (name, col) in data
            .signals
            .iter()
            .chain(&data.covariates)
            .chain(std::iter::once(&(
                data.long_term_name.clone(),
                data.long_term.clone(),
            )))
        {
            causalkit_stats::error::check_finite(name, col)?;
        }
        notes.push("the boosted index (gradient-boosted trees) has no coefficients, so it gives no reward weights: it predicts the long-term outcome for the evaluation only; use the linear index to read weights".into());
        return Ok(Calibration {
            gbdt: Some(fit_gbdt(data, &all, opts)?),
            notes,
            ..base
        });
    }
    let fit = linear_model(data, &all).fit().map_err(from_stats)?;
    let vcov = match &data.unit {
        Some((name, labels)) => Vcov::Cluster(Factor::from_labels(name, labels)),
        None => Vcov::Hc1,
    };
    let table = fit.inference(&vcov, opts.alpha).map_err(from_stats)?;
    let names: Vec<String> = table.names().iter().map(|s| s.to_string()).collect();
    // Bootstrap.
    let reps = opts.bootstrap;
    let draws: Vec<Option<Vec<f64>>> = replicate(opts.seed, reps, |rng, _| {
        let g = groups.len();
        let mut rows = Vec::with_capacity(n);
        for _ in 0..g {
            rows.extend_from_slice(&groups[rng.random_range(0..g)]);
        }
        linear_model(data, &rows)
            .fit()
            .ok()
            .map(|f| f.coef().to_vec())
    });
    let ok: Vec<&Vec<f64>> = draws.iter().flatten().collect();
    let failed = reps - ok.len();
    if reps > 0 && failed * 10 > reps {
        return Err(RewardError::Invalid(format!(
            "{failed} of {reps} bootstrap replicates had a singular design (a signal is nearly constant in resamples); fewer than 90% usable"
        )));
    }
    if failed > 0 {
        notes.push(format!(
            "{failed} of {reps} bootstrap replicates had a singular design and were left out"
        ));
    }
    let coefficients = table
        .rows()
        .iter()
        .enumerate()
        .map(|(j, r)| {
            let (lo, hi, sd) = if ok.len() >= 2 {
                let mut v: Vec<f64> = ok.iter().map(|b| b[j]).collect();
                v.sort_by(f64::total_cmp);
                let m = v.iter().sum::<f64>() / v.len() as f64;
                let sd =
                    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt();
                (
                    Some(quantile_sorted(&v, opts.alpha / 2.0)),
                    Some(quantile_sorted(&v, 1.0 - opts.alpha / 2.0)),
                    Some(sd),
                )
            } else {
                (None, None, None)
            };
            Coefficient {
                name: names[j].clone(),
                estimate: r.estimate,
                std_error: r.std_error.unwrap_or(f64::NAN),
                ci_low: r.ci_low.unwrap_or(f64::NAN),
                ci_high: r.ci_high.unwrap_or(f64::NAN),
                p_value: r.p_value.unwrap_or(f64::NAN),
                bootstrap_ci_low: lo,
                bootstrap_ci_high: hi,
                bootstrap_std_error: sd,
            }
        })
        .collect();
    Ok(Calibration {
        coefficients,
        vcov: Some(vcov.label()),
        r_squared: Some(fit.r_squared()),
        bootstrap: BootstrapInfo {
            replicates: reps,
            failed,
            ..base.bootstrap.clone()
        },
        notes,
        ..base
    })
}

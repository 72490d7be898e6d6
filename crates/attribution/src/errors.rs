//! Model errors ranked by money (`causalkit attribute errors`).
//!
//! For every confusion cell `true i → predicted j` (`i ≠ j`) with at least `min_contacts`
//! contacts, each KPI's difference between those contacts and the correctly routed contacts
//! of the same true intent, regression-adjusted for `[errors] covariates`, is turned into the
//! money the cell costs per period through the value tree.
//!
//! # Method
//! Per true intent `i`, on its contacts that are correctly routed or in an estimated cell,
//! and per KPI `k` (rows with a missing KPI value dropped for that KPI), the OLS regression
//!
//! `y_k = α + Σ_j β_{ij,k} 1[predicted = j] + γ' x + u`
//!
//! with `x` the covariates (numeric as they are; text as indicators of each level but the
//! first, sorted; columns constant on the rows dropped). `β_{ij,k}` is the adjusted
//! difference misrouted − correctly routed. Standard errors are heteroskedasticity-robust
//! (HC1, [`causalkit_stats::ols`]). All cells of an intent share its correctly routed
//! contacts, and every KPI is measured on the same contacts, so the coefficients are
//! correlated: their joint covariance is the stacked HC1 sandwich
//! `Cov(β_k, β_l) = √(c_k c_l) · B_k (Σ_r x_{r,k} u_{r,k} u_{r,l} x_{r,l}') B_l` over the
//! rows present for both KPIs (`B_k = (X_k'X_k)⁻¹`, `c_k = n_k/(n_k − p_k)`), whose diagonal
//! blocks are the per-KPI HC1 matrices. Cells of different true intents use disjoint
//! contacts and are uncorrelated.
//!
//! Money: fixing cell `c` moves its contacts' KPI levels from their observed means
//! `m_c` to `m_c − β_c`; the value node `[errors] value` is evaluated for the cell's contacts
//! only, with the `[errors] volume` constant replaced by the cell's share of all contacts
//! times that volume ([`ValueTree::changes`], exact for non-linear nodes, delta-method
//! interval). The saving is the node's decrease when the node is a cost and its increase
//! when it is a benefit; which one is read from the KPIs' `better` directions (a cost rises
//! when a KPI gets worse). `fix_top_k` sums the savings of the k costliest cells with the
//! delta-method variance `Σ_{c,d} g_c' Cov(β_c, β_d) g_d` (`g_c` the saving's gradient).
//!
//! # Assumption
//! The comparison is causal only under no unmeasured confounding: given the covariates,
//! whether a contact is misrouted is unrelated to what its KPIs would have been had it been
//! routed correctly. Contacts the model finds hard (long, complex calls) may be both
//! misrouted more often and costlier anyway; the covariate balance per cell shows what the
//! adjustment had to correct, not what it could not see.

use crate::decompose::{labels_complete, parse_kpi};
use crate::error::{AttributionError, Result};
use crate::refute::smd;
use crate::spec::{Better, ErrorsSection, ReleaseSpec};
use crate::value::ValueTree;
use crate::KpiEffects;
use causalkit_data::{Dataset, MissingPolicy};
use causalkit_stats::{Effect, EffectKey, EffectKind, EstimationResult, LinearModel, Report, Vcov};
use nalgebra::DMatrix;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The no-unmeasured-confounding assumption, stated in the output.
pub const ASSUMPTION: &str = "no unmeasured confounding: given the covariates, whether a contact is misrouted is unrelated to what its KPIs would have been had it been routed correctly; the cell differences are causal only under this assumption";

/// The default minimum number of contacts of an estimated cell.
pub const DEFAULT_MIN_CONTACTS: usize = 30;
/// The default number of `fix_top_k` entries.
pub const DEFAULT_TOP_K: usize = 3;

/// One estimated confusion cell.
#[derive(Debug, Clone, Serialize)]
pub struct CellEstimate {
    /// The true intent.
    pub truth: String,
    /// The model's (wrong) prediction.
    pub predicted: String,
    /// Contacts in the cell.
    pub contacts: usize,
    /// The cell's share of all contacts.
    pub share: f64,
    /// The cell's observed mean of each KPI (spec order; over its rows with a value).
    pub kpi_mean: Vec<f64>,
    /// Per KPI, the adjusted difference misrouted − correctly routed (HC1 inference),
    /// labelled `error:true->predicted:kpi`.
    pub kpi_effects: Vec<Effect>,
    /// Standardised mean difference of each covariate (text covariates: each level's
    /// indicator) between the cell and the correctly routed contacts, before adjustment.
    pub balance: BTreeMap<String, f64>,
}

/// A confusion cell that is not estimated, with the reason.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedCell {
    /// The true intent.
    pub truth: String,
    /// The prediction.
    pub predicted: String,
    /// Contacts in the cell.
    pub contacts: usize,
    /// Why it is not estimated.
    pub reason: String,
}

/// Counts per true intent.
#[derive(Debug, Clone, Serialize)]
pub struct IntentCounts {
    /// The true intent.
    pub truth: String,
    /// All its contacts.
    pub contacts: usize,
    /// Its correctly routed contacts.
    pub correct: usize,
    /// Its contacts in estimated cells.
    pub in_estimated_cells: usize,
}

/// The regression part of the ranking: per-cell adjusted KPI differences with their joint
/// covariance.
#[derive(Debug, Clone)]
pub struct CellRegressions {
    /// The KPI names (spec order).
    pub kpis: Vec<String>,
    /// The estimated cells (true intents sorted, then predictions sorted).
    pub cells: Vec<CellEstimate>,
    /// Joint covariance of every cell's KPI differences: index `cell × kpis.len() + kpi`.
    pub covariance: DMatrix<f64>,
    /// Counts per true intent.
    pub intents: Vec<IntentCounts>,
    /// Cells left out, with the reason.
    pub skipped: Vec<SkippedCell>,
    /// All contacts (rows) in the data.
    pub contacts: usize,
    /// Rows without a value, per KPI (left out of that KPI's regressions).
    pub missing_by_kpi: Vec<(String, usize)>,
    /// The regressors used besides the cell indicators, per true intent and KPI.
    pub covariate_columns: BTreeMap<String, Vec<String>>,
}

/// A spec error naming `key` (and the spec file, or "the spec" for one built in memory).
fn spec_error(spec: &ReleaseSpec, key: &str, message: impl Into<String>) -> AttributionError {
    AttributionError::Spec {
        file: if spec.file.is_empty() {
            "the spec".into()
        } else {
            spec.file.clone()
        },
        key: key.into(),
        message: message.into(),
    }
}

/// The `[errors]` section, or an error saying it is missing.
pub(crate) fn errors_section(spec: &ReleaseSpec) -> Result<&ErrorsSection> {
    spec.errors.as_ref().ok_or_else(|| {
        spec_error(
            spec,
            "errors",
            "the spec has no [errors] table (true, predicted, volume, value)",
        )
    })
}

/// Checks that the `[errors]` columns are in the data: the error names the key
/// (`errors.true`, `errors.predicted`, `errors.covariates`), the column and the data source.
pub fn check_errors_columns(spec: &ReleaseSpec, data: &Dataset) -> Result<()> {
    let es = errors_section(spec)?;
    let cols = data.column_names();
    let mut named = vec![
        ("errors.true", &es.truth),
        ("errors.predicted", &es.predicted),
    ];
    named.extend(es.covariates.iter().map(|c| ("errors.covariates", c)));
    for (key, c) in named {
        if !cols.iter().any(|x| x == c) {
            return Err(spec_error(
                spec,
                key,
                format!(
                    "column `{c}` is not in {} (columns: {})",
                    data.source(),
                    cols.join(", ")
                ),
            ));
        }
    }
    if es.truth == es.predicted {
        return Err(spec_error(
            spec,
            "errors.predicted",
            format!("the prediction column is the truth column `{}`", es.truth),
        ));
    }
    Ok(())
}

/// Reads the spec file and its data and ranks the model's errors ([`rank`]): what
/// `causalkit attribute errors --spec FILE` runs. Errors name the file and the key: no
/// `[errors]` table, an `[errors]` or KPI column not in the data, and every error of [`rank`].
pub fn rank_file(spec_path: &std::path::Path, options: &ErrorsOptions) -> Result<ErrorRanking> {
    let spec = ReleaseSpec::load(spec_path)?;
    errors_section(&spec)?;
    let data = spec.load_data().map_err(|e| e.in_spec(&spec))?;
    check_errors_columns(&spec, &data)?;
    rank(&spec, &data, options).map_err(|e| e.in_spec(&spec))
}

/// A covariate column: numeric values, or text levels.
enum Covariate {
    Numeric(String, Vec<f64>),
    Text(String, Vec<String>),
}

fn is_text(dtype: &str) -> bool {
    let d = dtype.to_ascii_lowercase();
    d.starts_with("str") || d.starts_with("cat") || d.starts_with("enum")
}

/// The regressor columns a set of rows gets from the covariates (constant columns dropped),
/// and the balance columns (every level of a text covariate).
fn covariate_columns(covs: &[Covariate], rows: &[usize]) -> Vec<(String, Vec<f64>)> {
    let mut out: Vec<(String, Vec<f64>)> = Vec::new();
    for c in covs {
        match c {
            Covariate::Numeric(name, x) => {
                out.push((name.clone(), rows.iter().map(|&r| x[r]).collect()))
            }
            Covariate::Text(name, x) => {
                let levels: BTreeSet<&str> = rows.iter().map(|&r| x[r].as_str()).collect();
                for level in levels.iter().skip(1) {
                    out.push((
                        format!("{name}={level}"),
                        rows.iter()
                            .map(|&r| f64::from(u8::from(x[r] == *level)))
                            .collect(),
                    ));
                }
            }
        }
    }
    out.retain(|(_, v)| v.iter().any(|x| (x - v[0]).abs() > 0.0));
    out
}

fn balance_columns(covs: &[Covariate], rows: &[usize]) -> Vec<(String, Vec<f64>)> {
    let mut out = Vec::new();
    for c in covs {
        match c {
            Covariate::Numeric(name, x) => {
                out.push((name.clone(), rows.iter().map(|&r| x[r]).collect()))
            }
            Covariate::Text(name, x) => {
                let levels: BTreeSet<&str> = rows.iter().map(|&r| x[r].as_str()).collect();
                for level in levels {
                    out.push((
                        format!("{name}={level}"),
                        rows.iter()
                            .map(|&r| f64::from(u8::from(x[r] == level)))
                            .collect(),
                    ));
                }
            }
        }
    }
    out
}

/// Estimates every confusion cell's adjusted KPI differences (module docs), at interval level
/// `1 − alpha`. Errors: no `[errors]` table; a KPI with a denominator column (the ranking
/// compares contacts); a missing true/predicted label or covariate value (naming the column
/// and row); a design made singular by a covariate (e.g. one determined by the prediction).
pub fn cell_regressions(spec: &ReleaseSpec, data: &Dataset, alpha: f64) -> Result<CellRegressions> {
    causalkit_stats::error::check_alpha(alpha)?;
    let es = errors_section(spec)?;
    let min_contacts = es.min_contacts.unwrap_or(DEFAULT_MIN_CONTACTS);
    if min_contacts < 2 {
        return Err(spec_error(
            spec,
            "errors.min_contacts",
            format!("{min_contacts}: at least 2 contacts are needed to estimate a cell"),
        ));
    }
    if spec.kpi.is_empty() {
        return Err(AttributionError::Invalid(
            "the error ranking needs at least one [[kpi]]".into(),
        ));
    }
    let truth = labels_complete(data, &es.truth)?;
    let predicted = labels_complete(data, &es.predicted)?;
    let n = data.height();
    // KPI values per row (None: missing).
    let mut kpis = Vec::new();
    let mut values: Vec<Vec<Option<f64>>> = Vec::new();
    let mut missing_by_kpi = Vec::new();
    for section in &spec.kpi {
        let kpi = parse_kpi(section)?;
        let rows = kpi.row_values(data, MissingPolicy::Drop)?;
        let mut v = Vec::with_capacity(n);
        for r in 0..n {
            if !rows.keep[r] {
                v.push(None);
                continue;
            }
            if (rows.denominator[r] - 1.0).abs() > 0.0 {
                return Err(AttributionError::Invalid(format!(
                    "KPI `{}` (`{}`) has a denominator column: the error ranking compares contacts and needs a per-contact KPI (mean, proportion, ratio(x, count), ...)",
                    section.name, section.expr
                )));
            }
            v.push(Some(rows.numerator[r]));
        }
        kpis.push(section.name.clone());
        missing_by_kpi.push((section.name.clone(), rows.dropped));
        values.push(v);
    }
    let mut covs = Vec::new();
    for c in &es.covariates {
        if is_text(&data.dtype(c)?) {
            covs.push(Covariate::Text(c.clone(), labels_complete(data, c)?));
        } else {
            covs.push(Covariate::Numeric(
                c.clone(),
                causalkit_data::numeric_column(data, c)?,
            ));
        }
    }
    let nk = kpis.len();
    let intents: BTreeSet<&str> = truth.iter().map(String::as_str).collect();
    let mut cells = Vec::new();
    let mut blocks: Vec<(usize, DMatrix<f64>)> = Vec::new(); // (first cell, its block)
    let mut skipped = Vec::new();
    let mut counts = Vec::new();
    let mut covariate_names = BTreeMap::new();
    for intent in intents {
        let rows_i: Vec<usize> = (0..n).filter(|&r| truth[r] == intent).collect();
        let correct: Vec<usize> = rows_i
            .iter()
            .copied()
            .filter(|&r| predicted[r] == intent)
            .collect();
        let mut by_pred: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for &r in &rows_i {
            if predicted[r] != intent {
                by_pred.entry(predicted[r].as_str()).or_default().push(r);
            }
        }
        let present =
            |rows: &[usize], k: usize| rows.iter().filter(|&&r| values[k][r].is_some()).count();
        let correct_ok = (0..nk).all(|k| present(&correct, k) >= 2);
        let mut eligible: Vec<(&str, Vec<usize>)> = Vec::new();
        for (p, rows) in by_pred {
            let reason = if rows.len() < min_contacts {
                Some(format!(
                    "fewer than {min_contacts} contacts (errors.min_contacts)"
                ))
            } else if !correct_ok {
                Some(format!(
                    "fewer than 2 correctly routed contacts of `{intent}` with a value of every KPI"
                ))
            } else {
                (0..nk)
                    .find(|&k| present(&rows, k) < 2)
                    .map(|k| format!("fewer than 2 of its contacts have a value of `{}`", kpis[k]))
            };
            match reason {
                Some(reason) => skipped.push(SkippedCell {
                    truth: intent.to_string(),
                    predicted: p.to_string(),
                    contacts: rows.len(),
                    reason,
                }),
                None => eligible.push((p, rows)),
            }
        }
        counts.push(IntentCounts {
            truth: intent.to_string(),
            contacts: rows_i.len(),
            correct: correct.len(),
            in_estimated_cells: eligible.iter().map(|(_, r)| r.len()).sum(),
        });
        if eligible.is_empty() {
            continue;
        }
        let mut design_rows = correct.clone();
        for (_, r) in &eligible {
            design_rows.extend(r);
        }
        design_rows.sort_unstable();
        let cell_of: std::collections::HashMap<usize, usize> = eligible
            .iter()
            .enumerate()
            .flat_map(|(j, (_, rows))| rows.iter().map(move |&r| (r, j)))
            .collect();
        let m = eligible.len();
        // Per KPI: its rows, design matrix (intercept, cells, covariates), bread, residuals.
        struct KpiFit {
            rows: Vec<usize>,
            x: DMatrix<f64>,
            bread: DMatrix<f64>,
            resid: Vec<f64>,
            hc1: DMatrix<f64>,
            factor: f64,
        }
        let mut fits = Vec::with_capacity(nk);
        for k in 0..nk {
            let rows: Vec<usize> = design_rows
                .iter()
                .copied()
                .filter(|&r| values[k][r].is_some())
                .collect();
            let y: Vec<f64> = rows.iter().map(|&r| values[k][r].unwrap_or(0.0)).collect();
            let mut model = LinearModel::new(&kpis[k], y);
            let mut cols: Vec<(String, Vec<f64>)> = Vec::new();
            for (j, (p, _)) in eligible.iter().enumerate() {
                cols.push((
                    format!("error:{intent}->{p}"),
                    rows.iter()
                        .map(|r| f64::from(u8::from(cell_of.get(r) == Some(&j))))
                        .collect(),
                ));
            }
            let cov_cols = covariate_columns(&covs, &rows);
            covariate_names.insert(
                format!("{intent}|{}", kpis[k]),
                cov_cols.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>(),
            );
            cols.extend(cov_cols);
            for (name, v) in &cols {
                model = model.regressor(name, v.clone());
            }
            let fit = model.fit()?;
            let table = fit.inference(&Vcov::Hc1, alpha)?;
            let p = cols.len() + 1;
            let nr = rows.len();
            let x = DMatrix::from_fn(nr, p, |r, c| if c == 0 { 1.0 } else { cols[c - 1].1[r] });
            let bread =
                (x.transpose() * &x)
                    .try_inverse()
                    .ok_or_else(|| AttributionError::Estimator {
                        estimator: "error ranking OLS".into(),
                        message: format!(
                            "X'X of `{}` for true intent `{intent}` is singular",
                            kpis[k]
                        ),
                        numerical: true,
                    })?;
            if nr <= p {
                return Err(AttributionError::Invalid(format!(
                    "true intent `{intent}`, KPI `{}`: {nr} contacts for {p} regressors",
                    kpis[k]
                )));
            }
            fits.push((
                KpiFit {
                    rows,
                    x,
                    bread,
                    resid: fit.residuals(),
                    hc1: table.vcov().clone(),
                    factor: nr as f64 / (nr - p) as f64,
                },
                table,
            ));
        }
        // Joint covariance of the cell coefficients (indices 1..=m of each KPI's fit).
        let mut block = DMatrix::<f64>::zeros(m * nk, m * nk);
        for k in 0..nk {
            for l in 0..nk {
                let (fk, fl) = (&fits[k].0, &fits[l].0);
                let v = if k == l {
                    fk.hc1.clone()
                } else {
                    // Meat over the rows present for both KPIs.
                    let pos_l: std::collections::HashMap<usize, usize> =
                        fl.rows.iter().enumerate().map(|(i, &r)| (r, i)).collect();
                    let mut meat = DMatrix::<f64>::zeros(fk.x.ncols(), fl.x.ncols());
                    for (i, r) in fk.rows.iter().enumerate() {
                        if let Some(&j) = pos_l.get(r) {
                            let w = fk.resid[i] * fl.resid[j];
                            let xi = fk.x.row(i);
                            let xj = fl.x.row(j);
                            meat += xi.transpose() * xj * w;
                        }
                    }
                    &fk.bread * meat * &fl.bread * (fk.factor * fl.factor).sqrt()
                };
                for a in 0..m {
                    for b in 0..m {
                        block[(a * nk + k, b * nk + l)] = v[(1 + a, 1 + b)];
                    }
                }
            }
        }
        let first = cells.len();
        for (j, (p, rows)) in eligible.iter().enumerate() {
            let mut kpi_effects = Vec::with_capacity(nk);
            let mut kpi_mean = Vec::with_capacity(nk);
            for k in 0..nk {
                let row = &fits[k].1.rows()[1 + j];
                kpi_effects.push(Effect {
                    label: format!("error:{intent}->{p}:{}", kpis[k]),
                    estimate: row.estimate,
                    std_error: row.std_error,
                    ci_low: row.ci_low,
                    ci_high: row.ci_high,
                    p_value: row.p_value,
                    key: EffectKey::kind(EffectKind::Coefficient)
                        .metric(kpis[k].clone())
                        .segment(intent)
                        .contrast(*p, intent)
                        .term(format!("error:{intent}->{p}")),
                });
                let v: Vec<f64> = rows.iter().filter_map(|&r| values[k][r]).collect();
                kpi_mean.push(v.iter().sum::<f64>() / v.len() as f64);
            }
            // Balance: the cell against the correctly routed contacts.
            let both: Vec<usize> = correct.iter().chain(rows.iter()).copied().collect();
            let group: Vec<u8> = (0..both.len())
                .map(|i| u8::from(i >= correct.len()))
                .collect();
            let balance = balance_columns(&covs, &both)
                .into_iter()
                .map(|(name, x)| (name, smd(&x, &group).unwrap_or(f64::INFINITY)))
                .collect();
            cells.push(CellEstimate {
                truth: intent.to_string(),
                predicted: p.to_string(),
                contacts: rows.len(),
                share: rows.len() as f64 / n as f64,
                kpi_mean,
                kpi_effects,
                balance,
            });
        }
        blocks.push((first, block));
    }
    let total = cells.len() * nk;
    let mut covariance = DMatrix::<f64>::zeros(total, total);
    for (first, block) in blocks {
        let s = first * nk;
        covariance
            .view_mut((s, s), (block.nrows(), block.ncols()))
            .copy_from(&block);
    }
    Ok(CellRegressions {
        kpis,
        cells,
        covariance,
        intents: counts,
        skipped,
        contacts: n,
        missing_by_kpi,
        covariate_columns: covariate_names,
    })
}

/// Options of [`rank`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErrorsOptions {
    /// Two-sided level of every interval (0.05 for 95%).
    pub alpha: f64,
    /// Normal draws of the value tree's bootstrap cross-check per cell.
    pub bootstrap_draws: usize,
    /// Seed of the cross-check.
    pub seed: u64,
}

impl Default for ErrorsOptions {
    fn default() -> Self {
        ErrorsOptions {
            alpha: 0.05,
            bootstrap_draws: 1000,
            seed: 0,
        }
    }
}

/// One ranked cell: the saving per period if its contacts were routed correctly.
#[derive(Debug, Clone, Serialize)]
pub struct RankedCell {
    /// Index into [`CellRegressions::cells`].
    pub cell: usize,
    /// The saving, labelled `error:true->predicted` (delta-method interval).
    pub saving: Effect,
    /// The node for the cell's contacts without the fix (as observed).
    pub node_without: f64,
    /// The node for the cell's contacts with the fix.
    pub node_with: f64,
    /// The volume constant used (the cell's share × the volume).
    pub volume: f64,
    /// ∂saving/∂β per KPI (β = misrouted − correct).
    pub gradient: Vec<f64>,
    /// The value tree's bootstrap cross-check interval of the saving.
    pub bootstrap_ci: Option<(f64, f64)>,
}

/// The value of one accuracy point on a true intent.
#[derive(Debug, Clone, Serialize)]
pub struct AccuracyPoint {
    /// The true intent.
    pub truth: String,
    /// Contacts of that intent moved per percentage point (1% of its contacts, per period
    /// at the spec's volume).
    pub contacts_moved: f64,
    /// The saving per period with its interval.
    pub saving: Effect,
}

/// Model errors ranked by the money they cost (module docs); a [`Report`].
#[derive(Debug, Clone)]
pub struct ErrorRanking {
    /// The regressions behind the money.
    pub regressions: CellRegressions,
    /// The value node ranked by.
    pub node: String,
    /// The value constant scaled per cell.
    pub volume_constant: String,
    /// The volume per period in the spec.
    pub volume: f64,
    /// The reporting period (`[value] period`).
    pub period: String,
    /// Whether the node is a cost (saving = its decrease) or a benefit (its increase).
    pub node_is_cost: bool,
    /// Cells sorted by saving, largest first.
    pub ranked: Vec<RankedCell>,
    /// `fix_top_k` for k = 1..=min(top_k, cells).
    pub fix_top_k: Vec<Effect>,
    /// One accuracy point per true intent with estimated cells.
    pub accuracy_points: Vec<AccuracyPoint>,
    /// Level of the intervals.
    pub alpha: f64,
    /// Warnings (skipped cells, imbalanced covariates).
    pub warnings: Vec<String>,
}

fn normal_effect(label: String, est: f64, se: f64, z: f64, key: EffectKey) -> Effect {
    Effect {
        label,
        estimate: est,
        std_error: Some(se),
        ci_low: Some(est - z * se),
        ci_high: Some(est + z * se),
        p_value: (se > 0.0).then(|| 2.0 * causalkit_stats::dist::normal_sf((est / se).abs())),
        key,
    }
}

/// Whether `node` is a cost: it rises when a KPI gets worse (per `[[kpi]] better`), judged
/// by central differences of the node at `levels`; an error when the KPIs disagree or the
/// node does not depend on any KPI.
fn node_is_cost(spec: &ReleaseSpec, tree: &ValueTree, node: usize, levels: &[f64]) -> Result<bool> {
    let none = BTreeMap::new();
    let (mut cost, mut benefit) = (Vec::new(), Vec::new());
    for (k, section) in spec.kpi.iter().enumerate() {
        let h = 1e-6 * levels[k].abs().max(1e-3);
        let mut up = levels.to_vec();
        up[k] += h;
        let mut down = levels.to_vec();
        down[k] -= h;
        let d = tree.evaluate(&up, &none)?[node] - tree.evaluate(&down, &none)?[node];
        let scale = tree.evaluate(levels, &none)?[node].abs().max(1.0) * 1e-12;
        if d.abs() <= scale {
            continue;
        }
        let worse_raises = match section.better {
            Better::Higher => d < 0.0,
            Better::Lower => d > 0.0,
        };
        if worse_raises {
            cost.push(section.name.clone());
        } else {
            benefit.push(section.name.clone());
        }
    }
    match (cost.is_empty(), benefit.is_empty()) {
        (false, true) => Ok(true),
        (true, false) => Ok(false),
        (true, true) => Err(spec_error(spec, "errors.value", format!(
            "`{}` does not depend on any KPI: nothing to rank",
            tree.node_names()[node]
        ))),
        (false, false) => Err(spec_error(spec, "errors.value", format!(
            "`{}` is neither a cost nor a benefit: it rises when {} get worse but falls when {} get worse (per [[kpi]] better); rank by a node that is one or the other",
            tree.node_names()[node],
            cost.join(", "),
            benefit.join(", ")
        ))),
    }
}

/// Ranks the model's errors by money: [`cell_regressions`], then each cell's saving per
/// period through the value tree, sorted largest first, with `fix_top_k` and the value of one
/// accuracy point per true intent (module docs). Errors: no `[value]`; `errors.volume` not a
/// constant; `errors.value` not a node, or neither a cost nor a benefit.
pub fn rank(spec: &ReleaseSpec, data: &Dataset, options: &ErrorsOptions) -> Result<ErrorRanking> {
    let es = errors_section(spec)?;
    let value = spec.value.as_ref().ok_or_else(|| {
        spec_error(
            spec,
            "value",
            "the error ranking needs a [value] section (constants and nodes)",
        )
    })?;
    let kpi_names: Vec<String> = spec.kpi.iter().map(|k| k.name.clone()).collect();
    let tree = ValueTree::from_spec(value, &kpi_names)
        .map_err(|e| e.with_file(&spec.file))?
        .with_bootstrap(options.bootstrap_draws, options.seed);
    let volume = tree.constant(&es.volume).ok_or_else(|| {
        spec_error(
            spec,
            "errors.volume",
            format!("`{}` is not a constant of [value.constants]", es.volume),
        )
    })?;
    let node = tree
        .node_names()
        .iter()
        .position(|n| *n == es.value)
        .ok_or_else(|| {
            spec_error(
                spec,
                "errors.value",
                format!(
                    "`{}` is not a [[value.node]] (nodes: {})",
                    es.value,
                    tree.node_names().join(", ")
                ),
            )
        })?;
    let regressions = cell_regressions(spec, data, options.alpha)?;
    let nk = kpi_names.len();
    let z = causalkit_stats::dist::normal_quantile(1.0 - options.alpha / 2.0)?;
    let mut warnings = Vec::new();
    if regressions.cells.is_empty() {
        return Err(AttributionError::Invalid(format!(
            "no confusion cell has at least {} contacts (errors.min_contacts); nothing to rank",
            es.min_contacts.unwrap_or(DEFAULT_MIN_CONTACTS)
        )));
    }
    // Cost or benefit, judged at the mean KPI levels of the estimated cells.
    let levels: Vec<f64> = (0..nk)
        .map(|k| {
            regressions.cells.iter().map(|c| c.kpi_mean[k]).sum::<f64>()
                / regressions.cells.len() as f64
        })
        .collect();
    let is_cost = node_is_cost(spec, &tree, node, &levels)?;
    let sign = if is_cost { -1.0 } else { 1.0 };
    let mut ranked = Vec::with_capacity(regressions.cells.len());
    for (i, cell) in regressions.cells.iter().enumerate() {
        let block = regressions
            .covariance
            .view((i * nk, i * nk), (nk, nk))
            .clone_owned();
        let effects: Vec<Effect> = cell
            .kpi_effects
            .iter()
            .zip(&kpi_names)
            .map(|(e, name)| Effect {
                label: name.clone(),
                estimate: -e.estimate,
                std_error: e.std_error,
                ci_low: e.ci_high.map(|x| -x),
                ci_high: e.ci_low.map(|x| -x),
                p_value: e.p_value,
                key: EffectKey::kind(EffectKind::Absolute).metric(name.clone()),
            })
            .collect();
        let kpi_effects = KpiEffects {
            effects,
            baseline: cell.kpi_mean.clone(),
            covariance: block,
            covariance_source: "HC1 sandwich of the cell regressions".into(),
            replicates: None,
        };
        let cell_volume = cell.share * volume;
        let overrides = BTreeMap::from([(es.volume.clone(), cell_volume)]);
        let changes = tree.changes(&kpi_effects, &overrides, options.alpha)?;
        let ch = &changes[node];
        let saving = sign * ch.change.estimate;
        let se = ch.change.std_error.unwrap_or(0.0);
        let label = format!("error:{}->{}", cell.truth, cell.predicted);
        let key = EffectKey::kind(EffectKind::Other)
            .metric(format!("value:{}", es.value))
            .segment(cell.truth.clone())
            .contrast(cell.predicted.clone(), cell.truth.clone());
        let bootstrap_ci = match (ch.bootstrap.ci_low, ch.bootstrap.ci_high) {
            (Some(l), Some(h)) => Some(if is_cost { (-h, -l) } else { (l, h) }),
            _ => None,
        };
        ranked.push(RankedCell {
            cell: i,
            saving: normal_effect(label, saving, se, z, key),
            node_without: ch.without,
            node_with: ch.with,
            volume: cell_volume,
            // saving = sign × (with − without), with = f(m − β): ∂saving/∂β = −sign × ∇f.
            gradient: ch.gradient.iter().map(|g| -sign * g).collect(),
            bootstrap_ci,
        });
    }
    ranked.sort_by(|a, b| b.saving.estimate.total_cmp(&a.saving.estimate));
    // Variance of a sum of savings over a set of cells, from the joint covariance.
    let var_of = |members: &[&RankedCell], weights: &[f64]| -> f64 {
        let mut v = 0.0;
        for (a, wa) in members.iter().zip(weights) {
            for (b, wb) in members.iter().zip(weights) {
                for k in 0..nk {
                    for l in 0..nk {
                        v += wa
                            * wb
                            * a.gradient[k]
                            * b.gradient[l]
                            * regressions.covariance[(a.cell * nk + k, b.cell * nk + l)];
                    }
                }
            }
        }
        v.max(0.0)
    };
    let top_k = es.top_k.unwrap_or(DEFAULT_TOP_K).min(ranked.len());
    let mut fix_top_k = Vec::with_capacity(top_k);
    for k in 1..=top_k {
        let members: Vec<&RankedCell> = ranked.iter().take(k).collect();
        let est: f64 = members.iter().map(|c| c.saving.estimate).sum();
        let se = var_of(&members, &vec![1.0; k]).sqrt();
        let names: Vec<String> = members
            .iter()
            .map(|c| {
                let cell = &regressions.cells[c.cell];
                format!("{}->{}", cell.truth, cell.predicted)
            })
            .collect();
        fix_top_k.push(normal_effect(
            format!("fix_top_{k}"),
            est,
            se,
            z,
            EffectKey::kind(EffectKind::Other)
                .metric(format!("value:{}", es.value))
                .term(names.join(" + ")),
        ));
    }
    // One accuracy point on intent i: 1% of its contacts moved from its estimated error
    // cells to correct routing, pro rata to the cells' sizes.
    let mut accuracy_points = Vec::new();
    for ic in &regressions.intents {
        let members: Vec<&RankedCell> = ranked
            .iter()
            .filter(|c| regressions.cells[c.cell].truth == ic.truth)
            .collect();
        if members.is_empty() || ic.in_estimated_cells == 0 {
            continue;
        }
        let scale = 0.01 * ic.contacts as f64 / ic.in_estimated_cells as f64;
        let est: f64 = scale * members.iter().map(|c| c.saving.estimate).sum::<f64>();
        let se = scale * var_of(&members, &vec![1.0; members.len()]).sqrt();
        let moved = 0.01 * ic.contacts as f64 / regressions.contacts as f64 * volume;
        accuracy_points.push(AccuracyPoint {
            truth: ic.truth.clone(),
            contacts_moved: moved,
            saving: normal_effect(
                format!("accuracy_point:{}", ic.truth),
                est,
                se,
                z,
                EffectKey::kind(EffectKind::Other)
                    .metric(format!("value:{}", es.value))
                    .segment(ic.truth.clone()),
            ),
        });
    }
    for s in &regressions.skipped {
        warnings.push(format!(
            "cell {}->{} ({} contacts) not estimated: {}",
            s.truth, s.predicted, s.contacts, s.reason
        ));
    }
    for c in &regressions.cells {
        let bad: Vec<String> = c
            .balance
            .iter()
            .filter(|(_, v)| v.abs() >= 0.1)
            .map(|(k, v)| format!("{k} ({v:.3})"))
            .collect();
        if !bad.is_empty() {
            warnings.push(format!(
                "cell {}->{}: covariates differ from correctly routed contacts before adjustment (|SMD| >= 0.1): {}; the adjustment relies on them being the only difference",
                c.truth,
                c.predicted,
                bad.join(", ")
            ));
        }
    }
    Ok(ErrorRanking {
        regressions,
        node: es.value.clone(),
        volume_constant: es.volume.clone(),
        volume,
        period: value.period.clone(),
        node_is_cost: is_cost,
        ranked,
        fix_top_k,
        accuracy_points,
        alpha: options.alpha,
        warnings,
    })
}

impl ErrorRanking {
    /// The ranked savings then the `fix_top_k` entries, as in the output.
    pub fn effects(&self) -> Vec<Effect> {
        self.ranked
            .iter()
            .map(|c| c.saving.clone())
            .chain(self.fix_top_k.iter().cloned())
            .collect()
    }
}

/// Money rounded to whole units (two decimals below 100), for the tables.
fn money(x: f64) -> String {
    if !x.is_finite() {
        causalkit_stats::result::fmt_value(x)
    } else if x.abs() < 100.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.0}")
    }
}

fn money_ci(e: &Effect) -> String {
    match (e.ci_low, e.ci_high) {
        (Some(l), Some(h)) => format!("{} [{}, {}]", money(e.estimate), money(l), money(h)),
        _ => money(e.estimate),
    }
}

impl ErrorRanking {
    /// A one-paragraph summary for the table output: what was ranked, the costliest cell and
    /// the saving of fixing the top cells, with intervals.
    pub fn summary(&self) -> String {
        let level = causalkit_stats::result::fmt_value((1.0 - self.alpha) * 100.0);
        let mut s = format!(
            "Model errors ranked by money: saving in `{}` per {} if a confusion cell's contacts were routed correctly ({level}% intervals).\n",
            self.node, self.period
        );
        if let Some(top) = self.ranked.first() {
            s += &format!(
                "Costliest error: {} ({} per {}).\n",
                top.saving.label,
                money_ci(&top.saving),
                self.period
            );
        }
        if let Some(last) = self.fix_top_k.last() {
            s += &format!(
                "Fixing the top {} cells: {} per {}.\n",
                self.fix_top_k.len(),
                money_ci(last),
                self.period
            );
        }
        s += &format!("Assumption: {ASSUMPTION}.\n");
        s
    }

    /// The detail tables for the table output: ranked cells, `fix_top_k`, the value of one
    /// accuracy point per intent, covariate balance per cell and skipped cells.
    pub fn detail_tables(&self) -> String {
        use causalkit_stats::text::plain_table;
        let reg = &self.regressions;
        let mut s = String::new();
        let rows: Vec<Vec<String>> = self
            .ranked
            .iter()
            .map(|rc| {
                let c = &reg.cells[rc.cell];
                vec![
                    rc.saving.label.clone(),
                    c.contacts.to_string(),
                    format!("{:.3}%", 100.0 * c.share),
                    money_ci(&rc.saving),
                    rc.bootstrap_ci
                        .map_or("-".into(), |(l, h)| format!("[{}, {}]", money(l), money(h))),
                ]
            })
            .collect();
        s += &format!("\nCells, costliest first (saving per {}):\n", self.period);
        s += &plain_table(
            &["cell", "contacts", "share", "saving [CI]", "bootstrap CI"],
            &rows,
        );
        let rows: Vec<Vec<String>> = self
            .fix_top_k
            .iter()
            .map(|e| {
                vec![
                    e.label.clone(),
                    money_ci(e),
                    e.key.term.clone().unwrap_or_default(),
                ]
            })
            .collect();
        s += "\nFixing the k costliest cells (joint covariance):\n";
        s += &plain_table(&["entry", "saving [CI]", "cells"], &rows);
        let rows: Vec<Vec<String>> = self
            .accuracy_points
            .iter()
            .map(|a| {
                vec![
                    a.truth.clone(),
                    format!("{:.0}", a.contacts_moved),
                    money_ci(&a.saving),
                ]
            })
            .collect();
        s += &format!(
            "\nOne accuracy point per true intent (1% of its contacts routed correctly; per {}):\n",
            self.period
        );
        s += &plain_table(&["true intent", "contacts moved", "saving [CI]"], &rows);
        let rows: Vec<Vec<String>> = reg
            .cells
            .iter()
            .map(|c| {
                let worst = c
                    .balance
                    .iter()
                    .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()));
                vec![
                    format!("error:{}->{}", c.truth, c.predicted),
                    worst.map_or("-".into(), |(k, _)| k.clone()),
                    worst.map_or("-".into(), |(_, v)| format!("{v:.3}")),
                ]
            })
            .collect();
        s +=
            "\nCovariate balance before adjustment (largest |SMD| vs correctly routed contacts):\n";
        s += &plain_table(&["cell", "covariate", "SMD"], &rows);
        if !reg.skipped.is_empty() {
            let rows: Vec<Vec<String>> = reg
                .skipped
                .iter()
                .map(|c| {
                    vec![
                        format!("error:{}->{}", c.truth, c.predicted),
                        c.contacts.to_string(),
                        c.reason.clone(),
                    ]
                })
                .collect();
            s += "\nCells not estimated:\n";
            s += &plain_table(&["cell", "contacts", "reason"], &rows);
        }
        s
    }
}

impl Report for ErrorRanking {
    fn result(&self) -> EstimationResult {
        let mut r = EstimationResult::new(
            "model errors ranked by money: per-intent OLS of each KPI on confusion-cell indicators and covariates (HC1), through the value tree",
            format!(
                "saving in `{}` per {} if a confusion cell's contacts were routed correctly",
                self.node, self.period
            ),
        );
        r.effects = self.effects();
        let reg = &self.regressions;
        let cells: Vec<serde_json::Value> = self
            .ranked
            .iter()
            .map(|rc| {
                let c = &reg.cells[rc.cell];
                serde_json::json!({
                    "label": rc.saving.label,
                    "true": c.truth,
                    "predicted": c.predicted,
                    "contacts": c.contacts,
                    "share": c.share,
                    "volume": rc.volume,
                    "node_without": rc.node_without,
                    "node_with": rc.node_with,
                    "bootstrap_ci": rc.bootstrap_ci,
                    "kpi_mean": reg.kpis.iter().cloned().zip(c.kpi_mean.iter().copied()).collect::<BTreeMap<String, f64>>(),
                    "kpi_effects": c.kpi_effects,
                    "balance_smd": c.balance,
                })
            })
            .collect();
        r.diagnostics.insert("assumption".into(), ASSUMPTION.into());
        r.diagnostics
            .insert("value_node".into(), self.node.clone().into());
        r.diagnostics
            .insert("period".into(), self.period.clone().into());
        r.diagnostics.insert(
            "node_is".into(),
            if self.node_is_cost { "cost" } else { "benefit" }.into(),
        );
        r.diagnostics.insert(
            "saving".into(),
            if self.node_is_cost {
                "node without the fix minus node with it (a cost falls)"
            } else {
                "node with the fix minus node without it (a benefit rises)"
            }
            .into(),
        );
        r.diagnostics.insert(
            "volume_constant".into(),
            self.volume_constant.clone().into(),
        );
        r.diagnostics.insert("volume".into(), self.volume.into());
        r.diagnostics.insert(
            "contacts".into(),
            causalkit_stats::count_value(reg.contacts as f64),
        );
        r.diagnostics.insert("cells".into(), cells.into());
        r.diagnostics.insert(
            "skipped_cells".into(),
            serde_json::to_value(&reg.skipped).unwrap_or_default(),
        );
        r.diagnostics.insert(
            "intents".into(),
            serde_json::to_value(&reg.intents).unwrap_or_default(),
        );
        r.diagnostics.insert(
            "accuracy_point".into(),
            serde_json::to_value(&self.accuracy_points).unwrap_or_default(),
        );
        r.diagnostics.insert(
            "accuracy_point_definition".into(),
            "saving per period if 1% of the true intent's contacts moved from its estimated error cells to correct routing, pro rata to the cells' sizes".into(),
        );
        r.diagnostics.insert(
            "covariance".into(),
            "joint HC1 sandwich across cells of one true intent (shared correctly routed contacts) and across KPIs; cells of different intents independent".into(),
        );
        r.diagnostics.insert(
            "missing_by_kpi".into(),
            serde_json::to_value(&reg.missing_by_kpi).unwrap_or_default(),
        );
        r.warnings = std::iter::once(format!("assumption: {ASSUMPTION}"))
            .chain(self.warnings.iter().cloned())
            .collect();
        r
    }
}

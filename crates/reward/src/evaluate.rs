//! Evaluation of a reward in a randomised experiment.
//!
//! For a linear reward `R = Σ_k w_k S_k`, the effect of the treatment on the mean of `R` is
//! `τ_R = Σ_k w_k τ_k`, with `τ_k` the effect on signal `k`, and `Var(τ̂_R) = wᵀVw` with `V`
//! the joint covariance of the component effects. Every metric's effect comes from the A/B
//! engine (`causalkit_ab::review`: Welch tests, CUPED / regression adjustment on the
//! covariates — Deng, Xu, Kohavi & Walker 2013, WSDM — and the sample-ratio-mismatch check),
//! exactly as `causalkit ab` computes it; `V` comes from per-unit influence functions
//! ([`causalkit_ab::influence`], the same code the release attribution uses), so its diagonal
//! is the engine's squared standard errors. The effect on R is therefore *defined* as the
//! weighted sum of the (CUPED-adjusted) component effects; its interval and p-value are normal
//! (`τ̂_R ± z_{1−α/2} √(wᵀVw)`).
//!
//! With a calibration ([`crate::calibrate()`]), the surrogate index `h(S, X)` is computed per row
//! and evaluated as one more metric: its effect estimates the long-term effect under
//! surrogacy (Athey, Chetty, Imbens & Kang 2019, NBER w26463). Where the experiment also
//! observed the long-term outcome, the **surrogacy validation** compares the two: the
//! difference `τ_h − τ_Y`, its standard error `√(V_hh + V_YY − 2V_hY)` from the same joint
//! covariance, and a flag when the two-sided test of no difference rejects at `alpha`. The
//! index's own estimation error (from the calibration sample) is not in `V_hh`: the history is
//! treated as fixed, as in the paper's plug-in estimator; with a large history it is small.
//!
//! Guardrails (e.g. return rate, NPS) are the engine's non-inferiority tests of the relative
//! lift with a margin, as in `causalkit ab --guardrail`. Rows with a missing guardrail value
//! (e.g. NPS non-responders) are left out of that guardrail only; signals, covariates, the
//! long-term outcome and the index inputs must be present.

use crate::calibrate::{Calibration, SURROGACY_ASSUMPTION};
use crate::error::{Result, RewardError};
use crate::expr::Reward;
use causalkit_ab::influence::{effect_covariance, influence, pooled_theta, ArmUnits, UnitSums};
use causalkit_ab::review::{
    AbData, AbFit, AbSpec, Guardrail, MetricCells, MetricData, MetricSpec, OVERALL,
};
use causalkit_ab::MetricType;
use causalkit_stats::dist::{normal_quantile, normal_sf};
use causalkit_stats::factor::codes_in_order;
use causalkit_stats::{Effect, EffectKey, EffectKind, EstimationResult, Moments, Report};
use nalgebra::{DMatrix, DVector};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The name of the surrogate-index metric.
pub const INDEX: &str = "surrogate_index";

/// The metric name of the reward's effect in the result (its `key.metric`, and the
/// `primary` diagnostic).
pub const REWARD_METRIC: &str = "R";

/// The rows of an experiment: the arm and optional unit per row, and numeric columns
/// (missing values as `None`).
#[derive(Debug, Clone, Default)]
pub struct ExperimentData {
    /// Name of the arm column.
    pub arm_name: String,
    /// Arm label per row.
    pub arm: Vec<Option<String>>,
    /// `(column, label per row)`: rows of a unit are summed (a per-row mean then becomes a
    /// ratio of sums, by the delta method).
    pub unit: Option<(String, Vec<Option<String>>)>,
    /// Numeric columns by name.
    pub columns: BTreeMap<String, Vec<Option<f64>>>,
}

/// A guardrail KPI.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardrailSpec {
    /// Column.
    pub metric: String,
    /// Whether lower values are better (return rate) or higher (NPS).
    pub lower_is_better: bool,
    /// Largest tolerated relative worsening (0.02 = 2%).
    pub margin: f64,
}

/// Options of [`evaluate`].
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluateOptions {
    /// Control arm (default: the first arm in sorted order).
    pub control: Option<String>,
    /// Treatment arm (default: the other arm when there are exactly two).
    pub treatment: Option<String>,
    /// Pre-treatment covariates for CUPED.
    pub covariates: Vec<String>,
    /// The long-term outcome, when the experiment observed it (surrogacy validation).
    pub long_term: Option<String>,
    /// Guardrails.
    pub guardrails: Vec<GuardrailSpec>,
    /// Significance level.
    pub alpha: f64,
}

impl Default for EvaluateOptions {
    fn default() -> Self {
        EvaluateOptions {
            control: None,
            treatment: None,
            covariates: Vec::new(),
            long_term: None,
            guardrails: Vec::new(),
            alpha: 0.05,
        }
    }
}

/// The surrogacy validation (see the module docs).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SurrogacyCheck {
    /// Effect on the surrogate index.
    pub index_effect: f64,
    /// Effect on the long-term outcome (direct).
    pub direct_effect: f64,
    /// `index_effect − direct_effect`.
    pub difference: f64,
    /// Its standard error from the joint covariance.
    pub std_error: f64,
    /// Two-sided normal p-value of no difference.
    pub p_value: f64,
    /// True when `p_value < alpha`: the index and the direct effect disagree.
    pub disagree: bool,
}

/// A guardrail's outcome.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GuardrailResult {
    /// Metric.
    pub metric: String,
    /// Relative lift (treatment/control − 1), CUPED-adjusted when covariates are given.
    pub relative_lift: f64,
    /// Margin.
    pub margin: f64,
    /// One-sided non-inferiority p-value.
    pub non_inferiority_p: f64,
    /// Whether non-inferiority is shown at `alpha`.
    pub pass: bool,
}

/// The evaluation of a reward.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The reward.
    pub reward: Reward,
    /// Control and treatment.
    pub control: String,
    /// Treatment arm.
    pub treatment: String,
    /// Metric names, in the order of `effects` and `covariance`: the reward's signals, then
    /// the index, the long-term outcome and the guardrails not already listed.
    pub metrics: Vec<String>,
    /// The engine's absolute effect per metric (labelled with the metric name).
    pub effects: Vec<Effect>,
    /// Joint covariance of `effects`.
    pub covariance: DMatrix<f64>,
    /// Control mean per metric (unadjusted).
    pub baseline: Vec<f64>,
    /// Effect on R.
    pub reward_effect: Effect,
    /// Surrogacy validation, when both the index and the long-term outcome are evaluated.
    pub surrogacy: Option<SurrogacyCheck>,
    /// Guardrails.
    pub guardrails: Vec<GuardrailResult>,
    /// Significance level.
    pub alpha: f64,
    /// SRM, CUPED and engine diagnostics.
    pub diagnostics: Map<String, Value>,
    /// Warnings.
    pub warnings: Vec<String>,
}

impl Evaluation {
    /// The effect of a metric by name.
    pub fn effect(&self, metric: &str) -> Option<&Effect> {
        self.metrics
            .iter()
            .position(|m| m == metric)
            .map(|i| &self.effects[i])
    }

    /// The effect on another linear reward over the evaluated signals, with its standard
    /// error `√(wᵀVw)` and a normal interval (the sensitivity analysis calls this).
    pub fn effect_of(&self, reward: &Reward) -> Result<Effect> {
        let mut w = DVector::zeros(self.metrics.len());
        for (s, x) in &reward.terms {
            let i =
                self.metrics
                    .iter()
                    .position(|m| m == s)
                    .ok_or_else(|| RewardError::Unknown {
                        what: "signal".into(),
                        name: s.clone(),
                        known: format!("evaluated: {}", self.metrics.join(", ")),
                    })?;
            w[i] = *x;
        }
        let est: f64 = (0..w.len()).map(|i| w[i] * self.effects[i].estimate).sum();
        let var = (w.transpose() * &self.covariance * &w)[(0, 0)];
        normal_effect("reward", est, var.max(0.0).sqrt(), self.alpha)
    }
}

fn normal_effect(label: &str, est: f64, se: f64, alpha: f64) -> Result<Effect> {
    let z = normal_quantile(1.0 - alpha / 2.0)?;
    Ok(Effect {
        label: label.into(),
        estimate: est,
        std_error: Some(se),
        ci_low: Some(est - z * se),
        ci_high: Some(est + z * se),
        p_value: Some(if se > 0.0 {
            2.0 * normal_sf((est / se).abs())
        } else {
            f64::NAN
        }),
        key: EffectKey::default(),
    })
}

/// `= 0.0123`, or `< 0.0001` for tiny p-values.
fn pv(p: f64) -> String {
    let f = causalkit_stats::fmt_p_value(p);
    if f.starts_with('<') {
        f
    } else {
        format!("= {f}")
    }
}

fn unknown_column(data: &ExperimentData, what: &str, name: &str) -> RewardError {
    RewardError::Unknown {
        what: what.into(),
        name: name.into(),
        known: format!(
            "numeric columns: {}",
            data.columns.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
    }
}

/// A required column (every value present).
fn required<'a>(data: &'a ExperimentData, what: &str, name: &str) -> Result<&'a [Option<f64>]> {
    let col = data
        .columns
        .get(name)
        .ok_or_else(|| unknown_column(data, what, name))?;
    if let Some(row) = col.iter().position(|v| v.is_none_or(|x| !x.is_finite())) {
        return Err(RewardError::Invalid(format!(
            "{what} `{name}` has a missing or non-finite value at row {} (data row {}, counting the header as row 1); the {what}s must be present in every row",
            row,
            row + 2
        )));
    }
    Ok(col)
}

/// Builds each metric's units per arm.
struct Units {
    /// Per metric: [control, treatment].
    per_metric: Vec<[ArmUnits; 2]>,
    /// Whether each metric is a ratio (units with several rows).
    ratio: Vec<bool>,
}

fn build_units(
    data: &ExperimentData,
    arm_of: &[Option<usize>],
    metrics: &[Vec<Option<f64>>],
    covs: &[&[Option<f64>]],
) -> Units {
    let n = arm_of.len();
    // A row without a unit label joins the unit of the empty label.
    let keys: Vec<u64> = match &data.unit {
        Some((_, u)) => codes_in_order(u.iter().map(|l| l.as_deref().unwrap_or("")))
            .0
            .into_iter()
            .map(u64::from)
            .collect(),
        None => (0..n as u64).collect(),
    };
    let mut per_metric = Vec::with_capacity(metrics.len());
    let mut ratio = Vec::with_capacity(metrics.len());
    for col in metrics {
        let mut sums: [UnitSums; 2] = Default::default();
        for i in 0..n {
            let (Some(a), Some(v)) = (arm_of[i], col[i]) else {
                continue;
            };
            sums[a].add(keys[i], v, 1.0, covs.iter().map(|c| c[i].unwrap_or(0.0)));
        }
        let [(c, c_several), (t, t_several)] = sums.map(UnitSums::finish);
        let (out, is_ratio) = ([c, t], c_several || t_several);
        per_metric.push(out);
        ratio.push(is_ratio);
    }
    Units { per_metric, ratio }
}

fn moments(u: &ArmUnits, covariates: &[String]) -> Result<Moments> {
    let mut names = vec!["numerator".to_string(), "denominator".to_string()];
    names.extend(covariates.iter().cloned());
    let mut m = Moments::new(names);
    let mut row = Vec::with_capacity(2 + covariates.len());
    for i in 0..u.num.len() {
        row.clear();
        row.push(u.num[i]);
        row.push(u.den[i]);
        row.extend_from_slice(&u.x[i]);
        m.push(&row)?;
    }
    Ok(m)
}

/// Evaluates a reward in an experiment (see the module docs).
pub fn evaluate(
    data: &ExperimentData,
    reward: &Reward,
    calibration: Option<&Calibration>,
    opts: &EvaluateOptions,
) -> Result<Evaluation> {
    let n = data.arm.len();
    if !(opts.alpha > 0.0 && opts.alpha < 1.0) {
        return Err(RewardError::Invalid(format!(
            "alpha must lie in (0, 1), got {}",
            opts.alpha
        )));
    }
    for (name, col) in &data.columns {
        if col.len() != n {
            return Err(RewardError::Invalid(format!(
                "column `{name}` has {} rows, the arm column {n}",
                col.len()
            )));
        }
    }
    // Arms.
    let mut labels: Vec<&str> = data.arm.iter().flatten().map(String::as_str).collect();
    labels.sort_unstable();
    labels.dedup();
    if let Some(row) = data.arm.iter().position(Option::is_none) {
        return Err(RewardError::Invalid(format!(
            "arm column `{}` is missing at row {row} (data row {})",
            data.arm_name,
            row + 2
        )));
    }
    let control = match &opts.control {
        Some(c) => c.clone(),
        None => labels.first().map(|s| s.to_string()).ok_or_else(|| {
            RewardError::Invalid(format!("arm column `{}` has no rows", data.arm_name))
        })?,
    };
    let arm_unknown = |l: &str| RewardError::Unknown {
        what: "arm".into(),
        name: l.to_string(),
        known: format!("values of `{}`: {}", data.arm_name, labels.join(", ")),
    };
    if !labels.contains(&control.as_str()) {
        return Err(arm_unknown(&control));
    }
    let treatment = match &opts.treatment {
        Some(t) => t.clone(),
        None => {
            let others: Vec<&str> = labels.iter().copied().filter(|l| *l != control).collect();
            if others.len() != 1 {
                return Err(RewardError::Invalid(format!(
                    "arm column `{}` has arms {}; name the treatment (--treatment) when there are not exactly two",
                    data.arm_name,
                    labels.join(", ")
                )));
            }
            others[0].to_string()
        }
    };
    if !labels.contains(&treatment.as_str()) {
        return Err(arm_unknown(&treatment));
    }
    if treatment == control {
        return Err(RewardError::Invalid(format!(
            "the treatment and the control are the same arm `{control}`"
        )));
    }
    let arm_of: Vec<Option<usize>> = data
        .arm
        .iter()
        .map(|a| match a.as_deref() {
            Some(x) if x == control => Some(0),
            Some(x) if x == treatment => Some(1),
            _ => None,
        })
        .collect();
    if let Some((u, labels)) = &data.unit {
        if let Some(row) = labels.iter().position(Option::is_none) {
            return Err(RewardError::Invalid(format!(
                "unit column `{u}` is missing at row {row} (data row {})",
                row + 2
            )));
        }
    }
    // Columns.
    let covs: Vec<&[Option<f64>]> = opts
        .covariates
        .iter()
        .map(|c| required(data, "covariate", c))
        .collect::<Result<_>>()?;
    let mut metrics: Vec<String> = Vec::new();
    let mut values: Vec<Vec<Option<f64>>> = Vec::new();
    for s in reward.signals() {
        values.push(required(data, "signal", &s)?.to_vec());
        metrics.push(s);
    }
    let mut warnings = Vec::new();
    let mut diagnostics = Map::new();
    if let Some(cal) = calibration {
        let mut cols = Vec::new();
        for s in &cal.signals {
            cols.push(required(data, "calibration signal", s)?);
        }
        for c in &cal.covariates {
            cols.push(required(data, "calibration covariate", c)?);
        }
        let dense: Vec<Vec<f64>> = cols
            .iter()
            .map(|c| c.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
            .collect();
        let h = cal.predict(&dense)?;
        values.push(h.into_iter().map(Some).collect());
        metrics.push(INDEX.into());
        diagnostics.insert("surrogacy_assumption".into(), json!(SURROGACY_ASSUMPTION));
        diagnostics.insert(
            "calibration".into(),
            json!({"kind": cal.kind, "long_term": cal.long_term, "signals": cal.signals, "covariates": cal.covariates, "cv_r_squared": cal.cross_validation.r_squared, "n": cal.n}),
        );
    }
    if let Some(y) = &opts.long_term {
        if !metrics.contains(y) {
            values.push(required(data, "long-term outcome", y)?.to_vec());
            metrics.push(y.clone());
        }
    }
    for g in &opts.guardrails {
        if !metrics.contains(&g.metric) {
            let col = data
                .columns
                .get(&g.metric)
                .ok_or_else(|| unknown_column(data, "guardrail", &g.metric))?;
            values.push(col.clone());
            metrics.push(g.metric.clone());
        }
    }
    let units = build_units(data, &arm_of, &values, &covs);
    for (m, u) in metrics.iter().zip(&units.per_metric) {
        for (a, arm) in u.iter().enumerate() {
            if arm.num.len() < 2 {
                return Err(RewardError::Invalid(format!(
                    "`{m}` has {} unit(s) with a value in arm `{}`; at least 2 are needed",
                    arm.num.len(),
                    [&control, &treatment][a]
                )));
            }
        }
    }
    // The A/B engine.
    let mut spec = AbSpec::new(
        metrics
            .iter()
            .zip(&units.ratio)
            .map(|(m, r)| {
                MetricSpec::new(
                    m.clone(),
                    if *r {
                        MetricType::Ratio
                    } else {
                        MetricType::Mean
                    },
                )
            })
            .collect(),
    );
    let lower: Vec<&str> = opts
        .guardrails
        .iter()
        .filter(|g| g.lower_is_better)
        .map(|g| g.metric.as_str())
        .collect();
    spec.set_lower_is_better(&lower)
        .map_err(|e| RewardError::Invalid(e.to_string()))?;
    spec.covariates = opts.covariates.clone();
    spec.control = Some(control.clone());
    spec.alpha = opts.alpha;
    spec.guardrails = opts
        .guardrails
        .iter()
        .map(|g| Guardrail {
            metric: g.metric.clone(),
            margin: g.margin,
        })
        .collect();
    let review = spec
        .validate()
        .map_err(|e| RewardError::Invalid(e.to_string()))?;
    let mut ab = AbData::default();
    for (m, u) in metrics.iter().zip(&units.per_metric) {
        let mut arms = BTreeMap::new();
        arms.insert(control.clone(), moments(&u[0], &opts.covariates)?);
        arms.insert(treatment.clone(), moments(&u[1], &opts.covariates)?);
        let mut segments = BTreeMap::new();
        segments.insert(OVERALL.to_string(), arms);
        ab.metrics
            .push(MetricData::new(m.clone(), MetricCells::moments(segments)));
    }
    let fit: AbFit = review.fit(&ab)?;
    let effects: Vec<Effect> = metrics
        .iter()
        .map(|name| {
            fit.overall_absolute_effect(name, &treatment)
                .ok_or_else(|| {
                    RewardError::Invalid(format!(
                        "the A/B engine gave no absolute effect of `{treatment}` on `{name}`"
                    ))
                })
        })
        .collect::<Result<_>>()?;
    let baseline: Vec<f64> = fit
        .metrics
        .iter()
        .map(|m| m.arms.get(&control).map_or(f64::NAN, |a| a.unadjusted_mean))
        .collect();
    // Joint covariance from influence functions.
    let p = opts.covariates.len();
    let mut infl = Vec::with_capacity(metrics.len());
    for (m, u) in metrics.iter().zip(&units.per_metric) {
        let theta = pooled_theta(u, p).ok_or_else(|| {
            RewardError::Invalid(format!(
                "the covariates {} are collinear for `{m}` (their pooled covariance is singular)",
                opts.covariates.join(", ")
            ))
        })?;
        infl.push(influence(u, MetricType::Mean, &theta));
    }
    let covariance = effect_covariance(&infl);
    let k = reward.terms.len();
    let w = DVector::from_vec(reward.weights());
    let est: f64 = (0..k).map(|i| w[i] * effects[i].estimate).sum();
    let v = covariance.view((0, 0), (k, k)).into_owned();
    let var = (w.transpose() * &v * &w)[(0, 0)];
    let mut reward_effect = normal_effect("reward", est, var.max(0.0).sqrt(), opts.alpha)?;
    reward_effect.key = EffectKey::default().contrast(treatment.clone(), control.clone());
    // Surrogacy validation.
    let surrogacy = match (calibration, &opts.long_term) {
        (Some(_), Some(y)) => {
            let hi = metrics
                .iter()
                .position(|m| m == INDEX)
                .expect("index listed");
            let yi = metrics
                .iter()
                .position(|m| m == y)
                .expect("long-term listed");
            let d = effects[hi].estimate - effects[yi].estimate;
            let var = covariance[(hi, hi)] + covariance[(yi, yi)] - 2.0 * covariance[(hi, yi)];
            let se = var.max(0.0).sqrt();
            let pv_ = 2.0 * normal_sf((d / se).abs());
            let disagree = pv_ < opts.alpha;
            if disagree {
                warnings.push(format!(
                    "surrogacy check failed: the surrogate-index effect ({:.4}) and the direct effect on `{y}` ({:.4}) differ by {:.4} (SE {:.4}, p {}); the signals do not carry the whole long-term effect here, so the index's effect is not a valid stand-in for `{y}`",
                    effects[hi].estimate,
                    effects[yi].estimate,
                    d,
                    se,
                    pv(pv_)
                ));
            }
            Some(SurrogacyCheck {
                index_effect: effects[hi].estimate,
                direct_effect: effects[yi].estimate,
                difference: d,
                std_error: se,
                p_value: pv_,
                disagree,
            })
        }
        _ => None,
    };
    let guardrails: Vec<GuardrailResult> = fit
        .guardrails
        .iter()
        .map(|g| GuardrailResult {
            metric: g.metric.clone(),
            relative_lift: g.lift.estimate,
            margin: g.margin,
            non_inferiority_p: g.non_inferiority_p,
            pass: g.non_inferiority_p < opts.alpha,
        })
        .collect();
    for g in guardrails.iter().filter(|g| !g.pass) {
        warnings.push(format!(
            "guardrail `{}` not shown non-inferior at margin {} (relative lift {:.4}, p {})",
            g.metric,
            g.margin,
            g.relative_lift,
            pv(g.non_inferiority_p)
        ));
    }
    if let Some(srm) = fit.srm_json() {
        diagnostics.insert("srm".into(), srm);
    }
    if let Some(srm) = &fit.srm {
        if srm.mismatch {
            warnings.push(format!(
                "sample ratio mismatch (chi2 = {:.2}, p {}): the arms' unit counts differ from the planned split; the randomisation or logging may be broken",
                srm.overall.chi2,
                pv(srm.overall.p_value)
            ));
        }
    }
    if let Some(cuped) = fit.cuped_json() {
        diagnostics.insert("cuped".into(), cuped);
    }
    warnings.extend(fit.result().warnings);
    Ok(Evaluation {
        reward: reward.clone(),
        control,
        treatment,
        metrics,
        effects,
        covariance,
        baseline,
        reward_effect,
        surrogacy,
        guardrails,
        alpha: opts.alpha,
        diagnostics,
        warnings,
    })
}

impl Report for Evaluation {
    /// Effects: the reward (typed as the absolute effect on metric `R`, the `primary`), each component (`component: <signal>`), the surrogate index and the
    /// long-term outcome when evaluated, the surrogacy difference, and the guardrails'
    /// effects; diagnostics: reward expression and weights, the joint covariance, baselines,
    /// surrogacy check and assumption, guardrails, SRM and CUPED.
    fn result(&self) -> EstimationResult {
        let mut r = EstimationResult::new(
            "reward evaluation (A/B engine effects, joint covariance from influence functions)",
            format!(
                "effect of `{}` vs `{}` on the reward R = {} (the weighted sum of the component effects), its components and long-term value",
                self.treatment, self.control, self.reward.display()
            ),
        );
        let mut e = self.reward_effect.clone();
        e.label = format!("reward: {}", self.reward.display());
        // Typed as the absolute effect on the metric `R`, the primary one: the report's
        // headline and main table lead with it.
        e.key = EffectKey::kind(EffectKind::Absolute)
            .metric(REWARD_METRIC)
            .segment(OVERALL)
            .contrast(self.treatment.clone(), self.control.clone());
        r.effects.push(e);
        r.diagnostics.insert("primary".into(), json!(REWARD_METRIC));
        for (i, m) in self.metrics.iter().enumerate() {
            let mut e = self.effects[i].clone();
            e.label = if i < self.reward.terms.len() {
                format!("component: {m}")
            } else if m == INDEX {
                "surrogate index (predicted long-term)".to_string()
            } else if self.guardrails.iter().any(|g| &g.metric == m) {
                format!("guardrail: {m}")
            } else {
                format!("long-term: {m}")
            };
            r.effects.push(e);
        }
        if let Some(s) = &self.surrogacy {
            let z = normal_quantile(1.0 - self.alpha / 2.0).unwrap_or(f64::NAN);
            r.effects.push(Effect {
                label: "surrogacy check: index − direct".into(),
                estimate: s.difference,
                std_error: Some(s.std_error),
                ci_low: Some(s.difference - z * s.std_error),
                ci_high: Some(s.difference + z * s.std_error),
                p_value: Some(s.p_value),
                key: EffectKey::default(),
            });
        }
        r.diagnostics
            .insert("reward".into(), json!(self.reward.display()));
        r.diagnostics.insert(
            "weights".into(),
            Value::Object(
                self.reward
                    .terms
                    .iter()
                    .map(|(s, w)| (s.clone(), json!(w)))
                    .collect(),
            ),
        );
        r.diagnostics.insert("control".into(), json!(self.control));
        r.diagnostics
            .insert("treatment".into(), json!(self.treatment));
        r.diagnostics.insert("alpha".into(), json!(self.alpha));
        r.diagnostics.insert("metrics".into(), json!(self.metrics));
        r.diagnostics.insert(
            "baseline".into(),
            Value::Object(
                self.metrics
                    .iter()
                    .zip(&self.baseline)
                    .map(|(m, b)| (m.clone(), json!(b)))
                    .collect(),
            ),
        );
        let cov: Vec<Vec<f64>> = (0..self.covariance.nrows())
            .map(|i| self.covariance.row(i).iter().copied().collect())
            .collect();
        r.diagnostics.insert("covariance".into(), json!(cov));
        r.diagnostics.insert(
            "covariance_source".into(),
            json!("per-unit influence functions (CUPED-adjusted with the engine's slope)"),
        );
        if let Some(s) = &self.surrogacy {
            r.diagnostics.insert("surrogacy_check".into(), json!(s));
        }
        if !self.guardrails.is_empty() {
            r.diagnostics
                .insert("guardrails".into(), json!(self.guardrails));
        }
        for (k, v) in &self.diagnostics {
            r.diagnostics.insert(k.clone(), v.clone());
        }
        r.warnings = self.warnings.clone();
        r
    }
}

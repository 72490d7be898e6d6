//! Generic refuters: checks that try to break a release's estimate, each returning a
//! [`RefuterResult`] with its pass rule in words. A refuter that does not apply to the design
//! or the spec returns [`RefuterOutcome::NotApplicable`] with the reason, never a pass.
//!
//! - [`placebo_kpis`]: refit on KPIs the release cannot move (`design.placebo_kpis`); pass
//!   when each placebo effect's confidence interval covers 0.
//! - [`random_subsets`]: refit on R random halves of the data (per-replicate seeds); pass when
//!   each KPI's half-sample estimates stay inside the full-data interval in at least 80% of
//!   the replicates and significant effects keep their sign in at least 90% (see the function
//!   for why these numbers).
//! - [`sample_ratio`]: randomised designs, Pearson's chi-square of the arm counts against the
//!   planned split, the A/B engine's SRM check (Fabijan et al. 2019, KDD); pass when
//!   p ≥ 0.001.
//! - [`covariate_balance`]: randomised designs, standardised mean differences of the
//!   covariates between arms, `(x̄_T − x̄_C)/√((s²_T + s²_C)/2)` (Austin 2009, *Statistics in
//!   Medicine* 28, "Balance diagnostics for comparing the distribution of baseline covariates
//!   between treatment groups in propensity-score matched samples"); pass when every
//!   |SMD| < 0.1.
//!
//! The refit closure is the design's own fit (`&dyn Fn(&ReleaseSpec, &Dataset) ->
//! Result<DesignFit>`), so the refuters work for every design kind. The placebo release date
//! (rollout, single-unit) is in the designs' modules.

use crate::decompose::{arm_of_rows, design, labels_complete, parse_kpi, units_of_rows};
use crate::error::{AttributionError, Result};
use crate::source::Source;
use crate::spec::{Better, DesignKind, KpiSection, ReleaseSpec};
use crate::{DesignFit, RefuterOutcome, RefuterResult};
use causalkit_data::Dataset;
use causalkit_stats::resample::replicate_rng;
use causalkit_stats::result::fmt_value;
use rand::seq::index::sample;

/// The design's fit, called again on a changed spec or data.
pub type Refit<'a> = &'a dyn Fn(&ReleaseSpec, Source) -> Result<DesignFit>;

/// Options of the refuters.
#[derive(Debug, Clone, PartialEq)]
pub struct RefuteOptions {
    /// Random-half replicates of [`random_subsets`] (at least 5).
    pub subset_reps: usize,
    /// Seed of [`random_subsets`]; replicate `b` uses the ChaCha stream `(seed, b)`.
    pub seed: u64,
    /// Significance level of the SRM test (the A/B engine's default, 0.001).
    pub srm_alpha: f64,
    /// The planned split of control and treatment (positive weights; default 1:1).
    pub planned_split: [f64; 2],
    /// The largest acceptable |SMD| of a covariate (0.1).
    pub smd_limit: f64,
}

impl Default for RefuteOptions {
    fn default() -> Self {
        RefuteOptions {
            subset_reps: 20,
            seed: 20_251_203,
            srm_alpha: 0.001,
            planned_split: [1.0, 1.0],
            smd_limit: 0.1,
        }
    }
}

fn not_applicable(name: &str, rule: String, why: impl Into<String>) -> RefuterResult {
    RefuterResult {
        name: name.into(),
        rule,
        outcome: RefuterOutcome::NotApplicable,
        detail: why.into(),
    }
}

fn fmt_ci(lo: Option<f64>, hi: Option<f64>) -> String {
    match (lo, hi) {
        (Some(l), Some(h)) => format!("[{}, {}]", fmt_value(l), fmt_value(h)),
        _ => "no interval".into(),
    }
}

/// A spec for refitting: the same design and data, only `kpis`, no value tree, no errors
/// section and no placebo KPIs (so a refit does not recurse into the refuters).
fn refit_spec(spec: &ReleaseSpec, kpis: Vec<KpiSection>) -> ReleaseSpec {
    let mut s = spec.clone();
    s.kpi = kpis;
    s.value = None;
    s.errors = None;
    if let Some(d) = s.design.as_mut() {
        d.placebo_kpis.clear();
    }
    s
}

/// Placebo KPIs: refits the design on each KPI of `design.placebo_kpis` — the name of a
/// `[[kpi]]`, or a KPI in the data layer's grammar (`pre_aht=mean(pre_handle_seconds)`) —
/// and passes when every placebo effect's confidence interval (at the design's level)
/// covers 0. A placebo effect without an interval fails (it cannot show the release left it
/// alone). Not applicable when the spec names no placebo KPI.
pub fn placebo_kpis<'s>(
    spec: &ReleaseSpec,
    source: impl Into<Source<'s>>,
    refit: Refit,
) -> Result<RefuterResult> {
    let source: Source = source.into();
    const NAME: &str = "placebo KPIs";
    let rule = "the release's effect on every KPI it cannot move (design.placebo_kpis) has a confidence interval covering 0".to_string();
    let d = design(spec)?;
    if d.placebo_kpis.is_empty() {
        return Ok(not_applicable(
            NAME,
            rule,
            "the spec names no placebo KPI (`design.placebo_kpis`)",
        ));
    }
    let mut sections = Vec::new();
    for p in &d.placebo_kpis {
        let section = match spec.kpi.iter().find(|k| k.name == *p) {
            Some(k) => k.clone(),
            None => {
                let kpi: causalkit_data::Kpi = p.parse().map_err(|e| {
                    AttributionError::Invalid(format!(
                        "`design.placebo_kpis`: `{p}` is neither a [[kpi]] name nor a KPI definition ({e})"
                    ))
                })?;
                let expr = kpi.to_string();
                let expr = expr
                    .split_once('=')
                    .map_or(expr.clone(), |(_, body)| body.to_string());
                KpiSection {
                    name: kpi.name.clone(),
                    expr,
                    better: Better::Higher,
                }
            }
        };
        parse_kpi(&section)?;
        sections.push(section);
    }
    let names: Vec<String> = sections.iter().map(|s| s.name.clone()).collect();
    let fit = refit(&refit_spec(spec, sections), source)?;
    let mut failed = Vec::new();
    let mut parts = Vec::new();
    for name in &names {
        let e = fit
            .effects
            .effects
            .iter()
            .find(|e| e.label == *name || e.key.metric.as_deref() == Some(name))
            .ok_or_else(|| {
                AttributionError::Invalid(format!(
                    "the refit on placebo KPI `{name}` returned no effect for it"
                ))
            })?;
        let covers = matches!((e.ci_low, e.ci_high), (Some(l), Some(h)) if l <= 0.0 && 0.0 <= h);
        if !covers {
            failed.push(name.clone());
        }
        parts.push(format!(
            "{name}: {} {}",
            fmt_value(e.estimate),
            fmt_ci(e.ci_low, e.ci_high)
        ));
    }
    let outcome = RefuterOutcome::from_pass(failed.is_empty());
    let mut detail = parts.join("; ");
    if !failed.is_empty() {
        detail.push_str(&format!(
            "; the release moves {} (interval excludes 0)",
            failed.join(", ")
        ));
    }
    Ok(RefuterResult {
        name: NAME.into(),
        rule,
        outcome,
        detail,
    })
}

/// Random subsets: refits the design on `options.subset_reps` random halves of the data and
/// compares each KPI's half-sample estimate with the full-data fit `fit`.
///
/// What is halved: for a randomised design, the randomisation units (`design.unit`, else the
/// rows); for a rollout or single-unit design, the event rows (`design.events = true`) within
/// the panel's cells, so every unit and period stays in the panel. A panel given as one row
/// per unit × period cell cannot be halved without dropping cells: not applicable.
///
/// Pass rule, for every KPI: the half-sample estimate lies inside the full-data confidence
/// interval in at least 80% of the replicates, and, when the full-data interval excludes 0,
/// it has the full-data sign in at least 90% of them. Why: a half sample's estimate differs
/// from the full-data estimate by about one full-data standard error (the variance of the
/// difference is σ²_half − σ²_full = 2σ² − σ²), so it falls inside a 95% interval about 95%
/// of the time and flips the sign of a significant effect at most about 2.5% of the time;
/// 80% and 90% leave room for the replicate noise of R = 20 (P(≤ 80% | 95%) ≈ 1.6% per KPI
/// for independent replicates). An interval too narrow for the data (a variance that
/// ignores clustering or heavy tails) or an estimate driven by a few units fails. A refit
/// that errors on a half fails the refuter (with the error).
pub fn random_subsets<'s>(
    spec: &ReleaseSpec,
    source: impl Into<Source<'s>>,
    fit: &DesignFit,
    refit: Refit,
    options: &RefuteOptions,
) -> Result<RefuterResult> {
    let source: Source = source.into();
    const NAME: &str = "random data subsets";
    let reps = options.subset_reps;
    let rule = format!(
        "refit on {reps} random halves (seeded per replicate): every KPI's half-sample estimate stays inside the full-data CI in at least 80% of them, and an effect whose CI excludes 0 keeps its sign in at least 90%"
    );
    if reps < 5 {
        return Err(AttributionError::Invalid(format!(
            "random subsets: {reps} replicates; at least 5 are needed"
        )));
    }
    let data = match source.rows("drawing random halves") {
        Ok(data) => data,
        Err(why) => {
            return Ok(RefuterResult {
                name: NAME.into(),
                rule,
                outcome: RefuterOutcome::NotRun,
                detail: why,
            })
        }
    };
    let d = design(spec)?;
    // Groups of rows sampled together, and strata within which half are kept.
    let (group_of_row, stratum_of_group, what): (Vec<usize>, Vec<usize>, String) = match d.kind {
        DesignKind::Randomised => {
            let arms = arm_of_rows(spec, data)?;
            let (units, unit_arm) = units_of_rows(spec, data, &arms)?;
            let what = match &d.unit {
                Some(u) => format!("`{u}` units, within each arm"),
                None => "rows, within each arm".to_string(),
            };
            (units, unit_arm.iter().map(|a| *a as usize).collect(), what)
        }
        DesignKind::Rollout | DesignKind::SingleUnit => {
            if !d.events {
                return Ok(not_applicable(
                    NAME,
                    rule,
                    "the rows are unit × period cells (`design.events` is not set): a random half would drop cells from the panel",
                ));
            }
            let unit = d.unit.as_deref().ok_or_else(|| {
                AttributionError::Invalid("`design.unit` is required for this design".into())
            })?;
            let time = d.time.as_deref().ok_or_else(|| {
                AttributionError::Invalid("`design.time` is required for this design".into())
            })?;
            let u = labels_complete(data, unit)?;
            let t = labels_complete(data, time)?;
            let mut cells = std::collections::HashMap::new();
            let strata: Vec<usize> = u
                .iter()
                .zip(&t)
                .map(|(u, t)| {
                    let next = cells.len();
                    *cells.entry((u.as_str(), t.as_str())).or_insert(next)
                })
                .collect();
            (
                (0..data.height()).collect(),
                strata,
                "event rows, within each unit × period cell".into(),
            )
        }
    };
    let n_groups = stratum_of_group.len();
    let n_strata = stratum_of_group.iter().max().map_or(0, |m| m + 1);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); n_strata];
    for (g, s) in stratum_of_group.iter().enumerate() {
        members[*s].push(g);
    }
    let k = fit.effects.effects.len();
    let mut inside = vec![0usize; k];
    let mut same_sign = vec![0usize; k];
    for b in 0..reps {
        let mut rng = replicate_rng(options.seed, b as u64);
        let mut keep_group = vec![false; n_groups];
        for m in &members {
            // Half of each stratum, rounded up so no stratum empties.
            let take = m.len().div_ceil(2);
            for i in sample(&mut rng, m.len(), take) {
                keep_group[m[i]] = true;
            }
        }
        let keep: Vec<bool> = group_of_row.iter().map(|g| keep_group[*g]).collect();
        let half = data.filter_rows(&keep)?;
        let refit_result = match refit(spec, Source::Rows(&half)) {
            Ok(f) => f,
            Err(e) => {
                return Ok(RefuterResult {
                    name: NAME.into(),
                    rule,
                    outcome: RefuterOutcome::Fail,
                    detail: format!("the refit on random half {b} failed: {e}"),
                })
            }
        };
        for (j, full) in fit.effects.effects.iter().enumerate() {
            let h = refit_result
                .effects
                .effects
                .iter()
                .find(|e| e.label == full.label)
                .ok_or_else(|| {
                    AttributionError::Invalid(format!(
                        "the refit on random half {b} returned no effect `{}`",
                        full.label
                    ))
                })?;
            if matches!((full.ci_low, full.ci_high), (Some(l), Some(hi)) if l <= h.estimate && h.estimate <= hi)
            {
                inside[j] += 1;
            }
            if h.estimate.signum() == full.estimate.signum() {
                same_sign[j] += 1;
            }
        }
    }
    let mut failed = Vec::new();
    let mut parts = Vec::new();
    for (j, e) in fit.effects.effects.iter().enumerate() {
        let (lo, hi) = (e.ci_low, e.ci_high);
        let significant = matches!((lo, hi), (Some(l), Some(h)) if l > 0.0 || h < 0.0);
        let ok_inside = lo.is_some() && hi.is_some() && inside[j] * 10 >= reps * 8;
        let ok_sign = !significant || same_sign[j] * 10 >= reps * 9;
        if !(ok_inside && ok_sign) {
            failed.push(e.label.clone());
        }
        parts.push(format!(
            "{}: inside the CI {}/{reps}{}",
            e.label,
            inside[j],
            if significant {
                format!(", same sign {}/{reps}", same_sign[j])
            } else {
                String::new()
            }
        ));
    }
    let mut detail = format!("halves of the {what}; {}", parts.join("; "));
    if !failed.is_empty() {
        detail.push_str(&format!("; unstable: {}", failed.join(", ")));
    }
    Ok(RefuterResult {
        name: NAME.into(),
        rule,
        outcome: RefuterOutcome::from_pass(failed.is_empty()),
        detail,
    })
}

/// Sample-ratio mismatch (randomised designs): the A/B engine's Pearson chi-square test
/// ([`causalkit_ab::checks::srm`]) of the control and treatment counts — randomisation
/// units (`design.unit`) or rows — against `options.planned_split`; pass when
/// p ≥ `options.srm_alpha`.
pub fn sample_ratio<'s>(
    spec: &ReleaseSpec,
    source: impl Into<Source<'s>>,
    options: &RefuteOptions,
) -> Result<RefuterResult> {
    let source: Source = source.into();
    const NAME: &str = "sample ratio mismatch";
    let [c, t] = options.planned_split;
    let rule = format!(
        "the control and treatment counts fit the planned {}:{} split: Pearson chi-square p ≥ {} (the A/B engine's SRM check)",
        fmt_value(c),
        fmt_value(t),
        fmt_value(options.srm_alpha)
    );
    let d = design(spec)?;
    if d.kind != DesignKind::Randomised {
        return Ok(not_applicable(
            NAME,
            rule,
            format!(
                "a {} design does not randomise units to arms with a planned split",
                d.kind.name()
            ),
        ));
    }
    let [n0, n1] = match source {
        Source::Rows(data) => {
            let arms = arm_of_rows(spec, data)?;
            let (_, unit_arm) = units_of_rows(spec, data, &arms)?;
            let n1 = unit_arm.iter().filter(|a| **a == 1).count() as f64;
            [unit_arm.len() as f64 - n1, n1]
        }
        Source::Engine(e) => crate::randomised::engine_moments(spec, e)?.units,
    };
    let s = causalkit_ab::checks::srm(&[n0, n1], &options.planned_split)?;
    let pass = s.p_value >= options.srm_alpha;
    Ok(RefuterResult {
        name: NAME.into(),
        rule,
        outcome: RefuterOutcome::from_pass(pass),
        detail: format!(
            "control {} and treatment {} {} (expected {} and {}): chi-square {}, p = {}",
            n0,
            n1,
            if d.unit.is_some() { "units" } else { "rows" },
            fmt_value(s.expected[0]),
            fmt_value(s.expected[1]),
            fmt_value(s.chi2),
            causalkit_stats::result::fmt_p_value(s.p_value)
        ),
    })
}

/// The standardised mean difference `(x̄_T − x̄_C)/√((s²_T + s²_C)/2)` (sample variances,
/// n − 1) of `x` between `arm` 1 and 0; `None` when both variances are zero and the means
/// differ (infinite imbalance), 0 when everything is equal.
pub fn smd(x: &[f64], arm: &[u8]) -> Option<f64> {
    let stats = |a: u8| {
        let v: Vec<f64> = x
            .iter()
            .zip(arm)
            .filter(|(_, g)| **g == a)
            .map(|(x, _)| *x)
            .collect();
        let n = v.len() as f64;
        let m = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
        (m, var)
    };
    smd_of(stats(0), stats(1))
}

/// [`smd`] from each arm's mean and sample variance, `(mean, variance)` of control then
/// treatment.
pub fn smd_of((m0, v0): (f64, f64), (m1, v1): (f64, f64)) -> Option<f64> {
    let pooled = ((v0 + v1) / 2.0).sqrt();
    if pooled > 0.0 {
        Some((m1 - m0) / pooled)
    } else if (m1 - m0).abs() <= f64::EPSILON * m0.abs().max(1.0) {
        Some(0.0)
    } else {
        None
    }
}

/// Covariate balance (randomised designs): the standardised mean difference of every
/// `design.covariates` column between the arms (per randomisation unit — the mean of its
/// rows — when `design.unit` is set, else per row); pass when every |SMD| <
/// `options.smd_limit`. A missing covariate value is an error naming the column and row.
/// Not applicable without covariates.
pub fn covariate_balance<'s>(
    spec: &ReleaseSpec,
    source: impl Into<Source<'s>>,
    options: &RefuteOptions,
) -> Result<RefuterResult> {
    let source: Source = source.into();
    const NAME: &str = "covariate balance";
    let rule = format!(
        "every covariate's standardised mean difference between the arms, (mean_T - mean_C) / sqrt((var_T + var_C)/2), is below {} in absolute value",
        fmt_value(options.smd_limit)
    );
    let d = design(spec)?;
    if d.kind != DesignKind::Randomised {
        return Ok(not_applicable(
            NAME,
            rule,
            format!(
                "a {} design has no randomised arms to compare",
                d.kind.name()
            ),
        ));
    }
    if d.covariates.is_empty() {
        return Ok(not_applicable(
            NAME,
            rule,
            "the spec names no covariate (`design.covariates`)",
        ));
    }
    let mut failed = Vec::new();
    let mut parts = Vec::new();
    let smds: Vec<Option<f64>> = match source {
        Source::Rows(data) => covariate_smds(spec, data, &d.covariates)?,
        Source::Engine(e) => crate::randomised::engine_covariate_smds(spec, e)?,
    };
    for (cov, smd) in d.covariates.iter().zip(smds) {
        match smd {
            Some(v) => {
                if v.abs() >= options.smd_limit {
                    failed.push(cov.clone());
                }
                parts.push(format!("{cov}: SMD {}", fmt_value(v)));
            }
            None => {
                failed.push(cov.clone());
                parts.push(format!(
                    "{cov}: constant within each arm but different between them"
                ));
            }
        }
    }
    let mut detail = parts.join("; ");
    if !failed.is_empty() {
        detail.push_str(&format!("; imbalanced: {}", failed.join(", ")));
    }
    if let Some(w) = &d.weight {
        detail.push_str(&format!(
            "; unweighted (the row weights `{w}` are not applied to the balance check)"
        ));
    }
    Ok(RefuterResult {
        name: NAME.into(),
        rule,
        outcome: RefuterOutcome::from_pass(failed.is_empty()),
        detail,
    })
}

/// Per covariate, the standardised mean difference ([`smd`]) of its per-unit means between
/// the arms of the rows (`None`: constant within each arm but different between them).
fn covariate_smds(
    spec: &ReleaseSpec,
    data: &Dataset,
    covariates: &[String],
) -> Result<Vec<Option<f64>>> {
    let arms = arm_of_rows(spec, data)?;
    let (unit_of_row, unit_arm) = units_of_rows(spec, data, &arms)?;
    let mut out = Vec::with_capacity(covariates.len());
    for cov in covariates {
        let x = causalkit_data::numeric_column(data, cov)?;
        let mut sum = vec![0.0; unit_arm.len()];
        let mut cnt = vec![0.0; unit_arm.len()];
        for (r, u) in unit_of_row.iter().enumerate() {
            sum[*u] += x[r];
            cnt[*u] += 1.0;
        }
        let per_unit: Vec<f64> = sum.iter().zip(&cnt).map(|(s, c)| s / c).collect();
        for a in 0..2u8 {
            if unit_arm.iter().filter(|g| **g == a).count() < 2 {
                return Err(AttributionError::Invalid(format!(
                    "covariate balance: the {} arm has fewer than 2 units",
                    ["control", "treatment"][a as usize]
                )));
            }
        }
        out.push(smd(&per_unit, &unit_arm));
    }
    Ok(out)
}

/// Runs the generic refuters in order: placebo KPIs, random subsets, SRM, covariate
/// balance (the placebo release date lives with the panel designs).
pub fn refute_all<'s>(
    spec: &ReleaseSpec,
    source: impl Into<Source<'s>>,
    fit: &DesignFit,
    refit: Refit,
    options: &RefuteOptions,
) -> Result<Vec<RefuterResult>> {
    let source: Source = source.into();
    Ok(vec![
        placebo_kpis(spec, source, refit)?,
        random_subsets(spec, source, fit, refit, options)?,
        sample_ratio(spec, source, options)?,
        covariate_balance(spec, source, options)?,
    ])
}

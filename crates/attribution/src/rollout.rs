//! The rollout design: a release reaching units (sites) in cohorts, some never or not yet
//! treated.
//!
//! # Method
//! Per KPI, on the unit × period panel (`design.unit`, `design.time`; with `events = true`
//! the rows are events averaged into unit × period cells by the data layer, unweighted cells,
//! exactly as `causalkit did --events --method cs`):
//!
//! - **Main estimator**: Callaway & Sant'Anna (2021, *Journal of Econometrics* 225(2)),
//!   doubly robust 2×2 comparisons against never-treated units (`control_group = "never"`,
//!   the default) or not-yet-treated units (`control_group = "not-yet"`), aggregated with the
//!   *simple* aggregation (the cohort-share weighted mean of the post-treatment `ATT(g,t)`,
//!   R `aggte(type = "simple")`). The KPI effect is identical to `causalkit did --method cs`
//!   on the same data and options.
//! - **Joint covariance across KPIs** from the influence functions of the simple aggregate:
//!   every KPI is estimated on the same units, so `Cov(θ_k, θ_l) = Σ_i ψ_ik ψ_il / n²`; its
//!   diagonal is the analytic CS variance.
//! - **Baseline**: the treated units' counterfactual level, the mean KPI of the cells entering
//!   the aggregate (weighted as the aggregate weights them) minus the ATT.
//! - **Cross-check**: the imputation estimator of Borusyak, Jaravel & Spiess (2024, *Review
//!   of Economic Studies* 91(6)), unweighted over treated unit-periods (the same estimand as
//!   the simple aggregate on a balanced panel), clustered by unit. A warning names every KPI
//!   whose CS and imputation intervals do not overlap.
//! - **Pre-trends**: the CS Wald pre-test over the pre-treatment `ATT(g,t)` and BJS Test 1
//!   (up to 3 leads) are in the diagnostics; a rejection at `alpha` is a warning.
//!
//! [`placebo_release_date`] refits CS with a fake adoption date inside the pre-period;
//! [`running_effects`] gives the running effect by event time for the cumulative view.

use crate::design_panel::{
    disagreement, kpi_effect, placebo_date_refuter, placebo_part, placebo_shift, required,
    spec_error, KpiPanel,
};
use crate::source::Source;
use crate::spec::{DesignKind, ReleaseSpec};
use crate::{
    AttributionError, CrossCheck, DesignFit, KpiEffects, RefuterOutcome, RefuterResult, Result,
};
use causalkit_data::Dataset;
use causalkit_did::cs::{
    self, Aggregate, AggregateInfluence, Aggregation, AttGt, ControlGroup, CsData, CsError,
    CsMethod, CsOptions,
};
use causalkit_did::imputation::{imputation_pretrend, imputation_vcov};
use causalkit_did::{DidError, StaggeredPanel};
use causalkit_stats::Factor;
use nalgebra::DMatrix;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Options of the rollout design.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RolloutOptions {
    /// Significance level of the intervals (0.05: 95% intervals).
    pub alpha: f64,
}

impl Default for RolloutOptions {
    fn default() -> Self {
        RolloutOptions { alpha: 0.05 }
    }
}

/// The rollout panel: the KPI cells with each cell's cohort.
#[derive(Debug, Clone)]
struct Prepared {
    panel: KpiPanel,
    /// First treated period of the cell's unit (0 = never treated), as CS takes it.
    cohort: Vec<i64>,
    unit_col: String,
    control: ControlGroup,
    /// Notes on the analysis periods (adoption periods inside a block of `period_width`).
    notes: Vec<String>,
}

const CS_NAME: &str = "Callaway-Sant'Anna";
const IMPUTATION_NAME: &str = "imputation (Borusyak-Jaravel-Spiess)";

fn cs_error(kpi: &str, e: CsError) -> AttributionError {
    AttributionError::on_kpi(CS_NAME, kpi, &e, e.is_numerical())
}

fn did_error(kpi: &str, e: DidError) -> AttributionError {
    AttributionError::on_kpi(IMPUTATION_NAME, kpi, &e, e.is_numerical())
}

fn prepare(spec: &ReleaseSpec, source: Source) -> Result<Prepared> {
    let d = crate::design_panel::design(spec)?;
    if d.kind != DesignKind::Rollout {
        return Err(spec_error(
            spec,
            "design.kind",
            format!("is `{}`, the rollout design needs `rollout`", d.kind.name()),
        ));
    }
    let why = "for a rollout design";
    let unit = required(spec, &d.unit, "design.unit", why)?;
    let time = required(spec, &d.time, "design.time", why)?;
    let adoption = required(spec, &d.adoption, "design.adoption", why)?;
    if d.weight.is_some() {
        return Err(spec_error(
            spec,
            "design.weight",
            "does not apply to a rollout design: Callaway-Sant'Anna compares unweighted unit x period cells (as `causalkit did --method cs`)",
        ));
    }
    let control = match d.control_group.as_deref() {
        None | Some("never") => ControlGroup::NeverTreated,
        Some("not-yet") => ControlGroup::NotYetTreated,
        Some(other) => {
            return Err(spec_error(
                spec,
                "design.control_group",
                format!("unknown value `{other}`; use `never` or `not-yet`"),
            ))
        }
    };
    let (panel, cohort_of) = match source {
        Source::Rows(data) => {
            data.require(&[adoption])?;
            let panel = KpiPanel::build(spec, data, unit, time)?;
            (panel, adoption_of_units(data, unit, adoption)?)
        }
        Source::Engine(e) => KpiPanel::from_engine(spec, e, unit, time, Some(adoption))?,
    };
    // With `period_width`, the adoption period becomes the block holding it.
    let notes: Vec<String> = cohort_of
        .values()
        .filter_map(|c| *c)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter_map(|g| panel.block_note("adoption period", g))
        .collect();
    let cohort = panel
        .unit
        .iter()
        .map(|u| {
            cohort_of
                .get(u.as_str())
                .and_then(|c| *c)
                .map_or(0, |g| panel.block_of(g))
        })
        .collect();
    Ok(Prepared {
        panel,
        cohort,
        unit_col: unit.to_string(),
        control,
        notes,
    })
}

/// The adoption period of each unit from the rows: constant within the unit; 0 or empty =
/// never (`None`).
fn adoption_of_units(
    data: &Dataset,
    unit: &str,
    adoption: &str,
) -> Result<BTreeMap<String, Option<i64>>> {
    // The adoption period of each unit: constant within the unit; 0 or empty = never.
    let labels = data.labels(unit)?;
    let gs = data.numeric(adoption)?;
    let mut cohort_of: BTreeMap<&str, (Option<i64>, usize)> = BTreeMap::new();
    for (i, l) in labels.iter().enumerate() {
        let Some(l) = l else { continue };
        let g = match gs[i] {
            None => None,
            Some(0.0) => None,
            Some(x) if x.fract() == 0.0 && x.is_finite() && x > 0.0 => Some(x as i64),
            Some(x) => {
                return Err(AttributionError::Invalid(format!(
                    "column `{adoption}` row {}: {x} is not a whole-number period (0 or empty = never treated)",
                    i + 1
                )))
            }
        };
        if let Some((prev, first)) = cohort_of.get(l.as_str()) {
            if *prev != g {
                let show = |v: Option<i64>| v.map_or("never".to_string(), |g| g.to_string());
                return Err(AttributionError::Invalid(format!(
                    "column `{adoption}`: unit `{l}` has adoption {} in row {} and {} in row {}; it must be constant within a unit",
                    show(*prev),
                    first + 1,
                    show(g),
                    i + 1
                )));
            }
        } else {
            cohort_of.insert(l.as_str(), (g, i));
        }
    }
    Ok(cohort_of
        .into_iter()
        .map(|(u, (g, _))| (u.to_string(), g))
        .collect())
}

/// The CS fit of KPI `k` with the options `causalkit did --method cs` uses by default
/// (doubly robust, varying base period, no anticipation, analytic standard errors).
fn cs_fit(p: &Prepared, k: usize, alpha: f64) -> Result<AttGt> {
    let f = Factor::from_labels("unit", &p.panel.unit);
    let unit_idx: Vec<usize> = f.codes().iter().map(|&u| u as usize).collect();
    let data = CsData {
        unit: &unit_idx,
        period: &p.panel.period,
        cohort: &p.cohort,
        outcome: &p.panel.values[k],
        covariates: Vec::new(),
        weights: None,
        cluster: None,
    };
    let options = CsOptions {
        control_group: p.control,
        anticipation: 0,
        method: CsMethod::DoublyRobust,
        panel: true,
        allow_unbalanced_panel: false,
        alpha,
        bootstrap: None,
        ..CsOptions::default()
    };
    cs::att_gt(&data, &options).map_err(|e| cs_error(&p.panel.names[k], e))
}

/// One CS fit per KPI with an aggregation, its overall effect's influence sums, and the joint
/// covariance of the overall effects.
struct JointCs {
    fits: Vec<AttGt>,
    aggregates: Vec<Aggregate>,
    covariance: DMatrix<f64>,
}

fn joint_cs(
    p: &Prepared,
    kind: &Aggregation,
    fits: Option<Vec<AttGt>>,
    alpha: f64,
) -> Result<JointCs> {
    let fits = match fits {
        Some(f) => f,
        None => (0..p.panel.names.len())
            .map(|k| cs_fit(p, k, alpha))
            .collect::<Result<Vec<_>>>()?,
    };
    let mut aggregates = Vec::new();
    let mut infl: Vec<AggregateInfluence> = Vec::new();
    for (k, f) in fits.iter().enumerate() {
        let (a, i) = f
            .aggregate_influence(kind)
            .map_err(|e| cs_error(&p.panel.names[k], e))?;
        aggregates.push(a);
        infl.push(i);
    }
    let covariance = influence_covariance(&p.panel.names, &infl)?;
    Ok(JointCs {
        fits,
        aggregates,
        covariance,
    })
}

/// `Cov(θ_k, θ_l) = Σ_c S_ck S_cl / n²` over the units shared by every KPI.
fn influence_covariance(names: &[String], infl: &[AggregateInfluence]) -> Result<DMatrix<f64>> {
    let m = infl.len();
    let (n, nc) = (infl[0].n, infl[0].cluster_sums.len());
    if let Some(k) = (1..m).find(|&k| infl[k].n != n || infl[k].cluster_sums.len() != nc) {
        return Err(AttributionError::Invalid(format!(
            "KPIs `{}` and `{}` were estimated on different units ({n} and {}); the joint covariance needs the same units for every KPI",
            names[0], names[k], infl[k].n
        )));
    }
    let n2 = (n as f64) * (n as f64);
    Ok(DMatrix::from_fn(m, m, |a, b| {
        infl[a]
            .cluster_sums
            .iter()
            .zip(&infl[b].cluster_sums)
            .map(|(x, y)| x * y)
            .sum::<f64>()
            / n2
    }))
}

/// The treated units' mean KPI over the cells that enter an aggregate: the cells of the
/// post-treatment `ATT(g,t)` rows selected by `select`, each row weighted by `weight(row)`
/// times its cohort's unit count (the cohort shares of the CS aggregation), each row's
/// cohort mean taken over its units.
fn treated_level(
    p: &Prepared,
    k: usize,
    fit: &AttGt,
    select: impl Fn(&cs::AttGtRow) -> bool,
) -> f64 {
    let mut cell_sum: BTreeMap<(i64, i64), (f64, f64)> = BTreeMap::new();
    for i in 0..p.panel.unit.len() {
        let e = cell_sum
            .entry((p.cohort[i], p.panel.period[i]))
            .or_insert((0.0, 0.0));
        e.0 += p.panel.values[k][i];
        e.1 += 1.0;
    }
    let (mut num, mut den) = (0.0, 0.0);
    for r in fit
        .rows
        .iter()
        .filter(|r| r.post && r.group <= r.time && select(r))
    {
        if let Some((s, c)) = cell_sum.get(&(r.group, r.time)) {
            // Weight = cohort size (units observed in the cell) as the share weights.
            num += s;
            den += c;
        }
    }
    num / den
}

/// Fits the rollout design: Callaway-Sant'Anna (simple aggregate) per KPI with the joint
/// covariance from the influence functions, imputation as cross-check, pre-trend tests in
/// the diagnostics. See the [module documentation](self).
pub fn fit<'s>(
    spec: &ReleaseSpec,
    source: impl Into<Source<'s>>,
    options: &RolloutOptions,
) -> Result<DesignFit> {
    let source: Source = source.into();
    causalkit_stats::limits::check_alpha_level("alpha", options.alpha)?;
    let p = prepare(spec, source)?;
    let alpha = options.alpha;
    let joint = joint_cs(&p, &Aggregation::Simple, None, alpha)?;
    let names = &p.panel.names;
    let mut effects = Vec::new();
    let mut baseline = Vec::new();
    let mut warnings = p.notes.clone();
    let mut pretrends = Map::new();
    let mut cs_warnings = BTreeSet::new();
    for (k, name) in names.iter().enumerate() {
        let (fit, agg) = (&joint.fits[k], &joint.aggregates[k]);
        let mut e = kpi_effect(name, agg.overall.estimate, agg.overall.se, alpha);
        // The interval exactly as the CS aggregation reports it.
        e.ci_low = agg.overall.ci.map(|c| c.0);
        e.ci_high = agg.overall.ci.map(|c| c.1);
        baseline.push(treated_level(&p, k, fit, |_| true) - agg.overall.estimate);
        effects.push(e);
        cs_warnings.extend(fit.warnings.iter().cloned());
        let mut pt = Map::new();
        if let Some(t) = &fit.pretest {
            pt.insert(
                "callaway_santanna".into(),
                json!({"test": "Wald pre-test over the pre-treatment ATT(g,t) (chi-squared)", "statistic": t.statistic, "df": t.df, "p_value": t.p_value}),
            );
            if t.p_value < alpha {
                warnings.push(format!(
                    "KPI `{name}`: the Callaway-Sant'Anna pre-test rejects parallel pre-trends (p = {:.4})",
                    t.p_value
                ));
            }
        } else {
            pt.insert(
                "callaway_santanna".into(),
                json!({"not_reported": "no pre-treatment ATT(g,t) with a non-singular covariance (e.g. more pre-treatment cells than units)"}),
            );
        }
        pretrends.insert(name.clone(), Value::Object(pt));
    }
    warnings.extend(cs_warnings);
    // Cross-check: imputation per KPI, and BJS Test 1.
    let mut cross = Vec::new();
    let mut cross_ok = true;
    for (k, name) in names.iter().enumerate() {
        match imputation_kpi(&p, k, alpha) {
            Ok((e, pre)) => {
                warnings.extend(disagreement(
                    name,
                    CS_NAME,
                    &effects[k],
                    "the imputation estimator",
                    &e,
                    alpha,
                ));
                cross.push(e);
                if let Some(Value::Object(m)) = pretrends.get_mut(name) {
                    match pre {
                        Ok(t) => {
                            if t.p_value < alpha {
                                warnings.push(format!(
                                    "KPI `{name}`: the imputation pre-trend test (BJS Test 1, {} leads) rejects (p = {:.4})",
                                    t.df_num, t.p_value
                                ));
                            }
                            m.insert(
                                "imputation".into(),
                                json!({"test": "Borusyak-Jaravel-Spiess Test 1 (leads on untreated rows, cluster-robust Wald F)", "statistic": t.statistic, "df_num": t.df_num, "df_den": t.df_den, "p_value": t.p_value}),
                            );
                        }
                        Err(msg) => {
                            m.insert("imputation".into(), json!({"not_reported": msg}));
                        }
                    }
                }
            }
            Err(e) => {
                cross_ok = false;
                warnings.push(format!("cross-check not available: {e}"));
            }
        }
    }
    let mut diagnostics = Map::new();
    diagnostics.insert("design".into(), "rollout".into());
    diagnostics.insert("panel".into(), p.panel.description.clone().into());
    diagnostics.insert(
        "control_group".into(),
        match p.control {
            ControlGroup::NeverTreated => "never-treated units",
            ControlGroup::NotYetTreated => "never- and not-yet-treated units",
        }
        .into(),
    );
    diagnostics.insert("n_units".into(), joint.fits[0].n.into());
    let mut sizes = Map::new();
    for g in unit_cohorts(&p).into_values() {
        let key = if g == 0 {
            "never".to_string()
        } else {
            g.to_string()
        };
        let e = sizes.entry(key).or_insert(Value::from(0u64));
        *e = Value::from(e.as_u64().unwrap_or(0) + 1);
    }
    diagnostics.insert("units_by_adoption".into(), sizes.into());
    diagnostics.insert("pretrend_tests".into(), pretrends.into());
    diagnostics.insert(
        "covariance".into(),
        "influence functions of the simple aggregate (Callaway-Sant'Anna), summed per unit; every KPI is estimated on the same units; diagonal = squared analytic standard errors".into(),
    );
    diagnostics.insert(
        "baseline".into(),
        "treated units' counterfactual level: mean KPI over the treated post-treatment cells of the aggregate minus the ATT".into(),
    );
    let control_words = match p.control {
        ControlGroup::NeverTreated => "never-treated",
        ControlGroup::NotYetTreated => "not-yet-treated",
    };
    Ok(DesignFit {
        effects: KpiEffects {
            effects,
            baseline,
            covariance: joint.covariance,
            covariance_source: "influence functions (Callaway-Sant'Anna simple aggregate)".into(),
            replicates: None,
        },
        estimator: format!(
            "{CS_NAME} (2021), doubly robust, {control_words} comparison units, simple aggregation"
        ),
        reason: format!(
            "the release reached {} in cohorts (staggered adoption): Callaway-Sant'Anna compares each adoption cohort with {control_words} units period by period, so effects that change over time or differ by cohort do not bias the estimate as two-way fixed effects would",
            p.unit_col
        ),
        cross_check: cross_ok.then(|| CrossCheck {
            estimator: format!("{IMPUTATION_NAME}, clustered by {}", p.unit_col),
            effects: cross,
        }),
        diagnostics,
        warnings,
    })
}

fn unit_cohorts(p: &Prepared) -> BTreeMap<&str, i64> {
    p.panel
        .unit
        .iter()
        .zip(&p.cohort)
        .map(|(u, g)| (u.as_str(), *g))
        .collect()
}

type Pretrend = std::result::Result<causalkit_did::imputation::ImputationPretrend, String>;

/// The imputation estimate of KPI `k` (unweighted, clustered by unit) and BJS Test 1.
fn imputation_kpi(
    p: &Prepared,
    k: usize,
    alpha: f64,
) -> Result<(causalkit_stats::Effect, Pretrend)> {
    let name = &p.panel.names[k];
    let cohort: Vec<Option<i64>> = p.cohort.iter().map(|&g| (g != 0).then_some(g)).collect();
    let panel = StaggeredPanel::new(
        Factor::from_labels(&p.unit_col, &p.panel.unit),
        p.panel.period.clone(),
        p.panel.values[k].clone(),
        cohort,
    )
    .map_err(|e| did_error(name, e))?
    .with_outcome_name(name);
    let fit = imputation_vcov(&panel, None, alpha).map_err(|e| did_error(name, e))?;
    let mut e = kpi_effect(name, fit.att.estimate, fit.att.std_error, alpha);
    e.ci_low = fit.att.ci_low;
    e.ci_high = fit.att.ci_high;
    e.p_value = fit.att.p_value;
    // BJS Test 1 with up to 3 leads (fewer when the pre-period is short).
    let first = p.panel.period.iter().min().copied().unwrap_or(0);
    let gmin = p.cohort.iter().filter(|&&g| g > first).min().copied();
    let pre_periods = gmin.map_or(0, |g| {
        p.panel
            .period
            .iter()
            .filter(|&&t| t < g)
            .collect::<BTreeSet<_>>()
            .len()
    });
    let leads = 3.min(pre_periods.saturating_sub(1));
    let pre = if leads == 0 {
        Err("too few pre-periods for a lead".to_string())
    } else {
        imputation_pretrend(&panel, leads, None, alpha).map_err(|e| e.to_string())
    };
    Ok((e, pre))
}

/// The placebo-release-date refuter of a rollout: the panel is cut just before the first
/// real adoption period (no treated cell remains), every unit that adopts later is given a
/// fake adoption date `S` periods earlier than that first adoption, `S` a third of the
/// pre-period (at least 1, stated in the detail), and Callaway-Sant'Anna is refitted with the
/// spec's comparison group. Pass rule: the placebo effect's CI covers 0 for every KPI. Not
/// applicable when the pre-period has fewer than 3 periods or the placebo cannot be
/// estimated (named in the detail).
pub fn placebo_release_date<'s>(
    spec: &ReleaseSpec,
    source: impl Into<Source<'s>>,
    options: &RolloutOptions,
) -> Result<RefuterResult> {
    let source: Source = source.into();
    causalkit_stats::limits::check_alpha_level("alpha", options.alpha)?;
    let p = prepare(spec, source)?;
    let (name, rule) = placebo_date_refuter(options.alpha);
    let not_applicable = |detail: String| RefuterResult {
        name: name.clone(),
        rule: rule.clone(),
        outcome: RefuterOutcome::NotApplicable,
        detail,
    };
    let periods: Vec<i64> = p
        .panel
        .period
        .iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let first = periods[0];
    let Some(gmin) = p.cohort.iter().filter(|&&g| g > first).min().copied() else {
        return Ok(not_applicable(
            "no unit adopts after the first period".into(),
        ));
    };
    let pre: Vec<i64> = periods.iter().copied().filter(|&t| t < gmin).collect();
    if pre.len() < 3 {
        return Ok(not_applicable(format!(
            "the pre-period before the first adoption ({gmin}) has {} period(s); at least 3 are needed",
            pre.len()
        )));
    }
    let shift = placebo_shift(pre.len());
    let fake = pre[pre.len() - shift];
    let keep: Vec<bool> = p.panel.period.iter().map(|&t| t < gmin).collect();
    let mut placebo = p.clone();
    placebo.panel = p.panel.subset(|_, t| t < gmin);
    placebo.cohort = p
        .cohort
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(&g, _)| if g > first { fake } else { g })
        .collect();
    let joint = match joint_cs(&placebo, &Aggregation::Simple, None, options.alpha) {
        Ok(j) => j,
        Err(e) if !e.is_numerical() => {
            return Ok(not_applicable(format!(
                "the placebo cannot be estimated: {e}"
            )))
        }
        Err(e) => return Err(e),
    };
    let mut pass = true;
    let mut parts = Vec::new();
    for (k, kpi) in p.panel.names.iter().enumerate() {
        let o = &joint.aggregates[k].overall;
        let (covers, part) = placebo_part(kpi, o.estimate, o.ci);
        pass &= covers;
        parts.push(part);
    }
    Ok(RefuterResult {
        name,
        rule,
        outcome: RefuterOutcome::from_pass(pass),
        detail: format!(
            "panel cut before the first adoption period {gmin}; fake adoption at period {fake} ({shift} period(s) earlier) for every unit adopting later; Callaway-Sant'Anna placebo effects: {}",
            parts.join("; ")
        ),
    })
}

/// The running effect by event time for the cumulative view: for each event time `e ≥ 0`
/// (periods since adoption), the mean of the event-time effects `θ(0), …, θ(e)` of the CS
/// dynamic aggregation (R `aggte(type = "dynamic", min_e = 0, max_e = e)`'s overall effect),
/// with the joint covariance across KPIs from its influence functions and the baseline of the
/// treated cells at event times `0..=e`. At the last event time the composition of cohorts
/// differs from the simple aggregate's (later cohorts have fewer post-periods).
pub fn running_effects<'s>(
    spec: &ReleaseSpec,
    source: impl Into<Source<'s>>,
    options: &RolloutOptions,
) -> Result<Vec<(i64, KpiEffects)>> {
    let source: Source = source.into();
    causalkit_stats::limits::check_alpha_level("alpha", options.alpha)?;
    let p = prepare(spec, source)?;
    let fits = (0..p.panel.names.len())
        .map(|k| cs_fit(&p, k, options.alpha))
        .collect::<Result<Vec<_>>>()?;
    let max_e = fits[0]
        .rows
        .iter()
        .filter(|r| r.group <= r.time)
        .map(|r| r.time - r.group)
        .max()
        .ok_or_else(|| AttributionError::Estimator {
            estimator: CS_NAME.into(),
            message: "no post-treatment group-time effect".into(),
            numerical: false,
        })?;
    let mut out = Vec::new();
    let mut fits = Some(fits);
    for e in 0..=max_e {
        let kind = Aggregation::Dynamic {
            min_e: Some(0),
            max_e: Some(e),
            balance_e: None,
        };
        let joint = joint_cs(&p, &kind, fits.take(), options.alpha)?;
        let mut effects = Vec::new();
        let mut baseline = Vec::new();
        for (k, name) in p.panel.names.iter().enumerate() {
            let o = &joint.aggregates[k].overall;
            let mut eff = kpi_effect(name, o.estimate, o.se, options.alpha);
            eff.ci_low = o.ci.map(|c| c.0);
            eff.ci_high = o.ci.map(|c| c.1);
            eff.key = eff.key.event_time(e);
            // Level: the plain mean over event times of the cohort-weighted cell means.
            let mut level = 0.0;
            for h in 0..=e {
                level += treated_level(&p, k, &joint.fits[k], |r| r.time - r.group == h);
            }
            baseline.push(level / (e + 1) as f64 - o.estimate);
            effects.push(eff);
        }
        out.push((
            e,
            KpiEffects {
                effects,
                baseline,
                covariance: joint.covariance,
                covariance_source: "influence functions (Callaway-Sant'Anna dynamic aggregate)"
                    .into(),
                replicates: None,
            },
        ));
        fits = Some(joint.fits);
    }
    Ok(out)
}

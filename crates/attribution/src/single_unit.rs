//! The single-unit design: one treated unit (a site) from a start period, every other unit
//! never treated.
//!
//! # Method
//! Per KPI, on the unit × period panel (`design.unit`, `design.time`; events averaged into
//! cells with `events = true`), treated unit `design.treated` from period `design.start`:
//!
//! - **Main estimator**: synthetic difference-in-differences (Arkhangelsky, Athey, Hirshberg,
//!   Imbens & Wager 2021, *American Economic Review* 111(12)), the synth crate's `sdid` with R
//!   `synthdid`'s defaults.
//! - **Inference**: the placebo standard error (AAHIW 2021, Algorithm 4) without Monte Carlo
//!   error: each control in turn is the pseudo-treated unit (the synth crate's
//!   `placebo_se_exact`; with one treated unit there are `N0` assignments), `se` the
//!   population standard deviation of the `N0` placebo estimates; normal interval.
//! - **Joint covariance across KPIs** from the *joint* placebo replicates: replicate `j`
//!   pseudo-treats the same control `j` for every KPI, so the `N0 × K` replicate matrix is
//!   returned in [`KpiEffects::replicates`] and the covariance is its population covariance
//!   (diagonal = the squared placebo SEs).
//! - **Baseline**: the treated unit's counterfactual level, its mean post-period KPI minus the
//!   effect.
//! - **Cross-check**: Abadie, Diamond & Hainmueller (2010, JASA) synthetic control (all
//!   pre-period outcomes as predictors, nested V), its interval `ATT ± z·sd` over its
//!   in-space placebo ATTs (the same placebo logic). A warning names every KPI whose SDID
//!   and SC intervals do not overlap.
//! - Placebo inference needs at least [`MIN_CONTROLS`] control units; fewer is a typed error
//!   naming the count.
//!
//! [`placebo_release_date`] refits SDID with a fake start inside the pre-period;
//! [`running_effects`] gives the running effect by period for the cumulative view.

use crate::design_panel::{
    disagreement, kpi_effect, placebo_date_refuter, placebo_part, placebo_shift, required,
    spec_error, KpiPanel,
};
use crate::source::Source;
use crate::spec::{DesignKind, ReleaseSpec};
use crate::{
    AttributionError, CrossCheck, DesignFit, KpiEffects, RefuterOutcome, RefuterResult, Result,
};
use causalkit_synth::abadie::{PlaceboOptions, ScError, SyntheticControl};
use causalkit_synth::sdid::CohortFit;
use causalkit_synth::{placebo_se_exact, sdid, SdidFit, SdidOptions, SynthError, SynthPanel};
use nalgebra::DMatrix;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// The fewest control units for placebo inference: the placebo standard error is the spread
/// of one placebo estimate per control, so fewer than 5 leaves it resting on 4 or fewer draws.
pub const MIN_CONTROLS: usize = 5;

/// Options of the single-unit design.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SingleUnitOptions {
    /// Significance level of the intervals (0.05: 95% intervals).
    pub alpha: f64,
    /// Whether to run the Abadie synthetic-control cross-check (one nested-V fit per control
    /// unit and KPI for its placebo interval).
    pub cross_check: bool,
}

impl Default for SingleUnitOptions {
    fn default() -> Self {
        SingleUnitOptions {
            alpha: 0.05,
            cross_check: true,
        }
    }
}

const SDID_NAME: &str = "synthetic DiD";
const SC_NAME: &str = "synthetic control (Abadie)";

fn synth_error(kpi: &str, e: SynthError) -> AttributionError {
    AttributionError::on_kpi(SDID_NAME, kpi, &e, e.is_numerical())
}

fn sc_error(kpi: &str, e: ScError) -> AttributionError {
    AttributionError::on_kpi(SC_NAME, kpi, &e, e.is_numerical())
}

/// The single-unit panel: one `SynthPanel` per KPI (same units and periods for every KPI;
/// controls first, sorted by name, the treated unit last).
#[derive(Debug, Clone)]
struct Prepared {
    names: Vec<String>,
    panels: Vec<SynthPanel>,
    treated: String,
    start: i64,
    unit_col: String,
    description: String,
    /// Notes on the analysis periods (a start inside a block of `period_width`).
    notes: Vec<String>,
}

fn treated_label(spec: &ReleaseSpec, v: &Option<toml::Value>) -> Result<String> {
    match v {
        Some(toml::Value::String(s)) => Ok(s.clone()),
        Some(toml::Value::Integer(i)) => Ok(i.to_string()),
        Some(other) => Err(spec_error(
            spec,
            "design.treated",
            format!("must be the treated unit's label (a string or an integer), got {other}"),
        )),
        None => Err(spec_error(
            spec,
            "design.treated",
            "is required for a single-unit design",
        )),
    }
}

fn prepare(spec: &ReleaseSpec, source: Source) -> Result<Prepared> {
    let d = crate::design_panel::design(spec)?;
    if d.kind != DesignKind::SingleUnit {
        return Err(spec_error(
            spec,
            "design.kind",
            format!(
                "is `{}`, the single-unit design needs `single-unit`",
                d.kind.name()
            ),
        ));
    }
    let why = "for a single-unit design";
    let unit = required(spec, &d.unit, "design.unit", why)?;
    let time = required(spec, &d.time, "design.time", why)?;
    let treated = treated_label(spec, &d.treated)?;
    let start = d
        .start
        .ok_or_else(|| spec_error(spec, "design.start", format!("is required {why}")))?;
    if d.weight.is_some() {
        return Err(spec_error(
            spec,
            "design.weight",
            "does not apply to a single-unit design: synthetic DiD compares unweighted unit x period cells",
        ));
    }
    let panel = match source {
        Source::Rows(data) => KpiPanel::build(spec, data, unit, time)?,
        Source::Engine(e) => KpiPanel::from_engine(spec, e, unit, time, None)?.0,
    };
    let units: BTreeSet<&str> = panel.unit.iter().map(String::as_str).collect();
    if !units.contains(treated.as_str()) {
        return Err(spec_error(
            spec,
            "design.treated",
            format!(
                "`{treated}` does not occur in column `{unit}` ({} units)",
                units.len()
            ),
        ));
    }
    // With `period_width`, the start becomes the block holding it.
    let notes: Vec<String> = panel.block_note("start", start).into_iter().collect();
    let start = panel.block_of(start);
    let periods: BTreeSet<i64> = panel.period.iter().copied().collect();
    let first = *periods.iter().next().expect("non-empty panel");
    let last = *periods.iter().next_back().expect("non-empty panel");
    if start <= first || start > last {
        return Err(spec_error(
            spec,
            "design.start",
            format!(
                "{start} must be a period after the first ({first}) and at most the last ({last}) of column `{time}`{}",
                if panel.block.is_some() { " (in blocks of design.period_width)" } else { "" }
            ),
        ));
    }
    let controls = units.len() - 1;
    if controls < MIN_CONTROLS {
        return Err(AttributionError::Estimator {
            estimator: SDID_NAME.into(),
            message: format!(
                "placebo inference needs at least {MIN_CONTROLS} control units, the data have {controls} besides `{treated}`"
            ),
            numerical: false,
        });
    }
    let flags: Vec<bool> = panel
        .unit
        .iter()
        .zip(&panel.period)
        .map(|(u, &t)| *u == treated && t >= start)
        .collect();
    let times: Vec<f64> = panel.period.iter().map(|&t| t as f64).collect();
    let panels = panel
        .names
        .iter()
        .zip(&panel.values)
        .map(|(n, v)| {
            SynthPanel::from_long(&panel.unit, &times, v, &flags).map_err(|e| synth_error(n, e))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Prepared {
        names: panel.names.clone(),
        panels,
        treated,
        start,
        unit_col: unit.to_string(),
        description: panel.description,
        notes,
    })
}

/// SDID per KPI with its exact placebo replicates (one per control, the same control
/// pseudo-treated for every KPI).
struct JointSdid {
    fits: Vec<SdidFit>,
    /// `N0 × K`.
    replicates: DMatrix<f64>,
}

fn joint_sdid(p: &Prepared) -> Result<JointSdid> {
    let opts = SdidOptions::default();
    let mut fits = Vec::new();
    let mut cols: Vec<Vec<f64>> = Vec::new();
    for (k, panel) in p.panels.iter().enumerate() {
        let name = &p.names[k];
        let fit = sdid(panel, &opts).map_err(|e| synth_error(name, e))?;
        let se = placebo_se_exact(panel, &fit, &opts, panel.n_controls())
            .map_err(|e| synth_error(name, e))?;
        cols.push(se.replicates);
        fits.push(fit);
    }
    let n0 = cols[0].len();
    let replicates = DMatrix::from_fn(n0, cols.len(), |j, k| cols[k][j]);
    Ok(JointSdid { fits, replicates })
}

/// Placebo estimates with every weight re-estimated from the default start (one fresh SDID
/// fit per control as the pseudo-treated unit, the real treated unit left out), with each
/// fit's per-period gaps.
fn fresh_placebos(panel: &SynthPanel, name: &str) -> Result<Vec<(f64, Vec<f64>)>> {
    let opts = SdidOptions::default();
    let treated = panel.units.len() - 1;
    let t0 = panel.adoption[treated].unwrap_or(0);
    (0..treated)
        .map(|j| {
            let rows: Vec<usize> = (0..treated).filter(|&r| r != j).chain([j]).collect();
            let y = panel.y.select_rows(&rows);
            let units = rows.iter().map(|&r| panel.units[r].clone()).collect();
            let pp = SynthPanel::from_matrix(y, units, panel.periods.clone(), 1, t0)
                .map_err(|e| synth_error(name, e))?;
            let f = sdid(&pp, &opts).map_err(|e| synth_error(name, e))?;
            Ok((f.estimate, gaps(&f.cohorts[0], &pp.y)))
        })
        .collect()
}

fn population_sd(v: &[f64]) -> f64 {
    let b = v.len() as f64;
    let m = v.iter().sum::<f64>() / b;
    (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / b).sqrt()
}

/// Population covariance of replicate rows (divisor `B`), the placebo SE's convention.
fn population_covariance(r: &DMatrix<f64>) -> DMatrix<f64> {
    let b = r.nrows() as f64;
    let means: Vec<f64> = (0..r.ncols()).map(|k| r.column(k).sum() / b).collect();
    DMatrix::from_fn(r.ncols(), r.ncols(), |a, c| {
        (0..r.nrows())
            .map(|j| (r[(j, a)] - means[a]) * (r[(j, c)] - means[c]))
            .sum::<f64>()
            / b
    })
}

/// Mean post-period level of the treated unit (last row).
fn treated_post_mean(panel: &SynthPanel, t0: usize) -> f64 {
    let r = panel.units.len() - 1;
    let t = panel.periods.len();
    (t0..t).map(|c| panel.y[(r, c)]).sum::<f64>() / (t - t0) as f64
}

/// Per-period SDID gaps of a one-cohort fit: `d_t − Σ_s λ_s d_s`, `d = treated − ω·controls`,
/// whose mean over the post-periods is the SDID estimate.
fn gaps(cohort: &CohortFit, y: &DMatrix<f64>) -> Vec<f64> {
    let (tr, sc, _) = cohort.paths(y);
    let d: Vec<f64> = tr.iter().zip(&sc).map(|(a, b)| a - b).collect();
    let offset: f64 = (0..cohort.start).map(|s| cohort.lambda[s] * d[s]).sum();
    d.iter().map(|x| x - offset).collect()
}

/// Fits the single-unit design: synthetic DiD per KPI with placebo inference, the joint
/// covariance from joint placebo replicates, Abadie SC as cross-check. See the
/// [module documentation](self).
pub fn fit<'s>(
    spec: &ReleaseSpec,
    source: impl Into<Source<'s>>,
    options: &SingleUnitOptions,
) -> Result<DesignFit> {
    let source: Source = source.into();
    causalkit_stats::limits::check_alpha_level("alpha", options.alpha)?;
    let alpha = options.alpha;
    let p = prepare(spec, source)?;
    let joint = joint_sdid(&p)?;
    let covariance = population_covariance(&joint.replicates);
    let mut effects = Vec::new();
    let mut baseline = Vec::new();
    let mut weights = Map::new();
    let mut fit_quality = Map::new();
    for (k, name) in p.names.iter().enumerate() {
        let fit = &joint.fits[k];
        let se = covariance[(k, k)].sqrt();
        effects.push(kpi_effect(name, fit.estimate, Some(se), alpha));
        let c = &fit.cohorts[0];
        baseline.push(treated_post_mean(&p.panels[k], c.start) - fit.estimate);
        let mut w: Vec<(String, f64)> = c
            .controls
            .iter()
            .zip(&c.omega)
            .filter(|(_, w)| **w > 0.0)
            .map(|(&r, &w)| (p.panels[k].units[r].clone(), w))
            .collect();
        w.sort_by(|a, b| b.1.total_cmp(&a.1));
        weights.insert(
            name.clone(),
            Value::Object(w.into_iter().map(|(u, w)| (u, w.into())).collect()),
        );
        let g = gaps(c, &p.panels[k].y);
        let pre_rmse = (g[..c.start].iter().map(|x| x * x).sum::<f64>() / c.start as f64).sqrt();
        fit_quality.insert(
            name.clone(),
            json!({"pre_period_rmse_of_gaps": pre_rmse, "effective_controls": c.effective_controls()}),
        );
    }
    // Sensitivity of the placebo SE to the weights' starting point: the synth crate's placebo
    // (as R synthdid) warm-starts each replicate from the fit's weights; with weakly
    // identified weights (e.g. time weights with more pre-periods than controls) fresh fits
    // can spread much more.
    let mut sensitivity = Map::new();
    let mut sens_warnings = Vec::new();
    for (k, name) in p.names.iter().enumerate() {
        let fresh: Vec<f64> = fresh_placebos(&p.panels[k], name)?
            .into_iter()
            .map(|f| f.0)
            .collect();
        let fresh_se = population_sd(&fresh);
        let se = covariance[(k, k)].sqrt();
        sensitivity.insert(
            name.clone(),
            json!({"placebo_se": se, "placebo_se_fresh_start": fresh_se}),
        );
        if fresh_se > 2.0 * se || fresh_se < 0.5 * se {
            sens_warnings.push(format!(
                "KPI `{name}`: the placebo standard error depends on the weights' starting point: {se:.6} warm-started from the fit's weights (synthdid's placebo, used for the interval) against {fresh_se:.6} with every placebo fitted afresh; read its interval with care"
            ));
        }
    }
    let mut warnings = vec![format!(
        "placebo standard errors with one treated unit assume the control units' errors are exchangeable with the treated unit's (Arkhangelsky et al. 2021, Algorithm 4); {} placebo fits per KPI",
        joint.replicates.nrows()
    )];
    warnings.extend(sens_warnings);
    warnings.extend(p.notes.iter().cloned());
    let mut cross_check = None;
    if options.cross_check {
        let mut sc_effects = Vec::new();
        for (k, name) in p.names.iter().enumerate() {
            let e = abadie_kpi(&p, k, alpha)?;
            warnings.extend(disagreement(
                name,
                SDID_NAME,
                &effects[k],
                SC_NAME,
                &e,
                alpha,
            ));
            sc_effects.push(e);
        }
        cross_check = Some(CrossCheck {
            estimator: format!("{SC_NAME}, all pre-period outcomes as predictors, nested V; interval from the spread of its in-space placebo ATTs"),
            effects: sc_effects,
        });
    }
    let mut diagnostics = Map::new();
    diagnostics.insert("design".into(), "single-unit".into());
    diagnostics.insert("panel".into(), p.description.clone().into());
    diagnostics.insert("treated_unit".into(), p.treated.clone().into());
    diagnostics.insert("start".into(), p.start.into());
    diagnostics.insert("control_units".into(), joint.replicates.nrows().into());
    diagnostics.insert("unit_weights".into(), weights.into());
    diagnostics.insert("pre_period_fit".into(), fit_quality.into());
    diagnostics.insert("placebo_sensitivity".into(), sensitivity.into());
    diagnostics.insert(
        "covariance".into(),
        "joint placebo replicates: replicate j pseudo-treats control j for every KPI (one exact placebo per control); population covariance, diagonal = squared placebo standard errors".into(),
    );
    diagnostics.insert(
        "baseline".into(),
        "treated unit's counterfactual level: its mean post-period KPI minus the effect".into(),
    );
    Ok(DesignFit {
        effects: KpiEffects {
            effects,
            baseline,
            covariance,
            covariance_source: "joint placebo replicates (synthetic DiD)".into(),
            replicates: Some(joint.replicates),
        },
        estimator: format!("{SDID_NAME} (Arkhangelsky et al. 2021) with placebo standard errors"),
        reason: format!(
            "one {} (`{}`) received the release from period {}: synthetic DiD reweights the other units and the pre-periods so the comparison tracks the treated unit before the release, and placebo releases on each control unit give the uncertainty",
            p.unit_col, p.treated, p.start
        ),
        cross_check,
        diagnostics,
        warnings,
    })
}

/// Abadie SC for KPI `k`: ATT with `z ·` the population sd of the in-space placebo ATTs.
fn abadie_kpi(p: &Prepared, k: usize, alpha: f64) -> Result<causalkit_stats::Effect> {
    let panel = &p.panels[k];
    let name = &p.names[k];
    let treated = panel.units.len() - 1;
    let t0 = panel.adoption[treated].unwrap_or(0);
    let sc = SyntheticControl::new(&panel.y, treated, t0)
        .donors((0..treated).collect())
        .unit_names(panel.units.clone());
    let (fit, placebo) = sc
        .fit_with_placebo(&PlaceboOptions::default())
        .map_err(|e| sc_error(name, e))?;
    let b = placebo.att.len() as f64;
    let m = placebo.att.iter().sum::<f64>() / b;
    let sd = (placebo.att.iter().map(|a| (a - m) * (a - m)).sum::<f64>() / b).sqrt();
    let mut e = kpi_effect(name, fit.att, Some(sd), alpha);
    e.p_value = Some(placebo.p_value);
    Ok(e)
}

/// The placebo-release-date refuter of a single-unit design: the panel is cut before the real
/// start (no treated period remains), the treated unit gets a fake start `S` periods earlier,
/// `S` a third of the pre-period (at least 1, stated in the detail), and synthetic DiD with
/// placebo inference is refitted. Pass rule: the placebo effect's CI covers 0 for every KPI.
/// Not applicable with fewer than 3 pre-periods.
pub fn placebo_release_date<'s>(
    spec: &ReleaseSpec,
    source: impl Into<Source<'s>>,
    options: &SingleUnitOptions,
) -> Result<RefuterResult> {
    let source: Source = source.into();
    causalkit_stats::limits::check_alpha_level("alpha", options.alpha)?;
    let p = prepare(spec, source)?;
    let (name, rule) = placebo_date_refuter(options.alpha);
    let t0 = p.panels[0].adoption[p.panels[0].units.len() - 1].unwrap_or(0);
    if t0 < 3 {
        return Ok(RefuterResult {
            name,
            rule,
            outcome: RefuterOutcome::NotApplicable,
            detail: format!(
                "the pre-period before the start ({}) has {t0} period(s); at least 3 are needed",
                p.start
            ),
        });
    }
    let shift = placebo_shift(t0);
    let fake_t0 = t0 - shift;
    let mut placebo = p.clone();
    for panel in &mut placebo.panels {
        let y = panel.y.columns(0, t0).into_owned();
        *panel = SynthPanel::from_matrix(
            y,
            panel.units.clone(),
            panel.periods[..t0].to_vec(),
            1,
            fake_t0,
        )
        .map_err(|e| synth_error("(placebo)", e))?;
    }
    let joint = joint_sdid(&placebo)?;
    let cov = population_covariance(&joint.replicates);
    let mut pass = true;
    let mut parts = Vec::new();
    for (k, kpi) in p.names.iter().enumerate() {
        let e = kpi_effect(
            kpi,
            joint.fits[k].estimate,
            Some(cov[(k, k)].sqrt()),
            options.alpha,
        );
        let ci = (e.ci_low.unwrap_or(f64::NAN), e.ci_high.unwrap_or(f64::NAN));
        let (covers, part) = placebo_part(kpi, e.estimate, Some(ci));
        pass &= covers;
        parts.push(part);
    }
    let fake = p.panels[0].periods[fake_t0];
    Ok(RefuterResult {
        name,
        rule,
        outcome: RefuterOutcome::from_pass(pass),
        detail: format!(
            "panel cut before the start {}; fake start at period {fake} ({shift} period(s) earlier); synthetic DiD placebo effects: {}",
            p.start,
            parts.join("; ")
        ),
    })
}

/// The running effect by post-period for the cumulative view: at each post-period `t`, the
/// mean of the SDID per-period gaps `d_s − Σ λ d_pre` (`d` = treated minus ω-weighted
/// controls, weights of the full fit) over the post-periods up to `t` — at the last period
/// exactly the SDID estimate. Uncertainty from joint placebo paths: each control in turn is
/// pseudo-treated (a fresh SDID fit without the treated unit) and its running mean path
/// computed the same way, for every KPI at once; the covariance is their population
/// covariance and the paths at `t` are the replicates. The baseline is the treated unit's
/// running mean level minus the running effect.
pub fn running_effects<'s>(
    spec: &ReleaseSpec,
    source: impl Into<Source<'s>>,
    options: &SingleUnitOptions,
) -> Result<Vec<(i64, KpiEffects)>> {
    let source: Source = source.into();
    causalkit_stats::limits::check_alpha_level("alpha", options.alpha)?;
    let p = prepare(spec, source)?;
    let opts = SdidOptions::default();
    let kk = p.names.len();
    let panel0 = &p.panels[0];
    let nt = panel0.periods.len();
    let treated = panel0.units.len() - 1;
    let t0 = panel0.adoption[treated].unwrap_or(0);
    let running = |g: &[f64]| -> Vec<f64> {
        let mut acc = 0.0;
        (t0..nt)
            .map(|t| {
                acc += g[t];
                acc / (t - t0 + 1) as f64
            })
            .collect()
    };
    // Real paths and levels per KPI.
    let mut real: Vec<Vec<f64>> = Vec::new();
    let mut levels: Vec<Vec<f64>> = Vec::new();
    // placebo[k][j] = running path of control j pseudo-treated.
    let mut placebo: Vec<Vec<Vec<f64>>> = Vec::new();
    for (k, panel) in p.panels.iter().enumerate() {
        let name = &p.names[k];
        let fit = sdid(panel, &opts).map_err(|e| synth_error(name, e))?;
        real.push(running(&gaps(&fit.cohorts[0], &panel.y)));
        let lv: Vec<f64> = (t0..nt).map(|t| panel.y[(treated, t)]).collect();
        levels.push(running(&[vec![0.0; t0], lv].concat()));
        let paths: Vec<Vec<f64>> = fresh_placebos(panel, name)?
            .into_iter()
            .map(|(_, g)| running(&g))
            .collect();
        placebo.push(paths);
    }
    let n0 = treated;
    let mut out = Vec::new();
    for (i, t) in (t0..nt).enumerate() {
        let reps = DMatrix::from_fn(n0, kk, |j, k| placebo[k][j][i]);
        let cov = population_covariance(&reps);
        let period = panel0.periods[t] as i64;
        let effects = (0..kk)
            .map(|k| {
                let mut e = kpi_effect(
                    &p.names[k],
                    real[k][i],
                    Some(cov[(k, k)].sqrt()),
                    options.alpha,
                );
                e.key = e.key.time(period);
                e
            })
            .collect();
        let baseline = (0..kk).map(|k| levels[k][i] - real[k][i]).collect();
        out.push((
            period,
            KpiEffects {
                effects,
                baseline,
                covariance: cov,
                covariance_source: "joint placebo paths (synthetic DiD)".into(),
                replicates: Some(reps),
            },
        ));
    }
    Ok(out)
}

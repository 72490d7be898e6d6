//! Cumulative impact over time: the running effect of the release on every KPI and the
//! running money of every value node, by period, with their bands — CausalImpact's cumulative
//! panel (Brodersen et al. 2015, *Annals of Applied Statistics* 9(1)), in money.
//!
//! # The running effect, by design
//! - **randomised** (needs `design.time`): at each period `t`, the unadjusted difference of
//!   the KPI between arms over every row up to `t`, exactly `causalkit ab`'s cumulative view
//!   (`causalkit_ab::cumulative::cumulative_effect_cells` on each period's row sums per arm —
//!   formed here from rows, or by a warehouse engine's `GROUP BY arm, period` —,
//!   fixed-horizon interval); the joint
//!   covariance across KPIs takes the correlation of the linearised per-row influence
//!   functions (`(n − R d) / d̄` per arm, ratio KPIs by the delta method) and the engine's
//!   standard errors, so its diagonal is the squared standard errors; the baseline is the
//!   control arm's level up to `t`.
//! - **rollout**: at event time `e`, the mean of the Callaway-Sant'Anna event-time effects
//!   `θ(0..=e)` ([`crate::rollout::running_effects`]).
//! - **single-unit**: at post-period `t`, the mean of the synthetic DiD per-period gaps up to
//!   `t`, bands from joint placebo paths ([`crate::single_unit::running_effects`]).
//!
//! # The running money
//! [`accumulate`] turns each point's KPI effects into the change of every value node over the
//! value horizon (`money`, e.g. the value tree's `changes`), and, for a recurring effect,
//! into the money accrued since the release: that rate times the time elapsed as a fraction
//! of the horizon (`elapsed periods × period length / horizon`). The accrued band is the
//! rate's interval times the same positive factor, so it has the rate's sign. A one-off effect
//! is not accrued.

use crate::design_panel::{design, kpi_effect, required, spec_error};
use crate::source::Source;
use crate::spec::{DesignKind, ReleaseSpec};
use crate::{rollout, single_unit, AttributionError, KpiEffects, Result};
use causalkit_ab::cumulative::cumulative_effect_cells;
use causalkit_ab::frequentist::MetricType;
use causalkit_ab::sequential::ConfidenceSequence;
use causalkit_data::{Kpi, KpiKind, MissingPolicy};
use causalkit_stats::Effect;
use causalkit_warehouse::{run_periods, MomentsRequest, PeriodArm};
use nalgebra::DMatrix;
use serde::Serialize;
use std::collections::BTreeMap;

/// The running KPI effects at one period.
#[derive(Debug, Clone)]
pub struct RunningPoint {
    /// The period (randomised, single-unit) or event time (rollout) of the point.
    pub period: i64,
    /// Periods elapsed since the release at this point (1 at the first post-period).
    pub elapsed: f64,
    /// The running effects with their joint covariance and baseline.
    pub effects: KpiEffects,
}

/// One value node's money at one point.
#[derive(Debug, Clone, Serialize)]
pub struct NodeMoney {
    /// The node's name.
    pub node: String,
    /// The node's change over the value horizon at the running effect (money per horizon).
    pub rate: Effect,
    /// Money accrued from the release through this point (recurring effects only).
    pub accrued: Option<Effect>,
}

/// One point of the cumulative view.
#[derive(Debug, Clone, Serialize)]
pub struct CumulativePoint {
    /// Period or event time.
    pub period: i64,
    /// Periods elapsed since the release.
    pub elapsed: f64,
    /// Running effect per KPI (labelled with the KPI name).
    pub effects: Vec<Effect>,
    /// Money per value node.
    pub money: Vec<NodeMoney>,
}

/// The cumulative view: one point per period with the running effects and money.
#[derive(Debug, Clone, Serialize)]
pub struct CumulativeSeries {
    /// What `period` counts ("period" or "event time (periods since adoption)").
    pub axis: String,
    /// How the running effect and its band are computed.
    pub method: String,
    /// The points, in period order.
    pub points: Vec<CumulativePoint>,
}

impl CumulativeSeries {
    /// The series as JSON for the diagnostics.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// The running effects of the spec's design (see the [module documentation](self)), with the
/// axis and method descriptions.
pub fn running_effects<'s>(
    spec: &ReleaseSpec,
    source: impl Into<crate::source::Source<'s>>,
    alpha: f64,
) -> Result<(String, String, Vec<RunningPoint>)> {
    let source: crate::source::Source = source.into();
    let d = design(spec)?;
    let with_elapsed = |path: Vec<(i64, KpiEffects)>| -> Vec<RunningPoint> {
        path.into_iter()
            .enumerate()
            .map(|(i, (period, effects))| RunningPoint {
                period,
                elapsed: (i + 1) as f64,
                effects,
            })
            .collect()
    };
    Ok(match d.kind {
        DesignKind::Randomised => (
            "period".into(),
            "difference between arms over every row up to the period (causalkit ab's cumulative view), fixed-horizon intervals".into(),
            randomised_running_effects(spec, source, alpha)?,
        ),
        DesignKind::Rollout => (
            "event time (periods since adoption)".into(),
            "mean of the Callaway-Sant'Anna event-time effects from adoption to the event time, intervals from the influence functions".into(),
            with_elapsed(rollout::running_effects(
                spec,
                source,
                &rollout::RolloutOptions { alpha },
            )?),
        ),
        DesignKind::SingleUnit => (
            "period".into(),
            "mean of the synthetic DiD per-period gaps from the start to the period, intervals from joint placebo paths".into(),
            with_elapsed(single_unit::running_effects(
                spec,
                source,
                &single_unit::SingleUnitOptions {
                    alpha,
                    cross_check: false,
                },
            )?),
        ),
    })
}

/// Turns running effects into the cumulative view: `money(effects)` gives each value node's
/// change over the value horizon at those effects (in node order, labelled with the node);
/// with `period_fraction = Some(f)` (one period's length as a fraction of the horizon, e.g.
/// `1 / 365.25` for days against a year; `None` for a one-off effect) the money accrued since
/// the release is `rate × elapsed × f`, its interval scaled by the same factor.
pub fn accumulate(
    axis: &str,
    method: &str,
    path: &[RunningPoint],
    money: impl Fn(&KpiEffects) -> Result<Vec<Effect>>,
    period_fraction: Option<f64>,
) -> Result<CumulativeSeries> {
    if let Some(f) = period_fraction {
        if !(f.is_finite() && f > 0.0) {
            return Err(AttributionError::Invalid(format!(
                "period_fraction must be a positive number, got {f}"
            )));
        }
    }
    let mut points = Vec::new();
    for p in path {
        let nodes = money(&p.effects)?;
        let money = nodes
            .into_iter()
            .map(|rate| {
                let node = rate
                    .label
                    .strip_prefix("value:")
                    .unwrap_or(&rate.label)
                    .to_string();
                let accrued = period_fraction.map(|f| {
                    let s = p.elapsed * f;
                    let mut a = rate.clone();
                    a.estimate *= s;
                    a.std_error = a.std_error.map(|x| x * s);
                    a.ci_low = a.ci_low.map(|x| x * s);
                    a.ci_high = a.ci_high.map(|x| x * s);
                    a
                });
                NodeMoney {
                    node,
                    rate,
                    accrued,
                }
            })
            .collect();
        points.push(CumulativePoint {
            period: p.period,
            elapsed: p.elapsed,
            effects: p.effects.effects.clone(),
            money,
        });
    }
    Ok(CumulativeSeries {
        axis: axis.to_string(),
        method: method.to_string(),
        points,
    })
}

/// The metric type the A/B engine uses for a KPI (as `causalkit ab`).
fn metric_type(k: &Kpi) -> MetricType {
    match &k.kind {
        KpiKind::Proportion { .. } | KpiKind::TopBox { .. } => MetricType::Proportion,
        KpiKind::Ratio { .. } => MetricType::Ratio,
        _ => MetricType::Mean,
    }
}

/// Prefix sums of one arm for the linearised covariance of two KPIs' ratio-of-sums means.
#[derive(Debug, Clone, Default)]
struct ArmSums {
    m: Vec<f64>,
    sn: Vec<f64>,
    sd: Vec<f64>,
    /// Per pair (a, b), over rows kept by both: Σ n_a n_b, Σ n_a d_b, Σ d_a n_b, Σ d_a d_b.
    pair: Vec<[f64; 4]>,
}

impl ArmSums {
    fn new(k: usize) -> Self {
        ArmSums {
            m: vec![0.0; k],
            sn: vec![0.0; k],
            sd: vec![0.0; k],
            pair: vec![[0.0; 4]; k * k],
        }
    }
    /// Adds one period's rows of the arm.
    fn add(&mut self, cell: &PeriodArm) {
        for (a, m) in cell.kpis.iter().enumerate() {
            self.m[a] += m.n() as f64;
            self.sn[a] += m.sum(0);
            self.sd[a] += m.sum(1);
        }
        for (p, c) in self.pair.iter_mut().zip(&cell.pairs) {
            for (x, y) in p.iter_mut().zip(c) {
                *x += y;
            }
        }
    }
    /// `Σ ψ_a ψ_b / (m_a m_b)` with `ψ = (n − R d) / d̄`.
    fn cov(&self, a: usize, b: usize) -> f64 {
        let k = self.m.len();
        let (ra, rb) = (self.sn[a] / self.sd[a], self.sn[b] / self.sd[b]);
        let (da, db) = (self.sd[a] / self.m[a], self.sd[b] / self.m[b]);
        let p = &self.pair[a * k + b];
        (p[0] - rb * p[1] - ra * p[2] + ra * rb * p[3]) / (da * db * self.m[a] * self.m[b])
    }
}

/// Per period (increasing), each arm's row sums of the KPIs ([`PeriodArm`]) from the rows:
/// what `causalkit_warehouse::run_periods` returns from an engine.
fn period_cells(
    times: &[f64],
    side: &[Option<bool>],
    rvs: &[causalkit_data::kpi::RowValues],
) -> Result<Vec<(i64, [PeriodArm; 2])>> {
    let kk = rvs.len();
    let names = vec!["numerator".to_string(), "denominator".to_string()];
    let empty = || PeriodArm {
        kpis: vec![causalkit_stats::Moments::new(names.clone()); kk],
        pairs: vec![[0.0; 4]; kk * kk],
    };
    let mut cells: BTreeMap<i64, [PeriodArm; 2]> = BTreeMap::new();
    for (i, s) in side.iter().enumerate() {
        let Some(s) = s else { continue };
        let cell = &mut cells
            .entry(times[i] as i64)
            .or_insert_with(|| [empty(), empty()])[usize::from(*s)];
        for (a, ra) in rvs.iter().enumerate() {
            if !ra.keep[i] {
                continue;
            }
            let (na, da) = (ra.numerator[i], ra.denominator[i]);
            cell.kpis[a].push(&[na, da])?;
            for (b, rb) in rvs.iter().enumerate() {
                if !rb.keep[i] {
                    continue;
                }
                let (nb, db) = (rb.numerator[i], rb.denominator[i]);
                let p = &mut cell.pairs[a * kk + b];
                p[0] += na * nb;
                p[1] += na * db;
                p[2] += da * nb;
                p[3] += da * db;
            }
        }
    }
    Ok(cells.into_iter().collect())
}

/// The randomised design's running effects (see the [module documentation](self)): one point
/// per period `t` of `design.time` at which every KPI has an effect. On an engine the rows'
/// sums per arm and period come from `causalkit_warehouse::run_periods`; the same sums are
/// formed from rows in memory, so both give the same points.
pub fn randomised_running_effects<'s>(
    spec: &ReleaseSpec,
    source: impl Into<Source<'s>>,
    alpha: f64,
) -> Result<Vec<RunningPoint>> {
    let source: Source = source.into();
    causalkit_stats::limits::check_alpha_level("alpha", alpha)?;
    let d = design(spec)?;
    if d.kind != DesignKind::Randomised {
        return Err(spec_error(
            spec,
            "design.kind",
            format!("is `{}`, not `randomised`", d.kind.name()),
        ));
    }
    let why = "for the cumulative view of a randomised design";
    let arm_col = required(spec, &d.arm, "design.arm", why)?;
    let control = required(spec, &d.control, "design.control", why)?;
    let treatment = required(spec, &d.treatment, "design.treatment", why)?;
    let time_col = required(spec, &d.time, "design.time", why)?;
    let kpis: Vec<Kpi> = spec
        .kpi
        .iter()
        .map(|k| format!("{}={}", k.name, k.expr).parse::<Kpi>())
        .collect::<std::result::Result<_, _>>()?;
    if kpis.is_empty() {
        return Err(spec_error(spec, "kpi", "at least one [[kpi]] is required"));
    }
    let cs = ConfidenceSequence::gbstats(5000.0, alpha).map_err(AttributionError::Stats)?;
    let cells = match source {
        Source::Rows(data) => {
            let arms = data.labels(arm_col)?;
            let raw_t = data.numeric(time_col)?;
            let mut times = Vec::with_capacity(raw_t.len());
            for (i, t) in raw_t.iter().enumerate() {
                match t {
                    Some(t) if t.is_finite() && t.fract() == 0.0 => times.push(*t),
                    Some(t) => {
                        return Err(AttributionError::Invalid(format!(
                            "column `{time_col}` row {}: {t} is not a whole-number period",
                            i + 1
                        )))
                    }
                    None => {
                        return Err(AttributionError::Invalid(format!(
                            "column `{time_col}` row {}: missing period",
                            i + 1
                        )))
                    }
                }
            }
            // `[data] drop_missing` leaves rows without a KPI's value out of that KPI (as
            // the fit).
            let policy = if spec.data.drop_missing {
                MissingPolicy::Drop
            } else {
                MissingPolicy::Error
            };
            let rvs = kpis
                .iter()
                .map(|k| k.row_values(data, policy))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let side: Vec<Option<bool>> = arms
                .iter()
                .map(|a| match a.as_deref() {
                    Some(x) if x == control => Some(false),
                    Some(x) if x == treatment => Some(true),
                    _ => None,
                })
                .collect();
            period_cells(&times, &side, &rvs)?
        }
        Source::Engine(e) => {
            let req = MomentsRequest {
                table: e.table().clone(),
                arm: arm_col.to_string(),
                arms: [control.to_string(), treatment.to_string()],
                unit: None,
                metrics: kpis.iter().map(crate::source::metric_of).collect(),
                covariates: Vec::new(),
                drop_missing: spec.data.drop_missing,
            };
            run_periods(e.engine().as_mut(), &req, time_col)?.cells
        }
    };
    // Per KPI: time -> point of the A/B engine's cumulative view.
    let mut per_kpi: Vec<BTreeMap<i64, causalkit_ab::cumulative::CumulativePoint>> = Vec::new();
    for (k, kpi) in kpis.iter().enumerate() {
        let kc: Vec<(f64, [causalkit_stats::Moments; 2])> = cells
            .iter()
            .map(|(t, a)| (*t as f64, [a[0].kpis[k].clone(), a[1].kpis[k].clone()]))
            .collect();
        let pts = cumulative_effect_cells(&kc, metric_type(kpi), &cs, alpha).map_err(|e| {
            AttributionError::Estimator {
                estimator: "A/B engine (cumulative)".into(),
                message: format!("KPI `{}`: {e}", kpi.name),
                numerical: false,
            }
        })?;
        per_kpi.push(pts.into_iter().map(|p| (p.time as i64, p)).collect());
    }
    // Periods in order; running sums per arm.
    let kk = kpis.len();
    let mut sums = [ArmSums::new(kk), ArmSums::new(kk)];
    let first = cells.first().map(|c| c.0).unwrap_or(0);
    let mut out = Vec::new();
    for (t, cell) in &cells {
        let t = *t;
        sums[0].add(&cell[0]);
        sums[1].add(&cell[1]);
        if !per_kpi.iter().all(|m| m.contains_key(&t)) {
            continue;
        }
        let pts: Vec<_> = per_kpi.iter().map(|m| m[&t]).collect();
        let se: Vec<f64> = pts
            .iter()
            .map(|p| {
                let z =
                    causalkit_stats::dist::normal_quantile(1.0 - alpha / 2.0).unwrap_or(f64::NAN);
                (p.ci_high - p.ci_low) / (2.0 * z)
            })
            .collect();
        let lin = DMatrix::from_fn(kk, kk, |a, b| sums[0].cov(a, b) + sums[1].cov(a, b));
        let cov = DMatrix::from_fn(kk, kk, |a, b| {
            if a == b {
                se[a] * se[a]
            } else {
                let r = lin[(a, b)] / (lin[(a, a)] * lin[(b, b)]).sqrt();
                r.clamp(-1.0, 1.0) * se[a] * se[b]
            }
        });
        let effects = (0..kk)
            .map(|k| {
                let mut e = kpi_effect(&kpis[k].name, pts[k].estimate, Some(se[k]), alpha);
                e.ci_low = Some(pts[k].ci_low);
                e.ci_high = Some(pts[k].ci_high);
                e.key = e.key.time(t);
                e
            })
            .collect();
        let baseline = (0..kk).map(|k| sums[0].sn[k] / sums[0].sd[k]).collect();
        out.push(RunningPoint {
            period: t,
            elapsed: (t - first + 1) as f64,
            effects: KpiEffects {
                effects,
                baseline,
                covariance: cov,
                covariance_source: "A/B engine standard errors with the correlation of the linearised per-row influence functions".into(),
                replicates: None,
            },
        });
    }
    Ok(out)
}

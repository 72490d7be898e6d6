//! The randomised design: units (contacts, customers) randomised to control or treatment.
//!
//! The KPI effects come from the A/B engine along exactly the path `causalkit ab` takes: the
//! data layer's [`ab_statistics`] builds every KPI's per-arm sufficient statistics (rows
//! summed per `unit` first when one is given) and [`causalkit_ab::review::AbReview::fit`] runs
//! the review — Welch tests, CUPED / regression adjustment on the `covariates` when given
//! (Deng, Xu, Kohavi & Walker 2013, "Improving the sensitivity of online controlled
//! experiments by utilizing pre-experiment data", WSDM), the sample-ratio-mismatch check. So
//! the effects are identical to `causalkit ab` on the same data and options.
//!
//! # Joint covariance of the KPI effects
//! The engine reports one standard error per KPI; the value tree needs their joint covariance.
//! It is computed here from per-unit influence functions, the linearisation the engine's own
//! variances use: per arm and KPI, `ψᵢ = yᵢ − ȳ` for a mean or proportion, `ψᵢ = (mᵢ − R dᵢ)/d̄`
//! for a ratio of sums `R = Σm/Σd` (delta method; with a `unit`, `m` and `d` are the unit's
//! sums and `x` the mean of its rows' covariates, as the data layer forms them), and with covariates `uᵢ = ψᵢ − θᵀ(xᵢ − x̄)`
//! with the engine's pooled slope `θ` (the slope is held fixed, as in the engine's variance).
//! The covariance of the effects on KPIs `j` and `k` is the sum over the two arms of
//! `Σᵢ uᵢⱼ uᵢₖ / √(nⱼ(nⱼ−1) nₖ(nₖ−1))` over the units both KPIs use (they differ when rows with
//! missing values are dropped per KPI), which on the diagonal is the engine's `s²/n`. The
//! engine's proportion variance is `p(1 − p)` (denominator n, not n − 1), so for a proportion
//! the diagonal takes that convention (it is lowered by `p(1 − p)/((n − 1) n)` per arm); the
//! off-diagonal entries keep the n − 1 sample covariances (the difference is O(1/n)).
//! The computation is [`causalkit_ab::influence`]; this module forms the units from the rows.

use crate::error::{AttributionError, Result};
use crate::source::{metric_of, EngineTable, Source};
use crate::spec::{Better, DesignKind, ParsedKpi, ReleaseSpec};
use crate::{CrossCheck, DesignFit, FitOptions, KpiEffects};
use causalkit_ab::influence::{influence, pooled_theta, unit_ids, ArmUnits, UnitSums};
use causalkit_ab::review::{AbData, AbFit, AbSpec, MetricCells, MetricData, MetricSpec};
use causalkit_ab::MetricType;
use causalkit_data::ab_stats::{
    ab_statistics, AbCells, AbSource, AbStatsRequest, ArmCells, OVERALL,
};
use causalkit_data::{Dataset, Kpi, KpiKind, MissingPolicy};
use causalkit_stats::Moments;
use causalkit_stats::{Effect, Report};
use causalkit_warehouse::{run_moments, run_stats, MomentsRequest, StatsRequest, UnitMoments};
use nalgebra::DMatrix;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The A/B engine's metric type for a KPI (the mapping `causalkit ab` uses).
pub fn metric_type(kind: &KpiKind) -> MetricType {
    match kind {
        KpiKind::Proportion { .. } | KpiKind::TopBox { .. } => MetricType::Proportion,
        KpiKind::Ratio { .. } => MetricType::Ratio,
        _ => MetricType::Mean,
    }
}

/// The randomised design's parts, checked.
struct Design<'a> {
    arm: &'a str,
    control: &'a str,
    treatment: &'a str,
    unit: Option<&'a str>,
    covariates: Vec<&'a str>,
    policy: MissingPolicy,
}

fn design_of<'a>(spec: &'a ReleaseSpec) -> Result<Design<'a>> {
    let err = |key: &str, message: String| AttributionError::Spec {
        file: spec.file.clone(),
        key: key.into(),
        message,
    };
    let d = spec
        .design
        .as_ref()
        .filter(|d| d.kind == DesignKind::Randomised)
        .ok_or_else(|| {
            err(
                "design.kind",
                "the randomised fit needs kind = \"randomised\"".into(),
            )
        })?;
    if d.weight.is_some() {
        return Err(err(
            "design.weight",
            "the A/B engine has no row weights; a randomised design is analysed unweighted (drop `weight`)".into(),
        ));
    }
    let need = |key: &str, v: &'a Option<String>| {
        v.as_deref().ok_or_else(|| {
            err(
                &format!("design.{key}"),
                format!("a randomised design needs `{key}`"),
            )
        })
    };
    Ok(Design {
        arm: need("arm", &d.arm)?,
        control: need("control", &d.control)?,
        treatment: need("treatment", &d.treatment)?,
        unit: d.unit.as_deref(),
        covariates: d.covariates.iter().map(String::as_str).collect(),
        policy: if spec.data.drop_missing {
            MissingPolicy::Drop
        } else {
            MissingPolicy::Error
        },
    })
}

/// The engine's specification for these KPIs (lower-is-better from `better`).
fn ab_spec(kpis: &[ParsedKpi], design: &Design, alpha: f64, covariates: bool) -> Result<AbSpec> {
    let mut spec = AbSpec::new(
        kpis.iter()
            .map(|k| MetricSpec::new(k.spec.name.clone(), metric_type(&k.kpi.kind)))
            .collect(),
    );
    let lower: Vec<&str> = kpis
        .iter()
        .filter(|k| k.spec.better == Better::Lower)
        .map(|k| k.spec.name.as_str())
        .collect();
    spec.set_lower_is_better(&lower)
        .map_err(causalkit_stats::StatsError::from)?;
    if covariates {
        spec.covariates = design.covariates.iter().map(|c| c.to_string()).collect();
    }
    spec.control = Some(design.control.to_string());
    spec.alpha = alpha;
    Ok(spec)
}

/// Runs the A/B engine on the rows, as `causalkit ab --data` does.
fn run_engine(
    data: &Dataset,
    kpis: &[ParsedKpi],
    design: &Design,
    alpha: f64,
    covariates: bool,
) -> Result<AbFit> {
    let rows: Vec<Kpi> = kpis.iter().map(|k| k.kpi.clone()).collect();
    let cells = statistics(AbSource::Rows(data), &rows, design, covariates)?;
    review(cells, kpis, design, alpha, covariates)
}

/// The data layer's per-arm statistics of the KPIs read as `read_as` (the KPIs themselves
/// for rows; [`causalkit_data::ab_stats::engine_kpi`] for a SQL engine's statistics rows).
fn statistics(
    source: AbSource,
    read_as: &[Kpi],
    design: &Design,
    covariates: bool,
) -> Result<Vec<AbCells>> {
    let covs: Vec<&str> = if covariates {
        design.covariates.clone()
    } else {
        Vec::new()
    };
    let request = AbStatsRequest {
        arm: design.arm,
        segment: None,
        stratify: None,
        unit: design.unit,
        covariates: &covs,
        policy: design.policy,
    };
    let kpi_refs: Vec<&Kpi> = read_as.iter().collect();
    Ok(ab_statistics(source, &kpi_refs, &request)?)
}

/// Runs the A/B engine's review on each KPI's per-arm statistics (CUPED on the design's
/// covariates when `covariates`).
fn review(
    cells: Vec<AbCells>,
    kpis: &[ParsedKpi],
    design: &Design,
    alpha: f64,
    covariates: bool,
) -> Result<AbFit> {
    let review = ab_spec(kpis, design, alpha, covariates)?
        .validate()
        .map_err(causalkit_stats::StatsError::from)?;
    let mut ab_data = AbData::default();
    for (k, c) in kpis.iter().zip(cells) {
        let mut notes = Map::new();
        if c.dropped_rows > 0 {
            notes.insert("dropped_rows".into(), json!(c.dropped_rows));
        }
        let mut md = MetricData::new(
            k.spec.name.clone(),
            MetricCells::Moments {
                segments: c.segments,
                strata: None,
                ratio_covariate: None,
            },
        );
        md.notes = notes;
        ab_data.metrics.push(md);
    }
    Ok(review.fit(&ab_data)?)
}

/// The engine's overall absolute effect of `treatment` vs control on each KPI, labelled with
/// the KPI name (keys kept).
fn kpi_effects(fit: &AbFit, kpis: &[ParsedKpi], treatment: &str) -> Result<Vec<Effect>> {
    kpis.iter()
        .map(|k| {
            let name = &k.spec.name;
            fit.overall_absolute_effect(name, treatment).ok_or_else(|| {
                AttributionError::Estimator {
                    estimator: "A/B engine".into(),
                    message: format!("no absolute effect of `{treatment}` on `{name}`"),
                    numerical: false,
                }
            })
        })
        .collect()
}

/// Keeps the control and treatment rows (and rows with a missing arm, so that the data layer
/// reports them); refuses a control or treatment label that is not in the data. Returns the
/// data and how many rows of other arms were left out.
fn two_arms(spec: &ReleaseSpec, data: &Dataset, design: &Design) -> Result<(Dataset, usize)> {
    let labels = data.labels(design.arm)?;
    check_labels(spec, design, &labels)?;
    let keep: Vec<bool> = labels
        .iter()
        .map(|x| match x.as_deref() {
            None => true,
            Some(l) => l == design.control || l == design.treatment,
        })
        .collect();
    let other = keep.iter().filter(|k| !**k).count();
    if other == 0 {
        return Ok((data.clone(), 0));
    }
    Ok((data.filter_rows(&keep)?, other))
}

/// Per KPI, per arm (control, treatment), the units as the data layer forms them. `arms` are
/// the rows' arm labels and `units` their unit keys (the row number without a unit column;
/// `None` for a row without a unit label), shared by all KPIs.
fn units_of(
    data: &Dataset,
    kpi: &ParsedKpi,
    design: &Design,
    arms: &[Option<String>],
    units: &[Option<u64>],
) -> Result<[ArmUnits; 2]> {
    let n = data.height();
    let rv = kpi.kpi.row_values(data, design.policy)?;
    let covs: Vec<Vec<Option<f64>>> = design
        .covariates
        .iter()
        .map(|c| data.numeric(c))
        .collect::<std::result::Result<_, _>>()?;
    let mut sums: [UnitSums; 2] = Default::default();
    for i in 0..n {
        let Some(a) = arms[i].as_deref() else {
            continue;
        };
        let arm = if a == design.control {
            0
        } else if a == design.treatment {
            1
        } else {
            continue;
        };
        if !rv.keep[i] || covs.iter().any(|c| c[i].is_none()) {
            continue;
        }
        let Some(key) = units[i] else {
            continue;
        };
        sums[arm].add(
            key,
            rv.numerator[i],
            rv.denominator[i],
            covs.iter().map(|c| c[i].unwrap_or(0.0)),
        );
    }
    // The data layer gives each unit the mean of its rows' covariates (sums for the KPI).
    Ok(sums.map(|s| s.finish().0))
}

/// The joint covariance of the KPI effects (treatment − control) from influence functions;
/// see the module docs.
pub fn effect_covariance(
    spec: &ReleaseSpec,
    data: &Dataset,
    covariates: bool,
) -> Result<DMatrix<f64>> {
    let mut design = design_of(spec)?;
    if !covariates {
        design.covariates.clear();
    }
    let kpis = spec.parsed_kpis()?;
    let (data, _) = two_arms(spec, data, &design)?;
    let arms = data.labels(design.arm)?;
    let keys = match design.unit {
        Some(u) => unit_ids(data.labels(u)?.iter().map(Option::as_deref)),
        None => (0..data.height() as u64).map(Some).collect(),
    };
    let mut infl = Vec::with_capacity(kpis.len());
    for k in &kpis {
        let units = units_of(&data, k, &design, &arms, &keys)?;
        let theta = pooled_theta(&units, design.covariates.len()).ok_or_else(|| {
            AttributionError::Invalid(
                "the covariates are collinear (their pooled covariance is singular)".into(),
            )
        })?;
        infl.push(influence(&units, metric_type(&k.kpi.kind), &theta));
    }
    Ok(causalkit_ab::influence::effect_covariance(&infl))
}
/// Fits the randomised design: the A/B engine's KPI effects (identical to `causalkit ab`
/// with `--arm`, `--control`, `--metric` per KPI, `--lower-is-better` for `better = "lower"`,
/// `--covariate` per covariate, `--unit`, `--drop-missing` from `[data] drop_missing`, and
/// `--alpha`), their joint covariance from influence functions, the control level as the
/// baseline, the SRM check and CUPED in the diagnostics; with covariates the unadjusted
/// difference in means is the cross-check.
///
/// On a query engine ([`Source::Engine`]) nothing but sums comes back: the moments of the
/// KPIs' units per arm ([`engine_moments`]) give each KPI's per-arm statistics (count, sums
/// and cross-products of the units' numerator, denominator and covariates — what the data
/// layer computes from the rows), hence the same review, and the joint covariance
/// (`causalkit_ab::influence::effect_covariance_from_moments`); the cross-check without
/// covariates reads the warehouse statistics query as `causalkit ab --engine` does. The
/// numbers equal the rows' to rounding.
pub fn fit<'s>(
    spec: &ReleaseSpec,
    source: impl Into<Source<'s>>,
    opts: &FitOptions,
) -> Result<DesignFit> {
    let source: Source = source.into();
    let design = design_of(spec)?;
    let kpis = spec.parsed_kpis()?;
    let with_cov = !design.covariates.is_empty();
    let (fit, raw, covariance, other) = match source {
        Source::Rows(data) => {
            let (data, other_rows) = two_arms(spec, data, &design)?;
            let fit = run_engine(&data, &kpis, &design, opts.alpha, with_cov)?;
            let raw = if with_cov {
                Some(run_engine(&data, &kpis, &design, opts.alpha, false)?)
            } else {
                None
            };
            let covariance = effect_covariance(spec, &data, with_cov)?;
            (
                fit,
                raw,
                covariance,
                ("rows_of_other_arms_left_out", other_rows),
            )
        }
        Source::Engine(e) => {
            let m = engine_moments(spec, e)?;
            let fit = review(
                moment_cells(&m, &design)?,
                &kpis,
                &design,
                opts.alpha,
                with_cov,
            )?;
            let (raw, other) = engine_raw(spec, e, &design, &kpis, opts.alpha)?;
            let raw = with_cov.then_some(raw);
            let types: Vec<_> = kpis.iter().map(|k| metric_type(&k.kpi.kind)).collect();
            let covariance =
                causalkit_ab::influence::effect_covariance_from_moments(&types, &m.arms)
                    .ok_or_else(|| {
                        AttributionError::Invalid(
                            "the covariates are collinear (their pooled covariance is singular)"
                                .into(),
                        )
                    })?;
            let what = if design.unit.is_some() {
                "units_of_other_arms_left_out"
            } else {
                "rows_of_other_arms_left_out"
            };
            (fit, raw, covariance, (what, other))
        }
    };
    let effects = kpi_effects(&fit, &kpis, design.treatment)?;
    let baseline: Vec<f64> = fit
        .metrics
        .iter()
        .map(|m| {
            m.arms
                .get(&fit.control)
                .map(|a| a.unadjusted_mean)
                .ok_or_else(|| AttributionError::Estimator {
                    estimator: "A/B engine".into(),
                    message: format!("no control arm summary for `{}`", m.name),
                    numerical: false,
                })
        })
        .collect::<Result<_>>()?;
    let engine = fit.result();
    let mut diagnostics = Map::new();
    diagnostics.insert("control".into(), json!(design.control));
    diagnostics.insert("treatment".into(), json!(design.treatment));
    if other.1 > 0 {
        diagnostics.insert(other.0.into(), json!(other.1));
    }
    if let Some(srm) = fit.srm_json() {
        diagnostics.insert("srm".into(), srm);
    }
    if let Some(cuped) = fit.cuped_json() {
        diagnostics.insert("cuped".into(), cuped);
    }
    diagnostics.insert(
        "ab_engine".into(),
        Value::Object(engine.diagnostics.clone()),
    );
    let cross_check = match raw {
        Some(raw) => Some(CrossCheck {
            estimator: "A/B engine without CUPED (unadjusted difference in means)".into(),
            effects: kpi_effects(&raw, &kpis, design.treatment)?,
        }),
        None => None,
    };
    let estimator = if with_cov {
        format!(
            "A/B engine (Welch, CUPED on {})",
            design.covariates.join(", ")
        )
    } else {
        "A/B engine (Welch)".to_string()
    };
    let reason = if with_cov {
        "units were randomised, so the difference in means is unbiased; CUPED on the pre-period covariates removes variance without bias, and the unadjusted difference is the cross-check".to_string()
    } else {
        "units were randomised, so the difference in means (Welch) is unbiased; no covariates were given for CUPED, so there is no second estimator to cross-check against".to_string()
    };
    Ok(DesignFit {
        effects: KpiEffects {
            effects,
            baseline,
            covariance,
            covariance_source: "per-unit influence functions (mean, proportion, ratio by the delta method, CUPED-adjusted with the engine's slope)".into(),
            replicates: None,
        },
        estimator,
        reason,
        cross_check,
        diagnostics,
        warnings: engine.warnings.clone(),
    })
}

/// The A/B engine's fit without covariates on the engine's statistics rows of the control
/// and treatment arms (the warehouse statistics query, read as `causalkit ab --engine` reads
/// it: the rows a KPI uses do not depend on the covariates), and the units (rows without
/// `unit`) of other arms left out.
fn engine_raw(
    spec: &ReleaseSpec,
    e: &EngineTable,
    design: &Design,
    kpis: &[ParsedKpi],
    alpha: f64,
) -> Result<(AbFit, usize)> {
    let metrics = kpis.iter().map(|k| metric_of(&k.kpi)).collect();
    let mut req = StatsRequest::new(e.table().clone(), design.arm, metrics);
    req.unit = design.unit.map(str::to_string);
    req.drop_missing = design.policy == MissingPolicy::Drop;
    let table = e.once(&req, run_stats)?;
    let rows = Dataset::from_csv_text(&table.to_csv(), &e.describe())?;
    let labels = rows.labels(design.arm)?;
    check_labels(spec, design, &labels)?;
    let keep: Vec<bool> = labels
        .iter()
        .map(|l| matches!(l.as_deref(), Some(l) if l == design.control || l == design.treatment))
        .collect();
    let counts = rows.numeric("count")?;
    let other: f64 = keep
        .iter()
        .zip(&counts)
        .filter(|(k, _)| !**k)
        .map(|(_, c)| c.unwrap_or(0.0))
        .sum();
    let rows = rows.filter_rows(&keep)?;
    let read_as: Vec<Kpi> = kpis
        .iter()
        .map(|k| causalkit_data::ab_stats::engine_kpi(&k.kpi, design.unit.is_some()))
        .collect();
    let cells = statistics(AbSource::StatsRows(&rows), &read_as, design, false)?;
    Ok((review(cells, kpis, design, alpha, false)?, other as usize))
}

/// Each KPI's per-arm statistics (count, sums and cross-products of the units' numerator,
/// denominator and covariates — what the data layer computes from rows) from the engine's
/// moments: the sums are the moments' sums and the cross-products their centred
/// cross-products plus `n z̄ z̄ᵀ`.
fn moment_cells(m: &UnitMoments, design: &Design) -> Result<Vec<AbCells>> {
    let names = causalkit_data::aggregate::moment_names(&design.covariates);
    let labels = [design.control, design.treatment];
    (0..m.arms[0].kpis.len())
        .map(|j| {
            let mut arms = BTreeMap::new();
            for (a, arm) in m.arms.iter().enumerate() {
                let k = &arm.kpis[j];
                let mean = k.mean();
                let mut sums = vec![k.sum_num, k.sum_den];
                sums.extend(&k.sum_x);
                let moments = Moments::from_parts(names.clone(), k.n as u64, sums, |p, q| {
                    arm.pair(j, p, j, q).1 + k.n * mean[p] * mean[q]
                })?;
                arms.insert(labels[a].to_string(), moments);
            }
            let mut segments = ArmCells::new();
            segments.insert(OVERALL.to_string(), arms);
            Ok(AbCells {
                segments,
                strata: None,
                dropped_rows: m.dropped_rows[j],
            })
        })
        .collect()
}

/// The moments of the KPIs' units per arm, aggregated by the engine (see
/// [`causalkit_warehouse::run_moments`]): the joint covariance of the effects, the units per
/// arm of the SRM check and the covariates' per-arm moments of the balance check.
pub fn engine_moments(spec: &ReleaseSpec, e: &EngineTable) -> Result<UnitMoments> {
    let design = design_of(spec)?;
    let kpis = spec.parsed_kpis()?;
    let req = MomentsRequest {
        table: e.table().clone(),
        arm: design.arm.to_string(),
        arms: [design.control.to_string(), design.treatment.to_string()],
        unit: design.unit.map(str::to_string),
        metrics: kpis.iter().map(|k| metric_of(&k.kpi)).collect(),
        covariates: design.covariates.iter().map(|c| c.to_string()).collect(),
        drop_missing: design.policy == MissingPolicy::Drop,
    };
    e.once(&req, run_moments)
}

/// Per covariate, the standardised mean difference between the arms of its per-unit means,
/// from the engine's moments (`crate::refute::smd_of`; `None`: constant within each arm but
/// different between them).
pub fn engine_covariate_smds(spec: &ReleaseSpec, e: &EngineTable) -> Result<Vec<Option<f64>>> {
    let m = engine_moments(spec, e)?;
    let Some(c) = m.covariates else {
        return Ok(Vec::new());
    };
    let p = c[0].sum.len();
    let mut out = Vec::with_capacity(p);
    for q in 0..p {
        let mut stats = [(0.0, 0.0); 2];
        for (a, arm) in c.iter().enumerate() {
            if arm.n < 2.0 {
                return Err(AttributionError::Invalid(format!(
                    "covariate balance: the {} arm has fewer than 2 units",
                    ["control", "treatment"][a]
                )));
            }
            stats[a] = (arm.sum[q] / arm.n, arm.centred[q * p + q] / (arm.n - 1.0));
        }
        out.push(crate::refute::smd_of(stats[0], stats[1]));
    }
    Ok(out)
}

/// A control or treatment label absent from the arm labels is a spec error naming the key
/// and the labels found.
fn check_labels(spec: &ReleaseSpec, design: &Design, labels: &[Option<String>]) -> Result<()> {
    for (key, l) in [("control", design.control), ("treatment", design.treatment)] {
        if !labels.iter().any(|x| x.as_deref() == Some(l)) {
            let mut found: Vec<&str> = labels.iter().flatten().map(String::as_str).collect();
            found.sort_unstable();
            found.dedup();
            return Err(AttributionError::Spec {
                file: spec.file.clone(),
                key: format!("design.{key}"),
                message: format!(
                    "no row has `{l}` in column `{}` (its values: {})",
                    design.arm,
                    found.join(", ")
                ),
            });
        }
    }
    Ok(())
}

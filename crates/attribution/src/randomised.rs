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
use crate::spec::{Better, DesignKind, ParsedKpi, ReleaseSpec};
use crate::{CrossCheck, DesignFit, FitOptions, KpiEffects};
use causalkit_ab::influence::{influence, pooled_theta, ArmUnits, UnitSums};
use causalkit_ab::review::{AbData, AbFit, AbSpec, MetricCells, MetricData, MetricSpec};
use causalkit_ab::MetricType;
use causalkit_data::ab_stats::{ab_statistics, AbSource, AbStatsRequest};
use causalkit_data::{Dataset, KpiKind, MissingPolicy};
use causalkit_stats::{Effect, Report};
use nalgebra::DMatrix;
use serde_json::{json, Map, Value};

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
    let review = ab_spec(kpis, design, alpha, covariates)?
        .validate()
        .map_err(causalkit_stats::StatsError::from)?;
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
    let kpi_refs: Vec<&causalkit_data::Kpi> = kpis.iter().map(|k| &k.kpi).collect();
    let cells = ab_statistics(AbSource::Rows(data), &kpi_refs, &request)?;
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

/// Per KPI, per arm (control, treatment), the units as the data layer forms them.
fn units_of(data: &Dataset, kpi: &ParsedKpi, design: &Design) -> Result<[ArmUnits; 2]> {
    let n = data.height();
    let rv = kpi.kpi.row_values(data, design.policy)?;
    let arms = data.labels(design.arm)?;
    let units = design.unit.map(|u| data.labels(u)).transpose()?;
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
        let key = match &units {
            Some(u) => match &u[i] {
                Some(k) => k.clone(),
                None => continue,
            },
            None => i.to_string(),
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
    let mut infl = Vec::with_capacity(kpis.len());
    for k in &kpis {
        let units = units_of(&data, k, &design)?;
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
pub fn fit(spec: &ReleaseSpec, data: &Dataset, opts: &FitOptions) -> Result<DesignFit> {
    let design = design_of(spec)?;
    let kpis = spec.parsed_kpis()?;
    let (data, other_rows) = two_arms(spec, data, &design)?;
    let with_cov = !design.covariates.is_empty();
    let fit = run_engine(&data, &kpis, &design, opts.alpha, with_cov)?;
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
    let covariance = effect_covariance(spec, &data, with_cov)?;
    let engine = fit.result();
    let mut diagnostics = Map::new();
    diagnostics.insert("control".into(), json!(design.control));
    diagnostics.insert("treatment".into(), json!(design.treatment));
    if other_rows > 0 {
        diagnostics.insert("rows_of_other_arms_left_out".into(), json!(other_rows));
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
    let cross_check = if with_cov {
        let raw = run_engine(&data, &kpis, &design, opts.alpha, false)?;
        Some(CrossCheck {
            estimator: "A/B engine without CUPED (unadjusted difference in means)".into(),
            effects: kpi_effects(&raw, &kpis, design.treatment)?,
        })
    } else {
        None
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

//! Decomposition of a KPI's change between the arms of a randomised release.
//!
//! A KPI is a ratio of sums `R = Σ numerator / Σ denominator` (a mean has denominator 1 per
//! row). With units `i` (rows, or the sums of the rows of each randomisation unit when
//! `design.unit` is set) in arm `a ∈ {control 0, treatment 1}` and segments `s`, write
//! `N_s^a`, `D_s^a` for the arm's per-unit means of the numerator and denominator in
//! segment `s`, `N^a = Σ_s N_s^a`, `D^a = Σ_s D_s^a`, so `R^a = N^a / D^a`.
//!
//! # Numerator / denominator split (log scale)
//! `ln R¹ − ln R⁰ = (ln N¹ − ln N⁰) − (ln D¹ − ln D⁰)`: the log change of the KPI is the log
//! change of its numerator per unit minus that of its denominator per unit, exactly. The
//! split is on the **log** scale (it is additive only there); `exp` of a part minus one is
//! the relative change of that part. With one row per unit and a row denominator of 1 (a
//! mean KPI analysed per row), `D^a = 1` and the whole change is in the numerator.
//!
//! # Rate / mix (Kitagawa 1955)
//! With segment weights `w_s^a = D_s^a / D^a` (the segment's share of the denominator, for
//! a mean KPI its share of rows) and segment rates `r_s^a = N_s^a / D_s^a`,
//! `R^a = Σ_s w_s^a r_s^a`, and Kitagawa's symmetric form splits the level change exactly:
//!
//! `ΔR = Σ_s w̄_s Δr_s + Σ_s r̄_s Δw_s` (rate part + mix part),
//!
//! with `w̄_s`, `r̄_s` the averages of the two arms and `Δ` treatment minus control.
//! E. M. Kitagawa (1955), "Components of a difference between two rates", *Journal of the
//! American Statistical Association* 50(272), 1168–1194.
//!
//! The segment must be a column the release cannot change (the customer's intent from the
//! agent's disposition), never the model's own prediction: a segment the release moves puts
//! part of its effect into the mix term. The spec's `[errors] predicted` column is refused.
//!
//! # Intervals
//! Every part is a smooth function of the two arms' vectors of per-unit means
//! `z̄^a = (N_1^a..N_S^a, D_1^a..D_S^a)`. The arms are independent and
//! `Var(z̄^a) = Σ^a / n^a` with `Σ^a` the sample covariance (n − 1) of the unit vectors, so
//! the delta method gives `Var(part) = Σ_a g_aᵀ Σ^a g_a / n^a` with the analytic gradients
//! `g_a` (written out in the code). Intervals are normal, `est ± z_{1−α/2} se`. A seeded
//! bootstrap over units (resampling within each arm) is the cross-check: its standard
//! errors and percentile intervals are reported next to the delta method's.

use crate::error::{AttributionError, Result};
use crate::spec::{DesignKind, DesignSection, KpiSection, ReleaseSpec};
use causalkit_data::{Dataset, Kpi, MissingPolicy};
use causalkit_stats::dist::{normal_quantile, normal_sf};
use causalkit_stats::resample::{bootstrap_counts, quantile, replicate, std_dev};
use causalkit_stats::{Effect, EffectKey, EffectKind, EstimationResult, Report};
use nalgebra::{DMatrix, DVector};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};

/// Options of [`decompose`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecomposeOptions {
    /// Two-sided level of the intervals (0.05 for 95%).
    pub alpha: f64,
    /// Bootstrap replicates of the cross-check (0: no bootstrap).
    pub bootstrap_reps: usize,
    /// Seed of the bootstrap (replicate `b` uses the ChaCha stream `(seed, b)`).
    pub seed: u64,
}

impl Default for DecomposeOptions {
    fn default() -> Self {
        DecomposeOptions {
            alpha: 0.05,
            bootstrap_reps: 200,
            seed: 20_251_203,
        }
    }
}

/// The bootstrap cross-check of one part.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct BootstrapPart {
    /// Standard deviation of the replicates.
    pub std_error: f64,
    /// Lower percentile limit.
    pub ci_low: f64,
    /// Upper percentile limit.
    pub ci_high: f64,
}

/// One segment's weights, rates and parts.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SegmentParts {
    /// The segment label.
    pub segment: String,
    /// Share of the denominator in the control arm.
    pub weight_control: f64,
    /// Share of the denominator in the treatment arm.
    pub weight_treatment: f64,
    /// Segment rate in the control arm.
    pub rate_control: f64,
    /// Segment rate in the treatment arm.
    pub rate_treatment: f64,
}

/// The decomposition of one KPI's change (see the module docs).
#[derive(Debug, Clone)]
pub struct Decomposition {
    /// The KPI's name.
    pub kpi: String,
    /// The segment column, if a rate/mix split was asked for.
    pub segment: Option<String>,
    /// Units (rows or randomisation units) in control and treatment.
    pub units: [usize; 2],
    /// Rows dropped for a missing KPI input.
    pub dropped_rows: usize,
    /// Two-sided level of the intervals.
    pub alpha: f64,
    /// The parts, in order: total level change, then (when the numerator is positive in
    /// both arms) log change, log numerator, log denominator; then (with a segment) rate,
    /// mix and each segment's rate and mix terms.
    pub effects: Vec<Effect>,
    /// The bootstrap cross-check per effect (same order), when asked for.
    pub bootstrap: Option<Vec<BootstrapPart>>,
    /// Bootstrap replicates used and dropped (a segment empty in a replicate).
    pub bootstrap_reps: (usize, usize),
    /// Per-segment weights and rates.
    pub segments: Vec<SegmentParts>,
    /// Notes for the reader (e.g. a split that is trivially all-numerator).
    pub notes: Vec<String>,
}

impl Decomposition {
    /// The effect whose `key.term` is `term` (e.g. "rate", "mix", "total") without segment.
    pub fn part(&self, term: &str) -> Option<&Effect> {
        self.effects
            .iter()
            .find(|e| e.key.term.as_deref() == Some(term) && e.key.segment.is_none())
    }

    /// The decomposition as a JSON value, for the attribution diagnostics.
    pub fn to_json(&self) -> Value {
        let effects: Vec<Value> = self
            .effects
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
                if let (Some(b), Value::Object(m)) = (&self.bootstrap, &mut v) {
                    m.insert("bootstrap".into(), json!(b[i]));
                }
                v
            })
            .collect();
        json!({
            "kpi": self.kpi,
            "segment": self.segment,
            "method": METHOD,
            "units_control": self.units[0],
            "units_treatment": self.units[1],
            "dropped_rows": self.dropped_rows,
            "alpha": self.alpha,
            "parts": effects,
            "segments": self.segments,
            "bootstrap_replicates": self.bootstrap_reps.0,
            "bootstrap_replicates_dropped": self.bootstrap_reps.1,
            "notes": self.notes,
        })
    }
}

const METHOD: &str = "log numerator/denominator split and Kitagawa (1955) symmetric rate/mix decomposition, delta-method intervals";

impl Report for Decomposition {
    fn result(&self) -> EstimationResult {
        let mut r = EstimationResult::new(
            METHOD,
            format!(
                "change of `{}` (treatment minus control) split into its parts",
                self.kpi
            ),
        );
        r.effects = self.effects.clone();
        if let Value::Object(m) = self.to_json() {
            r.diagnostics = m;
        }
        r.warnings = self.notes.clone();
        r
    }
}

/// The design section, or an error naming the missing table.
pub(crate) fn design(spec: &ReleaseSpec) -> Result<&DesignSection> {
    spec.design
        .as_ref()
        .ok_or_else(|| AttributionError::Invalid("the spec has no [design] table".into()))
}

/// A required design key.
pub(crate) fn design_key<'a>(value: &'a Option<String>, key: &str) -> Result<&'a str> {
    value.as_deref().ok_or_else(|| {
        AttributionError::Invalid(format!("`design.{key}` is required for this analysis"))
    })
}

/// The `[[kpi]]` entry named `name`, parsed in the data layer's grammar.
pub(crate) fn kpi_named(spec: &ReleaseSpec, name: &str) -> Result<Kpi> {
    let section = spec.kpi.iter().find(|k| k.name == name).ok_or_else(|| {
        AttributionError::Invalid(format!(
            "no [[kpi]] named `{name}` (defined: {})",
            spec.kpi
                .iter()
                .map(|k| k.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    parse_kpi(section)
}

/// Parses a `[[kpi]]` entry.
pub(crate) fn parse_kpi(section: &KpiSection) -> Result<Kpi> {
    let mut kpi: Kpi = section.expr.parse()?;
    kpi.name = section.name.clone();
    Ok(kpi)
}

/// Labels of a column with no missing value (the error names the column and the row).
pub(crate) fn labels_complete(data: &Dataset, column: &str) -> Result<Vec<String>> {
    let labels = data.labels(column)?;
    if let Some(row) = labels.iter().position(Option::is_none) {
        return Err(causalkit_data::DataError::MissingValues {
            column: column.to_string(),
            count: labels.iter().filter(|l| l.is_none()).count(),
            first_row: row,
        }
        .into());
    }
    Ok(labels.into_iter().flatten().collect())
}

/// Per row, 0 for control and 1 for treatment; a row in neither arm is an error naming it.
pub(crate) fn arm_of_rows(spec: &ReleaseSpec, data: &Dataset) -> Result<Vec<u8>> {
    let d = design(spec)?;
    let arm = design_key(&d.arm, "arm")?;
    let control = design_key(&d.control, "control")?;
    let treatment = design_key(&d.treatment, "treatment")?;
    labels_complete(data, arm)?
        .iter()
        .enumerate()
        .map(|(row, l)| {
            if l == control {
                Ok(0)
            } else if l == treatment {
                Ok(1)
            } else {
                Err(AttributionError::Invalid(format!(
                    "column `{arm}`, row {row}: `{l}` is neither the control `{control}` nor the treatment `{treatment}`"
                )))
            }
        })
        .collect()
}

/// Per row, the index of its randomisation unit (each row its own unit when `design.unit`
/// is not set), and the number of units; a unit seen in both arms is an error naming it.
pub(crate) fn units_of_rows(
    spec: &ReleaseSpec,
    data: &Dataset,
    arms: &[u8],
) -> Result<(Vec<usize>, Vec<u8>)> {
    let d = design(spec)?;
    let Some(unit) = d.unit.as_deref() else {
        return Ok(((0..arms.len()).collect(), arms.to_vec()));
    };
    let labels = labels_complete(data, unit)?;
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut unit_arm: Vec<u8> = Vec::new();
    let mut of_row = Vec::with_capacity(labels.len());
    for (row, (l, &a)) in labels.iter().zip(arms).enumerate() {
        let next = index.len();
        let u = *index.entry(l.as_str()).or_insert(next);
        if u == unit_arm.len() {
            unit_arm.push(a);
        } else if unit_arm[u] != a {
            return Err(AttributionError::Invalid(format!(
                "column `{unit}`: unit `{l}` is in both arms (row {row}); the randomisation unit must be in one arm"
            )));
        }
        of_row.push(u);
    }
    Ok((of_row, unit_arm))
}

/// Decomposes the change of the `[[kpi]]` named `kpi` between the arms of a randomised
/// release: the log numerator/denominator split, and the rate/mix split over
/// `design.segment` when it is set (module docs). Rows with a missing KPI input are dropped
/// and counted; rows with a missing arm, unit or segment are an error naming the row.
pub fn decompose(
    spec: &ReleaseSpec,
    data: &Dataset,
    kpi: &str,
    options: &DecomposeOptions,
) -> Result<Decomposition> {
    let d = design(spec)?;
    if d.kind != DesignKind::Randomised {
        return Err(AttributionError::Invalid(format!(
            "the ratio and rate/mix decomposition compares the arms of a randomised design; this design is `{}`",
            d.kind.name()
        )));
    }
    if let Some(w) = &d.weight {
        return Err(AttributionError::Invalid(format!(
            "`design.weight` = `{w}`: the decomposition weighs every unit equally and does not take row weights"
        )));
    }
    if let (Some(seg), Some(errors)) = (&d.segment, &spec.errors) {
        if *seg == errors.predicted {
            return Err(AttributionError::Invalid(format!(
                "`design.segment` = `{seg}` is the model's prediction (`errors.predicted`), which the release changes; use a segment the release cannot move (e.g. the intent from the agent's disposition)"
            )));
        }
    }
    let k = kpi_named(spec, kpi)?;
    let rows = k.row_values(data, MissingPolicy::Drop)?;
    let arms = arm_of_rows(spec, data)?;
    let (unit_of_row, unit_arm) = units_of_rows(spec, data, &arms)?;
    let (seg_of_row, segments): (Vec<usize>, Vec<String>) = match &d.segment {
        Some(col) => {
            let labels = labels_complete(data, col)?;
            let levels: BTreeMap<&str, usize> = labels
                .iter()
                .map(|l| (l.as_str(), 0))
                .collect::<BTreeMap<_, _>>()
                .into_keys()
                .enumerate()
                .map(|(i, l)| (l, i))
                .collect();
            (
                labels.iter().map(|l| levels[l.as_str()]).collect(),
                levels.keys().map(|l| l.to_string()).collect(),
            )
        }
        None => (vec![0; data.height()], vec!["all".to_string()]),
    };
    let s = segments.len();
    // Unit-level sums: one row per unit (kept units only), numerators then denominators.
    let mut unit_row: Vec<Option<usize>> = vec![None; unit_arm.len()];
    let mut arm_rows: [Vec<Vec<f64>>; 2] = [Vec::new(), Vec::new()];
    for r in 0..data.height() {
        if !rows.keep[r] {
            continue;
        }
        let u = unit_of_row[r];
        let a = unit_arm[u] as usize;
        let idx = *unit_row[u].get_or_insert_with(|| {
            arm_rows[a].push(vec![0.0; 2 * s]);
            arm_rows[a].len() - 1
        });
        let z = &mut arm_rows[a][idx];
        z[seg_of_row[r]] += rows.numerator[r];
        z[s + seg_of_row[r]] += rows.denominator[r];
    }
    let to_matrix = |v: &Vec<Vec<f64>>| DMatrix::from_fn(v.len(), 2 * s, |i, j| v[i][j]);
    let mut out = decompose_units(
        kpi,
        d.segment.as_deref(),
        &segments,
        [&to_matrix(&arm_rows[0]), &to_matrix(&arm_rows[1])],
        options,
    )?;
    out.dropped_rows = rows.dropped;
    if rows.dropped > 0 {
        out.notes.push(format!(
            "{} rows with a missing input of `{kpi}` were left out",
            rows.dropped
        ));
    }
    Ok(out)
}

/// Values and gradients (w.r.t. the control and the treatment mean vectors) of every part.
struct Parts {
    values: Vec<f64>,
    grads: Vec<[DVector<f64>; 2]>,
    /// (label suffix, term, segment, kind)
    names: Vec<(String, String, Option<String>, EffectKind)>,
}

/// The parts as functions of the two arms' mean vectors `z[a] = (N_1..N_S, D_1..D_S)`.
/// `segmented`: whether to add the rate/mix parts. Errors name an empty segment.
fn parts(
    z: [&DVector<f64>; 2],
    segments: &[String],
    segmented: bool,
    with_grads: bool,
) -> std::result::Result<Parts, String> {
    let s = segments.len();
    let arm_name = ["control", "treatment"];
    for (a, za) in z.iter().enumerate() {
        for (i, seg) in segments.iter().enumerate() {
            if za[s + i] <= 0.0 {
                return Err(format!(
                    "segment `{seg}` has no denominator (no rows) in the {} arm: its rate is not defined",
                    arm_name[a]
                ));
            }
        }
    }
    let sigma = [-1.0, 1.0];
    let num: [f64; 2] = [z[0].rows(0, s).sum(), z[1].rows(0, s).sum()];
    let den: [f64; 2] = [z[0].rows(s, s).sum(), z[1].rows(s, s).sum()];
    let ratio = [num[0] / den[0], num[1] / den[1]];
    let zero = || DVector::<f64>::zeros(2 * s);
    let mut p = Parts {
        values: Vec::new(),
        grads: Vec::new(),
        names: Vec::new(),
    };
    let push = |p: &mut Parts,
                v: f64,
                g: [DVector<f64>; 2],
                label: String,
                term: &str,
                seg: Option<String>,
                kind: EffectKind| {
        p.values.push(v);
        if with_grads {
            p.grads.push(g);
        }
        p.names.push((label, term.to_string(), seg, kind));
    };
    // Total level change R1 - R0: dR/dN_s = sigma/D, dR/dD_s = -sigma R/D.
    let g = [0, 1].map(|a| {
        let mut g = zero();
        for i in 0..s {
            g[i] = sigma[a] / den[a];
            g[s + i] = -sigma[a] * ratio[a] / den[a];
        }
        g
    });
    push(
        &mut p,
        ratio[1] - ratio[0],
        g,
        "total change".into(),
        "total",
        None,
        EffectKind::Absolute,
    );
    if num[0] > 0.0 && num[1] > 0.0 {
        let g_num = [0, 1].map(|a| {
            let mut g = zero();
            for i in 0..s {
                g[i] = sigma[a] / num[a];
            }
            g
        });
        let g_den = [0, 1].map(|a| {
            let mut g = zero();
            for i in 0..s {
                g[s + i] = sigma[a] / den[a];
            }
            g
        });
        let g_log = [0, 1].map(|a| &g_num[a] - &g_den[a]);
        let log_num = num[1].ln() - num[0].ln();
        let log_den = den[1].ln() - den[0].ln();
        push(
            &mut p,
            log_num - log_den,
            g_log,
            "log change".into(),
            "log_total",
            None,
            EffectKind::Other,
        );
        push(
            &mut p,
            log_num,
            g_num,
            "log numerator".into(),
            "log_numerator",
            None,
            EffectKind::Other,
        );
        push(
            &mut p,
            log_den,
            g_den,
            "log denominator".into(),
            "log_denominator",
            None,
            EffectKind::Other,
        );
    }
    if !segmented {
        return Ok(p);
    }
    let w = [0, 1].map(|a| (0..s).map(|i| z[a][s + i] / den[a]).collect::<Vec<f64>>());
    let r = [0, 1].map(|a| (0..s).map(|i| z[a][i] / z[a][s + i]).collect::<Vec<f64>>());
    let wbar: Vec<f64> = (0..s).map(|i| 0.5 * (w[0][i] + w[1][i])).collect();
    let rbar: Vec<f64> = (0..s).map(|i| 0.5 * (r[0][i] + r[1][i])).collect();
    let dw: Vec<f64> = (0..s).map(|i| w[1][i] - w[0][i]).collect();
    let dr: Vec<f64> = (0..s).map(|i| r[1][i] - r[0][i]).collect();
    let mut rate_terms = Vec::with_capacity(s);
    let mut mix_terms = Vec::with_capacity(s);
    for i in 0..s {
        // rate_i = wbar_i dr_i; mix_i = rbar_i dw_i. With dw_t/dD_i = (delta_ti - w_t)/D and
        // dr_i/dN_i = 1/D_i, dr_i/dD_i = -r_i/D_i (per arm, signed by sigma for the
        // differences, halved for the averages):
        let g_rate = [0, 1].map(|a| {
            let mut g = zero();
            if !with_grads {
                return g;
            }
            let da = z[a][s + i];
            g[i] = wbar[i] * sigma[a] / da;
            for t in 0..s {
                let delta = if t == i { 1.0 } else { 0.0 };
                g[s + t] += 0.5 * (delta - w[a][i]) / den[a] * dr[i];
            }
            g[s + i] -= wbar[i] * sigma[a] * r[a][i] / da;
            g
        });
        let g_mix = [0, 1].map(|a| {
            let mut g = zero();
            if !with_grads {
                return g;
            }
            let da = z[a][s + i];
            g[i] = 0.5 * dw[i] / da;
            for t in 0..s {
                let delta = if t == i { 1.0 } else { 0.0 };
                g[s + t] += sigma[a] * rbar[i] * (delta - w[a][i]) / den[a];
            }
            g[s + i] -= 0.5 * r[a][i] * dw[i] / da;
            g
        });
        rate_terms.push((wbar[i] * dr[i], g_rate));
        mix_terms.push((rbar[i] * dw[i], g_mix));
    }
    let sum_terms = |terms: &[(f64, [DVector<f64>; 2])]| {
        let v: f64 = terms.iter().map(|t| t.0).sum();
        let g = [0, 1].map(|a| terms.iter().fold(zero(), |acc, t| acc + &t.1[a]));
        (v, g)
    };
    let (rate, g_rate) = sum_terms(&rate_terms);
    let (mix, g_mix) = sum_terms(&mix_terms);
    push(
        &mut p,
        rate,
        g_rate,
        "rate (within-segment)".into(),
        "rate",
        None,
        EffectKind::Absolute,
    );
    push(
        &mut p,
        mix,
        g_mix,
        "mix (segment shares)".into(),
        "mix",
        None,
        EffectKind::Absolute,
    );
    for (i, seg) in segments.iter().enumerate() {
        let (v, g) = rate_terms[i].clone();
        push(
            &mut p,
            v,
            g,
            format!("rate [{seg}]"),
            "rate",
            Some(seg.clone()),
            EffectKind::Absolute,
        );
        let (v, g) = mix_terms[i].clone();
        push(
            &mut p,
            v,
            g,
            format!("mix [{seg}]"),
            "mix",
            Some(seg.clone()),
            EffectKind::Absolute,
        );
    }
    Ok(p)
}

/// Column means and sample covariance (n − 1) of the rows of `m`.
fn mean_cov(m: &DMatrix<f64>) -> (DVector<f64>, DMatrix<f64>) {
    let n = m.nrows() as f64;
    let mean = DVector::from_fn(m.ncols(), |j, _| m.column(j).sum() / n);
    let mut c = m.clone();
    for j in 0..m.ncols() {
        c.column_mut(j).add_scalar_mut(-mean[j]);
    }
    let cov = c.transpose() * &c / (n - 1.0);
    (mean, cov)
}

/// The numeric core of [`decompose`]: `arms[a]` holds one row per unit of arm `a`
/// (0 control, 1 treatment) with the unit's numerator sums per segment followed by its
/// denominator sums per segment (`2 × segments.len()` columns). `segment` names the
/// segment column (None: no rate/mix split; then `segments` has one entry).
pub fn decompose_units(
    kpi: &str,
    segment: Option<&str>,
    segments: &[String],
    arms: [&DMatrix<f64>; 2],
    options: &DecomposeOptions,
) -> Result<Decomposition> {
    causalkit_stats::error::check_alpha(options.alpha)?;
    let s = segments.len();
    for (a, m) in arms.iter().enumerate() {
        if m.ncols() != 2 * s {
            return Err(AttributionError::Invalid(format!(
                "arm {a}: {} columns for {s} segments (expected {})",
                m.ncols(),
                2 * s
            )));
        }
        if m.nrows() < 2 {
            return Err(AttributionError::Invalid(format!(
                "the {} arm has {} unit(s) with a value of `{kpi}`: at least 2 are needed",
                ["control", "treatment"][a],
                m.nrows()
            )));
        }
    }
    let (m0, c0) = mean_cov(arms[0]);
    let (m1, c1) = mean_cov(arms[1]);
    let p = parts([&m0, &m1], segments, segment.is_some(), true).map_err(|m| {
        AttributionError::Invalid(format!(
            "`{kpi}` by `{}`: {m}",
            segment.unwrap_or("segment")
        ))
    })?;
    let n = [arms[0].nrows() as f64, arms[1].nrows() as f64];
    let crit = normal_quantile(1.0 - options.alpha / 2.0)?;
    let mut effects = Vec::with_capacity(p.values.len());
    for ((v, g), (label, term, seg, kind)) in p.values.iter().zip(&p.grads).zip(&p.names) {
        let var = (g[0].dot(&(&c0 * &g[0])) / n[0] + g[1].dot(&(&c1 * &g[1])) / n[1]).max(0.0);
        let se = var.sqrt();
        let mut key = EffectKey::kind(*kind).metric(kpi).term(term.clone());
        if let Some(seg) = seg {
            key = key.segment(seg.clone());
        }
        effects.push(Effect {
            label: format!("{kpi}: {label}"),
            estimate: *v,
            std_error: Some(se),
            ci_low: Some(v - crit * se),
            ci_high: Some(v + crit * se),
            p_value: (se > 0.0).then(|| 2.0 * normal_sf((v / se).abs())),
            key,
        });
    }
    let mut notes = Vec::new();
    let den = [m0.rows(s, s).sum(), m1.rows(s, s).sum()];
    let unit_den = arms
        .iter()
        .all(|m| (0..m.nrows()).all(|i| (m.row(i).columns(s, s).sum() - 1.0).abs() < 1e-12));
    if unit_den && (den[0] - 1.0).abs() < 1e-12 {
        notes.push(format!(
            "`{kpi}` has a denominator of 1 per unit: its log change is all numerator (set `design.unit` to split per-unit volume from per-row value)"
        ));
    }
    if !p.names.iter().any(|n| n.1 == "log_total") {
        notes.push(format!(
            "the numerator of `{kpi}` is not positive in both arms: no log split"
        ));
    }
    // Bootstrap cross-check over units, within arms.
    let (bootstrap, reps) = if options.bootstrap_reps > 0 {
        let draws: Vec<Option<Vec<f64>>> =
            replicate(options.seed, options.bootstrap_reps, |rng, _| {
                let z = [0, 1].map(|a| {
                    let m = arms[a];
                    // Each unit's draw count, then one pass down each column.
                    let count = bootstrap_counts(rng, m.nrows());
                    let sum = DVector::<f64>::from_fn(2 * s, |j, _| {
                        m.column(j)
                            .iter()
                            .zip(&count)
                            .map(|(v, &c)| v * f64::from(c))
                            .sum()
                    });
                    sum / m.nrows() as f64
                });
                parts([&z[0], &z[1]], segments, segment.is_some(), false)
                    .ok()
                    .map(|q| q.values)
            });
        let ok: Vec<Vec<f64>> = draws.into_iter().flatten().collect();
        let dropped = options.bootstrap_reps - ok.len();
        if ok.len() < 2 {
            notes.push("the bootstrap had fewer than 2 usable replicates".into());
            (None, (ok.len(), dropped))
        } else {
            let mut out = Vec::with_capacity(effects.len());
            for j in 0..effects.len() {
                let col: Vec<f64> = ok.iter().map(|d| d[j]).collect();
                out.push(BootstrapPart {
                    std_error: std_dev(&col)?,
                    ci_low: quantile(&col, options.alpha / 2.0)?,
                    ci_high: quantile(&col, 1.0 - options.alpha / 2.0)?,
                });
            }
            if dropped > 0 {
                notes.push(format!(
                    "{dropped} bootstrap replicates drew no unit of some segment in an arm and were left out"
                ));
            }
            (Some(out), (ok.len(), dropped))
        }
    } else {
        (None, (0, 0))
    };
    let segs = if segment.is_some() {
        segments
            .iter()
            .enumerate()
            .map(|(i, seg)| SegmentParts {
                segment: seg.clone(),
                weight_control: m0[s + i] / den[0],
                weight_treatment: m1[s + i] / den[1],
                rate_control: m0[i] / m0[s + i],
                rate_treatment: m1[i] / m1[s + i],
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(Decomposition {
        kpi: kpi.to_string(),
        segment: segment.map(str::to_string),
        units: [arms[0].nrows(), arms[1].nrows()],
        dropped_rows: 0,
        alpha: options.alpha,
        effects,
        bootstrap,
        bootstrap_reps: reps,
        segments: segs,
        notes,
    })
}

/// Decomposes every `[[kpi]]` of a randomised spec; a KPI that cannot be decomposed gets
/// its reason instead (a JSON object per KPI, for the attribution diagnostics). For a
/// design that is not randomised, one entry says why the decomposition does not apply.
pub fn decompose_spec(
    spec: &ReleaseSpec,
    data: &Dataset,
    options: &DecomposeOptions,
) -> Result<Value> {
    let d = design(spec)?;
    if d.kind != DesignKind::Randomised {
        return Ok(json!({
            "applies": false,
            "reason": format!("the decomposition compares the arms of a randomised design; this design is `{}`", d.kind.name()),
        }));
    }
    let mut per_kpi = Map::new();
    for k in &spec.kpi {
        let v = match decompose(spec, data, &k.name, options) {
            Ok(dec) => dec.to_json(),
            Err(AttributionError::Invalid(m)) => json!({ "not_decomposed": m }),
            Err(e) => return Err(e),
        };
        per_kpi.insert(k.name.clone(), v);
    }
    Ok(json!({ "applies": true, "kpis": per_kpi }))
}

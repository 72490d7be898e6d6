//! Callaway & Sant'Anna (2021) group-time average treatment effects for staggered adoption.
//!
//! Callaway, B. and Sant'Anna, P. H. C. (2021), "Difference-in-Differences with multiple time
//! periods", *Journal of Econometrics* 225(2), 200–230. The implementation follows the R
//! package `did` 2.x (`att_gt`, `aggte`) and its Python port `csdid` 0.4.3, and is tested
//! against both (see `tests/cs.rs`).
//!
//! # Estimand
//! For the cohort `g` first treated in period `g` and a period `t`,
//!
//! `ATT(g,t) = E[Y_t(g) − Y_t(0) | G = g]`,
//!
//! identified under parallel trends by the 2x2 comparison of cohort `g` with a comparison
//! group between a base period `b` and `t`:
//!
//! `ATT(g,t) = E[Y_t − Y_b | G = g] − E[Y_t − Y_b | C]` (without covariates),
//!
//! where `C` is the never-treated units ([`ControlGroup::NeverTreated`]) or the units not yet
//! treated by `max(t, b) + anticipation` ([`ControlGroup::NotYetTreated`], excluding cohort
//! `g`). With covariates the 2x2 comparison is the outcome-regression, inverse-probability
//! or doubly robust estimator of Sant'Anna & Zhao (2020) ([`CsMethod`]).
//!
//! Base period: for post-treatment cells (`t ≥ g − anticipation`) `b` is the last period before
//! `g − anticipation`. For pre-treatment cells [`BasePeriod::Varying`] (R's default) uses
//! `b = t − 1` (the previous observed period), [`BasePeriod::Universal`] uses the same base as
//! the post periods (the cell `t = b` is reported as 0 with no standard error).
//!
//! # Inference
//! Each `ATT(g,t)` has an influence function `ψ_i` over the `n` units (panel) or observations
//! (repeated cross-sections), including the estimation effect of the propensity score and
//! outcome regression. Analytic standard errors are `se = √(Σ ψ_i²) / n`, or with clusters
//! `√(Σ_c (Σ_{i∈c} ψ_i)²) / n`. The multiplier bootstrap ([`BootstrapOptions`]) perturbs the
//! influence functions, summed within clusters (`S_c = Σ_{i∈c} ψ_i`, `S_i = ψ_i` without
//! clusters), with Mammen or Rademacher weights `v_c` drawn once per cluster:
//! `θ*_b = n_c^{-1/2} Σ_c v_c S_c`; the standard error is R's robust
//! `(q_{.75} − q_{.25}) / (z_{.75} − z_{.25}) · √n_c / n` (quantiles of type 1), which estimates
//! the analytic `√(Σ_c S_c²) / n`, and the uniform
//! band's critical value is the `1 − α` quantile of `max_k |θ*_{bk}| / σ̂_k`.
//!
//! Aggregations ([`AttGt::aggregate`]) follow R's `aggte`: weighted averages of the
//! `ATT(g,t)` whose weights are cohort shares, with the estimation effect of the weights in
//! the influence function.
//!
//! # Data handling (documented behaviour)
//! - Cohort `0` means never treated; cohorts later than the last period plus anticipation
//!   are recoded to never treated (as R).
//! - Units treated in or before the first period (plus anticipation) are dropped with a
//!   warning (as R).
//! - No never-treated units: with [`ControlGroup::NeverTreated`] an error
//!   ([`CsError::NoNeverTreated`]); with [`ControlGroup::NotYetTreated`] the periods from the
//!   last cohort's treatment date (less anticipation) on are dropped and the last cohort is
//!   only a comparison group (as R), with a warning.
//! - Unbalanced panels: by default units not observed in every remaining period are dropped
//!   with a warning (R's default `allow_unbalanced_panel = FALSE`). With
//!   [`CsOptions::allow_unbalanced_panel`] (R's `allow_unbalanced_panel = TRUE`) every
//!   observation is kept and each `ATT(g,t)` is the repeated-cross-section estimator
//!   ([`CsMethod`]'s `*_rc` form) on the rows of periods `t` and `b` of cohort `g` and the
//!   comparison group; its row-level influence function, scaled by `n / n₁` (`n` units,
//!   `n₁` rows in the cell), is summed within each unit, so inference clusters on the unit
//!   and `n` counts units. The aggregations weight each unit by its mean weight over its rows
//!   (R `aggte`'s per-id means). A panel that turns out balanced takes the panel path (as R
//!   `did` ≥ 2.2).
//! - Covariates and weights of a panel unit are taken from the earlier period of each 2x2
//!   comparison (R's default for time-varying values).
//! - A cell whose 2x2 estimator cannot be computed (no comparison units, singular design,
//!   propensity-score overlap failure) is left out with a warning naming the cell.
//! - A cohort with a single unit is estimated; its standard errors rest on one unit and a
//!   warning says so.

mod estimators;

use causalkit_stats::dist;
use causalkit_stats::resample::{quantile_type1, replicate_rng, MultiplierWeights};
use causalkit_stats::{Effect, EffectKey, EffectKind, EstimationResult, Report, StatsError};
use estimators::{Design, Kind};
use rayon::prelude::*;
use std::collections::HashMap;

/// Errors of the Callaway & Sant'Anna estimator.
///
/// A separate type from [`crate::DidError`] because the input differs: [`att_gt`] takes
/// [`CsData`] — plain row-aligned columns as R `did` does, with integer unit ids, optional
/// weights and clusters, and repeated cross-sections allowed — so its errors name the
/// 0-based row and the column (`Length`, `NonFinite`, `NegativeWeight`, ...), while the other
/// estimators take a validated [`crate::StaggeredPanel`] whose errors name unit labels and
/// periods. Code that calls both can use [`crate::DidError`] throughout: it converts from this
/// type with `?` ([`crate::DidError::Cs`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CsError {
    /// Two inputs have different lengths.
    #[error("`{name}` has {got} values but the outcome has {expected}")]
    Length {
        /// The offending input.
        name: String,
        /// Its length.
        got: usize,
        /// The outcome's length.
        expected: usize,
    },
    /// A value is NaN or infinite.
    #[error("`{name}` is not finite at row {row} (value {value})")]
    NonFinite {
        /// The variable.
        name: String,
        /// Row index (0-based).
        row: usize,
        /// The value.
        value: f64,
    },
    /// A negative cohort (first-treated period).
    #[error("cohort is negative at row {row} (value {value}); use 0 for never treated")]
    NegativeCohort {
        /// Row index.
        row: usize,
        /// The value.
        value: i64,
    },
    /// A negative sampling weight.
    #[error("weight is negative at row {row} (value {value})")]
    NegativeWeight {
        /// Row index.
        row: usize,
        /// The value.
        value: f64,
    },
    /// A unit's cohort (or cluster) changes over time.
    #[error("{what} of unit {unit} is not constant over time (row {row})")]
    NotConstantWithinUnit {
        /// "cohort" or "cluster".
        what: String,
        /// The unit id.
        unit: usize,
        /// The first row where it differs.
        row: usize,
    },
    /// A unit appears twice in the same period of a panel.
    #[error("unit {unit} appears more than once in period {period} (row {row})")]
    Duplicate {
        /// The unit id.
        unit: usize,
        /// The period.
        period: i64,
        /// The duplicate row.
        row: usize,
    },
    /// No never-treated units but never-treated controls were requested.
    #[error("there are no never-treated units (cohort 0) to compare with; use the not-yet-treated comparison group (R did: control_group = \"notyettreated\")")]
    NoNeverTreated,
    /// Nothing can be estimated.
    #[error("no group-time effect can be estimated: {0}")]
    NothingToEstimate(String),
    /// An invalid option.
    #[error("invalid option `{name}`: {reason}")]
    Option {
        /// The option.
        name: String,
        /// Why.
        reason: String,
    },
    /// An error from the numeric core.
    #[error(transparent)]
    Stats(#[from] StatsError),
}

impl CsError {
    /// Whether this is a numerical failure (a solver that did not converge) rather than a
    /// problem with the input; the CLI exits 1 for these and 2 for bad input.
    pub fn is_numerical(&self) -> bool {
        matches!(self, CsError::Stats(e) if e.is_numerical())
    }
}

/// The comparison group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ControlGroup {
    /// Units never treated in the sample (R `"nevertreated"`, the default).
    #[default]
    NeverTreated,
    /// Never-treated units and units first treated after `max(t, base) + anticipation`
    /// (R `"notyettreated"`).
    NotYetTreated,
}

/// The base period of pre-treatment cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BasePeriod {
    /// Pre-treatment `ATT(g,t)` compares `t` with the previous period (R default).
    #[default]
    Varying,
    /// Every cell of cohort `g` compares with the last period before `g − anticipation`.
    Universal,
}

/// The 2x2 estimator used within each cell (Sant'Anna & Zhao 2020).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CsMethod {
    /// Outcome regression (Heckman, Ichimura & Todd 1997; `DRDID::reg_did_panel`): OLS of
    /// `ΔY` on the covariates among comparison units, `ATT = mean_{D=1}(ΔY − X β̂)`.
    Regression,
    /// Normalised (Hájek) inverse probability weighting (Abadie 2005;
    /// `DRDID::std_ipw_did_panel`) with a logit propensity score.
    Ipw,
    /// Locally efficient doubly robust estimator (Sant'Anna & Zhao 2020;
    /// `DRDID::drdid_panel`, R `did`'s default): logit propensity score and OLS outcome
    /// regression on comparison units.
    #[default]
    DoublyRobust,
}

impl CsMethod {
    fn kind(self) -> Kind {
        match self {
            CsMethod::Regression => Kind::Reg,
            CsMethod::Ipw => Kind::Ipw,
            CsMethod::DoublyRobust => Kind::Dr,
        }
    }
    fn name(self) -> &'static str {
        match self {
            CsMethod::Regression => "reg",
            CsMethod::Ipw => "ipw",
            CsMethod::DoublyRobust => "dr",
        }
    }
}

/// Multiplier-bootstrap settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BootstrapOptions {
    /// Number of bootstrap draws (R's `biters`, default 999).
    pub reps: usize,
    /// Seed; draw `b` uses `replicate_rng(seed, b)`, so results do not depend on threads.
    pub seed: u64,
    /// Multiplier distribution (R uses Mammen's).
    pub weights: MultiplierWeights,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        BootstrapOptions {
            reps: 999,
            seed: 1,
            weights: MultiplierWeights::Mammen,
        }
    }
}

/// Estimation settings of [`att_gt`].
#[derive(Debug, Clone, PartialEq)]
pub struct CsOptions {
    /// Comparison group.
    pub control_group: ControlGroup,
    /// Base period of pre-treatment cells.
    pub base_period: BasePeriod,
    /// Periods of anticipation `δ ≥ 0`: effects may start at `g − δ`.
    pub anticipation: i64,
    /// 2x2 estimator.
    pub method: CsMethod,
    /// Panel (`true`) or repeated cross-sections (`false`).
    pub panel: bool,
    /// With `panel = true`: keep units not observed in every period and estimate as
    /// repeated cross-sections clustered on the unit (R `allow_unbalanced_panel = TRUE`);
    /// `false` (default) drops such units. Ignored for a balanced panel and for
    /// `panel = false`.
    pub allow_unbalanced_panel: bool,
    /// Significance level of the intervals (default 0.05).
    pub alpha: f64,
    /// Multiplier bootstrap; `None` for analytic standard errors and no uniform band.
    pub bootstrap: Option<BootstrapOptions>,
}

impl Default for CsOptions {
    fn default() -> Self {
        CsOptions {
            control_group: ControlGroup::NeverTreated,
            base_period: BasePeriod::Varying,
            anticipation: 0,
            method: CsMethod::DoublyRobust,
            panel: true,
            allow_unbalanced_panel: false,
            alpha: 0.05,
            bootstrap: None,
        }
    }
}

/// Input data, one entry per observation (unit-period row).
///
/// Invariant: all slices have one entry per observation; `cohort` is `0` (never treated) or
/// the first treated period, constant within a unit; sampling weights are non-negative (zero
/// allowed) — [`att_gt`] refuses negative cohorts and weights —; a cluster is constant within
/// a unit (the CLI checks it with the data layer's `PanelColumns::check_panel`). Unlike
/// [`crate::StaggeredPanel`], units need not repeat (repeated cross-sections, `panel = false`)
/// or be observed in every period (`allow_unbalanced_panel`).
#[derive(Debug, Clone, Default)]
pub struct CsData<'a> {
    /// Unit identifier (panel). Ignored for repeated cross-sections (may be empty).
    pub unit: &'a [usize],
    /// Time period (integers; event time is `t − g` in these units).
    pub period: &'a [i64],
    /// First treated period of the unit; `0` = never treated.
    pub cohort: &'a [i64],
    /// Outcome.
    pub outcome: &'a [f64],
    /// Covariates (name, values); an intercept is always added.
    pub covariates: Vec<(&'a str, &'a [f64])>,
    /// Sampling weights (non-negative).
    pub weights: Option<&'a [f64]>,
    /// Cluster identifiers (coarser than the unit); must be constant within a unit.
    pub cluster: Option<&'a [usize]>,
}

/// One group-time average treatment effect.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AttGtRow {
    /// Cohort `g` (first treated period).
    pub group: i64,
    /// Period `t`.
    pub time: i64,
    /// Base period of the comparison.
    pub base: i64,
    /// `ATT(g,t)`.
    pub att: f64,
    /// Standard error (analytic or bootstrap); `None` if the cell has no variance (the
    /// universal base period's reference cell).
    pub se: Option<f64>,
    /// Pointwise interval `att ± z_{1−α/2} se`.
    pub ci: Option<(f64, f64)>,
    /// Simultaneous (uniform, sup-t bootstrap) band; `None` without bootstrap.
    pub uniform_ci: Option<(f64, f64)>,
    /// Treated units (observations for cross-sections) in the 2x2 comparison.
    pub n_treated: usize,
    /// Comparison units (observations) in the 2x2 comparison.
    pub n_control: usize,
    /// `t ≥ g − anticipation`.
    pub post: bool,
}

/// A sparse influence function: values `ψ_i` for the listed observations (0 elsewhere).
#[derive(Debug, Clone)]
struct SparseIf {
    idx: Vec<u32>,
    val: Vec<f64>,
}

/// The Wald pre-test of parallel trends (R `did`'s "P-value for pre-test of parallel trends
/// assumption"): `W = θ̂_preᵀ V̂_pre⁻¹ θ̂_pre ~ χ²_q` over the pre-treatment `ATT(g,t)` with
/// non-zero variance, `V̂` the analytic influence-function covariance.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct PreTest {
    /// Wald statistic.
    pub statistic: f64,
    /// Degrees of freedom (number of pre-treatment cells).
    pub df: usize,
    /// p-value.
    pub p_value: f64,
}

/// Fitted group-time effects (the result of [`att_gt`]).
#[derive(Debug, Clone)]
pub struct AttGt {
    /// The `ATT(g,t)` table, ordered by group then time.
    pub rows: Vec<AttGtRow>,
    /// Pre-test of parallel trends, if there are pre-treatment cells with variance.
    pub pretest: Option<PreTest>,
    /// Critical value used for the uniform band (bootstrap only).
    pub critical_value: Option<f64>,
    /// Units (panel, also an unbalanced panel) or observations (cross-sections) used.
    pub n: usize,
    /// Whether an unbalanced panel was estimated as repeated cross-sections clustered on
    /// the unit ([`CsOptions::allow_unbalanced_panel`]).
    pub unbalanced: bool,
    /// Number of clusters (the unit count when not clustered).
    pub n_clusters: usize,
    /// Warnings (dropped units or cells, unreliable standard errors).
    pub warnings: Vec<String>,
    /// The options used.
    pub options: CsOptions,
    /// Periods used.
    pub periods: Vec<i64>,
    ifs: Vec<SparseIf>,
    /// Cohort of each observation (0 never).
    obs_cohort: Vec<i64>,
    /// Weight of each observation (R's `weights.ind`).
    obs_weight: Vec<f64>,
    /// Cluster index of each observation (or the observation index).
    obs_cluster: Option<Vec<u32>>,
    cohort_sizes: Vec<(i64, usize)>,
}

// ---------------------------------------------------------------------------------------
// Pre-processing
// ---------------------------------------------------------------------------------------

struct Prepared {
    periods: Vec<i64>,
    groups: Vec<i64>,
    /// panel: n units; rc: n rows.
    n: usize,
    cohort: Vec<i64>,
    /// panel: n*T; rc: n.
    y: Vec<f64>,
    /// panel: n*T*k; rc: n*k (covariates only).
    x: Vec<f64>,
    w: Vec<f64>,
    /// rc: period index of each row.
    tidx: Vec<usize>,
    cluster: Option<Vec<u32>>,
    n_clusters: usize,
    k: usize,
    warnings: Vec<String>,
    /// Unbalanced panel estimated as repeated cross-sections: rows are observations, `n`
    /// counts units.
    units: Option<UnitMap>,
}

/// Row → unit map of an unbalanced panel run through the cross-section estimators.
struct UnitMap {
    /// Unit index (0..n) of each row.
    row_unit: Vec<u32>,
    /// Cohort of each unit.
    cohort: Vec<i64>,
    /// Mean weight of each unit over its rows (R `aggte`'s per-id mean).
    weight: Vec<f64>,
}

fn check_inputs(data: &CsData, opts: &CsOptions) -> Result<(), CsError> {
    let n = data.outcome.len();
    let len = |name: &str, got: usize| -> Result<(), CsError> {
        if got != n {
            return Err(CsError::Length {
                name: name.into(),
                got,
                expected: n,
            });
        }
        Ok(())
    };
    len("period", data.period.len())?;
    len("cohort", data.cohort.len())?;
    if opts.panel {
        len("unit", data.unit.len())?;
    }
    for (name, c) in &data.covariates {
        len(name, c.len())?;
    }
    if let Some(w) = data.weights {
        len("weights", w.len())?;
    }
    if let Some(c) = data.cluster {
        len("cluster", c.len())?;
    }
    let finite = |name: &str, v: &[f64]| -> Result<(), CsError> {
        if let Some(row) = v.iter().position(|x| !x.is_finite()) {
            return Err(CsError::NonFinite {
                name: name.into(),
                row,
                value: v[row],
            });
        }
        Ok(())
    };
    finite("outcome", data.outcome)?;
    for (name, c) in &data.covariates {
        finite(name, c)?;
    }
    if let Some(w) = data.weights {
        finite("weights", w)?;
        if let Some(row) = w.iter().position(|&v| v < 0.0) {
            return Err(CsError::NegativeWeight { row, value: w[row] });
        }
    }
    if let Some(row) = data.cohort.iter().position(|&g| g < 0) {
        return Err(CsError::NegativeCohort {
            row,
            value: data.cohort[row],
        });
    }
    if opts.anticipation < 0 {
        return Err(CsError::Option {
            name: "anticipation".into(),
            reason: format!("must be >= 0, got {}", opts.anticipation),
        });
    }
    if causalkit_stats::limits::check_alpha_level("alpha", opts.alpha).is_err() {
        return Err(CsError::Option {
            name: "alpha".into(),
            reason: format!(
                "must lie in (0, 1) and be at least {:e}, got {}",
                causalkit_stats::limits::MIN_ALPHA,
                opts.alpha
            ),
        });
    }
    if let Some(b) = opts.bootstrap {
        if b.reps < 2 {
            return Err(CsError::Option {
                name: "bootstrap.reps".into(),
                reason: format!("at least 2 draws are needed, got {}", b.reps),
            });
        }
        if b.reps > causalkit_stats::limits::MAX_REPLICATIONS {
            return Err(CsError::Option {
                name: "bootstrap.reps".into(),
                reason: format!(
                    "at most {} draws, got {}",
                    causalkit_stats::limits::MAX_REPLICATIONS,
                    b.reps
                ),
            });
        }
    }
    if n == 0 {
        return Err(CsError::NothingToEstimate("the data are empty".into()));
    }
    Ok(())
}

fn prepare(data: &CsData, opts: &CsOptions) -> Result<Prepared, CsError> {
    check_inputs(data, opts)?;
    let ant = opts.anticipation;
    let mut warnings = Vec::new();
    let nrow = data.outcome.len();
    let mut periods: Vec<i64> = data.period.to_vec();
    periods.sort_unstable();
    periods.dedup();
    let tmax = *periods.last().expect("non-empty");
    // Cohorts after the last period (+ anticipation) are never treated within the sample.
    let cohort_of = |r: usize| -> i64 {
        let g = data.cohort[r];
        if g > tmax + ant {
            0
        } else {
            g
        }
    };
    let mut keep_row: Vec<bool> = vec![true; nrow];
    let has_never = (0..nrow).any(|r| cohort_of(r) == 0);
    let mut latest: Option<i64> = None;
    if !has_never {
        if opts.control_group == ControlGroup::NeverTreated {
            return Err(CsError::NoNeverTreated);
        }
        let gl = (0..nrow).map(cohort_of).max().expect("non-empty");
        latest = Some(gl);
        let cutoff = gl - ant;
        for (r, k) in keep_row.iter_mut().enumerate() {
            if data.period[r] >= cutoff {
                *k = false;
            }
        }
        warnings.push(format!(
            "no never-treated units: periods from {cutoff} on are dropped and cohort {gl} serves only as a not-yet-treated comparison group"
        ));
        periods.retain(|&t| t < cutoff);
        if periods.is_empty() {
            return Err(CsError::NothingToEstimate(format!(
                "no period precedes the last cohort's treatment date {cutoff}"
            )));
        }
    }
    let first = periods[0];
    // Units treated in the first period (or before) are dropped.
    let mut dropped_first = std::collections::BTreeSet::new();
    let mut n_first_rows = 0usize;
    for (r, k) in keep_row.iter_mut().enumerate() {
        let g = cohort_of(r);
        if g != 0 && g <= first + ant {
            if *k {
                n_first_rows += 1;
            }
            *k = false;
            dropped_first.insert(if opts.panel { data.unit[r] } else { r });
        }
    }
    if !dropped_first.is_empty() {
        warnings.push(format!(
            "dropped {} {} already treated in the first period {first}{}",
            if opts.panel {
                dropped_first.len()
            } else {
                n_first_rows
            },
            if opts.panel { "units" } else { "observations" },
            if ant > 0 {
                format!(" (anticipation {ant})")
            } else {
                String::new()
            }
        ));
    }
    let k = data.covariates.len();
    let tpos: HashMap<i64, usize> = periods.iter().enumerate().map(|(i, &t)| (t, i)).collect();
    let nt = periods.len();
    let weight = |r: usize| data.weights.map_or(1.0, |w| w[r]);

    let mut units: Option<UnitMap> = None;
    let (n, cohort, y, x, w, tidx, cluster_raw) = if opts.panel {
        // Map units, check cohort constant, duplicates.
        let mut uidx: HashMap<usize, usize> = HashMap::new();
        let mut ucohort: Vec<i64> = Vec::new();
        let mut uid: Vec<usize> = Vec::new();
        let mut ucluster: Vec<usize> = Vec::new();
        for r in 0..nrow {
            let u = data.unit[r];
            let g = data.cohort[r];
            match uidx.get(&u) {
                Some(&i) => {
                    if ucohort[i] != g {
                        return Err(CsError::NotConstantWithinUnit {
                            what: "cohort".into(),
                            unit: u,
                            row: r,
                        });
                    }
                    if let Some(c) = data.cluster {
                        if ucluster[i] != c[r] {
                            return Err(CsError::NotConstantWithinUnit {
                                what: "cluster".into(),
                                unit: u,
                                row: r,
                            });
                        }
                    }
                }
                None => {
                    uidx.insert(u, ucohort.len());
                    ucohort.push(g);
                    uid.push(u);
                    ucluster.push(data.cluster.map_or(0, |c| c[r]));
                }
            }
        }
        let nu = ucohort.len();
        let mut seen = vec![usize::MAX; nu * nt];
        for r in 0..nrow {
            if !keep_row[r] {
                continue;
            }
            let i = uidx[&data.unit[r]];
            let j = tpos[&data.period[r]];
            if seen[i * nt + j] != usize::MAX {
                return Err(CsError::Duplicate {
                    unit: data.unit[r],
                    period: data.period[r],
                    row: r,
                });
            }
            seen[i * nt + j] = r;
        }
        // Balance: keep units observed in every period (and not dropped).
        let mut keep_unit = vec![true; nu];
        let mut n_unbalanced = 0;
        for i in 0..nu {
            let g = ucohort[i];
            let g = if g > tmax + ant { 0 } else { g };
            if g != 0 && g <= first + ant {
                keep_unit[i] = false;
                continue;
            }
            if seen[i * nt..(i + 1) * nt].contains(&usize::MAX) {
                keep_unit[i] = false;
                n_unbalanced += 1;
            }
        }
        if n_unbalanced > 0 && opts.allow_unbalanced_panel {
            // Every kept row is an observation; units are the sampling (cluster) units.
            let mut unit_code: Vec<Option<u32>> = vec![None; nu];
            let mut ucoh = Vec::new();
            let mut wsum: Vec<(f64, f64)> = Vec::new();
            let mut ucl = Vec::new();
            let rows: Vec<usize> = (0..nrow).filter(|&r| keep_row[r]).collect();
            let mut row_unit = Vec::with_capacity(rows.len());
            for &r in &rows {
                let i = uidx[&data.unit[r]];
                let code = *unit_code[i].get_or_insert_with(|| {
                    let g = ucohort[i];
                    ucoh.push(if g > tmax + ant { 0 } else { g });
                    wsum.push((0.0, 0.0));
                    ucl.push(ucluster[i]);
                    (ucoh.len() - 1) as u32
                });
                row_unit.push(code);
                let e = &mut wsum[code as usize];
                e.0 += weight(r);
                e.1 += 1.0;
            }
            warnings.push(format!(
                "unbalanced panel: {n_unbalanced} units are not observed in every period; every observation is kept and the group-time effects use the repeated cross-section estimators with influence functions clustered on the unit (R did allow_unbalanced_panel = TRUE)"
            ));
            let n = rows.len();
            let cohort = rows.iter().map(|&r| cohort_of(r)).collect();
            let y = rows.iter().map(|&r| data.outcome[r]).collect();
            let w = rows.iter().map(|&r| weight(r)).collect();
            let tidx = rows.iter().map(|&r| tpos[&data.period[r]]).collect();
            let mut x = Vec::with_capacity(n * k);
            for &r in &rows {
                for (_, c) in &data.covariates {
                    x.push(c[r]);
                }
            }
            units = Some(UnitMap {
                row_unit,
                cohort: ucoh,
                weight: wsum.iter().map(|(s, c)| s / c).collect(),
            });
            (ucl.len(), cohort, y, x, w, tidx, ucl)
        } else {
            if n_unbalanced > 0 {
                warnings.push(format!(
                "dropped {n_unbalanced} units not observed in every period (unbalanced panel; set allow_unbalanced_panel, or use repeated cross-sections, to keep them)"
            ));
            }
            let units: Vec<usize> = (0..nu).filter(|&i| keep_unit[i]).collect();
            let n = units.len();
            let mut cohort = Vec::with_capacity(n);
            let mut y = Vec::with_capacity(n * nt);
            let mut x = Vec::with_capacity(n * nt * k);
            let mut w = Vec::with_capacity(n * nt);
            let mut cl = Vec::with_capacity(n);
            for &i in &units {
                let g = ucohort[i];
                cohort.push(if g > tmax + ant { 0 } else { g });
                cl.push(ucluster[i]);
                for j in 0..nt {
                    let r = seen[i * nt + j];
                    y.push(data.outcome[r]);
                    w.push(weight(r));
                    for (_, c) in &data.covariates {
                        x.push(c[r]);
                    }
                }
            }
            (n, cohort, y, x, w, Vec::new(), cl)
        }
    } else {
        let rows: Vec<usize> = (0..nrow).filter(|&r| keep_row[r]).collect();
        let n = rows.len();
        let cohort = rows.iter().map(|&r| cohort_of(r)).collect();
        let y = rows.iter().map(|&r| data.outcome[r]).collect();
        let w = rows.iter().map(|&r| weight(r)).collect();
        let tidx = rows.iter().map(|&r| tpos[&data.period[r]]).collect();
        let mut x = Vec::with_capacity(n * k);
        for &r in &rows {
            for (_, c) in &data.covariates {
                x.push(c[r]);
            }
        }
        let cl = rows
            .iter()
            .map(|&r| data.cluster.map_or(0, |c| c[r]))
            .collect();
        (n, cohort, y, x, w, tidx, cl)
    };
    if n == 0 {
        return Err(CsError::NothingToEstimate(
            "no observations remain after dropping units treated in the first period and unbalanced units".into(),
        ));
    }
    if nt < 2 {
        return Err(CsError::NothingToEstimate(
            "at least two periods are needed".into(),
        ));
    }
    let mut groups: Vec<i64> = cohort.iter().copied().filter(|&g| g > 0).collect();
    groups.sort_unstable();
    groups.dedup();
    if let Some(gl) = latest {
        groups.retain(|&g| g < gl);
    }
    groups.retain(|&g| g > first + ant);
    if groups.is_empty() {
        return Err(CsError::NothingToEstimate(
            "no treated cohort with a pre-treatment period remains".into(),
        ));
    }
    if w.iter().sum::<f64>() <= 0.0 {
        return Err(CsError::Option {
            name: "weights".into(),
            reason: "the weights sum to zero".into(),
        });
    }
    let (cluster, n_clusters) = if data.cluster.is_some() {
        let mut map: HashMap<usize, u32> = HashMap::new();
        let c: Vec<u32> = cluster_raw
            .iter()
            .map(|&c| {
                let next = map.len() as u32;
                *map.entry(c).or_insert(next)
            })
            .collect();
        let m = map.len();
        (Some(c), m)
    } else {
        (None, n)
    };
    Ok(Prepared {
        periods,
        groups,
        n,
        cohort,
        y,
        x,
        w,
        tidx,
        cluster,
        n_clusters,
        k,
        warnings,
        units,
    })
}

// ---------------------------------------------------------------------------------------
// Group-time effects
// ---------------------------------------------------------------------------------------

struct Cell {
    group: i64,
    /// Index of the current period.
    cur: usize,
    /// Index of the base period.
    base: usize,
    zero: bool,
}

fn plan(p: &Prepared, opts: &CsOptions, warnings: &mut Vec<String>) -> Vec<Cell> {
    let ant = opts.anticipation;
    let t = &p.periods;
    let (len, tfac) = match opts.base_period {
        BasePeriod::Varying => (t.len() - 1, 1),
        BasePeriod::Universal => (t.len(), 0),
    };
    let mut cells = Vec::new();
    for &g in &p.groups {
        let last_pre = t.iter().rposition(|&s| s + ant < g);
        for ti in 0..len {
            let cur = ti + tfac;
            let mut base = ti;
            if opts.base_period == BasePeriod::Universal || g - ant <= t[cur] {
                match last_pre {
                    Some(b) => base = b,
                    None => {
                        warnings.push(format!(
                            "cohort {g} has no pre-treatment period; its units are not used as a treated group"
                        ));
                        break;
                    }
                }
            }
            let zero = opts.base_period == BasePeriod::Universal && base == cur;
            cells.push(Cell {
                group: g,
                cur,
                base,
                zero,
            });
        }
    }
    cells
}

type CellOut = Result<(f64, SparseIf, usize, usize), String>;

fn is_control(opts: &CsOptions, p: &Prepared, c: &Cell, g_i: i64) -> bool {
    match opts.control_group {
        ControlGroup::NeverTreated => g_i == 0,
        ControlGroup::NotYetTreated => {
            g_i == 0 || (g_i != c.group && g_i > p.periods[c.cur.max(c.base)] + opts.anticipation)
        }
    }
}

/// The rows of one (g, t) cell: their indices, the treatment indicator and the treated and
/// comparison counts.
#[derive(Default)]
struct CellRows {
    idx: Vec<u32>,
    d: Vec<bool>,
    n1: usize,
    n0: usize,
}

impl CellRows {
    /// Takes row `i` of cohort `g_i` into the cell when it is treated (cohort `c.group`) or a
    /// comparison (`is_control`); false, leaving the cell as it was, when it is neither.
    fn admit(&mut self, opts: &CsOptions, p: &Prepared, c: &Cell, i: usize, g_i: i64) -> bool {
        let treated = g_i == c.group;
        if !treated && !is_control(opts, p, c, g_i) {
            return false;
        }
        if treated {
            self.n1 += 1;
        } else {
            self.n0 += 1;
        }
        self.idx.push(i as u32);
        self.d.push(treated);
        true
    }

    /// The cell's influence function on the whole sample's scale (R: n / n1, with n the units
    /// (or observations) and n1 the rows of the cell), or an error when the ATT or an
    /// influence value is not finite.
    fn rescale(&self, p: &Prepared, att: f64, mut inf: Vec<f64>) -> Result<Vec<f64>, String> {
        let scale = p.n as f64 / self.idx.len() as f64;
        for v in inf.iter_mut() {
            *v *= scale;
        }
        if !att.is_finite() || inf.iter().any(|v| !v.is_finite()) {
            return Err("the estimate is not finite".into());
        }
        Ok(inf)
    }
}

fn estimate_panel_cell(p: &Prepared, opts: &CsOptions, c: &Cell) -> CellOut {
    let nt = p.periods.len();
    let k1 = p.k + 1;
    let early = c.cur.min(c.base);
    let mut rows = CellRows::default();
    let mut dy = Vec::new();
    let mut w = Vec::new();
    let mut x = Vec::new();
    for i in 0..p.n {
        if !rows.admit(opts, p, c, i, p.cohort[i]) {
            continue;
        }
        dy.push(p.y[i * nt + c.cur] - p.y[i * nt + c.base]);
        w.push(p.w[i * nt + early]);
        x.push(1.0);
        let o = (i * nt + early) * p.k;
        x.extend_from_slice(&p.x[o..o + p.k]);
    }
    if rows.n1 == 0 || rows.n0 == 0 {
        return Err(format!(
            "no {} units",
            if rows.n1 == 0 {
                "treated"
            } else {
                "comparison"
            }
        ));
    }
    let design = Design { x: &x, k: k1 };
    let (att, inf) = estimators::panel(opts.method.kind(), &dy, &rows.d, &design, &w)?;
    let inf = rows.rescale(p, att, inf)?;
    Ok((
        att,
        SparseIf {
            idx: rows.idx,
            val: inf,
        },
        rows.n1,
        rows.n0,
    ))
}

fn estimate_rc_cell(p: &Prepared, opts: &CsOptions, c: &Cell) -> CellOut {
    let k1 = p.k + 1;
    let mut rows = CellRows::default();
    let mut y = Vec::new();
    let mut post = Vec::new();
    let mut w = Vec::new();
    let mut x = Vec::new();
    for i in 0..p.tidx.len() {
        let ti = p.tidx[i];
        if ti != c.cur && ti != c.base {
            continue;
        }
        if !rows.admit(opts, p, c, i, p.cohort[i]) {
            continue;
        }
        y.push(p.y[i]);
        // post = the current period (also when it precedes the base, as R).
        post.push(ti == c.cur);
        w.push(p.w[i]);
        x.push(1.0);
        x.extend_from_slice(&p.x[i * p.k..(i + 1) * p.k]);
    }
    let cnt = |dd: bool, pp: bool| {
        rows.d
            .iter()
            .zip(&post)
            .filter(|(a, b)| **a == dd && **b == pp)
            .count()
    };
    for (dd, pp, what) in [
        (true, true, "treated observations in the current period"),
        (true, false, "treated observations in the base period"),
        (false, true, "comparison observations in the current period"),
        (false, false, "comparison observations in the base period"),
    ] {
        if cnt(dd, pp) == 0 {
            return Err(format!("no {what}"));
        }
    }
    let design = Design { x: &x, k: k1 };
    let (att, inf) = estimators::rc(opts.method.kind(), &y, &post, &rows.d, &design, &w)?;
    let inf = rows.rescale(p, att, inf)?;
    let CellRows {
        idx,
        d,
        mut n1,
        mut n0,
    } = rows;
    let f = match &p.units {
        None => SparseIf { idx, val: inf },
        Some(u) => {
            // Unbalanced panel: sum each unit's rows (R aggregates by id); count units.
            let mut acc: std::collections::BTreeMap<u32, f64> = Default::default();
            let (mut t1, mut t0) = (
                std::collections::BTreeSet::new(),
                std::collections::BTreeSet::new(),
            );
            for ((&i, &v), &di) in idx.iter().zip(&inf).zip(&d) {
                let unit = u.row_unit[i as usize];
                *acc.entry(unit).or_insert(0.0) += v;
                if di {
                    t1.insert(unit);
                } else {
                    t0.insert(unit);
                }
            }
            n1 = t1.len();
            n0 = t0.len();
            SparseIf {
                idx: acc.keys().copied().collect(),
                val: acc.values().copied().collect(),
            }
        }
    };
    Ok((att, f, n1, n0))
}

// ---------------------------------------------------------------------------------------
// Inference helpers
// ---------------------------------------------------------------------------------------

/// Influence-function algebra shared by the cells and the aggregations.
struct Sampling<'a> {
    n: usize,
    cluster: Option<&'a [u32]>,
    n_clusters: usize,
}

impl Sampling<'_> {
    /// Cluster sums `S_c = Σ_{i∈c} ψ_i` (or ψ itself) as a sparse column.
    fn cluster_sums(&self, f: &SparseIf) -> SparseIf {
        match self.cluster {
            None => f.clone(),
            Some(cl) => {
                let mut acc: HashMap<u32, f64> = HashMap::new();
                for (&i, &v) in f.idx.iter().zip(&f.val) {
                    *acc.entry(cl[i as usize]).or_insert(0.0) += v;
                }
                let mut pairs: Vec<(u32, f64)> = acc.into_iter().collect();
                pairs.sort_unstable_by_key(|p| p.0);
                SparseIf {
                    idx: pairs.iter().map(|p| p.0).collect(),
                    val: pairs.iter().map(|p| p.1).collect(),
                }
            }
        }
    }
    /// Analytic standard error `√(Σ_c S_c²) / n`.
    fn se(&self, f: &SparseIf) -> f64 {
        let s = self.cluster_sums(f);
        s.val.iter().map(|v| v * v).sum::<f64>().sqrt() / self.n as f64
    }
}

fn dense_to_sparse(v: &[f64]) -> SparseIf {
    let mut idx = Vec::new();
    let mut val = Vec::new();
    for (i, &x) in v.iter().enumerate() {
        if x != 0.0 {
            idx.push(i as u32);
            val.push(x);
        }
    }
    SparseIf { idx, val }
}

/// Bootstrap output: per-column standard errors and the sup-t critical value over the
/// first `n_band` columns.
struct BootOut {
    se: Vec<Option<f64>>,
    crit: Option<f64>,
}

/// R `did`'s `mboot` (as ported by csdid 0.4.3): `θ*_{bk} = n_c^{-1/2} Σ_c v_{bc} S_{ck}`.
fn multiplier_bootstrap(
    s: &Sampling,
    cols: &[&SparseIf],
    n_band: usize,
    b: &BootstrapOptions,
    alpha: f64,
) -> BootOut {
    let cm: Vec<SparseIf> = cols.iter().map(|f| s.cluster_sums(f)).collect();
    let ncl = s.n_clusters;
    let root = (ncl as f64).sqrt();
    let kk = cm.len();
    // Blocked product `W^T S`: a block of `BLOCK` draws is generated (each from its own
    // `replicate_rng(seed, r)`), stored interleaved by cluster, and every column is swept
    // once per block with `BLOCK` independent accumulators. Each draw's sum keeps the
    // cluster order of the column, so the numbers equal the one-draw-at-a-time product.
    const BLOCK: usize = 8;
    let n_blocks = b.reps.div_ceil(BLOCK);
    let draws: Vec<Vec<f64>> = (0..n_blocks)
        .into_par_iter()
        .flat_map_iter(|blk| {
            let r0 = blk * BLOCK;
            let nb = (b.reps - r0).min(BLOCK);
            let mut wts = vec![0.0f64; ncl * BLOCK];
            for d in 0..nb {
                let mut rng = replicate_rng(b.seed, (r0 + d) as u64);
                b.weights
                    .draw_into(&mut rng, ncl, |c, x| wts[c * BLOCK + d] = x);
            }
            let mut out = vec![vec![0.0f64; kk]; nb];
            for (k, f) in cm.iter().enumerate() {
                let mut acc = [-0.0f64; BLOCK];
                for (&i, &x) in f.idx.iter().zip(&f.val) {
                    let w: &[f64; BLOCK] = wts[i as usize * BLOCK..(i as usize + 1) * BLOCK]
                        .try_into()
                        .expect("block");
                    for d in 0..BLOCK {
                        acc[d] += w[d] * x;
                    }
                }
                for (d, o) in out.iter_mut().enumerate() {
                    o[k] = acc[d] / root;
                }
            }
            out
        })
        .collect();
    let tiny = f64::EPSILON.sqrt() * 10.0;
    let zq =
        dist::normal_quantile(0.75).expect("valid") - dist::normal_quantile(0.25).expect("valid");
    let mut sigma = vec![None; kk];
    for (k, sg) in sigma.iter_mut().enumerate() {
        let mut col: Vec<f64> = draws.iter().map(|d| d[k]).collect();
        if col.iter().map(|v| v * v).sum::<f64>() <= tiny {
            continue;
        }
        col.sort_by(f64::total_cmp);
        if let (Ok(q75), Ok(q25)) = (quantile_type1(&col, 0.75), quantile_type1(&col, 0.25)) {
            let iqr = (q75 - q25) / zq;
            if iqr > tiny {
                *sg = Some(iqr);
            }
        }
    }
    let crit = if n_band > 0 && sigma[..n_band].iter().any(Option::is_some) {
        let mut bt: Vec<f64> = draws
            .iter()
            .map(|d| {
                (0..n_band)
                    .filter_map(|k| sigma[k].map(|sg| (d[k] / sg).abs()))
                    .fold(0.0, f64::max)
            })
            .filter(|v| v.is_finite())
            .collect();
        bt.sort_by(f64::total_cmp);
        // None when every draw was dropped (no finite statistic).
        quantile_type1(&bt, 1.0 - alpha).ok()
    } else {
        None
    };
    BootOut {
        se: sigma
            .iter()
            .map(|sg| sg.map(|v| v * root / s.n as f64))
            .collect(),
        crit,
    }
}

// ---------------------------------------------------------------------------------------
// att_gt
// ---------------------------------------------------------------------------------------

/// Estimates every group-time average treatment effect `ATT(g,t)` (R `did::att_gt`).
///
/// See the [module documentation](self) for the estimand, the options and the handling
/// of edge cases.
///
/// ```
/// use causalkit_did::cs::{att_gt, Aggregation, CsData, CsOptions};
/// // 6 units, 3 periods: units 0-1 first treated in period 2, 2-3 in period 3, 4-5 never.
/// let unit: Vec<usize> = (0..6).flat_map(|u| [u; 3]).collect();
/// let period: Vec<i64> = (0..6).flat_map(|_| [1, 2, 3]).collect();
/// let cohort: Vec<i64> = unit.iter().map(|&u| [2, 2, 3, 3, 0, 0][u]).collect();
/// let y: Vec<f64> = (0..18).map(|r| (r % 3) as f64 + if cohort[r] > 0 && period[r] >= cohort[r] { 1.0 } else { 0.0 } + 0.1 * (r % 5) as f64).collect();
/// let data = CsData { unit: &unit, period: &period, cohort: &cohort, outcome: &y, ..Default::default() };
/// let fit = att_gt(&data, &CsOptions::default()).unwrap();
/// assert_eq!(fit.rows.len(), 4); // (2,2), (2,3), (3,2), (3,3)
/// let simple = fit.aggregate(&Aggregation::Simple).unwrap();
/// assert!(simple.overall.estimate.is_finite());
/// ```
pub fn att_gt(data: &CsData, options: &CsOptions) -> Result<AttGt, CsError> {
    let p = prepare(data, options)?;
    let mut warnings = p.warnings.clone();
    let cells = plan(&p, options, &mut warnings);
    let outs: Vec<Option<CellOut>> = cells
        .par_iter()
        .map(|c| {
            if c.zero {
                None
            } else if options.panel && p.units.is_none() {
                Some(estimate_panel_cell(&p, options, c))
            } else {
                Some(estimate_rc_cell(&p, options, c))
            }
        })
        .collect();
    let ant = options.anticipation;
    let mut rows = Vec::new();
    let mut ifs = Vec::new();
    for (c, o) in cells.iter().zip(outs) {
        let (g, t, b) = (c.group, p.periods[c.cur], p.periods[c.base]);
        let (att, f, n1, n0) = match o {
            None => (
                0.0,
                SparseIf {
                    idx: vec![],
                    val: vec![],
                },
                0,
                0,
            ),
            Some(Ok(v)) => v,
            Some(Err(e)) => {
                warnings.push(format!("ATT({g},{t}) left out: {e}"));
                continue;
            }
        };
        rows.push(AttGtRow {
            group: g,
            time: t,
            base: b,
            att,
            se: None,
            ci: None,
            uniform_ci: None,
            n_treated: n1,
            n_control: n0,
            post: t >= g - ant,
        });
        ifs.push(f);
    }
    if rows.is_empty() {
        // The error carries the cells' failures itself (an error has no warnings list).
        let shown: Vec<&str> = warnings.iter().take(5).map(String::as_str).collect();
        let more = warnings.len().saturating_sub(shown.len());
        return Err(CsError::NothingToEstimate(format!(
            "every group-time cell failed: {}{}",
            if shown.is_empty() {
                "no cell could be formed".to_string()
            } else {
                shown.join("; ")
            },
            if more > 0 {
                format!("; and {more} more")
            } else {
                String::new()
            }
        )));
    }
    // Observation-level cohort and weight for the aggregations (R: first-period weights).
    let nt = p.periods.len();
    let (obs_weight, obs_cohort): (Vec<f64>, Vec<i64>) = match &p.units {
        Some(u) => (u.weight.clone(), u.cohort.clone()),
        None if options.panel => ((0..p.n).map(|i| p.w[i * nt]).collect(), p.cohort.clone()),
        None => (p.w.clone(), p.cohort.clone()),
    };
    let mut cohort_sizes: Vec<(i64, usize)> = Vec::new();
    for &g in &p.groups {
        let units = obs_cohort.iter().filter(|&&c| c == g).count();
        cohort_sizes.push((g, units));
        if options.panel && units == 1 {
            warnings.push(format!(
                "cohort {g} has a single treated unit: its standard errors rest on one unit and are unreliable"
            ));
        }
    }
    let mut fit = AttGt {
        rows,
        pretest: None,
        critical_value: None,
        n: p.n,
        unbalanced: p.units.is_some(),
        n_clusters: p.n_clusters,
        warnings,
        options: options.clone(),
        periods: p.periods.clone(),
        ifs,
        obs_cohort,
        obs_weight,
        obs_cluster: p.cluster.clone(),
        cohort_sizes,
    };
    fit.infer();
    Ok(fit)
}

impl AttGt {
    fn sampling(&self) -> Sampling<'_> {
        Sampling {
            n: self.n,
            cluster: self.obs_cluster.as_deref(),
            n_clusters: self.n_clusters,
        }
    }

    fn z(&self) -> f64 {
        dist::normal_quantile(1.0 - self.options.alpha / 2.0).expect("alpha checked")
    }

    fn infer(&mut self) {
        let s = self.sampling();
        let tiny = f64::EPSILON.sqrt() * 10.0;
        let analytic: Vec<Option<f64>> = self
            .ifs
            .iter()
            .map(|f| {
                let se = s.se(f);
                (se > tiny * 1e-3 && se.is_finite()).then_some(se)
            })
            .collect();
        let (se, crit) = match &self.options.bootstrap {
            Some(b) => {
                let cols: Vec<&SparseIf> = self.ifs.iter().collect();
                let out = multiplier_bootstrap(&s, &cols, cols.len(), b, self.options.alpha);
                (out.se, out.crit)
            }
            None => (analytic.clone(), None),
        };
        let z = self.z();
        for (r, se) in self.rows.iter_mut().zip(&se) {
            r.se = *se;
            r.ci = se.map(|s| (r.att - z * s, r.att + z * s));
            r.uniform_ci = match (se, crit) {
                (Some(s), Some(c)) => Some((r.att - c * s, r.att + c * s)),
                _ => None,
            };
        }
        self.critical_value = crit;
        self.pretest = self.compute_pretest(&analytic);
    }

    fn compute_pretest(&mut self, analytic: &[Option<f64>]) -> Option<PreTest> {
        let ant = self.options.anticipation;
        let pre: Vec<usize> = (0..self.rows.len())
            .filter(|&k| self.rows[k].group - ant > self.rows[k].time && analytic[k].is_some())
            .collect();
        if pre.is_empty() {
            return None;
        }
        let s = self.sampling();
        let dense: Vec<Vec<f64>> = pre
            .iter()
            .map(|&k| {
                let cs = s.cluster_sums(&self.ifs[k]);
                let mut d = vec![0.0; s.n_clusters];
                for (&i, &v) in cs.idx.iter().zip(&cs.val) {
                    d[i as usize] = v;
                }
                d
            })
            .collect();
        let q = pre.len();
        let n2 = (self.n as f64).powi(2);
        let v = nalgebra::DMatrix::from_fn(q, q, |a, b| {
            dense[a]
                .iter()
                .zip(&dense[b])
                .map(|(x, y)| x * y)
                .sum::<f64>()
                / n2
        });
        let att = nalgebra::DVector::from_iterator(q, pre.iter().map(|&k| self.rows[k].att));
        let chol = v.clone().cholesky();
        let ok = chol.as_ref().is_some_and(|c| {
            let d = c.l().diagonal();
            let lo = d.min();
            let hi = d.max();
            lo > 0.0 && (lo / hi).powi(2) > f64::EPSILON
        });
        if !ok {
            self.warnings.push(
                "pre-test of parallel trends not reported: singular covariance of the pre-treatment effects".into(),
            );
            return None;
        }
        let w = att.dot(&chol.expect("checked").solve(&att));
        let p = dist::chi2_sf(w, q as f64).ok()?;
        Some(PreTest {
            statistic: w,
            df: q,
            p_value: p,
        })
    }

    /// The group-time effects in the common result shape: one effect per cell labelled
    /// `"ATT(g,t)"` (pointwise interval and normal p-value), diagnostics with the pre-test
    /// (`pretest_chi2`, `pretest_df`, `pretest_p`), sample sizes, settings, the bootstrap
    /// `critical_value` and the uniform bands (`uniform_ci`: label → `[low, high]`).
    fn group_time_result(&self) -> EstimationResult {
        let mut r = EstimationResult::new("Callaway-Sant'Anna (2021) group-time ATT", "ATT(g,t)");
        let mut bands = serde_json::Map::new();
        for row in &self.rows {
            let label = format!("ATT({},{})", row.group, row.time);
            if let Some((lo, hi)) = row.uniform_ci {
                bands.insert(label.clone(), serde_json::json!([lo, hi]));
            }
            let key = EffectKey::kind(EffectKind::GroupTime)
                .group(row.group)
                .time(row.time)
                .event_time(row.time - row.group);
            r.effects
                .push(effect(label, row.att, row.se, row.ci).with_key(key));
        }
        self.add_diagnostics(&mut r);
        if !bands.is_empty() {
            r.diagnostics.insert("uniform_ci".into(), bands.into());
        }
        r
    }

    fn add_diagnostics(&self, r: &mut EstimationResult) {
        let o = &self.options;
        let d = &mut r.diagnostics;
        let mut put = |k: &str, v: serde_json::Value| {
            d.insert(k.into(), v);
        };
        put(if o.panel { "n_units" } else { "n_obs" }, self.n.into());
        put("n_clusters", self.n_clusters.into());
        put(
            "control_group",
            match o.control_group {
                ControlGroup::NeverTreated => "nevertreated",
                ControlGroup::NotYetTreated => "notyettreated",
            }
            .into(),
        );
        put(
            "base_period",
            match o.base_period {
                BasePeriod::Varying => "varying",
                BasePeriod::Universal => "universal",
            }
            .into(),
        );
        put("estimation_method", o.method.name().into());
        put("anticipation", o.anticipation.into());
        put("panel", o.panel.into());
        if self.unbalanced {
            put(
                "unbalanced_panel",
                "repeated cross-section estimators, influence functions clustered on the unit"
                    .into(),
            );
        }
        put("alpha", o.alpha.into());
        put(
            "se_type",
            if o.bootstrap.is_some() {
                "multiplier bootstrap"
            } else {
                "analytic (influence function)"
            }
            .into(),
        );
        if let Some(b) = &o.bootstrap {
            put("bootstrap_reps", b.reps.into());
            put("bootstrap_seed", b.seed.into());
            put("bootstrap_weights", format!("{:?}", b.weights).into());
        }
        if let Some(c) = self.critical_value {
            put("critical_value", c.into());
        }
        if let Some(p) = &self.pretest {
            put("pretest_chi2", p.statistic.into());
            put("pretest_df", p.df.into());
            put("pretest_p", p.p_value.into());
        }
        let sizes: serde_json::Map<String, serde_json::Value> = self
            .cohort_sizes
            .iter()
            .map(|(g, n)| (g.to_string(), (*n).into()))
            .collect();
        put("cohort_sizes", sizes.into());
        r.warnings = self.warnings.clone();
    }

    /// Aggregates the group-time effects (R `did::aggte`).
    ///
    /// With `P_k = mean_i(w_i 1{G_i = g_k})` the share of cohort `g_k` and `S` the cells
    /// entering an aggregate, the aggregate is `θ = Σ_{k∈S} P_k ATT_k / Σ_{k∈S} P_k` and its
    /// influence function is `Σ_k (P_k/ΣP) ψ_k + Σ_k ATT_k ∂(P_k/ΣP)` where the second term is
    /// R's `wif`, the estimation effect of the cohort shares:
    /// `wif_ik = (w_i 1{G_i=g_k} − P_k)/ΣP − (Σ_{l∈S}(w_i 1{G_i=g_l} − P_l)) P_k/(ΣP)²`.
    ///
    /// - [`Aggregation::Simple`]: `S` = all post-treatment cells (`t ≥ g`).
    /// - [`Aggregation::Group`]: per cohort the plain mean of its post cells; overall the
    ///   cohort-share weighted mean of those (with `wif`).
    /// - [`Aggregation::Dynamic`]: per event time `e = t − g` the share-weighted mean of the
    ///   cells with that `e`; overall the plain mean over `e ≥ 0`.
    /// - [`Aggregation::Calendar`]: per period `t ≥ min g` the share-weighted mean of the cells
    ///   treated by `t`; overall the plain mean over periods.
    ///
    /// With the bootstrap, every effect gets a bootstrap standard error and the effects (not
    /// the overall) a uniform band; draws use the fit's seed.
    pub fn aggregate(&self, kind: &Aggregation) -> Result<Aggregate, CsError> {
        self.aggregate_with_influence(kind).map(|(a, _)| a)
    }

    /// The overall effect of an aggregation ([`AttGt::aggregate`]) with its influence function
    /// summed within the sampling clusters (the units unless the fit was clustered):
    /// `S_c = Σ_{i∈c} ψ_i`, so that the analytic variance of the overall effect is
    /// `Σ_c S_c² / n²` ([`AggregateInfluence::n`]) and the covariance of two overall effects
    /// fitted on the same units (e.g. two outcomes of one panel) is `Σ_c S_c S'_c / n²`.
    /// Clusters are in an order fixed by the unit, period, cohort and cluster columns, so two
    /// fits on the same rows with different outcomes list them in the same order.
    pub fn aggregate_influence(
        &self,
        kind: &Aggregation,
    ) -> Result<(Aggregate, AggregateInfluence), CsError> {
        let (agg, inf) = self.aggregate_with_influence(kind)?;
        let sums = self.sampling().cluster_sums(&dense_to_sparse(&inf));
        let mut dense = vec![0.0; self.n_clusters];
        for (&c, &v) in sums.idx.iter().zip(&sums.val) {
            dense[c as usize] = v;
        }
        Ok((
            agg,
            AggregateInfluence {
                cluster_sums: dense,
                n: self.n,
            },
        ))
    }

    fn aggregate_with_influence(
        &self,
        kind: &Aggregation,
    ) -> Result<(Aggregate, Vec<f64>), CsError> {
        let n = self.n;
        let rows = &self.rows;
        let groups: Vec<i64> = self.cohort_sizes.iter().map(|(g, _)| *g).collect();
        let pg_of = |g: i64| -> f64 {
            self.obs_cohort
                .iter()
                .zip(&self.obs_weight)
                .filter(|(c, _)| **c == g)
                .map(|(_, w)| w)
                .sum::<f64>()
                / n as f64
        };
        let pg: HashMap<i64, f64> = groups.iter().map(|&g| (g, pg_of(g))).collect();
        let row_pg: Vec<f64> = rows.iter().map(|r| pg[&r.group]).collect();
        // Weighted aggregate over cells `keep` with share weights, including wif.
        let weighted = |keep: &[usize]| -> (f64, Vec<f64>) {
            let p: f64 = keep.iter().map(|&k| row_pg[k]).sum();
            let est = keep.iter().map(|&k| row_pg[k] * rows[k].att).sum::<f64>() / p;
            let mut inf = vec![0.0; n];
            for &k in keep {
                let wk = row_pg[k] / p;
                let f = &self.ifs[k];
                for (&i, &v) in f.idx.iter().zip(&f.val) {
                    inf[i as usize] += wk * v;
                }
            }
            // wif · att, per unit through its cohort.
            let mut a_c: HashMap<i64, (f64, f64)> = HashMap::new();
            for &k in keep {
                let e = a_c.entry(rows[k].group).or_insert((0.0, 0.0));
                e.0 += rows[k].att;
                e.1 += 1.0;
            }
            let spa: f64 = keep.iter().map(|&k| row_pg[k] * rows[k].att).sum();
            for (i, v) in inf.iter_mut().enumerate() {
                let (ac, nc) = a_c.get(&self.obs_cohort[i]).copied().unwrap_or((0.0, 0.0));
                let w = self.obs_weight[i];
                *v += (w * ac - spa) / p - (w * nc - p) * spa / (p * p);
            }
            (est, inf)
        };
        let mean_of = |keep: &[usize]| -> (f64, Vec<f64>) {
            let m = keep.len() as f64;
            let est = keep.iter().map(|&k| rows[k].att).sum::<f64>() / m;
            let mut inf = vec![0.0; n];
            for &k in keep {
                let f = &self.ifs[k];
                for (&i, &v) in f.idx.iter().zip(&f.val) {
                    inf[i as usize] += v / m;
                }
            }
            (est, inf)
        };
        let post = |k: usize, max_e: i64| {
            rows[k].group <= rows[k].time && rows[k].time - rows[k].group <= max_e
        };
        let mut effects: Vec<(Option<i64>, String, f64, Vec<f64>)> = Vec::new();
        let no_post = || CsError::NothingToEstimate("no post-treatment group-time effect".into());
        let overall: (f64, Vec<f64>) = match kind {
            Aggregation::Simple => {
                let keep: Vec<usize> = (0..rows.len()).filter(|&k| post(k, i64::MAX)).collect();
                if keep.is_empty() {
                    return Err(no_post());
                }
                weighted(&keep)
            }
            Aggregation::Group => {
                let mut gs = Vec::new();
                for &g in &groups {
                    let keep: Vec<usize> = (0..rows.len())
                        .filter(|&k| rows[k].group == g && post(k, i64::MAX))
                        .collect();
                    if keep.is_empty() {
                        continue;
                    }
                    let (e, f) = mean_of(&keep);
                    gs.push(g);
                    effects.push((Some(g), format!("g={g}"), e, f));
                }
                if gs.is_empty() {
                    return Err(no_post());
                }
                // Overall: share-weighted mean of the group effects, with wif over groups.
                let p: f64 = gs.iter().map(|g| pg[g]).sum();
                let est = gs
                    .iter()
                    .zip(&effects)
                    .map(|(g, e)| pg[g] * e.2)
                    .sum::<f64>()
                    / p;
                let mut inf = vec![0.0; n];
                for (g, e) in gs.iter().zip(&effects) {
                    let wk = pg[g] / p;
                    for (v, x) in inf.iter_mut().zip(&e.3) {
                        *v += wk * x;
                    }
                }
                let att_g: HashMap<i64, f64> =
                    gs.iter().zip(&effects).map(|(g, e)| (*g, e.2)).collect();
                let spa: f64 = gs.iter().map(|g| pg[g] * att_g[g]).sum();
                for (i, v) in inf.iter_mut().enumerate() {
                    let c = self.obs_cohort[i];
                    let (ac, nc) = att_g.get(&c).map_or((0.0, 0.0), |a| (*a, 1.0));
                    let w = self.obs_weight[i];
                    *v += (w * ac - spa) / p - (w * nc - p) * spa / (p * p);
                }
                (est, inf)
            }
            Aggregation::Dynamic {
                min_e,
                max_e,
                balance_e,
            } => {
                let tmax = *self.periods.last().expect("periods");
                let tmin = self.periods[0];
                let include: Vec<bool> = rows
                    .iter()
                    .map(|r| balance_e.is_none_or(|b| tmax - r.group >= b))
                    .collect();
                let mut es: Vec<i64> = rows
                    .iter()
                    .zip(&include)
                    .filter(|(_, &inc)| inc)
                    .map(|(r, _)| r.time - r.group)
                    .collect();
                es.sort_unstable();
                es.dedup();
                if let Some(b) = balance_e {
                    es.retain(|&e| e <= *b && e >= b - tmax + tmin);
                }
                es.retain(|&e| e >= min_e.unwrap_or(i64::MIN) && e <= max_e.unwrap_or(i64::MAX));
                for &e in &es {
                    let keep: Vec<usize> = (0..rows.len())
                        .filter(|&k| include[k] && rows[k].time - rows[k].group == e)
                        .collect();
                    let (est, f) = weighted(&keep);
                    effects.push((Some(e), format!("e={e}"), est, f));
                }
                let pos: Vec<usize> = (0..effects.len())
                    .filter(|&j| effects[j].0.is_some_and(|e| e >= 0))
                    .collect();
                if pos.is_empty() {
                    return Err(no_post());
                }
                let m = pos.len() as f64;
                let est = pos.iter().map(|&j| effects[j].2).sum::<f64>() / m;
                let mut inf = vec![0.0; n];
                for &j in &pos {
                    for (v, x) in inf.iter_mut().zip(&effects[j].3) {
                        *v += x / m;
                    }
                }
                (est, inf)
            }
            Aggregation::Calendar => {
                let gmin = groups.iter().copied().min().expect("groups");
                for &t in self.periods.iter().filter(|&&t| t >= gmin) {
                    let keep: Vec<usize> = (0..rows.len())
                        .filter(|&k| rows[k].time == t && rows[k].group <= t)
                        .collect();
                    if keep.is_empty() {
                        continue;
                    }
                    let (est, f) = weighted(&keep);
                    effects.push((Some(t), format!("t={t}"), est, f));
                }
                if effects.is_empty() {
                    return Err(no_post());
                }
                let idx: Vec<usize> = (0..effects.len()).collect();
                let m = idx.len() as f64;
                let est = effects.iter().map(|e| e.2).sum::<f64>() / m;
                let mut inf = vec![0.0; n];
                for e in &effects {
                    for (v, x) in inf.iter_mut().zip(&e.3) {
                        *v += x / m;
                    }
                }
                (est, inf)
            }
        };
        // Inference.
        let s = self.sampling();
        let mut cols: Vec<SparseIf> = effects.iter().map(|e| dense_to_sparse(&e.3)).collect();
        cols.push(dense_to_sparse(&overall.1));
        let tiny = f64::EPSILON.sqrt() * 1e-2;
        let (se, crit) = match &self.options.bootstrap {
            Some(b) => {
                let refs: Vec<&SparseIf> = cols.iter().collect();
                let out = multiplier_bootstrap(&s, &refs, effects.len(), b, self.options.alpha);
                (out.se, out.crit)
            }
            None => (
                cols.iter()
                    .map(|f| {
                        let v = s.se(f);
                        (v > tiny).then_some(v)
                    })
                    .collect(),
                None,
            ),
        };
        let z = self.z();
        let mk = |key: Option<i64>, label: String, est: f64, se: Option<f64>, band: bool| {
            AggregatedEffect {
                key,
                label,
                estimate: est,
                se,
                ci: se.map(|s| (est - z * s, est + z * s)),
                uniform_ci: match (se, crit, band) {
                    (Some(s), Some(c), true) => Some((est - c * s, est + c * s)),
                    _ => None,
                },
            }
        };
        let out_effects: Vec<AggregatedEffect> = effects
            .into_iter()
            .zip(&se)
            .map(|(e, s)| mk(e.0, e.1, e.2, *s, true))
            .collect();
        Ok((
            Aggregate {
                kind: kind.clone(),
                overall: mk(None, "overall".into(), overall.0, se[se.len() - 1], false),
                effects: out_effects,
                critical_value: crit,
            },
            overall.1,
        ))
    }
}

/// The influence function of an aggregation's overall effect, summed within sampling
/// clusters ([`AttGt::aggregate_influence`]).
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateInfluence {
    /// `S_c = Σ_{i∈c} ψ_i` per cluster (per unit when not clustered).
    pub cluster_sums: Vec<f64>,
    /// The number of units `n` in the variance `Σ_c S_c² / n²`.
    pub n: usize,
}

fn effect(label: String, est: f64, se: Option<f64>, ci: Option<(f64, f64)>) -> Effect {
    Effect {
        key: Default::default(),
        label,
        estimate: est,
        std_error: se,
        ci_low: ci.map(|c| c.0),
        ci_high: ci.map(|c| c.1),
        p_value: se.map(|s| 2.0 * dist::normal_sf((est / s).abs())),
    }
}

/// The aggregation schemes of R's `aggte`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Aggregation {
    /// Share-weighted average of all post-treatment `ATT(g,t)` (R `"simple"`).
    Simple,
    /// Event study by `e = t − g` (R `"dynamic"`), optionally restricted to
    /// `min_e ≤ e ≤ max_e` and, with `balance_e = Some(b)`, to cohorts observed for at least
    /// `b` periods after treatment (so the composition does not change with `e`).
    Dynamic {
        /// Smallest event time kept.
        min_e: Option<i64>,
        /// Largest event time kept.
        max_e: Option<i64>,
        /// Balance the cohorts on event times `0..=b`.
        balance_e: Option<i64>,
    },
    /// By cohort (R `"group"`).
    Group,
    /// By calendar period (R `"calendar"`).
    Calendar,
}

impl Aggregation {
    fn name(&self) -> &'static str {
        match self {
            Aggregation::Simple => "simple",
            Aggregation::Dynamic { .. } => "dynamic",
            Aggregation::Group => "group",
            Aggregation::Calendar => "calendar",
        }
    }
}

/// One aggregated effect.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AggregatedEffect {
    /// Event time, cohort or period (`None` for the overall summary).
    pub key: Option<i64>,
    /// `"e=-1"`, `"g=2004"`, `"t=2006"` or `"overall"`.
    pub label: String,
    /// Estimate.
    pub estimate: f64,
    /// Standard error (analytic, or bootstrap when the fit used the bootstrap).
    pub se: Option<f64>,
    /// Pointwise interval.
    pub ci: Option<(f64, f64)>,
    /// Uniform band over the effects (bootstrap only; never for the overall).
    pub uniform_ci: Option<(f64, f64)>,
}

/// An aggregation of group-time effects ([`AttGt::aggregate`]).
#[derive(Debug, Clone)]
pub struct Aggregate {
    /// The scheme.
    pub kind: Aggregation,
    /// The overall summary.
    pub overall: AggregatedEffect,
    /// The effects by event time, cohort or period (empty for `Simple`).
    pub effects: Vec<AggregatedEffect>,
    /// Bootstrap critical value of the uniform band.
    pub critical_value: Option<f64>,
}

impl Aggregate {
    /// The aggregation with the fit it came from, ready to report
    /// ([`causalkit_stats::Report`]): the fit's diagnostics (pre-test, sample sizes,
    /// settings) are part of the aggregation's result.
    pub fn report<'a>(&'a self, fit: &'a AttGt) -> AggregateReport<'a> {
        AggregateReport {
            aggregate: self,
            fit,
        }
    }

    /// In the common result shape: the effects (`"e=…"`, `"g=…"`, `"t=…"`) followed by
    /// `"overall"`, with the fit's diagnostics (pre-test, sample sizes, settings). Typed
    /// keys: kind `EventTime`/`Group`/`Calendar` with `event_time`/`group`/`time`, and `Att`
    /// for the overall summary.
    fn result_with(&self, fit: &AttGt) -> EstimationResult {
        let mut r = EstimationResult::new(
            format!(
                "Callaway-Sant'Anna (2021), {} aggregation",
                self.kind.name()
            ),
            "ATT",
        );
        let mut bands = serde_json::Map::new();
        for e in self.effects.iter().chain(std::iter::once(&self.overall)) {
            if let Some((lo, hi)) = e.uniform_ci {
                bands.insert(e.label.clone(), serde_json::json!([lo, hi]));
            }
            let key = match (&self.kind, e.key) {
                (_, None) => EffectKey::kind(EffectKind::Att),
                (Aggregation::Dynamic { .. }, Some(k)) => {
                    EffectKey::kind(EffectKind::EventTime).event_time(k)
                }
                (Aggregation::Group, Some(k)) => EffectKey::kind(EffectKind::Group).group(k),
                (Aggregation::Calendar, Some(k)) => EffectKey::kind(EffectKind::Calendar).time(k),
                (Aggregation::Simple, Some(_)) => EffectKey::kind(EffectKind::Other),
            };
            r.effects
                .push(effect(e.label.clone(), e.estimate, e.se, e.ci).with_key(key));
        }
        fit.add_diagnostics(&mut r);
        if !bands.is_empty() {
            r.diagnostics.insert("uniform_ci".into(), bands.into());
        }
        r.diagnostics
            .insert("aggregation".into(), self.kind.name().into());
        if let Some(c) = self.critical_value {
            r.diagnostics.insert("critical_value".into(), c.into());
        } else {
            r.diagnostics.remove("critical_value");
        }
        r
    }
}

/// An [`Aggregate`] together with the [`AttGt`] fit it aggregates ([`Aggregate::report`]),
/// so that it can be reported on its own.
#[derive(Debug, Clone, Copy)]
pub struct AggregateReport<'a> {
    /// The aggregation.
    pub aggregate: &'a Aggregate,
    /// The group-time fit it came from.
    pub fit: &'a AttGt,
}

impl Report for AggregateReport<'_> {
    fn result(&self) -> EstimationResult {
        self.aggregate.result_with(self.fit)
    }
}

/// The group-time effects in the common result shape: one effect per cell labelled
/// `"ATT(g,t)"` (typed key: kind `GroupTime`, `group`, `time`, `event_time`), pointwise
/// interval and normal p-value; diagnostics with the pre-test (`pretest_chi2`, `pretest_df`,
/// `pretest_p`), sample sizes, settings, the bootstrap `critical_value` and the uniform bands
/// (`uniform_ci`: label → `[low, high]`); the fit's warnings.
impl Report for AttGt {
    fn result(&self) -> EstimationResult {
        self.group_time_result()
    }
}

fn parse_err(what: &str, got: &str, expected: &str) -> CsError {
    CsError::Option {
        name: what.into(),
        reason: format!("unknown value `{got}`; expected one of {expected}"),
    }
}

impl std::str::FromStr for ControlGroup {
    type Err = CsError;
    /// `never` / `nevertreated`, `notyet` / `notyettreated` (case-insensitive, `-`/`_` ignored).
    fn from_str(s: &str) -> Result<Self, CsError> {
        match s.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "never" | "nevertreated" => Ok(ControlGroup::NeverTreated),
            "notyet" | "notyettreated" => Ok(ControlGroup::NotYetTreated),
            _ => Err(parse_err("control group", s, "never, notyet")),
        }
    }
}

impl std::str::FromStr for CsMethod {
    type Err = CsError;
    /// `reg` / `or`, `ipw`, `dr` (case-insensitive).
    fn from_str(s: &str) -> Result<Self, CsError> {
        match s.to_ascii_lowercase().as_str() {
            "reg" | "or" | "regression" => Ok(CsMethod::Regression),
            "ipw" => Ok(CsMethod::Ipw),
            "dr" | "drdid" => Ok(CsMethod::DoublyRobust),
            _ => Err(parse_err("estimation method", s, "reg, ipw, dr")),
        }
    }
}

impl std::str::FromStr for BasePeriod {
    type Err = CsError;
    /// `varying` or `universal` (case-insensitive).
    fn from_str(s: &str) -> Result<Self, CsError> {
        match s.to_ascii_lowercase().as_str() {
            "varying" => Ok(BasePeriod::Varying),
            "universal" => Ok(BasePeriod::Universal),
            _ => Err(parse_err("base period", s, "varying, universal")),
        }
    }
}

impl std::str::FromStr for Aggregation {
    type Err = CsError;
    /// `simple`, `dynamic` / `event`, `group`, `calendar` (case-insensitive); `dynamic` has no
    /// event-time limits.
    fn from_str(s: &str) -> Result<Self, CsError> {
        match s.to_ascii_lowercase().as_str() {
            "simple" => Ok(Aggregation::Simple),
            "dynamic" | "event" | "eventstudy" => Ok(Aggregation::Dynamic {
                min_e: None,
                max_e: None,
                balance_e: None,
            }),
            "group" => Ok(Aggregation::Group),
            "calendar" => Ok(Aggregation::Calendar),
            _ => Err(parse_err(
                "aggregation",
                s,
                "simple, dynamic, group, calendar",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_options() {
        assert_eq!(
            "notyet".parse::<ControlGroup>().unwrap(),
            ControlGroup::NotYetTreated
        );
        assert_eq!(
            "never_treated".parse::<ControlGroup>().unwrap(),
            ControlGroup::NeverTreated
        );
        assert_eq!("DR".parse::<CsMethod>().unwrap(), CsMethod::DoublyRobust);
        assert_eq!(
            "universal".parse::<BasePeriod>().unwrap(),
            BasePeriod::Universal
        );
        assert_eq!(
            "calendar".parse::<Aggregation>().unwrap(),
            Aggregation::Calendar
        );
        let e = "sometimes".parse::<ControlGroup>().unwrap_err().to_string();
        assert!(e.contains("sometimes") && e.contains("notyet"), "{e}");
    }
}

//! Abadie–Diamond–Hainmueller synthetic control with nested V, placebo and conformal inference.
//!
//! # Method
//!
//! Abadie & Gardeazabal (2003, AER) and Abadie, Diamond & Hainmueller (2010, JASA, "Synthetic
//! control methods for comparative case studies"). One treated unit `1`, donors `0`, a
//! treatment date `t0` (periods `0..t0` are pre-treatment). From a predictor specification
//! ([`Predictor`]) we build `X1` (`k`) and `X0` (`k x J`). As in the R package `Synth` (and
//! `pysyncon`) every predictor row is divided by its standard deviation (denominator `n - 1`)
//! across the treated unit and the donors, so that `V` is comparable across predictors.
//!
//! **Inner problem (W given V)** — for a diagonal `V >= 0` with `sum V = 1`,
//!
//! ```text
//! W*(V) = argmin_w (X1 - X0 w)' V (X1 - X0 w)   s.t. w >= 0, 1'w = 1,
//! ```
//!
//! solved exactly by Wolfe's (1976) minimum-norm-point active-set algorithm (module
//! [`qp`]); the KKT conditions are verified after every solve and reported ([`Kkt`]).
//!
//! **Outer problem (nested V)** — `V` minimises the pre-period outcome MSPE of the synthetic
//! unit,
//!
//! ```text
//! L(V) = (1/t0) sum_{t < t0} (Y1t - Y0t' W*(V))^2,
//! ```
//!
//! over the simplex, parameterised by a softmax `v_i = exp(a_i) / sum exp(a)` with `a_k = 0`
//! fixed, by Nelder–Mead (argmin) from several starts: equal weights and the regression-based
//! start of `Synth` (`V = diag(B B')`, `B` the coefficients of the regression of every
//! pre-period outcome on an intercept and the scaled predictors across all units), each run
//! restarted once from its optimum. The best loss wins; all starts are reported.
//!
//! **Identification check** — at the chosen `V*` each `v_i` is multiplied by 10 and by 1/10
//! (then renormalised) and `W` recomputed. A predictor whose weight can be changed this way
//! without moving `W` by more than `1e-8` (max abs) is "flat"; if every predictor is flat the
//! fit warns that `V` is not identified (many `V` give the same `W`). It also warns when two
//! starts reach a loss within `1e-6` (relative) with `V`s that differ by more than `0.1`
//! (max abs), and when `W` is a vertex (one donor has all the weight).
//!
//! **Exact match check** — when the predictor loss is zero (below `1e-12` of the largest
//! squared distance) with more than `k + 1` donors, the treated unit lies inside the donors'
//! hull: `W` is then generally not unique and the fit warns.
//!
//! **Convex hull check** — when the treated unit's value of a predictor is above the maximum
//! or below the minimum of the donors' values, no convex combination can reproduce it; the fit
//! warns, naming the predictors, and the poor fit shows in the balance table and pre-RMSPE.
//!
//! # Example
//!
//! ```
//! use causalkit_stats::Report;
//! use causalkit_synth::abadie::{Predictor, Predictors, SyntheticControl, VChoice};
//! use nalgebra::DMatrix;
//! // 4 units x 6 periods; unit 0 is treated from period 4 on and is the mean of units 1 and 2
//! // before treatment.
//! let y = DMatrix::from_row_slice(4, 6, &[
//!     2.0, 3.0, 4.0, 5.0, 9.0, 10.0,
//!     1.0, 2.0, 3.0, 4.0, 5.0, 6.0,
//!     3.0, 4.0, 5.0, 6.0, 7.0, 8.0,
//!     9.0, 7.0, 8.0, 9.0, 9.0, 9.0,
//! ]);
//! let fit = SyntheticControl::new(&y, 0, 4)
//!     .predictors(Predictors::Spec(vec![
//!         Predictor::Outcome { period: 1 },
//!         Predictor::OutcomeMean { from: 0, to: 3 },
//!         Predictor::Outcome { period: 3 },
//!     ]))
//!     .v(VChoice::nested())
//!     .fit()
//!     .unwrap();
//! assert!((fit.weights[0] - 0.5).abs() < 1e-8 && (fit.weights[1] - 0.5).abs() < 1e-8);
//! assert!((fit.att - 3.0).abs() < 1e-8); // gaps 9-6 and 10-7
//! let result = fit.result();
//! assert_eq!(result.effects.last().unwrap().label, "ATT (mean post-period gap)");
//! ```

mod inference;
pub mod qp;

pub(crate) use inference::conformal_sets;
pub use inference::{
    ConformalIntervals, ConformalOptions, LeaveOneOut, PlaceboInSpace, PlaceboOptions,
};
pub use qp::Kkt;

use crate::fit_report::{
    add_inference_diagnostics, push_gap_effects, single_unit_fit_members, Gaps,
};
use crate::units::LayoutError;
use argmin::core::{CostFunction, Error as ArgminError, Executor, State};
use argmin::solver::neldermead::NelderMead;
use causalkit_stats::{EstimationResult, StatsError};
use nalgebra::DMatrix;
use serde_json::{json, Map, Value};
use thiserror::Error;

/// Errors of the Abadie synthetic control. Each names the unit, period or predictor at fault.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ScError {
    /// The treated unit is listed among the donors.
    #[error("the treated unit `{unit}` is also listed among the donors")]
    TreatedAmongDonors {
        /// The unit.
        unit: String,
    },
    /// Fewer than two donors: a synthetic control needs a choice among donors.
    #[error("synthetic control needs at least 2 donors, got {got}")]
    TooFewDonors {
        /// Number of donors.
        got: usize,
    },
    /// A missing (NaN or infinite) value in the data that the fit uses.
    #[error(
        "missing or non-finite value {value} in {what} for unit `{unit}` at period `{period}`"
    )]
    Missing {
        /// `"outcome"` or `"covariate <name>"`.
        what: String,
        /// The unit.
        unit: String,
        /// The period.
        period: String,
        /// The value found.
        value: f64,
    },
    /// A predictor has (numerically) zero standard deviation across the units, so it cannot
    /// be standardised and carries no information.
    #[error(
        "predictor `{predictor}` is constant across the treated unit and the donors (sd = {sd})"
    )]
    ConstantPredictor {
        /// The predictor.
        predictor: String,
        /// Its standard deviation.
        sd: f64,
    },
    /// Not enough pre-treatment periods.
    #[error("not enough pre-treatment periods: {got}, need at least {needed} ({why})")]
    TooFewPrePeriods {
        /// Pre-periods available.
        got: usize,
        /// Pre-periods needed.
        needed: usize,
        /// Why.
        why: String,
    },
    /// A predictor refers to a period outside the pre-treatment window (or outside the data).
    #[error("predictor `{predictor}` uses period index {period}, outside the pre-treatment periods 0..{t0}")]
    PredictorOutsidePre {
        /// The predictor.
        predictor: String,
        /// The period index.
        period: usize,
        /// The treatment date.
        t0: usize,
    },
    /// A covariate named in a predictor was not supplied.
    #[error("unknown covariate `{0}`")]
    UnknownCovariate(String),
    /// An argument is invalid.
    #[error("invalid argument `{name}`: {reason}")]
    InvalidArgument {
        /// The argument.
        name: String,
        /// Why.
        reason: String,
    },
    /// The inner QP did not reach its KKT conditions (should not happen; reported, not hidden).
    #[error("the weight QP did not converge: KKT violation {violation:e}")]
    Solver {
        /// Largest relative KKT residual.
        violation: f64,
    },
    /// An error of the numeric core.
    #[error(transparent)]
    Stats(#[from] StatsError),
}

/// Result alias of this module.
pub type Result<T> = std::result::Result<T, ScError>;

impl ScError {
    /// Whether this is a numerical failure (the weight QP missing its KKT conditions, a solver
    /// that did not converge) rather than a problem with the input; the CLI exits 1 for these
    /// and 2 for bad input.
    pub fn is_numerical(&self) -> bool {
        match self {
            ScError::Solver { .. } => true,
            ScError::Stats(e) => e.is_numerical(),
            _ => false,
        }
    }
}

fn invalid(name: &str, reason: impl Into<String>) -> ScError {
    ScError::InvalidArgument {
        name: name.to_string(),
        reason: reason.into(),
    }
}

/// One predictor of the synthetic control. Periods are zero-based column indices of the
/// outcome matrix; windows are inclusive (`from..=to`) and must lie in the pre-period.
#[derive(Debug, Clone, PartialEq)]
pub enum Predictor {
    /// The outcome in one period.
    Outcome {
        /// Period index.
        period: usize,
    },
    /// The mean outcome over `from..=to` (e.g. "outcome mean 1980-1988").
    OutcomeMean {
        /// First period index.
        from: usize,
        /// Last period index (inclusive).
        to: usize,
    },
    /// A covariate (supplied with [`SyntheticControl::covariate`]) averaged over `from..=to`.
    /// Missing values inside the window are skipped (as `Synth`'s `na.rm = TRUE`); a window
    /// with no finite value is an error.
    Covariate {
        /// The covariate's name.
        name: String,
        /// First period index.
        from: usize,
        /// Last period index (inclusive).
        to: usize,
    },
}

/// The predictor set.
#[derive(Debug, Clone, PartialEq)]
pub enum Predictors {
    /// Every pre-period outcome is a predictor (the "custom" all-outcomes specification; `V`
    /// then matters little).
    AllPreOutcomes,
    /// An explicit list.
    Spec(Vec<Predictor>),
}

/// A starting point of the nested V search.
#[derive(Debug, Clone, PartialEq)]
pub enum VStart {
    /// Equal weights `1/k`.
    Equal,
    /// `Synth`'s regression-based start (skipped, with a note, if the regression is singular).
    Regression,
    /// A user-given positive vector (normalised).
    Custom(Vec<f64>),
}

/// How `V` is chosen.
#[derive(Debug, Clone, PartialEq)]
pub enum VChoice {
    /// Nested optimisation of the pre-period outcome MSPE from the given starts.
    Nested {
        /// Starting points.
        starts: Vec<VStart>,
    },
    /// A user-given diagonal (non-negative, normalised to sum 1).
    Given(Vec<f64>),
    /// Equal weights.
    Equal,
}

impl VChoice {
    /// Nested V from the default starts (equal weights and the regression start).
    pub fn nested() -> Self {
        VChoice::Nested {
            starts: vec![VStart::Equal, VStart::Regression],
        }
    }
}

/// Settings of the Nelder–Mead V search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NestedOptions {
    /// Maximum Nelder–Mead iterations per run (each start runs twice: once and once restarted).
    pub max_iters: u64,
    /// Tolerance on the standard deviation of the simplex's losses, relative to `1 + L(start)`.
    pub sd_tolerance: f64,
}

impl Default for NestedOptions {
    fn default() -> Self {
        NestedOptions {
            max_iters: 2000,
            sd_tolerance: 1e-12,
        }
    }
}

/// Builder of an Abadie synthetic control fit. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct SyntheticControl {
    outcomes: DMatrix<f64>,
    covariates: Vec<(String, DMatrix<f64>)>,
    treated: usize,
    t0: usize,
    donors: Option<Vec<usize>>,
    predictors: Predictors,
    v: VChoice,
    unit_names: Option<Vec<String>>,
    period_labels: Option<Vec<String>>,
    options: NestedOptions,
}

/// One row of the predictor balance table.
#[derive(Debug, Clone, PartialEq)]
pub struct BalanceRow {
    /// Predictor name.
    pub predictor: String,
    /// Treated unit's value (unscaled).
    pub treated: f64,
    /// Synthetic unit's value `X0 W` (unscaled).
    pub synthetic: f64,
    /// Unweighted mean over the donors.
    pub donor_mean: f64,
}

/// One run of the nested V search.
#[derive(Debug, Clone, PartialEq)]
pub struct VStartReport {
    /// Which start (`"equal"`, `"regression"`, `"custom"`).
    pub start: String,
    /// The V reached.
    pub v: Vec<f64>,
    /// The pre-period outcome MSPE reached.
    pub loss: f64,
    /// Nelder–Mead iterations (both runs).
    pub iterations: u64,
}

/// A fitted Abadie synthetic control.
#[derive(Debug, Clone)]
pub struct ScFit {
    /// Treated unit index.
    pub treated: usize,
    /// Treated unit name.
    pub treated_name: String,
    /// Donor unit indices.
    pub donors: Vec<usize>,
    /// Donor names.
    pub donor_names: Vec<String>,
    /// Donor weights `W` (aligned with `donors`), on the simplex.
    pub weights: Vec<f64>,
    /// Predictor names.
    pub predictor_names: Vec<String>,
    /// Predictor weights `V` (diagonal, sum 1), for the standardised predictors.
    pub v: Vec<f64>,
    /// Pre-period outcome MSPE of the synthetic unit (the outer loss `L(V)`).
    pub loss: f64,
    /// Predictor loss `(X1 - X0 W)' V (X1 - X0 W)` on the standardised predictors.
    pub loss_w: f64,
    /// Predictor balance table.
    pub balance: Vec<BalanceRow>,
    /// Period labels.
    pub period_labels: Vec<String>,
    /// Treatment date (first post period index).
    pub t0: usize,
    /// Treated unit's outcome in every period.
    pub treated_outcome: Vec<f64>,
    /// Synthetic unit's outcome `Y0' W` in every period.
    pub synthetic: Vec<f64>,
    /// Per-period gaps `Y1t - Y0t' W` (all periods).
    pub gaps: Vec<f64>,
    /// Pre-treatment RMSPE `sqrt(mean_{t < t0} gap_t^2)`.
    pub rmspe_pre: f64,
    /// Post-treatment RMSPE `sqrt(mean_{t >= t0} gap_t^2)`.
    pub rmspe_post: f64,
    /// Average post-period gap (the ATT on the treated unit).
    pub att: f64,
    /// KKT residuals of the weight QP at the reported V.
    pub kkt: Kkt,
    /// Runs of the nested V search (empty for a given V).
    pub v_search: Vec<VStartReport>,
    /// Predictors along which the loss is locally flat (see the identification check).
    pub flat_predictors: Vec<String>,
    /// Warnings.
    pub warnings: Vec<String>,
    spec: SyntheticControl,
}

/// The standardised problem: predictors and outcomes of the treated unit and the donors.
#[derive(Debug, Clone)]
struct Prepared {
    k: usize,
    /// Unscaled predictors, row-major k x (1 + J): column 0 treated.
    x_raw: DMatrix<f64>,
    /// Scaled predictors (rows divided by sd), same layout.
    x: DMatrix<f64>,
    /// Pre-period outcomes, t0 x (1 + J).
    z: DMatrix<f64>,
    /// `X0_j - X1` on the scaled predictors, column-major k x J.
    diff: Vec<f64>,
    names: Vec<String>,
}

impl Prepared {
    fn n_donors(&self) -> usize {
        self.x.ncols() - 1
    }

    /// Points `P_j = sqrt(v) (X0_j - X1)`, column-major.
    fn points(&self, v: &[f64]) -> Vec<f64> {
        let sv: Vec<f64> = v.iter().map(|x| x.sqrt()).collect();
        self.diff
            .chunks_exact(self.k)
            .flat_map(|col| col.iter().zip(&sv).map(|(d, s)| d * s))
            .collect()
    }

    fn solve_w(&self, v: &[f64]) -> Result<qp::SimplexLs> {
        self.solve_w_warm(v, None)
    }

    fn solve_w_warm(&self, v: &[f64], warm: Option<&[usize]>) -> Result<qp::SimplexLs> {
        let p = self.points(v);
        let r =
            qp::min_norm_point_warm(&p, self.k, self.n_donors(), warm).ok_or(ScError::Solver {
                violation: f64::NAN,
            })?;
        if r.kkt.max_violation() > KKT_TOL {
            return Err(ScError::Solver {
                violation: r.kkt.max_violation(),
            });
        }
        Ok(r)
    }

    fn outcome_loss(&self, w: &[f64]) -> f64 {
        let t0 = self.z.nrows();
        let mut s = 0.0;
        for t in 0..t0 {
            let synth: f64 = w
                .iter()
                .enumerate()
                .map(|(d, wd)| wd * self.z[(t, d + 1)])
                .sum();
            let g = self.z[(t, 0)] - synth;
            s += g * g;
        }
        s / t0 as f64
    }
}

/// Relative KKT tolerance accepted for a weight solve.
pub const KKT_TOL: f64 = 1e-9;

fn softmax(a: &[f64]) -> Vec<f64> {
    // a has k-1 free entries, the last logit is 0.
    let mut e: Vec<f64> = a.iter().map(|x| x.clamp(-60.0, 60.0)).collect();
    e.push(0.0);
    let m = e.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let ex: Vec<f64> = e.iter().map(|x| (x - m).exp()).collect();
    let s: f64 = ex.iter().sum();
    ex.iter().map(|x| x / s).collect()
}

fn logits(v: &[f64]) -> Vec<f64> {
    let k = v.len();
    let floor = 1e-12;
    let last = v[k - 1].max(floor).ln();
    v[..k - 1]
        .iter()
        .map(|x| x.max(floor).ln() - last)
        .collect()
}

struct VCost<'a> {
    prep: &'a Prepared,
    /// Support of the last solution: warm start of the next inner solve.
    warm: std::cell::RefCell<Vec<usize>>,
}

impl CostFunction for VCost<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, a: &Self::Param) -> std::result::Result<f64, ArgminError> {
        let v = softmax(a);
        let warm = self.warm.borrow().clone();
        let w = if warm.is_empty() {
            None
        } else {
            Some(warm.as_slice())
        };
        match self.prep.solve_w_warm(&v, w) {
            Ok(r) => {
                *self.warm.borrow_mut() = (0..r.weights.len())
                    .filter(|&j| r.weights[j] > 0.0)
                    .collect();
                Ok(self.prep.outcome_loss(&r.weights))
            }
            Err(_) => Ok(f64::INFINITY),
        }
    }
}

fn nelder_mead(
    prep: &Prepared,
    start: &[f64],
    options: &NestedOptions,
    scale: f64,
) -> Result<(Vec<f64>, f64, u64)> {
    let d = start.len();
    let mut simplex = vec![start.to_vec()];
    for i in 0..d {
        let mut p = start.to_vec();
        p[i] += 1.0;
        simplex.push(p);
    }
    let solver = NelderMead::new(simplex)
        .with_sd_tolerance(options.sd_tolerance * scale)
        .map_err(|e| invalid("sd_tolerance", e.to_string()))?;
    let cost = VCost {
        prep,
        warm: std::cell::RefCell::new(Vec::new()),
    };
    let res = Executor::new(cost, solver)
        .configure(|s| s.max_iters(options.max_iters))
        .run()
        .map_err(|e| invalid("nelder-mead", e.to_string()))?;
    let state = res.state();
    let best = state
        .get_best_param()
        .cloned()
        .unwrap_or_else(|| start.to_vec());
    Ok((best, state.get_best_cost(), state.get_iter()))
}

impl SyntheticControl {
    /// A synthetic control for `treated` (row of `outcomes`, units x periods) treated from
    /// period index `t0` on. Defaults: all other units are donors, all pre-period outcomes are
    /// the predictors, nested V from the equal and regression starts.
    pub fn new(outcomes: &DMatrix<f64>, treated: usize, t0: usize) -> Self {
        SyntheticControl {
            outcomes: outcomes.clone(),
            covariates: Vec::new(),
            treated,
            t0,
            donors: None,
            predictors: Predictors::AllPreOutcomes,
            v: VChoice::nested(),
            unit_names: None,
            period_labels: None,
            options: NestedOptions::default(),
        }
    }

    /// Same as [`SyntheticControl::new`] from rows (one `Vec` per unit).
    pub fn from_rows(rows: &[Vec<f64>], treated: usize, t0: usize) -> Result<Self> {
        let n = rows.len();
        let t = rows.first().map_or(0, |r| r.len());
        if let Some((i, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != t) {
            return Err(invalid(
                "outcomes",
                format!("row {i} has {} periods, row 0 has {t}", r.len()),
            ));
        }
        let m = DMatrix::from_fn(n, t, |i, j| rows[i][j]);
        Ok(Self::new(&m, treated, t0))
    }

    /// Adds a covariate matrix (units x periods, same shape as the outcomes) under `name`.
    pub fn covariate(mut self, name: &str, values: &DMatrix<f64>) -> Self {
        self.covariates.push((name.to_string(), values.clone()));
        self
    }

    crate::units::single_unit_builder!(outcomes);

    /// Sets the predictors.
    pub fn predictors(mut self, predictors: Predictors) -> Self {
        self.predictors = predictors;
        self
    }

    /// Sets how V is chosen.
    pub fn v(mut self, v: VChoice) -> Self {
        self.v = v;
        self
    }

    /// Sets the Nelder–Mead options.
    pub fn nested_options(mut self, options: NestedOptions) -> Self {
        self.options = options;
        self
    }

    fn predictor_name(&self, p: &Predictor) -> String {
        match p {
            Predictor::Outcome { period } => format!("outcome[{}]", self.period_label(*period)),
            Predictor::OutcomeMean { from, to } => format!(
                "outcome mean [{}-{}]",
                self.period_label(*from),
                self.period_label(*to)
            ),
            Predictor::Covariate { name, from, to } => format!(
                "{name} mean [{}-{}]",
                self.period_label(*from),
                self.period_label(*to)
            ),
        }
    }

    fn validate(&self) -> Result<Vec<usize>> {
        let (n, t) = self.outcomes.shape();
        let donors = self.layout().check().map_err(|e| match e {
            LayoutError::Invalid(name, reason) => invalid(name, reason),
            LayoutError::TooFewPrePeriods(got) => ScError::TooFewPrePeriods {
                got,
                needed: 2,
                why: "the outer loss is a pre-period MSPE".into(),
            },
            LayoutError::NoPostPeriod(reason) => invalid("t0", reason),
            LayoutError::TreatedAmongDonors(unit) => ScError::TreatedAmongDonors { unit },
            LayoutError::TooFewDonors(got) => ScError::TooFewDonors { got },
            LayoutError::NonFinite {
                unit,
                period,
                value,
            } => ScError::Missing {
                what: "outcome".into(),
                unit,
                period,
                value,
            },
        })?;
        for (name, c) in &self.covariates {
            if c.shape() != (n, t) {
                return Err(invalid(
                    "covariate",
                    format!(
                        "covariate `{name}` is {:?}, outcomes are {:?}",
                        c.shape(),
                        (n, t)
                    ),
                ));
            }
        }
        Ok(donors)
    }

    fn prepare(&self, donors: &[usize]) -> Result<Prepared> {
        let units: Vec<usize> = std::iter::once(self.treated)
            .chain(donors.iter().copied())
            .collect();
        let m = units.len();
        let spec: Vec<Predictor> = match &self.predictors {
            Predictors::AllPreOutcomes => (0..self.t0)
                .map(|p| Predictor::Outcome { period: p })
                .collect(),
            Predictors::Spec(s) => s.clone(),
        };
        if spec.is_empty() {
            return Err(invalid("predictors", "the predictor list is empty"));
        }
        let k = spec.len();
        let mut x_raw = DMatrix::<f64>::zeros(k, m);
        let mut names = Vec::with_capacity(k);
        for (i, p) in spec.iter().enumerate() {
            let name = self.predictor_name(p);
            let (from, to) = match p {
                Predictor::Outcome { period } => (*period, *period),
                Predictor::OutcomeMean { from, to } | Predictor::Covariate { from, to, .. } => {
                    (*from, *to)
                }
            };
            if from > to {
                return Err(invalid(
                    "predictors",
                    format!("`{name}`: window start after its end"),
                ));
            }
            if to >= self.t0 {
                return Err(ScError::PredictorOutsidePre {
                    predictor: name,
                    period: to,
                    t0: self.t0,
                });
            }
            match p {
                Predictor::Outcome { .. } | Predictor::OutcomeMean { .. } => {
                    for (c, &u) in units.iter().enumerate() {
                        let s: f64 = (from..=to).map(|t| self.outcomes[(u, t)]).sum();
                        x_raw[(i, c)] = s / (to - from + 1) as f64;
                    }
                }
                Predictor::Covariate { name: cname, .. } => {
                    let cov = &self
                        .covariates
                        .iter()
                        .find(|(n, _)| n == cname)
                        .ok_or_else(|| ScError::UnknownCovariate(cname.clone()))?
                        .1;
                    for (c, &u) in units.iter().enumerate() {
                        let vals: Vec<f64> = (from..=to)
                            .map(|t| cov[(u, t)])
                            .filter(|v| v.is_finite())
                            .collect();
                        if vals.is_empty() {
                            return Err(ScError::Missing {
                                what: format!("covariate {cname}"),
                                unit: self.unit_name(u),
                                period: format!(
                                    "{}-{}",
                                    self.period_label(from),
                                    self.period_label(to)
                                ),
                                value: cov[(u, from)],
                            });
                        }
                        x_raw[(i, c)] = vals.iter().sum::<f64>() / vals.len() as f64;
                    }
                }
            }
            names.push(name);
        }
        let mut x = x_raw.clone();
        for i in 0..k {
            let row: Vec<f64> = (0..m).map(|c| x_raw[(i, c)]).collect();
            let mean = row.iter().sum::<f64>() / m as f64;
            let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (m - 1) as f64;
            let sd = var.sqrt();
            if sd.is_nan() || sd <= 1e-12 * mean.abs().max(1.0) {
                return Err(ScError::ConstantPredictor {
                    predictor: names[i].clone(),
                    sd,
                });
            }
            for c in 0..m {
                x[(i, c)] /= sd;
            }
        }
        let z = DMatrix::from_fn(self.t0, m, |t, c| self.outcomes[(units[c], t)]);
        let diff = (1..m)
            .flat_map(|c| (0..k).map(move |i| (i, c)))
            .map(|(i, c)| x[(i, c)] - x[(i, 0)])
            .collect();
        Ok(Prepared {
            k,
            x_raw,
            x,
            z,
            diff,
            names,
        })
    }

    /// Synth's regression start: `V = diag(B B')` normalised, `B` the OLS coefficients (without
    /// the intercept) of each pre-period outcome on the scaled predictors across all units.
    fn regression_start(prep: &Prepared) -> Option<Vec<f64>> {
        let m = prep.x.ncols();
        let k = prep.k;
        if m < k + 1 {
            return None;
        }
        let xa = DMatrix::from_fn(
            m,
            k + 1,
            |r, c| if c == 0 { 1.0 } else { prep.x[(c - 1, r)] },
        );
        let xtx = xa.transpose() * &xa;
        let inv = xtx.try_inverse()?;
        let b = inv * xa.transpose() * prep.z.transpose(); // (k+1) x t0
        let v: Vec<f64> = (1..=k)
            .map(|i| b.row(i).iter().map(|x| x * x).sum::<f64>())
            .collect();
        let s: f64 = v.iter().sum();
        (s.is_finite() && s > 0.0).then(|| v.iter().map(|x| x / s).collect())
    }

    fn normalise_v(v: &[f64], k: usize, what: &str) -> Result<Vec<f64>> {
        if v.len() != k {
            return Err(invalid(
                what,
                format!("{} weights for {k} predictors", v.len()),
            ));
        }
        if let Some((i, x)) = v
            .iter()
            .enumerate()
            .find(|(_, x)| !x.is_finite() || **x < 0.0)
        {
            return Err(invalid(
                what,
                format!("entry {i} is {x}; weights must be finite and >= 0"),
            ));
        }
        let s: f64 = v.iter().sum();
        if s <= 0.0 {
            return Err(invalid(what, "the weights sum to zero"));
        }
        Ok(v.iter().map(|x| x / s).collect())
    }

    /// Fits the synthetic control.
    pub fn fit(&self) -> Result<ScFit> {
        let donors = self.validate()?;
        let prep = self.prepare(&donors)?;
        let k = prep.k;
        let mut warnings = Vec::new();
        let mut v_search = Vec::new();
        let v = match &self.v {
            VChoice::Given(v) => Self::normalise_v(v, k, "v")?,
            VChoice::Equal => vec![1.0 / k as f64; k],
            VChoice::Nested { starts } => {
                if starts.is_empty() {
                    return Err(invalid("v", "nested V needs at least one start"));
                }
                if k == 1 {
                    vec![1.0]
                } else {
                    let mut best: Option<(Vec<f64>, f64)> = None;
                    for s in starts {
                        let (label, v0) = match s {
                            VStart::Equal => ("equal", vec![1.0 / k as f64; k]),
                            VStart::Regression => match Self::regression_start(&prep) {
                                Some(v) => ("regression", v),
                                None => {
                                    warnings.push("the regression start of V was skipped: the regression of pre-period outcomes on the predictors is singular".to_string());
                                    continue;
                                }
                            },
                            VStart::Custom(v) => {
                                ("custom", Self::normalise_v(v, k, "VStart::Custom")?)
                            }
                        };
                        let a0 = logits(&v0);
                        let l0 = prep.outcome_loss(&prep.solve_w(&v0)?.weights);
                        let scale = 1.0 + l0;
                        let (a1, _, it1) = nelder_mead(&prep, &a0, &self.options, scale)?;
                        let (a2, l2, it2) = nelder_mead(&prep, &a1, &self.options, scale)?;
                        let v2 = softmax(&a2);
                        // Do not let the search end worse than its start.
                        let (v2, l2) = if l2 <= l0 { (v2, l2) } else { (v0, l0) };
                        v_search.push(VStartReport {
                            start: label.to_string(),
                            v: v2.clone(),
                            loss: l2,
                            iterations: it1 + it2,
                        });
                        if best.as_ref().is_none_or(|b| l2 < b.1) {
                            best = Some((v2, l2));
                        }
                    }
                    match best {
                        Some(b) => b.0,
                        None => {
                            return Err(invalid("v", "no usable start for the nested V search"))
                        }
                    }
                }
            }
        };
        let sol = prep.solve_w(&v)?;
        let w = sol.weights.clone();
        let loss = prep.outcome_loss(&w);

        // Identification check.
        let mut flat = Vec::new();
        if k > 1 {
            for i in 0..k {
                let mut is_flat = true;
                for f in [10.0, 0.1] {
                    let mut v2 = v.clone();
                    v2[i] = if v2[i] > 0.0 { v2[i] * f } else { f / k as f64 };
                    let s: f64 = v2.iter().sum();
                    v2.iter_mut().for_each(|x| *x /= s);
                    let w2 = prep.solve_w(&v2)?.weights;
                    let d = w
                        .iter()
                        .zip(&w2)
                        .map(|(a, b)| (a - b).abs())
                        .fold(0.0, f64::max);
                    if d > 1e-8 {
                        is_flat = false;
                    }
                }
                if is_flat {
                    flat.push(prep.names[i].clone());
                }
            }
            if flat.len() == k && matches!(self.v, VChoice::Nested { .. }) {
                warnings.push("V is not identified: multiplying or dividing any predictor weight by 10 leaves W unchanged, so many V give the same W and loss".to_string());
            }
        }
        for a in 0..v_search.len() {
            for b in a + 1..v_search.len() {
                let (ra, rb) = (&v_search[a], &v_search[b]);
                let rel = (ra.loss - rb.loss).abs() / ra.loss.abs().max(rb.loss.abs()).max(1e-300);
                let dv =
                    ra.v.iter()
                        .zip(&rb.v)
                        .map(|(x, y)| (x - y).abs())
                        .fold(0.0, f64::max);
                if rel < 1e-6 && dv > 0.1 {
                    warnings.push(format!(
                        "V is not identified: starts `{}` and `{}` reach the same loss with V differing by up to {dv:.3}",
                        ra.start, rb.start
                    ));
                }
            }
        }
        if let Some(d) = w.iter().position(|&x| x >= 1.0 - 1e-9) {
            warnings.push(format!(
                "W is a vertex: donor `{}` has all the weight",
                self.unit_name(donors[d])
            ));
        }
        // Exact match: W is then generally not unique (any convex combination reproducing X1
        // is optimal) and V is irrelevant for W.
        let scale = (0..prep.n_donors())
            .map(|d| {
                (0..k)
                    .map(|i| v[i] * (prep.x[(i, d + 1)] - prep.x[(i, 0)]).powi(2))
                    .sum::<f64>()
            })
            .fold(0.0, f64::max);
        if sol.objective <= 1e-12 * scale && prep.n_donors() > k + 1 {
            warnings.push(format!(
                "the treated unit's predictors are matched exactly (it lies inside the donors' convex hull in predictor space): with {} donors and {k} predictors W is generally not unique and V does not matter; the reported W is the sparse solution of the active-set QP",
                prep.n_donors()
            ));
        }
        // Convex hull check on the predictors.
        let mut outside = Vec::new();
        for i in 0..k {
            let t = prep.x_raw[(i, 0)];
            let lo = (1..prep.x_raw.ncols())
                .map(|c| prep.x_raw[(i, c)])
                .fold(f64::INFINITY, f64::min);
            let hi = (1..prep.x_raw.ncols())
                .map(|c| prep.x_raw[(i, c)])
                .fold(f64::NEG_INFINITY, f64::max);
            if t < lo || t > hi {
                outside.push(prep.names[i].clone());
            }
        }
        if !outside.is_empty() {
            warnings.push(format!(
                "the treated unit lies outside the donors' convex hull: its value of {} is outside the donors' range, so the synthetic control cannot match it (see the balance table and pre-RMSPE)",
                outside.join(", ")
            ));
        }

        let balance = (0..k)
            .map(|i| {
                let j = prep.n_donors();
                let synth: f64 = (0..j).map(|d| w[d] * prep.x_raw[(i, d + 1)]).sum();
                let mean: f64 = (0..j).map(|d| prep.x_raw[(i, d + 1)]).sum::<f64>() / j as f64;
                BalanceRow {
                    predictor: prep.names[i].clone(),
                    treated: prep.x_raw[(i, 0)],
                    synthetic: synth,
                    donor_mean: mean,
                }
            })
            .collect();
        let tt = self.outcomes.ncols();
        let treated_outcome: Vec<f64> = (0..tt).map(|t| self.outcomes[(self.treated, t)]).collect();
        let synthetic: Vec<f64> = (0..tt)
            .map(|t| {
                donors
                    .iter()
                    .zip(&w)
                    .map(|(&d, wd)| wd * self.outcomes[(d, t)])
                    .sum()
            })
            .collect();
        let gaps: Vec<f64> = treated_outcome
            .iter()
            .zip(&synthetic)
            .map(|(a, b)| a - b)
            .collect();
        let rms = |g: &[f64]| (g.iter().map(|x| x * x).sum::<f64>() / g.len() as f64).sqrt();
        let rmspe_pre = rms(&gaps[..self.t0]);
        let rmspe_post = rms(&gaps[self.t0..]);
        let att = gaps[self.t0..].iter().sum::<f64>() / (tt - self.t0) as f64;
        Ok(ScFit {
            treated: self.treated,
            treated_name: self.unit_name(self.treated),
            donor_names: donors.iter().map(|&d| self.unit_name(d)).collect(),
            donors,
            weights: w,
            predictor_names: prep.names.clone(),
            v,
            loss,
            loss_w: sol.objective,
            balance,
            period_labels: (0..tt).map(|t| self.period_label(t)).collect(),
            t0: self.t0,
            treated_outcome,
            synthetic,
            gaps,
            rmspe_pre,
            rmspe_post,
            att,
            kkt: sol.kkt,
            v_search,
            flat_predictors: flat,
            warnings,
            spec: self.clone(),
        })
    }
}

impl ScFit {
    /// The donors' weights by name (all donors, including zero weights).
    pub fn named_weights(&self) -> Vec<(String, f64)> {
        self.donor_names
            .iter()
            .cloned()
            .zip(self.weights.iter().copied())
            .collect()
    }

    /// The common result (reported through [`Report`](causalkit_stats::Report) on the fit
    /// alone and on [`ScFit::report`]): one effect per post period (`gap[<period>]`) and the
    /// average post gap (`ATT (mean post-period gap)`), with the placebo-in-space p-value (on
    /// the ATT effect) and the conformal intervals and p-values (on the per-period effects)
    /// when given; diagnostics hold weights, V, losses, RMSPEs, KKT residuals, the V search and
    /// the balance table.
    fn result_with(
        &self,
        placebo: Option<&PlaceboInSpace>,
        conformal: Option<&ConformalIntervals>,
    ) -> EstimationResult {
        let mut r = EstimationResult::new(
            "Abadie synthetic control (nested V)",
            "effect on the treated unit (gap treated - synthetic)",
        );
        if !matches!(self.spec.v, VChoice::Nested { .. }) {
            r.method = "Abadie synthetic control (given V)".into();
        }
        push_gap_effects(
            &mut r,
            Gaps {
                treated: &self.treated_name,
                period_labels: &self.period_labels,
                gaps: &self.gaps,
                t0: self.t0,
                att: self.att,
            },
            placebo,
            conformal,
        );
        let mut weights = Map::new();
        for (n, w) in self.named_weights() {
            weights.insert(n, json!(w));
        }
        let mut v = Map::new();
        for (n, x) in self.predictor_names.iter().zip(&self.v) {
            v.insert(n.clone(), json!(x));
        }
        let balance: Vec<Value> = self
            .balance
            .iter()
            .map(|b| json!({"predictor": b.predictor, "treated": b.treated, "synthetic": b.synthetic, "donor_mean": b.donor_mean}))
            .collect();
        let search: Vec<Value> = self
            .v_search
            .iter()
            .map(
                |s| json!({"start": s.start, "v": s.v, "loss": s.loss, "iterations": s.iterations}),
            )
            .collect();
        r = r
            .with_diagnostic("treated", self.treated_name.clone())
            .with_diagnostic("treatment_period", self.period_labels[self.t0].clone())
            .with_diagnostic("n_donors", self.donors.len())
            .with_diagnostic("weights", Value::Object(weights))
            .with_diagnostic("v", Value::Object(v))
            .with_diagnostic("loss_v_pre_mspe", self.loss)
            .with_diagnostic("loss_w_predictors", self.loss_w)
            .with_diagnostic("rmspe_pre", self.rmspe_pre)
            .with_diagnostic("rmspe_post", self.rmspe_post)
            .with_diagnostic("kkt_max_violation", self.kkt.max_violation())
            .with_diagnostic("balance", Value::Array(balance))
            .with_diagnostic("v_search", Value::Array(search));
        let mut r = add_inference_diagnostics(r, placebo, conformal);
        r.warnings.extend(self.warnings.iter().cloned());
        r
    }
}

single_unit_fit_members!(ScFit, ScFitReport, ScError);

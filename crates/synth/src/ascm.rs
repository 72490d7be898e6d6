//! Ridge-augmented synthetic control (ASCM).
//!
//! # Method
//!
//! Ben-Michael, Feller & Rothstein (2021, JASA 116, "The Augmented Synthetic Control Method"),
//! ridge outcome model, as in the R package `augsynth` (`progfunc = "Ridge"`, `scm = TRUE`;
//! functions `fit_ridgeaug_formatted`, `cv_lambda`, `get_lambda_errors`). One treated unit `1`,
//! donors `0`, treatment from period index `t0`.
//!
//! 1. **Centring.** Pre-period outcomes are centred at the donors' mean in each period:
//!    `Xc = X0 - 1 mu'`, `x1c = x1 - mu` (`J x T0` and `T0`).
//! 2. **SC weights.** `w_sc = argmin ||x1c - Xc' w||^2` over the simplex, on all pre-period
//!    outcomes with `V = I` (augsynth's default), solved exactly by Wolfe's algorithm
//!    ([`crate::abadie::qp`]); centring does not change them.
//! 3. **Ridge augmentation.** With `r = x1c - Xc' w_sc` (the SC pre-period imbalance),
//!
//!    ```text
//!    w_aug = w_sc + Xc (Xc'Xc + lambda I)^{-1} r.
//!    ```
//!
//!    The correction sums to zero (the columns of `Xc` are centred), so `w_aug` sums to one but
//!    may be negative. Equivalently the estimate is SC's plus a bias correction: with
//!    `eta_t = (Xc'Xc + lambda I)^{-1} Xc' y_t` the ridge regression of a post-period outcome on
//!    the pre-period outcomes across donors, `Y1t - w_aug'Y0t = (Y1t - w_sc'Y0t) - r' eta_t`.
//! 4. **Lambda.** Either given, or chosen by augsynth's cross-validation over the pre-period:
//!    the grid is `lambda_max * ratio^(k / n)`, `k = 0..=n` (`lambda_max` the largest squared
//!    singular value of `Xc`, `ratio = 1e-8`, `n = 20`); fold `i = 0..T0-h` holds out periods
//!    `i..i+h` (`h = 1`; the last pre-period is never held out), refits the SC weights on the
//!    other pre-periods, augments them for each lambda and records the squared error of the
//!    held-out periods; the curve is the mean over folds with standard error
//!    `sd / sqrt(folds)`. The default rule is augsynth's `min_1se = TRUE`: the largest lambda
//!    whose mean error is within one standard error of the minimum.
//!
//! The per-period effect is `gap_t = Y1t - w_aug'Y0t`; the ATT is its mean over post periods.
//!
//! **Fixed covariates** ([`AugmentedSc::covariates`]) follow augsynth's `residualize = TRUE`
//! (Ben-Michael, Feller & Rothstein 2021, Section 6): outcomes are residualised on the
//! covariates before steps 2-4 and the weights then balance the covariates exactly.
//!
//! # Inference
//!
//! * [`AscmFit::conformal_intervals`]: per-period conformal sets (Chernozhukov, Wüthrich & Zhu
//!   2021; augsynth's `conformal_inf`, `q = 1`): for post period `t` and a null `theta0`, the
//!   treated outcome at `t` is reduced by `theta0`, the ASCM is refitted on the `T0` pre-periods
//!   plus period `t` (lambda fixed at the fitted value), and `p(theta0)` is the share of the
//!   `T0 + 1` absolute residuals at least as large as period `t`'s (the exact permutation
//!   distribution; augsynth samples it). The set is `{theta0 : p > alpha}`.
//! * [`AscmFit::placebo_in_space`]: each donor in turn is the treated unit, the other donors
//!   its pool, with the same lambda procedure (CV re-run, or the same fixed lambda); the
//!   p-value ranks the treated unit's post/pre RMSPE ratio (Abadie et al. 2010).
//!
//! # Example
//!
//! ```
//! use causalkit_synth::ascm::{AugmentedSc, LambdaChoice};
//! use nalgebra::DMatrix;
//! // unit 3 is treated from period 4 and lies outside the donors' hull before treatment.
//! let y = DMatrix::from_row_slice(4, 6, &[
//!     1.0, 2.0, 3.0, 4.0, 5.0, 6.0,
//!     3.0, 3.5, 5.0, 6.5, 7.0, 8.0,
//!     2.0, 2.5, 3.0, 2.5, 3.0, 3.5,
//!     4.0, 5.0, 6.0, 7.5, 11.0, 12.0,
//! ]);
//! let fit = AugmentedSc::new(&y, 3, 4).lambda(LambdaChoice::Fixed(1.0)).fit().unwrap();
//! let s: f64 = fit.weights.iter().sum();
//! assert!((s - 1.0).abs() < 1e-12); // augmented weights still sum to one
//! assert!(fit.rmspe_pre < fit.rmspe_pre_sc); // the ridge step reduces the imbalance
//! ```

use crate::abadie::{
    conformal_sets, qp, ConformalIntervals, ConformalOptions, Kkt, PlaceboInSpace, PlaceboOptions,
};
use crate::error::{Result, SynthError};
use crate::fit_report::{
    add_inference_diagnostics, push_gap_effects, single_unit_fit_members, Gaps,
};
use crate::units::LayoutError;
use causalkit_stats::EstimationResult;
use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;
use serde_json::{json, Map, Value};

fn invalid(name: &str, reason: impl Into<String>) -> SynthError {
    SynthError::InvalidOption {
        name: name.to_string(),
        reason: reason.into(),
    }
}

/// Which lambda the cross-validation picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LambdaRule {
    /// The lambda with the smallest mean CV error.
    Min,
    /// The largest lambda whose mean CV error is within one standard error of the minimum
    /// (augsynth's default, `min_1se = TRUE`).
    OneSe,
}

/// Settings of the cross-validation of lambda (defaults are augsynth's).
#[derive(Debug, Clone, PartialEq)]
pub struct CvOptions {
    /// Ratio of the smallest to the largest lambda of the grid (default `1e-8`).
    pub lambda_min_ratio: f64,
    /// The grid has `n_lambda + 1` values (default 20).
    pub n_lambda: usize,
    /// Consecutive pre-periods held out per fold (default 1).
    pub holdout_length: usize,
    /// Selection rule (default [`LambdaRule::OneSe`]).
    pub rule: LambdaRule,
    /// A user grid replacing the generated one (e.g. another package's).
    pub grid: Option<Vec<f64>>,
}

impl Default for CvOptions {
    fn default() -> Self {
        CvOptions {
            lambda_min_ratio: 1e-8,
            n_lambda: 20,
            holdout_length: 1,
            rule: LambdaRule::OneSe,
            grid: None,
        }
    }
}

/// How the ridge penalty is chosen.
#[derive(Debug, Clone, PartialEq)]
pub enum LambdaChoice {
    /// A given penalty (`>= 0`).
    Fixed(f64),
    /// Cross-validation over the pre-period.
    CrossValidated(CvOptions),
}

/// The cross-validation curve.
#[derive(Debug, Clone, PartialEq)]
pub struct CvCurve {
    /// The grid (descending when generated).
    pub lambdas: Vec<f64>,
    /// Mean held-out squared error per lambda.
    pub errors: Vec<f64>,
    /// Its standard error (`sd / sqrt(folds)`).
    pub errors_se: Vec<f64>,
    /// Largest squared singular value of the centred donor matrix (`None` for a user grid).
    pub lambda_max: Option<f64>,
    /// Lambda with the smallest mean error.
    pub lambda_min: f64,
    /// Largest lambda within one SE of the minimum.
    pub lambda_1se: f64,
    /// Rule used.
    pub rule: LambdaRule,
    /// Number of folds.
    pub folds: usize,
}

/// Builder of a ridge-augmented synthetic control. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct AugmentedSc {
    y: DMatrix<f64>,
    treated: usize,
    t0: usize,
    donors: Option<Vec<usize>>,
    lambda: LambdaChoice,
    unit_names: Option<Vec<String>>,
    period_labels: Option<Vec<String>>,
    covariates: Option<(Vec<String>, DMatrix<f64>)>,
}

/// A fitted ridge-augmented synthetic control.
#[derive(Debug, Clone)]
pub struct AscmFit {
    /// Treated unit index.
    pub treated: usize,
    /// Treated unit name.
    pub treated_name: String,
    /// Donor indices.
    pub donors: Vec<usize>,
    /// Donor names.
    pub donor_names: Vec<String>,
    /// The SC (simplex) weights before augmentation.
    pub sc_weights: Vec<f64>,
    /// The ridge-augmented weights (sum to one, may be negative).
    pub weights: Vec<f64>,
    /// The ridge penalty used.
    pub lambda: f64,
    /// The cross-validation curve (when lambda was cross-validated).
    pub cv: Option<CvCurve>,
    /// Period labels.
    pub period_labels: Vec<String>,
    /// First post period index.
    pub t0: usize,
    /// Treated outcome in every period.
    pub treated_outcome: Vec<f64>,
    /// Augmented synthetic outcome `w_aug'Y0t`.
    pub synthetic: Vec<f64>,
    /// SC synthetic outcome `w_sc'Y0t`.
    pub synthetic_sc: Vec<f64>,
    /// Gaps `Y1t - w_aug'Y0t`.
    pub gaps: Vec<f64>,
    /// SC gaps `Y1t - w_sc'Y0t`.
    pub gaps_sc: Vec<f64>,
    /// Pre-period RMSPE of the augmented fit.
    pub rmspe_pre: f64,
    /// Post-period RMSPE of the augmented fit.
    pub rmspe_post: f64,
    /// Pre-period RMSPE of the SC fit.
    pub rmspe_pre_sc: f64,
    /// Mean post-period gap (ATT on the treated unit).
    pub att: f64,
    /// The SC estimate of the same ATT (before the bias correction).
    pub att_sc: f64,
    /// augsynth's `l2_imbalance`: `||x1 - X0'w_aug||` over the pre-periods.
    pub l2_imbalance: f64,
    /// `l2_imbalance` divided by that of uniform donor weights.
    pub scaled_l2_imbalance: f64,
    /// KKT residuals of the SC weight QP.
    pub kkt: Kkt,
    /// Warnings.
    pub warnings: Vec<String>,
    spec: AugmentedSc,
}

/// SC and augmented weights on given periods (the pre-periods, or pre-periods plus one).
struct Core {
    sc: Vec<f64>,
    aug: Vec<f64>,
    kkt: Kkt,
}

/// Centred donor matrix `J x k` and treated vector over the columns `cols` of `y`.
fn centred(
    y: &DMatrix<f64>,
    y1: &[f64],
    donors: &[usize],
    cols: &[usize],
) -> (DMatrix<f64>, Vec<f64>) {
    let j = donors.len();
    let mu: Vec<f64> = cols
        .iter()
        .map(|&t| donors.iter().map(|&d| y[(d, t)]).sum::<f64>() / j as f64)
        .collect();
    let xc = DMatrix::from_fn(j, cols.len(), |r, c| y[(donors[r], cols[c])] - mu[c]);
    let x1c = y1.iter().zip(&mu).map(|(a, m)| a - m).collect();
    (xc, x1c)
}

/// Exact simplex least squares `min ||x1 - X' w||` (X: `J x k`).
fn simplex(xc: &DMatrix<f64>, x1: &[f64]) -> Result<(Vec<f64>, Kkt)> {
    let (j, k) = xc.shape();
    let mut pts = Vec::with_capacity(j * k);
    for d in 0..j {
        for t in 0..k {
            pts.push(xc[(d, t)] - x1[t]);
        }
    }
    let sol = qp::min_norm_point(&pts, k, j)
        .ok_or_else(|| SynthError::Numerical("the SC weight QP broke down".into()))?;
    if sol.kkt.max_violation() > crate::abadie::KKT_TOL {
        return Err(SynthError::Numerical(format!(
            "the SC weight QP did not converge: KKT violation {:e}",
            sol.kkt.max_violation()
        )));
    }
    Ok((sol.weights, sol.kkt))
}

/// `Xc (Xc'Xc + lambda I)^{-1} (x1 - Xc'w)`.
fn ridge_adjust(xc: &DMatrix<f64>, x1: &[f64], w: &[f64], lambda: f64) -> Result<Vec<f64>> {
    let k = xc.ncols();
    let wv = DVector::from_column_slice(w);
    let r = DVector::from_column_slice(x1) - xc.transpose() * wv;
    let m = xc.transpose() * xc + DMatrix::<f64>::identity(k, k) * lambda;
    let sol = match m.clone().cholesky() {
        Some(ch) => ch.solve(&r),
        None => m.lu().solve(&r).ok_or_else(|| {
            SynthError::Numerical(format!(
                "the ridge system Xc'Xc + lambda I is singular at lambda = {lambda}"
            ))
        })?,
    };
    Ok((xc * sol).iter().copied().collect())
}

fn core(xc: &DMatrix<f64>, x1: &[f64], lambda: f64) -> Result<Core> {
    let (sc, kkt) = simplex(xc, x1)?;
    let adj = ridge_adjust(xc, x1, &sc, lambda)?;
    let aug = sc.iter().zip(&adj).map(|(a, b)| a + b).collect();
    Ok(Core { sc, aug, kkt })
}

/// Centred covariates of the donors (`J x k`) and the treated unit, and `(Zc'Zc)^{-1}`.
struct Resid {
    zc: DMatrix<f64>,
    z1: DVector<f64>,
    ginv: DMatrix<f64>,
}

impl Resid {
    fn new(z: &DMatrix<f64>, treated: usize, donors: &[usize]) -> Result<Self> {
        let (j, k) = (donors.len(), z.ncols());
        let mu: Vec<f64> = (0..k)
            .map(|c| donors.iter().map(|&d| z[(d, c)]).sum::<f64>() / j as f64)
            .collect();
        let zc = DMatrix::from_fn(j, k, |r, c| z[(donors[r], c)] - mu[c]);
        let z1 = DVector::from_fn(k, |c, _| z[(treated, c)] - mu[c]);
        let g = zc.transpose() * &zc;
        let ev = g.clone().symmetric_eigenvalues();
        let (lo, hi) = ev
            .iter()
            .fold((f64::INFINITY, 0.0_f64), |(a, b), &x| (a.min(x), b.max(x)));
        if hi.is_nan() || hi <= 0.0 || lo.is_nan() || lo <= 1e-12 * hi {
            return Err(SynthError::Numerical(format!(
                "the donors' centred covariates are collinear or constant (eigenvalues of Zc'Zc from {lo:e} to {hi:e})"
            )));
        }
        let ginv = g.try_inverse().ok_or_else(|| {
            SynthError::Numerical(
                "the donors' centred covariates are collinear (Zc'Zc is singular)".into(),
            )
        })?;
        Ok(Resid { zc, z1, ginv })
    }

    /// Residualises the centred outcomes on the covariates.
    fn apply(&self, xc: &DMatrix<f64>, x1: &[f64]) -> (DMatrix<f64>, Vec<f64>) {
        let b = &self.ginv * self.zc.transpose() * xc; // k x T
        let xr = xc - &self.zc * &b;
        let x1r: Vec<f64> = (0..xc.ncols())
            .map(|t| {
                x1[t]
                    - (0..self.z1.len())
                        .map(|c| self.z1[c] * b[(c, t)])
                        .sum::<f64>()
            })
            .collect();
        (xr, x1r)
    }

    /// Adds `Zc (Zc'Zc)^{-1} (z1 - Zc'w)` to `w`.
    fn rebalance(&self, w: &mut [f64]) {
        let wv = DVector::from_column_slice(w);
        let adj = &self.zc * (&self.ginv * (&self.z1 - self.zc.transpose() * wv));
        for (a, b) in w.iter_mut().zip(adj.iter()) {
            *a += b;
        }
    }
}

/// The lambda grid of augsynth: `lambda_max * (ratio^(1/n))^k`, `k = 0..=n`.
pub fn lambda_grid(lambda_max: f64, lambda_min_ratio: f64, n_lambda: usize) -> Vec<f64> {
    let scaler = lambda_min_ratio.powf(1.0 / n_lambda as f64);
    (0..=n_lambda)
        .map(|k| lambda_max * scaler.powi(k as i32))
        .collect()
}

/// Leave-`h`-periods-out CV curve (see the module docs). `xc`, `x1` centred pre-period data.
fn cv_curve(xc: &DMatrix<f64>, x1: &[f64], opts: &CvOptions) -> Result<CvCurve> {
    let t0 = xc.ncols();
    let h = opts.holdout_length;
    if h == 0 {
        return Err(invalid("holdout_length", "must be at least 1"));
    }
    if t0 < h + 2 {
        return Err(SynthError::InsufficientData(format!(
            "cross-validating lambda needs at least holdout_length + 2 = {} pre-periods, got {t0}; give lambda instead",
            h + 2
        )));
    }
    let (lambdas, lambda_max) = match &opts.grid {
        Some(g) => {
            if g.is_empty() {
                return Err(invalid("lambda grid", "is empty"));
            }
            if let Some(x) = g.iter().find(|x| !(x.is_finite() && **x >= 0.0)) {
                return Err(invalid(
                    "lambda grid",
                    format!("value {x} is not finite and >= 0"),
                ));
            }
            (g.clone(), None)
        }
        None => {
            if !(opts.lambda_min_ratio > 0.0 && opts.lambda_min_ratio < 1.0) {
                return Err(invalid(
                    "lambda_min_ratio",
                    format!("{} is not in (0, 1)", opts.lambda_min_ratio),
                ));
            }
            if opts.n_lambda == 0 {
                return Err(invalid("n_lambda", "must be at least 1"));
            }
            let g = xc.transpose() * xc;
            let lmax = g
                .symmetric_eigenvalues()
                .iter()
                .cloned()
                .fold(0.0_f64, f64::max);
            if lmax.is_nan() || lmax <= 0.0 {
                return Err(SynthError::InsufficientData(
                    "the donors' pre-period outcomes are identical, lambda cannot be cross-validated".into(),
                ));
            }
            (
                lambda_grid(lmax, opts.lambda_min_ratio, opts.n_lambda),
                Some(lmax),
            )
        }
    };
    let folds = t0 - h;
    let rows: Vec<Result<Vec<f64>>> = (0..folds)
        .into_par_iter()
        .map(|i| {
            let keep: Vec<usize> = (0..t0).filter(|t| *t < i || *t >= i + h).collect();
            let xk = xc.select_columns(&keep);
            let x1k: Vec<f64> = keep.iter().map(|&t| x1[t]).collect();
            let (sc, _) = simplex(&xk, &x1k)?;
            lambdas
                .iter()
                .map(|&l| {
                    let adj = ridge_adjust(&xk, &x1k, &sc, l)?;
                    let mut e = 0.0;
                    for t in i..i + h {
                        let pred: f64 =
                            (0..xc.nrows()).map(|d| (sc[d] + adj[d]) * xc[(d, t)]).sum();
                        e += (x1[t] - pred).powi(2);
                    }
                    Ok(e)
                })
                .collect()
        })
        .collect();
    let rows = rows.into_iter().collect::<Result<Vec<_>>>()?;
    let nl = lambdas.len();
    let f = folds as f64;
    let errors: Vec<f64> = (0..nl)
        .map(|j| rows.iter().map(|r| r[j]).sum::<f64>() / f)
        .collect();
    let errors_se: Vec<f64> = (0..nl)
        .map(|j| {
            let v = rows.iter().map(|r| (r[j] - errors[j]).powi(2)).sum::<f64>() / (f - 1.0);
            v.sqrt() / f.sqrt()
        })
        .collect();
    let mut imin = 0;
    for j in 1..nl {
        if errors[j] < errors[imin] {
            imin = j;
        }
    }
    let bound = errors[imin] + errors_se[imin];
    let lambda_1se = (0..nl)
        .filter(|&j| errors[j] <= bound)
        .map(|j| lambdas[j])
        .fold(f64::NEG_INFINITY, f64::max);
    Ok(CvCurve {
        lambda_min: lambdas[imin],
        lambda_1se,
        lambdas,
        errors,
        errors_se,
        lambda_max,
        rule: opts.rule,
        folds,
    })
}

impl AugmentedSc {
    /// An ASCM for `treated` (row of `y`, units x periods) treated from period index `t0`.
    /// Defaults: every other unit is a donor; lambda by augsynth's cross-validation.
    pub fn new(y: &DMatrix<f64>, treated: usize, t0: usize) -> Self {
        AugmentedSc {
            y: y.clone(),
            treated,
            t0,
            donors: None,
            lambda: LambdaChoice::CrossValidated(CvOptions::default()),
            unit_names: None,
            period_labels: None,
            covariates: None,
        }
    }

    /// Fixed (time-invariant) covariates, one row per unit and one column per covariate (e.g.
    /// pre-period means), adjusted for as augsynth's `residualize = TRUE`: the centred
    /// pre-period outcomes are replaced by their residuals from an OLS regression on the
    /// centred covariates across donors (`Xc - Zc (Zc'Zc)^{-1} Zc'Xc`, the treated unit with
    /// the same coefficients); SC weights, lambda's CV and the ridge step run on the residuals;
    /// finally the weights get `Zc (Zc'Zc)^{-1} (z1 - Zc'w)`, which balances the covariates
    /// exactly (and keeps the sum at one).
    pub fn covariates(mut self, names: Vec<String>, z: &DMatrix<f64>) -> Self {
        self.covariates = Some((names, z.clone()));
        self
    }

    crate::units::single_unit_builder!(y);

    /// Sets how lambda is chosen.
    pub fn lambda(mut self, lambda: LambdaChoice) -> Self {
        self.lambda = lambda;
        self
    }

    fn validate(&self) -> Result<Vec<usize>> {
        let n = self.y.nrows();
        let donors = self.layout().check().map_err(|e| match e {
            LayoutError::Invalid(name, reason) => invalid(name, reason),
            LayoutError::TooFewPrePeriods(got) => SynthError::InsufficientData(format!(
                "ASCM needs at least 2 pre-treatment periods, got {got}"
            )),
            LayoutError::NoPostPeriod(reason) => SynthError::InsufficientData(reason),
            LayoutError::TreatedAmongDonors(unit) => invalid(
                "donors",
                format!("the treated unit `{unit}` is listed among the donors"),
            ),
            LayoutError::TooFewDonors(got) => {
                SynthError::InsufficientData(format!("ASCM needs at least 2 donors, got {got}"))
            }
            LayoutError::NonFinite {
                unit,
                period,
                value,
            } => SynthError::NonFinite {
                unit,
                period,
                value,
            },
        })?;
        if let LambdaChoice::Fixed(l) = self.lambda {
            if !(l.is_finite() && l >= 0.0) {
                return Err(invalid(
                    "lambda",
                    format!("{l} is not a finite number >= 0"),
                ));
            }
        }
        if let Some((names, z)) = &self.covariates {
            if z.nrows() != n || z.ncols() != names.len() || names.is_empty() {
                return Err(invalid(
                    "covariates",
                    format!(
                        "matrix is {}x{}, need {n} units x {} named covariates (at least one)",
                        z.nrows(),
                        z.ncols(),
                        names.len()
                    ),
                ));
            }
            for &u in std::iter::once(&self.treated).chain(&donors) {
                for (k, name) in names.iter().enumerate() {
                    if !z[(u, k)].is_finite() {
                        return Err(invalid(
                            "covariates",
                            format!(
                                "covariate `{name}` is missing or non-finite ({}) for unit `{}`",
                                z[(u, k)],
                                self.unit_name(u)
                            ),
                        ));
                    }
                }
            }
            if names.len() + 1 >= donors.len() {
                return Err(SynthError::InsufficientData(format!(
                    "{} covariates need more than {} donors",
                    names.len(),
                    names.len() + 1
                )));
            }
        }
        Ok(donors)
    }

    /// Fits the ASCM.
    pub fn fit(&self) -> Result<AscmFit> {
        let donors = self.validate()?;
        let tt = self.y.ncols();
        let t0 = self.t0;
        let pre: Vec<usize> = (0..t0).collect();
        let y1_pre: Vec<f64> = pre.iter().map(|&t| self.y[(self.treated, t)]).collect();
        let (xc, x1c) = centred(&self.y, &y1_pre, &donors, &pre);
        let resid = match &self.covariates {
            Some((_, z)) => Some(Resid::new(z, self.treated, &donors)?),
            None => None,
        };
        let (xc, x1c) = match &resid {
            Some(r) => r.apply(&xc, &x1c),
            None => (xc, x1c),
        };
        let mut warnings = Vec::new();
        let (lambda, cv) = match &self.lambda {
            LambdaChoice::Fixed(l) => (*l, None),
            LambdaChoice::CrossValidated(o) => {
                let c = cv_curve(&xc, &x1c, o)?;
                let l = match o.rule {
                    LambdaRule::Min => c.lambda_min,
                    LambdaRule::OneSe => c.lambda_1se,
                };
                let lo = c.lambdas.iter().cloned().fold(f64::INFINITY, f64::min);
                // Exact by design: is the chosen lambda the grid's own smallest value?
                #[allow(clippy::float_cmp)]
                let at_bottom = c.lambda_min == lo;
                if o.rule == LambdaRule::Min && at_bottom {
                    warnings.push(format!(
                        "the CV error is smallest at the smallest lambda of the grid ({lo:.4e}); the grid may be too coarse at the bottom"
                    ));
                }
                (l, Some(c))
            }
        };
        let mut c = core(&xc, &x1c, lambda)?;
        if let Some(r) = &resid {
            r.rebalance(&mut c.aug);
        }
        let path = |w: &[f64]| -> Vec<f64> {
            (0..tt)
                .map(|t| {
                    donors
                        .iter()
                        .zip(w)
                        .map(|(&d, wd)| wd * self.y[(d, t)])
                        .sum()
                })
                .collect()
        };
        let treated_outcome: Vec<f64> = (0..tt).map(|t| self.y[(self.treated, t)]).collect();
        let synthetic = path(&c.aug);
        let synthetic_sc = path(&c.sc);
        let gaps: Vec<f64> = treated_outcome
            .iter()
            .zip(&synthetic)
            .map(|(a, b)| a - b)
            .collect();
        let gaps_sc: Vec<f64> = treated_outcome
            .iter()
            .zip(&synthetic_sc)
            .map(|(a, b)| a - b)
            .collect();
        let rms = |g: &[f64]| (g.iter().map(|x| x * x).sum::<f64>() / g.len() as f64).sqrt();
        let post = (tt - t0) as f64;
        let l2 = gaps[..t0].iter().map(|x| x * x).sum::<f64>().sqrt();
        let unif = vec![1.0 / donors.len() as f64; donors.len()];
        let ug = path(&unif);
        let l2u = (0..t0)
            .map(|t| (treated_outcome[t] - ug[t]).powi(2))
            .sum::<f64>()
            .sqrt();
        let neg: f64 = c.aug.iter().filter(|w| **w < 0.0).sum();
        if neg < -1e-9 {
            warnings.push(format!(
                "the augmented weights include negative weights (total {neg:.4}): the ridge correction extrapolates outside the donors' convex hull"
            ));
        }
        Ok(AscmFit {
            treated: self.treated,
            treated_name: self.unit_name(self.treated),
            donor_names: donors.iter().map(|&d| self.unit_name(d)).collect(),
            donors,
            sc_weights: c.sc,
            weights: c.aug,
            lambda,
            cv,
            period_labels: (0..tt).map(|t| self.period_label(t)).collect(),
            t0,
            rmspe_pre: rms(&gaps[..t0]),
            rmspe_post: rms(&gaps[t0..]),
            rmspe_pre_sc: rms(&gaps_sc[..t0]),
            att: gaps[t0..].iter().sum::<f64>() / post,
            att_sc: gaps_sc[t0..].iter().sum::<f64>() / post,
            l2_imbalance: l2,
            scaled_l2_imbalance: l2 / l2u,
            kkt: c.kkt,
            treated_outcome,
            synthetic,
            synthetic_sc,
            gaps,
            gaps_sc,
            warnings,
            spec: self.clone(),
        })
    }
}

/// Conformal p-value of `theta0` for post period `t` with lambda fixed (module docs).
fn conformal_p(fit: &AscmFit, t: usize, theta0: f64) -> Result<f64> {
    let y = &fit.spec.y;
    let cols: Vec<usize> = (0..fit.t0).chain(std::iter::once(t)).collect();
    let k = cols.len();
    let y1: Vec<f64> = cols
        .iter()
        .enumerate()
        .map(|(i, &c)| y[(fit.treated, c)] - if i == k - 1 { theta0 } else { 0.0 })
        .collect();
    let (xc0, x1c0) = centred(y, &y1, &fit.donors, &cols);
    let resid = match &fit.spec.covariates {
        Some((_, z)) => Some(Resid::new(z, fit.treated, &fit.donors)?),
        None => None,
    };
    let (xc, x1c) = match &resid {
        Some(r) => r.apply(&xc0, &x1c0),
        None => (xc0.clone(), x1c0.clone()),
    };
    let mut c = core(&xc, &x1c, fit.lambda)?;
    if let Some(r) = &resid {
        r.rebalance(&mut c.aug);
    }
    let (xc, x1c) = (xc0, x1c0);
    let u: Vec<f64> = (0..k)
        .map(|s| {
            let p: f64 = (0..xc.nrows()).map(|d| c.aug[d] * xc[(d, s)]).sum();
            (x1c[s] - p).abs()
        })
        .collect();
    let last = u[k - 1];
    let tol = 1e-12 * (1.0 + last);
    Ok(u.iter().filter(|&&v| v >= last - tol).count() as f64 / k as f64)
}

impl AscmFit {
    /// The donors' augmented weights by name.
    pub fn named_weights(&self) -> Vec<(String, f64)> {
        self.donor_names
            .iter()
            .cloned()
            .zip(self.weights.iter().copied())
            .collect()
    }

    /// In-space placebo test: every donor in turn is treated at `t0` with the other donors as
    /// its pool and the same lambda procedure; rank p-value of the post/pre RMSPE ratio (see
    /// [`PlaceboInSpace`]). Deterministic, in parallel.
    pub fn placebo_in_space(&self, options: &PlaceboOptions) -> Result<PlaceboInSpace> {
        // Options first, as before the rotation was shared (it checks them again).
        options.check().map_err(|(name, why)| invalid(name, why))?;
        if self.donors.len() < 3 {
            return Err(SynthError::InsufficientData(
                "the in-space placebo needs at least 3 donors (each placebo needs 2)".into(),
            ));
        }
        self.rotate_placebos(options)
    }

    /// Conformal p-value of `H0: effect in post period t = theta0` (module docs).
    pub fn conformal_p_value(&self, t: usize, theta0: f64) -> Result<f64> {
        if t < self.t0 || t >= self.gaps.len() {
            return Err(invalid("period", format!("index {t} is not a post period")));
        }
        conformal_p(self, t, theta0)
    }

    /// Per-period conformal confidence sets, lambda fixed at the fitted value (module docs).
    /// The grid is centred at each gap with half-width `options.half_width` or, by default,
    /// `2 * sqrt(mean post gap^2) + 5 * max |pre gap|` (augsynth uses `2 * sqrt(mean post
    /// gap^2)`), doubled up to 6 times while the set reaches the grid's edge; boundaries are
    /// refined by bisection to `1e-9` relative.
    pub fn conformal_intervals(&self, options: &ConformalOptions) -> Result<ConformalIntervals> {
        causalkit_stats::limits::check_alpha_level("alpha", options.alpha)?;
        if options.grid_points < 3 {
            return Err(invalid("grid_points", "need at least 3 grid points"));
        }
        let tt = self.gaps.len();
        let post_rms = (self.gaps[self.t0..].iter().map(|g| g * g).sum::<f64>()
            / (tt - self.t0) as f64)
            .sqrt();
        let max_pre = self.gaps[..self.t0]
            .iter()
            .fold(0.0_f64, |m, g| m.max(g.abs()));
        // Without a user half-width, the grid doubles (up to 6 times) while the set reaches
        // its edge.
        conformal_sets(
            &self.gaps,
            self.t0,
            &self.period_labels,
            options,
            |est| 2.0 * post_rms + 5.0 * max_pre + 1e-8 * (1.0 + est.abs()),
            6,
            |t, th| conformal_p(self, t, th),
        )
    }

    /// The common result (reported through [`Report`](causalkit_stats::Report) on the fit
    /// alone and on [`AscmFit::report`]): `gap[<period>]` per post period (with conformal
    /// intervals and `p(0)` when given) and `ATT (mean post-period gap)` (with the placebo
    /// p-value when given). Diagnostics: augmented and SC weights, lambda and the CV curve,
    /// RMSPEs, imbalances, the SC estimate of the ATT.
    fn result_with(
        &self,
        placebo: Option<&PlaceboInSpace>,
        conformal: Option<&ConformalIntervals>,
    ) -> EstimationResult {
        let mut r = EstimationResult::new(
            "augmented synthetic control (ridge; Ben-Michael, Feller & Rothstein 2021)",
            "effect on the treated unit (gap treated - augmented synthetic)",
        );
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
        let named = |w: &[f64]| {
            let mut m = Map::new();
            for (n, x) in self.donor_names.iter().zip(w) {
                m.insert(n.clone(), json!(x));
            }
            Value::Object(m)
        };
        r = r
            .with_diagnostic("treated", self.treated_name.clone())
            .with_diagnostic("treatment_period", self.period_labels[self.t0].clone())
            .with_diagnostic("n_donors", self.donors.len())
            .with_diagnostic("weights", named(&self.weights))
            .with_diagnostic("sc_weights", named(&self.sc_weights))
            .with_diagnostic("lambda", self.lambda)
            .with_diagnostic("rmspe_pre", self.rmspe_pre)
            .with_diagnostic("rmspe_post", self.rmspe_post)
            .with_diagnostic("rmspe_pre_sc", self.rmspe_pre_sc)
            .with_diagnostic("att_sc", self.att_sc)
            .with_diagnostic("l2_imbalance", self.l2_imbalance)
            .with_diagnostic("scaled_l2_imbalance", self.scaled_l2_imbalance)
            .with_diagnostic("kkt_max_violation", self.kkt.max_violation());
        if let Some((names, _)) = &self.spec.covariates {
            r = r.with_diagnostic(
                "covariates_residualized",
                Value::Array(names.iter().map(|n| json!(n)).collect()),
            );
        }
        match &self.cv {
            Some(c) => r = r.with_diagnostic(
                "lambda_cv",
                json!({
                    "rule": match c.rule { LambdaRule::Min => "min", LambdaRule::OneSe => "1se" },
                    "lambdas": c.lambdas,
                    "errors": c.errors,
                    "errors_se": c.errors_se,
                    "lambda_max": c.lambda_max,
                    "lambda_min": c.lambda_min,
                    "lambda_1se": c.lambda_1se,
                    "folds": c.folds,
                }),
            ),
            None => r = r.with_diagnostic("lambda_cv", "none: lambda given"),
        }
        let mut r = add_inference_diagnostics(r, placebo, conformal);
        if conformal.is_some() {
            r = r.with_diagnostic(
                "inference",
                "per-period conformal sets (Chernozhukov, Wüthrich & Zhu 2021; augsynth conformal_inf, q = 1, exact permutation distribution, lambda fixed at the fitted value); p-values on gap rows test a zero effect",
            );
        }
        r.warnings.extend(self.warnings.iter().cloned());
        r
    }
}

single_unit_fit_members!(AscmFit, AscmFitReport, SynthError);

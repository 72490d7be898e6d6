//! Ordinary and weighted least squares by QR, with absorbed fixed effects and iid,
//! heteroskedasticity-robust (HC0–HC3) and cluster-robust (CR1, one- and two-way) variances.
//!
//! # Model
//! `y = X β + D α + u`, where `D` holds the dummies of absorbed fixed effects. With weights
//! `w`, rows are scaled by `√w` (analytic weights). The fixed effects are partialled out by
//! [`FixedEffects::demean`]; β solves the least-squares problem on the within-transformed,
//! `√w`-scaled data `X̃, ỹ` by a Householder QR decomposition `X̃ = QR`, so
//! `β = R⁻¹ Qᵀ ỹ` and the bread is `B = (X̃ᵀX̃)⁻¹ = R⁻¹R⁻ᵀ`. Residuals `ũ = ỹ − X̃β`, scores
//! `sᵢ = x̃ᵢ ũᵢ`.
//!
//! # Variance estimators and small-sample conventions
//! The conventions are fixest's defaults (`ssc(adj = TRUE, fixef.K = "nested",
//! cluster.adj = TRUE, cluster.df = "min", t.df = "min")`) as implemented by pyfixest 0.60,
//! verified to 1e-12 against pyfixest in `reference/stats.json`. `N` is the number of rows,
//! `k` the number of regressors (the intercept included), `K = k + dof(FE)` with `dof(FE)`
//! from [`FixedEffects::dof`].
//!
//! | estimator | formula | df of t |
//! |---|---|---|
//! | iid | `ũ'ũ / (N − K) · B` | `N − K` |
//! | HC0 | `B (Σ sᵢsᵢᵀ) B` | `N − K` |
//! | HC1 | `N/(N − K) · B (Σ sᵢsᵢᵀ) B` | `N − K` |
//! | HC2 | `B (Σ x̃ᵢx̃ᵢᵀ ũᵢ²/(1 − hᵢ)) B` | `N − K` |
//! | HC3 | `B (Σ x̃ᵢx̃ᵢᵀ ũᵢ²/(1 − hᵢ)²) B` | `N − K` |
//! | CR1, one-way | `(N−1)/(N − Kᶜ) · G/(G−1) · B (Σ_g S_g S_gᵀ) B` | `G − 1` |
//! | CR1, two-way | `(N−1)/(N − Kᶜ) · Gₘ/(Gₘ−1) · B (M₁ + M₂ − M₁₂) B` | `Gₘ − 1` |
//!
//! `hᵢ = x̃ᵢ B x̃ᵢᵀ` is the leverage (HC2/HC3 are therefore only available without absorbed
//! fixed effects, as in pyfixest). `S_g = Σ_{i∈g} sᵢ`; `M_j` is the meat for clustering
//! `j`, `M₁₂` for the intersection of the two clusterings, and `Gₘ = min(G₁, G₂)`. `Kᶜ` does
//! not count the parameters of fixed effects nested in a cluster variable (fixest's
//! `fixef.K = "nested"`): `Kᶜ = K − Σ_{nested f} (L_f − 1)`. A two-way variance can have a
//! negative diagonal; the standard error is then not reported and a warning says so.
//!
//! # References
//! White (1980) *Econometrica* 48; MacKinnon & White (1985) *J. Econometrics* 29;
//! Cameron, Gelbach & Miller (2011) "Robust inference with multiway clustering", *JBES* 29;
//! Bergé (2018) "Efficient estimation of maximum likelihood models with multiple
//! fixed-effects: the R package FENmlm" (fixest).

use crate::dist;
use crate::error::{check_alpha, check_finite, check_len, invalid, Result, StatsError};
use crate::factor::Factor;
use crate::fe::{DemeanOptions, DemeanReport, FixedEffects};
use crate::result::{Effect, EstimationResult, Report};
use nalgebra::{DMatrix, DVector};

/// Relative size below which a column (or a pivot of R) counts as zero.
const COLLINEAR_TOL: f64 = 1e-9;

/// A linear model specification: outcome, regressors, optional weights and absorbed fixed
/// effects. Call [`LinearModel::fit`] to estimate it.
///
/// ```
/// use causalkit_stats::{LinearModel, Vcov};
/// let x = vec![1.0, 2.0, 3.0, 4.0, 5.0];
/// let y = vec![2.1, 3.9, 6.2, 7.8, 10.1];
/// let fit = LinearModel::new("y", y).regressor("x", x).fit().unwrap();
/// assert!((fit.coef()[1] - 1.99).abs() < 1e-12);
/// let table = fit.inference(&Vcov::Hc1, 0.05).unwrap();
/// assert_eq!(table.names()[1], "x");
/// ```
#[derive(Debug, Clone)]
pub struct LinearModel {
    y_name: String,
    y: Vec<f64>,
    x: Vec<(String, Vec<f64>)>,
    weights: Option<Vec<f64>>,
    fe: Option<FixedEffects>,
    intercept: bool,
    demean: DemeanOptions,
}

impl LinearModel {
    /// A model for outcome `y` (named `name`), with an intercept and no regressors yet.
    pub fn new(name: &str, y: Vec<f64>) -> Self {
        LinearModel {
            y_name: name.to_string(),
            y,
            x: Vec::new(),
            weights: None,
            fe: None,
            intercept: true,
            demean: DemeanOptions::default(),
        }
    }

    /// Adds a regressor.
    pub fn regressor(mut self, name: &str, values: Vec<f64>) -> Self {
        self.x.push((name.to_string(), values));
        self
    }

    /// Whether to include an intercept (default true; ignored when fixed effects are
    /// absorbed, which contain it).
    pub fn intercept(mut self, yes: bool) -> Self {
        self.intercept = yes;
        self
    }

    /// Analytic weights (positive, finite): weighted least squares.
    pub fn weights(mut self, w: Vec<f64>) -> Self {
        self.weights = Some(w);
        self
    }

    /// Fixed effects to absorb.
    pub fn absorb(mut self, fe: FixedEffects) -> Self {
        self.fe = Some(fe);
        self
    }

    /// Convergence settings of the fixed-effect demeaning.
    pub fn demean_options(mut self, options: DemeanOptions) -> Self {
        self.demean = options;
        self
    }

    /// Estimates the model. Errors name the variable and row of non-finite values or
    /// non-positive weights, and the column that makes the design singular.
    pub fn fit(&self) -> Result<OlsFit> {
        let n = self.y.len();
        if n == 0 {
            return Err(StatsError::InsufficientData(
                "the outcome has no rows".into(),
            ));
        }
        check_finite(&self.y_name, &self.y)?;
        for (name, col) in &self.x {
            check_len(name, col.len(), n)?;
            check_finite(name, col)?;
        }
        if let Some(w) = &self.weights {
            check_len("weights", w.len(), n)?;
            check_finite("weights", w)?;
            if let Some(row) = w.iter().position(|&v| v <= 0.0) {
                return Err(StatsError::OutOfRange {
                    variable: "weights".into(),
                    row,
                    value: w[row],
                    expected: "a positive weight".into(),
                });
            }
        }
        if let Some(fe) = &self.fe {
            check_len("fixed effects", fe.len(), n)?;
        }
        let use_intercept = self.intercept && self.fe.is_none();
        let mut names: Vec<String> = Vec::new();
        let mut cols: Vec<Vec<f64>> = vec![self.y.clone()];
        if use_intercept {
            names.push("Intercept".into());
            cols.push(vec![1.0; n]);
        }
        for (name, c) in &self.x {
            names.push(name.clone());
            cols.push(c.clone());
        }
        let k = names.len();
        if k == 0 {
            return Err(invalid(
                "regressors",
                "the model has no regressors and no intercept",
            ));
        }
        let sqrt_w: Option<Vec<f64>> = self
            .weights
            .as_ref()
            .map(|w| w.iter().map(|v| v.sqrt()).collect());
        // Norms before demeaning (in the weighted metric), to detect columns the fixed
        // effects absorb entirely.
        let norm_w = |c: &[f64]| -> f64 {
            match &sqrt_w {
                Some(s) => c
                    .iter()
                    .zip(s)
                    .map(|(v, s)| (v * s).powi(2))
                    .sum::<f64>()
                    .sqrt(),
                None => c.iter().map(|v| v * v).sum::<f64>().sqrt(),
            }
        };
        let before: Vec<f64> = cols.iter().map(|c| norm_w(c)).collect();
        let (dof_fe, demean_report) = match &self.fe {
            Some(fe) => {
                let rep = fe.demean(&mut cols, self.weights.as_deref(), &self.demean)?;
                (fe.dof(), Some(rep))
            }
            None => (0, None),
        };
        if let Some(s) = &sqrt_w {
            for c in cols.iter_mut() {
                c.iter_mut().zip(s).for_each(|(v, s)| *v *= s);
            }
        }
        for j in 0..k {
            let after = cols[j + 1].iter().map(|v| v * v).sum::<f64>().sqrt();
            if after <= COLLINEAR_TOL * before[j + 1].max(f64::MIN_POSITIVE) || before[j + 1] == 0.0
            {
                let with = if self.fe.is_some() {
                    "the absorbed fixed effects (it is constant within their levels)".to_string()
                } else {
                    "nothing: it is identically zero".to_string()
                };
                return Err(StatsError::Collinear {
                    column: names[j].clone(),
                    with,
                });
            }
        }
        let big_k = k + dof_fe;
        if n <= big_k {
            return Err(StatsError::InsufficientData(format!(
                "{n} rows for {big_k} parameters ({k} regressors and {dof_fe} fixed-effect levels)"
            )));
        }
        let ytil = DVector::from_vec(cols[0].clone());
        let xt = DMatrix::from_fn(n, k, |i, j| cols[j + 1][i]);
        drop(cols);
        let qr = xt.clone().qr();
        let r = qr.r();
        for j in 0..k {
            let colnorm = xt.column(j).norm();
            if r[(j, j)].abs() <= COLLINEAR_TOL * colnorm {
                let others = if j == 0 {
                    "the fixed effects".to_string()
                } else {
                    names[..j].join(", ")
                };
                return Err(StatsError::Collinear {
                    column: names[j].clone(),
                    with: format!("the columns before it ({others})"),
                });
            }
        }
        let mut qty = ytil.clone();
        qr.q_tr_mul(&mut qty);
        let qty_k = qty.rows(0, k).into_owned();
        let coef = r
            .solve_upper_triangular(&qty_k)
            .ok_or_else(|| StatsError::Collinear {
                column: names[k - 1].clone(),
                with: "other columns".into(),
            })?;
        let rinv = r
            .solve_upper_triangular(&DMatrix::identity(k, k))
            .ok_or_else(|| StatsError::Collinear {
                column: names[k - 1].clone(),
                with: "other columns".into(),
            })?;
        let bread = &rinv * rinv.transpose();
        let resid = &ytil - &xt * &coef;
        let rss = resid.norm_squared();
        // Total sum of squares of the (weighted) outcome around its weighted mean.
        let (wsum, wy) = match &self.weights {
            Some(w) => (
                w.iter().sum::<f64>(),
                w.iter().zip(&self.y).map(|(w, y)| w * y).sum::<f64>(),
            ),
            None => (n as f64, self.y.iter().sum::<f64>()),
        };
        let ybar = wy / wsum;
        let tss: f64 = match &self.weights {
            Some(w) => w
                .iter()
                .zip(&self.y)
                .map(|(w, y)| w * (y - ybar).powi(2))
                .sum(),
            None => self.y.iter().map(|y| (y - ybar).powi(2)).sum(),
        };
        let within_tss = if self.fe.is_some() {
            Some(ytil.norm_squared())
        } else {
            None
        };
        Ok(OlsFit {
            y_name: self.y_name.clone(),
            names,
            coef,
            bread,
            xt,
            resid,
            n,
            k,
            dof_fe,
            rss,
            tss,
            within_tss,
            fe: self.fe.clone(),
            weighted: self.weights.is_some(),
            sqrt_w,
            demean_report,
        })
    }
}

/// A variance estimator for the coefficients of a linear model.
#[derive(Debug, Clone, PartialEq)]
pub enum Vcov {
    /// Homoskedastic errors.
    Iid,
    /// White's heteroskedasticity-robust estimator, no small-sample factor.
    Hc0,
    /// HC0 times N/(N − K) (fixest / pyfixest `"hetero"`, Stata `robust`).
    Hc1,
    /// Leverage-adjusted HC2 (not with absorbed fixed effects).
    Hc2,
    /// Leverage-adjusted HC3 (not with absorbed fixed effects).
    Hc3,
    /// Cluster-robust CR1 by one factor.
    Cluster(Factor),
    /// Two-way cluster-robust CR1 (Cameron, Gelbach & Miller 2011).
    TwoWayCluster(Factor, Factor),
}

impl Vcov {
    /// A short human label, e.g. `"CRV1 by countyreal"`.
    pub fn label(&self) -> String {
        match self {
            Vcov::Iid => "iid".into(),
            Vcov::Hc0 => "HC0".into(),
            Vcov::Hc1 => "HC1".into(),
            Vcov::Hc2 => "HC2".into(),
            Vcov::Hc3 => "HC3".into(),
            Vcov::Cluster(f) => format!("CRV1 by {}", f.name()),
            Vcov::TwoWayCluster(a, b) => format!("CRV1 by {} and {}", a.name(), b.name()),
        }
    }
}

/// A coefficient covariance matrix together with what is needed for inference.
#[derive(Debug, Clone, PartialEq)]
pub struct CovarianceMatrix {
    /// The k x k covariance matrix of the coefficients.
    pub matrix: DMatrix<f64>,
    /// Degrees of freedom of the t distribution used for p-values and intervals.
    pub df: f64,
    /// The estimator's label, including cluster counts (e.g. `"CRV1 by state, G = 50"`).
    pub label: String,
    /// The small-sample factor that multiplied the sandwich.
    pub small_sample_factor: f64,
}

/// A fitted linear model.
#[derive(Debug, Clone)]
pub struct OlsFit {
    y_name: String,
    names: Vec<String>,
    coef: DVector<f64>,
    bread: DMatrix<f64>,
    xt: DMatrix<f64>,
    resid: DVector<f64>,
    n: usize,
    k: usize,
    dof_fe: usize,
    rss: f64,
    tss: f64,
    within_tss: Option<f64>,
    fe: Option<FixedEffects>,
    weighted: bool,
    sqrt_w: Option<Vec<f64>>,
    demean_report: Option<DemeanReport>,
}

impl OlsFit {
    /// Coefficient names (`"Intercept"` first when there is one).
    pub fn names(&self) -> &[String] {
        &self.names
    }
    /// Coefficients, in the order of [`OlsFit::names`].
    pub fn coef(&self) -> &[f64] {
        self.coef.as_slice()
    }
    /// Number of observations.
    pub fn n(&self) -> usize {
        self.n
    }
    /// Number of parameters: regressors plus absorbed fixed-effect levels.
    pub fn n_params(&self) -> usize {
        self.k + self.dof_fe
    }
    /// Residual sum of squares (weighted).
    pub fn rss(&self) -> f64 {
        self.rss
    }
    /// R² against the (weighted) mean of the outcome.
    pub fn r_squared(&self) -> f64 {
        1.0 - self.rss / self.tss
    }
    /// Within R² (after absorbing the fixed effects), when fixed effects were absorbed.
    pub fn within_r_squared(&self) -> Option<f64> {
        self.within_tss.map(|t| 1.0 - self.rss / t)
    }
    /// Sweeps the fixed-effect demeaning needed, when fixed effects were absorbed.
    pub fn demean_iterations(&self) -> Option<usize> {
        self.demean_report.map(|r| r.iterations)
    }
    /// Residuals of the fitted model on the original scale (not √w-scaled), after the fixed
    /// effects are partialled out.
    pub fn residuals(&self) -> Vec<f64> {
        match &self.sqrt_w {
            None => self.resid.as_slice().to_vec(),
            Some(s) => self.resid.iter().zip(s).map(|(u, s)| u / s).collect(),
        }
    }
    /// The position of a coefficient by name.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    fn sandwich(&self, meat: &DMatrix<f64>) -> DMatrix<f64> {
        &self.bread * meat * &self.bread
    }

    fn scores_meat(&self, weight: impl Fn(usize) -> f64) -> DMatrix<f64> {
        let k = self.k;
        let mut meat = DMatrix::<f64>::zeros(k, k);
        for i in 0..self.n {
            let u2 = self.resid[i] * self.resid[i] * weight(i);
            for a in 0..k {
                let xa = self.xt[(i, a)] * u2;
                for b in 0..=a {
                    meat[(a, b)] += xa * self.xt[(i, b)];
                }
            }
        }
        symmetrise(&mut meat);
        meat
    }

    fn cluster_meat(&self, f: &Factor) -> DMatrix<f64> {
        let k = self.k;
        let mut sums = DMatrix::<f64>::zeros(f.levels(), k);
        for (i, &g) in f.codes().iter().enumerate() {
            let u = self.resid[i];
            for a in 0..k {
                sums[(g as usize, a)] += self.xt[(i, a)] * u;
            }
        }
        sums.transpose() * sums
    }

    fn leverages(&self) -> Result<Vec<f64>> {
        let mut h = Vec::with_capacity(self.n);
        for i in 0..self.n {
            let xi = self.xt.row(i);
            let v = (xi * &self.bread * xi.transpose())[(0, 0)];
            if v >= 1.0 - 1e-10 {
                return Err(StatsError::UnsupportedVcov {
                    vcov: "HC2/HC3".into(),
                    reason: format!("row {i} has leverage 1; its residual is zero by construction"),
                });
            }
            h.push(v);
        }
        Ok(h)
    }

    /// Parameters counted for a clustered variance: fixed effects nested in a cluster
    /// variable count one parameter instead of their levels (fixest `fixef.K = "nested"`).
    fn k_cluster(&self, clusters: &[&Factor]) -> Result<usize> {
        let mut kc = self.k + self.dof_fe;
        if let Some(fe) = &self.fe {
            for f in fe.factors() {
                let mut nested = false;
                for c in clusters {
                    if f.is_nested_in(c)? {
                        nested = true;
                    }
                }
                if nested {
                    kc -= f.levels().saturating_sub(1);
                }
            }
        }
        Ok(kc)
    }

    /// The coefficient covariance matrix for a variance estimator.
    pub fn vcov(&self, vcov: &Vcov) -> Result<CovarianceMatrix> {
        let n = self.n as f64;
        let big_k = (self.k + self.dof_fe) as f64;
        let df_resid = n - big_k;
        let leverage_check = |name: &str| -> Result<()> {
            if self.fe.is_some() {
                Err(StatsError::UnsupportedVcov {
                    vcov: name.into(),
                    reason: "leverages are not available when fixed effects are absorbed; use HC1 or a cluster-robust estimator, or add the fixed effects as dummy regressors".into(),
                })
            } else {
                Ok(())
            }
        };
        let (matrix, df, label, factor) = match vcov {
            Vcov::Iid => {
                let s2 = self.rss / df_resid;
                (&self.bread * s2, df_resid, "iid".to_string(), 1.0)
            }
            Vcov::Hc0 => (
                self.sandwich(&self.scores_meat(|_| 1.0)),
                df_resid,
                "HC0".into(),
                1.0,
            ),
            Vcov::Hc1 => {
                let c = n / df_resid;
                (
                    self.sandwich(&self.scores_meat(|_| 1.0)) * c,
                    df_resid,
                    "HC1".into(),
                    c,
                )
            }
            Vcov::Hc2 => {
                leverage_check("HC2")?;
                let h = self.leverages()?;
                (
                    self.sandwich(&self.scores_meat(|i| 1.0 / (1.0 - h[i]))),
                    df_resid,
                    "HC2".into(),
                    1.0,
                )
            }
            Vcov::Hc3 => {
                leverage_check("HC3")?;
                let h = self.leverages()?;
                (
                    self.sandwich(&self.scores_meat(|i| 1.0 / (1.0 - h[i]).powi(2))),
                    df_resid,
                    "HC3".into(),
                    1.0,
                )
            }
            Vcov::Cluster(f) => {
                check_len(f.name(), f.len(), self.n)?;
                let g = f.levels() as f64;
                if f.levels() < 2 {
                    return Err(StatsError::InsufficientData(format!(
                        "cluster variable `{}` has {} cluster; at least 2 are needed",
                        f.name(),
                        f.levels()
                    )));
                }
                let kc = self.k_cluster(&[f])? as f64;
                let c = (n - 1.0) / (n - kc) * g / (g - 1.0);
                (
                    self.sandwich(&self.cluster_meat(f)) * c,
                    g - 1.0,
                    format!("CRV1 by {}, G = {}", f.name(), f.levels()),
                    c,
                )
            }
            Vcov::TwoWayCluster(a, b) => {
                check_len(a.name(), a.len(), self.n)?;
                check_len(b.name(), b.len(), self.n)?;
                let gmin = a.levels().min(b.levels());
                if gmin < 2 {
                    return Err(StatsError::InsufficientData(format!(
                        "two-way clustering by `{}` and `{}` needs at least 2 clusters in each",
                        a.name(),
                        b.name()
                    )));
                }
                let ab = a.interact(b)?;
                let meat = self.cluster_meat(a) + self.cluster_meat(b) - self.cluster_meat(&ab);
                let kc = self.k_cluster(&[a, b])? as f64;
                let g = gmin as f64;
                let c = (n - 1.0) / (n - kc) * g / (g - 1.0);
                (
                    self.sandwich(&meat) * c,
                    g - 1.0,
                    format!(
                        "CRV1 by {} (G = {}) and {} (G = {})",
                        a.name(),
                        a.levels(),
                        b.name(),
                        b.levels()
                    ),
                    c,
                )
            }
        };
        Ok(CovarianceMatrix {
            matrix,
            df,
            label,
            small_sample_factor: factor,
        })
    }

    /// Coefficient table (estimates, standard errors, t statistics, p-values and
    /// `1 - alpha` confidence intervals) for a variance estimator.
    pub fn inference(&self, vcov: &Vcov, alpha: f64) -> Result<CoefTable> {
        check_alpha(alpha)?;
        let cov = self.vcov(vcov)?;
        let crit = dist::t_critical(alpha, cov.df)?;
        let mut rows = Vec::with_capacity(self.k);
        let mut warnings = Vec::new();
        for j in 0..self.k {
            let b = self.coef[j];
            let v = cov.matrix[(j, j)];
            if v < 0.0 || !v.is_finite() {
                warnings.push(format!(
                    "the {} variance of `{}` is negative ({v:.6e}); its standard error is not reported (use one-way clustering)",
                    cov.label, self.names[j]
                ));
                rows.push(CoefRow {
                    name: self.names[j].clone(),
                    estimate: b,
                    std_error: None,
                    statistic: None,
                    p_value: None,
                    ci_low: None,
                    ci_high: None,
                });
                continue;
            }
            let se = v.sqrt();
            let t = b / se;
            let p = dist::t_two_sided_p(t, cov.df)?;
            rows.push(CoefRow {
                name: self.names[j].clone(),
                estimate: b,
                std_error: Some(se),
                statistic: Some(t),
                p_value: Some(p),
                ci_low: Some(b - crit * se),
                ci_high: Some(b + crit * se),
            });
        }
        Ok(CoefTable {
            outcome: self.y_name.clone(),
            rows,
            vcov_label: cov.label,
            df: cov.df,
            alpha,
            n: self.n,
            n_params: self.k + self.dof_fe,
            r_squared: self.r_squared(),
            within_r_squared: self.within_r_squared(),
            fixed_effects: self
                .fe
                .as_ref()
                .map(|fe| {
                    fe.factors()
                        .iter()
                        .map(|f| (f.name().to_string(), f.levels()))
                        .collect()
                })
                .unwrap_or_default(),
            demean_iterations: self.demean_iterations(),
            weighted: self.weighted,
            warnings,
            vcov: cov.matrix,
        })
    }
}

fn symmetrise(m: &mut DMatrix<f64>) {
    let k = m.nrows();
    for a in 0..k {
        for b in 0..a {
            m[(b, a)] = m[(a, b)];
        }
    }
}

/// One row of a coefficient table.
#[derive(Debug, Clone, PartialEq)]
pub struct CoefRow {
    /// Coefficient name.
    pub name: String,
    /// Point estimate.
    pub estimate: f64,
    /// Standard error (None when the variance estimate is negative).
    pub std_error: Option<f64>,
    /// t statistic.
    pub statistic: Option<f64>,
    /// Two-sided p-value.
    pub p_value: Option<f64>,
    /// Lower confidence limit.
    pub ci_low: Option<f64>,
    /// Upper confidence limit.
    pub ci_high: Option<f64>,
}

/// A coefficient table: the inference of a fitted linear model under one variance estimator.
#[derive(Debug, Clone, PartialEq)]
pub struct CoefTable {
    outcome: String,
    rows: Vec<CoefRow>,
    vcov_label: String,
    df: f64,
    alpha: f64,
    n: usize,
    n_params: usize,
    r_squared: f64,
    within_r_squared: Option<f64>,
    fixed_effects: Vec<(String, usize)>,
    demean_iterations: Option<usize>,
    weighted: bool,
    warnings: Vec<String>,
    vcov: DMatrix<f64>,
}

impl CoefTable {
    /// The rows, one per coefficient.
    pub fn rows(&self) -> &[CoefRow] {
        &self.rows
    }
    /// Coefficient names.
    pub fn names(&self) -> Vec<&str> {
        self.rows.iter().map(|r| r.name.as_str()).collect()
    }
    /// The row of a named coefficient.
    pub fn row(&self, name: &str) -> Option<&CoefRow> {
        self.rows.iter().find(|r| r.name == name)
    }
    /// Degrees of freedom used for t-based inference.
    pub fn df(&self) -> f64 {
        self.df
    }
    /// The covariance matrix of the coefficients.
    pub fn vcov(&self) -> &DMatrix<f64> {
        &self.vcov
    }
    /// Warnings (e.g. a negative two-way variance).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Joint Wald test that the named coefficients are all zero: `F = b'V⁻¹b / q`, compared
    /// with F(q, df). Returns `(F, p)`.
    pub fn wald_test(&self, names: &[&str]) -> Result<(f64, f64)> {
        let idx: Vec<usize> = names
            .iter()
            .map(|n| {
                self.rows
                    .iter()
                    .position(|r| r.name == *n)
                    .ok_or_else(|| invalid("names", format!("no coefficient named `{n}`")))
            })
            .collect::<Result<_>>()?;
        let q = idx.len();
        if q == 0 {
            return Err(invalid("names", "at least one coefficient is needed"));
        }
        let b = DVector::from_iterator(q, idx.iter().map(|&i| self.rows[i].estimate));
        let v = DMatrix::from_fn(q, q, |a, c| self.vcov[(idx[a], idx[c])]);
        let chol = v.cholesky().ok_or_else(|| StatsError::Collinear {
            column: names.join(", "),
            with: "each other (their covariance matrix is not positive definite)".into(),
        })?;
        let w = (b.transpose() * chol.solve(&b))[(0, 0)];
        let f = w / q as f64;
        let p = dist::f_sf(f, q as f64, self.df)?;
        Ok((f, p))
    }
}

impl Report for CoefTable {
    fn result(&self) -> EstimationResult {
        let method = if self.fixed_effects.is_empty() {
            if self.weighted {
                "WLS"
            } else {
                "OLS"
            }
        } else if self.weighted {
            "WLS with absorbed fixed effects"
        } else {
            "OLS with absorbed fixed effects"
        };
        let mut r = EstimationResult::new(
            method,
            format!("coefficients of the linear model for `{}`", self.outcome),
        );
        r.effects = self
            .rows
            .iter()
            .map(|row| Effect {
                key: crate::EffectKey::kind(crate::EffectKind::Coefficient)
                    .term(row.name.clone())
                    .metric(self.outcome.clone()),
                label: row.name.clone(),
                estimate: row.estimate,
                std_error: row.std_error,
                ci_low: row.ci_low,
                ci_high: row.ci_high,
                p_value: row.p_value,
            })
            .collect();
        let d = &mut r.diagnostics;
        d.insert("outcome".into(), self.outcome.clone().into());
        d.insert("n_obs".into(), self.n.into());
        d.insert("n_params".into(), self.n_params.into());
        d.insert("vcov".into(), self.vcov_label.clone().into());
        d.insert("df_t".into(), self.df.into());
        d.insert("confidence_level".into(), (1.0 - self.alpha).into());
        d.insert("r_squared".into(), self.r_squared.into());
        if let Some(w) = self.within_r_squared {
            d.insert("within_r_squared".into(), w.into());
        }
        if !self.fixed_effects.is_empty() {
            let fe: serde_json::Map<String, serde_json::Value> = self
                .fixed_effects
                .iter()
                .map(|(n, l)| (n.clone(), (*l).into()))
                .collect();
            d.insert("fixed_effects".into(), fe.into());
        }
        if let Some(it) = self.demean_iterations {
            d.insert("demean_iterations".into(), it.into());
        }
        r.warnings = self.warnings.clone();
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_column_with_intercept_is_named() {
        let e = LinearModel::new("y", vec![1.0, 2.0, 3.0, 5.0])
            .regressor("x", vec![1.0, 2.0, 3.0, 4.0])
            .regressor("c", vec![2.0; 4])
            .fit()
            .unwrap_err();
        assert!(
            matches!(e, StatsError::Collinear { ref column, .. } if column == "c"),
            "{e}"
        );
    }

    #[test]
    fn regressor_absorbed_by_fixed_effects_is_named() {
        let g = Factor::from_labels("unit", &[0, 0, 1, 1, 2, 2]);
        let e = LinearModel::new("y", vec![1.0, 2.0, 3.0, 5.0, 2.0, 1.0])
            .regressor("x", vec![1.0, 2.0, 1.0, 4.0, 0.0, 2.0])
            .regressor("unit_level", vec![3.0, 3.0, 1.0, 1.0, 7.0, 7.0])
            .absorb(FixedEffects::new(vec![g]).unwrap())
            .fit()
            .unwrap_err();
        assert!(
            matches!(e, StatsError::Collinear { ref column, .. } if column == "unit_level"),
            "{e}"
        );
    }

    #[test]
    fn nan_and_bad_weights_are_named() {
        let e = LinearModel::new("y", vec![1.0, f64::NAN, 3.0])
            .regressor("x", vec![1.0, 2.0, 3.0])
            .fit()
            .unwrap_err();
        assert!(matches!(e, StatsError::NonFinite { row: 1, .. }));
        let e = LinearModel::new("y", vec![1.0, 2.0, 3.0])
            .regressor("x", vec![1.0, 2.0, 4.0])
            .weights(vec![1.0, 0.0, 1.0])
            .fit()
            .unwrap_err();
        assert!(matches!(e, StatsError::OutOfRange { row: 1, .. }), "{e}");
        let e = LinearModel::new("y", vec![]).fit().unwrap_err();
        assert!(matches!(e, StatsError::InsufficientData(_)));
    }

    #[test]
    fn too_few_rows_is_an_error() {
        let e = LinearModel::new("y", vec![1.0, 2.0])
            .regressor("x", vec![1.0, 3.0])
            .fit()
            .unwrap_err();
        assert!(matches!(e, StatsError::InsufficientData(_)), "{e}");
    }

    #[test]
    fn exact_fit_has_zero_residuals_and_single_cluster_is_an_error() {
        let x = vec![1.0, 2.0, 3.0, 4.0];
        let y: Vec<f64> = x.iter().map(|v| 2.0 + 3.0 * v).collect();
        let fit = LinearModel::new("y", y).regressor("x", x).fit().unwrap();
        assert!((fit.coef()[0] - 2.0).abs() < 1e-12 && (fit.coef()[1] - 3.0).abs() < 1e-12);
        let one = Factor::from_labels("g", &[0, 0, 0, 0]);
        assert!(matches!(
            fit.vcov(&Vcov::Cluster(one)),
            Err(StatsError::InsufficientData(_))
        ));
    }

    #[test]
    fn hc2_with_fixed_effects_is_refused() {
        let g = Factor::from_labels("unit", &[0, 0, 1, 1, 2, 2]);
        let fit = LinearModel::new("y", vec![1.0, 2.0, 3.0, 5.0, 2.0, 1.0])
            .regressor("x", vec![1.0, 2.0, 1.0, 4.0, 0.0, 2.0])
            .absorb(FixedEffects::new(vec![g]).unwrap())
            .fit()
            .unwrap();
        assert!(matches!(
            fit.vcov(&Vcov::Hc2),
            Err(StatsError::UnsupportedVcov { .. })
        ));
    }
}

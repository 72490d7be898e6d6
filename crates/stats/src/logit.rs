//! Logistic regression by iteratively reweighted least squares (Newton–Raphson).
//!
//! Maximises `ℓ(β) = Σ yᵢ ηᵢ − log(1 + e^{ηᵢ})`, `η = Xβ`, by Newton steps
//! `β ← β + (XᵀWX)⁻¹ Xᵀ(y − p)` with `W = diag(p(1 − p))` (McCullagh & Nelder 1989,
//! *Generalized Linear Models*, §4.4). Converges when no coefficient moves by more than
//! `tolerance · (1 + |β|∞)`. When the outcome is (quasi-)completely separated the MLE does not
//! exist — coefficients grow without bound while fitted probabilities reach 0 or 1 — and the
//! fit fails with [`StatsError::Separation`] naming the diverging coefficient (Albert &
//! Anderson 1984, *Biometrika* 71).
//!
//! Variances: the inverse information `(XᵀWX)⁻¹` (model-based, as statsmodels' `nonrobust`)
//! or the HC0 sandwich `(XᵀWX)⁻¹ Xᵀ diag((y − p)²) X (XᵀWX)⁻¹`. Inference uses the normal
//! distribution.

use crate::dist;
use crate::error::{check_alpha, check_finite, check_len, invalid, Result, StatsError};
use crate::result::{Effect, EstimationResult, Report};
use nalgebra::{DMatrix, DVector};

/// Settings of the IRLS iteration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogitOptions {
    /// Relative convergence tolerance on the coefficients. Default 1e-10.
    pub tolerance: f64,
    /// Maximum Newton iterations. Default 100.
    pub max_iterations: usize,
}

impl Default for LogitOptions {
    fn default() -> Self {
        LogitOptions {
            tolerance: 1e-10,
            max_iterations: 100,
        }
    }
}

/// A logistic regression specification.
#[derive(Debug, Clone)]
pub struct Logit {
    y_name: String,
    y: Vec<f64>,
    x: Vec<(String, Vec<f64>)>,
    intercept: bool,
    options: LogitOptions,
}

/// Variance estimator of a logistic regression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogitVcov {
    /// Inverse Fisher information.
    ModelBased,
    /// Heteroskedasticity-robust sandwich without small-sample factor.
    Hc0,
}

impl Logit {
    /// A logistic regression of the 0/1 outcome `y` (named `name`), with an intercept.
    pub fn new(name: &str, y: Vec<f64>) -> Self {
        Logit {
            y_name: name.into(),
            y,
            x: Vec::new(),
            intercept: true,
            options: LogitOptions::default(),
        }
    }
    /// Adds a regressor.
    pub fn regressor(mut self, name: &str, values: Vec<f64>) -> Self {
        self.x.push((name.into(), values));
        self
    }
    /// Whether to include an intercept (default true).
    pub fn intercept(mut self, yes: bool) -> Self {
        self.intercept = yes;
        self
    }
    /// Iteration settings.
    pub fn options(mut self, options: LogitOptions) -> Self {
        self.options = options;
        self
    }

    /// Fits the model.
    pub fn fit(&self) -> Result<LogitFit> {
        let n = self.y.len();
        if n == 0 {
            return Err(StatsError::InsufficientData(
                "the outcome has no rows".into(),
            ));
        }
        check_finite(&self.y_name, &self.y)?;
        if let Some(row) = self.y.iter().position(|&v| !is_binary(v)) {
            return Err(StatsError::OutOfRange {
                variable: self.y_name.clone(),
                row,
                value: self.y[row],
                expected: "0 or 1".into(),
            });
        }
        let ones = self.y.iter().filter(|&&v| v > 0.5).count();
        if ones == 0 || ones == n {
            return Err(StatsError::Separation(format!(
                "the outcome `{}` is constant ({} of {n} rows are 1)",
                self.y_name, ones
            )));
        }
        let mut names = Vec::new();
        let mut cols: Vec<&[f64]> = Vec::new();
        let ones_col = vec![1.0; n];
        if self.intercept {
            names.push("Intercept".to_string());
            cols.push(&ones_col);
        }
        for (name, c) in &self.x {
            check_len(name, c.len(), n)?;
            check_finite(name, c)?;
            names.push(name.clone());
            cols.push(c);
        }
        let k = names.len();
        if k == 0 {
            return Err(invalid(
                "regressors",
                "the model has no regressors and no intercept",
            ));
        }
        if n <= k {
            return Err(StatsError::InsufficientData(format!(
                "{n} rows for {k} parameters"
            )));
        }
        let x = DMatrix::from_fn(n, k, |i, j| cols[j][i]);
        let y = DVector::from_vec(self.y.clone());
        let mut beta = DVector::zeros(k);
        let mut last_change = f64::INFINITY;
        for iter in 1..=self.options.max_iterations {
            let eta = &x * &beta;
            let p = eta.map(sigmoid);
            let w = p.map(|v| v * (1.0 - v));
            let info = weighted_gram(&x, &w);
            let score = x.transpose() * (&y - &p);
            let chol = info
                .cholesky()
                .ok_or_else(|| collinear_or_separated(&names, &beta))?;
            let step = chol.solve(&score);
            beta += &step;
            let change = step.amax();
            last_change = change;
            if change <= self.options.tolerance * (1.0 + beta.amax()) {
                return self.finish(names, x, y, beta, iter);
            }
        }
        let eta = &x * &beta;
        let extreme = eta.iter().filter(|e| e.abs() > 20.0).count();
        if extreme > 0 {
            return Err(separation_error(&names, &beta, extreme));
        }
        Err(StatsError::NotConverged {
            method: "logistic regression (IRLS)".into(),
            iterations: self.options.max_iterations,
            tolerance: self.options.tolerance,
            last_change,
        })
    }

    fn finish(
        &self,
        names: Vec<String>,
        x: DMatrix<f64>,
        y: DVector<f64>,
        beta: DVector<f64>,
        iterations: usize,
    ) -> Result<LogitFit> {
        let eta = &x * &beta;
        let p = eta.map(sigmoid);
        let extreme = eta.iter().filter(|e| e.abs() > 30.0).count();
        if extreme > 0 {
            return Err(separation_error(&names, &beta, extreme));
        }
        let w = p.map(|v| v * (1.0 - v));
        let info = weighted_gram(&x, &w);
        let inv = info
            .try_inverse()
            .ok_or_else(|| collinear_or_separated(&names, &beta))?;
        let llf: f64 = eta
            .iter()
            .zip(y.iter())
            .map(|(e, yi)| yi * e - log1p_exp(*e))
            .sum();
        let n = y.len() as f64;
        let ybar = y.sum() / n;
        let llnull = n * (ybar * ybar.ln() + (1.0 - ybar) * (1.0 - ybar).ln());
        let r2 = &y - &p;
        let meat = weighted_gram(&x, &r2.map(|v| v * v));
        let hc0 = &inv * meat * &inv;
        Ok(LogitFit {
            y_name: self.y_name.clone(),
            names,
            coef: beta,
            inv_info: inv,
            hc0,
            iterations,
            llf,
            llnull,
            n: y.len(),
        })
    }
}

/// Whether `v` is exactly a 0/1 code (exact comparison intended: codes, not measurements).
#[allow(clippy::float_cmp)]
fn is_binary(v: f64) -> bool {
    v == 0.0 || v == 1.0
}

fn sigmoid(e: f64) -> f64 {
    if e >= 0.0 {
        1.0 / (1.0 + (-e).exp())
    } else {
        let z = e.exp();
        z / (1.0 + z)
    }
}

fn log1p_exp(e: f64) -> f64 {
    if e > 0.0 {
        e + (-e).exp().ln_1p()
    } else {
        e.exp().ln_1p()
    }
}

fn weighted_gram(x: &DMatrix<f64>, w: &DVector<f64>) -> DMatrix<f64> {
    let mut xw = x.clone();
    for (j, mut col) in xw.column_iter_mut().enumerate() {
        let _ = j;
        col.component_mul_assign(w);
    }
    x.transpose() * xw
}

fn collinear_or_separated(names: &[String], beta: &DVector<f64>) -> StatsError {
    if beta.amax() > 15.0 {
        separation_error(names, beta, 0)
    } else {
        StatsError::Collinear {
            column: names.last().cloned().unwrap_or_default(),
            with: "other regressors (X'WX is singular)".into(),
        }
    }
}

fn separation_error(names: &[String], beta: &DVector<f64>, extreme: usize) -> StatsError {
    let j = beta.iamax();
    StatsError::Separation(format!(
        "the outcome is (quasi-)perfectly predicted: {extreme} rows have fitted probabilities numerically 0 or 1 and the coefficient of `{}` diverges ({:.3e}); the maximum-likelihood estimate does not exist — drop or merge the separating variable, or use a penalised fit",
        names[j], beta[j]
    ))
}

/// A fitted logistic regression.
#[derive(Debug, Clone)]
pub struct LogitFit {
    y_name: String,
    names: Vec<String>,
    coef: DVector<f64>,
    inv_info: DMatrix<f64>,
    hc0: DMatrix<f64>,
    iterations: usize,
    llf: f64,
    llnull: f64,
    n: usize,
}

impl LogitFit {
    /// Coefficient names.
    pub fn names(&self) -> &[String] {
        &self.names
    }
    /// Coefficients (log-odds scale).
    pub fn coef(&self) -> &[f64] {
        self.coef.as_slice()
    }
    /// Newton iterations used.
    pub fn iterations(&self) -> usize {
        self.iterations
    }
    /// Log-likelihood at the estimate.
    pub fn log_likelihood(&self) -> f64 {
        self.llf
    }
    /// Log-likelihood of the intercept-only model.
    pub fn null_log_likelihood(&self) -> f64 {
        self.llnull
    }
    /// Coefficient covariance matrix.
    pub fn vcov(&self, kind: LogitVcov) -> &DMatrix<f64> {
        match kind {
            LogitVcov::ModelBased => &self.inv_info,
            LogitVcov::Hc0 => &self.hc0,
        }
    }
    /// Standard errors.
    pub fn std_errors(&self, kind: LogitVcov) -> Vec<f64> {
        let v = self.vcov(kind);
        (0..self.names.len()).map(|j| v[(j, j)].sqrt()).collect()
    }
    /// Predicted probabilities for new rows (one slice per regressor, intercept added if the
    /// model has one).
    pub fn predict(&self, x: &[&[f64]]) -> Result<Vec<f64>> {
        let has_int = self.names.first().is_some_and(|n| n == "Intercept");
        let k = self.names.len() - usize::from(has_int);
        if x.len() != k {
            return Err(StatsError::LengthMismatch {
                what: "regressors".into(),
                got: x.len(),
                expected: k,
            });
        }
        let n = x.first().map_or(0, |c| c.len());
        for (j, c) in x.iter().enumerate() {
            check_len(&self.names[j + usize::from(has_int)], c.len(), n)?;
        }
        Ok((0..n)
            .map(|i| {
                let mut e = if has_int { self.coef[0] } else { 0.0 };
                for (j, c) in x.iter().enumerate() {
                    e += self.coef[j + usize::from(has_int)] * c[i];
                }
                sigmoid(e)
            })
            .collect())
    }

    /// Wald inference (normal) with the chosen variance.
    pub fn inference(&self, kind: LogitVcov, alpha: f64) -> Result<EstimationResult> {
        check_alpha(alpha)?;
        let z = dist::normal_quantile(1.0 - alpha / 2.0)?;
        let se = self.std_errors(kind);
        let mut r = EstimationResult::new(
            "Logistic regression (IRLS)",
            format!("log-odds coefficients for `{}`", self.y_name),
        );
        for (j, name) in self.names.iter().enumerate() {
            let b = self.coef[j];
            r.effects.push(Effect {
                key: crate::EffectKey::kind(crate::EffectKind::Coefficient)
                    .term(name.clone())
                    .metric(self.y_name.clone()),
                label: name.clone(),
                estimate: b,
                std_error: Some(se[j]),
                ci_low: Some(b - z * se[j]),
                ci_high: Some(b + z * se[j]),
                p_value: Some((2.0 * dist::normal_sf((b / se[j]).abs())).min(1.0)),
            });
        }
        let d = &mut r.diagnostics;
        d.insert("n_obs".into(), self.n.into());
        d.insert(
            "vcov".into(),
            (if kind == LogitVcov::Hc0 {
                "HC0"
            } else {
                "model-based"
            })
            .into(),
        );
        d.insert("log_likelihood".into(), self.llf.into());
        d.insert("null_log_likelihood".into(), self.llnull.into());
        d.insert(
            "pseudo_r_squared".into(),
            (1.0 - self.llf / self.llnull).into(),
        );
        d.insert("iterations".into(), self.iterations.into());
        Ok(r)
    }
}

impl Report for LogitFit {
    fn result(&self) -> EstimationResult {
        self.inference(LogitVcov::ModelBased, 0.05)
            .expect("alpha 0.05 is valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_separation_is_reported() {
        let x = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let y = vec![0.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let e = Logit::new("y", y).regressor("x", x).fit().unwrap_err();
        assert!(
            matches!(e, StatsError::Separation(ref m) if m.contains('x')),
            "{e}"
        );
    }

    #[test]
    fn quasi_complete_separation_is_reported() {
        // d = 1 implies y = 1; d = 0 has both outcomes
        let d = vec![0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let z = vec![0.3, 1.2, -0.5, 0.8, 0.1, -1.0, 0.4];
        let y = vec![0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0];
        let e = Logit::new("y", y)
            .regressor("d", d)
            .regressor("z", z)
            .fit()
            .unwrap_err();
        assert!(
            matches!(e, StatsError::Separation(ref m) if m.contains("`d`")),
            "{e}"
        );
    }

    #[test]
    fn bad_outcomes_are_named() {
        let e = Logit::new("y", vec![0.0, 2.0, 1.0])
            .regressor("x", vec![1.0, 2.0, 3.0])
            .fit()
            .unwrap_err();
        assert!(matches!(e, StatsError::OutOfRange { row: 1, .. }));
        let e = Logit::new("y", vec![1.0; 3])
            .regressor("x", vec![1.0, 2.0, 3.0])
            .fit()
            .unwrap_err();
        assert!(matches!(e, StatsError::Separation(_)));
    }
}

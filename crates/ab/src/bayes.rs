//! Bayesian A/B analysis: the Gaussian effect model of GrowthBook (gbstats) and the exact
//! beta-binomial model for conversion rates.
//!
//! **Gaussian effect model** ([`gaussian`]; gbstats `EffectBayesianABTest`, GrowthBook docs
//! "Bayesian statistics engine"): the data give an estimate θ̂ of the lift with variance
//! V (absolute: θ̂ = μ_B − μ_A, V = σ²_A/n_A + σ²_B/n_B; relative: θ̂ = (μ_B − μ_A)/μ_A with
//! the delta-method V = σ²_B/(n_B μ_A²) + σ²_A μ_B²/(n_A μ_A⁴)). With a proper normal prior
//! θ ~ N(m₀, v₀) the posterior is normal with precision 1/V + 1/v₀ and mean
//! (θ̂/V + m₀/v₀)/(1/V + 1/v₀); with a flat prior it is N(θ̂, V). Then
//!
//! ```text
//! chance to win  = P(θ > 0) = Φ(μ/σ)
//! credible int.  = μ ± z_{1−α/2} σ
//! risk (control) = E[max(θ, 0)]  = μΦ(μ/σ) + σφ(μ/σ)   (expected loss of keeping control)
//! risk (treat.)  = E[max(−θ, 0)] = −μΦ(−μ/σ) + σφ(μ/σ) (expected loss of shipping)
//! ```
//!
//! For an "inverse" metric (lower is better) the chance to win is P(θ < 0) and the two risks
//! swap, as in gbstats. A prior given on the other scale (absolute for a relative analysis or
//! vice versa) is rescaled by |μ_A| (mean) and μ_A² (variance), as gbstats does.
//!
//! **Beta-binomial model** ([`beta_binomial`]): p_A ~ Beta(a₀ + x_A, b₀ + n_A − x_A) and likewise
//! for B. P(p_B > p_A) is computed exactly: by Evan Miller's closed-form sum ("Formulas for
//! Bayesian A/B testing", 2015)
//! P(p_B > p_A) = Σ_{i=0}^{α_B−1} B(α_A+i, β_A+β_B) / ((β_B+i) B(1+i, β_B) B(α_A, β_A))
//! when α_B is an integer (up to 10⁶ terms), otherwise by adaptive quadrature of
//! ∫ f_B(x) I_x(α_A, β_A) dx. The expected losses E[max(p_A − p_B, 0)] (of shipping B) and
//! E[max(p_B − p_A, 0)] (of keeping A) use E[(p_A − y)⁺] = μ_A(1 − I_y(α_A+1, β_A)) −
//! y(1 − I_y(α_A, β_A)) integrated against f_B; credible intervals are the equal-tailed Beta
//! quantiles per arm and, for the difference p_B − p_A, the quantiles of its exact CDF
//! P(p_B − p_A ≤ d) = ∫ f_A(x) I_{x+d}(α_B, β_B) dx.

use crate::planning::quad;
use causalkit_stats::dist::{normal_cdf, normal_quantile, normal_sf};
use causalkit_stats::error::check_alpha;
use causalkit_stats::{Effect, Result, StatsError};
use serde::Serialize;
use statrs::function::beta::{beta_reg, ln_beta};

fn invalid(name: &str, reason: impl Into<String>) -> StatsError {
    StatsError::InvalidArgument {
        name: name.to_string(),
        reason: reason.into(),
    }
}

/// Sufficient statistics of one arm: units, mean and (sample) variance of the metric.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Arm {
    /// Number of units.
    pub n: f64,
    /// Mean of the metric.
    pub mean: f64,
    /// Per-unit variance of the metric.
    pub variance: f64,
}

impl Arm {
    /// From count, sum and sum of squares, with gbstats' variance (Σx² − (Σx)²/n)/(n − 1).
    pub fn from_sums(n: f64, sum: f64, sum_sq: f64) -> Result<Self> {
        if !(n.is_finite() && n >= 2.0) {
            return Err(invalid("n", format!("needs at least 2 units, got {n}")));
        }
        if !sum.is_finite() || !sum_sq.is_finite() {
            return Err(invalid(
                "sum",
                format!("sum {sum} and sum_sq {sum_sq} must be finite"),
            ));
        }
        Ok(Arm {
            n,
            mean: sum / n,
            variance: ((sum_sq - sum * sum / n) / (n - 1.0)).max(0.0),
        })
    }

    /// A proportion: `successes` of `n`, variance p(1 − p) (as gbstats).
    pub fn proportion(successes: f64, n: f64) -> Result<Self> {
        if !(n.is_finite() && n > 0.0) {
            return Err(invalid("n", format!("must be positive, got {n}")));
        }
        if !(successes >= 0.0 && successes <= n) {
            return Err(invalid(
                "successes",
                format!("must lie in [0, n = {n}], got {successes}"),
            ));
        }
        let p = successes / n;
        Ok(Arm {
            n,
            mean: p,
            variance: p * (1.0 - p),
        })
    }
}

/// Normal prior on the effect.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GaussianPrior {
    /// Prior mean m₀.
    pub mean: f64,
    /// Prior variance v₀ (> 0).
    pub variance: f64,
    /// Whether the prior is on the relative (true) or absolute (false) scale.
    pub relative: bool,
}

/// Options of [`gaussian`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GaussianOptions {
    /// Analyse the relative lift (μ_B − μ_A)/μ_A (true, gbstats' default) or the difference.
    pub relative: bool,
    /// Proper prior on the effect; `None` = flat (improper) prior.
    pub prior: Option<GaussianPrior>,
    /// 1 − credible level of the interval.
    pub alpha: f64,
    /// Lower is better (chance to win = P(θ < 0), risks swapped).
    pub inverse: bool,
}

impl Default for GaussianOptions {
    /// Relative lift, flat prior, 95 % interval, higher is better.
    fn default() -> Self {
        GaussianOptions {
            relative: true,
            prior: None,
            alpha: 0.05,
            inverse: false,
        }
    }
}

/// Posterior summary of the Gaussian effect model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GaussianPosterior {
    /// Whether the effect is the relative lift.
    pub relative: bool,
    /// Data estimate θ̂ (before the prior).
    pub data_estimate: f64,
    /// Data variance V.
    pub data_variance: f64,
    /// Posterior mean of the effect.
    pub mean: f64,
    /// Posterior standard deviation.
    pub std_dev: f64,
    /// Lower end of the equal-tailed credible interval.
    pub ci_low: f64,
    /// Upper end of the equal-tailed credible interval.
    pub ci_high: f64,
    /// P(treatment better) (P(θ > 0), or P(θ < 0) for an inverse metric).
    pub chance_to_win: f64,
    /// Expected loss of keeping the control (in effect units), gbstats `risk[0]`.
    pub risk_control: f64,
    /// Expected loss of shipping the treatment, gbstats `risk[1]`.
    pub risk_treatment: f64,
}

impl GaussianPosterior {
    /// The posterior as an [`Effect`] (estimate = posterior mean, std_error = posterior SD,
    /// credible interval; no p-value).
    pub fn to_effect(&self) -> Effect {
        Effect {
            key: Default::default(),
            label: if self.relative {
                "relative lift (posterior)"
            } else {
                "difference (posterior)"
            }
            .to_string(),
            estimate: self.mean,
            std_error: Some(self.std_dev),
            ci_low: Some(self.ci_low),
            ci_high: Some(self.ci_high),
            p_value: None,
        }
    }
}

/// E[max(X, 0)] for X ~ N(μ, σ²).
fn positive_part_mean(mu: f64, sigma: f64) -> f64 {
    let z = mu / sigma;
    let phi = (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
    mu * normal_cdf(z) + sigma * phi
}

/// Gaussian Bayesian A/B test of B (treatment) against A (control), gbstats' form (see the
/// module docs). Reference: gbstats `tests/bayesian/test_tests.py`.
///
/// ```
/// use causalkit_ab::bayes::{gaussian, Arm, GaussianOptions};
/// let a = Arm::from_sums(10.0, 100.0, 1002.25).unwrap();
/// let b = Arm::from_sums(10.0, 105.0, 1111.5).unwrap();
/// let post = gaussian(&a, &b, &GaussianOptions::default()).unwrap();
/// assert!((post.mean - 0.05).abs() < 1e-12);
/// assert!((post.chance_to_win - 0.91923).abs() < 1e-5);
/// ```
pub fn gaussian(a: &Arm, b: &Arm, opts: &GaussianOptions) -> Result<GaussianPosterior> {
    check_alpha(opts.alpha)?;
    for (name, arm) in [("control", a), ("treatment", b)] {
        if !(arm.n.is_finite() && arm.n > 0.0) {
            return Err(invalid(name, format!("needs units, got n = {}", arm.n)));
        }
        if !(arm.mean.is_finite() && arm.variance.is_finite() && arm.variance >= 0.0) {
            return Err(invalid(
                name,
                format!(
                    "mean {} and variance {} must be finite (variance >= 0)",
                    arm.mean, arm.variance
                ),
            ));
        }
    }
    if opts.relative && a.mean == 0.0 {
        return Err(invalid(
            "control",
            "relative lift needs a non-zero control mean",
        ));
    }
    let (est, var) = if opts.relative {
        let m2 = a.mean * a.mean;
        (
            (b.mean - a.mean) / a.mean,
            b.variance / (m2 * b.n) + a.variance * b.mean * b.mean / (m2 * m2 * a.n),
        )
    } else {
        (b.mean - a.mean, b.variance / b.n + a.variance / a.n)
    };
    if var.is_nan() || var <= 0.0 {
        return Err(invalid(
            "variance",
            "both arms have zero variance: the effect variance is 0",
        ));
    }
    let (mean, post_var) = match opts.prior {
        None => (est, var),
        Some(p) => {
            if !(p.variance.is_finite() && p.variance > 0.0 && p.mean.is_finite()) {
                return Err(invalid(
                    "prior",
                    format!(
                        "needs a finite mean and positive variance, got N({}, {})",
                        p.mean, p.variance
                    ),
                ));
            }
            let (m0, v0) = match (opts.relative, p.relative) {
                (true, false) => (p.mean / a.mean.abs(), p.variance / (a.mean * a.mean)),
                (false, true) => (p.mean * a.mean.abs(), p.variance * a.mean * a.mean),
                _ => (p.mean, p.variance),
            };
            let prec = 1.0 / var + 1.0 / v0;
            ((est / var + m0 / v0) / prec, 1.0 / prec)
        }
    };
    let sd = post_var.sqrt();
    let z = normal_quantile(1.0 - opts.alpha / 2.0)?;
    let p_pos = normal_sf(-mean / sd);
    let gain = positive_part_mean(mean, sd);
    let loss = positive_part_mean(-mean, sd);
    let (ctw, risk_control, risk_treatment) = if opts.inverse {
        (1.0 - p_pos, loss, gain)
    } else {
        (p_pos, gain, loss)
    };
    Ok(GaussianPosterior {
        relative: opts.relative,
        data_estimate: est,
        data_variance: var,
        mean,
        std_dev: sd,
        ci_low: mean - z * sd,
        ci_high: mean + z * sd,
        chance_to_win: ctw,
        risk_control,
        risk_treatment,
    })
}

/// Posterior summary of the beta-binomial model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BetaBinomialPosterior {
    /// Posterior Beta parameters (α, β) of the control rate.
    pub control: (f64, f64),
    /// Posterior Beta parameters (α, β) of the treatment rate.
    pub treatment: (f64, f64),
    /// Posterior means of the control and treatment rates.
    pub means: (f64, f64),
    /// Equal-tailed credible interval of the control rate.
    pub control_ci: (f64, f64),
    /// Equal-tailed credible interval of the treatment rate.
    pub treatment_ci: (f64, f64),
    /// Posterior mean of p_B − p_A.
    pub difference: f64,
    /// Equal-tailed credible interval of p_B − p_A (exact, by numerical inversion).
    pub difference_ci: (f64, f64),
    /// P(p_B > p_A), exact.
    pub prob_treatment_better: f64,
    /// E[max(p_B − p_A, 0)]: expected loss of keeping the control.
    pub risk_control: f64,
    /// E[max(p_A − p_B, 0)]: expected loss of shipping the treatment.
    pub risk_treatment: f64,
    /// How P(p_B > p_A) was computed ("closed-form sum" or "quadrature").
    pub method: String,
}

impl BetaBinomialPosterior {
    /// The difference p_B − p_A as an [`Effect`] (posterior mean and credible interval).
    pub fn to_effect(&self) -> Effect {
        Effect {
            key: Default::default(),
            ci_low: Some(self.difference_ci.0),
            ci_high: Some(self.difference_ci.1),
            ..Effect::point("difference in rates (posterior)", self.difference)
        }
    }
}

/// Beta prior parameters; `(1, 1)` is uniform.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct BetaPrior {
    /// a₀ > 0.
    pub a: f64,
    /// b₀ > 0.
    pub b: f64,
}

impl Default for BetaPrior {
    /// The uniform prior Beta(1, 1).
    fn default() -> Self {
        BetaPrior { a: 1.0, b: 1.0 }
    }
}

fn ln_beta_pdf(x: f64, a: f64, b: f64, lnb: f64) -> f64 {
    if x <= 0.0 || x >= 1.0 {
        return f64::NEG_INFINITY;
    }
    (a - 1.0) * x.ln() + (b - 1.0) * (-x).ln_1p() - lnb
}

/// Integration range and number of starting pieces covering the bulk (±14 SD) of Beta(a, b).
fn beta_range(a: f64, b: f64) -> (f64, f64) {
    let m = a / (a + b);
    let sd = (a * b / ((a + b) * (a + b) * (a + b + 1.0))).sqrt();
    ((m - 14.0 * sd).max(0.0), (m + 14.0 * sd).min(1.0))
}

/// ∫ f_{Beta(a,b)}(x) g(x) dx over the bulk of the density.
fn beta_expect<G: Fn(f64) -> f64>(a: f64, b: f64, g: G) -> f64 {
    let lnb = ln_beta(a, b);
    let (lo, hi) = beta_range(a, b);
    quad::integrate(
        |x| {
            let l = ln_beta_pdf(x, a, b, lnb);
            if l.is_finite() {
                l.exp() * g(x)
            } else {
                0.0
            }
        },
        lo,
        hi,
        1e-13,
        12,
    )
}

fn ireg(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        0.0
    } else if x >= 1.0 {
        1.0
    } else {
        beta_reg(a, b, x)
    }
}

/// P(p_B > p_A) by Evan Miller's closed-form sum (α_B integer).
fn prob_b_beats_a_sum(aa: f64, ba: f64, ab: f64, bb: f64) -> f64 {
    let k = ab.round() as usize;
    let lba = ln_beta(aa, ba);
    let mut total = 0.0;
    for i in 0..k {
        let fi = i as f64;
        total += (ln_beta(aa + fi, ba + bb) - (bb + fi).ln() - ln_beta(1.0 + fi, bb) - lba).exp();
    }
    total
}

/// Exact Bayesian beta-binomial A/B test of `x_b`/`n_b` (treatment) against `x_a`/`n_a`
/// (control) under the prior Beta(a₀, b₀) for both rates (see the module docs).
///
/// ```
/// use causalkit_ab::bayes::{beta_binomial, BetaPrior};
/// let post = beta_binomial(49.0, 100.0, 51.0, 100.0, BetaPrior::default(), 0.05).unwrap();
/// assert!(post.prob_treatment_better > 0.6 && post.prob_treatment_better < 0.62);
/// ```
pub fn beta_binomial(
    x_a: f64,
    n_a: f64,
    x_b: f64,
    n_b: f64,
    prior: BetaPrior,
    alpha: f64,
) -> Result<BetaBinomialPosterior> {
    check_alpha(alpha)?;
    for (name, x, n) in [("control", x_a, n_a), ("treatment", x_b, n_b)] {
        if !(n.is_finite() && n >= 0.0) {
            return Err(invalid(name, format!("n must be finite and >= 0, got {n}")));
        }
        if !(x >= 0.0 && x <= n) {
            return Err(invalid(
                name,
                format!("successes must lie in [0, n = {n}], got {x}"),
            ));
        }
    }
    if !(prior.a.is_finite() && prior.a > 0.0 && prior.b.is_finite() && prior.b > 0.0) {
        return Err(invalid(
            "prior",
            format!("Beta({}, {}) needs positive parameters", prior.a, prior.b),
        ));
    }
    let (aa, ba) = (prior.a + x_a, prior.b + n_a - x_a);
    let (ab, bb) = (prior.a + x_b, prior.b + n_b - x_b);
    let (ma, mb) = (aa / (aa + ba), ab / (ab + bb));
    let integer_ab = (ab - ab.round()).abs() < 1e-12 && ab <= 1e6;
    let (prob, method) = if integer_ab {
        (prob_b_beats_a_sum(aa, ba, ab, bb), "closed-form sum")
    } else {
        (beta_expect(ab, bb, |x| ireg(aa, ba, x)), "quadrature")
    };
    let prob = prob.clamp(0.0, 1.0);
    // E[(p_A − y)+] for fixed y, then averaged over y ~ p_B; and symmetrically.
    let risk_treatment = beta_expect(ab, bb, |y| {
        (ma * (1.0 - ireg(aa + 1.0, ba, y)) - y * (1.0 - ireg(aa, ba, y))).max(0.0)
    });
    let risk_control = beta_expect(aa, ba, |y| {
        (mb * (1.0 - ireg(ab + 1.0, bb, y)) - y * (1.0 - ireg(ab, bb, y))).max(0.0)
    });
    // causalkit_stats' bounded beta quantile (statrs' inverse CDF can loop without end at
    // huge shapes, i.e. huge counts).
    let q = |a: f64, b: f64| -> Result<(f64, f64)> {
        Ok((
            causalkit_stats::dist::beta_quantile(alpha / 2.0, a, b)?,
            causalkit_stats::dist::beta_quantile(1.0 - alpha / 2.0, a, b)?,
        ))
    };
    let diff_cdf = |d: f64| beta_expect(aa, ba, |x| ireg(ab, bb, x + d));
    let solve = |p: f64| quad::bisect(|d| diff_cdf(d) - p, -1.0, 1.0, 1e-10);
    Ok(BetaBinomialPosterior {
        control: (aa, ba),
        treatment: (ab, bb),
        means: (ma, mb),
        control_ci: q(aa, ba)?,
        treatment_ci: q(ab, bb)?,
        difference: mb - ma,
        difference_ci: (solve(alpha / 2.0), solve(1.0 - alpha / 2.0)),
        prob_treatment_better: prob,
        risk_control,
        risk_treatment,
        method: method.to_string(),
    })
}

//! Experiment planning: power, sample size, minimum detectable effect (MDE) and run length.
//!
//! All functions take the per-unit variance of the metric (a [`MetricPlan`]) and a
//! [`Design`] (significance level, alternative, allocation, optional daily traffic).
//!
//! **Normal (z) approximation** (used by [`power`], [`sample_size`], [`mde`]): with total
//! sample N, treatment share f, per-unit variance σ² (the same in both arms) and absolute
//! effect δ, the standard error of the difference in means is
//!
//! ```text
//! se = σ · sqrt( 1/(N(1-f)) + 1/(N f) )
//! two-sided power = Φ(δ/se − z_{1−α/2}) + Φ(−δ/se − z_{1−α/2})
//! one-sided power = Φ(±δ/se − z_{1−α})          (+ for "greater", − for "less")
//! ```
//!
//! exactly as statsmodels' `NormalIndPower` (both tails counted in the two-sided case);
//! sample size and MDE invert this power function numerically (so they agree with
//! `NormalIndPower.solve_power`, not with the one-tail textbook shortcut
//! N ∝ (z_{1−α/2} + z_{1−β})²).
//!
//! Metric variances (per unit): mean σ², proportion p(1−p), ratio of means by the delta
//! method (Deng, Lu & Litz 2018, "Applying the delta method in metric analytics", KDD)
//! `Var(Y/X) ≈ (σ²_Y − 2R σ_XY + R² σ²_X)/μ_X²` with R = μ_Y/μ_X, and a CUPED-adjusted metric
//! σ²(1 − ρ²) (Deng, Xu, Kohavi & Walker 2013, "Improving the sensitivity of online controlled
//! experiments by utilizing pre-experiment data", WSDM), ρ = corr(Y, pre-period covariate).
//! A relative effect r is converted to the absolute δ = r · μ (μ the baseline mean).
//!
//! **Exact two-sample t power** ([`t_test_power`]): with Cohen's d, df = n₁ + n₂ − 2 and
//! noncentrality λ = d·sqrt(n₁n₂/(n₁+n₂)), power = P(T'_{df,λ} > t_{1−α/2}) +
//! P(T'_{df,λ} < −t_{1−α/2}) under the noncentral t, evaluated by adaptive quadrature of
//! P(T' > c) = E_s[Φ(λ − c·s)], s = sqrt(χ²_df/df) (as statsmodels' `TTestIndPower`, R `pwr`).
//!
//! ```
//! use causalkit_ab::planning::{sample_size, Design, EffectSize, MetricPlan};
//! // Conversion 10 %, detect +5 % relative with 80 % power, 50/50, 5 % two-sided:
//! let plan = sample_size(&MetricPlan::proportion(0.10).unwrap(), EffectSize::Relative(0.05),
//!                        0.8, &Design::default()).unwrap();
//! assert!(plan.n_total > 100_000.0 && plan.n_total < 120_000.0);
//! assert!(plan.power >= 0.8);
//! ```

pub(crate) mod quad;

use causalkit_stats::dist::{normal_cdf, normal_quantile, t_quantile};
use causalkit_stats::error::check_alpha;
use causalkit_stats::{Effect, Result, StatsError};
use serde::Serialize;

fn invalid(name: &str, reason: impl Into<String>) -> StatsError {
    StatsError::InvalidArgument {
        name: name.to_string(),
        reason: reason.into(),
    }
}

fn positive(name: &str, x: f64) -> Result<()> {
    if x.is_finite() && x > 0.0 {
        Ok(())
    } else {
        Err(invalid(
            name,
            format!("must be finite and positive, got {x}"),
        ))
    }
}

/// The alternative hypothesis of a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Alternative {
    /// H1: effect ≠ 0.
    TwoSided,
    /// H1: effect > 0 (treatment greater).
    Greater,
    /// H1: effect < 0 (treatment less).
    Less,
}

/// Design of a two-arm experiment for planning.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Design {
    /// Significance level α in (0, 1).
    pub alpha: f64,
    /// The alternative hypothesis.
    pub alternative: Alternative,
    /// Share f of units allocated to treatment, in (0, 1) (0.5 = equal allocation).
    pub treatment_share: f64,
    /// Eligible units per day (both arms together), used to report the run length in days.
    pub daily_units: Option<f64>,
}

impl Default for Design {
    /// α = 0.05, two-sided, 50/50 allocation, no traffic information.
    fn default() -> Self {
        Design {
            alpha: 0.05,
            alternative: Alternative::TwoSided,
            treatment_share: 0.5,
            daily_units: None,
        }
    }
}

impl Design {
    fn validate(&self) -> Result<()> {
        check_alpha(self.alpha)?;
        if !(self.treatment_share > 0.0 && self.treatment_share < 1.0) {
            return Err(invalid(
                "treatment_share",
                format!("must lie in (0, 1), got {}", self.treatment_share),
            ));
        }
        if let Some(d) = self.daily_units {
            positive("daily_units", d)?;
        }
        Ok(())
    }

    /// se of the difference in means per unit σ at total sample `n`.
    fn se_factor(&self, n: f64) -> f64 {
        let f = self.treatment_share;
        (1.0 / (n * (1.0 - f)) + 1.0 / (n * f)).sqrt()
    }
}

/// The metric to plan for: its baseline mean and per-unit variance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MetricPlan {
    /// Baseline (control) mean μ, used to convert relative effects.
    pub baseline_mean: f64,
    /// Per-unit variance σ² of the analysed metric (after any variance reduction).
    pub variance: f64,
}

impl MetricPlan {
    /// A mean metric with baseline mean `mean` and per-unit standard deviation `sd`.
    pub fn mean(mean: f64, sd: f64) -> Result<Self> {
        if !mean.is_finite() {
            return Err(invalid("mean", format!("must be finite, got {mean}")));
        }
        positive("sd", sd)?;
        Ok(MetricPlan {
            baseline_mean: mean,
            variance: sd * sd,
        })
    }

    /// A proportion with baseline rate `p` in (0, 1): variance p(1 − p).
    pub fn proportion(p: f64) -> Result<Self> {
        if !(p > 0.0 && p < 1.0) {
            return Err(invalid(
                "p",
                format!("baseline rate must lie in (0, 1), got {p}"),
            ));
        }
        Ok(MetricPlan {
            baseline_mean: p,
            variance: p * (1.0 - p),
        })
    }

    /// A ratio metric mean(Y)/mean(X) (e.g. revenue per session) from per-unit means, variances
    /// and covariance of numerator Y and denominator X; per-unit delta-method variance
    /// (σ²_Y − 2Rσ_XY + R²σ²_X)/μ_X², R = μ_Y/μ_X (Deng, Lu & Litz 2018).
    pub fn ratio(
        mean_num: f64,
        mean_den: f64,
        var_num: f64,
        var_den: f64,
        cov: f64,
    ) -> Result<Self> {
        for (n, v) in [("mean_num", mean_num), ("cov", cov)] {
            if !v.is_finite() {
                return Err(invalid(n, format!("must be finite, got {v}")));
            }
        }
        if !mean_den.is_finite() || mean_den == 0.0 {
            return Err(invalid(
                "mean_den",
                format!("must be finite and non-zero, got {mean_den}"),
            ));
        }
        for (n, v) in [("var_num", var_num), ("var_den", var_den)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(invalid(
                    n,
                    format!("must be finite and non-negative, got {v}"),
                ));
            }
        }
        let r = mean_num / mean_den;
        let variance = (var_num - 2.0 * r * cov + r * r * var_den) / (mean_den * mean_den);
        if variance.is_nan() || variance <= 0.0 {
            return Err(invalid(
                "cov",
                format!("the delta-method variance is not positive ({variance}); check var/cov"),
            ));
        }
        Ok(MetricPlan {
            baseline_mean: r,
            variance,
        })
    }

    /// The same metric analysed with CUPED/regression adjustment on a pre-period covariate
    /// with correlation `rho`: variance σ²(1 − ρ²) (Deng et al. 2013).
    pub fn cuped(self, rho: f64) -> Result<Self> {
        if !(rho.is_finite() && rho.abs() < 1.0) {
            return Err(invalid(
                "rho",
                format!("correlation must lie in (-1, 1), got {rho}"),
            ));
        }
        Ok(MetricPlan {
            variance: self.variance * (1.0 - rho * rho),
            ..self
        })
    }

    fn validate(&self) -> Result<()> {
        positive("variance", self.variance)?;
        if !self.baseline_mean.is_finite() {
            return Err(invalid("baseline_mean", "must be finite"));
        }
        Ok(())
    }
}

/// An effect size, absolute (in metric units) or relative to the baseline mean.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum EffectSize {
    /// δ in metric units (treatment − control).
    Absolute(f64),
    /// r with δ = r · μ (e.g. 0.05 = +5 %).
    Relative(f64),
}

impl EffectSize {
    fn absolute(&self, m: &MetricPlan) -> Result<f64> {
        let d = match *self {
            EffectSize::Absolute(d) => d,
            EffectSize::Relative(r) => {
                if m.baseline_mean == 0.0 {
                    return Err(invalid(
                        "effect",
                        "a relative effect needs a non-zero baseline mean",
                    ));
                }
                r * m.baseline_mean
            }
        };
        if !d.is_finite() || d == 0.0 {
            return Err(invalid(
                "effect",
                format!("must be finite and non-zero, got {d}"),
            ));
        }
        Ok(d)
    }
}

/// The result of a power, sample-size or MDE calculation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PowerAnalysis {
    /// Absolute effect δ (treatment − control), in metric units.
    pub absolute_effect: f64,
    /// δ/μ, when the baseline mean is non-zero.
    pub relative_effect: Option<f64>,
    /// Control units (rounded up to integers by [`sample_size`]).
    pub n_control: f64,
    /// Treatment units (rounded up to integers by [`sample_size`]).
    pub n_treatment: f64,
    /// n_control + n_treatment.
    pub n_total: f64,
    /// Power at these sizes and this effect.
    pub power: f64,
    /// Standard error of the difference at these sizes.
    pub std_error: f64,
    /// Significance level used.
    pub alpha: f64,
    /// Run length n_total / daily_units, when daily traffic was given.
    pub days: Option<f64>,
}

impl PowerAnalysis {
    /// The planned effect as an [`Effect`] (estimate = δ, with its planned standard error).
    pub fn to_effect(&self) -> Effect {
        Effect {
            key: Default::default(),
            std_error: Some(self.std_error),
            ..Effect::point("planned absolute effect", self.absolute_effect)
        }
    }
}

/// Power of the z test for an absolute effect δ with standard error `se` (no validation).
fn z_power(delta: f64, se: f64, alpha: f64, alt: Alternative) -> Result<f64> {
    let t = delta / se;
    Ok(match alt {
        Alternative::TwoSided => {
            let z = normal_quantile(1.0 - alpha / 2.0)?;
            normal_cdf(t - z) + normal_cdf(-t - z)
        }
        Alternative::Greater => normal_cdf(t - normal_quantile(1.0 - alpha)?),
        Alternative::Less => normal_cdf(-t - normal_quantile(1.0 - alpha)?),
    })
}

fn result(m: &MetricPlan, d: &Design, delta: f64, n_c: f64, n_t: f64) -> Result<PowerAnalysis> {
    let n = n_c + n_t;
    let se = (m.variance / n_c + m.variance / n_t).sqrt();
    Ok(PowerAnalysis {
        absolute_effect: delta,
        relative_effect: (m.baseline_mean != 0.0).then(|| delta / m.baseline_mean),
        n_control: n_c,
        n_treatment: n_t,
        n_total: n,
        power: z_power(delta, se, d.alpha, d.alternative)?,
        std_error: se,
        alpha: d.alpha,
        days: d.daily_units.map(|u| n / u),
    })
}

fn check_power(target: f64, d: &Design) -> Result<()> {
    let floor = match d.alternative {
        Alternative::TwoSided => d.alpha,
        _ => d.alpha,
    };
    if !(target > floor && target < 1.0) {
        return Err(invalid(
            "power",
            format!("target power must lie in (alpha = {floor}, 1), got {target}"),
        ));
    }
    Ok(())
}

fn check_direction(delta: f64, d: &Design) -> Result<()> {
    match d.alternative {
        Alternative::Greater if delta < 0.0 => Err(invalid(
            "effect",
            format!("alternative 'greater' needs a positive effect, got {delta}"),
        )),
        Alternative::Less if delta > 0.0 => Err(invalid(
            "effect",
            format!("alternative 'less' needs a negative effect, got {delta}"),
        )),
        _ => Ok(()),
    }
}

/// Power of the two-arm z test at total sample `n_total` for the given effect.
///
/// ```
/// use causalkit_ab::planning::{power, Design, EffectSize, MetricPlan};
/// let m = MetricPlan::mean(10.0, 2.0).unwrap();
/// let p = power(&m, EffectSize::Absolute(0.5), 1000.0, &Design::default()).unwrap();
/// assert!((p.power - 0.976_862_876_513).abs() < 1e-10); // scipy: Φ(δ/se − z) + Φ(−δ/se − z)
/// ```
pub fn power(
    metric: &MetricPlan,
    effect: EffectSize,
    n_total: f64,
    design: &Design,
) -> Result<PowerAnalysis> {
    metric.validate()?;
    design.validate()?;
    positive("n_total", n_total)?;
    let delta = effect.absolute(metric)?;
    let f = design.treatment_share;
    result(metric, design, delta, n_total * (1.0 - f), n_total * f)
}

/// The smallest total sample (per-arm sizes rounded up to integers) reaching `target_power`
/// for the given effect; the returned `power` is the power at the rounded sizes.
pub fn sample_size(
    metric: &MetricPlan,
    effect: EffectSize,
    target_power: f64,
    design: &Design,
) -> Result<PowerAnalysis> {
    metric.validate()?;
    design.validate()?;
    check_power(target_power, design)?;
    let delta = effect.absolute(metric)?;
    check_direction(delta, design)?;
    let sigma = metric.variance.sqrt();
    let n = solve_n(
        design,
        |n| {
            z_power(
                delta,
                sigma * design.se_factor(n),
                design.alpha,
                design.alternative,
            )
        },
        target_power,
    )?;
    let f = design.treatment_share;
    result(
        metric,
        design,
        delta,
        (n * (1.0 - f)).ceil(),
        (n * f).ceil(),
    )
}

/// Continuous total n at which the increasing function `pow(n)` reaches `target`.
fn solve_n<P: Fn(f64) -> Result<f64>>(design: &Design, pow: P, target: f64) -> Result<f64> {
    let _ = design;
    let mut hi = 4.0;
    while pow(hi)? < target {
        hi *= 2.0;
        if hi > 1e15 {
            return Err(invalid(
                "effect",
                "needs more than 1e15 units: effect too small",
            ));
        }
    }
    let lo = (hi / 2.0).max(1e-9);
    if pow(lo)? >= target {
        return Ok(lo);
    }
    let g = |n: f64| pow(n).map(|p| p - target).unwrap_or(f64::NAN);
    Ok(quad::bisect(g, lo, hi, 1e-13))
}

/// The minimum detectable effect: the |δ| at which the test reaches `target_power` with
/// `n_total` units (positive for two-sided and "greater", negative for "less").
pub fn mde(
    metric: &MetricPlan,
    n_total: f64,
    target_power: f64,
    design: &Design,
) -> Result<PowerAnalysis> {
    metric.validate()?;
    design.validate()?;
    check_power(target_power, design)?;
    positive("n_total", n_total)?;
    let se = metric.variance.sqrt() * design.se_factor(n_total);
    let sign = if design.alternative == Alternative::Less {
        -1.0
    } else {
        1.0
    };
    // The power is increasing in |δ|/se; the one-tail shortcut brackets the root.
    let za = match design.alternative {
        Alternative::TwoSided => normal_quantile(1.0 - design.alpha / 2.0)?,
        _ => normal_quantile(1.0 - design.alpha)?,
    };
    let zb = normal_quantile(target_power)?;
    let hi = (za + zb).max(0.0) + 1.0;
    let k = quad::bisect(
        |k| {
            z_power(sign * k * se, se, design.alpha, design.alternative).unwrap_or(f64::NAN)
                - target_power
        },
        0.0,
        hi,
        1e-14,
    );
    let f = design.treatment_share;
    result(
        metric,
        design,
        sign * k * se,
        n_total * (1.0 - f),
        n_total * f,
    )
}

/// Days needed to enrol `n_total` units at `daily_units` eligible units per day.
pub fn run_length_days(n_total: f64, daily_units: f64) -> Result<f64> {
    positive("n_total", n_total)?;
    positive("daily_units", daily_units)?;
    Ok(n_total / daily_units)
}

/// Degrees of freedom above which the noncentral t and the t quantile use their large-ν
/// asymptotic forms (see [`noncentral_t_sf`] and [`t_test_power`]). Above it the quadrature
/// window ±12/√ν around s = 1 and ln Γ(ν/2) lose precision, and at ν → 1e300 the window
/// collapses; the asymptotic forms are accurate to far below 1e-9 here.
pub const LARGE_DF: f64 = 1e6;

/// t_{1−q} for large ν by the Cornish–Fisher expansion (Abramowitz & Stegun 26.7.5), with
/// error O(z⁷/ν³): below 1e-15 for ν ≥ [`LARGE_DF`] and the quantiles used in planning.
fn t_quantile_large_df(p: f64, nu: f64) -> Result<f64> {
    let z = normal_quantile(p)?;
    let z2 = z * z;
    Ok(z + z * (z2 + 1.0) / (4.0 * nu) + z * ((5.0 * z2 + 16.0) * z2 + 3.0) / (96.0 * nu * nu))
}

/// t quantile for planning: the exact quantile up to [`LARGE_DF`], Cornish–Fisher above.
fn t_quantile_planning(p: f64, df: f64) -> Result<f64> {
    if df > LARGE_DF {
        t_quantile_large_df(p, df)
    } else {
        t_quantile(p, df)
    }
}

/// P(T' > c) for the noncentral t with `df` degrees of freedom and noncentrality `ncp`.
///
/// P(T' > c) = E_s[Φ(λ − c·s)], s = sqrt(χ²_ν/ν), by adaptive quadrature (bounded: at most
/// 2000 bisections). For ν > [`LARGE_DF`] the scale s is asymptotically normal with
/// E\[s\] = 1 − 1/(4ν) + O(ν⁻²) and Var(s) = 1/(2ν) + O(ν⁻²), so Z + λ − c·s is normal and
/// P(T' > c) ≈ Φ((λ − c(1 − 1/(4ν)))/sqrt(1 + c²/(2ν))) (error O(ν⁻²)); this also serves
/// ν up to f64::MAX in constant time.
pub fn noncentral_t_sf(c: f64, df: f64, ncp: f64) -> Result<f64> {
    positive("df", df)?;
    if !c.is_finite() || !ncp.is_finite() {
        return Err(invalid(
            "c",
            format!("t = {c} and ncp = {ncp} must be finite"),
        ));
    }
    if df > LARGE_DF {
        let mean_s = 1.0 - 0.25 / df;
        return Ok(normal_cdf(
            (ncp - c * mean_s) / (1.0 + c * c / (2.0 * df)).sqrt(),
        ));
    }
    Ok(quad::expect_over_chi_scale(
        |s| normal_cdf(ncp - c * s),
        df,
        1e-14,
        16,
    ))
}

/// Exact power of the two-sample Student t test (pooled variance) for standardised effect
/// `d` (Cohen's d) with `n1` and `n2` units, by the noncentral t distribution (see the module
/// docs). Reference: statsmodels `TTestIndPower` and R `pwr.t2n.test`; with d = 1, n = 30 per
/// arm, α = 0.05 two-sided the power is 0.967708258242517.
///
/// ```
/// use causalkit_ab::planning::{t_test_power, Alternative};
/// let p = t_test_power(1.0, 30.0, 30.0, 0.05, Alternative::TwoSided).unwrap();
/// assert!((p - 0.967708258242517).abs() < 1e-12);
/// ```
pub fn t_test_power(d: f64, n1: f64, n2: f64, alpha: f64, alternative: Alternative) -> Result<f64> {
    check_alpha(alpha)?;
    if !d.is_finite() {
        return Err(invalid("d", format!("must be finite, got {d}")));
    }
    for (name, n) in [("n1", n1), ("n2", n2)] {
        if !(n.is_finite() && n >= 2.0) {
            return Err(invalid(name, format!("needs at least 2 units, got {n}")));
        }
    }
    let df = n1 + n2 - 2.0;
    // sqrt(n1 n2 / (n1 + n2)) without forming n1·n2 (which overflows for n near 1e300).
    let ncp = d * (n1 / (n1 + n2)).sqrt() * n2.sqrt();
    if !ncp.is_finite() {
        return Err(invalid(
            "d",
            format!("the noncentrality d·sqrt(n1 n2/(n1+n2)) overflows (d = {d})"),
        ));
    }
    Ok(match alternative {
        Alternative::TwoSided => {
            let c = t_quantile_planning(1.0 - alpha / 2.0, df)?;
            noncentral_t_sf(c, df, ncp)? + noncentral_t_sf(c, df, -ncp)?
        }
        Alternative::Greater => noncentral_t_sf(t_quantile_planning(1.0 - alpha, df)?, df, ncp)?,
        Alternative::Less => noncentral_t_sf(t_quantile_planning(1.0 - alpha, df)?, df, -ncp)?,
    })
}

/// Per-arm sample size n (equal arms) for the exact two-sample t test to reach
/// `target_power` at standardised effect `d` (continuous, as statsmodels `solve_power`;
/// round up for a design).
pub fn t_test_sample_size(
    d: f64,
    target_power: f64,
    alpha: f64,
    alternative: Alternative,
) -> Result<f64> {
    check_alpha(alpha)?;
    if !(target_power > alpha && target_power < 1.0) {
        return Err(invalid(
            "power",
            format!("must lie in (alpha, 1), got {target_power}"),
        ));
    }
    if !d.is_finite() || d == 0.0 {
        return Err(invalid(
            "d",
            format!("must be finite and non-zero, got {d}"),
        ));
    }
    let pow = |n: f64| t_test_power(d, n, n, alpha, alternative).unwrap_or(f64::NAN);
    let mut hi = 4.0;
    while pow(hi) < target_power {
        hi *= 2.0;
        if hi > 1e12 {
            return Err(invalid(
                "d",
                "needs more than 1e12 units per arm: effect too small",
            ));
        }
    }
    let lo = (hi / 2.0).max(2.0);
    if pow(lo) >= target_power {
        return Ok(lo);
    }
    Ok(quad::bisect(|n| pow(n) - target_power, lo, hi, 1e-12))
}

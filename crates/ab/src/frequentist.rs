//! Frequentist comparison of two arms from sufficient statistics.
//!
//! Every metric is summarised per arm by an [`ArmStats`]: the number of (randomisation) units
//! `n`, the point estimate `μ` (a mean, a proportion, or a ratio of sums), and the per-unit
//! variance `σ²` of its linearisation, so that `Var(μ̂) = σ²/n`:
//!
//! ```text
//! mean:        μ = Σy/n,          σ² = (Σy² − (Σy)²/n)/(n − 1)
//! proportion:  μ = Σy/n,          σ² = μ(1 − μ)                       (gbstats' convention)
//! ratio:       R = Σm/Σd,         σ² = (σ²ₘ − 2R σₘd + R² σ²_d)/μ_d²   (delta method)
//! ```
//!
//! The ratio form is the delta method of Deng, Knoblich & Lu (2018), "Applying the delta method
//! in metric analytics: a practical guide with novel ideas", KDD; with the randomisation unit
//! (e.g. the agent) as the unit of the sums, it is the cluster-robust variance of a metric
//! defined at a finer analysis unit (e.g. handle seconds per contact).
//!
//! [`compare`] then gives, for control A and treatment B,
//!
//! ```text
//! absolute lift  Δ = μ_B − μ_A,            Var = σ²_A/n_A + σ²_B/n_B
//! relative lift  ρ = (μ_B − μ_A)/μ_A,      Var ≈ σ²_B/(n_B μ_A²) + σ²_A μ_B²/(n_A μ_A⁴)
//! ```
//!
//! tested with Welch's t (Welch–Satterthwaite degrees of freedom from the raw variances,
//! as in GrowthBook's gbstats) or with a normal z test. For proportions the z test's p-value
//! uses the pooled proportion under H₀ (`statsmodels.stats.proportion.proportions_ztest`),
//! the interval the unpooled variance. The relative lift also gets Fieller's (1954) interval
//! ("Some problems in interval estimation", JRSS B 16), which is exact for a ratio of normal
//! means and is reported as unbounded when the control mean is not distinguishable from
//! zero, rather than hidden.

use causalkit_stats::dist::{normal_quantile, normal_sf, t_critical, t_two_sided_p};
use causalkit_stats::error::check_alpha;
use causalkit_stats::{Effect, Moments, Result, StatsError};
use serde::{Deserialize, Serialize};

pub(crate) fn invalid(name: &str, reason: impl Into<String>) -> StatsError {
    StatsError::InvalidArgument {
        name: name.to_string(),
        reason: reason.into(),
    }
}

/// What kind of metric an arm's statistics describe (it sets the variance convention).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricType {
    /// A mean of a per-unit value: sample variance with n − 1.
    Mean,
    /// A share of 0/1 units: variance p(1 − p).
    Proportion,
    /// A ratio of sums (numerator and denominator per unit): delta method.
    Ratio,
}

/// Sufficient summary of one arm for one metric: `Var(mean) = variance / n`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ArmStats {
    /// Number of units.
    pub n: f64,
    /// Point estimate (possibly variance-reduced).
    pub mean: f64,
    /// The estimate before variance reduction (the denominator of relative lifts).
    pub unadjusted_mean: f64,
    /// Per-unit variance of the (linearised, possibly adjusted) metric.
    pub variance: f64,
}

impl ArmStats {
    /// From a count, mean and per-unit variance.
    pub fn new(n: f64, mean: f64, variance: f64) -> Result<Self> {
        for (name, v) in [("n", n), ("mean", mean), ("variance", variance)] {
            if !v.is_finite() {
                return Err(invalid(name, format!("must be finite, got {v}")));
            }
        }
        if n < 2.0 {
            return Err(StatsError::InsufficientData(format!(
                "an arm needs at least 2 units, got {n}"
            )));
        }
        if variance < 0.0 {
            return Err(invalid(
                "variance",
                format!("must be non-negative, got {variance}"),
            ));
        }
        Ok(ArmStats {
            n,
            mean,
            unadjusted_mean: mean,
            variance,
        })
    }

    /// From count, sum and sum of squares of a per-unit value (sample variance, n − 1).
    pub fn from_sums(n: f64, sum: f64, sum_squares: f64) -> Result<Self> {
        if n < 2.0 {
            return Err(StatsError::InsufficientData(format!(
                "an arm needs at least 2 units, got {n}"
            )));
        }
        let var = ((sum_squares - sum * sum / n) / (n - 1.0)).max(0.0);
        ArmStats::new(n, sum / n, var)
    }

    /// A proportion `successes / n` with variance p(1 − p).
    pub fn proportion(successes: f64, n: f64) -> Result<Self> {
        if !(0.0..=n).contains(&successes) {
            return Err(invalid(
                "successes",
                format!("must lie in [0, n = {n}], got {successes}"),
            ));
        }
        let p = successes / n;
        ArmStats::new(n, p, p * (1.0 - p))
    }

    /// A ratio of sums from its unit count and the sums and cross-products of numerator `m`
    /// and denominator `d`: `R = Σm/Σd`, per-unit variance by the delta method.
    pub fn ratio(
        n: f64,
        m_sum: f64,
        m_sum_squares: f64,
        d_sum: f64,
        d_sum_squares: f64,
        md_sum_product: f64,
    ) -> Result<Self> {
        if n < 2.0 {
            return Err(StatsError::InsufficientData(format!(
                "an arm needs at least 2 units, got {n}"
            )));
        }
        if d_sum <= 0.0 {
            return Err(invalid(
                "denominator_sum",
                format!("a ratio metric needs a positive denominator sum, got {d_sum}"),
            ));
        }
        let vm = (m_sum_squares - m_sum * m_sum / n) / (n - 1.0);
        let vd = (d_sum_squares - d_sum * d_sum / n) / (n - 1.0);
        let cmd = (md_sum_product - m_sum * d_sum / n) / (n - 1.0);
        let mu_d = d_sum / n;
        let r = m_sum / d_sum;
        let var = ((vm - 2.0 * r * cmd + r * r * vd) / (mu_d * mu_d)).max(0.0);
        ArmStats::new(n, r, var)
    }

    /// From a group's [`Moments`] over `numerator`, `denominator` (as produced by the data
    /// layer). With a denominator of exactly 1 per unit the metric is a mean (or, with
    /// [`MetricType::Proportion`], a proportion); otherwise a ratio.
    pub fn from_moments(m: &Moments, kind: MetricType) -> Result<Self> {
        let i = m.index_of("numerator")?;
        let j = m.index_of("denominator")?;
        let n = m.n() as f64;
        // Exact by design: a denominator of ones sums to exactly n.
        #[allow(clippy::float_cmp)]
        let unit_den = m.sum(j) == n && m.sum_product(j, j) == n;
        if !unit_den {
            return ArmStats::ratio(
                n,
                m.sum(i),
                m.sum_product(i, i),
                m.sum(j),
                m.sum_product(j, j),
                m.sum_product(i, j),
            );
        }
        match kind {
            MetricType::Proportion => ArmStats::proportion(m.sum(i), n),
            MetricType::Mean | MetricType::Ratio => {
                ArmStats::from_sums(n, m.sum(i), m.sum_product(i, i))
            }
        }
    }

    /// Standard error of the arm's estimate, `√(σ²/n)`.
    pub fn std_error(&self) -> f64 {
        (self.variance / self.n).sqrt()
    }
}

/// Which test statistic's reference distribution to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestKind {
    /// Welch's t with Welch–Satterthwaite degrees of freedom.
    Welch,
    /// Normal z (for proportions, the p-value uses the pooled proportion).
    Z,
}

/// Options of [`compare`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TestOptions {
    /// Two-sided significance level of the intervals.
    pub alpha: f64,
    /// Reference distribution.
    pub test: TestKind,
    /// Whether the metric is a 0/1 proportion (pooled z p-value).
    pub proportion: bool,
}

impl Default for TestOptions {
    fn default() -> Self {
        TestOptions {
            alpha: 0.05,
            test: TestKind::Welch,
            proportion: false,
        }
    }
}

/// One lift with its inference.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Lift {
    /// Point estimate.
    pub estimate: f64,
    /// Standard error.
    pub std_error: f64,
    /// Lower confidence limit.
    pub ci_low: f64,
    /// Upper confidence limit.
    pub ci_high: f64,
    /// Two-sided p-value of "no effect".
    pub p_value: f64,
    /// Degrees of freedom (infinite for z).
    pub df: f64,
}

impl Lift {
    /// As a labelled [`Effect`].
    pub fn to_effect(&self, label: impl Into<String>) -> Effect {
        Effect {
            key: Default::default(),
            label: label.into(),
            estimate: self.estimate,
            std_error: Some(self.std_error),
            ci_low: Some(self.ci_low),
            ci_high: Some(self.ci_high),
            p_value: Some(self.p_value),
        }
    }
}

/// Fieller's confidence set for the ratio μ_B/μ_A − 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum FiellerInterval {
    /// A finite interval `[low, high]`.
    Bounded {
        /// Lower limit.
        low: f64,
        /// Upper limit.
        high: f64,
    },
    /// The whole line except `(low, high)`: two unbounded rays.
    Exclusive {
        /// The upper end of the lower ray.
        low: f64,
        /// The lower end of the upper ray.
        high: f64,
    },
    /// The whole real line.
    Unbounded,
}

/// Fieller's confidence set for `θ = μ_B/μ_A − 1` with independent arm estimates of
/// variances `v_A`, `v_B` and critical value `c`: the θ + 1 with
/// `(μ_B − (θ+1) μ_A)² ≤ c² (v_B + (θ+1)² v_A)`. It is bounded iff `μ_A² > c² v_A`, i.e. iff
/// the control mean is significantly different from zero.
pub fn fieller(mean_a: f64, var_a: f64, mean_b: f64, var_b: f64, crit: f64) -> FiellerInterval {
    let c2 = crit * crit;
    let a = mean_a * mean_a - c2 * var_a;
    let b = -2.0 * mean_a * mean_b;
    let c = mean_b * mean_b - c2 * var_b;
    let disc = b * b - 4.0 * a * c;
    if a > 0.0 {
        let s = disc.max(0.0).sqrt();
        let r1 = (-b - s) / (2.0 * a);
        let r2 = (-b + s) / (2.0 * a);
        FiellerInterval::Bounded {
            low: r1.min(r2) - 1.0,
            high: r1.max(r2) - 1.0,
        }
    } else if disc > 0.0 && a < 0.0 {
        let s = disc.sqrt();
        let r1 = (-b - s) / (2.0 * a);
        let r2 = (-b + s) / (2.0 * a);
        FiellerInterval::Exclusive {
            low: r1.min(r2) - 1.0,
            high: r1.max(r2) - 1.0,
        }
    } else {
        FiellerInterval::Unbounded
    }
}

/// The comparison of treatment B with control A.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Control summary.
    pub control: ArmStats,
    /// Treatment summary.
    pub treatment: ArmStats,
    /// μ_B − μ_A.
    pub absolute: Lift,
    /// (μ_B − μ_A)/μ_A by the delta method; `None` when the control mean is not positive.
    pub relative: Option<Lift>,
    /// Fieller's set for the relative lift; `None` when the control mean is not positive.
    pub fieller: Option<FiellerInterval>,
    /// Caveats (non-positive control mean, unbounded Fieller set, zero variance).
    pub warnings: Vec<String>,
}

/// Welch–Satterthwaite degrees of freedom from the raw per-unit variances.
pub fn welch_df(a: &ArmStats, b: &ArmStats) -> f64 {
    let va = a.variance / a.n;
    let vb = b.variance / b.n;
    let den = va * va / (a.n - 1.0) + vb * vb / (b.n - 1.0);
    if den > 0.0 {
        (va + vb).powi(2) / den
    } else {
        f64::INFINITY
    }
}

pub(crate) fn lift(estimate: f64, se: f64, df: f64, crit: f64, p_se: f64) -> Result<Lift> {
    let p_value = if p_se > 0.0 {
        t_two_sided_p(estimate / p_se, df)?
    } else if estimate == 0.0 {
        1.0
    } else {
        0.0
    };
    Ok(Lift {
        estimate,
        std_error: se,
        ci_low: estimate - crit * se,
        ci_high: estimate + crit * se,
        p_value,
        df,
    })
}

/// Compares treatment `b` with control `a` (see the module docs for the formulas).
///
/// ```
/// use causalkit_ab::frequentist::{compare, ArmStats, TestOptions};
/// // gbstats tests/frequentist/test_tests.py: Welch absolute difference 0.29, p = 0.02016.
/// let a = ArmStats::from_sums(3407.0, 1396.87, 52377.9767).unwrap();
/// let b = ArmStats::from_sums(3461.0, 2422.7, 134698.29).unwrap();
/// let c = compare(&a, &b, &TestOptions::default()).unwrap();
/// assert!((c.absolute.p_value - 0.02016).abs() < 5e-6);
/// ```
pub fn compare(a: &ArmStats, b: &ArmStats, opts: &TestOptions) -> Result<Comparison> {
    check_alpha(opts.alpha)?;
    let df = match opts.test {
        TestKind::Welch => welch_df(a, b),
        TestKind::Z => f64::INFINITY,
    };
    let crit = t_critical(opts.alpha, df)?;
    let va = a.variance / a.n;
    let vb = b.variance / b.n;
    let diff = b.mean - a.mean;
    let se = (va + vb).sqrt();
    let mut warnings = Vec::new();
    if se == 0.0 {
        warnings.push("both arms have zero variance: no inference is possible".into());
    }
    let p_se = if opts.proportion && opts.test == TestKind::Z {
        let p = (a.mean * a.n + b.mean * b.n) / (a.n + b.n);
        (p * (1.0 - p) * (1.0 / a.n + 1.0 / b.n)).sqrt()
    } else {
        se
    };
    let absolute = lift(diff, se, df, crit, p_se)?;
    let ma = a.unadjusted_mean;
    let mb = b.unadjusted_mean;
    let (relative, fieller_set) = if ma > 0.0 {
        let rel = diff / ma;
        let rvar = b.variance / (ma * ma * b.n) + a.variance * mb * mb / (ma.powi(4) * a.n);
        let rse = rvar.sqrt();
        let rel_lift = lift(rel, rse, df, crit, rse)?;
        // Fieller on the adjusted means (their difference is the adjusted difference).
        let f = fieller(ma, va, ma + diff, vb, crit);
        if !matches!(f, FiellerInterval::Bounded { .. }) {
            warnings.push(format!(
                "the control mean {ma} is not significantly different from zero at level {}: Fieller's interval for the relative lift is unbounded, and the delta-method interval is not trustworthy; read the absolute lift",
                opts.alpha
            ));
        }
        (Some(rel_lift), Some(f))
    } else {
        warnings.push(format!(
            "the control mean is {ma} (not positive): a relative lift is not defined; only the absolute lift is reported"
        ));
        (None, None)
    };
    Ok(Comparison {
        control: *a,
        treatment: *b,
        absolute,
        relative,
        fieller: fieller_set,
        warnings,
    })
}

/// Wilson score interval for a proportion `x/n` (Wilson 1927, JASA 22).
pub fn wilson(x: f64, n: f64, alpha: f64) -> Result<(f64, f64)> {
    check_alpha(alpha)?;
    if n <= 0.0 || !(0.0..=n).contains(&x) {
        return Err(invalid(
            "n",
            format!("need 0 <= x <= n, n > 0; got x={x}, n={n}"),
        ));
    }
    let z = normal_quantile(1.0 - alpha / 2.0)?;
    let p = x / n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Ok((centre - half, centre + half))
}

/// Newcombe's hybrid score interval for the difference of proportions `x_B/n_B − x_A/n_A`
/// (Newcombe 1998, "Interval estimation for the difference between independent proportions",
/// Statistics in Medicine 17, method 10), built from the arms' Wilson intervals; it matches
/// `statsmodels.stats.proportion.confint_proportions_2indep(method="newcomb")`.
pub fn newcombe(xa: f64, na: f64, xb: f64, nb: f64, alpha: f64) -> Result<(f64, f64)> {
    let (la, ua) = wilson(xa, na, alpha)?;
    let (lb, ub) = wilson(xb, nb, alpha)?;
    let pa = xa / na;
    let pb = xb / nb;
    let d = pb - pa;
    let low = d - ((pb - lb).powi(2) + (ua - pa).powi(2)).sqrt();
    let high = d + ((ub - pb).powi(2) + (pa - la).powi(2)).sqrt();
    Ok((low, high))
}

/// Two-sided normal p-value helper `2 P(Z > |z|)`.
pub fn z_p_value(z: f64) -> f64 {
    (2.0 * normal_sf(z.abs())).min(1.0)
}

//! Multi-arm experiments: several treatments against one control with simultaneous inference.
//!
//! - [`dunnett`]: Dunnett's (1955, "A multiple comparison procedure for comparing several
//!   treatments with a control", *JASA* 50) many-to-one procedure, two-sided. The comparisons
//!   D_i = Ȳ_i − Ȳ_0 share the control mean, so corr(D_i, D_j) = Var(Ȳ_0)/(se_i se_j) =
//!   λ_iλ_j with λ_i = se_0/se_i. This product structure reduces the k-variate normal (or t)
//!   probability to a one- (two-) dimensional integral (Dunnett 1955; Hochberg & Tamhane 1987,
//!   *Multiple Comparison Procedures*, §3.2.1):
//!
//!   ```text
//!   P(max_i |T_i| ≤ c) = E_s ∫ φ(z) Π_i [ Φ((cs − λ_i z)/√(1−λ_i²)) − Φ((−cs − λ_i z)/√(1−λ_i²)) ] dz
//!   ```
//!
//!   with s = sqrt(χ²_ν/ν) for Student t with ν degrees of freedom (s ≡ 1 for the normal
//!   case). Both integrals are evaluated by adaptive Gauss–Kronrod quadrature (not Monte
//!   Carlo). Adjusted p-value p_i = 1 − P(max|T| ≤ |t_i|); simultaneous (1 − α) intervals
//!   D_i ± c_α se_i with P(max|T| ≤ c_α) = 1 − α. Reference: `scipy.stats.dunnett`.
//! - [`max_t`]: the single-step max-T procedure (Westfall & Young 1993, *Resampling-based
//!   multiple testing*; Hothorn, Bretz & Westfall 2008 `multcomp`) for any correlation matrix R
//!   of the statistics: the distribution of max_i |T_i| with T ~ N(0, R) (or multivariate t
//!   with ν df) is simulated with a seeded, thread-count-independent stream, giving adjusted
//!   p-values (1 + #{max|T*| ≥ |t_i|})/(1 + B) and the critical value as the (1 − α) quantile.

use crate::planning::quad;
use causalkit_stats::dist::{normal_cdf, normal_quantile, t_quantile};
use causalkit_stats::error::{check_alpha, check_finite, check_len};
use causalkit_stats::resample::{quantile, replicate};
use causalkit_stats::{Effect, Result, StatsError};
use nalgebra::DMatrix;
use rand::Rng;
use serde::Serialize;

fn invalid(name: &str, reason: impl Into<String>) -> StatsError {
    StatsError::InvalidArgument {
        name: name.to_string(),
        reason: reason.into(),
    }
}

/// One treatment-vs-control comparison with simultaneous inference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArmComparison {
    /// Index of the treatment arm (0-based, in input order).
    pub arm: usize,
    /// Estimated difference treatment − control.
    pub estimate: f64,
    /// Its standard error.
    pub std_error: f64,
    /// t (or z) statistic estimate/se.
    pub statistic: f64,
    /// Multiplicity-adjusted two-sided p-value.
    pub p_adjusted: f64,
    /// Lower end of the simultaneous interval.
    pub ci_low: f64,
    /// Upper end of the simultaneous interval.
    pub ci_high: f64,
}

/// Simultaneous many-to-one inference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MultiArmResult {
    /// "Dunnett" or "max-T (simulated)".
    pub method: String,
    /// 1 − simultaneous coverage.
    pub alpha: f64,
    /// Degrees of freedom of the t statistics (`None` = normal).
    pub df: Option<f64>,
    /// The simultaneous critical value c_α.
    pub critical_value: f64,
    /// Simulation draws (max-T only).
    pub draws: Option<usize>,
    /// One row per treatment arm.
    pub comparisons: Vec<ArmComparison>,
}

impl MultiArmResult {
    /// One [`Effect`] per arm, labelled with `labels` (or "arm i" when `labels` is too short).
    pub fn to_effects(&self, labels: &[&str]) -> Vec<Effect> {
        self.comparisons
            .iter()
            .map(|c| Effect {
                key: Default::default(),
                label: labels
                    .get(c.arm)
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| format!("arm {}", c.arm + 1)),
                estimate: c.estimate,
                std_error: Some(c.std_error),
                ci_low: Some(c.ci_low),
                ci_high: Some(c.ci_high),
                p_value: Some(c.p_adjusted),
            })
            .collect()
    }
}

fn check_inputs(estimates: &[f64], std_errors: &[f64], df: Option<f64>, alpha: f64) -> Result<()> {
    check_alpha(alpha)?;
    if estimates.is_empty() {
        return Err(StatsError::InsufficientData("no treatment arms".into()));
    }
    check_len("std_errors", std_errors.len(), estimates.len())?;
    check_finite("estimates", estimates)?;
    for (i, &s) in std_errors.iter().enumerate() {
        if !(s.is_finite() && s > 0.0) {
            return Err(StatsError::OutOfRange {
                variable: "std_errors".into(),
                row: i,
                value: s,
                expected: "finite and positive".into(),
            });
        }
    }
    if let Some(v) = df {
        if v.is_nan() || v <= 0.0 {
            return Err(invalid("df", format!("must be positive, got {v}")));
        }
    }
    Ok(())
}

/// P(max_i |T_i| ≤ c) under the product correlation λ_iλ_j (normal when df is None).
pub fn dunnett_probability(c: f64, lambdas: &[f64], df: Option<f64>) -> f64 {
    if c <= 0.0 {
        return 0.0;
    }
    let sq: Vec<f64> = lambdas.iter().map(|l| (1.0 - l * l).sqrt()).collect();
    // Fixed composite K15 rules (the integrands are smooth with known scales): 6 × 15 points
    // over z in [-8.5, 8.5] and 6 × 15 points over the bulk of s; ~1e-12 accuracy.
    let inner = |cs: f64| {
        quad::composite(
            |z| {
                let mut p = (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
                for (l, s) in lambdas.iter().zip(&sq) {
                    p *= normal_cdf((cs - l * z) / s) - normal_cdf((-cs - l * z) / s);
                }
                p
            },
            -8.5,
            8.5,
            6,
        )
    };
    match df {
        Some(nu) if nu.is_finite() => quad::expect_over_chi_scale_fixed(|s| inner(c * s), nu, 6),
        _ => inner(c),
    }
}

/// Dunnett's many-to-one comparisons (two-sided), exact by quadrature. `estimates` and
/// `std_errors` are the treatment − control differences and their standard errors, `control_se`
/// the standard error of the control mean itself (λ_i = control_se/se_i), `df` the degrees of
/// freedom of the t statistics (`None` for large-sample z statistics).
///
/// ```
/// use causalkit_ab::multiarm::dunnett;
/// // three arms of 50 units against a control of 50, sd 1: se_i = sqrt(2/50), se_0 = sqrt(1/50)
/// let se = (2.0f64 / 50.0).sqrt();
/// let r = dunnett(&[0.1, 0.5, -0.2], &[se; 3], (1.0f64 / 50.0).sqrt(), Some(196.0), 0.05).unwrap();
/// // scipy.stats.multivariate_t (rho = 1/2, df = 196) gives c = 2.3672; Dunnett (1955): 2.35 at df = ∞
/// assert!((r.critical_value - 2.3673).abs() < 1e-3);
/// assert!(r.comparisons[1].p_adjusted < 0.05);
/// ```
pub fn dunnett(
    estimates: &[f64],
    std_errors: &[f64],
    control_se: f64,
    df: Option<f64>,
    alpha: f64,
) -> Result<MultiArmResult> {
    check_inputs(estimates, std_errors, df, alpha)?;
    if !(control_se.is_finite() && control_se >= 0.0) {
        return Err(invalid(
            "control_se",
            format!("must be finite and >= 0, got {control_se}"),
        ));
    }
    let lambdas: Vec<f64> = std_errors.iter().map(|s| control_se / s).collect();
    if let Some(i) = lambdas.iter().position(|&l| l >= 1.0) {
        return Err(StatsError::OutOfRange {
            variable: "std_errors".into(),
            row: i,
            value: std_errors[i],
            expected: format!(
                "larger than control_se = {control_se} (a difference's SE includes the control's)"
            ),
        });
    }
    let prob = |c: f64| dunnett_probability(c, &lambdas, df);
    // The single-comparison quantile and the Bonferroni quantile bracket c_α.
    let k = estimates.len() as f64;
    let q = |p: f64| match df {
        Some(nu) if nu.is_finite() => t_quantile(p, nu),
        _ => normal_quantile(p),
    };
    let lo = q(1.0 - alpha / 2.0)? - 1e-3;
    let hi = q(1.0 - alpha / (2.0 * k))? + 1e-3;
    let crit = quad::illinois(|c| prob(c) - (1.0 - alpha), lo, hi, 1e-11);
    let comparisons = estimates
        .iter()
        .zip(std_errors)
        .enumerate()
        .map(|(i, (&e, &s))| {
            let t = e / s;
            ArmComparison {
                arm: i,
                estimate: e,
                std_error: s,
                statistic: t,
                p_adjusted: (1.0 - prob(t.abs())).clamp(0.0, 1.0),
                ci_low: e - crit * s,
                ci_high: e + crit * s,
            }
        })
        .collect();
    Ok(MultiArmResult {
        method: "Dunnett".into(),
        alpha,
        df,
        critical_value: crit,
        draws: None,
        comparisons,
    })
}

/// Dunnett's test from group summaries with a pooled variance (the classical one-way layout,
/// as `scipy.stats.dunnett`): se_i = s·sqrt(1/n_i + 1/n_0), control_se = s/√n_0 and
/// df = Σn − (k + 1).
#[allow(clippy::too_many_arguments)]
pub fn dunnett_pooled(
    n_control: f64,
    mean_control: f64,
    n: &[f64],
    means: &[f64],
    pooled_variance: f64,
    alpha: f64,
) -> Result<MultiArmResult> {
    check_len("means", means.len(), n.len())?;
    check_finite("means", means)?;
    if !(pooled_variance.is_finite() && pooled_variance > 0.0) {
        return Err(invalid(
            "pooled_variance",
            format!("must be positive, got {pooled_variance}"),
        ));
    }
    for (i, &x) in n.iter().chain(std::iter::once(&n_control)).enumerate() {
        if !(x.is_finite() && x >= 1.0) {
            return Err(StatsError::OutOfRange {
                variable: "n".into(),
                row: i,
                value: x,
                expected: "at least one unit per arm".into(),
            });
        }
    }
    let df = n.iter().sum::<f64>() + n_control - (n.len() as f64 + 1.0);
    if df < 1.0 {
        return Err(StatsError::InsufficientData(format!(
            "{df} residual degrees of freedom"
        )));
    }
    let s = pooled_variance.sqrt();
    let est: Vec<f64> = means.iter().map(|m| m - mean_control).collect();
    let se: Vec<f64> = n
        .iter()
        .map(|ni| s * (1.0 / ni + 1.0 / n_control).sqrt())
        .collect();
    dunnett(&est, &se, s / n_control.sqrt(), Some(df), alpha)
}

/// The many-to-one correlation matrix R_ij = λ_iλ_j (R_ii = 1), λ_i = control_se/se_i.
pub fn many_to_one_correlation(std_errors: &[f64], control_se: f64) -> DMatrix<f64> {
    let k = std_errors.len();
    DMatrix::from_fn(k, k, |i, j| {
        if i == j {
            1.0
        } else {
            control_se * control_se / (std_errors[i] * std_errors[j])
        }
    })
}

fn std_normal<R: Rng>(rng: &mut R) -> f64 {
    // Box–Muller (one of the pair).
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Gamma(shape, 1) by Marsaglia & Tsang (2000).
fn gamma<R: Rng>(rng: &mut R, shape: f64) -> f64 {
    if shape < 1.0 {
        let u: f64 = rng.random::<f64>();
        return gamma(rng, shape + 1.0) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = std_normal(rng);
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u: f64 = rng.random::<f64>();
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

/// Single-step max-T adjusted p-values and simultaneous intervals by seeded simulation of
/// max_i |T_i| under the correlation matrix `correlation` (k × k, positive definite), with
/// multivariate t (`df`) or normal (`None`) statistics; `draws` simulated vectors from `seed`
/// (independent of the thread count). See the module docs.
///
/// ```
/// use causalkit_ab::multiarm::{max_t, many_to_one_correlation};
/// let se = [0.2, 0.2, 0.25];
/// let r = max_t(&[0.1, 0.6, -0.1], &se, &many_to_one_correlation(&se, 0.1), None, 0.05,
///               20_000, 1).unwrap();
/// assert!(r.comparisons[1].p_adjusted < 0.02);
/// ```
pub fn max_t(
    estimates: &[f64],
    std_errors: &[f64],
    correlation: &DMatrix<f64>,
    df: Option<f64>,
    alpha: f64,
    draws: usize,
    seed: u64,
) -> Result<MultiArmResult> {
    check_inputs(estimates, std_errors, df, alpha)?;
    let k = estimates.len();
    if correlation.nrows() != k || correlation.ncols() != k {
        return Err(StatsError::LengthMismatch {
            what: "correlation (rows x cols)".into(),
            got: correlation.nrows() * correlation.ncols(),
            expected: k * k,
        });
    }
    if draws < 100 {
        return Err(invalid(
            "draws",
            format!("needs at least 100 draws, got {draws}"),
        ));
    }
    let chol = nalgebra::linalg::Cholesky::new(correlation.clone())
        .ok_or_else(|| invalid("correlation", "is not symmetric positive definite"))?;
    let l = chol.l();
    const BLOCK: usize = 256;
    let blocks = draws.div_ceil(BLOCK);
    let maxima: Vec<f64> = replicate(seed, blocks, |rng, b| {
        let m = BLOCK.min(draws - b * BLOCK);
        let mut out = Vec::with_capacity(m);
        let mut z = vec![0.0; k];
        for _ in 0..m {
            for zi in z.iter_mut() {
                *zi = std_normal(rng);
            }
            let s = match df {
                Some(nu) if nu.is_finite() => (2.0 * gamma(rng, 0.5 * nu) / nu).sqrt(),
                _ => 1.0,
            };
            let mut mx = 0.0f64;
            for i in 0..k {
                let mut x = 0.0;
                for (j, zj) in z.iter().enumerate().take(i + 1) {
                    x += l[(i, j)] * zj;
                }
                mx = mx.max((x / s).abs());
            }
            out.push(mx);
        }
        out
    })
    .into_iter()
    .flatten()
    .collect();
    let crit = quantile(&maxima, 1.0 - alpha)?;
    let comparisons = estimates
        .iter()
        .zip(std_errors)
        .enumerate()
        .map(|(i, (&e, &s))| {
            let t = e / s;
            let exceed = maxima.iter().filter(|&&m| m >= t.abs()).count();
            ArmComparison {
                arm: i,
                estimate: e,
                std_error: s,
                statistic: t,
                p_adjusted: (1.0 + exceed as f64) / (1.0 + draws as f64),
                ci_low: e - crit * s,
                ci_high: e + crit * s,
            }
        })
        .collect();
    Ok(MultiArmResult {
        method: "max-T (simulated)".into(),
        alpha,
        df,
        critical_value: crit,
        draws: Some(draws),
        comparisons,
    })
}

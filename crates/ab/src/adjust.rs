//! Variance reduction: CUPED / regression adjustment on pre-period covariates, and
//! post-stratification.
//!
//! **Regression adjustment** (CUPED: Deng, Xu, Kohavi & Walker 2013, "Improving the
//! sensitivity of online controlled experiments by utilizing pre-experiment data", WSDM; with
//! several covariates it is the regression estimator of Lin 2013, Ann. Appl. Stat. 7, with a
//! common slope). Each unit's metric is linearised, `ψ = (m − R d)/μ_d` (for a mean, `ψ = y − ȳ`),
//! and the common slope on the covariates `x` is
//!
//! ```text
//! θ = Σ_xx⁻¹ Σ_xψ     (covariances over all units of all arms pooled, as gbstats does for one
//!                      covariate: joint covariance / joint covariate variance)
//! ```
//!
//! Per arm, `μ̃ = μ − θᵀ(x̄_arm − x̄_all)` and the per-unit variance
//! `σ̃² = σ²_ψ − 2θᵀΣ_xψ,arm + θᵀΣ_xx,arm θ`. Everything comes from the arms' sums and
//! cross-products (X'X), so it works from a warehouse's aggregates. The relative lift keeps the
//! unadjusted control mean as denominator (gbstats). With one covariate and a mean metric this
//! is exactly gbstats' `RegressionAdjustedStatistic` with `compute_theta`.
//!
//! **Ratio metrics with a pre-period ratio** (GrowthBook's `RegressionAdjustedRatioStatistic`,
//! CUPED for ratio metrics; Deng et al. 2013 applied to the delta-method linearisations): each
//! arm carries the post-period numerator and denominator `(m, d)` and their pre-period
//! counterparts `(m₀, d₀)`. With the arm's ratios `R = m̄/d̄`, `R₀ = m̄₀/d̄₀`, gradients
//! `g = (1/d̄, −m̄/d̄², 0, 0)`, `g₀ = (0, 0, 1/d̄₀, −m̄₀/d̄₀²)` and per-unit covariance Λ of
//! `(m, d, m₀, d₀)`, the slope is `θ = Σ_arms g₀ᵀΛg / Σ_arms g₀ᵀΛg₀` (summed over the arms,
//! not pooled), the adjusted ratio `R − θ(R₀ − R₀,pooled)` and its per-unit variance
//! `(g − θg₀)ᵀΛ(g − θg₀)`. The relative lift `(R̃_B − R̃_A)/R_A` gets the full delta method
//! over both arms' four means (θ fixed), as gbstats' `frequentist_variance_relative_cuped_ratio`.
//!
//! **Post-stratification** (Miratrix, Sekhon & Yu 2013, "Adjusting treatment effect estimates by
//! post-stratification in randomized experiments", JRSS B 75): with pooled stratum shares
//! `w_s = n_s/N`, each arm's estimate is `Σ_s w_s μ_{arm,s}` with variance
//! `Σ_s w_s² σ²_{arm,s}/n_{arm,s}` (the conditional variance, their eq. 3 leading term).

use crate::frequentist::{invalid, lift, ArmStats, Lift, MetricType};
use causalkit_stats::dist::t_critical;
use causalkit_stats::{Moments, Result, StatsError};
use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

/// The fitted adjustment: covariate names, slope and the variance reduction achieved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adjustment {
    /// Covariates, in order.
    pub covariates: Vec<String>,
    /// Common slope θ.
    pub theta: Vec<f64>,
    /// Per arm: adjusted summary.
    pub arms: Vec<ArmStats>,
    /// Per arm: 1 − σ̃²/σ² (share of the variance removed).
    pub variance_reduction: Vec<f64>,
}

struct Lin {
    /// ψ = (m − R d)/μ_d coefficients: ψ = a·m + b·d.
    a: f64,
    b: f64,
}

fn cov(m: &Moments, i: usize, j: usize) -> Result<f64> {
    m.covariance(i, j)
}

/// Cov(ψ, v) for ψ = a m + b d, from cross-products.
fn cov_psi(m: &Moments, lin: &Lin, v: usize) -> Result<f64> {
    Ok(lin.a * cov(m, 0, v)? + lin.b * cov(m, 1, v)?)
}

fn linearise(m: &Moments) -> Result<Lin> {
    let n = m.n() as f64;
    let d = m.sum(1);
    if d <= 0.0 {
        return Err(invalid(
            "denominator",
            format!("the denominator must sum to a positive value, got {d}"),
        ));
    }
    let r = m.sum(0) / d;
    let mu_d = d / n;
    Ok(Lin {
        a: 1.0 / mu_d,
        b: -r / mu_d,
    })
}

/// Regression adjustment of every arm on all covariates in the arms' [`Moments`] (variables
/// after `numerator` and `denominator`), with a common slope (see the module docs).
///
/// Errors when there are no covariates, when the arms' variables differ, or when the
/// covariates are collinear (singular pooled covariance, naming them).
pub fn regression_adjust(arms: &[&Moments], kind: MetricType) -> Result<Adjustment> {
    let first = arms
        .first()
        .ok_or_else(|| invalid("arms", "no arms to adjust"))?;
    if first.names().len() < 3 {
        return Err(invalid(
            "covariates",
            "regression adjustment needs at least one covariate",
        ));
    }
    if first.names()[0] != "numerator" || first.names()[1] != "denominator" {
        return Err(invalid(
            "moments",
            format!(
                "expected variables numerator, denominator, covariates...; got {:?}",
                first.names()
            ),
        ));
    }
    let mut joint = Moments::new(first.names().to_vec());
    for m in arms {
        joint.merge(m)?;
    }
    let p = first.names().len() - 2;
    let covs: Vec<String> = first.names()[2..].to_vec();
    let lin_joint = linearise(&joint)?;
    let mut sxx = DMatrix::zeros(p, p);
    let mut sxy = DVector::zeros(p);
    for i in 0..p {
        sxy[i] = cov_psi(&joint, &lin_joint, 2 + i)?;
        for j in 0..p {
            sxx[(i, j)] = cov(&joint, 2 + i, 2 + j)?;
        }
    }
    for i in 0..p {
        if sxx[(i, i)] <= 0.0 {
            return Err(StatsError::InvalidArgument {
                name: covs[i].clone(),
                reason: "the covariate is constant across all units; it cannot adjust anything"
                    .into(),
            });
        }
    }
    let chol = sxx
        .clone()
        .cholesky()
        .ok_or_else(|| StatsError::InvalidArgument {
            name: covs.join(", "),
            reason: "the covariates are collinear (their pooled covariance matrix is singular)"
                .into(),
        })?;
    let theta = chol.solve(&sxy);
    let xbar_all: Vec<f64> = (0..p).map(|i| joint.mean(2 + i)).collect::<Result<_>>()?;
    let mut out = Vec::with_capacity(arms.len());
    let mut reduction = Vec::with_capacity(arms.len());
    for m in arms {
        if m.names() != first.names() {
            return Err(invalid("moments", "all arms must carry the same variables"));
        }
        let base = ArmStats::from_moments(m, kind)?;
        let lin = linearise(m)?;
        let mut shift = 0.0;
        let mut var = base.variance;
        for i in 0..p {
            shift += theta[i] * (m.mean(2 + i)? - xbar_all[i]);
            var -= 2.0 * theta[i] * cov_psi(m, &lin, 2 + i)?;
            for j in 0..p {
                var += theta[i] * theta[j] * cov(m, 2 + i, 2 + j)?;
            }
        }
        let var = var.max(0.0);
        reduction.push(if base.variance > 0.0 {
            1.0 - var / base.variance
        } else {
            0.0
        });
        out.push(ArmStats {
            n: base.n,
            mean: base.mean - shift,
            unadjusted_mean: base.mean,
            variance: var,
        });
    }
    Ok(Adjustment {
        covariates: covs,
        theta: theta.iter().copied().collect(),
        arms: out,
        variance_reduction: reduction,
    })
}

/// The fitted ratio regression adjustment of [`ratio_regression_adjust`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatioAdjustment {
    /// Common slope θ on the pre-period ratio.
    pub theta: f64,
    /// Per arm: adjusted summary (`mean` the adjusted ratio, `unadjusted_mean` the post ratio,
    /// `variance` the per-unit variance of the adjusted ratio's linearisation).
    pub arms: Vec<ArmStats>,
    /// Per arm: 1 − σ̃²/σ² (share of the ratio's variance removed).
    pub variance_reduction: Vec<f64>,
}

/// Means and per-unit covariance of `(m, d, m₀, d₀)`, the first four variables of `m`.
fn four(m: &Moments) -> Result<([f64; 4], [[f64; 4]; 4])> {
    if m.names().len() != 4 {
        return Err(invalid(
            "moments",
            format!(
                "ratio regression adjustment needs the variables numerator, denominator, pre-period numerator, pre-period denominator; got {:?}",
                m.names()
            ),
        ));
    }
    let mut mean = [0.0; 4];
    let mut cov = [[0.0; 4]; 4];
    for (i, (mi, row)) in mean.iter_mut().zip(cov.iter_mut()).enumerate() {
        *mi = m.mean(i)?;
        for (j, c) in row.iter_mut().enumerate() {
            *c = m.covariance(i, j)?;
        }
    }
    if mean[1] == 0.0 || mean[3] == 0.0 {
        return Err(invalid(
            "denominator",
            "the post- and pre-period denominators must have non-zero sums",
        ));
    }
    Ok((mean, cov))
}

fn quad(g: &[f64; 4], c: &[[f64; 4]; 4], h: &[f64; 4]) -> f64 {
    let mut s = 0.0;
    for i in 0..4 {
        for j in 0..4 {
            s += g[i] * c[i][j] * h[j];
        }
    }
    s
}

/// Gradient of `R − θR₀` with respect to `(m̄, d̄, m̄₀, d̄₀)`.
fn adjusted_gradient(mean: &[f64; 4], theta: f64) -> [f64; 4] {
    [
        1.0 / mean[1],
        -mean[0] / (mean[1] * mean[1]),
        -theta / mean[3],
        theta * mean[2] / (mean[3] * mean[3]),
    ]
}

/// Regression adjustment of a ratio metric on its pre-period ratio (see the module docs):
/// every arm's [`Moments`] hold, in this order, the post-period numerator and denominator and
/// the pre-period numerator and denominator (as from GrowthBook's ratio-CUPED columns, or
/// from rows with a `NUM/DEN` covariate). With one pre-period ratio this is GrowthBook's
/// `RegressionAdjustedRatioStatistic` with `compute_theta_regression_adjusted_ratio`.
///
/// Errors when the pre-period ratio has no variance in any arm.
pub fn ratio_regression_adjust(arms: &[&Moments]) -> Result<RatioAdjustment> {
    if arms.len() < 2 {
        return Err(invalid("arms", "need at least two arms"));
    }
    let parts: Vec<([f64; 4], [[f64; 4]; 4])> =
        arms.iter().map(|m| four(m)).collect::<Result<_>>()?;
    let (mut num, mut den) = (0.0, 0.0);
    for (mean, cov) in &parts {
        let g = adjusted_gradient(mean, 0.0);
        let g0 = [0.0, 0.0, 1.0 / mean[3], -mean[2] / (mean[3] * mean[3])];
        num += quad(&g0, cov, &g);
        den += quad(&g0, cov, &g0);
    }
    if den <= 0.0 {
        return Err(StatsError::InvalidArgument {
            name: "pre-period ratio".into(),
            reason: "the pre-period ratio has no variance in any arm; it cannot adjust anything"
                .into(),
        });
    }
    let theta = num / den;
    let mut pooled = Moments::new(arms[0].names().to_vec());
    for m in arms {
        pooled.merge(m)?;
    }
    let pre_pooled = pooled.sum(2) / pooled.sum(3);
    let mut out = Vec::with_capacity(arms.len());
    let mut reduction = Vec::with_capacity(arms.len());
    for (m, (mean, cov)) in arms.iter().zip(&parts) {
        let r = mean[0] / mean[1];
        let r0 = mean[2] / mean[3];
        let var = quad(
            &adjusted_gradient(mean, theta),
            cov,
            &adjusted_gradient(mean, theta),
        )
        .max(0.0);
        let raw = quad(
            &adjusted_gradient(mean, 0.0),
            cov,
            &adjusted_gradient(mean, 0.0),
        );
        reduction.push(if raw > 0.0 { 1.0 - var / raw } else { 0.0 });
        out.push(ArmStats {
            n: m.n() as f64,
            mean: r - theta * (r0 - pre_pooled),
            unadjusted_mean: r,
            variance: var,
        });
    }
    Ok(RatioAdjustment {
        theta,
        arms: out,
        variance_reduction: reduction,
    })
}

/// The relative lift `(R̃_B − R̃_A)/R_A` of a ratio metric adjusted on its pre-period ratio
/// with slope `theta` (from [`ratio_regression_adjust`]), by the delta method over both arms'
/// four means (GrowthBook's `frequentist_variance_relative_cuped_ratio`), with a t interval
/// on `df` degrees of freedom (infinite for z).
pub fn ratio_adjusted_relative(
    control: &Moments,
    treatment: &Moments,
    theta: f64,
    df: f64,
    alpha: f64,
) -> Result<Lift> {
    let (ma, ca) = four(control)?;
    let (mb, cb) = four(treatment)?;
    let ra = ma[0] / ma[1];
    if ra <= 0.0 {
        return Err(invalid(
            "control ratio",
            format!("the relative lift needs a positive control ratio, got {ra}"),
        ));
    }
    let adj = |m: &[f64; 4]| m[0] / m[1] - theta * m[2] / m[3];
    let g_abs = adj(&mb) - adj(&ma);
    // d g / d R_A and d g / d R0_A for g = (R̃_B − R̃_A)/R_A.
    let d_r = -(ra + g_abs) / (ra * ra);
    let d_r0 = theta / ra;
    let ga = [
        d_r / ma[1],
        -d_r * ma[0] / (ma[1] * ma[1]),
        d_r0 / ma[3],
        -d_r0 * ma[2] / (ma[3] * ma[3]),
    ];
    let gb = adjusted_gradient(&mb, theta).map(|x| x / ra);
    let var = quad(&ga, &ca, &ga) / control.n() as f64 + quad(&gb, &cb, &gb) / treatment.n() as f64;
    let se = var.max(0.0).sqrt();
    lift(g_abs / ra, se, df, t_critical(alpha, df)?, se)
}

/// Post-stratified summaries: `cells[arm][stratum]` are the arm's statistics within each
/// stratum (the same strata, in the same order, for every arm; a stratum may be missing in
/// no arm). Returns one [`ArmStats`] per arm whose `variance / n` is the post-stratified
/// variance of its estimate.
pub fn post_stratify(cells: &[Vec<&Moments>], kind: MetricType) -> Result<Vec<ArmStats>> {
    let k = cells
        .first()
        .map(Vec::len)
        .ok_or_else(|| invalid("cells", "no arms"))?;
    if k == 0 {
        return Err(invalid("cells", "no strata"));
    }
    let mut n_s = vec![0.0; k];
    for arm in cells {
        if arm.len() != k {
            return Err(invalid("cells", "every arm must have the same strata"));
        }
        for (s, m) in arm.iter().enumerate() {
            n_s[s] += m.n() as f64;
        }
    }
    let total: f64 = n_s.iter().sum();
    let mut out = Vec::new();
    for (a, arm) in cells.iter().enumerate() {
        let mut est = 0.0;
        let mut var_mean = 0.0;
        let mut n_arm = 0.0;
        let mut pooled = Moments::new(arm[0].names().to_vec());
        for (s, m) in arm.iter().enumerate() {
            let st = ArmStats::from_moments(m, kind).map_err(|e| {
                StatsError::InsufficientData(format!(
                    "arm {a}, stratum {s}: {e} (post-stratification needs at least 2 units per arm in every stratum)"
                ))
            })?;
            let w = n_s[s] / total;
            est += w * st.mean;
            var_mean += w * w * st.variance / st.n;
            n_arm += st.n;
            pooled.merge(m)?;
        }
        let raw = ArmStats::from_moments(&pooled, kind)?;
        out.push(ArmStats {
            n: n_arm,
            mean: est,
            unadjusted_mean: raw.mean,
            variance: var_mean * n_arm,
        });
    }
    Ok(out)
}

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
//! **Post-stratification** (Miratrix, Sekhon & Yu 2013, "Adjusting treatment effect estimates by
//! post-stratification in randomized experiments", JRSS B 75): with pooled stratum shares
//! `w_s = n_s/N`, each arm's estimate is `Σ_s w_s μ_{arm,s}` with variance
//! `Σ_s w_s² σ²_{arm,s}/n_{arm,s}` (the conditional variance, their eq. 3 leading term).

use crate::frequentist::{invalid, ArmStats, MetricType};
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

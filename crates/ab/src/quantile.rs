//! Quantile metrics (e.g. p90 handle time) with distribution-free standard errors.
//!
//! The quantile `q̂_ν` of an arm's values is the type-7 sample quantile. Its standard error
//! comes from the order-statistic (binomial) confidence interval, as in GrowthBook's quantile
//! metrics (gbstats `QuantileStatistic`) and Spotify's resampling-free bootstrap for quantiles
//! (Schultzberg & Ankargren 2023, "Resampling-free bootstrap inference for quantiles",
//! arXiv:2202.10992): with `z = Φ⁻¹(0.975)`,
//!
//! ```text
//! L = q̂(ν − z√(ν(1−ν)/n)),   U = q̂(ν + z√(ν(1−ν)/n)),   σ² = (n − 1) ((U − L)/(2z))²
//! ```
//!
//! so `Var(q̂) ≈ σ²/n`; the result is an [`ArmStats`] that [`crate::frequentist::compare`]
//! treats like any other metric. When values are clustered (e.g. contacts of agents who were
//! randomised), the iid variance is inflated by the design effect of the indicator
//! `1{y ≤ q̂}`: the delta-method variance of the ratio Σ_c #{y ≤ q̂} / Σ_c n_c over clusters
//! divided by ν(1−ν)/n (gbstats `QuantileClusteredStatistic`).

use crate::frequentist::{invalid, ArmStats};
use causalkit_stats::dist::normal_quantile;
use causalkit_stats::resample::quantile as type7;
use causalkit_stats::{Result, StatsError};

/// One arm's quantile summary: `n` values, the quantile, and its order-statistic bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuantileArm {
    /// The arm summary for comparisons (mean = the quantile).
    pub stats: ArmStats,
    /// The lower order-statistic bound L.
    pub lower: f64,
    /// The upper order-statistic bound U.
    pub upper: f64,
}

fn check(values: &[f64], nu: f64) -> Result<()> {
    if !(nu > 0.0 && nu < 1.0) {
        return Err(invalid(
            "quantile",
            format!("the quantile level must lie in (0, 1), got {nu}"),
        ));
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(StatsError::NonFinite {
            variable: "quantile metric".into(),
            row: i,
            value: values[i],
        });
    }
    let z = normal_quantile(0.975)?;
    let n = values.len() as f64;
    if n <= z * z * nu.max(1.0 - nu) / nu.min(1.0 - nu) {
        return Err(StatsError::InsufficientData(format!(
            "{n} values are too few for an interval of the {nu} quantile (need more than {:.0})",
            z * z * nu.max(1.0 - nu) / nu.min(1.0 - nu)
        )));
    }
    Ok(())
}

/// The quantile `nu` of `values` with its iid order-statistic variance (module docs).
pub fn quantile_arm(values: &[f64], nu: f64) -> Result<QuantileArm> {
    check(values, nu)?;
    let n = values.len() as f64;
    let z = normal_quantile(0.975)?;
    let h = z * (nu * (1.0 - nu) / n).sqrt();
    let q = type7(values, nu)?;
    let lower = type7(values, (nu - h).max(0.0))?;
    let upper = type7(values, (nu + h).min(1.0))?;
    let se = (upper - lower) / (2.0 * z);
    let stats = ArmStats {
        n,
        mean: q,
        unadjusted_mean: q,
        variance: (n - 1.0) * se * se,
    };
    Ok(QuantileArm {
        stats,
        lower,
        upper,
    })
}

/// The quantile with a cluster-robust variance: `clusters[i]` is the cluster of `values[i]`
/// (e.g. the randomised agent), given as dense codes `0..k`.
pub fn quantile_arm_clustered(values: &[f64], clusters: &[usize], nu: f64) -> Result<QuantileArm> {
    if values.len() != clusters.len() {
        return Err(StatsError::LengthMismatch {
            what: "clusters".into(),
            got: clusters.len(),
            expected: values.len(),
        });
    }
    let mut iid = quantile_arm(values, nu)?;
    let k = clusters.iter().max().map_or(0, |m| m + 1);
    let mut below = vec![0.0; k];
    let mut size = vec![0.0; k];
    for (&v, &c) in values.iter().zip(clusters) {
        size[c] += 1.0;
        if v <= iid.stats.mean {
            below[c] += 1.0;
        }
    }
    let (below, size): (Vec<f64>, Vec<f64>) = below
        .into_iter()
        .zip(size)
        .filter(|(_, s)| *s > 0.0)
        .unzip();
    let kc = size.len() as f64;
    if kc < 2.0 {
        return Err(StatsError::InsufficientData(
            "a clustered quantile needs at least 2 clusters per arm".into(),
        ));
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / kc;
    let mu_s = mean(&below);
    let mu_n = mean(&size);
    let cv = |a: &[f64], ma: f64, b: &[f64], mb: f64| {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - ma) * (y - mb))
            .sum::<f64>()
            / (kc - 1.0)
    };
    let s_ss = cv(&below, mu_s, &below, mu_s);
    let s_nn = cv(&size, mu_n, &size, mu_n);
    let s_sn = cv(&below, mu_s, &size, mu_n);
    let v_cluster =
        (s_ss - 2.0 * mu_s * s_sn / mu_n + mu_s * mu_s * s_nn / (mu_n * mu_n)) / (kc * mu_n * mu_n);
    let n = values.len() as f64;
    let v_iid = nu * (1.0 - nu) / n;
    iid.stats.variance *= (v_cluster / v_iid).max(0.0);
    Ok(iid)
}

/// Quantile summaries per segment and arm from row values, keyed like
/// [`crate::review::MetricCells::Summaries`]: [`crate::review::OVERALL`] for all rows, then one
/// entry per segment value. `units` (the randomisation unit of each row) switches to the
/// cluster-robust variance ([`quantile_arm_clustered`]); without it every row is a unit.
///
/// The slices are parallel (one entry per row) and already free of missing values.
pub fn quantile_cells(
    values: &[f64],
    arms: &[String],
    segments: Option<&[String]>,
    units: Option<&[String]>,
    nu: f64,
) -> Result<std::collections::BTreeMap<String, std::collections::BTreeMap<String, ArmStats>>> {
    use std::collections::BTreeMap;
    let n = values.len();
    for (name, len) in [
        ("arms", Some(arms.len())),
        ("segments", segments.map(<[String]>::len)),
        ("units", units.map(<[String]>::len)),
    ] {
        if let Some(len) = len {
            if len != n {
                return Err(StatsError::LengthMismatch {
                    what: format!("quantile cells: {name}"),
                    expected: n,
                    got: len,
                });
            }
        }
    }
    // (segment, arm) -> (values, unit codes)
    let mut groups: BTreeMap<(String, String), (Vec<f64>, Vec<usize>)> = BTreeMap::new();
    let mut codes: BTreeMap<&str, usize> = BTreeMap::new();
    for i in 0..n {
        let unit = match units {
            Some(u) => {
                let next = codes.len();
                *codes.entry(u[i].as_str()).or_insert(next)
            }
            None => i,
        };
        let mut keys = vec![crate::review::OVERALL.to_string()];
        if let Some(s) = segments {
            keys.push(s[i].clone());
        }
        for k in keys {
            let e = groups.entry((k, arms[i].clone())).or_default();
            e.0.push(values[i]);
            e.1.push(unit);
        }
    }
    let mut out: BTreeMap<String, BTreeMap<String, ArmStats>> = BTreeMap::new();
    for ((seg, arm), (v, u)) in groups {
        let q = if units.is_some() {
            // Re-code the units of this cell densely.
            let mut local: BTreeMap<usize, usize> = BTreeMap::new();
            let ids: Vec<usize> = u
                .iter()
                .map(|x| {
                    let next = local.len();
                    *local.entry(*x).or_insert(next)
                })
                .collect();
            quantile_arm_clustered(&v, &ids, nu)?
        } else {
            quantile_arm(&v, nu)?
        };
        out.entry(seg).or_default().insert(arm, q.stats);
    }
    Ok(out)
}

//! The joint covariance of several metrics' effects (treatment − control) from per-unit
//! influence functions — what a value tree or a composite reward needs on top of the engine's
//! one standard error per metric.
//!
//! Per arm and metric, the influence value of unit `i` is the linearisation the engine's own
//! variances use: `ψᵢ = yᵢ − ȳ` for a mean or proportion, `ψᵢ = (mᵢ − R dᵢ)/d̄` for a ratio of
//! sums `R = Σm/Σd` (delta method), and with covariates `uᵢ = ψᵢ − θᵀ(xᵢ − x̄)` with the
//! engine's pooled CUPED slope `θ` ([`pooled_theta`]; Deng, Xu, Kohavi & Walker 2013,
//! "Improving the sensitivity of online controlled experiments by utilizing pre-experiment
//! data", WSDM), held fixed as in the engine's variance. The covariance of the effects on
//! metrics `j` and `k` is the sum over the two arms of `Σᵢ uᵢⱼ uᵢₖ / √(nⱼ(nⱼ−1) nₖ(nₖ−1))` over
//! the units both metrics use (matched by key; they differ when rows with missing values are
//! dropped per metric), which on the diagonal is the engine's `s²/n`. The engine's proportion
//! variance is `p(1 − p)` (denominator n), so for a proportion the diagonal takes that
//! convention (lowered by `p(1 − p)/((n − 1) n)` per arm); the off-diagonal entries keep the
//! n − 1 sample covariances (the difference is O(1/n)).
//!
//! The release attribution's randomised design and the reward evaluation both call this
//! module; it was moved here from `causalkit-attribution` so that the polars-free reward crate
//! can use it.

use crate::frequentist::MetricType;
use causalkit_stats::factor::codes_in_order;
use causalkit_stats::suff::{ArmKpiMoments, KpiUnitMoments, PairMoments};
use nalgebra::{DMatrix, DVector};
use rustc_hash::FxHashMap;

/// Ids of unit labels (`None` stays `None`): the keys of [`UnitSums::add`] and
/// [`ArmUnits::keys`] when the analysis unit is a column — the labels' codes in order of
/// first appearance ([`causalkit_stats::factor::codes_in_order`]). Labels are hashed once
/// here, not once per metric and pair of metrics; when rows are the units, the row number is
/// the key.
///
/// ```
/// let ids = causalkit_ab::influence::unit_ids([Some("b"), None, Some("a"), Some("b")]);
/// assert_eq!(ids, vec![Some(0), None, Some(2), Some(0)]);
/// ```
pub fn unit_ids<'a>(labels: impl IntoIterator<Item = Option<&'a str>>) -> Vec<Option<u64>> {
    let (codes, levels) = codes_in_order(labels);
    codes
        .into_iter()
        .map(|c| levels[c as usize].map(|_| u64::from(c)))
        .collect()
}

/// Calls `f(i, q)` for every unit `a[i]` that `b` has, at `b[q]`, in `a`'s order: by position
/// when both list the same units in the same order (no rows dropped for either metric),
/// otherwise by key.
fn for_each_shared_unit(a: &[u64], b: &[u64], mut f: impl FnMut(usize, usize)) {
    if a == b {
        (0..a.len()).for_each(|i| f(i, i));
        return;
    }
    let position: FxHashMap<u64, usize> = b.iter().enumerate().map(|(q, &k)| (k, q)).collect();
    for (i, key) in a.iter().enumerate() {
        if let Some(&q) = position.get(key) {
            f(i, q);
        }
    }
}

/// One metric's analysis units in one arm: unit key, numerator, denominator (1 per unit for a
/// mean) and covariates, in the units' order of first appearance.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArmUnits {
    /// Unit keys (matched across metrics): the row number when rows are the units, else the
    /// unit label's id ([`unit_ids`]).
    pub keys: Vec<u64>,
    /// Numerator per unit (the value for a mean metric).
    pub num: Vec<f64>,
    /// Denominator per unit (1 for a mean metric).
    pub den: Vec<f64>,
    /// Covariates per unit.
    pub x: Vec<Vec<f64>>,
}

/// Sums rows into one arm's units ([`ArmUnits`]) as the data layer forms them: each row adds
/// its numerator, denominator and covariates to its unit's totals (units in order of first
/// appearance), and [`UnitSums::finish`] turns the covariate totals into per-unit means. The
/// release attribution's randomised design and the reward evaluation both build their units
/// with it.
#[derive(Debug, Clone, Default)]
pub struct UnitSums {
    units: ArmUnits,
    rows: Vec<f64>,
    index: FxHashMap<u64, usize>,
}

impl UnitSums {
    /// Adds one row of unit `key` with numerator `num`, denominator `den` and the covariate
    /// values `x` (the same number in every row).
    pub fn add(&mut self, key: u64, num: f64, den: f64, x: impl ExactSizeIterator<Item = f64>) {
        let (o, r) = (&mut self.units, &mut self.rows);
        let p = x.len();
        let j = *self.index.entry(key).or_insert_with(|| {
            o.keys.push(key);
            o.num.push(0.0);
            o.den.push(0.0);
            o.x.push(vec![0.0; p]);
            r.push(0.0);
            o.keys.len() - 1
        });
        r[j] += 1.0;
        o.num[j] += num;
        o.den[j] += den;
        for (xj, v) in o.x[j].iter_mut().zip(x) {
            *xj += v;
        }
    }

    /// The units, each covariate the mean over its unit's rows, and whether some unit has more
    /// than one row.
    pub fn finish(self) -> (ArmUnits, bool) {
        let mut units = self.units;
        let mut several = false;
        for (x, r) in units.x.iter_mut().zip(&self.rows) {
            if *r > 1.0 {
                several = true;
            }
            for v in x.iter_mut() {
                *v /= r;
            }
        }
        (units, several)
    }
}

/// The influence values of one metric in one arm, with the proportion correction of the
/// diagonal.
#[derive(Debug, Clone)]
pub struct Influence {
    /// Unit keys, in the arm's order.
    pub keys: Vec<u64>,
    /// Influence value per unit.
    pub values: Vec<f64>,
    /// Units.
    pub n: f64,
    diag_correction: f64,
}

/// The influence values of one metric in both arms (`[control, treatment]`), CUPED-adjusted
/// with the slope `theta` (empty for no covariates).
pub fn influence(arms: &[ArmUnits; 2], mt: MetricType, theta: &DVector<f64>) -> [Influence; 2] {
    std::array::from_fn(|a| {
        let u = &arms[a];
        let n = u.num.len() as f64;
        let s_num: f64 = u.num.iter().sum();
        let s_den: f64 = u.den.iter().sum();
        let s_den2: f64 = u.den.iter().map(|d| d * d).sum();
        // The engine's test for a mean-type metric (exact by design: ones sum to n).
        #[allow(clippy::float_cmp)]
        let unit_den = s_den == n && s_den2 == n;
        let p = theta.len();
        let xbar: Vec<f64> = (0..p)
            .map(|j| u.x.iter().map(|x| x[j]).sum::<f64>() / n)
            .collect();
        let (r, mu_d) = if unit_den {
            (s_num / n, 1.0)
        } else {
            (s_num / s_den, s_den / n)
        };
        let values = (0..u.num.len())
            .map(|i| {
                let mut v = (u.num[i] - r * u.den[i]) / mu_d;
                for j in 0..p {
                    v -= theta[j] * (u.x[i][j] - xbar[j]);
                }
                v
            })
            .collect();
        let diag_correction = if unit_den && mt == MetricType::Proportion {
            r * (1.0 - r) / ((n - 1.0) * n)
        } else {
            0.0
        };
        Influence {
            keys: u.keys.clone(),
            values,
            n,
            diag_correction,
        }
    })
}

/// The engine's pooled CUPED slope for one metric: the total (both arms) covariance of the
/// `p` covariates and of the pooled linearisation `a m + b d` with them. `None` when the
/// covariates are collinear (their pooled covariance is singular); an empty slope for
/// `p = 0`.
pub fn pooled_theta(arms: &[ArmUnits; 2], p: usize) -> Option<DVector<f64>> {
    if p == 0 {
        return Some(DVector::zeros(0));
    }
    let rows: Vec<(f64, f64, &Vec<f64>)> = arms
        .iter()
        .flat_map(|u| (0..u.num.len()).map(move |i| (u.num[i], u.den[i], &u.x[i])))
        .collect();
    let n = rows.len() as f64;
    let s_num: f64 = rows.iter().map(|r| r.0).sum();
    let s_den: f64 = rows.iter().map(|r| r.1).sum();
    let mu_d = s_den / n;
    let r = s_num / s_den;
    let (a, b) = (1.0 / mu_d, -r / mu_d);
    let psi: Vec<f64> = rows.iter().map(|x| a * x.0 + b * x.1).collect();
    let psi_bar = psi.iter().sum::<f64>() / n;
    let xbar: Vec<f64> = (0..p)
        .map(|j| rows.iter().map(|x| x.2[j]).sum::<f64>() / n)
        .collect();
    let mut sxx = DMatrix::zeros(p, p);
    let mut sxy = DVector::zeros(p);
    for (k, row) in rows.iter().enumerate() {
        for i in 0..p {
            let di = row.2[i] - xbar[i];
            sxy[i] += di * (psi[k] - psi_bar);
            for j in 0..p {
                sxx[(i, j)] += di * (row.2[j] - xbar[j]);
            }
        }
    }
    Some(sxx.cholesky()?.solve(&sxy))
}

/// The joint covariance of the metrics' effects from their influence values (one
/// `[control, treatment]` pair per metric, in order); see the module docs.
pub fn effect_covariance(infl: &[[Influence; 2]]) -> DMatrix<f64> {
    let kn = infl.len();
    let mut cov = DMatrix::zeros(kn, kn);
    for a in [0usize, 1] {
        for j in 0..kn {
            for k in j..kn {
                let (ij, ik) = (&infl[j][a], &infl[k][a]);
                let mut s = 0.0;
                for_each_shared_unit(&ij.keys, &ik.keys, |i, q| {
                    s += ij.values[i] * ik.values[q];
                });
                let mut c = s / (ij.n * (ij.n - 1.0) * ik.n * (ik.n - 1.0)).sqrt();
                if j == k {
                    c -= ij.diag_correction;
                }
                cov[(j, k)] += c;
                if j != k {
                    cov[(k, j)] += c;
                }
            }
        }
    }
    cov
}

/// The moments of the metrics' units per arm ([`ArmKpiMoments`], `[control, treatment]`):
/// what a warehouse returns in place of the units (`per_metric[j]` holds metric `j`'s units
/// of both arms; units are matched by key within an arm; every unit has the same number of
/// covariates). The in-process counterpart of the warehouse's moments query, and the
/// reference its tests compare against.
pub fn unit_moments(per_metric: &[[ArmUnits; 2]]) -> [ArmKpiMoments; 2] {
    let c = per_metric
        .iter()
        .flat_map(|a| a.iter())
        .find_map(|u| u.x.first().map(Vec::len))
        .unwrap_or(0);
    let w = 2 + c;
    std::array::from_fn(|a| {
        let vec_of = |u: &ArmUnits, i: usize| -> Vec<f64> {
            [u.num[i], u.den[i]]
                .into_iter()
                .chain(u.x[i].iter().copied())
                .collect()
        };
        let kpis: Vec<KpiUnitMoments> = per_metric
            .iter()
            .map(|m| {
                let u = &m[a];
                KpiUnitMoments {
                    n: u.num.len() as f64,
                    sum_num: u.num.iter().sum(),
                    sum_den: u.den.iter().sum(),
                    sum_den_sq: u.den.iter().map(|d| d * d).sum(),
                    sum_x: (0..c).map(|q| u.x.iter().map(|x| x[q]).sum()).collect(),
                }
            })
            .collect();
        let means: Vec<Vec<f64>> = kpis.iter().map(KpiUnitMoments::mean).collect();
        let kn = per_metric.len();
        let mut pairs = Vec::with_capacity(kn * (kn + 1) / 2);
        for j in 0..kn {
            for k in j..kn {
                let (uj, uk) = (&per_metric[j][a], &per_metric[k][a]);
                let mut centred = vec![0.0; w * w];
                let mut n = 0.0;
                for_each_shared_unit(&uj.keys, &uk.keys, |i, q| {
                    n += 1.0;
                    let (zj, zk) = (vec_of(uj, i), vec_of(uk, q));
                    for p1 in 0..w {
                        for p2 in 0..w {
                            centred[p1 * w + p2] +=
                                (zj[p1] - means[j][p1]) * (zk[p2] - means[k][p2]);
                        }
                    }
                });
                pairs.push(PairMoments { n, centred });
            }
        }
        ArmKpiMoments {
            covariates: c,
            kpis,
            pairs,
        }
    })
}

/// The joint covariance of the metrics' effects from their units' moments ([`unit_moments`],
/// or a warehouse's): the same numbers as [`effect_covariance`] over the influence values of
/// [`influence`] with the slope of [`pooled_theta`] (CUPED on all the moments' covariates;
/// none when they have none), because each influence value is a linear function of the
/// unit's centred vector `z − z̄` (`(m − m̄)/d̄ − R (d − d̄)/d̄ − θᵀ(x − x̄)`), so its sums of
/// products are quadratic forms in the centred cross-products. `types[j]` is metric `j`'s
/// type. `None` when the covariates are collinear (as [`pooled_theta`]).
pub fn effect_covariance_from_moments(
    types: &[MetricType],
    arms: &[ArmKpiMoments; 2],
) -> Option<DMatrix<f64>> {
    let kn = types.len();
    let c = arms[0].covariates;
    let w = 2 + c;
    // Per metric: the pooled slope, then per arm the coefficients of the centred vector and
    // the proportion correction of the diagonal.
    let mut coef: Vec<[Vec<f64>; 2]> = Vec::with_capacity(kn);
    let mut corr: Vec<[f64; 2]> = Vec::with_capacity(kn);
    for (j, mt) in types.iter().enumerate() {
        let theta = pooled_theta_from_moments(arms, j)?;
        let mut cj: [Vec<f64>; 2] = Default::default();
        let mut dj = [0.0; 2];
        for a in 0..2 {
            let m = &arms[a].kpis[j];
            let n = m.n;
            #[allow(clippy::float_cmp)]
            let unit_den = m.sum_den == n && m.sum_den_sq == n;
            let (r, mu_d) = if unit_den {
                (m.sum_num / n, 1.0)
            } else {
                (m.sum_num / m.sum_den, m.sum_den / n)
            };
            let mut v = vec![1.0 / mu_d, -r / mu_d];
            v.extend(theta.iter().map(|t| -t));
            cj[a] = v;
            if unit_den && *mt == MetricType::Proportion {
                dj[a] = r * (1.0 - r) / ((n - 1.0) * n);
            }
        }
        coef.push(cj);
        corr.push(dj);
    }
    let mut cov = DMatrix::zeros(kn, kn);
    for a in 0..2 {
        for j in 0..kn {
            for k in j..kn {
                let mut s = 0.0;
                for p in 0..w {
                    for q in 0..w {
                        s += coef[j][a][p] * arms[a].pair(j, p, k, q).1 * coef[k][a][q];
                    }
                }
                let (nj, nk) = (arms[a].kpis[j].n, arms[a].kpis[k].n);
                let mut v = s / (nj * (nj - 1.0) * nk * (nk - 1.0)).sqrt();
                if j == k {
                    v -= corr[j][a];
                }
                cov[(j, k)] += v;
                if j != k {
                    cov[(k, j)] += v;
                }
            }
        }
    }
    Some(cov)
}

/// [`pooled_theta`] of metric `j` from the moments: the total (both arms) scatter of the
/// unit vectors is the within-arm scatter plus the arms' mean shifts.
fn pooled_theta_from_moments(arms: &[ArmKpiMoments; 2], j: usize) -> Option<DVector<f64>> {
    let c = arms[0].covariates;
    if c == 0 {
        return Some(DVector::zeros(0));
    }
    let w = 2 + c;
    let ms = [&arms[0].kpis[j], &arms[1].kpis[j]];
    let n = ms[0].n + ms[1].n;
    let s_num = ms[0].sum_num + ms[1].sum_num;
    let s_den = ms[0].sum_den + ms[1].sum_den;
    let mu_d = s_den / n;
    let r = s_num / s_den;
    let (a, b) = (1.0 / mu_d, -r / mu_d);
    let total: Vec<f64> = (0..w)
        .map(|p| {
            let s: f64 = ms.iter().map(|m| m.mean()[p] * m.n).sum();
            s / n
        })
        .collect();
    let mut t = DMatrix::zeros(w, w);
    for (arm, m) in arms.iter().zip(ms) {
        let mean = m.mean();
        for p in 0..w {
            for q in 0..w {
                t[(p, q)] +=
                    arm.pair(j, p, j, q).1 + m.n * (mean[p] - total[p]) * (mean[q] - total[q]);
            }
        }
    }
    let sxx = DMatrix::from_fn(c, c, |p, q| t[(2 + p, 2 + q)]);
    let sxy = DVector::from_fn(c, |p, _| a * t[(2 + p, 0)] + b * t[(2 + p, 1)]);
    Some(sxx.cholesky()?.solve(&sxy))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Units of three metrics (a mean with large level, a ratio, a proportion) in two arms;
    /// some units miss some metrics (as rows dropped per metric), covariates per unit depend
    /// on the metric's rows (as the data layer's per-metric unit means).
    fn units(seed: u64, c: usize) -> Vec<[ArmUnits; 2]> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut out: Vec<[ArmUnits; 2]> = vec![Default::default(); 3];
        for a in 0..2 {
            for i in 0..400 {
                let x0: Vec<f64> = (0..c)
                    .map(|_| rng.random_range(-1.0..3.0) + 500.0)
                    .collect();
                // A unit effect shared by the metrics (correlated effects).
                let e: f64 = rng.random_range(-2.0..2.0);
                for (m, arms) in out.iter_mut().enumerate() {
                    if m > 0 && rng.random_bool(0.15) {
                        continue;
                    }
                    let u = &mut arms[a];
                    let shift: f64 = x0.iter().sum::<f64>() - 500.0 * c as f64 + e;
                    let (num, den) = match m {
                        0 => (
                            1.0e4 + 50.0 * shift + rng.random_range(0.0..80.0) + a as f64,
                            1.0,
                        ),
                        1 => {
                            let d = rng.random_range(1..6) as f64;
                            (d * (2.0 + shift) + rng.random_range(0.0..3.0), d)
                        }
                        _ => (f64::from(rng.random_bool(0.4 + 0.05 * a as f64) as u8), 1.0),
                    };
                    u.keys.push(i);
                    u.num.push(num);
                    u.den.push(den);
                    u.x.push(x0.iter().map(|x| x + 0.01 * m as f64).collect());
                }
            }
        }
        out
    }

    #[test]
    fn covariance_from_moments_equals_the_influence_values() {
        let types = [MetricType::Mean, MetricType::Ratio, MetricType::Proportion];
        for c in [0usize, 1, 2] {
            let per = units(7 + c as u64, c);
            let infl: Vec<[Influence; 2]> = per
                .iter()
                .zip(types)
                .map(|(u, t)| influence(u, t, &pooled_theta(u, c).unwrap()))
                .collect();
            let direct = effect_covariance(&infl);
            let moments = effect_covariance_from_moments(&types, &unit_moments(&per)).unwrap();
            for j in 0..3 {
                for k in 0..3 {
                    let (x, y) = (direct[(j, k)], moments[(j, k)]);
                    assert!(
                        (x - y).abs() <= 1e-10 * direct[(j, j)].abs().max(direct[(k, k)].abs()),
                        "c = {c}, ({j}, {k}): {x} vs {y}"
                    );
                }
            }
            // The off-diagonal entries are not zero (the test would not see a lost pair).
            assert!(direct[(0, 1)].abs() > 1e-3 * (direct[(0, 0)] * direct[(1, 1)]).sqrt());
        }
    }

    /// Keeps the units of `u` whose key is in `keep`, in their order.
    fn only(u: &ArmUnits, keep: &dyn Fn(u64) -> bool) -> ArmUnits {
        let mut out = ArmUnits::default();
        for i in 0..u.keys.len() {
            if keep(u.keys[i]) {
                out.keys.push(u.keys[i]);
                out.num.push(u.num[i]);
                out.den.push(u.den[i]);
                out.x.push(u.x[i].clone());
            }
        }
        out
    }

    /// Metrics on the same units in the same order pair their values by position; the same
    /// units in another order pair by key, to the same covariance.
    #[test]
    fn units_pair_by_key_in_any_order() {
        let types = [MetricType::Mean, MetricType::Ratio, MetricType::Proportion];
        let per = units(11, 1);
        // Every metric on the units all three have (the units' order is the same).
        let common: Vec<[ArmUnits; 2]> = per
            .iter()
            .map(|m| {
                std::array::from_fn(|a| {
                    let has = |k: u64| per.iter().all(|p| p[a].keys.contains(&k));
                    only(&m[a], &has)
                })
            })
            .collect();
        let mut reordered = common.clone();
        for u in &mut reordered[1] {
            u.keys.reverse();
            u.num.reverse();
            u.den.reverse();
            u.x.reverse();
        }
        let cov = |per: &[[ArmUnits; 2]]| {
            let infl: Vec<[Influence; 2]> = per
                .iter()
                .zip(types)
                .map(|(u, t)| influence(u, t, &pooled_theta(u, 1).unwrap()))
                .collect();
            effect_covariance(&infl)
        };
        let (by_position, by_key) = (cov(&common), cov(&reordered));
        assert_eq!(common[0][0].keys, common[1][0].keys);
        for j in 0..3 {
            for k in 0..3 {
                let (x, y) = (by_position[(j, k)], by_key[(j, k)]);
                let scale = by_position[(j, j)].abs().max(by_position[(k, k)].abs());
                assert!((x - y).abs() <= 1e-12 * scale, "({j}, {k}): {x} vs {y}");
            }
        }
        assert!(
            by_position[(0, 1)].abs() > 1e-3 * (by_position[(0, 0)] * by_position[(1, 1)]).sqrt()
        );
    }

    #[test]
    fn collinear_covariates_give_none() {
        let mut per = units(3, 2);
        for m in per.iter_mut() {
            for u in m.iter_mut() {
                for x in u.x.iter_mut() {
                    x[1] = 2.0 * x[0];
                }
            }
        }
        let types = [MetricType::Mean, MetricType::Ratio, MetricType::Proportion];
        assert!(effect_covariance_from_moments(&types, &unit_moments(&per)).is_none());
    }
}

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
use nalgebra::{DMatrix, DVector};
use std::collections::HashMap;

/// One metric's analysis units in one arm: unit key, numerator, denominator (1 per unit for a
/// mean) and covariates, in the units' order of first appearance.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArmUnits {
    /// Unit keys (matched across metrics).
    pub keys: Vec<String>,
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
    index: HashMap<String, usize>,
}

impl UnitSums {
    /// Adds one row of unit `key` with numerator `num`, denominator `den` and the covariate
    /// values `x` (the same number in every row).
    pub fn add(&mut self, key: String, num: f64, den: f64, x: impl ExactSizeIterator<Item = f64>) {
        let (o, r) = (&mut self.units, &mut self.rows);
        let p = x.len();
        let j = *self.index.entry(key.clone()).or_insert_with(|| {
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

/// The influence values of one metric in one arm, with the unit keys' positions and the
/// proportion correction of the diagonal.
#[derive(Debug, Clone)]
pub struct Influence {
    /// Unit keys, in the arm's order.
    pub keys: Vec<String>,
    /// Influence value per unit.
    pub values: Vec<f64>,
    position: HashMap<String, usize>,
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
        let position = u
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), i))
            .collect();
        let diag_correction = if unit_den && mt == MetricType::Proportion {
            r * (1.0 - r) / ((n - 1.0) * n)
        } else {
            0.0
        };
        Influence {
            keys: u.keys.clone(),
            values,
            position,
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
                let s: f64 = ij
                    .keys
                    .iter()
                    .zip(&ij.values)
                    .filter_map(|(key, v)| ik.position.get(key).map(|&q| v * ik.values[q]))
                    .sum();
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

//! Mergeable sufficient statistics: counts, sums and cross-products.
//!
//! Every A/B estimator (means, proportions, ratio metrics by the delta method, CUPED and
//! regression adjustment) needs only, per group, the count `n`, the sums `Σ vⱼ` and the
//! cross-products `Σ vⱼ vₖ` of a few variables (metric, denominator, covariates). These
//! statistics can be computed from unit rows, read from a warehouse's pre-aggregated rows,
//! or computed chunk by chunk and [merged](Moments::merge) — the result is the same. They are
//! kept as raw sums (the interchange format of warehouses and of GrowthBook), so very large
//! means relative to spreads lose precision like any raw-moment formula; the data layer
//! centres nothing behind the user's back.

use crate::error::{invalid, Result, StatsError};
use serde::{Deserialize, Serialize};

/// Count, sums and cross-products of a fixed list of variables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    names: Vec<String>,
    n: u64,
    sums: Vec<f64>,
    /// Lower triangle of Σ v vᵀ, row-major: (0,0), (1,0), (1,1), (2,0), ...
    cross: Vec<f64>,
}

fn tri(i: usize, j: usize) -> usize {
    let (a, b) = if i >= j { (i, j) } else { (j, i) };
    a * (a + 1) / 2 + b
}

impl Moments {
    /// Empty statistics for the named variables.
    pub fn new(names: Vec<String>) -> Self {
        let p = names.len();
        Moments {
            names,
            n: 0,
            sums: vec![0.0; p],
            cross: vec![0.0; p * (p + 1) / 2],
        }
    }

    /// Statistics from already-aggregated values: `n`, the sums, and the full symmetric
    /// cross-product matrix given as a closure `cross(i, j)`.
    pub fn from_parts(
        names: Vec<String>,
        n: u64,
        sums: Vec<f64>,
        cross: impl Fn(usize, usize) -> f64,
    ) -> Result<Self> {
        if sums.len() != names.len() {
            return Err(StatsError::LengthMismatch {
                what: "sums".into(),
                got: sums.len(),
                expected: names.len(),
            });
        }
        let p = names.len();
        let mut m = Moments::new(names);
        m.n = n;
        m.sums = sums;
        for i in 0..p {
            for j in 0..=i {
                m.cross[tri(i, j)] = cross(i, j);
            }
        }
        for (i, v) in m.sums.iter().chain(m.cross.iter()).enumerate() {
            if !v.is_finite() {
                return Err(StatsError::NonFinite {
                    variable: "sufficient statistics".into(),
                    row: i,
                    value: *v,
                });
            }
        }
        Ok(m)
    }

    /// Renames variable `from` to `to` (nothing happens when there is no `from`), e.g. a
    /// statistics file's generic `covariate` to the column it was computed from.
    pub fn rename(&mut self, from: &str, to: &str) {
        for n in self.names.iter_mut().filter(|n| *n == from) {
            *n = to.to_string();
        }
    }

    /// Adds one observation (one value per variable, in order).
    pub fn push(&mut self, values: &[f64]) -> Result<()> {
        if values.len() != self.names.len() {
            return Err(StatsError::LengthMismatch {
                what: "observation".into(),
                got: values.len(),
                expected: self.names.len(),
            });
        }
        if let Some(j) = values.iter().position(|v| !v.is_finite()) {
            return Err(StatsError::NonFinite {
                variable: self.names[j].clone(),
                row: self.n as usize,
                value: values[j],
            });
        }
        self.n += 1;
        for (i, &vi) in values.iter().enumerate() {
            self.sums[i] += vi;
            for (j, &vj) in values.iter().enumerate().take(i + 1) {
                self.cross[tri(i, j)] += vi * vj;
            }
        }
        Ok(())
    }

    /// Merges another set of statistics over the same variables into this one.
    pub fn merge(&mut self, other: &Moments) -> Result<()> {
        if self.names != other.names {
            return Err(invalid(
                "moments",
                format!(
                    "cannot merge statistics of {:?} into {:?}",
                    other.names, self.names
                ),
            ));
        }
        self.n += other.n;
        self.sums
            .iter_mut()
            .zip(&other.sums)
            .for_each(|(a, b)| *a += b);
        self.cross
            .iter_mut()
            .zip(&other.cross)
            .for_each(|(a, b)| *a += b);
        Ok(())
    }

    /// Variable names.
    pub fn names(&self) -> &[String] {
        &self.names
    }
    /// Position of a variable.
    pub fn index_of(&self, name: &str) -> Result<usize> {
        self.names.iter().position(|n| n == name).ok_or_else(|| {
            invalid(
                "variable",
                format!("no variable `{name}` in {:?}", self.names),
            )
        })
    }
    /// Number of observations.
    pub fn n(&self) -> u64 {
        self.n
    }
    /// Σ vᵢ.
    pub fn sum(&self, i: usize) -> f64 {
        self.sums[i]
    }
    /// Σ vᵢ vⱼ.
    pub fn sum_product(&self, i: usize, j: usize) -> f64 {
        self.cross[tri(i, j)]
    }
    /// Mean of variable i.
    pub fn mean(&self, i: usize) -> Result<f64> {
        if self.n == 0 {
            return Err(StatsError::InsufficientData(
                "mean of an empty group".into(),
            ));
        }
        Ok(self.sums[i] / self.n as f64)
    }
    /// Sample covariance of variables i and j (n − 1 denominator).
    pub fn covariance(&self, i: usize, j: usize) -> Result<f64> {
        if self.n < 2 {
            return Err(StatsError::InsufficientData(format!(
                "a variance needs at least 2 observations, the group has {}",
                self.n
            )));
        }
        let n = self.n as f64;
        Ok((self.sum_product(i, j) - self.sums[i] * self.sums[j] / n) / (n - 1.0))
    }
    /// Sample variance of variable i (n − 1 denominator).
    pub fn variance(&self, i: usize) -> Result<f64> {
        self.covariance(i, i)
    }

    /// Ratio of sums `R = Σ vₙᵤₘ / Σ v_den` and its delta-method standard error over units,
    /// `Var(R) ≈ (σ²ₙ − 2R σₙ_d + R² σ²_d) / (n μ²_d)` (e.g. Deng, Knoblich & Lu 2018,
    /// "Applying the delta method in metric analytics", KDD). With a denominator of 1 per unit
    /// this is the mean and its usual standard error `σ/√n`.
    pub fn ratio(&self, num: usize, den: usize) -> Result<(f64, f64)> {
        let n = self.n as f64;
        let mu_d = self.mean(den)?;
        if mu_d == 0.0 {
            return Err(StatsError::InsufficientData(format!(
                "the denominator `{}` sums to zero",
                self.names[den]
            )));
        }
        let r = self.sums[num] / self.sums[den];
        let var = (self.variance(num)? - 2.0 * r * self.covariance(num, den)?
            + r * r * self.variance(den)?)
            / (n * mu_d * mu_d);
        Ok((r, var.max(0.0).sqrt()))
    }
}

/// One arm's moments of several KPIs' analysis units, for the joint covariance of their
/// effects: per KPI the count and sums of its units, and per pair of KPIs the cross-products
/// of their centred unit vectors over the units both use.
///
/// A KPI's unit vector is `z = (m, d, x₁, …, x_C)`: the unit's summed numerator and
/// denominator (1 per row for a mean) over the rows the KPI uses, and the mean of those
/// rows' covariates. Units are matched across KPIs by key (a unit uses a KPI when it has at
/// least one row with the KPI's inputs and every covariate present). The pair `(j, k)`, `j ≤
/// k`, holds `Σ (z_j − z̄_j)(z_k − z̄_k)ᵀ` over the units both KPIs use, centred at each
/// KPI's own mean `z̄ = sums / n` — centred so that large means do not cost precision. A
/// warehouse returns these from two `GROUP BY`s; `causalkit_ab::influence` computes the
/// effects' covariance from them exactly as from the units themselves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmKpiMoments {
    /// Covariates per unit vector (`C`; the vector has `2 + C` entries).
    pub covariates: usize,
    /// Per KPI, in order.
    pub kpis: Vec<KpiUnitMoments>,
    /// Per pair `(j, k)` with `j ≤ k`, in the order (0,0), (0,1), …, (0,K−1), (1,1), …
    /// ([`ArmKpiMoments::pair`]).
    pub pairs: Vec<PairMoments>,
}

/// One KPI's units in one arm ([`ArmKpiMoments`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiUnitMoments {
    /// Units using the KPI.
    pub n: f64,
    /// Σ m over them.
    pub sum_num: f64,
    /// Σ d.
    pub sum_den: f64,
    /// Σ d² (tells unit denominators of 1, a mean per unit, from a ratio of sums).
    pub sum_den_sq: f64,
    /// Σ xᵢ per covariate.
    pub sum_x: Vec<f64>,
}

impl KpiUnitMoments {
    /// The mean unit vector `z̄ = (Σm, Σd, Σx…)/n`.
    pub fn mean(&self) -> Vec<f64> {
        [self.sum_num, self.sum_den]
            .iter()
            .chain(&self.sum_x)
            .map(|s| s / self.n)
            .collect()
    }
}

/// The centred cross-products of two KPIs' unit vectors ([`ArmKpiMoments`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairMoments {
    /// Units both KPIs use.
    pub n: f64,
    /// `Σ (z_j − z̄_j)_p (z_k − z̄_k)_q`, row-major over `p` (KPI j's entry) and `q` (KPI k's),
    /// `(2 + C)²` values.
    pub centred: Vec<f64>,
}

impl ArmKpiMoments {
    /// The position of pair `(j, k)` (either order) in [`ArmKpiMoments::pairs`].
    pub fn pair_index(&self, j: usize, k: usize) -> usize {
        let (j, k) = if j <= k { (j, k) } else { (k, j) };
        let kn = self.kpis.len();
        // Σ_{i<j} (K − i) pairs come before row j.
        j * kn - j * j.saturating_sub(1) / 2 + (k - j)
    }

    /// The centred cross-product of entry `p` of KPI `j`'s vector and entry `q` of KPI `k`'s
    /// over the units both use, and their number.
    pub fn pair(&self, j: usize, p: usize, k: usize, q: usize) -> (f64, f64) {
        let w = 2 + self.covariates;
        let pm = &self.pairs[self.pair_index(j, k)];
        let v = if j <= k {
            pm.centred[p * w + q]
        } else {
            pm.centred[q * w + p]
        };
        (pm.n, v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn chunked_equals_whole(rows in proptest::collection::vec((-1e3f64..1e3, -1e3f64..1e3), 2..60), cut in 0usize..60) {
            let names = vec!["y".to_string(), "x".to_string()];
            let mut whole = Moments::new(names.clone());
            let mut a = Moments::new(names.clone());
            let mut b = Moments::new(names);
            let cut = cut.min(rows.len());
            for (i, (y, x)) in rows.iter().enumerate() {
                whole.push(&[*y, *x]).unwrap();
                if i < cut { a.push(&[*y, *x]).unwrap() } else { b.push(&[*y, *x]).unwrap() }
            }
            a.merge(&b).unwrap();
            prop_assert_eq!(a.n(), whole.n());
            for i in 0..2 { for j in 0..2 {
                prop_assert!((a.sum_product(i, j) - whole.sum_product(i, j)).abs() <= 1e-9 * whole.sum_product(i, j).abs().max(1.0));
            }}
        }
    }

    #[test]
    fn variance_matches_two_pass() {
        let mut m = Moments::new(vec!["y".into()]);
        for v in [1.0, 2.0, 4.0, 7.0] {
            m.push(&[v]).unwrap();
        }
        // mean 3.5, sum of squared deviations 6.25+2.25+0.25+12.25 = 21
        assert!((m.variance(0).unwrap() - 7.0).abs() < 1e-12);
        assert!(Moments::new(vec!["y".into()]).mean(0).is_err());
        assert!(m.merge(&Moments::new(vec!["z".into()])).is_err());
        assert!(m.push(&[f64::NAN]).is_err());
    }

    #[test]
    fn ratio_reduces_to_mean_with_unit_denominator() {
        let mut m = Moments::new(vec!["y".into(), "d".into()]);
        for v in [1.0, 2.0, 4.0, 7.0] {
            m.push(&[v, 1.0]).unwrap();
        }
        let (r, se) = m.ratio(0, 1).unwrap();
        assert!((r - 3.5).abs() < 1e-15);
        assert!((se - (7.0f64 / 4.0).sqrt()).abs() < 1e-12);
    }
}

//! Absorption of high-dimensional fixed effects by alternating projections.
//!
//! Regressing on the dummies of one or more factors is equivalent (Frisch–Waugh–Lovell) to
//! regressing the *within-transformed* outcome on the within-transformed regressors. For one
//! factor the transformation subtracts (weighted) group means; for several it is the
//! projection onto the orthogonal complement of the span of all dummies, computed by the
//! method of alternating projections (Gaure 2013, "OLS with multiple high dimensional category
//! variables", *Computational Statistics & Data Analysis* 66; Guimarães & Portugal 2010):
//! sweep over the factors, subtracting group means each time, until a sweep changes no value
//! by more than the tolerance. Columns are demeaned in parallel (rayon).
//!
//! Degrees of freedom absorbed follow fixest: all levels of the first factor, the levels of
//! the second minus the number of connected components of the bipartite graph the two
//! factors form, and for each further factor its levels minus one.

use crate::error::{check_len, invalid, Result, StatsError};
use crate::factor::Factor;
use rayon::prelude::*;

/// Convergence settings of the alternating-projections demeaning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemeanOptions {
    /// A sweep that moves no value by more than `tolerance * max(1, max |x|)` ends the
    /// iteration. Default `1e-10`.
    pub tolerance: f64,
    /// Maximum number of sweeps before [`StatsError::NotConverged`]. Default 10,000.
    pub max_iterations: usize,
}

impl Default for DemeanOptions {
    fn default() -> Self {
        DemeanOptions {
            tolerance: 1e-10,
            max_iterations: 10_000,
        }
    }
}

/// What the demeaning did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemeanReport {
    /// The largest number of sweeps any column needed.
    pub iterations: usize,
}

/// One or more fixed-effect factors to absorb.
#[derive(Debug, Clone, PartialEq)]
pub struct FixedEffects {
    factors: Vec<Factor>,
}

impl FixedEffects {
    /// Fixed effects for the given factors (at least one, all of the same length).
    pub fn new(factors: Vec<Factor>) -> Result<Self> {
        let first = factors
            .first()
            .ok_or_else(|| invalid("fixed_effects", "at least one factor is needed"))?;
        for f in &factors[1..] {
            check_len(f.name(), f.len(), first.len())?;
        }
        Ok(FixedEffects { factors })
    }

    /// The factors.
    pub fn factors(&self) -> &[Factor] {
        &self.factors
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.factors[0].len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of parameters the fixed effects absorb (see the module docs).
    pub fn dof(&self) -> usize {
        let mut dof = self.factors[0].levels();
        if let Some(second) = self.factors.get(1) {
            let comps = connected_components(&self.factors[0], second);
            dof += second.levels() - comps;
        }
        for f in self.factors.iter().skip(2) {
            dof += f.levels().saturating_sub(1);
        }
        dof
    }

    /// Within-transforms each column in place (weighted when `weights` is given), so that it
    /// is orthogonal (in the weighted inner product) to every fixed-effect dummy.
    pub fn demean(
        &self,
        columns: &mut [Vec<f64>],
        weights: Option<&[f64]>,
        options: &DemeanOptions,
    ) -> Result<DemeanReport> {
        let n = self.len();
        for (j, c) in columns.iter().enumerate() {
            check_len(&format!("column {j}"), c.len(), n)?;
        }
        if let Some(w) = weights {
            check_len("weights", w.len(), n)?;
        }
        let level_weights: Vec<Vec<f64>> = self
            .factors
            .iter()
            .map(|f| {
                let mut s = vec![0.0; f.levels()];
                for (i, &c) in f.codes().iter().enumerate() {
                    s[c as usize] += weights.map_or(1.0, |w| w[i]);
                }
                s
            })
            .collect();
        let results: Vec<Result<usize>> = columns
            .par_iter_mut()
            .map(|col| self.demean_one(col, weights, &level_weights, options))
            .collect();
        let mut iterations = 0;
        for r in results {
            iterations = iterations.max(r?);
        }
        Ok(DemeanReport { iterations })
    }

    fn demean_one(
        &self,
        x: &mut [f64],
        weights: Option<&[f64]>,
        level_weights: &[Vec<f64>],
        options: &DemeanOptions,
    ) -> Result<usize> {
        let scale = x.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        let threshold = options.tolerance * scale;
        let single = self.factors.len() == 1;
        let mut sums: Vec<Vec<f64>> = level_weights.iter().map(|l| vec![0.0; l.len()]).collect();
        let mut last_change = f64::INFINITY;
        for iter in 1..=options.max_iterations {
            let mut change = 0.0f64;
            for ((f, lw), s) in self.factors.iter().zip(level_weights).zip(sums.iter_mut()) {
                s.iter_mut().for_each(|v| *v = 0.0);
                let codes = f.codes();
                match weights {
                    Some(w) => {
                        for i in 0..x.len() {
                            s[codes[i] as usize] += w[i] * x[i];
                        }
                    }
                    None => {
                        for i in 0..x.len() {
                            s[codes[i] as usize] += x[i];
                        }
                    }
                }
                for (m, &wsum) in s.iter_mut().zip(lw) {
                    *m = if wsum > 0.0 { *m / wsum } else { 0.0 };
                    change = change.max(m.abs());
                }
                for i in 0..x.len() {
                    x[i] -= s[codes[i] as usize];
                }
            }
            if single || change <= threshold {
                return Ok(iter);
            }
            last_change = change;
        }
        Err(StatsError::NotConverged {
            method: "fixed-effect demeaning (alternating projections)".into(),
            iterations: options.max_iterations,
            tolerance: options.tolerance,
            last_change: last_change / scale,
        })
    }
}

/// Connected components of the bipartite graph whose nodes are the levels of `a` and `b`,
/// with an edge for every row.
fn connected_components(a: &Factor, b: &Factor) -> usize {
    let na = a.levels();
    let mut parent: Vec<usize> = (0..na + b.levels()).collect();
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    for (&ca, &cb) in a.codes().iter().zip(b.codes()) {
        let ra = find(&mut parent, ca as usize);
        let rb = find(&mut parent, na + cb as usize);
        if ra != rb {
            parent[ra] = rb;
        }
    }
    (0..parent.len())
        .filter(|&i| find(&mut parent, i) == i)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_factor_subtracts_group_means() {
        let f = Factor::from_labels("g", &[0, 0, 1, 1, 1]);
        let fe = FixedEffects::new(vec![f]).unwrap();
        let mut cols = vec![vec![1.0, 3.0, 2.0, 4.0, 6.0]];
        let rep = fe
            .demean(&mut cols, None, &DemeanOptions::default())
            .unwrap();
        assert_eq!(rep.iterations, 1);
        let expect = [-1.0, 1.0, -2.0, 0.0, 2.0];
        for (a, b) in cols[0].iter().zip(expect) {
            assert!((a - b).abs() < 1e-14);
        }
    }

    #[test]
    fn two_factors_give_residuals_orthogonal_to_all_dummies() {
        // unbalanced 2-way layout
        let a = Factor::from_labels("a", &[0, 0, 1, 1, 2, 2, 2, 0]);
        let b = Factor::from_labels("b", &[0, 1, 0, 1, 0, 1, 1, 2]);
        let fe = FixedEffects::new(vec![a.clone(), b.clone()]).unwrap();
        let w = [1.0, 2.0, 1.0, 0.5, 3.0, 1.0, 1.0, 2.0];
        let mut cols = vec![vec![1.0, 5.0, 2.0, -1.0, 3.0, 7.0, 2.0, 0.5]];
        let opts = DemeanOptions {
            tolerance: 1e-14,
            max_iterations: 100_000,
        };
        fe.demean(&mut cols, Some(&w), &opts).unwrap();
        for f in [&a, &b] {
            let mut s = vec![0.0; f.levels()];
            for i in 0..8 {
                s[f.codes()[i] as usize] += w[i] * cols[0][i];
            }
            for v in s {
                assert!(v.abs() < 1e-10, "{v}");
            }
        }
        assert_eq!(fe.dof(), 3 + 3 - 1);
    }

    #[test]
    fn disconnected_factors_lose_one_dof_per_component() {
        let a = Factor::from_labels("a", &[0, 0, 1, 1]);
        let b = Factor::from_labels("b", &[0, 1, 2, 3]);
        let fe = FixedEffects::new(vec![a, b]).unwrap();
        // components: {a0, b0, b1}, {a1, b2, b3}
        assert_eq!(fe.dof(), 2 + 4 - 2);
    }

    #[test]
    fn non_convergence_is_reported() {
        let a = Factor::from_labels("a", &[0, 0, 1, 1, 2, 2, 2, 0]);
        let b = Factor::from_labels("b", &[0, 1, 0, 1, 0, 1, 1, 2]);
        let fe = FixedEffects::new(vec![a, b]).unwrap();
        let mut cols = vec![vec![1.0, 5.0, 2.0, -1.0, 3.0, 7.0, 2.0, 0.5]];
        let opts = DemeanOptions {
            tolerance: 1e-300,
            max_iterations: 3,
        };
        let e = fe.demean(&mut cols, None, &opts).unwrap_err();
        assert!(matches!(e, StatsError::NotConverged { iterations: 3, .. }));
    }

    #[test]
    fn mismatched_lengths_are_errors() {
        let a = Factor::from_labels("a", &[0, 1]);
        let b = Factor::from_labels("b", &[0, 1, 1]);
        assert!(FixedEffects::new(vec![a, b]).is_err());
        assert!(FixedEffects::new(vec![]).is_err());
    }
}

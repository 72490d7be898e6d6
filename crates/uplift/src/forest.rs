//! Uplift random forests: bagged [`UpliftTree`]s (Guelman, Guillén & Pérez-Marín 2015,
//! "Uplift random forests", *Cybernetics and Systems* 46; the design of causalml's
//! `UpliftRandomForestClassifier`): each tree is fitted on `n` rows drawn with replacement
//! and tries `max_features` random features per node; predictions average the trees'
//! per-group means.
//!
//! Tree `b` draws everything random (bootstrap rows, feature subsets, honest split) from
//! the ChaCha8 stream `(seed, b)` ([`causalkit_stats::resample::replicate_rng`]), and the
//! trees are fitted in parallel with rayon and collected in order, so a seeded forest is
//! identical for any number of threads. Features are binned once and shared by all trees.

use crate::binned::Binned;
use crate::error::{invalid, Result};
use crate::tree::{bootstrap_rows, check_columns, check_inputs, TreeOptions, UpliftTree};
use causalkit_stats::resample::replicate_rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Options of an uplift forest. Defaults follow causalml's `UpliftRandomForestClassifier`
/// (100 trees here, 10 there; `max_features` 10, `min_samples_leaf` 100,
/// `min_samples_treatment` 10, `n_reg` 10, depth 5, normalisation on).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForestOptions {
    /// Options of every tree (`max_features` applies per node).
    pub tree: TreeOptions,
    /// Number of trees.
    pub n_trees: usize,
    /// Bootstrap the rows of each tree (otherwise every tree sees every row once).
    pub bootstrap: bool,
    /// Seed.
    pub seed: u64,
}

impl Default for ForestOptions {
    fn default() -> Self {
        ForestOptions {
            tree: TreeOptions {
                n_reg: 10.0,
                max_features: Some(10),
                ..TreeOptions::default()
            },
            n_trees: 100,
            bootstrap: true,
            seed: 0,
        }
    }
}

/// A fitted uplift forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpliftForest {
    /// The trees.
    pub trees: Vec<UpliftTree>,
    /// Number of groups (control + treatments).
    pub groups: usize,
    /// Number of features.
    pub n_features: usize,
    /// Options used.
    pub options: ForestOptions,
}

impl UpliftForest {
    /// Fits the forest. `group[i]` is 0 for control and `1..=K` for the treatments.
    pub fn fit(x: &Binned, group: &[usize], y: &[f64], options: &ForestOptions) -> Result<Self> {
        let groups = check_inputs(x, group, y, options.tree.criterion)?;
        if options.n_trees == 0 {
            return Err(invalid("n_trees", "must be at least 1"));
        }
        let n = x.rows();
        let trees: Vec<Result<UpliftTree>> = (0..options.n_trees)
            .into_par_iter()
            .map(|b| {
                let mut rng = replicate_rng(options.seed, b as u64);
                let rows = if options.bootstrap {
                    Some(bootstrap_rows(&mut rng, n))
                } else {
                    None
                };
                UpliftTree::fit_rows(x, group, y, rows, &options.tree, &mut rng)
            })
            .collect();
        let trees = trees.into_iter().collect::<Result<Vec<_>>>()?;
        Ok(UpliftForest {
            trees,
            groups,
            n_features: x.features(),
            options: options.clone(),
        })
    }

    /// Per-group outcome means averaged over the trees, for each row.
    pub fn predict_groups(&self, columns: &[Vec<f64>]) -> Result<Vec<Vec<f64>>> {
        check_columns(columns, self.n_features)?;
        let n = columns.first().map_or(0, |c| c.len());
        let k = self.trees.len() as f64;
        Ok((0..n)
            .into_par_iter()
            .map(|i| {
                let row: Vec<f64> = columns.iter().map(|c| c[i]).collect();
                let mut acc = vec![0.0; self.groups];
                for t in &self.trees {
                    for (a, v) in acc.iter_mut().zip(&t.nodes[t.leaf(&row)].value) {
                        *a += v;
                    }
                }
                acc.iter().map(|a| a / k).collect()
            })
            .collect())
    }

    /// The recommended group per row ([`best_group`](crate::tree::best_group) of the
    /// averaged means): 0 = no treatment, `t` = treatment `t`.
    pub fn recommend(&self, columns: &[Vec<f64>]) -> Result<Vec<usize>> {
        Ok(self
            .predict_groups(columns)?
            .iter()
            .map(|v| crate::tree::best_group(v))
            .collect())
    }

    /// Uplift of every treatment arm (`p_t - p_0`) for each row.
    pub fn predict(&self, columns: &[Vec<f64>]) -> Result<Vec<Vec<f64>>> {
        Ok(self
            .predict_groups(columns)?
            .into_iter()
            .map(|v| v[1..].iter().map(|p| p - v[0]).collect())
            .collect())
    }
}

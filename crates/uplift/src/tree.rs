//! Uplift decision trees with the split criteria of causalml 0.18.
//!
//! The tree splits to make the outcome distributions of the treatment groups and the
//! control group differ as much as possible (Rzepakowski & Jaroszewicz 2012, "Decision
//! trees for uplift modeling with single and multiple treatments", *Knowledge and
//! Information Systems* 32). For a node with per-group outcome means `p_g` (`g = 0` the
//! control, `1..=K` the treatments) the node metric `M` is
//!
//! - **KL**: `Σ_t KL(p_t ‖ p_0)` (Bernoulli Kullback–Leibler; `p_0` clamped to
//!   `[1e-6, 1 - 1e-6]`; a term is 0 when `p_0 = 0`),
//! - **ED**: `Σ_t 2 (p_t - p_0)²`,
//! - **Chi**: `Σ_t (p_t - p_0)² / max(p_0, 1e-6) + (p_t - p_0)² / max(1 - p_0, 1e-6)`,
//! - **CTS** (contextual treatment selection, Zhao, Fang & Simchi-Levi 2017, "Uplift
//!   modeling with multiple treatments and general response types", *SIAM SDM*):
//!   `max_g p_g` over all groups, control included.
//!
//! and a split's gain is `q M(left) + (1 - q) M(right) - M(node)`, `q` the left share of the
//! node's rows. As in causalml (`causalml/inference/tree/_uplift/_criterion.pyx`):
//!
//! - the means entering `M` are **regularised**: a node's `p_g` is shrunk toward its
//!   parent's regularised `p_g` as `(Σy + n_reg p_parent) / (n + n_reg)` when the group has
//!   more than `min_samples_treatment` rows, and replaced by the parent's value otherwise;
//!   the root uses raw means; children in the split search shrink toward the node;
//! - a split leaving any group with fewer than `min_samples_treatment` rows on either side,
//!   or fewer than `min_samples_leaf` rows in a child, is not admissible;
//! - with `normalization` (not for CTS) the gain is divided by Rzepakowski's factor built
//!   from the raw group counts of the node and of its *right* child (`x > threshold`);
//! - a node is a leaf at `max_depth`, with fewer than `2 min_samples_leaf` rows, or when the
//!   best gain is below `-f64::EPSILON`; among equal gains the first feature and the
//!   smallest threshold win;
//! - leaf values are the raw (unregularised) group means; the uplift of arm `t` is
//!   `p_t - p_0`.
//!
//! Candidate thresholds come from [`Binned`]: with at most `max_bins` distinct values per
//! feature they are all midpoints between distinct values — causalml's candidates.
//!
//! Beyond causalml: **continuous outcomes** with ED and CTS (both are defined on group
//! means; KL and Chi need a 0/1 outcome and return a typed error otherwise, where causalml
//! silently turns `y > 0` into 1); an **honest** option (Athey & Imbens 2016, "Recursive
//! partitioning for heterogeneous causal effects", *PNAS* 113) that grows the structure on
//! one part of the rows and estimates the leaves on the other, a group without estimation
//! rows in a leaf taking its nearest ancestor's estimate.

use crate::binned::Binned;
use crate::error::{invalid, Result, UpliftError};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

const EPS: f64 = 1e-6;
const NORM_ALPHA: f64 = 0.9;

/// Split criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Criterion {
    /// Kullback–Leibler divergence (0/1 outcomes).
    Kl,
    /// Squared Euclidean distance.
    Ed,
    /// Chi-squared divergence (0/1 outcomes).
    Chi,
    /// Contextual treatment selection.
    Cts,
}

impl Criterion {
    /// Parses `kl`, `ed`, `chi`, `cts` (any case).
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "kl" => Ok(Criterion::Kl),
            "ed" => Ok(Criterion::Ed),
            "chi" => Ok(Criterion::Chi),
            "cts" => Ok(Criterion::Cts),
            _ => Err(invalid(
                "criterion",
                format!("expected kl, ed, chi or cts, got `{s}`"),
            )),
        }
    }

    fn needs_binary(self) -> bool {
        matches!(self, Criterion::Kl | Criterion::Chi)
    }
}

/// Options of one uplift tree. Defaults are causalml's `UpliftTreeClassifier` defaults
/// except `max_depth` (5 here, 3 there) and `max_bins`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeOptions {
    /// Split criterion.
    pub criterion: Criterion,
    /// Maximum depth (the root has depth 0).
    pub max_depth: usize,
    /// Minimum rows in each child.
    pub min_samples_leaf: usize,
    /// Minimum rows of every group in each child; also the regularisation threshold.
    pub min_samples_treatment: usize,
    /// Regularisation weight toward the parent's means (in rows).
    pub n_reg: f64,
    /// Divide the gain by Rzepakowski's normalisation factor (ignored for CTS).
    pub normalization: bool,
    /// Features tried per node (`None`: all). With fewer, a random subset is drawn per
    /// node as in scikit-learn (constant features in the node do not count).
    pub max_features: Option<usize>,
    /// Fraction of the rows held out to estimate the leaves (`None`: not honest).
    pub honest_fraction: Option<f64>,
}

impl Default for TreeOptions {
    fn default() -> Self {
        TreeOptions {
            criterion: Criterion::Kl,
            max_depth: 5,
            min_samples_leaf: 100,
            min_samples_treatment: 10,
            n_reg: 100.0,
            normalization: true,
            max_features: None,
            honest_fraction: None,
        }
    }
}

/// One node of a fitted tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// Split feature (`None` for a leaf).
    pub feature: Option<usize>,
    /// Rows with `x <= threshold` go left.
    pub threshold: f64,
    /// The last bin (of the training binning) whose values lie at or below the threshold:
    /// rows are routed by bin during fitting.
    pub bin: usize,
    /// Index of the left child.
    pub left: usize,
    /// Index of the right child.
    pub right: usize,
    /// Training rows in the node (with bootstrap multiplicity).
    pub n: f64,
    /// Rows per group.
    pub counts: Vec<f64>,
    /// Outcome mean per group (control first); the prediction of a leaf.
    pub value: Vec<f64>,
    /// The split's (normalised) gain, 0 for a leaf.
    pub gain: f64,
}

/// A fitted uplift tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpliftTree {
    /// Nodes, the root first (depth-first, left before right).
    pub nodes: Vec<Node>,
    /// Number of groups (control + treatments).
    pub groups: usize,
    /// Number of features the tree was fitted on.
    pub n_features: usize,
    /// Options used.
    pub options: TreeOptions,
}

/// Validated training inputs: outcome and group per row (0 = control, `1..groups`).
pub(crate) fn check_inputs(
    x: &Binned,
    group: &[usize],
    y: &[f64],
    criterion: Criterion,
) -> Result<usize> {
    let n = x.rows();
    for (what, len) in [("treatment", group.len()), ("outcome", y.len())] {
        if len != n {
            return Err(UpliftError::LengthMismatch {
                what: what.into(),
                got: len,
                expected: n,
            });
        }
    }
    if let Some(i) = y.iter().position(|v| !v.is_finite()) {
        return Err(UpliftError::NonFinite {
            variable: "outcome".into(),
            row: i,
            value: y[i],
        });
    }
    if criterion.needs_binary() {
        if let Some(i) = y.iter().position(|&v| !(v == 0.0 || v - 1.0 == 0.0)) {
            return Err(UpliftError::BadValue {
                variable: "outcome".into(),
                row: i,
                value: y[i],
                expected: format!(
                    "{criterion:?} needs a 0/1 outcome; use ED or CTS for a continuous outcome"
                ),
            });
        }
    }
    let groups = group.iter().max().map_or(0, |m| m + 1);
    let mut seen = vec![false; groups];
    for &g in group {
        seen[g] = true;
    }
    if groups < 2 || !seen.iter().all(|&s| s) {
        return Err(UpliftError::InsufficientData(format!(
            "uplift trees need control rows (group 0) and rows of every treatment 1..{}; groups present: {:?}",
            groups.max(2) - 1,
            seen.iter()
                .enumerate()
                .filter(|(_, &s)| s)
                .map(|(g, _)| g)
                .collect::<Vec<_>>()
        )));
    }
    Ok(groups)
}

struct Ctx<'a> {
    x: &'a Binned,
    group: &'a [usize],
    y: &'a [f64],
    g: usize,
    o: &'a TreeOptions,
}

/// `-p ln q` (0 unless `q > 0`): causalml's `_entropy_h(p, q)` with `q >= 0`.
fn cross_entropy(p: f64, q: f64) -> f64 {
    if q > 0.0 {
        -p * q.ln()
    } else {
        0.0
    }
}

/// `-p ln p` (0 unless `p > 0`): causalml's `_entropy_h(p, -1)`.
fn self_entropy(p: f64) -> f64 {
    if p > 0.0 {
        -p * p.ln()
    } else {
        0.0
    }
}

#[allow(clippy::float_cmp)]
fn kl(pk: f64, qk: f64) -> f64 {
    if qk == 0.0 {
        return 0.0;
    }
    let q = qk.clamp(EPS, 1.0 - EPS);
    if pk == 0.0 {
        -(1.0 - q).ln()
    } else if pk == 1.0 {
        -q.ln()
    } else {
        pk * (pk / q).ln() + (1.0 - pk) * ((1.0 - pk) / (1.0 - q)).ln()
    }
}

fn metric(c: Criterion, p: &[f64]) -> f64 {
    let pc = p[0];
    match c {
        Criterion::Kl => p[1..].iter().map(|&pt| kl(pt, pc)).sum(),
        Criterion::Ed => p[1..].iter().map(|&pt| 2.0 * (pt - pc) * (pt - pc)).sum(),
        Criterion::Chi => p[1..]
            .iter()
            .map(|&pt| {
                let d2 = (pt - pc) * (pt - pc);
                d2 / pc.max(EPS) + d2 / (1.0 - pc).max(EPS)
            })
            .sum(),
        Criterion::Cts => p.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    }
}

/// Rzepakowski's normalisation factor from the node's and the right child's group counts
/// (causalml `_norm_factor`).
fn norm_factor(node: &[f64], right: &[f64]) -> f64 {
    let n_c = node[0];
    let n_c_gt = right[0];
    let sum_n_t: f64 = node[1..].iter().sum();
    let sum_n_t_gt: f64 = right[1..].iter().sum();
    let pt_a = sum_n_t_gt / (sum_n_t + 0.1);
    let pc_a = n_c_gt / (n_c + 0.1);
    let tot = sum_n_t + n_c;
    let mut r = NORM_ALPHA * cross_entropy(sum_n_t / tot, n_c / tot) * kl(pt_a, pc_a);
    for i in 1..node.len() {
        let n_t_i = node[i];
        let pt_a_i = right[i] / (n_t_i + 0.1);
        r += (1.0 - NORM_ALPHA)
            * cross_entropy(n_t_i / (n_t_i + n_c), n_c / (n_t_i + n_c))
            * kl(pt_a_i, pc_a);
        r += n_t_i / tot * self_entropy(pt_a_i);
    }
    r += n_c / tot * self_entropy(pc_a);
    r + 0.5
}

/// Regularised means (causalml `_reg_summary`).
fn reg_summary(
    cnt: &[f64],
    sy: &[f64],
    target: Option<&[f64]>,
    n_reg: f64,
    mst: f64,
    out: &mut [f64],
) {
    for g in 0..cnt.len() {
        out[g] = match target {
            None => {
                if cnt[g] > 0.0 {
                    sy[g] / cnt[g]
                } else {
                    0.0
                }
            }
            Some(t) if cnt[g] > mst => (sy[g] + t[g] * n_reg) / (cnt[g] + n_reg),
            Some(t) => t[g],
        };
    }
}

/// Best split of one feature: (last left bin, first occupied right bin, gain).
type FeatureSplit = Option<(usize, usize, f64)>;

struct Best {
    feature: usize,
    bin: usize,
    next: usize,
    gain: f64,
}

impl Ctx<'_> {
    fn stats(&self, rows: &[u32]) -> (Vec<f64>, Vec<f64>) {
        let mut cnt = vec![0.0; self.g];
        let mut sy = vec![0.0; self.g];
        for &r in rows {
            let r = r as usize;
            cnt[self.group[r]] += 1.0;
            sy[self.group[r]] += self.y[r];
        }
        (cnt, sy)
    }

    /// Best admissible split of feature `f` over `rows`, or `None` (also `None` for a
    /// feature constant in the node, reported by the second value).
    fn best_on_feature(
        &self,
        f: usize,
        rows: &[u32],
        node_cnt: &[f64],
        s_node: &[f64],
    ) -> (FeatureSplit, bool) {
        let g = self.g;
        let nb = self.x.bins(f);
        let codes = self.x.codes(f);
        let mut cnt = vec![0.0; nb * g];
        let mut sy = vec![0.0; nb * g];
        for &r in rows {
            let r = r as usize;
            let k = codes[r] as usize * g + self.group[r];
            cnt[k] += 1.0;
            sy[k] += self.y[r];
        }
        let n_node: f64 = node_cnt.iter().sum();
        let mut occupied = 0;
        for b in 0..nb {
            if cnt[b * g..(b + 1) * g].iter().any(|&c| c > 0.0) {
                occupied += 1;
            }
        }
        if occupied < 2 {
            return (None, true);
        }
        let node_sy: Vec<f64> = (0..g)
            .map(|k| (0..nb).map(|b| sy[b * g + k]).sum())
            .collect();
        let mut lc = vec![0.0; g];
        let mut ls = vec![0.0; g];
        let mut rc = vec![0.0; g];
        let mut rs = vec![0.0; g];
        let mut sl = vec![0.0; g];
        let mut sr = vec![0.0; g];
        let msl = self.o.min_samples_leaf as f64;
        let mst = self.o.min_samples_treatment as f64;
        let mut best: Option<(usize, f64)> = None;
        for b in 0..nb - 1 {
            let mut empty = true;
            for k in 0..g {
                let c = cnt[b * g + k];
                if c > 0.0 {
                    empty = false;
                }
                lc[k] += c;
                ls[k] += sy[b * g + k];
            }
            // A threshold is a candidate only after a bin that holds rows of this node (an
            // exhaustive splitter sees only the values present in the node).
            if empty {
                continue;
            }
            let n_left: f64 = lc.iter().sum();
            let n_right = n_node - n_left;
            if n_right <= 0.0 {
                break;
            }
            if n_left < msl || n_right < msl {
                continue;
            }
            for k in 0..g {
                rc[k] = node_cnt[k] - lc[k];
                rs[k] = node_sy[k] - ls[k];
            }
            let min_l = lc.iter().copied().fold(f64::INFINITY, f64::min);
            let min_r = rc.iter().copied().fold(f64::INFINITY, f64::min);
            if min_l < mst || min_r < mst {
                continue;
            }
            reg_summary(&lc, &ls, Some(s_node), self.o.n_reg, mst, &mut sl);
            reg_summary(&rc, &rs, Some(s_node), self.o.n_reg, mst, &mut sr);
            let q = n_left / n_node;
            let c = self.o.criterion;
            let mut gain = q * metric(c, &sl) + (1.0 - q) * metric(c, &sr) - metric(c, s_node);
            if self.o.normalization && c != Criterion::Cts {
                gain /= norm_factor(node_cnt, &rc);
            }
            if best.is_none_or(|(_, bg)| gain > bg) {
                best = Some((b, gain));
            }
        }
        // The first bin after the chosen one that holds rows of this node.
        let best = best.map(|(b, gain)| {
            let next = (b + 1..nb)
                .find(|&k| cnt[k * g..(k + 1) * g].iter().any(|&c| c > 0.0))
                .expect("a split leaves rows on the right");
            (b, next, gain)
        });
        (best, false)
    }

    fn find_split(
        &self,
        rows: &[u32],
        node_cnt: &[f64],
        s_node: &[f64],
        rng: &mut ChaCha8Rng,
    ) -> Option<Best> {
        let nf = self.x.features();
        let results: Vec<(FeatureSplit, bool)> = match self.o.max_features {
            Some(m) if m < nf => {
                // scikit-learn style: visit features in random order until `m` features
                // that are not constant in this node have been tried.
                let mut order: Vec<usize> = (0..nf).collect();
                order.shuffle(rng);
                let mut out = vec![(None, true); nf];
                let mut tried = 0;
                for f in order {
                    if tried >= m {
                        break;
                    }
                    let r = self.best_on_feature(f, rows, node_cnt, s_node);
                    if !r.1 {
                        tried += 1;
                    }
                    out[f] = r;
                }
                out
            }
            _ => (0..nf)
                .into_par_iter()
                .map(|f| self.best_on_feature(f, rows, node_cnt, s_node))
                .collect(),
        };
        let mut best: Option<Best> = None;
        for (f, (r, _)) in results.into_iter().enumerate() {
            if let Some((b, next, gain)) = r {
                if best.as_ref().is_none_or(|bb| gain > bb.gain) {
                    best = Some(Best {
                        feature: f,
                        bin: b,
                        next,
                        gain,
                    });
                }
            }
        }
        best
    }

    fn grow(
        &self,
        nodes: &mut Vec<Node>,
        rows: Vec<u32>,
        depth: usize,
        parent: Option<&[f64]>,
        rng: &mut ChaCha8Rng,
    ) -> usize {
        let (cnt, sy) = self.stats(&rows);
        let n: f64 = cnt.iter().sum();
        let value: Vec<f64> = (0..self.g)
            .map(|k| {
                if cnt[k] > 0.0 {
                    sy[k] / cnt[k]
                } else {
                    // No rows of this group here: the parent's mean (set below).
                    f64::NAN
                }
            })
            .collect();
        let mut summary = vec![0.0; self.g];
        reg_summary(
            &cnt,
            &sy,
            parent,
            self.o.n_reg,
            self.o.min_samples_treatment as f64,
            &mut summary,
        );
        let id = nodes.len();
        nodes.push(Node {
            feature: None,
            threshold: 0.0,
            bin: 0,
            left: 0,
            right: 0,
            n,
            counts: cnt.clone(),
            value,
            gain: 0.0,
        });
        let msl = self.o.min_samples_leaf as f64;
        let min_split = (2.0 * msl).max(2.0);
        if depth >= self.o.max_depth || n < min_split {
            return id;
        }
        let Some(best) = self.find_split(&rows, &cnt, &summary, rng) else {
            return id;
        };
        if best.gain + f64::EPSILON < 0.0 {
            return id;
        }
        let codes = self.x.codes(best.feature);
        let (l, r): (Vec<u32>, Vec<u32>) = rows
            .into_iter()
            .partition(|&i| codes[i as usize] as usize <= best.bin);
        let left = self.grow(nodes, l, depth + 1, Some(&summary), rng);
        let right = self.grow(nodes, r, depth + 1, Some(&summary), rng);
        let node = &mut nodes[id];
        node.feature = Some(best.feature);
        node.threshold = self.x.node_threshold(best.feature, best.bin, best.next);
        node.bin = self.x.last_bin_below(best.feature, node.threshold);
        node.left = left;
        node.right = right;
        node.gain = best.gain;
        id
    }
}

fn fill_missing_values(nodes: &mut [Node], id: usize, parent: Option<Vec<f64>>) {
    if let Some(p) = &parent {
        for (v, pv) in nodes[id].value.iter_mut().zip(p) {
            if v.is_nan() {
                *v = *pv;
            }
        }
    }
    for v in nodes[id].value.iter_mut() {
        if v.is_nan() {
            *v = 0.0;
        }
    }
    if let Some(_f) = nodes[id].feature {
        let (l, r) = (nodes[id].left, nodes[id].right);
        let here = nodes[id].value.clone();
        fill_missing_values(nodes, l, Some(here.clone()));
        fill_missing_values(nodes, r, Some(here));
    }
}

impl UpliftTree {
    /// Fits a tree on the rows `rows` (indices into `x`, repeated for bootstrap
    /// multiplicity; `None`: every row once). `group[i]` is 0 for control and `1..=K` for
    /// the treatments; `y` the outcome. `rng` drives the feature subsets and the honest
    /// split.
    pub fn fit_rows(
        x: &Binned,
        group: &[usize],
        y: &[f64],
        rows: Option<Vec<u32>>,
        options: &TreeOptions,
        rng: &mut ChaCha8Rng,
    ) -> Result<Self> {
        let groups = check_inputs(x, group, y, options.criterion)?;
        if options.max_depth == 0 {
            return Err(invalid("max_depth", "must be at least 1"));
        }
        if options.min_samples_leaf == 0 {
            return Err(invalid("min_samples_leaf", "must be at least 1"));
        }
        if !(options.n_reg >= 0.0 && options.n_reg.is_finite()) {
            return Err(invalid(
                "n_reg",
                format!("must be >= 0, got {}", options.n_reg),
            ));
        }
        if options.max_features == Some(0) {
            return Err(invalid("max_features", "must be at least 1"));
        }
        let rows = rows.unwrap_or_else(|| (0..x.rows() as u32).collect());
        let (grow_rows, est_rows) = match options.honest_fraction {
            None => (rows, None),
            Some(f) => {
                let (g, e) = honest_split(group, groups, rows, f, rng)?;
                (g, Some(e))
            }
        };
        let ctx = Ctx {
            x,
            group,
            y,
            g: groups,
            o: options,
        };
        let mut nodes = Vec::new();
        ctx.grow(&mut nodes, grow_rows, 0, None, rng);
        let mut tree = UpliftTree {
            nodes,
            groups,
            n_features: x.features(),
            options: options.clone(),
        };
        if let Some(est) = est_rows {
            tree.reestimate(x, group, y, &est);
        }
        fill_missing_values(&mut tree.nodes, 0, None);
        Ok(tree)
    }

    /// Fits a tree on every row with a fixed seed.
    pub fn fit(
        x: &Binned,
        group: &[usize],
        y: &[f64],
        options: &TreeOptions,
        seed: u64,
    ) -> Result<Self> {
        let mut rng = causalkit_stats::resample::replicate_rng(seed, 0);
        Self::fit_rows(x, group, y, None, options, &mut rng)
    }

    /// Re-estimates every node's group means on `rows` (honest estimation); a group
    /// without rows in a node is filled from the nearest ancestor afterwards.
    fn reestimate(&mut self, x: &Binned, group: &[usize], y: &[f64], rows: &[u32]) {
        let g = self.groups;
        let mut cnt = vec![vec![0.0; g]; self.nodes.len()];
        let mut sy = vec![vec![0.0; g]; self.nodes.len()];
        for &r in rows {
            let r = r as usize;
            let mut id = 0;
            loop {
                cnt[id][group[r]] += 1.0;
                sy[id][group[r]] += y[r];
                let node = &self.nodes[id];
                match node.feature {
                    None => break,
                    Some(f) => {
                        id = if x.codes(f)[r] as usize <= node.bin {
                            node.left
                        } else {
                            node.right
                        };
                    }
                }
            }
        }
        for (id, node) in self.nodes.iter_mut().enumerate() {
            for k in 0..g {
                node.value[k] = if cnt[id][k] > 0.0 {
                    sy[id][k] / cnt[id][k]
                } else {
                    f64::NAN
                };
            }
        }
    }

    /// Index of the leaf a feature row falls in (`row[j]` = value of feature `j`).
    pub fn leaf(&self, row: &[f64]) -> usize {
        let mut id = 0;
        while let Some(f) = self.nodes[id].feature {
            let n = &self.nodes[id];
            id = if row[f] <= n.threshold {
                n.left
            } else {
                n.right
            };
        }
        id
    }

    /// Per-group outcome means for each row of a column-major feature matrix.
    pub fn predict_groups(&self, columns: &[Vec<f64>]) -> Result<Vec<Vec<f64>>> {
        check_columns(columns, self.n_features)?;
        let n = columns.first().map_or(0, |c| c.len());
        let mut row = vec![0.0; columns.len()];
        Ok((0..n)
            .map(|i| {
                for (j, c) in columns.iter().enumerate() {
                    row[j] = c[i];
                }
                self.nodes[self.leaf(&row)].value.clone()
            })
            .collect())
    }

    /// Uplift of every treatment arm (`p_t - p_0`, `t = 1..=K`) for each row.
    pub fn predict(&self, columns: &[Vec<f64>]) -> Result<Vec<Vec<f64>>> {
        Ok(self
            .predict_groups(columns)?
            .into_iter()
            .map(|v| v[1..].iter().map(|p| p - v[0]).collect())
            .collect())
    }
}

pub(crate) fn check_columns(columns: &[Vec<f64>], n_features: usize) -> Result<()> {
    if columns.len() != n_features {
        return Err(UpliftError::LengthMismatch {
            what: "feature columns".into(),
            got: columns.len(),
            expected: n_features,
        });
    }
    let n = columns.first().map_or(0, |c| c.len());
    for (j, c) in columns.iter().enumerate() {
        if c.len() != n {
            return Err(UpliftError::LengthMismatch {
                what: format!("feature column {j}"),
                got: c.len(),
                expected: n,
            });
        }
        if let Some(i) = c.iter().position(|v| !v.is_finite()) {
            return Err(UpliftError::NonFinite {
                variable: format!("feature column {j}"),
                row: i,
                value: c[i],
            });
        }
    }
    Ok(())
}

/// The honest split of [`TreeOptions::honest_fraction`]: within each group the rows are
/// shuffled with `rng` and the first `round(fraction · n_g)` go to estimation; returns
/// `(grow, estimate)`, each sorted.
pub fn honest_split(
    group: &[usize],
    groups: usize,
    rows: Vec<u32>,
    fraction: f64,
    rng: &mut ChaCha8Rng,
) -> Result<(Vec<u32>, Vec<u32>)> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(invalid(
            "honest_fraction",
            format!("must lie in (0, 1), got {fraction}"),
        ));
    }
    let mut by_group: Vec<Vec<u32>> = vec![Vec::new(); groups];
    for &r in &rows {
        by_group[group[r as usize]].push(r);
    }
    let mut grow = Vec::new();
    let mut est = Vec::new();
    for mut v in by_group {
        v.shuffle(rng);
        let k = (fraction * v.len() as f64).round() as usize;
        est.extend_from_slice(&v[..k]);
        grow.extend_from_slice(&v[k..]);
    }
    grow.sort_unstable();
    est.sort_unstable();
    Ok((grow, est))
}

/// The recommended group for per-group means `values` (control first): the group with the
/// highest mean, 0 (no treatment) unless a treatment beats the control; ties go to the
/// lower index.
pub fn best_group(values: &[f64]) -> usize {
    let mut best = 0;
    for (g, &v) in values.iter().enumerate().skip(1) {
        if v > values[best] {
            best = g;
        }
    }
    best
}

/// Draws a bootstrap sample of `n` row indices.
pub(crate) fn bootstrap_rows(rng: &mut ChaCha8Rng, n: usize) -> Vec<u32> {
    let mut v: Vec<u32> = (0..n).map(|_| rng.random_range(0..n) as u32).collect();
    v.sort_unstable();
    v
}

//! Exact simplex-constrained least squares by Wolfe's minimum-norm-point algorithm.
//!
//! The inner problem of synthetic control,
//!
//! ```text
//! min_w (X1 - X0 w)' V (X1 - X0 w)   s.t.  w_j >= 0,  sum_j w_j = 1,
//! ```
//!
//! is the Euclidean projection of the origin onto the convex hull of the points
//! `P_j = V^{1/2} (X0_j - X1)` (because `X0 w - X1 = sum_j w_j (X0_j - X1)` when the weights sum
//! to one). Wolfe (1976, "Finding the nearest point in a polytope", Math. Programming 11,
//! 128-149) gives a finite active-set ("corral") algorithm for exactly this problem: it keeps a
//! set of affinely independent points, minimises the norm over their affine hull in closed
//! form, and drops points whose affine weight turns non-positive. It terminates at an exact
//! optimum (up to floating point) with at most `k + 1` donors in the support, `k` being the
//! number of predictors. We use it instead of an interior-point solver because it is exact
//! (no barrier tolerance, sparse answer) and takes microseconds for synthetic-control sizes,
//! which matters for the nested V search and the placebo loops.
//!
//! KKT conditions of the simplex QP, checked after every solve: with residual `x = sum w_j P_j`
//! the gradient is `g_j = 2 P_j'x`; optimality holds iff `P_j'x = x'x` for every `j` in the
//! support and `P_j'x >= x'x` for every `j` outside it.

use nalgebra::{DMatrix, DVector};

/// The KKT residuals of a simplex least-squares solution, relative to `max_j ||P_j||^2`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Kkt {
    /// `max_{j in support} |P_j'x - x'x| / scale`: gradient components equal on the support.
    pub stationarity: f64,
    /// `max(0, max_{j not in support} (x'x - P_j'x)) / scale`: no descent direction off the
    /// support (gradient components not smaller off the support).
    pub dual_feasibility: f64,
    /// The scale `max_j ||P_j||^2` used to make the residuals relative.
    pub scale: f64,
}

impl Kkt {
    /// The larger of the two relative residuals.
    pub fn max_violation(&self) -> f64 {
        self.stationarity.max(self.dual_feasibility)
    }
}

/// Solution of `min ||sum_j w_j P_j||^2` over the simplex.
#[derive(Debug, Clone)]
pub(crate) struct SimplexLs {
    /// Weights, one per point, on the simplex.
    pub weights: Vec<f64>,
    /// The objective `||x||^2`.
    pub objective: f64,
    /// KKT residuals.
    pub kkt: Kkt,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimum-norm point of the affine hull of the points in `s`: `alpha` with `sum alpha = 1`
/// minimising `||sum alpha_i P_i||`. Solves `(1 1' + G) u = 1`, `alpha = u / 1'u` (Wolfe's
/// formulation), `G` the Gram matrix of the points.
fn affine_min(points: &[f64], k: usize, s: &[usize]) -> Option<Vec<f64>> {
    let m = s.len();
    let mut a = DMatrix::<f64>::zeros(m, m);
    for (r, &i) in s.iter().enumerate() {
        for (c, &j) in s.iter().enumerate().skip(r) {
            let g = 1.0 + dot(&points[i * k..(i + 1) * k], &points[j * k..(j + 1) * k]);
            a[(r, c)] = g;
            a[(c, r)] = g;
        }
    }
    let ones = DVector::<f64>::from_element(m, 1.0);
    let u = match a.clone().cholesky() {
        Some(ch) => ch.solve(&ones),
        None => a.lu().solve(&ones)?,
    };
    let total: f64 = u.iter().sum();
    if !total.is_finite() || total.abs() < 1e-300 {
        return None;
    }
    let alpha: Vec<f64> = u.iter().map(|v| v / total).collect();
    alpha.iter().all(|v| v.is_finite()).then_some(alpha)
}

fn combine(points: &[f64], k: usize, s: &[usize], lam: &[f64]) -> Vec<f64> {
    let mut x = vec![0.0; k];
    for (&j, &l) in s.iter().zip(lam) {
        for (xi, pi) in x.iter_mut().zip(&points[j * k..(j + 1) * k]) {
            *xi += l * pi;
        }
    }
    x
}

/// Computes the KKT residuals of `weights` (see the module docs).
pub(crate) fn kkt(points: &[f64], k: usize, weights: &[f64]) -> Kkt {
    let n = weights.len();
    let support: Vec<usize> = (0..n).filter(|&j| weights[j] > 0.0).collect();
    let lam: Vec<f64> = support.iter().map(|&j| weights[j]).collect();
    let x = combine(points, k, &support, &lam);
    let xx = dot(&x, &x);
    let mut scale = 0.0_f64;
    let mut stat = 0.0_f64;
    let mut dual = 0.0_f64;
    for j in 0..n {
        let p = &points[j * k..(j + 1) * k];
        scale = scale.max(dot(p, p));
        let g = dot(p, &x);
        if weights[j] > 0.0 {
            stat = stat.max((g - xx).abs());
        } else {
            dual = dual.max(xx - g);
        }
    }
    let scale = if scale > 0.0 { scale } else { 1.0 };
    Kkt {
        stationarity: stat / scale,
        dual_feasibility: dual / scale,
        scale,
    }
}

/// Wolfe's minimum-norm-point algorithm. `points` is column-major `k x n` (point `j` occupies
/// `points[j*k..(j+1)*k]`). Returns `None` only if the linear algebra breaks down.
pub(crate) fn min_norm_point(points: &[f64], k: usize, n: usize) -> Option<SimplexLs> {
    min_norm_point_warm(points, k, n, None)
}

/// As [`min_norm_point`], starting from the corral `warm` (e.g. the support of a previous
/// solution for a nearby V) when its affine minimiser has positive weights; otherwise from
/// the nearest single point. The result is exact either way (same termination test).
pub(crate) fn min_norm_point_warm(
    points: &[f64],
    k: usize,
    n: usize,
    warm: Option<&[usize]>,
) -> Option<SimplexLs> {
    debug_assert_eq!(points.len(), k * n);
    const Z1: f64 = 1e-13; // optimality tolerance (relative to the largest squared norm)
    const Z2: f64 = 1e-12; // weights below this are treated as zero
    let norms: Vec<f64> = (0..n)
        .map(|j| dot(&points[j * k..(j + 1) * k], &points[j * k..(j + 1) * k]))
        .collect();
    let max_norm = norms.iter().cloned().fold(0.0_f64, f64::max);
    let mut j0 = 0;
    for j in 1..n {
        if norms[j] < norms[j0] {
            j0 = j;
        }
    }
    let mut s = vec![j0];
    let mut lam = vec![1.0];
    let mut x = points[j0 * k..(j0 + 1) * k].to_vec();
    if let Some(ws) = warm {
        if ws.len() > 1 && ws.len() <= k + 1 && ws.iter().all(|&j| j < n) {
            if let Some(alpha) = affine_min(points, k, ws) {
                if alpha.iter().all(|&a| a > Z2) {
                    s = ws.to_vec();
                    x = combine(points, k, &s, &alpha);
                    lam = alpha;
                }
            }
        }
    }
    let max_major = 50 * (n + k) + 100;
    for _ in 0..max_major {
        let xx = dot(&x, &x);
        if xx <= 1e-300 {
            break;
        }
        let mut jmin = 0;
        let mut gmin = f64::INFINITY;
        for j in 0..n {
            let g = dot(&points[j * k..(j + 1) * k], &x);
            if g < gmin {
                gmin = g;
                jmin = j;
            }
        }
        if xx - gmin <= Z1 * max_norm || s.contains(&jmin) {
            break;
        }
        s.push(jmin);
        lam.push(0.0);
        // Minor cycles.
        let mut guard = 0;
        loop {
            guard += 1;
            if guard > 10 * (k + 2) {
                break;
            }
            let alpha = affine_min(points, k, &s)?;
            if alpha.iter().all(|&a| a > Z2) {
                lam = alpha;
                x = combine(points, k, &s, &lam);
                break;
            }
            let mut theta = f64::INFINITY;
            let mut at = 0;
            for i in 0..s.len() {
                if alpha[i] <= Z2 {
                    let denom = lam[i] - alpha[i];
                    let t = if denom > 0.0 { lam[i] / denom } else { 0.0 };
                    if t < theta {
                        theta = t;
                        at = i;
                    }
                }
            }
            let theta = theta.clamp(0.0, 1.0);
            for i in 0..s.len() {
                lam[i] = theta * alpha[i] + (1.0 - theta) * lam[i];
            }
            lam[at] = 0.0;
            let mut keep_s = Vec::with_capacity(s.len());
            let mut keep_l = Vec::with_capacity(s.len());
            for (i, (&j, &l)) in s.iter().zip(&lam).enumerate() {
                if i != at && l > Z2 {
                    keep_s.push(j);
                    keep_l.push(l);
                }
            }
            if keep_s.is_empty() {
                // Numerical breakdown: keep the best single vertex.
                keep_s.push(j0);
                keep_l.push(1.0);
            }
            let tot: f64 = keep_l.iter().sum();
            keep_l.iter_mut().for_each(|l| *l /= tot);
            s = keep_s;
            lam = keep_l;
            x = combine(points, k, &s, &lam);
        }
    }
    let mut weights = vec![0.0; n];
    for (&j, &l) in s.iter().zip(&lam) {
        weights[j] += l.max(0.0);
    }
    let tot: f64 = weights.iter().sum();
    weights.iter_mut().for_each(|w| *w /= tot);
    let support: Vec<usize> = (0..n).filter(|&j| weights[j] > 0.0).collect();
    let sw: Vec<f64> = support.iter().map(|&j| weights[j]).collect();
    let xf = combine(points, k, &support, &sw);
    let objective = dot(&xf, &xf);
    let kkt = kkt(points, k, &weights);
    Some(SimplexLs {
        weights,
        objective,
        kkt,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_onto_segment() {
        // Points (1, 1) and (1, -1): nearest point to the origin is (1, 0), weights 1/2.
        let p = [1.0, 1.0, 1.0, -1.0];
        let r = min_norm_point(&p, 2, 2).unwrap();
        assert!((r.weights[0] - 0.5).abs() < 1e-14);
        assert!((r.objective - 1.0).abs() < 1e-14);
        assert!(r.kkt.max_violation() < 1e-14);
    }

    #[test]
    fn origin_inside_hull() {
        // Triangle around the origin: objective zero.
        let p = [1.0, 0.0, -1.0, 1.0, -1.0, -1.0];
        let r = min_norm_point(&p, 2, 3).unwrap();
        assert!(r.objective < 1e-20);
        let s: f64 = r.weights.iter().sum();
        assert!((s - 1.0).abs() < 1e-14);
    }
}

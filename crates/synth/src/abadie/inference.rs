//! Inference for the Abadie synthetic control: placebo in space and in time, leave-one-donor-
//! out, and the conformal intervals of Chernozhukov, Wüthrich & Zhu (2021).

use super::{invalid, qp, Predictor, Predictors, Result, ScError, ScFit, SyntheticControl};
pub use crate::placebo::{PlaceboInSpace, PlaceboOptions};
use rayon::prelude::*;

/// Leave-one-donor-out refits (Abadie, Diamond & Hainmueller 2015, AJPS, robustness checks):
/// one refit per donor with positive weight (`> 1e-6`), that donor removed from the pool.
#[derive(Debug, Clone)]
pub struct LeaveOneOut {
    /// Index of the dropped donor and its name.
    pub dropped: Vec<(usize, String)>,
    /// The refits, aligned with `dropped`.
    pub fits: Vec<ScFit>,
}

impl LeaveOneOut {
    /// The range (min, max) of the ATT across the leave-one-out refits.
    pub fn att_range(&self) -> (f64, f64) {
        self.fits
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), f| {
                (lo.min(f.att), hi.max(f.att))
            })
    }
}

/// Options of the conformal intervals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConformalOptions {
    /// Miscoverage level: the set keeps every `theta0` with `p(theta0) > alpha`. Must be at
    /// least `1 / (t0 + 1)` for the set to be bounded.
    pub alpha: f64,
    /// Number of grid points per period (odd numbers put the point estimate on the grid).
    pub grid_points: usize,
    /// Half-width of the grid around the point estimate; default `5 * max_t<t0 |gap_t| +
    /// 1e-8 * (1 + |gap|)`.
    pub half_width: Option<f64>,
}

impl Default for ConformalOptions {
    fn default() -> Self {
        ConformalOptions {
            alpha: 0.1,
            grid_points: 201,
            half_width: None,
        }
    }
}

/// Per-period conformal confidence sets (Chernozhukov, Wüthrich & Zhu 2021, JASA 116,
/// "An exact and robust conformal inference method for counterfactual and synthetic controls").
///
/// For each post period `t` separately and each `theta0` on a grid, the null
/// `H0: theta_t = theta0` is imposed by replacing `Y1t` with `Y1t - theta0`; the counterfactual
/// model (canonical SC: simplex weights fitted on all `t0 + 1` outcomes — the pre-periods and
/// period `t` — with equal predictor weights, the estimator of CWZ Section 3) is refitted under
/// the null, giving residuals `u_0..u_t0` (the last one is period `t`). The test statistic is
/// `S(u) = |u_t0|` (`q = 1`, one post period); its moving-block permutation distribution is
/// `S(pi_j u) = |u_{(t0 + j) mod (t0+1)}|`, `j = 0..t0`, so
/// `p(theta0) = (1/(t0+1)) #{s : |u_s| >= |u_t0|}`. The confidence set is
/// `{theta0 : p(theta0) > alpha}`; we report its hull `[lower, upper]` (bisection-refined
/// between grid points to `1e-9` relative), whether it is connected on the grid, and
/// `p(0)`.
#[derive(Debug, Clone)]
pub struct ConformalIntervals {
    /// Post-period indices.
    pub periods: Vec<usize>,
    /// Period labels.
    pub labels: Vec<String>,
    /// Point estimates (the gaps of the main fit).
    pub estimates: Vec<f64>,
    /// Lower ends of the confidence sets.
    pub lower: Vec<f64>,
    /// Upper ends.
    pub upper: Vec<f64>,
    /// Whether the accepted grid points form one interval.
    pub connected: Vec<bool>,
    /// `p(theta0 = 0)` per period.
    pub p_value_zero: Vec<f64>,
    /// The level used.
    pub alpha: f64,
    /// Warnings (e.g. a set reaching the grid's edge).
    pub warnings: Vec<String>,
}

/// Conformal p-value of `theta0` for post period `t` (see [`ConformalIntervals`]).
fn conformal_p(
    y: &nalgebra::DMatrix<f64>,
    treated: usize,
    donors: &[usize],
    t0: usize,
    t: usize,
    theta0: f64,
) -> Result<f64> {
    let periods: Vec<usize> = (0..t0).chain(std::iter::once(t)).collect();
    let k = periods.len();
    let y1: Vec<f64> = periods
        .iter()
        .enumerate()
        .map(|(i, &p)| y[(treated, p)] - if i == k - 1 { theta0 } else { 0.0 })
        .collect();
    let mut pts = Vec::with_capacity(k * donors.len());
    for &d in donors {
        for (i, &p) in periods.iter().enumerate() {
            pts.push(y[(d, p)] - y1[i]);
        }
    }
    let sol = qp::min_norm_point(&pts, k, donors.len()).ok_or(ScError::Solver {
        violation: f64::NAN,
    })?;
    if sol.kkt.max_violation() > super::KKT_TOL {
        return Err(ScError::Solver {
            violation: sol.kkt.max_violation(),
        });
    }
    let u: Vec<f64> = (0..k)
        .map(|i| {
            let s: f64 = donors
                .iter()
                .zip(&sol.weights)
                .map(|(&d, w)| w * y[(d, periods[i])])
                .sum();
            (y1[i] - s).abs()
        })
        .collect();
    let last = u[k - 1];
    // Ties within floating noise count as >= (conservative).
    let tol = 1e-12 * (1.0 + last);
    let count = u.iter().filter(|&&v| v >= last - tol).count();
    Ok(count as f64 / k as f64)
}

/// Per-period conformal outcome: (lower, upper, connected, p(0), reaches grid edge).
pub(crate) type PeriodSet = (f64, f64, bool, f64, bool);

/// One period's conformal set on a grid of `points` values centred at `est` with half-width
/// `half_width`: every grid value is tested (`p > alpha` accepts it), the grid doubles its
/// half-width up to `max_doublings` times while the accepted set reaches an edge, then
/// [`interval_from_grid`] refines the bounds. Abadie SC never doubles (`max_doublings = 0`);
/// ASCM doubles when the user gave no half-width. Shared by both.
fn grid_set<E>(
    est: f64,
    half_width: f64,
    points: usize,
    alpha: f64,
    max_doublings: usize,
    p: impl Fn(f64) -> std::result::Result<f64, E>,
) -> std::result::Result<PeriodSet, E> {
    let (g, mut hw, mut doublings) = (points, half_width, 0);
    let (grid, acc) = loop {
        let grid: Vec<f64> = (0..g)
            .map(|i| est - hw + 2.0 * hw * i as f64 / (g - 1) as f64)
            .collect();
        let acc: Vec<bool> = grid
            .iter()
            .map(|&th| p(th).map(|v| v > alpha))
            .collect::<std::result::Result<_, E>>()?;
        if (acc[0] || acc[g - 1]) && doublings < max_doublings {
            hw *= 2.0;
            doublings += 1;
            continue;
        }
        break (grid, acc);
    };
    interval_from_grid(&grid, &acc, alpha, p)
}

/// Inverts a conformal test on a grid: `acc[i]` says whether `grid[i]` is accepted
/// (`p > alpha`). The outermost accepted points are refined by bisection against their
/// rejected neighbours; an empty set gives NaN bounds. Shared by Abadie SC and ASCM.
fn interval_from_grid<E>(
    grid: &[f64],
    acc: &[bool],
    alpha: f64,
    p: impl Fn(f64) -> std::result::Result<f64, E>,
) -> std::result::Result<PeriodSet, E> {
    let g = grid.len();
    let p0 = p(0.0)?;
    let (Some(i0), Some(i1)) = (acc.iter().position(|&a| a), acc.iter().rposition(|&a| a)) else {
        return Ok((f64::NAN, f64::NAN, false, p0, false));
    };
    let connected = acc[i0..=i1].iter().all(|&a| a);
    let edge = i0 == 0 || i1 == g - 1;
    // Refine the two boundaries by bisection between grid points.
    let refine = |mut inside: f64, mut outside: f64| -> std::result::Result<f64, E> {
        for _ in 0..60 {
            if (inside - outside).abs() <= 1e-9 * (1.0 + inside.abs()) {
                break;
            }
            let mid = 0.5 * (inside + outside);
            if p(mid)? > alpha {
                inside = mid;
            } else {
                outside = mid;
            }
        }
        Ok(inside)
    };
    let lo = if i0 > 0 {
        refine(grid[i0], grid[i0 - 1])?
    } else {
        grid[0]
    };
    let hi = if i1 < g - 1 {
        refine(grid[i1], grid[i1 + 1])?
    } else {
        grid[g - 1]
    };
    Ok((lo, hi, connected, p0, edge))
}

/// The conformal driver shared by Abadie SC and ASCM (the options' alpha and grid size already
/// checked): warns when `alpha < 1/(t0+1)` (no `theta0` can then be rejected), builds every
/// post period's set with [`grid_set`] centred at its gap, with half-width
/// `options.half_width` or else `default_half_width(gap)` and then up to `auto_doublings`
/// doublings, in parallel, and collects them ([`collect_intervals`]). `p(t, theta0)` is the
/// conformal p-value of period `t`.
pub(crate) fn conformal_sets<E: Send>(
    gaps: &[f64],
    t0: usize,
    period_labels: &[String],
    options: &ConformalOptions,
    default_half_width: impl Fn(f64) -> f64 + Sync,
    auto_doublings: usize,
    p: impl Fn(usize, f64) -> std::result::Result<f64, E> + Sync,
) -> std::result::Result<ConformalIntervals, E> {
    let n_perm = t0 + 1;
    let mut warnings = Vec::new();
    if options.alpha < 1.0 / n_perm as f64 {
        warnings.push(format!(
            "conformal alpha {} is below 1/(t0+1) = {:.4}: with {} pre-periods no theta0 can be rejected, the sets are the whole grid",
            options.alpha,
            1.0 / n_perm as f64,
            t0
        ));
    }
    let (hw, doublings) = match options.half_width {
        Some(hw) => (Some(hw), 0),
        None => (None, auto_doublings),
    };
    let periods: Vec<usize> = (t0..gaps.len()).collect();
    let results: Vec<std::result::Result<PeriodSet, E>> = periods
        .par_iter()
        .map(|&t| {
            let est = gaps[t];
            let hw = hw.unwrap_or_else(|| default_half_width(est));
            grid_set(
                est,
                hw,
                options.grid_points,
                options.alpha,
                doublings,
                |th| p(t, th),
            )
        })
        .collect();
    let sets = results
        .into_iter()
        .collect::<std::result::Result<Vec<PeriodSet>, E>>()?;
    Ok(collect_intervals(
        period_labels,
        gaps,
        periods,
        options.alpha,
        warnings,
        sets,
    ))
}

/// Collects per-period sets into [`ConformalIntervals`], warning about empty sets and sets
/// truncated at the grid's edge.
fn collect_intervals(
    period_labels: &[String],
    gaps: &[f64],
    periods: Vec<usize>,
    alpha: f64,
    mut warnings: Vec<String>,
    sets: Vec<PeriodSet>,
) -> ConformalIntervals {
    let labels: Vec<String> = periods.iter().map(|&t| period_labels[t].clone()).collect();
    let estimates: Vec<f64> = periods.iter().map(|&t| gaps[t]).collect();
    let (mut lower, mut upper, mut connected, mut p_value_zero) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (label, (lo, hi, conn, p0, edge)) in labels.iter().zip(sets) {
        if lo.is_nan() {
            warnings.push(format!(
                "conformal set for period {label} is empty on the grid; widen half_width or refine the grid"
            ));
        } else if edge {
            warnings.push(format!(
                "conformal set for period {label} reaches the edge of the grid; the interval is truncated — widen half_width"
            ));
        }
        lower.push(lo);
        upper.push(hi);
        connected.push(conn);
        p_value_zero.push(p0);
    }
    ConformalIntervals {
        labels,
        estimates,
        periods,
        lower,
        upper,
        connected,
        p_value_zero,
        alpha,
        warnings,
    }
}

impl ScFit {
    /// In-space placebo test over all donors, in parallel (rayon) and deterministic (each
    /// refit is a deterministic function of the data). Placebos whose fit fails (e.g. a
    /// constant predictor among the remaining units) are an error naming the unit.
    pub fn placebo_in_space(&self, options: &PlaceboOptions) -> Result<PlaceboInSpace> {
        self.rotate_placebos(options)
    }

    /// Placebo in time: refit as if treatment started at `fake_t0 < t0`, using only the
    /// periods before the real `t0` (so the real effect never enters). `predictors` defaults to
    /// the original specification, which must then lie before `fake_t0`
    /// ([`Predictors::AllPreOutcomes`] is re-read as all outcomes before `fake_t0`). The
    /// returned fit's post-period gaps are the placebo effects (expected near zero).
    pub fn placebo_in_time(&self, fake_t0: usize, predictors: Option<Predictors>) -> Result<ScFit> {
        if fake_t0 >= self.t0 {
            return Err(invalid(
                "fake_t0",
                format!(
                    "{fake_t0} is not before the real treatment period index {}",
                    self.t0
                ),
            ));
        }
        let y = self.spec.outcomes.columns(0, self.t0).into_owned();
        let mut spec = self.spec.clone();
        spec.outcomes = y;
        spec.covariates = spec
            .covariates
            .iter()
            .map(|(n, c)| (n.clone(), c.columns(0, self.t0).into_owned()))
            .collect();
        if let Some(l) = &spec.period_labels {
            spec.period_labels = Some(l[..self.t0].to_vec());
        }
        spec.t0 = fake_t0;
        if let Some(p) = predictors {
            spec.predictors = p;
        } else if let Predictors::Spec(s) = &spec.predictors {
            for p in s {
                let to = match p {
                    Predictor::Outcome { period } => *period,
                    Predictor::OutcomeMean { to, .. } | Predictor::Covariate { to, .. } => *to,
                };
                if to >= fake_t0 {
                    return Err(ScError::PredictorOutsidePre {
                        predictor: spec.predictor_name(p),
                        period: to,
                        t0: fake_t0,
                    });
                }
            }
        }
        spec.fit()
    }

    /// Leave-one-donor-out refits for every donor with weight `> 1e-6`, in parallel.
    pub fn leave_one_out(&self) -> Result<LeaveOneOut> {
        let dropped: Vec<(usize, String)> = self
            .donors
            .iter()
            .zip(&self.weights)
            .zip(&self.donor_names)
            .filter(|((_, &w), _)| w > 1e-6)
            .map(|((&d, _), n)| (d, n.clone()))
            .collect();
        let fits: Vec<Result<ScFit>> = dropped
            .par_iter()
            .map(|(d, _)| {
                let mut spec = self.spec.clone();
                spec.donors = Some(self.donors.iter().copied().filter(|x| x != d).collect());
                spec.fit()
            })
            .collect();
        Ok(LeaveOneOut {
            dropped,
            fits: fits.into_iter().collect::<Result<Vec<_>>>()?,
        })
    }

    /// Conformal confidence sets for every post-period effect (see [`ConformalIntervals`]).
    pub fn conformal_intervals(&self, options: &ConformalOptions) -> Result<ConformalIntervals> {
        causalkit_stats::limits::check_alpha_level("alpha", options.alpha)?;
        if options.grid_points < 3 {
            return Err(invalid("grid_points", "need at least 3 grid points"));
        }
        let y = &self.spec.outcomes;
        let max_pre = self.gaps[..self.t0]
            .iter()
            .fold(0.0_f64, |m, g| m.max(g.abs()));
        conformal_sets(
            &self.gaps,
            self.t0,
            &self.period_labels,
            options,
            |est| 5.0 * max_pre + 1e-8 * (1.0 + est.abs()),
            0,
            |t, th| conformal_p(y, self.treated, &self.donors, self.t0, t, th),
        )
    }
}

impl SyntheticControl {
    /// Convenience: fit and run the in-space placebo test in one call.
    pub fn fit_with_placebo(&self, options: &PlaceboOptions) -> Result<(ScFit, PlaceboInSpace)> {
        let fit = self.fit()?;
        let p = fit.placebo_in_space(options)?;
        Ok((fit, p))
    }
}

//! The cumulative-over-time view of an experiment: the absolute effect of a metric computed
//! on all rows up to each time, with its fixed-horizon interval and an always-valid
//! confidence sequence (gbstats' or Eppo's), as experimentation platforms chart it.
//!
//! The effect is the unadjusted difference (no CUPED): the chart shows how the raw
//! difference settled over time. Rows are units randomised individually.

use crate::frequentist::{compare, invalid, ArmStats, MetricType, TestOptions};
use crate::sequential::ConfidenceSequence;
use causalkit_stats::{Moments, Result};
use serde::Serialize;

/// One point of the cumulative view.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CumulativePoint {
    /// The time value (all rows with time <= this are included).
    pub time: f64,
    /// Treatment - control (unadjusted).
    pub estimate: f64,
    /// Fixed-horizon interval, lower end.
    pub ci_low: f64,
    /// Fixed-horizon interval, upper end.
    pub ci_high: f64,
    /// Confidence sequence, lower end.
    pub cs_low: f64,
    /// Confidence sequence, upper end.
    pub cs_high: f64,
}

/// The running effect at every distinct time value.
///
/// `arm[i]` is `Some(false)` for a control row, `Some(true)` for a treatment row and `None`
/// for rows of other arms (ignored). `numerator`/`denominator` are the metric's row values
/// (denominator 1 for means and proportions). Points where an arm has fewer than two rows or
/// the standard error is zero are skipped.
pub fn cumulative_effect(
    times: &[f64],
    arm: &[Option<bool>],
    numerator: &[f64],
    denominator: &[f64],
    metric_type: MetricType,
    cs: &ConfidenceSequence,
    alpha: f64,
) -> Result<Vec<CumulativePoint>> {
    let n = times.len();
    if arm.len() != n || numerator.len() != n || denominator.len() != n {
        return Err(invalid(
            "cumulative",
            "times, arms, numerators and denominators must have one entry per row",
        ));
    }
    if let Some(i) = times.iter().position(|t| !t.is_finite()) {
        return Err(invalid(
            "time",
            format!("value {} at row {} is not finite", times[i], i + 1),
        ));
    }
    let opts = TestOptions {
        alpha,
        ..Default::default()
    };
    let mut order: Vec<usize> = (0..n).filter(|&i| arm[i].is_some()).collect();
    order.sort_by(|&i, &j| times[i].total_cmp(&times[j]));
    let names = vec!["numerator".to_string(), "denominator".to_string()];
    let mut m = [Moments::new(names.clone()), Moments::new(names)];
    let mut pts = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        let slot = usize::from(arm[i] == Some(true));
        m[slot].push(&[numerator[i], denominator[i]])?;
        let last = order
            .get(k + 1)
            .is_none_or(|&j| times[j].total_cmp(&times[i]).is_ne());
        if !last || m[0].n() < 2 || m[1].n() < 2 {
            continue;
        }
        let sa = ArmStats::from_moments(&m[0], metric_type);
        let sb = ArmStats::from_moments(&m[1], metric_type);
        let (Ok(sa), Ok(sb)) = (sa, sb) else { continue };
        let c = compare(&sa, &sb, &opts)?;
        if c.absolute.std_error <= 0.0 {
            continue;
        }
        let iv = cs.interval(c.absolute.estimate, c.absolute.std_error, sa.n + sb.n)?;
        pts.push(CumulativePoint {
            time: times[i],
            estimate: c.absolute.estimate,
            ci_low: c.absolute.ci_low,
            ci_high: c.absolute.ci_high,
            cs_low: iv.ci_low,
            cs_high: iv.ci_high,
        });
    }
    Ok(pts)
}

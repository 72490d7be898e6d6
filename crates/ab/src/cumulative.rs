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
        if last {
            pts.extend(point(times[i], &m, metric_type, &opts, cs)?);
        }
    }
    Ok(pts)
}

/// [`cumulative_effect`] from the statistics of each time's rows: `cells[i]` holds a time
/// and the control and treatment statistics (variables numerator, denominator) of the rows at
/// that time, in increasing time order (e.g. a warehouse's `GROUP BY arm, time`). Each time's
/// cells are added to the running statistics and a point is computed as from the rows.
pub fn cumulative_effect_cells(
    cells: &[(f64, [Moments; 2])],
    metric_type: MetricType,
    cs: &ConfidenceSequence,
    alpha: f64,
) -> Result<Vec<CumulativePoint>> {
    let opts = TestOptions {
        alpha,
        ..Default::default()
    };
    let names = vec!["numerator".to_string(), "denominator".to_string()];
    let mut m = [Moments::new(names.clone()), Moments::new(names)];
    let mut pts = Vec::new();
    for (k, (t, cell)) in cells.iter().enumerate() {
        if !t.is_finite() || (k > 0 && cells[k - 1].0.total_cmp(t).is_ge()) {
            return Err(invalid(
                "time",
                format!(
                    "cell {}: time {t} is not finite or not after the previous",
                    k + 1
                ),
            ));
        }
        if cell[0].n() + cell[1].n() == 0 {
            continue;
        }
        m[0].merge(&cell[0])?;
        m[1].merge(&cell[1])?;
        pts.extend(point(*t, &m, metric_type, &opts, cs)?);
    }
    Ok(pts)
}

/// The point at time `t` from the running statistics of both arms; none where an arm has
/// fewer than two rows, its statistics are degenerate or the standard error is zero.
fn point(
    t: f64,
    m: &[Moments; 2],
    metric_type: MetricType,
    opts: &TestOptions,
    cs: &ConfidenceSequence,
) -> Result<Option<CumulativePoint>> {
    if m[0].n() < 2 || m[1].n() < 2 {
        return Ok(None);
    }
    let sa = ArmStats::from_moments(&m[0], metric_type);
    let sb = ArmStats::from_moments(&m[1], metric_type);
    let (Ok(sa), Ok(sb)) = (sa, sb) else {
        return Ok(None);
    };
    let c = compare(&sa, &sb, opts)?;
    if c.absolute.std_error <= 0.0 {
        return Ok(None);
    }
    let iv = cs.interval(c.absolute.estimate, c.absolute.std_error, sa.n + sb.n)?;
    Ok(Some(CumulativePoint {
        time: t,
        estimate: c.absolute.estimate,
        ci_low: c.absolute.ci_low,
        ci_high: c.absolute.ci_high,
        cs_low: iv.ci_low,
        cs_high: iv.ci_high,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// The cells' version equals the rows' version: rows grouped by (time, arm) into
    /// statistics (as a warehouse's `GROUP BY` returns them) give the same points, for a mean
    /// and a ratio metric, with rows of other arms and unordered times (1e-10 relative).
    #[test]
    fn cells_give_the_points_of_the_rows() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let n = 600;
        let times: Vec<f64> = (0..n).map(|_| rng.random_range(1..15) as f64).collect();
        let arm: Vec<Option<bool>> = (0..n)
            .map(|_| match rng.random_range(0..5) {
                0 => None,
                k => Some(k % 2 == 1),
            })
            .collect();
        let den: Vec<f64> = (0..n).map(|_| rng.random_range(1..4) as f64).collect();
        let num: Vec<f64> = den
            .iter()
            .map(|d| d * 300.0 + rng.random_range(-50.0..50.0))
            .collect();
        let cs = ConfidenceSequence::gbstats(5000.0, 0.05).unwrap();
        for (mt, den) in [
            (MetricType::Mean, vec![1.0; n]),
            (MetricType::Ratio, den.clone()),
        ] {
            let rows = cumulative_effect(&times, &arm, &num, &den, mt, &cs, 0.05).unwrap();
            let names = vec!["numerator".to_string(), "denominator".to_string()];
            let mut by_t: std::collections::BTreeMap<i64, [Moments; 2]> = Default::default();
            for i in 0..n {
                let Some(a) = arm[i] else { continue };
                by_t.entry(times[i] as i64)
                    .or_insert_with(|| [Moments::new(names.clone()), Moments::new(names.clone())])
                    [usize::from(a)]
                .push(&[num[i], den[i]])
                .unwrap();
            }
            let cells: Vec<(f64, [Moments; 2])> =
                by_t.into_iter().map(|(t, m)| (t as f64, m)).collect();
            let got = cumulative_effect_cells(&cells, mt, &cs, 0.05).unwrap();
            assert_eq!(rows.len(), got.len());
            assert!(rows.len() > 10);
            for (a, b) in rows.iter().zip(&got) {
                assert_eq!(a.time.to_bits(), b.time.to_bits());
                for (x, y) in [
                    (a.estimate, b.estimate),
                    (a.ci_low, b.ci_low),
                    (a.ci_high, b.ci_high),
                    (a.cs_low, b.cs_low),
                    (a.cs_high, b.cs_high),
                ] {
                    assert!((x - y).abs() <= 1e-10 * x.abs().max(1.0), "{x} vs {y}");
                }
            }
        }
        // Times out of order are refused.
        let names = vec!["numerator".to_string(), "denominator".to_string()];
        let m = [Moments::new(names.clone()), Moments::new(names)];
        let bad = vec![(2.0, m.clone()), (1.0, m)];
        assert!(cumulative_effect_cells(&bad, MetricType::Mean, &cs, 0.05).is_err());
    }
}

//! Winsorisation: capping a metric's extreme values at percentiles before analysis.
//!
//! Heavy tails (a few calls lasting hours, a few orders worth thousands) inflate the variance
//! of a mean and can dominate a lift. Winsorising replaces every value below the `lower`
//! percentile by that percentile and every value above the `upper` percentile by that
//! percentile (Dixon 1960; the "capping" of experimentation platforms such as Statsig and
//! Eppo). The percentiles are computed once from the pooled arms, so the same caps apply to
//! every arm and the comparison stays fair; the estimand becomes the lift in the winsorised
//! metric, which a report must say.
//!
//! Percentiles use linear interpolation between order statistics (Hyndman & Fan type 7, the
//! default of numpy's `percentile` and R's `quantile`).

use crate::{resample::quantile, Result, StatsError};

/// The caps applied by [`winsorize`]: `None` where that tail was left alone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Caps {
    /// Values below this were raised to it.
    pub lower: Option<f64>,
    /// Values above this were lowered to it.
    pub upper: Option<f64>,
    /// How many values were changed.
    pub changed: usize,
}

/// Caps the non-missing `values` in place at the `lower` and `upper` percentiles (levels in
/// [0, 1]; `None` leaves that tail alone) of the non-missing values themselves.
///
/// ```
/// use causalkit_stats::winsor::winsorize;
/// let mut v: Vec<Option<f64>> = (1..=10).map(|x| Some(x as f64)).collect();
/// v.push(None);
/// let caps = winsorize(&mut v, None, Some(0.9)).unwrap();
/// assert!((caps.upper.unwrap() - 9.1).abs() < 1e-12); // numpy.percentile(1..10, 90)
/// assert_eq!(v[9], Some(9.1));
/// assert_eq!(v[10], None);
/// ```
pub fn winsorize(
    values: &mut [Option<f64>],
    lower: Option<f64>,
    upper: Option<f64>,
) -> Result<Caps> {
    for (name, level) in [("lower", lower), ("upper", upper)] {
        if let Some(q) = level {
            if !(0.0..=1.0).contains(&q) {
                return Err(StatsError::InvalidArgument {
                    name: format!("{name} winsorisation level"),
                    reason: format!("must be a percentile level between 0 and 1, got {q}"),
                });
            }
        }
    }
    if let (Some(l), Some(u)) = (lower, upper) {
        if l >= u {
            return Err(StatsError::InvalidArgument {
                name: "winsorisation levels".into(),
                reason: format!("the lower level ({l}) must be below the upper one ({u})"),
            });
        }
    }
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    if present.is_empty() {
        return Err(StatsError::InsufficientData(
            "no non-missing values to winsorise".into(),
        ));
    }
    let lo = lower.map(|q| quantile(&present, q)).transpose()?;
    let hi = upper.map(|q| quantile(&present, q)).transpose()?;
    let mut changed = 0;
    for v in values.iter_mut().flatten() {
        let capped = match (lo, hi) {
            (Some(l), _) if *v < l => l,
            (_, Some(h)) if *v > h => h,
            _ => *v,
        };
        // Exact by design: counts the values the capping changed.
        #[allow(clippy::float_cmp)]
        let changed_now = capped != *v;
        if changed_now {
            *v = capped;
            changed += 1;
        }
    }
    Ok(Caps {
        lower: lo,
        upper: hi,
        changed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(x: &[f64]) -> Vec<Option<f64>> {
        x.iter().map(|&x| Some(x)).collect()
    }

    #[test]
    fn caps_match_numpy_percentiles() {
        // numpy.percentile([3, 1, 4, 1, 5, 9, 2, 6, 5, 35], [10, 90]) = [1.0, 11.6]
        let mut x = v(&[3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 35.0]);
        let caps = winsorize(&mut x, Some(0.1), Some(0.9)).unwrap();
        assert!((caps.lower.unwrap() - 1.0).abs() < 1e-12);
        assert!((caps.upper.unwrap() - 11.6).abs() < 1e-12);
        assert_eq!(caps.changed, 1);
        assert!((x[9].unwrap() - 11.6).abs() < 1e-12);
        // Only the upper tail: the lower values are untouched.
        let mut y = v(&[3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 35.0]);
        let caps = winsorize(&mut y, None, Some(0.9)).unwrap();
        assert_eq!(caps.lower, None);
        assert_eq!(y[1], Some(1.0));
    }

    #[test]
    fn bad_levels_and_empty_input_are_errors() {
        let mut x = v(&[1.0, 2.0]);
        assert!(winsorize(&mut x, Some(-0.1), None).is_err());
        assert!(winsorize(&mut x, None, Some(1.5)).is_err());
        assert!(winsorize(&mut x, Some(0.9), Some(0.1)).is_err());
        let mut empty: Vec<Option<f64>> = vec![None, None];
        assert!(winsorize(&mut empty, None, Some(0.9)).is_err());
    }
}

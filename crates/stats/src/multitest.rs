//! Multiple-testing adjustments of p-values.
//!
//! Family-wise error rate: Bonferroni; Holm (1979) "A simple sequentially rejective multiple
//! test procedure", *Scand. J. Statist.* 6; Hochberg (1988) "A sharper Bonferroni procedure",
//! *Biometrika* 75. False discovery rate: Benjamini & Hochberg (1995) *JRSS B* 57;
//! Benjamini & Yekutieli (2001) *Ann. Statist.* 29 (valid under arbitrary dependence).
//! Adjusted p-values follow the step-up/step-down definitions of R's `p.adjust` and
//! statsmodels' `multipletests`: reject hypothesis i at level α iff its adjusted p ≤ α.

use crate::error::{Result, StatsError};
use serde::{Deserialize, Serialize};

/// A multiple-testing adjustment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Adjustment {
    /// No adjustment.
    None,
    /// Bonferroni: `min(1, m p)`.
    Bonferroni,
    /// Holm's step-down procedure (FWER, any dependence).
    Holm,
    /// Hochberg's step-up procedure (FWER, independent or positively dependent tests).
    Hochberg,
    /// Benjamini–Hochberg step-up (FDR, independent or positively dependent tests).
    BenjaminiHochberg,
    /// Benjamini–Yekutieli (FDR under arbitrary dependence).
    BenjaminiYekutieli,
}

impl std::str::FromStr for Adjustment {
    type Err = StatsError;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "none" => Adjustment::None,
            "bonferroni" => Adjustment::Bonferroni,
            "holm" => Adjustment::Holm,
            "hochberg" => Adjustment::Hochberg,
            "bh" | "fdr" | "benjamini-hochberg" => Adjustment::BenjaminiHochberg,
            "by" | "benjamini-yekutieli" => Adjustment::BenjaminiYekutieli,
            other => {
                return Err(crate::error::invalid(
                    "adjustment",
                    format!(
                        "unknown method `{other}`; use none, bonferroni, holm, hochberg, bh or by"
                    ),
                ))
            }
        })
    }
}

/// Adjusts p-values for multiple testing; the output is in the input's order.
///
/// ```
/// use causalkit_stats::{adjust_p_values, Adjustment};
/// let adj = adjust_p_values(&[0.01, 0.04, 0.03], Adjustment::Holm).unwrap();
/// assert!((adj[0] - 0.03).abs() < 1e-12);
/// ```
pub fn adjust_p_values(p: &[f64], method: Adjustment) -> Result<Vec<f64>> {
    for (i, &v) in p.iter().enumerate() {
        if !(0.0..=1.0).contains(&v) {
            return Err(StatsError::OutOfRange {
                variable: "p-values".into(),
                row: i,
                value: v,
                expected: "a probability in [0, 1]".into(),
            });
        }
    }
    let m = p.len();
    if m == 0 {
        return Ok(Vec::new());
    }
    let mf = m as f64;
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut out = vec![0.0; m];
    match method {
        Adjustment::None => out.copy_from_slice(p),
        Adjustment::Bonferroni => {
            for i in 0..m {
                out[i] = (p[i] * mf).min(1.0);
            }
        }
        Adjustment::Holm => {
            let mut running: f64 = 0.0;
            for (rank, &i) in order.iter().enumerate() {
                running = running.max(((mf - rank as f64) * p[i]).min(1.0));
                out[i] = running;
            }
        }
        Adjustment::Hochberg => step_up(p, &order, &mut out, |rank| mf - rank as f64),
        Adjustment::BenjaminiHochberg => {
            step_up(p, &order, &mut out, |rank| mf / (rank as f64 + 1.0))
        }
        Adjustment::BenjaminiYekutieli => {
            let c: f64 = (1..=m).map(|i| 1.0 / i as f64).sum();
            step_up(p, &order, &mut out, |rank| c * mf / (rank as f64 + 1.0))
        }
    }
    Ok(out)
}

fn step_up(p: &[f64], order: &[usize], out: &mut [f64], factor: impl Fn(usize) -> f64) {
    let mut running: f64 = 1.0;
    for (rank, &i) in order.iter().enumerate().rev() {
        running = running.min((factor(rank) * p[i]).min(1.0));
        out[i] = running;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_is_named() {
        let e = adjust_p_values(&[0.1, 1.2], Adjustment::Holm).unwrap_err();
        assert!(matches!(e, StatsError::OutOfRange { row: 1, .. }));
        assert!(adjust_p_values(&[f64::NAN], Adjustment::Holm).is_err());
        assert!(adjust_p_values(&[], Adjustment::Holm).unwrap().is_empty());
    }

    #[test]
    fn parses_names() {
        assert_eq!(
            "BH".parse::<Adjustment>().unwrap(),
            Adjustment::BenjaminiHochberg
        );
        assert!("sidak?".parse::<Adjustment>().is_err());
    }
}

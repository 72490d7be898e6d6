//! Building a units × periods outcome matrix from long (row per unit-period) data.

use crate::error::{Result, SynthError};
use nalgebra::DMatrix;
use std::collections::HashMap;

/// A balanced units × periods panel with a (possibly staggered) absorbing treatment.
///
/// Units are ordered as in R `synthdid::panel.matrices`: never-treated (control) units first,
/// sorted by name, then treated units sorted by adoption period and name. `y[(i, t)]` is the
/// outcome of unit `i` in period `t` (periods sorted ascending).
///
/// Invariant (checked by [`SynthPanel::from_long`]): balanced — every unit is observed once
/// in every period, so `y` is dense and finite; treatment is absorbing (a unit's adoption is
/// the first treated period and it stays treated). The synthetic control estimators need the
/// matrix, which the long panels of the data layer and of DiD do not guarantee.
#[derive(Debug, Clone)]
pub struct SynthPanel {
    /// Outcomes, `units.len()` rows × `periods.len()` columns.
    pub y: DMatrix<f64>,
    /// Unit names in row order.
    pub units: Vec<String>,
    /// Period values in column order (ascending).
    pub periods: Vec<f64>,
    /// For each unit (row), the index of its first treated period, `None` for controls.
    pub adoption: Vec<Option<usize>>,
}

/// Formats a period value for messages and labels (integers without decimals).
pub fn period_label(p: f64) -> String {
    if p.fract() == 0.0 && p.abs() < 1e15 {
        format!("{}", p as i64)
    } else {
        format!("{p}")
    }
}

impl SynthPanel {
    /// Builds the panel from long data: one row per unit and period, with `treated[r]` true
    /// when row `r` is a treated unit in a treated period. Treatment must be absorbing (once a
    /// unit is treated it stays treated) and the panel balanced (every unit observed exactly
    /// once in every period). Errors name the unit and period at fault.
    pub fn from_long(
        units: &[String],
        periods: &[f64],
        y: &[f64],
        treated: &[bool],
    ) -> Result<Self> {
        let n = units.len();
        for (what, len) in [
            ("period", periods.len()),
            ("outcome", y.len()),
            ("treated", treated.len()),
        ] {
            if len != n {
                return Err(SynthError::InvalidOption {
                    name: what.into(),
                    reason: format!("has {len} rows, the unit column has {n}"),
                });
            }
        }
        if n == 0 {
            return Err(SynthError::InsufficientData("the panel has no rows".into()));
        }
        for (r, &p) in periods.iter().enumerate() {
            if !p.is_finite() {
                return Err(SynthError::InvalidOption {
                    name: "period".into(),
                    reason: format!("non-finite period {p} at row {r}"),
                });
            }
        }
        let mut ps: Vec<f64> = periods.to_vec();
        ps.sort_by(|a, b| a.total_cmp(b));
        ps.dedup();
        let pidx: HashMap<u64, usize> = ps
            .iter()
            .enumerate()
            .map(|(i, p)| (p.to_bits(), i))
            .collect();
        let mut names: Vec<String> = units.to_vec();
        names.sort();
        names.dedup();
        let uidx: HashMap<&str, usize> = names
            .iter()
            .enumerate()
            .map(|(i, u)| (u.as_str(), i))
            .collect();
        let (nu, np) = (names.len(), ps.len());
        let mut vals = vec![f64::NAN; nu * np];
        let mut count = vec![0usize; nu * np];
        let mut tr = vec![false; nu * np];
        for r in 0..n {
            let i = uidx[units[r].as_str()];
            let t = pidx[&periods[r].to_bits()];
            vals[i * np + t] = y[r];
            count[i * np + t] += 1;
            tr[i * np + t] = treated[r];
        }
        let mut adoption = vec![None; nu];
        for i in 0..nu {
            for t in 0..np {
                let c = count[i * np + t];
                if c != 1 {
                    return Err(SynthError::Unbalanced {
                        unit: names[i].clone(),
                        period: period_label(ps[t]),
                        rows: c,
                    });
                }
                let v = vals[i * np + t];
                if !v.is_finite() {
                    return Err(SynthError::NonFinite {
                        unit: names[i].clone(),
                        period: period_label(ps[t]),
                        value: v,
                    });
                }
                match (adoption[i], tr[i * np + t]) {
                    (None, true) => adoption[i] = Some(t),
                    (Some(_), false) => {
                        return Err(SynthError::InvalidOption {
                            name: "treated".into(),
                            reason: format!(
                                "treatment is not absorbing: unit `{}` is untreated in period {} after being treated",
                                names[i],
                                period_label(ps[t])
                            ),
                        })
                    }
                    _ => {}
                }
            }
        }
        // Order: controls by name, then treated by (adoption, name).
        let mut order: Vec<usize> = (0..nu).collect();
        order.sort_by_key(|&i| (adoption[i].map_or(0, |a| a + 1), i));
        let ymat = DMatrix::from_fn(nu, np, |r, t| vals[order[r] * np + t]);
        Ok(SynthPanel {
            y: ymat,
            units: order.iter().map(|&i| names[i].clone()).collect(),
            periods: ps,
            adoption: order.iter().map(|&i| adoption[i]).collect(),
        })
    }

    /// Builds the panel from a wide matrix whose last `n_treated` rows are treated from
    /// period index `t0` on (the layout of R `synthdid`'s `Y, N0, T0`).
    pub fn from_matrix(
        y: DMatrix<f64>,
        units: Vec<String>,
        periods: Vec<f64>,
        n_treated: usize,
        t0: usize,
    ) -> Result<Self> {
        let (n, t) = y.shape();
        if units.len() != n || periods.len() != t {
            return Err(SynthError::InvalidOption {
                name: "y".into(),
                reason: format!(
                    "matrix is {n}×{t} but {} unit names and {} periods were given",
                    units.len(),
                    periods.len()
                ),
            });
        }
        if n_treated == 0 || n_treated >= n || t0 == 0 || t0 >= t {
            return Err(SynthError::InsufficientData(format!(
                "need 1 <= treated units < {n} and 1 <= T0 < {t}; got {n_treated} treated, T0 = {t0}"
            )));
        }
        let adoption = (0..n)
            .map(|i| if i >= n - n_treated { Some(t0) } else { None })
            .collect();
        Ok(SynthPanel {
            y,
            units,
            periods,
            adoption,
        })
    }

    /// Number of control (never-treated) units.
    pub fn n_controls(&self) -> usize {
        self.adoption.iter().filter(|a| a.is_none()).count()
    }

    /// Number of treated units.
    pub fn n_treated(&self) -> usize {
        self.adoption.len() - self.n_controls()
    }
}

//! Policy and money: the profit of targeting the top fraction of customers by an uplift
//! score, given a value per conversion (or per unit of a continuous outcome) and a cost per
//! treated customer.
//!
//! For the top `m` rows by score (score descending, ties in row order), the estimated
//! incremental outcome per targeted customer is the difference in mean outcome between the
//! treated and the control rows among them (the uplift-curve estimate of Radcliffe 2007);
//! the profit of targeting them, per customer of the whole population, is
//! `(m / n) * (value * uplift_top - cost)`. Treating no one is the zero baseline; treating
//! everyone is the `m = n` point.

use crate::error::{invalid, Result, UpliftError};
use causalkit_stats::resample::replicate;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// The profit curve and the best fraction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfitCurve {
    /// Value per conversion / outcome unit.
    pub value: f64,
    /// Cost per treated customer.
    pub cost: f64,
    /// Fractions targeted (0, 1/bins, ..., 1).
    pub fraction: Vec<f64>,
    /// Profit per customer of the population at each fraction (`None` where the top rows
    /// lack treated or control rows).
    pub profit: Vec<Option<f64>>,
    /// The fraction with the highest profit.
    pub best_fraction: f64,
    /// Its profit per customer.
    pub best_profit: f64,
    /// Profit per customer of treating everyone.
    pub profit_treat_all: f64,
    /// Best profit minus the profit of treating everyone.
    pub gain_vs_treat_all: f64,
    /// Best profit minus treating no one (zero).
    pub gain_vs_treat_none: f64,
    /// Bootstrap percentile interval of the best fraction (`None` without bootstrap).
    pub best_fraction_ci: Option<(f64, f64)>,
    /// Bootstrap percentile interval of the best profit.
    pub best_profit_ci: Option<(f64, f64)>,
}

fn curve(y: &[f64], t: &[bool], order: &[usize], bins: usize, v: f64, c: f64) -> Vec<Option<f64>> {
    let n = order.len();
    let (mut st, mut nt, mut sc, mut nc) = (0.0, 0usize, 0.0, 0usize);
    let mut out = vec![Some(0.0)];
    let mut taken = 0;
    for b in 1..=bins {
        let m = (n * b + bins / 2) / bins;
        while taken < m {
            let i = order[taken];
            if t[i] {
                st += y[i];
                nt += 1;
            } else {
                sc += y[i];
                nc += 1;
            }
            taken += 1;
        }
        out.push(if nt > 0 && nc > 0 {
            let up = st / nt as f64 - sc / nc as f64;
            Some(m as f64 / n as f64 * (v * up - c))
        } else {
            None
        });
    }
    out
}

fn best(p: &[Option<f64>]) -> Option<(usize, f64)> {
    p.iter()
        .enumerate()
        .filter_map(|(i, x)| x.map(|x| (i, x)))
        .fold(None, |acc, (i, x)| match acc {
            Some((_, bx)) if bx >= x => acc,
            _ => Some((i, x)),
        })
}

fn pct(mut v: Vec<f64>, alpha: f64) -> Option<(f64, f64)> {
    if v.len() < 2 {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    Some((at(alpha / 2.0), at(1.0 - alpha / 2.0)))
}

/// The profit curve over `bins + 1` fractions targeted, the best fraction, the gains against
/// treating everyone and no one, and (with `bootstrap > 0`) percentile intervals at level
/// `1 - alpha` of the best fraction and its profit from resampling treated and control rows
/// separately (seeded).
#[allow(clippy::too_many_arguments)]
pub fn profit_curve(
    y: &[f64],
    treated: &[bool],
    score: &[f64],
    value: f64,
    cost: f64,
    bins: usize,
    bootstrap: usize,
    seed: u64,
    alpha: f64,
) -> Result<ProfitCurve> {
    let n = y.len();
    if treated.len() != n || score.len() != n {
        return Err(UpliftError::LengthMismatch {
            what: "treatment / score".into(),
            got: treated.len().min(score.len()),
            expected: n,
        });
    }
    for (name, x) in [("value", value), ("cost", cost)] {
        if !x.is_finite() {
            return Err(invalid(name, format!("must be finite, got {x}")));
        }
    }
    if bins == 0 {
        return Err(invalid("bins", "must be at least 1"));
    }
    for (i, &s) in score.iter().enumerate() {
        if !s.is_finite() {
            return Err(UpliftError::NonFinite {
                variable: "score".into(),
                row: i,
                value: s,
            });
        }
    }
    let order_of = |s: &[f64]| {
        let mut o: Vec<usize> = (0..s.len()).collect();
        o.sort_by(|&a, &b| s[b].total_cmp(&s[a]).then(a.cmp(&b)));
        o
    };
    let order = order_of(score);
    let profit = curve(y, treated, &order, bins, value, cost);
    let all = profit[bins]
        .ok_or_else(|| UpliftError::InsufficientData("need treated and control rows".into()))?;
    let (bi, bp) = best(&profit).expect("fraction 0 is always defined");
    let (mut f_ci, mut p_ci) = (None, None);
    if bootstrap > 0 {
        let tr: Vec<usize> = (0..n).filter(|&i| treated[i]).collect();
        let co: Vec<usize> = (0..n).filter(|&i| !treated[i]).collect();
        let reps: Vec<Option<(usize, f64)>> = replicate(seed, bootstrap, |rng, _| {
            let mut rows: Vec<usize> = Vec::with_capacity(n);
            for _ in 0..tr.len() {
                rows.push(tr[rng.random_range(0..tr.len())]);
            }
            for _ in 0..co.len() {
                rows.push(co[rng.random_range(0..co.len())]);
            }
            let yy: Vec<f64> = rows.iter().map(|&i| y[i]).collect();
            let tt: Vec<bool> = rows.iter().map(|&i| treated[i]).collect();
            let ss: Vec<f64> = rows.iter().map(|&i| score[i]).collect();
            best(&curve(&yy, &tt, &order_of(&ss), bins, value, cost))
        });
        let ok: Vec<(usize, f64)> = reps.into_iter().flatten().collect();
        f_ci = pct(ok.iter().map(|r| r.0 as f64 / bins as f64).collect(), alpha);
        p_ci = pct(ok.iter().map(|r| r.1).collect(), alpha);
    }
    Ok(ProfitCurve {
        value,
        cost,
        fraction: (0..=bins).map(|b| b as f64 / bins as f64).collect(),
        profit,
        best_fraction: bi as f64 / bins as f64,
        best_profit: bp,
        profit_treat_all: all,
        gain_vs_treat_all: bp - all,
        gain_vs_treat_none: bp,
        best_fraction_ci: f_ci,
        best_profit_ci: p_ci,
    })
}

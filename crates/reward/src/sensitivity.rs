//! Where the verdict on R flips: the effect on R over a grid of weights.
//!
//! For user ranges of some weights (`click=0:0.5,return=0:2`), the other weights kept at the
//! reward's values, every grid point `w` gets `τ_R(w) = Σ w_k τ_k` with standard error
//! `√(wᵀVw)` from the evaluation's joint covariance ([`crate::Evaluation::effect_of`]), and a
//! verdict: the treatment **wins** on R when the `1 − α` interval lies above 0, **loses**
//! when it lies below, and is **inconclusive** otherwise. No data are re-read: the grid is
//! exact linear algebra on the component effects, so the region is the set of weights where
//! the confidence interval of a linear combination excludes zero.

use crate::error::{Result, RewardError};
use crate::evaluate::Evaluation;
use crate::expr::Reward;
use serde::Serialize;

/// One weight's range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightRange {
    /// Signal.
    pub signal: String,
    /// Lowest weight.
    pub low: f64,
    /// Highest weight.
    pub high: f64,
}

/// Parses `click=0:0.5,return=0:2` (a signal may appear once; `low <= high`).
pub fn parse_ranges(src: &str) -> Result<Vec<WeightRange>> {
    let bad = |part: &str, why: &str| {
        RewardError::Invalid(format!(
            "--weights: `{part}` {why} (expected signal=low:high, e.g. click=0:0.5)"
        ))
    };
    let mut out: Vec<WeightRange> = Vec::new();
    for part in src.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, range) = part
            .split_once('=')
            .ok_or_else(|| bad(part, "has no `=`"))?;
        let (lo, hi) = range
            .split_once(':')
            .ok_or_else(|| bad(part, "has no `:`"))?;
        let lo: f64 = lo
            .trim()
            .parse()
            .map_err(|_| bad(part, "has a low end that is not a number"))?;
        let hi: f64 = hi
            .trim()
            .parse()
            .map_err(|_| bad(part, "has a high end that is not a number"))?;
        if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
            return Err(bad(part, "needs finite ends with low <= high"));
        }
        let name = name.trim().to_string();
        if out.iter().any(|r| r.signal == name) {
            return Err(bad(part, "repeats a signal"));
        }
        out.push(WeightRange {
            signal: name,
            low: lo,
            high: hi,
        });
    }
    if out.is_empty() {
        return Err(bad(src, "names no range"));
    }
    Ok(out)
}

/// The verdict at one grid point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GridVerdict {
    /// Interval above 0.
    Wins,
    /// Interval below 0.
    Loses,
    /// Interval covers 0.
    Inconclusive,
}

/// One grid point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridPoint {
    /// The varied weights, in range order.
    pub weights: Vec<f64>,
    /// Effect on R.
    pub estimate: f64,
    /// `√(wᵀVw)`.
    pub std_error: f64,
    /// Interval.
    pub ci_low: f64,
    /// Interval.
    pub ci_high: f64,
    /// Verdict.
    pub verdict: GridVerdict,
}

/// The grid and its summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sensitivity {
    /// The ranges.
    pub ranges: Vec<WeightRange>,
    /// Points per range.
    pub steps: usize,
    /// Every point, the first range varying slowest.
    pub points: Vec<GridPoint>,
    /// Share of points where the treatment wins.
    pub share_wins: f64,
    /// Share where it loses.
    pub share_loses: f64,
    /// Whether the verdict at the reward's own weights differs from some grid point's.
    pub verdict_flips: bool,
}

/// The effect on R over the grid (`steps` points per range, ends included).
pub fn sensitivity(
    eval: &Evaluation,
    base: &Reward,
    ranges: &[WeightRange],
    steps: usize,
) -> Result<Sensitivity> {
    if steps < 2 {
        return Err(RewardError::Invalid(format!(
            "the grid needs at least 2 points per range, got {steps}"
        )));
    }
    if ranges.len() > 3 {
        return Err(RewardError::Invalid(format!(
            "at most 3 weight ranges (got {}); the grid grows as steps^ranges",
            ranges.len()
        )));
    }
    for r in ranges {
        if !base.terms.iter().any(|t| t.0 == r.signal) {
            return Err(RewardError::Unknown {
                what: "signal in --weights".into(),
                name: r.signal.clone(),
                known: format!("the reward's signals: {}", base.signals().join(", ")),
            });
        }
    }
    let total = steps.pow(ranges.len() as u32);
    let mut points = Vec::with_capacity(total);
    for idx in 0..total {
        let mut rem = idx;
        let mut ws = vec![0.0; ranges.len()];
        for (j, r) in ranges.iter().enumerate().rev() {
            let s = rem % steps;
            rem /= steps;
            ws[j] = r.low + (r.high - r.low) * s as f64 / (steps - 1) as f64;
        }
        let mut terms = base.terms.clone();
        for (r, w) in ranges.iter().zip(&ws) {
            if let Some(t) = terms.iter_mut().find(|t| t.0 == r.signal) {
                t.1 = *w;
            }
        }
        let e = eval.effect_of(&Reward::new(terms))?;
        let (lo, hi) = (e.ci_low.unwrap_or(f64::NAN), e.ci_high.unwrap_or(f64::NAN));
        points.push(GridPoint {
            weights: ws,
            estimate: e.estimate,
            std_error: e.std_error.unwrap_or(f64::NAN),
            ci_low: lo,
            ci_high: hi,
            verdict: verdict(lo, hi),
        });
    }
    let base_e = eval.effect_of(base)?;
    let base_v = verdict(
        base_e.ci_low.unwrap_or(f64::NAN),
        base_e.ci_high.unwrap_or(f64::NAN),
    );
    let count = |v: GridVerdict| points.iter().filter(|p| p.verdict == v).count() as f64;
    Ok(Sensitivity {
        ranges: ranges.to_vec(),
        steps,
        share_wins: count(GridVerdict::Wins) / total as f64,
        share_loses: count(GridVerdict::Loses) / total as f64,
        verdict_flips: points.iter().any(|p| p.verdict != base_v),
        points,
    })
}

fn verdict(lo: f64, hi: f64) -> GridVerdict {
    if lo > 0.0 {
        GridVerdict::Wins
    } else if hi < 0.0 {
        GridVerdict::Loses
    } else {
        GridVerdict::Inconclusive
    }
}

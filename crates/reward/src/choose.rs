//! Which weights? The weights a value model implies, the value-maximising weights under
//! guardrail margins, and the Pareto frontier between long-term value and one KPI.
//!
//! # Implied weights
//! A value model gives the long-term value of one more unit of each signal (`$` per click,
//! per purchase, per return): the calibration's coefficients (the linear surrogate index),
//! the user's `click=0.2,purchase=30`, or a value tree's change in money per unit. Used as a
//! reward, it is `R* = Σ_k v_k S_k`; [`implied_weights`] rescales it the way the user's
//! reward is scaled — by the factor that makes the weight of the reward's largest term (its
//! *anchor*, e.g. `purchase` with weight 1) equal to the user's — so the two sets of weights
//! can be read side by side.
//!
//! # The constrained choice (formulation)
//! A reward steers a model; to choose weights one needs a model of *how* it steers. The one
//! used here is stated, not hidden:
//!
//! * **Behaviour.** A model retrained on `R_w = wᵀS` changes the per-unit means of the
//!   signals by the move `d` that maximises `wᵀd` among the moves of a given size,
//!   `{d : dᵀΣ⁻¹d ≤ ρ²}`, where `Σ` is the covariance of the signals across units in the
//!   history (a move is measured in multivariate standard deviations, so moves along the
//!   directions in which customers already differ are cheap) and `ρ` the size of the move
//!   (`--radius`). The reward's move is then `d(w) = ρ Σw / √(wᵀΣw)`.
//! * **Objective.** Predicted long-term value of the move, `vᵀd`, with `v` the value model
//!   (the surrogate index's coefficients from the history, or the user's values).
//! * **Constraints.** Guardrail `j` (CSAT, NPS, return rate) changes by `g_jᵀd`, `g_j` its
//!   slopes on the signals — the coefficients of a linear regression of the guardrail on the
//!   signals (and the covariates) in the history, i.e. its own linear surrogate index, or
//!   the unit vector when the guardrail is itself a signal. It may worsen by at most
//!   `m_j |b_j|`, a relative margin `m_j` of its history mean `b_j`:
//!   `g_jᵀd ≥ −m_j|b_j|` when higher is better, `g_jᵀd ≤ m_j|b_j|` when lower is better.
//!
//! The problem `max_d vᵀd  s.t. dᵀΣ⁻¹d ≤ ρ², guardrails` is a second-order-cone program,
//! solved exactly with clarabel's interior-point method (Goulart & Chen 2024, "Clarabel: an
//! interior-point solver for conic programs with quadratic objectives", arXiv:2405.12762) in
//! whitened coordinates `d = Lu` (`Σ = LLᵀ`). The chosen weights are `w ∝ Σ⁻¹d*`: the reward
//! whose own best move of size `ρ` is `d*` (when `d*` lies on the ellipsoid, which the
//! output checks). By the KKT conditions they equal `v + Σ_j λ_j g_j` (signs per direction)
//! with `λ_j ≥ 0` the guardrails' multipliers: a binding guardrail tilts the value weights
//! towards itself. With no binding guardrail the choice is the implied weights.
//!
//! What is estimated from which data: `v` from the calibration (history) or given; `g_j`,
//! `b_j` and `Σ` from the history; `ρ` and `m_j` given by the user. The predicted changes
//! are linear extrapolations of the history's associations: they inherit the surrogacy
//! assumption of the index (and the same assumption for each guardrail's index).
//!
//! # Pareto frontier
//! Between long-term value and one KPI (a guardrail): for a grid of required KPI changes `t`
//! from the KPI's change at the value-maximising choice up to the most the KPI can gain (both
//! under the other guardrails), the most value attainable with the KPI's change at least `t`.
//! Every point is a choice of weights; the curve is the exact frontier of the linear model.

use crate::error::{Result, RewardError};
use crate::expr::Reward;
use clarabel::algebra::CscMatrix;
use clarabel::solver::{
    DefaultSettingsBuilder, DefaultSolver, IPSolver, SolverStatus, SupportedConeT,
};
use nalgebra::{DMatrix, DVector};
use serde::Serialize;

/// Parses a value model `click=0.2,purchase=30,return=-25` (each signal once, finite values).
pub fn parse_values(src: &str) -> Result<Vec<(String, f64)>> {
    let bad = |part: &str, why: &str| {
        RewardError::Invalid(format!(
            "--value: `{part}` {why} (expected signal=value per unit, e.g. click=0.2,purchase=30)"
        ))
    };
    let mut out: Vec<(String, f64)> = Vec::new();
    for part in src.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, v) = part
            .split_once('=')
            .ok_or_else(|| bad(part, "has no `=`"))?;
        let v: f64 = v
            .trim()
            .parse()
            .map_err(|_| bad(part, "has a value that is not a number"))?;
        if !v.is_finite() {
            return Err(bad(part, "has a value that is not finite"));
        }
        let name = name.trim().to_string();
        if name.is_empty() {
            return Err(bad(part, "names no signal"));
        }
        if out.iter().any(|(n, _)| *n == name) {
            return Err(bad(part, "repeats a signal"));
        }
        out.push((name, v));
    }
    if out.is_empty() {
        return Err(bad(src, "names no signal"));
    }
    Ok(out)
}

/// One signal's implied weight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImpliedWeight {
    /// Signal.
    pub signal: String,
    /// Long-term value of one more unit of the signal (the value model).
    pub value_per_unit: f64,
    /// `value_per_unit × scale`: the weight on the reward's scale.
    pub implied_weight: f64,
    /// The user's weight, when the signal is in the reward.
    pub reward_weight: Option<f64>,
}

/// The weights a value model implies, next to the reward's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImpliedWeights {
    /// Where the values come from (calibration file, `--value`, value tree node).
    pub source: String,
    /// The reward's term whose weight the implied weights match.
    pub anchor: String,
    /// `reward weight of the anchor / value of the anchor`.
    pub scale: f64,
    /// Every signal of the value model, then any reward signal it values at 0.
    pub weights: Vec<ImpliedWeight>,
}

/// The weights implied by `values` (signal, long-term value per unit), scaled so that the
/// weight of the reward's anchor — its term of largest absolute weight among the signals the
/// model values at a nonzero amount — equals the reward's weight. A reward signal the value
/// model does not list is an error (an omitted signal would silently get weight 0).
pub fn implied_weights(
    values: &[(String, f64)],
    reward: &Reward,
    source: &str,
) -> Result<ImpliedWeights> {
    for s in reward.signals() {
        if !values.iter().any(|(n, _)| *n == s) {
            return Err(RewardError::Unknown {
                what: format!("reward signal in the value model ({source})"),
                name: s,
                known: format!(
                    "the value model values: {}",
                    values
                        .iter()
                        .map(|(n, _)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
    }
    let value_of = |s: &str| values.iter().find(|(n, _)| n == s).map(|(_, v)| *v);
    let anchor = reward
        .terms
        .iter()
        .filter(|(s, w)| *w != 0.0 && value_of(s).is_some_and(|v| v != 0.0))
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .ok_or_else(|| {
            RewardError::Invalid(format!(
                "the value model ({source}) values every signal of the reward `{}` at 0 (or the reward's weights are all 0): no scale to match",
                reward.display()
            ))
        })?;
    let scale = anchor.1 / value_of(&anchor.0).unwrap_or(f64::NAN);
    let reward_weight = |s: &str| reward.terms.iter().find(|t| t.0 == s).map(|t| t.1);
    Ok(ImpliedWeights {
        source: source.to_string(),
        anchor: anchor.0.clone(),
        scale,
        weights: values
            .iter()
            .map(|(s, v)| ImpliedWeight {
                signal: s.clone(),
                value_per_unit: *v,
                implied_weight: v * scale,
                reward_weight: reward_weight(s),
            })
            .collect(),
    })
}

/// A guardrail KPI as a linear function of the signals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GuardrailModel {
    /// KPI name.
    pub name: String,
    /// Change of the KPI's mean per unit change of each signal's mean (in signal order).
    pub slopes: Vec<f64>,
    /// The KPI's mean in the history (the base of the relative margin).
    pub baseline: f64,
    /// Largest tolerated relative worsening (0.02 = 2% of `|baseline|`); a negative margin
    /// requires an improvement of at least that share.
    pub margin: f64,
    /// Whether lower values are better (return rate).
    pub lower_is_better: bool,
    /// Where the slopes come from.
    pub source: String,
}

impl GuardrailModel {
    /// The worst change allowed: `−m|b|` (higher is better) or `+m|b|` (lower is better).
    pub fn bound(&self) -> f64 {
        let b = self.margin * self.baseline.abs();
        if self.lower_is_better {
            b
        } else {
            -b
        }
    }

    /// `±1`: the sign that makes "better" mean "larger".
    fn orientation(&self) -> f64 {
        if self.lower_is_better {
            -1.0
        } else {
            1.0
        }
    }
}

/// The inputs of [`choose`] (see the module docs for the formulation).
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceProblem {
    /// The signals, in the order of every vector here.
    pub signals: Vec<String>,
    /// Long-term value per unit of each signal (`v`).
    pub value: Vec<f64>,
    /// Where `value` comes from.
    pub value_source: String,
    /// Guardrails.
    pub guardrails: Vec<GuardrailModel>,
    /// Covariance of the signals across units (`Σ`, positive definite).
    pub covariance: DMatrix<f64>,
    /// Size of the move in multivariate standard deviations (`ρ > 0`).
    pub radius: f64,
}

/// A guardrail at a choice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GuardrailOutcome {
    /// KPI.
    pub name: String,
    /// Predicted change of its mean, `g_jᵀd`.
    pub predicted_change: f64,
    /// The worst change allowed.
    pub bound: f64,
    /// Distance to the bound in the "better" direction (≥ 0 when met).
    pub slack: f64,
    /// Lagrange multiplier (value lost per unit the bound is tightened; 0 when not binding).
    pub multiplier: f64,
    /// Whether the constraint is active at the optimum.
    pub binding: bool,
}

/// Weights with the move they induce and its predicted consequences.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Choice {
    /// The weights, normalised (see [`ChoiceReport::normalisation`]), in signal order.
    pub weights: Vec<f64>,
    /// The move of the signals' means, `d`.
    pub signal_changes: Vec<f64>,
    /// Predicted change of long-term value per unit, `vᵀd`.
    pub value_change: f64,
    /// Guardrails at this move.
    pub guardrails: Vec<GuardrailOutcome>,
}

/// The result of [`choose`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChoiceReport {
    /// The formulation in words.
    pub formulation: String,
    /// Signals.
    pub signals: Vec<String>,
    /// Where the value model comes from.
    pub value_source: String,
    /// Value per unit of each signal.
    pub value: Vec<f64>,
    /// `ρ`.
    pub radius: f64,
    /// How the weights are scaled.
    pub normalisation: String,
    /// The value-maximising weights under the guardrails.
    pub constrained: Choice,
    /// Without guardrails (the implied weights of the value model).
    pub unconstrained: Choice,
    /// The user's reward, scored the same way, when given.
    pub reward: Option<Choice>,
    /// Value given up to the guardrails (`unconstrained − constrained`).
    pub cost_of_guardrails: f64,
}

/// Checks the problem's shapes and values.
fn validate(p: &ChoiceProblem) -> Result<()> {
    let k = p.signals.len();
    if k == 0 {
        return Err(RewardError::Invalid(
            "the weight choice needs at least one signal".into(),
        ));
    }
    if p.value.len() != k || p.covariance.nrows() != k || p.covariance.ncols() != k {
        return Err(RewardError::Invalid(format!(
            "{k} signals but {} values and a {}x{} covariance",
            p.value.len(),
            p.covariance.nrows(),
            p.covariance.ncols()
        )));
    }
    if !(p.radius.is_finite() && p.radius > 0.0) {
        return Err(RewardError::Invalid(format!(
            "--radius must be a positive number of standard deviations, got {}",
            p.radius
        )));
    }
    for (s, v) in p.signals.iter().zip(&p.value) {
        if !v.is_finite() {
            return Err(RewardError::Invalid(format!(
                "the value of `{s}` is not finite ({v})"
            )));
        }
    }
    if p.value.iter().all(|v| *v == 0.0) {
        return Err(RewardError::Invalid(format!(
            "the value model ({}) values every signal at 0: every weight is as good as any other",
            p.value_source
        )));
    }
    for g in &p.guardrails {
        if g.slopes.len() != k {
            return Err(RewardError::Invalid(format!(
                "guardrail `{}` has {} slopes for {k} signals",
                g.name,
                g.slopes.len()
            )));
        }
        if !g.margin.is_finite() {
            return Err(RewardError::Invalid(format!(
                "guardrail `{}`: the margin must be a finite number, got {}",
                g.name, g.margin
            )));
        }
        if !(g.baseline.is_finite() && g.slopes.iter().all(|x| x.is_finite())) {
            return Err(RewardError::Invalid(format!(
                "guardrail `{}` has a non-finite baseline or slope",
                g.name
            )));
        }
    }
    Ok(())
}

/// Cholesky factor of `Σ`, or an error naming the signal that is (nearly) a linear
/// combination of the ones before it.
fn cholesky(p: &ChoiceProblem) -> Result<DMatrix<f64>> {
    let k = p.signals.len();
    let c = &p.covariance;
    let mut l = DMatrix::zeros(k, k);
    for j in 0..k {
        let mut d = c[(j, j)];
        for m in 0..j {
            d -= l[(j, m)] * l[(j, m)];
        }
        if !(d.is_finite() && d > 1e-10 * c[(j, j)].abs().max(f64::MIN_POSITIVE)) {
            return Err(RewardError::Singular {
                column: p.signals[j].clone(),
                with: if j == 0 {
                    "nothing (it does not vary across units)".into()
                } else {
                    format!("the signals {}", p.signals[..j].join(", "))
                },
            });
        }
        let d = d.sqrt();
        l[(j, j)] = d;
        for i in j + 1..k {
            let mut s = c[(i, j)];
            for m in 0..j {
                s -= l[(i, m)] * l[(j, m)];
            }
            l[(i, j)] = s / d;
        }
    }
    Ok(l)
}

/// A linear constraint `aᵀd ≥ c` on the move, with the guardrail it comes from.
struct Linear {
    a: DVector<f64>,
    c: f64,
    name: String,
}

/// `max objᵀd s.t. ‖L⁻¹d‖ ≤ ρ, aᵢᵀd ≥ cᵢ` by clarabel: the move and the multipliers.
fn solve_socp(
    l: &DMatrix<f64>,
    obj: &DVector<f64>,
    cons: &[Linear],
    radius: f64,
) -> Result<(DVector<f64>, Vec<f64>)> {
    let k = l.nrows();
    // Each constraint alone: its best attainable value over the ellipsoid.
    for c in cons {
        let best = radius * (l.transpose() * &c.a).norm();
        if best < c.c - 1e-12 * c.c.abs().max(1.0) {
            return Err(RewardError::Infeasible(format!(
                "guardrail `{}` cannot be met: the most any move of size {radius} can change it in its better direction is {best:.6}, the margin requires {:.6}; raise its margin or --radius",
                c.name, c.c
            )));
        }
    }
    let q: Vec<f64> = (l.transpose() * obj).iter().map(|x| -x).collect();
    let p = CscMatrix::<f64>::zeros((k, k));
    let mut rows: Vec<Vec<f64>> = Vec::with_capacity(cons.len() + k + 1);
    let mut b = Vec::with_capacity(cons.len() + k + 1);
    for c in cons {
        let la = l.transpose() * &c.a;
        rows.push(la.iter().map(|x| -x).collect());
        b.push(-c.c);
    }
    rows.push(vec![0.0; k]);
    b.push(radius);
    for i in 0..k {
        let mut r = vec![0.0; k];
        r[i] = -1.0;
        rows.push(r);
        b.push(0.0);
    }
    let a = CscMatrix::from(rows.iter().map(|r| r.iter()));
    let mut cones = Vec::new();
    if !cons.is_empty() {
        cones.push(SupportedConeT::NonnegativeConeT(cons.len()));
    }
    cones.push(SupportedConeT::SecondOrderConeT(k + 1));
    let settings = DefaultSettingsBuilder::default()
        .verbose(false)
        .tol_gap_abs(1e-10)
        .tol_gap_rel(1e-10)
        .tol_feas(1e-10)
        .build()
        .map_err(|e| RewardError::Invalid(format!("solver settings: {e}")))?;
    let mut solver = DefaultSolver::new(&p, &q, &a, &b, &cones, settings)
        .map_err(|e| RewardError::Invalid(format!("the cone program is malformed: {e:?}")))?;
    solver.solve();
    let sol = &solver.solution;
    match sol.status {
        SolverStatus::Solved | SolverStatus::AlmostSolved => {}
        SolverStatus::PrimalInfeasible | SolverStatus::AlmostPrimalInfeasible => {
            return Err(RewardError::Infeasible(format!(
                "the guardrails {} cannot be met together by any move of size {radius}; raise their margins or --radius",
                cons.iter()
                    .map(|c| format!("`{}`", c.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
        other => {
            return Err(RewardError::Solver(format!(
                "the cone program stopped with status {other:?}"
            )))
        }
    }
    let u = DVector::from_column_slice(&sol.x);
    let d = l * u;
    Ok((d, sol.z[..cons.len()].to_vec()))
}

/// The guardrails as constraints `aᵀd ≥ c` ("better" direction first).
fn constraints(p: &ChoiceProblem, skip: Option<usize>) -> Vec<Linear> {
    p.guardrails
        .iter()
        .enumerate()
        .filter(|(j, _)| Some(*j) != skip)
        .map(|(_, g)| {
            let o = g.orientation();
            Linear {
                a: DVector::from_iterator(g.slopes.len(), g.slopes.iter().map(|s| o * s)),
                c: o * g.bound(),
                name: g.name.clone(),
            }
        })
        .collect()
}

/// Index of the anchor and the target weight of the normalisation, with its description.
fn normaliser(signals: &[String], reward: Option<&Reward>) -> (Option<(usize, f64)>, String) {
    if let Some(r) = reward {
        if let Some((i, w)) = r
            .terms
            .iter()
            .filter(|(_, w)| *w != 0.0)
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .and_then(|(s, w)| signals.iter().position(|x| x == s).map(|i| (i, *w)))
        {
            return (
                Some((i, w)),
                format!(
                    "scaled so the weight of `{}` is {} as in the reward (the reward's largest term)",
                    signals[i], w
                ),
            );
        }
    }
    (
        None,
        "scaled so the largest absolute weight is 1 (sign kept)".into(),
    )
}

/// Scales raw weights: the anchor's weight to its target when the raw anchor weight has the
/// target's sign and is not negligible, else the largest absolute weight to 1.
fn normalise(raw: &DVector<f64>, anchor: Option<(usize, f64)>) -> Vec<f64> {
    let max = raw.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
    if let Some((i, target)) = anchor {
        if raw[i] * target > 0.0 && raw[i].abs() > 1e-6 * max {
            return raw.iter().map(|x| x * target / raw[i]).collect();
        }
    }
    if max > 0.0 {
        raw.iter().map(|x| x / max).collect()
    } else {
        raw.iter().copied().collect()
    }
}

/// Scores a move.
fn score(
    p: &ChoiceProblem,
    d: &DVector<f64>,
    weights: Vec<f64>,
    multipliers: Option<&[(usize, f64)]>,
) -> Choice {
    let v = DVector::from_column_slice(&p.value);
    let guardrails = p
        .guardrails
        .iter()
        .enumerate()
        .map(|(j, g)| {
            let change: f64 = g.slopes.iter().zip(d.iter()).map(|(s, x)| s * x).sum();
            let slack = g.orientation() * (change - g.bound());
            let multiplier = multipliers
                .and_then(|m| m.iter().find(|(i, _)| *i == j).map(|(_, l)| *l))
                .unwrap_or(0.0);
            let norm_g = g.slopes.iter().map(|s| s * s).sum::<f64>().sqrt();
            let tol = 1e-6 * norm_g * d.norm();
            GuardrailOutcome {
                name: g.name.clone(),
                predicted_change: change,
                bound: g.bound(),
                slack,
                multiplier,
                binding: multipliers.is_some() && slack <= tol.max(1e-12),
            }
        })
        .collect();
    Choice {
        weights,
        signal_changes: d.iter().copied().collect(),
        value_change: v.dot(d),
        guardrails,
    }
}

/// The move of a reward `w` of size `ρ`: `ρ Σw / √(wᵀΣw)`.
fn move_of(p: &ChoiceProblem, w: &DVector<f64>) -> Option<DVector<f64>> {
    let sw = &p.covariance * w;
    let n = w.dot(&sw);
    (n > 0.0).then(|| sw * (p.radius / n.sqrt()))
}

/// The weights behind a move on the ellipsoid: `Σ⁻¹d`.
fn weights_of(l: &DMatrix<f64>, d: &DVector<f64>) -> DVector<f64> {
    let y = l
        .solve_lower_triangular(d)
        .unwrap_or_else(|| DVector::zeros(d.len()));
    l.transpose()
        .solve_upper_triangular(&y)
        .unwrap_or_else(|| DVector::zeros(d.len()))
}

const FORMULATION: &str = "maximise the predicted change of long-term value v'd over the move d of the signals' means that a model trained on the reward makes, among moves of size d'Σ⁻¹d ≤ ρ² (Σ: covariance of the signals across units in the history), subject to each guardrail's predicted change g'd not worsening beyond its margin times its history mean; the weights are Σ⁻¹d* (the reward whose best move of size ρ is d*). v: value per unit of each signal; g: the guardrail's regression slopes on the signals in the history; solved as a second-order-cone program (clarabel)";

/// The value-maximising weights under the guardrails (see the module docs), with the
/// unconstrained choice and, when given, the user's reward scored the same way.
///
/// # Errors
/// [`RewardError::Infeasible`] naming the guardrail(s) no move of size `ρ` can satisfy;
/// [`RewardError::Singular`] when `Σ` is singular; [`RewardError::Invalid`] for shapes and
/// values.
pub fn choose(p: &ChoiceProblem, reward: Option<&Reward>) -> Result<ChoiceReport> {
    validate(p)?;
    let l = cholesky(p)?;
    let v = DVector::from_column_slice(&p.value);
    let (anchor, normalisation) = normaliser(&p.signals, reward);
    let (d0, _) = solve_socp(&l, &v, &[], p.radius)?;
    let unconstrained = score(p, &d0, normalise(&weights_of(&l, &d0), anchor), None);
    let cons = constraints(p, None);
    let (d, lambda) = solve_socp(&l, &v, &cons, p.radius)?;
    let mults: Vec<(usize, f64)> = lambda.iter().copied().enumerate().collect();
    let constrained = score(p, &d, normalise(&weights_of(&l, &d), anchor), Some(&mults));
    let reward_choice =
        match reward {
            Some(r) => {
                let mut w = DVector::zeros(p.signals.len());
                for (s, x) in &r.terms {
                    let i = p.signals.iter().position(|n| n == s).ok_or_else(|| {
                        RewardError::Unknown {
                            what: "reward signal".into(),
                            name: s.clone(),
                            known: format!("the choice's signals: {}", p.signals.join(", ")),
                        }
                    })?;
                    w[i] = *x;
                }
                move_of(p, &w).map(|dm| score(p, &dm, w.iter().copied().collect(), None))
            }
            None => None,
        };
    Ok(ChoiceReport {
        formulation: FORMULATION.into(),
        signals: p.signals.clone(),
        value_source: p.value_source.clone(),
        value: p.value.clone(),
        radius: p.radius,
        normalisation,
        cost_of_guardrails: unconstrained.value_change - constrained.value_change,
        constrained,
        unconstrained,
        reward: reward_choice,
    })
}

/// One point of the frontier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParetoPoint {
    /// Predicted change of long-term value.
    pub value_change: f64,
    /// Predicted change of the KPI.
    pub kpi_change: f64,
    /// The weights (normalised as in [`choose`]).
    pub weights: Vec<f64>,
    /// The other guardrails that bind here.
    pub binding: Vec<String>,
}

/// The frontier between long-term value and one KPI.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pareto {
    /// The KPI.
    pub kpi: String,
    /// Whether lower is better for it.
    pub lower_is_better: bool,
    /// Signals (order of the weights).
    pub signals: Vec<String>,
    /// Points from the value-maximising end to the KPI-maximising end.
    pub points: Vec<ParetoPoint>,
}

/// The Pareto frontier between long-term value and the guardrail `kpi` (its own margin is
/// replaced by the sweep; the other guardrails stay), `points ≥ 2` points.
pub fn pareto(
    p: &ChoiceProblem,
    kpi: &str,
    points: usize,
    reward: Option<&Reward>,
) -> Result<Pareto> {
    validate(p)?;
    if points < 2 {
        return Err(RewardError::Invalid(format!(
            "the frontier needs at least 2 points, got {points}"
        )));
    }
    let j = p
        .guardrails
        .iter()
        .position(|g| g.name == kpi)
        .ok_or_else(|| RewardError::Unknown {
            what: "KPI for the Pareto frontier".into(),
            name: kpi.into(),
            known: format!(
                "the guardrails: {}",
                p.guardrails
                    .iter()
                    .map(|g| g.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })?;
    let l = cholesky(p)?;
    let g = &p.guardrails[j];
    let o = g.orientation();
    let gk = DVector::from_iterator(g.slopes.len(), g.slopes.iter().map(|s| o * s));
    let v = DVector::from_column_slice(&p.value);
    let others = constraints(p, Some(j));
    let (anchor, _) = normaliser(&p.signals, reward);
    let (d_v, _) = solve_socp(&l, &v, &others, p.radius)?;
    let (d_k, _) = solve_socp(&l, &gk, &others, p.radius)?;
    let (lo, hi) = (gk.dot(&d_v), gk.dot(&d_k));
    let other_idx: Vec<usize> = (0..p.guardrails.len()).filter(|i| *i != j).collect();
    let mut out = Vec::with_capacity(points);
    for s in 0..points {
        let t = lo + (hi - lo) * s as f64 / (points - 1) as f64;
        // The KPI end is attained exactly by d_k; solving there would sit on the edge of
        // feasibility, so it is taken as is.
        let (d, lambda) = if s == points - 1 {
            (d_k.clone(), vec![0.0; others.len()])
        } else {
            let mut cons = constraints(p, Some(j));
            cons.push(Linear {
                a: gk.clone(),
                c: t,
                name: g.name.clone(),
            });
            let (d, lam) = solve_socp(&l, &v, &cons, p.radius)?;
            (d, lam[..others.len()].to_vec())
        };
        let mults: Vec<(usize, f64)> = other_idx.iter().copied().zip(lambda).collect();
        let c = score(p, &d, normalise(&weights_of(&l, &d), anchor), Some(&mults));
        out.push(ParetoPoint {
            value_change: c.value_change,
            kpi_change: o * gk.dot(&d),
            weights: c.weights,
            binding: c
                .guardrails
                .iter()
                .filter(|x| x.binding)
                .map(|x| x.name.clone())
                .collect(),
        });
    }
    Ok(Pareto {
        kpi: kpi.to_string(),
        lower_is_better: g.lower_is_better,
        signals: p.signals.clone(),
        points: out,
    })
}

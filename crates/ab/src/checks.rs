//! Checks and decisions: sample-ratio mismatch, guardrail non-inferiority, and a
//! ship / don't-ship / inconclusive verdict.
//!
//! - **SRM**: Pearson's chi-square goodness of fit of the arm counts to the planned split,
//!   `χ² = Σ (O − E)²/E` on k − 1 degrees of freedom (Fabijan et al. 2019, "Diagnosing sample
//!   ratio mismatch in online controlled experiments", KDD).
//! - **Non-inferiority** of a guardrail with margin δ ≥ 0 (in the lift's units): when higher is
//!   better, H₀: lift ≤ −δ against H₁: lift > −δ, `p = P(T > (lift + δ)/se)`; when lower is
//!   better, H₀: lift ≥ δ, `p = P(T < (lift − δ)/se)`.
//! - **Verdict**, following the decision rule for a success metric plus guardrails of
//!   Schultzberg, Ankargren & Frånberg (2024), "Risk-aware product decisions in A/B tests with
//!   multiple metrics" (arXiv:2402.11609): *ship* when the primary metric improves
//!   significantly and every guardrail is shown non-inferior; *don't ship* when the primary
//!   metric or any guardrail is significantly worse (two-sided test); otherwise
//!   *inconclusive*. A failed SRM check makes the verdict inconclusive: the data are suspect.

use crate::frequentist::{invalid, Lift};
use causalkit_stats::dist::{chi2_sf, t_sf};
use causalkit_stats::Result;
use serde::{Deserialize, Serialize};

/// Result of a sample-ratio-mismatch test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Srm {
    /// Observed counts.
    pub observed: Vec<f64>,
    /// Expected counts under the planned split.
    pub expected: Vec<f64>,
    /// Pearson's statistic.
    pub chi2: f64,
    /// Degrees of freedom, k − 1.
    pub df: f64,
    /// Upper-tail p-value.
    pub p_value: f64,
}

/// Pearson chi-square test of `counts` against the planned `ratios` (any positive weights,
/// normalised).
///
/// ```
/// // Reference case 8: 5000 vs 5200 against 50/50 gives chi2 3.9216, p 0.0476704.
/// let s = causalkit_ab::checks::srm(&[5000.0, 5200.0], &[1.0, 1.0]).unwrap();
/// assert!((s.chi2 - 3.9216).abs() < 1e-4 && (s.p_value - 0.0476704).abs() < 1e-7);
/// ```
pub fn srm(counts: &[f64], ratios: &[f64]) -> Result<Srm> {
    if counts.len() != ratios.len() {
        return Err(invalid(
            "ratios",
            format!("{} planned shares for {} arms", ratios.len(), counts.len()),
        ));
    }
    if counts.len() < 2 {
        return Err(invalid("counts", "an SRM test needs at least two arms"));
    }
    if let Some(r) = ratios.iter().find(|r| !(r.is_finite() && **r > 0.0)) {
        return Err(invalid(
            "ratios",
            format!("planned shares must be positive, got {r}"),
        ));
    }
    if let Some(c) = counts.iter().find(|c| !(c.is_finite() && **c >= 0.0)) {
        return Err(invalid(
            "counts",
            format!("counts must be non-negative, got {c}"),
        ));
    }
    let total: f64 = counts.iter().sum();
    if total <= 0.0 {
        return Err(invalid("counts", "all counts are zero"));
    }
    let rs: f64 = ratios.iter().sum();
    let expected: Vec<f64> = ratios.iter().map(|r| total * r / rs).collect();
    let chi2: f64 = counts
        .iter()
        .zip(&expected)
        .map(|(o, e)| (o - e).powi(2) / e)
        .sum();
    let df = (counts.len() - 1) as f64;
    Ok(Srm {
        observed: counts.to_vec(),
        expected,
        chi2,
        df,
        p_value: chi2_sf(chi2, df)?,
    })
}

/// Which direction of a metric is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Larger values are better (conversion, FCR, CSAT).
    HigherIsBetter,
    /// Smaller values are better (handle time, repeat contacts).
    LowerIsBetter,
}

/// One-sided non-inferiority p-value of a lift with margin `margin` ≥ 0 (module docs).
pub fn non_inferiority_p(lift: &Lift, margin: f64, direction: Direction) -> Result<f64> {
    if !(margin.is_finite() && margin >= 0.0) {
        return Err(invalid(
            "margin",
            format!("a non-inferiority margin must be finite and non-negative, got {margin}"),
        ));
    }
    if lift.std_error <= 0.0 {
        return Err(invalid(
            "std_error",
            "the lift has no standard error; non-inferiority cannot be tested",
        ));
    }
    let t = match direction {
        Direction::HigherIsBetter => (lift.estimate + margin) / lift.std_error,
        Direction::LowerIsBetter => (margin - lift.estimate) / lift.std_error,
    };
    if lift.df.is_infinite() {
        Ok(causalkit_stats::dist::normal_sf(t))
    } else {
        t_sf(t, lift.df)
    }
}

/// The decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Primary metric significantly better, guardrails non-inferior.
    Ship,
    /// Primary metric or a guardrail significantly worse.
    DontShip,
    /// Neither.
    Inconclusive,
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Decision::Ship => "ship",
            Decision::DontShip => "don't ship",
            Decision::Inconclusive => "inconclusive",
        })
    }
}

/// A guardrail's test outcome, as fed to [`verdict`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardrailCheck {
    /// Metric name.
    pub metric: String,
    /// The lift tested (with the margin on the same scale).
    pub lift: Lift,
    /// Good direction.
    pub direction: Direction,
    /// Non-inferiority margin.
    pub margin: f64,
    /// One-sided non-inferiority p-value.
    pub non_inferiority_p: f64,
}

/// The verdict with its reasons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The decision.
    pub decision: Decision,
    /// Why, in words, one line per rule that fired.
    pub reasons: Vec<String>,
}

/// `= 0.0123`, or `< 0.0001` for tiny p-values (never `= 0.0000`).
fn pv(p: f64) -> String {
    let f = causalkit_stats::fmt_p_value(p);
    if f.starts_with('<') {
        f
    } else {
        format!("= {f}")
    }
}

fn significantly(lift: &Lift, alpha: f64, direction: Direction) -> (bool, bool) {
    let sig = lift.p_value < alpha;
    let good = match direction {
        Direction::HigherIsBetter => lift.estimate > 0.0,
        Direction::LowerIsBetter => lift.estimate < 0.0,
    };
    (sig && good, sig && !good)
}

/// Decides from the primary metric's lift (two-sided p-value at `alpha`), the guardrail
/// checks (non-inferiority at `alpha`) and, optionally, the SRM p-value (checked at
/// `srm_alpha`). See the module docs for the rule.
pub fn verdict(
    primary_name: &str,
    primary: &Lift,
    primary_direction: Direction,
    guardrails: &[GuardrailCheck],
    alpha: f64,
    srm_p: Option<f64>,
    srm_alpha: f64,
) -> Verdict {
    let mut reasons = Vec::new();
    if !(primary.std_error > 0.0 && primary.p_value.is_finite()) {
        reasons.push(format!(
            "primary metric {primary_name}: both arms have zero variance, so no inference is possible"
        ));
        return Verdict {
            decision: Decision::Inconclusive,
            reasons,
        };
    }
    let (better, worse) = significantly(primary, alpha, primary_direction);
    let mut harmed = false;
    let mut all_ni = true;
    for g in guardrails {
        let (_, g_worse) = significantly(&g.lift, alpha, g.direction);
        if g_worse {
            harmed = true;
            reasons.push(format!(
                "guardrail {} is significantly worse (p {})",
                g.metric,
                pv(g.lift.p_value)
            ));
        }
        if g.non_inferiority_p >= alpha {
            all_ni = false;
            if !g_worse {
                reasons.push(format!(
                    "guardrail {} is not shown non-inferior at margin {} (p {})",
                    g.metric,
                    g.margin,
                    pv(g.non_inferiority_p)
                ));
            }
        } else {
            reasons.push(format!(
                "guardrail {} is non-inferior at margin {} (p {})",
                g.metric,
                g.margin,
                pv(g.non_inferiority_p)
            ));
        }
    }
    if better {
        reasons.push(format!(
            "primary metric {primary_name} improved significantly (p {})",
            pv(primary.p_value)
        ));
    } else if worse {
        reasons.push(format!(
            "primary metric {primary_name} is significantly worse (p {})",
            pv(primary.p_value)
        ));
    } else {
        reasons.push(format!(
            "primary metric {primary_name} shows no significant change (p {})",
            pv(primary.p_value)
        ));
    }
    if let Some(p) = srm_p {
        if p < srm_alpha {
            reasons.insert(
                0,
                format!("sample ratio mismatch (p = {p:.3e} < {srm_alpha}): the assignment is suspect, fix it before deciding"),
            );
            return Verdict {
                decision: Decision::Inconclusive,
                reasons,
            };
        }
    }
    let decision = if worse || harmed {
        Decision::DontShip
    } else if better && all_ni {
        Decision::Ship
    } else {
        Decision::Inconclusive
    };
    Verdict { decision, reasons }
}

/// Multiple-testing adjustment within families: `family[i]` names the family of `p[i]` (for
/// example the metric and lift type when the scope is "segments", or one family for
/// everything when the scope is "metrics, arms and segments"); p-values are adjusted with
/// `method` within each family and returned in input order.
pub fn adjust_within_families(
    p: &[f64],
    family: &[String],
    method: causalkit_stats::Adjustment,
) -> Result<Vec<f64>> {
    if p.len() != family.len() {
        return Err(causalkit_stats::StatsError::LengthMismatch {
            what: "family".into(),
            got: family.len(),
            expected: p.len(),
        });
    }
    let mut out = vec![0.0; p.len()];
    let mut keys: Vec<&String> = family.iter().collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let idx: Vec<usize> = (0..p.len()).filter(|&i| &family[i] == k).collect();
        let sub: Vec<f64> = idx.iter().map(|&i| p[i]).collect();
        let adj = causalkit_stats::adjust_p_values(&sub, method)?;
        for (j, &i) in idx.iter().enumerate() {
            out[i] = adj[j];
        }
    }
    Ok(out)
}

//! The words and numbers of the report: the one number formatter, the sentences about
//! effects, the headline, the diagnostic checks and the method -> papers table.
//!
//! Every number the report prints about an effect goes through [`fmt_number`] (or
//! [`fmt_percent`] for relative lifts, which is `fmt_number` of the value times 100), so the
//! table, the prose and the headline can never disagree: they format the same `f64` the same
//! way.

use causalkit_stats::{fmt_p_value, fmt_value, Effect, EffectKind, EstimationResult};

/// `x` rounded to 12 significant decimals (so `(1 - 0.05) * 100` prints as `95`).
fn round12(x: f64) -> f64 {
    format!("{x:.12e}").parse().unwrap_or(x)
}
use serde_json::Value;

/// Significant digits of every effect number in the report.
pub const SIGNIFICANT_DIGITS: usize = 4;

/// The report's one number formatter: four significant digits, plain notation for
/// magnitudes in `[1e-4, 1e9)`, scientific (`1.235e-7`) otherwise; `-0` prints as `0`;
/// NaN and infinities as `NaN`, `Inf`, `-Inf`.
pub fn fmt_number(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Inf".into() } else { "-Inf".into() };
    }
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    // Round to the significant digits first, so a carry (9.99996 -> 10.00) is counted.
    let rounded: f64 = format!("{a:.prec$e}", prec = SIGNIFICANT_DIGITS - 1)
        .parse()
        .unwrap_or(a);
    let s = if (1e-4..1e9).contains(&rounded) {
        let magnitude = rounded.log10().floor() as i32;
        let decimals = (SIGNIFICANT_DIGITS as i32 - 1 - magnitude).max(0) as usize;
        format!("{x:.decimals$}")
    } else {
        format!("{x:.prec$e}", prec = SIGNIFICANT_DIGITS - 1)
    };
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| matches!(c, '0' | '.')) => rest.to_string(),
        _ => s,
    }
}

/// A relative lift as a percentage: [`fmt_number`] of `x * 100` followed by `%`.
pub fn fmt_percent(x: f64) -> String {
    format!("{}%", fmt_number(x * 100.0))
}

/// The direction of an effect as the prose states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The estimate is positive.
    Rose,
    /// The estimate is negative.
    Fell,
    /// The estimate is zero (or rounds to zero at the report's precision).
    Unchanged,
    /// Not a change but a level (a metric such as a Qini coefficient): the sentence states
    /// the signed value.
    Level,
}

/// One generated sentence about one effect, with the parts a test checks against the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Sentence {
    /// Index of the effect in `EstimationResult::effects`.
    pub effect: usize,
    /// The direction the sentence states.
    pub direction: Direction,
    /// The number as printed in the sentence: [`fmt_estimate`] of |estimate| for changes,
    /// of the signed estimate for levels ([`Direction::Level`]).
    pub magnitude: String,
    /// The whole sentence.
    pub text: String,
}

/// Whether an effect is a relative lift (printed as a percentage).
pub fn is_relative(e: &Effect) -> bool {
    e.key.kind == Some(EffectKind::Relative)
}

/// The estimate as the table prints it: [`fmt_percent`] for relative lifts, otherwise
/// [`fmt_number`].
pub fn fmt_estimate(e: &Effect, x: f64) -> String {
    if is_relative(e) {
        fmt_percent(x)
    } else {
        fmt_number(x)
    }
}

/// What the effect is about, for prose: the metric (with segment and arm when set) or the
/// label.
pub fn subject(e: &Effect) -> String {
    match &e.key.metric {
        Some(m) => {
            let mut s = m.clone();
            if let Some(seg) = e.key.segment.as_deref().filter(|s| *s != "all") {
                s += &format!(" in segment {seg}");
            }
            if let (Some(arm), Some(ctl)) = (&e.key.arm, &e.key.control) {
                s += &format!(" ({arm} vs {ctl})");
            }
            s
        }
        None => e.label.clone(),
    }
}

/// Whether an effect is a change caused by a treatment (a contrast, ATT, coefficient, gap,
/// ...) rather than a level such as an evaluation metric: true when its kind is set and is
/// not [`EffectKind::Posterior`] or [`EffectKind::Other`].
pub fn is_change(e: &Effect) -> bool {
    !matches!(
        e.key.kind,
        None | Some(EffectKind::Posterior | EffectKind::Other)
    )
}

/// The sentence about effect `index` of `result`, e.g. "aht (treatment vs control) fell by
/// 28.29 (95% CI -33.42 to -23.16; p < 0.0001)."
///
/// The magnitude is [`fmt_estimate`] of |estimate| — the same formatter as the table — and the
/// direction is the sign of the estimate *as printed*: a value that rounds to 0 is
/// "unchanged".
pub fn sentence(result: &EstimationResult, index: usize) -> Option<Sentence> {
    let e = result.effects.get(index)?;
    if !e.estimate.is_finite() {
        return None;
    }
    let what = if is_relative(e) {
        format!("{} (relative)", subject(e))
    } else {
        subject(e)
    };
    if !is_change(e) {
        let magnitude = fmt_estimate(e, e.estimate);
        return Some(Sentence {
            effect: index,
            direction: Direction::Level,
            text: format!("{what} = {magnitude}."),
            magnitude,
        });
    }
    let magnitude = fmt_estimate(e, e.estimate.abs());
    let printed_zero = magnitude.trim_end_matches('%') == "0";
    let direction = if printed_zero {
        Direction::Unchanged
    } else if e.estimate > 0.0 {
        Direction::Rose
    } else {
        Direction::Fell
    };
    let mut text = match direction {
        Direction::Rose => format!("{what} rose by {magnitude}"),
        Direction::Fell => format!("{what} fell by {magnitude}"),
        _ => format!("{what} was unchanged at this precision (0)"),
    };
    let mut extra = Vec::new();
    if let (Some(lo), Some(hi)) = (e.ci_low, e.ci_high) {
        extra.push(format!(
            "{} CI {} to {}",
            level_text(result),
            fmt_estimate(e, lo),
            fmt_estimate(e, hi)
        ));
    }
    if let Some(p) = e.p_value {
        let p = fmt_p_value(p);
        extra.push(if p.starts_with('<') {
            format!("p {p}")
        } else {
            format!("p = {p}")
        });
    }
    if !extra.is_empty() {
        text += &format!(" ({})", extra.join("; "));
    }
    text.push('.');
    Some(Sentence {
        effect: index,
        direction,
        magnitude,
        text,
    })
}

/// "95%" from the result's `alpha` diagnostic (95% when absent).
pub fn level_text(result: &EstimationResult) -> String {
    let alpha = result
        .diagnostics
        .get("alpha")
        .and_then(Value::as_f64)
        .filter(|a| *a > 0.0 && *a < 1.0)
        .unwrap_or(0.05);
    format!("{}%", fmt_value(round12((1.0 - alpha) * 100.0)))
}

/// The effect the headline states when the result has no verdict: the primary metric's
/// absolute effect for A/B results (diagnostic `primary`), else the first overall ATT, else
/// the first effect with an interval, else the first effect.
pub fn primary_effect(result: &EstimationResult) -> Option<usize> {
    let fx = &result.effects;
    let primary = result.diagnostics.get("primary").and_then(Value::as_str);
    if let Some(p) = primary {
        if let Some(i) = fx.iter().position(|e| {
            e.key.metric.as_deref() == Some(p)
                && e.key.kind == Some(EffectKind::Absolute)
                && e.key.segment.as_deref().is_none_or(|s| s == "all")
        }) {
            return Some(i);
        }
    }
    fx.iter()
        .position(|e| e.key.kind == Some(EffectKind::Att))
        .or_else(|| {
            fx.iter()
                .position(|e| e.key.kind == Some(EffectKind::Absolute))
        })
        .or_else(|| fx.iter().position(|e| e.ci_low.is_some()))
        .or(if fx.is_empty() { None } else { Some(0) })
}

/// Status of one diagnostic check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// The check failed: the numbers should not be acted on before it is understood.
    Failed,
    /// A warning a reviewer should read.
    Warning,
    /// The check passed.
    Passed,
}

/// One diagnostic check shown under the headline.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// Failed, warning or passed.
    pub status: Status,
    /// The check in words, with its numbers.
    pub text: String,
}

/// The checks a reviewer must see: every warning of the result, the sample-ratio-mismatch
/// test (failed below its `alpha`, else a top-level `srm_alpha`, default 0.001), guardrails (failed when non-inferiority is
/// not shown at `alpha`) and pre-trend tests (`pretrend_test`, `pre_test`: warning below
/// `alpha`). Failed checks come first, then warnings, then passed checks.
pub fn checks(result: &EstimationResult) -> Vec<Check> {
    let d = &result.diagnostics;
    let alpha = d.get("alpha").and_then(Value::as_f64).unwrap_or(0.05);
    let mut out: Vec<Check> = result
        .warnings
        .iter()
        .map(|w| Check {
            status: Status::Warning,
            text: w.clone(),
        })
        .collect();
    if let Some(srm) = d.get("srm").and_then(Value::as_object) {
        if let Some(p) = srm.get("p_value").and_then(Value::as_f64) {
            let srm_alpha = srm
                .get("alpha")
                .or_else(|| d.get("srm_alpha"))
                .and_then(Value::as_f64)
                .unwrap_or(0.001);
            let failed = p < srm_alpha;
            out.push(Check {
                status: if failed {
                    Status::Failed
                } else {
                    Status::Passed
                },
                text: format!(
                    "sample ratio mismatch (SRM) check: p = {} ({} at threshold {})",
                    fmt_p_value(p),
                    if failed {
                        "the split differs from the plan"
                    } else {
                        "no mismatch"
                    },
                    fmt_value(srm_alpha)
                ),
            });
        }
    }
    if let Some(gs) = d.get("guardrails").and_then(Value::as_array) {
        for g in gs {
            let (Some(m), Some(p)) = (
                g.get("metric").and_then(Value::as_str),
                g.get("non_inferiority_p").and_then(Value::as_f64),
            ) else {
                continue;
            };
            let ok = p < alpha;
            out.push(Check {
                status: if ok { Status::Passed } else { Status::Failed },
                text: format!(
                    "guardrail {m}: non-inferiority {} (p = {}, margin {})",
                    if ok { "shown" } else { "not shown" },
                    fmt_p_value(p),
                    g.get("margin")
                        .and_then(Value::as_f64)
                        .map(fmt_value)
                        .unwrap_or_else(|| "n/a".into())
                ),
            });
        }
    }
    if super::attribution::is_attribution(result) {
        out.extend(super::attribution::attribution_checks(result, alpha));
    }
    for key in ["pretrend_test", "pre_test", "pretrend"] {
        if let Some(p) = d
            .get(key)
            .and_then(|v| v.get("p_value"))
            .and_then(Value::as_f64)
        {
            let bad = p < alpha;
            out.push(Check {
                status: if bad { Status::Warning } else { Status::Passed },
                text: format!(
                    "pre-trend test: p = {} ({})",
                    fmt_p_value(p),
                    if bad {
                        "pre-treatment effects differ from zero: parallel trends are doubtful"
                    } else {
                        "no evidence against parallel trends"
                    }
                ),
            });
        }
    }
    out.sort_by_key(|c| c.status);
    out
}

/// Tone of the headline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// A positive decision with every check passed.
    Good,
    /// A negative decision.
    Bad,
    /// A failed check gates the decision, or the headline is a plain estimate.
    Caution,
    /// A plain estimate with no failed check.
    Neutral,
}

/// The headline: one line and its supporting sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct Headline {
    /// The main line (the verdict, or the primary effect's sentence).
    pub title: String,
    /// Reasons or the primary effect sentence under the title.
    pub details: Vec<String>,
    /// Colour of the headline box.
    pub tone: Tone,
    /// The effect the headline sentence states, if any.
    pub effect: Option<Sentence>,
    /// For a release attribution: the money of the top value node (the title states it).
    pub money: Option<super::attribution::MoneyHeadline>,
}

/// The headline of a result, gated by its diagnostics: the verdict (A/B) with its reasons,
/// or for results without a verdict the primary effect's sentence; when a check failed, the
/// headline says so first and its tone is [`Tone::Caution`].
pub fn headline(result: &EstimationResult) -> Headline {
    let failed: Vec<String> = checks(result)
        .into_iter()
        .filter(|c| c.status == Status::Failed)
        .map(|c| c.text)
        .collect();
    let effect = primary_effect(result).and_then(|i| sentence(result, i));
    let verdict = result.diagnostics.get("verdict").and_then(Value::as_str);
    let mut details = Vec::new();
    let money = if super::attribution::is_attribution(result) {
        super::attribution::money_headline(result, &level_text(result))
    } else {
        None
    };
    if let Some((title, details)) = super::attribution::errors_headline(result, &level_text(result))
    {
        return Headline {
            title,
            details,
            tone: Tone::Neutral,
            effect: None,
            money: None,
        };
    }
    let (title, mut tone) = match (&money, verdict) {
        (Some(m), v) => {
            details.push(format!(
                "value node {} ({} per {}; the money table below)",
                m.node,
                if m.horizon == "annual" {
                    "annualised"
                } else {
                    "change"
                },
                if m.horizon == "annual" {
                    "year".to_string()
                } else {
                    super::attribution::money_period(result)
                }
            ));
            if let Some(v) = v {
                details.push(format!("Verdict: {v}"));
            }
            let tone = match v {
                Some(v) if v.contains("the release pays") => Tone::Good,
                Some(v) if v.contains("the release costs") => Tone::Bad,
                _ => Tone::Neutral,
            };
            (m.text.clone(), tone)
        }
        (None, verdict) => match verdict {
            Some(v) => {
                if let Some(rs) = result
                    .diagnostics
                    .get("verdict_reasons")
                    .and_then(Value::as_array)
                {
                    details.extend(rs.iter().filter_map(|r| r.as_str().map(String::from)));
                }
                if let Some(s) = &effect {
                    details.push(s.text.clone());
                }
                let lower = v.to_ascii_lowercase();
                let tone = if lower.starts_with("ship") {
                    Tone::Good
                } else if lower.contains("don't")
                    || lower.contains("do not")
                    || lower.contains("no ship")
                {
                    Tone::Bad
                } else {
                    Tone::Neutral
                };
                (format!("Verdict: {v}"), tone)
            }
            None => match &effect {
                Some(s) => (s.text.clone(), Tone::Neutral),
                None => (
                    format!("{}: no effects reported", result.method),
                    Tone::Neutral,
                ),
            },
        },
    };
    if !failed.is_empty() {
        tone = Tone::Caution;
        let mut d = vec![format!(
            "Do not act on this result before the failed check{} below {} understood.",
            if failed.len() > 1 { "s" } else { "" },
            if failed.len() > 1 { "are" } else { "is" }
        )];
        d.extend(details);
        details = d;
    }
    Headline {
        title,
        details,
        tone,
        effect,
        money,
    }
}

/// Papers behind a method, matched on words of `EstimationResult::method` (case-insensitive).
/// Estimators add a row here when they add a method name.
const PAPERS: &[(&str, &str)] = &[
    ("welch", "Welch, B. L. (1947). The generalization of Student's problem when several different population variances are involved. Biometrika 34(1/2)."),
    ("delta method", "Deng, A., Knoblich, U. and Lu, J. (2018). Applying the delta method in metric analytics. KDD 2018."),
    ("cuped", "Deng, A., Xu, Y., Kohavi, R. and Walker, T. (2013). Improving the sensitivity of online controlled experiments by utilizing pre-experiment data. WSDM 2013."),
    ("a/b test", "Kohavi, R., Tang, D. and Xu, Y. (2020). Trustworthy Online Controlled Experiments. Cambridge University Press."),
    ("callaway", "Callaway, B. and Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time periods. Journal of Econometrics 225(2)."),
    ("sun-abraham", "Sun, L. and Abraham, S. (2021). Estimating dynamic treatment effects in event studies with heterogeneous treatment effects. Journal of Econometrics 225(2)."),
    ("sun and abraham", "Sun, L. and Abraham, S. (2021). Estimating dynamic treatment effects in event studies with heterogeneous treatment effects. Journal of Econometrics 225(2)."),
    ("imputation", "Borusyak, K., Jaravel, X. and Spiess, J. (2024). Revisiting event-study designs: robust and efficient estimation. Review of Economic Studies 91(6)."),
    ("twfe", "Angrist, J. D. and Pischke, J.-S. (2009). Mostly Harmless Econometrics, ch. 5. Princeton University Press."),
    ("event study", "Freyaldenhoven, S., Hansen, C., Pérez Pérez, J. and Shapiro, J. M. (2021). Visualization, identification, and estimation in the linear panel event-study design. NBER WP 29170."),
    ("synthetic difference", "Arkhangelsky, D., Athey, S., Hirshberg, D. A., Imbens, G. W. and Wager, S. (2021). Synthetic difference-in-differences. American Economic Review 111(12)."),
    ("synthetic control", "Abadie, A., Diamond, A. and Hainmueller, J. (2010). Synthetic control methods for comparative case studies. JASA 105(490)."),
    ("augmented", "Ben-Michael, E., Feller, A. and Rothstein, J. (2021). The augmented synthetic control method. JASA 116(536)."),
    ("uplift", "Gutierrez, P. and Gérardy, J.-Y. (2017). Causal inference and uplift modelling: a review of the literature. PMLR 67."),
    ("qini", "Radcliffe, N. J. (2007). Using control groups to target on predicted lift. Direct Marketing Analytics Journal."),
    ("forest", "Rzepakowski, P. and Jaroszewicz, S. (2012). Decision trees for uplift modeling with single and multiple treatments. Knowledge and Information Systems 32."),
    ("brodersen", "Brodersen, K. H., Gallusser, F., Koehler, J., Remy, N. and Scott, S. L. (2015). Inferring causal impact using Bayesian structural time-series models. Annals of Applied Statistics 9(1)."),
    ("kitagawa", "Kitagawa, E. M. (1955). Components of a difference between two rates. JASA 50(272)."),
    ("surrogate index", "Athey, S., Chetty, R., Imbens, G. W. and Kang, H. (2019). The surrogate index: combining short-term proxies to estimate long-term treatment effects more rapidly and precisely. NBER WP 26463."),
    ("clarabel", "Goulart, P. J. and Chen, Y. (2024). Clarabel: an interior-point solver for conic programs with quadratic objectives. arXiv:2405.12762."),
    ("ols", "White, H. (1980). A heteroskedasticity-consistent covariance matrix estimator. Econometrica 48(4)."),
];

/// The papers a method rests on (deduplicated, in table order), from words of its name.
pub fn papers(method: &str) -> Vec<&'static str> {
    let m = method.to_ascii_lowercase();
    let mut out: Vec<&'static str> = Vec::new();
    for (word, paper) in PAPERS {
        if m.contains(word) && !out.contains(paper) {
            out.push(paper);
        }
    }
    out
}

/// The papers behind a result: [`papers`] of its method, plus CUPED's paper when the
/// diagnostics show a CUPED adjustment (`cuped_*` keys at any depth) and the surrogate
/// index's when they state the surrogacy assumption (a reward evaluation with a calibration).
pub fn papers_for(result: &EstimationResult) -> Vec<&'static str> {
    let mut out = papers(&result.method);
    fn has_cuped(v: &Value) -> bool {
        match v {
            Value::Object(m) => m
                .iter()
                .any(|(k, x)| k.starts_with("cuped") || has_cuped(x)),
            Value::Array(xs) => xs.iter().any(has_cuped),
            _ => false,
        }
    }
    let done = |k: &str| {
        result
            .diagnostics
            .get(k)
            .is_some_and(|v| v.is_object() && v.get("status").is_none())
    };
    if done("cumulative") && result.diagnostics["cumulative"].get("points").is_some() {
        push_new(&mut out, "brodersen");
    }
    if done("decomposition") {
        push_new(&mut out, "kitagawa");
    }
    if result.diagnostics.contains_key("surrogacy_assumption") {
        push_new(&mut out, "surrogate index");
    }
    if result
        .diagnostics
        .iter()
        .any(|(k, v)| k.starts_with("cuped") || has_cuped(v))
    {
        for p in papers("cuped") {
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

fn push_new(out: &mut Vec<&'static str>, word: &str) {
    for p in papers(word) {
        if !out.contains(&p) {
            out.push(p);
        }
    }
}

/// The variance estimator as the result's diagnostics state it (`vcov`, `se_type`,
/// `se_method`, `variance`, `inference`, `covariance_source`), if any.
pub fn variance_estimator(result: &EstimationResult) -> Option<String> {
    [
        "vcov",
        "se_type",
        "se_method",
        "variance",
        "inference",
        "covariance_source",
    ]
    .iter()
    .find_map(|k| result.diagnostics.get(*k))
    .map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

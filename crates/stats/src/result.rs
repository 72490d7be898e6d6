//! The common result shape every causalkit estimator produces.
//!
//! Every estimator's fitted type converts into an [`EstimationResult`], which serialises to one
//! JSON object:
//!
//! ```json
//! {"method": "...", "estimand": "...",
//!  "effects": [{"label": "...", "estimate": 0.0, "std_error": 0.0,
//!               "ci_low": 0.0, "ci_high": 0.0, "p_value": 0.0}],
//!  "diagnostics": {...}, "warnings": ["..."]}
//! ```
//!
//! and renders as a human summary table ([`EstimationResult::to_table`]) in the spirit of
//! statsmodels / pyfixest summaries, or as tidy CSV ([`EstimationResult::to_csv`]).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt::Write as _;

/// One estimated quantity with its uncertainty.
///
/// `std_error`, `ci_low`, `ci_high` and `p_value` are `None` where the method does not define
/// them (for example a point estimate without inference); they serialise as JSON `null`, never
/// as `NaN`.
///
/// `label` is for display only: code that needs to know *what* an effect is (which metric,
/// segment, arm, cohort, event time, ...) reads the typed [`EffectKey`] in `key`, whose set
/// fields are serialised next to the label (`"metric": "aht", "kind": "relative"`) and
/// omitted when unset, so the JSON keeps its six common fields and gains the keys.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Effect {
    /// What the number is, e.g. `"treated"`, `"ATT(2004,2006)"`, `"relative lift: csat"`.
    pub label: String,
    /// The point estimate.
    pub estimate: f64,
    /// Standard error of the estimate.
    pub std_error: Option<f64>,
    /// Lower end of the confidence interval.
    pub ci_low: Option<f64>,
    /// Upper end of the confidence interval.
    pub ci_high: Option<f64>,
    /// p-value of the test that the estimand is zero (or the method's stated null).
    pub p_value: Option<f64>,
    /// Typed description of the estimand (metric, segment, arm, kind, cohort, period, ...).
    #[serde(flatten)]
    pub key: EffectKey,
}

/// What kind of quantity an [`Effect`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EffectKind {
    /// Absolute difference (treatment minus control), in the metric's units.
    Absolute,
    /// Relative difference (treatment / control - 1).
    Relative,
    /// A regression coefficient (`term` names it).
    Coefficient,
    /// An overall average treatment effect on the treated.
    Att,
    /// ATT(g, t) of one cohort `group` in one period `time`.
    GroupTime,
    /// An aggregate over one cohort (`group`).
    Group,
    /// An aggregate over one calendar period (`time`).
    Calendar,
    /// An event-study (dynamic) effect at `event_time` periods since adoption.
    EventTime,
    /// A per-period gap between a treated unit and its synthetic control (`time`).
    Gap,
    /// A Bayesian posterior summary (chance to win, expected loss, credible interval).
    Posterior,
    /// A quantile treatment effect.
    Quantile,
    /// Anything else (the label says what).
    Other,
}

/// Typed keys of an [`Effect`]: each applies where the estimator has it, `None` elsewhere.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EffectKey {
    /// The metric / KPI / outcome the effect is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    /// The segment (post-stratum, subgroup) the effect is restricted to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// The treatment arm compared with the control (A/B, uplift), or the treated unit (synth).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arm: Option<String>,
    /// The reference arm of the contrast.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
    /// What kind of quantity this is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<EffectKind>,
    /// The regression term (for coefficients).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term: Option<String>,
    /// The adoption cohort g (first treated period).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<i64>,
    /// The calendar period t.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<i64>,
    /// Periods relative to adoption (e = t - g).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_time: Option<i64>,
    /// The interval or variant the row reports when one estimand is given several ways
    /// (e.g. `"fieller"`, `"delta"`, `"sequential"`, `"wild_bootstrap"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl EffectKey {
    /// A key with only the kind set.
    pub fn kind(kind: EffectKind) -> Self {
        EffectKey {
            kind: Some(kind),
            ..Default::default()
        }
    }

    /// Sets the metric (builder style).
    pub fn metric(mut self, metric: impl Into<String>) -> Self {
        self.metric = Some(metric.into());
        self
    }

    /// Sets the segment (builder style).
    pub fn segment(mut self, segment: impl Into<String>) -> Self {
        self.segment = Some(segment.into());
        self
    }

    /// Sets the treatment arm and its control (builder style).
    pub fn contrast(mut self, arm: impl Into<String>, control: impl Into<String>) -> Self {
        self.arm = Some(arm.into());
        self.control = Some(control.into());
        self
    }

    /// Sets the regression term (builder style).
    pub fn term(mut self, term: impl Into<String>) -> Self {
        self.term = Some(term.into());
        self
    }

    /// Sets the cohort g (builder style).
    pub fn group(mut self, g: i64) -> Self {
        self.group = Some(g);
        self
    }

    /// Sets the calendar period t (builder style).
    pub fn time(mut self, t: i64) -> Self {
        self.time = Some(t);
        self
    }

    /// Sets the event time e (builder style).
    pub fn event_time(mut self, e: i64) -> Self {
        self.event_time = Some(e);
        self
    }

    /// Sets the variant (builder style).
    pub fn variant(mut self, v: impl Into<String>) -> Self {
        self.variant = Some(v.into());
        self
    }

    /// True when no key is set.
    pub fn is_empty(&self) -> bool {
        *self == EffectKey::default()
    }
}

impl Effect {
    /// An effect with a point estimate only.
    pub fn point(label: impl Into<String>, estimate: f64) -> Self {
        Effect {
            label: label.into(),
            estimate,
            ..Default::default()
        }
    }

    /// Attaches typed keys (builder style).
    pub fn with_key(mut self, key: EffectKey) -> Self {
        self.key = key;
        self
    }
}

/// The common result of any causalkit estimator: method, estimand, labelled effects,
/// method-specific diagnostics and warnings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EstimationResult {
    /// The method, e.g. `"OLS"`, `"TWFE"`, `"Welch t-test"`.
    pub method: String,
    /// The estimand in words, e.g. `"ATT"`, `"difference in means"`.
    pub estimand: String,
    /// The estimated effects, in display order.
    pub effects: Vec<Effect>,
    /// Method-specific diagnostics (sample sizes, variance estimator, iterations, ...).
    pub diagnostics: Map<String, Value>,
    /// Warnings a reviewer should read before trusting the numbers.
    pub warnings: Vec<String>,
}

/// Anything that can be reported in the common result shape.
///
/// Implemented by every fitted estimator type. `summary` defaults to the generic table.
pub trait Report {
    /// The result in the common shape.
    fn result(&self) -> EstimationResult;
    /// A human summary table.
    fn summary(&self) -> String {
        self.result().to_table()
    }
}

impl Report for EstimationResult {
    fn result(&self) -> EstimationResult {
        self.clone()
    }
}

fn fmt_num(x: Option<f64>) -> String {
    match x {
        None => "".to_string(),
        Some(v) if v.is_nan() => "NaN".to_string(),
        Some(v) if v.is_infinite() => {
            if v > 0.0 {
                "Inf".into()
            } else {
                "-Inf".into()
            }
        }
        Some(v) => {
            let a = v.abs();
            if a != 0.0 && !(1e-4..1e7).contains(&a) {
                format!("{v:.4e}")
            } else {
                format!("{v:.6}")
            }
        }
    }
}

fn fmt_p(p: Option<f64>) -> String {
    match p {
        None => "".into(),
        Some(0.0) => "<1e-300".into(),
        Some(p) if p < 1e-4 => format!("{p:.2e}"),
        Some(p) => format!("{p:.4}"),
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl EstimationResult {
    /// A new result with no effects, diagnostics or warnings.
    pub fn new(method: impl Into<String>, estimand: impl Into<String>) -> Self {
        EstimationResult {
            method: method.into(),
            estimand: estimand.into(),
            effects: Vec::new(),
            diagnostics: Map::new(),
            warnings: Vec::new(),
        }
    }

    /// Adds a diagnostic entry (builder style).
    pub fn with_diagnostic(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.diagnostics.insert(key.to_string(), value.into());
        self
    }

    /// The result as a pretty JSON string (the common JSON shape).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("EstimationResult always serialises")
    }

    /// Tidy CSV: a header `label,estimate,std_error,ci_low,ci_high,p_value`, one row per effect.
    pub fn to_csv(&self) -> String {
        let mut s = String::from("label,estimate,std_error,ci_low,ci_high,p_value\n");
        let o = |x: Option<f64>| x.map(|v| format!("{v}")).unwrap_or_default();
        for e in &self.effects {
            let _ = writeln!(
                s,
                "{},{},{},{},{},{}",
                csv_field(&e.label),
                e.estimate,
                o(e.std_error),
                o(e.ci_low),
                o(e.ci_high),
                o(e.p_value)
            );
        }
        s
    }

    /// A human summary table: header with method and estimand, one row per effect
    /// (estimate, std. error, t/z statistic, p-value, CI), then diagnostics and warnings.
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "Method:   {}", self.method);
        let _ = writeln!(s, "Estimand: {}", self.estimand);
        let headers = [
            "",
            "Estimate",
            "Std. Error",
            "t value",
            "Pr(>|t|)",
            "CI low",
            "CI high",
        ];
        let mut rows: Vec<[String; 7]> = Vec::new();
        for e in &self.effects {
            let stat = match e.std_error {
                Some(se) if se > 0.0 => Some(e.estimate / se),
                _ => None,
            };
            rows.push([
                e.label.clone(),
                fmt_num(Some(e.estimate)),
                fmt_num(e.std_error),
                stat.map(|t| format!("{t:.3}")).unwrap_or_default(),
                fmt_p(e.p_value),
                fmt_num(e.ci_low),
                fmt_num(e.ci_high),
            ]);
        }
        let mut widths = headers.map(|h| h.len());
        for r in &rows {
            for (w, c) in widths.iter_mut().zip(r.iter()) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut l = String::new();
            for (i, c) in cells.iter().enumerate() {
                if i == 0 {
                    let _ = write!(l, "{:<w$}", c, w = widths[0]);
                } else {
                    let _ = write!(l, "  {:>w$}", c, w = widths[i]);
                }
            }
            l.trim_end().to_string()
        };
        let total: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
        let rule = "-".repeat(total);
        let _ = writeln!(s, "{rule}");
        let _ = writeln!(s, "{}", line(&headers.map(String::from)));
        let _ = writeln!(s, "{rule}");
        for r in &rows {
            let _ = writeln!(s, "{}", line(r));
        }
        let _ = writeln!(s, "{rule}");
        for (k, v) in &self.diagnostics {
            let v = match v {
                Value::String(t) => t.clone(),
                other => other.to_string(),
            };
            let _ = writeln!(s, "{k}: {v}");
        }
        for w in &self.warnings {
            let _ = writeln!(s, "Warning: {w}");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> EstimationResult {
        let mut r = EstimationResult::new("OLS", "coefficient").with_diagnostic("n", 10);
        r.effects.push(Effect {
            label: "x, with comma".into(),
            estimate: 1.5,
            std_error: Some(0.5),
            ci_low: Some(0.5),
            ci_high: Some(2.5),
            p_value: Some(0.01),
            key: EffectKey::kind(EffectKind::Coefficient).term("x"),
        });
        r.effects.push(Effect::point("y", 2.0));
        r.warnings.push("small sample".into());
        r
    }

    #[test]
    fn json_has_the_common_shape_and_null_for_missing_inference() {
        let v: Value = serde_json::from_str(&sample().to_json()).unwrap();
        for key in ["method", "estimand", "effects", "diagnostics", "warnings"] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        let e0 = &v["effects"][0];
        for key in [
            "label",
            "estimate",
            "std_error",
            "ci_low",
            "ci_high",
            "p_value",
        ] {
            assert!(e0.get(key).is_some(), "missing effect field {key}");
        }
        assert!(v["effects"][1]["std_error"].is_null());
        // Typed keys sit next to the label; unset keys are omitted.
        assert_eq!(e0["kind"], "coefficient");
        assert_eq!(e0["term"], "x");
        assert!(e0.get("metric").is_none());
        assert!(v["effects"][1].get("kind").is_none());
        let back: EstimationResult = serde_json::from_value(v).unwrap();
        assert_eq!(back, sample());
    }

    #[test]
    fn csv_quotes_labels_and_leaves_missing_empty() {
        let csv = sample().to_csv();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "label,estimate,std_error,ci_low,ci_high,p_value");
        assert_eq!(lines[1], "\"x, with comma\",1.5,0.5,0.5,2.5,0.01");
        assert_eq!(lines[2], "y,2,,,,");
    }

    #[test]
    fn table_shows_statistic_and_warnings() {
        let t = sample().to_table();
        assert!(t.contains("Method:   OLS"));
        assert!(t.contains("3.000"), "t statistic 1.5/0.5 shown: {t}");
        assert!(t.contains("Warning: small sample"));
        assert!(t.contains("n: 10"));
    }
}

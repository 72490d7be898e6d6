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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}

impl Effect {
    /// An effect with a point estimate only.
    pub fn point(label: impl Into<String>, estimate: f64) -> Self {
        Effect {
            label: label.into(),
            estimate,
            std_error: None,
            ci_low: None,
            ci_high: None,
            p_value: None,
        }
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

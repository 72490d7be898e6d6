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

/// Formats a value the way it was given or stored: the shortest decimal that reads back as the
/// same `f64` (`0.05`, not `0.05000000000000000277`), in plain notation for magnitudes in
/// `[1e-5, 1e16)` and in scientific notation otherwise (`1e-300`, not a 300-digit decimal).
/// Negative zero prints as `0`; NaN and infinities print as `NaN`, `Inf` and `-Inf`.
///
/// Use it for user-given values (alpha, thresholds) and single diagnostics; table columns use
/// one style per column instead.
pub fn fmt_value(x: f64) -> String {
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
    if (1e-5..1e16).contains(&a) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// How every number of one table column is printed.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ColumnStyle {
    /// Fixed notation with this many decimals.
    Fixed(usize),
    /// Scientific notation with four decimals in the mantissa.
    Scientific,
}

impl ColumnStyle {
    /// One style for all `values` of a column: fixed with `decimals` unless the column's
    /// largest magnitude is huge (>= 1e9) or every value is tiny (< 1e-4), where fixed
    /// notation would hide the digits.
    fn for_column(values: impl IntoIterator<Item = f64>, decimals: usize) -> Self {
        let max = values
            .into_iter()
            .filter(|v| v.is_finite())
            .map(f64::abs)
            .fold(0.0_f64, f64::max);
        if max >= 1e9 || (max > 0.0 && max < 1e-4) {
            ColumnStyle::Scientific
        } else {
            ColumnStyle::Fixed(decimals)
        }
    }

    fn format(self, v: f64) -> String {
        if v.is_nan() {
            return "NaN".into();
        }
        if v.is_infinite() {
            return if v > 0.0 { "Inf".into() } else { "-Inf".into() };
        }
        let s = match self {
            ColumnStyle::Fixed(d) => format!("{v:.d$}"),
            ColumnStyle::Scientific => format!("{v:.4e}"),
        };
        strip_negative_zero(s)
    }
}

/// `-0.000000` (a negative number that rounds to zero, or -0.0) prints as `0.000000`.
fn strip_negative_zero(s: String) -> String {
    match s.strip_prefix('-') {
        Some(rest)
            if rest
                .chars()
                .all(|c| matches!(c, '0' | '.' | 'e' | 'E' | '+' | '-')) =>
        {
            rest.to_string()
        }
        _ => s,
    }
}

/// A p-value for display: four decimals, and `< 0.0001` below that (never `0.0000`).
pub fn fmt_p_value(p: f64) -> String {
    if p.is_nan() {
        "NaN".into()
    } else if p < 1e-4 {
        "< 0.0001".into()
    } else {
        format!("{p:.4}")
    }
}

/// A count for JSON: an integer when it is whole and exactly representable (|n| <= 2^53),
/// so unit counts print as `10082`, not `10082.0`; any other value as a number.
pub fn count_value(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_992.0 {
        Value::from(n as i64)
    } else {
        Value::from(n)
    }
}

/// A number in a CSV cell: shortest round-trip form (see [`fmt_value`]), empty when absent.
fn csv_num(x: Option<f64>) -> String {
    x.map(fmt_value).unwrap_or_default()
}

/// Rows beyond this many in a nested diagnostic list are summarised, not printed.
const MAX_NESTED_ROWS: usize = 20;

/// A scalar diagnostic value as text; `None` for objects and arrays.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some("n/a".into()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) => fmt_value(f),
            _ => n.to_string(),
        }),
        Value::String(s) => Some(s.clone()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// Writes one diagnostic as indented text: scalars as `key: value`, objects as an indented
/// block, lists of scalars inline, lists of flat objects as a small table.
fn write_diagnostic(s: &mut String, indent: usize, key: &str, v: &Value) {
    let pad = " ".repeat(indent);
    if let Some(t) = scalar_text(v) {
        let _ = writeln!(s, "{pad}{key}: {t}");
        return;
    }
    match v {
        Value::Object(m) => {
            let _ = writeln!(s, "{pad}{key}:");
            for (k, x) in m {
                write_diagnostic(s, indent + 2, k, x);
            }
        }
        Value::Array(items) => {
            if items.is_empty() {
                let _ = writeln!(s, "{pad}{key}: (none)");
            } else if let Some(texts) = items.iter().map(scalar_text).collect::<Option<Vec<_>>>() {
                let shown = texts.len().min(MAX_NESTED_ROWS * 5);
                let mut line = texts[..shown].join(", ");
                if shown < texts.len() {
                    let _ = write!(line, ", ... ({} values)", texts.len());
                }
                let _ = writeln!(s, "{pad}{key}: {line}");
            } else if let Some(table) = flat_objects_table(items) {
                let _ = writeln!(s, "{pad}{key}:");
                for l in table.lines() {
                    let _ = writeln!(s, "{pad}  {l}");
                }
            } else {
                let _ = writeln!(s, "{pad}{key}:");
                for (i, x) in items.iter().enumerate().take(MAX_NESTED_ROWS) {
                    write_diagnostic(s, indent + 2, &format!("[{i}]"), x);
                }
                if items.len() > MAX_NESTED_ROWS {
                    let _ = writeln!(
                        s,
                        "{pad}  ... ({} entries; --format json shows all)",
                        items.len()
                    );
                }
            }
        }
        _ => {}
    }
}

/// A list of objects whose values are all scalars, as a small aligned table (the keys in
/// first-seen order are the header); `None` when some entry is not such an object.
fn flat_objects_table(items: &[Value]) -> Option<String> {
    let mut header: Vec<String> = Vec::new();
    for it in items {
        let m = it.as_object()?;
        for (k, v) in m {
            scalar_text(v)?;
            if !header.contains(k) {
                header.push(k.clone());
            }
        }
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .take(MAX_NESTED_ROWS)
        .map(|it| {
            let m = it.as_object().expect("checked above");
            header
                .iter()
                .map(|k| m.get(k).and_then(scalar_text).unwrap_or_default())
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                l.push_str("  ");
            }
            let _ = write!(l, "{:>w$}", c, w = widths[i]);
        }
        l.trim_end().to_string()
    };
    let mut out = String::new();
    let _ = writeln!(out, "{}", line(&header));
    for r in &rows {
        let _ = writeln!(out, "{}", line(r));
    }
    if items.len() > MAX_NESTED_ROWS {
        let _ = writeln!(out, "... ({} rows; --format json shows all)", items.len());
    }
    Some(out)
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
    ///
    /// Numbers keep full precision in their shortest round-trip form ([`fmt_value`]; `-0`
    /// prints as `0`), missing values are empty cells. Warnings are not part of the CSV: a
    /// caller prints them separately (the CLI writes them to stderr).
    pub fn to_csv(&self) -> String {
        let mut s = String::from("label,estimate,std_error,ci_low,ci_high,p_value\n");
        for e in &self.effects {
            let _ = writeln!(
                s,
                "{},{},{},{},{},{}",
                csv_field(&e.label),
                fmt_value(e.estimate),
                csv_num(e.std_error),
                csv_num(e.ci_low),
                csv_num(e.ci_high),
                csv_num(e.p_value)
            );
        }
        s
    }

    /// A human summary table: header with method and estimand, one row per effect
    /// (estimate, std. error, t/z statistic, p-value, CI), then diagnostics and warnings.
    ///
    /// Equal to [`EstimationResult::to_table_body`] followed by
    /// [`EstimationResult::warnings_text`].
    pub fn to_table(&self) -> String {
        self.to_table_body() + &self.warnings_text()
    }

    /// The warnings as `Warning: ...` lines (empty when there are none).
    pub fn warnings_text(&self) -> String {
        let mut s = String::new();
        for w in &self.warnings {
            let _ = writeln!(s, "Warning: {w}");
        }
        s
    }

    /// The summary table without the warnings: method and estimand, the effects table, then
    /// the diagnostics.
    ///
    /// Formatting rules: each numeric column uses one style for all its rows (fixed decimals,
    /// or scientific when the column holds huge or only tiny values); p-values print with four
    /// decimals and as `< 0.0001` below that; a negative number that rounds to zero prints
    /// without its sign; the statistic (`t value` = estimate / std. error) is left out for
    /// Bayesian posterior rows ([`EffectKind::Posterior`]); a column that is empty in every
    /// row is not printed. Nested diagnostics (objects and lists) print as indented blocks and
    /// small tables, never as one-line JSON.
    pub fn to_table_body(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "Method:   {}", self.method);
        if !self.estimand.is_empty() {
            let _ = writeln!(s, "Estimand: {}", self.estimand);
        }
        let headers = [
            "",
            "Estimate",
            "Std. Error",
            "t value",
            "Pr(>|t|)",
            "CI low",
            "CI high",
        ];
        let stat = |e: &Effect| match (e.key.kind, e.std_error) {
            (Some(EffectKind::Posterior), _) => None,
            (_, Some(se)) if se > 0.0 && se.is_finite() => Some(e.estimate / se),
            _ => None,
        };
        let est_style = ColumnStyle::for_column(self.effects.iter().map(|e| e.estimate), 6);
        let se_style = ColumnStyle::for_column(self.effects.iter().filter_map(|e| e.std_error), 6);
        let stat_style = ColumnStyle::for_column(self.effects.iter().filter_map(stat), 3);
        // The interval's ends share one style, so the two columns read alike.
        let ci_style = ColumnStyle::for_column(
            self.effects
                .iter()
                .flat_map(|e| [e.ci_low, e.ci_high])
                .flatten(),
            6,
        );
        let opt =
            |style: ColumnStyle, x: Option<f64>| x.map(|v| style.format(v)).unwrap_or_default();
        let rows: Vec<[String; 7]> = self
            .effects
            .iter()
            .map(|e| {
                [
                    e.label.clone(),
                    est_style.format(e.estimate),
                    opt(se_style, e.std_error),
                    opt(stat_style, stat(e)),
                    e.p_value.map(fmt_p_value).unwrap_or_default(),
                    opt(ci_style, e.ci_low),
                    opt(ci_style, e.ci_high),
                ]
            })
            .collect();
        // Columns empty in every row are left out (the label and estimate always stay).
        let shown: Vec<usize> = (0..headers.len())
            .filter(|&j| j < 2 || rows.iter().any(|r| !r[j].is_empty()))
            .collect();
        let mut widths = headers.map(|h| h.chars().count());
        for r in &rows {
            for (w, c) in widths.iter_mut().zip(r.iter()) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut l = String::new();
            for &i in &shown {
                if i == 0 {
                    let _ = write!(l, "{:<w$}", cells[i], w = widths[0]);
                } else {
                    let _ = write!(l, "  {:>w$}", cells[i], w = widths[i]);
                }
            }
            l.trim_end().to_string()
        };
        let total: usize = shown.iter().map(|&i| widths[i]).sum::<usize>() + 2 * (shown.len() - 1);
        let rule = "-".repeat(total);
        let _ = writeln!(s, "{rule}");
        let _ = writeln!(s, "{}", line(&headers.map(String::from)));
        let _ = writeln!(s, "{rule}");
        for r in &rows {
            let _ = writeln!(s, "{}", line(r));
        }
        let _ = writeln!(s, "{rule}");
        for (k, v) in &self.diagnostics {
            write_diagnostic(&mut s, 0, k, v);
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
    fn effect(label: &str, est: f64, se: Option<f64>, p: Option<f64>) -> Effect {
        Effect {
            label: label.into(),
            estimate: est,
            std_error: se,
            p_value: p,
            ..Default::default()
        }
    }

    #[test]
    fn values_print_in_shortest_round_trip_form() {
        assert_eq!(fmt_value(0.05), "0.05");
        assert_eq!(fmt_value(1e-300), "1e-300");
        assert_eq!(fmt_value(1e20), "1e20");
        assert_eq!(fmt_value(-0.0), "0");
        assert_eq!(fmt_value(1000.0), "1000");
        assert_eq!(fmt_value(0.1 + 0.2), "0.30000000000000004");
        for x in [0.05, 1e-300, 1e20, 123.456, 1.5e-7, -2.5e17] {
            assert_eq!(fmt_value(x).parse::<f64>().unwrap().to_bits(), x.to_bits());
        }
    }

    #[test]
    fn p_values_never_print_as_zero_or_scientific() {
        assert_eq!(fmt_p_value(0.0), "< 0.0001");
        assert_eq!(fmt_p_value(3e-9), "< 0.0001");
        assert_eq!(fmt_p_value(1.0), "1.0000");
        assert_eq!(fmt_p_value(0.01234), "0.0123");
        let mut r = EstimationResult::new("m", "e");
        r.effects.push(effect("a", 1.0, Some(0.1), Some(0.0)));
        r.effects.push(effect("b", 1.0, Some(0.1), Some(1.0)));
        let t = r.to_table();
        assert!(t.contains("< 0.0001"), "{t}");
        assert!(t.contains("1.0000"), "{t}");
        assert!(!t.contains("e0") && !t.contains("0.0000 "), "{t}");
    }

    #[test]
    fn negative_zero_prints_unsigned() {
        let mut r = EstimationResult::new("m", "e");
        r.effects.push(effect("a", -1e-9, None, None));
        r.effects.push(effect("b", 2.0, None, None));
        r.effects.push(effect("c", -0.0, None, None));
        let t = r.to_table();
        assert!(!t.contains("-0.000000"), "{t}");
        assert!(t.contains("a  0.000000"), "{t}");
        assert!(r.to_csv().contains("\nc,0,,,,\n"), "{}", r.to_csv());
    }

    #[test]
    fn one_style_per_column() {
        let mut r = EstimationResult::new("m", "e");
        r.effects.push(effect("small", 0.5, Some(2e-5), None));
        r.effects.push(effect("big", 3e9, Some(3e-5), None));
        let t = r.to_table();
        // The estimate column holds 3e9, so both rows are scientific; the std. error column
        // holds only tiny values, so both are scientific too.
        assert!(t.contains("5.0000e-1"), "{t}");
        assert!(t.contains("3.0000e9"), "{t}");
        assert!(t.contains("2.0000e-5") && t.contains("3.0000e-5"), "{t}");
        let mut r = EstimationResult::new("m", "e");
        r.effects.push(effect("a", 0.00001, None, None));
        r.effects.push(effect("b", 12.5, None, None));
        let t = r.to_table();
        assert!(t.contains("0.000010") && t.contains("12.500000"), "{t}");
    }

    #[test]
    fn posterior_rows_have_no_statistic_and_empty_columns_are_dropped() {
        let mut r = EstimationResult::new("Bayesian", "lift");
        let mut e = effect("chance to win", 0.97, Some(0.01), None);
        e.key = EffectKey::kind(EffectKind::Posterior);
        r.effects.push(e);
        let t = r.to_table();
        assert!(!t.contains("t value"), "{t}");
        assert!(!t.contains("Pr(>|t|)"), "{t}");
        assert!(!t.contains("CI low"), "{t}");
        assert!(t.contains("Std. Error"), "{t}");
        // A point-only result (e.g. a power analysis) shows just the estimate.
        let mut r = EstimationResult::new("power", "");
        r.effects.push(Effect::point("power", 0.8));
        r.effects.push(Effect::point("n total", 1234.0));
        let t = r.to_table();
        assert!(!t.contains("Std. Error") && !t.contains("CI high"), "{t}");
        assert!(t.contains("1234.000000"), "{t}");
    }

    #[test]
    fn nested_diagnostics_render_as_blocks_and_tables() {
        let r = EstimationResult::new("m", "e")
            .with_diagnostic("n_obs", 1200)
            .with_diagnostic("alpha", 0.05)
            .with_diagnostic(
                "fixed_effects",
                serde_json::json!({"unit": 50, "period": 10}),
            )
            .with_diagnostic("arms", serde_json::json!(["control", "treatment"]))
            .with_diagnostic(
                "cohorts",
                serde_json::json!([{"g": 2004, "n": 10}, {"g": 2006, "n": 12.0}]),
            );
        let t = r.to_table();
        assert!(t.contains("n_obs: 1200\n"), "{t}");
        assert!(t.contains("alpha: 0.05\n"), "{t}");
        assert!(
            t.contains("fixed_effects:\n  period: 10\n  unit: 50\n"),
            "{t}"
        );
        assert!(t.contains("arms: control, treatment\n"), "{t}");
        assert!(
            t.contains("cohorts:\n     g   n\n  2004  10\n  2006  12\n"),
            "{t}"
        );
        assert!(
            !t.contains('{') && !t.contains('['),
            "no JSON in the table: {t}"
        );
    }

    #[test]
    fn table_body_leaves_warnings_to_the_caller() {
        let r = sample();
        assert!(!r.to_table_body().contains("Warning"));
        assert_eq!(r.warnings_text(), "Warning: small sample\n");
        assert_eq!(r.to_table(), r.to_table_body() + &r.warnings_text());
    }
}

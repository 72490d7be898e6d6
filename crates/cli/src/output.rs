//! Output formats, the one output-format dispatch ([`render`]) and CLI errors.

use causalkit_stats::EstimationResult;
use clap::ValueEnum;

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Human summary table.
    #[default]
    Table,
    /// One JSON object.
    Json,
    /// Tidy CSV.
    Csv,
}

/// What a subcommand prints: the result on stdout, and warnings and verdicts on stderr.
///
/// Keeping the two apart means `--format json` and `--format csv` stay machine-readable while
/// a person still sees every warning, whatever the format.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    /// The result in the chosen format.
    pub stdout: String,
    /// Warnings and the verdict (one `Warning: ...` / `Verdict: ...` line each).
    pub stderr: String,
}

impl From<String> for Rendered {
    /// Output with nothing for stderr.
    fn from(stdout: String) -> Self {
        Rendered {
            stdout,
            stderr: String::new(),
        }
    }
}

/// The output-format dispatch of every subcommand that produces an [`EstimationResult`].
///
/// stdout: `Format::Table` whatever `table` makes of the result (a subcommand's table view,
/// built on [`EstimationResult::to_table_body`], without the warnings); `Format::Json` the
/// common JSON shape (one line, then a newline; warnings included in its `warnings` array);
/// `Format::Csv` the tidy CSV.
/// stderr, in every format: one `Warning: ...` line per warning, then `Verdict: ...` when the
/// diagnostics hold a string `verdict`.
pub fn render_with(
    result: &EstimationResult,
    format: Format,
    table: impl FnOnce(&EstimationResult) -> String,
) -> Rendered {
    let stdout = match format {
        Format::Json => result.to_json() + "\n",
        Format::Csv => result.to_csv(),
        Format::Table => table(result),
    };
    let mut stderr = result.warnings_text();
    if let Some(v) = result.diagnostics.get("verdict").and_then(|v| v.as_str()) {
        stderr += &format!("Verdict: {v}\n");
    }
    Rendered { stdout, stderr }
}

/// [`render_with`] with the common table view: the summary table without its warnings
/// ([`EstimationResult::to_table_body`]) followed by `extra_table` (a subcommand's own extra
/// tables, table mode only).
pub fn render(result: &EstimationResult, format: Format, extra_table: Option<&str>) -> Rendered {
    render_with(result, format, |r| {
        r.to_table_body() + extra_table.unwrap_or("")
    })
}

/// [`render`] with the table view limited to the diagnostics `keep(name, value)` accepts; the
/// others stay in the JSON (a subcommand typically shows them as its own `extra_table`
/// blocks). JSON and CSV are exactly [`render`]'s.
pub fn render_keeping(
    result: &EstimationResult,
    format: Format,
    extra_table: Option<&str>,
    keep: impl Fn(&str, &serde_json::Value) -> bool,
) -> Rendered {
    if format != Format::Table {
        return render(result, format, extra_table);
    }
    let mut short = result.clone();
    short.diagnostics.retain(|k, v| keep(k, v));
    render(&short, format, extra_table)
}

/// A `keep` for [`render_keeping`]: scalar diagnostics only (no objects or lists).
pub fn scalar_diagnostic(_name: &str, value: &serde_json::Value) -> bool {
    !value.is_object() && !value.is_array()
}

/// Whether an error is the user's input or ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input: exit code 2.
    BadInput,
    /// A numerical failure on valid input (an iteration that did not converge): exit code 1.
    Numerical,
    /// Internal error: exit code 1.
    Internal,
}

/// An error with its exit code.
#[derive(Debug)]
pub struct CliError {
    pub kind: ErrorKind,
    pub message: String,
}

impl CliError {
    /// Bad input (exit code 2); the message names the flag, column, row or value at fault.
    pub fn bad(message: impl Into<String>) -> Self {
        CliError {
            kind: ErrorKind::BadInput,
            message: message.into(),
        }
    }
    /// An internal error (exit code 1).
    pub fn internal(message: impl Into<String>) -> Self {
        CliError {
            kind: ErrorKind::Internal,
            message: message.into(),
        }
    }
    /// A numerical failure on input that passed validation (exit code 1); the message says so.
    pub fn numerical(message: impl Into<String>) -> Self {
        CliError {
            kind: ErrorKind::Numerical,
            message: format!(
                "numerical failure: {} (the input passed validation; a different tolerance, \
                 fewer fixed effects or rescaled variables may help)",
                message.into()
            ),
        }
    }
    /// An estimator's error: a numerical failure on valid input (exit 1, see
    /// [`CliError::numerical`]) when the error says so (`is_numerical()` of `DidError`,
    /// `CsError`, `SynthError`, `ScError`), bad input (exit 2) otherwise.
    pub fn estimator(numerical: bool, message: impl Into<String>) -> Self {
        if numerical {
            CliError::numerical(message)
        } else {
            CliError::bad(message)
        }
    }
    /// The process exit code: 2 for bad input, 1 for numerical and internal failures.
    pub fn code(&self) -> u8 {
        match self.kind {
            ErrorKind::BadInput => 2,
            ErrorKind::Numerical | ErrorKind::Internal => 1,
        }
    }
}

impl From<causalkit_data::DataError> for CliError {
    fn from(e: causalkit_data::DataError) -> Self {
        match e {
            causalkit_data::DataError::Stats(inner) => inner.into(),
            // The library names the option `winsorize`; its flag is `--winsorize`.
            causalkit_data::DataError::Winsorize { reason } => {
                CliError::bad(format!("--winsorize {reason}"))
            }
            other => CliError::bad(other.to_string()),
        }
    }
}

impl From<causalkit_stats::StatsError> for CliError {
    /// Iterations that did not converge are numerical failures (exit 1); every other variant
    /// names an input at fault — a length mismatch, a non-finite or out-of-range value, too
    /// few observations, a regressor collinear with others, separation in a logit, an invalid
    /// argument or an unavailable variance estimator — and is bad input (exit 2).
    fn from(e: causalkit_stats::StatsError) -> Self {
        use causalkit_stats::StatsError as S;
        match e {
            S::NotConverged { .. } => CliError::numerical(e.to_string()),
            other => CliError::bad(other.to_string()),
        }
    }
}

impl From<causalkit_report::ReportError> for CliError {
    fn from(e: causalkit_report::ReportError) -> Self {
        match e {
            causalkit_report::ReportError::Io { .. } => CliError::bad(e.to_string()),
            other => CliError::internal(other.to_string()),
        }
    }
}

impl From<causalkit_sim::SimError> for CliError {
    fn from(e: causalkit_sim::SimError) -> Self {
        match e {
            causalkit_sim::SimError::Json(_) => CliError::internal(e.to_string()),
            other => CliError::bad(other.to_string()),
        }
    }
}

/// Most rows of one nested-diagnostic table in table mode.
const NESTED_ROWS: usize = 40;

/// Table output without one-line JSON blobs: object- and array-valued diagnostics (e.g.
/// `rmspe_ratio`, `balance`, `lambda_cv`, `uniform_ci`) are taken out of the common table and
/// printed after it as small tables (at most 40 rows each); a record of at most 10 scalar
/// fields (e.g. `pretrend_test`) stays on its line. Diagnostics named in `skip` are
/// left out (printed another way by the caller). The warnings are not in it: [`render_with`]
/// prints them on stderr. JSON and CSV output are unchanged.
pub(crate) fn table_nested(r: &EstimationResult, skip: &[&str]) -> String {
    let mut flat = r.clone();
    let mut nested = Vec::new();
    // A small record (at most 10 scalar fields, e.g. pretrend_test) stays on its line.
    let record = |v: &serde_json::Value| {
        v.as_object()
            .is_some_and(|m| m.len() <= 10 && m.values().all(|x| !x.is_object() && !x.is_array()))
    };
    for (k, v) in &r.diagnostics {
        if (v.is_object() || v.is_array()) && !record(v) {
            flat.diagnostics.remove(k);
            if !skip.contains(&k.as_str()) {
                nested.push((k, v));
            }
        }
    }
    let mut out = flat.to_table_body();
    for (k, v) in nested {
        out.push_str(&format!("\n{k}\n"));
        out.push_str(&render_nested(v));
    }
    out
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Number(x) => x
            .as_f64()
            .filter(|_| !x.is_i64() && !x.is_u64())
            .map_or_else(|| x.to_string(), |f| num(Some(f))),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        serde_json::Value::Array(a) if a.iter().all(|x| !x.is_object() && !x.is_array()) => {
            a.iter().map(scalar).collect::<Vec<_>>().join(", ")
        }
        other => other.to_string(),
    }
}

fn render_nested(v: &serde_json::Value) -> String {
    use serde_json::Value;
    // An object of parallel arrays (e.g. lambda_cv: lambdas, errors, errors_se) is printed as
    // columns, its scalar fields as `name: value` lines.
    if let Value::Object(m) = v {
        let arrays: Vec<(&String, &Vec<Value>)> = m
            .iter()
            .filter_map(|(k, x)| x.as_array().map(|a| (k, a)))
            .filter(|(_, a)| a.len() > 1 && a.iter().all(|y| y.is_number()))
            .collect();
        let n = arrays.first().map_or(0, |a| a.1.len());
        if (2..=8).contains(&arrays.len()) && n > 2 && arrays.iter().all(|a| a.1.len() == n) {
            let mut out = String::new();
            for (k, x) in m {
                if !arrays.iter().any(|a| a.0 == k) {
                    out.push_str(&format!("{k}: {}\n", scalar(x)));
                }
            }
            let header: Vec<&str> = arrays.iter().map(|a| a.0.as_str()).collect();
            let body: Vec<Vec<String>> = (0..n)
                .map(|i| arrays.iter().map(|a| scalar(&a.1[i])).collect())
                .collect();
            out.push_str(&plain_table(&header, &body));
            return out;
        }
    }
    // (row name, fields) pairs.
    let rows: Vec<(String, &Value)> = match v {
        Value::Object(m) => m.iter().map(|(k, x)| (k.clone(), x)).collect(),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, x)| (i.to_string(), x))
            .collect(),
        other => return format!("{}\n", scalar(other)),
    };
    let more = rows.len().saturating_sub(NESTED_ROWS);
    let rows = &rows[..rows.len().min(NESTED_ROWS)];
    let mut cols: Vec<String> = Vec::new();
    for (_, x) in rows {
        if let Value::Object(m) = x {
            for k in m.keys() {
                if !cols.contains(k) {
                    cols.push(k.clone());
                }
            }
        }
    }
    let mut out = if cols.is_empty() {
        if matches!(v, Value::Array(_)) && rows.iter().all(|(_, x)| !x.is_array()) {
            let all: Vec<String> = rows.iter().map(|(_, x)| scalar(x)).collect();
            format!("{}\n", all.join(", "))
        } else {
            let body: Vec<Vec<String>> = rows
                .iter()
                .map(|(k, x)| vec![k.clone(), scalar(x)])
                .collect();
            plain_table(&["", "value"], &body)
        }
    } else {
        let mut header: Vec<&str> = vec![""];
        header.extend(cols.iter().map(String::as_str));
        let body: Vec<Vec<String>> = rows
            .iter()
            .map(|(k, x)| {
                let mut row = vec![k.clone()];
                row.extend(
                    cols.iter()
                        .map(|c| x.get(c).map(scalar).unwrap_or_default()),
                );
                row
            })
            .collect();
        plain_table(&header, &body)
    };
    if more > 0 {
        out.push_str(&format!("… {more} more (see --format json)\n"));
    }
    out
}

/// Formats a plain table: a header row and rows, columns padded, numbers right-aligned.
pub fn plain_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let fmt_row = |cells: Vec<String>| -> String {
        let mut line = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i == 0 {
                line += &format!("{:<w$}", c, w = widths[0]);
            } else {
                line += &format!("  {:>w$}", c, w = widths[i]);
            }
        }
        line.trim_end().to_string() + "\n"
    };
    let mut s = fmt_row(header.iter().map(|h| h.to_string()).collect());
    s += &"-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len().saturating_sub(1)));
    s += "\n";
    for r in rows {
        s += &fmt_row(r.clone());
    }
    s
}

/// Formats rows as CSV (fields with commas or quotes are quoted).
pub fn csv(header: &[&str], rows: &[Vec<String>]) -> String {
    let field = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = header
        .iter()
        .map(|h| field(h))
        .collect::<Vec<_>>()
        .join(",")
        + "\n";
    for r in rows {
        out += &(r.iter().map(|c| field(c)).collect::<Vec<_>>().join(",") + "\n");
    }
    out
}

/// A number for display: empty when absent.
pub fn num(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.6}")).unwrap_or_default()
}

/// The summary of a simulator run (`simulate contact-centre`, `simulate intent-release`): the
/// files written and the true effects, each a (design, KPI, effect) row.
pub struct SimSummary<'a> {
    /// The seed used.
    pub seed: u64,
    /// Contacts in each design's file.
    pub contacts_per_design: u64,
    /// The files written, by name.
    pub files: Vec<(String, &'a std::path::Path)>,
    /// The true effects: (design, KPI, effect).
    pub effects: Vec<(&'a str, &'a str, f64)>,
}

impl SimSummary<'_> {
    /// JSON: `seed`, `contacts_per_design`, `files` (name to path), `true_effects` (design,
    /// kpi, effect) and the `extra` fields.
    pub fn json(
        &self,
        extra: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Rendered, CliError> {
        let mut v = serde_json::json!({
            "seed": self.seed,
            "contacts_per_design": self.contacts_per_design,
            "files": self.files.iter().map(|(k, p)| (k.clone(), serde_json::Value::from(p.display().to_string()))).collect::<serde_json::Map<_, _>>(),
            "true_effects": self.effects.iter().map(|(d, k, v)| serde_json::json!({"design": d, "kpi": k, "effect": v})).collect::<Vec<_>>(),
        });
        if let Some(m) = v.as_object_mut() {
            m.extend(extra);
        }
        Ok(Rendered::from(
            serde_json::to_string_pretty(&v).map_err(|e| CliError::internal(e.to_string()))? + "\n",
        ))
    }

    /// CSV: the true effects on stdout and one `wrote <path>` line per file on stderr, so the
    /// CSV stays one table.
    pub fn csv(&self) -> Rendered {
        Rendered {
            stdout: csv(
                &["design", "kpi", "true_effect"],
                &self
                    .effects
                    .iter()
                    .map(|(d, k, v)| {
                        vec![d.to_string(), k.to_string(), causalkit_stats::fmt_value(*v)]
                    })
                    .collect::<Vec<_>>(),
            ),
            stderr: self
                .files
                .iter()
                .map(|(_, p)| format!("wrote {}\n", p.display()))
                .collect(),
        }
    }

    /// The true effects as a plain table (6 decimals).
    pub fn effects_table(&self) -> String {
        plain_table(
            &["design", "kpi", "true effect"],
            &self
                .effects
                .iter()
                .map(|(d, k, v)| vec![d.to_string(), k.to_string(), format!("{v:.6}")])
                .collect::<Vec<_>>(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use causalkit_stats::Effect;

    fn result() -> EstimationResult {
        let mut r = EstimationResult::new("Welch", "difference in means")
            .with_diagnostic("verdict", "ship");
        r.effects.push(Effect::point("lift", 1.5));
        r.warnings.push("sample ratio mismatch".into());
        r
    }

    #[test]
    fn warnings_and_verdict_go_to_stderr_in_every_format() {
        for format in [Format::Table, Format::Json, Format::Csv] {
            let out = render(&result(), format, Some("EXTRA\n"));
            assert_eq!(
                out.stderr, "Warning: sample ratio mismatch\nVerdict: ship\n",
                "{format:?}"
            );
            assert!(
                !out.stdout.contains("Warning:"),
                "{format:?}: {}",
                out.stdout
            );
            assert_eq!(out.stdout.contains("EXTRA"), format == Format::Table);
        }
        let json: serde_json::Value =
            serde_json::from_str(&render(&result(), Format::Json, None).stdout).unwrap();
        assert_eq!(json["warnings"][0], "sample ratio mismatch");
        assert!(render(&result(), Format::Csv, None)
            .stdout
            .starts_with("label,estimate"));
    }

    #[test]
    fn render_keeping_filters_only_the_table_view() {
        let r = result()
            .with_diagnostic("n", 3)
            .with_diagnostic("curve", vec![1.0, 2.0]);
        let table = render_keeping(&r, Format::Table, Some("EXTRA\n"), scalar_diagnostic);
        assert!(table.stdout.contains("EXTRA") && !table.stdout.contains("curve"));
        assert_eq!(table.stderr, render(&r, Format::Table, None).stderr);
        for format in [Format::Json, Format::Csv] {
            assert_eq!(
                render_keeping(&r, format, None, scalar_diagnostic),
                render(&r, format, None)
            );
        }
        assert!(render(&r, Format::Json, None).stdout.contains("curve"));
    }

    #[test]
    fn exit_codes_by_error_variant() {
        use causalkit_stats::StatsError;
        let nc: CliError = StatsError::NotConverged {
            method: "demeaning".into(),
            iterations: 10,
            tolerance: 1e-8,
            last_change: 1e-3,
        }
        .into();
        assert_eq!(nc.code(), 1);
        assert!(nc
            .message
            .starts_with("numerical failure: demeaning did not converge"));
        let bad: CliError = StatsError::InsufficientData("one cluster".into()).into();
        assert_eq!(bad.code(), 2);
        let wrapped: CliError = causalkit_data::DataError::Stats(StatsError::NotConverged {
            method: "IRLS".into(),
            iterations: 5,
            tolerance: 1e-8,
            last_change: 1.0,
        })
        .into();
        assert_eq!(wrapped.code(), 1);
        let data: CliError = causalkit_data::DataError::EmptyGroup("control".into()).into();
        assert_eq!(data.code(), 2);
    }
}

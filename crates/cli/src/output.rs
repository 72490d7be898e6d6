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
/// stdout: `Format::Table` gives the summary table without its warnings
/// ([`EstimationResult::to_table_body`]) followed by `extra_table` (a subcommand's own extra
/// tables, table mode only); `Format::Json` the common JSON shape (warnings included in its
/// `warnings` array); `Format::Csv` the tidy CSV.
/// stderr, in every format: one `Warning: ...` line per warning, then `Verdict: ...` when the
/// diagnostics hold a string `verdict`.
pub fn render(result: &EstimationResult, format: Format, extra_table: Option<&str>) -> Rendered {
    let stdout = match format {
        Format::Json => result.to_json() + "\n",
        Format::Csv => result.to_csv(),
        Format::Table => result.to_table_body() + extra_table.unwrap_or(""),
    };
    let mut stderr = result.warnings_text();
    if let Some(v) = result.diagnostics.get("verdict").and_then(|v| v.as_str()) {
        stderr += &format!("Verdict: {v}\n");
    }
    Rendered { stdout, stderr }
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

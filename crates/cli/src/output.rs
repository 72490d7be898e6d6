//! Output formats and CLI errors.

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

/// Whether an error is the user's input or ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input: exit code 2.
    BadInput,
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
    pub fn bad(message: impl Into<String>) -> Self {
        CliError {
            kind: ErrorKind::BadInput,
            message: message.into(),
        }
    }
    pub fn internal(message: impl Into<String>) -> Self {
        CliError {
            kind: ErrorKind::Internal,
            message: message.into(),
        }
    }
    pub fn code(&self) -> u8 {
        match self.kind {
            ErrorKind::BadInput => 2,
            ErrorKind::Internal => 1,
        }
    }
}

impl From<causalkit_data::DataError> for CliError {
    fn from(e: causalkit_data::DataError) -> Self {
        CliError::bad(e.to_string())
    }
}

impl From<causalkit_stats::StatsError> for CliError {
    fn from(e: causalkit_stats::StatsError) -> Self {
        CliError::bad(e.to_string())
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

//! The HTML report: `causalkit report RESULT.json [MORE.json...] -o FILE.html` re-renders
//! saved results, and the global `--report FILE.html` writes the report of the command that
//! just ran (`ab`, `did`, `synth`, `uplift fit`, `attribute`, `attribute errors`, `reward`, and any command that calls [`capture`]).
//!
//! The page itself is built by `causalkit_report::html`; this module only collects the
//! results, the reproducibility metadata (version, command line, input files with SHA-256,
//! seed, threads, time) and writes the file.

use crate::output::{CliError, Rendered};
use causalkit_report::html::{self, InputFile, ReproMeta};
use causalkit_stats::EstimationResult;
use clap::Args;
use std::cell::RefCell;
use std::path::{Path, PathBuf};

/// Arguments of `causalkit report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Saved results (`--format json` output of any causalkit command), one or several; each
    /// file holds one result object or an array of them.
    #[arg(required = true, value_name = "RESULT.json")]
    results: Vec<PathBuf>,
    /// The HTML file to write.
    #[arg(short = 'o', long = "out", value_name = "FILE.html")]
    out: PathBuf,
}

thread_local! {
    /// Results the running command produced, for `--report` (in the order captured).
    static CAPTURED: RefCell<Vec<EstimationResult>> = const { RefCell::new(Vec::new()) };
}

/// Hands a command's final result to `--report` (the one hook a subcommand needs; call it
/// with the full result, before table-mode trimming).
pub fn capture(result: &EstimationResult) {
    CAPTURED.with(|c| c.borrow_mut().push(result.clone()));
}

/// `causalkit report`: reads the saved results and writes the report.
pub fn run(a: ReportArgs) -> Result<Rendered, CliError> {
    let mut results = Vec::new();
    for path in &a.results {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::bad(format!("cannot read {}: {e}", path.display())))?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            CliError::bad(format!(
                "{} is not JSON ({e}); save a result with --format json",
                path.display()
            ))
        })?;
        let items = match value {
            serde_json::Value::Array(items) => items,
            one => vec![one],
        };
        for (i, item) in items.into_iter().enumerate() {
            let r: EstimationResult = serde_json::from_value(item).map_err(|e| {
                CliError::bad(format!(
                    "{}{} is not a causalkit result ({e}); expected the common JSON shape \
                     {{\"method\", \"estimand\", \"effects\", \"diagnostics\", \"warnings\"}}",
                    path.display(),
                    if i > 0 {
                        format!(" (entry {})", i + 1)
                    } else {
                        String::new()
                    }
                ))
            })?;
            results.push(r);
        }
    }
    let meta = meta(&results, &a.results, &a.out)?;
    write(&a.out, &results, &meta)?;
    Ok(Rendered::from(format!("wrote {}\n", a.out.display())))
}

/// After a command ran: writes the `--report` file (its directory is created if needed) from the captured results (none: the
/// command has no report, bad input).
pub fn finish(report: Option<&Path>, mut out: Rendered) -> Result<Rendered, CliError> {
    let captured = CAPTURED.with(|c| std::mem::take(&mut *c.borrow_mut()));
    let Some(path) = report else {
        return Ok(out);
    };
    if captured.is_empty() {
        return Err(CliError::bad(
            "--report is available on `ab`, `did`, `synth`, `uplift fit`, `attribute`, `attribute errors` and `reward calibrate|evaluate|choose`; \
             this command produces no result to report",
        ));
    }
    let inputs: Vec<PathBuf> = std::env::args_os()
        .skip(1)
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .collect();
    let meta = meta(&captured, &inputs, path)?;
    write(path, &captured, &meta)?;
    out.stderr += &format!("Report: {}\n", path.display());
    Ok(out)
}

fn write(path: &Path, results: &[EstimationResult], meta: &ReproMeta) -> Result<(), CliError> {
    if path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        != Some("html".into())
    {
        return Err(CliError::bad(format!(
            "the report file `{}` must end in .html",
            path.display()
        )));
    }
    let page = html::render(results, &[], meta)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            CliError::bad(format!(
                "cannot create the report's directory {}: {e}",
                dir.display()
            ))
        })?;
    }
    std::fs::write(path, page)
        .map_err(|e| CliError::bad(format!("cannot write report {}: {e}", path.display())))
}

/// Shell-style quoting of one argument for the command line shown in the report.
fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The reproducibility block: version, this process's command line, the input files (every
/// argument naming an existing file, except the report itself) with their SHA-256, the seed
/// (`--seed`, else the result's `seed` or `split.seed` diagnostic), threads and time.
fn meta(
    results: &[EstimationResult],
    inputs: &[PathBuf],
    out: &Path,
) -> Result<ReproMeta, CliError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut files = Vec::new();
    for p in inputs {
        if p.as_path() == out || files.iter().any(|f: &InputFile| Path::new(&f.name) == p) {
            continue;
        }
        files.push(InputFile::hash(p)?);
    }
    let seed = args
        .iter()
        .position(|a| a == "--seed")
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| {
            args.iter()
                .find_map(|a| a.strip_prefix("--seed=").map(String::from))
        })
        .or_else(|| {
            results.iter().find_map(|r| {
                let d = &r.diagnostics;
                d.get("seed")
                    .or_else(|| d.get("split").and_then(|s| s.get("seed")))
                    .map(|v| v.to_string())
            })
        });
    let threads = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()));
    Ok(ReproMeta {
        version: env!("CARGO_PKG_VERSION").to_string(),
        command: std::iter::once("causalkit".to_string())
            .chain(args.iter().map(|a| quote(a)))
            .collect::<Vec<_>>()
            .join(" "),
        inputs: files,
        seed,
        threads,
        generated_at: Some(html::utc_timestamp(std::time::SystemTime::now())),
    })
}

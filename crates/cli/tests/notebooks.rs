//! Executes the walkthroughs in `notebooks-md/`: every `$ causalkit ...` line in a
//! ```console block is run with the built binary from the repository root; it must exit 0,
//! and every `<!-- expect: TEXT -->` line after the block must occur in its output (stdout,
//! or stderr for warnings and verdicts, which the CLI prints there).
//!
//! Blocks fenced ```` ```console spark ```` need a Spark cluster: they run only in the test
//! `notebook_spark_sections_run_through_spark`, compiled with the `spark` feature and run by
//! `.ci/spark.sh` against its cluster at `sc://127.0.0.1:15002`, after it writes the bundled
//! CSV files as the Parquet files those blocks name.

mod common;

use std::path::PathBuf;

fn split_args(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"') | (None, '\'') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() || any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if !cur.is_empty() || any {
        out.push(cur);
    }
    out
}

struct Step {
    args: Vec<String>,
    expect: Vec<String>,
}

/// The commands of the ```` ```console ```` blocks (or, with `spark`, of the
/// ```` ```console spark ```` blocks) and the `expect` lines after each.
fn steps(text: &str, spark: bool) -> Vec<Step> {
    let fence = if spark {
        "```console spark"
    } else {
        "```console"
    };
    let mut steps: Vec<Step> = Vec::new();
    let mut in_console = false;
    let mut in_block = false;
    // Whether the last console block was one of ours (its expect lines are ours too).
    let mut last_ours = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("```") && !in_block {
            in_block = true;
            in_console = t == fence;
            if t.starts_with("```console") {
                last_ours = in_console;
            }
        } else if t.starts_with("```") {
            in_block = false;
            in_console = false;
        } else if in_console {
            if let Some(cmd) = t.strip_prefix("$ causalkit ") {
                steps.push(Step {
                    args: split_args(cmd),
                    expect: Vec::new(),
                });
            }
        } else if let Some(e) = t
            .strip_prefix("<!-- expect: ")
            .and_then(|r| r.strip_suffix(" -->"))
        {
            // An expect line belongs to the last block: one of ours, or one we skip.
            if last_ours {
                steps
                    .last_mut()
                    .expect("an expect line follows a command")
                    .expect
                    .push(e.to_string());
            }
        }
    }
    steps
}

/// Runs the steps of every notebook (the Spark blocks with `spark`, the others without) and
/// checks their exit status and expect lines; returns how many ran.
fn run_notebooks(spark: bool) -> usize {
    let root = common::root();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(root.join("notebooks-md"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    entries.sort();
    assert!(!entries.is_empty());
    let mut ran = 0;
    for nb in entries {
        let text = std::fs::read_to_string(&nb).unwrap();
        for step in steps(&text, spark) {
            let out = common::run(&step.args);
            // What a reader of the walkthrough sees: the result (stdout) and the warnings and
            // verdict (stderr).
            let stdout = common::stdout(&out) + &common::stderr(&out);
            assert!(
                out.status.success(),
                "{}: `causalkit {}` failed: {}",
                nb.display(),
                step.args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
            for e in &step.expect {
                assert!(
                    stdout.contains(e.as_str()),
                    "{}: output of `causalkit {}` lacks `{e}`:\n{stdout}",
                    nb.display(),
                    step.args.join(" ")
                );
            }
            ran += 1;
        }
    }
    ran
}

#[test]
fn notebooks_run_and_show_what_they_say() {
    let ran = run_notebooks(false);
    assert!(ran >= 5, "only {ran} notebook commands found");
}

/// The ```` ```console spark ```` blocks, against the cluster of `.ci/spark.sh`: the
/// bundled contact-centre CSV files are written as the Parquet files the blocks read
/// (`/tmp/causalkit-notebook-spark/NAME.parquet`; the Connect server runs on this machine),
/// then every block runs and must show its expect lines — the same numbers as the file-based
/// blocks of the same analyses.
#[cfg(feature = "spark")]
#[test]
fn notebook_spark_sections_run_through_spark() {
    let dir = std::path::Path::new("/tmp/causalkit-notebook-spark");
    std::fs::create_dir_all(dir).unwrap();
    for (csv, name) in [
        ("contact-centre/ab_contacts.csv", "ab_contacts"),
        (
            "contact-centre/staggered_contacts.csv",
            "staggered_contacts",
        ),
        ("intent-release/randomised.csv", "intent_randomised"),
        ("intent-release/rollout.csv", "intent_rollout"),
    ] {
        let csv = common::root().join("datasets").join(csv);
        causalkit_data::Dataset::read(&csv)
            .unwrap()
            .write_parquet(&dir.join(format!("{name}.parquet")))
            .unwrap();
    }
    let ran = run_notebooks(true);
    assert!(ran >= 4, "only {ran} Spark notebook commands found");
}

#[test]
fn spark_blocks_are_kept_apart() {
    let text = "```console\n$ causalkit a\n```\n<!-- expect: A -->\n\
                ```console spark\n$ causalkit b\n```\n<!-- expect: B -->\n\
                ```bash\ncausalkit c\n```\n<!-- expect: B2 -->\n";
    let plain = steps(text, false);
    assert_eq!(plain.len(), 1);
    assert_eq!(
        (plain[0].args.as_slice(), plain[0].expect.as_slice()),
        (&["a".to_string()][..], &["A".to_string()][..])
    );
    let spark = steps(text, true);
    assert_eq!(spark.len(), 1);
    assert_eq!(spark[0].args, ["b"]);
    assert_eq!(spark[0].expect, ["B", "B2"]);
}

#[test]
fn argument_splitting_honours_quotes() {
    assert_eq!(split_args(r#"a "b c" 'd e' f"#), ["a", "b c", "d e", "f"]);
}

//! Executes the walkthroughs in `notebooks-md/`: every `$ causalkit ...` line in a
//! ```console block is run with the built binary from the repository root; it must exit 0,
//! and every `<!-- expect: TEXT -->` line after the block must occur in its output (stdout,
//! or stderr for warnings and verdicts, which the CLI prints there).

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

fn steps(text: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut in_console = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("```console") {
            in_console = true;
        } else if t.starts_with("```") {
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
            steps
                .last_mut()
                .expect("an expect line follows a command")
                .expect
                .push(e.to_string());
        }
    }
    steps
}

#[test]
fn notebooks_run_and_show_what_they_say() {
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
        for step in steps(&text) {
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
    assert!(ran >= 5, "only {ran} notebook commands found");
}

#[test]
fn argument_splitting_honours_quotes() {
    assert_eq!(split_args(r#"a "b c" 'd e' f"#), ["a", "b c", "d e", "f"]);
}

//! The README's first set-up command (the main job on the bundled data) runs as written: the
//! attribution of the bundled intent-model release from its spec, with the HTML report. The
//! command is read from the README itself, so the two cannot drift apart; only the report's
//! path is moved to a temporary directory.

mod common;

use common::{ok_json, root, run, stderr, tmp_dir};
use serde_json::Value;

/// The arguments after `cargo run -p causalkit-cli --` on the README's first command line.
fn readme_main_command() -> Vec<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let line = readme
        .lines()
        .find(|l| l.starts_with("cargo run -p causalkit-cli -- "))
        .expect("the README's set-up block has a `cargo run -p causalkit-cli -- ...` line");
    let args = line.trim_start_matches("cargo run -p causalkit-cli -- ");
    assert!(
        !args.contains(['"', '\'', '\\']),
        "the main command is split on whitespace: keep it free of quotes ({args})"
    );
    args.split_whitespace().map(str::to_string).collect()
}

#[test]
fn readme_main_command_runs_and_writes_its_report() {
    let mut args = readme_main_command();
    assert_eq!(
        args[0], "attribute",
        "the main job is the release attribution"
    );
    let report = tmp_dir().join("readme-review.html");
    let at = args
        .iter()
        .position(|a| a == "--report")
        .expect("the main command writes the HTML report");
    args[at + 1] = report.display().to_string();
    let out = run(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "a complete HTML page");
    assert!(
        html.contains("Estimated annual savings"),
        "the money headline"
    );

    // The same run as JSON: every KPI's interval covers the simulator's true effect
    // (datasets/intent-release/truth.json, written by `causalkit simulate intent-release`).
    let spec_at = args.iter().position(|a| a == "--spec").unwrap();
    let spec = args[spec_at + 1].clone();
    let v = ok_json(&["attribute", "--spec", &spec, "--format", "json"]);
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("datasets/intent-release/truth.json")).unwrap(),
    )
    .unwrap();
    // The spec's `better = "lower"` of each cost node is in the JSON for readers.
    assert_eq!(v["diagnostics"]["value"]["better"]["total_cost"], "lower");
    for kpi in ["aht", "fcr", "csat"] {
        let e = common::effect(&v, kpi);
        let t = truth["randomised"]["effects"][kpi].as_f64().unwrap();
        let (lo, hi) = (
            e["ci_low"].as_f64().unwrap(),
            e["ci_high"].as_f64().unwrap(),
        );
        assert!(lo < t && t < hi, "{kpi}: [{lo}, {hi}] misses the truth {t}");
    }
}

//! `causalkit synth --exact-placebo`: the placebo SE with every pseudo-treated assignment
//! fitted once, checked against synthdid-py 0.1.0's own replicates enumerated over all 38
//! controls of Prop 99 (reference/synth_exact_placebo.json, from
//! reference/scripts/synth_exact_placebo_reference.py), to 1e-8 relative.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_causalkit"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("binary runs")
}

const BASE: [&str; 13] = [
    "synth",
    "--data",
    "datasets/california_prop99.csv",
    "--unit",
    "State",
    "--time",
    "Year",
    "--outcome",
    "PacksPerCapita",
    "--treated-unit",
    "California",
    "--treatment-start",
    "1989",
];

fn with(extra: &[&str]) -> Vec<String> {
    BASE.iter().chain(extra).map(|s| s.to_string()).collect()
}

fn exec(args: &[String]) -> Output {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&a)
}

#[test]
fn exact_placebo_se_matches_synthdid_enumeration() {
    let r: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("reference/synth_exact_placebo.json")).unwrap(),
    )
    .unwrap();
    for (cli, key) in [("sdid", "sdid"), ("sdid-sc", "sc"), ("did", "did")] {
        let out = exec(&with(&[
            "--method",
            cli,
            "--exact-placebo",
            "--format",
            "json",
        ]));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let att = v["effects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["label"] == "ATT")
            .expect("an ATT effect");
        let want = r["prop99"][key]["exact_placebo_se"].as_f64().unwrap();
        let got = att["std_error"].as_f64().unwrap();
        assert!(
            (got - want).abs() <= 1e-8 * want,
            "{cli}: {got} vs synthdid-py enumeration {want}"
        );
        assert_eq!(v["diagnostics"]["replications"], 38);
        assert_eq!(v["diagnostics"]["se_method"], "placebo");
        assert!(v["diagnostics"].get("seed").is_none(), "no seed is used");
    }
}

#[test]
fn exact_placebo_refusals() {
    for extra in [
        vec!["--method", "sdid", "--exact-placebo", "--se", "jackknife"],
        vec!["--method", "sc", "--exact-placebo"],
        vec!["--method", "ascm", "--exact-placebo"],
        vec![
            "--method",
            "sdid",
            "--exact-placebo",
            "--max-placebo-fits",
            "10",
        ],
    ] {
        let out = exec(&with(&extra));
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(
            e.contains("exact-placebo") || e.contains("38 fits"),
            "{extra:?}: {e}"
        );
    }
    // clap: --exact-placebo replaces --placebo N.
    let out = exec(&with(&[
        "--method",
        "sdid",
        "--exact-placebo",
        "--placebo",
        "200",
    ]));
    assert_eq!(out.status.code(), Some(2));
}

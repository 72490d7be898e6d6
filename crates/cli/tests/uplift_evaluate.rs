//! End-to-end tests of `causalkit uplift evaluate` (the fit/score tests are in uplift.rs).
//!
//! Reference numbers: the 10-row toy case of /work/shared/reference/uplift.md (scikit-uplift
//! 0.5.1 qini_auc_score 0.133333333, negative_effect=False 0.25, uplift_auc_score
//! 0.185185185) and reference/uplift_metrics.json (per-arm Hillstrom values, score
//! -recency, scikit-uplift 0.5.1; reference/scripts/uplift_metrics_reference.py).

mod common;

use common::{ok_json, root, run, tmp};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::OnceLock;

fn effect(v: &Value, label: &str) -> f64 {
    v["effects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["label"] == label)
        .unwrap_or_else(|| panic!("no effect {label}"))["estimate"]
        .as_f64()
        .unwrap()
}

/// The toy file, written once per test process: the tests run in parallel, and rewriting it
/// for each of them let one read it while another was truncating it.
fn toy_file() -> PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let y = [0, 0, 0, 0, 1, 0, 0, 1, 1, 1];
        let w = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1];
        let s = [0.0, 0.1, 0.2, 0.3, 0.4, 0.0, 0.1, 0.2, 0.3, 0.4];
        let mut text = String::from("y,w,score,bad\n");
        for i in 0..10 {
            let bad = if i == 6 { String::new() } else { "1".into() };
            text += &format!("{},{},{},{}\n", y[i], w[i], s[i], bad);
        }
        PathBuf::from(tmp("uplift_evaluate_toy.csv", &text))
    })
    .clone()
}

#[test]
fn evaluate_toy_case_json() {
    let f = toy_file();
    let f = f.to_str().unwrap();
    let v = ok_json(&[
        "uplift",
        "evaluate",
        "--data",
        f,
        "--treatment",
        "w",
        "--outcome",
        "y",
        "--score",
        "score",
        "--bins",
        "3",
        "--ties",
        "row-order",
        "--tie-tolerance",
        "0",
        "--format",
        "json",
    ]);
    for (label, want) in [
        ("qini_auc", 0.133333333333),
        ("qini_auc_positive", 0.25),
        ("uplift_auc", 0.185185185185),
        ("uplift_at_k_overall", 0.0),
        ("uplift_at_k_by_group", 0.0),
    ] {
        let got = effect(&v, label);
        assert!((got - want).abs() < 1e-9, "{label}: {got} vs {want}");
    }
    let labels: Vec<&str> = v["effects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "qini_auc",
            "qini_auc_positive",
            "uplift_auc",
            "uplift_at_k_overall",
            "uplift_at_k_by_group",
            "wau_overall",
            "wau_by_group",
            "causalml_qini",
            "causalml_auuc"
        ]
    );
    let qx: Vec<f64> = v["diagnostics"]["qini_curve"]["x"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(qx, [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
    assert_eq!(
        v["diagnostics"]["uplift_by_percentile"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn evaluate_bootstrap_and_table() {
    let f = toy_file();
    let f = f.to_str().unwrap();
    let v = ok_json(&[
        "uplift",
        "evaluate",
        "--data",
        f,
        "--treatment",
        "w",
        "--outcome",
        "y",
        "--score",
        "score",
        "--bins",
        "2",
        "--bootstrap",
        "50",
        "--seed",
        "3",
        "--format",
        "json",
    ]);
    let q = v["effects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["label"] == "qini_auc")
        .unwrap();
    assert!(q["ci_low"].as_f64().unwrap() <= q["ci_high"].as_f64().unwrap());
    assert!(q["std_error"].as_f64().unwrap() > 0.0);
    let out = run(&[
        "uplift",
        "evaluate",
        "--data",
        f,
        "--treatment",
        "w",
        "--outcome",
        "y",
        "--score",
        "score",
        "--bins",
        "2",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("qini_auc") && text.contains("Uplift by percentile"));
}

#[test]
fn evaluate_two_arms_on_hillstrom() {
    // -recency is not in the file: use the (increasing in recency) score column recency
    // negated via a copy of the needed columns.
    let src = std::fs::read_to_string(root().join("datasets/hillstrom.csv")).unwrap();
    let dir = std::env::temp_dir().join(format!("causalkit-uplift-h-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("h.csv");
    let mut text = String::from("segment,visit,s_mens,s_womens\n");
    for l in src.lines().skip(1) {
        let f: Vec<&str> = l.trim_end().split(',').collect();
        let m = f.len();
        let r: f64 = f[0].parse().unwrap();
        text += &format!("{},{},{},{}\n", f[m - 4], f[m - 3], -r, -r);
    }
    std::fs::write(&p, text).unwrap();
    let v = ok_json(&[
        "uplift",
        "evaluate",
        "--data",
        p.to_str().unwrap(),
        "--treatment",
        "segment",
        "--control",
        "No E-Mail",
        "--treated",
        "Mens E-Mail,Womens E-Mail",
        "--outcome",
        "visit",
        "--score",
        "s_mens,s_womens",
        "--ties",
        "row-order",
        "--tie-tolerance",
        "0",
        "--format",
        "json",
    ]);
    let rf: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("reference/uplift_metrics.json")).unwrap(),
    )
    .unwrap();
    for arm in ["Mens E-Mail", "Womens E-Mail"] {
        for key in [
            "qini_auc",
            "uplift_auc",
            "uplift_at_k_by_group",
            "wau_overall",
        ] {
            let got = effect(&v, &format!("{key} ({arm})"));
            let want = rf["arms"]["results"][arm][key].as_f64().unwrap();
            assert!((got - want).abs() < 1e-9, "{arm} {key}: {got} vs {want}");
        }
    }
}

#[test]
fn bad_input_exits_2() {
    let f = toy_file();
    let f = f.to_str().unwrap();
    for (args, needle) in [
        (vec!["--score", "bad"], "`bad` at row 6"),
        (vec!["--score", "nope"], "nope"),
        (vec!["--score", "score", "--k", "1.5"], "k"),
        (
            vec!["--score", "score", "--control", "7"],
            "control value `7`",
        ),
        (
            vec!["--score", "score,score"],
            "need as many --score columns",
        ),
    ] {
        let mut all = vec![
            "uplift",
            "evaluate",
            "--data",
            f,
            "--treatment",
            "w",
            "--outcome",
            "y",
        ];
        all.extend(args.iter());
        let out = run(&all);
        assert_eq!(out.status.code(), Some(2), "{all:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{all:?}: {err}");
    }
}

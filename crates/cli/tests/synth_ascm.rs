//! End-to-end tests of `causalkit synth --method ascm` on California Prop 99.
//!
//! Reference numbers: reference/ascm.json (reference/scripts/ascm_reference.py): a numpy
//! re-derivation of the augsynth R package (ridge ASCM, Ben-Michael, Feller & Rothstein 2021)
//! with an exact simplex QP, and pysyncon 1.7.0 `AugSynth` at fixed lambdas.

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

fn ok_json(args: &[&str]) -> Value {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON object")
}

fn reference() -> Value {
    let s = std::fs::read_to_string(root().join("reference/ascm.json")).unwrap();
    serde_json::from_str(&s).unwrap()
}

const BASE: [&str; 14] = [
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
    "--format=json",
];

fn with(extra: &[&'static str]) -> Vec<&'static str> {
    let mut v = BASE.to_vec();
    v.extend_from_slice(extra);
    v
}

fn att(j: &Value) -> &Value {
    j["effects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["label"] == "ATT (mean post-period gap)")
        .unwrap()
}

#[test]
fn ascm_cv_matches_reference_with_conformal_and_placebo() {
    let r = &reference()["prop99"]["numpy"];
    let j = ok_json(&with(&[
        "--method",
        "ascm",
        "--placebo",
        "38",
        "--alpha",
        "0.1",
    ]));
    let a = att(&j);
    assert!((a["estimate"].as_f64().unwrap() - r["att"].as_f64().unwrap()).abs() < 1e-8);
    assert_eq!(
        a["p_value"].as_f64().unwrap(),
        r["placebo_p_value"].as_f64().unwrap()
    );
    let d = &j["diagnostics"];
    let lam = r["lambda"].as_f64().unwrap();
    assert!((d["lambda"].as_f64().unwrap() - lam).abs() < 1e-10 * lam);
    assert_eq!(d["lambda_cv"]["rule"], "1se");
    assert_eq!(d["lambda_cv"]["lambdas"].as_array().unwrap().len(), 21);
    for (name, w) in r["weights"].as_object().unwrap() {
        let ours = d["weights"][name].as_f64().unwrap();
        assert!((ours - w.as_f64().unwrap()).abs() < 1e-9, "{name}");
    }
    // per-period rows carry conformal intervals and p(0) equal to the re-derivation's
    let p0 = r["conformal_p0"].as_array().unwrap();
    let gaps: Vec<&Value> = j["effects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["label"].as_str().unwrap().starts_with("gap["))
        .collect();
    assert_eq!(gaps.len(), 12);
    for (g, p) in gaps.iter().zip(p0) {
        assert_eq!(g["p_value"].as_f64(), p.as_f64());
        let (lo, hi, est) = (
            g["ci_low"].as_f64().unwrap(),
            g["ci_high"].as_f64().unwrap(),
            g["estimate"].as_f64().unwrap(),
        );
        assert!(lo <= est && est <= hi);
    }
}

#[test]
fn ascm_fixed_lambda_matches_pysyncon_and_plots() {
    let r = &reference()["prop99"]["pysyncon_fixed"]["1000.0"];
    let dir = root().join("target/test-plots/ascm");
    let _ = std::fs::remove_dir_all(&dir);
    let dir_s = dir.to_str().unwrap().to_string();
    let mut args = with(&["--method", "ascm", "--lambda", "1000", "--plot"]);
    let leaked: &'static str = Box::leak(dir_s.into_boxed_str());
    args.push(leaked);
    let j = ok_json(&args);
    // pysyncon's SLSQP weights are accurate to ~1e-6; observed ATT difference 2e-5.
    assert!((att(&j)["estimate"].as_f64().unwrap() - r["att"].as_f64().unwrap()).abs() < 1e-4);
    for (name, w) in r["weights"].as_object().unwrap() {
        let ours = j["diagnostics"]["weights"][name].as_f64().unwrap();
        assert!((ours - w.as_f64().unwrap()).abs() < 1e-5, "{name}");
    }
    assert_eq!(j["diagnostics"]["lambda_cv"], "none: lambda given");
    for f in ["paths", "gap", "placebo_gaps", "rmspe_ratio"] {
        for ext in ["svg", "png"] {
            assert!(dir.join(format!("{f}.{ext}")).exists(), "{f}.{ext}");
        }
    }
}

#[test]
fn ascm_bad_flags_exit_2() {
    for (extra, msg) in [
        (&["--method", "ascm", "--lambda=-3"][..], "lambda"),
        (
            &["--method", "sdid", "--lambda", "3"][..],
            "--lambda applies",
        ),
        (&["--method", "sc", "--lambda", "3"][..], "--lambda applies"),
        (&["--method", "ascm", "--se", "placebo"][..], "--se"),
        (
            &["--method", "ascm", "--predictors", "outcome:1980"][..],
            "--predictors",
        ),
    ] {
        let out = run(&with(extra));
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(msg), "{extra:?}: {err}");
    }
}

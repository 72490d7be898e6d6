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

/// Writes the CPS panel of reference/ascm_sdid_covariates.json (synthdid-py's CPS extract,
/// artificial block treatment of 8 states from 2010) as a CSV; `blank` empties one urate cell.
fn cps_csv(name: &str, blank: Option<(usize, usize)>) -> String {
    let r = reference_cov();
    let d = &r["data"];
    let units = d["units"].as_array().unwrap();
    let years = d["years"].as_array().unwrap();
    let treated: Vec<&str> = d["treated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let start = d["treatment_start"].as_i64().unwrap();
    let mut s = String::from("state,year,log_wage,urate,hours,treated\n");
    for (i, u) in units.iter().enumerate() {
        let u = u.as_str().unwrap();
        for (j, y) in years.iter().enumerate() {
            let y = y.as_i64().unwrap();
            let urate = if blank == Some((i, j)) {
                String::new()
            } else {
                d["urate"][i][j].as_f64().unwrap().to_string()
            };
            s.push_str(&format!(
                "{u},{y},{},{urate},{},{}\n",
                d["log_wage"][i][j].as_f64().unwrap(),
                d["hours"][i][j].as_f64().unwrap(),
                u8::from(treated.contains(&u) && y >= start)
            ));
        }
    }
    let dir = root().join("target/test-data");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, s).unwrap();
    path.to_str().unwrap().to_string()
}

fn reference_cov() -> Value {
    let s = std::fs::read_to_string(root().join("reference/ascm_sdid_covariates.json")).unwrap();
    serde_json::from_str(&s).unwrap()
}

fn cps_args(path: &str, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "synth",
        "--data",
        path,
        "--unit",
        "state",
        "--time",
        "year",
        "--outcome",
        "log_wage",
        "--treated",
        "treated",
        "--format=json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

#[test]
fn sdid_covariates_match_synthdid_py_and_placebo_is_seeded() {
    let r = reference_cov();
    let path = cps_csv("cps_cov.csv", None);
    for (method, cov, key) in [
        ("sdid", "urate,hours", "sdid:urate,hours"),
        ("sdid-sc", "urate", "sc:urate"),
        ("did", "urate", "did:urate"),
    ] {
        let args = cps_args(
            &path,
            &["--method", method, "--covariates", cov, "--se", "none"],
        );
        let refs: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        let j = ok_json(&refs);
        let want = &r["fits"][key];
        let est = j["effects"][0]["estimate"].as_f64().unwrap();
        assert!(
            (est - want["estimate"].as_f64().unwrap()).abs() < 1e-10,
            "{key}: {est}"
        );
        let b0 = j["diagnostics"]["covariate_beta"]["urate"]
            .as_f64()
            .unwrap();
        assert!(
            (b0 - want["beta"][0].as_f64().unwrap()).abs() < 1e-10,
            "{key}: beta"
        );
    }
    let args = cps_args(
        &path,
        &[
            "--method",
            "sdid",
            "--covariates",
            "urate",
            "--placebo",
            "3",
            "--seed",
            "5",
        ],
    );
    let refs: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    let a = ok_json(&refs);
    let b = ok_json(&refs);
    assert_eq!(a["effects"][0]["std_error"], b["effects"][0]["std_error"]);
    assert!(a["effects"][0]["std_error"].as_f64().unwrap() > 0.0);
}

#[test]
fn sdid_covariate_errors_exit_2() {
    let path = cps_csv("cps_cov_missing.csv", Some((2, 3)));
    let args = cps_args(
        &path,
        &["--method", "sdid", "--covariates", "urate", "--se", "none"],
    );
    let refs: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    let out = run(&refs);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("covariate column `urate`") && err.contains("1982"),
        "{err}"
    );
    let path = cps_csv("cps_cov.csv", None);
    for (extra, msg) in [
        (&["--method", "sdid", "--covariates", "nope"][..], "nope"),
        (
            &[
                "--method",
                "sdid",
                "--covariates",
                "urate",
                "--se",
                "jackknife",
            ][..],
            "placebo (or none)",
        ),
        (
            &["--method", "ascm", "--covariates", "urate"][..],
            "--covariates",
        ),
    ] {
        let args = cps_args(&path, extra);
        let refs: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        let out = run(&refs);
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(msg), "{extra:?}: {err}");
    }
}

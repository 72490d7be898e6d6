//! End-to-end tests of `causalkit synth` on California Prop 99.
//!
//! Reference numbers: /work/shared/reference/synth.md (AER 2021 Table 1 / R synthdid README:
//! SDID −15.6038, SC −19.6197, DiD −27.3491, effective N0 16.388, T0 2.783) and
//! reference/synth.json (synthdid-py 0.1.0, reference/scripts/synth_reference.py).

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

fn bad(args: &[&str]) -> String {
    let out = run(args);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?} should exit 2; stdout {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const BASE: [&str; 12] = [
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
];

fn args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v: Vec<&str> = BASE.to_vec();
    v.push("1989");
    v.extend_from_slice(extra);
    v
}

#[test]
fn sdid_sc_did_estimates_and_weights_in_json() {
    for (method, want) in [("sdid", -15.6038), ("sdid-sc", -19.6197), ("did", -27.3491)] {
        let j = ok_json(&args(&[
            "--method", method, "--se", "none", "--format", "json",
        ]));
        let att = j["effects"][0]["estimate"].as_f64().unwrap();
        assert!((att - want).abs() < 5e-5, "{method}: {att} vs {want}");
        let w = j["diagnostics"]["unit_weights"].as_object().unwrap();
        assert_eq!(w.len(), 38);
        let sum: f64 = w.values().map(|v| v.as_f64().unwrap()).sum();
        assert!((sum - 1.0).abs() < 1e-9);
    }
    let j = ok_json(&args(&[
        "--method", "sdid", "--se", "none", "--format", "json",
    ]));
    let d = &j["diagnostics"];
    assert!((d["effective_controls"].as_f64().unwrap() - 16.388).abs() < 5e-4);
    assert!((d["effective_pre_periods"].as_f64().unwrap() - 2.783).abs() < 5e-4);
    assert_eq!(d["time_weights"].as_object().unwrap().len(), 19);
    assert!(d["time_weights"]["1988"].as_f64().unwrap() > 0.3);
}

#[test]
fn placebo_se_is_seeded_and_reproducible() {
    let a = ok_json(&args(&[
        "--placebo",
        "40",
        "--seed",
        "5",
        "--format",
        "json",
    ]));
    let b = ok_json(&args(&[
        "--placebo",
        "40",
        "--seed",
        "5",
        "--format",
        "json",
    ]));
    let se = a["effects"][0]["std_error"].as_f64().unwrap();
    assert_eq!(se, b["effects"][0]["std_error"].as_f64().unwrap());
    assert!(se > 2.0 && se < 30.0, "{se}");
    assert_eq!(a["diagnostics"]["se_method"], "placebo");
    assert_eq!(a["diagnostics"]["replications"], 40);
    let lo = a["effects"][0]["ci_low"].as_f64().unwrap();
    let hi = a["effects"][0]["ci_high"].as_f64().unwrap();
    assert!((hi - lo - 2.0 * 1.959964 * se).abs() < 1e-4);
}

#[test]
fn table_output_lists_the_largest_weights() {
    let out = run(&args(&["--se", "none"]));
    assert!(out.status.success());
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(
        s.contains("largest unit weights") && s.contains("Nevada"),
        "{s}"
    );
}

#[test]
fn bad_inputs_exit_2_with_clear_messages() {
    let e = bad(&args(&["--se", "bootstrap"]));
    assert!(e.contains("more than one treated unit"), "{e}");
    let mut v = BASE.to_vec();
    v[10] = "Atlantis";
    v.push("1989");
    let e = bad(&v);
    assert!(e.contains("Atlantis"), "{e}");
    let e = bad(&[
        "synth",
        "--data",
        "datasets/california_prop99.csv",
        "--unit",
        "State",
        "--time",
        "Year",
        "--outcome",
        "PacksPerCapita",
    ]);
    assert!(e.contains("--treated"), "{e}");
    let mut v = args(&[]);
    v[8] = "Nope";
    let e = bad(&v);
    assert!(e.contains("Nope"), "{e}");
    let e = bad(&args(&["--alpha", "1.5"]));
    assert!(e.contains("1.5"), "{e}");
}

#[test]
fn several_treated_units_via_a_column_and_jackknife() {
    // Treated column marking California (1989+) and Nevada, Utah (1995+): staggered adoption.
    let src = std::fs::read_to_string(root().join("datasets/california_prop99.csv")).unwrap();
    let mut out = String::from("State,Year,PacksPerCapita,treated\n");
    for line in src.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let year: f64 = f[1].parse().unwrap();
        let t = f[3] == "1" || ((f[0] == "Nevada" || f[0] == "Utah") && year >= 1995.0);
        out.push_str(&format!("{},{},{},{}\n", f[0], f[1], f[2], u8::from(t)));
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("synth-cli");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("stag.csv");
    std::fs::write(&path, out).unwrap();
    let p = path.to_str().unwrap();
    let j = ok_json(&[
        "synth",
        "--data",
        p,
        "--unit",
        "State",
        "--time",
        "Year",
        "--outcome",
        "PacksPerCapita",
        "--treated",
        "treated",
        "--se",
        "jackknife",
        "--format",
        "json",
    ]);
    // reference/synth.json prop99_staggered.sdid (synthdid-py staggered_synthdid_estimate).
    let r: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("reference/synth.json")).unwrap(),
    )
    .unwrap();
    let want = r["prop99_staggered"]["sdid"]["estimate"].as_f64().unwrap();
    let want_se = r["prop99_staggered"]["sdid"]["jackknife_se"]
        .as_f64()
        .unwrap();
    assert!((j["effects"][0]["estimate"].as_f64().unwrap() - want).abs() < 1e-6 * want.abs());
    assert!((j["effects"][0]["std_error"].as_f64().unwrap() - want_se).abs() < 1e-6 * want_se);
    assert_eq!(j["diagnostics"]["cohorts"].as_array().unwrap().len(), 2);
}

#[test]
fn plots_are_written() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("synth-plots");
    let _ = std::fs::remove_dir_all(&dir);
    let out = run(&args(&["--se", "none", "--plot", dir.to_str().unwrap()]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for stem in ["paths", "gap", "placebo_gaps", "rmspe_ratio"] {
        for ext in ["svg", "png"] {
            let f = dir.join(format!("{stem}.{ext}"));
            assert!(
                std::fs::metadata(&f)
                    .map(|m| m.len() > 1000)
                    .unwrap_or(false),
                "{}",
                f.display()
            );
        }
    }
}

#[test]
fn numeric_options_are_range_checked_before_any_work() {
    // Issue 11: these used to panic (capacity overflow, exit 101), abort (exit 134) or
    // print NaN intervals with exit 0. Each is now exit 2 naming the flag and the bound.
    for (flag, value, words) in [
        (
            "--placebo",
            "18446744073709551615",
            &["--placebo", "1000000"][..],
        ),
        ("--placebo", "100000000000", &["--placebo", "memory"][..]),
        (
            "--replications",
            "18446744073709551615",
            &["--replications", "1000000"][..],
        ),
        ("--replications", "1", &["--replications", "at least 2"][..]),
        ("--alpha", "1e-17", &["--alpha", "1e-10"][..]),
        ("--alpha", "NaN", &["--alpha"][..]),
        ("--lambda", "inf", &["--lambda"][..]),
        (
            "--max-placebo-fits",
            "18446744073709551615",
            &["--max-placebo-fits"][..],
        ),
    ] {
        let e = bad(&args(&[flag, value]));
        for w in words {
            assert!(e.contains(w), "{flag} {value}: {e}");
        }
        assert!(!e.contains("invalid argument `p`"), "{e}");
    }
}

#[test]
fn unit_period_and_role_options_are_checked_against_the_data() {
    let mut v = BASE.to_vec();
    v[10] = "Atlantis";
    v.push("1989");
    let e = bad(&v);
    assert!(
        e.contains("--treated-unit")
            && e.contains("`State`")
            && e.contains("Alabama")
            && e.contains("39 in all"),
        "{e}"
    );
    let mut v = BASE.to_vec();
    v.push("1989.5");
    let e = bad(&v);
    assert!(
        e.contains("--treatment-start") && e.contains("`Year`") && e.contains("1970"),
        "{e}"
    );
    let e = bad(&args(&["--covariates", "PacksPerCapita"]));
    assert!(
        e.contains("`PacksPerCapita`") && e.contains("--covariates"),
        "{e}"
    );
}

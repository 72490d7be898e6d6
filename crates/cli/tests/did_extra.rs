//! End-to-end tests of `causalkit did` added for the imputation pre-trend test and
//! Callaway-Sant'Anna on unbalanced panels.
//!
//! Sources: reference/did_imputation.json (reference/scripts/did_imputation_reference.py:
//! pyfixest 0.60 feols on the untreated rows with lead dummies, CRV1, Wald F).

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

const MPDTA: [&str; 11] = [
    "did",
    "--data",
    "datasets/mpdta.csv",
    "--unit",
    "countyreal",
    "--time",
    "year",
    "--outcome",
    "lemp",
    "--cohort",
    "first.treat",
];

fn mpdta(extra: &[&str]) -> Output {
    let mut a = MPDTA.to_vec();
    a.extend(extra);
    run(&a)
}

fn ok_json(extra: &[&str]) -> Value {
    let mut a = extra.to_vec();
    a.extend(["--format", "json"]);
    let out = mpdta(&a);
    assert!(
        out.status.success(),
        "{a:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON object")
}

fn bad(extra: &[&str]) -> String {
    let out = mpdta(extra);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{extra:?} should exit 2; stdout {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn reference(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join("reference").join(name)).unwrap())
        .unwrap()
}

#[test]
fn imputation_pretrend_test_in_json_and_table() {
    let r = reference("did_imputation.json");
    let v = ok_json(&["--method", "imputation", "--pretrend-leads", "3"]);
    let d = &v["diagnostics"]["pretrend_test"];
    let want = &r["pretrend_k3"];
    let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
    assert!(rel(d["F"].as_f64().unwrap(), want["F"].as_f64().unwrap()) < 1e-6);
    assert!(
        rel(
            d["p_value"].as_f64().unwrap(),
            want["p_value"].as_f64().unwrap()
        ) < 1e-6
    );
    assert_eq!(d["leads"], 3);
    assert_eq!(d["df_den"].as_f64().unwrap(), 479.0);
    let lead = v["effects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["label"] == "pre e=-2")
        .expect("lead effect");
    assert!(
        rel(
            lead["estimate"].as_f64().unwrap(),
            want["coef"]["-2"].as_f64().unwrap()
        ) < 1e-8
    );
    // The ATT itself is unchanged by the test.
    let att = v["effects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["label"] == "ATT")
        .unwrap();
    assert!((att["estimate"].as_f64().unwrap() - -0.04771).abs() < 5e-6);
    // Table: an indented block for the test (no one-line JSON).
    let out = mpdta(&["--method", "imputation", "--pretrend-leads", "3"]);
    let table = String::from_utf8_lossy(&out.stdout);
    let block = table
        .split_once("pretrend_test:\n")
        .expect("a pretrend_test block")
        .1;
    assert!(block.lines().any(|l| l == "  leads: 3"), "{block}");
}

#[test]
fn imputation_pretrend_bad_input_exits_2() {
    let e = bad(&["--method", "twfe", "--pretrend-leads", "3"]);
    assert!(e.contains("--pretrend-leads"), "{e}");
    let e = bad(&["--method", "imputation", "--pretrend-leads", "4"]);
    assert!(e.contains("pre e=-4") && e.contains("fewer leads"), "{e}");
}

/// mpdta without every 7th row (0-based rows i % 7 == 6), written to a temporary CSV.
fn unbalanced_csv() -> PathBuf {
    let text = std::fs::read_to_string(root().join("datasets/mpdta.csv")).unwrap();
    let mut lines = text.lines();
    let mut out = String::from(lines.next().unwrap());
    out.push('\n');
    for (i, l) in lines.filter(|l| !l.is_empty()).enumerate() {
        if i % 7 != 6 {
            out.push_str(l);
            out.push('\n');
        }
    }
    let path = std::env::temp_dir().join(format!("ck-mpdta-unbalanced-{}.csv", std::process::id()));
    std::fs::write(&path, out).unwrap();
    path
}

#[test]
fn cs_unbalanced_panel_matches_csdid() {
    // Reference: reference/did_cs_unbalanced.json (csdid 0.4.3, allow_unbalanced_panel=True,
    // outcome regression, never-treated controls, analytic SEs); tolerance 1e-6 relative.
    let r = reference("did_cs_unbalanced.json");
    let spec = &r["specs"]["reg_never"];
    let path = unbalanced_csv();
    let data = path.display().to_string();
    let args = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = MPDTA.iter().map(|s| s.to_string()).collect();
        a[2] = data.clone();
        a.extend(["--method", "cs", "--est", "or", "--format", "json"].map(String::from));
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let go = |extra: &[&str]| -> Value {
        let a = args(extra);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let out = run(&a);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let v = go(&["--allow-unbalanced-panel"]);
    let effect = |v: &Value, label: &str| -> (f64, f64) {
        let e = v["effects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["label"] == label)
            .unwrap_or_else(|| panic!("no {label}"));
        (
            e["estimate"].as_f64().unwrap(),
            e["std_error"].as_f64().unwrap(),
        )
    };
    let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
    let (att, se) = effect(&v, "ATT(2004,2004)");
    assert!(rel(att, spec["att"][0].as_f64().unwrap()) < 1e-6);
    assert!(rel(se, spec["se"][0].as_f64().unwrap()) < 1e-6);
    let (att, se) = effect(&v, "ATT (simple)");
    assert!(
        rel(
            att,
            spec["aggte"]["simple"]["overall_att"].as_f64().unwrap()
        ) < 1e-6
    );
    assert!(rel(se, spec["aggte"]["simple"]["overall_se"].as_f64().unwrap()) < 1e-6);
    assert_eq!(v["diagnostics"]["n_units"], 500);
    assert!(v["diagnostics"]["unbalanced_panel"].is_string());
    // Without the flag, the 357 incomplete counties are dropped with a warning.
    let v = go(&[]);
    assert_eq!(v["diagnostics"]["n_units"], 143);
    assert!(v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("dropped 357 units")));
    // The flag is for cs only, and not with --repeated-cross-section.
    let e = bad(&["--method", "twfe", "--allow-unbalanced-panel"]);
    assert!(e.contains("--allow-unbalanced-panel"), "{e}");
    let out = mpdta(&[
        "--method",
        "cs",
        "--allow-unbalanced-panel",
        "--repeated-cross-section",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let _ = std::fs::remove_file(path);
}

#[test]
fn imputation_two_way_clustering() {
    // Reference: reference/did_imputation.json — "imputation_clustered" (numpy
    // re-derivation of BJS Theorem 3, two-way = S_A + S_B - S_AxB) and "pretrend_k3_twoway"
    // (pyfixest CRV1 by countyreal+year). Tolerance 1e-6 relative.
    let r = reference("did_imputation.json");
    let v = ok_json(&[
        "--method",
        "imputation",
        "--cluster",
        "countyreal,year",
        "--pretrend-leads",
        "3",
    ]);
    let find = |label: &str| -> &Value {
        v["effects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["label"] == label)
            .unwrap_or_else(|| panic!("no {label}"))
    };
    let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
    let want = r["imputation_clustered"]["ATT"]["se_county_year"]
        .as_f64()
        .unwrap();
    assert!(rel(find("ATT")["std_error"].as_f64().unwrap(), want) < 1e-6);
    // e=1: negative two-way variance -> no standard error, and a warning naming it.
    assert!(find("e=1")["std_error"].is_null());
    assert!(v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("variance of e=1 is negative")));
    let f = v["diagnostics"]["pretrend_test"]["F"].as_f64().unwrap();
    assert!(rel(f, r["pretrend_k3_twoway"]["F"].as_f64().unwrap()) < 1e-6);
    assert!(v["diagnostics"]["vcov"]
        .as_str()
        .unwrap()
        .contains("two-way"));
    // Three cluster columns: exit 2.
    let e = bad(&[
        "--method",
        "imputation",
        "--cluster",
        "countyreal,year,lpop",
    ]);
    assert!(e.contains("--cluster"), "{e}");
}

#[test]
fn numeric_options_are_range_checked_before_any_work() {
    // Issue 11: `--method cs --alpha 1e-17` panicked in the normal quantile (exit 101);
    // huge --bootstrap counts overflowed capacity or grew memory without bound.
    for (extra, words) in [
        (
            &["--method", "cs", "--alpha", "1e-17"][..],
            &["--alpha", "1e-10"][..],
        ),
        (&["--alpha", "NaN"][..], &["--alpha"][..]),
        (
            &["--bootstrap", "18446744073709551615"][..],
            &["--bootstrap", "memory"][..],
        ),
        (
            &["--method", "cs", "--bootstrap", "4000000000"][..],
            &["--bootstrap", "memory"][..],
        ),
        (&["--bootstrap", "10"][..], &["--bootstrap", "99"][..]),
        (
            &["--method", "event-study", "--leads=-1"][..],
            &["--leads"][..],
        ),
    ] {
        let e = bad(extra);
        for w in words {
            assert!(e.contains(w), "{extra:?}: {e}");
        }
    }
}

#[test]
fn outcome_cannot_be_its_own_covariate_or_regressor() {
    let e = bad(&["--covariates", "lemp"]);
    assert!(
        e.contains("`lemp`") && e.contains("--outcome") && e.contains("--covariates"),
        "{e}"
    );
    // `causalkit regress` goes through the same role check.
    let out = run(&[
        "regress",
        "--data",
        "datasets/mpdta.csv",
        "--outcome",
        "lemp",
        "--regressors",
        "lpop,lemp",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("`lemp`") && e.contains("--regressors"), "{e}");
}

/// Prop 99 with 0/1 columns `treat` (California) and `post` (1989 on).
fn prop99_2x2() -> PathBuf {
    let text = std::fs::read_to_string(root().join("datasets/california_prop99.csv")).unwrap();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if i == 0 {
            out += &format!("{line},treat,post\n");
        } else {
            let f: Vec<&str> = line.split(',').collect();
            let treat = u8::from(f[0] == "California");
            let post = u8::from(f[1].parse::<i64>().unwrap() >= 1989);
            out += &format!("{line},{treat},{post}\n");
        }
    }
    let dir = std::env::temp_dir().join(format!("ck-did-extra-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("prop99_2x2.csv");
    std::fs::write(&f, out).unwrap();
    f
}

#[test]
fn two_by_two_counts_units_and_warns_about_one_treated_cluster() {
    // Issue 11: the 2x2 on Prop 99 reported n_units 1209 and n_treated_units 31 (rows), and
    // CRV1's p = 5e-12 with a single treated cluster came without a warning.
    let f = prop99_2x2();
    let fs = f.display().to_string();
    let base = [
        "did",
        "--data",
        fs.as_str(),
        "--unit",
        "State",
        "--time",
        "Year",
        "--outcome",
        "PacksPerCapita",
        "--treated",
        "treat",
        "--post",
        "post",
        "--format",
        "json",
    ];
    let out = run(&base);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &v["diagnostics"];
    assert_eq!(d["n_units"], 39);
    assert_eq!(d["n_treated_units"], 1);
    assert_eq!(d["n_obs"], 1209);
    // The diagnostics name the user's outcome column.
    assert_eq!(d["outcome"], "PacksPerCapita");
    let w = v["warnings"].to_string();
    assert!(
        w.contains("1 treated cluster") && w.contains("wild cluster bootstrap"),
        "{w}"
    );
    // A non-0/1 treated column is named as the user named it.
    let out = run(&[
        "did",
        "--data",
        fs.as_str(),
        "--unit",
        "State",
        "--time",
        "Year",
        "--outcome",
        "PacksPerCapita",
        "--treated",
        "Year",
        "--post",
        "post",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("`Year`") && e.contains("0 or 1"), "{e}");
}

#[test]
fn duplicate_unit_periods_name_the_users_unit_and_rows() {
    // Issue 11: Callaway-Sant'Anna said "unit 0 appears more than once" for unit `1`.
    let dir = std::env::temp_dir().join(format!("ck-did-dup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("dup.csv");
    let mut s = String::from("id,t,y,g\n");
    for (u, g) in [(1, 3), (2, 0), (3, 0), (4, 3)] {
        for t in 1..=4 {
            s += &format!("{u},{t},{},{g}\n", u * t);
        }
    }
    s += "1,2,9,3\n";
    std::fs::write(&f, s).unwrap();
    let fs = f.display().to_string();
    for method in ["cs", "twfe"] {
        let out = run(&[
            "did",
            "--data",
            &fs,
            "--unit",
            "id",
            "--time",
            "t",
            "--outcome",
            "y",
            "--cohort",
            "g",
            "--method",
            method,
        ]);
        assert_eq!(out.status.code(), Some(2), "{method}");
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(
            e.contains("unit `1`")
                && e.contains("period 2")
                && e.contains("row 2 (CSV line 3)")
                && e.contains("row 17 (CSV line 18)"),
            "{method}: {e}"
        );
    }
}

#[test]
fn table_mode_has_no_json_blobs_and_charts_state_their_intervals() {
    let dir = std::env::temp_dir().join(format!("ck-did-plots-{}", std::process::id()));
    let d = dir.display().to_string();
    let out = mpdta(&["--method", "cs", "--bootstrap", "199", "--plot", &d]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout);
    // The uniform bands are a small table (one row per cell), not a one-line JSON object.
    assert!(!table.contains("uniform_ci: {"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("ATT(2004,2006)") && l.contains(", ")),
        "{table}"
    );
    let svg = std::fs::read_to_string(dir.join("event_study.svg")).unwrap();
    assert!(
        svg.contains("95% pointwise"),
        "event study chart states its band"
    );
    let trends = std::fs::read_to_string(dir.join("cohort_trends.svg")).unwrap();
    assert!(
        trends.contains("cohort 2004") && trends.contains("cohort 2007"),
        "cohort trend lines are labelled in the legend"
    );
}

//! `causalkit ab plan` (issue 11): group-sequential boundaries, the huge-n t test, integer
//! counts and range-checked flags.

mod common;
use common::*;
use std::time::Instant;

fn plan_json(extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["ab", "plan"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--format", "json"]);
    ok_json(&args)
}

const SEQ: &[&str] = &[
    "--proportion",
    "0.1",
    "--effect",
    "0.01",
    "--power",
    "0.9",
    "--looks",
    "0.2,0.4,0.6,0.8,1",
];

#[test]
fn obf_spending_boundaries_match_published_values() {
    let mut a = SEQ.to_vec();
    a.extend_from_slice(&["--spending", "obf"]);
    let v = plan_json(&a);
    let d = &v["diagnostics"];
    let b: Vec<f64> = d["boundaries"]
        .as_array()
        .unwrap()
        .iter()
        .map(num)
        .collect();
    // Published Lan-DeMets O'Brien-Fleming spending boundaries, K = 5 equally spaced looks,
    // two-sided alpha = 0.05 (ldbounds / gsDesign; as in crates/ab/tests/sequential.rs):
    // 4.877, 3.357, 2.680, 2.290, 2.031, printed to 3 decimals (tolerance 1.5e-3 as there).
    for (got, want) in b.iter().zip([4.877, 3.357, 2.680, 2.290, 2.031]) {
        assert!((got - want).abs() < 1.5e-3, "{b:?}");
    }
    assert_eq!(b.len(), 5);
    // Nominal alpha per look = 2(1 - Phi(b_k)); last look 2(1 - Phi(2.031)) = 0.0423 (3 s.f.).
    let nominal: Vec<f64> = d["nominal_alpha"]
        .as_array()
        .unwrap()
        .iter()
        .map(num)
        .collect();
    assert!((nominal[4] - 0.0423).abs() < 3e-4, "{nominal:?}");
    assert!(nominal.windows(2).all(|w| w[0] < w[1]), "{nominal:?}");
    // An O'Brien-Fleming-type design inflates the maximum sample size only slightly: above 1,
    // below Pocock's 1.207 (Jennison & Turnbull 2000 §2.5, K = 5, alpha 0.05, power 0.9).
    let r = num(&d["max_sample_size_inflation"]);
    assert!(r > 1.0 && r < 1.1, "{r}");
    let n = num(&d["n_total"]);
    assert!(d["max_n_total"].is_u64());
    assert!((num(&d["max_n_total"]) - (n * r).ceil()).abs() < 0.5);
    // One effect row per look, labelled with its information fraction.
    assert!((num(&effect(&v, "look 1 (t = 0.2) z boundary")["estimate"]) - b[0]).abs() < 1e-12);
    assert!((num(&effect(&v, "look 5 (t = 1) z boundary")["estimate"]) - b[4]).abs() < 1e-12);
}

#[test]
fn pocock_and_power_spending_inflate_more_than_obf() {
    let infl = |spending: &str| {
        let mut a = SEQ.to_vec();
        a.extend_from_slice(&["--spending", spending]);
        num(&plan_json(&a)["diagnostics"]["max_sample_size_inflation"])
    };
    let (obf, pocock, power1) = (infl("obf"), infl("pocock"), infl("power:1"));
    // Pocock-type spending front-loads alpha: its inflation lies near J&T's classical Pocock
    // R_P = 1.207 (K = 5, alpha 0.05, power 0.9; §2.5) and well above the OBF-type design.
    assert!(pocock > obf + 0.05, "{pocock} vs {obf}");
    assert!((pocock - 1.207).abs() < 0.05, "{pocock}");
    assert!(power1 > obf && power1 < pocock + 0.05, "{power1}");
}

#[test]
fn sequential_table_has_a_row_per_look_and_no_empty_columns() {
    let mut args = vec!["ab", "plan"];
    args.extend_from_slice(SEQ);
    args.extend_from_slice(&["--spending", "obf"]);
    let t = ok(&args);
    for k in 1..=5 {
        assert!(t.contains(&format!("look {k} (t = ")), "{t}");
    }
    assert!(
        t.contains("nominal alpha") && t.contains("max_sample_size_inflation"),
        "{t}"
    );
    assert!(!t.contains("Std. Error") && !t.contains("CI low"), "{t}");
}

#[test]
fn looks_and_spending_are_validated() {
    let base = [
        "ab",
        "plan",
        "--proportion",
        "0.1",
        "--effect",
        "0.01",
        "--power",
        "0.8",
    ];
    for (extra, words) in [
        (
            vec!["--looks", "0.5,0.4,1", "--spending", "obf"],
            vec!["--looks", "increasing"],
        ),
        (
            vec!["--looks", "0.5,0.8", "--spending", "obf"],
            vec!["--looks", "last look must be 1"],
        ),
        (
            vec!["--looks", "0,0.5,1", "--spending", "obf"],
            vec!["--looks"],
        ),
        (
            vec!["--looks", "0.5,1.5", "--spending", "obf"],
            vec!["--looks"],
        ),
        (
            vec!["--looks", "0.5,1", "--spending", "power:0"],
            vec!["RHO > 0"],
        ),
        (
            vec!["--looks", "0.5,1", "--spending", "power:-1"],
            vec!["RHO > 0"],
        ),
        (
            vec!["--looks", "0.5,1", "--spending", "linear"],
            vec!["--spending", "obf"],
        ),
        (vec!["--looks", "0.5,1"], vec!["--spending"]),
        (vec!["--spending", "obf"], vec!["--looks"]),
    ] {
        let mut a: Vec<&str> = base.to_vec();
        a.extend(extra.iter());
        let e = bad(&a);
        for w in words {
            assert!(e.contains(w), "{a:?}: {e}");
        }
    }
}

#[test]
fn t_test_with_huge_n_returns_quickly() {
    let start = Instant::now();
    let v = plan_json(&[
        "--mean",
        "0",
        "--sd",
        "1",
        "--effect",
        "0.001",
        "--n-total=1e300",
        "--t-test",
    ]);
    assert!(
        start.elapsed().as_secs_f64() < 10.0,
        "{:?}",
        start.elapsed()
    );
    // Any non-zero effect is detected with certainty at 5e299 units per arm.
    assert!(
        (num(&v["effects"][0]["estimate"]) - 1.0).abs() < 1e-12,
        "{v}"
    );
}

#[test]
fn counts_are_json_integers() {
    // statsmodels test_power.py case (d = 1, n = 30 per arm): counts print as 30, not 30.0.
    let text = ok(&[
        "ab",
        "plan",
        "--mean",
        "0",
        "--sd",
        "1",
        "--effect",
        "1",
        "--n-total",
        "60",
        "--t-test",
        "--format",
        "json",
    ]);
    assert!(
        text.contains("\"n_control\": 30,") || text.contains("\"n_control\": 30\n"),
        "{text}"
    );
    // Odd total: per-arm sizes are rounded up to whole units (30.5 -> 31).
    let v = plan_json(&[
        "--mean",
        "0",
        "--sd",
        "1",
        "--effect",
        "1",
        "--n-total",
        "61",
        "--t-test",
    ]);
    assert_eq!(v["diagnostics"]["n_control"].as_u64(), Some(31), "{v}");
    // Sample-size mode: per-arm sizes are whole units, reported as integers.
    let v = plan_json(&["--proportion", "0.65", "--effect", "0.02", "--power", "0.8"]);
    let d = &v["diagnostics"];
    for k in ["n_total", "n_control", "n_treatment"] {
        assert!(d[k].is_u64(), "{k}: {d}");
    }
    assert_eq!(
        d["n_total"].as_u64().unwrap(),
        d["n_control"].as_u64().unwrap() + d["n_treatment"].as_u64().unwrap()
    );
    assert!(d["rounding"].as_str().unwrap().contains("rounded up"));
}

#[test]
fn numeric_flags_are_range_checked_by_name() {
    let mean = [
        "--mean", "1", "--sd", "1", "--effect", "0.1", "--power", "0.8",
    ];
    for (flag, value) in [
        ("--power", "0"),
        ("--power", "1"),
        ("--alpha", "1.2"),
        ("--alpha", "0"),
        ("--treatment-share", "1"),
        ("--treatment-share", "-0.5"),
        ("--sd", "-1"),
        ("--sd", "inf"),
        ("--daily-units", "0"),
        ("--cuped-rho", "1"),
        ("--cuped-rho", "-0.2"),
        ("--effect", "nan"),
        ("--mean", "inf"),
    ] {
        let mut a = vec!["ab", "plan"];
        a.extend_from_slice(&mean);
        let kv = format!("{flag}={value}");
        a.push(&kv);
        let e = bad(&a);
        assert!(e.contains(flag), "{kv}: {e}");
    }
    for (flag, value) in [("--proportion", "0"), ("--proportion", "1")] {
        let kv = format!("{flag}={value}");
        let e = bad(&["ab", "plan", &kv, "--effect", "0.01", "--power", "0.8"]);
        assert!(e.contains(flag) && e.contains("(0, 1)"), "{kv}: {e}");
    }
    let e = bad(&[
        "ab",
        "plan",
        "--mean",
        "1",
        "--sd",
        "1",
        "--effect",
        "0.1",
        "--n-total=-5",
    ]);
    assert!(e.contains("--n-total"), "{e}");
    // cuped-rho = 0 is allowed (no variance reduction).
    ok(&[
        "ab",
        "plan",
        "--mean",
        "1",
        "--sd",
        "1",
        "--effect",
        "0.1",
        "--power",
        "0.8",
        "--cuped-rho",
        "0",
    ]);
}

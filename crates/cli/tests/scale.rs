//! Issue 11 ("Scale (critical)"): `causalkit ab --stats FILE --metric m` with millions to
//! billions of units per arm. With 8e6 units per arm the default Welch test used to run at
//! 100% CPU forever (statrs' inverse incomplete beta at ~1.6e7 degrees of freedom), while
//! `--test z` returned at once.
//!
//! GrowthBook-style sufficient statistics (arm, count, main_sum, main_sum_squares, as in
//! `ab.rs`) with 8e6 and 1e9 units per arm, run with the default test and with `--test z`.
//! Checked: exit 0, finite p-values and intervals, and Welch == z to 1e-6 relative, which is
//! what the t distribution must give at ~2e9 degrees of freedom: P(T > t) − P(Z > t) =
//! φ(t)(t³ + t)/(4ν) + O(ν⁻²) (Abramowitz & Stegun 26.7.8), ~1e-9 relative here; at 8e6 per
//! arm (ν ≈ 1.6e7) the same expansion bounds the gap by 1e-6 relative for |t| < 3.5.
//!
//! The run is also guarded against hanging: a child that has not exited after 600 s is killed
//! and the test fails (a liveness guard for the bug above, not a timing assertion; a run takes
//! well under a second).

mod common;
use common::*;

use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs the CLI, failing if it has not exited after 600 s; returns the parsed JSON on exit 0.
fn run_json(args: &[&str]) -> Value {
    let mut child = Command::new(env!("CARGO_BIN_EXE_causalkit"))
        .args(args)
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let start = Instant::now();
    loop {
        match child.try_wait().expect("wait on child") {
            Some(_) => break,
            None if start.elapsed() > Duration::from_secs(600) => {
                child.kill().ok();
                panic!("{args:?} did not return within 600 s (issue 11)");
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    let out = child.wait_with_output().expect("output");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON object")
}

/// Sufficient statistics for n units per arm with means `m_a`, `m_b` and standard deviation
/// `sd`: sum = n m, sum of squares = n (sd² (n − 1)/n + m²).
fn stats_csv(n: f64, m_a: f64, m_b: f64, sd: f64) -> String {
    let row = |arm: &str, m: f64| {
        let sum = n * m;
        let ss = (n - 1.0) * sd * sd + n * m * m;
        format!("{arm},{n},{sum},{ss}\n")
    };
    format!(
        "arm,count,main_sum,main_sum_squares\n{}{}",
        row("A", m_a),
        row("B", m_b)
    )
}

fn effects(v: &Value) -> Vec<&Value> {
    let e = v["effects"].as_array().expect("effects array");
    assert!(!e.is_empty(), "no effects in {v}");
    e.iter().collect()
}

fn num(e: &Value, k: &str) -> f64 {
    e[k].as_f64()
        .unwrap_or_else(|| panic!("{k} missing or not a number in {e}"))
}

fn welch_equals_z(n: f64, m_b: f64, name: &str) {
    let f = tmp(name, &stats_csv(n, 10.0, m_b, 3.0));
    let welch = run_json(&["ab", "--stats", &f, "--metric", "m", "--format", "json"]);
    let z = run_json(&[
        "ab", "--stats", &f, "--metric", "m", "--test", "z", "--format", "json",
    ]);
    let (ew, ez) = (effects(&welch), effects(&z));
    assert_eq!(ew.len(), ez.len(), "{welch}\n{z}");
    for (w, z) in ew.iter().zip(&ez) {
        assert_eq!(w["label"], z["label"]);
        // Interval bounds near 0 are compared on the scale of the interval's width.
        let width = (num(w, "ci_high") - num(w, "ci_low")).abs();
        for k in ["estimate", "std_error", "p_value", "ci_low", "ci_high"] {
            if w[k].is_null() && z[k].is_null() {
                // Not defined for this effect (e.g. Fieller's interval has no SE / p-value).
                continue;
            }
            let (a, b) = (num(w, k), num(z, k));
            assert!(a.is_finite() && b.is_finite(), "{name} {k}: {a} {b}");
            let scale = if k.starts_with("ci_") {
                a.abs().max(b.abs()).max(width)
            } else {
                a.abs().max(b.abs())
            };
            assert!(
                (a - b).abs() <= 1e-6 * scale,
                "{name} {} {k}: Welch {a:e} vs z {b:e} (rel {:.2e})",
                w["label"],
                (a - b).abs() / scale
            );
        }
        if !w["p_value"].is_null() {
            let p = num(w, "p_value");
            assert!(p > 0.0 && p < 1.0, "{name}: p {p}");
        }
        assert!(num(w, "ci_low") < num(w, "ci_high"), "{name}: {w}");
    }
    assert!(
        ew.iter().any(|e| !e["p_value"].is_null()),
        "{name}: no p-value at all"
    );
}

#[test]
fn welch_with_a_billion_units_per_arm_returns_and_equals_z() {
    // se of the difference = 3 sqrt(2/1e9) = 1.34e-4: a 3e-4 lift gives t ~ 2.2 (p ~ 0.025),
    // a 1e-3 lift t ~ 7.5 (p ~ 1e-13, the tail must keep its relative precision).
    welch_equals_z(1e9, 10.0003, "billion_t2.csv");
    welch_equals_z(1e9, 10.001, "billion_t7.csv");
}

#[test]
fn welch_with_eight_million_units_per_arm_returns_and_equals_z() {
    // The issue's own size: se = 3 sqrt(2/8e6) = 1.5e-3; a 3e-3 lift gives t ~ 2.
    welch_equals_z(8e6, 10.003, "eight_million.csv");
}

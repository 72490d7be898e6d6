//! `causalkit ab --scan`: the one-pass streaming aggregation (CSV through polars' streaming
//! engine, Parquet through the direct row-group reader) must give the same effects and the
//! same errors as the in-memory path on the bundled contact-centre data. The in-memory path
//! is itself checked against gbstats/statsmodels in `ab.rs`; here the reference is that path,
//! to 1e-10 relative (the sums are added in a different order, so bit equality is not
//! expected).

mod common;
use common::*;

use serde_json::Value;
use std::path::{Path, PathBuf};

const CSV: &str = "datasets/contact-centre/ab_contacts.csv";

/// The bundled A/B contacts written as Parquet into a fresh directory under the target dir.
fn parquet_copy(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("ab_contacts.parquet");
    causalkit_data::Dataset::read(&root().join(CSV))
        .unwrap()
        .write_parquet(&out)
        .unwrap();
    out
}

/// Every effect of `got` equals the one with the same label in `want`, number by number.
fn same_effects(got: &Value, want: &Value, what: &str) {
    let g = got["effects"].as_array().unwrap();
    let w = want["effects"].as_array().unwrap();
    assert_eq!(g.len(), w.len(), "{what}: number of effects");
    assert!(!w.is_empty(), "{what}: no effects to compare");
    for (eg, ew) in g.iter().zip(w) {
        assert_eq!(eg["label"], ew["label"], "{what}: effect order");
        for k in ["estimate", "std_error", "ci_low", "ci_high", "p_value"] {
            match (eg[k].as_f64(), ew[k].as_f64()) {
                (Some(a), Some(b)) => assert!(
                    (a - b).abs() <= 1e-10 * b.abs().max(1e-12),
                    "{what}: {} {k}: scan {a}, in memory {b}",
                    ew["label"]
                ),
                (a, b) => assert_eq!(a, b, "{what}: {} {k}", ew["label"]),
            }
        }
    }
}

fn args<'a>(data: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "ab",
        "--data",
        data,
        "--arm",
        "arm",
        "--metric",
        "aht=ratio(handle_seconds, count)",
        "--metric",
        "fcr=proportion(fcr)",
        "--metric",
        "csat=mean(csat)",
        "--drop-missing",
        "--format",
        "json",
    ];
    v.extend_from_slice(extra);
    v
}

#[test]
fn scan_matches_in_memory_on_csv_and_parquet() {
    let pq = parquet_copy("scan_matches");
    let pq = pq.to_str().unwrap();
    for extra in [
        vec!["--covariate", "pre_handle_seconds"],
        vec!["--segment", "customer_tier", "--adjust", "holm"],
        // The bundled data is randomised by contact: each contact is its own unit here, which
        // still runs the unit-level (summed per unit, delta method) path.
        vec!["--unit", "contact_id"],
        vec!["--stratify", "customer_tier"],
    ] {
        let want = ok_json(&args(CSV, &extra));
        let mut with_scan = extra.clone();
        with_scan.push("--scan");
        for file in [CSV, pq] {
            let got = ok_json(&args(file, &with_scan));
            same_effects(&got, &want, &format!("{file} {extra:?}"));
            assert!(
                got["diagnostics"]["source"]
                    .as_str()
                    .unwrap()
                    .ends_with("(rows, aggregated in one streaming pass)"),
                "{}",
                got["diagnostics"]["source"]
            );
        }
    }
}

#[test]
fn scan_reports_the_same_missing_value_error() {
    let pq = parquet_copy("scan_errors");
    let base = |file: &str, scan: bool| {
        let mut v = vec![
            "ab".to_string(),
            "--data".into(),
            file.into(),
            "--arm".into(),
            "arm".into(),
            "--metric".into(),
            "csat=mean(csat)".into(),
        ];
        if scan {
            v.push("--scan".into());
        }
        v
    };
    let strs = |v: &[String]| -> String {
        let a: Vec<&str> = v.iter().map(String::as_str).collect();
        bad(&a)
    };
    let want = strs(&base(CSV, false));
    assert!(want.contains("csat"), "{want}");
    for file in [CSV, pq.to_str().unwrap()] {
        let got = strs(&base(file, true));
        // The message names the file; the rest (column, count, first row) must agree.
        let tail = |s: &str| s.split_once(": ").map(|(_, t)| t.to_string()).unwrap();
        assert_eq!(tail(&got), tail(&want), "{file}");
    }
}

#[test]
fn scan_refuses_what_needs_the_rows() {
    let pq = parquet_copy("scan_refusals");
    let pq = pq.to_str().unwrap();
    let e = bad(&args(
        pq,
        &["--metric", "p90=quantile(handle_seconds, 0.9)", "--scan"],
    ));
    assert!(e.contains("--scan") && e.contains("p90"), "{e}");
    let e = bad(&args(pq, &["--winsorize", ",0.99", "--scan"]));
    assert!(e.contains("--winsorize"), "{e}");
    let e = bad(&args(
        pq,
        &["--unit", "agent", "--segment", "customer_tier", "--scan"],
    ));
    assert!(e.contains("--unit together with --segment"), "{e}");
    // --scan needs --data.
    let out = run(&[
        "ab", "--stats", "x.csv", "--arm", "arm", "--metric", "m", "--scan",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(Path::new(pq).exists());
}

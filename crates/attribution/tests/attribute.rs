//! The whole attribution on the bundled release spec (datasets/contact-centre/release.toml over
//! ab_contacts.csv, simulated with known truth in truth.json).

use causalkit_attribution::{attribute, AttributeOptions};
use causalkit_stats::Report;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn bundled_release_end_to_end() {
    let spec = root().join("datasets/contact-centre/release.toml");
    let a = attribute(&spec, &AttributeOptions::default()).unwrap();
    let r = a.result();
    let labels: Vec<&str> = r.effects.iter().map(|e| e.label.as_str()).collect();
    assert_eq!(
        labels,
        vec![
            "aht",
            "fcr",
            "csat",
            "value:handle_cost",
            "value:followup_cost",
            "value:total_cost"
        ]
    );
    // The money is the value tree applied to the KPI effects: linear here, so
    // handle = contacts * cost_per_second * d_aht and followup = -contacts * cost_per_unresolved * d_fcr.
    let (aht, fcr) = (r.effects[0].estimate, r.effects[1].estimate);
    let handle = 2_400_000.0 * 0.0125 * aht;
    let followup = -2_400_000.0 * 6.0 * fcr;
    assert!((r.effects[3].estimate - handle).abs() < 1e-6 * handle.abs());
    assert!((r.effects[4].estimate - followup).abs() < 1e-6 * followup.abs());
    assert!((r.effects[5].estimate - (handle + followup)).abs() < 1e-6 * (handle + followup).abs());
    // Truth (truth.json "ab"): aht -25 s, fcr +0.05, so total cost -750,000 - 720,000 per year.
    let truth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("datasets/contact-centre/truth.json")).unwrap(),
    )
    .unwrap();
    let true_total = 2_400_000.0 * 0.0125 * truth["ab"]["aht_seconds"].as_f64().unwrap()
        - 2_400_000.0 * 6.0 * truth["ab"]["fcr"].as_f64().unwrap();
    let total = &r.effects[5];
    assert!(
        total.ci_low.unwrap() <= true_total && true_total <= total.ci_high.unwrap(),
        "truth {true_total} outside [{:?}, {:?}]",
        total.ci_low,
        total.ci_high
    );
    // Every part of the diagnostics is present, applicable or not.
    for key in [
        "design",
        "estimator",
        "reason",
        "cross_check",
        "refuters",
        "decomposition",
        "cumulative",
        "value",
        "verdict",
    ] {
        assert!(r.diagnostics.contains_key(key), "missing diagnostic {key}");
    }
    assert_eq!(r.diagnostics["design"], "randomised");
    assert_eq!(a.top_node.as_deref(), Some("total_cost"));
    let summary = a.executive_summary();
    assert!(
        summary.starts_with("Release: intent-router-v2"),
        "{summary}"
    );
    assert!(
        summary.contains("value:total_cost changes by -"),
        "{summary}"
    );
    assert!(
        a.verdict()
            .contains("the release pays: value:total_cost falls"),
        "{}",
        a.verdict()
    );
    // The money waterfall: total_cost = handle_cost + followup_cost, parts add up exactly.
    let (parts, total) = a.waterfall().expect("total_cost is a sum of nodes");
    assert_eq!(
        parts.iter().map(|p| p.label.as_str()).collect::<Vec<_>>(),
        vec!["handle_cost", "followup_cost"]
    );
    let sum: f64 = parts.iter().map(|p| p.value).sum();
    assert!((sum - total.value).abs() < 1e-9 * total.value.abs());
    assert!(a.detail_tables().contains("Bootstrap cross-check"));
    // JSON round trip of the common shape.
    let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(json["effects"][5]["label"], "value:total_cost");
}

#[test]
fn options_are_checked() {
    let spec = root().join("datasets/contact-centre/release.toml");
    let bad = AttributeOptions {
        alpha: 1.5,
        ..Default::default()
    };
    assert!(attribute(&spec, &bad).is_err());
}

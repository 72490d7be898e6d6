//! `causalkit attribute` on the bundled release spec (datasets/contact-centre/release.toml).

mod common;
use common::*;
use serde_json::Value;

const SPEC: &str = "datasets/contact-centre/release.toml";

/// The overall absolute effect of `treatment` on `metric` in `causalkit ab` JSON.
fn ab_effect<'a>(ab: &'a Value, metric: &str) -> &'a Value {
    ab["effects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["metric"] == metric
                && e["segment"] == "all"
                && e["arm"] == "treatment"
                && e["kind"] == "absolute"
                && e.get("variant").is_none()
        })
        .unwrap_or_else(|| panic!("no absolute effect for {metric}"))
}

#[test]
fn kpi_effects_are_identical_to_causalkit_ab() {
    // The spec's options as `causalkit ab` flags: same KPIs, control, lower-is-better, CUPED
    // covariate, dropped missing values, alpha.
    let ab = ok_json(&[
        "ab",
        "--data",
        "datasets/contact-centre/ab_contacts.csv",
        "--arm",
        "arm",
        "--control",
        "control",
        "--metric",
        "aht=ratio(handle_seconds, count)",
        "--metric",
        "fcr=proportion(fcr)",
        "--metric",
        "csat=mean(csat)",
        "--lower-is-better",
        "aht",
        "--covariate",
        "pre_handle_seconds",
        "--drop-missing",
        "--format",
        "json",
    ]);
    let at = ok_json(&["attribute", "--spec", SPEC, "--format", "json"]);
    for (i, kpi) in ["aht", "fcr", "csat"].iter().enumerate() {
        let a = &at["effects"][i];
        let b = ab_effect(&ab, kpi);
        assert_eq!(a["label"], *kpi);
        for field in ["estimate", "std_error", "ci_low", "ci_high", "p_value"] {
            let (x, y) = (a[field].as_f64().unwrap(), b[field].as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-12 * y.abs().max(1.0),
                "{kpi} {field}: attribute {x} vs ab {y}"
            );
        }
    }
    let labels: Vec<&str> = at["effects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "aht",
            "fcr",
            "csat",
            "value:handle_cost",
            "value:followup_cost",
            "value:total_cost"
        ]
    );
    let d = &at["diagnostics"];
    assert_eq!(d["design"], "randomised");
    assert!(d["estimator"].as_str().unwrap().contains("CUPED"));
    assert!(d["value"]["nodes"].as_array().unwrap().len() == 3);
    for key in ["cross_check", "refuters", "decomposition", "cumulative"] {
        assert!(d.get(key).is_some(), "diagnostic {key} present");
    }
}

#[test]
fn table_starts_with_the_executive_summary_and_plots_are_written() {
    let dir = std::env::temp_dir().join(format!("causalkit-attribute-plot-{}", std::process::id()));
    let out = run(&[
        "attribute",
        "--spec",
        SPEC,
        "--plot",
        dir.to_str().unwrap(),
        "--seed",
        "3",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("Release: intent-router-v2\n"), "{text}");
    let first: Vec<&str> = text.lines().take(5).collect();
    assert!(
        first
            .iter()
            .any(|l| l.starts_with("value:total_cost changes by -")),
        "{first:?}"
    );
    assert!(
        first.iter().any(|l| l.starts_with("Verdict: ")),
        "{first:?}"
    );
    assert!(text.contains("Value nodes (95% delta-method intervals; money per year)"));
    assert!(stderr(&out).contains("Verdict: "));
    for f in [
        "money_waterfall.svg",
        "money_waterfall.png",
        "kpi_effects.svg",
        "kpi_effects.png",
    ] {
        assert!(dir.join(f).exists(), "{f} written");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_spec_exits_2_naming_file_and_key() {
    let dir = std::env::temp_dir().join(format!("causalkit-attribute-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(root().join(SPEC))
        .unwrap()
        .replace(
            "path = \"ab_contacts.csv\"",
            &format!(
                "path = \"{}\"",
                root()
                    .join("datasets/contact-centre/ab_contacts.csv")
                    .display()
            ),
        )
        .replace("arm = \"arm\"", "arm = \"arm\"\nadoption = \"cohort\"");
    let spec = dir.join("bad.toml");
    std::fs::write(&spec, text).unwrap();
    let err = fails_with(2, &["attribute", "--spec", spec.to_str().unwrap()]);
    assert!(
        err.contains("bad.toml") && err.contains("design.adoption"),
        "{err}"
    );
    let err = fails_with(2, &["attribute"]);
    assert!(err.contains("--spec"), "{err}");
    let err = fails_with(2, &["attribute", "--spec", SPEC, "--alpha", "1.5"]);
    assert!(err.contains("--alpha"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

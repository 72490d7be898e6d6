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

/// truth.json of the bundled intent-release data (written by `causalkit simulate
/// intent-release`: exact expected KPI effects and money per design).
fn intent_truth() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(root().join("datasets/intent-release/truth.json")).unwrap(),
    )
    .unwrap()
}

/// `causalkit attribute --spec datasets/intent-release/<name>.toml --format json`, checked
/// end to end: one effect per KPI and one `value:<node>` per node, in spec order; the
/// diagnostics say which design, estimator and why, carry the cross-check, every refuter
/// with its rule (none fails on these data), the decomposition and the cumulative series;
/// every KPI's and every node's 95% interval covers the truth in truth.json (`truth_key`).
fn intent_release_end_to_end(name: &str, design: &str, truth_key: &str) -> Value {
    let spec = format!("datasets/intent-release/{name}.toml");
    let v = ok_json(&["attribute", "--spec", &spec, "--format", "json"]);
    let labels: Vec<&str> = v["effects"]
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
    let d = &v["diagnostics"];
    assert_eq!(d["design"], design);
    for key in ["estimator", "reason"] {
        assert!(!d[key].as_str().unwrap().is_empty(), "{key}");
    }
    assert!(
        d["cross_check"]["estimator"].is_string(),
        "{}",
        d["cross_check"]
    );
    let refuters = d["refuters"]["results"].as_array().unwrap();
    let names: Vec<&str> = refuters
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "placebo release date",
            "placebo KPIs",
            "random data subsets",
            "sample ratio mismatch",
            "covariate balance"
        ]
    );
    for r in refuters {
        assert!(!r["rule"].as_str().unwrap().is_empty(), "{r}");
        assert!(!r["detail"].as_str().unwrap().is_empty(), "{r}");
        let outcome = r["outcome"].as_str().unwrap();
        assert!(["pass", "not_applicable"].contains(&outcome), "{r}");
    }
    assert!(d.get("decomposition").is_some());
    let points = d["cumulative"]["points"].as_array().unwrap();
    assert!(!points.is_empty(), "{}", d["cumulative"]);
    for p in points {
        assert_eq!(p["effects"].as_array().unwrap().len(), 3);
        assert_eq!(p["money"].as_array().unwrap().len(), 3);
    }
    let t = intent_truth();
    for e in v["effects"].as_array().unwrap() {
        let label = e["label"].as_str().unwrap();
        let truth = match label.strip_prefix("value:") {
            Some(node) => t[truth_key]["money"][node].as_f64().unwrap(),
            None => t[truth_key]["effects"][label].as_f64().unwrap(),
        };
        let (lo, hi) = (num(&e["ci_low"]), num(&e["ci_high"]));
        assert!(
            lo <= truth && truth <= hi,
            "{name} {label}: truth {truth} outside [{lo}, {hi}]"
        );
    }
    v
}

#[test]
fn intent_release_randomised_end_to_end() {
    let v = intent_release_end_to_end("randomised", "randomised", "randomised");
    let d = &v["diagnostics"];
    let r = &d["refuters"]["results"];
    assert_eq!(r[3]["outcome"], "pass", "SRM: {}", r[3]);
    assert_eq!(r[4]["outcome"], "pass", "balance: {}", r[4]);
    assert_eq!(r[0]["outcome"], "not_applicable");
    // The segment (true intent) gives each ratio KPI a rate/mix split.
    assert_eq!(
        d["decomposition"]["applies"], true,
        "{}",
        d["decomposition"]
    );
    assert!(d["decomposition"]["kpis"]["aht"].is_object());
    // Daily cumulative points end at the full-data difference between arms (unadjusted).
    assert_eq!(d["cumulative"]["axis"], "period");
}

#[test]
fn intent_release_rollout_end_to_end() {
    let v = intent_release_end_to_end("rollout", "rollout", "rollout");
    let d = &v["diagnostics"];
    assert!(d["estimator"]
        .as_str()
        .unwrap()
        .starts_with("Callaway-Sant'Anna"));
    assert_eq!(
        d["decomposition"]["status"], "not applicable",
        "{}",
        d["decomposition"]
    );
    // Weekly blocks (period_width = 7): the accrued money counts 7 days per period.
    assert_eq!(num(&d["cumulative"]["period_length_days"]), 7.0);
    assert!(d["design_diagnostics"]["panel"]
        .as_str()
        .unwrap()
        .contains("blocks of 7 periods of `day`"));
}

#[test]
fn intent_release_single_site_end_to_end() {
    let v = intent_release_end_to_end("single_site", "single-unit", "single_site");
    let d = &v["diagnostics"];
    assert_eq!(d["refuters"]["results"][0]["outcome"], "pass");
    assert!(d["estimator"].as_str().unwrap().contains("synthetic DiD"));
}

/// The rollout spec's KPI effects are those of `causalkit did --method cs --events
/// --period-width 7` on the same rows (unit site, time day, cohort column, events without
/// the KPI's value dropped), to 1e-12.
#[test]
fn intent_release_rollout_identical_to_did_cs() {
    let at = ok_json(&[
        "attribute",
        "--spec",
        "datasets/intent-release/rollout.toml",
        "--format",
        "json",
        "--no-refute",
    ]);
    assert_eq!(at["diagnostics"]["refuters"]["status"], "not run");
    for (i, (kpi, expr)) in [
        ("aht", "aht=mean(handle_seconds)"),
        ("fcr", "fcr=proportion(fcr)"),
        ("csat", "csat=mean(csat)"),
    ]
    .iter()
    .enumerate()
    {
        let did = ok_json(&[
            "did",
            "--data",
            "datasets/intent-release/rollout.csv",
            "--method",
            "cs",
            "--events",
            "--unit",
            "site",
            "--time",
            "day",
            "--cohort",
            "cohort",
            "--period-width",
            "7",
            "--outcome",
            expr,
            "--drop-missing",
            "--format",
            "json",
        ]);
        let b = effect(&did, "ATT (simple)");
        let a = &at["effects"][i];
        assert_eq!(a["label"], *kpi);
        for field in ["estimate", "std_error", "ci_low", "ci_high"] {
            let (x, y) = (num(&a[field]), num(&b[field]));
            assert!(
                (x - y).abs() <= 1e-12 * y.abs().max(1.0),
                "{kpi} {field}: attribute {x} vs did {y}"
            );
        }
    }
}

/// The table of a panel design starts with the executive summary; `--plot` writes the
/// cumulative money chart next to the waterfall and the KPI forest plot.
#[test]
fn intent_release_table_and_cumulative_plot() {
    let dir = tmp_dir().join(format!("attr-intent-plot-{}", std::process::id()));
    let out = run(&[
        "attribute",
        "--spec",
        "datasets/intent-release/single_site.toml",
        "--plot",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("Release: intent-model-v2\n"), "{text}");
    let head: Vec<&str> = text.lines().take(5).collect();
    assert!(
        head.iter()
            .any(|l| l.starts_with("value:total_cost changes by ")),
        "{head:?}"
    );
    assert!(head.iter().any(|l| l.starts_with("Verdict: ")), "{head:?}");
    assert!(!text.contains("Refuters: not run"), "{text}");
    for f in [
        "money_waterfall.svg",
        "kpi_effects.svg",
        "cumulative_money.svg",
        "cumulative_money.png",
    ] {
        assert!(dir.join(f).exists(), "{f} written");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two processes (each with its own hash-map seed and thread scheduling) give byte-identical
/// JSON for every bundled design: no sum depends on a hash map's iteration order.
#[test]
fn attribution_is_identical_across_processes() {
    for spec in ["randomised", "rollout", "single_site"] {
        let path = format!("datasets/intent-release/{spec}.toml");
        let args = ["attribute", "--spec", path.as_str(), "--format", "json"];
        let a = common::ok(&args);
        let b = common::ok(&args);
        assert!(a == b, "{spec}: two runs differ");
    }
}

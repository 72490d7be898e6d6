//! `causalkit ab` on inputs that used to give silent wrong answers (issue 11): names that
//! match no metric, out-of-range probabilities, the outcome used as its own covariate, two arms
//! without variance, and the exact beta-binomial posterior for proportion metrics (reference:
//! reference/ab_beta_binomial.json, scipy quadrature, from
//! reference/scripts/ab_beta_binomial_reference.py).

mod common;

use common::{bad, ok_json, root, tmp};
use serde_json::Value;

fn stats_file(name: &str, body: &str) -> String {
    tmp(&format!("ab_hardening_{name}"), body)
}

const AB: &str = "datasets/contact-centre/ab_contacts.csv";

#[test]
fn a_lower_is_better_name_that_matches_no_metric_is_refused() {
    let e = bad(&[
        "ab",
        "--data",
        AB,
        "--metric",
        "aht=ratio(handle_seconds, count)",
        "--lower-is-better",
        "ahtt",
        "--primary",
        "aht",
    ]);
    assert!(
        e.contains("--lower-is-better") && e.contains("`ahtt`") && e.contains("`aht`"),
        "{e}"
    );
}

#[test]
fn probability_flags_are_range_checked() {
    for (flag, v) in [
        ("--srm-alpha", "2"),
        ("--srm-alpha", "nan"),
        ("--srm-alpha", "0"),
        ("--alpha", "1"),
        ("--alpha", "-0.1"), // passed as --alpha=-0.1 below
        ("--alpha", "NaN"),
        ("--alpha", "1e-300"),
    ] {
        let arg = format!("{flag}={v}");
        let e = bad(&["ab", "--data", AB, "--metric", "fcr=proportion(fcr)", &arg]);
        assert!(
            e.contains(flag) && (e.contains("between 0 and 1") || e.contains("(0, 1)")),
            "{flag} {v}: {e}"
        );
    }
    let e = bad(&[
        "ab",
        "--data",
        AB,
        "--metric",
        "fcr=proportion(fcr)",
        "--split",
        "1,-1",
    ]);
    assert!(e.contains("--split"), "{e}");
    let e = bad(&[
        "ab",
        "--data",
        AB,
        "--metric",
        "fcr=proportion(fcr)",
        "--sequential",
        "msprt",
        "--tau",
        "0",
    ]);
    assert!(e.contains("--tau"), "{e}");
}

#[test]
fn the_outcome_cannot_be_its_own_covariate() {
    let e = bad(&[
        "ab",
        "--data",
        AB,
        "--metric",
        "aht=ratio(handle_seconds, count)",
        "--covariate",
        "handle_seconds",
    ]);
    assert!(
        e.contains("--covariate `handle_seconds`") && e.contains("`aht`"),
        "{e}"
    );
}

#[test]
fn zero_variance_arms_give_no_p_value_and_no_verdict_claim() {
    // Every control unit 5, every treatment unit 6: no variance, so no inference.
    let f = stats_file(
        "zero_var.csv",
        "arm,count,main_sum,main_sum_squares\ncontrol,10,50,250\ntreatment,10,60,360\n",
    );
    let v = ok_json(&[
        "ab",
        "--stats",
        &f,
        "--metric",
        "m",
        "--primary",
        "m",
        "--format",
        "json",
    ]);
    let abs = v["effects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "absolute")
        .expect("absolute effect");
    assert!((abs["estimate"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    assert!(abs["p_value"].is_null() && abs["ci_low"].is_null(), "{abs}");
    assert_eq!(v["diagnostics"]["verdict"], "inconclusive", "{v}");
    let reasons = v["diagnostics"]["verdict_reasons"].to_string();
    assert!(reasons.contains("no inference"), "{reasons}");
}

#[test]
fn bayesian_proportions_use_the_exact_beta_binomial_model() {
    let r: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("reference/ab_beta_binomial.json")).unwrap(),
    )
    .unwrap();
    // 42/104 in control, 500/1009 in treatment (issue 11's example).
    let f = stats_file(
        "prop.csv",
        "arm,count,main_sum,main_sum_squares\ncontrol,104,42,42\ntreatment,1009,500,500\n",
    );
    for case in r["cases"].as_array().unwrap() {
        let prior = case["prior"].as_array().unwrap();
        let prior = format!("{},{}", prior[0], prior[1]);
        let v = ok_json(&[
            "ab",
            "--stats",
            &f,
            "--metric",
            "conv=proportion",
            "--bayesian",
            "--beta-prior",
            &prior,
            "--format",
            "json",
        ]);
        let post = &v["diagnostics"]["bayesian"]["conv | all | treatment"];
        let want = case["chance_to_win"].as_f64().unwrap();
        let got = post["chance_to_win"].as_f64().unwrap();
        // scipy quadrature (error < 1e-13) vs our quadrature: 1e-8 absolute.
        assert!((got - want).abs() < 1e-8, "prior {prior}: {got} vs {want}");
        assert!(
            post["model"].as_str().unwrap().contains("beta-binomial"),
            "{post}"
        );
        let e = v["effects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == "posterior")
            .expect("posterior effect");
        assert_eq!(e["variant"], "beta_binomial");
    }
    // The Gaussian approximation gave 0.933 here: the exact answer is what is reported.
    let e = bad(&[
        "ab",
        "--stats",
        &f,
        "--metric",
        "conv=proportion",
        "--beta-prior",
        "1,1",
    ]);
    assert!(e.contains("--bayesian"), "{e}");
    let e = bad(&[
        "ab",
        "--stats",
        &f,
        "--metric",
        "conv=proportion",
        "--bayesian",
        "--beta-prior",
        "0,1",
    ]);
    assert!(e.contains("--beta-prior"), "{e}");
}

#[test]
fn effects_carry_typed_keys() {
    let v = ok_json(&[
        "ab",
        "--data",
        AB,
        "--metric",
        "fcr=proportion(fcr)",
        "--segment",
        "customer_tier",
        "--format",
        "json",
    ]);
    let effects = v["effects"].as_array().unwrap();
    let seg = effects
        .iter()
        .find(|e| e["segment"] != "all" && e["kind"] == "relative" && e["variant"] == "delta")
        .expect("a per-segment relative effect");
    assert_eq!(seg["metric"], "fcr");
    assert_eq!(seg["arm"], "treatment");
    assert_eq!(seg["control"], "control");
    // The label is display text built from the same keys.
    let label = seg["label"].as_str().unwrap();
    assert!(label.starts_with(&format!(
        "fcr | {} | treatment vs control",
        seg["segment"].as_str().unwrap()
    )));
}

#[test]
fn proportion_statistics_need_no_sum_of_squares() {
    // GrowthBook exports binomial metrics as count + main_sum only.
    let with = stats_file(
        "prop_sq.csv",
        "arm,count,main_sum,main_sum_squares\ncontrol,104,42,42\ntreatment,1009,500,500\n",
    );
    let without = stats_file(
        "prop_nosq.csv",
        "arm,count,main_sum\ncontrol,104,42\ntreatment,1009,500\n",
    );
    let a = ok_json(&[
        "ab",
        "--stats",
        &with,
        "--metric",
        "conv=proportion",
        "--format",
        "json",
    ]);
    let b = ok_json(&[
        "ab",
        "--stats",
        &without,
        "--metric",
        "conv=proportion",
        "--format",
        "json",
    ]);
    assert_eq!(a["effects"], b["effects"]);
    // A mean metric still needs it.
    let e = bad(&["ab", "--stats", &without, "--metric", "conv=mean"]);
    assert!(e.contains("main_sum_squares"), "{e}");
}

#[test]
fn the_scan_serves_every_metric_and_segment_in_one_pass_with_the_same_numbers() {
    let args = |scan: bool| {
        let mut v = vec![
            "ab",
            "--data",
            AB,
            "--metric",
            "aht=ratio(handle_seconds, count)",
            "--metric",
            "fcr=proportion(fcr)",
            "--covariate",
            "pre_handle_seconds",
            "--segment",
            "customer_tier",
            "--format",
            "json",
        ];
        if scan {
            v.push("--scan");
        }
        v
    };
    let mem = ok_json(&args(false));
    let scan = ok_json(&args(true));
    let (m, s) = (
        mem["effects"].as_array().unwrap(),
        scan["effects"].as_array().unwrap(),
    );
    assert_eq!(m.len(), s.len());
    for (x, y) in m.iter().zip(s) {
        assert_eq!(x["label"], y["label"]);
        for k in ["estimate", "std_error", "ci_low", "ci_high", "p_value"] {
            let (Some(a), Some(b)) = (x[k].as_f64(), y[k].as_f64()) else {
                assert_eq!(x[k], y[k], "{} {k}", x["label"]);
                continue;
            };
            // Summation order differs (segment cells merged): 1e-10 relative.
            assert!(
                (a - b).abs() <= 1e-10 * a.abs().max(1e-12),
                "{} {k}: {a} vs {b}",
                x["label"]
            );
        }
    }
}

#[test]
fn bayesian_proportions_with_a_billion_units_return() {
    // The beta quantiles of the credible intervals used to come from statrs' inverse CDF,
    // whose Newton loop has no bound at huge shapes.
    let f = stats_file(
        "prop_huge.csv",
        "arm,count,main_sum\ncontrol,1000000000,400000000\ntreatment,1000000000,400100000\n",
    );
    let v = ok_json(&[
        "ab",
        "--stats",
        &f,
        "--metric",
        "conv=proportion",
        "--bayesian",
        "--format",
        "json",
    ]);
    let post = &v["diagnostics"]["bayesian"]["conv | all | treatment"];
    let p = post["chance_to_win"].as_f64().unwrap();
    // z = 1e-4 / sqrt(2 * 0.24 / 1e9) = 4.56: P(treatment better) = Phi(4.56) ~ 0.999997.
    assert!(p > 0.99999 && p <= 1.0, "{post}");
}

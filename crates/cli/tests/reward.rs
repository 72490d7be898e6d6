//! `causalkit reward calibrate|evaluate` and `simulate recommender`: the bundled dataset is
//! reproduced byte for byte; calibrate's weights equal statsmodels' (reference/
//! reward_reference.json) and round-trip through the file; evaluate's effect on R is the
//! weighted sum of its components with SE √(wᵀVw) from the JSON covariance; the surrogacy
//! check passes on experiment.csv and fails on experiment_broken.csv; money through a value
//! tree; the sensitivity grid; bad inputs exit 2 with the name or position at fault.

mod common;

use common::*;

fn data(f: &str) -> String {
    root()
        .join("datasets/recommender")
        .join(f)
        .display()
        .to_string()
}

const SIGNALS: &str = "click,add_to_cart,purchase,return,order_value";
const REWARD: &str = "0.1*click + 0.3*add_to_cart + 1*purchase - 0.5*return";

#[test]
fn simulate_recommender_reproduces_the_bundled_dataset() {
    let dir = tmp_dir().join("recommender-bundled");
    let d = dir.display().to_string();
    let v = ok_json(&["simulate", "recommender", "--out", &d, "--format", "json"]);
    assert_eq!(v["files"].as_array().unwrap().len(), 4);
    for f in [
        "history.csv",
        "experiment.csv",
        "experiment_broken.csv",
        "truth.json",
    ] {
        let ours = std::fs::read(dir.join(f)).unwrap();
        let bundled = std::fs::read(root().join("datasets/recommender").join(f)).unwrap();
        assert!(ours == bundled, "{f} differs from the bundled copy");
    }
    assert_eq!(v["weights"]["purchase"], 15.0);
}

fn calibrate_to(path: &str) -> serde_json::Value {
    ok_json(&[
        "reward",
        "calibrate",
        "--data",
        &data("history.csv"),
        "--long-term",
        "revenue_90d",
        "--signals",
        SIGNALS,
        "--covariates",
        "tenure,pre_revenue",
        "--bootstrap",
        "50",
        "--out",
        path,
        "--format",
        "json",
    ])
}

#[test]
fn calibrate_matches_statsmodels_and_saves() {
    let p = tmp_dir().join("cal.json").display().to_string();
    let v = calibrate_to(&p);
    let r = reference("reward_reference");
    let names = r["names"].as_array().unwrap();
    for (j, n) in names.iter().enumerate() {
        let n = n.as_str().unwrap();
        let label = match n {
            "Intercept" => "intercept".to_string(),
            "tenure" | "pre_revenue" => format!("covariate: {n}"),
            s => format!("weight: {s}"),
        };
        let e = effect(&v, &label);
        let (a, b) = (num(&e["estimate"]), num(&r["coef"][j]));
        assert!((a - b).abs() <= 1e-9 * b.abs(), "{n}: {a} vs {b}");
        let (a, b) = (num(&e["std_error"]), num(&r["se_hc1"][j]));
        assert!((a - b).abs() <= 1e-9 * b, "{n}: {a} vs {b}");
    }
    assert!(v["diagnostics"]["surrogacy_assumption"]
        .as_str()
        .unwrap()
        .contains("Surrogacy"));
    assert!(v["diagnostics"]["bootstrap_intervals"]["purchase"]["ci_low"].is_number());
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    assert_eq!(saved["format_version"], 1);
    assert_eq!(saved["signals"].as_array().unwrap().len(), 5);
    // Table output states the assumption.
    let t = ok(&[
        "reward",
        "calibrate",
        "--data",
        &data("history.csv"),
        "--long-term",
        "revenue_90d",
        "--signals",
        SIGNALS,
        "--bootstrap",
        "0",
    ]);
    assert!(
        t.contains("weight: purchase") && t.contains("Surrogacy assumption"),
        "{t}"
    );
}

#[test]
fn evaluate_reward_components_index_and_surrogacy() {
    let p = tmp_dir().join("cal-eval.json").display().to_string();
    calibrate_to(&p);
    let v = ok_json(&[
        "reward",
        "evaluate",
        "--data",
        &data("experiment.csv"),
        "--arm",
        "arm",
        "--reward",
        REWARD,
        "--calibration",
        &p,
        "--long-term",
        "revenue_90d",
        "--covariates",
        "pre_clicks,tenure",
        "--guardrail",
        "nps:0.05",
        "--guardrail",
        "return:0.1",
        "--lower-is-better",
        "return",
        "--format",
        "json",
    ]);
    let effects = v["effects"].as_array().unwrap();
    let r = &effects[0];
    assert!(r["label"].as_str().unwrap().starts_with("reward: "));
    // τ_R = Σ w τ_k and SE = √(wᵀVw) from the JSON's covariance (metrics order).
    let w = [0.1, 0.3, 1.0, -0.5];
    let comps: Vec<f64> = ["click", "add_to_cart", "purchase", "return"]
        .iter()
        .map(|s| num(&effect(&v, &format!("component: {s}"))["estimate"]))
        .collect();
    let sum: f64 = w.iter().zip(&comps).map(|(a, b)| a * b).sum();
    assert!((num(&r["estimate"]) - sum).abs() < 1e-12);
    let cov = &v["diagnostics"]["covariance"];
    let mut q = 0.0;
    for i in 0..4 {
        for j in 0..4 {
            q += w[i] * w[j] * num(&cov[i][j]);
        }
    }
    assert!((num(&r["std_error"]) - q.sqrt()).abs() < 1e-12 * q.sqrt());
    // Surrogacy holds on experiment.csv; the index's interval covers the true effect.
    assert_eq!(v["diagnostics"]["surrogacy_check"]["disagree"], false);
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data("truth.json")).unwrap()).unwrap();
    let h = effect(&v, "surrogate index (predicted long-term)");
    let t = num(&truth["long_term_effect"]);
    assert!(num(&h["ci_low"]) <= t && t <= num(&h["ci_high"]));
    assert!(v["diagnostics"]["surrogacy_assumption"].is_string());
    assert_eq!(v["diagnostics"]["srm"]["mismatch"], false);
    assert_eq!(v["diagnostics"]["guardrails"].as_array().unwrap().len(), 2);
    // Broken surrogacy: flagged, with a warning on stderr.
    let out = run(&[
        "reward",
        "evaluate",
        "--data",
        &data("experiment_broken.csv"),
        "--arm",
        "arm",
        "--reward",
        REWARD,
        "--calibration",
        &p,
        "--long-term",
        "revenue_90d",
        "--format",
        "json",
    ]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["diagnostics"]["surrogacy_check"]["disagree"], true);
    assert!(
        stderr(&out).contains("surrogacy check failed"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn evaluate_money_and_sensitivity() {
    let spec = tmp(
        "reward-value.toml",
        "[value]\nperiod = \"quarter\"\nconstants = { customers = 100000 }\n\n[[value.node]]\nname = \"order_revenue\"\nexpr = \"customers * order_value\"\nbetter = \"higher\"\n",
    );
    let v = ok_json(&[
        "reward",
        "evaluate",
        "--data",
        &data("experiment.csv"),
        "--arm",
        "arm",
        "--reward",
        "0.1*click + 1*purchase + 0.02*order_value - 0.5*return",
        "--spec",
        &spec,
        "--weights",
        "click=0:2,return=-2:0",
        "--steps",
        "3",
        "--format",
        "json",
    ]);
    let money = effect(&v, "value:order_revenue");
    let ov = effect(&v, "component: order_value");
    assert!(
        (num(&money["estimate"]) - 100000.0 * num(&ov["estimate"])).abs()
            < 1e-6 * num(&money["estimate"]).abs()
    );
    let s = &v["diagnostics"]["sensitivity"];
    assert_eq!(s["points"].as_array().unwrap().len(), 9);
    assert_eq!(s["points"][0]["weights"], serde_json::json!([0.0, -2.0]));
    let t = ok(&[
        "reward",
        "evaluate",
        "--data",
        &data("experiment.csv"),
        "--arm",
        "arm",
        "--reward",
        REWARD,
        "--weights",
        "click=0:2",
        "--steps",
        "3",
    ]);
    assert!(t.contains("Where the verdict on R flips"), "{t}");
}

#[test]
fn bad_inputs_exit_2_naming_the_fault() {
    let exp = data("experiment.csv");
    let e = bad(&[
        "reward",
        "evaluate",
        "--data",
        &exp,
        "--arm",
        "arm",
        "--reward",
        "0.1*clik + purchase",
    ]);
    assert!(e.contains("unknown signal `clik`"), "{e}");
    let e = bad(&[
        "reward",
        "evaluate",
        "--data",
        &exp,
        "--arm",
        "arm",
        "--reward",
        "0.1*click + * purchase",
    ]);
    assert!(e.contains("character 13"), "{e}");
    let e = bad(&[
        "reward", "evaluate", "--data", &exp, "--arm", "variant", "--reward", "click",
    ]);
    assert!(e.contains("variant"), "{e}");
    let e = bad(&[
        "reward",
        "calibrate",
        "--data",
        &data("history.csv"),
        "--long-term",
        "revenue_90",
        "--signals",
        "click",
    ]);
    assert!(e.contains("revenue_90"), "{e}");
    // A constant signal: singular design, named.
    let csv = tmp(
        "reward-constant.csv",
        &(String::from("y,a,b\n")
            + &(0..40)
                .map(|i| format!("{},{},1\n", i % 7, i % 3))
                .collect::<String>()),
    );
    let e = bad(&[
        "reward",
        "calibrate",
        "--data",
        &csv,
        "--long-term",
        "y",
        "--signals",
        "a,b",
    ]);
    assert!(e.contains("singular design") && e.contains("`b`"), "{e}");
    let e = bad(&[
        "reward",
        "evaluate",
        "--data",
        &exp,
        "--arm",
        "arm",
        "--reward",
        "click",
        "--weights",
        "click=1:0",
    ]);
    assert!(e.contains("click=1:0"), "{e}");
}

//! `causalkit uplift fit` / `uplift score` end to end on simulated data with a known effect.

mod common;
use common::*;

/// Simulated customers: `x1` uniform on (-1, 1), `seg` in {a, b, c} (text), a fair coin
/// treatment `t` and a 0/1 outcome with base rate 0.2 (0.5 in segment c) and a true uplift
/// of +0.3 when `x1 > 0` and -0.1 otherwise. A small LCG keeps it dependency-free.
fn customers(n: usize, seed: u64, missing_row: Option<usize>) -> String {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut u = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut out = String::from("x1,seg,t,y\n");
    for i in 0..n {
        let x1 = 2.0 * u() - 1.0;
        let seg = ["a", "b", "c"][(u() * 3.0) as usize % 3];
        let t = u() < 0.5;
        let base = if seg == "c" { 0.5 } else { 0.2 };
        let eff = if x1 > 0.0 { 0.3 } else { -0.1 };
        let p = base + if t { eff } else { 0.0 };
        let y = u() < p;
        let x1s = if missing_row == Some(i) {
            String::new()
        } else {
            format!("{x1:.6}")
        };
        out += &format!("{x1s},{seg},{},{}\n", t as u8, y as u8);
    }
    out
}

/// The index of the `--features` value in [`fit_args`].
fn features_at(a: &[String]) -> usize {
    a.iter().position(|x| x == "--features").unwrap() + 1
}

fn fit_args(file: &str, learner: &str) -> Vec<String> {
    [
        "uplift",
        "fit",
        "--data",
        file,
        "--treatment",
        "t",
        "--outcome",
        "y",
        "--features",
        "x1,seg",
        "--learner",
        learner,
        "--seed",
        "7",
        "--format",
        "json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

const LABELS: [&str; 9] = [
    "qini_auc",
    "qini_auc_positive",
    "uplift_auc",
    "uplift_at_k_overall",
    "uplift_at_k_by_group",
    "wau_overall",
    "wau_by_group",
    "causalml_qini",
    "causalml_auuc",
];

#[test]
fn fit_reports_every_metric_and_recovers_the_known_uplift() {
    let file = tmp("uplift_fit.csv", &customers(6000, 1, None));
    for learner in ["t", "tree"] {
        let v = ok_json(&fit_args(&file, learner));
        for l in LABELS {
            assert!(num(&effect(&v, l)["estimate"]).is_finite(), "{learner} {l}");
        }
        assert_eq!(v["diagnostics"]["split"]["n_test"], 1800);
        assert_eq!(v["diagnostics"]["split"]["n_train"], 4200);
        // The top 30% should be x1 > 0 customers (half the rows), whose true uplift is 0.3.
        // ~270 rows per arm in the top 30% of 1800: SE of the difference ~0.043; 3 SE.
        let at_k = num(&effect(&v, "uplift_at_k_overall")["estimate"]);
        assert!((at_k - 0.3).abs() < 0.13, "{learner}: uplift@30% {at_k}");
        assert!(num(&effect(&v, "qini_auc")["estimate"]) > 0.0);
        // seg is text: coded by the library, levels ordered by training mean outcome (c last).
        let levels = &v["diagnostics"]["feature_encoding"]["seg"]["Ordinal"]["levels"];
        assert_eq!(levels[2], "c", "{v}");
    }
}

#[test]
fn seeded_fits_are_identical_across_runs() {
    let file = tmp("uplift_seeded.csv", &customers(3000, 2, None));
    for learner in ["x", "forest"] {
        let mut a = fit_args(&file, learner);
        a.extend(["--trees".into(), "20".into()]);
        assert_eq!(ok(&a), ok(&a), "{learner}");
    }
}

#[test]
fn missing_feature_is_a_typed_error_unless_allowed() {
    let file = tmp("uplift_missing.csv", &customers(2000, 3, Some(17)));
    let err = bad(&fit_args(&file, "t"));
    assert!(err.contains("`x1`") && err.contains("row 17"), "{err}");
    let mut a = fit_args(&file, "t");
    a.push("--allow-missing".into());
    let v = ok_json(&a);
    assert!(v["diagnostics"]["feature_encoding"]["x1"]["Numeric"]["impute"].is_number());
}

#[test]
fn a_feature_listed_twice_is_read_twice() {
    // The fit reads the features one at a time and drops each from the file's frame after
    // its last use; a repeated name must still find its column the second time.
    let file = tmp("uplift_twice.csv", &customers(2000, 6, None));
    let mut a = fit_args(&file, "tree");
    let i = features_at(&a);
    a[i] = "x1,seg,x1".into();
    let v = ok_json(&a);
    let enc = &v["diagnostics"]["feature_encoding"];
    assert!(enc["x1"]["Numeric"].is_object(), "{enc}");
    assert_eq!(enc["seg"]["Ordinal"]["levels"][2], "c", "{enc}");
    assert!(num(&effect(&v, "qini_auc")["estimate"]).is_finite());
}

#[test]
fn bad_treatment_labels_exit_2() {
    let file = tmp("uplift_bad.csv", &customers(500, 4, None));
    let mut a = fit_args(&file, "t");
    a.extend(["--control".into(), "9".into()]);
    let err = bad(&a);
    assert!(err.contains("--control `9`"), "{err}");
    let mut a = fit_args(&file, "t");
    let i = features_at(&a);
    a[i] = "x1,nope".into();
    let err = bad(&a);
    assert!(err.contains("nope"), "{err}");
}

#[test]
fn save_then_score_reproduces_the_fit() {
    let file = tmp("uplift_save.csv", &customers(3000, 5, None));
    let model = tmp_dir().join("model.json").display().to_string();
    let scores = tmp_dir().join("scores.csv").display().to_string();
    let scores2 = tmp_dir().join("scores2.csv").display().to_string();
    let mut a = fit_args(&file, "t");
    a.extend(["--save".into(), model.clone()]);
    ok(&a);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    assert_eq!(saved["format_version"], 1);
    let score = |out: &str| {
        ok(&[
            "uplift", "score", "--model", &model, "--data", &file, "--out", out, "--value", "10",
            "--cost", "1",
        ])
    };
    score(&scores);
    score(&scores2);
    let text = std::fs::read_to_string(&scores).unwrap();
    assert_eq!(text, std::fs::read_to_string(&scores2).unwrap());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "row,uplift_1,best_arm,best_uplift,expected_profit,decision"
    );
    assert_eq!(lines.len(), 3001);
    // Rows with x1 > 0 should mostly get a higher score than rows with x1 <= 0.
    let csv = customers(3000, 5, None);
    let x1: Vec<f64> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    let (mut pos, mut neg) = (Vec::new(), Vec::new());
    for (i, l) in lines[1..].iter().enumerate() {
        let f: Vec<&str> = l.split(',').collect();
        let u: f64 = f[1].parse().unwrap();
        let profit: f64 = f[4].parse().unwrap();
        // decision = treat ("1") exactly when 10 * uplift - 1 > 0.
        assert!((profit - (10.0 * u - 1.0)).abs() < 1e-9);
        assert_eq!(f[5], if profit > 0.0 { "1" } else { "0" });
        if x1[i] > 0.0 {
            pos.push(u)
        } else {
            neg.push(u)
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(
        mean(&pos) - mean(&neg) > 0.2,
        "{} {}",
        mean(&pos),
        mean(&neg)
    );
}

#[test]
fn unseen_category_when_scoring_is_a_typed_error() {
    let file = tmp("uplift_train_cat.csv", &customers(1500, 6, None));
    let model = tmp_dir().join("model_cat.json").display().to_string();
    let mut a = fit_args(&file, "t");
    a.extend(["--save".into(), model.clone()]);
    ok(&a);
    let new = tmp("uplift_new_cat.csv", "x1,seg\n0.5,a\n0.1,zzz\n");
    let out = tmp_dir().join("s.csv").display().to_string();
    let err = bad(&[
        "uplift", "score", "--model", &model, "--data", &new, "--out", &out,
    ]);
    assert!(
        err.contains("`seg`") && err.contains("row 1") && err.contains("zzz"),
        "{err}"
    );
}

#[test]
fn several_treatment_arms_are_evaluated_per_arm() {
    let v = ok_json(&[
        "uplift",
        "fit",
        "--data",
        "datasets/hillstrom.csv",
        "--treatment",
        "segment",
        "--control",
        "No E-Mail",
        "--outcome",
        "visit",
        "--features",
        "recency,history,mens,womens,zip_code,newbie,channel",
        "--learner",
        "t",
        "--base",
        "logit",
        "--format",
        "json",
    ]);
    for arm in ["Mens E-Mail", "Womens E-Mail"] {
        assert!(num(&effect(&v, &format!("qini_auc ({arm})"))["estimate"]).is_finite());
    }
}

#[test]
fn fit_with_value_and_cost_reports_the_profit_curve() {
    let file = tmp("uplift_policy.csv", &customers(6000, 8, None));
    let mut a = fit_args(&file, "tree");
    a.extend(["--value", "10", "--cost", "1", "--bootstrap", "50"].map(String::from));
    let v = ok_json(&a);
    let p = &v["diagnostics"]["policy"];
    // Truth: treating the x1 > 0 half earns 10 * 0.3 - 1 = 2 each, the rest lose 2 each, so
    // the best fraction is 0.5 (profit 1 per customer) and treating everyone earns 0.
    // 1800 test rows: best-profit SE ~ 0.5 * 10 * sqrt(2 * 0.25 / 450) = 0.17; 3 SE.
    assert!((num(&p["best_fraction"]) - 0.5).abs() < 0.21, "{p}");
    assert!((num(&p["best_profit"]) - 1.0).abs() < 0.5, "{p}");
    assert!(num(&p["gain_vs_treat_all"]) > 0.0, "{p}");
    assert_eq!(p["profit"].as_array().unwrap().len(), 11);
    assert_eq!(ok_json(&a), v);
}

#[test]
fn simulate_uplift_then_fit_the_two_arms() {
    let file = tmp_dir().join("sim_uplift.csv").display().to_string();
    ok(&[
        "simulate", "uplift", "--seed", "3", "--rows", "3000", "--out", &file,
    ]);
    let v = ok_json(&[
        "uplift",
        "fit",
        "--data",
        &file,
        "--treatment",
        "treatment",
        "--control",
        "control",
        "--outcome",
        "converted",
        "--features",
        "x1,x2,region",
        "--learner",
        "t",
        "--seed",
        "1",
        "--format",
        "json",
    ]);
    for arm in ["call", "email"] {
        assert!(
            num(&effect(&v, &format!("qini_auc ({arm})"))["estimate"]) > 0.0,
            "{v}"
        );
    }
}

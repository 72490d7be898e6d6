//! End-to-end tests of the later `causalkit ab` features: winsorisation (`--winsorize`),
//! checked against numpy/scipy/statsmodels/gbstats on the bundled contact-centre data
//! (reference/ab_winsor.json, from reference/scripts/ab_winsor_reference.py).

mod common;
use common::*;

use serde_json::Value;

/// Relative agreement `|got - want| <= tol * max(|want|, 1e-300)`.
fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol * want.abs().max(1e-300),
        "{what}: got {got}, want {want} (relative tolerance {tol})"
    );
}

const DATA: &str = "datasets/contact-centre/ab_contacts.csv";

/// Compares one causalkit effect with a reference `{estimate, std_error, ci}` (and `p_value`
/// when the reference has a positive one: gbstats rounds tiny p-values to 0).
fn check(v: &Value, label: &str, r: &Value, what: &str) {
    let e = effect(v, label);
    // Sums of 20,160 values in a different order: 1e-9 relative.
    close(num(&e["estimate"]), num(&r["estimate"]), 1e-9, what);
    close(num(&e["std_error"]), num(&r["std_error"]), 1e-9, what);
    close(num(&e["ci_low"]), num(&r["ci"][0]), 1e-9, what);
    close(num(&e["ci_high"]), num(&r["ci"][1]), 1e-9, what);
    if num(&r["p_value"]) > 0.0 {
        // Tail probabilities near 1e-24 from two t implementations: 1e-6 relative.
        close(num(&e["p_value"]), num(&r["p_value"]), 1e-6, what);
    }
}

fn check_caps(w: &Value, r: &Value, what: &str) {
    for k in ["lower_cap", "upper_cap"] {
        if r[k].is_null() {
            assert!(w[k].is_null(), "{what} {k}: {w}");
        } else {
            close(num(&w[k]), num(&r[k]), 1e-12, what);
        }
    }
    assert_eq!(w["values_changed"], r["values_changed"], "{what}: {w}");
    assert_eq!(w["rows"], 20160, "{what}: {w}");
}

#[test]
fn winsorised_mean_and_ratio_match_numpy_scipy_and_gbstats() {
    let r = reference("ab_winsor");
    let v = ok_json(&[
        "ab",
        "--data",
        DATA,
        "--metric",
        "aht=mean(handle_seconds)",
        "--metric",
        "aht_upper=mean(handle_seconds)",
        "--metric",
        "r=ratio(handle_seconds, pre_handle_seconds)",
        "--metric",
        "fcr=proportion(fcr)",
        "--winsorize",
        "0.01,0.99",
        "--winsorize",
        "aht_upper=,0.99",
        "--winsorize",
        "r=,0.95",
        "--format",
        "json",
    ]);
    let m = &v["diagnostics"]["metrics"];
    // Global levels for aht: both tails (numpy.percentile, numpy.clip, scipy Welch,
    // statsmodels Welch CI, gbstats relative lift).
    let both = &r["aht_both_tails"];
    check_caps(&m["aht"]["winsorized"], both, "aht caps");
    check(
        &v,
        "aht | all | treatment vs control | absolute",
        &both["absolute"],
        "aht absolute",
    );
    check(
        &v,
        "aht | all | treatment vs control | relative (delta)",
        &both["relative"],
        "aht relative",
    );
    close(
        num(&m["aht"]["arms"]["control"]["mean"]),
        num(&both["means"]["control"]),
        1e-12,
        "aht control mean",
    );
    // One tail, per-metric syntax overriding the global levels.
    let up = &r["aht_upper_only"];
    check_caps(&m["aht_upper"]["winsorized"], up, "aht_upper caps");
    check(
        &v,
        "aht_upper | all | treatment vs control | absolute",
        &up["absolute"],
        "aht_upper absolute",
    );
    // Ratio: numerator capped, denominator untouched (gbstats RatioStatistic on the sums).
    let rr = &r["ratio_upper"];
    check_caps(&m["r"]["winsorized"], rr, "ratio caps");
    check(
        &v,
        "r | all | treatment vs control | absolute",
        &rr["absolute"],
        "ratio absolute",
    );
    check(
        &v,
        "r | all | treatment vs control | relative (delta)",
        &rr["relative"],
        "ratio relative",
    );
    // The global form skips the proportion metric.
    assert!(m["fcr"].get("winsorized").is_none(), "{}", m["fcr"]);
    assert!(v["estimand"].as_str().unwrap().contains("winsorised"));
    // Capping lowers the standard error relative to the raw data (3.15 -> 2.89 s).
    let raw_se = num(&r["aht_raw_std_error"]);
    let se = num(&effect(&v, "aht | all | treatment vs control | absolute")["std_error"]);
    assert!(se < raw_se, "winsorised se {se} vs raw {raw_se}");
}

#[test]
fn winsorize_bad_input_is_reported() {
    let base = ["ab", "--data", DATA, "--metric", "fcr=proportion(fcr)"];
    let with = |extra: &[&str]| {
        let mut a: Vec<&str> = base.to_vec();
        a.extend_from_slice(extra);
        bad(&a)
    };
    let e = with(&["--winsorize", "fcr=0.01,0.99"]);
    assert!(e.contains("not a mean or ratio metric"), "{e}");
    let e = with(&["--winsorize", "0.01,0.99"]);
    assert!(e.contains("none of the metrics"), "{e}");
    let e = with(&["--winsorize", "aht=0.01,0.99"]);
    assert!(e.contains("no metric named `aht`"), "{e}");
    for (spec, msg) in [
        ("0.99,0.01", "lower level must be below"),
        ("1.5", "expected LOW,HIGH"),
        (",1.5", "not a number between 0 and 1"),
        (",", "at least one of the two levels"),
    ] {
        let e = bad(&[
            "ab",
            "--data",
            DATA,
            "--metric",
            "aht=mean(handle_seconds)",
            "--winsorize",
            spec,
        ]);
        assert!(e.contains(msg), "{spec}: {e}");
    }
    // Missing CSAT without --drop-missing names the column and row.
    let e = bad(&[
        "ab",
        "--data",
        DATA,
        "--metric",
        "csat=mean(csat)",
        "--winsorize",
        ",0.99",
    ]);
    assert!(e.contains("csat"), "{e}");
    // Sufficient statistics cannot be capped.
    let dir = std::env::temp_dir().join(format!("causalkit-ab-extra-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("s.csv");
    std::fs::write(
        &f,
        "arm,count,main_sum,main_sum_squares\nA,10,5,30\nB,10,6,40\n",
    )
    .unwrap();
    let e = bad(&[
        "ab",
        "--stats",
        f.to_str().unwrap(),
        "--metric",
        "y",
        "--winsorize",
        ",0.99",
    ]);
    assert!(e.contains("needs the unit rows"), "{e}");
}

#[test]
fn eppo_sequential_form_matches_the_documented_formula() {
    // reference/ab_eppo.json: Eppo's "Statistical nitty-gritty" sequential formula evaluated
    // literally with numpy, and gbstats' CS with the same tuning (identical).
    let r = reference("ab_eppo");
    let welch = tmp(
        "eppo_welch.csv",
        "arm,count,main_sum,main_sum_squares\nA,3407,1396.87,52377.9767\nB,3461,2422.7,134698.29\n",
    );
    let v = ok_json(&[
        "ab",
        "--stats",
        &welch,
        "--metric",
        "y",
        "--sequential",
        "eppo",
        "--format",
        "json",
    ]);
    for (kind, case) in [
        ("relative", "welch_relative_default"),
        ("absolute", "welch_absolute_default"),
    ] {
        let c = &r["cases"][case];
        let e = effect(
            &v,
            &format!("y | all | B vs A | {kind} (Eppo confidence sequence)"),
        );
        // The estimate and standard error come from the sums (1e-12 relative in the crate
        // test); here 1e-9 relative.
        close(num(&e["estimate"]), num(&c["estimate"]), 1e-9, case);
        close(num(&e["ci_low"]), num(&c["ci"][0]), 1e-9, case);
        close(num(&e["ci_high"]), num(&c["ci"][1]), 1e-9, case);
    }
    // Proportions, alpha 0.10 and N_tune 2000.
    let prop = tmp(
        "eppo_prop.csv",
        "arm,count,main_sum,main_sum_squares\nA,10000,1200,1200\nB,10050,1310,1310\n",
    );
    let v = ok_json(&[
        "ab",
        "--stats",
        &prop,
        "--metric",
        "p=proportion",
        "--sequential",
        "eppo",
        "--n-plan",
        "2000",
        "--alpha",
        "0.1",
        "--format",
        "json",
    ]);
    let c = &r["cases"]["prop_relative_alpha10_tune2000"];
    let e = effect(&v, "p | all | B vs A | relative (Eppo confidence sequence)");
    close(num(&e["ci_low"]), num(&c["ci"][0]), 1e-9, "prop lower");
    close(num(&e["ci_high"]), num(&c["ci"][1]), 1e-9, "prop upper");
}

/// Per-arm sums of the bundled A/B rows: (arm, [n, Σh, Σh², Σf, Σp, Σp², Σh·p]) with h =
/// handle_seconds, f = fcr, p = pre_handle_seconds.
fn bundled_sums() -> Vec<(String, [f64; 7])> {
    let text = std::fs::read_to_string(root().join(DATA)).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let (ia, ih, iff, ip) = (
        col("arm"),
        col("handle_seconds"),
        col("fcr"),
        col("pre_handle_seconds"),
    );
    let mut out: Vec<(String, [f64; 7])> = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let (h, fc, p): (f64, f64, f64) = (
            f[ih].parse().unwrap(),
            f[iff].parse().unwrap(),
            f[ip].parse().unwrap(),
        );
        let arm = f[ia].to_string();
        let slot = match out.iter().position(|(a, _)| *a == arm) {
            Some(i) => i,
            None => {
                out.push((arm, [0.0; 7]));
                out.len() - 1
            }
        };
        let s = &mut out[slot].1;
        for (k, v) in [1.0, h, h * h, fc, p, p * p, h * p].into_iter().enumerate() {
            s[k] += v;
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn several_metrics_in_one_stats_file_match_the_rows() {
    let mut csv = String::from(
        "metric,arm,count,main_sum,main_sum_squares,denominator_sum,denominator_sum_squares,main_denominator_sum_product\n",
    );
    for (arm, s) in bundled_sums() {
        csv += &format!("aht,{arm},{},{},{},,,\n", s[0], s[1], s[2]);
        csv += &format!("fcr,{arm},{},{},{},,,\n", s[0], s[3], s[3]);
        csv += &format!(
            "r,{arm},{},{},{},{},{},{}\n",
            s[0], s[1], s[2], s[4], s[5], s[6]
        );
    }
    let f = tmp("multi.csv", &csv);
    let from_stats = ok_json(&[
        "ab",
        "--stats",
        &f,
        "--metric",
        "aht=mean",
        "--metric",
        "fcr=proportion",
        "--metric",
        "r=ratio",
        "--format",
        "json",
    ]);
    let from_rows = ok_json(&[
        "ab",
        "--data",
        DATA,
        "--metric",
        "aht=mean(handle_seconds)",
        "--metric",
        "fcr=proportion(fcr)",
        "--metric",
        "r=ratio(handle_seconds, pre_handle_seconds)",
        "--format",
        "json",
    ]);
    let rows = from_rows["effects"].as_array().unwrap();
    assert_eq!(rows.len(), 9, "3 metrics x (absolute, delta, Fieller)");
    for e in rows {
        let label = e["label"].as_str().unwrap();
        let s = effect(&from_stats, label);
        for k in ["estimate", "std_error", "ci_low", "ci_high", "p_value"] {
            if e[k].is_null() {
                assert!(s[k].is_null(), "{label} {k}");
                continue;
            }
            // Sums in a different order (and through decimal text): 1e-9 relative.
            close(num(&s[k]), num(&e[k]), 1e-9, &format!("{label} {k}"));
        }
    }
    // An unknown metric names what the file holds.
    let out = bad(&["ab", "--stats", &f, "--metric", "csat=mean"]);
    assert!(out.contains("no rows with metric `csat`"), "{out}");
    // Without a metric column only one metric is allowed.
    let single = tmp(
        "single.csv",
        "arm,count,main_sum,main_sum_squares\nA,10,5,30\nB,10,6,40\n",
    );
    let out = bad(&["ab", "--stats", &single, "--metric", "a", "--metric", "b"]);
    assert!(out.contains("without a `metric` column"), "{out}");
}

#[test]
fn ratio_cuped_from_stats_and_rows_match_each_other_and_numpy() {
    // reference/ab_ratio_cuped.json: simulated unit rows, GrowthBook-named sums, and numpy's
    // independent derivation (reference/scripts/ab_ratio_cuped_reference.py).
    let r = reference("ab_ratio_cuped");
    let cols: Vec<&str> = r["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let mut rows = format!("arm,{}\n", cols.join(","));
    for arm in ["control", "treatment"] {
        for row in r["rows"][arm].as_array().unwrap() {
            let x: Vec<String> = row
                .as_array()
                .unwrap()
                .iter()
                .map(|v| format!("{}", num(v)))
                .collect();
            rows += &format!("{arm},{}\n", x.join(","));
        }
    }
    let gb_cols = [
        "count",
        "main_sum",
        "main_sum_squares",
        "denominator_sum",
        "denominator_sum_squares",
        "main_denominator_sum_product",
        "covariate_sum",
        "covariate_sum_squares",
        "main_covariate_sum_product",
        "denominator_pre_sum",
        "denominator_pre_sum_squares",
        "denominator_post_denominator_pre_sum_product",
        "main_pre_denominator_pre_sum_product",
        "main_post_denominator_pre_sum_product",
        "main_pre_denominator_post_sum_product",
    ];
    let mut stats = format!("arm,{}\n", gb_cols.join(","));
    for arm in ["control", "treatment"] {
        let s = &r["growthbook_sums"][arm];
        let x: Vec<String> = gb_cols.iter().map(|c| format!("{}", num(&s[c]))).collect();
        stats += &format!("{arm},{}\n", x.join(","));
    }
    let rows_f = tmp("ratio_cuped_rows.csv", &rows);
    let stats_f = tmp("ratio_cuped_stats.csv", &stats);
    let from_rows = ok_json(&[
        "ab",
        "--data",
        &rows_f,
        "--metric",
        "rps=ratio(revenue, sessions)",
        "--covariate",
        "pre_revenue/pre_sessions",
        "--format",
        "json",
    ]);
    let from_stats = ok_json(&[
        "ab",
        "--stats",
        &stats_f,
        "--metric",
        "rps=ratio",
        "--format",
        "json",
    ]);
    for (kind, key) in [("absolute", "absolute"), ("relative (delta)", "relative")] {
        let label = format!("rps | all | treatment vs control | {kind}");
        let (x, y) = (effect(&from_rows, &label), effect(&from_stats, &label));
        for k in ["estimate", "std_error", "ci_low", "ci_high", "p_value"] {
            close(
                num(&x[k]),
                num(&y[k]),
                1e-9,
                &format!("{label} {k}: rows vs stats"),
            );
        }
        let w = &r[key];
        close(num(&x["estimate"]), num(&w["estimate"]), 1e-9, &label);
        // numpy's relative SE uses a central-difference Jacobian: 1e-7 relative.
        close(num(&x["std_error"]), num(&w["std_error"]), 1e-7, &label);
        close(num(&x["ci_low"]), num(&w["ci"][0]), 1e-7, &label);
        close(num(&x["ci_high"]), num(&w["ci"][1]), 1e-7, &label);
    }
    let theta = num(&from_stats["diagnostics"]["metrics"]["rps"]["cuped_theta"]);
    close(theta, num(&r["theta"]), 1e-9, "theta");
    // A pre-period ratio adjusts ratio metrics only.
    let e = bad(&[
        "ab",
        "--data",
        &rows_f,
        "--metric",
        "m=mean(revenue)",
        "--covariate",
        "pre_revenue/pre_sessions",
    ]);
    assert!(e.contains("adjusts ratio metrics"), "{e}");
    // Ratio CUPED from --stats without the pre-period denominator columns names them.
    let short: String = stats
        .lines()
        .map(|l| l.split(',').take(10).collect::<Vec<_>>().join(","))
        .collect::<Vec<_>>()
        .join("\n");
    let short_f = tmp("ratio_cuped_short.csv", &(short + "\n"));
    let e = bad(&["ab", "--stats", &short_f, "--metric", "rps=ratio"]);
    assert!(e.contains("denominator_pre_sum"), "{e}");
}

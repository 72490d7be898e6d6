//! `causalkit uplift fit --plot DIR` (charts whose drawn data are the JSON curve points) and
//! `fit --bootstrap B` (test-split metric intervals equal to `uplift evaluate`'s on the same
//! rows and scores).

mod common;
use common::*;
use serde_json::Value;

/// The simulated two-arm campaign (`causalkit simulate uplift`) reduced to email vs control.
fn email_campaign(name: &str, rows: usize) -> String {
    let all = tmp_dir().join(format!("{name}_all.csv"));
    let all_s = all.display().to_string();
    ok(&[
        "simulate",
        "uplift",
        "--seed",
        "5",
        "--rows",
        &rows.to_string(),
        "--out",
        &all_s,
    ]);
    let text = std::fs::read_to_string(&all).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let col = header.split(',').position(|c| c == "treatment").unwrap();
    let mut out = format!("{header}\n");
    for l in lines.filter(|l| l.split(',').nth(col) != Some("call")) {
        out += l;
        out.push('\n');
    }
    tmp(&format!("{name}.csv"), &out)
}

fn fit(file: &str, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "uplift",
        "fit",
        "--data",
        file,
        "--treatment",
        "treatment",
        "--control",
        "control",
        "--outcome",
        "converted",
        "--features",
        "x1,x2,region",
        "--seed",
        "11",
        "--format",
        "json",
    ]
    .map(String::from)
    .to_vec();
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// Every `<polyline points="...">` of an SVG, as pixel coordinates.
fn polylines(svg: &str) -> Vec<Vec<(f64, f64)>> {
    svg.split("<polyline")
        .skip(1)
        .filter_map(|p| {
            let start = p.find("points=\"")? + 8;
            let end = start + p[start..].find('"')?;
            Some(
                p[start..end]
                    .split_whitespace()
                    .map(|xy| {
                        let (x, y) = xy.split_once(',').unwrap();
                        (x.parse().unwrap(), y.parse().unwrap())
                    })
                    .collect(),
            )
        })
        .collect()
}

/// Largest residual of the least-squares line through `(d[i], p[i])`: how far the pixels are
/// from an affine image of the data.
fn affine_residual(d: &[f64], p: &[f64]) -> f64 {
    let n = d.len() as f64;
    let (md, mp) = (d.iter().sum::<f64>() / n, p.iter().sum::<f64>() / n);
    let sdd: f64 = d.iter().map(|x| (x - md) * (x - md)).sum();
    let sdp: f64 = d.iter().zip(p).map(|(x, y)| (x - md) * (y - mp)).sum();
    let b = if sdd > 0.0 { sdp / sdd } else { 0.0 };
    d.iter()
        .zip(p)
        .map(|(x, y)| (y - (mp + b * (x - md))).abs())
        .fold(0.0, f64::max)
}

/// A polyline of the chart draws exactly the points `(x, y)`: same count, and pixel
/// coordinates an affine image of the data (plotters rounds to whole pixels, so within 1 px).
fn assert_drawn(svg: &str, what: &str, x: &[f64], y: &[f64]) {
    let found = polylines(svg)
        .into_iter()
        .filter(|l| l.len() == x.len())
        .any(|l| {
            let px: Vec<f64> = l.iter().map(|p| p.0).collect();
            let py: Vec<f64> = l.iter().map(|p| p.1).collect();
            affine_residual(x, &px) <= 1.0 && affine_residual(y, &py) <= 1.0
        });
    assert!(
        found,
        "{what}: no polyline draws the {} JSON points",
        x.len()
    );
}

/// The trimmed text of every `<text>` element of an SVG.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..];
            Some(body[..body.find("</text>")?].trim().to_string())
        })
        .collect()
}

fn is_svg(path: &std::path::Path) -> String {
    let svg = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{} not written: {e}", path.display()));
    assert!(svg.trim_start().starts_with("<svg"), "{}", path.display());
    assert!(svg.trim_end().ends_with("</svg>"), "{}", path.display());
    svg
}

#[test]
fn fit_plot_writes_the_charts_of_the_json_curves() {
    let file = email_campaign("plot", 4000);
    let dir = tmp_dir().join("uplift-plots");
    let d = dir.display().to_string();
    let v = ok_json(&fit(
        &file,
        &[
            "--learner",
            "forest",
            "--trees",
            "10",
            "--value",
            "20",
            "--cost",
            "1",
            "--plot",
            &d,
        ],
    ));
    let diag = &v["diagnostics"];
    let plots: Vec<String> = diag["plots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    for name in [
        "qini",
        "uplift_curve",
        "uplift_by_decile",
        "profit",
        "feature_importance",
    ] {
        for ext in ["svg", "png"] {
            let p = dir.join(format!("{name}.{ext}"));
            assert!(
                plots.contains(&p.display().to_string()),
                "{name}.{ext} not listed"
            );
            assert!(std::fs::metadata(&p).unwrap().len() > 0);
        }
    }
    // Qini: the model curve, the random chord (0,0)-(last point) and the perfect curve are
    // the JSON `qini_curve` and `perfect_qini_curve` points.
    let svg = is_svg(&dir.join("qini.svg"));
    let (qx, qy) = (
        floats(&diag["qini_curve"]["x"]),
        floats(&diag["qini_curve"]["y"]),
    );
    assert!(qx.len() > 10);
    assert_drawn(&svg, "qini model", &qx, &qy);
    assert_drawn(
        &svg,
        "qini perfect",
        &floats(&diag["perfect_qini_curve"]["x"]),
        &floats(&diag["perfect_qini_curve"]["y"]),
    );
    let chord_x = [0.0, *qx.last().unwrap()];
    let chord_y = [0.0, *qy.last().unwrap()];
    // A two-point line: check its pixels against the model curve's own axis mapping.
    let model = polylines(&svg)
        .into_iter()
        .find(|l| l.len() == qx.len())
        .unwrap();
    let chord = polylines(&svg)
        .into_iter()
        .filter(|l| l.len() == 2)
        .any(|l| {
            let px = [model[0].0, model[qx.len() - 1].0];
            let py = [model[0].1, model[qx.len() - 1].1];
            (l[0].0 - px[0]).abs() <= 1.0
                && (l[1].0 - px[1]).abs() <= 1.0
                && (l[0].1 - py[0]).abs() <= 1.0
                && (l[1].1 - py[1]).abs() <= 1.0
        });
    assert!(chord, "random chord {chord_x:?},{chord_y:?} not drawn");
    // Uplift curve and its perfect reference (0/1 outcome).
    let svg = is_svg(&dir.join("uplift_curve.svg"));
    for key in ["uplift_curve", "perfect_uplift_curve"] {
        assert_drawn(
            &svg,
            key,
            &floats(&diag[key]["x"]),
            &floats(&diag[key]["y"]),
        );
    }
    // Profit: the defined points of the JSON policy curve.
    let svg = is_svg(&dir.join("profit.svg"));
    let p = &diag["policy"];
    let (fx, fy): (Vec<f64>, Vec<f64>) = floats(&p["fraction"])
        .into_iter()
        .zip(p["profit"].as_array().unwrap())
        .filter_map(|(f, v)| v.as_f64().map(|v| (f, v)))
        .unzip();
    assert_drawn(&svg, "profit", &fx, &fy);
    // Deciles: one bar label per percentile row with a defined uplift.
    let svg = is_svg(&dir.join("uplift_by_decile.svg"));
    for row in diag["uplift_by_percentile"].as_array().unwrap() {
        if row["uplift"].is_number() {
            let label = row["percentile"].as_str().unwrap();
            assert!(
                texts(&svg).iter().any(|t| t == label),
                "decile bar `{label}` missing"
            );
        }
    }
    // Importance: every feature is named.
    let svg = is_svg(&dir.join("feature_importance.svg"));
    for f in ["x1", "x2", "region"] {
        assert!(texts(&svg).iter().any(|t| t == f), "feature `{f}` missing");
    }
}

#[test]
fn fit_plot_into_an_unwritable_place_is_a_typed_error() {
    let file = email_campaign("plot_bad", 1000);
    let not_dir = tmp("not_a_dir.txt", "x");
    let e = bad(&fit(
        &file,
        &["--learner", "tree", "--plot", &format!("{not_dir}/sub")],
    ));
    assert!(e.contains("not_a_dir.txt"), "{e}");
}

/// `fit --bootstrap B` gives every test-split metric the interval `uplift evaluate
/// --bootstrap B --seed S` computes from the same test rows and scores (the seeded split
/// reproduced with the library, the scores with `uplift score` of the saved model).
#[test]
fn fit_bootstrap_intervals_equal_evaluate_on_the_test_split() {
    let file = email_campaign("boot", 3000);
    let model = tmp_dir().join("boot_model.json").display().to_string();
    let v = ok_json(&fit(
        &file,
        &[
            "--learner",
            "t",
            "--trees",
            "20",
            "--bootstrap",
            "40",
            "--save",
            &model,
        ],
    ));
    // Without --bootstrap the metrics are points.
    let plain = ok_json(&fit(&file, &["--learner", "t", "--trees", "20"]));
    assert!(effect(&plain, "qini_auc")["ci_low"].is_null());
    let scores = tmp_dir().join("boot_scores.csv").display().to_string();
    ok(&[
        "uplift", "score", "--model", &model, "--data", &file, "--out", &scores,
    ]);
    let data = std::fs::read_to_string(&file).unwrap();
    let rows: Vec<&str> = data.lines().skip(1).collect();
    let scored = std::fs::read_to_string(&scores).unwrap();
    let uplift: Vec<&str> = scored
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    let (_, test) =
        causalkit_uplift::pipeline::train_test_split(rows.len(), 0.3, 11).expect("split");
    let mut out = format!("{},score\n", data.lines().next().unwrap());
    for &i in &test {
        out += &format!("{},{}\n", rows[i], uplift[i]);
    }
    let test_file = tmp("boot_test.csv", &out);
    let e = ok_json(&[
        "uplift",
        "evaluate",
        "--data",
        &test_file,
        "--treatment",
        "treatment",
        "--control",
        "control",
        "--outcome",
        "converted",
        "--score",
        "score",
        "--bootstrap",
        "40",
        "--seed",
        "11",
        "--format",
        "json",
    ]);
    let mut compared = 0;
    for label in [
        "qini_auc",
        "uplift_auc",
        "uplift_at_k_overall",
        "causalml_qini",
    ] {
        let (f, g) = (effect(&v, label), effect(&e, label));
        for key in ["estimate", "std_error", "ci_low", "ci_high"] {
            let (a, b) = (f[key].as_f64().unwrap(), g[key].as_f64().unwrap());
            // Same rows, same scores (printed with full precision), same seed: equal up to
            // the rounding of the scores through the CSV.
            assert!(
                (a - b).abs() <= 1e-9 * (1.0 + b.abs()),
                "{label} {key}: {a} vs {b}"
            );
            compared += 1;
        }
        assert!(f["ci_low"].as_f64().unwrap() < f["ci_high"].as_f64().unwrap());
    }
    assert_eq!(compared, 16);
}

/// With explicit `--treated`, rows of other treatment labels are left out (as in `uplift
/// evaluate`) and counted; a missing feature in a kept row is reported at its file row.
#[test]
fn fit_leaves_out_rows_of_other_arms_when_treated_is_given() {
    let mut csv = String::from("x,t,y\n");
    for i in 0..600 {
        let t = ["a", "b", "c"][i % 3];
        let x = if i == 401 {
            String::new()
        } else {
            format!("{}", (i * 37) % 101)
        };
        csv += &format!("{x},{t},{}\n", u8::from((i * 7) % 10 < 3));
    }
    let file = tmp("three_arms.csv", &csv);
    let args = |extra: &[&str]| {
        let mut a: Vec<String> = [
            "uplift",
            "fit",
            "--data",
            &file,
            "--treatment",
            "t",
            "--control",
            "a",
            "--treated",
            "b",
            "--outcome",
            "y",
            "--features",
            "x",
            "--learner",
            "tree",
            "--format",
            "json",
        ]
        .map(String::from)
        .to_vec();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    // Row 401 (label c: 401 % 3 = 2) is left out, so its gap does not matter.
    let v = ok_json(&args(&[]));
    assert_eq!(v["diagnostics"]["split"]["rows_left_out"], 200);
    assert_eq!(
        v["diagnostics"]["split"]["n_train"].as_u64().unwrap()
            + v["diagnostics"]["split"]["n_test"].as_u64().unwrap(),
        400
    );
    // With --treated b,c row 401 is kept: the error names it by its file row.
    let mut a = args(&[]);
    let at = a.iter().position(|s| s == "b").unwrap();
    a[at] = "b,c".into();
    let e = bad(&a);
    assert!(e.contains("row 401") && e.contains("`x`"), "{e}");
}

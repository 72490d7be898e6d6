//! `causalkit attribute errors --spec FILE` on the bundled intent-release data
//! (datasets/intent-release/errors.toml, simulated with known truth in truth.json): the JSON
//! shape, agreement with the library, the ranking against the truth, flags, and bad specs
//! (exit 2 naming the key).

mod common;
use common::*;
use serde_json::Value;

const SPEC: &str = "datasets/intent-release/errors.toml";

fn labels(v: &Value) -> Vec<String> {
    v["effects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["label"].as_str().unwrap().to_string())
        .collect()
}

/// The bundled spec with `edit` applied, written next to a copy-free data path (absolute).
fn spec_with(name: &str, edit: impl Fn(String) -> String) -> String {
    let text = std::fs::read_to_string(root().join(SPEC)).unwrap();
    let data = root().join("datasets/intent-release/randomised.csv");
    let text = text.replace(
        "path = \"randomised.csv\"",
        &format!("path = {:?}", data.display().to_string()),
    );
    tmp(name, &edit(text))
}

#[test]
fn json_ranks_cells_by_money_with_fix_top_k_and_matches_the_library_and_the_truth() {
    let v = ok_json(&["attribute", "errors", "--spec", SPEC, "--format", "json"]);
    let l = labels(&v);
    // 20 cells (every one has enough contacts in the bundled data), then fix_top_1..3.
    let cells: Vec<&String> = l.iter().filter(|s| s.starts_with("error:")).collect();
    assert_eq!(cells.len(), 20, "{l:?}");
    assert_eq!(&l[20..], ["fix_top_1", "fix_top_2", "fix_top_3"]);
    let effects = v["effects"].as_array().unwrap();
    for w in effects[..20].windows(2) {
        assert!(
            num(&w[0]["estimate"]) >= num(&w[1]["estimate"]),
            "sorted, costliest first"
        );
    }
    // fix_top_1 is the costliest cell; fix_top_k is the sum of the k costliest cells.
    for k in 1..=3 {
        let sum: f64 = effects[..k].iter().map(|e| num(&e["estimate"])).sum();
        let fix = effect(&v, &format!("fix_top_{k}"));
        assert!((num(&fix["estimate"]) - sum).abs() <= 1e-9 * sum.abs());
        assert!(num(&fix["ci_low"]) < num(&fix["estimate"]));
    }
    // Identical to the library on the same spec and options.
    let lib = causalkit_attribution::errors::rank_file(
        &root().join(SPEC),
        &causalkit_attribution::errors::ErrorsOptions::default(),
    )
    .unwrap();
    for (got, want) in effects.iter().zip(lib.effects()) {
        assert_eq!(got["label"], want.label.as_str());
        for (field, x) in [
            ("estimate", Some(want.estimate)),
            ("std_error", want.std_error),
            ("ci_low", want.ci_low),
            ("ci_high", want.ci_high),
        ] {
            let (a, b) = (num(&got[field]), x.unwrap());
            assert!(
                (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                "{field}: {a} vs {b}"
            );
        }
    }
    // The true top three cells (truth.json errors.ranking) are the estimated top three.
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("datasets/intent-release/truth.json")).unwrap(),
    )
    .unwrap();
    let mut want: Vec<&str> = truth["errors"]["ranking"].as_array().unwrap()[..3]
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let mut got: Vec<&str> = l[..3].iter().map(String::as_str).collect();
    want.sort_unstable();
    got.sort_unstable();
    assert_eq!(got, want);
    // Diagnostics: the assumption, balance per cell, skipped cells, accuracy points.
    let d = &v["diagnostics"];
    assert!(d["assumption"]
        .as_str()
        .unwrap()
        .contains("no unmeasured confounding"));
    let c0 = &d["cells"][0];
    assert_eq!(c0["label"], l[0].as_str());
    assert!(c0["balance_smd"]
        .as_object()
        .unwrap()
        .keys()
        .any(|k| k.starts_with("customer_tier=")));
    assert!(d["skipped_cells"].as_array().unwrap().is_empty());
    assert_eq!(d["accuracy_point"].as_array().unwrap().len(), 5);
    assert_eq!(d["value_node"], "total_cost");
    assert_eq!(d["node_is"], "cost");
}

#[test]
fn table_has_the_summary_the_assumption_and_the_detail_tables() {
    let out = run(&["attribute", "errors", "--spec", SPEC]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in [
        "Model errors ranked by money",
        "Costliest error: error:",
        "Fixing the top 3 cells",
        "Assumption: no unmeasured confounding",
        "Cells, costliest first",
        "One accuracy point per true intent",
        "Covariate balance before adjustment",
        "fix_top_3",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in\n{text}");
    }
    assert!(stderr(&out).contains("assumption: no unmeasured confounding"));
}

#[test]
fn alpha_seed_min_contacts_top_k_and_plot() {
    let base = ok_json(&["attribute", "errors", "--spec", SPEC, "--format", "json"]);
    let narrow = ok_json(&[
        "attribute",
        "errors",
        "--spec",
        SPEC,
        "--format",
        "json",
        "--alpha",
        "0.2",
    ]);
    let (a, b) = (&base["effects"][0], &narrow["effects"][0]);
    assert_eq!(a["estimate"], b["estimate"]);
    assert!(num(&b["ci_high"]) - num(&b["ci_low"]) < num(&a["ci_high"]) - num(&a["ci_low"]));
    // The seed moves only the bootstrap cross-check; the same seed repeats it exactly.
    let s1 = ok(&[
        "attribute",
        "errors",
        "--spec",
        SPEC,
        "--format",
        "json",
        "--seed",
        "7",
    ]);
    let s2 = ok(&[
        "attribute",
        "errors",
        "--spec",
        SPEC,
        "--format",
        "json",
        "--seed",
        "7",
    ]);
    assert_eq!(s1, s2);
    let s1: Value = serde_json::from_str(&s1).unwrap();
    assert_eq!(s1["effects"], base["effects"]);
    assert_ne!(
        s1["diagnostics"]["cells"][0]["bootstrap_ci"],
        base["diagnostics"]["cells"][0]["bootstrap_ci"]
    );
    // min_contacts above the smallest cells skips them, with the reason; top_k sets the
    // number of fix_top_k entries.
    let spec = spec_with("errors_min.toml", |t| t + "min_contacts = 150\ntop_k = 5\n");
    let v = ok_json(&["attribute", "errors", "--spec", &spec, "--format", "json"]);
    let skipped = v["diagnostics"]["skipped_cells"].as_array().unwrap();
    assert!(!skipped.is_empty());
    for s in skipped {
        assert!(num(&s["contacts"]) < 150.0);
        assert!(s["reason"]
            .as_str()
            .unwrap()
            .contains("errors.min_contacts"));
    }
    let l = labels(&v);
    assert_eq!(
        l.iter().filter(|s| s.starts_with("error:")).count(),
        20 - skipped.len()
    );
    assert_eq!(l.iter().filter(|s| s.starts_with("fix_top_")).count(), 5);
    let dir = tmp_dir().join("errors-plot");
    ok(&[
        "attribute",
        "errors",
        "--spec",
        SPEC,
        "--plot",
        dir.to_str().unwrap(),
    ]);
    assert!(std::fs::read_dir(&dir).unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("error_ranking")));
}

#[test]
fn bad_specs_exit_2_naming_the_key() {
    // No [errors] table.
    let spec = spec_with("no_errors.toml", |t| {
        t[..t.find("[errors]").unwrap()].to_string()
    });
    let e = bad(&["attribute", "errors", "--spec", &spec]);
    assert!(
        e.contains("`errors`") && e.contains("no [errors] table"),
        "{e}"
    );
    // Unknown columns name their key and the column.
    for (key, from, to) in [
        ("errors.true", "true = \"true_intent\"", "true = \"intent\""),
        (
            "errors.predicted",
            "predicted = \"predicted_intent\"",
            "predicted = \"intent\"",
        ),
        ("errors.covariates", "\"customer_tier\"]", "\"intent\"]"),
    ] {
        let spec = spec_with("bad_col.toml", |t| t.replace(from, to));
        let e = bad(&["attribute", "errors", "--spec", &spec]);
        assert!(e.contains(key) && e.contains("`intent`"), "{key}: {e}");
    }
    // An unknown key in [errors].
    let spec = spec_with("bad_key.toml", |t| t + "colour = \"red\"\n");
    let e = bad(&["attribute", "errors", "--spec", &spec]);
    assert!(e.contains("errors.colour") || e.contains("colour"), "{e}");
    // volume / value that are not a constant / node.
    let spec = spec_with("bad_volume.toml", |t| {
        t.replace("volume = \"contacts\"", "volume = \"calls\"")
    });
    let e = bad(&["attribute", "errors", "--spec", &spec]);
    assert!(e.contains("errors.volume") && e.contains("calls"), "{e}");
    let spec = spec_with("bad_value.toml", |t| {
        t.replace("value = \"total_cost\"", "value = \"profit\"")
    });
    let e = bad(&["attribute", "errors", "--spec", &spec]);
    assert!(e.contains("errors.value") && e.contains("profit"), "{e}");
    // No --spec, a bad --alpha.
    let e = bad(&["attribute", "errors"]);
    assert!(e.contains("--spec"), "{e}");
    let e = bad(&["attribute", "errors", "--spec", SPEC, "--alpha", "1.5"]);
    assert!(e.contains("--alpha"), "{e}");
}

/// `--report` writes the HTML report of the ranking: the errors chart and its Pareto curve.
#[test]
fn report_has_the_ranking_and_its_pareto_curve() {
    let path = tmp_dir().join("errors-report.html");
    let p = path.display().to_string();
    ok(&["attribute", "errors", "--spec", SPEC, "--report", &p]);
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.contains("errors_pareto"), "the Pareto curve is drawn");
    assert!(
        html.contains("technical-&gt;billing"),
        "the costliest cell is named"
    );
    // The headline states the costliest cell's money as the JSON has it.
    let v = ok_json(&["attribute", "errors", "--spec", SPEC, "--format", "json"]);
    let top = &v["effects"][0];
    assert_eq!(top["label"], "error:technical->billing");
    let shown = causalkit_report::html::fmt_money(top["estimate"].as_f64().unwrap());
    assert!(
        html.contains(&format!(
            "Costliest model error: technical-&gt;billing, {shown} per year"
        )),
        "headline with {shown}"
    );
    // ... and, under it, the saving of the largest fix_top_k.
    let fixes: Vec<&Value> = v["effects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["label"].as_str().unwrap().starts_with("fix_top_"))
        .collect();
    let fix = fixes.last().unwrap();
    let saving = causalkit_report::html::fmt_money(fix["estimate"].as_f64().unwrap());
    assert!(
        html.contains(&format!(
            "Fixing the {} costliest cells saves {saving} per year",
            fixes.len()
        )),
        "fix_top_k line with {saving}"
    );
    // The fix_top_k entries are their own table: one row per k with the cells and the
    // saving as the JSON has them; the ranking is not shown as a missing value tree.
    assert!(
        html.contains("Fixing the k costliest cells"),
        "fix_top table"
    );
    for f in &fixes {
        let label = f["label"].as_str().unwrap();
        let row_start = html
            .find(&format!("data-fix=\"{label}\""))
            .unwrap_or_else(|| panic!("row for {label}"));
        let row = &html[row_start..row_start + html[row_start..].find("</tr>").unwrap()];
        let saving = causalkit_report::html::fmt_money(f["estimate"].as_f64().unwrap());
        assert!(row.contains(&saving), "{label}: {saving} in {row}");
        let first_cell = v["effects"][0]["label"]
            .as_str()
            .unwrap()
            .trim_start_matches("error:")
            .replace('>', "&gt;");
        assert!(
            row.contains(&first_cell),
            "{label} covers the costliest cell: {row}"
        );
    }
    assert!(
        !html.contains("No value tree"),
        "no missing-value-tree note"
    );
}

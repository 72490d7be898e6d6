//! The model-error ranking against statsmodels/numpy (`reference/scripts/errors_reference.py`
//! → `reference/errors.json`, on its seeded contacts `reference/errors_contacts.csv` with known
//! cell penalties): per-intent OLS with HC1 (statsmodels 0.15 `cov_type="HC1"`), the joint
//! covariance across KPIs (numpy stacked sandwich), covariate balance (numpy SMD).

use causalkit_attribution::errors::cell_regressions;
use causalkit_attribution::spec::ReleaseSpec;
use causalkit_data::Dataset;
use serde_json::Value;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn reference() -> Value {
    let text = std::fs::read_to_string(root().join("reference/errors.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn data() -> Dataset {
    Dataset::read(&root().join("reference/errors_contacts.csv")).unwrap()
}

pub const SPEC: &str = r#"
[release]
name = "intent-router"
[data]
path = "errors_contacts.csv"
[[kpi]]
name = "aht"
expr = "mean(handle_seconds)"
better = "lower"
[[kpi]]
name = "fcr"
expr = "proportion(fcr)"
better = "higher"
[[kpi]]
name = "csat"
expr = "mean(csat)"
better = "higher"
[value]
period = "year"
[value.constants]
contacts = 2400000
cost_per_second = 0.0125
cost_per_unresolved = 6.0
[[value.node]]
name = "handle_cost"
expr = "contacts * aht * cost_per_second"
[[value.node]]
name = "followup_cost"
expr = "contacts * (1 - fcr) * cost_per_unresolved"
[[value.node]]
name = "total_cost"
expr = "handle_cost + followup_cost"
[errors]
true = "true_intent"
predicted = "predicted_intent"
covariates = ["tier", "tenure"]
volume = "contacts"
value = "total_cost"
"#;

fn spec() -> ReleaseSpec {
    toml::from_str(SPEC).unwrap()
}

fn close(got: f64, want: f64, rel: f64, what: &str) {
    assert!(
        (got - want).abs() <= rel * want.abs().max(1e-12),
        "{what}: {got} vs {want}"
    );
}

#[test]
fn cell_coefficients_ses_and_joint_covariance_match_statsmodels() {
    let r = reference();
    let reg = cell_regressions(&spec(), &data(), 0.05).unwrap();
    let kpis = ["aht", "fcr", "csat"];
    assert_eq!(reg.kpis, kpis);
    assert_eq!(reg.contacts as u64, r["contacts"].as_u64().unwrap());
    let blocks = r["blocks"].as_object().unwrap();
    let mut n_cells = 0;
    for (truth, b) in blocks {
        let names: Vec<&str> = b["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let idx: Vec<usize> = names
            .iter()
            .map(|p| {
                reg.cells
                    .iter()
                    .position(|c| c.truth == *truth && c.predicted == *p)
                    .unwrap_or_else(|| panic!("cell {truth}->{p}"))
            })
            .collect();
        for (j, &c) in idx.iter().enumerate() {
            n_cells += 1;
            for (k, kpi) in kpis.iter().enumerate() {
                let e = &reg.cells[c].kpi_effects[k];
                // statsmodels OLS coefficients and HC1 SEs: 1e-8 relative.
                close(
                    e.estimate,
                    b["coef"][kpi][j].as_f64().unwrap(),
                    1e-8,
                    &format!("{truth}->{} {kpi} coef", names[j]),
                );
                close(
                    e.std_error.unwrap(),
                    b["se"][kpi][j].as_f64().unwrap(),
                    1e-8,
                    "se",
                );
                assert_eq!(e.label, format!("error:{truth}->{}:{kpi}", names[j]));
            }
            // Joint covariance across cells of one intent and across KPIs (numpy sandwich).
            for (j2, &c2) in idx.iter().enumerate() {
                for (k, a) in kpis.iter().enumerate() {
                    for (l, bk) in kpis.iter().enumerate() {
                        let want = b["cov"][format!("{a}|{bk}")][j][j2].as_f64().unwrap();
                        let got = reg.covariance[(c * 3 + k, c2 * 3 + l)];
                        assert!(
                            (got - want).abs() <= 1e-8 * want.abs() + 1e-14,
                            "cov {truth} {j},{j2} {a}|{bk}: {got} vs {want}"
                        );
                    }
                }
            }
        }
        // Cells of different intents share no contacts: zero covariance.
        for &c in &idx {
            for (c2, other) in reg.cells.iter().enumerate() {
                if other.truth != *truth {
                    for k in 0..3 {
                        for l in 0..3 {
                            assert!(reg.covariance[(c * 3 + k, c2 * 3 + l)].abs() < 1e-300);
                        }
                    }
                }
            }
        }
    }
    assert_eq!(n_cells, reg.cells.len());
    // Cells below min_contacts are reported, not estimated.
    let skipped = r["skipped"].as_array().unwrap();
    assert_eq!(reg.skipped.len(), skipped.len());
    for s in skipped {
        let hit = reg
            .skipped
            .iter()
            .find(|x| x.truth == s["true"] && x.predicted == s["predicted"])
            .unwrap();
        assert_eq!(hit.contacts as u64, s["contacts"].as_u64().unwrap());
        assert!(hit.reason.contains("min_contacts"));
    }
}

#[test]
fn cell_means_and_balance_match_numpy() {
    let r = reference();
    let reg = cell_regressions(&spec(), &data(), 0.05).unwrap();
    for c in r["cells"].as_array().unwrap() {
        let cell = reg
            .cells
            .iter()
            .find(|x| x.truth == c["true"] && x.predicted == c["predicted"])
            .unwrap();
        assert_eq!(cell.contacts as u64, c["contacts"].as_u64().unwrap());
        for (k, kpi) in ["aht", "fcr", "csat"].iter().enumerate() {
            close(
                cell.kpi_mean[k],
                c["mean"][kpi].as_f64().unwrap(),
                1e-12,
                "mean",
            );
        }
        for (name, v) in c["balance_smd"].as_object().unwrap() {
            close(cell.balance[name], v.as_f64().unwrap(), 1e-10, name);
        }
    }
}

#[test]
fn bad_error_specs_name_the_fault() {
    let d = data();
    // No [errors] table.
    let mut s = spec();
    s.errors = None;
    let e = cell_regressions(&s, &d, 0.05).unwrap_err();
    assert!(e.to_string().contains("[errors]"), "{e}");
    // A missing true label names the column.
    let mut t = d.labels("true_intent").unwrap();
    t[11] = None;
    let d2 = d.with_label_column("true_intent", t).unwrap();
    let e = cell_regressions(&spec(), &d2, 0.05).unwrap_err();
    assert!(e.to_string().contains("true_intent"), "{e}");
    // A ratio KPI with a denominator column cannot be compared per contact.
    let mut s = spec();
    s.kpi[0].expr = "ratio(handle_seconds, fcr)".into();
    let e = cell_regressions(&s, &d, 0.05).unwrap_err();
    assert!(e.to_string().contains("denominator column"), "{e}");
    // A covariate that is the prediction itself makes the design singular: an error, not
    // a silent answer.
    let mut s = spec();
    s.errors.as_mut().unwrap().covariates = vec!["predicted_intent".into()];
    assert!(cell_regressions(&s, &d, 0.05).is_err());
    // An unknown covariate names it.
    let mut s = spec();
    s.errors.as_mut().unwrap().covariates = vec!["nope".into()];
    let e = cell_regressions(&s, &d, 0.05).unwrap_err();
    assert!(e.to_string().contains("nope"), "{e}");
}

#[test]
fn money_fix_top_k_and_accuracy_points_match_numpy() {
    use causalkit_attribution::errors::{rank, ErrorsOptions};
    use causalkit_stats::Report;
    let r = reference();
    let opts = ErrorsOptions {
        bootstrap_draws: 200,
        ..Default::default()
    };
    let ranking = rank(&spec(), &data(), &opts).unwrap();
    assert!(
        ranking.node_is_cost,
        "total_cost rises when aht or fcr get worse"
    );
    // Order, largest cost first.
    let order: Vec<String> = ranking
        .ranked
        .iter()
        .map(|c| c.saving.label.trim_start_matches("error:").to_string())
        .collect();
    let want: Vec<String> = r["order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    assert_eq!(order, want);
    // Savings and their SEs: numpy evaluates total_cost at the cell means and at the means
    // minus the coefficients (1e-9), SE from the joint covariance (1e-8; exact gradients both sides).
    for c in r["cells"].as_array().unwrap() {
        let label = format!(
            "error:{}->{}",
            c["true"].as_str().unwrap(),
            c["predicted"].as_str().unwrap()
        );
        let rc = ranking
            .ranked
            .iter()
            .find(|x| x.saving.label == label)
            .unwrap();
        close(
            rc.saving.estimate,
            c["saving"].as_f64().unwrap(),
            1e-9,
            &label,
        );
        close(
            rc.saving.std_error.unwrap(),
            c["saving_se"].as_f64().unwrap(),
            1e-8,
            "saving se",
        );
        close(rc.volume, c["volume"].as_f64().unwrap(), 1e-12, "volume");
        let (lo, hi) = rc.bootstrap_ci.unwrap();
        assert!(lo < rc.saving.estimate && rc.saving.estimate < hi);
    }
    for (got, want) in ranking
        .fix_top_k
        .iter()
        .zip(r["fix_top_k"].as_array().unwrap())
    {
        assert_eq!(got.label, format!("fix_top_{}", want["k"]));
        close(
            got.estimate,
            want["estimate"].as_f64().unwrap(),
            1e-9,
            "fix_top_k",
        );
        close(
            got.std_error.unwrap(),
            want["std_error"].as_f64().unwrap(),
            1e-8,
            "fix_top_k se",
        );
    }
    assert_eq!(ranking.fix_top_k.len(), 3);
    for want in r["accuracy_point"].as_array().unwrap() {
        let got = ranking
            .accuracy_points
            .iter()
            .find(|a| a.truth == want["true"])
            .unwrap();
        close(
            got.saving.estimate,
            want["estimate"].as_f64().unwrap(),
            1e-9,
            "accuracy point",
        );
        close(
            got.saving.std_error.unwrap(),
            want["std_error"].as_f64().unwrap(),
            1e-8,
            "accuracy point se",
        );
    }
    // The report: cells then fix_top_k, the assumption stated, skipped cells warned.
    let res = ranking.result();
    assert_eq!(res.effects.len(), 6 + 3);
    assert!(res.effects[0].label.starts_with("error:"));
    assert_eq!(res.effects[6].label, "fix_top_1");
    assert!(res.diagnostics["assumption"]
        .as_str()
        .unwrap()
        .contains("no unmeasured confounding"));
    assert!(res.warnings.iter().any(|w| w.contains("cancel->billing")));
    assert!(res.diagnostics["cells"][0]["balance_smd"].is_object());
}

#[test]
fn bad_value_keys_name_the_fault() {
    use causalkit_attribution::errors::{rank, ErrorsOptions};
    let d = data();
    let opts = ErrorsOptions::default();
    let mut s = spec();
    s.errors.as_mut().unwrap().volume = "calls".into();
    let e = rank(&s, &d, &opts).unwrap_err();
    assert!(e.to_string().contains("errors.volume"), "{e}");
    let mut s = spec();
    s.errors.as_mut().unwrap().value = "profit".into();
    let e = rank(&s, &d, &opts).unwrap_err();
    assert!(e.to_string().contains("errors.value"), "{e}");
    // A node that is a cost in one KPI and a benefit in another cannot be ranked.
    let mut s = spec();
    s.value.as_mut().unwrap().node[2].expr = "handle_cost - followup_cost".into();
    let e = rank(&s, &d, &opts).unwrap_err();
    assert!(
        e.to_string().contains("neither a cost nor a benefit"),
        "{e}"
    );
    let mut s = spec();
    s.value = None;
    assert!(rank(&s, &d, &opts).is_err());
}

#[test]
fn rank_file_reads_the_spec_and_data_and_names_bad_errors_columns() {
    use causalkit_attribution::errors::{check_errors_columns, rank, rank_file, ErrorsOptions};
    let dir = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../datasets/intent-release"
    ));
    let opts = ErrorsOptions {
        bootstrap_draws: 50,
        ..Default::default()
    };
    // rank_file == load + rank on the same spec and rows.
    let from_file = rank_file(&dir.join("errors.toml"), &opts).unwrap();
    let spec = ReleaseSpec::load(&dir.join("errors.toml")).unwrap();
    let data = spec.load_data().unwrap();
    let direct = rank(&spec, &data, &opts).unwrap();
    let (a, b) = (from_file.effects(), direct.effects());
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.label, y.label);
        assert_eq!(x.estimate.to_bits(), y.estimate.to_bits());
    }
    // A column that is not in the data names its key and the column.
    for key in ["true", "predicted", "covariates"] {
        let mut s = spec.clone();
        let es = s.errors.as_mut().unwrap();
        match key {
            "true" => es.truth = "nope".into(),
            "predicted" => es.predicted = "nope".into(),
            _ => es.covariates.push("nope".into()),
        }
        let e = check_errors_columns(&s, &data).unwrap_err().to_string();
        assert!(
            e.contains(&format!("errors.{key}")) && e.contains("`nope`"),
            "{e}"
        );
        assert!(e.contains("errors.toml"), "names the file: {e}");
    }
    // The prediction column must differ from the truth column.
    let mut s = spec.clone();
    s.errors.as_mut().unwrap().predicted = "true_intent".into();
    let e = check_errors_columns(&s, &data).unwrap_err().to_string();
    assert!(e.contains("errors.predicted"), "{e}");
    // No [errors] table.
    let mut s = spec.clone();
    s.errors = None;
    let e = check_errors_columns(&s, &data).unwrap_err().to_string();
    assert!(
        e.contains("`errors`") && e.contains("no [errors] table"),
        "{e}"
    );
}

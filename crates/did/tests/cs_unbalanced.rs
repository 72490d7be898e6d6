//! Callaway & Sant'Anna on an unbalanced panel with `allow_unbalanced_panel` (R `did`'s
//! `allow_unbalanced_panel = TRUE`): repeated-cross-section 2x2 estimators per cell with the
//! influence function summed within units.
//!
//! Source: reference/did_cs_unbalanced.json, written by
//! reference/scripts/did_cs_unbalanced_reference.py with csdid 0.4.3 (the Python port of R
//! `did` 2.x, `ATTgt(allow_unbalanced_panel=True)`, analytic SEs) on datasets/mpdta.csv with
//! every 7th row removed (0-based rows i % 7 == 6). diff-diff 3.13's
//! `CallawaySantAnna(allow_unbalanced_panel=True)` gives the same point estimates (checked
//! below) and standard errors within 0.2% (it uses a different finite-sample normalisation).
//! Tolerances: 1e-6 relative on every ATT(g,t), SE, aggregate and its SE; the pre-test p to
//! csdid's 5 printed decimals.

use causalkit_did::cs::{att_gt, Aggregation, ControlGroup, CsData, CsMethod, CsOptions};
use serde_json::Value;

struct Data {
    unit: Vec<usize>,
    year: Vec<i64>,
    cohort: Vec<i64>,
    lemp: Vec<f64>,
    lpop: Vec<f64>,
    state: Vec<usize>,
}

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// mpdta without every 7th row.
fn unbalanced_mpdta() -> Data {
    let text = std::fs::read_to_string(root().join("datasets/mpdta.csv")).unwrap();
    let mut lines = text.lines();
    let h: Vec<&str> = lines.next().unwrap().split(',').collect();
    let j = |n: &str| h.iter().position(|c| *c == n).unwrap();
    let mut d = Data {
        unit: vec![],
        year: vec![],
        cohort: vec![],
        lemp: vec![],
        lpop: vec![],
        state: vec![],
    };
    for (i, l) in lines.filter(|l| !l.is_empty()).enumerate() {
        if i % 7 == 6 {
            continue;
        }
        let r: Vec<&str> = l.split(',').collect();
        let u: usize = r[j("countyreal")].parse().unwrap();
        d.unit.push(u);
        d.state.push(u / 1000);
        d.year.push(r[j("year")].parse().unwrap());
        d.cohort.push(r[j("first.treat")].parse().unwrap());
        d.lemp.push(r[j("lemp")].parse().unwrap());
        d.lpop.push(r[j("lpop")].parse().unwrap());
    }
    d
}

fn reference() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(root().join("reference/did_cs_unbalanced.json")).unwrap(),
    )
    .unwrap()
}

#[track_caller]
fn rel(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol * want.abs().max(1e-8),
        "{what}: got {got:.10}, want {want:.10} (rel tol {tol:e})"
    );
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn check(data: &CsData, name: &str, opts: &CsOptions) {
    let r = reference();
    let spec = &r["specs"][name];
    assert!(spec.is_object(), "spec {name} missing");
    let fit = att_gt(data, opts).unwrap();
    assert!(fit.unbalanced, "{name}: the unbalanced path is taken");
    assert_eq!(
        fit.n,
        r["n_units"].as_u64().unwrap() as usize,
        "{name}: n counts units"
    );
    let (att, se) = (floats(&spec["att"]), floats(&spec["se"]));
    let g = floats(&spec["group"]);
    let t = floats(&spec["time"]);
    assert_eq!(fit.rows.len(), att.len(), "{name}: cells");
    for (k, row) in fit.rows.iter().enumerate() {
        assert_eq!((row.group as f64, row.time as f64), (g[k], t[k]));
        let what = format!("{name} ATT({},{})", row.group, row.time);
        rel(row.att, att[k], 1e-6, &what);
        rel(row.se.unwrap(), se[k], 1e-6, &format!("{what} se"));
    }
    if let Some(p) = spec["Wpval"].as_f64() {
        let ours = fit.pretest.unwrap();
        assert!((ours.p_value - p).abs() <= 5.1e-6, "{name} pre-test p");
        rel(ours.statistic, spec["W"].as_f64().unwrap(), 1e-6, "W");
    }
    for (key, kind) in [
        ("simple", Aggregation::Simple),
        (
            "dynamic",
            Aggregation::Dynamic {
                min_e: None,
                max_e: None,
                balance_e: None,
            },
        ),
        ("group", Aggregation::Group),
        ("calendar", Aggregation::Calendar),
    ] {
        let a = &spec["aggte"][key];
        let ours = fit.aggregate(&kind).unwrap();
        let what = format!("{name} {key}");
        rel(
            ours.overall.estimate,
            a["overall_att"].as_f64().unwrap(),
            1e-6,
            &what,
        );
        rel(
            ours.overall.se.unwrap(),
            a["overall_se"].as_f64().unwrap(),
            1e-6,
            &format!("{what} se"),
        );
        if a["att_egt"].is_array() {
            let (e_att, e_se) = (floats(&a["att_egt"]), floats(&a["se_egt"]));
            assert_eq!(ours.effects.len(), e_att.len(), "{what}: effects");
            for (k, e) in ours.effects.iter().enumerate() {
                rel(e.estimate, e_att[k], 1e-6, &format!("{what} [{k}]"));
                rel(e.se.unwrap(), e_se[k], 1e-6, &format!("{what} se [{k}]"));
            }
        }
    }
}

fn opts(method: CsMethod, control_group: ControlGroup) -> CsOptions {
    CsOptions {
        method,
        control_group,
        allow_unbalanced_panel: true,
        ..Default::default()
    }
}

#[test]
fn unbalanced_panel_matches_csdid() {
    let d = unbalanced_mpdta();
    let mut data = CsData {
        unit: &d.unit,
        period: &d.year,
        cohort: &d.cohort,
        outcome: &d.lemp,
        ..Default::default()
    };
    let never = ControlGroup::NeverTreated;
    let notyet = ControlGroup::NotYetTreated;
    check(&data, "reg_never", &opts(CsMethod::Regression, never));
    check(&data, "dr_never", &opts(CsMethod::DoublyRobust, never));
    check(&data, "dr_notyet", &opts(CsMethod::DoublyRobust, notyet));
    let mut clustered = data.clone();
    clustered.cluster = Some(&d.state);
    check(
        &clustered,
        "reg_cluster_state",
        &opts(CsMethod::Regression, never),
    );
    data.covariates = vec![("lpop", &d.lpop)];
    check(&data, "dr_lpop", &opts(CsMethod::DoublyRobust, never));
    check(&data, "ipw_lpop", &opts(CsMethod::Ipw, never));
    check(
        &data,
        "reg_lpop_notyet",
        &opts(CsMethod::Regression, notyet),
    );
}

#[test]
fn unbalanced_panel_agrees_with_diff_diff_point_estimates() {
    let d = unbalanced_mpdta();
    let data = CsData {
        unit: &d.unit,
        period: &d.year,
        cohort: &d.cohort,
        outcome: &d.lemp,
        ..Default::default()
    };
    let r = reference();
    let dd = &r["diff_diff_reg_never"];
    assert!(
        dd.is_object(),
        "diff-diff cross-check missing from the reference file"
    );
    let fit = att_gt(
        &data,
        &opts(CsMethod::Regression, ControlGroup::NeverTreated),
    )
    .unwrap();
    for row in &fit.rows {
        let cell = &dd["cells"][format!("{},{}", row.group, row.time)];
        rel(
            row.att,
            cell["att"].as_f64().unwrap(),
            1e-6,
            "diff-diff ATT",
        );
        // Different finite-sample normalisation of the SE: within 0.5%.
        rel(
            row.se.unwrap(),
            cell["se"].as_f64().unwrap(),
            5e-3,
            "diff-diff se",
        );
    }
    let simple = fit.aggregate(&Aggregation::Simple).unwrap();
    rel(
        simple.overall.estimate,
        dd["overall_att"].as_f64().unwrap(),
        1e-6,
        "simple",
    );
}

#[test]
fn default_drops_incomplete_units_and_balanced_panels_ignore_the_option() {
    let d = unbalanced_mpdta();
    let data = CsData {
        unit: &d.unit,
        period: &d.year,
        cohort: &d.cohort,
        outcome: &d.lemp,
        ..Default::default()
    };
    // Default (R allow_unbalanced_panel = FALSE): the 357 incomplete counties are dropped.
    let fit = att_gt(&data, &CsOptions::default()).unwrap();
    assert!(!fit.unbalanced);
    assert_eq!(fit.n, 500 - 357);
    assert!(fit.warnings.iter().any(|w| w.contains("dropped 357 units")));
    // On the balanced mpdta the option changes nothing (R did >= 2.2).
    let full = {
        let text = std::fs::read_to_string(root().join("datasets/mpdta.csv")).unwrap();
        text.lines().skip(1).filter(|l| !l.is_empty()).count()
    };
    assert_eq!(full, 2500);
    let m = {
        let mut all = unbalanced_mpdta();
        // Rebuild the balanced panel from the file.
        let text = std::fs::read_to_string(root().join("datasets/mpdta.csv")).unwrap();
        all.unit.clear();
        all.year.clear();
        all.cohort.clear();
        all.lemp.clear();
        for l in text.lines().skip(1).filter(|l| !l.is_empty()) {
            let r: Vec<&str> = l.split(',').collect();
            all.year.push(r[0].parse().unwrap());
            all.unit.push(r[1].parse().unwrap());
            all.lemp.push(r[3].parse().unwrap());
            all.cohort.push(r[4].parse().unwrap());
        }
        all
    };
    let bal = CsData {
        unit: &m.unit,
        period: &m.year,
        cohort: &m.cohort,
        outcome: &m.lemp,
        ..Default::default()
    };
    let a = att_gt(&bal, &CsOptions::default()).unwrap();
    let b = att_gt(
        &bal,
        &opts(CsMethod::DoublyRobust, ControlGroup::NeverTreated),
    )
    .unwrap();
    assert!(!b.unbalanced);
    for (x, y) in a.rows.iter().zip(&b.rows) {
        assert_eq!(x.att, y.att);
        assert_eq!(x.se, y.se);
    }
}

#[test]
fn unbalanced_bootstrap_is_reproducible() {
    let d = unbalanced_mpdta();
    let data = CsData {
        unit: &d.unit,
        period: &d.year,
        cohort: &d.cohort,
        outcome: &d.lemp,
        ..Default::default()
    };
    let o = CsOptions {
        bootstrap: Some(causalkit_did::cs::BootstrapOptions {
            reps: 499,
            seed: 11,
            ..Default::default()
        }),
        ..opts(CsMethod::Regression, ControlGroup::NeverTreated)
    };
    let a = att_gt(&data, &o).unwrap();
    let b = att_gt(&data, &o).unwrap();
    assert_eq!(a.rows, b.rows);
    assert!(a.critical_value.is_some());
    // The bootstrap SE estimates the analytic one (units are the multiplier draws' clusters).
    let an = att_gt(
        &data,
        &opts(CsMethod::Regression, ControlGroup::NeverTreated),
    )
    .unwrap();
    for (x, y) in a.rows.iter().zip(&an.rows) {
        let (bs, s) = (x.se.unwrap(), y.se.unwrap());
        assert!(
            (bs / s - 1.0).abs() < 0.15,
            "bootstrap {bs} vs analytic {s}"
        );
    }
}

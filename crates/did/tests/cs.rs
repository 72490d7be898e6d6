//! Callaway & Sant'Anna (2021) against published and peer-generated numbers.
//!
//! Sources:
//! - /work/shared/reference/did.md: the R `did` README table on mpdta (never-treated
//!   controls, no covariates, analytic SEs; csdid 0.4.3 reproduces it to 4 decimals),
//!   aggregations and the pre-test p-value 0.16812.
//! - reference/cs.json, written by reference/scripts/cs_reference.py with csdid 0.4.3 (the
//!   Python port of R `did` 2.x): full-precision ATT(g,t), influence-function SEs and
//!   aggregations for several specifications.

use causalkit_did::cs::{
    att_gt, Aggregation, BasePeriod, ControlGroup, CsData, CsError, CsMethod, CsOptions,
};
use causalkit_stats::Report;
use serde_json::Value;

struct Mpdta {
    unit: Vec<usize>,
    year: Vec<i64>,
    cohort: Vec<i64>,
    lemp: Vec<f64>,
    lpop: Vec<f64>,
}

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn mpdta() -> Mpdta {
    let text = std::fs::read_to_string(root().join("datasets/mpdta.csv")).unwrap();
    let mut lines = text.lines();
    let h: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(|s| s.trim_matches('"').to_string())
        .collect();
    let j = |n: &str| h.iter().position(|c| c == n).unwrap();
    let (ju, jy, jg, jl, jp) = (
        j("countyreal"),
        j("year"),
        j("first.treat"),
        j("lemp"),
        j("lpop"),
    );
    let mut m = Mpdta {
        unit: vec![],
        year: vec![],
        cohort: vec![],
        lemp: vec![],
        lpop: vec![],
    };
    for l in lines.filter(|l| !l.is_empty()) {
        let r: Vec<&str> = l.split(',').collect();
        m.unit.push(r[ju].parse().unwrap());
        m.year.push(r[jy].parse().unwrap());
        m.cohort.push(r[jg].parse().unwrap());
        m.lemp.push(r[jl].parse().unwrap());
        m.lpop.push(r[jp].parse().unwrap());
    }
    m
}

impl Mpdta {
    fn data(&self) -> CsData<'_> {
        CsData {
            unit: &self.unit,
            period: &self.year,
            cohort: &self.cohort,
            outcome: &self.lemp,
            ..Default::default()
        }
    }
}

#[track_caller]
fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got:.10}, want {want:.10} (tol {tol:e})"
    );
}

/// did.md: R `did` README, mpdta, never-treated, no covariates. The README's standard errors
/// come from R's default multiplier bootstrap (bstrap = TRUE, 999 Mammen draws), not from the
/// analytic formula (csdid with bstrap = False gives 0.023251 for ATT(2004,2004), README
/// 0.0246): the point estimates, aggregations and pre-test are checked here to the printed
/// digits, the README SEs against our bootstrap in `readme_bootstrap_standard_errors`, and
/// the analytic SEs to 1e-6 against csdid in `csdid_reference`.
#[test]
fn mpdta_readme_table() {
    let m = mpdta();
    let opts = CsOptions {
        method: CsMethod::Regression,
        ..Default::default()
    };
    let fit = att_gt(&m.data(), &opts).unwrap();
    let want = [
        (2004, 2004, -0.0105, 0.0246),
        (2004, 2005, -0.0704, 0.0327),
        (2004, 2006, -0.1373, 0.0404),
        (2004, 2007, -0.1008, 0.0380),
        (2006, 2004, 0.0065, 0.0250),
        (2006, 2005, -0.0028, 0.0195),
        (2006, 2006, -0.0046, 0.0164),
        (2006, 2007, -0.0412, 0.0205),
        (2007, 2004, 0.0305, 0.0143),
        (2007, 2005, -0.0027, 0.0167),
        (2007, 2006, -0.0311, 0.0176),
        (2007, 2007, -0.0261, 0.0167),
    ];
    assert_eq!(fit.rows.len(), want.len());
    for (r, w) in fit.rows.iter().zip(want) {
        assert_eq!((r.group, r.time), (w.0, w.1));
        close(r.att, w.2, 5e-5, &format!("ATT({},{})", w.0, w.1));
    }
    let pt = fit.pretest.unwrap();
    assert_eq!(pt.df, 5);
    close(pt.p_value, 0.16812, 5e-6, "pre-test p");
    // Without covariates the three 2x2 estimators coincide (Sant'Anna & Zhao 2020).
    for method in [CsMethod::Ipw, CsMethod::DoublyRobust] {
        let other = att_gt(
            &m.data(),
            &CsOptions {
                method,
                ..Default::default()
            },
        )
        .unwrap();
        for (a, b) in fit.rows.iter().zip(&other.rows) {
            close(a.att, b.att, 1e-12, "att reg vs ipw/dr");
            close(a.se.unwrap(), b.se.unwrap(), 1e-12, "se reg vs ipw/dr");
        }
    }

    // Aggregations (did.md).
    let simple = fit.aggregate(&Aggregation::Simple).unwrap();
    close(simple.overall.estimate, -0.0400, 5e-5, "simple");
    let dynamic = fit
        .aggregate(&Aggregation::Dynamic {
            min_e: None,
            max_e: None,
            balance_e: None,
        })
        .unwrap();
    close(dynamic.overall.estimate, -0.0772, 5e-5, "dynamic overall");
    let want_e = [0.0305, -0.0006, -0.0245, -0.0199, -0.0510, -0.1373, -0.1008];
    assert_eq!(dynamic.effects.len(), 7);
    for (e, w) in dynamic.effects.iter().zip(want_e) {
        close(e.estimate, w, 5e-5, &e.label);
    }
    let group = fit.aggregate(&Aggregation::Group).unwrap();
    close(group.overall.estimate, -0.031, 5e-4, "group overall");
    for (e, w) in group.effects.iter().zip([-0.0797, -0.0229, -0.0261]) {
        close(e.estimate, w, 5e-5, &e.label);
    }
    let cal = fit.aggregate(&Aggregation::Calendar).unwrap();
    close(cal.overall.estimate, -0.0417, 5e-5, "calendar overall");
}

fn reference() -> Value {
    let text = std::fs::read_to_string(root().join("reference/cs.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn vec_opt(v: &Value) -> Vec<Option<f64>> {
    v.as_array().unwrap().iter().map(Value::as_f64).collect()
}

#[track_caller]
fn rel(got: f64, want: f64, tol: f64, what: &str) {
    let err = (got - want).abs() / want.abs().max(1e-3);
    assert!(
        err <= tol,
        "{what}: got {got:.12e}, want {want:.12e}, rel err {err:.2e}"
    );
}

/// Runs our estimator on the csdid specification `name` and compares every ATT(g,t), its
/// analytic SE, the pre-test and the four aggregations (reference/cs.json, csdid 0.4.3).
fn check_spec(m: &Mpdta, name: &str, opts: &CsOptions, with_lpop: bool) {
    let rowid: Vec<usize> = (0..m.lemp.len()).collect();
    let mut data = m.data();
    if with_lpop {
        data.covariates = vec![("lpop", &m.lpop)];
    }
    if !opts.panel {
        data.unit = &rowid;
    }
    check_data(&data, name, opts);
}

fn check_data(data: &CsData, name: &str, opts: &CsOptions) {
    let reference = reference();
    let spec = &reference["specs"][name];
    assert!(
        spec.is_object(),
        "spec {name} missing from reference/cs.json"
    );
    let fit = att_gt(data, opts).unwrap();
    let g: Vec<i64> = spec["group"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let t: Vec<i64> = spec["time"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let att = vec_opt(&spec["att"]);
    let se = vec_opt(&spec["se"]);
    assert_eq!(fit.rows.len(), g.len(), "{name}: number of cells");
    for (k, r) in fit.rows.iter().enumerate() {
        assert_eq!((r.group, r.time), (g[k], t[k]), "{name}: cell order");
        let what = format!("{name} ATT({},{})", r.group, r.time);
        rel(r.att, att[k].unwrap(), 1e-6, &what);
        match se[k] {
            Some(s) => rel(r.se.unwrap(), s, 1e-6, &format!("{what} se")),
            None => assert!(r.se.is_none(), "{what}: se should be undefined"),
        }
    }
    if let Some(p) = spec["Wpval"].as_f64() {
        // csdid rounds the p-value to 5 decimals, as R.
        let ours = fit.pretest.unwrap().p_value;
        close(ours, p, 5.1e-6, &format!("{name} pre-test p"));
        if let Some(w) = spec["W"].as_f64() {
            rel(
                fit.pretest.unwrap().statistic,
                w,
                1e-6,
                &format!("{name} W"),
            );
        }
    }
    let aggs = &spec["aggte"];
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
        let a = &aggs[key];
        if !a.is_object() {
            continue;
        }
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
        if let Some(egt) = a.get("egt").and_then(Value::as_array) {
            let att_e = vec_opt(&a["att_egt"]);
            let se_e = vec_opt(&a["se_egt"]);
            assert_eq!(ours.effects.len(), egt.len(), "{what}: number of effects");
            for (j, e) in ours.effects.iter().enumerate() {
                assert_eq!(e.key, egt[j].as_i64(), "{what}: keys");
                rel(
                    e.estimate,
                    att_e[j].unwrap(),
                    1e-6,
                    &format!("{what} {}", e.label),
                );
                match (e.se, se_e[j]) {
                    (Some(a), Some(b)) => rel(a, b, 1e-6, &format!("{what} {} se", e.label)),
                    (a, b) => assert_eq!(a, b, "{what} {} se", e.label),
                }
            }
        }
    }
}

#[test]
fn csdid_reference_panel() {
    let m = mpdta();
    let o = CsOptions::default;
    check_spec(
        &m,
        "reg_never",
        &CsOptions {
            method: CsMethod::Regression,
            ..o()
        },
        false,
    );
    check_spec(
        &m,
        "dr_notyet",
        &CsOptions {
            control_group: ControlGroup::NotYetTreated,
            ..o()
        },
        false,
    );
    check_spec(
        &m,
        "reg_lpop",
        &CsOptions {
            method: CsMethod::Regression,
            ..o()
        },
        true,
    );
    check_spec(
        &m,
        "ipw_lpop",
        &CsOptions {
            method: CsMethod::Ipw,
            ..o()
        },
        true,
    );
    check_spec(&m, "dr_lpop", &o(), true);
    check_spec(
        &m,
        "dr_lpop_notyet",
        &CsOptions {
            control_group: ControlGroup::NotYetTreated,
            ..o()
        },
        true,
    );
    check_spec(
        &m,
        "reg_universal",
        &CsOptions {
            method: CsMethod::Regression,
            base_period: BasePeriod::Universal,
            ..o()
        },
        false,
    );
    check_spec(
        &m,
        "reg_anticipation1",
        &CsOptions {
            method: CsMethod::Regression,
            anticipation: 1,
            ..o()
        },
        false,
    );
}

#[test]
fn csdid_reference_repeated_cross_sections() {
    let m = mpdta();
    let o = || CsOptions {
        panel: false,
        ..Default::default()
    };
    check_spec(
        &m,
        "rc_reg",
        &CsOptions {
            method: CsMethod::Regression,
            ..o()
        },
        false,
    );
    check_spec(
        &m,
        "rc_ipw_lpop",
        &CsOptions {
            method: CsMethod::Ipw,
            ..o()
        },
        true,
    );
    check_spec(&m, "rc_dr_lpop", &o(), true);
}

impl Mpdta {
    /// The rows for which `keep(row)` holds.
    fn filter(&self, keep: impl Fn(usize) -> bool) -> Mpdta {
        let rows: Vec<usize> = (0..self.lemp.len()).filter(|&r| keep(r)).collect();
        Mpdta {
            unit: rows.iter().map(|&r| self.unit[r]).collect(),
            year: rows.iter().map(|&r| self.year[r]).collect(),
            cohort: rows.iter().map(|&r| self.cohort[r]).collect(),
            lemp: rows.iter().map(|&r| self.lemp[r]).collect(),
            lpop: rows.iter().map(|&r| self.lpop[r]).collect(),
        }
    }
}

/// Edge cases against csdid 0.4.3 (reference/cs.json; constructions as in the script).
#[test]
fn csdid_reference_edge_cases() {
    let m = mpdta();
    // No never-treated units, not-yet-treated controls: R drops the periods from the last
    // cohort's date on and uses that cohort only as a comparison group.
    let no_never = m.filter(|r| m.cohort[r] != 0);
    let opts = CsOptions {
        control_group: ControlGroup::NotYetTreated,
        ..Default::default()
    };
    check_data(&no_never.data(), "dr_notyet_no_never", &opts);
    let fit = att_gt(&no_never.data(), &opts).unwrap();
    assert!(fit
        .warnings
        .iter()
        .any(|w| w.contains("no never-treated units")));
    // ... and with never-treated controls a typed error that suggests not-yet-treated.
    let err = att_gt(&no_never.data(), &CsOptions::default()).unwrap_err();
    assert!(matches!(err, CsError::NoNeverTreated));
    assert!(err.to_string().contains("not-yet-treated"));

    // Unbalanced panel: counties missing a year are dropped (R's default), with a warning.
    let unbalanced = m.filter(|r| !(m.unit[r] % 7 == 0 && m.year[r] == 2005));
    let opts = CsOptions {
        method: CsMethod::Regression,
        ..Default::default()
    };
    check_data(&unbalanced.data(), "reg_unbalanced", &opts);
    let fit = att_gt(&unbalanced.data(), &opts).unwrap();
    assert!(
        fit.warnings.iter().any(|w| w.contains("unbalanced")),
        "{:?}",
        fit.warnings
    );

    // Clustered analytic SEs (state = county FIPS / 1000): sqrt(sum_c S_c^2) / n.
    let state: Vec<usize> = m.unit.iter().map(|u| u / 1000).collect();
    let mut data = m.data();
    data.cluster = Some(&state);
    check_data(&data, "reg_cluster_state", &opts);
}

/// The common result shape: labels, diagnostics and the pre-test.
#[test]
fn estimation_result_shape() {
    let m = mpdta();
    let fit = att_gt(
        &m.data(),
        &CsOptions {
            method: CsMethod::Regression,
            ..Default::default()
        },
    )
    .unwrap();
    let r = fit.result();
    assert_eq!(r.effects.len(), 12);
    assert_eq!(r.effects[1].label, "ATT(2004,2005)");
    close(r.effects[1].estimate, -0.07042315810314637, 1e-12, "effect");
    let d = &r.diagnostics;
    assert_eq!(d["pretest_df"], 5);
    close(d["pretest_p"].as_f64().unwrap(), 0.16812, 5e-6, "pretest_p");
    assert_eq!(d["n_units"], 500);
    assert_eq!(d["control_group"], "nevertreated");
    assert_eq!(d["estimation_method"], "reg");
    let dynamic = fit
        .aggregate(&Aggregation::Dynamic {
            min_e: None,
            max_e: None,
            balance_e: None,
        })
        .unwrap()
        .report(&fit)
        .result();
    let labels: Vec<&str> = dynamic.effects.iter().map(|e| e.label.as_str()).collect();
    assert_eq!(
        labels,
        ["e=-3", "e=-2", "e=-1", "e=0", "e=1", "e=2", "e=3", "overall"]
    );
    let group = fit
        .aggregate(&Aggregation::Group)
        .unwrap()
        .report(&fit)
        .result();
    assert_eq!(group.effects[0].label, "g=2004");
    let cal = fit
        .aggregate(&Aggregation::Calendar)
        .unwrap()
        .report(&fit)
        .result();
    assert_eq!(cal.effects[0].label, "t=2004");
    assert_eq!(cal.diagnostics["aggregation"], "calendar");
    let simple = fit
        .aggregate(&Aggregation::Simple)
        .unwrap()
        .report(&fit)
        .result();
    assert_eq!(simple.effects.len(), 1);
    assert_eq!(simple.effects[0].label, "overall");
    assert!(simple.to_json().contains("\"overall\""));
}

/// Event-study options (R aggte's min_e, max_e, balance_e) on mpdta: with balance_e = 1 only
/// cohorts observed at least one period after treatment (2004, 2006) enter, and every event
/// time uses the same cohorts; e = 0 is then the share-weighted mean of ATT(2004,2004) and
/// ATT(2006,2006).
#[test]
fn dynamic_options() {
    let m = mpdta();
    let fit = att_gt(
        &m.data(),
        &CsOptions {
            method: CsMethod::Regression,
            ..Default::default()
        },
    )
    .unwrap();
    let d = fit
        .aggregate(&Aggregation::Dynamic {
            min_e: Some(-1),
            max_e: Some(1),
            balance_e: None,
        })
        .unwrap();
    let keys: Vec<i64> = d.effects.iter().map(|e| e.key.unwrap()).collect();
    assert_eq!(keys, [-1, 0, 1]);
    let b = fit
        .aggregate(&Aggregation::Dynamic {
            min_e: None,
            max_e: None,
            balance_e: Some(1),
        })
        .unwrap();
    let keys: Vec<i64> = b.effects.iter().map(|e| e.key.unwrap()).collect();
    // Cohorts 2004 (e = 0..3) and 2006 (e = -2..1); R keeps e in [b - (T_max - T_min), b].
    assert_eq!(keys, [-2, -1, 0, 1]);
    let share = |g: i64| {
        m.cohort
            .iter()
            .zip(&m.year)
            .filter(|(c, y)| **c == g && **y == 2003)
            .count() as f64
    };
    let a = |g: i64, t: i64| {
        fit.rows
            .iter()
            .find(|r| r.group == g && r.time == t)
            .unwrap()
            .att
    };
    let want =
        (share(2004) * a(2004, 2004) + share(2006) * a(2006, 2006)) / (share(2004) + share(2006));
    close(b.effects[2].estimate, want, 1e-12, "balanced e=0");
}

#[test]
fn effects_carry_typed_keys() {
    // Issue 10: consumers select effects by key, never by parsing labels.
    use causalkit_stats::EffectKind;
    let m = mpdta();
    let fit = att_gt(&m.data(), &CsOptions::default()).unwrap();
    let r = fit.result();
    let cell = r
        .effects
        .iter()
        .find(|e| e.label == "ATT(2006,2007)")
        .unwrap();
    assert_eq!(cell.key.kind, Some(EffectKind::GroupTime));
    assert_eq!(
        (cell.key.group, cell.key.time, cell.key.event_time),
        (Some(2006), Some(2007), Some(1))
    );
    let dynamic = fit
        .aggregate(&Aggregation::Dynamic {
            min_e: None,
            max_e: None,
            balance_e: None,
        })
        .unwrap();
    let r = dynamic.report(&fit).result();
    for (e, a) in r.effects.iter().zip(&dynamic.effects) {
        assert_eq!(e.key.kind, Some(EffectKind::EventTime));
        assert_eq!(e.key.event_time, a.key);
    }
    assert_eq!(r.effects.last().unwrap().key.kind, Some(EffectKind::Att));
    let group = fit.aggregate(&Aggregation::Group).unwrap();
    let r = group.report(&fit).result();
    assert_eq!(r.effects[0].key.kind, Some(EffectKind::Group));
    assert_eq!(r.effects[0].key.group, Some(2004));
}

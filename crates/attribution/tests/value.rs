//! Value tree tests. Reference: reference/value_tree.json, written by
//! reference/scripts/value_tree_reference.py (numpy 1.26: exact node changes, hand-written
//! gradients, delta-method SEs, a 2,000,000-draw Monte Carlo of the change and the
//! percentile interval of 200 given joint replicates). Hand computations are written out in
//! the tests where the tree is linear (the delta method is then exact).

use causalkit_attribution::spec::ValueSection;
use causalkit_attribution::value::{Period, ValueTree};
use causalkit_attribution::{AttributionError, KpiEffects};
use causalkit_stats::Effect;
use nalgebra::DMatrix;
use serde_json::Value;
use std::collections::BTreeMap;

fn reference() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../reference/value_tree.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn vec_of(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn matrix_of(v: &Value) -> DMatrix<f64> {
    let rows: Vec<Vec<f64>> = v.as_array().unwrap().iter().map(vec_of).collect();
    DMatrix::from_fn(rows.len(), rows[0].len(), |i, j| rows[i][j])
}

fn close(a: f64, b: f64, rel: f64, what: &str) {
    let tol = rel * b.abs().max(1e-12);
    assert!((a - b).abs() <= tol, "{what}: {a} vs {b} (rel tol {rel})");
}

/// The reference case as a `[value]` section, KPI names and effects.
fn reference_case(r: &Value, replicates: bool) -> (ValueTree, KpiEffects) {
    let kpis: Vec<String> = r["kpis"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    let mut toml = String::from("period = \"year\"\n[constants]\n");
    for (k, v) in r["constants"].as_object().unwrap() {
        toml.push_str(&format!("{k} = {}\n", v.as_f64().unwrap()));
    }
    for n in r["nodes"].as_array().unwrap() {
        toml.push_str(&format!(
            "[[node]]\nname = \"{}\"\nexpr = \"{}\"\n",
            n["name"].as_str().unwrap(),
            n["expr"].as_str().unwrap()
        ));
    }
    let section: ValueSection = toml::from_str(&toml).unwrap();
    let tree = ValueTree::from_spec(&section, &kpis).unwrap();
    let effect = vec_of(&r["effect"]);
    let effects = KpiEffects {
        effects: kpis
            .iter()
            .zip(&effect)
            .map(|(k, &e)| Effect::point(k.clone(), e))
            .collect(),
        baseline: vec_of(&r["baseline"]),
        covariance: matrix_of(&r["covariance"]),
        covariance_source: "test".into(),
        replicates: replicates.then(|| matrix_of(&r["replicates"])),
    };
    (tree, effects)
}

#[test]
fn exact_change_and_delta_method_match_numpy() {
    let r = reference();
    let (tree, effects) = reference_case(&r, false);
    let alpha = r["alpha"].as_f64().unwrap();
    let out = tree.changes(&effects, &BTreeMap::new(), alpha).unwrap();
    let z = 1.959_963_984_540_054;
    for (i, c) in out.iter().enumerate() {
        let name = &c.name;
        assert_eq!(c.change.label, format!("value:{name}"));
        // Floating-point evaluation orders differ (Rust AST vs numpy formulas): 1e-12 relative.
        close(
            c.without,
            r["without"][i].as_f64().unwrap(),
            1e-12,
            "without",
        );
        close(c.with, r["with"][i].as_f64().unwrap(), 1e-12, "with");
        close(
            c.change.estimate,
            r["change"][i].as_f64().unwrap(),
            1e-9,
            name,
        );
        let g = vec_of(&r["gradient"][i]);
        for (a, b) in c.gradient.iter().zip(&g) {
            if b.abs() > 0.0 {
                close(*a, *b, 1e-12, "gradient");
            } else {
                assert!(a.abs() < 1e-12, "{name}: gradient {a} should be 0");
            }
        }
        let se = r["delta_se"][i].as_f64().unwrap();
        close(c.change.std_error.unwrap(), se, 1e-10, "delta SE");
        close(
            c.change.ci_low.unwrap(),
            c.change.estimate - z * se,
            1e-9,
            "ci_low",
        );
        close(
            c.change.ci_high.unwrap(),
            c.change.estimate + z * se,
            1e-9,
            "ci_high",
        );
    }
}

#[test]
fn product_node_is_exact_not_linearised() {
    // resolved_minutes = contacts * fcr * aht / 60 with both KPIs moved: the exact change
    // keeps the d_fcr * d_aht term, which a first-order (linearised) change would drop.
    let r = reference();
    let (tree, effects) = reference_case(&r, false);
    let out = tree.changes(&effects, &BTreeMap::new(), 0.05).unwrap();
    let c = out.iter().find(|c| c.name == "resolved_minutes").unwrap();
    let (aht, fcr, da, df) = (420.0, 0.71, -12.0, 0.03);
    let exact = 2_400_000.0 * ((fcr + df) * (aht + da) - fcr * aht) / 60.0;
    let linear = 2_400_000.0 * (fcr * da + aht * df) / 60.0;
    close(c.change.estimate, exact, 1e-12, "exact product change");
    assert!((c.change.estimate - linear).abs() > 1000.0);
}

#[test]
fn bootstrap_draws_match_numpy_monte_carlo() {
    // 4000 normal draws (the default) against numpy's 2,000,000: the 2.5% / 97.5% sample
    // quantiles of 4000 normal draws have SD sqrt(.025 * .975 / 4000) / phi(1.96) = 0.042 SD
    // of the change, so 0.2 SD is ~5 of their standard errors; the sample SD's relative error
    // is 1/sqrt(2 * 4000) = 1.1%, so 6% is ~5 of its standard errors.
    let r = reference();
    let (tree, effects) = reference_case(&r, false);
    let out = tree.changes(&effects, &BTreeMap::new(), 0.05).unwrap();
    for (i, c) in out.iter().enumerate() {
        let b = &c.bootstrap;
        assert_eq!(b.draws, 4000);
        assert_eq!(b.non_finite, 0);
        assert!(b.method.contains("Cholesky"), "{}", b.method);
        let sd = r["mc_sd"][i].as_f64().unwrap();
        let lo = r["mc_ci_low"][i].as_f64().unwrap();
        let hi = r["mc_ci_high"][i].as_f64().unwrap();
        assert!((b.ci_low.unwrap() - lo).abs() < 0.2 * sd, "{}: low", c.name);
        assert!(
            (b.ci_high.unwrap() - hi).abs() < 0.2 * sd,
            "{}: high",
            c.name
        );
        close(b.std_dev.unwrap(), sd, 0.06, "bootstrap SD");
    }
    // Seeded: the same seed gives the same interval, another seed another one.
    let again = tree.changes(&effects, &BTreeMap::new(), 0.05).unwrap();
    assert_eq!(out[0].bootstrap.ci_low, again[0].bootstrap.ci_low);
    let other = tree
        .clone()
        .with_bootstrap(4000, 9)
        .changes(&effects, &BTreeMap::new(), 0.05)
        .unwrap();
    assert_ne!(out[0].bootstrap.ci_low, other[0].bootstrap.ci_low);
}

#[test]
fn design_replicates_are_pushed_through_the_tree() {
    let r = reference();
    let (tree, effects) = reference_case(&r, true);
    let out = tree.changes(&effects, &BTreeMap::new(), 0.05).unwrap();
    for (i, c) in out.iter().enumerate() {
        assert_eq!(c.bootstrap.draws, 200);
        assert!(c.bootstrap.method.contains("200 joint replicates"));
        let lo = r["replicates_ci_low"][i].as_f64().unwrap();
        let hi = r["replicates_ci_high"][i].as_f64().unwrap();
        close(c.bootstrap.ci_low.unwrap(), lo, 1e-9, "replicate low");
        close(c.bootstrap.ci_high.unwrap(), hi, 1e-9, "replicate high");
    }
}

fn section(toml_text: &str) -> ValueSection {
    toml::from_str(toml_text).unwrap()
}

fn simple_effects(names: &[&str], base: &[f64], eff: &[f64], se: &[f64]) -> KpiEffects {
    KpiEffects {
        effects: names
            .iter()
            .zip(eff)
            .map(|(n, &e)| Effect::point(*n, e))
            .collect(),
        baseline: base.to_vec(),
        covariance: DMatrix::from_diagonal(&nalgebra::DVector::from_iterator(
            se.len(),
            se.iter().map(|s| s * s),
        )),
        covariance_source: "test".into(),
        replicates: None,
    }
}

#[test]
fn linear_tree_by_hand() {
    // handle = c * aht * k, follow = c * (1 - fcr) * u, total = handle + follow: linear in the
    // KPIs, so the delta method is exact: var = (c k)^2 var(aht) + (c u)^2 var(fcr) - 2 c k c u
    // cov(aht, fcr).
    let s = section(
        "period = \"month\"\n[constants]\nc = 1000\nk = 0.5\nu = 4\n\
         [[node]]\nname = \"handle\"\nexpr = \"c * aht * k\"\n\
         [[node]]\nname = \"total\"\nexpr = \"handle + follow\"\n\
         [[node]]\nname = \"follow\"\nexpr = \"c * (1 - fcr) * u\"\n",
    );
    let names = vec!["aht".to_string(), "fcr".to_string()];
    let tree = ValueTree::from_spec(&s, &names).unwrap();
    assert_eq!(tree.node_names(), vec!["handle", "total", "follow"]);
    let mut e = simple_effects(&["aht", "fcr"], &[300.0, 0.7], &[-10.0, 0.02], &[2.0, 0.01]);
    let cov_af = -0.5 * 2.0 * 0.01;
    e.covariance[(0, 1)] = cov_af;
    e.covariance[(1, 0)] = cov_af;
    let out = tree.changes(&e, &BTreeMap::new(), 0.05).unwrap();
    let (c, k, u) = (1000.0, 0.5, 4.0);
    close(out[0].change.estimate, c * k * -10.0, 1e-12, "handle");
    close(
        out[0].change.std_error.unwrap(),
        c * k * 2.0,
        1e-12,
        "handle SE",
    );
    close(out[2].change.estimate, -c * u * 0.02, 1e-12, "follow");
    let total = c * k * -10.0 - c * u * 0.02;
    let var = (c * k).powi(2) * 4.0 + (c * u).powi(2) * 1e-4 - 2.0 * c * k * c * u * cov_af;
    close(out[1].change.estimate, total, 1e-12, "total");
    close(
        out[1].change.std_error.unwrap(),
        var.sqrt(),
        1e-12,
        "total SE",
    );
    close(
        out[1].without,
        c * 300.0 * k + c * 0.3 * u,
        1e-12,
        "total without",
    );
    // Views: month = 365.25 / 12 days.
    let v = &out[1].views;
    assert_eq!(v.period, Period::Month);
    close(
        v.per_day.unwrap().estimate,
        total / (365.25 / 12.0),
        1e-12,
        "per day",
    );
    close(
        v.annualised.unwrap().estimate,
        total * 12.0,
        1e-12,
        "annualised",
    );
    close(
        v.relative.unwrap().estimate,
        total / out[1].without,
        1e-12,
        "relative",
    );
}

#[test]
fn overrides_replace_constants() {
    let s = section(
        "period = \"year\"\n[constants]\nvolume = 100\n\
         [[node]]\nname = \"cost\"\nexpr = \"volume * aht\"\n",
    );
    let tree = ValueTree::from_spec(&s, &["aht".to_string()]).unwrap();
    let e = simple_effects(&["aht"], &[10.0], &[2.0], &[0.5]);
    let base = tree.changes(&e, &BTreeMap::new(), 0.05).unwrap();
    let over = BTreeMap::from([("volume".to_string(), 250.0)]);
    let scaled = tree.changes(&e, &over, 0.05).unwrap();
    close(base[0].change.estimate, 200.0, 1e-12, "base");
    close(scaled[0].change.estimate, 500.0, 1e-12, "overridden");
    close(
        scaled[0].change.std_error.unwrap(),
        125.0,
        1e-12,
        "overridden SE",
    );
    let bad = BTreeMap::from([("volumes".to_string(), 1.0)]);
    let err = tree.changes(&e, &bad, 0.05).unwrap_err().to_string();
    assert!(err.contains("`volumes`"), "{err}");
}

#[test]
fn views_share_the_sign_of_the_change() {
    // Increasing and decreasing nodes, with positive and negative levels, over every period:
    // every view (and its interval's centre) has the sign of the change.
    let s = section(
        "period = \"week\"\n[constants]\nn = 52\n\
         [[node]]\nname = \"up\"\nexpr = \"n * x\"\n\
         [[node]]\nname = \"down\"\nexpr = \"-n * x\"\n\
         [[node]]\nname = \"negative_level\"\nexpr = \"x * y - 1000\"\n\
         [[node]]\nname = \"ratio\"\nexpr = \"x / y\"\n",
    );
    let names = vec!["x".to_string(), "y".to_string()];
    for period in ["day", "week", "month", "quarter", "year"] {
        let mut s = s.clone();
        s.period = period.into();
        let tree = ValueTree::from_spec(&s, &names).unwrap();
        for (dx, dy) in [(1.5, 0.2), (-1.5, 0.2), (0.3, -0.4), (-0.3, -0.1)] {
            let e = simple_effects(&["x", "y"], &[5.0, 3.0], &[dx, dy], &[0.4, 0.1]);
            for c in tree.changes(&e, &BTreeMap::new(), 0.1).unwrap() {
                let sign = c.change.estimate.signum();
                let v = &c.views;
                for view in [Some(v.over_period), v.relative, v.per_day, v.annualised] {
                    let view = view.expect("recurring: every view present");
                    assert_eq!(view.estimate.signum(), sign, "{period} {}", c.name);
                    assert!(view.ci_low <= view.estimate && view.estimate <= view.ci_high);
                }
            }
        }
    }
    // One-off: not annualised, not spread per day.
    let mut once = s.clone();
    once.recurring = Some(false);
    let tree = ValueTree::from_spec(&once, &names).unwrap();
    let e = simple_effects(&["x", "y"], &[5.0, 3.0], &[1.0, 0.0], &[0.4, 0.1]);
    let c = &tree.changes(&e, &BTreeMap::new(), 0.05).unwrap()[0];
    assert!(!c.views.recurring);
    assert!(c.views.annualised.is_none() && c.views.per_day.is_none());
    close(
        c.views.over_period.estimate,
        52.0,
        1e-12,
        "one-off over period",
    );
}

fn spec_error(toml_text: &str, kpis: &[&str]) -> (String, String) {
    let names: Vec<String> = kpis.iter().map(|s| s.to_string()).collect();
    match ValueTree::from_spec(&section(toml_text), &names) {
        Err(AttributionError::Spec { key, message, .. }) => (key, message),
        other => panic!("expected a spec error, got {other:?}"),
    }
}

#[test]
fn bad_value_sections_name_the_key() {
    let (k, m) = spec_error(
        "period = \"year\"\n[[node]]\nname = \"cost\"\nexpr = \"aht * volumne\"\n",
        &["aht"],
    );
    assert_eq!(k, "value.node.cost.expr");
    assert!(m.contains("unknown name `volumne`"), "{m}");

    let (k, m) = spec_error(
        "period = \"year\"\n[[node]]\nname = \"a\"\nexpr = \"b + 1\"\n\
         [[node]]\nname = \"b\"\nexpr = \"c * aht\"\n[[node]]\nname = \"c\"\nexpr = \"a / 2\"\n",
        &["aht"],
    );
    assert_eq!(k, "value.node.a.expr");
    assert!(m.contains("cycle: a -> b -> c -> a"), "{m}");

    let (k, m) = spec_error(
        "period = \"year\"\n[[node]]\nname = \"a\"\nexpr = \"a + aht\"\n",
        &["aht"],
    );
    assert_eq!(k, "value.node.a.expr");
    assert!(m.contains("cycle: a -> a"), "{m}");

    let (k, m) = spec_error(
        "period = \"year\"\n[[node]]\nname = \"aht\"\nexpr = \"2\"\n",
        &["aht"],
    );
    assert_eq!(k, "value.node.aht.name");
    assert!(m.contains("name of a KPI"), "{m}");

    let (k, m) = spec_error(
        "period = \"year\"\n[constants]\nv = 1\n[[node]]\nname = \"v\"\nexpr = \"2\"\n",
        &["aht"],
    );
    assert_eq!(k, "value.node.v.name");
    assert!(m.contains("name of a constant"), "{m}");

    let (k, m) = spec_error("period = \"year\"\n[constants]\naht = 1\n", &["aht"]);
    assert_eq!(k, "value.constants.aht");
    assert!(m.contains("name of a KPI"), "{m}");

    let (k, m) = spec_error(
        "period = \"year\"\n[[node]]\nname = \"a\"\nexpr = \"1\"\n[[node]]\nname = \"a\"\nexpr = \"2\"\n",
        &["aht"],
    );
    assert_eq!(k, "value.node.a.name");
    assert!(m.contains("two value nodes"), "{m}");

    let (k, m) = spec_error(
        "period = \"year\"\n[[node]]\nname = \"a\"\nexpr = \"(aht + 1\"\n",
        &["aht"],
    );
    assert_eq!(k, "value.node.a.expr");
    assert!(m.contains("missing `)`"), "{m}");

    let (k, m) = spec_error("period = \"fortnight\"\n", &["aht"]);
    assert_eq!(k, "value.period");
    assert!(m.contains("fortnight"), "{m}");
}

#[test]
fn bad_effects_and_division_by_zero_are_typed_errors() {
    let s = section("period = \"day\"\n[[node]]\nname = \"r\"\nexpr = \"1 / (x - 2)\"\n");
    let tree = ValueTree::from_spec(&s, &["x".to_string()]).unwrap();
    let e = simple_effects(&["x"], &[2.0], &[1.0], &[0.1]);
    let err = tree
        .changes(&e, &BTreeMap::new(), 0.05)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("value node `r`") && err.contains("without the release"),
        "{err}"
    );
    let wrong = simple_effects(&["y"], &[3.0], &[1.0], &[0.1]);
    let err = tree
        .changes(&wrong, &BTreeMap::new(), 0.05)
        .unwrap_err()
        .to_string();
    assert!(err.contains("labelled `y`"), "{err}");
    let ok = simple_effects(&["x"], &[3.0], &[1.0], &[0.1]);
    assert!(tree.changes(&ok, &BTreeMap::new(), 1.5).is_err());
}

#[test]
fn additive_parts_and_roots() {
    let s = section(
        "period = \"year\"\n[constants]\nc = 10\n\
         [[node]]\nname = \"a\"\nexpr = \"c * x\"\n\
         [[node]]\nname = \"b\"\nexpr = \"c * y\"\n\
         [[node]]\nname = \"net\"\nexpr = \"a - (b + -a)\"\n\
         [[node]]\nname = \"scaled\"\nexpr = \"2 * a\"\n",
    );
    let tree = ValueTree::from_spec(&s, &["x".to_string(), "y".to_string()]).unwrap();
    assert_eq!(
        tree.additive_parts("net").unwrap(),
        vec![
            ("a".to_string(), 1.0),
            ("b".to_string(), -1.0),
            ("a".to_string(), 1.0)
        ]
    );
    assert!(tree.additive_parts("scaled").is_none());
    assert!(tree.additive_parts("a").is_none());
    assert_eq!(tree.roots(), vec!["net", "scaled"]);
}

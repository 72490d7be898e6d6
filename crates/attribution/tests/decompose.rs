//! The ratio and rate/mix decomposition against a numpy re-derivation
//! (`reference/scripts/decompose_reference.py` → `reference/decompose.json`: parts written
//! from Kitagawa's formulas, delta-method standard errors with complex-step gradients and
//! `np.cov`), on the bundled contact-centre A/B data.

use causalkit_ab::frequentist::{compare, ArmStats, TestOptions};
use causalkit_attribution::decompose::{decompose, DecomposeOptions, Decomposition};
use causalkit_attribution::spec::ReleaseSpec;
use causalkit_data::Dataset;
use serde_json::Value;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn reference() -> Value {
    let text = std::fs::read_to_string(root().join("reference/decompose.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn ab_data() -> Dataset {
    Dataset::read(&root().join("datasets/contact-centre/ab_contacts.csv")).unwrap()
}

fn spec(extra_design: &str, kpis: &str) -> ReleaseSpec {
    let text = format!(
        r#"
[release]
name = "test"
[data]
path = "ab_contacts.csv"
[design]
kind = "randomised"
arm = "arm"
control = "control"
treatment = "treatment"
{extra_design}
{kpis}
"#
    );
    toml::from_str(&text).unwrap()
}

const AHT: &str = "[[kpi]]\nname = \"aht\"\nexpr = \"mean(handle_seconds)\"\nbetter = \"lower\"\n";

/// Compares every part with the reference case: estimates to 1e-9 relative, standard errors
/// to 1e-7 relative (analytic gradients here, complex-step gradients in numpy; both exact
/// to rounding), or 1e-8 absolute for the zero-variance log denominator.
fn check_case(dec: &Decomposition, case: &Value) {
    let segs: Vec<String> = case["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        dec.units[0] as u64,
        case["units"][0].as_u64().unwrap(),
        "control units"
    );
    assert_eq!(dec.units[1] as u64, case["units"][1].as_u64().unwrap());
    let parts = case["parts"].as_object().unwrap();
    let mut checked = 0;
    for (name, want) in parts {
        let (term, seg) = match name.split_once(':') {
            Some((t, i)) => (t, Some(segs[i.parse::<usize>().unwrap()].clone())),
            None => (name.as_str(), None),
        };
        let e = dec
            .effects
            .iter()
            .find(|e| e.key.term.as_deref() == Some(term) && e.key.segment == seg)
            .unwrap_or_else(|| panic!("part {name} missing"));
        let est = want["estimate"].as_f64().unwrap();
        let se = want["std_error"].as_f64().unwrap();
        assert!(
            (e.estimate - est).abs() <= 1e-9 * est.abs().max(1e-3),
            "{name}: {} vs {est}",
            e.estimate
        );
        let got = e.std_error.unwrap();
        assert!(
            (got - se).abs() <= 1e-7 * se.max(1e-1) || (se < 1e-8 && got < 1e-8),
            "{name} se: {got} vs {se}"
        );
        checked += 1;
    }
    assert_eq!(checked, dec.effects.len(), "every part was checked");
}

fn no_bootstrap() -> DecomposeOptions {
    DecomposeOptions {
        bootstrap_reps: 0,
        ..Default::default()
    }
}

fn case(name: &str) -> Value {
    reference()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()
        .clone()
}

#[test]
fn aht_by_intent_matches_numpy_and_adds_up_exactly() {
    let s = spec("segment = \"intent\"", AHT);
    let dec = decompose(&s, &ab_data(), "aht", &no_bootstrap()).unwrap();
    check_case(&dec, &case("aht_by_intent_rows"));
    // Kitagawa's symmetric form is an identity: rate + mix == total to rounding, and the
    // per-segment terms add up to the rate and mix parts.
    let total = dec.part("total").unwrap().estimate;
    let rate = dec.part("rate").unwrap().estimate;
    let mix = dec.part("mix").unwrap().estimate;
    assert!((rate + mix - total).abs() < 1e-10 * total.abs());
    for term in ["rate", "mix"] {
        let by_seg: f64 = dec
            .effects
            .iter()
            .filter(|e| e.key.term.as_deref() == Some(term) && e.key.segment.is_some())
            .map(|e| e.estimate)
            .sum();
        assert!((by_seg - dec.part(term).unwrap().estimate).abs() < 1e-10 * total.abs());
    }
    // The log split adds up exactly too.
    let l = |t: &str| dec.part(t).unwrap().estimate;
    assert!((l("log_numerator") - l("log_denominator") - l("log_total")).abs() < 1e-14);
    // A mean per row has denominator 1: the note says so.
    assert!(dec.notes.iter().any(|n| n.contains("denominator of 1")));
}

#[test]
fn total_equals_the_ab_engine_welch_difference() {
    // The total change of a row-level mean is the A/B engine's absolute difference, and
    // its delta-method SE is the unpooled (Welch) SE: equality with the validated engine.
    let s = spec("", AHT);
    let dec = decompose(&s, &ab_data(), "aht", &no_bootstrap()).unwrap();
    let data = ab_data();
    let arm = data.labels("arm").unwrap();
    let hs = causalkit_data::numeric_column(&data, "handle_seconds").unwrap();
    let stats = |label: &str| {
        let v: Vec<f64> = hs
            .iter()
            .zip(&arm)
            .filter(|(_, a)| a.as_deref() == Some(label))
            .map(|(x, _)| *x)
            .collect();
        let n = v.len() as f64;
        ArmStats::from_sums(n, v.iter().sum(), v.iter().map(|x| x * x).sum()).unwrap()
    };
    let c = compare(
        &stats("control"),
        &stats("treatment"),
        &TestOptions::default(),
    )
    .unwrap();
    let total = dec.part("total").unwrap();
    assert!((total.estimate - c.absolute.estimate).abs() < 1e-9);
    assert!((total.std_error.unwrap() - c.absolute.std_error).abs() < 1e-9);
    assert!(dec.part("rate").is_none(), "no segment, no rate/mix split");
}

#[test]
fn aht_per_customer_unit_splits_numerator_and_denominator() {
    // Units = (customer, arm) groups: handle seconds per unit over contacts per unit.
    let data = ab_data();
    let cust = data.labels("customer_id").unwrap();
    let arm = data.labels("arm").unwrap();
    let unit: Vec<Option<String>> = cust
        .iter()
        .zip(&arm)
        .map(|(c, a)| Some(format!("{}|{}", c.as_deref()?, a.as_deref()?)))
        .collect();
    let data = data.with_label_column("customer_arm", unit).unwrap();
    let s = spec("segment = \"intent\"\nunit = \"customer_arm\"", AHT);
    let dec = decompose(&s, &data, "aht", &no_bootstrap()).unwrap();
    check_case(&dec, &case("aht_by_intent_customer_units"));
    assert!(dec.part("log_denominator").unwrap().std_error.unwrap() > 1e-3);
    let total = dec.part("total").unwrap().estimate;
    let sum = dec.part("rate").unwrap().estimate + dec.part("mix").unwrap().estimate;
    assert!((sum - total).abs() < 1e-10 * total.abs());
}

#[test]
fn csat_with_missing_scores_and_fcr_without_segment() {
    let csat = "[[kpi]]\nname = \"csat\"\nexpr = \"mean(csat)\"\nbetter = \"higher\"\n";
    let s = spec("segment = \"queue\"", csat);
    let dec = decompose(&s, &ab_data(), "csat", &no_bootstrap()).unwrap();
    check_case(&dec, &case("csat_by_queue_rows"));
    let r = reference();
    assert_eq!(
        dec.dropped_rows as u64,
        r["csat_rows_dropped"].as_u64().unwrap()
    );
    assert!(dec.notes.iter().any(|n| n.contains("missing input")));
    let fcr = "[[kpi]]\nname = \"fcr\"\nexpr = \"proportion(fcr)\"\nbetter = \"higher\"\n";
    let s = spec("", fcr);
    let dec = decompose(&s, &ab_data(), "fcr", &no_bootstrap()).unwrap();
    check_case(&dec, &case("fcr_no_segment"));
}

#[test]
fn bootstrap_agrees_with_the_delta_method() {
    // 400 unit-bootstrap replicates (seeded): the Monte Carlo relative error of a bootstrap
    // SE is about 1/sqrt(2B) = 3.5%, so the two SEs must agree within 15% (> 4 MC s.d.);
    // the bootstrap percentile interval must contain the point estimate.
    let s = spec("segment = \"intent\"", AHT);
    let opts = DecomposeOptions {
        bootstrap_reps: 400,
        seed: 7,
        ..Default::default()
    };
    let dec = decompose(&s, &ab_data(), "aht", &opts).unwrap();
    let boot = dec.bootstrap.as_ref().unwrap();
    assert_eq!(dec.bootstrap_reps, (400, 0));
    for (e, b) in dec.effects.iter().zip(boot) {
        let se = e.std_error.unwrap();
        if se < 1e-8 {
            assert!(b.std_error < 1e-8, "{}: {}", e.label, b.std_error);
            continue;
        }
        assert!(
            (b.std_error / se - 1.0).abs() < 0.15,
            "{}: bootstrap {} vs delta {se}",
            e.label,
            b.std_error
        );
        assert!(
            b.ci_low <= e.estimate && e.estimate <= b.ci_high,
            "{}",
            e.label
        );
    }
    // Same seed, same numbers.
    let again = decompose(&s, &ab_data(), "aht", &opts).unwrap();
    let b2 = again.bootstrap.unwrap();
    for (x, y) in boot.iter().zip(&b2) {
        assert!((x.std_error - y.std_error).abs() < 1e-12);
    }
}

#[test]
fn refuses_the_model_prediction_as_segment_and_non_randomised_designs() {
    let mut s = spec("segment = \"intent\"", AHT);
    s.errors = Some(
        toml::from_str("true = \"x\"\npredicted = \"intent\"\nvolume = \"v\"\nvalue = \"n\"")
            .unwrap(),
    );
    let err = decompose(&s, &ab_data(), "aht", &no_bootstrap()).unwrap_err();
    assert!(err.to_string().contains("model's prediction"), "{err}");
    let mut s = spec("segment = \"intent\"", AHT);
    s.design.as_mut().unwrap().kind = causalkit_attribution::spec::DesignKind::Rollout;
    let err = decompose(&s, &ab_data(), "aht", &no_bootstrap()).unwrap_err();
    assert!(err.to_string().contains("randomised"), "{err}");
    let s = spec("segment = \"intent\"\nweight = \"fcr\"", AHT);
    let err = decompose(&s, &ab_data(), "aht", &no_bootstrap()).unwrap_err();
    assert!(err.to_string().contains("design.weight"), "{err}");
    let s = spec("segment = \"intent\"", AHT);
    let err = decompose(&s, &ab_data(), "nope", &no_bootstrap()).unwrap_err();
    assert!(err.to_string().contains("`nope`"), "{err}");
}

#[test]
fn bad_input_names_the_row_or_segment() {
    // An arm label that is neither arm names the column and row.
    let data = ab_data();
    let mut arm = data.labels("arm").unwrap();
    arm[5] = Some("holdout".into());
    let data2 = data.with_label_column("arm", arm).unwrap();
    let s = spec("segment = \"intent\"", AHT);
    let err = decompose(&s, &data2, "aht", &no_bootstrap()).unwrap_err();
    assert!(
        err.to_string().contains("row 5") && err.to_string().contains("holdout"),
        "{err}"
    );
    // A segment present in one arm only: its rate is undefined, named.
    let arm = data.labels("arm").unwrap();
    let mut seg = data.labels("intent").unwrap();
    for (i, a) in arm.iter().enumerate() {
        if a.as_deref() == Some("treatment") && i % 97 == 0 {
            seg[i] = Some("only_treated".into());
        }
    }
    let data3 = data.with_label_column("intent", seg).unwrap();
    let err = decompose(&s, &data3, "aht", &no_bootstrap()).unwrap_err();
    assert!(err.to_string().contains("only_treated"), "{err}");
    // A missing segment label names the column.
    let mut seg = data.labels("intent").unwrap();
    seg[3] = None;
    let data4 = data.with_label_column("intent", seg).unwrap();
    let err = decompose(&s, &data4, "aht", &no_bootstrap()).unwrap_err();
    assert!(err.to_string().contains("intent"), "{err}");
}

/// On the bundled intent-release data (simulated with known truth), with the true intent as
/// segment: the release does not change who calls about what, so the mix part's interval
/// covers 0, and the total change's interval covers the true effect on AHT (truth.json,
/// `randomised.effects.aht`); rate + mix == total exactly. One realisation at 95%.
#[test]
fn intent_release_mix_is_nil_and_total_covers_the_truth() {
    let dir = root().join("datasets/intent-release");
    let mut s: ReleaseSpec =
        toml::from_str(&std::fs::read_to_string(dir.join("randomised.toml")).unwrap()).unwrap();
    s.design.as_mut().unwrap().segment = Some("true_intent".into());
    let data = Dataset::read(&dir.join("randomised.csv")).unwrap();
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("truth.json")).unwrap()).unwrap();
    let dec = decompose(&s, &data, "aht", &no_bootstrap()).unwrap();
    let mix = dec.part("mix").unwrap();
    assert!(
        mix.ci_low.unwrap() <= 0.0 && 0.0 <= mix.ci_high.unwrap(),
        "{mix:?}"
    );
    let total = dec.part("total").unwrap();
    let t = truth["randomised"]["effects"]["aht"].as_f64().unwrap();
    assert!(
        total.ci_low.unwrap() <= t && t <= total.ci_high.unwrap(),
        "{total:?} vs {t}"
    );
    let rate = dec.part("rate").unwrap();
    assert!((rate.estimate + mix.estimate - total.estimate).abs() < 1e-10 * total.estimate.abs());
    eprintln!(
        "total {:.3} [{:.3}, {:.3}], rate {:.3}, mix {:.3} [{:.3}, {:.3}], truth {t:.3}",
        total.estimate,
        total.ci_low.unwrap(),
        total.ci_high.unwrap(),
        rate.estimate,
        mix.estimate,
        mix.ci_low.unwrap(),
        mix.ci_high.unwrap()
    );
}

#[test]
fn decompose_spec_covers_every_kpi_or_says_why_not() {
    use causalkit_attribution::decompose::decompose_spec;
    let kpis = format!(
        "{AHT}[[kpi]]\nname = \"nps\"\nexpr = \"composite(-1*handle_seconds)\"\nbetter = \"higher\"\n"
    );
    let s = spec("segment = \"intent\"", &kpis);
    let v = decompose_spec(&s, &ab_data(), &no_bootstrap()).unwrap();
    assert_eq!(v["applies"], true);
    let aht = &v["kpis"]["aht"];
    assert_eq!(aht["segment"], "intent");
    assert!(aht["parts"].as_array().unwrap().len() >= 6);
    // A negative numerator has no log split; the note says so, the rate/mix split is there.
    let neg = &v["kpis"]["nps"];
    assert!(neg["notes"].to_string().contains("no log split"), "{neg}");
    assert!(neg["parts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["term"] == "mix"));
    let mut s = spec("segment = \"intent\"", AHT);
    s.design.as_mut().unwrap().kind = causalkit_attribution::spec::DesignKind::SingleUnit;
    let v = decompose_spec(&s, &ab_data(), &no_bootstrap()).unwrap();
    assert_eq!(v["applies"], false);
    assert!(v["reason"].as_str().unwrap().contains("single-unit"));
}

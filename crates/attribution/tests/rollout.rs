//! The rollout design against the `causalkit did --method cs --events` library path (identity,
//! 1e-12), the covariance contract, and the contact-centre simulator's known effects.

use causalkit_attribution::rollout::{self, RolloutOptions};
use causalkit_attribution::spec::ReleaseSpec;
use causalkit_attribution::{AttributionError, RefuterOutcome};
use causalkit_data::{Dataset, Kpi, MissingPolicy, Panel};
use causalkit_did::cs::{self, Aggregation, ControlGroup, CsData, CsMethod, CsOptions};
use causalkit_stats::Factor;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn staggered() -> Dataset {
    Dataset::read(&root().join("datasets/contact-centre/staggered_contacts.csv")).unwrap()
}

fn spec(extra_design: &str) -> ReleaseSpec {
    toml::from_str(&format!(
        r#"
[release]
name = "router"
[data]
path = "staggered_contacts.csv"
[design]
kind = "rollout"
unit = "site"
time = "day"
adoption = "adoption_day"
events = true
{extra_design}
[[kpi]]
name = "handle_seconds"
expr = "mean(handle_seconds)"
better = "lower"
[[kpi]]
name = "fcr"
expr = "mean(fcr)"
better = "higher"
"#
    ))
    .unwrap()
}

/// The exact library path of `causalkit did --events --method cs --unit site --time day
/// --cohort adoption_day --outcome Y [--control not-yet]` (crates/cli/src/did.rs `read_events`
/// and `run_cs`): mean of Y per site x day cell, unweighted cells, doubly robust, simple
/// aggregation. Returns (estimate, se, ci).
fn cli_path(data: &Dataset, outcome: &str, control: ControlGroup) -> (f64, f64, (f64, f64)) {
    let kpi: Kpi = format!("{outcome}=mean({outcome})").parse().unwrap();
    let panel = Panel::from_events(data, "site", "day", &[kpi], MissingPolicy::Error).unwrap();
    let labels = data.labels("site").unwrap();
    let gs = data.numeric("adoption_day").unwrap();
    let mut cohort_of = std::collections::BTreeMap::new();
    for (l, g) in labels.iter().zip(&gs) {
        cohort_of.insert(l.clone().unwrap(), g.unwrap() as i64);
    }
    let cohort0: Vec<i64> = panel.unit.iter().map(|u| cohort_of[u]).collect();
    let f = Factor::from_labels("unit", &panel.unit);
    let unit_idx: Vec<usize> = f.codes().iter().map(|&u| u as usize).collect();
    let d = CsData {
        unit: &unit_idx,
        period: &panel.period,
        cohort: &cohort0,
        outcome: &panel.values[outcome],
        covariates: Vec::new(),
        weights: None,
        cluster: None,
    };
    let options = CsOptions {
        control_group: control,
        anticipation: 0,
        method: CsMethod::DoublyRobust,
        panel: true,
        allow_unbalanced_panel: false,
        alpha: 0.05,
        bootstrap: None,
        ..CsOptions::default()
    };
    let fit = cs::att_gt(&d, &options).unwrap();
    let o = fit.aggregate(&Aggregation::Simple).unwrap().overall;
    (o.estimate, o.se.unwrap(), o.ci.unwrap())
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
}

#[test]
fn kpi_effects_identical_to_did_cs_never_and_not_yet() {
    let data = staggered();
    for (extra, control) in [
        ("", ControlGroup::NeverTreated),
        ("control_group = \"not-yet\"", ControlGroup::NotYetTreated),
    ] {
        let fit = rollout::fit(&spec(extra), &data, &RolloutOptions::default()).unwrap();
        for (k, outcome) in ["handle_seconds", "fcr"].iter().enumerate() {
            let (est, se, ci) = cli_path(&data, outcome, control);
            let e = &fit.effects.effects[k];
            assert_eq!(e.label, *outcome);
            // Identity with the did library path: 1e-12 (relative).
            assert!(
                close(e.estimate, est, 1e-12),
                "{outcome}: {} vs {est}",
                e.estimate
            );
            assert!(close(e.std_error.unwrap(), se, 1e-12));
            assert!(close(e.ci_low.unwrap(), ci.0, 1e-12));
            assert!(close(e.ci_high.unwrap(), ci.1, 1e-12));
            // Covariance diagonal = squared CS standard error (1e-12 relative).
            let v = fit.effects.covariance[(k, k)];
            assert!(close(v, se * se, 1e-12), "{v} vs {}", se * se);
        }
    }
}

#[test]
fn covariance_is_a_valid_joint_covariance() {
    let data = staggered();
    let fit = rollout::fit(&spec(""), &data, &RolloutOptions::default()).unwrap();
    let c = &fit.effects.covariance;
    assert_eq!(c.shape(), (2, 2));
    assert!((c[(0, 1)] - c[(1, 0)]).abs() <= 1e-15 * c[(0, 1)].abs().max(1.0));
    let r = c[(0, 1)] / (c[(0, 0)] * c[(1, 1)]).sqrt();
    assert!(r.abs() < 1.0, "correlation {r}");
    assert!(fit.effects.replicates.is_none());
    assert!(fit.diagnostics["covariance"]
        .as_str()
        .unwrap()
        .contains("influence functions"));
}

/// The baseline is the treated post-period mean minus the ATT: recomputed here from the raw
/// events (mean of the site-day cell means over treated post cells; every cohort has two
/// sites so the cohort-share weights are equal per cell).
#[test]
fn baseline_is_treated_post_mean_minus_att() {
    let data = staggered();
    let fit = rollout::fit(&spec(""), &data, &RolloutOptions::default()).unwrap();
    let sites = data.labels("site").unwrap();
    let days = data.numeric("day").unwrap();
    let g = data.numeric("adoption_day").unwrap();
    let y = data.numeric("handle_seconds").unwrap();
    let mut cells: std::collections::BTreeMap<(String, i64), (f64, f64)> = Default::default();
    for i in 0..y.len() {
        let (gi, ti) = (g[i].unwrap() as i64, days[i].unwrap() as i64);
        if gi > 0 && ti >= gi {
            let e = cells.entry((sites[i].clone().unwrap(), ti)).or_default();
            e.0 += y[i].unwrap();
            e.1 += 1.0;
        }
    }
    let mean = cells.values().map(|(s, n)| s / n).sum::<f64>() / cells.len() as f64;
    let e = fit.effects.effects[0].estimate;
    assert!(close(fit.effects.baseline[0], mean - e, 1e-12));
}

/// Known truth (datasets/contact-centre/truth.json, `staggered.att_by_cohort_event_time`):
/// every treated site-day cell's handle-time shift is `m(g,e) * -25 s` and its FCR shift
/// `m(g,e) * 0.05` exactly; the CS simple aggregate weights the post cells equally here (two
/// sites per cohort), so its estimand is the plain mean over the cohort x event-time cells.
/// Handle time: the 95% interval covers it. FCR on this draw: CS compares every post cell with
/// the single base day before adoption and, with two sites per cohort, lands at -0.076
/// [-0.114, -0.037] against a truth of +0.042 while imputation (all pre-periods) gives +0.013
/// [-0.001, 0.028]; the design must say so: the disagreement warning names the KPI, and the
/// imputation pre-trend test rejects (p = 0.012), also a warning.
#[test]
fn covers_simulated_truth_or_warns() {
    let truth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("datasets/contact-centre/truth.json")).unwrap(),
    )
    .unwrap();
    let cells = truth["staggered"]["att_by_cohort_event_time"]
        .as_array()
        .unwrap();
    let mean =
        |k: &str| cells.iter().map(|c| c[k].as_f64().unwrap()).sum::<f64>() / cells.len() as f64;
    let data = staggered();
    let fit = rollout::fit(&spec(""), &data, &RolloutOptions::default()).unwrap();
    let e = &fit.effects.effects[0];
    let t = mean("aht_seconds");
    assert!(
        e.ci_low.unwrap() <= t && t <= e.ci_high.unwrap(),
        "handle time: truth {t} outside [{}, {}]",
        e.ci_low.unwrap(),
        e.ci_high.unwrap()
    );
    let cc = fit.cross_check.as_ref().unwrap();
    assert_eq!(cc.effects.len(), 2);
    assert!(cc.estimator.contains("imputation"));
    let c = &cc.effects[0];
    assert!(c.ci_low.unwrap() <= t && t <= c.ci_high.unwrap());
    // FCR: CS and imputation disagree; both warnings are there.
    assert!(fit
        .warnings
        .iter()
        .any(|w| w.starts_with("KPI `fcr`: Callaway-Sant'Anna")
            && w.contains("disagree beyond their 95% intervals")));
    assert!(fit
        .warnings
        .iter()
        .any(|w| w.starts_with("KPI `fcr`: the imputation pre-trend test")));
    assert!(!fit.warnings.iter().any(|w| w.contains("`handle_seconds`")));
    assert!(fit.diagnostics["pretrend_tests"]["handle_seconds"]
        .get("imputation")
        .is_some());
}

#[test]
fn placebo_release_date_passes_on_the_pre_period() {
    let data = staggered();
    let r = rollout::placebo_release_date(&spec(""), &data, &RolloutOptions::default()).unwrap();
    assert_eq!(r.name, "placebo release date");
    assert!(r.rule.contains("covers 0 for every KPI"));
    // 14 pre-periods (days 1-14): shift 4, fake adoption day 11.
    assert!(
        r.detail
            .contains("fake adoption at period 11 (4 period(s) earlier)"),
        "{}",
        r.detail
    );
    assert_eq!(r.outcome, RefuterOutcome::Pass, "{}", r.detail);
}

/// A real effect placed inside the pre-period fails the placebo: handle time of the sites
/// adopting later drops by 200 s from day 11 on (shifted data, same design).
#[test]
fn placebo_release_date_fails_when_the_effect_starts_early() {
    let data = staggered();
    let g = data.numeric("adoption_day").unwrap();
    let day = data.numeric("day").unwrap();
    let y = data.numeric("handle_seconds").unwrap();
    let shifted: Vec<Option<f64>> = (0..y.len())
        .map(|i| {
            let early = g[i].unwrap() > 0.0 && day[i].unwrap() >= 11.0;
            y[i].map(|v| if early { v - 200.0 } else { v })
        })
        .collect();
    let data = data.with_numeric_column("handle_seconds", shifted).unwrap();
    let r = rollout::placebo_release_date(&spec(""), &data, &RolloutOptions::default()).unwrap();
    assert_eq!(r.outcome, RefuterOutcome::Fail, "{}", r.detail);
    assert!(r.detail.contains("handle_seconds") && r.detail.contains("excludes 0"));
}

#[test]
fn running_effects_end_at_the_dynamic_mean() {
    let data = staggered();
    let path = rollout::running_effects(&spec(""), &data, &RolloutOptions::default()).unwrap();
    assert_eq!(path.first().unwrap().0, 0);
    assert_eq!(path.last().unwrap().0, 41); // cohort 15 observed to day 56
    for (_, k) in &path {
        for j in 0..2 {
            let se = k.effects[j].std_error.unwrap();
            assert!(close(k.covariance[(j, j)], se * se, 1e-12));
        }
    }
}

#[test]
fn spec_errors_name_the_key() {
    let data = staggered();
    let mut s = spec("");
    s.design.as_mut().unwrap().adoption = None;
    let e = rollout::fit(&s, &data, &RolloutOptions::default()).unwrap_err();
    assert!(
        matches!(&e, AttributionError::Spec { key, .. } if key == "design.adoption"),
        "{e}"
    );
    let e = rollout::fit(&spec("weight = \"w\""), &data, &RolloutOptions::default()).unwrap_err();
    assert!(
        matches!(&e, AttributionError::Spec { key, .. } if key == "design.weight"),
        "{e}"
    );
    let e = rollout::fit(
        &spec("control_group = \"later\""),
        &data,
        &RolloutOptions::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("design.control_group") && e.to_string().contains("later"));
    let mut s = spec("");
    s.design.as_mut().unwrap().adoption = Some("no_such_column".into());
    let e = rollout::fit(&s, &data, &RolloutOptions::default()).unwrap_err();
    assert!(e.to_string().contains("no_such_column"), "{e}");
}

/// Rows that are not events must be one per unit x period: the first duplicate is named.
#[test]
fn duplicate_cells_without_events_are_refused() {
    let data = staggered();
    let e = rollout::fit(
        &spec("").clone_without_events(),
        &data,
        &RolloutOptions::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("site_"), "{e}");
}

trait WithoutEvents {
    fn clone_without_events(&self) -> ReleaseSpec;
}
impl WithoutEvents for ReleaseSpec {
    fn clone_without_events(&self) -> ReleaseSpec {
        let mut s = self.clone();
        s.design.as_mut().unwrap().events = false;
        s
    }
}

//! The single-unit design against the synth library path of `causalkit synth --aggregate
//! --exact-placebo` (identity, 1e-12), the joint placebo covariance, and the contact-centre
//! simulator's known single-site effects.

use causalkit_attribution::single_unit::{self, SingleUnitOptions, MIN_CONTROLS};
use causalkit_attribution::spec::ReleaseSpec;
use causalkit_attribution::{AttributionError, RefuterOutcome};
use causalkit_data::Dataset;
use causalkit_synth::{placebo_se_exact, sdid, SdidMethod, SdidOptions, SynthPanel};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn single_site() -> Dataset {
    Dataset::read(&root().join("datasets/contact-centre/single_site_contacts.csv")).unwrap()
}

fn spec() -> ReleaseSpec {
    toml::from_str(
        r#"
[release]
name = "router"
[data]
path = "single_site_contacts.csv"
[design]
kind = "single-unit"
unit = "site"
time = "day"
treated = "site_08"
start = 50
events = true
[[kpi]]
name = "handle_seconds"
expr = "mean(handle_seconds)"
better = "lower"
[[kpi]]
name = "fcr"
expr = "mean(fcr)"
better = "higher"
"#,
    )
    .unwrap()
}

fn no_cross_check() -> SingleUnitOptions {
    SingleUnitOptions {
        cross_check: false,
        ..SingleUnitOptions::default()
    }
}

/// The library path of `causalkit synth --method sdid --unit site --time day --outcome Y
/// --treated-unit site_08 --treatment-start 50 --aggregate --exact-placebo`
/// (crates/cli/src/synth.rs: cell means in (unit, period) order, `SynthPanel::from_long`,
/// `sdid`, `placebo_se_exact`). Returns (estimate, se, replicates).
fn cli_path(data: &Dataset, outcome: &str) -> (f64, f64, Vec<f64>) {
    let units = data.labels("site").unwrap();
    let time = data.numeric("day").unwrap();
    let y = data.numeric(outcome).unwrap();
    let mut cells: std::collections::BTreeMap<(String, u64), (f64, f64, bool, f64)> =
        Default::default();
    for i in 0..y.len() {
        let (u, t) = (units[i].clone().unwrap(), time[i].unwrap());
        let e = cells
            .entry((u.clone(), t.to_bits()))
            .or_insert((0.0, 0.0, false, t));
        e.0 += y[i].unwrap();
        e.1 += 1.0;
        e.2 |= u == "site_08" && t >= 50.0;
    }
    let (mut uu, mut tt, mut yy, mut dd) = (vec![], vec![], vec![], vec![]);
    for ((u, _), (s, n, d, t)) in cells {
        uu.push(u);
        tt.push(t);
        yy.push(s / n);
        dd.push(d);
    }
    let panel = SynthPanel::from_long(&uu, &tt, &yy, &dd).unwrap();
    let opts = SdidOptions::new(SdidMethod::Sdid);
    let fit = sdid(&panel, &opts).unwrap();
    let se = placebo_se_exact(&panel, &fit, &opts, 1000).unwrap();
    (fit.estimate, se.se, se.replicates)
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
}

#[test]
fn kpi_effects_identical_to_synth_sdid_exact_placebo() {
    let data = single_site();
    let fit = single_unit::fit(&spec(), &data, &no_cross_check()).unwrap();
    let reps = fit.effects.replicates.as_ref().unwrap();
    assert_eq!(reps.shape(), (19, 2));
    for (k, outcome) in ["handle_seconds", "fcr"].iter().enumerate() {
        let (est, se, r) = cli_path(&data, outcome);
        let e = &fit.effects.effects[k];
        assert_eq!(e.label, *outcome);
        // Identity with the synth library path: 1e-12 (relative).
        assert!(
            close(e.estimate, est, 1e-12),
            "{outcome}: {} vs {est}",
            e.estimate
        );
        assert!(
            close(e.std_error.unwrap(), se, 1e-12),
            "{} vs {se}",
            e.std_error.unwrap()
        );
        // Joint replicates: column k is the KPI's exact placebo replicates, in order.
        for (j, x) in r.iter().enumerate() {
            assert!(close(reps[(j, k)], *x, 1e-12));
        }
        // Diagonal = squared placebo SE.
        assert!(close(fit.effects.covariance[(k, k)], se * se, 1e-12));
    }
    // Off-diagonal: the population covariance of the joint replicates, recomputed here.
    let b = reps.nrows() as f64;
    let m0 = reps.column(0).sum() / b;
    let m1 = reps.column(1).sum() / b;
    let c01 = (0..reps.nrows())
        .map(|j| (reps[(j, 0)] - m0) * (reps[(j, 1)] - m1))
        .sum::<f64>()
        / b;
    assert!(close(fit.effects.covariance[(0, 1)], c01, 1e-12));
    assert!(fit.diagnostics["covariance"]
        .as_str()
        .unwrap()
        .contains("joint placebo"));
}

/// Known truth (datasets/contact-centre/truth.json `single_site`): the site-day panel ATT over
/// the post-release days is -20.571 s handle time and +0.0343 FCR; the 95% placebo intervals
/// cover both, SC agrees (no disagreement warning) and the baseline is the treated post mean
/// minus the effect.
#[test]
fn covers_simulated_truth_with_cross_check() {
    let truth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("datasets/contact-centre/truth.json")).unwrap(),
    )
    .unwrap();
    let data = single_site();
    let fit = single_unit::fit(&spec(), &data, &SingleUnitOptions::default()).unwrap();
    for (k, key) in [(0, "att_aht_seconds"), (1, "att_fcr")] {
        let t = truth["single_site"][key].as_f64().unwrap();
        let e = &fit.effects.effects[k];
        assert!(
            e.ci_low.unwrap() <= t && t <= e.ci_high.unwrap(),
            "{key}: truth {t} outside [{}, {}]",
            e.ci_low.unwrap(),
            e.ci_high.unwrap()
        );
    }
    let cc = fit.cross_check.as_ref().unwrap();
    assert_eq!(cc.effects.len(), 2);
    assert!(
        !fit.warnings.iter().any(|w| w.contains("disagree")),
        "{:?}",
        fit.warnings
    );
    // Baseline: treated site's mean post-period cell mean minus the effect.
    let sites = data.labels("site").unwrap();
    let days = data.numeric("day").unwrap();
    let y = data.numeric("handle_seconds").unwrap();
    let mut cells: std::collections::BTreeMap<i64, (f64, f64)> = Default::default();
    for i in 0..y.len() {
        if sites[i].as_deref() == Some("site_08") && days[i].unwrap() >= 50.0 {
            let e = cells.entry(days[i].unwrap() as i64).or_default();
            e.0 += y[i].unwrap();
            e.1 += 1.0;
        }
    }
    let mean = cells.values().map(|(s, n)| s / n).sum::<f64>() / cells.len() as f64;
    assert!(close(
        fit.effects.baseline[0],
        mean - fit.effects.effects[0].estimate,
        1e-12
    ));
}

#[test]
fn too_few_controls_is_a_typed_error_naming_the_count() {
    let data = single_site();
    let sites = data.labels("site").unwrap();
    let keep: Vec<bool> = sites
        .iter()
        .map(|s| {
            matches!(
                s.as_deref(),
                Some("site_01" | "site_02" | "site_03" | "site_08")
            )
        })
        .collect();
    let small = data.filter_rows(&keep).unwrap();
    let e = single_unit::fit(&spec(), &small, &no_cross_check()).unwrap_err();
    assert!(
        matches!(
            &e,
            AttributionError::Estimator {
                numerical: false,
                ..
            }
        ),
        "{e}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains(&format!(
            "at least {MIN_CONTROLS} control units, the data have 3"
        )),
        "{msg}"
    );
}

#[test]
fn spec_errors_name_the_key() {
    let data = single_site();
    let mut s = spec();
    s.design.as_mut().unwrap().treated = Some(toml::Value::String("site_99".into()));
    let e = single_unit::fit(&s, &data, &no_cross_check()).unwrap_err();
    assert!(
        matches!(&e, AttributionError::Spec { key, .. } if key == "design.treated"),
        "{e}"
    );
    let mut s = spec();
    s.design.as_mut().unwrap().start = Some(500);
    let e = single_unit::fit(&s, &data, &no_cross_check()).unwrap_err();
    assert!(
        matches!(&e, AttributionError::Spec { key, .. } if key == "design.start"),
        "{e}"
    );
    let mut s = spec();
    s.design.as_mut().unwrap().start = None;
    let e = single_unit::fit(&s, &data, &no_cross_check()).unwrap_err();
    assert!(
        matches!(&e, AttributionError::Spec { key, .. } if key == "design.start"),
        "{e}"
    );
}

#[test]
fn placebo_release_date_passes_then_fails_with_an_early_effect() {
    let data = single_site();
    let r = single_unit::placebo_release_date(&spec(), &data, &no_cross_check()).unwrap();
    // 49 pre-periods (days 1-49): shift 16, fake start day 34.
    assert!(
        r.detail
            .contains("fake start at period 34 (16 period(s) earlier)"),
        "{}",
        r.detail
    );
    assert_eq!(r.outcome, RefuterOutcome::Pass, "{}", r.detail);
    // The treated site's handle time drops by 100 s from day 34: the placebo must fail.
    let sites = data.labels("site").unwrap();
    let days = data.numeric("day").unwrap();
    let y = data.numeric("handle_seconds").unwrap();
    let shifted: Vec<Option<f64>> = (0..y.len())
        .map(|i| {
            let early = sites[i].as_deref() == Some("site_08") && days[i].unwrap() >= 34.0;
            y[i].map(|v| if early { v - 100.0 } else { v })
        })
        .collect();
    let data = data.with_numeric_column("handle_seconds", shifted).unwrap();
    let r = single_unit::placebo_release_date(&spec(), &data, &no_cross_check()).unwrap();
    assert_eq!(r.outcome, RefuterOutcome::Fail, "{}", r.detail);
    assert!(r.detail.contains("handle_seconds") && r.detail.contains("excludes 0"));
}

#[test]
fn running_effects_end_at_the_sdid_estimate() {
    let data = single_site();
    let fit = single_unit::fit(&spec(), &data, &no_cross_check()).unwrap();
    let path = single_unit::running_effects(&spec(), &data, &no_cross_check()).unwrap();
    assert_eq!(path.len(), 21); // days 50..=70
    assert_eq!(path[0].0, 50);
    let (_, last) = path.last().unwrap();
    for k in 0..2 {
        // The mean of the per-period gaps over all post-periods is the SDID estimate.
        assert!(close(
            last.effects[k].estimate,
            fit.effects.effects[k].estimate,
            1e-9
        ));
        for (_, p) in &path {
            let se = p.effects[k].std_error.unwrap();
            assert!(close(p.covariance[(k, k)], se * se, 1e-12));
        }
    }
}

//! The generic refuters on the bundled contact-centre A/B data (simulated with known truth:
//! the release moves handle time by -25 s, FCR by +0.05; it cannot move the pre-period
//! handle time `pre_handle_seconds`). Designed failures: a KPI the release moves named as
//! placebo; a covariate shifted in the treatment arm; a tenth of the treatment rows dropped
//! (SRM); intervals ten times too narrow (random subsets). Numbers: SMD and SRM against
//! numpy/scipy (`reference/scripts/refute_reference.py` → `reference/refute.json`).
//!
//! The refit closure here is a plain Welch comparison per KPI through the A/B engine
//! (`causalkit_ab::frequentist::compare`), standing in for the randomised design's fit: the
//! refuters take any design's fit as a closure.

use causalkit_ab::frequentist::{compare, ArmStats, TestOptions};
use causalkit_attribution::refute::{
    covariate_balance, placebo_kpis, random_subsets, refute_all, sample_ratio, smd, RefuteOptions,
};
use causalkit_attribution::spec::ReleaseSpec;
use causalkit_attribution::{
    AttributionError, DesignFit, KpiEffects, RefuterOutcome, Result, Source,
};
use causalkit_data::{Dataset, MissingPolicy};
use causalkit_stats::Effect;
use nalgebra::DMatrix;
use serde_json::Value;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn ab_data() -> Dataset {
    Dataset::read(&root().join("datasets/contact-centre/ab_contacts.csv")).unwrap()
}

fn reference() -> Value {
    let text = std::fs::read_to_string(root().join("reference/refute.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn spec(extra_design: &str) -> ReleaseSpec {
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
[[kpi]]
name = "aht"
expr = "mean(handle_seconds)"
better = "lower"
[[kpi]]
name = "fcr"
expr = "proportion(fcr)"
better = "higher"
"#
    );
    toml::from_str(&text).unwrap()
}

/// Welch difference per KPI, 95% CI, with the SE divided by `shrink` (1 = honest).
fn welch_fit(spec: &ReleaseSpec, data: &Dataset, shrink: f64) -> Result<DesignFit> {
    let d = spec.design.as_ref().unwrap();
    let arm = data.labels(d.arm.as_deref().unwrap())?;
    let mut effects = Vec::new();
    let mut baseline = Vec::new();
    for k in &spec.kpi {
        let mut kpi: causalkit_data::Kpi = k.expr.parse()?;
        kpi.name = k.name.clone();
        let rows = kpi.row_values(data, MissingPolicy::Drop)?;
        let stats = |label: &str| {
            let v: Vec<f64> = (0..data.height())
                .filter(|&r| rows.keep[r] && arm[r].as_deref() == Some(label))
                .map(|r| rows.numerator[r])
                .collect();
            ArmStats::from_sums(
                v.len() as f64,
                v.iter().sum(),
                v.iter().map(|x| x * x).sum(),
            )
        };
        let c = compare(
            &stats(d.control.as_deref().unwrap())?,
            &stats(d.treatment.as_deref().unwrap())?,
            &TestOptions::default(),
        )?;
        let se = c.absolute.std_error / shrink;
        let est = c.absolute.estimate;
        effects.push(Effect {
            label: k.name.clone(),
            estimate: est,
            std_error: Some(se),
            ci_low: Some(est - 1.96 * se),
            ci_high: Some(est + 1.96 * se),
            p_value: None,
            key: Default::default(),
        });
        baseline.push(c.control.mean);
    }
    let n = effects.len();
    let covariance = DMatrix::from_fn(n, n, |i, j| {
        if i == j {
            effects[i].std_error.unwrap().powi(2)
        } else {
            0.0
        }
    });
    Ok(DesignFit {
        effects: KpiEffects {
            effects,
            baseline,
            covariance,
            covariance_source: "independent Welch comparisons (test stand-in)".into(),
            replicates: None,
        },
        estimator: "Welch (test stand-in)".into(),
        reason: "test".into(),
        cross_check: None,
        diagnostics: Default::default(),
        warnings: Vec::new(),
    })
}

fn honest(spec: &ReleaseSpec, data: Source) -> Result<DesignFit> {
    welch_fit(
        spec,
        data.rows("the test stand-in")
            .map_err(AttributionError::Invalid)?,
        1.0,
    )
}

#[test]
fn placebo_kpi_the_release_moves_fails_and_a_pre_period_kpi_passes() {
    let data = ab_data();
    // Handle time is moved by the release (truth -25 s): named as placebo, it fails.
    let s = spec("placebo_kpis = [\"aht\"]");
    let r = placebo_kpis(&s, &data, &honest).unwrap();
    assert_eq!(r.outcome, RefuterOutcome::Fail, "{}", r.detail);
    assert!(r.detail.contains("aht"), "{}", r.detail);
    assert!(r.rule.contains("covering 0"));
    // The pre-period handle time cannot move: as a [[kpi]] (the form spec validation
    // accepts) and given in the KPI grammar, it passes.
    let mut s = spec("placebo_kpis = [\"pre_aht\"]");
    s.kpi.push(causalkit_attribution::spec::KpiSection {
        name: "pre_aht".into(),
        expr: "mean(pre_handle_seconds)".into(),
        better: causalkit_attribution::spec::Better::Lower,
    });
    let r = placebo_kpis(&s, &data, &honest).unwrap();
    assert_eq!(r.outcome, RefuterOutcome::Pass, "{}", r.detail);
    assert!(r.detail.starts_with("pre_aht:"), "{}", r.detail);
    let s = spec("placebo_kpis = [\"pre_aht=mean(pre_handle_seconds)\"]");
    let r = placebo_kpis(&s, &data, &honest).unwrap();
    assert_eq!(r.outcome, RefuterOutcome::Pass, "{}", r.detail);
    assert!(r.detail.contains("pre_aht"));
    // No placebo KPI named: not applicable, never a pass.
    let r = placebo_kpis(&spec(""), &data, &honest).unwrap();
    assert_eq!(r.outcome, RefuterOutcome::NotApplicable);
    assert!(r.detail.contains("placebo_kpis"));
    // A name that is neither a KPI nor a definition is an error naming the key.
    let s = spec("placebo_kpis = [\"nonsense(\"]");
    let e = placebo_kpis(&s, &data, &honest).unwrap_err();
    assert!(e.to_string().contains("design.placebo_kpis"), "{e}");
}

#[test]
fn random_halves_pass_with_honest_intervals_and_fail_with_too_narrow_ones() {
    let data = ab_data();
    let s = spec("");
    let opts = RefuteOptions {
        subset_reps: 10,
        ..Default::default()
    };
    let fit = honest(&s, Source::Rows(&data)).unwrap();
    let r = random_subsets(&s, &data, &fit, &honest, &opts).unwrap();
    assert_eq!(r.outcome, RefuterOutcome::Pass, "{}", r.detail);
    assert!(r.detail.contains("aht: inside the CI"), "{}", r.detail);
    // Intervals 10x too narrow: half-sample estimates (about one true SE from the full
    // estimate) fall outside the reported CI (0.196 true SEs wide each side) most of the time.
    let narrow = |s: &ReleaseSpec, d: Source| {
        welch_fit(
            s,
            d.rows("the test stand-in")
                .map_err(AttributionError::Invalid)?,
            10.0,
        )
    };
    let fit = narrow(&s, Source::Rows(&data)).unwrap();
    let r = random_subsets(&s, &data, &fit, &narrow, &opts).unwrap();
    assert_eq!(r.outcome, RefuterOutcome::Fail, "{}", r.detail);
    assert!(r.detail.contains("unstable"));
    // Reproducible: the same seed gives the same detail.
    let again = random_subsets(&s, &data, &fit, &narrow, &opts).unwrap();
    assert_eq!(again.detail, r.detail);
    // Too few replicates is refused.
    let few = RefuteOptions {
        subset_reps: 2,
        ..Default::default()
    };
    assert!(random_subsets(&s, &data, &fit, &narrow, &few).is_err());
}

#[test]
fn srm_passes_on_the_bundled_split_and_fails_when_treatment_rows_are_lost() {
    let r = reference();
    let data = ab_data();
    let s = spec("");
    let res = sample_ratio(&s, &data, &RefuteOptions::default()).unwrap();
    assert_eq!(res.outcome, RefuterOutcome::Pass, "{}", res.detail);
    assert!(res.detail.contains(&format!(
        "control {} and treatment {} rows",
        r["srm_rows"]["control"], r["srm_rows"]["treatment"]
    )));
    // Drop every 10th treatment row: scipy's chi-square p is 2.6e-13.
    let arm = data.labels("arm").unwrap();
    let mut seen = 0;
    let keep: Vec<bool> = arm
        .iter()
        .map(|a| {
            if a.as_deref() == Some("treatment") {
                seen += 1;
                (seen - 1) % 10 != 0
            } else {
                true
            }
        })
        .collect();
    let lossy = data.filter_rows(&keep).unwrap();
    let res = sample_ratio(&s, &lossy, &RefuteOptions::default()).unwrap();
    assert_eq!(res.outcome, RefuterOutcome::Fail, "{}", res.detail);
    let want = &r["srm_every_10th_treatment_row_dropped"];
    assert!(res.detail.contains(&format!(
        "control {} and treatment {} rows",
        want["control"], want["treatment"]
    )));
    let chi2 = causalkit_ab::checks::srm(
        &[
            want["control"].as_f64().unwrap(),
            want["treatment"].as_f64().unwrap(),
        ],
        &[1.0, 1.0],
    )
    .unwrap();
    assert!((chi2.chi2 - want["chi2"].as_f64().unwrap()).abs() < 1e-9);
    assert!(
        (chi2.p_value / want["p_value"].as_f64().unwrap() - 1.0).abs() < 1e-6,
        "scipy chisquare p"
    );
}

#[test]
fn covariate_balance_passes_on_pre_period_and_fails_on_a_shifted_covariate() {
    let r = reference();
    let data = ab_data();
    let arm = data.labels("arm").unwrap();
    let pre = causalkit_data::numeric_column(&data, "pre_handle_seconds").unwrap();
    let g: Vec<u8> = arm
        .iter()
        .map(|a| u8::from(a.as_deref() == Some("treatment")))
        .collect();
    // SMD against numpy (var ddof 1), 1e-12.
    let v = smd(&pre, &g).unwrap();
    assert!((v - r["smd_pre_handle_seconds"].as_f64().unwrap()).abs() < 1e-12);
    let shifted: Vec<f64> = pre
        .iter()
        .zip(&g)
        .map(|(x, t)| x + 40.0 * f64::from(*t))
        .collect();
    let v2 = smd(&shifted, &g).unwrap();
    assert!(
        (v2 - r["smd_pre_handle_seconds_plus_40_treated"]
            .as_f64()
            .unwrap())
        .abs()
            < 1e-12
    );

    let s = spec("covariates = [\"pre_handle_seconds\"]");
    let res = covariate_balance(&s, &data, &RefuteOptions::default()).unwrap();
    assert_eq!(res.outcome, RefuterOutcome::Pass, "{}", res.detail);
    let data2 = data
        .with_numeric_column("pre_shifted", shifted.into_iter().map(Some).collect())
        .unwrap();
    let s = spec("covariates = [\"pre_handle_seconds\", \"pre_shifted\"]");
    let res = covariate_balance(&s, &data2, &RefuteOptions::default()).unwrap();
    assert_eq!(res.outcome, RefuterOutcome::Fail, "{}", res.detail);
    assert!(
        res.detail.contains("imbalanced: pre_shifted"),
        "{}",
        res.detail
    );
    // No covariates: not applicable.
    let res = covariate_balance(&spec(""), &data, &RefuteOptions::default()).unwrap();
    assert_eq!(res.outcome, RefuterOutcome::NotApplicable);
    // A missing covariate value names the column.
    let mut col: Vec<Option<f64>> = pre.iter().copied().map(Some).collect();
    col[7] = None;
    let data3 = data.with_numeric_column("pre_gap", col).unwrap();
    let s = spec("covariates = [\"pre_gap\"]");
    let e = covariate_balance(&s, &data3, &RefuteOptions::default()).unwrap_err();
    assert!(e.to_string().contains("pre_gap"), "{e}");
}

#[test]
fn randomised_checks_do_not_apply_to_panel_designs() {
    let text = r#"
[release]
name = "rollout"
[data]
path = "staggered_contacts.csv"
[design]
kind = "rollout"
unit = "site"
time = "day"
adoption = "adoption_day"
covariates = ["pre_handle_seconds"]
[[kpi]]
name = "aht"
expr = "mean(handle_seconds)"
better = "lower"
"#;
    let s: ReleaseSpec = toml::from_str(text).unwrap();
    let data = ab_data();
    for r in [
        sample_ratio(&s, &data, &RefuteOptions::default()).unwrap(),
        covariate_balance(&s, &data, &RefuteOptions::default()).unwrap(),
    ] {
        assert_eq!(r.outcome, RefuterOutcome::NotApplicable);
        assert!(r.detail.contains("rollout"), "{}", r.detail);
    }
    // Rows that are panel cells cannot be halved.
    let fit = honest(&spec(""), Source::Rows(&data)).unwrap();
    let never = |_: &ReleaseSpec, _: Source| -> Result<DesignFit> { unreachable!() };
    let r = random_subsets(&s, &data, &fit, &never, &RefuteOptions::default()).unwrap();
    assert_eq!(r.outcome, RefuterOutcome::NotApplicable);
    assert!(r.detail.contains("design.events"));
}

#[test]
fn refute_all_on_clean_data_passes_every_applicable_check() {
    let data = ab_data();
    let s = spec(
        "covariates = [\"pre_handle_seconds\"]\nplacebo_kpis = [\"pre_aht=mean(pre_handle_seconds)\"]",
    );
    let fit = honest(&s, Source::Rows(&data)).unwrap();
    let opts = RefuteOptions {
        subset_reps: 10,
        ..Default::default()
    };
    let all = refute_all(&s, &data, &fit, &honest, &opts).unwrap();
    assert_eq!(all.len(), 4);
    for r in &all {
        assert_eq!(r.outcome, RefuterOutcome::Pass, "{}: {}", r.name, r.detail);
        assert!(!r.rule.is_empty());
    }
}

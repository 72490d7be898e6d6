//! The reward evaluation: the effect on R is the weighted sum of the component effects and its
//! SE is √(wᵀVw); V's diagonal is the A/B engine's squared SEs; CUPED; the surrogate index
//! against the true long-term effect; surrogacy validation at about the nominal rate when
//! surrogacy holds and flagged when the simulator breaks it; guardrails and SRM.

mod common;

use causalkit_reward::evaluate::INDEX;
use causalkit_reward::sensitivity::{parse_ranges, sensitivity, GridVerdict};
use causalkit_reward::{
    calibrate, evaluate, CalibrateOptions, EvaluateOptions, GuardrailSpec, Reward, RewardError,
};
use causalkit_sim::recommender::{
    experiment_csv, history_csv, recommender_truth, RecommenderConfig,
};
use causalkit_stats::Report;
use common::*;

const REWARD: &str = "0.1*click + 0.3*add_to_cart + 1*purchase - 0.5*return";

fn config(n: usize, seed: u64) -> RecommenderConfig {
    RecommenderConfig {
        history_customers: n,
        experiment_customers: n,
        ..RecommenderConfig::default()
    }
    .with_seed(seed)
}

/// τ_R = Σ w_k τ_k (to rounding) and SE(τ_R) = √(wᵀVw), where V's diagonal equals the
/// engine's squared standard errors (relative 1e-9), with and without CUPED; CUPED on
/// pre_clicks shrinks the click SE.
#[test]
fn reward_effect_is_the_weighted_sum_with_the_joint_se() {
    let c = config(6000, 4);
    let (ok, _) = experiment_csv(&c).unwrap();
    let data = experiment_data(&ok);
    let reward = Reward::parse(REWARD).unwrap();
    let mut ses = Vec::new();
    for covs in [vec![], vec!["pre_clicks".to_string(), "tenure".to_string()]] {
        let opts = EvaluateOptions {
            covariates: covs,
            ..EvaluateOptions::default()
        };
        let e = evaluate(&data, &reward, None, &opts).unwrap();
        assert_eq!(e.control, "engagement");
        assert_eq!(e.treatment, "reward");
        let w = reward.weights();
        let sum: f64 = w.iter().zip(&e.effects).map(|(w, e)| w * e.estimate).sum();
        assert!((e.reward_effect.estimate - sum).abs() <= 1e-12 * sum.abs().max(1.0));
        let mut q = 0.0;
        for i in 0..4 {
            for j in 0..4 {
                q += w[i] * w[j] * e.covariance[(i, j)];
            }
        }
        let se = e.reward_effect.std_error.unwrap();
        assert!((se - q.sqrt()).abs() <= 1e-12 * se);
        // The joint covariance is not diagonal: the signals share the customer's engagement.
        let diag_only: f64 = (0..4).map(|i| w[i] * w[i] * e.covariance[(i, i)]).sum();
        assert!((q - diag_only).abs() > 0.01 * q, "{q} vs {diag_only}");
        for (i, eff) in e.effects.iter().enumerate() {
            let s = eff.std_error.unwrap();
            let v = e.covariance[(i, i)];
            assert!(
                (s * s - v).abs() <= 1e-9 * v,
                "{}: {} vs {}",
                eff.label,
                s * s,
                v
            );
        }
        ses.push(e.effects[0].std_error.unwrap());
        // Another reward through effect_of agrees with a fresh evaluation.
        let other = Reward::parse("2*purchase - return").unwrap();
        let a = e.effect_of(&other).unwrap();
        let b = evaluate(&data, &other, None, &opts).unwrap().reward_effect;
        assert!((a.estimate - b.estimate).abs() < 1e-12);
        assert!((a.std_error.unwrap() - b.std_error.unwrap()).abs() < 1e-12);
    }
    assert!(ses[1] < 0.9 * ses[0], "CUPED SE {} vs {}", ses[1], ses[0]);
}

/// On the bundled-size data, each component effect is within 4 SE of the truth, and the
/// surrogate-index effect is within 4 SE of the true long-term effect.
#[test]
fn components_and_index_recover_the_truth() {
    let c = config(20_000, RecommenderConfig::default().seed);
    let truth = recommender_truth(&c).unwrap();
    let cal = calibrate(
        &calibration_data(&history_csv(&c).unwrap(), &["tenure", "pre_revenue"], None),
        &CalibrateOptions {
            bootstrap: 0,
            ..CalibrateOptions::default()
        },
    )
    .unwrap();
    let (ok, _) = experiment_csv(&c).unwrap();
    let reward = Reward::parse("click + add_to_cart + purchase + return + order_value").unwrap();
    let e = evaluate(
        &experiment_data(&ok),
        &reward,
        Some(&cal),
        &EvaluateOptions {
            covariates: vec!["pre_clicks".into(), "tenure".into()],
            long_term: Some("revenue_90d".into()),
            ..EvaluateOptions::default()
        },
    )
    .unwrap();
    for s in SIGNALS {
        let eff = e.effect(s).unwrap();
        let z = (eff.estimate - truth.signal_effects[s]) / eff.std_error.unwrap();
        assert!(z.abs() < 4.0, "{s}: z {z}");
    }
    let h = e.effect(INDEX).unwrap();
    let z = (h.estimate - truth.long_term_effect) / h.std_error.unwrap();
    assert!(
        z.abs() < 4.0,
        "index: {} vs {} (z {z})",
        h.estimate,
        truth.long_term_effect
    );
    let s = e.surrogacy.as_ref().unwrap();
    assert!((s.difference - (s.index_effect - s.direct_effect)).abs() < 1e-12);
    let r = e.result();
    assert!(r.diagnostics.contains_key("surrogacy_assumption"));
    assert!(r.effects[0].label.starts_with("reward: "));
}

/// Over 60 seeds (4,000 customers per file): with surrogacy holding the check flags at about
/// the nominal 5% (at most 9 of 60: P(Binomial(60, 0.05) > 9) < 0.002), and the index's
/// interval covers the true long-term effect in at least 51 of 60; with the direct effect of
/// −4 (surrogacy broken) the check flags in at least 54 of 60.
#[test]
fn surrogacy_check_agrees_when_it_holds_and_flags_when_broken() {
    let (mut flag_ok, mut flag_broken, mut cover) = (0, 0, 0);
    let runs = 60;
    // The true long-term effect does not depend on the seed (closed form).
    let truth = recommender_truth(&config(4000, 0)).unwrap();
    for seed in 0..runs {
        let c = config(4000, 500 + seed);
        let cal = calibrate(
            &calibration_data(&history_csv(&c).unwrap(), &["tenure", "pre_revenue"], None),
            &CalibrateOptions {
                bootstrap: 0,
                folds: 2,
                ..CalibrateOptions::default()
            },
        )
        .unwrap();
        let (ok, broken) = experiment_csv(&c).unwrap();
        let reward = Reward::parse(REWARD).unwrap();
        let opts = EvaluateOptions {
            covariates: vec!["pre_clicks".into()],
            long_term: Some("revenue_90d".into()),
            ..EvaluateOptions::default()
        };
        let a = evaluate(&experiment_data(&ok), &reward, Some(&cal), &opts).unwrap();
        let b = evaluate(&experiment_data(&broken), &reward, Some(&cal), &opts).unwrap();
        flag_ok += a.surrogacy.as_ref().unwrap().disagree as usize;
        flag_broken += b.surrogacy.as_ref().unwrap().disagree as usize;
        let h = a.effect(INDEX).unwrap();
        if h.ci_low.unwrap() <= truth.long_term_effect
            && truth.long_term_effect <= h.ci_high.unwrap()
        {
            cover += 1;
        }
        if b.surrogacy.as_ref().unwrap().disagree {
            assert!(b
                .warnings
                .iter()
                .any(|w| w.contains("surrogacy check failed")));
        }
    }
    assert!(
        flag_ok <= 9,
        "flagged {flag_ok} of {runs} with surrogacy holding"
    );
    assert!(
        flag_broken >= 54,
        "flagged {flag_broken} of {runs} with surrogacy broken"
    );
    assert!(cover >= 51, "index covered the truth {cover} of {runs}");
}

/// Guardrails run as in `causalkit ab` (NPS with non-responders dropped per metric); a
/// 1.5:1 split raises the SRM warning.
#[test]
fn guardrails_and_srm() {
    let c = config(6000, 8);
    let (ok, _) = experiment_csv(&c).unwrap();
    let data = experiment_data(&ok);
    let reward = Reward::parse(REWARD).unwrap();
    let e = evaluate(
        &data,
        &reward,
        None,
        &EvaluateOptions {
            guardrails: vec![
                GuardrailSpec {
                    metric: "nps".into(),
                    lower_is_better: false,
                    margin: 0.02,
                },
                GuardrailSpec {
                    metric: "return".into(),
                    lower_is_better: true,
                    margin: 0.05,
                },
            ],
            ..EvaluateOptions::default()
        },
    )
    .unwrap();
    assert_eq!(e.guardrails.len(), 2);
    let nps = e.guardrails.iter().find(|g| g.metric == "nps").unwrap();
    assert!(nps.pass, "{nps:?}");
    // return is both a component and a guardrail: one metric.
    assert_eq!(e.metrics.iter().filter(|m| *m == "return").count(), 1);
    let srm = &e.diagnostics["srm"];
    assert_eq!(srm["mismatch"], serde_json::json!(false));
    // Drop 40% of the control rows: SRM.
    let mut skewed = data.clone();
    let keep: Vec<bool> = skewed
        .arm
        .iter()
        .enumerate()
        .map(|(i, a)| a.as_deref() != Some("engagement") || i % 5 >= 2)
        .collect();
    let f = |v: &Vec<Option<f64>>| v.iter().zip(&keep).filter(|x| *x.1).map(|x| *x.0).collect();
    skewed.arm = skewed
        .arm
        .iter()
        .zip(&keep)
        .filter(|x| *x.1)
        .map(|x| x.0.clone())
        .collect();
    for col in skewed.columns.values_mut() {
        *col = f(col);
    }
    let e = evaluate(&skewed, &reward, None, &EvaluateOptions::default()).unwrap();
    assert!(
        e.warnings
            .iter()
            .any(|w| w.contains("sample ratio mismatch")),
        "{:?}",
        e.warnings
    );
}

/// Unknown signals and bad arms are typed errors naming them.
#[test]
fn bad_inputs_are_typed_errors() {
    let (ok, _) = experiment_csv(&config(500, 1)).unwrap();
    let data = experiment_data(&ok);
    let r = Reward::parse("0.1*clik + purchase").unwrap();
    match evaluate(&data, &r, None, &EvaluateOptions::default()).unwrap_err() {
        RewardError::Unknown { what, name, .. } => {
            assert_eq!((what.as_str(), name.as_str()), ("signal", "clik"))
        }
        e => panic!("{e}"),
    }
    let e = evaluate(
        &data,
        &Reward::parse("purchase").unwrap(),
        None,
        &EvaluateOptions {
            control: Some("baseline".into()),
            ..EvaluateOptions::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("baseline") && e.contains("engagement"), "{e}");
    let mut d = data.clone();
    d.columns.get_mut("click").unwrap()[7] = None;
    let e = evaluate(
        &d,
        &Reward::parse("click").unwrap(),
        None,
        &EvaluateOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("`click`") && e.contains("row 7"), "{e}");
}

/// The sensitivity grid: every point's effect is the linear combination at its weights; the
/// verdict flips where the interval crosses zero.
#[test]
fn sensitivity_grid_is_exact_and_finds_the_flip() {
    let (ok, _) = experiment_csv(&config(8000, 2)).unwrap();
    let data = experiment_data(&ok);
    let reward = Reward::parse(REWARD).unwrap();
    let e = evaluate(&data, &reward, None, &EvaluateOptions::default()).unwrap();
    let ranges = parse_ranges("click=0:2,return=0:2").unwrap();
    let s = sensitivity(&e, &reward, &ranges, 5).unwrap();
    assert_eq!(s.points.len(), 25);
    for p in &s.points {
        let r = Reward::new(vec![
            ("click".into(), p.weights[0]),
            ("add_to_cart".into(), 0.3),
            ("purchase".into(), 1.0),
            ("return".into(), p.weights[1]),
        ]);
        let x = e.effect_of(&r).unwrap();
        assert!((x.estimate - p.estimate).abs() < 1e-12);
        let want = if p.ci_low > 0.0 {
            GridVerdict::Wins
        } else if p.ci_high < 0.0 {
            GridVerdict::Loses
        } else {
            GridVerdict::Inconclusive
        };
        assert_eq!(p.verdict, want);
    }
    // The reward model cuts clicks by ~0.7: with a click weight of 2 the treatment loses on R,
    // with 0 it wins (purchases and add-to-carts up).
    assert_eq!(s.points[0].verdict, GridVerdict::Wins);
    assert_eq!(s.points[24].verdict, GridVerdict::Loses);
    assert!(s.verdict_flips);
    assert!(parse_ranges("click=1:0").is_err());
    assert!(parse_ranges("click=0-1")
        .unwrap_err()
        .to_string()
        .contains("click=0-1"));
    assert!(sensitivity(&e, &reward, &parse_ranges("nps=0:1").unwrap(), 3).is_err());
}

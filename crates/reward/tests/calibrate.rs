//! The linear surrogate index against statsmodels, recovery of the simulator's true weights,
//! bootstrap coverage over seeds, reproducibility, the boosted index and the file format.

mod common;

use causalkit_reward::{calibrate, CalibrateOptions, Calibration, IndexKind, RewardError};
use causalkit_sim::recommender::{history_csv, recommender_truth, RecommenderConfig};
use common::*;

fn reference() -> serde_json::Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../reference/reward_reference.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn history_file() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../datasets/recommender/history.csv"
    ))
    .unwrap()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-300)
}

/// Coefficients, HC1 and CR1 standard errors against statsmodels 0.15
/// (reference/scripts/reward_reference.py), relative tolerance 1e-9.
#[test]
fn linear_index_matches_statsmodels() {
    let r = reference();
    let names: Vec<String> = serde_json::from_value(r["names"].clone()).unwrap();
    let coef: Vec<f64> = serde_json::from_value(r["coef"].clone()).unwrap();
    let hc1: Vec<f64> = serde_json::from_value(r["se_hc1"].clone()).unwrap();
    let cr1: Vec<f64> = serde_json::from_value(r["se_cr1_group_of_4"].clone()).unwrap();
    let text = history_file();
    let opts = CalibrateOptions {
        bootstrap: 0,
        ..CalibrateOptions::default()
    };
    let cal = calibrate(
        &calibration_data(&text, &["tenure", "pre_revenue"], None),
        &opts,
    )
    .unwrap();
    assert_eq!(cal.vcov.as_deref(), Some("HC1"));
    for (j, name) in names.iter().enumerate() {
        let c = cal.coefficient(name).unwrap();
        assert!(
            close(c.estimate, coef[j], 1e-9),
            "{name}: {} vs {}",
            c.estimate,
            coef[j]
        );
        assert!(
            close(c.std_error, hc1[j], 1e-9),
            "{name}: {} vs {}",
            c.std_error,
            hc1[j]
        );
    }
    assert!(close(
        cal.r_squared.unwrap(),
        r["r_squared"].as_f64().unwrap(),
        1e-9
    ));
    let cal = calibrate(
        &calibration_data(&text, &["tenure", "pre_revenue"], Some(4)),
        &opts,
    )
    .unwrap();
    assert_eq!(cal.units, 5000);
    for (j, name) in names.iter().enumerate() {
        let c = cal.coefficient(name).unwrap();
        assert!(close(c.estimate, coef[j], 1e-9), "{name}");
        assert!(
            close(c.std_error, cr1[j], 1e-9),
            "{name}: {} vs {}",
            c.std_error,
            cr1[j]
        );
    }
}

/// On the bundled history (20,000 customers) every calibrated weight is within 4 robust
/// standard errors of the true weight, and the weights' t intervals and bootstrap intervals
/// agree in width (bootstrap SD within 15% of the HC1 SE).
#[test]
fn weights_recover_the_truth_on_the_bundled_history() {
    let truth = recommender_truth(&RecommenderConfig::default()).unwrap();
    let text = history_file();
    let opts = CalibrateOptions {
        bootstrap: 200,
        seed: 3,
        ..CalibrateOptions::default()
    };
    let cal = calibrate(
        &calibration_data(&text, &["tenure", "pre_revenue"], None),
        &opts,
    )
    .unwrap();
    for s in SIGNALS {
        let c = cal.coefficient(s).unwrap();
        let z = (c.estimate - truth.weights[s]) / c.std_error;
        assert!(
            z.abs() < 4.0,
            "{s}: {} vs {} (z {z})",
            c.estimate,
            truth.weights[s]
        );
        let b = c.bootstrap_std_error.unwrap();
        assert!(
            (b / c.std_error - 1.0).abs() < 0.15,
            "{s}: boot {b} vs {}",
            c.std_error
        );
        assert!(
            c.bootstrap_ci_low.unwrap() < c.estimate && c.estimate < c.bootstrap_ci_high.unwrap()
        );
    }
    // Out of sample the index explains a large share of the variance and its RMSE is near the
    // noise SD (20): the simulator's model is linear.
    assert!(
        cal.cross_validation.r_squared > 0.5,
        "{:?}",
        cal.cross_validation
    );
    assert!(
        (cal.cross_validation.rmse - 20.0).abs() < 1.0,
        "{:?}",
        cal.cross_validation
    );
    let w = cal.weights().unwrap();
    assert_eq!(w.len(), 5);
}

/// Coverage of the 95% bootstrap percentile intervals of the five weights over 100 seeds
/// (2,000 customers each, 200 replicates): about nominal. 500 intervals (correlated within a
/// seed); the band [0.91, 0.99] is the binomial ±4 SD band around 0.95 for 500 independent
/// intervals. The t intervals (HC1) are held to the same band.
#[test]
fn bootstrap_intervals_cover_the_true_weights_at_about_the_nominal_rate() {
    let base = RecommenderConfig {
        history_customers: 2000,
        ..RecommenderConfig::default()
    };
    let truth = recommender_truth(&base).unwrap();
    let (mut boot, mut t, mut total) = (0usize, 0usize, 0usize);
    for seed in 0..100u64 {
        let text = history_csv(&base.clone().with_seed(1000 + seed)).unwrap();
        let opts = CalibrateOptions {
            bootstrap: 200,
            folds: 2,
            seed,
            ..CalibrateOptions::default()
        };
        let cal = calibrate(
            &calibration_data(&text, &["tenure", "pre_revenue"], None),
            &opts,
        )
        .unwrap();
        for s in SIGNALS {
            let c = cal.coefficient(s).unwrap();
            let w = truth.weights[s];
            total += 1;
            if c.bootstrap_ci_low.unwrap() <= w && w <= c.bootstrap_ci_high.unwrap() {
                boot += 1;
            }
            if c.ci_low <= w && w <= c.ci_high {
                t += 1;
            }
        }
    }
    let (b, tt) = (boot as f64 / total as f64, t as f64 / total as f64);
    assert!((0.91..=0.99).contains(&b), "bootstrap coverage {b}");
    assert!((0.91..=0.99).contains(&tt), "t coverage {tt}");
}

/// Same seed, same calibration (bit for bit); another seed changes the bootstrap only.
#[test]
fn calibration_is_reproducible() {
    let text = history_csv(&RecommenderConfig {
        history_customers: 1500,
        ..RecommenderConfig::default()
    })
    .unwrap();
    let data = calibration_data(&text, &["tenure"], Some(3));
    let opts = CalibrateOptions {
        bootstrap: 50,
        seed: 9,
        ..CalibrateOptions::default()
    };
    let a = calibrate(&data, &opts).unwrap();
    let b = calibrate(&data, &opts).unwrap();
    assert_eq!(a, b);
    let c = calibrate(&data, &CalibrateOptions { seed: 10, ..opts }).unwrap();
    assert_eq!(a.coefficients[1].estimate, c.coefficients[1].estimate);
    assert_ne!(
        a.coefficients[1].bootstrap_ci_low,
        c.coefficients[1].bootstrap_ci_low
    );
    assert_eq!(a.bootstrap.resampled, "units");
}

/// Saved and loaded, the calibration is identical; another format version is refused.
#[test]
fn file_round_trip_and_version_check() {
    let text = history_csv(&RecommenderConfig {
        history_customers: 800,
        ..RecommenderConfig::default()
    })
    .unwrap();
    let cal = calibrate(
        &calibration_data(&text, &[], None),
        &CalibrateOptions {
            bootstrap: 20,
            ..CalibrateOptions::default()
        },
    )
    .unwrap();
    let dir = std::env::temp_dir().join(format!("reward-cal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("cal.json");
    cal.save(&p).unwrap();
    assert_eq!(Calibration::load(&p).unwrap(), cal);
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    v["format_version"] = serde_json::json!(99);
    std::fs::write(&p, v.to_string()).unwrap();
    let e = Calibration::load(&p).unwrap_err().to_string();
    assert!(e.contains("format_version 99"), "{e}");
}

/// A constant signal makes the design singular: a typed error naming it.
#[test]
fn constant_signal_is_a_singular_design_error() {
    let text = history_csv(&RecommenderConfig {
        history_customers: 300,
        ..RecommenderConfig::default()
    })
    .unwrap();
    let mut data = calibration_data(&text, &[], None);
    data.signals[1].1 = vec![2.0; 300];
    match calibrate(&data, &CalibrateOptions::default()).unwrap_err() {
        RewardError::Singular { column, .. } => assert_eq!(column, "add_to_cart"),
        e => panic!("{e}"),
    }
}

/// The boosted index: no weights (and says so), cross-validated, and it predicts close to the
/// linear truth (the simulator's index is linear, so its CV RMSE is near the noise SD).
#[test]
fn boosted_index_has_no_weights() {
    let text = history_csv(&RecommenderConfig {
        history_customers: 3000,
        ..RecommenderConfig::default()
    })
    .unwrap();
    let cal = calibrate(
        &calibration_data(&text, &["tenure", "pre_revenue"], None),
        &CalibrateOptions {
            kind: IndexKind::Gbdt,
            folds: 3,
            ..CalibrateOptions::default()
        },
    )
    .unwrap();
    assert!(cal.weights().is_none());
    assert!(cal.coefficients.is_empty());
    assert!(cal.notes.iter().any(|n| n.contains("no reward weights")));
    assert!(cal.gbdt.is_some());
    assert!(
        cal.cross_validation.rmse < 24.0,
        "{:?}",
        cal.cross_validation
    );
    assert!(
        cal.cross_validation.r_squared > 0.3,
        "{:?}",
        cal.cross_validation
    );
}

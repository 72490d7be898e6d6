//! Meta-learners on simulated data with a known per-customer effect (randomised and
//! confounded assignment, binary and continuous outcomes): each recovers the effect.

use causalkit_stats::resample::replicate_rng;
use causalkit_uplift::metrics::{qini_auc, Ranked};
use causalkit_uplift::{Base, GbdtOptions, Learner, MetaLearner, Propensity, UpliftError};
use rand::Rng;

struct Sim {
    cols: Vec<Vec<f64>>,
    w: Vec<bool>,
    y: Vec<f64>,
    tau: Vec<f64>,
}

/// x0..x3 uniform. Binary: P(y=1) = 0.2 + 0.3 x1 + w τ, τ = 0.3 (x0 - 0.5) (negative for
/// x0 < 0.5: sleeping dogs). Continuous: y = 2 x1 + w τ + N(0, 1), τ = 2 (x0 - 0.3).
/// Confounded: P(w=1) = σ(2 (x2 - 0.5) + (x1 - 0.5)); else 1/2.
fn simulate(n: usize, seed: u64, binary: bool, confounded: bool) -> Sim {
    let mut rng = replicate_rng(seed, 0);
    let mut cols: Vec<Vec<f64>> = (0..4).map(|_| Vec::with_capacity(n)).collect();
    let (mut w, mut y, mut tau) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        let x: Vec<f64> = (0..4).map(|_| rng.random::<f64>()).collect();
        let e = if confounded {
            1.0 / (1.0 + (-(2.0 * (x[2] - 0.5) + (x[1] - 0.5))).exp())
        } else {
            0.5
        };
        let t = rng.random::<f64>() < e;
        let (ti, yi) = if binary {
            let ti = 0.3 * (x[0] - 0.5);
            let p = 0.2 + 0.3 * x[1] + if t { ti } else { 0.0 };
            (ti, if rng.random::<f64>() < p { 1.0 } else { 0.0 })
        } else {
            let ti = 2.0 * (x[0] - 0.3);
            let z: f64 = (0..12).map(|_| rng.random::<f64>()).sum::<f64>() - 6.0;
            (ti, 2.0 * x[1] + if t { ti } else { 0.0 } + z)
        };
        for (c, v) in cols.iter_mut().zip(&x) {
            c.push(*v);
        }
        w.push(t);
        y.push(yi);
        tau.push(ti);
    }
    Sim { cols, w, y, tau }
}

fn names() -> Vec<String> {
    (0..4).map(|j| format!("x{j}")).collect()
}

fn corr(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

fn gbdt() -> Base {
    Base::Gbdt(GbdtOptions {
        n_estimators: 150,
        learning_rate: 0.05,
        max_depth: 3,
        min_data_in_leaf: 50,
        lambda_l2: 1.0,
        ..Default::default()
    })
}

fn check(learner: Learner, base: Base, binary: bool, confounded: bool, min_corr: f64) {
    let train = simulate(12_000, 1, binary, confounded);
    let test = simulate(5_000, 2, binary, confounded);
    let spec = MetaLearner {
        learner,
        base,
        propensity: if confounded {
            Propensity::Logit
        } else {
            Propensity::Share
        },
        trim: 0.02,
        folds: 3,
        seed: 9,
        ..Default::default()
    };
    let fit = spec.fit(&names(), &train.cols, &train.w, &train.y).unwrap();
    let pred = fit.predict(&test.cols).unwrap();
    let r = corr(&pred, &test.tau);
    let rk = Ranked::new(&test.y, &test.w, &pred, 0.0).unwrap();
    let ro = Ranked::new(&test.y, &test.w, &test.tau, 0.0).unwrap();
    let (q, qo) = (qini_auc(&rk, true).unwrap(), qini_auc(&ro, true).unwrap());
    eprintln!(
        "{learner:?} binary={binary} confounded={confounded}: corr {r:.3}, Qini {q:.4} (oracle {qo:.4})"
    );
    assert!(
        r >= min_corr,
        "{learner:?}: correlation with the true effect {r}"
    );
    if !confounded {
        // Near-oracle ranking (the Qini of a randomised test set is unbiased). The IPW
        // transformed outcome y (w - e)/(e (1 - e)) is ±2y here: its variance makes the
        // same base learner rank markedly worse (measured 62% of the oracle), the known
        // weakness of the transformed outcome; it gets a lower bar.
        let bar = if learner == Learner::Ipw { 0.55 } else { 0.85 };
        assert!(q >= bar * qo, "{learner:?}: Qini {q} vs oracle {qo}");
    }
}

#[test]
fn learners_recover_the_effect_binary_randomised() {
    for l in [
        Learner::S,
        Learner::T,
        Learner::X,
        Learner::Dr,
        Learner::R,
        Learner::ClassTransform,
        Learner::Ipw,
    ] {
        // Bernoulli noise dominates an effect of +-0.15: the ranking (Qini within 15% of
        // the oracle's) is the main check, the correlation a weaker one.
        check(l, gbdt(), true, false, 0.7);
    }
}

#[test]
fn learners_recover_the_effect_continuous_confounded() {
    for l in [
        Learner::S,
        Learner::T,
        Learner::X,
        Learner::Dr,
        Learner::R,
        Learner::Ipw,
    ] {
        check(l, gbdt(), false, true, 0.8);
    }
}

#[test]
fn linear_bases_recover_a_linear_effect() {
    // τ is linear in x0, so S with interactions, T, X and DR on OLS recover it almost exactly.
    for l in [Learner::S, Learner::T, Learner::X, Learner::Dr] {
        check(l, Base::Linear, false, true, 0.99);
    }
    // Logistic outcome models (binary outcome): τ is not exactly logistic-linear, but close.
    for l in [Learner::S, Learner::T] {
        check(l, Base::Logit, true, false, 0.95);
    }
}

#[test]
fn meta_fit_is_identical_for_1_and_4_threads() {
    let s = simulate(4_000, 3, true, false);
    let spec = MetaLearner {
        learner: Learner::Dr,
        base: gbdt(),
        folds: 2,
        ..Default::default()
    };
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| spec.fit(&names(), &s.cols, &s.w, &s.y).unwrap())
    };
    assert_eq!(run(1), run(4));
}

#[test]
fn class_transformation_and_bad_input_errors() {
    let s = simulate(2_000, 4, false, false);
    let ct = MetaLearner {
        learner: Learner::ClassTransform,
        ..Default::default()
    };
    assert!(matches!(
        ct.fit(&names(), &s.cols, &s.w, &s.y),
        Err(UpliftError::InvalidOption { .. })
    ));
    let b = simulate(2_000, 5, true, true);
    // Confounded: about half treated overall, but known propensities outside (0, 1) fail.
    let mut e = vec![0.5; 2_000];
    e[11] = 1.0;
    let ipw = MetaLearner {
        learner: Learner::Ipw,
        propensity: Propensity::Known(e),
        ..Default::default()
    };
    match ipw.fit(&names(), &b.cols, &b.w, &b.y) {
        Err(UpliftError::BadValue { variable, row, .. }) => {
            assert_eq!((variable.as_str(), row), ("propensity", 11))
        }
        other => panic!("{other:?}"),
    }
    // Trimming is reported: an extreme known propensity is clipped.
    let mut e = vec![0.5; 2_000];
    e[3] = 0.001;
    let ipw = MetaLearner {
        learner: Learner::Ipw,
        propensity: Propensity::Known(e),
        trim: 0.01,
        ..Default::default()
    };
    let f = ipw.fit(&names(), &b.cols, &b.w, &b.y).unwrap();
    let ov = f.overlap.unwrap();
    assert_eq!(ov.clipped, 1);
    assert!((ov.min - 0.001).abs() < 1e-15);
    let all_t = vec![true; 2_000];
    assert!(matches!(
        MetaLearner::default().fit(&names(), &b.cols, &all_t, &b.y),
        Err(UpliftError::InsufficientData(_))
    ));
}

#[test]
fn two_arms_are_fitted_against_the_control() {
    // Arm 0 has the effect τ, arm 1 the effect -τ (binary outcome, randomised).
    let mut rng = replicate_rng(8, 0);
    let n = 9_000;
    let mut cols: Vec<Vec<f64>> = (0..4).map(|_| Vec::with_capacity(n)).collect();
    let (mut arm, mut y, mut tau) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        let x: Vec<f64> = (0..4).map(|_| rng.random::<f64>()).collect();
        let a = match rng.random_range(0..3) {
            0 => None,
            k => Some(k - 1),
        };
        let t = 0.3 * (x[0] - 0.5);
        let eff = match a {
            None => 0.0,
            Some(0) => t,
            Some(_) => -t,
        };
        y.push(if rng.random::<f64>() < 0.3 + eff {
            1.0
        } else {
            0.0
        });
        for (c, v) in cols.iter_mut().zip(&x) {
            c.push(*v);
        }
        arm.push(a);
        tau.push(t);
    }
    let spec = MetaLearner {
        learner: Learner::T,
        base: Base::Logit,
        ..Default::default()
    };
    let fits = spec.fit_arms(&names(), &cols, &arm, 2, &y).unwrap();
    assert_eq!(fits.len(), 2);
    let p0 = fits[0].predict(&cols).unwrap();
    let p1 = fits[1].predict(&cols).unwrap();
    assert!(corr(&p0, &tau) > 0.9, "arm 0");
    assert!(corr(&p1, &tau) < -0.9, "arm 1");
    assert!(spec.fit_arms(&names(), &cols, &arm, 1, &y).is_err());
}

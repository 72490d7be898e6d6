//! Uplift trees and forests on simulated data with a known per-customer effect
//! (persuadables, sure things, lost causes, sleeping dogs; two treatments; binary and
//! continuous outcomes), honest estimation, typed errors and model round trips.

use causalkit_stats::resample::replicate_rng;
use causalkit_uplift::metrics::{qini_auc, Ranked};
use causalkit_uplift::tree::{best_group, honest_split};
use causalkit_uplift::{
    Binned, Criterion, ForestOptions, TreeOptions, UpliftError, UpliftForest, UpliftTree,
};
use rand::Rng;

/// Customer type by quadrant of (x0, x1): 0 persuadable, 1 sure thing, 2 lost cause,
/// 3 sleeping dog. x2..x4 are noise. Response probabilities per group (control, arm 1,
/// arm 2): persuadables 0.10 / 0.60 / 0.35, sure things 0.80 / 0.80 / 0.80, lost causes
/// 0.05 / 0.05 / 0.35, sleeping dogs 0.60 / 0.10 / 0.60.
fn probs(kind: usize) -> [f64; 3] {
    match kind {
        0 => [0.10, 0.60, 0.35],
        1 => [0.80, 0.80, 0.80],
        2 => [0.05, 0.05, 0.35],
        _ => [0.60, 0.10, 0.60],
    }
}

struct Sim {
    cols: Vec<Vec<f64>>,
    group: Vec<usize>,
    y: Vec<f64>,
    kind: Vec<usize>,
}

fn simulate(n: usize, seed: u64, continuous: bool) -> Sim {
    let mut rng = replicate_rng(seed, 0);
    let mut cols: Vec<Vec<f64>> = (0..5).map(|_| Vec::with_capacity(n)).collect();
    let mut group = Vec::with_capacity(n);
    let mut y = Vec::with_capacity(n);
    let mut kind = Vec::with_capacity(n);
    for _ in 0..n {
        let x: Vec<f64> = (0..5).map(|_| rng.random::<f64>()).collect();
        let k = usize::from(x[0] > 0.5) + 2 * usize::from(x[1] > 0.5);
        let g = rng.random_range(0..3usize);
        let p = probs(k)[g];
        let v = if continuous {
            // Spend: mean 100 p plus noise (sd 10).
            let z: f64 = (0..12).map(|_| rng.random::<f64>()).sum::<f64>() - 6.0;
            100.0 * p + 10.0 * z
        } else if rng.random::<f64>() < p {
            1.0
        } else {
            0.0
        };
        for (c, xv) in cols.iter_mut().zip(&x) {
            c.push(*xv);
        }
        group.push(g);
        y.push(v);
        kind.push(k);
    }
    Sim {
        cols,
        group,
        y,
        kind,
    }
}

fn names() -> Vec<String> {
    (0..5).map(|j| format!("x{j}")).collect()
}

/// Qini (scikit-uplift convention) of `score` for arm `arm` against control on the rows
/// of those two groups.
fn arm_qini(s: &Sim, score: &[f64], arm: usize) -> f64 {
    let rows: Vec<usize> = (0..s.y.len())
        .filter(|&i| s.group[i] == 0 || s.group[i] == arm)
        .collect();
    let y: Vec<f64> = rows.iter().map(|&i| s.y[i]).collect();
    let w: Vec<bool> = rows.iter().map(|&i| s.group[i] == arm).collect();
    let sc: Vec<f64> = rows.iter().map(|&i| score[i]).collect();
    qini_auc(&Ranked::new(&y, &w, &sc, 0.0).unwrap(), true).unwrap()
}

fn check_forest(criterion: Criterion, continuous: bool) {
    let train = simulate(12_000, 1, continuous);
    let test = simulate(6_000, 2, continuous);
    let x = Binned::new(&names(), &train.cols, 64).unwrap();
    let o = ForestOptions {
        n_trees: 30,
        seed: 5,
        tree: TreeOptions {
            criterion,
            max_depth: 4,
            max_features: Some(3),
            ..ForestOptions::default().tree
        },
        ..Default::default()
    };
    let f = UpliftForest::fit(&x, &train.group, &train.y, &o).unwrap();
    let pred = f.predict(&test.cols).unwrap();
    for arm in 1..=2 {
        let ours: Vec<f64> = pred.iter().map(|v| v[arm - 1]).collect();
        let oracle: Vec<f64> = test
            .kind
            .iter()
            .map(|&k| probs(k)[arm] - probs(k)[0])
            .collect();
        let (q, qo) = (arm_qini(&test, &ours, arm), arm_qini(&test, &oracle, arm));
        // Near-oracle: at least 90% of the Qini of the true effect used as the score.
        assert!(
            q >= 0.9 * qo,
            "{criterion:?} continuous={continuous} arm {arm}: Qini {q} vs oracle {qo}"
        );
        eprintln!("{criterion:?} continuous={continuous} arm {arm}: Qini {q:.4} oracle {qo:.4}");
    }
    // The recommended group is a best one (sleeping dogs tie between control and arm 2)
    // for most customers away from the boundaries.
    let rec = f.recommend(&test.cols).unwrap();
    let (mut ok, mut tot) = (0, 0);
    for i in 0..test.y.len() {
        let (a, b) = (test.cols[0][i], test.cols[1][i]);
        if (a - 0.5).abs() < 0.1 || (b - 0.5).abs() < 0.1 || test.kind[i] == 1 {
            continue; // near a boundary, or sure things (no best arm)
        }
        tot += 1;
        let p = probs(test.kind[i]);
        ok += usize::from(p[rec[i]] >= p[best_group(&p)] - 1e-12);
    }
    assert!(
        ok as f64 >= 0.9 * tot as f64,
        "{criterion:?}: {ok}/{tot} right"
    );
}

#[test]
fn forests_recover_the_simulated_effects_binary() {
    check_forest(Criterion::Kl, false);
    check_forest(Criterion::Chi, false);
    check_forest(Criterion::Ed, false);
}

#[test]
fn forests_recover_the_simulated_effects_continuous() {
    check_forest(Criterion::Ed, true);
    check_forest(Criterion::Cts, true);
}

#[test]
fn kl_and_chi_need_a_binary_outcome() {
    let s = simulate(500, 3, true);
    let x = Binned::new(&names(), &s.cols, 32).unwrap();
    for c in [Criterion::Kl, Criterion::Chi] {
        let o = TreeOptions {
            criterion: c,
            ..Default::default()
        };
        match UpliftTree::fit(&x, &s.group, &s.y, &o, 0) {
            Err(UpliftError::BadValue { variable, row, .. }) => {
                assert_eq!((variable.as_str(), row), ("outcome", 0))
            }
            other => panic!("{other:?}"),
        }
    }
    // Missing features are a typed error naming column and row.
    let mut cols = s.cols.clone();
    cols[3][7] = f64::NAN;
    match Binned::new(&names(), &cols, 32) {
        Err(UpliftError::NonFinite { variable, row, .. }) => {
            assert_eq!((variable.as_str(), row), ("x3", 7))
        }
        other => panic!("{other:?}"),
    }
    // A treatment group without rows.
    let g: Vec<usize> = s
        .group
        .iter()
        .map(|&g| if g == 1 { 0 } else { g })
        .collect();
    assert!(matches!(
        UpliftTree::fit(
            &x,
            &g,
            &s.y,
            &TreeOptions {
                criterion: Criterion::Ed,
                ..Default::default()
            },
            0
        ),
        Err(UpliftError::InsufficientData(_))
    ));
}

#[test]
fn honest_leaves_are_estimation_sample_means() {
    let s = simulate(6_000, 4, false);
    let x = Binned::new(&names(), &s.cols, 64).unwrap();
    let o = TreeOptions {
        max_depth: 3,
        honest_fraction: Some(0.4),
        ..Default::default()
    };
    let seed = 11;
    let tree = UpliftTree::fit(&x, &s.group, &s.y, &o, seed).unwrap();
    assert!(tree.nodes.len() > 3);
    // Re-create the split the fit used (same stream) and average the estimation rows per
    // leaf and group by routing their raw feature values.
    let mut rng = replicate_rng(seed, 0);
    let all: Vec<u32> = (0..s.y.len() as u32).collect();
    let (grow, est) = honest_split(&s.group, 3, all, 0.4, &mut rng).unwrap();
    assert_eq!(grow.len() + est.len(), s.y.len());
    let mut sum = vec![[0.0f64; 3]; tree.nodes.len()];
    let mut cnt = vec![[0.0f64; 3]; tree.nodes.len()];
    for &r in &est {
        let r = r as usize;
        let row: Vec<f64> = s.cols.iter().map(|c| c[r]).collect();
        let leaf = tree.leaf(&row);
        sum[leaf][s.group[r]] += s.y[r];
        cnt[leaf][s.group[r]] += 1.0;
    }
    for (id, node) in tree.nodes.iter().enumerate() {
        if node.feature.is_some() {
            continue;
        }
        // The structure was grown on the other rows: the node's counts are theirs.
        let grown: f64 = node.counts.iter().sum();
        assert!(grown > 0.0);
        for g in 0..3 {
            assert!(
                cnt[id][g] > 0.0,
                "leaf {id} has no estimation rows of group {g}"
            );
            let m = sum[id][g] / cnt[id][g];
            assert!((node.value[g] - m).abs() < 1e-12, "leaf {id} group {g}");
        }
    }
}

#[test]
fn fitted_forest_round_trips_through_json() {
    let s = simulate(3_000, 6, false);
    let x = Binned::new(&names(), &s.cols, 32).unwrap();
    let o = ForestOptions {
        n_trees: 5,
        ..Default::default()
    };
    let f = UpliftForest::fit(&x, &s.group, &s.y, &o).unwrap();
    let json = serde_json::to_string(&f).unwrap();
    let g: UpliftForest = serde_json::from_str(&json).unwrap();
    // serde_json's default float parser may be off by one unit in the last place.
    for (a, b) in f
        .predict(&s.cols)
        .unwrap()
        .iter()
        .zip(g.predict(&s.cols).unwrap())
    {
        for (u, v) in a.iter().zip(&b) {
            assert!((u - v).abs() < 1e-12);
        }
    }
    assert_eq!(f.trees.len(), g.trees.len());
    assert_eq!(f.trees[0].nodes.len(), g.trees[0].nodes.len());
}

//! Criterion benchmarks of the uplift learners (results and the peer comparison in
//! `benches/results/uplift.md`; peers in `benches/peers/uplift_peers.py`).
//!
//! Data: 200,000 synthetic rows x 15 uniform features from the 64-bit LCG below (the peer
//! script draws the identical rows): a fair-coin treatment and a 0/1 outcome with
//! `P(y) = 0.1 + 0.1 x0 + t (0.1 [x1 > 0.5] - 0.05 [x2 > 0.7])`.
//!
//! Tasks (timed from the feature columns, binning included, as the peers time `fit`):
//! - `uplift/forest_kl_100x5_200k`: uplift random forest, 100 trees, KL, depth 5,
//!   `min_samples_leaf` 100, `max_features` 10, bootstrap rows (causalml 0.18
//!   `UpliftRandomForestClassifier(n_estimators=100, max_depth=5, evaluationFunction="KL",
//!   min_samples_leaf=100, max_features=10)`).
//! - `uplift/gbdt_logistic_100x6_200k`: the boosted base learner, logistic loss, 100 rounds,
//!   depth 6, learning rate 0.1, 255 bins (LightGBM 4.7 `objective="binary"`,
//!   `max_depth=6`, `num_leaves=64`, `max_bin=255`, `min_data_in_leaf=20`, `lambda_l2=0`).
//!
//! Run: `CARGO_TARGET_DIR=/work/main/target/bench-build cargo bench --bench uplift`.

use causalkit::uplift::{
    Binned, Criterion as Split, ForestOptions, Gbdt, GbdtOptions, Loss, TreeOptions, UpliftForest,
};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use std::hint::black_box;
use std::time::Duration;

const ROWS: usize = 200_000;
const FEATURES: usize = 15;

/// The rows of `benches/peers/uplift_peers.py::simulate` (same LCG, same draw order:
/// per row the 15 features, then the treatment, then the outcome).
fn simulate(n: usize, seed: u64) -> (Vec<Vec<f64>>, Vec<usize>, Vec<f64>) {
    let mut s = seed;
    let mut u = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut cols: Vec<Vec<f64>> = (0..FEATURES).map(|_| Vec::with_capacity(n)).collect();
    let (mut t, mut y) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        for c in cols.iter_mut() {
            c.push(u());
        }
        let treated = u() < 0.5;
        let (x0, x1, x2) = (
            cols[0].last().unwrap(),
            cols[1].last().unwrap(),
            cols[2].last().unwrap(),
        );
        let mut p = 0.1 + 0.1 * x0;
        if treated {
            p += if *x1 > 0.5 { 0.1 } else { 0.0 } - if *x2 > 0.7 { 0.05 } else { 0.0 };
        }
        t.push(usize::from(treated));
        y.push(f64::from(u() < p));
    }
    (cols, t, y)
}

fn bench(c: &mut Criterion) {
    let (cols, t, y) = simulate(ROWS, 20261204);
    let names: Vec<String> = (0..FEATURES).map(|j| format!("x{j}")).collect();
    let mut g = c.benchmark_group("uplift");
    g.sampling_mode(SamplingMode::Flat);
    g.measurement_time(Duration::from_secs(30));
    g.sample_size(10);
    let forest = ForestOptions {
        tree: TreeOptions {
            criterion: Split::Kl,
            max_depth: 5,
            min_samples_leaf: 100,
            ..ForestOptions::default().tree
        },
        n_trees: 100,
        seed: 1,
        ..ForestOptions::default()
    };
    g.bench_function("forest_kl_100x5_200k", |b| {
        b.iter(|| {
            let x = Binned::new(&names, &cols, 255).unwrap();
            black_box(UpliftForest::fit(&x, &t, &y, &forest).unwrap().trees.len())
        })
    });
    let gbdt = GbdtOptions {
        loss: Loss::Logistic,
        n_estimators: 100,
        learning_rate: 0.1,
        max_depth: 6,
        min_data_in_leaf: 20,
        lambda_l2: 0.0,
        ..GbdtOptions::default()
    };
    g.bench_function("gbdt_logistic_100x6_200k", |b| {
        b.iter(|| {
            let x = Binned::new(&names, &cols, 255).unwrap();
            black_box(Gbdt::fit(&x, &y, &gbdt).unwrap().trees.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

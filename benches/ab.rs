//! Criterion benchmarks of the A/B analysis step on sufficient statistics (`causalkit::ab`).
//!
//! The analysis after aggregation is what a reviewer re-runs many times (new segments,
//! guardrails, adjustments), so it must be instantaneous whatever the row count: its inputs
//! are per-arm counts, sums and cross-products. Tasks:
//!
//! 1. `ab/compare_welch`: one metric, two arms, absolute + relative lift with Welch df and
//!    Fieller's interval (reference case 1 of /work/shared/reference/ab.md).
//! 2. `ab/cuped_3cov`: regression adjustment with 3 covariates from X'X sums, then compare.
//! 3. `ab/report_50x20`: 50 metrics x 20 segments x 2 arms (ratio metrics with one CUPED
//!    covariate), SRM per segment and Holm over segments: the whole review of a large
//!    experiment.
//!
//! The data-to-statistics aggregation of 100M rows is `benches/ab_scan.rs`.
//! Run: `CARGO_TARGET_DIR=target/bench-build cargo bench --bench ab`.

use causalkit::ab::adjust::regression_adjust;
use causalkit::ab::checks::adjust_within_families;
use causalkit::ab::{compare, srm, ArmStats, MetricType, TestOptions};
use causalkit::stats::{Adjustment, Moments};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

/// Deterministic pseudo-random numbers (SplitMix64).
struct Mix(u64);
impl Mix {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn moments(rng: &mut Mix, ncov: usize, n: usize, shift: f64) -> Moments {
    let mut names = vec!["numerator".to_string(), "denominator".to_string()];
    names.extend((0..ncov).map(|j| format!("x{j}")));
    let mut m = Moments::new(names);
    let mut obs = vec![0.0; 2 + ncov];
    for _ in 0..n {
        let d = 1.0 + (rng.next() * 5.0).floor();
        let mut y = 0.0;
        for j in 0..ncov {
            let x = rng.next() * 10.0;
            obs[2 + j] = x;
            y += 0.3 * x;
        }
        obs[0] = d * (y + rng.next() * 4.0 + shift);
        obs[1] = d;
        m.push(&obs).unwrap();
    }
    m
}

fn bench(c: &mut Criterion) {
    let a = ArmStats::from_sums(3407.0, 1396.87, 52377.9767).unwrap();
    let b = ArmStats::from_sums(3461.0, 2422.7, 134698.29).unwrap();
    let opts = TestOptions::default();
    c.bench_function("ab/compare_welch", |bn| {
        bn.iter(|| compare(black_box(&a), black_box(&b), &opts).unwrap())
    });

    let mut rng = Mix(1);
    let ma = moments(&mut rng, 3, 2000, 0.0);
    let mb = moments(&mut rng, 3, 2000, 0.2);
    c.bench_function("ab/cuped_3cov", |bn| {
        bn.iter(|| {
            let adj =
                regression_adjust(&[black_box(&ma), black_box(&mb)], MetricType::Ratio).unwrap();
            compare(&adj.arms[0], &adj.arms[1], &opts).unwrap()
        })
    });

    // 50 metrics x 20 segments, two arms each.
    let cells: Vec<Vec<(Moments, Moments)>> = (0..50)
        .map(|_| {
            (0..20)
                .map(|_| {
                    (
                        moments(&mut rng, 1, 200, 0.0),
                        moments(&mut rng, 1, 200, 0.1),
                    )
                })
                .collect()
        })
        .collect();
    c.bench_function("ab/report_50x20", |bn| {
        bn.iter(|| {
            let mut p = Vec::with_capacity(1000);
            let mut fam = Vec::with_capacity(1000);
            for (mi, metric) in cells.iter().enumerate() {
                for (ma, mb) in metric {
                    srm(&[ma.n() as f64, mb.n() as f64], &[1.0, 1.0]).unwrap();
                    let adj = regression_adjust(&[ma, mb], MetricType::Ratio).unwrap();
                    let cmp = compare(&adj.arms[0], &adj.arms[1], &opts).unwrap();
                    p.push(cmp.absolute.p_value);
                    fam.push(mi.to_string());
                }
            }
            adjust_within_families(&p, &fam, Adjustment::Holm).unwrap()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Criterion benchmarks of causalkit-did (results and the peer comparison in
//! `benches/results/did.md`; peers in `benches/peers/did_peers.py`).
//!
//! Design (same in the Python script, drawn with numpy instead): `units` units × 10 periods
//! (1..=10), cohorts 4, 6, 8 and never treated (a quarter of the units each, by unit id
//! modulo 4), `y = a_i + b_t + τ_it + ε`, `τ_it = 1 + 0.1 (t − g)` when treated, `a, b, ε`
//! standard normal (Box–Muller on a SplitMix64 stream).
//!
//! Tasks:
//! - `did/twfe_1M`, `did/twfe_10M`: [`causalkit::did::twfe::twfe`] (unit + period effects,
//!   CRV1 by unit) on 100,000 × 10 and 1,000,000 × 10 rows, from the validated panel.
//! - `did/cs_100k_boot999`: Callaway-Sant'Anna [`causalkit::did::cs::att_gt`] (never-treated
//!   controls, doubly robust without covariates, 999 multiplier-bootstrap draws, uniform
//!   bands) plus the dynamic aggregation, on 100,000 units × 10 periods.
//! - `did/sunab_1M`, `did/imputation_1M`: Sun-Abraham and BJS imputation on 100,000 × 10.
//!
//! The timed part starts from the columns (unit codes, periods, outcomes, cohorts) and
//! includes building and validating the panel.
//!
//! Run: `CARGO_TARGET_DIR=/work/main/target/bench-build cargo bench --bench did`.

use causalkit::did::cs::{self, Aggregation, BootstrapOptions, CsData, CsOptions};
use causalkit::did::imputation::imputation;
use causalkit::did::sunab::sun_abraham;
use causalkit::did::twfe::twfe;
use causalkit::did::StaggeredPanel;
use causalkit::stats::Factor;
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use std::hint::black_box;
use std::time::Duration;

struct Data {
    unit: Vec<u32>,
    units: usize,
    time: Vec<i64>,
    y: Vec<f64>,
    cohort: Vec<Option<i64>>,
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn normal(state: &mut u64) -> f64 {
    let u1 = ((splitmix(state) >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    let u2 = ((splitmix(state) >> 11) as f64) / (1u64 << 53) as f64;
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn data(units: usize) -> Data {
    let periods = 10i64;
    let mut s = 20240601u64;
    let a: Vec<f64> = (0..units).map(|_| normal(&mut s)).collect();
    let b: Vec<f64> = (0..periods).map(|_| normal(&mut s)).collect();
    let n = units * periods as usize;
    let (mut unit, mut time, mut y, mut cohort) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for (i, a_i) in a.iter().enumerate() {
        let g = match i % 4 {
            0 => Some(4),
            1 => Some(6),
            2 => Some(8),
            _ => None,
        };
        for t in 1..=periods {
            let tau = match g {
                Some(g) if t >= g => 1.0 + 0.1 * (t - g) as f64,
                _ => 0.0,
            };
            unit.push(i as u32);
            time.push(t);
            y.push(a_i + b[(t - 1) as usize] + tau + normal(&mut s));
            cohort.push(g);
        }
    }
    Data {
        unit,
        units,
        time,
        y,
        cohort,
    }
}

fn panel(d: &Data) -> StaggeredPanel {
    StaggeredPanel::new(
        Factor::from_codes("unit", d.unit.clone(), d.units).unwrap(),
        d.time.clone(),
        d.y.clone(),
        d.cohort.clone(),
    )
    .unwrap()
}

fn benches(c: &mut Criterion) {
    let d1 = data(100_000);
    let mut g = c.benchmark_group("did");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    g.bench_function("twfe_1M", |b| {
        b.iter(|| {
            black_box(
                twfe(&panel(&d1), None, 0.05, None)
                    .unwrap()
                    .effect()
                    .estimate,
            )
        })
    });
    g.bench_function("sunab_1M", |b| {
        b.iter(|| black_box(sun_abraham(&panel(&d1), None, 0.05).unwrap().att.estimate))
    });
    g.bench_function("imputation_1M", |b| {
        b.iter(|| black_box(imputation(&panel(&d1), None, 0.05).unwrap().att.estimate))
    });
    let unit_idx: Vec<usize> = d1.unit.iter().map(|&u| u as usize).collect();
    let cohort0: Vec<i64> = d1.cohort.iter().map(|g| g.unwrap_or(0)).collect();
    g.bench_function("cs_100k_boot999", |b| {
        b.iter(|| {
            let data = CsData {
                unit: &unit_idx,
                period: &d1.time,
                cohort: &cohort0,
                outcome: &d1.y,
                ..CsData::default()
            };
            let opts = CsOptions {
                bootstrap: Some(BootstrapOptions {
                    reps: 999,
                    seed: 1,
                    ..BootstrapOptions::default()
                }),
                ..CsOptions::default()
            };
            let fit = cs::att_gt(&data, &opts).unwrap();
            let agg = fit
                .aggregate(&Aggregation::Dynamic {
                    min_e: None,
                    max_e: None,
                    balance_e: None,
                })
                .unwrap();
            black_box(agg.overall.estimate)
        })
    });
    drop(d1);
    let d10 = data(1_000_000);
    g.bench_function("twfe_10M", |b| {
        b.iter(|| {
            black_box(
                twfe(&panel(&d10), None, 0.05, None)
                    .unwrap()
                    .effect()
                    .estimate,
            )
        })
    });
    g.finish();
}

criterion_group!(did, benches);
criterion_main!(did);

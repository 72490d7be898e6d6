//! Benchmarks of the Abadie synthetic control (crates/synth/src/abadie.rs) on Prop 99.
//!
//! Tasks (same data and specifications as benches/peers/synth_abadie_pysyncon.py):
//! - `lags`: predictors cigsale 1975, 1980, 1988 and mean 1980-1988; `all`: cigsale 1970-1988.
//! - `fit`: nested V (Nelder-Mead from the equal and regression starts, each restarted once),
//!   exact inner QP; `fit+placebo`: the fit plus the in-space placebo over all 38 donors
//!   (rayon); `conformal`: per-period conformal intervals for the 12 post years (201-point
//!   grid, bisection-refined).
//!
//! Run: `CARGO_TARGET_DIR=/work/main/target/bench-build cargo bench --bench synth_abadie`.

use causalkit_synth::abadie::{
    ConformalOptions, PlaceboOptions, Predictor, Predictors, SyntheticControl,
};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use std::hint::black_box;

struct Prop99 {
    rows: Vec<Vec<f64>>,
    years: Vec<i64>,
    california: usize,
}

fn prop99() -> Prop99 {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/datasets/california_prop99.csv"
    );
    let text = std::fs::read_to_string(path).expect("datasets/california_prop99.csv");
    let mut recs: Vec<(String, i64, f64)> = Vec::new();
    for l in text.lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        recs.push((
            f[0].to_string(),
            f[1].parse().unwrap(),
            f[2].parse().unwrap(),
        ));
    }
    let mut states: Vec<String> = recs.iter().map(|r| r.0.clone()).collect();
    states.sort();
    states.dedup();
    let mut years: Vec<i64> = recs.iter().map(|r| r.1).collect();
    years.sort();
    years.dedup();
    let mut rows = vec![vec![f64::NAN; years.len()]; states.len()];
    for (s, y, v) in &recs {
        rows[states.binary_search(s).unwrap()][years.binary_search(y).unwrap()] = *v;
    }
    let california = states.iter().position(|s| s == "California").unwrap();
    Prop99 {
        rows,
        years,
        california,
    }
}

fn sc(d: &Prop99, spec: &str) -> SyntheticControl {
    let yr = |y: i64| d.years.iter().position(|&x| x == y).unwrap();
    let p = if spec == "all" {
        Predictors::AllPreOutcomes
    } else {
        Predictors::Spec(vec![
            Predictor::Outcome { period: yr(1975) },
            Predictor::Outcome { period: yr(1980) },
            Predictor::Outcome { period: yr(1988) },
            Predictor::OutcomeMean {
                from: yr(1980),
                to: yr(1988),
            },
        ])
    };
    SyntheticControl::from_rows(&d.rows, d.california, yr(1989))
        .unwrap()
        .predictors(p)
}

fn abadie(c: &mut Criterion) {
    let d = prop99();
    let mut g = c.benchmark_group("synth_abadie");
    g.sampling_mode(SamplingMode::Flat).sample_size(10);
    for spec in ["lags", "all"] {
        let m = sc(&d, spec);
        g.bench_function(format!("fit/{spec}"), |b| {
            b.iter(|| black_box(m.fit().unwrap().att))
        });
        g.bench_function(format!("fit+placebo/{spec}"), |b| {
            b.iter(|| {
                let f = m.fit().unwrap();
                black_box(
                    f.placebo_in_space(&PlaceboOptions::default())
                        .unwrap()
                        .p_value,
                )
            })
        });
    }
    let f = sc(&d, "all").fit().unwrap();
    g.bench_function("conformal/12 periods", |b| {
        b.iter(|| {
            black_box(
                f.conformal_intervals(&ConformalOptions::default())
                    .unwrap()
                    .lower[0],
            )
        })
    });
    g.finish();
}

criterion_group!(benches, abadie);
criterion_main!(benches);

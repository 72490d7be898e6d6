//! Criterion benchmarks of the synthetic DiD family (results and the peer comparison in
//! `benches/results/synth.md`; peers in `benches/peers/synth_sdid_peers.py`).
//!
//! Tasks, on California Prop 99 (`datasets/california_prop99.csv`, 39 states × 31 years,
//! California treated from 1989):
//! - `synth/sdid_fit`: SDID point estimate (unit and time weights, R synthdid defaults).
//! - `synth/sdid_fit_placebo200`: the fit plus the placebo SE with 200 replications (seeded,
//!   parallel over replicates with rayon).
//! - `synth/sc_fit_placebo200`: synthdid's SC plus 200 placebo replications.
//!
//! The timed part starts from the wide outcome matrix (the peers also time from their
//! matrices / prepared panels).
//!
//! Run: `CARGO_TARGET_DIR=/work/main/target/bench-build cargo bench --bench synth`.

use causalkit::synth::panel::SynthPanel;
use causalkit::synth::sdid::{sdid, sdid_se, SdidMethod, SdidOptions, SeMethod};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use std::hint::black_box;
use std::time::Duration;

fn prop99() -> SynthPanel {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/datasets/california_prop99.csv"
    );
    let s = std::fs::read_to_string(path).expect("datasets/california_prop99.csv");
    let (mut u, mut t, mut y, mut d) = (vec![], vec![], vec![], vec![]);
    for line in s.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        u.push(f[0].to_string());
        t.push(f[1].parse::<f64>().unwrap());
        y.push(f[2].parse::<f64>().unwrap());
        d.push(f[3] == "1");
    }
    SynthPanel::from_long(&u, &t, &y, &d).unwrap()
}

fn bench(c: &mut Criterion) {
    let panel = prop99();
    let mut g = c.benchmark_group("synth");
    g.sampling_mode(SamplingMode::Flat);
    g.measurement_time(Duration::from_secs(10));
    g.sample_size(20);
    let opts = SdidOptions::new(SdidMethod::Sdid);
    g.bench_function("sdid_fit", |b| {
        b.iter(|| black_box(sdid(&panel, &opts).unwrap().estimate))
    });
    g.bench_function("sdid_fit_placebo200", |b| {
        b.iter(|| {
            let fit = sdid(&panel, &opts).unwrap();
            black_box(
                sdid_se(&panel, &fit, &opts, SeMethod::Placebo, 200, 1)
                    .unwrap()
                    .se,
            )
        })
    });
    let sc = SdidOptions::new(SdidMethod::Sc);
    g.bench_function("sc_fit_placebo200", |b| {
        b.iter(|| {
            let fit = sdid(&panel, &sc).unwrap();
            black_box(
                sdid_se(&panel, &fit, &sc, SeMethod::Placebo, 200, 1)
                    .unwrap()
                    .se,
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

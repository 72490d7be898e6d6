//! Benchmark of the A/B aggregation step: unit rows (arm, metric, denominator, covariate) in a
//! Parquet file -> per-arm sufficient statistics (polars' streaming engine, one pass) -> the
//! A/B analysis (ratio metric with the delta method; CUPED-adjusted mean).
//!
//! The input files are written by `benches/peers/ab_scan_gen.py` (seeded) into
//! `$CAUSALKIT_BENCH_DATA` (default `target/bench-data`): `ab_1m.parquet`, `ab_10m.parquet`,
//! `ab_100m.parquet`; sizes whose file is absent are skipped. The peer pipeline (pandas
//! group-by feeding gbstats) is `benches/peers/ab_scan_pandas_gbstats.py`; measured results
//! are in `benches/results/ab_scan.md`.
//!
//! `CAUSALKIT_BENCH_CHECK=1` prints the estimates once per file, to compare with the peer's.
//! `CAUSALKIT_SCAN_READER=streaming` uses polars' streaming engine instead of the direct
//! Parquet reader. `CAUSALKIT_BENCH_ONCE=FILE` times one aggregation + analysis of FILE in this
//! fresh process and prints a JSON line (wall seconds and the estimates), like the peer script,
//! so that the whole process can be measured with `/usr/bin/time -v` for its peak memory.
//! Run: `cargo bench --bench ab_scan` (optionally `-- ab_scan/100m`).

use causalkit::data::{kpi_moments_scan_with, GroupedMoments, Kpi, MissingPolicy, ScanReader};
use criterion::{criterion_group, Criterion, SamplingMode};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn data_dir() -> PathBuf {
    std::env::var_os("CAUSALKIT_BENCH_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/bench-data")))
}

fn aggregate(path: &Path) -> GroupedMoments {
    let kpi: Kpi = "value=ratio(metric, denominator)".parse().expect("kpi");
    let reader = match std::env::var("CAUSALKIT_SCAN_READER").as_deref() {
        Ok("streaming") => ScanReader::Streaming,
        _ => ScanReader::Auto,
    };
    kpi_moments_scan_with(
        path,
        &kpi,
        &["arm"],
        None,
        &["covariate"],
        MissingPolicy::Error,
        reader,
    )
    .expect("aggregation")
}

/// The analysis step (until the A/B crate's API is wired in here): relative lift of the ratio
/// metric (delta method) and the CUPED-adjusted absolute lift of the per-unit metric.
fn analyse(m: &GroupedMoments) -> [f64; 4] {
    let a = &m.groups[&vec!["A".to_string()]];
    let b = &m.groups[&vec!["B".to_string()]];
    let (ra, sa) = a.ratio(0, 1).expect("ratio");
    let (rb, sb) = b.ratio(0, 1).expect("ratio");
    let rel = rb / ra - 1.0;
    let rel_se = (sb * sb / (ra * ra) + sa * sa * rb * rb / ra.powi(4)).sqrt();
    // CUPED: pooled theta = Cov(y, x) / Var(x) over both arms.
    let mut pooled = a.clone();
    pooled.merge(b).expect("merge");
    let theta = pooled.covariance(0, 2).expect("cov") / pooled.variance(2).expect("var");
    let adj = |g: &causalkit::stats::Moments| {
        let n = g.n() as f64;
        let mean = g.mean(0).unwrap() - theta * g.mean(2).unwrap();
        let var = g.variance(0).unwrap() + theta * theta * g.variance(2).unwrap()
            - 2.0 * theta * g.covariance(0, 2).unwrap();
        (mean, var / n)
    };
    let ((ma, va), (mb, vb)) = (adj(a), adj(b));
    [rel, rel_se, mb - ma, (va + vb).sqrt()]
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("ab_scan");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    for name in ["1m", "10m", "100m"] {
        let path = data_dir().join(format!("ab_{name}.parquet"));
        if !path.exists() {
            eprintln!("skipping {}: not found", path.display());
            continue;
        }
        if std::env::var_os("CAUSALKIT_BENCH_CHECK").is_some() {
            println!("{name}: {:?}", analyse(&aggregate(&path)));
        }
        group.bench_function(name, |b| b.iter(|| black_box(analyse(&aggregate(&path)))));
    }
    group.finish();
}

criterion_group!(benches, bench);

fn main() {
    if let Some(file) = std::env::var_os("CAUSALKIT_BENCH_ONCE") {
        let t0 = std::time::Instant::now();
        let m = aggregate(Path::new(&file));
        let r = analyse(&m);
        let secs = t0.elapsed().as_secs_f64();
        let n: Vec<u64> = m.groups.values().map(|g| g.n()).collect();
        println!(
            "{{\"seconds\": {secs:.3}, \"ratio_relative_lift\": {:e}, \"ratio_se\": {:e}, \"cuped_absolute_lift\": {:e}, \"cuped_se\": {:e}, \"n\": {n:?}}}",
            r[0], r[1], r[2], r[3]
        );
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

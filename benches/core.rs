//! Criterion benchmarks of the numeric core (`causalkit::stats`).
//!
//! Tasks (see `benches/RESULTS.md` for measured numbers and the pyfixest comparison):
//!
//! 1. `twfe/*`: `y ~ d | unit + time` with CRV1 standard errors clustered by unit, on a
//!    balanced panel of 100,000 units x 10 periods (1,000,000 rows), on the same panel with
//!    ~10% of the rows dropped at random, and on a balanced panel of 1,000,000 x 10
//!    (10,000,000 rows). The 1M-row panels at the default demeaning tolerance (1e-10) and,
//!    for a like-for-like comparison with pyfixest's default `fixef_tol`, at 1e-6 (suffix
//!    `_tol1e-6`); the 10M-row panel at 1e-10 only (10 samples of one fit each).
//! 2. `ols/hc1_k10_1M`: OLS of `y` on an intercept and 10 regressors, 1,000,000 rows, HC1.
//! 3. `demean/*`: [`FixedEffects::demean`] alone of 5 columns, 1,000,000 rows, two random
//!    fixed effects (100,000 and 1,000 levels).
//!
//! The timed part starts from raw columns (`Vec<f64>` values and `Vec<u32>` codes, copied
//! in the untimed setup) and includes building the factors, the fit and the inference
//! table, as a user of the API would pay for them.
//!
//! Data come from a counter-based SplitMix64 generator that uses only integer arithmetic
//! and exactly rounded floating-point operations, so `benches/peers/gen_data.py` produces
//! bit-identical data in numpy. Environment variables:
//!
//! - `CAUSALKIT_BENCH_CHECK=1`: print, for each dataset as it is first generated, a
//!   checksum of the data and the fitted coefficient and standard error (compare with
//!   `benches/peers/twfe_pyfixest.py`).
//! - `CAUSALKIT_BENCH_EXPORT=<dir>`: instead of benchmarking, write the unbalanced 1M-row
//!   panel to `<dir>/twfe_unbalanced_1M.csv` and the OLS data to `<dir>/ols_k10_1M.csv`,
//!   print the fits and exit.
//!
//! Run: `cargo bench --bench core` (optionally with a filter, e.g. `-- twfe/balanced_1M`).

use causalkit::stats::{DemeanOptions, Factor, FixedEffects, LinearModel, Vcov};
use criterion::{criterion_group, BatchSize, Criterion, SamplingMode};
use std::fmt::Write as _;
use std::hint::black_box;
use std::io::Write as _;
use std::time::Duration;

// ---------------------------------------------------------------------------------------
// Deterministic data (mirrored exactly by benches/peers/gen_data.py)
// ---------------------------------------------------------------------------------------

const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64 finaliser.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The `i`-th 64-bit draw of stream `s` (counter-based, so any row can be drawn alone).
fn draw(s: u64, i: u64) -> u64 {
    mix(((s << 40) + i + 1).wrapping_mul(GAMMA))
}

/// Uniform on [0, 1) with 53 random bits.
fn uniform(s: u64, i: u64) -> f64 {
    (draw(s, i) >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
}

/// Approximately standard normal: a centred, rescaled sum of four uniforms (streams
/// `4v..4v+3`). No transcendental functions, so numpy reproduces it bit for bit.
fn normal(v: u64, i: u64) -> f64 {
    let s =
        uniform(4 * v, i) + uniform(4 * v + 1, i) + uniform(4 * v + 2, i) + uniform(4 * v + 3, i);
    (s - 2.0) * 3.0f64.sqrt()
}

/// Order-sensitive checksum of a column's bit patterns (wrapping sum of the `u64` bits).
fn checksum(x: &[f64]) -> u64 {
    x.iter().fold(0u64, |a, v| a.wrapping_add(v.to_bits()))
}

/// A panel for `y ~ d | unit + time`.
struct Panel {
    label: String,
    y: Vec<f64>,
    d: Vec<f64>,
    unit: Vec<u32>,
    time: Vec<u32>,
    n_units: usize,
    n_periods: usize,
}

/// `n_units x n_periods` panel; row `i = u * n_periods + t` is dropped when
/// `uniform(101, i) < drop_share`. Unit effects `normal(0, u)`, time effects `0.1 t`,
/// staggered adoption `d = [t >= c_u]` with `c_u = 2 + draw(100, u) % 10`, noise
/// `normal(1, i)`, and `y = alpha_u + gamma_t + 1.5 d + e`.
fn panel(n_units: usize, n_periods: usize, drop_share: f64) -> Panel {
    let cap = n_units * n_periods;
    let (mut y, mut d) = (Vec::with_capacity(cap), Vec::with_capacity(cap));
    let (mut unit, mut time) = (Vec::with_capacity(cap), Vec::with_capacity(cap));
    for u in 0..n_units {
        let alpha = normal(0, u as u64);
        let cohort = 2 + (draw(100, u as u64) % 10) as usize;
        let rows_before = y.len();
        for t in 0..n_periods {
            let i = (u * n_periods + t) as u64;
            if drop_share > 0.0 && uniform(101, i) < drop_share {
                continue;
            }
            let gamma = 0.1 * t as f64;
            let treat = if t >= cohort { 1.0 } else { 0.0 };
            y.push(alpha + gamma + 1.5 * treat + normal(1, i));
            d.push(treat);
            unit.push(u as u32);
            time.push(t as u32);
        }
        // Every unit keeps a row, so the codes are dense (as pyfixest would recode them).
        assert!(y.len() > rows_before, "unit {u} lost all its rows");
    }
    let kind = if drop_share > 0.0 {
        "unbalanced"
    } else {
        "balanced"
    };
    Panel {
        label: format!("{kind} {n_units}x{n_periods}, {} rows", y.len()),
        y,
        d,
        unit,
        time,
        n_units,
        n_periods,
    }
}

/// OLS data: `x_j = normal(10 + j, i)`, `y = 1 + sum_j 0.1 (j + 1) x_j + normal(9, i)`.
struct OlsData {
    y: Vec<f64>,
    x: Vec<Vec<f64>>,
}

fn ols_data(n: usize, k: usize) -> OlsData {
    let x: Vec<Vec<f64>> = (0..k)
        .map(|j| (0..n).map(|i| normal(10 + j as u64, i as u64)).collect())
        .collect();
    let y = (0..n)
        .map(|i| {
            let mut v = 1.0;
            for (j, xj) in x.iter().enumerate() {
                v += 0.1 * (j + 1) as f64 * xj[i];
            }
            v + normal(9, i as u64)
        })
        .collect();
    OlsData { y, x }
}

/// Demeaning data: two random factors with 100,000 and 1,000 levels over `n` rows and
/// `m` columns `normal(30 + c, i) + normal(40 + c, fe1) + normal(50 + c, fe2)`.
struct DemeanData {
    fe: FixedEffects,
    columns: Vec<Vec<f64>>,
}

fn demean_data(n: usize, m: usize) -> DemeanData {
    const L1: u64 = 100_000;
    const L2: u64 = 1_000;
    let c1: Vec<u32> = (0..n).map(|i| (draw(200, i as u64) % L1) as u32).collect();
    let c2: Vec<u32> = (0..n).map(|i| (draw(201, i as u64) % L2) as u32).collect();
    let columns = (0..m as u64)
        .map(|c| {
            (0..n)
                .map(|i| {
                    normal(30 + c, i as u64)
                        + normal(40 + c, u64::from(c1[i]))
                        + normal(50 + c, u64::from(c2[i]))
                })
                .collect()
        })
        .collect();
    let fe = FixedEffects::new(vec![
        Factor::from_codes("fe1", c1, L1 as usize).expect("codes below L1"),
        Factor::from_codes("fe2", c2, L2 as usize).expect("codes below L2"),
    ])
    .expect("equal lengths");
    DemeanData { fe, columns }
}

// ---------------------------------------------------------------------------------------
// The timed computations
// ---------------------------------------------------------------------------------------

/// Raw inputs of one TWFE fit, copied in the untimed setup.
type TwfeInput = (Vec<f64>, Vec<f64>, Vec<u32>, Vec<u32>);

/// Builds the factors, fits `y ~ d | unit + time` and computes the CRV1-by-unit table.
/// Returns `(coef, se, demeaning sweeps)` of `d`.
fn twfe(input: TwfeInput, n_units: usize, n_periods: usize, tol: f64) -> (f64, f64, usize) {
    let (y, d, unit, time) = input;
    let unit = Factor::from_codes("unit", unit, n_units).expect("unit codes");
    let time = Factor::from_codes("time", time, n_periods).expect("time codes");
    let fe = FixedEffects::new(vec![unit.clone(), time]).expect("equal lengths");
    let fit = LinearModel::new("y", y)
        .regressor("d", d)
        .absorb(fe)
        .demean_options(DemeanOptions {
            tolerance: tol,
            ..DemeanOptions::default()
        })
        .fit()
        .expect("TWFE fit");
    let table = fit
        .inference(&Vcov::Cluster(unit), 0.05)
        .expect("CRV1 inference");
    let row = table.row("d").expect("row d");
    (
        row.estimate,
        row.std_error.expect("positive variance"),
        fit.demean_iterations().unwrap_or(0),
    )
}

fn twfe_input(p: &Panel) -> TwfeInput {
    (p.y.clone(), p.d.clone(), p.unit.clone(), p.time.clone())
}

/// OLS of `y` on an intercept and the regressors, HC1. Returns the coefficient and standard
/// error of `x0`.
fn ols(y: Vec<f64>, x: Vec<Vec<f64>>) -> (f64, f64) {
    let mut model = LinearModel::new("y", y);
    for (j, xj) in x.into_iter().enumerate() {
        model = model.regressor(&format!("x{j}"), xj);
    }
    let fit = model.fit().expect("OLS fit");
    let table = fit.inference(&Vcov::Hc1, 0.05).expect("HC1 inference");
    let row = table.row("x0").expect("row x0");
    (row.estimate, row.std_error.expect("positive variance"))
}

fn check_enabled() -> bool {
    std::env::var_os("CAUSALKIT_BENCH_CHECK").is_some()
}

fn report_panel(p: &Panel) {
    let tight = twfe(twfe_input(p), p.n_units, p.n_periods, 1e-10);
    let loose = twfe(twfe_input(p), p.n_units, p.n_periods, 1e-6);
    eprintln!(
        "check twfe {}: checksum(y) = {:016x}, checksum(d) = {:016x}\n  \
         tol 1e-10: coef(d) = {:.15e}, se = {:.15e}, sweeps = {}\n  \
         tol 1e-6:  coef(d) = {:.15e}, se = {:.15e}, sweeps = {}",
        p.label,
        checksum(&p.y),
        checksum(&p.d),
        tight.0,
        tight.1,
        tight.2,
        loose.0,
        loose.1,
        loose.2
    );
}

fn report_ols(o: &OlsData) {
    let (b, se) = ols(o.y.clone(), o.x.clone());
    eprintln!(
        "check ols {} rows, k = {}: checksum(y) = {:016x}, checksum(x9) = {:016x}\n  \
         coef(x0) = {b:.15e}, se = {se:.15e}",
        o.y.len(),
        o.x.len(),
        checksum(&o.y),
        checksum(&o.x[o.x.len() - 1]),
    );
}

/// Precision of the demeaning at each benchmarked tolerance: the largest absolute deviation
/// over all columns from a reference solved to 1e-14.
fn report_demean(dd: &DemeanData) {
    let solve = |tol: f64| {
        let mut cols = dd.columns.clone();
        let options = DemeanOptions {
            tolerance: tol,
            max_iterations: 100_000,
        };
        let rep = dd.fe.demean(&mut cols, None, &options).expect("demean");
        (cols, rep.iterations)
    };
    let (reference, ref_sweeps) = solve(1e-14);
    let mut msg = format!(
        "check demean {} rows x {} columns: checksum(col0) = {:016x}\n  \
         tol 1e-14 (reference): sweeps = {ref_sweeps}, col0[0..2] = {:?}",
        dd.columns[0].len(),
        dd.columns.len(),
        checksum(&dd.columns[0]),
        &reference[0][..2]
    );
    for tol in [1e-10, 1e-6] {
        let (cols, sweeps) = solve(tol);
        let dev = cols
            .iter()
            .zip(&reference)
            .flat_map(|(a, b)| a.iter().zip(b).map(|(x, r)| (x - r).abs()))
            .fold(0.0f64, f64::max);
        write!(
            msg,
            "\n  tol {tol:e}: sweeps = {sweeps}, max |x - reference| = {dev:.3e}"
        )
        .expect("fmt");
    }
    eprintln!("{msg}");
}

// ---------------------------------------------------------------------------------------
// Benchmarks
// ---------------------------------------------------------------------------------------

fn bench_twfe(c: &mut Criterion) {
    let mut group = c.benchmark_group("twfe");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    let cases: [(&str, usize, f64); 2] = [
        ("balanced_1M", 100_000, 0.0),
        ("unbalanced_1M", 100_000, 0.1),
    ];
    for (name, n_units, drop_share) in cases {
        // Generated on first use only, so a filtered run does not build unused datasets.
        let mut data: Option<Panel> = None;
        for (suffix, tol) in [("", 1e-10), ("_tol1e-6", 1e-6)] {
            group.bench_function(format!("{name}{suffix}"), |b| {
                let p = data.get_or_insert_with(|| {
                    let p = panel(n_units, 10, drop_share);
                    if check_enabled() {
                        report_panel(&p);
                    }
                    p
                });
                b.iter_batched(
                    || twfe_input(p),
                    |input| black_box(twfe(input, p.n_units, p.n_periods, tol)),
                    BatchSize::LargeInput,
                );
            });
        }
    }
    // 10M rows: the minimum of 10 samples, one fit each.
    group.measurement_time(Duration::from_secs(30));
    let mut data: Option<Panel> = None;
    group.bench_function("balanced_10M", |b| {
        let p = data.get_or_insert_with(|| {
            let p = panel(1_000_000, 10, 0.0);
            if check_enabled() {
                report_panel(&p);
            }
            p
        });
        b.iter_batched(
            || twfe_input(p),
            |input| black_box(twfe(input, p.n_units, p.n_periods, 1e-10)),
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

fn bench_ols(c: &mut Criterion) {
    let mut group = c.benchmark_group("ols");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    let mut data: Option<OlsData> = None;
    group.bench_function("hc1_k10_1M", |b| {
        let o = data.get_or_insert_with(|| {
            let o = ols_data(1_000_000, 10);
            if check_enabled() {
                report_ols(&o);
            }
            o
        });
        b.iter_batched(
            || (o.y.clone(), o.x.clone()),
            |(y, x)| black_box(ols(y, x)),
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

fn bench_demean(c: &mut Criterion) {
    let mut group = c.benchmark_group("demean");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    let mut data: Option<DemeanData> = None;
    for (name, tol) in [("5cols_2fe_1M", 1e-10), ("5cols_2fe_1M_tol1e-6", 1e-6)] {
        let options = DemeanOptions {
            tolerance: tol,
            ..DemeanOptions::default()
        };
        group.bench_function(name, |b| {
            let dd = data.get_or_insert_with(|| {
                let dd = demean_data(1_000_000, 5);
                if check_enabled() {
                    report_demean(&dd);
                }
                dd
            });
            b.iter_batched(
                || dd.columns.clone(),
                |mut cols| {
                    let rep = dd.fe.demean(&mut cols, None, &options).expect("demean");
                    black_box((cols, rep))
                },
                BatchSize::LargeInput,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, bench_twfe, bench_ols, bench_demean);

// ---------------------------------------------------------------------------------------
// Export for the shared-file check against pyfixest
// ---------------------------------------------------------------------------------------

fn write_csv(path: &std::path::Path, header: &str, rows: usize, row: impl Fn(usize, &mut String)) {
    let file = std::fs::File::create(path).expect("create export file");
    let mut out = std::io::BufWriter::new(file);
    writeln!(out, "{header}").expect("write");
    let mut line = String::new();
    for i in 0..rows {
        line.clear();
        row(i, &mut line);
        writeln!(out, "{line}").expect("write");
    }
    out.flush().expect("flush");
}

fn export(dir: &str) {
    let dir = std::path::Path::new(dir);
    std::fs::create_dir_all(dir).expect("create export directory");
    let p = panel(100_000, 10, 0.1);
    // `{:?}` prints the shortest representation that parses back to the same f64.
    write_csv(
        &dir.join("twfe_unbalanced_1M.csv"),
        "y,d,unit,time",
        p.y.len(),
        |i, s| {
            write!(s, "{:?},{:?},{},{}", p.y[i], p.d[i], p.unit[i], p.time[i]).expect("fmt");
        },
    );
    report_panel(&p);
    let o = ols_data(1_000_000, 10);
    let header = std::iter::once("y".to_string())
        .chain((0..o.x.len()).map(|j| format!("x{j}")))
        .collect::<Vec<_>>()
        .join(",");
    write_csv(&dir.join("ols_k10_1M.csv"), &header, o.y.len(), |i, s| {
        write!(s, "{:?}", o.y[i]).expect("fmt");
        for xj in &o.x {
            write!(s, ",{:?}", xj[i]).expect("fmt");
        }
    });
    report_ols(&o);
    eprintln!("wrote {}", dir.display());
}

fn main() {
    if let Some(dir) = std::env::var_os("CAUSALKIT_BENCH_EXPORT") {
        export(&dir.to_string_lossy());
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

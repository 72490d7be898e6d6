//! Every Arrow column type a Parquet file can hold is read on both paths (in memory and the
//! scans), and the multi-KPI scan returns exactly what one scan per KPI returns.

use causalkit_data::*;
use polars::prelude::*;
use std::path::PathBuf;

fn tmp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("causalkit-types-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn write_parquet(df: &mut DataFrame, name: &str, rows_per_group: usize) -> PathBuf {
    let p = tmp_path(name);
    ParquetWriter::new(std::fs::File::create(&p).unwrap())
        .with_row_group_size(Some(rows_per_group))
        .finish(df)
        .unwrap();
    p
}

fn data_path(p: &str) -> PathBuf {
    PathBuf::from(format!("{}/../../datasets/{p}", env!("CARGO_MANIFEST_DIR")))
}

/// A frame with one column of each type, six rows, arms A B A B A B.
fn typed_frame() -> DataFrame {
    let ints = Series::new("i".into(), [1i64, 2, 3, 4, 5, 6]);
    let cast = |name: &str, dt: DataType| -> Column {
        ints.cast(&dt).unwrap().with_name(name.into()).into()
    };
    let arm = Series::new("arm".into(), ["A", "B", "A", "B", "A", "B"]);
    let days = Series::new(
        "d".into(),
        [19_000i32, 19_001, 19_003, 19_007, 19_010, 19_014],
    );
    let stamps = Series::new(
        "t".into(),
        [0i64, 86_400, 172_800, 259_200, 345_600, 432_000],
    );
    let mut cols: Vec<Column> = vec![
        arm.clone().into(),
        cast("i8", DataType::Int8),
        cast("i16", DataType::Int16),
        cast("i32", DataType::Int32),
        cast("i64", DataType::Int64),
        cast("u8", DataType::UInt8),
        cast("u16", DataType::UInt16),
        cast("u32", DataType::UInt32),
        cast("u64", DataType::UInt64),
        Series::new("f32".into(), [1.5f32, 2.0, 3.25, 4.0, 5.5, 6.0]).into(),
        Series::new("f64".into(), [1.5f64, 2.0, 3.25, 4.0, 5.5, 6.0]).into(),
        Series::new("flag".into(), [true, false, true, true, false, false]).into(),
        arm.cast(&DataType::from_categories(Categories::global()))
            .unwrap()
            .with_name("arm_cat".into())
            .into(),
        arm.cast(&DataType::from_frozen_categories(
            FrozenCategories::new(["A", "B"]).unwrap(),
        ))
        .unwrap()
        .with_name("arm_enum".into())
        .into(),
        days.cast(&DataType::Date)
            .unwrap()
            .with_name("date".into())
            .into(),
    ];
    for (name, unit, scale) in [
        ("ts_s_as_ms", TimeUnit::Milliseconds, 1_000i64),
        ("ts_us", TimeUnit::Microseconds, 1_000_000),
        ("ts_ns", TimeUnit::Nanoseconds, 1_000_000_000),
    ] {
        let scaled = (&stamps * scale).with_name(name.into());
        cols.push(scaled.cast(&DataType::Datetime(unit, None)).unwrap().into());
    }
    let secs = Series::new("dur".into(), [10i64, 20, 30, 40, 50, 60]);
    cols.push(
        secs.cast(&DataType::Duration(TimeUnit::Milliseconds))
            .unwrap()
            .into(),
    );
    // Integers stored as text (e.g. a CSV exported as strings), plain and dictionary-encoded.
    let txt = Series::new("txt".into(), ["1", "2", "3", "4", "5", "6"]);
    cols.push(txt.clone().into());
    cols.push(
        txt.cast(&DataType::from_categories(Categories::global()))
            .unwrap()
            .with_name("txt_cat".into())
            .into(),
    );
    DataFrame::new_infer_height(cols).unwrap()
}

fn mean_of(m: &GroupedMoments, arm: &str) -> f64 {
    m.groups[&vec![arm.to_string()]].mean(0).unwrap()
}

/// Each numeric type, as a KPI and as a covariate, read by the in-memory path, the direct
/// Parquet reader and polars' streaming engine: same statistics, and the expected means
/// (computed by hand from the values written).
#[test]
fn every_parquet_numeric_type_is_read_on_every_path() {
    let mut df = typed_frame();
    let path = write_parquet(&mut df, "types.parquet", 4);
    let data = Dataset::read(&path).unwrap();
    // Arm A holds rows 0, 2, 4; arm B rows 1, 3, 5.
    let expected: Vec<(&str, f64, f64)> = vec![
        ("i8", 3.0, 4.0),
        ("i16", 3.0, 4.0),
        ("i32", 3.0, 4.0),
        ("i64", 3.0, 4.0),
        ("u8", 3.0, 4.0),
        ("u16", 3.0, 4.0),
        ("u32", 3.0, 4.0),
        ("u64", 3.0, 4.0),
        ("f32", 10.25 / 3.0, 4.0),
        ("f64", 10.25 / 3.0, 4.0),
        ("flag", 2.0 / 3.0, 1.0 / 3.0),
        // Days since 1970-01-01.
        (
            "date",
            (19_000.0 + 19_003.0 + 19_010.0) / 3.0,
            (19_001.0 + 19_007.0 + 19_014.0) / 3.0,
        ),
        // Counts of the column's time unit since the epoch.
        ("ts_s_as_ms", 172_800_000.0, 259_200_000.0),
        ("ts_us", 172_800.0e6, 259_200.0e6),
        ("ts_ns", 172_800.0e9, 259_200.0e9),
        ("dur", 30.0, 40.0),
        ("txt", 3.0, 4.0),
        ("txt_cat", 3.0, 4.0),
    ];
    for (c, a, b) in expected {
        let k: Kpi = format!("m=mean({c})").parse().unwrap();
        let eager = kpi_moments(&data, &k, &["arm"], None, &["i8"], MissingPolicy::Error).unwrap();
        let direct = kpi_moments_scan(&path, &k, &["arm"], None, &["i8"], MissingPolicy::Error)
            .unwrap_or_else(|e| panic!("{c}: {e}"));
        let streamed = kpi_moments_scan_with(
            &path,
            &k,
            &["arm"],
            None,
            &["i8"],
            MissingPolicy::Error,
            ScanReader::Streaming,
        )
        .unwrap_or_else(|e| panic!("{c}: {e}"));
        for m in [&eager, &direct, &streamed] {
            let tol = 1e-12 * a.abs().max(1.0);
            assert!(
                (mean_of(m, "A") - a).abs() <= tol,
                "{c}: {} vs {a}",
                mean_of(m, "A")
            );
            let tol = 1e-12 * b.abs().max(1.0);
            assert!(
                (mean_of(m, "B") - b).abs() <= tol,
                "{c}: {} vs {b}",
                mean_of(m, "B")
            );
        }
        assert_eq!(eager, direct, "{c}");
        assert_eq!(eager, streamed, "{c}");
        // As a covariate too (sums of the covariate and its cross-products).
        let y: Kpi = "y=mean(f64)".parse().unwrap();
        let e = kpi_moments(&data, &y, &["arm"], None, &[c], MissingPolicy::Error).unwrap();
        let s = kpi_moments_scan(&path, &y, &["arm"], None, &[c], MissingPolicy::Error).unwrap();
        assert_eq!(e, s, "{c} as covariate");
        // And the in-memory column reader.
        assert_eq!(data.numeric(c).unwrap().len(), 6, "{c}");
    }
}

/// Each key type groups the same way on every path, with the labels the in-memory path gives.
#[test]
fn every_parquet_key_type_groups_on_every_path() {
    let mut df = typed_frame();
    let path = write_parquet(&mut df, "keys.parquet", 4);
    let data = Dataset::read(&path).unwrap();
    let k: Kpi = "y=mean(f64)".parse().unwrap();
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("arm", vec!["A", "B"]),
        ("arm_cat", vec!["A", "B"]),
        ("arm_enum", vec!["A", "B"]),
        ("flag", vec!["false", "true"]),
        ("i8", vec!["1", "2", "3", "4", "5", "6"]),
        ("u8", vec!["1", "2", "3", "4", "5", "6"]),
        ("u64", vec!["1", "2", "3", "4", "5", "6"]),
        (
            "date",
            vec![
                "2022-01-08",
                "2022-01-09",
                "2022-01-11",
                "2022-01-15",
                "2022-01-18",
                "2022-01-22",
            ],
        ),
    ];
    for (key, labels) in cases {
        let eager = kpi_moments(&data, &k, &[key], None, &[], MissingPolicy::Error).unwrap();
        let direct = kpi_moments_scan(&path, &k, &[key], None, &[], MissingPolicy::Error).unwrap();
        let streamed = kpi_moments_scan_with(
            &path,
            &k,
            &[key],
            None,
            &[],
            MissingPolicy::Error,
            ScanReader::Streaming,
        )
        .unwrap();
        let got: Vec<&str> = eager.groups.keys().map(|g| g[0].as_str()).collect();
        assert_eq!(got, labels, "{key}");
        assert_eq!(eager, direct, "{key}");
        assert_eq!(eager, streamed, "{key}");
    }
    // Datetime keys read as their text form on every path.
    let e = kpi_moments(&data, &k, &["ts_us"], None, &[], MissingPolicy::Error).unwrap();
    let s = kpi_moments_scan(&path, &k, &["ts_us"], None, &[], MissingPolicy::Error).unwrap();
    assert_eq!(e.groups.len(), 6);
    assert_eq!(e, s);
    assert_eq!(data.labels("arm_cat").unwrap()[1].as_deref(), Some("B"));
    assert_eq!(
        data.labels("date").unwrap()[0].as_deref(),
        Some("2022-01-08")
    );
}

/// Sums of a hand-checkable case: the multi-KPI scan equals the single scans bit for bit.
fn assert_many_equals_singles(
    path: &std::path::Path,
    specs: &[(&str, Vec<&str>)],
    group_by: &[&str],
    unit: Option<&str>,
    policy: MissingPolicy,
    reader: ScanReader,
) {
    let kpis: Vec<Kpi> = specs.iter().map(|(s, _)| s.parse().unwrap()).collect();
    let requests: Vec<KpiRequest> = kpis
        .iter()
        .zip(specs)
        .map(|(kpi, (_, covs))| KpiRequest {
            kpi,
            covariates: covs,
        })
        .collect();
    let many = kpi_moments_scan_many_with(path, &requests, group_by, unit, policy, reader);
    let singles: std::result::Result<Vec<GroupedMoments>, DataError> = requests
        .iter()
        .map(|r| kpi_moments_scan_with(path, r.kpi, group_by, unit, r.covariates, policy, reader))
        .collect();
    match (many, singles) {
        (Ok(m), Ok(s)) => {
            assert_eq!(m.len(), specs.len());
            // Exact equality: same counts, and every sum and cross-product bit for bit.
            assert_eq!(m, s, "{specs:?}");
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        (a, b) => panic!("{a:?} / {b:?}"),
    }
    // The in-memory path gives the same statistics (to rounding of the summation order).
    if let Ok(data) = Dataset::read(path) {
        if let Ok(mem) = kpi_moments_many(&data, &requests, group_by, unit, policy) {
            let m = kpi_moments_scan_many_with(path, &requests, group_by, unit, policy, reader)
                .unwrap();
            for (a, b) in mem.iter().zip(&m) {
                assert_eq!(a.groups.len(), b.groups.len());
                for (key, x) in &a.groups {
                    let y = &b.groups[key];
                    assert_eq!(x.n(), y.n());
                    for i in 0..x.names().len() {
                        let close = |u: f64, v: f64| (u - v).abs() <= 1e-11 * u.abs().max(1.0);
                        assert!(close(x.sum(i), y.sum(i)), "{key:?} {i}");
                        for j in 0..=i {
                            assert!(close(x.sum_product(i, j), y.sum_product(i, j)));
                        }
                    }
                }
            }
        }
    }
}

/// Two metrics and a covariate (the benchmark's request), and every KPI kind at once, from
/// Parquet (direct reader and streaming engine) and CSV: one pass equals one scan per KPI.
#[test]
fn one_pass_for_many_kpis_equals_one_scan_per_kpi() {
    let csv = data_path("hillstrom.csv");
    let d = Dataset::read(&csv).unwrap();
    let mut df = d.frame().clone();
    let pq = write_parquet(&mut df, "hillstrom-many.parquet", 5_000);
    let specs: Vec<(&str, Vec<&str>)> = vec![
        ("spend=mean(spend)", vec!["history"]),
        ("r=ratio(spend, history)", vec![]),
        ("visit=proportion(visit)", vec!["history", "recency"]),
        ("t=topbox(recency, 6)", vec![]),
        ("c=ratio(spend, count)", vec!["mens"]),
        (
            "w=composite(0.5*spend + 2*visit - conversion)",
            vec!["newbie"],
        ),
    ];
    for reader in [ScanReader::Auto, ScanReader::Streaming] {
        for group_by in [vec!["segment"], vec!["segment", "channel"], vec![]] {
            assert_many_equals_singles(&pq, &specs, &group_by, None, MissingPolicy::Error, reader);
        }
    }
    assert_many_equals_singles(
        &csv,
        &specs,
        &["segment"],
        None,
        MissingPolicy::Error,
        ScanReader::Auto,
    );
    // With an analysis unit (streaming engine) on event rows.
    let contacts = data_path("contact-centre/staggered_contacts.csv");
    let specs: Vec<(&str, Vec<&str>)> = vec![
        ("aht=ratio(handle_seconds, count)", vec![]),
        ("h=mean(handle_seconds)", vec![]),
    ];
    assert_many_equals_singles(
        &contacts,
        &specs,
        &["site"],
        Some("agent"),
        MissingPolicy::Error,
        ScanReader::Auto,
    );
}

/// Each KPI keeps its own rows: a value missing for one KPI drops the row for that KPI only;
/// a failing request gives the error the single call gives, after the requests before it.
#[test]
fn many_kpis_keep_their_own_rows_and_errors() {
    let mut df = df!(
        "arm" => ["A", "B", "A", "B", "A", "B", "A"],
        "y" => [Some(1.0), Some(2.0), None, Some(4.0), Some(5.0), Some(6.0), Some(7.0)],
        "z" => [Some(1.0), None, Some(0.0), Some(1.0), Some(1.0), Some(0.0), Some(1.0)],
        "x" => [Some(0.5), Some(1.5), Some(2.5), None, Some(4.5), Some(5.5), Some(6.5)],
        "bad" => [1.0, 0.0, 3.0, 1.0, 0.0, 1.0, 1.0],
        // A numeric column stored as text sends its request to the streaming engine.
        "txt" => ["1", "2", "3", "4", "5", "6", "7"],
    )
    .unwrap();
    let p = write_parquet(&mut df, "own-rows.parquet", 3);
    let y: Kpi = "y=mean(y)".parse().unwrap();
    let z: Kpi = "z=proportion(z)".parse().unwrap();
    let t: Kpi = "t=mean(txt)".parse().unwrap();
    let bad: Kpi = "b=proportion(bad)".parse().unwrap();
    let requests = [
        KpiRequest {
            kpi: &y,
            covariates: &["x"],
        },
        KpiRequest {
            kpi: &z,
            covariates: &[],
        },
        KpiRequest {
            kpi: &t,
            covariates: &["y"],
        },
    ];
    let many = kpi_moments_scan_many(&p, &requests, &["arm"], None, MissingPolicy::Drop).unwrap();
    assert_eq!(many[0].dropped_rows, 2);
    assert_eq!(many[1].dropped_rows, 1);
    assert_eq!(many[2].dropped_rows, 1);
    for (r, m) in requests.iter().zip(&many) {
        let single =
            kpi_moments_scan(&p, r.kpi, &["arm"], None, r.covariates, MissingPolicy::Drop).unwrap();
        assert_eq!(&single, m);
    }
    let specs: Vec<(&str, Vec<&str>)> = vec![
        ("y=mean(y)", vec!["x"]),
        ("b=proportion(bad)", vec![]),
        ("n=mean(nope)", vec![]),
    ];
    for policy in [MissingPolicy::Error, MissingPolicy::Drop] {
        assert_many_equals_singles(&p, &specs, &["arm"], None, policy, ScanReader::Auto);
    }
    // The out-of-range proportion (request 2) is reported although request 3 names a column
    // that does not exist: the single calls, in order, would stop at request 2.
    let e = kpi_moments_scan_many(
        &p,
        &[
            KpiRequest {
                kpi: &y,
                covariates: &[],
            },
            KpiRequest {
                kpi: &bad,
                covariates: &[],
            },
            KpiRequest {
                kpi: &"n=mean(nope)".parse().unwrap(),
                covariates: &[],
            },
        ],
        &["arm"],
        None,
        MissingPolicy::Drop,
    )
    .unwrap_err();
    assert!(matches!(e, DataError::OutOfRange { row: 2, .. }), "{e}");
}

//! The streaming file path gives the same sufficient statistics and the same errors as the
//! in-memory path.

use causalkit_data::*;
use std::path::PathBuf;

fn data_path(p: &str) -> PathBuf {
    PathBuf::from(format!("{}/../../datasets/{p}", env!("CARGO_MANIFEST_DIR")))
}

fn tmp(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("causalkit-scan-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    p
}

fn assert_same(a: &GroupedMoments, b: &GroupedMoments) {
    assert_eq!(a.groups.len(), b.groups.len());
    assert_eq!(a.dropped_rows, b.dropped_rows);
    for (key, m) in &a.groups {
        let o = b
            .groups
            .get(key)
            .unwrap_or_else(|| panic!("group {key:?} missing"));
        assert_eq!(m.n(), o.n(), "{key:?}");
        let p = m.names().len();
        for i in 0..p {
            let close = |x: f64, y: f64| (x - y).abs() <= 1e-11 * x.abs().max(1.0);
            assert!(
                close(m.sum(i), o.sum(i)),
                "{key:?} sum {i}: {} vs {}",
                m.sum(i),
                o.sum(i)
            );
            for j in 0..=i {
                assert!(
                    close(m.sum_product(i, j), o.sum_product(i, j)),
                    "{key:?} cross {i},{j}"
                );
            }
        }
    }
}

/// (file, KPI, group columns, unit, covariates, missing policy)
type Case = (
    &'static str,
    &'static str,
    Vec<&'static str>,
    Option<&'static str>,
    Vec<&'static str>,
    MissingPolicy,
);

#[test]
fn streaming_scan_matches_in_memory_path() {
    let cases: Vec<Case> = vec![
        (
            "hillstrom.csv",
            "spend=mean(spend)",
            vec!["segment"],
            None,
            vec!["history"],
            MissingPolicy::Error,
        ),
        (
            "hillstrom.csv",
            "visit=proportion(visit)",
            vec!["segment", "channel"],
            None,
            vec![],
            MissingPolicy::Error,
        ),
        (
            "contact-centre/staggered_contacts.csv",
            "aht=ratio(handle_seconds, count)",
            vec!["site"],
            Some("agent"),
            vec!["pre_handle_seconds"],
            MissingPolicy::Error,
        ),
        (
            "contact-centre/ab_contacts.csv",
            "csat=mean(csat)",
            vec!["arm"],
            None,
            vec![],
            MissingPolicy::Drop,
        ),
        (
            "contact-centre/ab_contacts.csv",
            "top=topbox(csat, 4)",
            vec!["arm"],
            Some("contact_id"),
            vec![],
            MissingPolicy::Drop,
        ),
        (
            "contact-centre/ab_contacts.csv",
            "r=composite(0.01*handle_seconds + 2*fcr - repeat_contact)",
            vec![],
            None,
            vec![],
            MissingPolicy::Error,
        ),
    ];
    for (file, spec, groups, unit, covs, policy) in cases {
        let k: Kpi = spec.parse().unwrap();
        let path = data_path(file);
        let eager = kpi_moments(
            &Dataset::read(&path).unwrap(),
            &k,
            &groups,
            unit,
            &covs,
            policy,
        )
        .unwrap();
        let lazy = kpi_moments_scan(&path, &k, &groups, unit, &covs, policy).unwrap();
        assert_same(&eager, &lazy);
    }
}

#[test]
fn streaming_scan_reads_parquet() {
    use polars::prelude::*;
    let d = Dataset::read(&data_path("hillstrom.csv")).unwrap();
    let mut df = d.frame().clone();
    let path = std::env::temp_dir().join(format!(
        "causalkit-hillstrom-{}.parquet",
        std::process::id()
    ));
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut df)
        .unwrap();
    let k: Kpi = "spend=mean(spend)".parse().unwrap();
    let a = kpi_moments(&d, &k, &["segment"], None, &[], MissingPolicy::Error).unwrap();
    let b = kpi_moments_scan(&path, &k, &["segment"], None, &[], MissingPolicy::Error).unwrap();
    assert_same(&a, &b);
}

#[test]
fn streaming_scan_reports_bad_input_like_the_in_memory_path() {
    let k: Kpi = "y=mean(y)".parse().unwrap();
    let p = tmp("nonnum.csv", "arm,y\nA,1\nA,2\nB,x7\nB,4\n");
    match kpi_moments_scan(&p, &k, &["arm"], None, &[], MissingPolicy::Error).unwrap_err() {
        DataError::NonNumeric { column, row, value } => {
            assert_eq!((column.as_str(), row, value.as_str()), ("y", 2, "x7"))
        }
        e => panic!("{e}"),
    }
    let p = tmp("missing.csv", "arm,y\nA,1\nA,\nB,3\nB,\n");
    match kpi_moments_scan(&p, &k, &["arm"], None, &[], MissingPolicy::Error).unwrap_err() {
        DataError::MissingValues {
            column,
            count,
            first_row,
        } => assert_eq!((column.as_str(), count, first_row), ("y", 2, 1)),
        e => panic!("{e}"),
    }
    let dropped = kpi_moments_scan(&p, &k, &["arm"], None, &[], MissingPolicy::Drop).unwrap();
    assert_eq!(dropped.dropped_rows, 2);
    let p = tmp("prop.csv", "arm,y\nA,1\nA,0\nB,3\nB,1\n");
    let prop: Kpi = "y=proportion(y)".parse().unwrap();
    match kpi_moments_scan(&p, &prop, &["arm"], None, &[], MissingPolicy::Error).unwrap_err() {
        DataError::OutOfRange {
            column, row, value, ..
        } => assert_eq!((column.as_str(), row, value), ("y", 2, 3.0)),
        e => panic!("{e}"),
    }
    assert!(matches!(
        kpi_moments_scan(&p, &k, &["segment"], None, &[], MissingPolicy::Error),
        Err(DataError::MissingColumn { .. })
    ));
    // A unit in two arms: both paths name the unit, both groups and the rows where the unit
    // first appears in each.
    let p = tmp("units.csv", "agent,arm,y\na0,A,5\na1,B,1\na1,B,3\na1,A,2\n");
    let fields = |e: DataError| match e {
        DataError::UnitInSeveralGroups {
            unit,
            first_group,
            first_row,
            second_group,
            second_row,
            ..
        } => (unit, first_group, first_row, second_group, second_row),
        e => panic!("{e}"),
    };
    let scanned = fields(
        kpi_moments_scan(&p, &k, &["arm"], Some("agent"), &[], MissingPolicy::Error).unwrap_err(),
    );
    let data = Dataset::read(&p).unwrap();
    let in_memory = fields(
        kpi_moments(
            &data,
            &k,
            &["arm"],
            Some("agent"),
            &[],
            MissingPolicy::Error,
        )
        .unwrap_err(),
    );
    assert_eq!(scanned, ("a1".into(), "B".into(), 1, "A".into(), 3));
    assert_eq!(scanned, in_memory);
    // Proportions out of range only count among the rows kept: a missing row is dropped first.
    let p = tmp("prop_drop.csv", "arm,y,x\nA,1,\nA,0,1\nB,1,2\nB,0,3\n");
    let m = kpi_moments_scan(&p, &prop, &["arm"], None, &["x"], MissingPolicy::Drop).unwrap();
    assert_eq!(m.dropped_rows, 1);
    assert_eq!(m.groups[&vec!["A".to_string()]].n(), 1);
}

/// Writes `file` (a CSV under datasets/) as Parquet in row groups of `rows_per_group` rows.
fn as_parquet(file: &str, rows_per_group: usize) -> (Dataset, PathBuf) {
    use polars::prelude::*;
    let d = Dataset::read(&data_path(file)).unwrap();
    let mut df = d.frame().clone();
    let path = std::env::temp_dir().join(format!(
        "causalkit-scan-{}-{}-{rows_per_group}.parquet",
        std::process::id(),
        file.replace('/', "_")
    ));
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .with_row_group_size(Some(rows_per_group))
        .finish(&mut df)
        .unwrap();
    (d, path)
}

/// The direct Parquet reader (row groups decoded in parallel, no nulls in these columns) gives
/// the in-memory path's statistics for every KPI kind, text and integer group keys, several
/// row groups and covariates; and the streaming engine on the same file agrees.
#[test]
fn direct_parquet_reader_matches_in_memory_path() {
    let (d, path) = as_parquet("hillstrom.csv", 5_000);
    let cases: Vec<(&str, Vec<&str>, Vec<&str>)> = vec![
        (
            "spend=mean(spend)",
            vec!["segment"],
            vec!["history", "recency"],
        ),
        (
            "visit=proportion(visit)",
            vec!["segment", "channel"],
            vec![],
        ),
        ("r=ratio(spend, history)", vec!["segment"], vec!["recency"]),
        ("c=ratio(spend, count)", vec!["newbie"], vec![]),
        ("t=topbox(recency, 6)", vec!["zip_code", "mens"], vec![]),
        ("n=nps(recency)", vec!["segment"], vec!["history"]),
        (
            "w=composite(0.5*spend + 2*visit - conversion)",
            vec![],
            vec![],
        ),
        (
            "m=mean(history)",
            vec!["segment"],
            vec!["spend", "visit", "recency", "mens"],
        ),
    ];
    for (spec, groups, covs) in cases {
        let k: Kpi = spec.parse().unwrap();
        let eager = kpi_moments(&d, &k, &groups, None, &covs, MissingPolicy::Error);
        let direct = kpi_moments_scan(&path, &k, &groups, None, &covs, MissingPolicy::Error);
        let streamed = kpi_moments_scan_with(
            &path,
            &k,
            &groups,
            None,
            &covs,
            MissingPolicy::Error,
            ScanReader::Streaming,
        );
        match (eager, direct, streamed) {
            (Ok(e), Ok(a), Ok(s)) => {
                assert_same(&e, &a);
                assert_same(&s, &a);
            }
            // NPS on recency (1..12) is out of range: all three name the same row and value.
            (Err(e), Err(a), Err(s)) => {
                assert_eq!(e.to_string(), a.to_string(), "{spec}");
                assert_eq!(s.to_string(), a.to_string(), "{spec}");
            }
            (e, a, s) => panic!("{spec}: {e:?} / {a:?} / {s:?}"),
        }
    }
}

/// The sums do not depend on the number of threads: row groups are merged in file order.
#[test]
fn direct_parquet_reader_is_identical_across_thread_counts() {
    let (_, path) = as_parquet("hillstrom.csv", 3_000);
    let k: Kpi = "r=ratio(spend, history)".parse().unwrap();
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                kpi_moments_scan(
                    &path,
                    &k,
                    &["segment"],
                    None,
                    &["recency"],
                    MissingPolicy::Error,
                )
                .unwrap()
            })
    };
    let one = run(1);
    for threads in [2, 3, 8] {
        // Exact equality, bit for bit.
        assert_eq!(one, run(threads), "{threads} threads");
    }
}

/// With missing values (csat is missing for contacts without a survey) the direct reader
/// drops the same rows as the in-memory path, and under `MissingPolicy::Error` reports the
/// same column, count and first row; a missing group key is handled the same way.
#[test]
fn direct_parquet_reader_handles_missing_values_like_the_in_memory_path() {
    let (d, path) = as_parquet("contact-centre/ab_contacts.csv", 7_000);
    let k: Kpi = "csat=mean(csat)".parse().unwrap();
    let eager = kpi_moments(
        &d,
        &k,
        &["arm"],
        None,
        &["handle_seconds"],
        MissingPolicy::Drop,
    )
    .unwrap();
    assert!(eager.dropped_rows > 0, "the column has missing values");
    let direct = kpi_moments_scan(
        &path,
        &k,
        &["arm"],
        None,
        &["handle_seconds"],
        MissingPolicy::Drop,
    )
    .unwrap();
    assert_same(&eager, &direct);
    let e = kpi_moments(&d, &k, &["arm"], None, &[], MissingPolicy::Error).unwrap_err();
    let a = kpi_moments_scan(&path, &k, &["arm"], None, &[], MissingPolicy::Error).unwrap_err();
    assert!(matches!(a, DataError::MissingValues { .. }), "{a}");
    assert_eq!(e.to_string(), a.to_string());

    // Missing values in a text group key and a numeric column, and an out-of-range
    // proportion among the kept rows, in a small file of several row groups.
    use polars::prelude::*;
    let mut df = df!(
        "arm" => [Some("A"), Some("B"), None, Some("A"), Some("B"), Some("A"), Some("B")],
        "y" => [Some(1.0), Some(0.0), Some(1.0), None, Some(1.0), Some(0.0), Some(1.0)],
        "z" => [1.0, 0.0, 1.0, 1.0, 1.0, 3.0, 1.0],
    )
    .unwrap();
    let p = std::env::temp_dir().join(format!(
        "causalkit-scan-nulls-{}.parquet",
        std::process::id()
    ));
    ParquetWriter::new(std::fs::File::create(&p).unwrap())
        .with_row_group_size(Some(2))
        .finish(&mut df)
        .unwrap();
    let data = Dataset::read(&p).unwrap();
    let y: Kpi = "y=proportion(y)".parse().unwrap();
    for policy in [MissingPolicy::Error, MissingPolicy::Drop] {
        let e = kpi_moments(&data, &y, &["arm"], None, &[], policy);
        let a = kpi_moments_scan(&p, &y, &["arm"], None, &[], policy);
        match (e, a) {
            (Ok(e), Ok(a)) => {
                assert_eq!(a.dropped_rows, 2);
                assert_same(&e, &a);
            }
            (Err(e), Err(a)) => assert_eq!(e.to_string(), a.to_string()),
            (e, a) => panic!("{e:?} / {a:?}"),
        }
    }
    match kpi_moments_scan(&p, &y, &["arm"], None, &[], MissingPolicy::Error).unwrap_err() {
        DataError::MissingValues {
            column,
            count,
            first_row,
        } => assert_eq!((column.as_str(), count, first_row), ("y", 1, 3)),
        e => panic!("{e}"),
    }
    let z: Kpi = "z=proportion(z)".parse().unwrap();
    match kpi_moments_scan(&p, &z, &["arm"], None, &["y"], MissingPolicy::Drop).unwrap_err() {
        DataError::OutOfRange {
            column, row, value, ..
        } => assert_eq!((column.as_str(), row, value), ("z", 5, 3.0)),
        e => panic!("{e}"),
    }
}

/// Integer group keys with a missing value, a boolean column as a covariate, and a `unit`
/// (which the direct reader does not take: the streaming engine runs instead) all give the
/// in-memory path's statistics from Parquet.
#[test]
fn parquet_scan_with_integer_keys_booleans_and_units_matches_in_memory_path() {
    use polars::prelude::*;
    let mut df = df!(
        "cell" => [Some(1i64), Some(2), None, Some(1), Some(2), Some(1), Some(2), Some(2)],
        "u" => ["a", "b", "c", "a", "b", "d", "e", "e"],
        "y" => [1.5, 2.0, 3.0, 4.25, 0.5, 6.0, 7.0, 8.0],
        "flag" => [true, false, true, true, false, false, true, true],
    )
    .unwrap();
    let p = std::env::temp_dir().join(format!(
        "causalkit-scan-keys-{}.parquet",
        std::process::id()
    ));
    ParquetWriter::new(std::fs::File::create(&p).unwrap())
        .with_row_group_size(Some(3))
        .finish(&mut df)
        .unwrap();
    let data = Dataset::read(&p).unwrap();
    let k: Kpi = "y=mean(y)".parse().unwrap();
    for unit in [None, Some("u")] {
        let e = kpi_moments(&data, &k, &["cell"], unit, &["flag"], MissingPolicy::Drop).unwrap();
        let a = kpi_moments_scan(&p, &k, &["cell"], unit, &["flag"], MissingPolicy::Drop).unwrap();
        assert_eq!(a.dropped_rows, 1);
        assert_eq!(a.groups.len(), 2);
        assert_same(&e, &a);
    }
}

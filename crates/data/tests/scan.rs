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

//! Data-layer behaviour on real and hand-made files: reading, typed errors for every bad
//! input the foundation names, KPI values, sufficient statistics and panels.

use causalkit_data::*;
use std::path::PathBuf;

fn tmp(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("causalkit-data-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    p
}

fn dataset(path: &str) -> Dataset {
    Dataset::read(&PathBuf::from(format!(
        "{}/../../datasets/{path}",
        env!("CARGO_MANIFEST_DIR")
    )))
    .unwrap()
}

#[test]
fn reads_mpdta_and_names_missing_columns() {
    let d = dataset("mpdta.csv");
    assert_eq!(d.height(), 2500);
    assert_eq!(
        d.column_names(),
        ["year", "countyreal", "lpop", "lemp", "first.treat", "treat"]
    );
    let e = d.numeric("employment").unwrap_err();
    match e {
        DataError::MissingColumn { column, available } => {
            assert_eq!(column, "employment");
            assert!(available.contains(&"lemp".to_string()));
        }
        other => panic!("{other}"),
    }
    assert!(e_to_string(d.numeric("employment").unwrap_err())
        .contains("available columns: year, countyreal"));
}

fn e_to_string(e: DataError) -> String {
    e.to_string()
}

#[test]
fn non_numeric_value_names_row_and_value() {
    let p = tmp("nonnum.csv", "y,x\n1,2\n2,abc\n3,4\n");
    let d = Dataset::read(&p).unwrap();
    match d.numeric("x").unwrap_err() {
        DataError::NonNumeric { column, row, value } => {
            assert_eq!((column.as_str(), row, value.as_str()), ("x", 1, "abc"))
        }
        other => panic!("{other}"),
    }
}

#[test]
fn missing_values_are_an_error_unless_dropped_and_the_count_is_reported() {
    let p = tmp("missing.csv", "arm,y\nA,1\nA,\nB,3\nB,5\nB,\n");
    let d = Dataset::read(&p).unwrap();
    let k: Kpi = "y=mean(y)".parse().unwrap();
    match kpi_moments(&d, &k, &["arm"], None, &[], MissingPolicy::Error).unwrap_err() {
        DataError::MissingValues {
            column,
            count,
            first_row,
        } => assert_eq!((column.as_str(), count, first_row), ("y", 2, 1)),
        other => panic!("{other}"),
    }
    let gm = kpi_moments(&d, &k, &["arm"], None, &[], MissingPolicy::Drop).unwrap();
    assert_eq!(gm.dropped_rows, 2);
    assert_eq!(gm.groups[&vec!["B".to_string()]].n(), 2);
    assert!((gm.groups[&vec!["B".to_string()]].mean(0).unwrap() - 4.0).abs() < 1e-15);
}

#[test]
fn out_of_range_values_are_named() {
    let p = tmp("range.csv", "fcr,score\n1,10\n0,3\n2,11\n");
    let d = Dataset::read(&p).unwrap();
    let e = "f=proportion(fcr)"
        .parse::<Kpi>()
        .unwrap()
        .row_values(&d, MissingPolicy::Error)
        .unwrap_err();
    assert!(
        matches!(e, DataError::OutOfRange { ref column, row: 2, .. } if column == "fcr"),
        "{e}"
    );
    let e = "n=nps(score)"
        .parse::<Kpi>()
        .unwrap()
        .row_values(&d, MissingPolicy::Error)
        .unwrap_err();
    assert!(matches!(e, DataError::OutOfRange { row: 2, .. }), "{e}");
}

#[test]
fn kpi_kinds_compute_what_they_say() {
    let p = tmp("kpis.csv", "score,csat,click,buy,secs,calls\n10,5,1,0,300,2\n9,4,1,1,100,1\n7,3,0,0,50,1\n3,1,1,0,150,2\n");
    let d = Dataset::read(&p).unwrap();
    let value = |spec: &str| {
        let k: Kpi = spec.parse().unwrap();
        let gm = kpi_moments(&d, &k, &[], None, &[], MissingPolicy::Error).unwrap();
        gm.groups[&Vec::<String>::new()].ratio(0, 1).unwrap().0
    };
    // NPS: 2 promoters, 1 detractor of 4 -> 0.25
    assert!((value("nps(score)") - 0.25).abs() < 1e-15);
    assert!((value("topbox(csat, 4)") - 0.5).abs() < 1e-15);
    assert!((value("mean(csat)") - 3.25).abs() < 1e-15);
    // AHT = 600 seconds / 6 calls
    assert!((value("ratio(secs, calls)") - 100.0).abs() < 1e-12);
    // composite 0.5*click + 2*buy: (0.5 + 2.5 + 0 + 0.5) / 4
    assert!((value("composite(0.5*click + 2*buy)") - 0.875).abs() < 1e-15);
}

#[test]
fn coarser_unit_sums_then_summarises_and_rejects_units_in_two_arms() {
    let p = tmp(
        "agents.csv",
        "agent,arm,secs\na1,A,100\na1,A,200\na2,A,300\na3,B,50\na3,B,70\n",
    );
    let d = Dataset::read(&p).unwrap();
    let k: Kpi = "aht=ratio(secs, count)".parse().unwrap();
    let gm = kpi_moments(&d, &k, &["arm"], Some("agent"), &[], MissingPolicy::Error).unwrap();
    let a = &gm.groups[&vec!["A".to_string()]];
    assert_eq!(a.n(), 2); // two agents
    assert!((a.ratio(0, 1).unwrap().0 - 200.0).abs() < 1e-12); // 600 s / 3 contacts
    let p = tmp("agents_bad.csv", "agent,arm,secs\na1,A,100\na1,B,200\n");
    let e = kpi_moments(
        &Dataset::read(&p).unwrap(),
        &k,
        &["arm"],
        Some("agent"),
        &[],
        MissingPolicy::Error,
    )
    .unwrap_err();
    assert!(
        matches!(e, DataError::UnitInSeveralGroups { ref unit, first_row: 0, second_row: 1, .. } if unit == "a1"),
        "{e}"
    );
}

#[test]
fn chunks_merge_to_the_whole_and_stats_rows_give_identical_moments() {
    let d = dataset("hillstrom.csv");
    let k: Kpi = "spend=mean(spend)".parse().unwrap();
    let whole = kpi_moments(
        &d,
        &k,
        &["segment"],
        None,
        &["history"],
        MissingPolicy::Error,
    )
    .unwrap();
    // chunk by chunk, merged
    let df = d.frame();
    let mut merged: Option<GroupedMoments> = None;
    for offset in (0..df.height()).step_by(10_000) {
        let chunk = Dataset::from_frame(df.slice(offset as i64, 10_000), "chunk");
        let part = kpi_moments(
            &chunk,
            &k,
            &["segment"],
            None,
            &["history"],
            MissingPolicy::Error,
        )
        .unwrap();
        match merged.as_mut() {
            None => merged = Some(part),
            Some(m) => {
                for (key, mo) in part.groups {
                    match m.groups.get_mut(&key) {
                        Some(x) => x.merge(&mo).unwrap(),
                        None => {
                            m.groups.insert(key, mo);
                        }
                    }
                }
            }
        }
    }
    let merged = merged.unwrap();
    for (key, m) in &whole.groups {
        let c = &merged.groups[key];
        assert_eq!(m.n(), c.n());
        for i in 0..3 {
            assert!((m.sum(i) - c.sum(i)).abs() <= 1e-9 * m.sum(i).abs().max(1.0));
            for j in 0..=i {
                assert!(
                    (m.sum_product(i, j) - c.sum_product(i, j)).abs()
                        <= 1e-9 * m.sum_product(i, j).abs().max(1.0)
                );
            }
        }
    }
    // the same statistics written as GrowthBook rows and read back
    let mut csv = String::from("segment,count,main_sum,main_sum_squares,covariate_sum,covariate_sum_squares,main_covariate_sum_product\n");
    for (key, m) in &whole.groups {
        csv += &format!(
            "{},{},{:?},{:?},{:?},{:?},{:?}\n",
            key[0],
            m.n(),
            m.sum(0),
            m.sum_product(0, 0),
            m.sum(2),
            m.sum_product(2, 2),
            m.sum_product(2, 0)
        );
    }
    let stats = moments_from_stats_rows(
        &Dataset::read(&tmp("stats.csv", &csv)).unwrap(),
        "spend",
        &["segment"],
    )
    .unwrap();
    // identical numbers (the covariate is called `covariate` in GrowthBook's layout)
    assert_eq!(stats.groups.len(), whole.groups.len());
    for (key, m) in &whole.groups {
        let s = &stats.groups[key];
        assert_eq!(s.n(), m.n());
        for i in 0..3 {
            assert_eq!(s.sum(i), m.sum(i));
            for j in 0..=i {
                assert_eq!(
                    s.sum_product(i, j),
                    m.sum_product(i, j),
                    "{key:?} ({i},{j})"
                );
            }
        }
    }
}

#[test]
fn duplicate_stats_rows_are_an_error() {
    let p = tmp(
        "dupstats.csv",
        "arm,count,main_sum,main_sum_squares\nA,10,5,5\nA,10,5,5\n",
    );
    let e = moments_from_stats_rows(&Dataset::read(&p).unwrap(), "m", &["arm"]).unwrap_err();
    assert!(
        matches!(
            e,
            DataError::DuplicateUnitPeriod {
                first_row: 0,
                second_row: 1,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn panels_report_duplicates_and_imbalance() {
    let p = tmp("dup.csv", "unit,t,y\na,1,1.0\na,2,2.0\nb,1,3.0\na,2,4.0\n");
    let e = Panel::from_rows(
        &Dataset::read(&p).unwrap(),
        "unit",
        "t",
        &["y"],
        MissingPolicy::Error,
    )
    .unwrap_err();
    match e {
        DataError::DuplicateUnitPeriod {
            unit,
            period,
            first_row,
            second_row,
        } => {
            assert_eq!(
                (unit.as_str(), period.as_str(), first_row, second_row),
                ("a", "2", 1, 3)
            )
        }
        other => panic!("{other}"),
    }
    let p = tmp("unbal.csv", "unit,t,y\na,1,1.0\na,2,2.0\nb,1,3.0\n");
    let panel = Panel::from_rows(
        &Dataset::read(&p).unwrap(),
        "unit",
        "t",
        &["y"],
        MissingPolicy::Error,
    )
    .unwrap();
    assert!(!panel.balance.is_balanced());
    assert_eq!(panel.balance.missing_cells, 1);
    assert!(panel.balance.describe().contains("1 of 4 cells missing"));
    let p = tmp("frac.csv", "unit,t,y\na,1.5,1.0\n");
    assert!(matches!(
        Panel::from_rows(
            &Dataset::read(&p).unwrap(),
            "unit",
            "t",
            &["y"],
            MissingPolicy::Error
        ),
        Err(DataError::OutOfRange { row: 0, .. })
    ));
    let mp = Panel::from_rows(
        &dataset("mpdta.csv"),
        "countyreal",
        "year",
        &["lemp"],
        MissingPolicy::Error,
    )
    .unwrap();
    assert!(mp.balance.is_balanced());
    assert_eq!((mp.balance.units, mp.balance.periods), (500, 5));
}

#[test]
fn event_rows_become_a_weighted_panel() {
    let p = tmp(
        "events.csv",
        "site,day,secs,fcr\ns1,1,100,1\ns1,1,300,0\ns1,2,200,1\ns2,1,50,1\n",
    );
    let d = Dataset::read(&p).unwrap();
    let kpis: Vec<Kpi> = vec![
        "aht=ratio(secs, count)".parse().unwrap(),
        "fcr=proportion(fcr)".parse().unwrap(),
    ];
    let panel = Panel::from_events(&d, "site", "day", &kpis, MissingPolicy::Error).unwrap();
    assert_eq!(panel.unit, ["s1", "s1", "s2"]);
    assert_eq!(panel.period, [1, 2, 1]);
    assert_eq!(panel.values["aht"], [200.0, 200.0, 50.0]);
    assert_eq!(panel.weights["aht"], [2.0, 1.0, 1.0]);
    assert_eq!(panel.values["fcr"], [0.5, 1.0, 1.0]);
    assert_eq!(panel.balance.missing_cells, 1);
}

#[test]
fn parquet_reads_the_same_as_csv() {
    use polars::prelude::*;
    let d = dataset("mpdta.csv");
    let mut df = d.frame().clone();
    let path = std::env::temp_dir().join(format!("causalkit-mpdta-{}.parquet", std::process::id()));
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut df)
        .unwrap();
    let back = Dataset::read(&path).unwrap();
    assert_eq!(back.numeric("lemp").unwrap(), d.numeric("lemp").unwrap());
    assert!(matches!(
        Dataset::read(&PathBuf::from("x.xlsx")),
        Err(DataError::Read { .. })
    ));
    let p = tmp("a.txt", "x\n1\n");
    assert!(matches!(
        Dataset::read(&p),
        Err(DataError::UnsupportedFormat { .. })
    ));
}

#[test]
fn describe_summarises_columns_and_kpis_by_group() {
    let d = dataset("hillstrom.csv");
    let kpis = vec!["visit=proportion(visit)".parse().unwrap()];
    let desc = describe(&d, &kpis, Some("segment"), None, MissingPolicy::Error).unwrap();
    assert_eq!(desc.rows, 64000);
    let spend = desc.columns.iter().find(|c| c.name == "spend").unwrap();
    assert_eq!(spend.missing, 0);
    assert!(spend.mean.unwrap() > 0.0);
    let seg = desc.columns.iter().find(|c| c.name == "segment").unwrap();
    assert_eq!(seg.distinct, 3);
    assert!(seg.mean.is_none());
    assert_eq!(desc.kpis.len(), 3);
    let total: u64 = desc.kpis.iter().map(|k| k.n).sum();
    assert_eq!(total, 64000);
}

#[test]
fn column_roles_are_validated_with_named_errors() {
    let d = dataset("contact-centre/staggered_contacts.csv");
    let roles = ColumnRoles {
        unit: Some("site".into()),
        time: Some("day".into()),
        arm: Some("model_live".into()),
        kpis: vec![
            "aht=ratio(handle_seconds, count)".parse().unwrap(),
            "csat=mean(csat)".parse().unwrap(),
        ],
        covariates: vec!["pre_handle_seconds".into()],
        cluster: vec!["site".into()],
        weight: None,
    };
    let rep = roles.validate(&d).unwrap();
    assert_eq!(rep.arms.len(), 2);
    assert!(rep.missing["csat"] > 0);
    // event-level rows: several contacts per site-day, so no panel balance is claimed
    assert!(rep.balance.is_none());

    let p = tmp(
        "roles.csv",
        "unit,t,arm,x,c,w\na,1,A,1.0,5,1\na,2,A,2.0,5,2\nb,1,A,3.0,5,0\n",
    );
    let d = Dataset::read(&p).unwrap();
    let one_arm = ColumnRoles {
        arm: Some("arm".into()),
        ..Default::default()
    };
    assert!(
        matches!(one_arm.validate(&d), Err(DataError::ConstantColumn { ref column, .. }) if column == "arm")
    );
    let constant = ColumnRoles {
        covariates: vec!["c".into()],
        ..Default::default()
    };
    assert!(
        matches!(constant.validate(&d), Err(DataError::ConstantColumn { ref column, .. }) if column == "c")
    );
    let weight = ColumnRoles {
        weight: Some("w".into()),
        ..Default::default()
    };
    assert!(matches!(
        weight.validate(&d),
        Err(DataError::OutOfRange { row: 2, .. })
    ));
    let absent = ColumnRoles {
        cluster: vec!["region".into()],
        ..Default::default()
    };
    assert!(matches!(
        absent.validate(&d),
        Err(DataError::MissingColumn { .. })
    ));
    let panel = ColumnRoles {
        unit: Some("unit".into()),
        time: Some("t".into()),
        ..Default::default()
    };
    assert_eq!(
        panel.validate(&d).unwrap().balance.unwrap(),
        "unbalanced panel: 2 units x 2 periods, 1 of 4 cells missing"
    );
}

#[test]
fn empty_files_and_groups_are_errors() {
    let p = tmp("empty.csv", "arm,y\n");
    let d = Dataset::read(&p).unwrap();
    let k: Kpi = "y=mean(y)".parse().unwrap();
    assert!(matches!(
        kpi_moments(&d, &k, &["arm"], None, &[], MissingPolicy::Error),
        Err(DataError::EmptyGroup(_))
    ));
    let p = tmp("allmissing.csv", "arm,y\nA,\nB,\n");
    let d = Dataset::read(&p).unwrap();
    assert!(matches!(
        kpi_moments(&d, &k, &["arm"], None, &[], MissingPolicy::Drop),
        Err(DataError::EmptyGroup(_))
    ));
}

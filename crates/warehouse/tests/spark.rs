//! The aggregation on a real Spark cluster (through Spark Connect) equals the in-process
//! statistics.
//!
//! Run by `.ci/spark.sh`, which starts a Spark 4 standalone cluster on 127.0.0.1 (a master,
//! two workers with one core each, the Spark Connect server) and sets
//! `CAUSALKIT_SPARK_URL`; compiled only with `--features spark`. Simulated contact-centre
//! rows (seeded, the same generator as the PostgreSQL test) are written by polars as several
//! Parquet files in a temporary directory, which Spark reads as ``parquet.`/abs/dir` ``, split
//! into many partitions so both executors sum a share. The statistics Spark returns, read by
//! the `--stats` reader and fed to the A/B review, must equal the in-process path on the same
//! rows to 1e-9 relative, for the scenarios every engine runs (`tests/common`): CUPED on every
//! KPI transform with a segment, GrowthBook's ratio CUPED with a segment and `--unit`
//! aggregation, and `--unit` with dropped missing values. The bad-input cases (nothing
//! listening, a missing table or path, a missing column, a text column as a metric, values
//! out of range, a unit in two arms, a timeout) are typed errors naming engine, table and
//! column. The DiD / synthetic-control panel (unit × period cells of event rows, dated weekly
//! periods with a cohort and treated column, and blocked day indices with a ratio KPI and
//! dropped rows) built by Spark equals the in-process panel cell by cell to 1e-9 relative,
//! and so do TWFE and synthetic DiD on it (`tests/common/panel.rs`, shared with the
//! PostgreSQL test). The unit moments of several KPIs for their effects' joint covariance
//! (`run_moments`) equal the in-process reference (`tests/common/moments.rs`, shared with
//! the PostgreSQL test).
#![cfg(feature = "spark")]

mod common;

use causalkit_data::Kpi;
use causalkit_warehouse::spark::SparkEngine;
use causalkit_warehouse::Engine;
use causalkit_warehouse::{
    run_moments, run_stats, Metric, MetricKind, StatsRequest, TableName, WarehouseError,
};
use common::moments;
use common::panel::{blocked_ratio_panel, dated_weekly_panel};
use common::{check, metric_of, scenarios, simulate};
use polars::prelude::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn url() -> String {
    std::env::var("CAUSALKIT_SPARK_URL").unwrap_or_else(|_| "sc://127.0.0.1:15002".into())
}

fn connect() -> SparkEngine {
    SparkEngine::connect(&url())
        .unwrap_or_else(|e| panic!("{e} (start the cluster with .ci/spark.sh)"))
        .with_timeout(Duration::from_secs(300))
}

/// A fresh directory under the system temp dir (its path has no dot, so it can be a
/// ``parquet.`/path` `` table name part).
fn tmp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("causalkit_wh_spark_{tag}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes the CSV rows as `files` Parquet files (with small row groups) in `dir`, as polars
/// types them (strings, 64-bit integers, doubles, nulls for the empty `survey` fields).
fn write_parquet(csv: &Path, dir: &Path, files: usize) -> usize {
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(csv.to_path_buf()))
        .unwrap()
        .finish()
        .unwrap();
    let n = df.height();
    let per = n.div_ceil(files);
    for f in 0..files {
        let mut part = df.slice((f * per) as i64, per);
        let file = std::fs::File::create(dir.join(format!("part-{f:03}.parquet"))).unwrap();
        ParquetWriter::new(file)
            .with_row_group_size(Some(64))
            .finish(&mut part)
            .unwrap();
    }
    n
}

/// ``parquet.`/abs/dir` ``: Spark reads the directory's files as one table.
fn parquet_table(dir: &Path) -> TableName {
    TableName(vec!["parquet".into(), dir.display().to_string()])
}

/// Simulated rows as CSV (for the in-process path) and as Parquet files (for Spark).
fn data(seed: u64, tag: &str) -> (PathBuf, TableName) {
    let tmp = tmp_dir(tag);
    let csv = simulate(seed);
    let rows = tmp.join("contacts.csv");
    std::fs::write(&rows, &csv).unwrap();
    let dir = tmp.join("contacts");
    std::fs::create_dir_all(&dir).unwrap();
    let n = write_parquet(&rows, &dir, 8);
    assert_eq!(n, csv.lines().count() - 1);
    (rows, parquet_table(&dir))
}

/// The panel's event rows (`common::panel::simulate`) as Parquet files Spark reads in
/// several partitions; returns the CSV (for the in-process path) and the table.
fn panel_data(seed: u64, tag: &str) -> (String, TableName) {
    let tmp = tmp_dir(tag);
    let csv = common::panel::simulate(seed);
    let rows = tmp.join("events.csv");
    std::fs::write(&rows, &csv).unwrap();
    let dir = tmp.join("events");
    std::fs::create_dir_all(&dir).unwrap();
    assert_eq!(write_parquet(&rows, &dir, 6), csv.lines().count() - 1);
    (csv, parquet_table(&dir))
}

/// The unit × period panel built by Spark equals the in-process panel (dated weekly periods
/// with cohort and treated columns; blocked day indices with a ratio KPI and dropped rows),
/// and TWFE and synthetic DiD on the two agree to 1e-9 relative.
#[test]
fn spark_did_panel_equals_in_process() {
    let mut spark = connect();
    let (csv, table) = panel_data(7, "panel_dated");
    dated_weekly_panel(&mut spark, &table, &csv);
    let (csv, table) = panel_data(11, "panel_blocked");
    blocked_ratio_panel(&mut spark, &table, &csv);
}

/// The unit moments of several KPIs (`run_moments`) computed by Spark over Parquet files in
/// several partitions equal the in-process reference (`tests/common/moments.rs`: every
/// number of `UnitMoments` and the joint covariance of the KPI effects to 1e-9 relative of
/// its scale), with and without a unit, with 0, 1 and 2 covariates (the second named
/// `pre"2; --` through a view), missing values dropped per KPI; without dropping, a missing
/// value is an error naming the KPI and its columns.
#[test]
fn spark_unit_moments_equal_in_process() {
    let mut spark = connect();
    let kpis = moments::kpis();
    let rows = moments::simulate(15, true);
    let tmp = tmp_dir("moments");
    let csv = tmp.join("rows.csv");
    std::fs::write(&csv, rows.csv()).unwrap();
    let dir = tmp.join("rows");
    std::fs::create_dir_all(&dir).unwrap();
    assert_eq!(write_parquet(&csv, &dir, 8), rows.len());
    spark
        .execute(&format!(
            "CREATE OR REPLACE TEMPORARY VIEW moment_rows AS SELECT arm, agent, spend, revenue, \
             orders, fcr, pre1, pre2 AS `pre\"2; --` FROM parquet.`{}`",
            dir.display()
        ))
        .unwrap();
    let table = TableName(vec!["moment_rows".into()]);
    for unit in [true, false] {
        for covariates in 0..=2 {
            let req = moments::request(&table, &kpis, unit, covariates, true);
            moments::check(&mut spark, &req, &rows, &kpis);
        }
    }
    let req = moments::request(&table, &kpis, true, 1, false);
    let e = run_moments(&mut spark, &req).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::MissingValues { metric, columns, .. }
            if metric == "spend" && columns == "`arm`, `agent`, `spend`, `pre1`"),
        "{e}"
    );
}

#[test]
fn spark_statistics_equal_in_process() {
    let mut spark = connect();
    eprintln!("Spark {} at {}", spark.version().unwrap(), spark.address());
    let (rows, table) = data(15, "eq");
    // Spark sees every row, in several partitions.
    let t = spark
        .query(
            &table,
            &format!(
                "SELECT COUNT(*) AS n, COUNT(DISTINCT p) AS parts \
                 FROM (SELECT spark_partition_id() AS p FROM parquet.`{}`) AS s",
                table.0[1]
            ),
        )
        .unwrap();
    let csv_rows = std::fs::read_to_string(&rows).unwrap().lines().count() - 1;
    assert_eq!(
        t.rows[0][0],
        causalkit_warehouse::Cell::Number(csv_rows as f64)
    );
    match t.rows[0][1] {
        causalkit_warehouse::Cell::Number(p) => {
            assert!(p >= 4.0, "{p} partitions");
            eprintln!("{csv_rows} rows in {p} partitions");
        }
        ref c => panic!("{c:?}"),
    }
    let tmp = rows.parent().unwrap().to_path_buf();
    for s in &scenarios() {
        check(&mut spark, &table, &rows, &tmp, s);
    }
    // The same through a temporary view (a table name rather than a path).
    spark
        .execute(&format!(
            "CREATE OR REPLACE TEMPORARY VIEW contacts USING parquet OPTIONS (path '{}')",
            table.0[1]
        ))
        .unwrap();
    let view = TableName(vec!["contacts".into()]);
    check(&mut spark, &view, &rows, &tmp, &scenarios()[1]);
}

fn request(table: &TableName, specs: &[&str]) -> StatsRequest {
    StatsRequest::new(
        table.clone(),
        "arm",
        specs
            .iter()
            .map(|s| metric_of(&s.parse::<Kpi>().unwrap()))
            .collect(),
    )
}

/// Requests Spark refuses, each a typed error naming engine, table and column.
#[test]
fn spark_errors_name_engine_table_and_column() {
    let mut spark = connect();
    let (_, table) = data(16, "err");
    let path = table.0[1].clone();
    let engine = spark.address();

    // A table that does not exist, and a Parquet path that does not exist.
    let missing = TableName(vec!["no_such_table".into()]);
    let e = run_stats(&mut spark, &request(&missing, &["x=mean(csat)"])).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::MissingTable { table, engine: en } if table == "no_such_table" && *en == engine),
        "{e}"
    );
    assert!(!e.is_engine_failure());
    let nowhere = parquet_table(Path::new("/nonexistent/causalkit"));
    let e = run_stats(&mut spark, &request(&nowhere, &["x=mean(csat)"])).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::MissingTable { table, .. } if table.contains("/nonexistent/causalkit")),
        "{e}"
    );

    // A missing column: found by the schema check, with the table's columns listed...
    let e = run_stats(&mut spark, &request(&table, &["x=mean(no_such_col)"])).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::MissingColumn { column, table: t, available, .. }
            if column == "no_such_col" && t.contains(&path) && available.contains("handle_seconds")),
        "{e}"
    );
    // ...and by Spark's analyser when a statement names it.
    let src = format!("parquet.`{path}`");
    let e = spark
        .query(&table, &format!("SELECT SUM(no_such_col) FROM {src}"))
        .unwrap_err();
    assert!(
        matches!(&e, WarehouseError::MissingColumn { column, .. } if column == "no_such_col"),
        "{e}"
    );

    // A text column as a metric: found by the schema check...
    let e = run_stats(&mut spark, &request(&table, &["x=mean(tier)"])).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::TypeMismatch { column, found, .. } if column == "tier" && found == "text"),
        "{e}"
    );
    assert!(!e.is_engine_failure());
    // ...and by Spark when a statement casts its values (ANSI mode).
    let e = spark
        .query(
            &table,
            &format!("SELECT SUM(CAST(tier AS DOUBLE)) FROM {src}"),
        )
        .unwrap_err();
    assert!(matches!(&e, WarehouseError::TypeMismatch { .. }), "{e}");

    // Missing values without dropping: an error naming the metric and its columns.
    let e = run_stats(&mut spark, &request(&table, &["s=mean(survey)"])).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::MissingValues { metric, columns, rows, .. } if metric == "s" && columns.contains("`survey`") && *rows > 0),
        "{e}"
    );

    // A proportion column holding 2, and a unit in two arms (views over the files).
    spark
        .execute(&format!(
            "CREATE OR REPLACE TEMPORARY VIEW contacts_bad AS SELECT \
             CASE WHEN agent = 4 AND orders = 1 THEN 'treatment' \
                  WHEN agent = 4 AND orders = 2 THEN 'control' ELSE arm END AS arm, \
             agent, handle_seconds, CASE WHEN agent = 3 THEN 2 ELSE fcr END AS fcr FROM {src}"
        ))
        .unwrap();
    let bad = TableName(vec!["contacts_bad".into()]);
    let e = run_stats(&mut spark, &request(&bad, &["f=proportion(fcr)"])).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::OutOfRange { column, metric, table, .. } if column == "fcr" && metric == "f" && table == "contacts_bad"),
        "{e}"
    );
    let mut r = request(&bad, &["h=mean(handle_seconds)"]);
    r.unit = Some("agent".into());
    let e = run_stats(&mut spark, &r).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::UnitInSeveralArms { unit, column, .. } if unit == "4" && column == "agent"),
        "{e}"
    );

    // A statement over the time limit is cancelled. Each row sleeps 3 s in the filter:
    // `reflect` of a void method yields the string "null", so the rows are kept, and the
    // predicate is a nullable call that the optimiser cannot fold away (the earlier
    // `coalesce(reflect(..), 'x') IS NOT NULL` was folded to true by Spark's null
    // propagation, so the statement only ran over the limit on a loaded machine).
    spark
        .execute(
            "CREATE OR REPLACE TEMPORARY VIEW slow_rows AS SELECT CAST(id AS DOUBLE) AS x, \
             CAST(id % 2 AS STRING) AS arm FROM range(4) \
             WHERE reflect('java.lang.Thread', 'sleep', CAST(3000 AS BIGINT)) IS NOT NULL",
        )
        .unwrap();
    let mut short = SparkEngine::connect(&url())
        .unwrap()
        .with_timeout(Duration::from_millis(1500));
    // The view belongs to the first session: define it in this one too.
    let slow = TableName(vec!["slow_rows".into()]);
    short
        .execute(
            "CREATE OR REPLACE TEMPORARY VIEW slow_rows AS SELECT CAST(id AS DOUBLE) AS x, \
             CAST(id % 2 AS STRING) AS arm FROM range(4) \
             WHERE reflect('java.lang.Thread', 'sleep', CAST(3000 AS BIGINT)) IS NOT NULL",
        )
        .unwrap();
    let e = run_stats(&mut short, &request(&slow, &["x=mean(x)"])).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::Timeout { table, .. } if table == "slow_rows"),
        "{e}"
    );
    assert!(e.is_engine_failure());
}

/// Nothing listening at the address: unreachable at once (an engine failure, exit 1), not a
/// minutes-long retry.
#[test]
fn spark_unreachable_is_an_engine_failure() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let t = Instant::now();
    let e = SparkEngine::connect(&format!("sc://127.0.0.1:{port}")).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::Unreachable { engine, reason } if *engine == format!("sc://127.0.0.1:{port}") && !reason.is_empty()),
        "{e}"
    );
    assert!(e.is_engine_failure());
    assert!(t.elapsed() < Duration::from_secs(15));
    // A token in the address is refused before anything is contacted.
    let e = SparkEngine::connect(&format!("{};token=SECRET", url())).unwrap_err();
    assert!(
        e.to_string().contains("SPARK_CONNECT_TOKEN") && !e.to_string().contains("SECRET"),
        "{e}"
    );
    assert!(!e.is_engine_failure());
}

/// A table and columns named to break out of their quotes are used as names.
#[test]
fn spark_hostile_names_are_names() {
    let mut spark = connect();
    let t = "t`; DROP VIEW victim; --";
    let c = "v`); DROP VIEW victim; --";
    let a = "a'; DROP VIEW victim; --";
    let q = |s: &str| format!("`{}`", s.replace('`', "``"));
    spark
        .execute("CREATE OR REPLACE TEMPORARY VIEW victim AS SELECT 1 AS x")
        .unwrap();
    spark
        .execute(&format!(
            "CREATE OR REPLACE TEMPORARY VIEW {} AS SELECT * FROM VALUES \
             ('control', 1.0D), ('control', 3.0D), ('treatment', 5.0D) AS v({}, {})",
            q(t),
            q(a),
            q(c)
        ))
        .unwrap();
    let req = StatsRequest::new(
        TableName(vec![t.into()]),
        a,
        vec![Metric {
            name: "m'; DROP VIEW victim; --".into(),
            kind: MetricKind::Mean { column: c.into() },
        }],
    );
    let table = run_stats(&mut spark, &req).unwrap();
    let csv = table.to_csv();
    assert!(
        csv.contains("m'; DROP VIEW victim; --,control,2.0,2.0,4.0,10.0"),
        "{csv}"
    );
    let still = spark.query(&TableName(vec!["victim".into()]), "SELECT x FROM victim");
    assert_eq!(still.unwrap().rows.len(), 1, "the victim view survived");
}

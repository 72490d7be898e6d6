//! The aggregation on a real PostgreSQL server equals the in-process statistics.
//!
//! Run by `.ci/engines.sh`, which starts a throwaway PostgreSQL 15 cluster on
//! 127.0.0.1:55432 and sets `CAUSALKIT_PG_URL`; compiled only with `--features postgres`.
//! Simulated contact-centre rows (seeded) are COPY'd into a table; the warehouse statistics,
//! read by the `--stats` reader (`AbSource::StatsRows`) and fed to the A/B review, must equal
//! the in-process path (`AbSource::Rows` on the same rows) to 1e-9 relative — for CUPED on
//! row-level metrics of every KPI transform with a segment, GrowthBook's ratio CUPED with a
//! segment and `--unit` aggregation, and `--unit` with dropped missing values. The
//! in-process path is the independent implementation (plain Rust loops over the rows); the
//! SQL sums the same values in the engine. The scenarios and the comparison (tolerance: 1e-9
//! of each statistic's scale) are shared with the Spark test, in `tests/common`.
#![cfg(feature = "postgres")]

mod common;

use causalkit_data::Kpi;
use causalkit_warehouse::postgres::PostgresEngine;
use causalkit_warehouse::Engine;
use causalkit_warehouse::{run_stats, Metric, MetricKind, StatsRequest, TableName, WarehouseError};
use common::pg::{connect, load, url};
use common::{check, metric_of, scenarios, simulate};
use std::path::PathBuf;
use std::time::Duration;

const COLUMNS: &str = "arm TEXT, tier TEXT, agent INTEGER, handle_seconds DOUBLE PRECISION, \
    revenue DOUBLE PRECISION, orders INTEGER, pre_revenue DOUBLE PRECISION, pre_orders INTEGER, \
    csat INTEGER, pre_csat DOUBLE PRECISION, fcr INTEGER, score INTEGER, click INTEGER, \
    purchase INTEGER, survey DOUBLE PRECISION";

fn tmp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("causalkit_wh_pg_{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn postgres_statistics_equal_in_process() {
    let mut pg = connect();
    let csv = simulate(15);
    let rows = tmp_dir().join("contacts.csv");
    std::fs::write(&rows, &csv).unwrap();
    load(&mut pg, "contacts", COLUMNS, &csv);
    let table = TableName(vec!["contacts".into()]);
    for s in &scenarios() {
        check(&mut pg, &table, &rows, &tmp_dir(), s);
    }
}

/// Requests a PostgreSQL server refuses, each a typed error naming engine, table and column.
#[test]
fn postgres_errors_name_engine_table_and_column() {
    let mut pg = connect();
    let csv = simulate(16);
    load(&mut pg, "contacts_err", COLUMNS, &csv);
    let metric = |spec: &str| metric_of(&spec.parse::<Kpi>().unwrap());
    let req = |table: &str, specs: &[&str]| {
        StatsRequest::new(
            TableName(vec![table.into()]),
            "arm",
            specs.iter().map(|s| metric(s)).collect(),
        )
    };
    let e = run_stats(&mut pg, &req("no_such_table", &["x=mean(csat)"])).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::MissingTable { table, engine } if table == "no_such_table" && engine.contains("127.0.0.1")),
        "{e}"
    );
    let e = run_stats(&mut pg, &req("contacts_err", &["x=mean(no_such_col)"])).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::MissingColumn { column, table, .. } if column == "no_such_col" && table == "contacts_err"),
        "{e}"
    );
    let e = run_stats(&mut pg, &req("contacts_err", &["x=mean(tier)"])).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::TypeMismatch { column, found, .. } if column == "tier" && found == "text"),
        "{e}"
    );
    // Missing values without dropping: an error naming the metric and its columns.
    let e = run_stats(&mut pg, &req("contacts_err", &["s=mean(survey)"])).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::MissingValues { metric, columns, rows, .. } if metric == "s" && columns.contains("`survey`") && *rows > 0),
        "{e}"
    );
    // A proportion column holding 2.
    pg.execute("UPDATE contacts_err SET fcr = 2 WHERE agent = 3")
        .unwrap();
    let e = run_stats(&mut pg, &req("contacts_err", &["f=proportion(fcr)"])).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::OutOfRange { column, metric, .. } if column == "fcr" && metric == "f"),
        "{e}"
    );
    // A unit in two arms.
    pg.execute("UPDATE contacts_err SET arm = 'treatment' WHERE agent = 4 AND orders = 1; UPDATE contacts_err SET arm = 'control' WHERE agent = 4 AND orders = 2").unwrap();
    let mut r = req("contacts_err", &["h=mean(handle_seconds)"]);
    r.unit = Some("agent".into());
    let e = run_stats(&mut pg, &r).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::UnitInSeveralArms { unit, column, .. } if unit == "4" && column == "agent"),
        "{e}"
    );
    // A statement over the time limit.
    pg.execute(
        "CREATE OR REPLACE VIEW slow_rows AS SELECT g::float8 AS x, (g % 2)::text AS arm \
         FROM generate_series(1, 4) AS g WHERE pg_sleep(0.5)::text = ''",
    )
    .unwrap();
    let mut short = PostgresEngine::connect(&url(), Duration::from_millis(300)).unwrap();
    let e = run_stats(&mut short, &req("slow_rows", &["x=mean(x)"])).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::Timeout { table, .. } if table == "slow_rows"),
        "{e}"
    );
    // Nothing listens on port 1.
    let e = PostgresEngine::connect(
        "postgres://postgres@127.0.0.1:1/postgres",
        Duration::from_secs(5),
    )
    .unwrap_err();
    assert!(
        matches!(&e, WarehouseError::Unreachable { engine, .. } if engine == "postgres://postgres@127.0.0.1:1/postgres"),
        "{e}"
    );
    assert!(e.is_engine_failure());
    // A password on the command line is refused.
    let e = PostgresEngine::connect(
        "postgres://postgres:secret@127.0.0.1:55432/postgres",
        Duration::from_secs(5),
    )
    .unwrap_err();
    assert!(e.to_string().contains("PGPASSWORD"), "{e}");
    assert!(!e.to_string().contains("secret"), "{e}");
}

/// A table and columns named to break out of their quotes are used as names, and nothing
/// else runs.
#[test]
fn postgres_hostile_names_are_names() {
    let mut pg = connect();
    pg.execute("DROP TABLE IF EXISTS victim; CREATE TABLE victim (x INTEGER); INSERT INTO victim VALUES (1)")
        .unwrap();
    let t = "t\"; DROP TABLE victim; --";
    let c = "v\"); DROP TABLE victim; --";
    let a = "a'; DROP TABLE victim; --";
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    pg.execute(&format!(
        "DROP TABLE IF EXISTS {tq}; CREATE TABLE {tq} ({aq} TEXT, {cq} DOUBLE PRECISION); \
         INSERT INTO {tq} VALUES ('control', 1), ('control', 3), ('treatment', 5)",
        tq = q(t),
        aq = q(a),
        cq = q(c)
    ))
    .unwrap();
    let mut req = StatsRequest::new(
        TableName(vec![t.into()]),
        a,
        vec![Metric {
            name: "m'; DROP TABLE victim; --".into(),
            kind: MetricKind::Mean { column: c.into() },
        }],
    );
    req.segment = None;
    let table = run_stats(&mut pg, &req).unwrap();
    let csv = table.to_csv();
    assert!(
        csv.contains("m'; DROP TABLE victim; --,control,2.0,2.0,4.0,10.0"),
        "{csv}"
    );
    let still = pg.query(&TableName(vec!["victim".into()]), "SELECT x FROM victim");
    assert_eq!(still.unwrap().rows.len(), 1, "the victim table survived");
}

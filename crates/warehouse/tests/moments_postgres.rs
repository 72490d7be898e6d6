//! The unit moments of several KPIs (`run_moments`) on a real PostgreSQL server equal the
//! in-process path.
//!
//! Run by `.ci/engines.sh`, which starts a throwaway PostgreSQL 15 cluster on 127.0.0.1 and
//! sets `CAUSALKIT_PG_URL`; compiled only with `--features postgres`. Seeded rows (a mean KPI
//! with a level of 1e4, a ratio, a proportion; missing values per KPI input, covariate, arm
//! and unit; a holdout arm; units in both arms) are COPY'd into a table; with and without a
//! unit, with 0, 1 and 2 covariates, every number of `UnitMoments` and the joint covariance of
//! the KPI effects must equal the in-process reference to 1e-9 relative of each statistic's
//! scale (`tests/common/moments.rs`, which cites the reference implementation). The error
//! cases name the engine, table and column (or KPI and arm).
#![cfg(feature = "postgres")]

mod common;

use causalkit_warehouse::postgres::PostgresEngine;
use causalkit_warehouse::{run_moments, Engine, TableName, WarehouseError};
use common::moments::{check, kpis, request, simulate, Rows};
use common::pg::{connect, load};

/// The columns of [`Rows`]; the second covariate's name holds a quote, a semicolon and a
/// comment marker.
const COLUMNS: &str = "arm TEXT, agent INTEGER, spend DOUBLE PRECISION, \
    revenue DOUBLE PRECISION, orders INTEGER, fcr INTEGER, pre1 DOUBLE PRECISION, \
    \"pre\"\"2; --\" DOUBLE PRECISION";

/// Loads `rows` into table `name`.
fn load_rows(pg: &mut PostgresEngine, name: &str, rows: &Rows) -> TableName {
    load(pg, name, COLUMNS, &rows.csv());
    TableName(vec![name.into()])
}

#[test]
fn postgres_unit_moments_equal_in_process() {
    let mut pg = connect();
    let kpis = kpis();
    // Missing values, dropped per KPI.
    let rows = simulate(15, true);
    let table = load_rows(&mut pg, "moments_missing", &rows);
    for unit in [true, false] {
        for covariates in 0..=2 {
            let m = check(
                &mut pg,
                &request(&table, &kpis, unit, covariates, true),
                &rows,
                &kpis,
            );
            assert!(
                m.dropped_rows.iter().all(|d| *d > 0),
                "{:?}",
                m.dropped_rows
            );
        }
    }
    // Complete rows, nothing to drop.
    let rows = simulate(16, false);
    let table = load_rows(&mut pg, "moments_complete", &rows);
    for unit in [true, false] {
        let m = check(
            &mut pg,
            &request(&table, &kpis, unit, 2, false),
            &rows,
            &kpis,
        );
        assert_eq!(m.dropped_rows, [0, 0, 0]);
    }
}

/// Bad tables and requests, each a typed error naming engine, table and column (or KPI and
/// arm).
#[test]
fn postgres_moments_errors_name_engine_table_and_column() {
    let mut pg = connect();
    let kpis = kpis();
    let table = load_rows(&mut pg, "moments_err", &simulate(17, true));
    // Missing values without dropping: the KPI and its columns.
    let e = run_moments(&mut pg, &request(&table, &kpis, true, 1, false)).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::MissingValues { metric, columns, rows, engine, table, .. }
            if metric == "spend" && columns == "`arm`, `agent`, `spend`, `pre1`" && *rows > 0
                && engine.contains("127.0.0.1") && table == "moments_err"),
        "{e}"
    );
    // A missing arm alone is an error without dropping.
    let table = load_rows(&mut pg, "moments_err", &simulate(17, false));
    pg.execute("UPDATE moments_err SET arm = NULL WHERE agent = 3")
        .unwrap();
    let e = run_moments(&mut pg, &request(&table, &kpis, true, 0, false)).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::MissingValues { columns, .. } if columns.starts_with("`arm`")),
        "{e}"
    );
    // A label without rows.
    let mut r = request(&table, &kpis, true, 0, true);
    r.arms[1] = "treatmnet".into();
    let e = run_moments(&mut pg, &r).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::InvalidData { column, reason, .. }
            if column == "arm" && reason.contains("`treatmnet`")),
        "{e}"
    );
    // A proportion holding 2.
    pg.execute("UPDATE moments_err SET fcr = 2 WHERE agent = 5")
        .unwrap();
    let e = run_moments(&mut pg, &request(&table, &kpis, true, 0, true)).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::OutOfRange { column, metric, .. } if column == "fcr" && metric == "fcr"),
        "{e}"
    );
    // A KPI with one unit in the treatment arm.
    pg.execute("UPDATE moments_err SET fcr = 1 WHERE agent = 5")
        .unwrap();
    pg.execute(
        "UPDATE moments_err SET revenue = NULL WHERE arm = 'treatment' AND agent <> \
         (SELECT MIN(agent) FROM moments_err WHERE arm = 'treatment')",
    )
    .unwrap();
    let e = run_moments(&mut pg, &request(&table, &kpis, true, 0, true)).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::InvalidData { column, reason, .. }
            if column == "arm" && reason.contains("KPI `aov` has 1 unit(s) in the arm `treatment`")),
        "{e}"
    );
    // A missing column, a text covariate.
    let mut r = request(&table, &kpis, true, 0, true);
    r.covariates = vec!["no_such".into()];
    let e = run_moments(&mut pg, &r).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::MissingColumn { column, table, .. } if column == "no_such" && table == "moments_err"),
        "{e}"
    );
    r.covariates = vec!["arm".into()];
    let e = run_moments(&mut pg, &r).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::TypeMismatch { column, found, .. } if column == "arm" && found == "text"),
        "{e}"
    );
    assert!(!e.is_engine_failure());
    assert!(pg.address().contains("127.0.0.1"));
}

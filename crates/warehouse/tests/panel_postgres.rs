//! The DiD / synthetic-control panel computed by a real PostgreSQL server equals the panel the
//! CLI builds in process, cell by cell, and so do the estimates on it.
//!
//! Run by `.ci/engines.sh` (a throwaway PostgreSQL 15 on 127.0.0.1, `CAUSALKIT_PG_URL`);
//! compiled only with `--features postgres`. Simulated contact-centre events (seeded: sites
//! with several contacts a day, a staggered go-live) are COPY'd into a table and written to a
//! CSV; the engine's cells (`run_panel` → `PanelColumns::from_cells`) must equal the data
//! layer's event path (`PanelRoles::read` with `events`, plain Rust loops over the rows, the
//! independent implementation) to 1e-9 relative, and so must TWFE and synthetic DiD on the
//! two panels (`tests/common/panel.rs`, shared with the Spark test).
#![cfg(feature = "postgres")]

mod common;

use causalkit_warehouse::{run_panel, Metric, MetricKind, PanelRequest, TableName, WarehouseError};
use common::panel::{blocked_ratio_panel, dated_weekly_panel, simulate, COLUMNS};
use common::pg::{connect, load};

/// Weekly average handle time from dated contacts with a go-live date: the panel, TWFE and
/// synthetic DiD equal the in-process path (`common::panel::dated_weekly_panel`).
#[test]
fn dated_weekly_panel_twfe_and_sdid_equal_in_process() {
    let csv = simulate(7);
    let mut pg = connect();
    load(&mut pg, "panel_contacts", COLUMNS, &csv);
    dated_weekly_panel(&mut pg, &TableName::parse("panel_contacts").unwrap(), &csv);
}

/// Whole-number day indices grouped into blocks of 7, a ratio KPI with missing numerators
/// dropped: the same panel and TWFE (`common::panel::blocked_ratio_panel`).
#[test]
fn blocked_periods_ratio_with_dropped_rows_equal_in_process() {
    let csv = simulate(11);
    let mut pg = connect();
    load(&mut pg, "panel_contacts_idx", COLUMNS, &csv);
    blocked_ratio_panel(
        &mut pg,
        &TableName::parse("panel_contacts_idx").unwrap(),
        &csv,
    );
}

/// Hostile table and column names reach the server as identifiers: the panel runs, and the
/// table a hostile name tries to drop is still there.
#[test]
fn hostile_names_stay_identifiers_on_the_server() {
    let mut pg = connect();
    let t = "ev\"; DROP TABLE panel_guard; --";
    let u = "unit\"; DROP TABLE panel_guard; --";
    pg.execute("DROP TABLE IF EXISTS panel_guard; CREATE TABLE panel_guard (x INTEGER)")
        .unwrap();
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    pg.execute(&format!(
        "DROP TABLE IF EXISTS {t}; CREATE TABLE {t} ({u} TEXT, \"p\" INTEGER, \"y\" DOUBLE PRECISION); \
         INSERT INTO {t} VALUES ('a', 1, 2.0), ('a', 1, 4.0), ('b', 1, 5.0)",
        t = q(t),
        u = q(u)
    ))
    .unwrap();
    let req = PanelRequest::new(
        TableName(vec![t.into()]),
        u,
        "p",
        Metric {
            name: "y'; DROP TABLE panel_guard; --".into(),
            kind: MetricKind::Mean { column: "y".into() },
        },
    );
    let c = run_panel(&mut pg, &req).unwrap();
    assert_eq!(c.unit, ["a", "b"]);
    assert_eq!(c.value, [3.0, 5.0]);
    assert_eq!(c.weight, [2.0, 1.0]);
    pg.execute("SELECT * FROM panel_guard").unwrap();
}

/// A missing table and a text outcome column are typed errors naming them.
#[test]
fn missing_table_and_type_mismatch_are_named() {
    let mut pg = connect();
    let mean = |c: &str| Metric {
        name: "m".into(),
        kind: MetricKind::Mean { column: c.into() },
    };
    let req = PanelRequest::new(
        TableName::parse("no_such_table").unwrap(),
        "site",
        "day_index",
        mean("handle_seconds"),
    );
    assert!(matches!(
        run_panel(&mut pg, &req),
        Err(WarehouseError::MissingTable { table, .. }) if table == "no_such_table"
    ));
    load(&mut pg, "panel_contacts_types", COLUMNS, &simulate(3));
    let req = PanelRequest::new(
        TableName::parse("panel_contacts_types").unwrap(),
        "site",
        "day_index",
        mean("site2"),
    );
    assert!(matches!(
        run_panel(&mut pg, &req),
        Err(WarehouseError::MissingColumn { column, .. }) if column == "site2"
    ));
    let req = PanelRequest::new(
        TableName::parse("panel_contacts_types").unwrap(),
        "day_index",
        "day_index",
        mean("site"),
    );
    assert!(matches!(
        run_panel(&mut pg, &req),
        Err(WarehouseError::InvalidRequest { .. })
    ));
    let req = PanelRequest::new(
        TableName::parse("panel_contacts_types").unwrap(),
        "resolved",
        "day_index",
        mean("site"),
    );
    assert!(matches!(
        run_panel(&mut pg, &req),
        Err(WarehouseError::TypeMismatch { column, .. }) if column == "site"
    ));
}

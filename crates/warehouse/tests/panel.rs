//! The DiD / synthetic-control panel query: snapshots of every dialect's SQL, hostile names,
//! request checks, and the checks `run_panel` makes on an engine's answer (with a scripted
//! engine that returns given rows, so they run without a server; the real-PostgreSQL parity
//! test is tests/panel_postgres.rs).
//!
//! Snapshots live in tests/snapshots/panel.<request>.<dialect>.sql; `UPDATE_SNAPSHOTS=1
//! cargo test -p causalkit-warehouse --test panel` rewrites them (review the diff).

use causalkit_warehouse::panel::PANEL_COLUMNS;
use causalkit_warehouse::{
    panel_sql, run_panel, Cell, ColumnType, Denominator, Dialect, Engine, Metric, MetricKind,
    PanelRequest, PanelTime, Table, TableName, WarehouseError,
};
use std::path::PathBuf;

/// Average handle time per site and week from dated contacts, with a cohort date.
fn dated_request() -> PanelRequest {
    let mut r = PanelRequest::new(
        TableName::parse("analytics.contacts").unwrap(),
        "site",
        "day",
        Metric {
            name: "aht".into(),
            kind: MetricKind::Ratio {
                numerator: "handle_seconds".into(),
                denominator: Denominator::Count,
            },
        },
    );
    r.time_kind = PanelTime::Dates { width_days: 7 };
    r.cohort = Some("go_live".into());
    r
}

/// First-contact resolution per agent and period (whole numbers), with a treated column.
fn periods_request() -> PanelRequest {
    let mut r = PanelRequest::new(
        TableName::parse("contacts").unwrap(),
        "agent",
        "period",
        Metric {
            name: "fcr".into(),
            kind: MetricKind::Proportion {
                column: "resolved".into(),
            },
        },
    );
    r.treated = Some("treated".into());
    r.drop_missing = true;
    r
}

fn snapshot(name: &str, sql: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.sql"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, sql).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with UPDATE_SNAPSHOTS=1 to create it",
            path.display()
        )
    });
    assert_eq!(
        sql, expected,
        "the SQL of {name} changed; if intended, UPDATE_SNAPSHOTS=1 and review the diff"
    );
}

#[test]
fn snapshots_of_every_dialect() {
    for d in Dialect::ALL {
        snapshot(
            &format!("panel.dated_cohort.{d}"),
            &panel_sql(&dated_request(), d).unwrap(),
        );
        snapshot(
            &format!("panel.periods_treated.{d}"),
            &panel_sql(&periods_request(), d).unwrap(),
        );
    }
}

#[test]
fn every_dialect_groups_by_unit_and_period_with_its_date_functions() {
    let expected = [
        (
            Dialect::Spark,
            "DATEDIFF(CAST(`day` AS DATE), DATE '1970-01-01')",
        ),
        (
            Dialect::Postgres,
            "(CAST(\"day\" AS DATE) - DATE '1970-01-01')",
        ),
        (Dialect::BigQuery, "UNIX_DATE(CAST(`day` AS DATE))"),
        (
            Dialect::Snowflake,
            "DATEDIFF(day, DATE '1970-01-01', CAST(\"day\" AS DATE))",
        ),
        (
            Dialect::Trino,
            "date_diff('day', DATE '1970-01-01', CAST(\"day\" AS DATE))",
        ),
        (
            Dialect::DuckDb,
            "date_diff('day', DATE '1970-01-01', CAST(\"day\" AS DATE))",
        ),
        (
            Dialect::ClickHouse,
            "dateDiff('day', toDate('1970-01-01'), CAST(`day` AS Date))",
        ),
    ];
    for (d, day) in expected {
        let sql = panel_sql(&dated_request(), d).unwrap();
        assert!(sql.contains(day), "{d}: {sql}");
        // The earliest day of the whole column is the origin of the weeks.
        assert!(sql.contains(&format!("(SELECT MIN({day}) FROM ")), "{d}");
        assert!(sql.contains(&d.double(7.0)), "{d}: the width in days");
        assert!(sql.trim_end().ends_with("GROUP BY u, p"), "{d}");
        for c in PANEL_COLUMNS {
            assert!(sql.contains(&format!("AS {}", d.ident(c))), "{d}: {c}");
        }
    }
}

/// The hostile name may appear only as one quoted identifier (or string literal): replacing
/// its quoted forms by those of a plain name gives exactly the plain request's SQL.
#[test]
fn hostile_names_cannot_inject() {
    let hostile = [
        "x\"; DROP TABLE users; --",
        "x`; DROP TABLE users; --",
        "x'; DROP TABLE users; --",
        "x\\'; DROP TABLE users; --",
        "x\\\"; DROP TABLE users; --",
        "x\\`; DROP TABLE users; /*",
        "a\nDROP TABLE users;",
    ];
    let with = |h: &str| {
        let mut r = dated_request();
        r.table = TableName(vec![format!("{h}t")]);
        r.unit = format!("{h}u");
        r.time = format!("{h}d");
        r.cohort = Some(format!("{h}g"));
        r.outcome.name = format!("{h}m");
        r.outcome.kind = MetricKind::Ratio {
            numerator: format!("{h}n"),
            denominator: Denominator::Column(format!("{h}q")),
        };
        r
    };
    let plain = with("P");
    for h in hostile {
        for d in Dialect::ALL {
            let mut sql = panel_sql(&with(h), d).unwrap();
            for suffix in ["t", "u", "d", "g", "n", "q"] {
                sql = sql.replace(
                    &d.ident(&format!("{h}{suffix}")),
                    &d.ident(&format!("P{suffix}")),
                );
            }
            assert_eq!(sql, panel_sql(&plain, d).unwrap(), "{d}: `{h}`");
        }
    }
}

#[test]
fn requests_the_panel_cannot_express_are_refused() {
    let field = |r: &PanelRequest| match panel_sql(r, Dialect::Postgres) {
        Err(WarehouseError::InvalidRequest { field, .. }) => field,
        other => panic!("expected an invalid request, got {other:?}"),
    };
    let mut r = dated_request();
    r.time_kind = PanelTime::Dates { width_days: 0 };
    assert_eq!(field(&r), "period_width");
    let mut r = dated_request();
    r.cohort = Some("site".into());
    assert_eq!(field(&r), "cohort");
    let mut r = periods_request();
    r.treated = Some("resolved".into());
    assert_eq!(field(&r), "treated");
    let mut r = periods_request();
    r.unit = String::new();
    assert_eq!(field(&r), "columns");
}

/// An engine answering from a script: the table's columns, and the panel query's rows.
struct Scripted {
    columns: Vec<(String, ColumnType)>,
    rows: Vec<Vec<Cell>>,
}

impl Engine for Scripted {
    fn address(&self) -> String {
        "scripted://test".into()
    }
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
    fn columns(
        &mut self,
        _: &TableName,
        sql: &str,
    ) -> causalkit_warehouse::Result<Vec<(String, ColumnType)>> {
        assert!(sql.starts_with("SELECT * FROM "), "{sql}");
        Ok(self.columns.clone())
    }
    fn query(&mut self, _: &TableName, sql: &str) -> causalkit_warehouse::Result<Table> {
        assert!(sql.contains("GROUP BY u, p"), "{sql}");
        Ok(Table {
            columns: PANEL_COLUMNS.iter().map(|c| c.to_string()).collect(),
            rows: self.rows.clone(),
        })
    }
}

fn num(x: f64) -> Cell {
    Cell::Number(x)
}

/// One result row: unit, period, numerator and denominator sums, events, rows missing a KPI
/// input, cohort min/max/missing, origin day.
#[allow(clippy::too_many_arguments)]
fn row(
    unit: Option<&str>,
    period: Option<f64>,
    n: f64,
    den: f64,
    events: f64,
    missing: f64,
    cohort: (Option<f64>, Option<f64>, f64),
    origin: Option<f64>,
) -> Vec<Cell> {
    let opt = |x: Option<f64>| x.map_or(Cell::Null, Cell::Number);
    vec![
        unit.map_or(Cell::Null, |u| Cell::Text(u.into())),
        opt(period),
        num(n),
        num(den),
        num(events),
        num(missing),
        num(0.0),
        opt(cohort.0),
        opt(cohort.1),
        num(cohort.2),
        Cell::Null,
        num(0.0),
        opt(origin),
    ]
}

fn dated_engine(rows: Vec<Vec<Cell>>) -> Scripted {
    let t = |c: &str, ty: ColumnType| (c.to_string(), ty);
    Scripted {
        columns: vec![
            t("site", ColumnType::Text),
            t("day", ColumnType::Other("date".into())),
            t("handle_seconds", ColumnType::Numeric),
            t("go_live", ColumnType::Other("date".into())),
        ],
        rows,
    }
}

#[test]
fn cells_come_back_sorted_with_values_weights_and_cohort_periods() {
    // Origin 19723 (2024-01-01), weeks: the cohort day 19737 is week 2.
    let g = (Some(19737.0), Some(19737.0), 0.0);
    let never = (None, None, 3.0);
    let mut e = dated_engine(vec![
        row(
            Some("b"),
            Some(1.0),
            900.0,
            3.0,
            3.0,
            0.0,
            never,
            Some(19723.0),
        ),
        row(Some("a"), Some(1.0), 600.0, 2.0, 2.0, 0.0, g, Some(19723.0)),
        row(Some("a"), Some(0.0), 100.0, 1.0, 1.0, 0.0, g, Some(19723.0)),
    ]);
    let c = run_panel(&mut e, &dated_request()).unwrap();
    assert_eq!(c.unit, ["a", "a", "b"]);
    assert_eq!(c.period, [0, 1, 1]);
    assert_eq!(c.value, [100.0, 300.0, 300.0]);
    assert_eq!(c.weight, [1.0, 2.0, 3.0]);
    assert_eq!(c.events, [1, 2, 3]);
    assert_eq!(c.cohort, Some(vec![Some(2), Some(2), None]));
    assert_eq!(c.dates, Some((19723, 7)));
    assert_eq!(c.dropped_rows, 0);
}

#[test]
fn bad_answers_are_typed_errors_naming_the_column() {
    let g = (Some(19737.0), Some(19737.0), 0.0);
    // A unit with a cohort date in one cell and never treated in another.
    let mut e = dated_engine(vec![
        row(Some("a"), Some(0.0), 1.0, 1.0, 1.0, 0.0, g, Some(19723.0)),
        row(
            Some("a"),
            Some(1.0),
            1.0,
            1.0,
            1.0,
            0.0,
            (None, None, 1.0),
            Some(19723.0),
        ),
    ]);
    match run_panel(&mut e, &dated_request()) {
        Err(WarehouseError::InvalidData { column, reason, .. }) => {
            assert_eq!(column, "go_live");
            assert!(
                reason.contains("unit `a`") && reason.contains("never treated"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Rows without a period: an error naming the columns unless dropping.
    let rows = vec![
        row(Some("a"), Some(0.0), 1.0, 1.0, 1.0, 0.0, g, Some(19723.0)),
        row(Some("a"), None, 5.0, 2.0, 2.0, 0.0, g, Some(19723.0)),
    ];
    let mut e = dated_engine(rows.clone());
    match run_panel(&mut e, &dated_request()) {
        Err(WarehouseError::MissingValues { rows, columns, .. }) => {
            assert_eq!(rows, 2);
            assert!(columns.contains("`day`"), "{columns}");
        }
        other => panic!("{other:?}"),
    }
    let mut r = dated_request();
    r.drop_missing = true;
    let c = run_panel(&mut dated_engine(rows), &r).unwrap();
    assert_eq!((c.len(), c.dropped_rows), (1, 2));
    // A cell whose events all lack the KPI input: no usable events.
    let mut e = dated_engine(vec![row(
        Some("a"),
        Some(0.0),
        0.0,
        0.0,
        2.0,
        2.0,
        g,
        Some(19723.0),
    )]);
    let mut r = dated_request();
    r.drop_missing = true;
    assert!(matches!(
        run_panel(&mut e, &r),
        Err(WarehouseError::InvalidData { reason, .. }) if reason.contains("no usable events")
    ));
    // A fractional whole-number period.
    let mut e = dated_engine(vec![row(
        Some("a"),
        Some(0.5),
        1.0,
        1.0,
        1.0,
        0.0,
        g,
        Some(19723.0),
    )]);
    assert!(matches!(
        run_panel(&mut e, &dated_request()),
        Err(WarehouseError::InvalidData { column, .. }) if column == "day"
    ));
    // A column the table lacks, and a numeric time column for dates.
    let mut e = dated_engine(vec![]);
    e.columns.retain(|c| c.0 != "go_live");
    assert!(matches!(
        run_panel(&mut e, &dated_request()),
        Err(WarehouseError::MissingColumn { column, .. }) if column == "go_live"
    ));
    let mut e = dated_engine(vec![]);
    e.columns[1].1 = ColumnType::Numeric;
    assert!(matches!(
        run_panel(&mut e, &dated_request()),
        Err(WarehouseError::TypeMismatch { column, .. }) if column == "day"
    ));
}

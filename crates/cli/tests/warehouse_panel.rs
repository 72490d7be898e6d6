//! `causalkit did|synth --dialect NAME --table T --explain`: prints the panel SQL of the
//! flags' request — exactly what causalkit-warehouse's `panel_sql` writes for the request
//! built by hand — without connecting to anything; incomplete or conflicting flag sets exit 2
//! naming the flag.

mod common;
use causalkit_warehouse::{
    panel_sql, Denominator, Dialect, Metric, MetricKind, PanelRequest, PanelTime, TableName,
};
use common::*;

fn did_explain(d: &str) -> Vec<String> {
    [
        "did",
        "--dialect",
        d,
        "--table",
        "analytics.contacts",
        "--explain",
        "--unit",
        "site",
        "--time",
        "day",
        "--time-type",
        "date",
        "--period-width",
        "7",
        "--outcome",
        "aht=ratio(handle_seconds, count)",
        "--cohort",
        "go_live",
        "--drop-missing",
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn did_explain_prints_the_panel_sql_of_every_dialect() {
    for d in Dialect::ALL {
        let out = ok(&did_explain(d.name()));
        let mut req = PanelRequest::new(
            TableName(vec!["analytics".into(), "contacts".into()]),
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
        req.time_kind = PanelTime::Dates { width_days: 7 };
        req.cohort = Some("go_live".into());
        req.drop_missing = true;
        assert_eq!(out, panel_sql(&req, d).unwrap(), "{d}");
        // Key words: the quoted table, the grouping, the weekly periods.
        let table = format!("{}.{}", d.ident("analytics"), d.ident("contacts"));
        assert!(out.contains(&format!("FROM {table}")), "{d}: {out}");
        assert!(out.contains("GROUP BY u, p"), "{d}");
        assert!(out.contains(&d.double(7.0)), "{d}");
        assert!(out.contains(&d.ident("denominator_sum")), "{d}");
    }
}

#[test]
fn synth_explain_prints_the_panel_sql_with_the_treated_column() {
    for d in Dialect::ALL {
        let out = ok(&[
            "synth",
            "--dialect",
            d.name(),
            "--table",
            "contacts",
            "--explain",
            "--unit",
            "site",
            "--time",
            "week",
            "--outcome",
            "fcr=proportion(resolved)",
            "--treated",
            "treated",
        ]);
        let mut req = PanelRequest::new(
            TableName(vec!["contacts".into()]),
            "site",
            "week",
            Metric {
                name: "fcr".into(),
                kind: MetricKind::Proportion {
                    column: "resolved".into(),
                },
            },
        );
        req.treated = Some("treated".into());
        assert_eq!(out, panel_sql(&req, d).unwrap(), "{d}");
        assert!(
            out.contains(&format!("{} AS t", d.to_double(&d.ident("treated")))),
            "{d}"
        );
        assert!(out.contains("MAX(t)"), "{d}");
    }
}

#[test]
fn explain_with_an_engine_address_prints_without_connecting() {
    // Nothing listens on port 1: printing must not try.
    let out = ok(&[
        "did",
        "--engine",
        "postgres://nobody@127.0.0.1:1/none",
        "--table",
        "contacts",
        "--explain",
        "--unit",
        "site",
        "--time",
        "day",
        "--outcome",
        "handle_seconds",
        "--cohort",
        "go_live",
    ]);
    assert!(out.contains("FROM \"contacts\""), "{out}");
    assert!(
        out.contains("CAST(\"day\" AS DOUBLE PRECISION) AS p"),
        "{out}"
    );
}

#[test]
fn incomplete_or_conflicting_flags_exit_2_naming_the_flag() {
    let mut no_dialect = did_explain("spark");
    no_dialect.drain(1..3);
    assert!(bad(&no_dialect).contains("--dialect"));
    let mut no_table = did_explain("spark");
    no_table.drain(3..5);
    // clap asks for --data (required unless --table is given).
    let e = bad(&no_table);
    assert!(e.contains("--data") || e.contains("--table"), "{e}");
    let mut both = did_explain("spark");
    both.extend(["--data".into(), "x.csv".into()]);
    assert!(bad(&both).contains("--data"));
    let unknown = did_explain("oracle");
    assert!(bad(&unknown).contains("oracle"));
    let mut covariates = did_explain("postgres");
    covariates.extend(["--covariates".into(), "x".into()]);
    assert!(bad(&covariates).contains("--covariates"));
    // --dialect without --explain runs nothing and says how.
    let mut run = did_explain("postgres");
    run.retain(|a| a != "--explain");
    assert!(bad(&run).contains("--engine"));
    // Neither a file nor a table.
    let e = bad(&[
        "did",
        "--unit",
        "site",
        "--time",
        "day",
        "--outcome",
        "y",
        "--cohort",
        "g",
    ]);
    assert!(e.contains("--data") || e.contains("--table"), "{e}");
    let e = bad(&[
        "did",
        "--engine",
        "mysql://x@h/db",
        "--table",
        "t",
        "--explain",
        "--unit",
        "site",
        "--time",
        "day",
        "--outcome",
        "y",
        "--cohort",
        "g",
    ]);
    assert!(e.contains("mysql://"), "{e}");
}

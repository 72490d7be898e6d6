//! `causalkit ab --dialect NAME --table T --explain`: prints the warehouse SQL of the flags'
//! request, exactly what causalkit-warehouse generates for the request built by hand, and
//! refuses incomplete or unsupported flag sets with exit 2 naming the flag.

mod common;
use causalkit_warehouse::{
    stats_sql, Adjustment, Denominator, Dialect, Metric, MetricKind, StatsRequest, TableName,
};
use common::*;

#[test]
fn explain_prints_the_sql_of_the_flags_request() {
    for d in Dialect::ALL {
        let out = ok(&[
            "ab",
            "--dialect",
            d.name(),
            "--table",
            "analytics.contacts",
            "--explain",
            "--metric",
            "aht=ratio(handle_seconds, count)",
            "--metric",
            "aov=ratio(revenue, orders)",
            "--segment",
            "tier",
            "--unit",
            "agent",
            "--covariate",
            "pre_revenue/pre_orders",
        ]);
        let mut req = StatsRequest::new(
            TableName(vec!["analytics".into(), "contacts".into()]),
            "arm",
            vec![
                Metric {
                    name: "aht".into(),
                    kind: MetricKind::Ratio {
                        numerator: "handle_seconds".into(),
                        denominator: Denominator::Count,
                    },
                },
                Metric {
                    name: "aov".into(),
                    kind: MetricKind::Ratio {
                        numerator: "revenue".into(),
                        denominator: Denominator::Column("orders".into()),
                    },
                },
            ],
        );
        req.segment = Some("tier".into());
        req.unit = Some("agent".into());
        req.adjustment = Adjustment::RatioCuped {
            numerator: "pre_revenue".into(),
            denominator: Denominator::Column("pre_orders".into()),
        };
        assert_eq!(
            out.trim_end(),
            stats_sql(&req, d).unwrap().trim_end(),
            "{d}"
        );
    }
    // CUPED on a row-level mean with dropped missing values.
    let out = ok(&[
        "ab",
        "--dialect",
        "duckdb",
        "--table",
        "t",
        "--explain",
        "--metric",
        "csat=mean(csat)",
        "--covariate",
        "pre_csat",
        "--drop-missing",
    ]);
    assert!(out.contains("\"covariate_sum\""), "{out}");
    assert!(
        out.contains(
            "CASE WHEN \"arm\" IS NOT NULL AND \"csat\" IS NOT NULL AND \"pre_csat\" IS NOT NULL THEN"
        ),
        "{out}"
    );
}

#[test]
fn explain_refusals_name_the_flag() {
    let cases: [(&[&str], &str); 6] = [
        (
            &["ab", "--explain", "--table", "t", "--metric", "m=mean(x)"],
            "--dialect",
        ),
        (
            &[
                "ab",
                "--dialect",
                "postgres",
                "--explain",
                "--metric",
                "m=mean(x)",
            ],
            "--table",
        ),
        (
            &[
                "ab",
                "--dialect",
                "oracle",
                "--table",
                "t",
                "--explain",
                "--metric",
                "m=mean(x)",
            ],
            "unknown dialect `oracle`",
        ),
        (
            &[
                "ab",
                "--dialect",
                "postgres",
                "--table",
                "t",
                "--metric",
                "m=mean(x)",
            ],
            "--explain",
        ),
        (
            &[
                "ab",
                "--dialect",
                "postgres",
                "--table",
                "t",
                "--explain",
                "--metric",
                "m=mean(x)",
                "--unit",
                "u",
                "--covariate",
                "c",
            ],
            "NUM/DEN",
        ),
        (
            &[
                "ab",
                "--dialect",
                "postgres",
                "--table",
                "t",
                "--explain",
                "--metric",
                "m=mean(x)",
                "--data",
                "x.csv",
            ],
            "--data",
        ),
    ];
    for (args, says) in cases {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
}

/// `causalkit sql` prints what `ab --dialect --explain` prints; with `--winsorize` the caps
/// are percentile subqueries in each dialect's function (exact where the dialect has one).
#[test]
fn sql_command_prints_the_explain_sql_and_winsor_caps() {
    let flags = [
        "--table",
        "analytics.contacts",
        "--metric",
        "aht=mean(handle_seconds)",
        "--metric",
        "fcr=proportion(fcr)",
        "--segment",
        "tier",
        "--winsorize",
        "0.01,0.99",
    ];
    let functions = [
        ("postgres", "percentile_cont(0.99) WITHIN GROUP (ORDER BY"),
        ("snowflake", "percentile_cont(0.99) WITHIN GROUP (ORDER BY"),
        ("duckdb", "quantile_cont("),
        ("spark", "percentile("),
        ("clickhouse", "quantileExactInclusive(0.99)("),
        ("trino", "approx_percentile("),
        ("bigquery", "APPROX_QUANTILES("),
    ];
    for (d, function) in functions {
        let mut sql = vec!["sql", "--dialect", d];
        sql.extend(flags);
        let mut explain = vec!["ab", "--explain", "--dialect", d];
        explain.extend(flags);
        let printed = ok(&sql);
        assert_eq!(printed, ok(&explain), "{d}");
        assert!(printed.contains(function), "{d}: {printed}");
        // One scan of the table for the aggregation, one for the caps subquery (fcr, a
        // proportion, is not winsorised).
        let scans = printed.matches("contacts").count();
        assert_eq!(scans, 2, "{d}: {printed}");
        assert!(printed.contains("AS winsor_caps"), "{d}: {printed}");
    }
    // Winsorising only a proportion is refused, naming the metric.
    let e = bad(&[
        "sql",
        "--dialect",
        "postgres",
        "--table",
        "t",
        "--metric",
        "fcr=proportion(fcr)",
        "--winsorize",
        "fcr=0.01,0.99",
    ]);
    assert!(
        e.contains("`fcr`") && e.contains("not a mean or ratio"),
        "{e}"
    );
    // --engine with --explain connects to nothing (nothing listens on port 1).
    let out = ok(&[
        "ab",
        "--engine",
        "postgres://postgres@127.0.0.1:1/db",
        "--table",
        "t",
        "--explain",
        "--metric",
        "aht=mean(handle_seconds)",
    ]);
    let mut explain = vec!["sql", "--dialect", "postgres"];
    explain.extend(["--table", "t", "--metric", "aht=mean(handle_seconds)"]);
    assert_eq!(out, ok(&explain));
}

/// Without the `postgres` feature, `--engine postgres://...` says how to build it (exit 2).
#[cfg(not(feature = "postgres"))]
#[test]
fn engine_without_the_feature_says_how_to_build_it() {
    let e = bad(&[
        "ab",
        "--engine",
        "postgres://postgres@127.0.0.1:5432/db",
        "--table",
        "t",
        "--metric",
        "aht=mean(handle_seconds)",
    ]);
    assert!(e.contains("cargo build --features postgres"), "{e}");
    let e = bad(&[
        "ab",
        "--engine",
        "mysql://u@h/db",
        "--table",
        "t",
        "--metric",
        "aht=mean(handle_seconds)",
    ]);
    assert!(e.contains("mysql://u@h/db") && e.contains("sc://"), "{e}");
}

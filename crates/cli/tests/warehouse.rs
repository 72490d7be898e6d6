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
            "WHERE \"arm\" IS NOT NULL AND \"csat\" IS NOT NULL AND \"pre_csat\" IS NOT NULL"
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

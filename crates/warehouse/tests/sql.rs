//! SQL generation: snapshots of every dialect's SQL, and hostile names that must stay one
//! identifier or literal.
//!
//! Snapshots live in tests/snapshots/<request>.<dialect>.sql; `UPDATE_SNAPSHOTS=1 cargo test
//! -p causalkit-warehouse --test sql` rewrites them (review the diff before committing).

use causalkit_warehouse::sql::{pilot_sql, result_columns, unit_check_sql};
use causalkit_warehouse::{
    moments_check_sql, moments_sql, periods_sql, stats_sql, Adjustment, Denominator, Dialect,
    Metric, MetricKind, MomentsRequest, Shift, StatsRequest, TableName, WarehouseError,
};
use std::path::PathBuf;

/// Ratio metrics with GrowthBook's ratio CUPED, a segment and a unit (agent), one metric with
/// shift constants.
fn ratio_cuped_unit_request() -> StatsRequest {
    let mut r = StatsRequest::new(
        TableName::parse("analytics.contacts").unwrap(),
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
    r.segment = Some("tier".into());
    r.unit = Some("agent".into());
    r.adjustment = Adjustment::RatioCuped {
        numerator: "pre_revenue".into(),
        denominator: Denominator::Column("pre_orders".into()),
    };
    r.shifts.insert(
        "aht".into(),
        Shift {
            numerator: 3000.0,
            denominator: 10.0,
            covariate: 250.5,
            denominator_pre: 2.0,
        },
    );
    r
}

/// CUPED on row-level metrics of every transform, a segment, dropping missing rows.
fn cuped_transforms_request() -> StatsRequest {
    let mut r = StatsRequest::new(
        TableName::parse("contacts").unwrap(),
        "arm",
        vec![
            Metric {
                name: "csat".into(),
                kind: MetricKind::Mean {
                    column: "csat".into(),
                },
            },
            Metric {
                name: "fcr".into(),
                kind: MetricKind::Proportion {
                    column: "fcr".into(),
                },
            },
            Metric {
                name: "nps".into(),
                kind: MetricKind::Nps {
                    column: "score".into(),
                },
            },
            Metric {
                name: "top2".into(),
                kind: MetricKind::TopBox {
                    column: "csat".into(),
                    threshold: 4.0,
                },
            },
            Metric {
                name: "value".into(),
                kind: MetricKind::Composite {
                    terms: vec![("click".into(), 0.1), ("purchase".into(), -0.5)],
                },
            },
        ],
    );
    r.segment = Some("channel".into());
    r.adjustment = Adjustment::Cuped("pre_csat".into());
    r.drop_missing = true;
    r.shifts.insert(
        "csat".into(),
        Shift {
            numerator: 3.5,
            covariate: 3.25,
            ..Shift::default()
        },
    );
    r
}

/// The unit moments of a release: a mean, a ratio and a proportion per agent, two
/// covariates, dropping missing values.
fn moments_unit_request() -> MomentsRequest {
    let mut r = MomentsRequest::new(
        TableName::parse("analytics.contacts").unwrap(),
        "arm",
        ["control", "treatment"],
        vec![
            Metric {
                name: "aht".into(),
                kind: MetricKind::Mean {
                    column: "handle_seconds".into(),
                },
            },
            Metric {
                name: "aov".into(),
                kind: MetricKind::Ratio {
                    numerator: "revenue".into(),
                    denominator: Denominator::Column("orders".into()),
                },
            },
            Metric {
                name: "fcr".into(),
                kind: MetricKind::Proportion {
                    column: "fcr".into(),
                },
            },
        ],
    );
    r.unit = Some("agent".into());
    r.covariates = vec!["pre_revenue".into(), "pre_csat".into()];
    r.drop_missing = true;
    r
}

/// Row-level unit moments of NPS and top-box with one covariate.
fn moments_rows_request() -> MomentsRequest {
    let mut r = MomentsRequest::new(
        TableName::parse("contacts").unwrap(),
        "arm",
        ["A", "B"],
        vec![
            Metric {
                name: "nps".into(),
                kind: MetricKind::Nps {
                    column: "score".into(),
                },
            },
            Metric {
                name: "top2".into(),
                kind: MetricKind::TopBox {
                    column: "csat".into(),
                    threshold: 4.0,
                },
            },
        ],
    );
    r.covariates = vec!["pre_csat".into()];
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
            &format!("ratio_cuped_segment_unit.{d}"),
            &stats_sql(&ratio_cuped_unit_request(), d).unwrap(),
        );
        snapshot(
            &format!("cuped_transforms_segment.{d}"),
            &stats_sql(&cuped_transforms_request(), d).unwrap(),
        );
        snapshot(
            &format!("pilot.{d}"),
            &pilot_sql(&ratio_cuped_unit_request(), d, 1000).unwrap(),
        );
        snapshot(
            &format!("unit_check.{d}"),
            &unit_check_sql(&ratio_cuped_unit_request(), d).unwrap(),
        );
        snapshot(
            &format!("moments_unit.{d}"),
            &moments_sql(&moments_unit_request(), d).unwrap(),
        );
        snapshot(
            &format!("moments_check_unit.{d}"),
            &moments_check_sql(&moments_unit_request(), d).unwrap(),
        );
        snapshot(
            &format!("moments_rows.{d}"),
            &moments_sql(&moments_rows_request(), d).unwrap(),
        );
        snapshot(
            &format!("periods.{d}"),
            &periods_sql(&periods_request(), "day", d).unwrap(),
        );
    }
}

/// The per-period row sums of the unit request's three KPIs (rows: no unit, no covariates).
fn periods_request() -> MomentsRequest {
    let mut r = moments_unit_request();
    r.unit = None;
    r.covariates.clear();
    r
}

/// The periods' statement with hostile table, column, label and period names; a unit or
/// covariates are refused (the per-period sums compare rows).
#[test]
fn periods_statement_quotes_names_and_takes_rows() {
    for h in HOSTILE {
        let mut r = periods_request();
        r.table = TableName(vec![h.into(), h.into()]);
        r.arm = h.into();
        r.arms = [format!("{h}c"), format!("{h}t")];
        r.metrics[1].name = h.into();
        r.metrics[1].kind = MetricKind::Ratio {
            numerator: format!("{h}4"),
            denominator: Denominator::Column(format!("{h}5")),
        };
        for d in Dialect::ALL {
            assert_no_injection(&periods_sql(&r, &format!("{h}9"), d).unwrap(), d, h);
        }
    }
    let mut r = periods_request();
    r.unit = Some("agent".into());
    assert!(periods_sql(&r, "day", Dialect::Spark).is_err());
    let mut r = periods_request();
    r.covariates = vec!["pre".into()];
    assert!(periods_sql(&r, "day", Dialect::Spark).is_err());
}

#[test]
fn result_columns_are_growthbooks() {
    let cols = result_columns(&ratio_cuped_unit_request());
    let expected = [
        "metric",
        "arm",
        "tier",
        "count",
        "users",
        "main_sum",
        "main_sum_squares",
        "denominator_sum",
        "denominator_sum_squares",
        "main_denominator_sum_product",
        "covariate_sum",
        "covariate_sum_squares",
        "main_covariate_sum_product",
        "main_pre_denominator_post_sum_product",
        "denominator_pre_sum",
        "denominator_pre_sum_squares",
        "main_post_denominator_pre_sum_product",
        "denominator_post_denominator_pre_sum_product",
        "main_pre_denominator_pre_sum_product",
        "rows_missing",
        "rows_invalid",
    ];
    assert_eq!(cols, expected);
    // Row-level CUPED: no denominator columns, no ratio-CUPED columns, no rows_missing when
    // dropping.
    let cols = result_columns(&cuped_transforms_request());
    assert_eq!(
        cols,
        [
            "metric",
            "arm",
            "channel",
            "count",
            "users",
            "main_sum",
            "main_sum_squares",
            "covariate_sum",
            "covariate_sum_squares",
            "main_covariate_sum_product",
            "rows_invalid"
        ]
    );
}

/// The SQL with every quoted identifier and string literal removed, as each dialect's lexer
/// reads them (doubled quote characters or backslash escapes).
fn strip_quoted(sql: &str, d: Dialect) -> String {
    let ident_quote = match d {
        Dialect::Spark | Dialect::BigQuery | Dialect::ClickHouse => '`',
        _ => '"',
    };
    let ident_backslash = matches!(d, Dialect::BigQuery | Dialect::ClickHouse);
    let mut out = String::new();
    let mut it = sql.chars().peekable();
    while let Some(c) = it.next() {
        let (quote, backslash) = if c == ident_quote {
            (c, ident_backslash)
        } else if c == '\'' {
            (c, d.backslash_escapes())
        } else {
            out.push(c);
            continue;
        };
        out.push_str("<q>");
        loop {
            match it.next() {
                None => panic!("unterminated quoted text in {sql}"),
                Some('\\') if backslash => {
                    it.next();
                }
                Some(x) if x == quote => {
                    if !backslash && it.peek() == Some(&quote) {
                        it.next();
                    } else {
                        break;
                    }
                }
                Some(_) => {}
            }
        }
    }
    out
}

/// Asserts that outside its quoted identifiers and literals `sql` holds no statement
/// separator, no `DROP` and no comment marker: the hostile name `h` stayed quoted.
fn assert_no_injection(sql: &str, d: Dialect, h: &str) {
    let bare = strip_quoted(sql, d);
    assert!(
        !bare.contains(';') && !bare.to_uppercase().contains("DROP"),
        "{d}: `{h}` escaped its quotes:\n{bare}"
    );
    assert!(!bare.contains("--") && !bare.contains("/*"), "{d}: {bare}");
}

/// Names that would end a quoted identifier or literal and inject a statement if quoting
/// were wrong in some dialect.
const HOSTILE: [&str; 7] = [
    "x\"; DROP TABLE users; --",
    "x`; DROP TABLE users; --",
    "x'; DROP TABLE users; --",
    "x\\'; DROP TABLE users; --",
    "x\\\"; DROP TABLE users; --",
    "x\\`; DROP TABLE users; /*",
    "a\nDROP TABLE users;",
];

#[test]
fn hostile_names_cannot_inject() {
    for h in HOSTILE {
        let mut r = ratio_cuped_unit_request();
        r.table = TableName(vec![h.into(), h.into()]);
        r.arm = h.into();
        r.segment = Some(format!("{h}2"));
        r.unit = Some(format!("{h}3"));
        r.metrics[0].name = h.into();
        r.metrics[0].kind = MetricKind::Ratio {
            numerator: format!("{h}4"),
            denominator: Denominator::Column(format!("{h}5")),
        };
        for d in Dialect::ALL {
            for sql in [
                stats_sql(&r, d).unwrap(),
                pilot_sql(&r, d, 10).unwrap(),
                unit_check_sql(&r, d).unwrap(),
            ] {
                assert_no_injection(&sql, d, h);
            }
        }
    }
}

/// The moments' statements with hostile table, column, label and covariate names.
#[test]
fn hostile_names_cannot_inject_the_moments() {
    for h in HOSTILE {
        let mut r = moments_unit_request();
        r.table = TableName(vec![h.into(), h.into()]);
        r.arm = h.into();
        r.arms = [format!("{h}c"), format!("{h}t")];
        r.unit = Some(format!("{h}3"));
        r.metrics[1].name = h.into();
        r.metrics[1].kind = MetricKind::Ratio {
            numerator: format!("{h}4"),
            denominator: Denominator::Column(format!("{h}5")),
        };
        r.covariates = vec![format!("{h}6"), format!("{h}7")];
        for unit in [true, false] {
            if !unit {
                r.unit = None;
            }
            for d in Dialect::ALL {
                for sql in [
                    moments_sql(&r, d).unwrap(),
                    moments_check_sql(&r, d).unwrap(),
                ] {
                    assert_no_injection(&sql, d, h);
                }
            }
        }
    }
}

/// Moments requests that cannot be answered are refused before any SQL is written.
#[test]
fn invalid_moments_requests_are_refused() {
    let field_of = |r: &MomentsRequest| match moments_sql(r, Dialect::Postgres).unwrap_err() {
        WarehouseError::InvalidRequest { field, reason } => (field, reason),
        e => panic!("{e}"),
    };
    let mut r = moments_unit_request();
    r.arms = ["control".into(), "control".into()];
    let (field, reason) = field_of(&r);
    assert!(field == "arms" && reason.contains("`control`"), "{reason}");
    let mut r = moments_unit_request();
    r.unit = Some("arm".into());
    assert_eq!(field_of(&r).0, "unit");
    let mut r = moments_unit_request();
    r.covariates.push("pre_csat".into());
    let (field, reason) = field_of(&r);
    assert!(
        field == "covariates" && reason.contains("`pre_csat`"),
        "{reason}"
    );
    let mut r = moments_unit_request();
    r.metrics.push(r.metrics[0].clone());
    assert!(field_of(&r).1.contains("`aht` is given twice"));
    let mut r = moments_unit_request();
    r.metrics.clear();
    assert_eq!(field_of(&r).0, "metrics");
}

#[test]
fn identifiers_and_literals_per_dialect() {
    assert_eq!(Dialect::Postgres.ident("a\"b"), "\"a\"\"b\"");
    assert_eq!(Dialect::Spark.ident("a`b"), "`a``b`");
    assert_eq!(Dialect::BigQuery.ident("a`b\\"), "`a\\`b\\\\`");
    assert_eq!(Dialect::ClickHouse.ident("a`b"), "`a\\`b`");
    assert_eq!(Dialect::Postgres.string("it's \\"), "'it''s \\'");
    assert_eq!(Dialect::Snowflake.string("it's \\"), "'it\\'s \\\\'");
    assert_eq!(Dialect::Spark.string("it's"), "'it\\'s'");
    assert_eq!(
        Dialect::Postgres.double(0.1),
        "CAST(0.1 AS DOUBLE PRECISION)"
    );
    assert_eq!(
        Dialect::ClickHouse.null_double(),
        "CAST(NULL AS Nullable(Float64))"
    );
    for d in Dialect::ALL {
        assert_eq!(d.name().parse::<Dialect>().unwrap(), d);
    }
    assert!(matches!(
        "oracle".parse::<Dialect>(),
        Err(WarehouseError::InvalidRequest { field, .. }) if field == "dialect"
    ));
}

#[test]
fn requests_the_stats_reader_cannot_express_are_refused() {
    let mut r = ratio_cuped_unit_request();
    r.adjustment = Adjustment::Cuped("pre_revenue".into());
    let e = stats_sql(&r, Dialect::Postgres).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::InvalidRequest { field, reason } if field == "covariate" && reason.contains("aov")),
        "{e}"
    );
    let mut r = cuped_transforms_request();
    r.adjustment = Adjustment::RatioCuped {
        numerator: "pre".into(),
        denominator: Denominator::Count,
    };
    let e = stats_sql(&r, Dialect::Postgres).unwrap_err();
    assert!(
        e.to_string().contains("`csat` is not a ratio metric"),
        "{e}"
    );
    let mut r = cuped_transforms_request();
    r.metrics.push(r.metrics[0].clone());
    let e = stats_sql(&r, Dialect::Postgres).unwrap_err();
    assert!(e.to_string().contains("`csat` is given twice"), "{e}");
    let mut r = cuped_transforms_request();
    r.arm = "count".into();
    let e = stats_sql(&r, Dialect::Postgres).unwrap_err();
    assert!(e.to_string().contains("`count`"), "{e}");
    assert!(TableName::parse("a..b").is_err());
    assert!(TableName::parse("a.").is_err());
    assert!(TableName::parse("parquet.`/x").is_err());
    assert!(TableName::parse("parquet.`/x`y").is_err());
}

/// A Spark file source: the backticked path keeps its dots and is quoted as one part.
#[test]
fn backticked_table_parts_keep_their_dots() {
    let t = TableName::parse("parquet.`/data/ab.v1.parquet`").unwrap();
    assert_eq!(t.0, vec!["parquet", "/data/ab.v1.parquet"]);
    let t = TableName::parse("cat.`we``ird.name`").unwrap();
    assert_eq!(t.0, vec!["cat", "we`ird.name"]);
    assert_eq!(TableName::parse("a.b.c").unwrap().0, vec!["a", "b", "c"]);
    // Shown as it is read: error messages and the attribution's `data` diagnostic name the
    // table the user gave, and the text parses back to the same parts.
    for given in [
        "parquet.`/data/ab.v1.parquet`",
        "cat.`we``ird.name`",
        "a.b.c",
        "contacts",
        "parquet.`/tmp/no_dots`",
        "`x; DROP TABLE y`",
    ] {
        let t = TableName::parse(given).unwrap();
        assert_eq!(t.to_string(), given);
        assert_eq!(TableName::parse(&t.to_string()).unwrap(), t);
    }
    let mut r = cuped_transforms_request();
    r.table = TableName::parse("parquet.`/data/ab.v1.parquet`").unwrap();
    let sql = stats_sql(&r, Dialect::Spark).unwrap();
    assert!(
        sql.contains("FROM `parquet`.`/data/ab.v1.parquet`"),
        "{sql}"
    );
}

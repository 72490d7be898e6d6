//! Errors a person can act on (file faults located by line, the same on the in-memory and
//! streaming paths), checks of sufficient-statistics files, the KPI grammar, and dates as
//! periods.

use causalkit_data::*;
use polars::prelude::*;
use proptest::prelude::*;
use std::path::PathBuf;

fn tmp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("causalkit-hardening-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn tmp_bytes(name: &str, contents: &[u8]) -> PathBuf {
    let p = tmp_dir().join(name);
    std::fs::write(&p, contents).unwrap();
    p
}

fn scan_err(p: &std::path::Path) -> DataError {
    let k: Kpi = "y=mean(y)".parse().unwrap();
    kpi_moments_scan(p, &k, &["arm"], None, &[], MissingPolicy::Error).unwrap_err()
}

/// No polars wording, hint or backtrace reaches the user.
fn assert_ours(message: &str) {
    for leak in [
        "polars",
        "Hint",
        "hint:",
        "backtrace",
        "ComputeError",
        "SchemaMismatch",
    ] {
        assert!(!message.contains(leak), "leaked `{leak}`: {message}");
    }
    assert!(!message.contains('\n'), "one line: {message}");
}

#[test]
fn ragged_csv_lines_are_located_on_both_paths() {
    // Line 3 has one field, the header two.
    let p = tmp_bytes("ragged.csv", b"arm,y\nA,1\nB\nA,3\n");
    let e = Dataset::read(&p).unwrap_err();
    match &e {
        DataError::RaggedRow {
            line,
            fields,
            expected,
            ..
        } => assert_eq!((*line, *fields, *expected), (3, 1, 2)),
        other => panic!("{other}"),
    }
    assert_eq!(
        e.to_string(),
        format!(
            "`{}`, row 2 (CSV line 3): 1 field(s), but the header has 2",
            p.display()
        )
    );
    assert_eq!(scan_err(&p).to_string(), e.to_string());
    // Too many fields; a quoted comma and a quoted line break are one field.
    let p = tmp_bytes("ragged2.csv", b"arm,y\n\"A,x\",1\n\"B\nC\",2\nA,3,4\n");
    let e = Dataset::read(&p).unwrap_err();
    assert!(
        matches!(
            e,
            DataError::RaggedRow {
                line: 5,
                fields: 3,
                expected: 2,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(scan_err(&p).to_string(), e.to_string());
    assert_ours(&e.to_string());
}

#[test]
fn invalid_utf8_is_located() {
    let p = tmp_bytes("latin1.csv", b"arm,y\nA,1\nB\xe9,2\n");
    let e = Dataset::read(&p).unwrap_err();
    assert!(
        matches!(
            e,
            DataError::InvalidUtf8 {
                line: 3,
                column: 2,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(scan_err(&p).to_string(), e.to_string());
    assert_ours(&e.to_string());
}

#[test]
fn missing_files_directories_and_repeated_columns_are_named() {
    let missing = tmp_dir().join("nope.csv");
    let e = Dataset::read(&missing).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("cannot read `{}`: no such file", missing.display())
    );
    assert_eq!(scan_err(&missing).to_string(), e.to_string());
    let dir = tmp_dir().join("folder.csv");
    std::fs::create_dir_all(&dir).unwrap();
    let e = Dataset::read(&dir).unwrap_err();
    assert!(
        e.to_string().ends_with("it is a directory, not a file"),
        "{e}"
    );
    assert_eq!(scan_err(&dir).to_string(), e.to_string());
    let dir = tmp_dir().join("folder.parquet");
    std::fs::create_dir_all(&dir).unwrap();
    assert!(Dataset::read(&dir)
        .unwrap_err()
        .to_string()
        .contains("directory"));
    assert!(scan_err(&dir).to_string().contains("directory"));
    // polars would silently rename the second `y`.
    let p = tmp_bytes("dup.csv", b"arm,y,y\nA,1,2\n");
    let e = Dataset::read(&p).unwrap_err();
    assert!(
        matches!(e, DataError::DuplicateColumn { ref column, .. } if column == "y"),
        "{e}"
    );
    assert_eq!(scan_err(&p).to_string(), e.to_string());
    assert!(Dataset::read_schema(&p).is_err());
    assert_ours(&e.to_string());
}

#[test]
fn rows_are_shown_one_based_with_the_csv_line_and_values_are_cut() {
    let p = tmp_bytes("nonnum.csv", b"arm,y\nA,1\nA,2\nB,x7\n");
    let e = Dataset::read(&p).unwrap().numeric("y").unwrap_err();
    // The field is the zero-based data row; the message counts as people do.
    assert!(matches!(e, DataError::NonNumeric { row: 2, .. }));
    assert_eq!(
        e.to_string(),
        "column `y` must be numeric, but row 3 (CSV line 4) holds `x7`"
    );
    let long = "z".repeat(200);
    let p = tmp_bytes("long.csv", format!("arm,y\nA,1\nB,{long}\n").as_bytes());
    let e = Dataset::read(&p).unwrap().numeric("y").unwrap_err();
    let m = e.to_string();
    assert!(
        m.contains(&format!("`{}… (200 characters)`", "z".repeat(80))),
        "{m}"
    );
    assert!(!m.contains(&"z".repeat(81)));
    assert_eq!(scan_err(&p).to_string(), m);
}

/// NaN and infinite values are refused by both paths with the same row and value (the scan
/// used to report them as "`sufficient statistics` at row 0").
#[test]
fn non_finite_values_are_the_same_error_on_every_path() {
    let mut df = df!(
        "arm" => ["A", "B", "A", "B"],
        "y" => [1.0, f64::NAN, 2.0, f64::INFINITY],
        "x" => [1.0, 2.0, f64::NEG_INFINITY, 3.0],
    )
    .unwrap();
    let p = tmp_dir().join("nonfinite.parquet");
    ParquetWriter::new(std::fs::File::create(&p).unwrap())
        .with_row_group_size(Some(2))
        .finish(&mut df)
        .unwrap();
    let d = Dataset::read(&p).unwrap();
    let k: Kpi = "y=mean(y)".parse().unwrap();
    let e = kpi_moments(&d, &k, &["arm"], None, &[], MissingPolicy::Drop).unwrap_err();
    assert!(
        matches!(e, DataError::NonNumeric { ref column, row: 1, ref value } if column == "y" && value == "NaN"),
        "{e}"
    );
    for reader in [ScanReader::Auto, ScanReader::Streaming] {
        let s = kpi_moments_scan_with(&p, &k, &["arm"], None, &[], MissingPolicy::Drop, reader)
            .unwrap_err();
        assert_eq!(s.to_string(), e.to_string());
    }
    // In a covariate.
    let k: Kpi = "x=mean(arm_len)".parse().unwrap();
    drop(k);
    let m: Kpi = "m=mean(x)".parse().unwrap();
    let e = kpi_moments(&d, &m, &["arm"], None, &[], MissingPolicy::Drop).unwrap_err();
    assert!(matches!(e, DataError::NonNumeric { row: 2, .. }), "{e}");
    for reader in [ScanReader::Auto, ScanReader::Streaming] {
        let s = kpi_moments_scan_with(&p, &m, &["arm"], None, &[], MissingPolicy::Drop, reader)
            .unwrap_err();
        assert_eq!(s.to_string(), e.to_string());
    }
    // From CSV text.
    let p = tmp_bytes("nan.csv", b"arm,y\nA,1\nB,inf\nA,2\n");
    let d = Dataset::read(&p).unwrap();
    let k: Kpi = "y=mean(y)".parse().unwrap();
    let e = kpi_moments(&d, &k, &["arm"], None, &[], MissingPolicy::Error).unwrap_err();
    assert!(matches!(e, DataError::NonNumeric { row: 1, .. }), "{e}");
    assert_eq!(scan_err(&p).to_string(), e.to_string());
}

// ----- sufficient-statistics files ------------------------------------------------------------

fn stats(name: &str, csv: &str) -> Dataset {
    Dataset::read(&tmp_bytes(name, csv.as_bytes())).unwrap()
}

#[test]
fn a_proportion_needs_no_sum_of_squares() {
    let d = stats("prop.csv", "arm,count,main_sum\nA,100,30\nB,120,48\n");
    let k: Kpi = "conv=proportion(conv)".parse().unwrap();
    let gm = moments_from_stats_rows_for(&d, &k, &["arm"]).unwrap();
    // The same statistics as 0/1 unit rows with 30 (48) ones: x² = x.
    let mut rows = String::from("arm,conv\n");
    for (arm, n, ones) in [("A", 100, 30), ("B", 120, 48)] {
        for i in 0..n {
            rows.push_str(&format!("{arm},{}\n", u8::from(i < ones)));
        }
    }
    let units = kpi_moments(
        &stats("units.csv", &rows),
        &k,
        &["arm"],
        None,
        &[],
        MissingPolicy::Error,
    )
    .unwrap();
    assert_eq!(gm.groups, units.groups);
    // Without knowing the metric is a proportion, the column is required.
    assert!(matches!(
        moments_from_stats_rows(&d, "conv", &["arm"]),
        Err(DataError::MissingColumn { ref column, .. }) if column == "main_sum_squares"
    ));
    // A proportion's sum cannot exceed its count.
    let d = stats("prop_bad.csv", "arm,count,main_sum\nA,100,130\nB,120,48\n");
    let e = moments_from_stats_rows_for(&d, &k, &["arm"]).unwrap_err();
    assert!(
        matches!(e, DataError::InvalidStatistics { ref group, row: 0, .. } if group == "A"),
        "{e}"
    );
    assert!(e.to_string().contains("main_sum = 130"), "{e}");
}

#[test]
fn impossible_statistics_are_named() {
    // Four values summing to 4 have a sum of squares of at least 4.
    let d = stats(
        "sq.csv",
        "arm,count,main_sum,main_sum_squares\nA,4,4,1\nB,4,4,6\n",
    );
    let e = moments_from_stats_rows(&d, "m", &["arm"]).unwrap_err();
    assert!(
        matches!(e, DataError::InvalidStatistics { ref metric, ref group, row: 0, .. } if metric == "m" && group == "A"),
        "{e}"
    );
    let m = e.to_string();
    assert!(
        m.contains("main_sum_squares = 1 is below main_sum² / count = 4"),
        "{m}"
    );
    assert!(m.contains("row 1 (CSV line 2)"), "{m}");
    // Ratio: values (1, 3) over denominators (1, 2) give a product sum of 7; 20 is beyond
    // the Cauchy–Schwarz bound.
    let header = "arm,count,main_sum,main_sum_squares,denominator_sum,denominator_sum_squares,main_denominator_sum_product\n";
    let ok = stats("ratio_ok.csv", &format!("{header}A,2,4,10,3,5,7\n"));
    moments_from_stats_rows(&ok, "r", &["arm"]).unwrap();
    let d = stats(
        "ratio_cs.csv",
        &format!("{header}A,2,4,10,3,5,7\nB,2,4,10,3,5,20\n"),
    );
    let e = moments_from_stats_rows(&d, "r", &["arm"]).unwrap_err();
    assert!(
        matches!(e, DataError::InvalidStatistics { row: 1, .. }),
        "{e}"
    );
    assert!(
        e.to_string().contains("main_denominator_sum_product = 20"),
        "{e}"
    );
    // A negative denominator sum and a negative count.
    let d = stats("ratio_neg.csv", &format!("{header}A,2,4,10,-3,5,-6\n"));
    let e = moments_from_stats_rows(&d, "r", &["arm"]).unwrap_err();
    assert!(
        e.to_string().contains("denominator_sum = -3 is negative"),
        "{e}"
    );
    let d = stats("neg.csv", "arm,count,main_sum,main_sum_squares\nA,-4,4,6\n");
    let e = moments_from_stats_rows(&d, "m", &["arm"]).unwrap_err();
    assert!(matches!(e, DataError::InvalidStatistics { .. }), "{e}");
    // Exact data at the bound (all values equal: zero variance) passes.
    let d = stats(
        "equal.csv",
        "arm,count,main_sum,main_sum_squares\nA,3,0.3,0.03\n",
    );
    moments_from_stats_rows(&d, "m", &["arm"]).unwrap();
}

#[test]
fn a_missing_statistic_does_not_advise_dropping_rows() {
    let d = stats(
        "gap.csv",
        "arm,count,main_sum,main_sum_squares\nA,4,4,6\nB,4,,6\n",
    );
    let e = moments_from_stats_rows(&d, "m", &["arm"]).unwrap_err();
    let m = e.to_string();
    assert!(
        matches!(e, DataError::InvalidStatistics { ref group, row: 1, .. } if group == "B"),
        "{m}"
    );
    assert!(m.contains("`main_sum` is missing"), "{m}");
    assert!(!m.contains("--drop-missing"), "{m}");
}

// ----- KPI grammar -----------------------------------------------------------------------------

fn kpi_reason(spec: &str) -> String {
    match spec.parse::<Kpi>() {
        Err(DataError::InvalidKpi { reason, .. }) => reason,
        other => panic!("{spec}: {other:?}"),
    }
}

#[test]
fn kpi_errors_point_at_the_column() {
    let r = kpi_reason("composite(0.5*y +)");
    assert!(
        r.starts_with("expected a term after '+', found the end at column 18"),
        "{r}"
    );
    // The caret sits under column 18 of the spec.
    let lines: Vec<&str> = r.lines().collect();
    assert_eq!(lines[1], "  composite(0.5*y +)");
    assert_eq!(lines[2], format!("  {}^", " ".repeat(17)));
    let r = kpi_reason("x=composite(0.5*y + + p)");
    assert!(
        r.starts_with("expected a term after '+', found '+' at column 21"),
        "{r}"
    );
    for spec in [
        "x=topbox(y, nan)",
        "x=topbox(y, inf)",
        "x=topbox(y, -infinity)",
        "x=composite(nan*y)",
        "x=composite(inf*y + z)",
    ] {
        let r = kpi_reason(spec);
        assert!(r.contains("not a finite number"), "{spec}: {r}");
    }
    for (spec, want) in [
        (
            "x=composite(y z*2)",
            "expected '+' or '-' between terms, found '*'",
        ),
        ("x=composite()", "a composite needs at least one term"),
        ("x=composite(2*)", "expected a column after '*'"),
        ("x=composite(2 y)", "expected '*' after the weight `2`"),
        ("x=mean(a) extra", "unexpected text after the closing ')'"),
        ("x=mean(a, b)", "mean takes 1 argument(s), got 2"),
        ("x=ratio(a, )", "expected a column name"),
        ("x=median(a)", "unknown kind `median`"),
        ("x=mean(f(a))", "unexpected '('"),
        ("x=mean(`a)", "unclosed backtick-quoted name"),
    ] {
        let r = kpi_reason(spec);
        assert!(r.contains(want), "{spec}: {r}");
        assert!(r.contains(" at column "), "{spec}: {r}");
    }
}

#[test]
fn kpi_specs_that_were_valid_parse_to_the_same_kpi() {
    let composite = |terms: &[(&str, f64)]| KpiKind::Composite {
        terms: terms.iter().map(|(c, w)| (c.to_string(), *w)).collect(),
    };
    let cases: Vec<(&str, &str, KpiKind)> = vec![
        (
            "csat=mean(csat)",
            "csat",
            KpiKind::Mean {
                column: "csat".into(),
            },
        ),
        (
            " my kpi = mean( handle seconds ) ",
            "my kpi",
            KpiKind::Mean {
                column: "handle seconds".into(),
            },
        ),
        (
            "prop(fcr)",
            "prop(fcr)",
            KpiKind::Proportion {
                column: "fcr".into(),
            },
        ),
        (
            "x=MEAN(pre-period)",
            "x",
            KpiKind::Mean {
                column: "pre-period".into(),
            },
        ),
        (
            "t=top_box(csat, 4.5)",
            "t",
            KpiKind::TopBox {
                column: "csat".into(),
                threshold: 4.5,
            },
        ),
        (
            "t=topbox(csat,-1)",
            "t",
            KpiKind::TopBox {
                column: "csat".into(),
                threshold: -1.0,
            },
        ),
        (
            "c=composite(-a + 2*b)",
            "c",
            composite(&[("a", -1.0), ("b", 2.0)]),
        ),
        (
            "c=composite(a - -0.5*b)",
            "c",
            composite(&[("a", 1.0), ("b", 0.5)]),
        ),
        (
            "c=composite(a + -0.5 * b)",
            "c",
            composite(&[("a", 1.0), ("b", -0.5)]),
        ),
        ("c=composite(1e-3*x)", "c", composite(&[("x", 1e-3)])),
        (
            "c=composite(7day_sales)",
            "c",
            composite(&[("7day_sales", 1.0)]),
        ),
        (
            "c=composite(`a-b` - 2*`c d`)",
            "c",
            composite(&[("a-b", 1.0), ("c d", -2.0)]),
        ),
        (
            "r=ratio(revenue, count)",
            "r",
            KpiKind::Ratio {
                numerator: "revenue".into(),
                denominator: Denominator::Count,
            },
        ),
    ];
    for (spec, name, kind) in cases {
        let k: Kpi = spec.parse().unwrap_or_else(|e| panic!("{spec}: {e}"));
        assert_eq!((k.name.as_str(), &k.kind), (name, &kind), "{spec}");
    }
}

fn column_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_][a-z0-9_]{0,8}",
        // Names that need backticks in a composite.
        "[a-z]{1,4}[ -][a-z]{1,4}",
    ]
}

fn finite_number() -> impl Strategy<Value = f64> {
    prop_oneof![
        -1e6..1e6f64,
        (-100i32..100).prop_map(f64::from),
        Just(1e-7),
        Just(-2.5e300),
    ]
}

fn kpi_strategy() -> impl Strategy<Value = Kpi> {
    let kind = prop_oneof![
        column_name().prop_map(|column| KpiKind::Mean { column }),
        column_name().prop_map(|column| KpiKind::Proportion { column }),
        column_name().prop_map(|column| KpiKind::Nps { column }),
        (column_name(), finite_number())
            .prop_map(|(column, threshold)| KpiKind::TopBox { column, threshold }),
        (column_name(), prop::option::of(column_name())).prop_map(|(n, d)| KpiKind::Ratio {
            numerator: n,
            denominator: d.map_or(Denominator::Count, Denominator::Column),
        }),
        prop::collection::vec((column_name(), finite_number()), 1..5)
            .prop_map(|terms| KpiKind::Composite { terms }),
    ];
    ("[a-z][a-z0-9_]{0,6}", kind).prop_map(|(name, kind)| Kpi { name, kind })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Any text parses or is refused with an `InvalidKpi` error; nothing panics.
    #[test]
    fn random_text_never_panics(s in "\\PC{0,40}") {
        if let Err(e) = s.parse::<Kpi>() {
            let ok = matches!(e, DataError::InvalidKpi { .. });
            prop_assert!(ok, "{}", e);
        }
    }

    /// Text built from the grammar's own symbols, where mistakes are likeliest.
    #[test]
    fn grammar_symbol_soup_never_panics(s in "[a-c=()*+,` .0-9e-]{0,30}") {
        if let Ok(k) = s.parse::<Kpi>() {
            // Whatever parses writes back to a spec that parses to the same KPI (a name
            // holding `(` is only a definition's own text, which cannot be written apart).
            if !k.name.contains('(') {
                let spec = k.to_string();
                let back = spec.parse::<Kpi>().map_err(|e| TestCaseError::fail(format!("{s} -> {spec}: {e}")))?;
                prop_assert_eq!(back, k);
            }
        }
    }

    /// A KPI written as a spec parses back to itself.
    #[test]
    fn valid_specs_round_trip(k in kpi_strategy()) {
        let spec = k.to_string();
        let back: Kpi = spec.parse().map_err(|e| TestCaseError::fail(format!("{spec}: {e}")))?;
        prop_assert_eq!(back, k);
    }
}

// ----- dates as periods --------------------------------------------------------------------------

#[test]
fn dates_become_periods_counted_from_the_earliest() {
    let days = Series::new(
        "d".into(),
        [
            Some(19_000i32),
            Some(19_006),
            Some(19_007),
            None,
            Some(19_030),
        ],
    );
    let ms: Vec<Option<i64>> = days
        .i32()
        .unwrap()
        .iter()
        .map(|d| d.map(|d| i64::from(d) * 86_400_000 + 13 * 3_600_000))
        .collect();
    let stamp = |unit: TimeUnit, scale: i64, name: &str| -> Column {
        Series::new(
            name.into(),
            ms.iter().map(|v| v.map(|v| v * scale)).collect::<Vec<_>>(),
        )
        .cast(&DataType::Datetime(unit, None))
        .unwrap()
        .into()
    };
    let df = DataFrame::new_infer_height(vec![
        days.cast(&DataType::Date)
            .unwrap()
            .with_name("date".into())
            .into(),
        stamp(TimeUnit::Milliseconds, 1, "ts_ms"),
        stamp(TimeUnit::Microseconds, 1_000, "ts_us"),
        stamp(TimeUnit::Nanoseconds, 1_000_000, "ts_ns"),
        Series::new(
            "iso".into(),
            [
                Some("2022-01-08"),
                Some("2022-01-14"),
                Some("2022-01-15T23:59:00"),
                None,
                Some("2022-02-07 08:00"),
            ],
        )
        .into(),
        Series::new("week".into(), [Some(1i64), Some(1), Some(2), None, Some(5)]).into(),
    ])
    .unwrap();
    let d = Dataset::from_frame(df, "memory");
    // Width 7 from 2022-01-08 (day 19000): days 0, 6, 7, 30 -> periods 0, 0, 1, 4 (2 and 3
    // are a gap, kept as one).
    for c in ["date", "ts_ms", "ts_us", "ts_ns", "iso"] {
        assert!(d.is_temporal(c).unwrap() || c == "iso");
        assert_eq!(
            d.periods(c, 7).unwrap(),
            vec![Some(0), Some(0), Some(1), None, Some(4)],
            "{c}"
        );
        assert_eq!(
            d.periods(c, 1).unwrap(),
            vec![Some(0), Some(6), Some(7), None, Some(30)],
            "{c}"
        );
    }
    // Whole numbers are the periods themselves.
    assert!(!d.is_temporal("week").unwrap());
    assert_eq!(
        d.periods("week", 1).unwrap(),
        vec![Some(1), Some(1), Some(2), None, Some(5)]
    );
    assert!(matches!(
        d.periods("week", 7),
        Err(DataError::PeriodWidth { ref column, .. }) if column == "week"
    ));
    assert!(matches!(
        d.periods("date", 0),
        Err(DataError::PeriodWidth { .. })
    ));
    // Text that is not a date names its row.
    let bad = Dataset::from_frame(
        df!("t" => ["2022-01-08", "2022-02-30", "x"]).unwrap(),
        "memory",
    );
    assert!(matches!(
        bad.periods("t", 7),
        Err(DataError::NotADate { row: 1, ref value, .. }) if value == "2022-02-30"
    ));
    // Instants before 1970 fall on the right day.
    let early = Dataset::from_frame(
        DataFrame::new_infer_height(vec![Series::new("t".into(), [-1i64, 0, 86_400_000])
            .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
            .unwrap()
            .into()])
        .unwrap(),
        "memory",
    );
    assert_eq!(
        early.periods("t", 1).unwrap(),
        vec![Some(0), Some(1), Some(2)]
    );
    // A Parquet date column round-trips to the same periods.
    let mut df = d.frame().clone();
    let p = tmp_dir().join("dates.parquet");
    ParquetWriter::new(std::fs::File::create(&p).unwrap())
        .finish(&mut df)
        .unwrap();
    let back = Dataset::read(&p).unwrap();
    assert_eq!(
        back.periods("ts_ns", 7).unwrap(),
        d.periods("ts_ns", 7).unwrap()
    );
}

#[test]
fn file_faults_say_row_and_csv_line_as_every_other_error() {
    // Issue 11: "line N" here, "row N (CSV line N+1)" elsewhere. Records are counted as data
    // rows (a quoted line break and a skipped blank line do not start one), so the row and the
    // line can differ.
    let p = tmp_bytes("ragged3.csv", b"arm,y\n\"A\nstill A\",1\n\nB,2\nA,3,4\n");
    let e = Dataset::read(&p).unwrap_err();
    assert!(
        matches!(
            e,
            DataError::RaggedRow {
                row: 2,
                line: 6,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("row 3 (CSV line 6)"), "{e}");
    assert_eq!(scan_err(&p).to_string(), e.to_string());
    // Invalid UTF-8 in a data row and in the header.
    let p = tmp_bytes("latin1b.csv", b"arm,y\nA,1\nB\xe9,2\n");
    let e = Dataset::read(&p).unwrap_err();
    assert!(e.to_string().contains("row 2 (CSV line 3), byte 2"), "{e}");
    let p = tmp_bytes("latin1h.csv", b"arm,\xe9\nA,1\n");
    let e = Dataset::read(&p).unwrap_err();
    assert!(
        matches!(
            e,
            DataError::InvalidUtf8 {
                row: None,
                line: 1,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("the header (CSV line 1)"), "{e}");
}

#[test]
fn describe_shows_integer_columns_min_and_max_as_integers() {
    let p = tmp_bytes("ints.csv", b"year,flag,x\n2003,1,0.5\n2007,0,2\n");
    let d = Dataset::read(&p).unwrap();
    let desc = describe(&d, &[], None, None, MissingPolicy::Error).unwrap();
    let json = serde_json::to_value(&desc).unwrap();
    let col = |n: &str| {
        json["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == n)
            .unwrap()
            .clone()
    };
    // Integer columns: integers in JSON; the float column keeps floats (2.0, not 2).
    assert!(
        col("year")["min"].is_i64() && col("year")["max"] == 2007,
        "{json}"
    );
    assert!(
        col("flag")["min"] == 0 && col("flag")["max"].is_i64(),
        "{json}"
    );
    assert!(
        col("x")["max"].is_f64() && col("x")["min"].is_f64(),
        "{json}"
    );
    // The mean stays a number: (2003 + 2007) / 2 = 2005.
    assert!((col("year")["mean"].as_f64().unwrap() - 2005.0).abs() < 1e-12);
    let year = &desc.columns[0];
    assert_eq!(year.show_stat(year.min, 6), "2003");
    let x = &desc.columns[2];
    assert_eq!(x.show_stat(x.max, 6), "2.000000");
}

//! Issue 11: date and timestamp columns as `--time` for `did`, `synth` and `ab --time`, end to
//! end through the CLI on Parquet files with a `Date` and with a `Timestamp` column.
//!
//! Each bundled dataset's whole-number time column is rewritten as dates (day `d` → a base
//! date + `d` days; years → 1 January), stored in Parquet as a Date or a millisecond Timestamp
//! column, and the analysis is run on both files and on the original. Periods of dates are
//! counted from the earliest date in `--period-width` days, so the panels are the same up to a
//! shift of the period labels, and every estimate must be equal (tolerance 1e-9, the printed
//! JSON's round-trip precision is far finer; the estimators are invariant to a shift of the
//! period labels).

mod common;
use causalkit_data::Dataset;
use common::*;
use serde_json::Value;

/// The ISO date of `days` after 1970-01-01, counted month by month (an implementation
/// independent of the data layer's).
fn iso(mut days: i64) -> String {
    assert!(days >= 0);
    let mut y = 1970;
    loop {
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let len = if leap { 366 } else { 365 };
        if days < len {
            let month_len = [
                31,
                if leap { 29 } else { 28 },
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ];
            let mut m = 0;
            while days >= month_len[m] {
                days -= month_len[m];
                m += 1;
            }
            return format!("{y:04}-{:02}-{:02}", m + 1, days + 1);
        }
        days -= len;
        y += 1;
    }
}

/// Days from 1970-01-01 to 1 January of `year`.
fn jan1(year: i64) -> i64 {
    (1970..year)
        .map(|y| {
            if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                366
            } else {
                365
            }
        })
        .sum()
}

/// Writes `csv` (a repository file) as Parquet with the columns in `dates` turned into dates
/// (`to_day` maps a value to days since 1970-01-01; None = missing), as Date columns or as
/// millisecond Timestamps.
fn dated_parquet(
    csv: &str,
    dates: &[&str],
    to_day: impl Fn(i64) -> Option<i64>,
    timestamp: bool,
    name: &str,
) -> String {
    let mut d = Dataset::read(&root().join(csv)).unwrap();
    for c in dates {
        let text: Vec<Option<String>> = d
            .numeric(c)
            .unwrap()
            .into_iter()
            .map(|v| v.and_then(|v| to_day(v as i64)).map(iso))
            .collect();
        d = d.with_label_column(c, text).unwrap();
        d = d.with_dates(c, timestamp).unwrap();
    }
    let path = tmp_dir().join(name);
    d.write_parquet(&path).unwrap();
    // The file holds real Parquet dates: the data layer reads them back as temporal.
    let back = Dataset::read(&path).unwrap();
    for c in dates {
        assert!(back.is_temporal(c).unwrap(), "{c} in {name}");
    }
    path.display().to_string()
}

fn estimates(v: &Value) -> Vec<f64> {
    v["effects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| num(&e["estimate"]))
        .collect()
}

fn same(a: &[f64], b: &[f64], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: {a:?} vs {b:?}");
    for (x, y) in a.iter().zip(b) {
        assert!(
            (x - y).abs() <= 1e-9 * (1.0 + x.abs()),
            "{what}: {a:?} vs {b:?}"
        );
    }
}

#[test]
fn did_on_date_and_timestamp_columns_equals_the_integer_run() {
    // Staggered contacts: day 1 = 2024-01-01; adoption day 0 = never treated.
    let base = jan1(2024) - 1;
    let day = |d: i64| Some(base + d);
    let csv = "datasets/contact-centre/staggered_contacts.csv";
    for timestamp in [false, true] {
        let name = format!("staggered_{timestamp}.parquet");
        // One function for both columns: 0 never occurs as a day.
        let file = dated_parquet(
            csv,
            &["day", "adoption_day"],
            |v| if v == 0 { None } else { day(v) },
            timestamp,
            &name,
        );
        for method in ["twfe", "cs", "imputation"] {
            let args = |data: &str| {
                vec![
                    "did",
                    "--data",
                    data,
                    "--unit",
                    "site",
                    "--time",
                    "day",
                    "--outcome",
                    "handle_seconds",
                    "--cohort",
                    "adoption_day",
                    "--events",
                    "--period-width",
                    "7",
                    "--method",
                    method,
                    "--format",
                    "json",
                ]
                .into_iter()
                .map(String::from)
                .collect::<Vec<_>>()
            };
            let ints = ok_json(&args(csv));
            let dated = ok_json(&args(&file));
            same(&estimates(&ints), &estimates(&dated), method);
            let note = dated["diagnostics"]["periods"].as_str().unwrap();
            assert!(
                note.contains("2024-01-01") && note.contains("7 day(s)"),
                "{note}"
            );
            assert!(ints["diagnostics"].get("periods").is_none());
        }
    }
    // Rows as given (no --events): mpdta's years as 1 January, periods of 365 days (the leap
    // days of 2004 do not reach a new period). TWFE -0.0365489 as with integer years.
    let file = dated_parquet(
        "datasets/mpdta.csv",
        &["year", "first.treat"],
        |y| (y != 0).then(|| jan1(y)),
        true,
        "mpdta_ts.parquet",
    );
    for method in ["twfe", "cs"] {
        let args = |data: &str, width: bool| {
            let mut v: Vec<String> = [
                "did",
                "--data",
                data,
                "--unit",
                "countyreal",
                "--time",
                "year",
                "--outcome",
                "lemp",
                "--cohort",
                "first.treat",
                "--method",
                method,
                "--format",
                "json",
            ]
            .into_iter()
            .map(String::from)
            .collect();
            if width {
                v.extend(["--period-width".to_string(), "365".to_string()]);
            }
            v
        };
        let ints = ok_json(&args("datasets/mpdta.csv", false));
        let dated = ok_json(&args(&file, true));
        same(&estimates(&ints), &estimates(&dated), method);
    }
    // A width with an integer time column and no --events is refused, naming the column.
    let e = bad(&[
        "did",
        "--data",
        "datasets/mpdta.csv",
        "--unit",
        "countyreal",
        "--time",
        "year",
        "--outcome",
        "lemp",
        "--cohort",
        "first.treat",
        "--period-width",
        "7",
    ]);
    assert!(e.contains("`year`") && e.contains("date"), "{e}");
}

#[test]
fn synth_on_date_and_timestamp_columns_equals_the_integer_run() {
    let csv = "datasets/california_prop99.csv";
    let ints = ok_json(&[
        "synth",
        "--data",
        csv,
        "--unit",
        "State",
        "--time",
        "Year",
        "--outcome",
        "PacksPerCapita",
        "--treated-unit",
        "California",
        "--treatment-start",
        "1989",
        "--se",
        "none",
        "--format",
        "json",
    ]);
    for timestamp in [false, true] {
        let file = dated_parquet(
            csv,
            &["Year"],
            |y| Some(jan1(y)),
            timestamp,
            &format!("prop99_{timestamp}.parquet"),
        );
        let dated = ok_json(&[
            "synth",
            "--data",
            &file,
            "--unit",
            "State",
            "--time",
            "Year",
            "--outcome",
            "PacksPerCapita",
            "--treated-unit",
            "California",
            "--treatment-start",
            "1989-01-01",
            "--period-width",
            "365",
            "--se",
            "none",
            "--format",
            "json",
        ]);
        same(&estimates(&ints), &estimates(&dated), "sdid");
        assert!(dated["diagnostics"]["periods"]
            .as_str()
            .unwrap()
            .contains("1970-01-01"));
        // A start that is not a date of the data names the column and lists periods.
        let e = bad(&[
            "synth",
            "--data",
            &file,
            "--unit",
            "State",
            "--time",
            "Year",
            "--outcome",
            "PacksPerCapita",
            "--treated-unit",
            "California",
            "--treatment-start",
            "1989",
            "--period-width",
            "365",
        ]);
        assert!(
            e.contains("--treatment-start") && e.contains("`Year`"),
            "{e}"
        );
    }
}

#[test]
fn ab_cumulative_view_on_date_and_timestamp_columns() {
    let csv = "datasets/contact-centre/ab_contacts.csv";
    let base = jan1(2024) - 1;
    let run_ab = |data: &str, width: Option<&str>, dir: &str| {
        let plot = tmp_dir().join(dir).display().to_string();
        let mut v: Vec<String> = [
            "ab",
            "--data",
            data,
            "--metric",
            "aht=mean(handle_seconds)",
            "--time",
            "day",
            "--plot",
            &plot,
            "--format",
            "json",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        if let Some(w) = width {
            v.extend(["--period-width".to_string(), w.to_string()]);
        }
        ok_json(&v)
    };
    let points = |v: &Value| -> Vec<(f64, f64)> {
        v["diagnostics"]["cumulative"]["aht"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (num(&p["time"]), num(&p["estimate"])))
            .collect()
    };
    let ints = points(&run_ab(csv, None, "ab_int"));
    for timestamp in [false, true] {
        let file = dated_parquet(
            csv,
            &["day"],
            |d| Some(base + d),
            timestamp,
            &format!("ab_{timestamp}.parquet"),
        );
        // Daily periods: day d is period d - 1 (the first day is period 0).
        let daily = points(&run_ab(&file, None, &format!("ab_d_{timestamp}")));
        assert_eq!(daily.len(), ints.len());
        for (a, b) in ints.iter().zip(&daily) {
            assert!((a.0 - 1.0 - b.0).abs() < 1e-12 && (a.1 - b.1).abs() < 1e-9);
        }
        // Weekly periods: the running estimate at the end of each week is the daily one at
        // that week's last day present in the data.
        let weekly = points(&run_ab(&file, Some("7"), &format!("ab_w_{timestamp}")));
        assert!(weekly.len() > 1 && weekly.len() < daily.len(), "{weekly:?}");
        for (week, est) in &weekly {
            let last = ints
                .iter()
                .rfind(|p| (((p.0 - 1.0) / 7.0).floor() - week).abs() < 0.5)
                .expect("a day in the week");
            assert!((last.1 - est).abs() < 1e-9, "week {week}");
        }
    }
    // A width in days with a numeric time column is refused.
    let plot = tmp_dir().join("ab_bad").display().to_string();
    let e = bad(&[
        "ab",
        "--data",
        csv,
        "--metric",
        "aht=mean(handle_seconds)",
        "--time",
        "day",
        "--plot",
        &plot,
        "--period-width",
        "7",
    ]);
    assert!(e.contains("`day`") && e.contains("date"), "{e}");
}

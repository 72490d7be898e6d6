//! `causalkit did|synth --engine postgres://... --table T` on a real PostgreSQL server gives
//! the same JSON as `--data FILE --events` on the same rows (the in-process CLI path, the
//! independent implementation): every effect's numbers to 1e-9 relative (the panels differ
//! only in the order of floating-point additions within a cell).
//!
//! Run by `.ci/engines.sh` (a throwaway PostgreSQL 15 on 127.0.0.1, `CAUSALKIT_PG_URL`);
//! compiled only with the cli's `postgres` feature. The events are simulated contact-centre
//! contacts (several per site and day, a staggered go-live that cuts handle time by 25 s).
#![cfg(feature = "postgres")]

mod common;
use causalkit_warehouse::postgres::PostgresEngine;
use common::*;
use serde_json::Value;
use std::time::Duration;

fn url() -> String {
    std::env::var("CAUSALKIT_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:55432/postgres".into())
}

/// A seeded xorshift generator: uniform draws in [0, 1).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    /// A roughly normal draw (sum of 12 uniforms − 6).
    fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.next()).sum::<f64>() - 6.0
    }
}

/// 18 sites x 42 days from 2024-01-01, 2–6 contacts a site-day; sites 0, 6, 12 go live on
/// 2024-01-22, sites 1, 7, 13 on 2024-02-05, the other 12 never.
fn simulate() -> String {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let mut csv = String::from("site,day,handle_seconds,go_live,treated\n");
    let date = |d: i64| format!("2024-{:02}-{:02}", 1 + d / 31, 1 + d % 31);
    for s in 0..18 {
        let level = 300.0 + 30.0 * r.normal();
        let go = match s % 6 {
            0 => Some(21),
            1 => Some(35),
            _ => None,
        };
        for day in 0..42 {
            let treated = go.is_some_and(|g| day >= g);
            for _ in 0..2 + (r.next() * 5.0) as usize {
                let hs =
                    level + 0.5 * day as f64 - if treated { 25.0 } else { 0.0 } + 50.0 * r.normal();
                csv += &format!(
                    "s{s:02},{},{hs:?},{},{}\n",
                    date(day),
                    go.map(date).unwrap_or_default(),
                    treated as i64
                );
            }
        }
    }
    csv
}

/// Loads the events into table `name` and writes them to a CSV file; returns its path.
fn load(name: &str) -> String {
    let csv = simulate();
    let mut pg = PostgresEngine::connect(&url(), Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("{e} (start the server with .ci/engines.sh)"));
    pg.load_csv(
        name,
        "site TEXT, day DATE, handle_seconds DOUBLE PRECISION, go_live DATE, treated INTEGER",
        &csv,
    )
    .unwrap();
    tmp(&format!("{name}.csv"), &csv)
}

/// Every number in the effects equal to 1e-9 relative, every other value exactly.
fn same(a: &Value, b: &Value, path: &str) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1e-300),
                "{path}: engine {x} vs file {y}"
            );
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{path}");
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                same(x, y, &format!("{path}[{i}]"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(
                x.keys().collect::<Vec<_>>(),
                y.keys().collect::<Vec<_>>(),
                "{path}"
            );
            for (k, v) in x {
                same(v, &y[k], &format!("{path}.{k}"));
            }
        }
        _ => assert_eq!(a, b, "{path}"),
    }
}

fn run_both(command: &str, table: &str, flags: &[&str]) -> (Value, Value) {
    let file = load(table);
    let mut local: Vec<String> = vec![command.into(), "--data".into(), file, "--events".into()];
    let mut engine: Vec<String> = vec![
        command.into(),
        "--engine".into(),
        url(),
        "--table".into(),
        table.into(),
    ];
    for f in flags {
        local.push(f.to_string());
        engine.push(f.to_string());
    }
    (ok_json(&engine), ok_json(&local))
}

#[test]
fn did_on_the_engine_panel_equals_the_file() {
    let flags = [
        "--unit",
        "site",
        "--time",
        "day",
        "--period-width",
        "7",
        "--outcome",
        "aht=mean(handle_seconds)",
        "--cohort",
        "go_live",
        "--format",
        "json",
    ];
    for method in ["twfe", "cs"] {
        let mut f = flags.to_vec();
        f.extend(["--method", method]);
        let (e, l) = run_both("did", "cli_panel_did", &f);
        same(
            &e["effects"],
            &l["effects"],
            &format!("did {method} effects"),
        );
        assert_eq!(e["diagnostics"]["periods"], l["diagnostics"]["periods"]);
        assert_eq!(e["diagnostics"]["panel"], l["diagnostics"]["panel"]);
        if method == "twfe" {
            let att = num(&e["effects"][0]["estimate"]);
            assert!((att + 25.0).abs() < 12.0, "near the true -25 s: {att}");
        }
    }
}

#[test]
fn synth_sdid_on_the_engine_panel_equals_the_file() {
    let flags = [
        "--unit",
        "site",
        "--time",
        "day",
        "--period-width",
        "7",
        "--outcome",
        "aht=mean(handle_seconds)",
        "--treated",
        "treated",
        "--method",
        "sdid",
        "--placebo",
        "50",
        "--format",
        "json",
    ];
    let (e, l) = run_both("synth", "cli_panel_synth", &flags);
    same(&e["effects"], &l["effects"], "synth effects");
    assert_eq!(e["diagnostics"]["periods"], l["diagnostics"]["periods"]);
}

#[test]
fn engine_errors_name_the_engine_table_and_column() {
    load("cli_panel_errors");
    let base = |table: &str, outcome: &str| -> Vec<String> {
        [
            "did",
            "--engine",
            &url(),
            "--table",
            table,
            "--unit",
            "site",
            "--time",
            "day",
            "--outcome",
            outcome,
            "--cohort",
            "go_live",
        ]
        .map(String::from)
        .to_vec()
    };
    let e = bad(&base("no_such_table", "handle_seconds"));
    assert!(e.contains("no_such_table"), "{e}");
    let e = bad(&base("cli_panel_errors", "talk_seconds"));
    assert!(
        e.contains("talk_seconds") && e.contains("cli_panel_errors"),
        "{e}"
    );
    // Nothing listens on port 1: an engine failure, exit 1.
    let mut down = base("cli_panel_errors", "handle_seconds");
    down[2] = "postgres://postgres@127.0.0.1:1/postgres".into();
    let e = fails_with(1, &down);
    assert!(e.contains("127.0.0.1:1"), "{e}");
}

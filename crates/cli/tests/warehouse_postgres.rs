//! `causalkit ab --engine postgres://...` and `causalkit sql --dialect postgres` on a real
//! PostgreSQL server give the same effects as `causalkit ab --data` on the same rows.
//!
//! Run by `.ci/engines.sh`, which starts a throwaway PostgreSQL 15 cluster on
//! 127.0.0.1:55432 and sets `CAUSALKIT_PG_URL`; compiled only with the cli's `postgres`
//! feature. The rows (seeded, simulated contacts: agents randomised to arms, tiers, a
//! pre-period, a missing survey answer on some rows) are written to a CSV file and COPY'd
//! into a table. The in-process path (`ab --data FILE`) is the independent implementation:
//! it sums the rows in Rust; the engine sums them in SQL. Every effect's estimate, standard
//! error, interval ends and p-value must agree to 1e-9 relative (of the larger of the two
//! values and the effect's standard error) — the two differ only in the order of
//! floating-point additions.
#![cfg(feature = "postgres")]

mod common;
use causalkit_warehouse::postgres::PostgresEngine;
use causalkit_warehouse::Engine;
use common::*;
use serde_json::Value;
use std::time::Duration;

fn url() -> String {
    std::env::var("CAUSALKIT_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:55432/postgres".into())
}

/// splitmix64: a small seeded generator (the test needs reproducible rows, not quality).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn normal(&mut self) -> f64 {
        let u = self.uniform().max(1e-300);
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

const COLUMNS: &str = "arm TEXT, tier TEXT, agent INTEGER, handle_seconds DOUBLE PRECISION, \
    pre_handle DOUBLE PRECISION, revenue DOUBLE PRECISION, orders INTEGER, \
    pre_revenue DOUBLE PRECISION, pre_orders INTEGER, fcr INTEGER, score INTEGER, \
    survey DOUBLE PRECISION";

/// Seeded contact rows: 120 agents randomised to arms, 4–30 contacts each, in three tiers;
/// `survey` missing on about 15% of rows.
fn simulate(seed: u64) -> String {
    let mut r = Rng(seed);
    let mut csv = String::from(
        "arm,tier,agent,handle_seconds,pre_handle,revenue,orders,pre_revenue,pre_orders,fcr,score,survey\n",
    );
    let tiers = ["bronze", "silver", "gold"];
    for agent in 0..120 {
        let treated = r.uniform() < 0.5;
        let arm = if treated { "treatment" } else { "control" };
        let tier = tiers[r.below(3) as usize];
        let skill = 40.0 * r.normal();
        for _ in 0..4 + r.below(27) {
            let pre_handle = 300.0 + skill + 60.0 * r.normal();
            let hs = 0.7 * pre_handle + 90.0 - if treated { 12.0 } else { 0.0 } + 50.0 * r.normal();
            let pre_orders = 1 + r.below(5);
            let orders = 1 + r.below(5);
            let pre_rev = pre_orders as f64 * (40.0 + 8.0 * r.normal());
            let rev = 0.5 * pre_rev
                + orders as f64 * (16.0 + 6.0 * r.normal())
                + if treated { 3.0 } else { 0.0 };
            let fcr = u8::from(r.uniform() < if treated { 0.72 } else { 0.66 });
            let score = r.below(11);
            let survey = if r.uniform() < 0.15 {
                String::new()
            } else {
                format!("{:?}", 7.0 + 1.5 * r.normal())
            };
            csv += &format!(
                "{arm},{tier},{agent},{hs:?},{pre_handle:?},{rev:?},{orders},{pre_rev:?},{pre_orders},{fcr},{score},{survey}\n"
            );
        }
    }
    csv
}

/// Creates `table` in PostgreSQL and COPYs `csv` into it; writes the same rows to a CSV file
/// and returns its path.
fn load(table: &str, csv: &str) -> String {
    let mut pg = PostgresEngine::connect(&url(), Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("{e} (start the server with .ci/engines.sh)"));
    let n = pg.load_csv(table, COLUMNS, csv).unwrap();
    assert_eq!(n as usize, csv.lines().count() - 1);
    tmp(&format!("{table}.csv"), csv)
}

fn close(a: f64, b: f64, scale: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(scale)
}

/// The effects of two `ab --format json` results agree: the same keys in the same order,
/// the numbers to 1e-9 relative. Returns how many effects were compared.
fn assert_same_effects(what: &str, engine: &Value, data: &Value) -> usize {
    let (e, d) = (
        engine["effects"].as_array().expect("effects"),
        data["effects"].as_array().expect("effects"),
    );
    assert_eq!(e.len(), d.len(), "{what}: number of effects");
    assert!(!d.is_empty(), "{what}: no effects");
    for (x, y) in e.iter().zip(d) {
        assert_eq!(x["label"], y["label"], "{what}");
        assert_eq!(x["key"], y["key"], "{what}");
        let se = y["std_error"].as_f64().unwrap_or(0.0).abs();
        for f in ["estimate", "std_error", "ci_low", "ci_high"] {
            match (x[f].as_f64(), y[f].as_f64()) {
                (Some(a), Some(b)) => assert!(
                    close(a, b, se),
                    "{what}: {} {f}: engine {a} vs data {b}",
                    y["label"]
                ),
                _ => assert_eq!(x[f], y[f], "{what}: {} {f}", y["label"]),
            }
        }
        match (x["p_value"].as_f64(), y["p_value"].as_f64()) {
            (Some(a), Some(b)) => {
                assert!((a - b).abs() <= 1e-9, "{what}: {} p {a} vs {b}", y["label"])
            }
            _ => assert_eq!(x["p_value"], y["p_value"], "{what}"),
        }
    }
    d.len()
}

/// Scenarios: (name, flags after `--metric ...`).
fn scenarios() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        (
            "cuped_segment",
            vec![
                "--metric",
                "aht=mean(handle_seconds)",
                "--metric",
                "fcr=proportion(fcr)",
                "--metric",
                "nps=nps(score)",
                "--metric",
                "promoters=topbox(score, 9)",
                "--covariate",
                "pre_handle",
                "--segment",
                "tier",
            ],
        ),
        (
            "ratio_cuped_unit_segment",
            vec![
                "--metric",
                "aov=ratio(revenue, orders)",
                "--metric",
                "revenue_per_contact=ratio(revenue, count)",
                "--covariate",
                "pre_revenue/pre_orders",
                "--unit",
                "agent",
                "--segment",
                "tier",
            ],
        ),
        (
            // Caps from the pre-query (PostgreSQL's percentile_cont is exact and interpolates
            // as numpy's default, so the caps equal the in-process ones), applied in the
            // main query.
            "winsorized_segment",
            vec![
                "--metric",
                "aht=mean(handle_seconds)",
                "--metric",
                "aov=ratio(revenue, orders)",
                "--metric",
                "fcr=proportion(fcr)",
                "--winsorize",
                ",0.95",
                "--winsorize",
                "aov=0.05,0.9",
                "--segment",
                "tier",
            ],
        ),
        (
            "winsorized_unit_drop_missing",
            vec![
                "--metric",
                "rpc=ratio(revenue, count)",
                "--metric",
                "survey=mean(survey)",
                "--winsorize",
                "0.02,0.98",
                "--unit",
                "agent",
                "--drop-missing",
            ],
        ),
        (
            "unit_drop_missing",
            vec![
                "--metric",
                "aht=ratio(handle_seconds, count)",
                "--metric",
                "fcr=proportion(fcr)",
                "--metric",
                "survey=mean(survey)",
                "--unit",
                "agent",
                "--drop-missing",
            ],
        ),
    ]
}

#[test]
fn ab_engine_postgres_equals_ab_data() {
    let table = "cli_engine_contacts";
    let file = load(table, &simulate(15));
    let engine = url();
    for (name, flags) in scenarios() {
        let mut on_engine = vec!["ab", "--engine", &engine, "--table", table];
        on_engine.extend(&flags);
        on_engine.extend(["--format", "json"]);
        let mut on_file = vec!["ab", "--data", &file];
        on_file.extend(&flags);
        on_file.extend(["--format", "json"]);
        let e = ok_json(&on_engine);
        let d = ok_json(&on_file);
        let n = assert_same_effects(name, &e, &d);
        // Winsorised: the caps themselves equal the in-process ones.
        let mut caps = 0;
        if let Some(notes) = d["diagnostics"]["metrics"].as_object() {
            for (metric, note) in notes {
                let Some(w) = note.get("winsorized") else {
                    continue;
                };
                let ew = &e["diagnostics"]["metrics"][metric]["winsorized"];
                caps += 1;
                for cap in ["lower_cap", "upper_cap"] {
                    match (w[cap].as_f64(), ew[cap].as_f64()) {
                        (Some(a), Some(b)) => {
                            assert!(close(a, b, 0.0), "{name} {metric} {cap}: {a} vs {b}")
                        }
                        (a, b) => assert_eq!(a, b, "{name} {metric} {cap}"),
                    }
                }
            }
        }
        assert_eq!(
            caps > 0,
            name.starts_with("winsorized"),
            "{name}: winsorised metrics compared: {caps}"
        );
        assert!(
            e["diagnostics"]["source"]
                .as_str()
                .is_some_and(|s| s.contains(table) && s.contains("127.0.0.1")),
            "{}",
            e["diagnostics"]["source"]
        );
        eprintln!("{name}: {n} effects from PostgreSQL equal to `ab --data`");
    }
}

/// A `causalkit sql` case: name, `sql` flags, `ab --stats` metric flags, shared flags.
type SqlCase<'a> = (&'a str, &'a [&'a str], &'a [&'a str], &'a [&'a str]);

/// `causalkit sql --dialect postgres` prints a query; run by the server (as a user would run
/// it in their warehouse), its result file read by `ab --stats` gives the effects of
/// `ab --data`. (Scenarios: (name, `sql` flags, `ab --stats` metric flags, shared flags).)
#[test]
fn sql_output_run_by_postgres_reads_back_with_stats() {
    let table = "cli_sql_contacts";
    let file = load(table, &simulate(21));
    let mut pg = PostgresEngine::connect(&url(), Duration::from_secs(60)).unwrap();
    let cases: [SqlCase; 3] = [
        (
            "ratio_cuped_segment",
            &[
                "--metric",
                "aov=ratio(revenue, orders)",
                "--metric",
                "rpc=ratio(revenue, count)",
                "--covariate",
                "pre_revenue/pre_orders",
            ],
            &["--metric", "aov=ratio", "--metric", "rpc=ratio"],
            &["--segment", "tier"],
        ),
        (
            "proportion_nps_segment",
            &[
                "--metric",
                "fcr=proportion(fcr)",
                "--metric",
                "nps=nps(score)",
            ],
            &["--metric", "fcr=proportion", "--metric", "nps"],
            &["--segment", "tier"],
        ),
        (
            // The printed statement computes its own caps (a joined percentile subquery).
            "winsorized_self_capping",
            &[
                "--metric",
                "aov=ratio(revenue, orders)",
                "--metric",
                "rpc=ratio(revenue, count)",
                "--winsorize",
                "0.05,0.95",
                "--winsorize",
                "rpc=,0.9",
            ],
            &["--metric", "aov=ratio", "--metric", "rpc=ratio"],
            &["--segment", "tier"],
        ),
    ];
    for (name, metrics, stats_metrics, shared) in cases {
        let mut sql_args = vec!["sql", "--dialect", "postgres", "--table", table];
        sql_args.extend(metrics);
        sql_args.extend(shared);
        let sql = ok(&sql_args);
        // The same SQL as `ab --dialect postgres --explain`.
        let mut explain = vec!["ab", "--dialect", "postgres", "--table", table, "--explain"];
        explain.extend(metrics);
        explain.extend(shared);
        assert_eq!(sql, ok(&explain), "{name}");
        let result = pg
            .query(&causalkit_warehouse::TableName(vec![table.into()]), &sql)
            .unwrap();
        let stats_file = tmp(&format!("{name}_stats.csv"), &result.to_csv());
        let mut on_stats = vec!["ab", "--stats", &stats_file];
        on_stats.extend(stats_metrics);
        on_stats.extend(shared);
        on_stats.extend(["--format", "json"]);
        let mut on_file = vec!["ab", "--data", &file];
        on_file.extend(metrics);
        on_file.extend(shared);
        on_file.extend(["--format", "json"]);
        let n = assert_same_effects(name, &ok_json(&on_stats), &ok_json(&on_file));
        eprintln!("{name}: `causalkit sql` run by PostgreSQL, read by `ab --stats`: {n} effects equal to `ab --data`");
    }
}

#[test]
fn ab_engine_errors_name_engine_table_and_column() {
    let table = "cli_engine_errors";
    load(table, &simulate(3));
    let engine = url();
    // A table that does not exist: bad input, exit 2, naming engine and table.
    let e = bad(&[
        "ab",
        "--engine",
        &engine,
        "--table",
        "no_such_table",
        "--metric",
        "aht=mean(handle_seconds)",
    ]);
    let host_port = engine
        .split_once('@')
        .and_then(|(_, r)| r.split_once('/'))
        .map(|(h, _)| h.to_string())
        .unwrap();
    assert!(e.contains("no_such_table") && e.contains(&host_port), "{e}");
    // A column that does not exist.
    let e = bad(&[
        "ab",
        "--engine",
        &engine,
        "--table",
        table,
        "--metric",
        "aht=mean(handle_secs)",
    ]);
    assert!(e.contains("`handle_secs`") && e.contains(table), "{e}");
    // A text column as a metric: a type mismatch naming the column.
    let e = bad(&[
        "ab",
        "--engine",
        &engine,
        "--table",
        table,
        "--metric",
        "t=mean(tier)",
    ]);
    assert!(e.contains("`tier`") && e.contains("numeric"), "{e}");
    // Missing values without --drop-missing name the metric and the columns.
    let e = bad(&[
        "ab",
        "--engine",
        &engine,
        "--table",
        table,
        "--metric",
        "survey=mean(survey)",
    ]);
    assert!(e.contains("survey") && e.contains("--drop-missing"), "{e}");
    // An engine that cannot be reached: an engine failure, exit 1, naming the address.
    let e = fails_with(
        1,
        &[
            "ab",
            "--engine",
            "postgres://postgres@127.0.0.1:1/postgres",
            "--table",
            table,
            "--metric",
            "aht=mean(handle_seconds)",
        ],
    );
    assert!(
        e.contains("cannot reach engine postgres://postgres@127.0.0.1:1/postgres"),
        "{e}"
    );
    // A password in the address is refused before connecting.
    let e = bad(&[
        "ab",
        "--engine",
        &engine.replace("postgres@", "postgres:secret@"),
        "--table",
        table,
        "--metric",
        "aht=mean(handle_seconds)",
    ]);
    assert!(e.contains("PGPASSWORD") && !e.contains("secret"), "{e}");
}

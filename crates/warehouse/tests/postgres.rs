//! The aggregation on a real PostgreSQL server equals the in-process statistics.
//!
//! Run by `.ci/engines.sh`, which starts a throwaway PostgreSQL 15 cluster on
//! 127.0.0.1:55432 and sets `CAUSALKIT_PG_URL`; compiled only with `--features postgres`.
//! Simulated contact-centre rows (seeded) are COPY'd into a table; the warehouse statistics,
//! read by the `--stats` reader (`AbSource::StatsRows`) and fed to the A/B review, must equal
//! the in-process path (`AbSource::Rows` on the same rows) to 1e-9 relative — for CUPED on
//! row-level metrics of every KPI transform with a segment, GrowthBook's ratio CUPED with a
//! segment and `--unit` aggregation, and `--unit` with dropped missing values. The
//! in-process path is the independent implementation (plain Rust loops over the rows); the
//! SQL sums the same values in the engine. Tolerance: 1e-9 of each statistic's scale (for a
//! sum, max(|a|, |b|, sqrt(n Σx²)); for a cross-product, max(|a|, |b|, sqrt(Σx² Σy²)))
//! — the two differ only by the order of floating-point additions.
#![cfg(feature = "postgres")]

use causalkit_ab::review::{AbData, AbSpec, MetricCells, MetricData, MetricSpec};
use causalkit_ab::MetricType;
use causalkit_data::ab_stats::{ab_statistics, AbCells, AbSource, AbStatsRequest};
use causalkit_data::{Dataset, Kpi, KpiKind, MissingPolicy, Moments};
use causalkit_stats::Report;
use causalkit_warehouse::postgres::PostgresEngine;
use causalkit_warehouse::Engine;
use causalkit_warehouse::{
    run_stats, Adjustment, Denominator, Metric, MetricKind, StatsRequest, TableName, WarehouseError,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn url() -> String {
    std::env::var("CAUSALKIT_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:55432/postgres".into())
}

fn connect() -> PostgresEngine {
    PostgresEngine::connect(&url(), Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("{e} (start the server with .ci/engines.sh)"))
}

const COLUMNS: &str = "arm TEXT, tier TEXT, agent INTEGER, handle_seconds DOUBLE PRECISION, \
    revenue DOUBLE PRECISION, orders INTEGER, pre_revenue DOUBLE PRECISION, pre_orders INTEGER, \
    csat INTEGER, pre_csat DOUBLE PRECISION, fcr INTEGER, score INTEGER, click INTEGER, \
    purchase INTEGER, survey DOUBLE PRECISION";

/// Seeded contact rows: agents randomised to arms, each agent in one tier, 5–40 contacts per
/// agent, a true treatment effect on handle time and revenue; `survey` is missing on ~20% of
/// rows.
fn simulate(seed: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let noise = Normal::new(0.0, 1.0).unwrap();
    let mut csv = String::from(
        "arm,tier,agent,handle_seconds,revenue,orders,pre_revenue,pre_orders,csat,pre_csat,fcr,score,click,purchase,survey\n",
    );
    let tiers = ["bronze", "silver", "gold"];
    for agent in 0..150 {
        let treated = rng.random_bool(0.5);
        let arm = if treated { "treatment" } else { "control" };
        let tier = tiers[rng.random_range(0..3)];
        let skill: f64 = 40.0 * noise.sample(&mut rng);
        for _ in 0..rng.random_range(5..40) {
            let pre_orders: i64 = rng.random_range(1..6);
            let orders: i64 = (pre_orders + rng.random_range(-1..2)).max(1);
            let pre_rev = pre_orders as f64 * (40.0 + 8.0 * noise.sample(&mut rng));
            let rev = 0.6 * pre_rev
                + orders as f64 * (16.0 + 6.0 * noise.sample(&mut rng))
                + if treated { 3.0 } else { 0.0 };
            let hs =
                310.0 + skill - if treated { 12.0 } else { 0.0 } + 70.0 * noise.sample(&mut rng);
            let pre_csat = 3.0 + 0.8 * noise.sample(&mut rng);
            let csat = (pre_csat + 0.6 * noise.sample(&mut rng) + if treated { 0.2 } else { 0.0 })
                .round()
                .clamp(1.0, 5.0) as i64;
            let fcr = rng.random_bool(if treated { 0.72 } else { 0.68 }) as i64;
            let score: i64 = rng.random_range(0..11);
            let click = rng.random_bool(0.4) as i64;
            let purchase = rng.random_bool(0.1) as i64;
            let survey = if rng.random_bool(0.2) {
                String::new()
            } else {
                format!("{:?}", 7.0 + 1.5 * noise.sample(&mut rng))
            };
            csv += &format!(
                "{arm},{tier},{agent},{hs:?},{rev:?},{orders},{pre_rev:?},{pre_orders},{csat},{pre_csat:?},{fcr},{score},{click},{purchase},{survey}\n"
            );
        }
    }
    csv
}

fn tmp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("causalkit_wh_pg_{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Creates `name` with [`COLUMNS`] and COPYs `csv` into it.
fn load(pg: &mut PostgresEngine, name: &str, csv: &str) {
    let q = format!("\"{}\"", name.replace('"', "\"\""));
    pg.execute(&format!(
        "DROP TABLE IF EXISTS {q}; CREATE TABLE {q} ({COLUMNS})"
    ))
    .unwrap();
    let n = pg
        .copy_in(
            &format!("COPY {q} FROM STDIN WITH (FORMAT csv, HEADER true)"),
            csv.as_bytes(),
        )
        .unwrap();
    assert_eq!(n as usize, csv.lines().count() - 1);
}

/// The warehouse metric of a data-layer KPI.
fn metric_of(k: &Kpi) -> Metric {
    let kind = match &k.kind {
        KpiKind::Mean { column } => MetricKind::Mean {
            column: column.clone(),
        },
        KpiKind::Proportion { column } => MetricKind::Proportion {
            column: column.clone(),
        },
        KpiKind::Ratio {
            numerator,
            denominator,
        } => MetricKind::Ratio {
            numerator: numerator.clone(),
            denominator: match denominator {
                causalkit_data::Denominator::Count => Denominator::Count,
                causalkit_data::Denominator::Column(c) => Denominator::Column(c.clone()),
            },
        },
        KpiKind::Nps { column } => MetricKind::Nps {
            column: column.clone(),
        },
        KpiKind::TopBox { column, threshold } => MetricKind::TopBox {
            column: column.clone(),
            threshold: *threshold,
        },
        KpiKind::Composite { terms } => MetricKind::Composite {
            terms: terms.clone(),
        },
    };
    Metric {
        name: k.name.clone(),
        kind,
    }
}

struct Scenario {
    name: &'static str,
    kpis: Vec<(&'static str, MetricType)>,
    segment: Option<&'static str>,
    unit: Option<&'static str>,
    covariates: Vec<&'static str>,
    adjustment: Adjustment,
    drop_missing: bool,
    ratio_covariate: Option<&'static str>,
}

fn close(a: f64, b: f64, scale: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(scale)
}

fn assert_moments_equal(what: &str, a: &Moments, b: &Moments) {
    assert_eq!(a.n(), b.n(), "{what}: count");
    let p = a.names().len();
    assert_eq!(
        p,
        b.names().len(),
        "{what}: variables {:?} vs {:?}",
        a.names(),
        b.names()
    );
    let n = a.n() as f64;
    for i in 0..p {
        let scale = (n * a.sum_product(i, i)).abs().sqrt();
        assert!(
            close(a.sum(i), b.sum(i), scale),
            "{what}: sum of {} {} vs {}",
            a.names()[i],
            a.sum(i),
            b.sum(i)
        );
        for j in 0..=i {
            let scale = (a.sum_product(i, i) * a.sum_product(j, j)).abs().sqrt();
            assert!(
                close(a.sum_product(i, j), b.sum_product(i, j), scale),
                "{what}: cross ({i},{j}) {} vs {}",
                a.sum_product(i, j),
                b.sum_product(i, j)
            );
        }
    }
}

fn review(s: &Scenario, cells: Vec<AbCells>) -> causalkit_stats::EstimationResult {
    let metrics = s
        .kpis
        .iter()
        .map(|(spec, t)| MetricSpec::new(spec.parse::<Kpi>().unwrap().name, *t))
        .collect();
    let spec = AbSpec::new(metrics).validate().unwrap();
    let data = AbData {
        metrics: s
            .kpis
            .iter()
            .zip(cells)
            .map(|((spec, _), c)| {
                MetricData::new(
                    spec.parse::<Kpi>().unwrap().name,
                    MetricCells::Moments {
                        segments: c.segments,
                        strata: None,
                        ratio_covariate: s.ratio_covariate.map(str::to_string),
                    },
                )
            })
            .collect(),
    };
    spec.fit(&data).unwrap().result()
}

fn check(pg: &mut PostgresEngine, table: &str, rows: &Path, s: &Scenario) {
    let kpis: Vec<Kpi> = s.kpis.iter().map(|(k, _)| k.parse().unwrap()).collect();
    let mut req = StatsRequest::new(
        TableName(vec![table.into()]),
        "arm",
        kpis.iter().map(metric_of).collect(),
    );
    req.segment = s.segment.map(str::to_string);
    req.unit = s.unit.map(str::to_string);
    req.adjustment = s.adjustment.clone();
    req.drop_missing = s.drop_missing;
    let table = run_stats(pg, &req).unwrap_or_else(|e| panic!("{}: {e}", s.name));
    let stats_path = tmp_dir().join(format!("{}.csv", s.name));
    std::fs::write(&stats_path, table.to_csv()).unwrap();
    let stats = Dataset::read(&stats_path).unwrap();
    let data = Dataset::read(rows).unwrap();
    let refs: Vec<&Kpi> = kpis.iter().collect();
    let ab_req = AbStatsRequest {
        arm: "arm",
        segment: s.segment,
        stratify: None,
        unit: s.unit,
        covariates: &s.covariates,
        policy: if s.drop_missing {
            MissingPolicy::Drop
        } else {
            MissingPolicy::Error
        },
    };
    // With a unit, a proportion's per-unit sums are not 0/1: the `--stats` reader reads them
    // as a ratio of sums (`--metric fcr=ratio`), which is what they are.
    let stats_kpis: Vec<Kpi> = kpis
        .iter()
        .map(|k| match (&k.kind, s.unit) {
            (KpiKind::Proportion { column }, Some(_)) => Kpi {
                name: k.name.clone(),
                kind: KpiKind::Mean {
                    column: column.clone(),
                },
            },
            _ => k.clone(),
        })
        .collect();
    let stats_refs: Vec<&Kpi> = stats_kpis.iter().collect();
    let wh = ab_statistics(AbSource::StatsRows(&stats), &stats_refs, &ab_req).unwrap();
    let mem = ab_statistics(AbSource::Rows(&data), &refs, &ab_req).unwrap();
    let mut cells = 0;
    for ((k, w), m) in kpis.iter().zip(&wh).zip(&mem) {
        assert_eq!(
            w.segments.keys().collect::<Vec<_>>(),
            m.segments.keys().collect::<Vec<_>>(),
            "{}: segments",
            s.name
        );
        for (seg, arms) in &m.segments {
            assert_eq!(arms.len(), w.segments[seg].len());
            for (arm, mm) in arms {
                let what = format!("{} / {} / {seg} / {arm}", s.name, k.name);
                assert_moments_equal(&what, mm, &w.segments[seg][arm]);
                cells += 1;
            }
        }
    }
    // Every metric × (overall + segments) × 2 arms was compared.
    let segs = if s.segment.is_some() { 4 } else { 1 };
    assert_eq!(cells, kpis.len() * segs * 2, "{}", s.name);
    // The A/B review on both: the same effects.
    let (rw, rm) = (review(s, wh), review(s, mem));
    assert_eq!(rw.effects.len(), rm.effects.len());
    assert!(!rm.effects.is_empty());
    for (a, b) in rw.effects.iter().zip(&rm.effects) {
        assert_eq!(a.key, b.key, "{}", s.name);
        let se = b.std_error.unwrap_or(0.0);
        assert!(
            close(a.estimate, b.estimate, se),
            "{}: {:?} estimate {} vs {}",
            s.name,
            b.key,
            a.estimate,
            b.estimate
        );
        for (x, y) in [
            (a.std_error, b.std_error),
            (a.ci_low, b.ci_low),
            (a.ci_high, b.ci_high),
        ] {
            match (x, y) {
                (Some(x), Some(y)) => assert!(close(x, y, se), "{}: {x} vs {y}", s.name),
                (x, y) => assert_eq!(x.is_some(), y.is_some()),
            }
        }
        if let (Some(x), Some(y)) = (a.p_value, b.p_value) {
            assert!((x - y).abs() <= 1e-9, "{}: p {x} vs {y}", s.name);
        }
    }
    eprintln!(
        "{}: {} statistics rows from PostgreSQL, {} effects equal to the in-process ones",
        s.name,
        table.rows.len(),
        rm.effects.len()
    );
}

#[test]
fn postgres_statistics_equal_in_process() {
    let mut pg = connect();
    let csv = simulate(15);
    let rows = tmp_dir().join("contacts.csv");
    std::fs::write(&rows, &csv).unwrap();
    load(&mut pg, "contacts", &csv);
    let scenarios = [
        Scenario {
            name: "cuped_transforms_segment",
            kpis: vec![
                ("csat=mean(csat)", MetricType::Mean),
                ("fcr=proportion(fcr)", MetricType::Proportion),
                ("nps=nps(score)", MetricType::Mean),
                ("top2=topbox(csat, 4)", MetricType::Proportion),
                (
                    "value=composite(0.1*click - 0.5*purchase)",
                    MetricType::Mean,
                ),
            ],
            segment: Some("tier"),
            unit: None,
            covariates: vec!["pre_csat"],
            adjustment: Adjustment::Cuped("pre_csat".into()),
            drop_missing: false,
            ratio_covariate: None,
        },
        Scenario {
            name: "ratio_cuped_segment_unit",
            kpis: vec![
                ("aht=ratio(handle_seconds, count)", MetricType::Ratio),
                ("aov=ratio(revenue, orders)", MetricType::Ratio),
            ],
            segment: Some("tier"),
            unit: Some("agent"),
            covariates: vec!["pre_revenue", "pre_orders"],
            adjustment: Adjustment::RatioCuped {
                numerator: "pre_revenue".into(),
                denominator: Denominator::Column("pre_orders".into()),
            },
            drop_missing: false,
            ratio_covariate: Some("pre_revenue/pre_orders"),
        },
        Scenario {
            name: "unit_drop_missing",
            kpis: vec![
                ("survey=mean(survey)", MetricType::Mean),
                ("fcr=proportion(fcr)", MetricType::Proportion),
                ("aht=ratio(handle_seconds, count)", MetricType::Ratio),
            ],
            segment: None,
            unit: Some("agent"),
            covariates: vec![],
            adjustment: Adjustment::None,
            drop_missing: true,
            ratio_covariate: None,
        },
    ];
    for s in &scenarios {
        check(&mut pg, "contacts", &rows, s);
    }
}

/// Requests a PostgreSQL server refuses, each a typed error naming engine, table and column.
#[test]
fn postgres_errors_name_engine_table_and_column() {
    let mut pg = connect();
    let csv = simulate(16);
    load(&mut pg, "contacts_err", &csv);
    let metric = |spec: &str| metric_of(&spec.parse::<Kpi>().unwrap());
    let req = |table: &str, specs: &[&str]| {
        StatsRequest::new(
            TableName(vec![table.into()]),
            "arm",
            specs.iter().map(|s| metric(s)).collect(),
        )
    };
    let e = run_stats(&mut pg, &req("no_such_table", &["x=mean(csat)"])).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::MissingTable { table, engine } if table == "no_such_table" && engine.contains("127.0.0.1")),
        "{e}"
    );
    let e = run_stats(&mut pg, &req("contacts_err", &["x=mean(no_such_col)"])).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::MissingColumn { column, table, .. } if column == "no_such_col" && table == "contacts_err"),
        "{e}"
    );
    let e = run_stats(&mut pg, &req("contacts_err", &["x=mean(tier)"])).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::TypeMismatch { column, found, .. } if column == "tier" && found == "text"),
        "{e}"
    );
    // Missing values without dropping: an error naming the metric and its columns.
    let e = run_stats(&mut pg, &req("contacts_err", &["s=mean(survey)"])).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::MissingValues { metric, columns, rows, .. } if metric == "s" && columns.contains("`survey`") && *rows > 0),
        "{e}"
    );
    // A proportion column holding 2.
    pg.execute("UPDATE contacts_err SET fcr = 2 WHERE agent = 3")
        .unwrap();
    let e = run_stats(&mut pg, &req("contacts_err", &["f=proportion(fcr)"])).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::OutOfRange { column, metric, .. } if column == "fcr" && metric == "f"),
        "{e}"
    );
    // A unit in two arms.
    pg.execute("UPDATE contacts_err SET arm = 'treatment' WHERE agent = 4 AND orders = 1; UPDATE contacts_err SET arm = 'control' WHERE agent = 4 AND orders = 2").unwrap();
    let mut r = req("contacts_err", &["h=mean(handle_seconds)"]);
    r.unit = Some("agent".into());
    let e = run_stats(&mut pg, &r).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::UnitInSeveralArms { unit, column, .. } if unit == "4" && column == "agent"),
        "{e}"
    );
    // A statement over the time limit.
    pg.execute(
        "CREATE OR REPLACE VIEW slow_rows AS SELECT g::float8 AS x, (g % 2)::text AS arm \
         FROM generate_series(1, 4) AS g WHERE pg_sleep(0.5)::text = ''",
    )
    .unwrap();
    let mut short = PostgresEngine::connect(&url(), Duration::from_millis(300)).unwrap();
    let e = run_stats(&mut short, &req("slow_rows", &["x=mean(x)"])).unwrap_err();
    assert!(
        matches!(&e, WarehouseError::Timeout { table, .. } if table == "slow_rows"),
        "{e}"
    );
    // Nothing listens on port 1.
    let e = PostgresEngine::connect(
        "postgres://postgres@127.0.0.1:1/postgres",
        Duration::from_secs(5),
    )
    .unwrap_err();
    assert!(
        matches!(&e, WarehouseError::Unreachable { engine, .. } if engine == "postgres://postgres@127.0.0.1:1/postgres"),
        "{e}"
    );
    assert!(e.is_engine_failure());
    // A password on the command line is refused.
    let e = PostgresEngine::connect(
        "postgres://postgres:secret@127.0.0.1:55432/postgres",
        Duration::from_secs(5),
    )
    .unwrap_err();
    assert!(e.to_string().contains("PGPASSWORD"), "{e}");
    assert!(!e.to_string().contains("secret"), "{e}");
}

/// A table and columns named to break out of their quotes are used as names, and nothing
/// else runs.
#[test]
fn postgres_hostile_names_are_names() {
    let mut pg = connect();
    pg.execute("DROP TABLE IF EXISTS victim; CREATE TABLE victim (x INTEGER); INSERT INTO victim VALUES (1)")
        .unwrap();
    let t = "t\"; DROP TABLE victim; --";
    let c = "v\"); DROP TABLE victim; --";
    let a = "a'; DROP TABLE victim; --";
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    pg.execute(&format!(
        "DROP TABLE IF EXISTS {tq}; CREATE TABLE {tq} ({aq} TEXT, {cq} DOUBLE PRECISION); \
         INSERT INTO {tq} VALUES ('control', 1), ('control', 3), ('treatment', 5)",
        tq = q(t),
        aq = q(a),
        cq = q(c)
    ))
    .unwrap();
    let mut req = StatsRequest::new(
        TableName(vec![t.into()]),
        a,
        vec![Metric {
            name: "m'; DROP TABLE victim; --".into(),
            kind: MetricKind::Mean { column: c.into() },
        }],
    );
    req.segment = None;
    let table = run_stats(&mut pg, &req).unwrap();
    let csv = table.to_csv();
    assert!(
        csv.contains("m'; DROP TABLE victim; --,control,2.0,2.0,4.0,10.0"),
        "{csv}"
    );
    let still = pg.query(&TableName(vec!["victim".into()]), "SELECT x FROM victim");
    assert_eq!(still.unwrap().rows.len(), 1, "the victim table survived");
}

//! Checks shared by the engine integration tests (`tests/postgres.rs`, `tests/spark.rs`):
//! simulated contact-centre rows, the scenarios every engine runs, and the comparison of an
//! engine's statistics with the in-process path.
//!
//! The in-process path (`AbSource::Rows`, plain Rust loops over the rows) is the
//! independent implementation; the engine sums the same values in SQL. Both are read by the
//! `--stats` reader (`AbSource::StatsRows`) and fed to the A/B review, and must agree to 1e-9
//! relative: for a sum, of max(|a|, |b|, sqrt(n Σx²)); for a cross-product, of
//! max(|a|, |b|, sqrt(Σx² Σy²)) — the two differ only by the order of floating-point
//! additions.
#![allow(dead_code)]

pub mod moments;
pub mod panel;
#[cfg(feature = "postgres")]
pub mod pg;

use causalkit_ab::review::{AbData, AbSpec, MetricCells, MetricData, MetricSpec};
use causalkit_ab::MetricType;
use causalkit_data::ab_stats::{ab_statistics, AbCells, AbSource, AbStatsRequest};
use causalkit_data::{Dataset, Kpi, KpiKind, MissingPolicy, Moments};
use causalkit_stats::Report;
use causalkit_warehouse::{
    run_stats, Adjustment, Denominator, Engine, Metric, MetricKind, StatsRequest, TableName,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use std::path::Path;

/// The columns of [`simulate`]'s rows, in order.
pub const HEADER: &str = "arm,tier,agent,handle_seconds,revenue,orders,pre_revenue,pre_orders,csat,pre_csat,fcr,score,click,purchase,survey";

/// Seeded contact rows: agents randomised to arms, each agent in one tier, 5–40 contacts per
/// agent, a true treatment effect on handle time and revenue; `survey` is missing on ~20% of
/// rows.
pub fn simulate(seed: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let noise = Normal::new(0.0, 1.0).unwrap();
    let mut csv = format!("{HEADER}\n");
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

/// The warehouse metric of a data-layer KPI.
pub fn metric_of(k: &Kpi) -> Metric {
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

/// One comparison of the engine's statistics with the in-process ones.
pub struct Scenario {
    pub name: &'static str,
    pub kpis: Vec<(&'static str, MetricType)>,
    pub segment: Option<&'static str>,
    pub unit: Option<&'static str>,
    pub covariates: Vec<&'static str>,
    pub adjustment: Adjustment,
    pub drop_missing: bool,
    pub ratio_covariate: Option<&'static str>,
}

/// `a` equals `b` to 1e-9 of the larger of |a|, |b| and `scale`.
pub fn close(a: f64, b: f64, scale: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(scale)
}

/// Counts, sums and cross-products equal to 1e-9 of their scale.
pub fn assert_moments_equal(what: &str, a: &Moments, b: &Moments) {
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

/// The A/B review (CUPED or ratio CUPED as the scenario asks) of per-metric cells.
pub fn review(s: &Scenario, cells: Vec<AbCells>) -> causalkit_stats::EstimationResult {
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

/// Runs the scenario's request on `engine` over `table`, reads the result with the `--stats`
/// reader, and asserts its statistics and the A/B review's effects equal the in-process
/// ones computed from the CSV rows at `rows` (the same rows the engine holds).
pub fn check(engine: &mut dyn Engine, table: &TableName, rows: &Path, tmp: &Path, s: &Scenario) {
    let kpis: Vec<Kpi> = s.kpis.iter().map(|(k, _)| k.parse().unwrap()).collect();
    let mut req = StatsRequest::new(table.clone(), "arm", kpis.iter().map(metric_of).collect());
    req.segment = s.segment.map(str::to_string);
    req.unit = s.unit.map(str::to_string);
    req.adjustment = s.adjustment.clone();
    req.drop_missing = s.drop_missing;
    let table = run_stats(engine, &req).unwrap_or_else(|e| panic!("{}: {e}", s.name));
    let stats_path = tmp.join(format!("{}.csv", s.name));
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
        "{}: {} statistics rows from {}, {} effects equal to the in-process ones",
        s.name,
        table.rows.len(),
        engine.address(),
        rm.effects.len()
    );
}

/// The scenarios every engine runs: CUPED on every KPI transform with a segment; ratio CUPED
/// (GrowthBook) with a segment and `--unit` aggregation; `--unit` with dropped missing values.
pub fn scenarios() -> Vec<Scenario> {
    vec![
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
    ]
}

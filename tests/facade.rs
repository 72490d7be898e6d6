//! End-to-end tests of the facade crate: the library path a user of `causalkit` takes (data
//! layer -> estimator -> `Report`) gives the numbers the CLI prints for the same request (the
//! CLI's numbers are asserted in `notebooks-md/02-ab-review.md`, executed by
//! `crates/cli/tests/notebooks.rs`: AHT -28.290745 with SE 2.616421, FCR 0.039876 with SE
//! 0.006593, SRM units 10082 vs 10078, verdict ship).

use causalkit::ab::review::{AbData, AbSpec, Guardrail, MetricCells, MetricData, MetricSpec};
use causalkit::ab::MetricType;
use causalkit::data::ab_stats::{ab_statistics, AbSource, AbStatsRequest};
use causalkit::data::{Dataset, Kpi, MissingPolicy};
use causalkit::stats::{EffectKind, Report};
use std::path::Path;

fn review(source: AbSource) -> causalkit::ab::review::AbFit {
    let kpis: Vec<Kpi> = [
        "aht=ratio(handle_seconds, count)",
        "fcr=proportion(fcr)",
        "repeat=proportion(repeat_contact)",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    let refs: Vec<&Kpi> = kpis.iter().collect();
    let request = AbStatsRequest {
        arm: "arm",
        segment: None,
        stratify: None,
        unit: None,
        covariates: &["pre_handle_seconds"],
        policy: MissingPolicy::Error,
    };
    let cells = ab_statistics(source, &refs, &request).unwrap();
    let mut spec = AbSpec::new(vec![
        MetricSpec::new("aht", MetricType::Ratio),
        MetricSpec::new("fcr", MetricType::Proportion),
        MetricSpec::new("repeat", MetricType::Proportion),
    ]);
    spec.set_lower_is_better(&["aht", "repeat"]).unwrap();
    spec.primary = Some("aht".into());
    spec.guardrails.push(Guardrail {
        metric: "repeat".into(),
        margin: 0.02,
    });
    let data = AbData {
        metrics: kpis
            .iter()
            .zip(cells)
            .map(|(k, c)| MetricData::new(k.name.clone(), MetricCells::moments(c.segments)))
            .collect(),
    };
    spec.validate().unwrap().fit(&data).unwrap()
}

#[test]
fn the_readme_ab_review_through_the_library() {
    let path = Path::new("datasets/contact-centre/ab_contacts.csv");
    let rows = Dataset::read(path).unwrap();
    let fit = review(AbSource::Rows(&rows));
    let result = fit.result();
    let abs = |m: &str| {
        result
            .effects
            .iter()
            .find(|e| {
                e.key.metric.as_deref() == Some(m)
                    && e.key.kind == Some(EffectKind::Absolute)
                    && e.key.variant.is_none()
            })
            .unwrap()
            .clone()
    };
    // The CLI's printed numbers (notebook 02) to their printed digits.
    assert!((abs("aht").estimate + 28.290745).abs() < 5e-7);
    assert!((abs("aht").std_error.unwrap() - 2.616421).abs() < 5e-7);
    assert!((abs("fcr").estimate - 0.039876).abs() < 5e-7);
    assert!((abs("fcr").std_error.unwrap() - 0.006593).abs() < 5e-7);
    let srm = fit.srm.as_ref().unwrap();
    assert_eq!(srm.units, vec![10082.0, 10078.0]);
    assert_eq!(fit.verdict.as_ref().unwrap().decision.to_string(), "ship");

    // The one-pass scan of the same file gives the same review (1e-10 relative).
    let scanned = review(AbSource::Scan(path)).result();
    for (a, b) in result.effects.iter().zip(&scanned.effects) {
        assert_eq!(a.key, b.key);
        assert!((a.estimate - b.estimate).abs() <= 1e-10 * a.estimate.abs().max(1e-12));
    }
}

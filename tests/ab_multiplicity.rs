//! Multiplicity-adjusted intervals of the A/B review (`--adjust`): each equals the plain
//! interval of a review run at the adjusted alpha — an independent path through the same
//! t/normal critical values — for Bonferroni (alpha/m, simultaneous) and Benjamini–Hochberg
//! (R alpha/m, the FCR-adjusted intervals of Benjamini & Yekutieli 2005, JASA 100:71-81).
//! Data: the bundled simulated contact-centre A/B (datasets/contact-centre/ab_contacts.csv).

use causalkit::ab::review::{
    multiplicity_alpha, AbData, AbFit, AbSpec, MetricCells, MetricData, MetricSpec,
};
use causalkit::ab::MetricType;
use causalkit::data::ab_stats::{ab_statistics, AbSource, AbStatsRequest};
use causalkit::data::{Dataset, Kpi, MissingPolicy};
use causalkit::stats::{Adjustment, Report};

fn fit(adjustment: Option<Adjustment>, alpha: f64) -> AbFit {
    let rows = Dataset::read("datasets/contact-centre/ab_contacts.csv".as_ref()).unwrap();
    let kpis: Vec<Kpi> = vec![
        "aht=mean(handle_seconds)".parse().unwrap(),
        "repeat=proportion(repeat_contact)".parse().unwrap(),
        "csat=mean(csat)".parse().unwrap(),
    ];
    let request = AbStatsRequest {
        arm: "arm",
        segment: None,
        stratify: None,
        unit: None,
        covariates: &[],
        policy: MissingPolicy::Drop,
    };
    let refs: Vec<&Kpi> = kpis.iter().collect();
    let cells = ab_statistics(AbSource::Rows(&rows), &refs, &request).unwrap();
    let mut spec = AbSpec::new(vec![
        MetricSpec::new("aht", MetricType::Mean),
        MetricSpec::new("repeat", MetricType::Proportion),
        MetricSpec::new("csat", MetricType::Mean),
    ]);
    spec.alpha = alpha;
    spec.adjustment = adjustment;
    let data = AbData {
        metrics: kpis
            .iter()
            .zip(cells)
            .map(|(k, c)| MetricData::new(k.name.clone(), MetricCells::moments(c.segments)))
            .collect(),
    };
    spec.validate().unwrap().fit(&data).unwrap()
}

/// The adjusted intervals of `adjusted` equal the plain intervals of a review at the level
/// `multiplicity_alpha` gives for each effect's family.
fn check(adj: Adjustment, expected_alpha: impl Fn(&AbFit, &str) -> f64) {
    let a = fit(Some(adj), 0.05);
    assert!(!a.adjusted_intervals.is_empty());
    let r = a.result();
    for iv in &a.adjusted_intervals {
        let e = &r.effects[iv.effect];
        let fam = &a.adjusted_p.iter().find(|p| p.0 == iv.effect).unwrap().3;
        let want_alpha = expected_alpha(&a, fam);
        assert!(
            (iv.alpha - want_alpha).abs() < 1e-15,
            "{}: alpha {} vs {want_alpha}",
            e.label,
            iv.alpha
        );
        let plain = fit(None, want_alpha).result();
        let p = plain.effects.iter().find(|x| x.label == e.label).unwrap();
        let (lo, hi) = (p.ci_low.unwrap(), p.ci_high.unwrap());
        let tol = 1e-12 * (hi - lo).abs().max(1e-300);
        assert!(
            (iv.ci_low - lo).abs() <= tol,
            "{}: {} vs {lo}",
            e.label,
            iv.ci_low
        );
        assert!(
            (iv.ci_high - hi).abs() <= tol,
            "{}: {} vs {hi}",
            e.label,
            iv.ci_high
        );
        // Wider than the unadjusted interval whenever alpha shrank.
        if want_alpha < 0.05 {
            assert!(iv.ci_low < e.ci_low.unwrap() && iv.ci_high > e.ci_high.unwrap());
        }
    }
    // The JSON carries them next to the adjusted p-values, with the rule in words.
    let mt = &r.diagnostics["multiple_testing"];
    assert!(mt["intervals"].as_str().unwrap().contains("interval"));
    let first = mt["adjusted"].as_object().unwrap().values().next().unwrap();
    assert!(first["ci_low_adjusted"].is_number() && first["interval_alpha"].is_number());
}

#[test]
fn bonferroni_intervals_are_the_plain_intervals_at_alpha_over_m() {
    check(Adjustment::Bonferroni, |a, fam| {
        let m = a.adjusted_p.iter().filter(|p| p.3 == *fam).count();
        0.05 / m as f64
    });
    // Holm and Hochberg draw Bonferroni's simultaneous intervals.
    let h = fit(Some(Adjustment::Holm), 0.05);
    let b = fit(Some(Adjustment::Bonferroni), 0.05);
    assert_eq!(h.adjusted_intervals, b.adjusted_intervals);
}

#[test]
fn bh_intervals_use_r_alpha_over_m() {
    check(Adjustment::BenjaminiHochberg, |a, fam| {
        let family: Vec<f64> = a
            .adjusted_p
            .iter()
            .filter(|p| p.3 == *fam)
            .map(|p| p.2)
            .collect();
        let r = family.iter().filter(|q| **q <= 0.05).count().max(1);
        r as f64 * 0.05 / family.len() as f64
    });
}

#[test]
fn multiplicity_alpha_by_rule() {
    let q = [0.01, 0.02, 0.3, 0.5];
    assert_eq!(multiplicity_alpha(Adjustment::None, 0.05, &q), 0.05);
    assert!((multiplicity_alpha(Adjustment::Bonferroni, 0.05, &q) - 0.0125).abs() < 1e-15);
    assert!((multiplicity_alpha(Adjustment::Hochberg, 0.05, &q) - 0.0125).abs() < 1e-15);
    // BH: R = 2 selected of m = 4.
    assert!((multiplicity_alpha(Adjustment::BenjaminiHochberg, 0.05, &q) - 0.025).abs() < 1e-15);
    // BY: R alpha / (m (1 + 1/2 + 1/3 + 1/4)).
    let c = 1.0 + 0.5 + 1.0 / 3.0 + 0.25;
    assert!(
        (multiplicity_alpha(Adjustment::BenjaminiYekutieli, 0.05, &q) - 2.0 * 0.05 / (4.0 * c))
            .abs()
            < 1e-15
    );
    // None selected: alpha / m.
    let none = [0.4, 0.6];
    assert!((multiplicity_alpha(Adjustment::BenjaminiHochberg, 0.05, &none) - 0.025).abs() < 1e-15);
}

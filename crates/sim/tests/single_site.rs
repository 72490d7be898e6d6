//! Single-site release design: reproducibility, layout and the truth.

use causalkit_sim::single_site::{
    simulate_single_site, single_site_truth, validate_single_site, SingleSiteConfig,
};
use causalkit_sim::ContactCentreConfig;

#[test]
fn reproducible_balanced_and_only_the_treated_site_is_live() {
    let cc = ContactCentreConfig::default();
    let p = SingleSiteConfig::default();
    validate_single_site(&p).unwrap();
    let a = simulate_single_site(&cc, &p);
    assert_eq!(a, simulate_single_site(&cc, &p));
    assert_ne!(a, simulate_single_site(&cc.with_seed(cc.seed + 1), &p));
    for c in &a {
        assert_eq!(
            c.model_live,
            c.site == p.treated_site && c.day >= p.release_day
        );
        assert!(c.handle_seconds > 0.0);
    }
    // Every site has contacts every day (a balanced site x day panel).
    let mut seen = std::collections::HashSet::new();
    for c in &a {
        seen.insert((c.site, c.day));
    }
    assert_eq!(seen.len(), (p.sites * p.days) as usize);
}

#[test]
fn truth_equals_the_effect_built_into_the_draws() {
    // Same seed with and without the effect: draws are identical, so the treated site's
    // post-release handle times differ by m_t·δ·exp(σε − σ²/2), whose mean over contacts is the
    // contact-weighted truth up to Monte Carlo error (relative sd ≈ σ/√n).
    let cc = ContactCentreConfig::default();
    let p = SingleSiteConfig::default();
    let none = SingleSiteConfig {
        effect_seconds: 0.0,
        effect_fcr: 0.0,
        ..p.clone()
    };
    let (a, b) = (
        simulate_single_site(&cc, &p),
        simulate_single_site(&cc, &none),
    );
    let diffs: Vec<f64> = a
        .iter()
        .zip(&b)
        .filter(|(x, _)| x.model_live)
        .map(|(x, y)| x.handle_seconds - y.handle_seconds)
        .collect();
    let n = diffs.len() as f64;
    let mean = diffs.iter().sum::<f64>() / n;
    let t = single_site_truth(&cc, &p);
    let want = t.att_aht_seconds_contact_weighted;
    assert!(
        (mean - want).abs() < 4.0 * p.sigma / n.sqrt() * want.abs(),
        "{mean} vs {want}"
    );
    assert_eq!(t.post_days.len() as u32, p.days - p.release_day + 1);
    let full = t.post_days.last().unwrap();
    assert_eq!(full.aht_seconds, p.effect_seconds);
    assert!(
        (t.att_aht_seconds - t.post_days.iter().map(|d| d.aht_seconds).sum::<f64>() / 21.0).abs()
            < 1e-12
    );
    // Untreated sites are untouched by the effect.
    for (x, y) in a.iter().zip(&b) {
        if x.site != p.treated_site {
            assert_eq!(x.handle_seconds, y.handle_seconds);
        }
    }
}

#[test]
fn invalid_parameters_are_reported() {
    let bad = SingleSiteConfig {
        treated_site: 0,
        ..SingleSiteConfig::default()
    };
    assert!(validate_single_site(&bad)
        .unwrap_err()
        .contains("treated_site"));
    let bad = SingleSiteConfig {
        base_seconds: 30.0,
        ..SingleSiteConfig::default()
    };
    assert!(validate_single_site(&bad)
        .unwrap_err()
        .contains("handle time"));
}

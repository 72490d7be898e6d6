//! Coverage of the single-unit design's intervals over simulated worlds with known effects
//! (`causalkit_sim::single_site`: every seed draws new site levels, loadings and contacts; the
//! true site-day ATT is `m_t δ` averaged over post days, the same for every seed).

use causalkit_attribution::single_unit::{self, SingleUnitOptions};
use causalkit_attribution::spec::ReleaseSpec;
use causalkit_data::Dataset;
use causalkit_sim::single_site::{
    simulate_single_site, single_site_truth, write_single_site_csv, SingleSiteConfig,
};
use causalkit_sim::ContactCentreConfig;

const SEEDS: u64 = 40;

fn spec(treated: &str, start: u32) -> ReleaseSpec {
    toml::from_str(&format!(
        r#"
[release]
name = "coverage"
[data]
path = "sim.csv"
[design]
kind = "single-unit"
unit = "site"
time = "day"
treated = "{treated}"
start = {start}
events = true
[[kpi]]
name = "handle_seconds"
expr = "mean(handle_seconds)"
better = "lower"
[[kpi]]
name = "fcr"
expr = "mean(fcr)"
better = "higher"
"#
    ))
    .unwrap()
}

/// 40 seeds of a smaller world (12 sites, 35 days, release on day 26, 15 contacts per
/// site-day). Per seed: does the 95% interval cover the true ATT of handle time, of FCR, and
/// of the linear "money" combination `-0.03 * handle + 50 * fcr` whose interval uses the joint
/// covariance `wᵀ Σ w` (the off-diagonal term matters: both KPIs share the placebo draws)?
///
/// Tolerance: at the nominal 95%, the number of misses out of 40 is Binomial(40, 0.05)
/// (mean 2); P(misses >= 8) ≈ 1e-3, so at least 33 of 40 covered is required of each. The
/// placebo SE with one treated unit is only approximately calibrated (it assumes the treated
/// unit's errors are exchangeable with the controls'), which is why the bound is one-sided
/// and not tighter.
#[test]
fn intervals_cover_the_truth_at_about_the_nominal_rate() {
    let p = SingleSiteConfig {
        sites: 12,
        days: 35,
        release_day: 26,
        treated_site: 5,
        contacts_per_site_day: 15.0,
        ..SingleSiteConfig::default()
    };
    let dir = std::env::temp_dir().join(format!("causalkit-attr-cov-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sim.csv");
    let options = SingleUnitOptions {
        cross_check: false,
        ..SingleUnitOptions::default()
    };
    let w = [-0.03, 50.0];
    let mut covered = [0usize; 3];
    for seed in 0..SEEDS {
        let config = ContactCentreConfig::default().with_seed(1000 + seed);
        let contacts = simulate_single_site(&config, &p);
        let truth = single_site_truth(&config, &p);
        write_single_site_csv(&contacts, std::fs::File::create(&path).unwrap()).unwrap();
        let data = Dataset::read(&path).unwrap();
        let fit =
            single_unit::fit(&spec(&truth.treated_site, p.release_day), &data, &options).unwrap();
        let t = [truth.att_aht_seconds, truth.att_fcr];
        for k in 0..2 {
            let e = &fit.effects.effects[k];
            if e.ci_low.unwrap() <= t[k] && t[k] <= e.ci_high.unwrap() {
                covered[k] += 1;
            }
        }
        let c = &fit.effects.covariance;
        let est: f64 = (0..2).map(|k| w[k] * fit.effects.effects[k].estimate).sum();
        let var: f64 = (0..2)
            .flat_map(|a| (0..2).map(move |b| (a, b)))
            .map(|(a, b)| w[a] * w[b] * c[(a, b)])
            .sum();
        let target: f64 = (0..2).map(|k| w[k] * t[k]).sum();
        if (est - target).abs() <= 1.959963984540054 * var.sqrt() {
            covered[2] += 1;
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    println!(
        "covered of {SEEDS}: handle {}, fcr {}, combination {}",
        covered[0], covered[1], covered[2]
    );
    for (what, c) in ["handle time", "FCR", "combination"].iter().zip(covered) {
        assert!(c >= 33, "{what}: covered {c} of {SEEDS}");
    }
}

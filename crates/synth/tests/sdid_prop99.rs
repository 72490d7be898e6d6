//! Synthetic DiD, SC and DiD on California Prop 99 (datasets/california_prop99.csv).
//!
//! Sources: Arkhangelsky, Athey, Hirshberg, Imbens & Wager (2021) AER, Table 1, and the R
//! synthdid README (/work/shared/reference/synth.md: SDID −15.6038, SC −19.6197, DiD −27.3491,
//! effective N0 16.388, T0 2.783); tighter numbers, weights and SEs from synthdid-py 0.1.0
//! (a port of R synthdid) written by reference/scripts/synth_reference.py into
//! reference/synth.json.

use causalkit_synth::panel::SynthPanel;
use causalkit_synth::sdid::{
    bootstrap_replicate, placebo_replicate, sdid, sdid_se, SdidMethod, SdidOptions, SeMethod,
};
use causalkit_synth::SynthError;
use serde_json::Value;

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn reference() -> Value {
    let s = std::fs::read_to_string(root().join("reference/synth.json")).unwrap();
    serde_json::from_str(&s).unwrap()
}

/// Prop 99 long data; `extra` marks additional states treated from the given year.
fn prop99(extra: &[(&str, f64)]) -> SynthPanel {
    let s = std::fs::read_to_string(root().join("datasets/california_prop99.csv")).unwrap();
    let (mut u, mut t, mut y, mut d) = (vec![], vec![], vec![], vec![]);
    for line in s.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let year: f64 = f[1].parse().unwrap();
        let mut treated = f[3] == "1";
        for (st, from) in extra {
            if f[0] == *st && year >= *from {
                treated = true;
            }
        }
        u.push(f[0].to_string());
        t.push(year);
        y.push(f[2].parse().unwrap());
        d.push(treated);
    }
    SynthPanel::from_long(&u, &t, &y, &d).unwrap()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

fn method(name: &str) -> SdidMethod {
    match name {
        "sdid" => SdidMethod::Sdid,
        "sc" => SdidMethod::Sc,
        _ => SdidMethod::Did,
    }
}

#[test]
fn prop99_estimates_match_paper_and_synthdid() {
    let panel = prop99(&[]);
    assert_eq!((panel.n_controls(), panel.n_treated()), (38, 1));
    let r = reference();
    // Published (AER Table 1 / R README), to the 4 decimals printed.
    for (name, published) in [("sdid", -15.6038), ("sc", -19.6197), ("did", -27.3491)] {
        let fit = sdid(&panel, &SdidOptions::new(method(name))).unwrap();
        assert!(
            (fit.estimate - published).abs() < 5e-5,
            "{name}: {} vs {published}",
            fit.estimate
        );
        // synthdid-py, 1e-6 relative; weights to 1e-6 absolute.
        let rr = &r["prop99"][name];
        let want = rr["estimate"].as_f64().unwrap();
        assert!(
            rel(fit.estimate, want) < 1e-6,
            "{name}: {} vs {want}",
            fit.estimate
        );
        let c = &fit.cohorts[0];
        for (&row, &w) in c.controls.iter().zip(&c.omega) {
            let want = rr["omega"][&panel.units[row]].as_f64().unwrap();
            assert!(
                (w - want).abs() < 1e-6,
                "{name} omega {}: {w} vs {want}",
                panel.units[row]
            );
        }
        for (k, &l) in c.lambda.iter().enumerate() {
            let want = rr["lambda"][&format!("{}", panel.periods[k] as i64)]
                .as_f64()
                .unwrap();
            assert!((l - want).abs() < 1e-6, "{name} lambda {k}: {l} vs {want}");
        }
        assert!((c.noise_level - r["prop99"]["noise_level"].as_f64().unwrap()).abs() < 1e-9);
    }
    // Effective N0 and T0 of SDID (synth.md: 16.388 and 2.783).
    let fit = sdid(&panel, &SdidOptions::new(SdidMethod::Sdid)).unwrap();
    let c = &fit.cohorts[0];
    assert!(
        (c.effective_controls() - 16.388).abs() < 5e-4,
        "{}",
        c.effective_controls()
    );
    assert!(
        (c.effective_periods() - 2.783).abs() < 5e-4,
        "{}",
        c.effective_periods()
    );
    let mut w = c.omega.clone();
    w.sort_by(|a, b| b.total_cmp(a));
    // Two largest unit weights about 0.124 and 0.105 (synth.md).
    assert!(
        (w[0] - 0.124).abs() < 5e-4 && (w[1] - 0.105).abs() < 5e-4,
        "{:?}",
        &w[..2]
    );
}

/// Panel row of each name in a reference unit list.
fn rows_of(panel: &SynthPanel, names: &Value, idx: &[usize]) -> Vec<usize> {
    idx.iter()
        .map(|&i| {
            let name = names[i].as_str().unwrap();
            panel.units.iter().position(|u| u == name).unwrap()
        })
        .collect()
}

fn indices(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

#[test]
fn prop99_placebo_replicates_match_synthdid_exactly() {
    // Single placebo replicates for given permutations of the controls (R placebo_se's theta):
    // checks the replicate algorithm (subset weights as warm start, fixed zetas, re-solve)
    // independently of the random number generator.
    let panel = prop99(&[]);
    let r = reference();
    let perms = r["prop99"]["placebo_permutations"].as_array().unwrap();
    for name in ["sdid", "sc", "did"] {
        let opts = SdidOptions::new(method(name));
        let fit = sdid(&panel, &opts).unwrap();
        for (k, p) in perms.iter().enumerate() {
            let perm = rows_of(&panel, &r["prop99"]["units"], &indices(p));
            let got = placebo_replicate(&panel, &fit, &opts, &perm).unwrap();
            let want = r["prop99"][name]["placebo_draws"][k].as_f64().unwrap();
            assert!(
                rel(got, want) < 1e-6,
                "{name} placebo draw {k}: {got} vs {want}"
            );
        }
    }
}

/// Monte Carlo sd of a sample sd from `draws` (delta method: var(s) ≈ s²(κ − 1)/(4B), κ the
/// kurtosis).
fn mc_sd_of_sd(draws: &[f64]) -> f64 {
    let n = draws.len() as f64;
    let m = draws.iter().sum::<f64>() / n;
    let m2 = draws.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n;
    let m4 = draws.iter().map(|x| (x - m).powi(4)).sum::<f64>() / n;
    let kurt = m4 / (m2 * m2);
    m2.sqrt() * ((kurt - 1.0) / (4.0 * n)).sqrt()
}

#[test]
fn prop99_placebo_se_agrees_with_synthdid_within_monte_carlo_error() {
    // Both SEs use 200 placebo replications with different generators, so they differ by
    // Monte Carlo error only (the replicates themselves match exactly, test above). Tolerance:
    // 3 standard deviations of the difference of two independent 200-draw SEs, from the
    // kurtosis of our draws. Paper (AER Table 1): SDID 8.4, SC 9.9, DiD 17.7.
    let panel = prop99(&[]);
    let r = reference();
    for name in ["sdid", "sc", "did"] {
        let opts = SdidOptions::new(method(name));
        let fit = sdid(&panel, &opts).unwrap();
        let se = sdid_se(&panel, &fit, &opts, SeMethod::Placebo, 200, 1).unwrap();
        let want = r["prop99"][name]["placebo_se_200_seed1"].as_f64().unwrap();
        let tol = 3.0 * 2f64.sqrt() * mc_sd_of_sd(&se.replicates);
        assert!(
            (se.se - want).abs() < tol,
            "{name}: placebo SE {} vs synthdid-py {want} (tolerance {tol})",
            se.se
        );
        assert_eq!(se.replicates.len(), 200);
    }
}

#[test]
fn placebo_is_reproducible_and_thread_count_independent() {
    let panel = prop99(&[]);
    let opts = SdidOptions::new(SdidMethod::Sdid);
    let fit = sdid(&panel, &opts).unwrap();
    let a = sdid_se(&panel, &fit, &opts, SeMethod::Placebo, 24, 7).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let b = pool.install(|| sdid_se(&panel, &fit, &opts, SeMethod::Placebo, 24, 7).unwrap());
    assert_eq!(a.replicates, b.replicates);
    assert_eq!(a.se.to_bits(), b.se.to_bits());
    let c = sdid_se(&panel, &fit, &opts, SeMethod::Placebo, 24, 8).unwrap();
    assert_ne!(a.replicates, c.replicates);
}

#[test]
fn three_treated_jackknife_and_bootstrap_match_synthdid() {
    // Artificial block design: Nevada and Utah also treated from 1989 (reference script).
    let panel = prop99(&[("Nevada", 1989.0), ("Utah", 1989.0)]);
    assert_eq!(panel.n_treated(), 3);
    let r = &reference()["prop99_three"];
    let samples = r["bootstrap_samples"].as_array().unwrap();
    for name in ["sdid", "sc", "did"] {
        let opts = SdidOptions::new(method(name));
        let fit = sdid(&panel, &opts).unwrap();
        let want = r[name]["estimate"].as_f64().unwrap();
        assert!(
            rel(fit.estimate, want) < 1e-6,
            "{name}: {} vs {want}",
            fit.estimate
        );
        // Fixed-weight jackknife: deterministic, 1e-6 relative.
        let jk = sdid_se(&panel, &fit, &opts, SeMethod::Jackknife, 0, 0).unwrap();
        let want = r[name]["jackknife_se"].as_f64().unwrap();
        assert!(
            rel(jk.se, want) < 1e-6,
            "{name} jackknife: {} vs {want}",
            jk.se
        );
        // Bootstrap replicates for given resamples (R bootstrap_sample's theta).
        for (k, smp) in samples.iter().enumerate() {
            let rows = rows_of(&panel, &r["units"], &indices(smp));
            let got = bootstrap_replicate(&panel, &fit, &opts, &rows).unwrap();
            let want = r[name]["bootstrap_draws"][k].as_f64().unwrap();
            assert!(
                rel(got, want) < 1e-6,
                "{name} bootstrap draw {k}: {got} vs {want}"
            );
        }
        let b1 = sdid_se(&panel, &fit, &opts, SeMethod::Bootstrap, 20, 3).unwrap();
        let b2 = sdid_se(&panel, &fit, &opts, SeMethod::Bootstrap, 20, 3).unwrap();
        assert_eq!(b1.replicates, b2.replicates);
        assert!(b1.se > 0.0 && b1.se.is_finite());
    }
}

#[test]
fn staggered_adoption_matches_synthdid_staggered() {
    // California from 1989, Nevada and Utah from 1995; never-treated controls; cohorts
    // weighted by N1*T1 (Clarke et al. 2023 / synthdid-py staggered_synthdid_estimate).
    let panel = prop99(&[("Nevada", 1995.0), ("Utah", 1995.0)]);
    let r = &reference()["prop99_staggered"];
    for name in ["sdid", "sc", "did"] {
        let opts = SdidOptions::new(method(name));
        let fit = sdid(&panel, &opts).unwrap();
        assert_eq!(fit.cohorts.len(), 2);
        let want = r[name]["estimate"].as_f64().unwrap();
        assert!(
            rel(fit.estimate, want) < 1e-6,
            "{name}: {} vs {want}",
            fit.estimate
        );
        for (c, w) in fit
            .cohorts
            .iter()
            .zip(r[name]["by_cohort"].as_array().unwrap())
        {
            assert_eq!(panel.periods[c.start], w["adoption_time"].as_f64().unwrap());
            let want = w["tau"].as_f64().unwrap();
            assert!(
                rel(c.estimate, want) < 1e-6,
                "{name} cohort: {} vs {want}",
                c.estimate
            );
        }
        let jk = sdid_se(&panel, &fit, &opts, SeMethod::Jackknife, 0, 0).unwrap();
        let want = r[name]["jackknife_se"].as_f64().unwrap();
        assert!(
            rel(jk.se, want) < 1e-6,
            "{name} jackknife: {} vs {want}",
            jk.se
        );
    }
}

#[test]
fn undefined_standard_errors_are_typed_errors() {
    let panel = prop99(&[]);
    let opts = SdidOptions::new(SdidMethod::Sdid);
    let fit = sdid(&panel, &opts).unwrap();
    for m in [SeMethod::Bootstrap, SeMethod::Jackknife] {
        let e = sdid_se(&panel, &fit, &opts, m, 50, 1).unwrap_err();
        assert!(matches!(e, SynthError::SeUndefined { .. }), "{e}");
        assert!(e.to_string().contains("more than one treated unit"), "{e}");
    }
}

//! Synthetic DiD: input validation, special cases and a coverage simulation with known truth.

use causalkit_stats::resample::replicate_rng;
use causalkit_synth::panel::SynthPanel;
use causalkit_synth::sdid::{sdid, sdid_se, SdidMethod, SdidOptions, SeMethod};
use causalkit_synth::SynthError;
use nalgebra::DMatrix;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

fn long(
    n: usize,
    t: usize,
    treated: &[usize],
    start: usize,
) -> (Vec<String>, Vec<f64>, Vec<f64>, Vec<bool>) {
    let (mut u, mut p, mut y, mut d) = (vec![], vec![], vec![], vec![]);
    for i in 0..n {
        for s in 0..t {
            u.push(format!("u{i:02}"));
            p.push(2000.0 + s as f64);
            y.push((i * 3 + s * 2) as f64 + ((i * s) % 5) as f64);
            d.push(treated.contains(&i) && s >= start);
        }
    }
    (u, p, y, d)
}

#[test]
fn panel_errors_name_the_unit_and_period() {
    let (u, p, mut y, d) = long(5, 6, &[4], 4);
    // Missing row -> unbalanced.
    let e = SynthPanel::from_long(&u[1..], &p[1..], &y[1..], &d[1..]).unwrap_err();
    assert!(
        matches!(e, SynthError::Unbalanced { ref unit, ref period, rows: 0 } if unit == "u00" && period == "2000"),
        "{e}"
    );
    // Duplicate row.
    let (mut u2, mut p2, mut y2, mut d2) = (u.clone(), p.clone(), y.clone(), d.clone());
    u2.push("u01".into());
    p2.push(2003.0);
    y2.push(1.0);
    d2.push(false);
    let e = SynthPanel::from_long(&u2, &p2, &y2, &d2).unwrap_err();
    assert!(matches!(e, SynthError::Unbalanced { rows: 2, .. }), "{e}");
    // NaN outcome.
    y[7] = f64::NAN;
    let e = SynthPanel::from_long(&u, &p, &y, &d).unwrap_err();
    assert!(
        matches!(e, SynthError::NonFinite { ref unit, ref period, .. } if unit == "u01" && period == "2001"),
        "{e}"
    );
    // Non-absorbing treatment.
    let (u, p, y, mut d) = long(5, 6, &[4], 3);
    d[4 * 6 + 5] = false;
    let e = SynthPanel::from_long(&u, &p, &y, &d).unwrap_err();
    assert!(
        e.to_string().contains("not absorbing") && e.to_string().contains("u04"),
        "{e}"
    );
    // Length mismatch.
    let e = SynthPanel::from_long(&u, &p[1..], &y, &d).unwrap_err();
    assert!(matches!(e, SynthError::InvalidOption { .. }), "{e}");
}

#[test]
fn degenerate_designs_are_typed_errors() {
    // No treated unit.
    let (u, p, y, d) = long(4, 5, &[], 3);
    let panel = SynthPanel::from_long(&u, &p, &y, &d).unwrap();
    assert!(matches!(
        sdid(&panel, &SdidOptions::default()),
        Err(SynthError::InsufficientData(_))
    ));
    // Every unit treated: no controls.
    let (u, p, y, d) = long(3, 5, &[0, 1, 2], 3);
    let panel = SynthPanel::from_long(&u, &p, &y, &d).unwrap();
    assert!(matches!(
        sdid(&panel, &SdidOptions::default()),
        Err(SynthError::InsufficientData(_))
    ));
    // One pre-period: no first differences for the noise level.
    let (u, p, y, d) = long(4, 5, &[3], 1);
    let panel = SynthPanel::from_long(&u, &p, &y, &d).unwrap();
    let e = sdid(&panel, &SdidOptions::default()).unwrap_err();
    assert!(e.to_string().contains("first differences"), "{e}");
    // Placebo needs more controls than treated units.
    let (u, p, y, d) = long(4, 6, &[2, 3], 4);
    let panel = SynthPanel::from_long(&u, &p, &y, &d).unwrap();
    let opts = SdidOptions::default();
    let fit = sdid(&panel, &opts).unwrap();
    let e = sdid_se(&panel, &fit, &opts, SeMethod::Placebo, 50, 1).unwrap_err();
    assert!(
        matches!(e, SynthError::SeUndefined { .. }) && e.to_string().contains("more controls"),
        "{e}"
    );
    // Bad replications.
    let e = sdid_se(&panel, &fit, &opts, SeMethod::Bootstrap, 1, 1).unwrap_err();
    assert!(matches!(e, SynthError::InvalidOption { .. }), "{e}");
}

#[test]
fn did_is_the_two_by_two_difference_of_means_and_weights_are_simplex() {
    let (u, p, y, d) = long(6, 7, &[4, 5], 4);
    let panel = SynthPanel::from_long(&u, &p, &y, &d).unwrap();
    let fit = sdid(&panel, &SdidOptions::new(SdidMethod::Did)).unwrap();
    let m = |rows: &[usize], cols: std::ops::Range<usize>| {
        let mut s = 0.0;
        let mut n = 0.0;
        for &r in rows {
            for c in cols.clone() {
                s += panel.y[(r, c)];
                n += 1.0;
            }
        }
        s / n
    };
    let want =
        (m(&[4, 5], 4..7) - m(&[4, 5], 0..4)) - (m(&[0, 1, 2, 3], 4..7) - m(&[0, 1, 2, 3], 0..4));
    assert!((fit.estimate - want).abs() < 1e-12);
    for method in [SdidMethod::Sdid, SdidMethod::Sc] {
        let c = &sdid(&panel, &SdidOptions::new(method)).unwrap().cohorts[0];
        assert!((c.omega.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(c.omega.iter().all(|w| *w >= 0.0));
        if method == SdidMethod::Sdid {
            assert!((c.lambda.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        } else {
            assert!(c.lambda.iter().all(|l| *l == 0.0));
        }
    }
}

#[test]
fn constant_shift_of_the_treated_unit_is_recovered_exactly_by_sdid() {
    // Treated unit = mean of controls 0 and 1 + 5 (intercept), + 3 after treatment: with
    // intercepts and no noise SDID recovers the effect up to the ridge penalty.
    let t = 10;
    let mut rows = Vec::new();
    let mut rng = replicate_rng(1, 0);
    for _ in 0..6 {
        rows.push(
            (0..t)
                .map(|_| rng.random::<f64>() * 10.0)
                .collect::<Vec<f64>>(),
        );
    }
    let tr: Vec<f64> = (0..t)
        .map(|s| 0.5 * (rows[0][s] + rows[1][s]) + 5.0 + if s >= 7 { 3.0 } else { 0.0 })
        .collect();
    rows.push(tr);
    let y = DMatrix::from_fn(7, t, |i, s| rows[i][s]);
    let names = (0..7).map(|i| format!("u{i}")).collect();
    let panel =
        SynthPanel::from_matrix(y, names, (0..t).map(|s| s as f64).collect(), 1, 7).unwrap();
    let mut opts = SdidOptions::new(SdidMethod::Sdid);
    opts.eta_omega = Some(1e-8);
    let fit = sdid(&panel, &opts).unwrap();
    assert!((fit.estimate - 3.0).abs() < 0.05, "{}", fit.estimate);
}

/// Panel from a factor model with exchangeable units: `Y_it = a_i + b_t + l_i f_t + e_it`,
/// last unit treated from `t0` with effect `tau`.
fn factor_panel(seed: u64, b: u64, n: usize, t: usize, t0: usize, tau: f64) -> SynthPanel {
    let mut rng = replicate_rng(seed, b);
    let f: Vec<f64> = (0..t).map(|s| (s as f64 * 0.7).sin() * 2.0).collect();
    let bt: Vec<f64> = (0..t).map(|s| 0.3 * s as f64).collect();
    let y = DMatrix::from_fn(n, t, |_, _| 0.0);
    let mut y = y;
    for i in 0..n {
        let a: f64 = StandardNormal.sample(&mut rng);
        let z: f64 = StandardNormal.sample(&mut rng);
        let l = 1.0 + 0.5 * z;
        for s in 0..t {
            let e: f64 = StandardNormal.sample(&mut rng);
            y[(i, s)] = a + bt[s] + l * f[s] + e + if i == n - 1 && s >= t0 { tau } else { 0.0 };
        }
    }
    let names = (0..n).map(|i| format!("u{i}")).collect();
    SynthPanel::from_matrix(y, names, (0..t).map(|s| s as f64).collect(), 1, t0).unwrap()
}

#[test]
fn placebo_interval_coverage_on_simulated_factor_model() {
    // 200 simulated panels (16 units, 10 periods, 1 treated from period 7, true effect 2);
    // 95% intervals from 40 placebo replications each. Binomial sd of the coverage is 1.5%;
    // accept [0.88, 0.995]. Also checks the estimator is unbiased within 4 standard errors.
    let sims = 200;
    let mut covered = 0;
    let mut est = Vec::new();
    for b in 0..sims {
        let panel = factor_panel(2024, b, 16, 10, 7, 2.0);
        let opts = SdidOptions::new(SdidMethod::Sdid);
        let fit = sdid(&panel, &opts).unwrap();
        let se = sdid_se(&panel, &fit, &opts, SeMethod::Placebo, 40, b).unwrap();
        if (fit.estimate - 2.0).abs() <= 1.959964 * se.se {
            covered += 1;
        }
        est.push(fit.estimate);
    }
    let cov = covered as f64 / sims as f64;
    assert!((0.88..=0.995).contains(&cov), "coverage {cov}");
    let n = est.len() as f64;
    let mean = est.iter().sum::<f64>() / n;
    let sd = (est.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    assert!(
        (mean - 2.0).abs() < 4.0 * sd / n.sqrt(),
        "mean {mean}, sd {sd}"
    );
}

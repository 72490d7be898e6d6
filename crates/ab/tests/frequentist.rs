//! Frequentist A/B core against reference numbers.
//!
//! Sources: /work/shared/reference/ab.md (cases 1, 2, 4, 5, 6, 8: gbstats, Spotify confidence,
//! GrowthBook, scipy), and reference/ab.json written by reference/scripts/ab_reference.py
//! (gbstats 0.8, statsmodels 0.15, scipy; see the script's docstring per case).

use causalkit_ab::adjust::{post_stratify, regression_adjust};
use causalkit_ab::checks::adjust_within_families;
use causalkit_ab::frequentist::{newcombe, wilson};
use causalkit_ab::quantile::{quantile_arm, quantile_arm_clustered};
use causalkit_ab::*;
use causalkit_stats::{adjust_p_values, Adjustment, Moments};
use serde_json::Value;

fn reference() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../reference/ab.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

fn close(got: f64, want: f64, rel: f64, what: &str) {
    let tol = rel * want.abs().max(1e-12);
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got}, want {want} (rel tol {rel})"
    );
}

/// Rounded to the digits printed in ab.md.
fn digits(got: f64, want: f64, places: i32, what: &str) {
    let h = 0.5 * 10f64.powi(-places) + 1e-12;
    assert!(
        (got - want).abs() <= h,
        "{what}: got {got}, want {want} to {places} places"
    );
}

fn check_lift(l: &Lift, r: &Value, rel: f64, what: &str) {
    close(
        l.estimate,
        f(&r["estimate"]),
        rel,
        &format!("{what} estimate"),
    );
    close(l.std_error, f(&r["se"]), rel, &format!("{what} se"));
    close(l.ci_low, f(&r["ci"][0]), rel, &format!("{what} ci low"));
    close(l.ci_high, f(&r["ci"][1]), rel, &format!("{what} ci high"));
    close(l.p_value, f(&r["p_value"]), rel, &format!("{what} p"));
}

#[test]
fn case1_welch_gbstats() {
    // ab.md case 1 (gbstats tests/frequentist/test_tests.py).
    let a = ArmStats::from_sums(3407.0, 1396.87, 52377.9767).unwrap();
    let b = ArmStats::from_sums(3461.0, 2422.7, 134698.29).unwrap();
    let c = compare(&a, &b, &TestOptions::default()).unwrap();
    let r = c.relative.unwrap();
    digits(r.estimate, 0.70732, 5, "rel lift");
    digits(r.std_error, 0.37879, 5, "rel se");
    digits(r.ci_low, -0.03526, 5, "rel lo");
    digits(r.ci_high, 1.44989, 5, "rel hi");
    digits(r.p_value, 0.06191, 5, "rel p");
    digits(c.absolute.estimate, 0.29, 5, "abs");
    digits(c.absolute.std_error, 0.12478, 5, "abs se");
    digits(c.absolute.ci_low, 0.04538, 5, "abs lo");
    digits(c.absolute.ci_high, 0.53462, 5, "abs hi");
    digits(c.absolute.p_value, 0.02016, 5, "abs p");
    // Full precision against gbstats 0.8 (reference/ab.json).
    let j = &reference()["gbstats_welch"];
    check_lift(&r, &j["relative"], 1e-9, "welch rel");
    check_lift(&c.absolute, &j["absolute"], 1e-9, "welch abs");
}

#[test]
fn case2_proportions_gbstats() {
    let a = ArmStats::proportion(14.0, 28.0).unwrap();
    let b = ArmStats::proportion(16.0, 30.0).unwrap();
    let c = compare(&a, &b, &TestOptions::default()).unwrap();
    let r = c.relative.unwrap();
    digits(r.estimate, 0.06667, 5, "lift");
    digits(r.std_error, 0.2717, 4, "se");
    digits(r.ci_low, -0.47767, 5, "lo");
    digits(r.ci_high, 0.61101, 5, "hi");
    digits(r.p_value, 0.80707, 5, "p");
    let j = &reference()["gbstats_prop"];
    check_lift(&r, &j["relative"], 1e-9, "prop rel");
    check_lift(&c.absolute, &j["absolute"], 1e-9, "prop abs");
}

#[test]
fn case4_ratio_delta_method() {
    let a = ArmStats::ratio(100.0, 270.0, 848.79, 510.0, 810.0, -900.0).unwrap();
    let b = ArmStats::ratio(120.0, 300.0, 869.0, 500.0, 800.0, -905.0).unwrap();
    close(a.mean, 0.529411765, 1e-9, "ratio A");
    close(b.mean, 0.6, 1e-12, "ratio B");
    let c = compare(&a, &b, &TestOptions::default()).unwrap();
    let r = c.relative.unwrap();
    close(r.estimate, 0.133333333, 1e-8, "rel");
    close(r.p_value, 0.610663339, 1e-8, "p");
    let j = &reference()["gbstats_ratio"];
    check_lift(&r, &j["relative"], 1e-9, "ratio rel");
    check_lift(&c.absolute, &j["absolute"], 1e-9, "ratio abs");
    // The same through Moments as the data layer builds them (numerator, denominator).
    let mk = |v: [f64; 6]| {
        Moments::from_parts(
            vec!["numerator".into(), "denominator".into()],
            v[0] as u64,
            vec![v[1], v[3]],
            |i, j| match (i, j) {
                (0, 0) => v[2],
                (1, 1) => v[4],
                _ => v[5],
            },
        )
        .unwrap()
    };
    let am = ArmStats::from_moments(
        &mk([100.0, 270.0, 848.79, 510.0, 810.0, -900.0]),
        MetricType::Ratio,
    )
    .unwrap();
    assert_eq!(am, a);
}

#[test]
fn case5_welch_spotify_and_scipy() {
    let a = ArmStats::from_sums(104.0, 312.0, 984.0).unwrap();
    let b = ArmStats::from_sums(1009.0, 1969.0, 5767.0).unwrap();
    let c = compare(&a, &b, &TestOptions::default()).unwrap();
    // ab.md case 5 (Spotify confidence), relative tolerance 1e-3.
    close(c.absolute.estimate, -1.0485629, 1e-7, "diff");
    close(c.absolute.ci_low, -1.205402, 1e-3, "lo");
    close(c.absolute.ci_high, -0.891723, 1e-3, "hi");
    // scipy.stats.ttest_ind_from_stats(equal_var=False), full precision.
    let j = &reference()["welch_scipy"];
    close(c.absolute.ci_low, f(&j["ci"][0]), 1e-9, "scipy lo");
    close(c.absolute.ci_high, f(&j["ci"][1]), 1e-9, "scipy hi");
    close(c.absolute.p_value, f(&j["p_value"]), 1e-6, "scipy p");
    close(c.absolute.df, f(&j["df"]), 1e-10, "df");
}

#[test]
fn case6_multiple_testing_growthbook() {
    let holm = adjust_p_values(&[0.01, 0.04, 0.03, 0.005, 0.55, 0.6], Adjustment::Holm).unwrap();
    for (g, w) in holm.iter().zip([0.05, 0.12, 0.12, 0.03, 1.0, 1.0]) {
        close(*g, w, 1e-12, "holm");
    }
    let p = [0.898, 0.138, 0.007, 0.964, 0.538, 0.006, 0.138];
    let want = [0.964, 0.2415, 0.0245, 0.964, 0.7532, 0.0245, 0.2415];
    // One family: BH over all; split into two families of which one holds everything: same.
    let fam: Vec<String> = vec!["all".to_string(); 7];
    let bh = adjust_within_families(&p, &fam, Adjustment::BenjaminiHochberg).unwrap();
    for (g, w) in bh.iter().zip(want) {
        digits(*g, w, 4, "bh");
    }
    // Two families adjust separately: family "x" gets [.898, .138] alone.
    let fam2: Vec<String> = (0..7)
        .map(|i| if i < 2 { "x".into() } else { "y".into() })
        .collect();
    let split = adjust_within_families(&p, &fam2, Adjustment::BenjaminiHochberg).unwrap();
    let x = adjust_p_values(&p[..2], Adjustment::BenjaminiHochberg).unwrap();
    assert_eq!(&split[..2], &x[..]);
    assert!(adjust_within_families(&p, &fam2[..3], Adjustment::Holm).is_err());
}

#[test]
fn case8_srm() {
    let s = srm(&[5000.0, 5200.0], &[0.5, 0.5]).unwrap();
    digits(s.chi2, 3.9216, 4, "chi2");
    digits(s.p_value, 0.0476704, 7, "p");
    for case in reference()["srm"].as_array().unwrap() {
        let c: Vec<f64> = case["counts"].as_array().unwrap().iter().map(f).collect();
        let r: Vec<f64> = case["ratios"].as_array().unwrap().iter().map(f).collect();
        let s = srm(&c, &r).unwrap();
        close(s.chi2, f(&case["chi2"]), 1e-12, "scipy chi2");
        close(s.p_value, f(&case["p_value"]), 1e-9, "scipy p");
    }
    assert!(srm(&[1.0, 2.0], &[1.0]).is_err());
    assert!(srm(&[1.0, 2.0], &[1.0, 0.0]).is_err());
    assert!(srm(&[0.0, 0.0], &[1.0, 1.0]).is_err());
}

fn cuped_moments(v: &[f64]) -> Moments {
    // [n, y, yy, x, xx, xy] -> numerator, denominator (1 per unit), covariate.
    let n = v[0];
    Moments::from_parts(
        vec!["numerator".into(), "denominator".into(), "covariate".into()],
        n as u64,
        vec![v[1], n, v[3]],
        |i, j| match (i.max(j), i.min(j)) {
            (0, 0) => v[2],
            (1, 0) => v[1],
            (1, 1) => n,
            (2, 0) => v[5],
            (2, 1) => v[3],
            _ => v[4],
        },
    )
    .unwrap()
}

#[test]
fn cuped_one_covariate_matches_gbstats() {
    // gbstats RegressionAdjustedStatistic + compute_theta (reference/ab.json gbstats_cuped).
    let j = &reference()["gbstats_cuped"];
    let va: Vec<f64> = j["a"].as_array().unwrap().iter().map(f).collect();
    let vb: Vec<f64> = j["b"].as_array().unwrap().iter().map(f).collect();
    let (ma, mb) = (cuped_moments(&va), cuped_moments(&vb));
    let adj = regression_adjust(&[&ma, &mb], MetricType::Mean).unwrap();
    close(adj.theta[0], f(&j["theta"]), 1e-10, "theta");
    let c = compare(&adj.arms[0], &adj.arms[1], &TestOptions::default()).unwrap();
    check_lift(&c.relative.unwrap(), &j["relative"], 1e-8, "cuped rel");
    check_lift(&c.absolute, &j["absolute"], 1e-8, "cuped abs");
    assert!(
        adj.variance_reduction[0] > 0.5,
        "{:?}",
        adj.variance_reduction
    );
}

#[test]
fn cuped_two_covariates_match_row_level_numpy() {
    // numpy on unit rows (reference/ab.json cuped_multi): theta, adjusted means, variances.
    let j = &reference()["cuped_multi"];
    let arms: Vec<Moments> = j["arms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let s = &a["sums"];
            let g = |k: &str| f(&s[k]);
            let n = g("n");
            Moments::from_parts(
                vec![
                    "numerator".into(),
                    "denominator".into(),
                    "x1".into(),
                    "x2".into(),
                ],
                n as u64,
                vec![g("y"), n, g("x1"), g("x2")],
                |i, k| match (i.max(k), i.min(k)) {
                    (0, 0) => g("yy"),
                    (1, 0) => g("y"),
                    (1, 1) => n,
                    (2, 0) => g("yx1"),
                    (2, 1) => g("x1"),
                    (2, 2) => g("x1x1"),
                    (3, 0) => g("yx2"),
                    (3, 1) => g("x2"),
                    (3, 2) => g("x1x2"),
                    _ => g("x2x2"),
                },
            )
            .unwrap()
        })
        .collect();
    let adj = regression_adjust(&[&arms[0], &arms[1]], MetricType::Mean).unwrap();
    for k in 0..2 {
        close(adj.theta[k], f(&j["theta"][k]), 1e-9, "theta");
        let want = &j["arms"][k];
        close(adj.arms[k].mean, f(&want["mean"]), 1e-10, "adjusted mean");
        close(
            adj.arms[k].unadjusted_mean,
            f(&want["unadjusted_mean"]),
            1e-12,
            "raw mean",
        );
        close(
            adj.arms[k].variance,
            f(&want["variance"]),
            1e-8,
            "adjusted variance",
        );
    }
}

#[test]
fn regression_adjustment_errors_are_typed() {
    let mut a = Moments::new(vec!["numerator".into(), "denominator".into(), "x".into()]);
    let mut b = a.clone();
    for i in 0..10 {
        a.push(&[i as f64, 1.0, 3.0]).unwrap();
        b.push(&[i as f64 + 1.0, 1.0, 3.0]).unwrap();
    }
    let e = regression_adjust(&[&a, &b], MetricType::Mean).unwrap_err();
    assert!(e.to_string().contains("constant"), "{e}");
    let mut a = Moments::new(vec![
        "numerator".into(),
        "denominator".into(),
        "x".into(),
        "z".into(),
    ]);
    let mut b = a.clone();
    for i in 0..10 {
        let x = (i * i % 7) as f64;
        a.push(&[i as f64, 1.0, x, 2.0 * x]).unwrap();
        b.push(&[i as f64, 1.0, x + 1.0, 2.0 * x + 2.0]).unwrap();
    }
    let e = regression_adjust(&[&a, &b], MetricType::Mean).unwrap_err();
    assert!(e.to_string().contains("collinear"), "{e}");
    let plain = Moments::new(vec!["numerator".into(), "denominator".into()]);
    assert!(regression_adjust(&[&plain], MetricType::Mean).is_err());
}

#[test]
fn post_stratification_matches_interacted_ols() {
    // statsmodels OLS y ~ T * centred stratum dummies: T coefficient = post-stratified
    // difference; SE = conditional variance from rows (reference/ab.json poststrat).
    let j = &reference()["poststrat"];
    let mut cells: Vec<Vec<Moments>> = vec![vec![], vec![]];
    for c in j["cells"].as_array().unwrap() {
        let n = f(&c["n"]);
        let m = Moments::from_parts(
            vec!["numerator".into(), "denominator".into()],
            n as u64,
            vec![f(&c["sum"]), n],
            |i, k| match (i, k) {
                (0, 0) => f(&c["sum_squares"]),
                (1, 1) => n,
                _ => f(&c["sum"]),
            },
        )
        .unwrap();
        cells[c["arm"].as_u64().unwrap() as usize].push(m);
    }
    let refs: Vec<Vec<&Moments>> = cells.iter().map(|a| a.iter().collect()).collect();
    let arms = post_stratify(&refs, MetricType::Mean).unwrap();
    let c = compare(&arms[0], &arms[1], &TestOptions::default()).unwrap();
    close(
        c.absolute.estimate,
        f(&j["diff"]),
        1e-10,
        "post-stratified diff",
    );
    close(
        c.absolute.std_error,
        f(&j["se"]),
        1e-10,
        "post-stratified se",
    );
}

#[test]
fn quantile_matches_gbstats() {
    let j = &reference()["gbstats_quantile"];
    let gen = |n: usize, a: f64, b: f64| -> Vec<f64> {
        (0..n)
            .map(|i| a + b * ((i * 7919) % 1009) as f64 / 1009.0 + 0.01 * i as f64 / n as f64)
            .collect()
    };
    let nu = f(&j["nu"]);
    let qa = quantile_arm(&gen(800, 100.0, 300.0), nu).unwrap();
    let qb = quantile_arm(&gen(900, 95.0, 290.0), nu).unwrap();
    close(qa.stats.mean, f(&j["quantile_a"]), 1e-12, "q A");
    close(qb.stats.mean, f(&j["quantile_b"]), 1e-12, "q B");
    let c = compare(&qa.stats, &qb.stats, &TestOptions::default()).unwrap();
    check_lift(&c.absolute, &j["absolute"], 1e-9, "quantile abs");
    check_lift(&c.relative.unwrap(), &j["relative"], 1e-9, "quantile rel");
    // One value per cluster: the design effect is n/(n-1)-close to 1.
    let v = gen(800, 100.0, 300.0);
    let ids: Vec<usize> = (0..800).collect();
    let qc = quantile_arm_clustered(&v, &ids, nu).unwrap();
    close(
        qc.stats.variance,
        qa.stats.variance,
        0.01,
        "clustered = iid for singletons",
    );
    assert!(quantile_arm(&v[..10], 0.9).is_err(), "too few values");
    assert!(quantile_arm(&v, 1.0).is_err());
}

#[test]
fn proportions_z_wilson_newcombe_statsmodels() {
    let j = &reference()["prop_z"];
    let a = ArmStats::proportion(180.0, 1000.0).unwrap();
    let b = ArmStats::proportion(215.0, 1000.0).unwrap();
    let opts = TestOptions {
        test: TestKind::Z,
        proportion: true,
        ..Default::default()
    };
    let c = compare(&a, &b, &opts).unwrap();
    close(
        c.absolute.p_value,
        f(&j["p_value"]),
        1e-9,
        "pooled z p (proportions_ztest)",
    );
    // The lower limits sit near 0 by design: compare on the scale of the interval width.
    assert!(
        (c.absolute.ci_low - f(&j["wald"][0])).abs() < 1e-12,
        "wald lo"
    );
    close(c.absolute.ci_high, f(&j["wald"][1]), 1e-9, "wald hi");
    let (lo, hi) = newcombe(180.0, 1000.0, 215.0, 1000.0, 0.05).unwrap();
    assert!((lo - f(&j["newcombe"][0])).abs() < 1e-12, "newcombe lo");
    close(hi, f(&j["newcombe"][1]), 1e-9, "newcombe hi");
    // Wilson (1927) for 0/10: upper limit z^2/(n + z^2).
    let (l, u) = wilson(0.0, 10.0, 0.05).unwrap();
    let z2 = 1.959963984540054f64.powi(2);
    assert!(l.abs() < 1e-15);
    close(u, z2 / (10.0 + z2), 1e-9, "wilson upper");
}

#[test]
fn fieller_matches_numerical_inversion_and_reports_unbounded() {
    let r = reference();
    for c in r["fieller"].as_array().unwrap() {
        let got = fieller(
            f(&c["mean_a"]),
            f(&c["var_a"]),
            f(&c["mean_b"]),
            f(&c["var_b"]),
            f(&c["crit"]),
        );
        match got {
            FiellerInterval::Bounded { low, high } => {
                close(low, f(&c["interval"][0]), 1e-9, "fieller low");
                close(high, f(&c["interval"][1]), 1e-9, "fieller high");
            }
            other => panic!("expected bounded, got {other:?}"),
        }
    }
    let u = &r["fieller_unbounded"];
    let got = fieller(
        f(&u["mean_a"]),
        f(&u["var_a"]),
        f(&u["mean_b"]),
        f(&u["var_b"]),
        f(&u["crit"]),
    );
    assert!(!matches!(got, FiellerInterval::Bounded { .. }), "{got:?}");
    // Through compare: a control mean indistinguishable from zero is flagged.
    let a = ArmStats::new(4.0, 0.5, 1.0).unwrap();
    let b = ArmStats::new(4.0, 1.0, 1.0).unwrap();
    let c = compare(&a, &b, &TestOptions::default()).unwrap();
    assert!(!matches!(c.fieller, Some(FiellerInterval::Bounded { .. })));
    assert!(
        c.warnings.iter().any(|w| w.contains("unbounded")),
        "{:?}",
        c.warnings
    );
}

#[test]
fn non_positive_control_mean_has_a_defined_answer() {
    let a = ArmStats::new(100.0, -2.0, 4.0).unwrap();
    let b = ArmStats::new(100.0, -1.0, 4.0).unwrap();
    let c = compare(&a, &b, &TestOptions::default()).unwrap();
    assert!(c.relative.is_none() && c.fieller.is_none());
    close(c.absolute.estimate, 1.0, 1e-12, "absolute still reported");
    assert!(c.warnings.iter().any(|w| w.contains("not positive")));
    assert!(ArmStats::new(1.0, 0.0, 1.0).is_err(), "one unit");
    assert!(ArmStats::new(10.0, f64::NAN, 1.0).is_err());
    assert!(
        ArmStats::ratio(10.0, 1.0, 1.0, 0.0, 0.0, 0.0).is_err(),
        "zero denominator"
    );
    assert!(ArmStats::proportion(11.0, 10.0).is_err());
}

#[test]
fn guardrails_and_verdict() {
    let lift = |est: f64, p: f64| Lift {
        estimate: est,
        std_error: 0.01,
        ci_low: est - 0.0196,
        ci_high: est + 0.0196,
        p_value: p,
        df: f64::INFINITY,
    };
    // Lower is better, margin 0.02: lift 0.0 has z = 2, p = P(Z > 2) = 0.02275.
    let p = non_inferiority_p(&lift(0.0, 1.0), 0.02, Direction::LowerIsBetter).unwrap();
    close(p, 0.022750131948179195, 1e-9, "non-inferiority p");
    let p2 = non_inferiority_p(&lift(0.0, 1.0), 0.02, Direction::HigherIsBetter).unwrap();
    close(p2, p, 1e-12, "symmetric");
    assert!(non_inferiority_p(&lift(0.0, 1.0), -1.0, Direction::LowerIsBetter).is_err());
    let g = |est: f64, p: f64, ni: f64| checks::GuardrailCheck {
        metric: "repeat".into(),
        lift: lift(est, p),
        direction: Direction::LowerIsBetter,
        margin: 0.02,
        non_inferiority_p: ni,
    };
    let v = verdict(
        "aht",
        &lift(-0.05, 1e-6),
        Direction::LowerIsBetter,
        &[g(0.0, 1.0, 0.01)],
        0.05,
        Some(0.5),
        0.001,
    );
    assert_eq!(v.decision, Decision::Ship, "{:?}", v.reasons);
    let v = verdict(
        "aht",
        &lift(-0.05, 1e-6),
        Direction::LowerIsBetter,
        &[g(0.03, 0.001, 0.9)],
        0.05,
        None,
        0.001,
    );
    assert_eq!(v.decision, Decision::DontShip);
    let v = verdict(
        "aht",
        &lift(-0.05, 1e-6),
        Direction::LowerIsBetter,
        &[g(0.0, 1.0, 0.2)],
        0.05,
        None,
        0.001,
    );
    assert_eq!(v.decision, Decision::Inconclusive);
    let v = verdict(
        "aht",
        &lift(0.05, 1e-6),
        Direction::LowerIsBetter,
        &[],
        0.05,
        None,
        0.001,
    );
    assert_eq!(v.decision, Decision::DontShip);
    let v = verdict(
        "aht",
        &lift(-0.05, 1e-6),
        Direction::LowerIsBetter,
        &[],
        0.05,
        Some(1e-5),
        0.001,
    );
    assert_eq!(v.decision, Decision::Inconclusive);
    assert!(v.reasons[0].contains("sample ratio mismatch"));
}

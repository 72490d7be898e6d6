//! Edge cases that break peer implementations: each either works or fails with a typed
//! error naming the problem.

use causalkit_did::event_study::{event_study, EventStudyOptions};
use causalkit_did::imputation::imputation;
use causalkit_did::sunab::sun_abraham;
use causalkit_did::twfe::{did_2x2, twfe, TwoByTwo};
use causalkit_did::{DidError, StaggeredPanel};
use causalkit_stats::{Factor, FixedEffects, LinearModel, StatsError, Vcov};

/// A deterministic panel: `units` units over periods 1..=periods, cohort per unit from
/// `cohort_of`, outcome = unit effect + period effect + effect (2 + e) when treated + a
/// deterministic wiggle. Rows for which `drop(unit, period)` is true are omitted.
fn panel(
    units: usize,
    periods: i64,
    cohort_of: impl Fn(usize) -> Option<i64>,
    drop: impl Fn(usize, i64) -> bool,
) -> StaggeredPanel {
    let (mut u, mut t, mut y, mut g) = (vec![], vec![], vec![], vec![]);
    for i in 0..units {
        for p in 1..=periods {
            if drop(i, p) {
                continue;
            }
            let c = cohort_of(i);
            let eff = match c {
                Some(c) if p >= c => 2.0 + (p - c) as f64,
                _ => 0.0,
            };
            let wiggle = (((i * 31 + p as usize * 17) % 13) as f64 - 6.0) * 0.1;
            u.push(format!("u{i}"));
            t.push(p);
            y.push(i as f64 * 0.5 + p as f64 * 0.3 + eff + wiggle);
            g.push(c);
        }
    }
    StaggeredPanel::new(Factor::from_labels("unit", &u), t, y, g).unwrap()
}

#[test]
fn cohort_treated_in_first_period_is_a_typed_error() {
    let p = panel(
        12,
        6,
        |i| {
            if i < 3 {
                Some(1)
            } else if i < 6 {
                Some(4)
            } else {
                None
            }
        },
        |_, _| false,
    );
    for e in [
        twfe(&p, None, 0.05, None).unwrap_err(),
        sun_abraham(&p, None, 0.05).unwrap_err(),
        imputation(&p, None, 0.05).unwrap_err(),
        event_study(&p, &EventStudyOptions::default(), None, 0.05).unwrap_err(),
    ] {
        assert!(
            matches!(
                e,
                DidError::NoPrePeriod {
                    cohort: 1,
                    first_period: 1
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("cohort 1"));
    }
}

#[test]
fn cohort_with_a_single_untreated_period_works() {
    // Cohort 2 has only period 1 untreated.
    let p = panel(
        12,
        6,
        |i| {
            if i < 3 {
                Some(2)
            } else if i < 6 {
                Some(4)
            } else {
                None
            }
        },
        |_, _| false,
    );
    let s = sun_abraham(&p, None, 0.05).unwrap();
    assert!(s.cells.iter().any(|c| c.label == "CATT(2,e=4)"));
    let im = imputation(&p, None, 0.05).unwrap();
    assert!(im.att.std_error.unwrap() > 0.0 && im.att.estimate.is_finite());
    let es = event_study(&p, &EventStudyOptions::default(), None, 0.05).unwrap();
    assert!(es.coefs.iter().all(|c| c.row.std_error.is_some()));
    twfe(&p, None, 0.05, None).unwrap();
}

#[test]
fn no_never_treated_units() {
    let p = panel(
        12,
        6,
        |i| if i < 6 { Some(3) } else { Some(5) },
        |_, _| false,
    );
    // TWFE identified by timing.
    twfe(&p, None, 0.05, None).unwrap();
    // Event study: fully treated periods are dropped and further relative periods are
    // normalised to zero (as fixest drops collinear indicators), each with a warning.
    let es = event_study(&p, &EventStudyOptions::default(), None, 0.05).unwrap();
    assert!(es.reference.len() >= 2 && es.reference.contains(&-1));
    assert!(es.warnings.iter().any(|w| w.contains("no never-treated")));
    assert!(es.warnings.iter().any(|w| w.contains("[5, 6]")));
    assert!(!es.coefs.is_empty() && es.coefs.iter().all(|c| c.row.std_error.is_some()));
    // Sun-Abraham: last cohort is the control, its treated periods dropped.
    let s = sun_abraham(&p, None, 0.05).unwrap();
    assert_eq!(s.control, Some(5));
    assert!(s
        .warnings
        .iter()
        .any(|w| w.contains("last-treated cohort (5)")));
    // Cohort 3, periods 3 and 4 (e = 0, 1) against cohort 5: effect 2 + e exactly, up to
    // the wiggle, so the estimate is near 2.5.
    assert!((s.att.estimate - 2.5).abs() < 0.5, "{}", s.att.estimate);
    // Imputation: periods 5-6 have no untreated unit: a typed error naming the period.
    let e = imputation(&p, None, 0.05).unwrap_err();
    assert!(
        matches!(e, DidError::NoControlInPeriod { period: 5 }),
        "{e}"
    );
    // Single cohort and no never-treated: Sun-Abraham has no control.
    let p1 = panel(8, 5, |_| Some(3), |_, _| false);
    assert!(matches!(
        sun_abraham(&p1, None, 0.05).unwrap_err(),
        DidError::NoControls(_)
    ));
}

#[test]
fn single_treated_unit_works_with_a_warning() {
    let p = panel(10, 6, |i| if i == 0 { Some(4) } else { None }, |_, _| false);
    let t = twfe(&p, None, 0.05, None).unwrap();
    assert_eq!(t.n_treated_units, 1);
    assert!(t.warnings.iter().any(|w| w.contains("single treated unit")));
    let im = imputation(&p, None, 0.05).unwrap();
    assert!(im
        .warnings
        .iter()
        .any(|w| w.contains("single treated unit")));
    sun_abraham(&p, None, 0.05).unwrap();
}

#[test]
fn unbalanced_panel_imputation_equals_saturated_regression() {
    // BJS (2024, Prop. 5 / Thm 1): the imputation estimate of τ_it equals the coefficient on
    // a dummy for row (i,t) in an OLS of y on unit and period effects plus one dummy per
    // treated row. We check it on an unbalanced panel with LinearModel (an independent
    // route: QR on dummies instead of Gauss–Seidel on the untreated rows).
    let p = panel(
        14,
        7,
        |i| {
            if i < 4 {
                Some(4)
            } else if i < 7 {
                Some(6)
            } else {
                None
            }
        },
        |i, t| (i * 7 + t as usize) % 9 == 0,
    );
    assert!(p.len() < 14 * 7);
    let im = imputation(&p, None, 0.05).unwrap();
    let fe = FixedEffects::new(vec![p.unit.clone(), p.time_factor()]).unwrap();
    let mut m = LinearModel::new("y", p.outcome.clone()).absorb(fe);
    let treated: Vec<usize> = (0..p.len()).filter(|&i| p.is_treated(i)).collect();
    for &i in &treated {
        let mut c = vec![0.0; p.len()];
        c[i] = 1.0;
        m = m.regressor(&format!("d{i}"), c);
    }
    let fit = m.fit().unwrap();
    let mean: f64 = fit.coef().iter().sum::<f64>() / treated.len() as f64;
    assert!(
        (im.att.estimate - mean).abs() < 1e-8,
        "{} vs {mean}",
        im.att.estimate
    );
    // And the other estimators run on the unbalanced panel.
    twfe(&p, None, 0.05, None).unwrap();
    sun_abraham(&p, None, 0.05).unwrap();
    event_study(
        &p,
        &EventStudyOptions {
            leads: Some(2),
            lags: Some(2),
            ref_period: None,
        },
        None,
        0.05,
    )
    .unwrap();
}

#[test]
fn bad_input_is_named() {
    let u = Factor::from_labels("unit", &["a", "a", "b", "b"]);
    let e = StaggeredPanel::new(
        u.clone(),
        vec![1, 2, 1, 2],
        vec![1.0; 4],
        vec![Some(2), Some(3), None, None],
    )
    .unwrap_err();
    assert!(
        matches!(e, DidError::CohortNotConstant { ref unit, .. } if unit == "a"),
        "{e}"
    );
    let e =
        StaggeredPanel::new(u.clone(), vec![1, 1, 1, 2], vec![1.0; 4], vec![None; 4]).unwrap_err();
    assert!(
        matches!(e, DidError::DuplicateUnitPeriod { ref unit, period: 1 } if unit == "a"),
        "{e}"
    );
    let e = StaggeredPanel::new(
        u.clone(),
        vec![1, 2, 1, 2],
        vec![1.0, f64::NAN, 1.0, 1.0],
        vec![None; 4],
    )
    .unwrap_err();
    assert!(
        matches!(e, DidError::Stats(StatsError::NonFinite { row: 1, .. })),
        "{e}"
    );
    let p =
        StaggeredPanel::new(u, vec![1, 2, 1, 2], vec![1.0, 2.0, 1.0, 1.5], vec![None; 4]).unwrap();
    assert!(matches!(
        twfe(&p, None, 0.05, None).unwrap_err(),
        DidError::NoTreated(_)
    ));
    // 2x2: non-binary indicator and an empty cell.
    let d = TwoByTwo {
        outcome: vec![1.0, 2.0, 3.0, 4.0, 5.0],
        treat: vec![0.0, 0.0, 1.0, 1.0, 2.0],
        post: vec![0.0, 1.0, 0.0, 1.0, 1.0],
        covariates: vec![],
        weights: None,
        units: None,
        outcome_name: None,
    };
    let e = did_2x2(&d, None, 0.05, None).unwrap_err();
    assert!(
        matches!(e, DidError::Stats(StatsError::OutOfRange { ref variable, row: 4, .. }) if variable == "treat"),
        "{e}"
    );
    let d = TwoByTwo {
        treat: vec![0.0, 0.0, 1.0, 1.0, 1.0],
        post: vec![0.0, 0.0, 0.0, 1.0, 1.0],
        ..d
    };
    let e = did_2x2(&d, None, 0.05, None).unwrap_err();
    assert!(e.to_string().contains("comparison, post"), "{e}");
}

#[test]
fn two_by_two_equals_difference_of_means() {
    // Without covariates τ = (ȳ_T1 − ȳ_T0) − (ȳ_C1 − ȳ_C0) exactly.
    let treat = [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0];
    let post = [0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0];
    let y = [1.0, 2.5, 1.2, 2.0, 3.0, 6.0, 3.4, 5.5, 2.2, 6.1];
    let mean = |t: f64, p: f64| {
        let v: Vec<f64> = (0..10)
            .filter(|&i| treat[i] == t && post[i] == p)
            .map(|i| y[i])
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let want = (mean(1.0, 1.0) - mean(1.0, 0.0)) - (mean(0.0, 1.0) - mean(0.0, 0.0));
    let d = TwoByTwo {
        outcome: y.to_vec(),
        treat: treat.to_vec(),
        post: post.to_vec(),
        covariates: vec![],
        weights: None,
        units: None,
        outcome_name: None,
    };
    let fit = did_2x2(&d, Some(Vcov::Hc1), 0.05, None).unwrap();
    assert!((fit.effect().estimate - want).abs() < 1e-12);
}

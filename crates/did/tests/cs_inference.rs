//! Callaway & Sant'Anna: multiplier bootstrap, simulation coverage and edge cases.
//!
//! The bootstrap follows R `did`'s `mboot` (Mammen weights, IQR-based standard errors,
//! sup-t critical value); its standard errors must agree with the analytic influence-function
//! standard errors (which tests/cs.rs checks against csdid 0.4.3 to 1e-6) up to Monte Carlo
//! error. Coverage is checked on a simulated staggered design with known, heterogeneous
//! effects.

use causalkit_did::cs::{
    att_gt, Aggregation, AttGt, BootstrapOptions, ControlGroup, CsData, CsError, CsMethod,
    CsOptions,
};
use causalkit_stats::resample::{replicate_rng, MultiplierWeights};
use causalkit_stats::Report;
use rand_distr::{Distribution, StandardNormal};

struct Panel {
    unit: Vec<usize>,
    year: Vec<i64>,
    cohort: Vec<i64>,
    y: Vec<f64>,
}

impl Panel {
    fn data(&self) -> CsData<'_> {
        CsData {
            unit: &self.unit,
            period: &self.year,
            cohort: &self.cohort,
            outcome: &self.y,
            ..Default::default()
        }
    }
    fn filter(&self, keep: impl Fn(usize) -> bool) -> Panel {
        let rows: Vec<usize> = (0..self.y.len()).filter(|&r| keep(r)).collect();
        Panel {
            unit: rows.iter().map(|&r| self.unit[r]).collect(),
            year: rows.iter().map(|&r| self.year[r]).collect(),
            cohort: rows.iter().map(|&r| self.cohort[r]).collect(),
            y: rows.iter().map(|&r| self.y[r]).collect(),
        }
    }
}

fn mpdta() -> Panel {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/mpdta.csv");
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let h: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(|s| s.trim_matches('"').to_string())
        .collect();
    let j = |n: &str| h.iter().position(|c| c == n).unwrap();
    let (ju, jy, jg, jl) = (j("countyreal"), j("year"), j("first.treat"), j("lemp"));
    let mut p = Panel {
        unit: vec![],
        year: vec![],
        cohort: vec![],
        y: vec![],
    };
    for l in lines.filter(|l| !l.is_empty()) {
        let r: Vec<&str> = l.split(',').collect();
        p.unit.push(r[ju].parse().unwrap());
        p.year.push(r[jy].parse().unwrap());
        p.cohort.push(r[jg].parse().unwrap());
        p.y.push(r[jl].parse().unwrap());
    }
    p
}

fn boot(reps: usize, seed: u64) -> CsOptions {
    CsOptions {
        method: CsMethod::Regression,
        bootstrap: Some(BootstrapOptions {
            reps,
            seed,
            weights: MultiplierWeights::Mammen,
        }),
        ..Default::default()
    }
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// Same seed => bit-identical bootstrap on 1 and 4 threads; another seed differs.
#[test]
fn bootstrap_is_reproducible_across_thread_counts() {
    let m = mpdta();
    let run = |seed| {
        let fit = att_gt(&m.data(), &boot(499, seed)).unwrap();
        let dynamic = fit
            .aggregate(&Aggregation::Dynamic {
                min_e: None,
                max_e: None,
                balance_e: None,
            })
            .unwrap();
        let se: Vec<Option<f64>> = fit.rows.iter().map(|r| r.se).collect();
        let dse: Vec<Option<f64>> = dynamic.effects.iter().map(|e| e.se).collect();
        (
            se,
            fit.critical_value,
            dse,
            dynamic.critical_value,
            dynamic.overall.se,
        )
    };
    let one = in_pool(1, || run(7));
    let four = in_pool(4, || run(7));
    assert_eq!(one, four);
    assert!(one.1.is_some() && one.3.is_some());
    let other = in_pool(4, || run(8));
    assert_ne!(one.0, other.0);
}

/// With many draws the bootstrap SE (R's IQR / 1.349 / sqrt(n)) matches the analytic SE: the
/// relative Monte Carlo sd of an IQR-based scale with B = 4999 draws is about 1.6%, so 5% is
/// about 3 sd. The sup-t critical value lies between the pointwise 1.96 and the
/// Bonferroni value for 12 cells (3.04).
#[test]
fn bootstrap_matches_analytic_standard_errors() {
    let m = mpdta();
    let analytic = att_gt(
        &m.data(),
        &CsOptions {
            method: CsMethod::Regression,
            ..Default::default()
        },
    )
    .unwrap();
    let b = att_gt(&m.data(), &boot(4999, 2026)).unwrap();
    for (a, r) in analytic.rows.iter().zip(&b.rows) {
        let (sa, sb) = (a.se.unwrap(), r.se.unwrap());
        assert!(
            (sb / sa - 1.0).abs() < 0.05,
            "ATT({},{}) boot {sb} analytic {sa}",
            a.group,
            a.time
        );
        let (lo, hi) = r.uniform_ci.unwrap();
        assert!(lo < r.ci.unwrap().0 && hi > r.ci.unwrap().1);
    }
    let c = b.critical_value.unwrap();
    assert!(c > 1.96 && c < 3.04, "critical value {c}");
    // The R README's SEs (did.md) are one bootstrap run of 999 draws (relative MC sd about
    // 3.5% each); they agree with our 4999-draw bootstrap within 14% (3.6 sd of the difference).
    let readme = [
        0.0246, 0.0327, 0.0404, 0.0380, 0.0250, 0.0195, 0.0164, 0.0205, 0.0143, 0.0167, 0.0176,
        0.0167,
    ];
    for (r, w) in b.rows.iter().zip(readme) {
        let s = r.se.unwrap();
        assert!(
            (s / w - 1.0).abs() < 0.14,
            "ATT({},{}) boot {s} README {w}",
            r.group,
            r.time
        );
    }
    // Aggregations too.
    for kind in [
        Aggregation::Simple,
        Aggregation::Group,
        Aggregation::Calendar,
    ] {
        let a = analytic.aggregate(&kind).unwrap();
        let bb = b.aggregate(&kind).unwrap();
        let (sa, sb) = (a.overall.se.unwrap(), bb.overall.se.unwrap());
        assert!(
            (sb / sa - 1.0).abs() < 0.05,
            "{kind:?}: boot {sb} analytic {sa}"
        );
    }
}

/// A staggered design with heterogeneous effects `τ(g,t) = 1 + 0.5 (t − g) + 0.2 (g − 3)`:
/// 4 x `per` units (cohorts 3, 4, 5 and never treated), periods 1..=5, unit effects
/// correlated with the cohort, a common trend, iid N(0,1) noise.
fn simulate(rep: u64, per: usize) -> Panel {
    let mut rng = replicate_rng(20_261_123, rep);
    let cohorts = [3i64, 4, 5, 0];
    let mut p = Panel {
        unit: vec![],
        year: vec![],
        cohort: vec![],
        y: vec![],
    };
    for (ci, &g) in cohorts.iter().enumerate() {
        for j in 0..per {
            let u = ci * per + j;
            let z: f64 = StandardNormal.sample(&mut rng);
            let alpha = 0.5 * ci as f64 + z;
            for t in 1..=5i64 {
                let e: f64 = StandardNormal.sample(&mut rng);
                let tau = if g > 0 && t >= g { truth(g, t) } else { 0.0 };
                p.unit.push(u);
                p.year.push(t);
                p.cohort.push(g);
                p.y.push(alpha + 0.3 * t as f64 + tau + e);
            }
        }
    }
    p
}

fn truth(g: i64, t: i64) -> f64 {
    if t >= g {
        1.0 + 0.5 * (t - g) as f64 + 0.2 * (g - 3) as f64
    } else {
        0.0
    }
}

fn covers(ci: Option<(f64, f64)>, v: f64) -> bool {
    let (lo, hi) = ci.unwrap();
    lo <= v && v <= hi
}

/// Pointwise analytic intervals of every ATT(g,t) (pooled), of the simple aggregate and of
/// the event-study e = 1 effect cover near 95% over 300 replications (binomial sd of a
/// single coverage rate 1.3%; bounds at about 3 sd).
#[test]
fn simulation_coverage_analytic() {
    let reps = 300;
    let (mut cells, mut cell_hits, mut simple_hits, mut e1_hits) = (0, 0, 0, 0);
    for rep in 0..reps {
        let p = simulate(rep, 50);
        let opts = CsOptions {
            method: CsMethod::DoublyRobust,
            ..Default::default()
        };
        let fit = att_gt(&p.data(), &opts).unwrap();
        for r in &fit.rows {
            cells += 1;
            cell_hits += usize::from(covers(r.ci, truth(r.group, r.time)));
        }
        // Equal cohort sizes: the simple aggregate is the plain mean of the 6 post cells.
        let post = [(3, 3), (3, 4), (3, 5), (4, 4), (4, 5), (5, 5)];
        let simple_truth = post.iter().map(|&(g, t)| truth(g, t)).sum::<f64>() / 6.0;
        let s = fit.aggregate(&Aggregation::Simple).unwrap();
        simple_hits += usize::from(covers(s.overall.ci, simple_truth));
        let d = fit
            .aggregate(&Aggregation::Dynamic {
                min_e: None,
                max_e: None,
                balance_e: None,
            })
            .unwrap();
        let e1 = d.effects.iter().find(|e| e.key == Some(1)).unwrap();
        e1_hits += usize::from(covers(e1.ci, (truth(3, 4) + truth(4, 5)) / 2.0));
    }
    let rate = |h: usize, n: usize| h as f64 / n as f64;
    let pooled = rate(cell_hits, cells);
    assert!(
        (0.93..=0.97).contains(&pooled),
        "pooled cell coverage {pooled}"
    );
    for (what, h) in [("simple", simple_hits), ("e=1", e1_hits)] {
        let c = rate(h, reps as usize);
        assert!((0.91..=0.99).contains(&c), "{what} coverage {c}");
    }
}

/// The bootstrap's uniform band covers all 12 ATT(g,t) jointly in about 95% of 200
/// replications (binomial sd 1.5%), while pointwise intervals cover them jointly far less
/// often.
#[test]
fn simulation_coverage_uniform_band() {
    let reps = 200;
    let (mut joint_uniform, mut joint_pointwise) = (0, 0);
    for rep in 0..reps {
        let p = simulate(1000 + rep, 40);
        let mut opts = boot(199, rep);
        opts.method = CsMethod::Regression;
        let fit = att_gt(&p.data(), &opts).unwrap();
        joint_uniform += usize::from(
            fit.rows
                .iter()
                .all(|r| covers(r.uniform_ci, truth(r.group, r.time))),
        );
        joint_pointwise += usize::from(
            fit.rows
                .iter()
                .all(|r| covers(r.ci, truth(r.group, r.time))),
        );
    }
    let u = joint_uniform as f64 / reps as f64;
    let pw = joint_pointwise as f64 / reps as f64;
    assert!(
        (0.90..=0.99).contains(&u),
        "uniform band joint coverage {u}"
    );
    assert!(pw < 0.85, "pointwise joint coverage {pw}");
}

fn att(fit: &AttGt, g: i64, t: i64) -> f64 {
    fit.rows
        .iter()
        .find(|r| r.group == g && r.time == t)
        .unwrap()
        .att
}

/// Units treated in the first period are dropped with a warning; the estimates equal those
/// without these units (R `did` behaviour).
#[test]
fn cohort_treated_in_first_period_is_dropped() {
    let m = mpdta();
    let mut changed = m.filter(|_| true);
    // Pretend 20 never-treated counties were treated in 2003 (the first period).
    let mut moved = std::collections::BTreeSet::new();
    for r in 0..changed.y.len() {
        if changed.cohort[r] == 0 && (moved.len() < 20 || moved.contains(&changed.unit[r])) {
            moved.insert(changed.unit[r]);
            changed.cohort[r] = 2003;
        }
    }
    let opts = CsOptions {
        method: CsMethod::Regression,
        ..Default::default()
    };
    let fit = att_gt(&changed.data(), &opts).unwrap();
    assert!(
        fit.warnings
            .iter()
            .any(|w| w.contains("dropped 20 units already treated in the first period")),
        "{:?}",
        fit.warnings
    );
    let without = changed.filter(|r| changed.cohort[r] != 2003);
    let base = att_gt(&without.data(), &opts).unwrap();
    assert_eq!(fit.rows, base.rows);
    assert_eq!(fit.n, base.n);
    // The 2004 cohort has a single pre-treatment period (2003): no pre-period cells, all its
    // post cells use 2003 as base.
    assert!(fit
        .rows
        .iter()
        .filter(|r| r.group == 2004)
        .all(|r| r.post && r.base == 2003));
}

/// A cohort with a single unit: estimated, with a warning that its SEs are unreliable.
#[test]
fn single_treated_unit() {
    let m = mpdta();
    let first_2006 = m.unit[(0..m.y.len()).find(|&r| m.cohort[r] == 2006).unwrap()];
    let p = m.filter(|r| m.cohort[r] != 2006 || m.unit[r] == first_2006);
    let fit = att_gt(&p.data(), &CsOptions::default()).unwrap();
    assert!(fit
        .warnings
        .iter()
        .any(|w| w.contains("cohort 2006 has a single treated unit")));
    let r = fit
        .rows
        .iter()
        .find(|r| r.group == 2006 && r.time == 2006)
        .unwrap();
    assert_eq!(r.n_treated, 1);
    // The 2x2 estimate is that unit's change minus the never-treated mean change.
    let y = |u: usize, t: i64| {
        p.y[(0..p.y.len())
            .find(|&r| p.unit[r] == u && p.year[r] == t)
            .unwrap()]
    };
    let never: Vec<usize> = (0..p.y.len())
        .filter(|&r| p.cohort[r] == 0 && p.year[r] == 2006)
        .map(|r| p.unit[r])
        .collect();
    let dc = never.iter().map(|&u| y(u, 2006) - y(u, 2005)).sum::<f64>() / never.len() as f64;
    assert!((r.att - (y(first_2006, 2006) - y(first_2006, 2005) - dc)).abs() < 1e-12);
    assert!(r.se.unwrap().is_finite());
    assert!(
        (att(&fit, 2004, 2004) - (-0.010503246220961895)).abs() < 1e-12,
        "other cohorts unaffected"
    );
}

/// Bad input: typed errors naming the row or unit.
#[test]
fn bad_input_errors() {
    let m = mpdta();
    let mut y = m.y.clone();
    y[17] = f64::NAN;
    let d = CsData {
        outcome: &y,
        ..m.data()
    };
    match att_gt(&d, &CsOptions::default()) {
        Err(CsError::NonFinite { name, row, .. }) => {
            assert_eq!((name.as_str(), row), ("outcome", 17))
        }
        other => panic!("{other:?}"),
    }
    let mut cohort = m.cohort.clone();
    cohort[1] = if cohort[1] == 0 { 2006 } else { 0 };
    let d = CsData {
        cohort: &cohort,
        ..m.data()
    };
    assert!(matches!(
        att_gt(&d, &CsOptions::default()),
        Err(CsError::NotConstantWithinUnit { row: 1, .. })
    ));
    let mut year = m.year.clone();
    year[1] = year[0];
    let d = CsData {
        period: &year,
        ..m.data()
    };
    assert!(matches!(
        att_gt(&d, &CsOptions::default()),
        Err(CsError::Duplicate { row: 1, .. })
    ));
    let short = &m.year[..10];
    let d = CsData {
        period: short,
        ..m.data()
    };
    assert!(matches!(
        att_gt(&d, &CsOptions::default()),
        Err(CsError::Length { .. })
    ));
    let mut cohort = m.cohort.clone();
    cohort.iter_mut().for_each(|c| *c = -(*c).min(1));
    let d = CsData {
        cohort: &cohort,
        ..m.data()
    };
    assert!(matches!(
        att_gt(&d, &CsOptions::default()),
        Err(CsError::NegativeCohort { .. })
    ));
    let w = vec![-1.0; m.y.len()];
    let d = CsData {
        weights: Some(&w),
        ..m.data()
    };
    assert!(matches!(
        att_gt(&d, &CsOptions::default()),
        Err(CsError::NegativeWeight { row: 0, .. })
    ));
    let opts = CsOptions {
        alpha: 1.5,
        ..Default::default()
    };
    assert!(matches!(
        att_gt(&m.data(), &opts),
        Err(CsError::Option { .. })
    ));
    // Only never-treated units: nothing to estimate.
    let never = m.filter(|r| m.cohort[r] == 0);
    assert!(matches!(
        att_gt(&never.data(), &CsOptions::default()),
        Err(CsError::NothingToEstimate(_))
    ));
    // Not-yet-treated with never-treated present also works and uses more controls.
    let ny = att_gt(
        &m.data(),
        &CsOptions {
            control_group: ControlGroup::NotYetTreated,
            ..Default::default()
        },
    )
    .unwrap();
    let nv = att_gt(&m.data(), &CsOptions::default()).unwrap();
    let cell = |f: &AttGt| {
        f.rows
            .iter()
            .find(|r| r.group == 2007 && r.time == 2005)
            .unwrap()
            .n_control
    };
    assert!(cell(&ny) > cell(&nv));
}

/// Weights: integer weights equal duplicating units (the estimator is a weighted mean).
#[test]
fn integer_weights_equal_duplicated_units() {
    let m = mpdta();
    let w: Vec<f64> = m
        .unit
        .iter()
        .map(|u| if u % 3 == 0 { 2.0 } else { 1.0 })
        .collect();
    let d = CsData {
        weights: Some(&w),
        ..m.data()
    };
    let weighted = att_gt(&d, &CsOptions::default()).unwrap();
    let mut dup = m.filter(|_| true);
    for r in 0..m.y.len() {
        if m.unit[r] % 3 == 0 {
            dup.unit.push(m.unit[r] + 1_000_000);
            dup.year.push(m.year[r]);
            dup.cohort.push(m.cohort[r]);
            dup.y.push(m.y[r]);
        }
    }
    let duplicated = att_gt(&dup.data(), &CsOptions::default()).unwrap();
    for (a, b) in weighted.rows.iter().zip(&duplicated.rows) {
        assert!((a.att - b.att).abs() < 1e-12);
    }
    let (sa, sb) = (
        weighted
            .aggregate(&Aggregation::Simple)
            .unwrap()
            .overall
            .estimate,
        duplicated
            .aggregate(&Aggregation::Simple)
            .unwrap()
            .overall
            .estimate,
    );
    assert!((sa - sb).abs() < 1e-12);
}

/// The performance design point (100,000 units x 10 periods, 999 bootstrap draws, all
/// four aggregations). Too slow for the debug test budget; run it in release:
/// `cargo test --release -p causalkit-did --test cs_inference -- --ignored large_panel`.
/// (No timing is asserted; benches/did.rs measures speed.)
#[test]
#[ignore = "large design for release-mode runs"]
fn large_panel_design_point() {
    let n_units = 100_000;
    let mut rng = replicate_rng(99, 0);
    let cohorts = [3i64, 4, 5, 6, 7, 0];
    let mut p = Panel {
        unit: vec![],
        year: vec![],
        cohort: vec![],
        y: vec![],
    };
    for u in 0..n_units {
        let g = cohorts[u % cohorts.len()];
        let alpha: f64 = StandardNormal.sample(&mut rng);
        for t in 1..=10i64 {
            let e: f64 = StandardNormal.sample(&mut rng);
            let tau = if g > 0 && t >= g { truth(g, t) } else { 0.0 };
            p.unit.push(u);
            p.year.push(t);
            p.cohort.push(g);
            p.y.push(alpha + 0.1 * t as f64 + tau + e);
        }
    }
    let fit = att_gt(&p.data(), &boot(999, 1)).unwrap();
    assert_eq!(fit.rows.len(), 5 * 9);
    for kind in [
        Aggregation::Simple,
        Aggregation::Dynamic {
            min_e: None,
            max_e: None,
            balance_e: None,
        },
        Aggregation::Group,
        Aggregation::Calendar,
    ] {
        let a = fit.aggregate(&kind).unwrap();
        assert!(a.overall.se.unwrap() > 0.0);
    }
    let r = fit
        .rows
        .iter()
        .find(|r| r.group == 5 && r.time == 7)
        .unwrap();
    assert!(covers(r.uniform_ci, truth(5, 7)));
}

/// Clustered bootstrap: weights are drawn once per cluster and the bootstrap SEs estimate
/// the analytic cluster-robust SEs `√(Σ_c S_c²)/n` (tests/cs.rs checks those against csdid
/// 0.4.3 to 1e-6).
#[test]
fn clustered_bootstrap() {
    let m = mpdta();
    // Clusters equal to units reproduce the unclustered bootstrap exactly.
    let same = att_gt(
        &CsData {
            cluster: Some(&m.unit),
            ..m.data()
        },
        &boot(999, 5),
    )
    .unwrap();
    let plain = att_gt(&m.data(), &boot(999, 5)).unwrap();
    assert_eq!(same.rows, plain.rows);
    // 100 clusters of 5 counties: bootstrap SE within 5% of the clustered analytic SE
    // (IQR-based scale with B = 4999 and ~normal cluster sums: MC sd about 1.6%).
    let mut ids = m.unit.clone();
    ids.sort_unstable();
    ids.dedup();
    let cl: Vec<usize> = m
        .unit
        .iter()
        .map(|u| ids.binary_search(u).unwrap() % 100)
        .collect();
    let data = CsData {
        cluster: Some(&cl),
        ..m.data()
    };
    let opts = CsOptions {
        method: CsMethod::Regression,
        ..Default::default()
    };
    let analytic = att_gt(&data, &opts).unwrap();
    assert_eq!(analytic.n_clusters, 100);
    let b = att_gt(&data, &boot(4999, 11)).unwrap();
    for (a, r) in analytic.rows.iter().zip(&b.rows) {
        let q = r.se.unwrap() / a.se.unwrap();
        assert!(
            (q - 1.0).abs() < 0.05,
            "ATT({},{}) ratio {q}",
            a.group,
            a.time
        );
    }
    // State clusters (29): clustering changes the standard errors materially.
    let state: Vec<usize> = m.unit.iter().map(|u| u / 1000).collect();
    let by_state = att_gt(
        &CsData {
            cluster: Some(&state),
            ..m.data()
        },
        &boot(999, 5),
    )
    .unwrap();
    assert_eq!(by_state.n_clusters, 29);
    assert!(by_state
        .rows
        .iter()
        .zip(&plain.rows)
        .any(|(c, u)| (c.se.unwrap() / u.se.unwrap() - 1.0).abs() > 0.2));
}

/// With the bootstrap, the result carries the critical value and the uniform bands.
#[test]
fn bootstrap_result_diagnostics() {
    let m = mpdta();
    let fit = att_gt(&m.data(), &boot(199, 3)).unwrap();
    let r = fit.result();
    assert_eq!(r.diagnostics["bootstrap_reps"], 199);
    assert_eq!(r.diagnostics["critical_value"].as_f64(), fit.critical_value);
    let band = r.diagnostics["uniform_ci"]["ATT(2004,2006)"]
        .as_array()
        .unwrap();
    let row = fit
        .rows
        .iter()
        .find(|x| x.group == 2004 && x.time == 2006)
        .unwrap();
    assert_eq!(band[0].as_f64(), row.uniform_ci.map(|b| b.0));
    let d = fit
        .aggregate(&Aggregation::Dynamic {
            min_e: None,
            max_e: None,
            balance_e: None,
        })
        .unwrap();
    assert!(d.critical_value.is_some() && d.overall.uniform_ci.is_none());
    let dr = d.report(&fit).result();
    assert!(dr.diagnostics["uniform_ci"]["e=0"].is_array());
}

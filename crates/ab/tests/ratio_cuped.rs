//! Ratio metrics adjusted on a pre-period ratio (`adjust::ratio_regression_adjust`,
//! `adjust::ratio_adjusted_relative`). Sources:
//! - GrowthBook's own unit tests of `RegressionAdjustedRatioStatistic`
//!   (growthbook/growthbook, packages/stats/gbstats tests of `TwoSidedTTest` and
//!   `SequentialTwoSidedTTest`, "test_two_sided_ttest_test_runs_ratio_ra" and
//!   "test_sequential_test_runs_ratio_ra"): published results rounded to 5 decimals.
//! - reference/ab_ratio_cuped.json (reference/scripts/ab_ratio_cuped_reference.py): an
//!   independent numpy derivation from simulated unit rows (linearised values per row,
//!   numerical Jacobian for the relative lift).

use causalkit_ab::adjust::{ratio_adjusted_relative, ratio_regression_adjust};
use causalkit_ab::frequentist::welch_df;
use causalkit_ab::sequential::ConfidenceSequence;
use causalkit_stats::Moments;
use serde_json::Value;

fn names() -> Vec<String> {
    ["numerator", "denominator", "covariate", "denominator_pre"]
        .map(String::from)
        .to_vec()
}

/// Moments from GrowthBook's fields: sums (m, d, m0, d0), sums of squares, and the six
/// cross-products m·m0, d·d0, m0·d0, m·d, m·d0, m0·d.
fn gb(n: u64, sums: [f64; 4], squares: [f64; 4], cross: [f64; 6]) -> Moments {
    let [mm0, dd0, m0d0, md, md0, m0d] = cross;
    Moments::from_parts(names(), n, sums.to_vec(), |i, j| {
        match (i.max(j), i.min(j)) {
            (k, l) if k == l => squares[k],
            (1, 0) => md,
            (2, 0) => mm0,
            (2, 1) => m0d,
            (3, 0) => md0,
            (3, 1) => dd0,
            (3, 2) => m0d0,
            _ => unreachable!(),
        }
    })
    .unwrap()
}

fn growthbook_case() -> (Moments, Moments) {
    let a = gb(
        100,
        [
            485.112236689623,
            679.9093275844917,
            192.59138069991536,
            290.1398399750233,
        ],
        [
            2715.484666118136,
            4939.424001640236,
            460.076026390857,
            920.9461385038898,
        ],
        [
            1113.6215759318352,
            2130.9404074446747,
            634.239482353647,
            3602.146836776702,
            1559.2878434944676,
            1460.3181079276983,
        ],
    );
    let b = gb(
        100,
        [
            514.7757826608777,
            705.4090874383759,
            206.94157227402536,
            302.54389139107326,
        ],
        [
            2994.897482705013,
            5291.36604146392,
            514.2903702246757,
            994.4506208125663,
        ],
        [
            1237.0953021125997,
            2292.081739775257,
            698.4173425817908,
            3918.1561431600717,
            1701.0287270040265,
            1604.0759503266522,
        ],
    );
    (a, b)
}

fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got}, want {want} (tolerance {tol})"
    );
}

#[test]
fn growthbook_published_ratio_cuped_results() {
    let (a, b) = growthbook_case();
    let adj = ratio_regression_adjust(&[&a, &b]).unwrap();
    let df = welch_df(&adj.arms[0], &adj.arms[1]);
    let rel = ratio_adjusted_relative(&a, &b, adj.theta, df, 0.05).unwrap();
    // Published (5 decimals): expected -0.0007, ci (-0.00841, 0.00700), stddev 0.00391,
    // p 0.85771. Tolerance: half a unit in the 5th decimal.
    let h = 5e-6 + 1e-12;
    close(rel.estimate, -0.0007, h, "estimate");
    close(rel.ci_low, -0.00841, h, "ci low");
    close(rel.ci_high, 0.00700, h, "ci high");
    close(rel.std_error, 0.00391, h, "stddev");
    close(rel.p_value, 0.85771, h, "p");
    // Sequential (gbstats' default tuning 5000): ci (-0.02063, 0.01923).
    let cs = ConfidenceSequence::gbstats(5000.0, 0.05).unwrap();
    let iv = cs.interval(rel.estimate, rel.std_error, 200.0).unwrap();
    close(iv.ci_low, -0.02063, h, "sequential low");
    close(iv.ci_high, 0.01923, h, "sequential high");
}

fn reference() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../reference/ab_ratio_cuped.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

fn rel_close(got: f64, want: f64, tol: f64, what: &str) {
    close(got, want, tol * want.abs().max(1e-300), what);
}

#[test]
fn ratio_cuped_matches_numpy_from_rows() {
    let r = reference();
    let moments = |arm: &str| {
        let mut m = Moments::new(names());
        for row in r["rows"][arm].as_array().unwrap() {
            let x: Vec<f64> = row.as_array().unwrap().iter().map(f).collect();
            m.push(&x).unwrap();
        }
        m
    };
    let (a, b) = (moments("control"), moments("treatment"));
    let adj = ratio_regression_adjust(&[&a, &b]).unwrap();
    // Sums in a different order than numpy's: 1e-9 relative.
    rel_close(adj.theta, f(&r["theta"]), 1e-9, "theta");
    for (i, arm) in ["control", "treatment"].into_iter().enumerate() {
        let w = &r["arms"][arm];
        rel_close(adj.arms[i].mean, f(&w["adjusted"]), 1e-9, "adjusted ratio");
        rel_close(adj.arms[i].unadjusted_mean, f(&w["ratio"]), 1e-9, "ratio");
        rel_close(adj.arms[i].variance, f(&w["variance"]), 1e-9, "variance");
        rel_close(
            adj.variance_reduction[i],
            1.0 - f(&w["variance"]) / f(&w["raw_variance"]),
            1e-9,
            "variance reduction",
        );
    }
    let df = welch_df(&adj.arms[0], &adj.arms[1]);
    rel_close(df, f(&r["df"]), 1e-9, "df");
    let diff = adj.arms[1].mean - adj.arms[0].mean;
    rel_close(diff, f(&r["absolute"]["estimate"]), 1e-9, "absolute");
    let rel = ratio_adjusted_relative(&a, &b, adj.theta, df, 0.05).unwrap();
    rel_close(
        rel.estimate,
        f(&r["relative"]["estimate"]),
        1e-9,
        "relative",
    );
    // numpy's Jacobian is a central difference (step 1e-6 relative): 1e-7 relative.
    rel_close(
        rel.std_error,
        f(&r["relative"]["std_error"]),
        1e-7,
        "relative se",
    );
    rel_close(
        rel.ci_low,
        f(&r["relative"]["ci"][0]),
        1e-7,
        "relative ci low",
    );
    rel_close(
        rel.p_value,
        f(&r["relative"]["p_value"]),
        1e-6,
        "relative p",
    );
}

#[test]
fn ratio_cuped_bad_input_is_a_typed_error() {
    let (a, _) = growthbook_case();
    assert!(ratio_regression_adjust(&[&a]).is_err());
    let two = Moments::new(vec!["numerator".into(), "denominator".into()]);
    assert!(ratio_regression_adjust(&[&two, &two]).is_err());
    // A constant pre-period ratio cannot adjust anything.
    let mut c = Moments::new(names());
    let mut d = Moments::new(names());
    for i in 0..5 {
        c.push(&[i as f64, 1.0, 2.0, 1.0]).unwrap();
        d.push(&[i as f64 + 1.0, 1.0, 2.0, 1.0]).unwrap();
    }
    let e = ratio_regression_adjust(&[&c, &d]).unwrap_err().to_string();
    assert!(e.contains("pre-period ratio"), "{e}");
}

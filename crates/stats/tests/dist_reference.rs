//! Distribution functions against an independent arbitrary-precision implementation.
//!
//! Reference values: `reference/dist.json`, written by `reference/scripts/dist_reference.py`
//! with mpmath 1.4 at 50 significant digits (regularised betainc / gammainc, erfc; quantiles by
//! Newton iterations in mpmath converged to 1e-30), rounded to double. Student t at df 1 ..
//! 1e12 (including the 8e6 and 1.6e7 of issue 11) and the normal, with tails down to 1e-300;
//! chi-square at df 0.5 .. 1e12 (at df >= 1e6 from mpmath's upper incomplete gamma directly,
//! without quantiles); F and beta with shapes below 1e6 (mpmath's series need minutes beyond;
//! `dist_properties.rs` covers those shapes). scipy 1.17's values are stored alongside: they
//! agree with mpmath to ~1e-12 at moderate shapes but are off at huge ones (chi2.sf 30 sd out
//! at df >= 1e6 by 2%, `t.isf(1e-300, 5) = +inf`), so they are not the reference. A row whose
//! mpmath evaluation ran out of time stores scipy's value (`"source": "scipy"`).
//!
//! Tolerance: 1e-10 relative for every value (the brief's target; mpmath is exact to the last
//! bit here, and the worst errors measured are ~1e-12). Quantiles are compared relative to the
//! value itself, which at df = 1e12 is ~1e6 times tighter than relative to the spread.

use causalkit_stats::dist;
use serde_json::Value;

const REL: f64 = 1e-10;

fn reference() -> Value {
    let path = format!("{}/../../reference/dist.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("dist.json parses")
}

/// A number of a row; `x` and `value` are read from their exact decimal strings (`x_str`,
/// `value_str`; Rust's `str::parse` rounds correctly, serde_json's default number parser need
/// not, and one ulp of x = 1e12 moves a chi-square tail at df 1e12 by 4e-10).
fn f(v: &Value, k: &str) -> f64 {
    if k == "x" || k == "value" {
        let s = v[format!("{k}_str")]
            .as_str()
            .unwrap_or_else(|| panic!("missing {k}_str in {v}"));
        return s.parse().unwrap_or_else(|e| panic!("{k}_str {s}: {e}"));
    }
    v[k].as_f64()
        .unwrap_or_else(|| panic!("missing {k} in {v}"))
}

/// Compares every row of `rows` with `compute(row)`; returns the largest relative error.
fn check(rows: &Value, what: &str, compute: impl Fn(&Value) -> f64) -> f64 {
    let rows = rows.as_array().unwrap_or_else(|| panic!("{what}: no rows"));
    assert!(!rows.is_empty(), "{what}: no rows");
    let mut worst = 0.0f64;
    let mut failures = Vec::new();
    for r in rows {
        let want = f(r, "value");
        let got = compute(r);
        let err = if want.abs() > 0.0 {
            (got - want).abs() / want.abs()
        } else {
            got.abs()
        };
        worst = worst.max(err);
        if err.is_nan() || err > REL {
            failures.push(format!("{r} -> got {got:e} (rel err {err:.2e})"));
        }
    }
    assert!(
        failures.is_empty(),
        "{what}: {} of {} values off by more than {REL:e}:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
    eprintln!(
        "{what}: {} values, worst relative error {worst:.2e}",
        rows.len()
    );
    worst
}

#[test]
fn normal_matches_mpmath() {
    let d = &reference()["normal"];
    check(&d["sf"], "normal sf", |r| dist::normal_sf(f(r, "x")));
    check(&d["sf"], "normal cdf (of -x)", |r| {
        dist::normal_cdf(-f(r, "x"))
    });
    check(&d["quantile"], "normal quantile", |r| {
        dist::normal_quantile(f(r, "x")).unwrap()
    });
}

#[test]
fn student_t_matches_mpmath() {
    let d = &reference()["t"];
    check(&d["sf"], "t sf", |r| {
        dist::t_sf(f(r, "x"), f(r, "df")).unwrap()
    });
    // P(T <= -x) = P(T > x) by symmetry: the mpmath sf value checks the lower tail too.
    check(&d["sf"], "t cdf (of -x)", |r| {
        dist::t_cdf(-f(r, "x"), f(r, "df")).unwrap()
    });
    check(&d["quantile"], "t quantile", |r| {
        dist::t_quantile(f(r, "x"), f(r, "df")).unwrap()
    });
}

#[test]
fn chi_square_matches_mpmath() {
    let d = &reference()["chi2"];
    check(&d["sf"], "chi2 sf", |r| {
        dist::chi2_sf(f(r, "x"), f(r, "df")).unwrap()
    });
    check(&d["cdf"], "chi2 cdf", |r| {
        dist::chi2_cdf(f(r, "x"), f(r, "df")).unwrap()
    });
    check(&d["quantile"], "chi2 quantile", |r| {
        dist::chi2_quantile(f(r, "x"), f(r, "df")).unwrap()
    });
}

#[test]
fn f_matches_mpmath() {
    let d = &reference()["f"];
    check(&d["sf"], "F sf", |r| {
        dist::f_sf(f(r, "x"), f(r, "d1"), f(r, "d2")).unwrap()
    });
    check(&d["cdf"], "F cdf", |r| {
        dist::f_cdf(f(r, "x"), f(r, "d1"), f(r, "d2")).unwrap()
    });
    check(&d["quantile"], "F quantile", |r| {
        dist::f_quantile(f(r, "x"), f(r, "d1"), f(r, "d2")).unwrap()
    });
}

#[test]
fn beta_matches_mpmath() {
    let d = &reference()["beta"];
    check(&d["sf"], "beta sf", |r| {
        dist::beta_sf(f(r, "x"), f(r, "a"), f(r, "b")).unwrap()
    });
    check(&d["cdf"], "beta cdf", |r| {
        dist::beta_cdf(f(r, "x"), f(r, "a"), f(r, "b")).unwrap()
    });
    check(&d["quantile"], "beta quantile", |r| {
        dist::beta_quantile(f(r, "x"), f(r, "a"), f(r, "b")).unwrap()
    });
}

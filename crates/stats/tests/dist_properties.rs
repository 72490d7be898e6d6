//! Properties of every distribution function in `causalkit_stats::dist` over the whole range
//! the project needs (issue 11): degrees of freedom / shapes log-uniform in [1e-2, 1e12] and
//! tail probabilities log-uniform down to 1e-300.
//!
//! Every call must return (no hang: statrs' inverse beta used to loop forever at df = 1.6e7),
//! with a finite value in [0, 1] (tails) or in the support (quantiles), `sf + cdf = 1` to
//! 1e-12, tails monotone in the argument, quantiles monotone in p, `cdf(quantile(p)) = p` to
//! 1e-9 relative (on the tail that was asked for, so 1e-300 is checked relative to 1e-300) and
//! `quantile(cdf(x)) = x` to 1e-8 relative on the lower half. Tolerances: the tails are
//! accurate to ~1e-13 relative (see `dist_reference.rs`); a quantile moves the tail's error
//! by the condition number p / (x f(x)), at most ~1e4 for the shapes here (1/a for a lower
//! tail ~ x^a with a = 0.005 is 200), hence 1e-8 for x and 1e-9 for p after the solver's own
//! 1e-15 stopping rule. Case counts are bounded so the file runs in seconds in debug builds.

use causalkit_stats::dist;
use proptest::prelude::*;

/// Degrees of freedom / shapes, log-uniform on [1e-2, 1e12].
fn shape() -> impl Strategy<Value = f64> {
    (-2.0f64..12.0).prop_map(|e| 10f64.powf(e))
}

/// A tail probability, log-uniform on [1e-300, 0.49].
fn tail_p() -> impl Strategy<Value = f64> {
    (-300.0f64..-0.31).prop_map(|e| 10f64.powf(e))
}

/// A tail probability that leaves 1 - q representable to ~1e-2 relative (q >= 1e-14).
fn upper_tail_p() -> impl Strategy<Value = f64> {
    (-14.0f64..-0.31).prop_map(|e| 10f64.powf(e))
}

fn config() -> ProptestConfig {
    // 40 cases per property by default; PROPTEST_CASES=N runs more.
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The next double above a finite x (`f64::next_up` needs Rust 1.86; the MSRV is 1.85).
fn next_up(x: f64) -> f64 {
    if x == 0.0 {
        f64::from_bits(1)
    } else if x > 0.0 {
        f64::from_bits(x.to_bits() + 1)
    } else {
        f64::from_bits(x.to_bits() - 1)
    }
}

/// The checks shared by all families. `tails(x)` returns (cdf, sf); `quantile(p)`.
fn check_family(
    name: &str,
    tails: &dyn Fn(f64) -> (f64, f64),
    quantile: &dyn Fn(f64) -> f64,
    q: f64,
    upper: bool,
) -> std::result::Result<(), TestCaseError> {
    let p = if upper { 1.0 - q } else { q };
    let want = if upper { 1.0 - p } else { p };
    let side = |x: f64| {
        let (lo, up) = tails(x);
        if upper {
            up
        } else {
            lo
        }
    };
    let x = quantile(p);
    prop_assert!(!x.is_nan(), "{name}: quantile({p}) is NaN");
    if x.is_infinite() {
        // Only allowed when the exact quantile lies beyond f64::MAX (e.g. t with df 0.2 at
        // p = 1e-250 is ~1e1000): the tail at the largest double is still beyond q.
        let edge = x.signum() * f64::MAX;
        prop_assert!(
            side(edge) > want,
            "{name}: quantile({p}) = {x} but tail at {edge:e} is {}",
            side(edge)
        );
        return Ok(());
    }
    let (lo, up) = tails(x);
    prop_assert!(
        lo.is_finite() && up.is_finite() && (0.0..=1.0).contains(&lo) && (0.0..=1.0).contains(&up),
        "{name}: tails at {x}: {lo} {up}"
    );
    prop_assert!(
        (lo + up - 1.0).abs() <= 1e-12,
        "{name}: cdf + sf at {x} = {}",
        lo + up
    );
    let got = side(x);
    // The answer is a double: the tail moves by |tail(next double) - tail(x)| between
    // neighbours (e.g. Beta(1, 0.03) near x = 1 - 1.7e-10, where one ulp of x is 1e-8 of the
    // tail), so that much is allowed on top of 1e-9.
    let ulp_move = (side(next_up(x)) - got)
        .abs()
        .max((side(-next_up(-x)) - got).abs());
    if x.abs() > 1e-290 {
        prop_assert!(
            (got - want).abs() <= 1e-9 * want + 2.0 * ulp_move,
            "{name}: p {p} -> x {x:e} -> tail {got:e} (want {want:e}, one ulp moves it {ulp_move:e})"
        );
    } else {
        // The quantile underflows (e.g. chi-square with df 0.01 at p = 1e-300 is ~1e-60000):
        // the tail at the smallest positive doubles must not be below q.
        prop_assert!(
            side(x.abs().max(f64::from_bits(1))) >= want * (1.0 - 1e-9),
            "{name}: p {p} -> x {x:e}"
        );
    }
    // Lower-half round trip in x.
    if !upper && lo > 0.0 && x.abs() > 1e-290 {
        let back = quantile(lo);
        prop_assert!(
            (back - x).abs() <= 1e-8 * x.abs(),
            "{name}: x {x:e} -> cdf {lo:e} -> x {back:e}"
        );
    }
    // Monotone in p (up to the solver's noise) and in x.
    let p2 = if upper { 1.0 - q * 0.5 } else { q * 2.0 };
    let x2 = quantile(p2);
    prop_assert!(
        x2 >= x - 1e-12 * x.abs(),
        "{name}: quantile not monotone: {p} -> {x:e}, {p2} -> {x2:e}"
    );
    if x2.is_finite() {
        let (lo2, up2) = tails(x2);
        prop_assert!(
            lo2 >= lo * (1.0 - 1e-12) && up2 <= up * (1.0 + 1e-12),
            "{name}: tails not monotone between {x:e} and {x2:e}: cdf {lo:e} {lo2:e}, sf {up:e} {up2:e}"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn normal(q in tail_p(), qu in upper_tail_p(), upper in any::<bool>()) {
        let q = if upper { qu } else { q };
        check_family(
            "normal",
            &|x| (dist::normal_cdf(x), dist::normal_sf(x)),
            &|p| dist::normal_quantile(p).unwrap(),
            q,
            upper,
        )?;
    }

    #[test]
    fn student_t(df in shape(), q in tail_p(), qu in upper_tail_p(), upper in any::<bool>()) {
        let q = if upper { qu } else { q };
        check_family(
            &format!("t({df:e})"),
            &|x| (dist::t_cdf(x, df).unwrap(), dist::t_sf(x, df).unwrap()),
            &|p| dist::t_quantile(p, df).unwrap(),
            q,
            upper,
        )?;
    }

    #[test]
    fn chi_square(df in shape(), q in tail_p(), qu in upper_tail_p(), upper in any::<bool>()) {
        let q = if upper { qu } else { q };
        check_family(
            &format!("chi2({df:e})"),
            &|x| (dist::chi2_cdf(x, df).unwrap(), dist::chi2_sf(x, df).unwrap()),
            &|p| dist::chi2_quantile(p, df).unwrap(),
            q,
            upper,
        )?;
    }

    #[test]
    fn fisher_f(
        d1 in shape(),
        d2 in shape(),
        q in tail_p(),
        qu in upper_tail_p(),
        upper in any::<bool>(),
    ) {
        let q = if upper { qu } else { q };
        check_family(
            &format!("F({d1:e}, {d2:e})"),
            &|x| (dist::f_cdf(x, d1, d2).unwrap(), dist::f_sf(x, d1, d2).unwrap()),
            &|p| dist::f_quantile(p, d1, d2).unwrap(),
            q,
            upper,
        )?;
    }

    #[test]
    fn beta(a in shape(), b in shape(), q in tail_p(), qu in upper_tail_p(), upper in any::<bool>()) {
        let q = if upper { qu } else { q };
        check_family(
            &format!("beta({a:e}, {b:e})"),
            &|x| (dist::beta_cdf(x, a, b).unwrap(), dist::beta_sf(x, a, b).unwrap()),
            &|p| dist::beta_quantile(p, a, b).unwrap(),
            q,
            upper,
        )?;
    }

    /// Tails at arbitrary points (not only at quantiles), including far beyond 1e-300 where
    /// they underflow to 0, and near the centre at huge df: finite, in [0, 1], consistent and
    /// monotone.
    #[test]
    fn tails_at_arbitrary_points(df in shape(), z in -60.0f64..60.0, e in -3.0f64..300.0) {
        let scale = 10f64.powf(e);
        let sd = (2.0 * df).sqrt();
        let points = [
            ("t", z, z + 1e-3 * z.abs().max(1.0)),
            ("t far", scale, scale * 1.5),
            ("chi2", (df + z * sd).max(0.0), (df + z * sd).max(0.0) + 1e-3 * sd),
            ("chi2 far", scale, scale * 1.5),
        ];
        for (what, x1, x2) in points {
            let (c1, s1, c2, s2) = if what.starts_with('t') {
                (
                    dist::t_cdf(x1, df).unwrap(),
                    dist::t_sf(x1, df).unwrap(),
                    dist::t_cdf(x2, df).unwrap(),
                    dist::t_sf(x2, df).unwrap(),
                )
            } else {
                (
                    dist::chi2_cdf(x1, df).unwrap(),
                    dist::chi2_sf(x1, df).unwrap(),
                    dist::chi2_cdf(x2, df).unwrap(),
                    dist::chi2_sf(x2, df).unwrap(),
                )
            };
            for v in [c1, s1, c2, s2] {
                prop_assert!(v.is_finite() && (0.0..=1.0).contains(&v), "{what} df {df}: {v}");
            }
            prop_assert!((c1 + s1 - 1.0).abs() <= 1e-12, "{what} df {df} x {x1}: {c1} + {s1}");
            prop_assert!(c2 >= c1 * (1.0 - 1e-12) && s2 <= s1 * (1.0 + 1e-12),
                "{what} df {df}: {x1} {x2}: cdf {c1} {c2} sf {s1} {s2}");
        }
        // F and beta near the centre and far out.
        let y = (0.5 + z * 1e-3).clamp(1e-9, 1.0 - 1e-9);
        let (bc, bs) = (dist::beta_cdf(y, df, df).unwrap(), dist::beta_sf(y, df, df).unwrap());
        prop_assert!((bc + bs - 1.0).abs() <= 1e-12, "beta({df}) at {y}: {bc} {bs}");
        let (fc, fs) = (dist::f_cdf(scale, df, df).unwrap(), dist::f_sf(scale, df, df).unwrap());
        prop_assert!(fc.is_finite() && fs.is_finite() && (fc + fs - 1.0).abs() <= 1e-12,
            "F({df}, {df}) at {scale}: {fc} {fs}");
    }
}

/// Issue 11: Welch's t with ~1.6e7 degrees of freedom (8e6 units per arm) used to run at 100%
/// CPU forever in `t_critical`. At such df the t distribution is the normal one to ~1e-7.
#[test]
fn huge_df_t_is_normal_and_returns() {
    for df in [8e6, 1.6e7, 2e9, 1e12] {
        let t = dist::t_critical(0.05, df).unwrap();
        let z = dist::normal_quantile(0.975).unwrap();
        // t_{0.975}(ν) = z + (z³ + z)/(4ν) + O(ν⁻²) (A&S 26.7.5).
        let cf = z + (z * z * z + z) / (4.0 * df);
        assert!((t - cf).abs() <= 1e-12 * z, "df {df}: {t} vs {cf}");
        // P(T > t) = P(Z > t) + φ(t)(t³ + t)/(4ν) + O(ν⁻²) (A&S 26.7.8): at df 8e6 the t and
        // normal p-values differ by 1.6e-6 relative, at df >= 2e9 by < 1e-8.
        let t = 2.5f64;
        let p = dist::t_two_sided_p(t, df).unwrap();
        let pz = 2.0 * dist::normal_sf(t);
        let phi = (-0.5 * t * t).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let expansion = pz + 2.0 * phi * (t * t * t + t) / (4.0 * df);
        assert!(
            (p - expansion).abs() <= 1e-12 * p,
            "df {df}: {p} vs {expansion}"
        );
        if df >= 2e9 {
            assert!((p - pz).abs() <= 1e-8 * pz, "df {df}: {p} vs {pz}");
        }
    }
}

#[test]
fn invalid_arguments_are_typed_errors() {
    assert!(dist::t_sf(f64::NAN, 3.0).is_err());
    assert!(dist::t_cdf(1.0, -1.0).is_err());
    assert!(dist::chi2_quantile(1.0, 3.0).is_err());
    assert!(dist::chi2_cdf(1.0, f64::INFINITY).is_err());
    assert!(dist::f_quantile(0.5, 0.0, 3.0).is_err());
    assert!(dist::beta_quantile(0.5, 1.0, f64::NAN).is_err());
    assert!(dist::beta_cdf(0.5, -1.0, 1.0).is_err());
    // Out-of-support arguments are probabilities, not errors.
    assert!(dist::chi2_cdf(-1.0, 3.0).unwrap().abs() <= 0.0);
    assert!((dist::beta_sf(-0.5, 2.0, 3.0).unwrap() - 1.0).abs() <= 0.0);
    assert!(dist::f_sf(f64::INFINITY, 2.0, 3.0).unwrap().abs() <= 0.0);
}

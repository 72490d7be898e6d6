//! Adaptive Gauss–Kronrod (G7–K15) quadrature shared by the numerics of this crate's
//! planning, sequential, multi-arm and Bayesian modules (QUADPACK's QK15 rule, Piessens et
//! al. 1983, with recursive bisection of the interval whose error estimate is too large).

const XGK: [f64; 8] = [
    0.991_455_371_120_812_6,
    0.949_107_912_342_758_5,
    0.864_864_423_359_769_1,
    0.741_531_185_599_394_4,
    0.586_087_235_467_691_1,
    0.405_845_151_377_397_2,
    0.207_784_955_007_898_5,
    0.0,
];
const WGK: [f64; 8] = [
    0.022_935_322_010_529_22,
    0.063_092_092_629_978_55,
    0.104_790_010_322_250_18,
    0.140_653_259_715_525_92,
    0.169_004_726_639_267_9,
    0.190_350_578_064_785_4,
    0.204_432_940_075_298_9,
    0.209_482_141_084_727_83,
];
const WG: [f64; 4] = [
    0.129_484_966_168_869_7,
    0.279_705_391_489_276_7,
    0.381_830_050_505_118_9,
    0.417_959_183_673_469_4,
];

/// One K15 evaluation on [a, b]: (Kronrod estimate, error estimate). The error estimate is
/// QUADPACK's: resasc · min(1, (200 |K − G| / resasc)^1.5), resasc ≈ ∫|f − mean f|.
fn qk15<F: Fn(f64) -> f64>(f: &F, a: f64, b: f64) -> (f64, f64) {
    let c = 0.5 * (a + b);
    let h = 0.5 * (b - a);
    let fc = f(c);
    let mut rk = WGK[7] * fc;
    let mut rg = WG[3] * fc;
    let mut fv1 = [0.0; 7];
    let mut fv2 = [0.0; 7];
    for j in 0..7 {
        let x = h * XGK[j];
        fv1[j] = f(c - x);
        fv2[j] = f(c + x);
        let s = fv1[j] + fv2[j];
        rk += WGK[j] * s;
        if j % 2 == 1 {
            rg += WG[j / 2] * s;
        }
    }
    let mean = 0.5 * rk;
    let mut resasc = WGK[7] * (fc - mean).abs();
    for j in 0..7 {
        resasc += WGK[j] * ((fv1[j] - mean).abs() + (fv2[j] - mean).abs());
    }
    let resasc = resasc * h.abs();
    let mut err = ((rk - rg) * h).abs();
    if resasc != 0.0 && err != 0.0 {
        err = resasc * (200.0 * err / resasc).powf(1.5).min(1.0);
    }
    (rk * h, err)
}

/// ∫_a^b f(x) dx to absolute tolerance `tol` (or 1e-14 relative), starting
/// from `pieces` equal sub-intervals (use several when the integrand is sharply peaked inside
/// [a, b]). Globally adaptive like QUADPACK's QAG: the sub-interval with the largest error
/// estimate is bisected until the summed error estimate meets the tolerance (at most 2000
/// bisections).
pub(crate) fn integrate<F: Fn(f64) -> f64>(f: F, a: f64, b: f64, tol: f64, pieces: usize) -> f64 {
    let pieces = pieces.max(1);
    let w = (b - a) / pieces as f64;
    // (lo, hi, estimate, error)
    let mut parts: Vec<(f64, f64, f64, f64)> = (0..pieces)
        .map(|i| {
            let lo = a + w * i as f64;
            let hi = if i + 1 == pieces { b } else { lo + w };
            let (e, r) = qk15(&f, lo, hi);
            (lo, hi, e, r)
        })
        .collect();
    for _ in 0..2000 {
        let total: f64 = parts.iter().map(|p| p.2).sum();
        let err: f64 = parts.iter().map(|p| p.3).sum();
        if err <= tol.max(1e-14 * total.abs()) {
            break;
        }
        let (i, _) =
            parts.iter().enumerate().fold(
                (0, -1.0),
                |acc, (i, p)| if p.3 > acc.1 { (i, p.3) } else { acc },
            );
        let (lo, hi, _, _) = parts[i];
        let m = 0.5 * (lo + hi);
        if m <= lo || m >= hi {
            break;
        }
        let (e1, r1) = qk15(&f, lo, m);
        let (e2, r2) = qk15(&f, m, hi);
        parts[i] = (lo, m, e1, r1);
        parts.push((m, hi, e2, r2));
    }
    parts.iter().map(|p| p.2).sum()
}

/// Composite (non-adaptive) K15 rule on `pieces` equal sub-intervals: for smooth integrands
/// whose scale is known in advance (15·pieces evaluations, no error control).
pub(crate) fn composite<F: Fn(f64) -> f64>(f: F, a: f64, b: f64, pieces: usize) -> f64 {
    let w = (b - a) / pieces as f64;
    (0..pieces)
        .map(|i| qk15(&f, a + w * i as f64, a + w * (i + 1) as f64).0)
        .sum()
}

/// Root of a function increasing or decreasing on [lo, hi] with a sign change there, by
/// bisection (robust; 200 halvings reach double precision on any bracket).
pub(crate) fn bisect<F: Fn(f64) -> f64>(f: F, mut lo: f64, mut hi: f64, xtol: f64) -> f64 {
    let mut flo = f(lo);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if (hi - lo).abs() <= xtol * mid.abs().max(1.0) {
            return mid;
        }
        let fm = f(mid);
        if fm == 0.0 {
            return mid;
        }
        if (fm < 0.0) == (flo < 0.0) {
            lo = mid;
            flo = fm;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Root of a continuous function with a sign change on [a, b] by the Illinois variant of
/// regula falsi (superlinear; far fewer evaluations than bisection when each evaluation is an
/// integral). Stops when successive iterates differ by less than xtol·max(1, |x|).
pub(crate) fn illinois<F: Fn(f64) -> f64>(f: F, mut a: f64, mut b: f64, xtol: f64) -> f64 {
    let mut fa = f(a);
    let mut fb = f(b);
    if fa == 0.0 {
        return a;
    }
    if fb == 0.0 || (fa > 0.0) == (fb > 0.0) {
        return b;
    }
    let mut side = 0i8;
    let mut prev = f64::NAN;
    for _ in 0..200 {
        let c = (a * fb - b * fa) / (fb - fa);
        if (c - prev).abs() <= xtol * c.abs().max(1.0) {
            return c;
        }
        prev = c;
        let fc = f(c);
        if fc == 0.0 {
            return c;
        }
        if (fc > 0.0) == (fb > 0.0) {
            b = c;
            fb = fc;
            if side == -1 {
                fa *= 0.5;
            }
            side = -1;
        } else {
            a = c;
            fa = fc;
            if side == 1 {
                fb *= 0.5;
            }
            side = 1;
        }
    }
    prev
}

/// E[g(s)] for s = sqrt(V/ν), V ~ χ²_ν, by a fixed composite K15 rule over ±9 standard
/// deviations of s (1/sqrt(2ν)) around 1 (or [0, 1 + 9/sqrt(ν)] for small ν).
pub(crate) fn expect_over_chi_scale_fixed<G: Fn(f64) -> f64>(g: G, nu: f64, pieces: usize) -> f64 {
    let sd = (0.5 / nu).sqrt();
    let (lo, hi) = if nu >= 40.0 {
        (1.0 - 9.0 * sd, 1.0 + 9.0 * sd)
    } else {
        ((1.0 - 12.0 / nu.sqrt()).max(0.0), 1.0 + 12.0 / nu.sqrt())
    };
    composite(chi_scale_weighted(g, nu), lo, hi, pieces)
}

/// `s -> f(s) g(s)` with `f` the density of s = sqrt(V/ν), V ~ χ²_ν (0 where `f` underflows):
/// the integrand of an expectation over the scale factor.
fn chi_scale_weighted<G: Fn(f64) -> f64>(g: G, nu: f64) -> impl Fn(f64) -> f64 {
    move |s| {
        let d = ln_chi_scale_density(s, nu);
        if d.is_finite() {
            d.exp() * g(s)
        } else {
            0.0
        }
    }
}

/// ln of the density of s = sqrt(V/ν) with V ~ χ²_ν (the scale factor of Student's t).
pub(crate) fn ln_chi_scale_density(s: f64, nu: f64) -> f64 {
    if s <= 0.0 {
        return f64::NEG_INFINITY;
    }
    let v = nu * s * s;
    let ln_fv = (0.5 * nu - 1.0) * v.ln()
        - 0.5 * v
        - 0.5 * nu * std::f64::consts::LN_2
        - statrs::function::gamma::ln_gamma(0.5 * nu);
    ln_fv + (2.0 * nu * s).ln()
}

/// E[g(s)] for s = sqrt(V/ν), V ~ χ²_ν, by adaptive quadrature over ±12 standard deviations.
pub(crate) fn expect_over_chi_scale<G: Fn(f64) -> f64>(
    g: G,
    nu: f64,
    tol: f64,
    pieces: usize,
) -> f64 {
    let lo = (1.0 - 12.0 / nu.sqrt()).max(0.0);
    let hi = 1.0 + 12.0 / nu.sqrt();
    integrate(chi_scale_weighted(g, nu), lo, hi, tol, pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrates_gaussian_density_and_chi_scale_to_one() {
        let phi = |x: f64| (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let total = integrate(phi, -12.0, 12.0, 1e-14, 4);
        assert!((total - 1.0).abs() < 1e-13, "{total}");
        for nu in [1.0, 3.0, 58.0, 1e5] {
            let m = expect_over_chi_scale(|_| 1.0, nu, 1e-13, 16);
            assert!((m - 1.0).abs() < 1e-10, "nu {nu}: {m}");
            // E[s^2] = E[V]/nu = 1.
            let m2 = expect_over_chi_scale(|s| s * s, nu, 1e-13, 16);
            assert!((m2 - 1.0).abs() < 1e-9, "nu {nu}: {m2}");
        }
    }

    #[test]
    fn root_finders_find_sqrt_two() {
        let r = bisect(|x| x * x - 2.0, 0.0, 2.0, 1e-15);
        assert!((r - 2f64.sqrt()).abs() < 1e-14);
        let r = illinois(|x| x * x - 2.0, 0.0, 2.0, 1e-15);
        assert!((r - 2f64.sqrt()).abs() < 1e-14);
        let r = illinois(|x| (x - 0.3).powi(3) + 1e-3 * (x - 0.3), -5.0, 9.0, 1e-13);
        assert!((r - 0.3).abs() < 1e-12, "{r}");
    }
}

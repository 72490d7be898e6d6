#!/usr/bin/env python
"""Reference values for causalkit-stats' distribution functions (crates/stats/src/dist.rs).

Normal, Student t, chi-square, F and beta: sf, cdf and quantiles at degrees of freedom from 1
to 1e12 and probabilities down to 1e-300. Every value is computed twice, independently:

* mpmath (arbitrary precision, 50 significant digits): ncdf/erfc, betainc and gammainc
  (regularised), A&S 26.7.1 (t), 26.6.2 (F), 26.4.19 (chi-square); quantiles by Newton
  iterations in mpmath on the tail function, started from scipy's ppf/isf;
* scipy.stats (double precision: Boost's incomplete beta, Cephes' incomplete gamma).

The stored value is mpmath's, rounded to double ("source": "mpmath"); scipy's is stored alongside
with the relative difference. At shapes >= 1e6 mpmath's hypergeometric series need minutes
(and a quadrature of the density was not reliable in the far tails), and scipy 1.17 is off
there (chi2.sf at df 1e6..1e12, 30 sd out, by 2%; chi2.sf(999992928932.188, 1e12) =
0.99999999582 where mpmath gives 0.99999971337), so: Student t is done by betainc at every df
up to 1e12; chi-square at df >= 1e6 by mpmath's upper gammainc directly (cdf = 1 - Q at 60
digits), without quantiles; F and beta with a shape >= 1e6 are not stored
(tests/dist_properties.rs covers them). Where mpmath does not finish within 25 s per tail
(90 s per quantile) or a quantile's Newton iteration does not converge to 1e-30, scipy's value
is stored instead ("source": "scipy"; none in the current file).

    python3 -m venv /work/venv-dist && /work/venv-dist/bin/pip install scipy mpmath
    /work/venv-dist/bin/python reference/scripts/dist_reference.py

Writes reference/dist.json.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys

import mpmath as mp
import scipy
from scipy import stats

mp.mp.dps = 50

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "dist.json")

DFS = [1.0, 5.0, 30.0, 1e3, 1e6, 8e6, 1.6e7, 1e9, 1e12]
PS = [1e-300, 1e-100, 1e-10, 0.025, 0.3, 0.7, 0.975, 1 - 1e-10]
TINY = 1e-305  # tails below this are not stored (they are subnormal or zero in double)
LOG_SKIP = math.log(TINY) - 20  # scipy's log tail below this: skip (mpmath is slow there)


def keep(log_value):
    """Whether a tail whose scipy log value is `log_value` can be >= TINY."""
    return not (log_value < LOG_SKIP)

M = mp.mpf
HALF = M(1) / 2


def mpf(x: float):
    """The exact binary value of a double."""
    return M(float(x))


# ----- exact (mpmath) tails and densities -------------------------------------------------


def norm_sf(z):
    return mp.erfc(z / mp.sqrt(2)) / 2


def norm_pdf(z):
    return mp.exp(-z * z / 2) / mp.sqrt(2 * mp.pi)


def t_sf(t, nu):
    if t < 0:
        return 1 - t_sf(-t, nu)
    y = nu / (nu + t * t)
    return beta_cdf(y, nu / 2, HALF) / 2


def t_pdf(t, nu):
    return mp.exp(
        mp.loggamma((nu + 1) / 2) - mp.loggamma(nu / 2) - mp.log(nu * mp.pi) / 2
        - (nu + 1) / 2 * mp.log(1 + t * t / nu)
    )


def complement(direct, other):
    """direct(); where mpmath's series does not converge (huge shapes), 1 - other() at
    400 digits (exact for results down to ~1e-350)."""
    try:
        return direct()
    except mp.libmp.libhyper.NoConvergence:
        with mp.workdps(400):
            return 1 - other()


def chi2_cdf(x, k):
    if heavy:
        # 1 - Q at 60 digits: exact for the cdf values stored here (>= 1e-8 at shapes >= 1e6).
        with mp.workdps(60):
            return 1 - mp.gammainc(k / 2, x / 2, mp.inf, regularized=True)
    return complement(
        lambda: mp.gammainc(k / 2, 0, x / 2, regularized=True),
        lambda: mp.gammainc(k / 2, x / 2, mp.inf, regularized=True),
    )


def chi2_sf(x, k):
    if heavy:
        return mp.gammainc(k / 2, x / 2, mp.inf, regularized=True)
    return complement(
        lambda: mp.gammainc(k / 2, x / 2, mp.inf, regularized=True),
        lambda: mp.gammainc(k / 2, 0, x / 2, regularized=True),
    )


def chi2_pdf(x, k):
    a = k / 2
    return mp.exp((a - 1) * mp.log(x / 2) - x / 2 - mp.loggamma(a)) / 2


def beta_cdf(x, a, b):
    return complement(
        lambda: mp.betainc(a, b, 0, x, regularized=True),
        lambda: mp.betainc(b, a, 0, 1 - x, regularized=True),
    )


def beta_sf(x, a, b):
    return complement(
        lambda: mp.betainc(b, a, 0, 1 - x, regularized=True),
        lambda: mp.betainc(a, b, 0, x, regularized=True),
    )


def beta_pdf(x, a, b):
    return mp.exp(
        (a - 1) * mp.log(x) + (b - 1) * mp.log(1 - x)
        - (mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b))
    )


def f_cdf(x, d1, d2):
    return beta_cdf(d1 * x / (d2 + d1 * x), d1 / 2, d2 / 2)


def f_sf(x, d1, d2):
    # A&S 26.6.2: Q(F | d1, d2) = I_{d2/(d2 + d1 F)}(d2/2, d1/2)
    return beta_cdf(d2 / (d2 + d1 * x), d2 / 2, d1 / 2)


def f_pdf(x, d1, d2):
    a, b = d1 / 2, d2 / 2
    return mp.exp(
        a * mp.log(d1 / d2) + (a - 1) * mp.log(x) - (a + b) * mp.log(1 + d1 * x / d2)
        - (mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b))
    )


def solve(tail, pdf, q, upper, x0, hi=None):
    """x > 0 with tail(x) = q, by Newton on ln tail(x) in ln x (mpmath, to 1e-30), from x0
    (scipy's quantile, or an asymptotic start where scipy fails)."""
    xi = mp.log(M(x0))
    lq = mp.log(q)
    sgn = -1 if upper else 1
    for _ in range(200):
        x = mp.exp(xi)
        t = tail(x)
        f = pdf(x)
        step = (mp.log(t) - lq) / (sgn * x * f / t)
        nxi = xi - step
        if hi is not None:
            while mp.exp(nxi) >= hi:
                nxi = (nxi + xi) / 2 if nxi > xi else nxi - 1
        if abs(nxi - xi) <= M(10) ** -32 * max(1, abs(nxi)):
            return mp.exp(nxi)
        xi = nxi
    raise RuntimeError(f"quantile Newton did not converge: q={q} x0={x0}")


# ----- scipy peers ------------------------------------------------------------------------


def rel(a, b):
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(a), abs(b), 1e-320)


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


signal.signal(signal.SIGALRM, _alarm)
BUDGET = 25  # seconds of mpmath per stored value; beyond it scipy's value is stored instead


HEAVY = 1e6  # chi-square, F and beta with a shape from here on: scipy only
heavy = False


def timed(thunk, seconds=BUDGET):
    """thunk() within `seconds`, else None (mpmath's hypergeometric series need minutes at
    shapes ~1e6-1e12)."""
    signal.alarm(seconds)
    try:
        return thunk()
    except (Timeout, ZeroDivisionError, ValueError, RuntimeError):
        # Out of time, or a quadrature that lost the mass (tail 0 or no convergence of a
        # Newton step).
        return None
    finally:
        signal.alarm(0)


def entry(params, x, value_mp, scipy_value):
    """A stored row: mpmath's value when it finished in time (source "mpmath"), else scipy's
    (source "scipy"). x and the value are also stored as exact decimal strings ("x_str",
    "value_str"): JSON readers need not round numbers correctly (serde_json's default parser
    can be one ulp off, which at df = 1e12 moves a chi-square tail by 4e-10)."""
    row = _entry(params, x, value_mp, scipy_value)
    row["x_str"] = repr(float(x))
    row["value_str"] = repr(float(row["value"]))
    return row


def _entry(params, x, value_mp, scipy_value):
    sv = float(scipy_value)
    if value_mp is None:
        return {**params, "x": x, "value": sv, "source": "scipy", "scipy": sv, "scipy_rel": 0.0}
    v = float(value_mp)
    if not math.isfinite(sv):
        # scipy fails here (t.ppf(1e-300, 5) = +inf): recorded as null.
        return {**params, "x": x, "value": v, "source": "mpmath", "scipy": None, "scipy_rel": None}
    return {**params, "x": x, "value": v, "source": "mpmath", "scipy": sv, "scipy_rel": rel(v, sv)}


def main():
    def progress(what, *shapes):
        global heavy
        heavy = any(x >= HEAVY for x in shapes)
        print(what, flush=True)

    out = {
        "_meta": {
            "generator": "reference/scripts/dist_reference.py",
            "mpmath": mp.__version__,
            "scipy": scipy.__version__,
            "mp_dps": mp.mp.dps,
            "value": "mpmath at 50 digits, rounded to double; scipy alongside",
        }
    }

    # Normal.
    rows_sf, rows_q = [], []
    for z in [-5.0, -1.0, 0.0, 0.5, 1.959963984540054, 5.0, 10.0, 20.0, 30.0, 37.5]:
        rows_sf.append(entry({}, z, norm_sf(mpf(z)), stats.norm.sf(z)))
    for p in PS + [1e-200, 1e-20, 0.5]:
        q, upper = (p, False) if p <= 0.5 else (1 - p, True)
        x0 = stats.norm.ppf(p)
        if p == 0.5:
            x = M(0)
        else:
            # Solve the smaller tail: lower tail q at -|z|.
            x = -solve(norm_sf, norm_pdf, mpf(q), True, -x0 if p < 0.5 else x0)
            if upper:
                x = -x
        rows_q.append(entry({}, p, x, x0))
    out["normal"] = {"sf": rows_sf, "quantile": rows_q}

    progress("# Student t.")
    # Student t.
    rows_sf, rows_q = [], []
    for nu in DFS:
        progress(f"t df {nu}")
        n = mpf(nu)
        for t in [0.3, 1.96, 4.0, 8.0, 37.5, 1e3, 1e30, 1e150, -0.3, -4.0]:
            if not keep(stats.t.logsf(t, nu)):
                continue
            v = timed(lambda: t_sf(mpf(t), n))
            if v is not None and v < TINY:
                continue
            rows_sf.append(entry({"df": nu}, t, v, stats.t.sf(t, nu)))
        for p in PS:
            q, upper = (p, False) if p <= 0.5 else (1 - p, True)
            x0 = stats.t.isf(q, nu)  # > 0
            if not (x0 > 0 and math.isfinite(x0)):
                # scipy fails here (df = 5, q = 1e-300 gives -inf): power-law start
                # P(T > t) ~ f(t) t / nu.
                x0 = mp.exp((mp.log(t_pdf(M(0), n)) + (n - 1) / 2 * mp.log(n) - mp.log(q)) / n)
            x = timed(lambda: solve(lambda s: t_sf(s, n), lambda s: t_pdf(s, n), mpf(q), True, x0), 90)
            if x is not None and not upper:
                x = -x
            rows_q.append(entry({"df": nu}, p, x, stats.t.ppf(p, nu)))
    out["t"] = {"sf": rows_sf, "quantile": rows_q}

    progress("# Chi-square: sf")
    # Chi-square: sf and cdf at mean + k sd, plus a few fixed points.
    rows_sf, rows_cdf, rows_q = [], [], []
    for k in DFS + [0.5]:
        progress(f"chi2 df {k}", k)
        km = mpf(k)
        sd = math.sqrt(2 * k)
        xs = [k + c * sd for c in (-5.0, -2.0, 0.0, 2.0, 5.0, 30.0)] + [1e-3 * k, 0.5, 3.0, 50.0]
        xs = sorted({x for x in xs if x > 0})
        for x in xs:
            if keep(stats.chi2.logsf(x, k)):
                s = timed(lambda: chi2_sf(mpf(x), km))
                if s is None or s >= TINY:
                    rows_sf.append(entry({"df": k}, x, s, stats.chi2.sf(x, k)))
            if keep(stats.chi2.logcdf(x, k)):
                c = timed(lambda: chi2_cdf(mpf(x), km))
                if c is None or c >= TINY:
                    rows_cdf.append(entry({"df": k}, x, c, stats.chi2.cdf(x, k)))
        for p in PS if not heavy else []:
            q, upper = (p, False) if p <= 0.5 else (1 - p, True)
            x0 = stats.chi2.isf(q, k) if upper else stats.chi2.ppf(q, k)
            if not (x0 > 0 and math.isfinite(x0)):
                # scipy underflows: small-x power law P ~ (x/2)^a / Gamma(a + 1).
                x0 = 2 * mp.exp((mp.log(q) + mp.loggamma(km / 2 + 1)) / (km / 2))
                if x0 < M(10) ** -300:
                    continue  # the quantile underflows in double
            if upper:
                x = timed(lambda: solve(lambda s: chi2_sf(s, km), lambda s: chi2_pdf(s, km), mpf(q), True, x0), 90)
            else:
                x = timed(lambda: solve(lambda s: chi2_cdf(s, km), lambda s: chi2_pdf(s, km), mpf(q), False, x0), 90)
            rows_q.append(entry({"df": k}, p, x, stats.chi2.ppf(p, k)))
    out["chi2"] = {"sf": rows_sf, "cdf": rows_cdf, "quantile": rows_q}

    progress("# F.")
    # F.
    pairs = []
    for d in DFS:
        pairs += [(1.0, d), (5.0, d), (d, d), (d, 1e12)]
    pairs += [(1e12, 1.0), (1e6, 30.0)]
    rows_sf, rows_cdf, rows_q = [], [], []
    for d1, d2 in pairs:
        progress(f"F {d1} {d2}", d1, d2)
        if heavy:
            continue
        a, b = mpf(d1), mpf(d2)
        s = math.sqrt(2 / d1 + 2 / d2)
        if s < 0.1:
            xs = [1 + c * s for c in (-5.0, -1.0, 0.0, 2.0, 8.0)]
        else:
            xs = [0.05, 0.5, 1.0, 3.0, 30.0, 1e4]
        for x in xs:
            if keep(stats.f.logsf(x, d1, d2)):
                sv = timed(lambda: f_sf(mpf(x), a, b))
                if sv is None or sv >= TINY:
                    rows_sf.append(entry({"d1": d1, "d2": d2}, x, sv, stats.f.sf(x, d1, d2)))
            if keep(stats.f.logcdf(x, d1, d2)):
                cv = timed(lambda: f_cdf(mpf(x), a, b))
                if cv is None or cv >= TINY:
                    rows_cdf.append(entry({"d1": d1, "d2": d2}, x, cv, stats.f.cdf(x, d1, d2)))
        for p in [1e-100, 1e-10, 0.025, 0.3, 0.975, 1 - 1e-10]:
            q, upper = (p, False) if p <= 0.5 else (1 - p, True)
            x0 = stats.f.isf(q, d1, d2) if upper else stats.f.ppf(q, d1, d2)
            if not (x0 > 0 and math.isfinite(x0)):
                continue
            tail = (lambda v: f_sf(v, a, b)) if upper else (lambda v: f_cdf(v, a, b))
            x = timed(lambda: solve(tail, lambda v: f_pdf(v, a, b), mpf(q), upper, x0), 90)
            rows_q.append(entry({"d1": d1, "d2": d2}, p, x, stats.f.ppf(p, d1, d2)))
    out["f"] = {"sf": rows_sf, "cdf": rows_cdf, "quantile": rows_q}

    progress("# Beta.")
    # Beta.
    shapes = [
        (0.5, 0.5), (2.0, 3.0), (0.01, 5.0), (1e3, 1e3), (1e6, 0.5), (0.5, 1e6),
        (5e11, 0.5), (1e6, 1e6), (8e6, 8e6), (5e11, 5e11), (1e9, 3.0),
    ]
    rows_sf, rows_cdf, rows_q = [], [], []
    for a_, b_ in shapes:
        progress(f"beta {a_} {b_}", a_, b_)
        if heavy:
            continue
        a, b = mpf(a_), mpf(b_)
        mean = a_ / (a_ + b_)
        sd = math.sqrt(a_ * b_ / ((a_ + b_) ** 2 * (a_ + b_ + 1)))
        xs = [mean + c * sd for c in (-5.0, -1.0, 0.0, 2.0, 8.0)] + [1e-10, 0.1, 0.5, 0.9]
        xs = sorted({x for x in xs if 0 < x < 1})
        for x in xs:
            if keep(stats.beta.logsf(x, a_, b_)):
                sv = timed(lambda: beta_sf(mpf(x), a, b))
                if sv is None or sv >= TINY:
                    rows_sf.append(entry({"a": a_, "b": b_}, x, sv, stats.beta.sf(x, a_, b_)))
            if keep(stats.beta.logcdf(x, a_, b_)):
                cv = timed(lambda: beta_cdf(mpf(x), a, b))
                if cv is None or cv >= TINY:
                    rows_cdf.append(entry({"a": a_, "b": b_}, x, cv, stats.beta.cdf(x, a_, b_)))
        for p in [1e-100, 1e-10, 0.025, 0.3, 0.975, 1 - 1e-10]:
            q, upper = (p, False) if p <= 0.5 else (1 - p, True)
            x0 = stats.beta.isf(q, a_, b_) if upper else stats.beta.ppf(q, a_, b_)
            if not (0 < x0 < 1):
                continue
            tail = (lambda v: beta_sf(v, a, b)) if upper else (lambda v: beta_cdf(v, a, b))
            x = timed(lambda: solve(tail, lambda v: beta_pdf(v, a, b), mpf(q), upper, x0, hi=M(1)), 90)
            rows_q.append(entry({"a": a_, "b": b_}, p, x, stats.beta.ppf(p, a_, b_)))
    out["beta"] = {"sf": rows_sf, "cdf": rows_cdf, "quantile": rows_q}

    worst = max(
        ((r["scipy_rel"], fam, kind, {k: v for k, v in r.items() if k not in ("value", "scipy")})
         for fam, d in out.items() if fam != "_meta"
         for kind, rows in d.items() for r in rows),
        key=lambda w: -1.0 if w[0] is None else w[0],
    )
    out["_meta"]["worst_scipy_rel"] = worst[0]
    def finite_or_none(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None  # JSON has no inf/NaN (scipy returns them where it fails)
        if isinstance(v, dict):
            return {k: finite_or_none(x) for k, x in v.items()}
        if isinstance(v, list):
            return [finite_or_none(x) for x in v]
        return v

    with open(OUT, "w") as fh:
        json.dump(finite_or_none(out), fh, indent=1, allow_nan=False)
    n = sum(len(rows) for fam, d in out.items() if fam != "_meta" for rows in d.values())
    print(f"wrote {OUT}: {n} values; largest scipy vs mpmath relative difference {worst}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

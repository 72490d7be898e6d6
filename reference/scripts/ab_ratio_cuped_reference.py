"""Reference numbers for ratio metrics adjusted on a pre-period ratio (GrowthBook's
`RegressionAdjustedRatioStatistic`; causalkit_ab::adjust::ratio_regression_adjust,
`causalkit ab --covariate NUM/DEN` and --stats files with GrowthBook's ratio-CUPED columns).

Run with the ab peer venv:
    ~/.cache/causalkit-peers/ab/bin/python reference/scripts/ab_ratio_cuped_reference.py
Writes reference/ab_ratio_cuped.json.

gbstats 0.8.0 (the newest on PyPI, installed in the ab venv) has no ratio regression
adjustment; it exists only in GrowthBook's repository (packages/stats/gbstats). So this
script re-derives the estimator independently from simulated unit rows (seeded) with numpy:
- per arm, the delta-method linearisations psi = (m - R d)/mean(d) and
  psi0 = (m0 - R0 d0)/mean(d0) computed row by row, np.cov for their covariances;
- theta = sum over arms of cov(psi, psi0) / sum over arms of var(psi0);
- the adjusted per-unit variance var(psi - theta psi0) (np.var, ddof 1);
- the relative lift's variance by a numerical Jacobian (central differences) of
  g = (R~_B - R~_A)/R_A over both arms' four means, with the means' covariance np.cov/n;
- Welch t intervals (scipy.stats.t) with Welch-Satterthwaite df from the adjusted variances.
It also writes the rows and GrowthBook-named sums so the CLI test can run both paths.
The GrowthBook unit test with published numbers is used directly in the Rust test.
"""
import json
import os

import numpy as np
import scipy
from scipy import stats

root = os.path.join(os.path.dirname(__file__), "..", "..")
rng = np.random.default_rng(20261123)


def arm(n, lift):
    u = rng.gamma(2.0, 1.0, n)                      # user propensity
    d0 = 1 + rng.poisson(2.0 + u)                   # pre-period sessions
    m0 = rng.gamma(2.0, 1.0 + u, len(d0)) * d0 / 2  # pre-period revenue
    d = 1 + rng.poisson(2.0 + u)
    m = rng.gamma(2.0, (1.0 + u) * lift, n) * d / 2
    return np.column_stack([m, d, m0, d0]).round(3)


rows = {"control": arm(500, 1.0), "treatment": arm(520, 1.06)}


def lin(x):
    m, d, m0, d0 = x.T
    r, r0 = m.sum() / d.sum(), m0.sum() / d0.sum()
    return (m - r * d) / d.mean(), (m0 - r0 * d0) / d0.mean(), r, r0


parts = {k: lin(v) for k, v in rows.items()}
theta = sum(np.cov(p[0], p[1])[0, 1] for p in parts.values()) / sum(
    np.var(p[1], ddof=1) for p in parts.values())
pooled = np.vstack(list(rows.values()))
pre_pooled = pooled[:, 2].sum() / pooled[:, 3].sum()
arms = {}
for k, (psi, psi0, r, r0) in parts.items():
    arms[k] = {"n": len(psi), "ratio": r, "pre_ratio": r0,
               "adjusted": r - theta * (r0 - pre_pooled),
               "variance": float(np.var(psi - theta * psi0, ddof=1)),
               "raw_variance": float(np.var(psi, ddof=1))}
a, b = arms["control"], arms["treatment"]
va, vb = a["variance"] / a["n"], b["variance"] / b["n"]
df = (va + vb) ** 2 / (va ** 2 / (a["n"] - 1) + vb ** 2 / (b["n"] - 1))
tc = stats.t.ppf(0.975, df)


def ci_p(est, se):
    return {"estimate": float(est), "std_error": float(se), "ci": [est - tc * se, est + tc * se],
            "p_value": float(2 * stats.t.sf(abs(est / se), df))}


absolute = ci_p(b["adjusted"] - a["adjusted"], np.sqrt(va + vb))


def g(mu):
    ra, ra0 = mu[0] / mu[1], mu[2] / mu[3]
    rb, rb0 = mu[4] / mu[5], mu[6] / mu[7]
    return ((rb - theta * rb0) - (ra - theta * ra0)) / ra


mu = np.concatenate([rows["control"].mean(0), rows["treatment"].mean(0)])
cov = np.zeros((8, 8))
cov[:4, :4] = np.cov(rows["control"].T) / len(rows["control"])
cov[4:, 4:] = np.cov(rows["treatment"].T) / len(rows["treatment"])
jac = np.zeros(8)
for i in range(8):
    h = 1e-6 * abs(mu[i])
    up, dn = mu.copy(), mu.copy()
    up[i] += h
    dn[i] -= h
    jac[i] = (g(up) - g(dn)) / (2 * h)
relative = ci_p(g(mu), np.sqrt(jac @ cov @ jac))


def gb_sums(x):
    m, d, m0, d0 = x.T
    return {"count": len(m), "main_sum": m.sum(), "main_sum_squares": (m * m).sum(),
            "denominator_sum": d.sum(), "denominator_sum_squares": (d * d).sum(),
            "main_denominator_sum_product": (m * d).sum(),
            "covariate_sum": m0.sum(), "covariate_sum_squares": (m0 * m0).sum(),
            "main_covariate_sum_product": (m * m0).sum(),
            "denominator_pre_sum": d0.sum(), "denominator_pre_sum_squares": (d0 * d0).sum(),
            "denominator_post_denominator_pre_sum_product": (d * d0).sum(),
            "main_pre_denominator_pre_sum_product": (m0 * d0).sum(),
            "main_post_denominator_pre_sum_product": (m * d0).sum(),
            "main_pre_denominator_post_sum_product": (m0 * d).sum()}


out = {
    "versions": {"numpy": np.__version__, "scipy": scipy.__version__},
    "columns": ["revenue", "sessions", "pre_revenue", "pre_sessions"],
    "rows": {k: v.tolist() for k, v in rows.items()},
    "growthbook_sums": {k: {c: float(s) for c, s in gb_sums(v).items()} for k, v in rows.items()},
    "theta": float(theta), "arms": arms, "df": float(df),
    "absolute": absolute, "relative": relative,
}
with open(os.path.join(root, "reference", "ab_ratio_cuped.json"), "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print(json.dumps({k: out[k] for k in ["theta", "arms", "df", "absolute", "relative"]}, indent=1))

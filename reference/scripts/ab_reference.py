"""Reference numbers for causalkit-ab, from independent implementations.

Run with the ab peer venv (gbstats 0.8, statsmodels, scipy):
    ~/.cache/causalkit-peers/ab/bin/python reference/scripts/ab_reference.py
Writes reference/ab.json. Every input is in the JSON too, so the Rust tests read both.

Sources per case:
- gbstats_*: GrowthBook gbstats (TwoSidedTTest, RatioStatistic, RegressionAdjustedStatistic
  with compute_theta, QuantileStatistic) on the same sufficient statistics.
- welch_scipy: scipy.stats.ttest_ind_from_stats(equal_var=False) and statsmodels
  CompareMeans.tconfint_diff(usevar="unequal").
- prop_z / newcombe: statsmodels proportions_ztest (pooled) and
  confint_proportions_2indep(method="newcomb").
- fieller: the Fieller set found by numerically inverting the test of H0: mu_B = r mu_A
  (scipy.optimize.brentq on the squared t statistic minus c^2), not by the closed form.
- poststrat: statsmodels OLS of y on treatment fully interacted with centred stratum dummies
  (its treatment coefficient equals the post-stratified difference), and the conditional
  variance sum_s w_s^2 (v_Bs/n_Bs + v_As/n_As) computed from the unit rows with numpy.
- cuped_multi: numpy on unit rows: theta = total-covariance solve, adjusted means and
  variances from the residualised values y - theta'x (a second implementation from rows,
  not from sums).
- srm: scipy.stats.chisquare.
"""
import json
import os

import numpy as np
import scipy
import scipy.optimize
import scipy.stats as st
import statsmodels
import statsmodels.api as sm
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

import gbstats
from gbstats.frequentist.tests import FrequentistConfig, TwoSidedTTest
from gbstats.models.statistics import (
    ProportionStatistic,
    QuantileStatistic,
    RatioStatistic,
    RegressionAdjustedStatistic,
    SampleMeanStatistic,
    compute_theta,
)

out = {"versions": {"gbstats": getattr(gbstats, "__version__", "0.8"), "scipy": scipy.__version__,
                    "statsmodels": statsmodels.__version__, "numpy": np.__version__}}


def res(r):
    return {"estimate": r.expected, "ci": list(r.ci), "p_value": r.p_value,
            "se": r.uplift.stddev}


def both(sa, sb):
    rel = TwoSidedTTest(sa, sb, FrequentistConfig(difference_type="relative")).compute_result()
    ab = TwoSidedTTest(sa, sb, FrequentistConfig(difference_type="absolute")).compute_result()
    return {"relative": res(rel), "absolute": res(ab)}


# Case 1 and 2 of /work/shared/reference/ab.md, recomputed with more digits.
out["gbstats_welch"] = {
    "a": [3407, 1396.87, 52377.9767], "b": [3461, 2422.7, 134698.29],
    **both(SampleMeanStatistic(n=3407, sum=1396.87, sum_squares=52377.9767),
           SampleMeanStatistic(n=3461, sum=2422.7, sum_squares=134698.29))}
out["gbstats_prop"] = {"a": [14, 28], "b": [16, 30],
                       **both(ProportionStatistic(n=28, sum=14), ProportionStatistic(n=30, sum=16))}

# Case 4: ratio metric.
def ratio(n, m, m2, d, d2, md):
    return RatioStatistic(n=n, m_statistic=SampleMeanStatistic(n=n, sum=m, sum_squares=m2),
                          d_statistic=SampleMeanStatistic(n=n, sum=d, sum_squares=d2),
                          m_d_sum_of_products=md)
ra = [100, 270, 848.79, 510, 810, -900]
rb = [120, 300, 869, 500, 800, -905]
out["gbstats_ratio"] = {"a": ra, "b": rb, **both(ratio(*ra), ratio(*rb))}

# CUPED, one covariate, mean metric: simulated unit rows (seeded), sums passed to gbstats.
rng = np.random.default_rng(20240601)
def arm_rows(n, shift):
    x = rng.normal(10, 3, n)
    y = 2 + 0.8 * x + rng.normal(0, 2, n) + shift
    return y, x
ya, xa = arm_rows(400, 0.0)
yb, xb = arm_rows(420, 0.5)
def ra_stat(y, x):
    return RegressionAdjustedStatistic(
        n=len(y), post_statistic=SampleMeanStatistic(n=len(y), sum=y.sum(), sum_squares=(y**2).sum()),
        pre_statistic=SampleMeanStatistic(n=len(x), sum=x.sum(), sum_squares=(x**2).sum()),
        post_pre_sum_of_products=(x * y).sum(), theta=0)
sa, sb = ra_stat(ya, xa), ra_stat(yb, xb)
theta = compute_theta(sa, sb)
sa.theta = theta
sb.theta = theta
sums = lambda y, x: [len(y), y.sum(), (y**2).sum(), x.sum(), (x**2).sum(), (x * y).sum()]
out["gbstats_cuped"] = {"a": sums(ya, xa), "b": sums(yb, xb), "theta": theta, **both(sa, sb)}

# CUPED, two covariates, from rows (numpy).
def arm_rows2(n, shift):
    x1 = rng.normal(10, 3, n)
    x2 = rng.exponential(2, n)
    y = 1 + 0.5 * x1 - 0.7 * x2 + rng.normal(0, 1.5, n) + shift
    return y, x1, x2
rows = [arm_rows2(300, 0.0), arm_rows2(310, 0.3)]
allx = np.column_stack([np.concatenate([r[1] for r in rows]), np.concatenate([r[2] for r in rows])])
ally = np.concatenate([r[0] for r in rows])
th = np.linalg.solve(np.cov(allx.T, ddof=1), np.array([np.cov(allx[:, j], ally, ddof=1)[0, 1] for j in range(2)]))
xbar = allx.mean(axis=0)
arms2 = []
for y, x1, x2 in rows:
    X = np.column_stack([x1, x2])
    resid = y - X @ th
    arms2.append({"mean": float(y.mean() - (X.mean(axis=0) - xbar) @ th), "unadjusted_mean": float(y.mean()),
                  "variance": float(resid.var(ddof=1)), "n": len(y),
                  "sums": {"n": len(y), "y": y.sum(), "x1": x1.sum(), "x2": x2.sum(),
                           "yy": (y * y).sum(), "x1x1": (x1 * x1).sum(), "x2x2": (x2 * x2).sum(),
                           "yx1": (y * x1).sum(), "yx2": (y * x2).sum(), "x1x2": (x1 * x2).sum()}})
out["cuped_multi"] = {"theta": th.tolist(), "arms": arms2}

# Welch absolute difference (reference case 5), scipy and statsmodels.
def from_sums(n, s, s2):
    m = s / n
    return m, np.sqrt((s2 - s * s / n) / (n - 1)), n
ma, sda, na = from_sums(104, 312, 984)
mb, sdb, nb = from_sums(1009, 1969, 5767)
t = st.ttest_ind_from_stats(mb, sdb, nb, ma, sda, na, equal_var=False)
va, vb = sda**2 / na, sdb**2 / nb
df = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
half = st.t.ppf(0.975, df) * np.sqrt(va + vb)
out["welch_scipy"] = {"a": [104, 312, 984], "b": [1009, 1969, 5767], "diff": mb - ma,
                      "ci": [mb - ma - half, mb - ma + half], "p_value": t.pvalue, "df": df}

# Two-proportion z test (pooled) and Newcombe interval.
xa_, na_, xb_, nb_ = 180, 1000, 215, 1000
z, p = proportions_ztest([xb_, xa_], [nb_, na_])
lo, hi = confint_proportions_2indep(xb_, nb_, xa_, na_, method="newcomb", compare="diff")
wlo, whi = confint_proportions_2indep(xb_, nb_, xa_, na_, method="wald", compare="diff")
out["prop_z"] = {"a": [xa_, na_], "b": [xb_, nb_], "z": z, "p_value": p, "newcombe": [lo, hi], "wald": [wlo, whi]}

# Fieller by numerical inversion (relative lift = ratio - 1), z critical value.
def fieller_numeric(mA, vA, mB, vB, c):
    f = lambda r: (mB - r * mA) ** 2 / (vB + r * r * vA) - c * c
    r0 = mB / mA
    lo_ = scipy.optimize.brentq(f, r0 - 50 * np.sqrt(vB + vA), r0, xtol=1e-14)
    hi_ = scipy.optimize.brentq(f, r0, r0 + 50 * np.sqrt(vB + vA), xtol=1e-14)
    return [lo_ - 1, hi_ - 1]
c = st.norm.ppf(0.975)
fcases = [[10.0, 0.25, 11.0, 0.36], [2.0, 0.3, 3.5, 0.4]]
out["fieller"] = [{"mean_a": a, "var_a": b, "mean_b": cc, "var_b": d, "crit": c,
                   "interval": fieller_numeric(a, b, cc, d, c)} for a, b, cc, d in fcases]
# An unbounded case: control mean 0.5 with SE 0.5 (|mean|/se = 1 < 1.96).
out["fieller_unbounded"] = {"mean_a": 0.5, "var_a": 0.25, "mean_b": 1.0, "var_b": 0.25, "crit": c}

# Post-stratification: unit rows with three strata; OLS with interactions for the point estimate.
strata, ys, ts = [], [], []
for s, (share, mu) in enumerate([(0.5, 1.0), (0.3, 3.0), (0.2, 6.0)]):
    for arm in (0, 1):
        n = int(600 * share) + 7 * arm + s
        y = mu + 0.4 * arm * (s + 1) + rng.normal(0, 1 + s, n)
        ys.append(y); strata += [s] * n; ts += [arm] * n
y = np.concatenate(ys); strata = np.array(strata); ts = np.array(ts)
D = np.column_stack([(strata == s).astype(float) for s in (1, 2)])
Dc = D - D.mean(axis=0)
X = sm.add_constant(np.column_stack([ts, Dc, Dc * ts[:, None]]))
ols = sm.OLS(y, X).fit()
w = np.array([(strata == s).mean() for s in range(3)])
var = 0.0
cells = []
for s in range(3):
    for arm in (0, 1):
        yy = y[(strata == s) & (ts == arm)]
        cells.append({"stratum": s, "arm": arm, "n": len(yy), "sum": yy.sum(), "sum_squares": (yy * yy).sum()})
        var += w[s] ** 2 * yy.var(ddof=1) / len(yy)
out["poststrat"] = {"cells": cells, "diff": ols.params[1], "se": float(np.sqrt(var))}

# Quantile metric: deterministic values, gbstats QuantileStatistic on numpy type-7 quantiles.
def qvals(n, a, b):
    i = np.arange(n)
    return a + b * ((i * 7919) % 1009) / 1009.0 + 0.01 * i / n
nu = 0.9
qa, qb = qvals(800, 100.0, 300.0), qvals(900, 95.0, 290.0)
def qstat(v):
    n = len(v)
    h = st.norm.ppf(0.975) * np.sqrt(nu * (1 - nu) / n)
    return QuantileStatistic(n=n, n_star=n, nu=nu, quantile_hat=np.quantile(v, nu),
                             quantile_lower=np.quantile(v, nu - h), quantile_upper=np.quantile(v, nu + h))
out["gbstats_quantile"] = {"nu": nu, "a": {"n": 800, "a": 100.0, "b": 300.0}, "b": {"n": 900, "a": 95.0, "b": 290.0},
                           "quantile_a": float(np.quantile(qa, nu)), "quantile_b": float(np.quantile(qb, nu)),
                           **both(qstat(qa), qstat(qb))}

# SRM (reference case 8) and a three-arm one.
c2 = st.chisquare([5000, 5200])
c3 = st.chisquare([1000, 1100, 2050], f_exp=np.array([0.25, 0.25, 0.5]) * 4150)
out["srm"] = [{"counts": [5000, 5200], "ratios": [1, 1], "chi2": c2.statistic, "p_value": c2.pvalue},
              {"counts": [1000, 1100, 2050], "ratios": [1, 1, 2], "chi2": c3.statistic, "p_value": c3.pvalue}]


def clean(o):
    if isinstance(o, dict):
        return {k: clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [clean(v) for v in o]
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    return o

path = os.path.join(os.path.dirname(__file__), "..", "ab.json")
with open(path, "w") as f:
    json.dump(clean(out), f, indent=1)
print("wrote", os.path.normpath(path))

"""Reference numbers for crates/ab sequential, planning, multiarm and bayes modules.

Run with the ab peer venv (gbstats 0.8, statsmodels 0.15, scipy):
    ~/.cache/causalkit-peers/ab/bin/python reference/scripts/ab_seq_reference.py
Writes reference/ab_seq.json. Every number is produced by an independent implementation:
statsmodels (power), gbstats (Bayesian Gaussian model, sequential CS), scipy (numerical
integration for beta-binomial, multivariate normal CDF for group-sequential crossing
probabilities, scipy.stats.dunnett for Dunnett's many-to-one test).
"""
import json
import os

import numpy as np
from scipy import integrate, stats
from statsmodels.stats.power import NormalIndPower, TTestIndPower

from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig, GaussianPrior
from gbstats.frequentist.tests import SequentialConfig, SequentialTwoSidedTTest
from gbstats.models.statistics import ProportionStatistic, SampleMeanStatistic

out = {}

# ---------------- planning (statsmodels) ----------------
tt = TTestIndPower()
nz = NormalIndPower()
out["planning"] = {
    "t_power_d1_n30": tt.power(effect_size=1.0, nobs1=30, alpha=0.05, ratio=1.0),
    "t_power_d05_n20_n40": tt.power(effect_size=0.5, nobs1=20, alpha=0.05, ratio=2.0),
    "t_power_d03_n50_greater": tt.power(effect_size=0.3, nobs1=50, alpha=0.05, alternative="larger"),
    "t_nobs_d05_p80": tt.solve_power(effect_size=0.5, alpha=0.05, power=0.8),
    # z test: effect_size = delta/sigma; nobs1 = control, ratio = n_treat / n_control
    "z_power_d02_n200_ratio1": nz.power(effect_size=0.2, nobs1=200, alpha=0.05, ratio=1.0),
    "z_power_d01_n500_ratio3_greater": nz.power(effect_size=0.1, nobs1=500, alpha=0.05, ratio=3.0, alternative="larger"),
    "z_nobs1_d01_p80_ratio1": nz.solve_power(effect_size=0.1, alpha=0.05, power=0.8, ratio=1.0),
    "z_nobs1_d01_p90_ratio05": nz.solve_power(effect_size=0.1, alpha=0.01, power=0.9, ratio=0.5),
    "z_mde_n1000_p80_ratio1": nz.solve_power(nobs1=1000, alpha=0.05, power=0.8, ratio=1.0),
}

# ---------------- Bayesian Gaussian (gbstats) ----------------
def gb(stat_a, stat_b, **cfg):
    r = EffectBayesianABTest(stat_a, stat_b, EffectBayesianConfig(**cfg)).compute_result()
    return {"mean": r.expected, "sd": r.uplift.stddev, "ci": list(r.ci),
            "ctw": r.chance_to_win, "risk": list(r.risk)}

out["bayes_gaussian"] = {
    "binom_flat_relative": gb(ProportionStatistic(sum=49, n=100), ProportionStatistic(sum=51, n=100)),
    "mean_flat_relative": gb(SampleMeanStatistic(sum=100, sum_squares=1002.25, n=10),
                             SampleMeanStatistic(sum=105, sum_squares=1111.5, n=10)),
    "mean_flat_absolute": gb(SampleMeanStatistic(sum=100, sum_squares=1002.25, n=10),
                             SampleMeanStatistic(sum=105, sum_squares=1111.5, n=10),
                             difference_type="absolute"),
    "mean_proper_relative_prior": gb(SampleMeanStatistic(sum=100, sum_squares=1002.25, n=10),
                                     SampleMeanStatistic(sum=105, sum_squares=1111.5, n=10),
                                     prior_effect=GaussianPrior(mean=0.0, variance=0.01, proper=True)),
    "mean_proper_absolute_prior_on_relative": gb(
        SampleMeanStatistic(sum=100, sum_squares=1002.25, n=10),
        SampleMeanStatistic(sum=105, sum_squares=1111.5, n=10),
        prior_effect=GaussianPrior(mean=0.1, variance=0.25, proper=True), prior_type="absolute"),
    "binom_inverse": gb(ProportionStatistic(sum=49, n=100), ProportionStatistic(sum=51, n=100),
                        inverse=True),
}

# ---------------- beta-binomial (scipy quadrature) ----------------
def beta_ref(xa, na, xb, nb, a0=1.0, b0=1.0, alpha=0.05):
    A = stats.beta(a0 + xa, b0 + na - xa)
    B = stats.beta(a0 + xb, b0 + nb - xb)
    lo, hi = 0.0, 1.0
    opts = dict(epsabs=1e-13, epsrel=1e-12, limit=500)
    p = integrate.quad(lambda x: B.pdf(x) * A.cdf(x), lo, hi, points=[A.mean(), B.mean()], **opts)[0]
    # E[max(pA - pB, 0)] by 2-D integration
    loss_b = integrate.dblquad(lambda y, x: (x - y) * A.pdf(x) * B.pdf(y), 0, 1, 0, lambda x: x,
                               epsabs=1e-12, epsrel=1e-10)[0]
    loss_a = integrate.dblquad(lambda y, x: (y - x) * A.pdf(x) * B.pdf(y), 0, 1, lambda x: x, 1,
                               epsabs=1e-12, epsrel=1e-10)[0]
    # difference quantiles via the exact CDF
    from scipy.optimize import brentq
    cdf = lambda d: integrate.quad(lambda x: A.pdf(x) * B.cdf(x + d), 0, 1,
                                   points=[A.mean()], **opts)[0]
    q = [brentq(lambda d: cdf(d) - t, -1, 1, xtol=1e-13) for t in (alpha / 2, 1 - alpha / 2)]
    return {"prob_b_better": p, "risk_treatment": loss_b, "risk_control": loss_a,
            "control_ci": [A.ppf(alpha / 2), A.ppf(1 - alpha / 2)],
            "treatment_ci": [B.ppf(alpha / 2), B.ppf(1 - alpha / 2)],
            "difference_ci": q}

out["beta_binomial"] = {
    "49_100_vs_51_100": beta_ref(49, 100, 51, 100),
    "120_1000_vs_145_1000": beta_ref(120, 1000, 145, 1000),
    "prior_half_3_40_vs_9_45": beta_ref(3, 40, 9, 45, a0=0.5, b0=0.5),
}

# ---------------- sequential: gbstats asymptotic CS ----------------
def gb_seq(stat_a, stat_b, tuning, **cfg):
    t = SequentialTwoSidedTTest(stat_a, stat_b, SequentialConfig(sequential_tuning_parameter=tuning, **cfg))
    r = t.compute_result()
    return {"estimate": r.expected, "se": r.uplift.stddev, "ci": list(r.ci), "p": r.p_value,
            "rho": float(t.rho), "n": stat_a.n + stat_b.n}

out["sequential_gbstats"] = {
    "welch_case1_relative_5000": gb_seq(SampleMeanStatistic(n=3407, sum=1396.87, sum_squares=52377.9767),
                                        SampleMeanStatistic(n=3461, sum=2422.7, sum_squares=134698.29), 5000),
    "welch_case1_absolute_1000": gb_seq(SampleMeanStatistic(n=3407, sum=1396.87, sum_squares=52377.9767),
                                        SampleMeanStatistic(n=3461, sum=2422.7, sum_squares=134698.29), 1000,
                                        difference_type="absolute"),
    "prop_relative_10000": gb_seq(ProportionStatistic(sum=1200, n=10000), ProportionStatistic(sum=1310, n=10050), 10000),
}

# ---------------- group sequential: crossing probabilities by scipy MVN CDF ----------------
def crossing_probability(t, b, two_sided):
    """P(reject at some look) for Z_k with corr sqrt(t_i/t_j) and boundaries b."""
    t = np.asarray(t, float)
    k = len(t)
    cov = np.sqrt(np.minimum.outer(t, t) / np.maximum.outer(t, t))
    mvn = stats.multivariate_normal(mean=np.zeros(k), cov=cov, maxpts=5_000_000, abseps=1e-10, releps=1e-10)
    b = np.asarray(b, float)
    rng = np.random.default_rng(1)
    if two_sided:
        cont = mvn.cdf(b, lower_limit=-b, rng=rng)
    else:
        cont = mvn.cdf(b, rng=rng)
    return 1.0 - cont

def cumulative_crossing(t, b, two_sided):
    return [crossing_probability(t[: j + 1], b[: j + 1], two_sided) for j in range(len(t))]

# Published Lan-DeMets boundaries (K=5, equal spacing, two-sided alpha = 0.05), checked here
# against the MVN CDF; the Rust test compares its boundaries with these crossing probabilities.
t5 = [0.2, 0.4, 0.6, 0.8, 1.0]
# Two-sided symmetric designs spend alpha/2 per side with the one-sided spending function at
# level alpha/2 (Lan & DeMets 1983; ldbounds, gsDesign), so the total is 2 * a_{alpha/2}(t).
obf_spend = [2 * (2 - 2 * stats.norm.cdf(stats.norm.isf(0.0125) / np.sqrt(x))) for x in t5]
poc_spend = [0.05 * np.log(1 + (np.e - 1) * x) for x in t5]
out["group_sequential"] = {
    "info": t5,
    "obf_spending_cumulative": obf_spend,
    "pocock_spending_cumulative": poc_spend,
    # classical constants, Jennison & Turnbull (2000) Table 2.1 (K = 5, alpha = 0.05 two-sided)
    "pocock_constant_K5": 2.413,
    "obf_constant_K5": 2.040,
    "pocock_constant_crossing": crossing_probability(t5, [2.413] * 5, True),
    "obf_constant_crossing": crossing_probability(t5, [2.040 * np.sqrt(5 / (k + 1)) for k in range(5)], True),
}

from scipy.optimize import brentq


def solve_spending_boundaries(t, cum_alpha, two_sided):
    """Boundary b_k such that the cumulative crossing probability equals cum_alpha[k]."""
    b = []
    for k in range(len(t)):
        target = cum_alpha[k]
        f = lambda x: crossing_probability(t[: k + 1], b + [x], two_sided) - target
        b.append(brentq(f, 0.5, 12.0, xtol=1e-7))
    return b


one_sided_obf = [2 - 2 * stats.norm.cdf(stats.norm.isf(0.0125) / np.sqrt(x)) for x in t5]
t3 = [0.3, 0.7, 1.0]
out["group_sequential"].update({
    "obf_spending_boundaries": solve_spending_boundaries(t5, obf_spend, True),
    "pocock_spending_boundaries": solve_spending_boundaries(t5, poc_spend, True),
    "power2_unequal_info": t3,
    "power2_spending_boundaries": solve_spending_boundaries(t3, [0.05 * x ** 2 for x in t3], True),
    "one_sided_obf_0025_boundaries": solve_spending_boundaries(t5, [2 - 2 * stats.norm.cdf(stats.norm.isf(0.0125) / np.sqrt(x)) for x in t5], False),
})
out["group_sequential"]["one_sided_obf_0025_cumulative"] = [2 - 2 * stats.norm.cdf(stats.norm.isf(0.0125) / np.sqrt(x)) for x in t5]

# Power of the OBF-spending design (boundaries above) under drift theta = 2.8, i.e.
# E[Z_k] = theta * sqrt(t_k): 1 - P(|Z_k| < b_k for all k) with the shifted mean.
def design_power(t, b, theta):
    t = np.asarray(t, float)
    cov = np.sqrt(np.minimum.outer(t, t) / np.maximum.outer(t, t))
    mvn = stats.multivariate_normal(mean=theta * np.sqrt(t), cov=cov, maxpts=5_000_000,
                                    abseps=1e-10, releps=1e-10)
    b = np.asarray(b, float)
    return 1.0 - mvn.cdf(b, lower_limit=-b, rng=np.random.default_rng(3))


out["group_sequential"]["obf_spending_power_drift_2.8"] = design_power(
    t5, out["group_sequential"]["obf_spending_boundaries"], 2.8)

# ---------------- Dunnett (scipy.stats.dunnett) ----------------
rng = np.random.default_rng(20261123)
control = rng.normal(10.0, 2.0, 40)
arms = [rng.normal(10.0 + d, 2.0, n) for d, n in [(0.2, 35), (1.2, 40), (-0.6, 30)]]
res = stats.dunnett(*arms, control=control, alternative="two-sided", random_state=7)
ci = res.confidence_interval(confidence_level=0.95)
groups = [control] + arms
df = sum(len(g) for g in groups) - len(groups)
s2 = sum(((g - g.mean()) ** 2).sum() for g in groups) / df
out["dunnett"] = {
    "n_control": len(control), "mean_control": control.mean(),
    "n": [len(a) for a in arms], "mean": [a.mean() for a in arms],
    "pooled_var": s2, "df": df,
    "statistic": list(res.statistic), "pvalue": list(res.pvalue),
    "ci_low": list(ci.low), "ci_high": list(ci.high),
}

path = os.path.join(os.path.dirname(__file__), "..", "ab_seq.json")
with open(path, "w") as f:
    json.dump(out, f, indent=2, default=float)
print(json.dumps(out, indent=1, default=float))

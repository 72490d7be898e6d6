"""Reference numbers for Eppo's sequential confidence sequence (`causalkit ab --sequential eppo`,
`causalkit_ab::sequential::ConfidenceSequence::eppo`).

Run with the ab peer venv:
    ~/.cache/causalkit-peers/ab/bin/python reference/scripts/ab_eppo_reference.py
Writes reference/ab_eppo.json.

Source of the formula: Eppo's documentation, "Statistical nitty-gritty", section Confidence
intervals > Frequentist analysis > Sequential (docs.geteppo.com/statistics/confidence-intervals/
statistical-nitty-gritty; Eppo-exp/eppo-docs, docs/statistics/confidence-intervals/
statistical-nitty-gritty.md at commit 0e7868cdf7e2d86c8254b15e527f44b180655a3f), a modified
eq. (14) of Howard, Ramdas, McAuliffe & Sekhon (2021):

    L, U = mu_hat -/+ sigma_hat * B,   t = n_C + n_T,   alpha = 1 - c
    B    = sqrt((t + rho) * log((t + rho) / (rho * alpha^2))) / sqrt(t)
    rho  = N_tune / (log(log(e / alpha^2)) - 2 log(alpha)),   N_tune = 10,000 by default

This script evaluates the formula literally with numpy (no causalkit code), and as a second,
independent check evaluates gbstats 0.8's SequentialTwoSidedTTest (Waudby-Smith et al.
asymptotic CS) with sequential_tuning_parameter = N_tune on the same sufficient statistics:
the two parametrisations coincide (rho_eppo = 1 / rho_gbstats^2), which the JSON records.
The docs give no worked numbers, so none are checked.
"""
import json
import os

import numpy as np
import gbstats
from gbstats.frequentist.tests import SequentialConfig, SequentialTwoSidedTTest
from gbstats.models.statistics import ProportionStatistic, SampleMeanStatistic
from scipy import stats

root = os.path.join(os.path.dirname(__file__), "..", "..")


def eppo_rho(n_tune, alpha):
    return n_tune / (np.log(np.log(np.e / alpha ** 2)) - 2.0 * np.log(alpha))


def eppo_interval(mu, sigma, t, alpha, n_tune):
    rho = eppo_rho(n_tune, alpha)
    b = np.sqrt((t + rho) * np.log((t + rho) / (rho * alpha ** 2))) / np.sqrt(t)
    return rho, b, [mu - sigma * b, mu + sigma * b]


def case(sa, sb, kind, alpha, n_tune):
    # The lift and its delta-method standard error (Eppo eqs. 7-8 for relative; the
    # difference of means for absolute) from gbstats' fixed-horizon z statistics.
    res = SequentialTwoSidedTTest(
        sa, sb,
        SequentialConfig(difference_type=kind, sequential_tuning_parameter=n_tune, alpha=alpha),
    ).compute_result()
    t = sa.n + sb.n
    if kind == "relative":
        mu = sb.mean / sa.mean - 1.0
        sigma = np.sqrt(sb.variance / sb.n / sa.mean ** 2
                        + sb.mean ** 2 * sa.variance / sa.n / sa.mean ** 4)
    else:
        mu = sb.mean - sa.mean
        sigma = np.sqrt(sa.variance / sa.n + sb.variance / sb.n)
    rho, b, ci = eppo_interval(mu, sigma, t, alpha, n_tune)
    return {"kind": kind, "alpha": alpha, "n_tune": n_tune, "t": t, "estimate": float(mu),
            "std_error": float(sigma), "rho": float(rho), "bound_multiplier": float(b),
            "ci": [float(ci[0]), float(ci[1])],
            "fixed_horizon_ci": [float(mu - stats.norm.ppf(1 - alpha / 2) * sigma),
                                 float(mu + stats.norm.ppf(1 - alpha / 2) * sigma)],
            "gbstats_ci": [float(res.ci[0]), float(res.ci[1])],
            "gbstats_estimate": float(res.expected)}


welch_a = SampleMeanStatistic(n=3407, sum=1396.87, sum_squares=52377.9767)
welch_b = SampleMeanStatistic(n=3461, sum=2422.7, sum_squares=134698.29)
prop_a = ProportionStatistic(sum=1200, n=10000)
prop_b = ProportionStatistic(sum=1310, n=10050)
out = {
    "versions": {"gbstats": getattr(gbstats, "__version__", "0.8.0"), "numpy": np.__version__},
    "source": "Eppo docs, statistical-nitty-gritty.md (Eppo-exp/eppo-docs@0e7868cd), Sequential",
    "cases": {
        "welch_relative_default": case(welch_a, welch_b, "relative", 0.05, 10000),
        "welch_absolute_default": case(welch_a, welch_b, "absolute", 0.05, 10000),
        "prop_relative_default": case(prop_a, prop_b, "relative", 0.05, 10000),
        "prop_relative_alpha10_tune2000": case(prop_a, prop_b, "relative", 0.10, 2000),
    },
}
for k, c in out["cases"].items():
    assert np.allclose(c["ci"], c["gbstats_ci"], rtol=1e-10, atol=1e-12), k
    assert abs(c["estimate"] - c["gbstats_estimate"]) < 1e-12, k

with open(os.path.join(root, "reference", "ab_eppo.json"), "w") as f:
    json.dump(out, f, indent=2)
    f.write("\n")
print(json.dumps(out, indent=2))

"""Reference numbers for `causalkit ab --winsorize` on the bundled contact-centre A/B data.

Run with the ab peer venv:
    ~/.cache/causalkit-peers/ab/bin/python reference/scripts/ab_winsor_reference.py
Writes reference/ab_winsor.json.

Independent re-implementation of the documented procedure: caps are numpy.percentile (linear
interpolation, Hyndman-Fan type 7) of the pooled values of both arms, values are clipped
with numpy.clip, then
- mean metrics: scipy.stats.ttest_ind(equal_var=False) (Welch t, p) and
  statsmodels CompareMeans.tconfint_diff(usevar="unequal") (Welch CI) on the clipped rows;
  the relative lift from gbstats TwoSidedTTest (delta method) on the clipped sums;
- ratio metrics: only the numerator is clipped; gbstats RatioStatistic + TwoSidedTTest
  (absolute and relative) on the per-arm sums of the clipped numerator and raw denominator.
"""
import json
import os

import numpy as np
import pandas as pd
import scipy
import scipy.stats as st
import statsmodels
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

import gbstats
from gbstats.frequentist.tests import FrequentistConfig, TwoSidedTTest
from gbstats.models.statistics import RatioStatistic, SampleMeanStatistic

root = os.path.join(os.path.dirname(__file__), "..", "..")
df = pd.read_csv(os.path.join(root, "datasets", "contact-centre", "ab_contacts.csv"))
ctrl = (df["arm"] == "control").to_numpy()
treat = (df["arm"] == "treatment").to_numpy()

out = {
    "versions": {"gbstats": getattr(gbstats, "__version__", "0.8.0"), "numpy": np.__version__,
                 "scipy": scipy.__version__, "statsmodels": statsmodels.__version__,
                 "pandas": pd.__version__},
    "data": "datasets/contact-centre/ab_contacts.csv",
}


def clip(x, lo, hi):
    lc = None if lo is None else float(np.percentile(x, 100 * lo))
    uc = None if hi is None else float(np.percentile(x, 100 * hi))
    y = np.clip(x, lc if lc is not None else -np.inf, uc if uc is not None else np.inf)
    return y, lc, uc, int(np.sum(y != x))


def gb(sa, sb, kind):
    r = TwoSidedTTest(sa, sb, FrequentistConfig(difference_type=kind)).compute_result()
    return {"estimate": r.expected, "std_error": r.uplift.stddev, "ci": list(r.ci),
            "p_value": r.p_value}


def mean_case(column, lo, hi):
    x = df[column].to_numpy(dtype=float)
    y, lc, uc, changed = clip(x, lo, hi)
    a, b = y[ctrl], y[treat]
    t = st.ttest_ind(b, a, equal_var=False)
    ci = CompareMeans(DescrStatsW(b), DescrStatsW(a)).tconfint_diff(alpha=0.05, usevar="unequal")
    se = float(np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)))
    stat = lambda v: SampleMeanStatistic(n=len(v), sum=float(v.sum()),
                                         sum_squares=float((v ** 2).sum()))
    return {"column": column, "lower_level": lo, "upper_level": hi, "lower_cap": lc,
            "upper_cap": uc, "values_changed": changed,
            "means": {"control": float(a.mean()), "treatment": float(b.mean())},
            "absolute": {"estimate": float(b.mean() - a.mean()), "std_error": se,
                         "t": float(t.statistic), "p_value": float(t.pvalue),
                         "ci": [float(ci[0]), float(ci[1])]},
            "relative": gb(stat(a), stat(b), "relative")}


def ratio_case(num, den, lo, hi):
    x = df[num].to_numpy(dtype=float)
    y, lc, uc, changed = clip(x, lo, hi)
    d = df[den].to_numpy(dtype=float)

    def stat(m):
        n = int(m.sum())
        return RatioStatistic(
            n=n,
            m_statistic=SampleMeanStatistic(n=n, sum=float(y[m].sum()),
                                            sum_squares=float((y[m] ** 2).sum())),
            d_statistic=SampleMeanStatistic(n=n, sum=float(d[m].sum()),
                                            sum_squares=float((d[m] ** 2).sum())),
            m_d_sum_of_products=float((y[m] * d[m]).sum()))
    return {"numerator": num, "denominator": den, "lower_level": lo, "upper_level": hi,
            "lower_cap": lc, "upper_cap": uc, "values_changed": changed,
            "absolute": gb(stat(ctrl), stat(treat), "absolute"),
            "relative": gb(stat(ctrl), stat(treat), "relative")}


# `--metric aht=mean(handle_seconds) --winsorize 0.01,0.99`
out["aht_both_tails"] = mean_case("handle_seconds", 0.01, 0.99)
# `--winsorize aht=,0.99` (upper tail only)
out["aht_upper_only"] = mean_case("handle_seconds", None, 0.99)
# `--metric r=ratio(handle_seconds, pre_handle_seconds) --winsorize r=,0.95`
out["ratio_upper"] = ratio_case("handle_seconds", "pre_handle_seconds", None, 0.95)
# Unwinsorised, for the size of the change.
x = df["handle_seconds"].to_numpy(dtype=float)
out["aht_raw_std_error"] = float(np.sqrt(x[ctrl].var(ddof=1) / ctrl.sum()
                                         + x[treat].var(ddof=1) / treat.sum()))

with open(os.path.join(root, "reference", "ab_winsor.json"), "w") as f:
    json.dump(out, f, indent=2)
    f.write("\n")
print(json.dumps(out, indent=2))

"""The peer pipeline for the A/B aggregation benchmark: pandas reads the Parquet file, a
group-by builds GrowthBook's sufficient statistics per arm, and gbstats 0.8 runs the tests.

Two analyses from one aggregation, as causalkit's bench does (benches/ab_scan.rs):
  1. ratio metric metric/denominator, relative lift, Welch t with the delta method;
  2. metric with CUPED on covariate (gbstats' RegressionAdjustedStatistic), absolute lift.

Usage: ab venv python ab_scan_pandas_gbstats.py FILE [REPEATS]
Prints one JSON line per timed run: wall seconds, peak RSS of this process (GiB) and the
estimates, so that the numbers can be compared with causalkit's.
"""
import json
import resource
import sys
import time

import pandas as pd
from gbstats.frequentist.tests import FrequentistConfig, TwoSidedTTest
from gbstats.models.statistics import (
    RatioStatistic,
    RegressionAdjustedStatistic,
    SampleMeanStatistic,
)


def pipeline(path):
    df = pd.read_parquet(path, columns=["arm", "metric", "denominator", "covariate"])
    df["metric_sq"] = df["metric"] ** 2
    df["denominator_sq"] = df["denominator"] ** 2
    df["covariate_sq"] = df["covariate"] ** 2
    df["metric_denominator"] = df["metric"] * df["denominator"]
    df["metric_covariate"] = df["metric"] * df["covariate"]
    g = df.groupby("arm").agg(
        count=("metric", "size"),
        main_sum=("metric", "sum"),
        main_sum_squares=("metric_sq", "sum"),
        denominator_sum=("denominator", "sum"),
        denominator_sum_squares=("denominator_sq", "sum"),
        main_denominator_sum_product=("metric_denominator", "sum"),
        covariate_sum=("covariate", "sum"),
        covariate_sum_squares=("covariate_sq", "sum"),
        main_covariate_sum_product=("metric_covariate", "sum"),
    )
    del df

    def ratio(r):
        return RatioStatistic(
            n=int(r["count"]),
            m_statistic=SampleMeanStatistic(
                n=int(r["count"]), sum=r["main_sum"], sum_squares=r["main_sum_squares"]
            ),
            d_statistic=SampleMeanStatistic(
                n=int(r["count"]),
                sum=r["denominator_sum"],
                sum_squares=r["denominator_sum_squares"],
            ),
            m_d_sum_of_products=r["main_denominator_sum_product"],
        )

    def cuped(r):
        return RegressionAdjustedStatistic(
            n=int(r["count"]),
            post_statistic=SampleMeanStatistic(
                n=int(r["count"]), sum=r["main_sum"], sum_squares=r["main_sum_squares"]
            ),
            pre_statistic=SampleMeanStatistic(
                n=int(r["count"]),
                sum=r["covariate_sum"],
                sum_squares=r["covariate_sum_squares"],
            ),
            post_pre_sum_of_products=r["main_covariate_sum_product"],
            theta=0.0,
        )

    a, b = g.loc["A"], g.loc["B"]
    r1 = TwoSidedTTest(ratio(a), ratio(b), FrequentistConfig(difference_type="relative")).compute_result()
    r2 = TwoSidedTTest(cuped(a), cuped(b), FrequentistConfig(difference_type="absolute")).compute_result()
    return {
        "ratio_relative_lift": r1.expected,
        "ratio_ci": list(r1.ci),
        "ratio_p": r1.p_value,
        "cuped_absolute_lift": r2.expected,
        "cuped_ci": list(r2.ci),
        "cuped_p": r2.p_value,
        "n": [int(a["count"]), int(b["count"])],
    }


if __name__ == "__main__":
    path = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = pipeline(path)
        out["seconds"] = time.perf_counter() - t0
        out["peak_rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        print(json.dumps(out), flush=True)

"""Peer of the one-pass A/B aggregation benchmark: duckdb computes, in one query over the
Parquet file, the per-arm sufficient statistics that causalkit's `kpi_moments_scan_many`
computes for `ratio(metric, denominator)` and `mean(metric)` with `covariate` (count, sums,
sums of squares and cross-products), then optionally gbstats analyses them (ratio metric:
delta method; mean metric: CUPED).

Usage: python benches/peers/ab_scan_duckdb.py FILE.parquet [gbstats]
Prints one line per arm with the statistics (full precision), and with `gbstats` the two lifts.
The columns are cast to DOUBLE first (a no-op for the float64 file): with the integer file of
`ab_scan_gen.py --ints` duckdb would otherwise multiply INT16 by INT16 and stop on overflow.
"""
import sys

import duckdb

path = sys.argv[1]
with_gbstats = len(sys.argv) > 2 and sys.argv[2] == "gbstats"
con = duckdb.connect()
rows = con.execute(
    """
    SELECT arm,
           COUNT(*)                      AS n,
           SUM(metric)                   AS s_m,
           SUM(denominator)              AS s_d,
           SUM(covariate)                AS s_c,
           SUM(metric * metric)          AS s_mm,
           SUM(metric * denominator)     AS s_md,
           SUM(denominator * denominator) AS s_dd,
           SUM(metric * covariate)       AS s_mc,
           SUM(covariate * covariate)    AS s_cc
    FROM (SELECT arm, CAST(metric AS DOUBLE) AS metric,
                 CAST(denominator AS DOUBLE) AS denominator,
                 CAST(covariate AS DOUBLE) AS covariate
          FROM read_parquet(?))
    GROUP BY arm
    ORDER BY arm
    """,
    [path],
).fetchall()
for r in rows:
    print(" ".join([str(r[0]), str(r[1])] + [repr(float(v)) for v in r[2:]]))

if with_gbstats:
    # The same analyses as ab_scan_pandas_gbstats.py (gbstats 0.8 API).
    from gbstats.frequentist.tests import FrequentistConfig, TwoSidedTTest
    from gbstats.models.statistics import (
        RatioStatistic,
        RegressionAdjustedStatistic,
        SampleMeanStatistic,
    )

    def stats(r):
        _, n, s_m, s_d, s_c, s_mm, s_md, s_dd, s_mc, s_cc = r
        m = SampleMeanStatistic(n=n, sum=s_m, sum_squares=s_mm)
        ratio = RatioStatistic(
            n=n,
            m_statistic=m,
            d_statistic=SampleMeanStatistic(n=n, sum=s_d, sum_squares=s_dd),
            m_d_sum_of_products=s_md,
        )
        cuped = RegressionAdjustedStatistic(
            n=n,
            post_statistic=m,
            pre_statistic=SampleMeanStatistic(n=n, sum=s_c, sum_squares=s_cc),
            post_pre_sum_of_products=s_mc,
            theta=0.0,
        )
        return ratio, cuped

    (ra, ca), (rb, cb) = (stats(r) for r in rows)
    r1 = TwoSidedTTest(ra, rb, FrequentistConfig(difference_type="relative")).compute_result()
    r2 = TwoSidedTTest(ca, cb, FrequentistConfig(difference_type="absolute")).compute_result()
    print("ratio_relative_lift", repr(r1.expected), "cuped_absolute_lift", repr(r2.expected))

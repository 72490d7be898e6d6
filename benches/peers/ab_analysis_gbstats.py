"""Peer timing for benches/ab.rs task ab/compare_welch: gbstats 0.8 TwoSidedTTest on the
sufficient statistics of reference case 1 (relative and absolute results, as causalkit's
compare() returns both). Run: ~/.cache/causalkit-peers/ab/bin/python benches/peers/ab_analysis_gbstats.py
"""
import timeit

from gbstats.frequentist.tests import FrequentistConfig, TwoSidedTTest
from gbstats.models.statistics import SampleMeanStatistic

a = SampleMeanStatistic(n=3407, sum=1396.87, sum_squares=52377.9767)
b = SampleMeanStatistic(n=3461, sum=2422.7, sum_squares=134698.29)
rel, ab = FrequentistConfig(difference_type="relative"), FrequentistConfig(difference_type="absolute")


def both():
    TwoSidedTTest(a, b, rel).compute_result()
    TwoSidedTTest(a, b, ab).compute_result()


for _ in range(3):
    n = 2000
    t = min(timeit.repeat(both, number=n, repeat=5)) / n
    print(f"gbstats compare (relative + absolute): {t * 1e6:.1f} us")

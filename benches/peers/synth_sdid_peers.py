"""Peer timings for benches/synth.rs: SDID fit + 200 placebo replications on Prop 99.

Run with the panel peer venv from the repository root:
    ~/.cache/causalkit-peers/panel/bin/python benches/peers/synth_sdid_peers.py [runs]
Prints one line per run and tool: tool, task, seconds, estimate, se.
Peers: synthdid-py 0.1.0 (port of R synthdid) and diff-diff 3.13 (SyntheticDiD,
variance_method="placebo", n_bootstrap=200).
"""
import sys
import time
import warnings

import numpy as np
import pandas as pd
from diff_diff import SyntheticDiD
from synthdid import panel_matrices, sc_estimate, synthdid_estimate
from synthdid.vcov import placebo_se

warnings.filterwarnings("ignore")
runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
df = pd.read_csv("datasets/california_prop99.csv")
panel = panel_matrices(df, unit="State", time="Year", outcome="PacksPerCapita", treatment="treated")
dd = df.copy()
dd["ever"] = (dd.State == "California").astype(int)
post = list(range(1989, 2001))

for r in range(runs):
    t = time.perf_counter()
    est = synthdid_estimate(panel.Y, panel.N0, panel.T0)
    t_fit = time.perf_counter() - t
    se = placebo_se(est, 200, random_state=r)
    t_all = time.perf_counter() - t
    print(f"synthdid-py\tsdid_fit\t{t_fit:.4f}\t{float(est):.6f}\t", flush=True)
    print(f"synthdid-py\tsdid_fit_placebo200\t{t_all:.3f}\t{float(est):.6f}\t{se:.4f}", flush=True)
    t = time.perf_counter()
    res = SyntheticDiD(variance_method="placebo", n_bootstrap=200, seed=r).fit(
        dd, outcome="PacksPerCapita", treatment="ever", unit="State", time="Year", post_periods=post)
    t_dd = time.perf_counter() - t
    print(f"diff-diff\tsdid_fit_placebo200\t{t_dd:.3f}\t{res.att:.6f}\t{res.se:.4f}", flush=True)

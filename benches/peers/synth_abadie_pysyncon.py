"""Peer timing for benches/synth_abadie.rs: pysyncon 1.7 on Prop 99.

Tasks (same data and specifications as the criterion bench):
  lags: predictors = cigsale 1975, 1980, 1988 and mean 1980-1988 (4 predictors)
  all:  predictors = cigsale 1970..1988 (19 predictors)
  fit      : Synth.fit, nested V (scipy Nelder-Mead, optim_initial="equal"), W by SLSQP
  placebo  : fit + in-space placebo: the same fit for each of the 38 donors as treated, the
             other 37 donors as the pool (what pysyncon.PlaceboTest does, written as a loop so
             the X/Z matrices are exactly those of the Rust bench)

Usage: python synth_abadie_pysyncon.py TASK SPEC REPS  -> prints one JSON line with timings.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from pysyncon import Synth

ROOT = Path(__file__).resolve().parents[2]
df = pd.read_csv(ROOT / "datasets" / "california_prop99.csv")
Y = df.pivot(index="Year", columns="State", values="PacksPerCapita")
pre = [y for y in Y.index if y < 1989]
post = [y for y in Y.index if y >= 1989]


def predictors(spec, units):
    if spec == "all":
        X = Y.loc[pre, units].copy()
        X.index = [f"y{y}" for y in pre]
    else:
        rows = [Y.loc[1975, units], Y.loc[1980, units], Y.loc[1988, units],
                Y.loc[1980:1988, units].mean(axis=0)]
        X = pd.DataFrame(rows, index=["y1975", "y1980", "y1988", "m1980_1988"])
    return X


def fit(spec, treated, donors):
    X = predictors(spec, donors + [treated])
    s = Synth()
    s.fit(X0=X[donors], X1=X[treated], Z0=Y.loc[pre, donors], Z1=Y.loc[pre, treated],
          optim_initial="equal")
    w = np.asarray(s.W, dtype=float)
    gaps = Y[treated].to_numpy() - Y[donors].to_numpy() @ w
    pre_r = np.sqrt(np.mean(gaps[: len(pre)] ** 2))
    post_r = np.sqrt(np.mean(gaps[len(pre):] ** 2))
    return gaps[len(pre):].mean(), post_r / pre_r


def run(task, spec):
    treated = "California"
    donors = [s for s in Y.columns if s != treated]
    att, ratio = fit(spec, treated, donors)
    out = {"att": att}
    if task == "placebo":
        ratios = []
        for j in donors:
            others = [d for d in donors if d != j]
            ratios.append(fit(spec, j, others)[1])
        out["p_value"] = (1 + sum(r >= ratio for r in ratios)) / (1 + len(ratios))
    return out


if __name__ == "__main__":
    task, spec, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    times, cpu = [], []
    for _ in range(reps):
        t, c = time.perf_counter(), time.process_time()
        out = run(task, spec)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    print(json.dumps({"task": task, "spec": spec, "seconds": times, "cpu_seconds": cpu, **out}),
          flush=True)

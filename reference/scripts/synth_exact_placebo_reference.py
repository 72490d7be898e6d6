"""Exact (enumerated) placebo standard errors for synthetic DiD and its SC/DiD variants,
from synthdid-py 0.1.0 (a port of R synthdid).

Run with the panel peer venv from the repository root:
    ~/.cache/causalkit-peers/panel/bin/python reference/scripts/synth_exact_placebo_reference.py
Writes reference/synth_exact_placebo.json.

R's placebo_se (Arkhangelsky et al. 2021, Algorithm 4) draws B random permutations of the
N0 controls, makes the last N1 pseudo-treated and reports sqrt((B-1)/B) * sd(draws). In a
block design a replicate depends only on which N1 controls are pseudo-treated, so as B grows
the SE converges to the population standard deviation of the replicate over all C(N0, N1)
subsets, each equally likely. This script evaluates every subset with synthdid-py's own
replicate (refit with the subset of the fitted unit weights as the starting point, as its
placebo_se does) and records that limit, plus ten 200-draw synthdid-py placebo SEs to show
their Monte Carlo spread.

Designs: prop99 (California, N0 = 38, N1 = 1; sdid, sc, did) and prop99_two (California and
Utah treated from 1989, N0 = 37, N1 = 2, C(37, 2) = 666 subsets; sdid only).
"""
import itertools
import json

import numpy as np
import pandas as pd
import synthdid
from synthdid import did_estimate, panel_matrices, sc_estimate, synthdid_estimate
from synthdid.estimate import refit
from synthdid.vcov import _weights_for_subset, placebo_se

ESTIMATORS = {"sdid": synthdid_estimate, "sc": sc_estimate, "did": did_estimate}
df = pd.read_csv("datasets/california_prop99.csv")


def exact(est):
    s = est.setup
    n0 = s.N0 - s.N1
    draws = []
    for placebo in itertools.combinations(range(s.N0), s.N1):
        rest = [i for i in range(s.N0) if i not in placebo]
        ind = np.array(rest + list(placebo))
        draws.append(float(refit(est, Y=s.Y[ind], N0=n0, T0=s.T0, X=s.X[ind],
                                 weights=_weights_for_subset(est.weights, ind[:n0]))))
    d = np.array(draws)
    return {"subsets": len(draws), "exact_placebo_se": float(d.std(ddof=0)),
            "mean_replicate": float(d.mean())}


out = {"source": "synthdid-py %s, reference/scripts/synth_exact_placebo_reference.py"
       % getattr(synthdid, "__version__", "0.1.0"),
       "numpy": np.__version__}
panel = panel_matrices(df, unit="State", time="Year", outcome="PacksPerCapita", treatment="treated")
prop = {}
for name, fn in ESTIMATORS.items():
    est = fn(panel.Y, panel.N0, panel.T0)
    rec = exact(est)
    rec["placebo_se_200_seeds_1_to_10"] = [placebo_se(est, 200, random_state=k) for k in range(1, 11)]
    prop[name] = rec
    print(name, rec["exact_placebo_se"], flush=True)
out["prop99"] = prop

df2 = df.copy()
df2.loc[(df2.State == "Utah") & (df2.Year >= 1989), "treated"] = 1
panel2 = panel_matrices(df2, unit="State", time="Year", outcome="PacksPerCapita", treatment="treated")
est2 = synthdid_estimate(panel2.Y, panel2.N0, panel2.T0)
rec2 = exact(est2)
rec2["estimate"] = float(est2)
out["prop99_two"] = {"treated": ["California", "Utah"], "start": 1989, "sdid": rec2}
print("two", rec2, flush=True)

with open("reference/synth_exact_placebo.json", "w") as f:
    json.dump(out, f, indent=1)

"""Reference numbers for causalkit-synth (synthetic DiD family) from synthdid-py 0.1.0.

Run with the panel peer venv from the repository root:
    ~/.cache/causalkit-peers/panel/bin/python reference/scripts/synth_reference.py
Writes reference/synth.json. synthdid-py is a line-by-line port of R synthdid
(Arkhangelsky, Athey, Hirshberg, Imbens & Wager 2021) and reproduces the R README numbers.

Besides estimates and weights it records single placebo and bootstrap replicates for given
permutations / resamples (so the replicate algorithms can be checked exactly, independent of
the random number generator), deterministic jackknife SEs, and placebo SEs with 200
replications (random: compare within Monte Carlo error only).

Designs:
  prop99            datasets/california_prop99.csv as given (California treated 1989+).
  prop99_three      the same data with Nevada and Utah also marked treated from 1989 (an
                    artificial block design with 3 treated units, for the jackknife and
                    bootstrap, which need more than one treated unit).
  prop99_staggered  California from 1989, Nevada and Utah from 1995 (artificial staggered
                    adoption; never-treated controls; cohort weights N1*T1 as Stata sdid).
"""
import json
import time

import numpy as np
import pandas as pd
from synthdid import did_estimate, panel_matrices, sc_estimate, synthdid_estimate
from synthdid.estimate import refit
from synthdid.staggered import staggered_synthdid_estimate
from synthdid.vcov import _weights_for_subset, jackknife_se, placebo_se

ESTIMATORS = {"sdid": synthdid_estimate, "sc": sc_estimate, "did": did_estimate}
df = pd.read_csv("datasets/california_prop99.csv")


def fit_all(panel):
    out = {}
    for name, fn in ESTIMATORS.items():
        est = fn(panel.Y, panel.N0, panel.T0)
        w = est.weights
        lam, omega = np.asarray(w.lambda_), np.asarray(w.omega)
        rec = {
            "estimate": float(est),
            "omega": {str(u): float(v) for u, v in zip(panel.units[: panel.N0], omega)},
            "lambda": {str(int(t)): float(v) for t, v in zip(panel.time[: panel.T0], lam)},
            "effective_controls": float(1 / np.sum(omega ** 2)),
        }
        if name != "sc":
            rec["effective_pre_periods"] = float(1 / np.sum(lam ** 2))
        out[name] = (rec, est)
    return out


def placebo_draw(est, perm):
    """One placebo replicate of R placebo_se for a given permutation of the controls."""
    setup = est.setup
    n0 = setup.N0 - setup.N1
    ind = np.asarray(perm)
    return float(refit(est, Y=setup.Y[ind], N0=n0, T0=setup.T0, X=setup.X[ind],
                       weights=_weights_for_subset(est.weights, ind[:n0])))


def bootstrap_draw(est, ind):
    """One bootstrap replicate of R bootstrap_sample for given row indices."""
    setup = est.setup
    ind = np.sort(np.asarray(ind))
    n0 = int((ind < setup.N0).sum())
    return float(refit(est, Y=setup.Y[ind], N0=n0, T0=setup.T0, X=setup.X[ind],
                       weights=_weights_for_subset(est.weights, ind[ind < setup.N0])))


ref = {"source": "synthdid-py 0.1.0 (port of R synthdid), reference/scripts/synth_reference.py"}
rng = np.random.default_rng(20260101)

# --- Prop 99 ---------------------------------------------------------------------
panel = panel_matrices(df, unit="State", time="Year", outcome="PacksPerCapita", treatment="treated")
diffs = np.diff(panel.Y[: panel.N0, : panel.T0], axis=1)
prop = {"noise_level": float(np.std(diffs, ddof=1)), "N0": int(panel.N0), "T0": int(panel.T0),
        "units": [str(u) for u in panel.units]}
perms = [rng.permutation(panel.N0).tolist() for _ in range(4)]
prop["placebo_permutations"] = perms
for name, (rec, est) in fit_all(panel).items():
    rec["placebo_draws"] = [placebo_draw(est, p) for p in perms]
    t = time.time()
    rec["placebo_se_200_seed1"] = placebo_se(est, 200, random_state=1)
    print(name, rec["estimate"], rec["placebo_se_200_seed1"], round(time.time() - t, 1), flush=True)
    prop[name] = rec
ref["prop99"] = prop

# --- three treated units (block) -------------------------------------------------
df3 = df.copy()
df3.loc[df3.State.isin(["Nevada", "Utah"]) & (df3.Year >= 1989), "treated"] = 1
p3 = panel_matrices(df3, unit="State", time="Year", outcome="PacksPerCapita", treatment="treated")
N = p3.Y.shape[0]
samples = []
while len(samples) < 4:
    ind = rng.integers(0, N, N)
    if (ind < p3.N0).any() and (ind >= p3.N0).any():
        samples.append(sorted(ind.tolist()))
three = {"treated": ["California", "Nevada", "Utah"], "start": 1989,
         "units": [str(u) for u in p3.units], "bootstrap_samples": samples}
for name, (rec, est) in fit_all(p3).items():
    rec["jackknife_se"] = jackknife_se(est)
    rec["bootstrap_draws"] = [bootstrap_draw(est, s) for s in samples]
    print("three", name, rec["estimate"], rec["jackknife_se"], flush=True)
    three[name] = rec
ref["prop99_three"] = three

# --- staggered -------------------------------------------------------------------
dfs = df.copy()
dfs.loc[dfs.State.isin(["Nevada", "Utah"]) & (dfs.Year >= 1995), "treated"] = 1
stag = {"cohorts": {"1989": ["California"], "1995": ["Nevada", "Utah"]}}
for name, est_name in [("sdid", "synthdid"), ("sc", "sc"), ("did", "did")]:
    st = staggered_synthdid_estimate(dfs, estimator=est_name, unit="State", time="Year",
                                     outcome="PacksPerCapita", treatment="treated")
    rec = {"estimate": float(st.att),
           "by_cohort": json.loads(st.by_cohort.to_json(orient="records"))}
    rec["jackknife_se"] = float(st.se(method="jackknife"))
    print("staggered", name, rec["estimate"], rec["jackknife_se"], flush=True)
    stag[name] = rec
ref["prop99_staggered"] = stag

with open("reference/synth.json", "w") as f:
    json.dump(ref, f, indent=1, sort_keys=True)
print("wrote reference/synth.json")

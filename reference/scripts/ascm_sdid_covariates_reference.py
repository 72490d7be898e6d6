"""Reference numbers for synthetic DiD with time-varying covariates (causalkit_synth::sdid_cov).

Run with the panel peer venv from the repository root:
    ~/.cache/causalkit-peers/panel/bin/python reference/scripts/ascm_sdid_covariates_reference.py
Writes reference/ascm_sdid_covariates.json (the `ascm` prefix is only this helper's file-name
namespace; the content is SDID).

Source: synthdid-py 0.1.0, a port of R synthdid (Arkhangelsky, Athey, Hirshberg, Imbens &
Wager 2021): `synthdid_estimate(Y, N0, T0, X=...)` runs `sc_weight_fw_covariates`, which
alternates one exact-line-search Frank-Wolfe step for lambda and one for omega with a
1/t-sized gradient step on beta, on the collapsed (N0+1) x (T0+1) form of Y and of every
covariate; the estimate is (-omega, 1/N1)' (Y - X.beta) (-lambda, 1/T1).

Data: the CPS state-year panel shipped in the synthdid-py wheel (synthdid/data/CPS.csv; used
in the placebo studies of Arkhangelsky et al. 2021, Section 5): 50 states, 1979-2018, outcome
log_wage, time-varying covariates urate and hours. Prop 99 (datasets/california_prop99.csv)
carries no covariate, so it cannot be used here. The treatment is an artificial block
assignment (a placebo study, true effect zero): the 8 states with min_wage = TRUE in 2018
(CA, CT, DE, MA, OR, RI, VT, WA), treated from 2010. The panel itself is stored in the JSON so
the Rust tests do not depend on the wheel.
"""
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import synthdid
from synthdid import did_estimate, sc_estimate, synthdid_estimate
from synthdid.datasets import load_cps
from synthdid.estimate import refit
from synthdid.vcov import _weights_for_subset

OUT = Path("reference/ascm_sdid_covariates.json")
START = 2010

d = load_cps()
last = d[d.year == d.year.max()]
treated = sorted(last[last.min_wage].state.tolist())
controls = sorted(set(d.state) - set(treated))
order = controls + treated
years = sorted(d.year.unique())
T0 = sum(y < START for y in years)
N0 = len(controls)


def wide(col):
    return d.pivot(index="state", columns="year", values=col).loc[order, years].to_numpy(float)


Y = wide("log_wage")
covs = {"urate": wide("urate"), "hours": wide("hours")}

out = {
    "source": "reference/scripts/ascm_sdid_covariates_reference.py",
    "versions": {"synthdid-py": getattr(synthdid, "__version__", "0.1.0"),
                 "numpy": np.__version__, "pandas": pd.__version__,
                 "python": sys.version.split()[0]},
    "data": {"units": order, "years": [int(y) for y in years], "treated": treated,
             "treatment_start": START, "N0": int(N0), "T0": int(T0),
             "log_wage": Y.tolist(), "urate": covs["urate"].tolist(),
             "hours": covs["hours"].tolist()},
    "fits": {},
}
EST = {"sdid": synthdid_estimate, "sc": sc_estimate, "did": did_estimate}
for spec in (["urate"], ["urate", "hours"], []):
    X = np.stack([covs[c] for c in spec], axis=2) if spec else None
    for name, fn in EST.items():
        est = fn(Y, N0, T0, X=X) if X is not None else fn(Y, N0, T0)
        w = est.weights
        rec = {
            "estimate": float(est),
            "omega": np.asarray(w.omega).tolist(),
            "lambda": np.asarray(w.lambda_).tolist(),
            "beta": [] if w.beta is None else np.asarray(w.beta).tolist(),
            "iterations": None if w.vals is None else int(len(w.vals)),
            "objective": None if w.vals is None else float(np.asarray(w.vals)[-1]),
        }
        out["fits"][f"{name}:{','.join(spec) or 'none'}"] = rec
        print(name, spec, rec["estimate"], rec["beta"], rec["iterations"])
# Single placebo replicates (R placebo_se's theta) for fixed permutations of the controls, so
# the replicate algorithm is checked exactly, independent of the random number generator.
rng = np.random.default_rng(20260101)
perms = [rng.permutation(N0).tolist() for _ in range(2)]
out["placebo_perms"] = perms
N1 = len(treated)
for spec in (["urate"], ["urate", "hours"]):
    X = np.stack([covs[c] for c in spec], axis=2)
    est = synthdid_estimate(Y, N0, T0, X=X)
    reps = []
    for perm in perms:
        ind = np.asarray(perm)
        n0p = N0 - N1
        reps.append(float(refit(est, Y=Y[ind], N0=n0p, T0=T0, X=X[ind],
                                weights=_weights_for_subset(est.weights, ind[:n0p]))))
    out["fits"][f"sdid:{','.join(spec)}"]["placebo_replicates"] = reps
    print("placebo replicates", spec, reps)
OUT.write_text(json.dumps(out, indent=1))

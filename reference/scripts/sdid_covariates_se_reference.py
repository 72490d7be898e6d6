"""Reference numbers for the bootstrap and jackknife SEs of covariate-adjusted synthetic DiD
(causalkit_synth::sdid_cov::se_cov).

Run with the panel peer venv from the repository root:
    ~/.cache/causalkit-peers/panel/bin/python reference/scripts/sdid_covariates_se_reference.py
Writes reference/sdid_covariates_se.json.

Source: synthdid-py 0.1.0, a port of R synthdid's vcov.R (Arkhangelsky, Athey, Hirshberg,
Imbens & Wager 2021, Algorithms 2 and 3) that passes the covariate array subset to the
replicate's units (`X = setup.X[ind]`), as R does:
* `jackknife_se(est)`: fixed-weight jackknife (update_omega = update_lambda = False; omega
  restricted to the remaining controls and renormalised; beta re-estimated from 0);
* `bootstrap_sample`: rows drawn with replacement, sorted, omega at the sampled controls
  renormalised as starting values, weights and beta re-estimated.
The jackknife is deterministic: its SE and its leave-one-out estimates u_i (recomputed here with
synthdid-py's `refit` exactly as `jackknife_se` does, and checked against it) are compared
directly. The bootstrap's random draws cannot be shared with Rust's generator, so the replicate
algorithm is checked on fixed row sets drawn here (numpy default_rng(20261123)), and
synthdid-py's own seeded bootstrap SE (B = 200) is stored for an order-of-magnitude check.

Data and design: as reference/ascm_sdid_covariates.json (the CPS panel stored there; 8
min-wage states treated from 2010, a placebo study).
"""
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import synthdid
from synthdid import did_estimate, sc_estimate, synthdid_estimate
from synthdid.estimate import refit
from synthdid.vcov import _weights_for_subset, bootstrap_se, jackknife_se

OUT = Path("reference/sdid_covariates_se.json")
r = json.loads(Path("reference/ascm_sdid_covariates.json").read_text())
d = r["data"]
Y = np.asarray(d["log_wage"], float)
N0, T0 = d["N0"], d["T0"]
N = Y.shape[0]
covs = {c: np.asarray(d[c], float) for c in ("urate", "hours")}
EST = {"sdid": synthdid_estimate, "sc": sc_estimate, "did": did_estimate}


def jack_u(est, X):
    opts = dict(est.opts)
    opts["update_omega"] = False
    opts["update_lambda"] = False
    base = type(est)(float(est), estimator=est.estimator, weights=est.weights,
                     setup=est.setup, opts=opts)
    u = []
    for i in range(N):
        ind = np.delete(np.arange(N), i)
        u.append(float(refit(base, Y=Y[ind], N0=int((ind < N0).sum()), T0=T0, X=X[ind],
                             weights=_weights_for_subset(est.weights, ind[ind < N0]))))
    return u


rng = np.random.default_rng(20261123)
boot_rows = []
while len(boot_rows) < 6:
    ind = np.sort(rng.integers(0, N, size=N))
    n0b = int((ind < N0).sum())
    if 0 < n0b < N:
        boot_rows.append(ind.tolist())

out = {
    "source": "reference/scripts/sdid_covariates_se_reference.py",
    "versions": {"synthdid-py": getattr(synthdid, "__version__", "0.1.0"),
                 "numpy": np.__version__, "pandas": pd.__version__,
                 "python": sys.version.split()[0]},
    "data": "reference/ascm_sdid_covariates.json",
    "bootstrap_rows": boot_rows,
    "fits": {},
}
for name, spec in (("sdid", ["urate"]), ("sdid", ["urate", "hours"]), ("sc", ["urate"]),
                   ("did", ["urate"])):
    X = np.stack([covs[c] for c in spec], axis=2)
    est = EST[name](Y, N0, T0, X=X)
    u = jack_u(est, X)
    se_jk = float(jackknife_se(est))
    se_u = float(np.sqrt((N - 1) ** 2 / N * np.var(u, ddof=1)))
    assert abs(se_jk - se_u) < 1e-12, (se_jk, se_u)
    rec = {"estimate": float(est), "jackknife_se": se_jk, "jackknife_replicates": u}
    if name == "sdid":
        rec["bootstrap_replicates"] = [
            float(refit(est, Y=Y[ind], N0=int((np.asarray(ind) < N0).sum()), T0=T0,
                        X=X[ind], weights=_weights_for_subset(est.weights,
                                                              np.asarray(ind)[np.asarray(ind) < N0])))
            for ind in boot_rows]
    if spec == ["urate"] and name == "sdid":
        rec["bootstrap_se_200"] = float(bootstrap_se(est, 200, random_state=7))
    out["fits"][f"{name}:{','.join(spec)}"] = rec
    print(name, spec, rec["estimate"], "jk", se_jk, "boot200", rec.get("bootstrap_se_200"),
          flush=True)
OUT.write_text(json.dumps(out, indent=1))

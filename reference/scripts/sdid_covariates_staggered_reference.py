"""Reference numbers for covariate-adjusted synthetic DiD under staggered adoption
(causalkit_synth::sdid_cov::sdid_covariates with several adoption cohorts).

Run with the panel peer venv from the repository root:
    ~/.cache/causalkit-peers/panel/bin/python reference/scripts/sdid_covariates_staggered_reference.py
Writes reference/sdid_covariates_staggered.json.

Source: synthdid-py 0.1.0 `staggered_synthdid_estimate(panel, estimator, control_pool =
"never_treated")` with covariates X: each adoption cohort is fitted as a block (R synthdid's
`synthdid_estimate(Y, N0, T0, X)` on the never-treated rows plus the cohort's rows, all
periods) and the cohort estimates are averaged with weights N1_a * T1_a (Clarke, Pailanir,
Athey & Imbens 2023, the Stata `sdid` aggregation).

Data: the CPS panel stored in reference/ascm_sdid_covariates.json. Artificial staggered design
(a placebo study): of the 8 min-wage states, CA, CT, DE and MA are treated from 2005 and OR,
RI, VT and WA from 2010.
"""
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import synthdid
from synthdid.staggered import StaggeredPanel, staggered_synthdid_estimate

OUT = Path("reference/sdid_covariates_staggered.json")
r = json.loads(Path("reference/ascm_sdid_covariates.json").read_text())
d = r["data"]
units = d["units"]
years = d["years"]
Y = np.asarray(d["log_wage"], float)
covs = {c: np.asarray(d[c], float) for c in ("urate", "hours")}
EARLY, LATE = ["CA", "CT", "DE", "MA"], ["OR", "RI", "VT", "WA"]
adoption = np.array([years.index(2005) if u in EARLY else years.index(2010) if u in LATE else -1
                     for u in units])
out = {
    "source": "reference/scripts/sdid_covariates_staggered_reference.py",
    "versions": {"synthdid-py": getattr(synthdid, "__version__", "0.1.0"),
                 "numpy": np.__version__, "pandas": pd.__version__,
                 "python": sys.version.split()[0]},
    "data": "reference/ascm_sdid_covariates.json",
    "cohorts": {"2005": EARLY, "2010": LATE},
    "fits": {},
}
for est_name, key, spec in (("synthdid", "sdid", ["urate"]), ("synthdid", "sdid", ["urate", "hours"]),
                            ("sc", "sc", ["urate"]), ("did", "did", ["urate"])):
    X = np.stack([covs[c] for c in spec], axis=2)
    panel = StaggeredPanel(Y=Y, adoption=adoption, units=np.asarray(units),
                           time=np.asarray(years), X=X)
    est = staggered_synthdid_estimate(panel, estimator=est_name, control_pool="never_treated")
    cohorts = []
    for _, row in est.by_cohort.iterrows():
        e = est.estimates[row["adoption_time"]]
        cohorts.append({"adoption_time": int(row["adoption_time"]), "tau": float(row["tau"]),
                        "weight": float(row["weight"]),
                        "beta": np.asarray(e.weights.beta).tolist(),
                        "omega": np.asarray(e.weights.omega).tolist(),
                        "lambda": np.asarray(e.weights.lambda_).tolist(),
                        "iterations": int(len(e.weights.vals))})
    out["fits"][f"{key}:{','.join(spec)}"] = {"att": float(est.att), "cohorts": cohorts}
    print(key, spec, est.att, [c["tau"] for c in cohorts], flush=True)
OUT.write_text(json.dumps(out, indent=1))

"""Reference numbers for the attribution refuters (crates/attribution/src/refute.rs) on the
bundled contact-centre A/B data.

Run with the ab peer venv:
    ~/.cache/causalkit-peers/ab/bin/python reference/scripts/refute_reference.py
Writes reference/refute.json.

- SRM: scipy.stats.chisquare of the arm row counts against a 1:1 split, and of the counts
  after dropping every 10th treatment row (the designed failure of the tests).
- Covariate balance: standardised mean differences (mean_T - mean_C) / sqrt((var_T + var_C)/2)
  with numpy var(ddof=1), of pre_handle_seconds, and of pre_handle_seconds + 40 for treatment
  rows (the designed imbalance of the tests).
"""
import json
import os

import numpy as np
import pandas as pd
import scipy
import scipy.stats as st

root = os.path.join(os.path.dirname(__file__), "..", "..")
df = pd.read_csv(os.path.join(root, "datasets", "contact-centre", "ab_contacts.csv"))
treat = (df["arm"] == "treatment").to_numpy()


def smd(x):
    a, b = x[treat], x[~treat]
    return float((a.mean() - b.mean()) / np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2))


def srm(n0, n1):
    r = st.chisquare([n0, n1])
    return {"control": int(n0), "treatment": int(n1), "chi2": float(r.statistic), "p_value": float(r.pvalue)}


pre = df["pre_handle_seconds"].to_numpy(float)
# Every 10th treatment row (by position among treatment rows, 0-based i % 10 == 0) dropped.
t_idx = np.flatnonzero(treat)
dropped = len(t_idx[::10])
out = {
    "versions": {"numpy": np.__version__, "pandas": pd.__version__, "scipy": scipy.__version__},
    "data": "datasets/contact-centre/ab_contacts.csv",
    "smd_pre_handle_seconds": smd(pre),
    "smd_pre_handle_seconds_plus_40_treated": smd(pre + 40.0 * treat),
    "srm_rows": srm((~treat).sum(), treat.sum()),
    "srm_every_10th_treatment_row_dropped": srm((~treat).sum(), treat.sum() - dropped),
}
with open(os.path.join(root, "reference", "refute.json"), "w") as f:
    json.dump(out, f, indent=1)
print(json.dumps(out, indent=1))

"""Reference for causalkit-reward's linear surrogate index (crates/reward/tests/calibrate.rs).

OLS of revenue_90d on the signals and covariates of datasets/recommender/history.csv with
statsmodels: HC1 standard errors, and CR1 standard errors clustered by `group` = the row
index // 4 (statsmodels' cluster correction G/(G-1)*(N-1)/(N-K), fixest's CR1), plus an
independent numpy re-derivation of the coefficients and HC1 (normal equations), so the
reference does not rest on one library. Writes reference/reward_reference.json.

Run from the repository root (a Python with numpy, pandas, statsmodels, e.g. the ab peer venv):
    ~/.cache/causalkit-peers/ab/bin/python reference/scripts/reward_reference.py
"""
import json
import os

import numpy as np
import pandas as pd
import statsmodels.api as sm

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
df = pd.read_csv(os.path.join(ROOT, "datasets", "recommender", "history.csv"))
signals = ["click", "add_to_cart", "purchase", "return", "order_value"]
covariates = ["tenure", "pre_revenue"]
names = ["Intercept"] + signals + covariates
X = sm.add_constant(df[signals + covariates].to_numpy(dtype=float))
y = df["revenue_90d"].to_numpy(dtype=float)
hc1 = sm.OLS(y, X).fit(cov_type="HC1")
groups = np.arange(len(df)) // 4
cr1 = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": groups})

# numpy re-derivation
xtx_inv = np.linalg.inv(X.T @ X)
beta = xtx_inv @ X.T @ y
u = y - X @ beta
n, k = X.shape
meat = (X * u[:, None] ** 2).T @ X
v_hc1 = n / (n - k) * xtx_inv @ meat @ xtx_inv
assert np.allclose(beta, hc1.params, rtol=1e-10, atol=0)
assert np.allclose(np.sqrt(np.diag(v_hc1)), hc1.bse, rtol=1e-10, atol=0)

out = {
    "source": "datasets/recommender/history.csv",
    "statsmodels": sm.__version__,
    "names": names,
    "coef": list(map(float, hc1.params)),
    "se_hc1": list(map(float, hc1.bse)),
    "se_cr1_group_of_4": list(map(float, cr1.bse)),
    "r_squared": float(hc1.rsquared),
    "n": int(n),
}
with open(os.path.join(ROOT, "reference", "reward_reference.json"), "w") as f:
    json.dump(out, f, indent=2)
    f.write("\n")
print(json.dumps(out, indent=2))

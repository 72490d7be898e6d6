"""Reference numbers for causalkit's Abadie synthetic control (reference/abadie.json).

Independent implementation: pysyncon 1.7 (`pysyncon.Synth`: predictors standardised by their
sd across all units, W by scipy SLSQP, nested V by scipy Nelder-Mead on |x|/sum|x|), plus an
exact convex solve of the inner QP with scipy (SLSQP at tight tolerance) for a given V.

Data: datasets/california_prop99.csv (39 states, 1970-2000; California treated from 1989).
Specification ("all pre-period outcomes"): the 19 outcomes 1970..1988 are the predictors;
the outer loss is the pre-period (1970-1988) outcome MSPE.

Run:  ~/.cache/causalkit-peers/panel/bin/python reference/scripts/abadie_reference.py [INIT ...]
INIT in {equal, ols, none}; default both pysyncon starts. Results are merged into an existing
reference/abadie.json, so the (fast) given-V part can be regenerated alone with `none`.
The nested fits take tens of minutes each on the shared 2-core machine.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pysyncon
import scipy
from pysyncon import Synth
from scipy.optimize import minimize, Bounds, LinearConstraint

ROOT = Path(__file__).resolve().parents[2]
df = pd.read_csv(ROOT / "datasets" / "california_prop99.csv")
Y = df.pivot(index="Year", columns="State", values="PacksPerCapita")  # periods x states
pre = [y for y in Y.index if y < 1989]
post = [y for y in Y.index if y >= 1989]
treated = "California"
donors = [s for s in Y.columns if s != treated]

# All pre-period outcomes as predictors.
X0 = Y.loc[pre, donors].copy()
X0.index = [f"y{y}" for y in pre]
X1 = Y.loc[pre, treated].copy()
X1.index = X0.index
Z0 = Y.loc[pre, donors]
Z1 = Y.loc[pre, treated]

out = {
    "source": "pysyncon 1.7.0 Synth.fit on datasets/california_prop99.csv (reference/scripts/abadie_reference.py)",
    "versions": {
        "pysyncon": "1.7.0",
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "python": sys.version.split()[0],
    },
    "spec": "predictors = cigarette sales 1970..1988 (all pre-period outcomes); loss = MSPE 1970-1988",
    "donors": donors,
    "years": [int(y) for y in Y.index],
    "nested": {},
}


def gaps(w):
    synth = Y[donors].to_numpy() @ w
    return Y[treated].to_numpy() - synth


inits = [a for a in sys.argv[1:] if a != "none"] if len(sys.argv) > 1 else ["equal", "ols"]
OUT = ROOT / "reference" / "abadie.json"
if OUT.exists():
    old = json.loads(OUT.read_text())
    out["nested"] = old.get("nested", {})
for init in inits:
    s = Synth()
    t = time.perf_counter()
    s.fit(X0=X0, X1=X1, Z0=Z0, Z1=Z1, optim_initial=init)
    el = time.perf_counter() - t
    w = np.asarray(s.W, dtype=float)
    g = gaps(w)
    npost = len(post)
    out["nested"][init] = {
        "seconds": el,
        "weights": dict(zip(donors, w.tolist())),
        "v": list(map(float, s.V)),
        "loss_v": float(s.loss_V),
        "loss_w": float(s.loss_W),
        "att": float(g[-npost:].mean()),
        "rmspe_pre": float(np.sqrt(np.mean(g[:-npost] ** 2))),
        "rmspe_post": float(np.sqrt(np.mean(g[-npost:] ** 2))),
        "gaps": g.tolist(),
    }
    print(init, el, out["nested"][init]["att"], out["nested"][init]["loss_v"], flush=True)

# Given V = equal weights on the standardised predictors: W by SLSQP at tight tolerance
# (exact QP up to ~1e-10) and by pysyncon's own w_optimize (default options).
Xall = pd.concat([X0, X1.rename(treated)], axis=1)
Xs = Xall.divide(Xall.std(axis=1), axis=0)
A = Xs[donors].to_numpy()
b = Xs[treated].to_numpy()
k = A.shape[0]
v = np.full(k, 1.0 / k)
H = A.T @ np.diag(v) @ A
f = b @ np.diag(v) @ A


def obj(w):
    r = b - A @ w
    return float(r @ (v * r))


def grad(w):
    return 2 * (H @ w - f)


n = len(donors)
res = minimize(obj, np.full(n, 1.0 / n), jac=grad, method="SLSQP",
               bounds=Bounds(np.zeros(n), np.ones(n)),
               constraints=LinearConstraint(np.ones((1, n)), 1.0, 1.0),
               options={"ftol": 1e-15, "maxiter": 10000})
wg = res.x
g = gaps(wg)
out["given_v_equal"] = {
    "solver": "scipy SLSQP ftol 1e-15 with analytic gradient",
    "loss_w": obj(wg),
    "weights": dict(zip(donors, wg.tolist())),
    "att": float(g[-len(post):].mean()),
    "loss_v": float(np.mean(g[:-len(post)] ** 2)),
}
print("given", obj(wg), out["given_v_equal"]["att"])

if OUT.exists():
    # Merge with whatever a concurrent run wrote meanwhile.
    old = json.loads(OUT.read_text())
    for key, val in old.get("nested", {}).items():
        out["nested"].setdefault(key, val)
OUT.write_text(json.dumps(out, indent=1))
print("wrote reference/abadie.json")

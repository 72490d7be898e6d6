"""Reference numbers for the ridge-augmented synthetic control (causalkit_synth::ascm).

Run with the panel peer venv from the repository root:
    ~/.cache/causalkit-peers/panel/bin/python reference/scripts/ascm_reference.py
Writes reference/ascm.json.

Two independent sources:

1. pysyncon 1.7.0 `AugSynth` (ridge ASCM "following the augsynth R package", Ben-Michael,
   Feller & Rothstein 2021). Its simplex QP is scipy SLSQP (ftol 1e-12), so its weights are
   accurate to roughly 1e-7, not to machine precision. Its lambda grid differs from augsynth's:
   augsynth's `create_lambda_list` is `lambda_max * scaler^(seq(0:n_lambda) - 1)`, and in R
   `seq(0:n)` is `1..n+1`, so the exponents are `0..n` (the grid starts at lambda_max);
   pysyncon writes `scaler ** (np.arange(0, n + 1) - 1)`, exponents `-1..n-1`, a grid one step
   higher. We record pysyncon's grid, CV curve and choice, and its fits at fixed lambdas.

2. A numpy re-derivation written from the augsynth R source (R/ridge.R, R/ridge_lambda.R,
   R/inference.R): exact simplex QP (SLSQP start polished by an active-set loop on the support,
   KKT conditions checked to 1e-10), augsynth's grid (exponents 0..n), leave-one-period-out CV
   over the pre-period (folds i = 1..T0-1, the last pre-period is never held out), the 1-SE
   rule, ridge weights, ATT path; per-period conformal p-values of theta0 = 0 (lambda fixed at
   the fitted value, |residual| rank among the T0+1 periods); and the in-space placebo RMSPE
   ratios (lambda re-chosen by CV for every placebo).

Configurations:
  prop99       California treated from 1989, 38 donor states, 1970-2000 (T0 = 19).
  prop99_1980  in-time placebo: California "treated" from 1980, data 1970-1988 only (T0 = 10).
"""
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import scipy
from scipy.optimize import minimize, Bounds, LinearConstraint

import pysyncon
from pysyncon import AugSynth, Dataprep

# conformal refits have no post period: their (unused) ATT is a mean of an empty slice
warnings.filterwarnings("ignore", "Mean of empty slice")
warnings.filterwarnings("ignore", "invalid value encountered in scalar divide")
OUT = Path("reference/ascm.json")
df = pd.read_csv("datasets/california_prop99.csv")


# ---------------------------------------------------------------- exact simplex QP (numpy)
def simplex_ls(X0, x1):
    """argmin ||x1 - X0 w||^2 s.t. w >= 0, sum w = 1 (X0: k x J). Exact up to rounding."""
    k, J = X0.shape
    P = X0.T @ X0
    q = X0.T @ x1
    res = minimize(lambda w: 0.5 * w @ P @ w - q @ w, np.full(J, 1 / J),
                   jac=lambda w: P @ w - q, bounds=Bounds(0, 1),
                   constraints=LinearConstraint(np.ones(J), 1, 1), method="SLSQP",
                   options={"maxiter": 5000, "ftol": 1e-15})
    S = [j for j in range(J) if res.x[j] > 1e-6]
    for _ in range(200):
        m = len(S)
        A = np.zeros((m + 1, m + 1))
        A[:m, :m] = P[np.ix_(S, S)]
        A[:m, m] = 1
        A[m, :m] = 1
        b = np.concatenate([q[S], [1.0]])
        sol = np.linalg.lstsq(A, b, rcond=None)[0]
        wS = sol[:m]
        if wS.min() < 0:
            S.pop(int(np.argmin(wS)))
            continue
        w = np.zeros(J)
        w[S] = wS
        g = P @ w - q  # gradient of 0.5 w'Pw - q'w
        c = g[S].mean()
        out = [j for j in range(J) if j not in S]
        scale = max(1.0, np.abs(P).max())
        if out and g[out].min() < c - 1e-12 * scale:
            S.append(out[int(np.argmin(g[out]))])
            continue
        assert np.abs(g[S] - c).max() < 1e-9 * scale, "stationarity"
        return w
    raise RuntimeError("active set did not converge")


def ridge_adjust(Xc, x1c, w, lam):
    """augsynth ridge_w: Xc (J x T0, centred), returns the J-vector added to w."""
    r = x1c - Xc.T @ w
    M = Xc.T @ Xc + lam * np.eye(Xc.shape[1])
    return Xc @ np.linalg.solve(M, r)


def cv_curve(Xc, x1c, lambdas, holdout=1):
    t0 = Xc.shape[1]
    errs = np.zeros((t0 - holdout, len(lambdas)))
    for i in range(t0 - holdout):
        keep = [t for t in range(t0) if not (i <= t < i + holdout)]
        hold = list(range(i, i + holdout))
        X0, x1 = Xc[:, keep], x1c[keep]
        syn = simplex_ls(X0.T, x1)
        for j, lam in enumerate(lambdas):
            aug = syn + ridge_adjust(X0, x1, syn, lam)
            errs[i, j] = np.sum((x1c[hold] - Xc[:, hold].T @ aug) ** 2)
    return errs.mean(0), errs.std(0, ddof=1) / np.sqrt(errs.shape[0])


def choose(lambdas, mean, se, one_se=True):
    i = int(np.argmin(mean))
    if not one_se:
        return float(lambdas[i])
    return float(np.max(lambdas[mean <= mean[i] + se[i]]))


def ascm_numpy(Y, tr, t0, lam=None, n_lambda=20, ratio=1e-8):
    """Y: units x periods. Returns the fit as a dict."""
    don = [i for i in range(Y.shape[0]) if i != tr]
    X = Y[:, :t0]
    mu = X[don].mean(0)
    Xc = X[don] - mu
    x1c = X[tr] - mu
    out = {}
    if lam is None:
        lmax = np.linalg.svd(Xc, compute_uv=False)[0] ** 2
        lambdas = lmax * (ratio ** (1 / n_lambda)) ** np.arange(0, n_lambda + 1)
        m, s = cv_curve(Xc, x1c, lambdas)
        lam = choose(lambdas, m, s)
        out["cv"] = {"lambda_max": float(lmax), "lambdas": lambdas.tolist(),
                     "errors": m.tolist(), "errors_se": s.tolist(),
                     "lambda_min": choose(lambdas, m, s, False), "lambda_1se": lam}
    syn = simplex_ls(Xc.T, x1c)
    w = syn + ridge_adjust(Xc, x1c, syn, lam)
    gaps = Y[tr] - Y[don].T @ w
    sc_gaps = Y[tr] - Y[don].T @ syn
    out.update({
        "lambda": float(lam),
        "sc_weights": syn.tolist(),
        "weights": w.tolist(),
        "gaps": gaps.tolist(),
        "sc_gaps": sc_gaps.tolist(),
        "att": float(gaps[t0:].mean()),
        "att_sc": float(sc_gaps[t0:].mean()),
        "rmspe_pre": float(np.sqrt(np.mean(gaps[:t0] ** 2))),
        "rmspe_post": float(np.sqrt(np.mean(gaps[t0:] ** 2))),
        "l2_imbalance": float(np.sqrt(np.sum(gaps[:t0] ** 2))),
    })
    return out


def conformal_p0(Y, tr, t0, lam):
    """Per-period conformal p-value of theta0 = 0 (lambda fixed), augsynth's statistic
    with q = 1 and one post period: share of |u_s| >= |u_last| among the T0+1 residuals."""
    ps = []
    for t in range(t0, Y.shape[1]):
        cols = list(range(t0)) + [t]
        f = ascm_numpy(Y[:, cols], tr, t0 + 1, lam=lam)
        u = np.abs(np.array(f["gaps"]))
        ps.append(float(np.mean(u >= u[-1] - 1e-12 * (1 + u[-1]))))
    return ps


def placebo(Y, tr, t0, fit):
    don = [i for i in range(Y.shape[0]) if i != tr]
    ratios = []
    for j in don:
        Yp = Y[don]
        jj = don.index(j)
        f = ascm_numpy(Yp, jj, t0)
        ratios.append(f["rmspe_post"] / f["rmspe_pre"])
    r_t = fit["rmspe_post"] / fit["rmspe_pre"]
    p = (1 + sum(r >= r_t for r in ratios)) / (1 + len(ratios))
    return ratios, float(p)


# ---------------------------------------------------------------- pysyncon
def pysyncon_fit(d, treated, years_pre, lam=None):
    units = sorted(d["State"].unique())
    controls = [u for u in units if u != treated]
    dp = Dataprep(foo=d, predictors=[], predictors_op="mean", dependent="PacksPerCapita",
                  unit_variable="State", time_variable="Year",
                  treatment_identifier=treated, controls_identifier=controls,
                  time_predictors_prior=years_pre, time_optimize_ssr=years_pre)
    m = AugSynth()
    m.fit(dp, lambda_=lam, use_covariates=False)
    years = sorted(d["Year"].unique())
    wide = d.pivot(index="State", columns="Year", values="PacksPerCapita")
    y1 = wide.loc[treated, years].to_numpy()
    Y0 = wide.loc[controls, years].to_numpy()
    w = np.asarray(m.W)
    gaps = y1 - Y0.T @ w
    t0 = len(years_pre)
    rec = {"lambda": float(m.lambda_), "weights": dict(zip(controls, map(float, w))),
           "sc_weights": dict(zip(controls, map(float, m.synw))),
           "gaps": gaps.tolist(), "att": float(gaps[t0:].mean())}
    if m.cv_result is not None:
        rec["cv"] = {"lambdas": m.cv_result.lambdas.tolist(),
                     "errors": m.cv_result.errors_mean.tolist(),
                     "errors_se": m.cv_result.errors_se.tolist()}
    return rec


def config(treated, start, last_year, fixed_lambdas):
    d = df[df["Year"] <= last_year].copy()
    years = sorted(d["Year"].unique())
    pre = [y for y in years if y < start]
    units = sorted(d["State"].unique())
    controls = [u for u in units if u != treated]
    order = controls + [treated]
    wide = d.pivot(index="State", columns="Year", values="PacksPerCapita").loc[order, years]
    Y = wide.to_numpy()
    tr, t0 = len(order) - 1, len(pre)
    np_fit = ascm_numpy(Y, tr, t0)
    np_fit["conformal_p0"] = conformal_p0(Y, tr, t0, np_fit["lambda"])
    ratios, p = placebo(Y, tr, t0, np_fit)
    np_fit["placebo_ratios"] = dict(zip(controls, ratios))
    np_fit["placebo_p_value"] = p
    np_fit["fixed"] = {repr(l): ascm_numpy(Y, tr, t0, lam=l) for l in fixed_lambdas}
    for v in np_fit["fixed"].values():
        for key in ("sc_weights", "weights"):
            v[key] = dict(zip(controls, v[key]))
    for key in ("sc_weights", "weights"):
        np_fit[key] = dict(zip(controls, np_fit[key]))
    py_cv = pysyncon_fit(d, treated, pre)
    py_fixed = {repr(l): pysyncon_fit(d, treated, pre, lam=l) for l in fixed_lambdas}
    return {
        "treated": treated, "treatment_start": start, "years": [int(y) for y in years],
        "donors": controls, "t0": t0,
        "numpy": np_fit,
        "pysyncon_cv": py_cv,
        "pysyncon_fixed": py_fixed,
    }


out = {
    "source": "reference/scripts/ascm_reference.py",
    "versions": {"pysyncon": pysyncon.__version__ if hasattr(pysyncon, "__version__") else "1.7.0",
                 "numpy": np.__version__, "scipy": scipy.__version__,
                 "pandas": pd.__version__, "python": sys.version.split()[0]},
    "prop99": config("California", 1989, 2000, [1000.0]),
    "prop99_1980": config("California", 1980, 1988, [100.0]),
}
# pysyncon's own choice becomes a fixed lambda too (weights at exactly its lambda).
for name in ("prop99", "prop99_1980"):
    c = out[name]
    lam = c["pysyncon_cv"]["lambda"]
    d = df[df["Year"] <= c["years"][-1]]
    pre = [y for y in c["years"] if y < c["treatment_start"]]
    c["pysyncon_fixed"]["pysyncon_choice"] = pysyncon_fit(d, "California", pre, lam=lam)
OUT.write_text(json.dumps(out, indent=1))
for name in ("prop99", "prop99_1980"):
    c = out[name]
    print(name, "numpy lambda", c["numpy"]["lambda"], "att", c["numpy"]["att"],
          "sc att", c["numpy"]["att_sc"], "placebo p", c["numpy"]["placebo_p_value"])
    print("   pysyncon lambda", c["pysyncon_cv"]["lambda"], "att", c["pysyncon_cv"]["att"])

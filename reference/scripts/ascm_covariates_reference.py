"""Reference numbers for the ridge ASCM with fixed covariates (augsynth `residualize = TRUE`).

Run with the panel peer venv from the repository root:
    ~/.cache/causalkit-peers/panel/bin/python reference/scripts/ascm_covariates_reference.py
Writes reference/ascm_covariates.json.

Source: pysyncon 1.7.0 `AugSynth.fit(..., use_covariates=True, residualize=True)`, which follows
augsynth's `fit_ridgeaug_formatted` with `residualize = TRUE`: centred pre-period outcomes are
residualised on the centred covariates by OLS across donors, SC weights / CV / ridge run on
the residuals, and the weights are then shifted by the OLS projection of the remaining
covariate imbalance. pysyncon's SC QP is SLSQP (weights to ~1e-6) and its lambda grid is one
step above augsynth's (see ascm_reference.py).

Data: the CPS state-year panel of synthdid-py 0.1.0 (also stored in
reference/ascm_sdid_covariates.json): outcome log_wage, 1979-2018; California ("CA") as the
single treated unit from 2010 (artificial: a placebo study), the other 49 states as donors;
covariates are the 1979-2009 means of urate and hours (pysyncon's predictors_op = "mean").
"""
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pysyncon
from pysyncon import AugSynth, Dataprep
from synthdid.datasets import load_cps

OUT = Path("reference/ascm_covariates.json")
d = load_cps()[["state", "year", "log_wage", "urate", "hours"]].copy()
TREATED, START = "CA", 2010
years = sorted(d.year.unique())
pre = [y for y in years if y < START]
controls = sorted(s for s in d.state.unique() if s != TREATED)


def fit(lam=None):
    dp = Dataprep(foo=d, predictors=["urate", "hours"], predictors_op="mean",
                  dependent="log_wage", unit_variable="state", time_variable="year",
                  treatment_identifier=TREATED, controls_identifier=controls,
                  time_predictors_prior=pre, time_optimize_ssr=pre)
    m = AugSynth()
    m.fit(dp, lambda_=lam, use_covariates=True, residualize=True)
    wide = d.pivot(index="state", columns="year", values="log_wage")
    w = np.asarray(m.W)
    gaps = wide.loc[TREATED, years].to_numpy() - wide.loc[controls, years].to_numpy().T @ w
    rec = {"lambda": float(m.lambda_), "weights": dict(zip(controls, map(float, w))),
           "sc_weights": dict(zip(controls, map(float, m.synw))),
           "gaps": gaps.tolist(), "att": float(gaps[len(pre):].mean())}
    if m.cv_result is not None:
        rec["cv"] = {"lambdas": m.cv_result.lambdas.tolist(),
                     "errors": m.cv_result.errors_mean.tolist(),
                     "errors_se": m.cv_result.errors_se.tolist()}
    return rec


cv = fit()
out = {
    "source": "reference/scripts/ascm_covariates_reference.py",
    "versions": {"pysyncon": "1.7.0", "numpy": np.__version__, "pandas": pd.__version__,
                 "python": sys.version.split()[0]},
    "treated": TREATED, "treatment_start": START, "covariates": ["urate", "hours"],
    "covariate_window": [int(pre[0]), int(pre[-1])],
    "pysyncon_cv": cv,
    "pysyncon_fixed": {"choice": fit(cv["lambda"]), "0.01": fit(0.01)},
}
OUT.write_text(json.dumps(out, indent=1))
print("lambda", cv["lambda"], "att", cv["att"], "fixed 0.01 att", out["pysyncon_fixed"]["0.01"]["att"])

"""Reference numbers for the Borusyak-Jaravel-Spiess (2024) imputation pre-trend test (their
Test 1, Stata did_imputation's pretrends(K)), written to reference/did_imputation.json. Run from
the repo root with the "panel" peer venv:

    ~/.cache/causalkit-peers/panel/bin/python reference/scripts/did_imputation_reference.py

Test 1: on the untreated rows (never-treated, and t < first.treat), regress the outcome on unit
and year fixed effects (plus covariates) and K lead dummies 1{t - G = -h}, h = 1..K, and test
the leads jointly with the cluster-robust Wald F against F(K, G - 1).

Source: pyfixest 0.60 feols (absorbed FE, CRV1 with its default small-sample corrections and
default singleton removal, as reghdfe in did_imputation; demeaning tolerance 1e-12 -- the
two-way case inverts a badly conditioned 3x3 covariance and moves by 2e-6 at the default
tolerance) and its wald_test; the F statistic is
also written out explicitly (b' V^-1 b / K, scipy F tail with G - 1 denominator df).

diff-diff 3.13 ImputationDiD.pretrend_test is recorded for comparison but is a *different*
test: it leaves out the lead -1 (treating it as a reference period) and uses leads -2..-(K+1),
and it keeps singleton units. Its number is reproduced below with pyfixest (fixef_rm="none",
leads -2..-4) to show the two routes agree.
"""
import json
import sys
import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
import scipy
import scipy.stats as st

warnings.simplefilter("ignore")
out = {
    "versions": {"pyfixest": pf.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
                 "pandas": pd.__version__, "python": sys.version.split()[0]},
    "generated_by": "~/.cache/causalkit-peers/panel/bin/python reference/scripts/did_imputation_reference.py",
    "data": "datasets/mpdta.csv (lemp, countyreal, year, first.treat; 0 = never treated)",
}
try:
    import diff_diff as dd
    out["versions"]["diff_diff"] = dd.__version__
except Exception:  # pragma: no cover
    dd = None

m = pd.read_csv("datasets/mpdta.csv").rename(columns={"first.treat": "first_treat"})
m["rel"] = np.where(m.first_treat > 0, m.year - m.first_treat, np.nan)
m["lpop_t"] = m.lpop * (m.year - 2003)   # time-varying covariate (lpop alone is absorbed)
m["w"] = np.exp(m.lpop)                  # analytic weights
u = m[(m.first_treat == 0) | (m.year < m.first_treat)].copy()
for h in range(1, 6):
    u[f"pre{h}"] = (u.rel == -h).astype(float)


def case(leads, covariates=(), weights=None, cluster="countyreal", fixef_rm="singleton", data=u):
    rhs = "+".join([f"pre{h}" for h in leads] + list(covariates))
    fit = pf.feols(f"lemp ~ {rhs} | countyreal + year", data=data, vcov={"CRV1": cluster},
                   weights=weights, fixef_rm=fixef_rm, fixef_tol=1e-12)
    names = [f"pre{h}" for h in leads]
    b = fit.coef()[names].values
    idx = [list(fit.coef().index).index(n) for n in names]
    V = fit._vcov[np.ix_(idx, idx)]
    q = len(names)
    F = float(b @ np.linalg.solve(V, b) / q)
    G = int(min(fit._G))
    p = float(st.f.sf(F, q, G - 1))
    # pyfixest's own wald_test (F form when every coefficient is tested; with a covariate in
    # the model it switches to a chi2 form, so it is only recorded without covariates).
    wt = None
    if q == len(fit.coef()):
        w = fit.wald_test(R=np.eye(q))
        assert abs(w["statistic"] - F) < 1e-9 * F and abs(w["pvalue"] - p) < 1e-9, (w, F, p)
        wt = {"statistic": float(w["statistic"]), "pvalue": float(w["pvalue"])}
    return {
        "leads": [-h for h in leads], "covariates": list(covariates), "weights": weights,
        "cluster": cluster, "fixef_rm": fixef_rm, "n_obs": int(fit._N), "G": int(G),
        "coef": {str(-h): float(v) for h, v in zip(leads, b)},
        "se": {str(-h): float(np.sqrt(V[i, i])) for i, h in enumerate(leads)},
        "F": F, "df_num": q, "df_den": G - 1, "p_value": p,
        "pyfixest_wald_test": wt,
    }


out["pretrend_k3"] = case([1, 2, 3])
out["pretrend_k1"] = case([1])
out["pretrend_k2"] = case([1, 2])
# K = 4 on mpdta: the leads -1..-4 cover every untreated row of the treated cohorts, so they
# are collinear with the unit effects (pyfixest drops pre4); causalkit returns an error.
out["pretrend_k3_cov"] = case([1, 2, 3], covariates=["lpop_t"])
out["pretrend_k3_weighted"] = case([1, 2, 3], weights="w")
out["pretrend_k3_twoway"] = case([1, 2, 3], cluster="countyreal+year")

if dd is not None:
    im = dd.ImputationDiD(cluster="countyreal").fit(m, outcome="lemp", unit="countyreal", time="year",
                                                    first_treat="first_treat")
    t = im.pretrend_test(n_leads=3)
    same = case([2, 3, 4], fixef_rm="none")
    out["diff_diff_pretrend_test_n3"] = {
        "note": "diff-diff's convention (leads -2..-4, -1 as reference, singletons kept); not BJS Test 1 as in did_imputation",
        "f_stat": float(t["f_stat"]), "p_value": float(t["p_value"]), "df": int(t["df"]),
        "lead_coefficients": {str(k): float(v) for k, v in t["lead_coefficients"].items()},
        "pyfixest_same_convention": {"F": same["F"], "p_value": same["p_value"]},
    }

with open("reference/did_imputation.json", "w") as fh:
    json.dump(out, fh, indent=1, sort_keys=False)
print(json.dumps({k: (v.get("F"), v.get("p_value")) for k, v in out.items() if isinstance(v, dict) and "F" in v}))

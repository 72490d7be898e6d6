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

# --- Imputation estimator with one- and two-way clustered BJS variance (numpy) -------------
# BJS (2024) Theorem 3: tau_w = sum_it v_it Y_it; v = w1 on treated rows, v0 = -Z0 (Z0'Z0)^-1
# Z1'w1 on untreated rows (Z the unit and year dummies); residuals eps0 on untreated rows and
# tau_hat - tau_bar_{cohort,year} (tau_bar = sum v^2 tau / sum v^2 within the cell) on treated
# rows. One-way: sum_c (sum_{it in c} v eps)^2. Two-way (Cameron, Gelbach & Miller 2011
# applied to the same scores): S_A + S_B - S_{A x B}. Written out with explicit dummy matrices;
# the one-way number is asserted against diff-diff's ImputationDiD SE.
def imputation_numpy(df, clusters, horizons):
    d = df.reset_index(drop=True)
    treated = ((d.first_treat > 0) & (d.year >= d.first_treat)).values
    units = pd.Categorical(d.countyreal).codes
    years = pd.Categorical(d.year).codes
    nu, ny = units.max() + 1, years.max() + 1
    Z = np.zeros((len(d), nu + ny - 1))
    Z[np.arange(len(d)), units] = 1.0
    ok = years > 0
    Z[np.arange(len(d))[ok], nu + years[ok] - 1] = 1.0
    Z0, Z1 = Z[~treated], Z[treated]
    y = d.lemp.values
    beta, *_ = np.linalg.lstsq(Z0, y[~treated], rcond=None)
    eps0 = y[~treated] - Z0 @ beta
    tau = y[treated] - Z1 @ beta
    rel = (d.year - d.first_treat).values[treated]
    coh = d.first_treat.values[treated]
    yr = d.year.values[treated]
    res = {}
    for label, sel in [("ATT", np.ones(treated.sum(), bool))] + [(f"e={h}", rel == h) for h in horizons]:
        w1 = sel / sel.sum()
        est = float(w1 @ tau)
        v0 = -Z0 @ np.linalg.solve(Z0.T @ Z0, Z1.T @ w1)
        tbar = np.zeros_like(tau)
        for key in set(zip(coh[sel], yr[sel])):
            m = (coh == key[0]) & (yr == key[1]) & sel
            tbar[m] = (w1[m] ** 2 @ tau[m]) / (w1[m] ** 2).sum()
        score = np.zeros(len(d))
        score[~treated] = v0 * eps0
        score[treated] = w1 * (tau - tbar)
        def ssq(keys):
            return float(pd.Series(score).groupby(keys).sum().pow(2).sum())
        out = {"estimate": est}
        for name, cols in clusters.items():
            if len(cols) == 1:
                var = ssq(d[cols[0]].values)
            else:
                a, b = d[cols[0]].values, d[cols[1]].values
                ab = pd.Series(a).astype(str) + "_" + pd.Series(b).astype(str)
                var = ssq(a) + ssq(b) - ssq(ab.values)
            # A two-way variance can be negative; JSON has no NaN, so record null.
            out[name] = float(np.sqrt(var)) if var >= 0 else None
        res[label] = out
    return res


m["state"] = m.countyreal // 1000
imp = imputation_numpy(m, {"se_county": ["countyreal"], "se_county_year": ["countyreal", "year"],
                           "se_state": ["state"], "se_county_state": ["countyreal", "state"],
                           "se_state_year": ["state", "year"]},
                       horizons=[0, 1, 2, 3])
if dd is not None:
    ref_se = float(dd.ImputationDiD(cluster="countyreal").fit(
        m, outcome="lemp", unit="countyreal", time="year", first_treat="first_treat").overall_se)
    assert abs(imp["ATT"]["se_county"] / ref_se - 1) < 1e-8, (imp["ATT"], ref_se)
    imp["diff_diff_att_se_county"] = ref_se
out["imputation_clustered"] = {
    "source": "numpy re-derivation of BJS Theorem 3 with explicit unit/year dummies (see script)",
    "note": "se_county equals diff-diff 3.13 ImputationDiD(cluster='countyreal'); two-way = S_A + S_B - S_AxB",
    **imp,
}
with open("reference/did_imputation.json", "w") as fh:
    json.dump(out, fh, indent=1, sort_keys=False)
print(json.dumps(out["imputation_clustered"]["ATT"]))

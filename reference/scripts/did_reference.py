"""Reference numbers for causalkit-did (TWFE, event study, Sun-Abraham, imputation, wild
bootstrap), written to reference/did.json. Run from the repo root with the "panel" peer venv:

    ~/.cache/causalkit-peers/panel/bin/python reference/scripts/did_reference.py

Sources: pyfixest 0.60 (feols, CRV1/HC1, wildboottest, did2s), diff-diff 3.13 (ImputationDiD,
SunAbraham), numpy/scipy for delta-method aggregation and Wald tests written out explicitly.

Findings recorded here: the Sun-Abraham ATT on mpdta (never-treated control, ref -1,
count-weighted e >= 0 cells) is -0.0399513 (SE 0.0117963), identically from the pyfixest
saturated regression and from diff-diff's SunAbraham. The value -0.04771 quoted in
/work/shared/reference/did.md for "fixest sunab(att=TRUE)" is the Borusyak-Jaravel-Spiess
imputation ATT (diff-diff ImputationDiD: -0.0477099, SE 0.0132225), not Sun-Abraham.
pyfixest's wildboottest and did2s were not usable in this venv (missing optional package /
memory), so the wild bootstrap is validated against brute-force refits in Rust instead.
"""
import json
import sys

import numpy as np
import pandas as pd
import pyfixest as pf
import scipy
import scipy.stats as st

out = {"versions": {"pyfixest": pf.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
                    "pandas": pd.__version__}}
try:
    import diff_diff as dd
    out["versions"]["diff_diff"] = dd.__version__
except Exception:  # pragma: no cover
    dd = None

m = pd.read_csv("datasets/mpdta.csv").rename(columns={"first.treat": "first_treat"})
m["D"] = ((m.first_treat > 0) & (m.year >= m.first_treat)).astype(float)

# --- TWFE on mpdta -------------------------------------------------------------------
f = pf.feols("lemp ~ D | countyreal + year", data=m, vcov={"CRV1": "countyreal"})
f_hc1 = pf.feols("lemp ~ D | countyreal + year", data=m, vcov="hetero")
f_2w = pf.feols("lemp ~ D | countyreal + year", data=m, vcov={"CRV1": "countyreal+year"})
out["mpdta_twfe"] = {
    "coef": float(f.coef()["D"]), "se_crv1": float(f.se()["D"]), "se_hc1": float(f_hc1.se()["D"]),
    "se_twoway_county_year": float(f_2w.se()["D"]),
    "p_crv1": float(f.pvalue()["D"]), "ci_crv1": [float(v) for v in f.confint().loc["D"]],
}

# --- TWFE on Prop 99 -----------------------------------------------------------------
p = pd.read_csv("datasets/california_prop99.csv")
fp = pf.feols("PacksPerCapita ~ treated | State + Year", data=p, vcov={"CRV1": "State"})
out["prop99_twfe"] = {"coef": float(fp.coef()["treated"]), "se_crv1": float(fp.se()["treated"])}

# --- wild cluster restricted bootstrap (pyfixest -> wildboottest) ----------------------
try:
    wb = f.wildboottest(param="D", reps=9999, seed=123, weights_type="rademacher")
    wbw = f.wildboottest(param="D", reps=9999, seed=123, weights_type="webb")
    wbp = fp.wildboottest(param="treated", reps=9999, seed=123, weights_type="webb")
    out["wild_bootstrap"] = {
        "note": "pyfixest wildboottest (WCR, null imposed, symmetric p), 9999 reps",
        "mpdta_rademacher": {"t": float(wb["t value"]), "p": float(wb["Pr(>|t|)"])},
        "mpdta_webb": {"t": float(wbw["t value"]), "p": float(wbw["Pr(>|t|)"])},
        "prop99_webb": {"t": float(wbp["t value"]), "p": float(wbp["Pr(>|t|)"])},
    }
except Exception as e:  # pragma: no cover
    print("wildboottest unavailable:", e, file=sys.stderr)


def dummies(df, col, values, prefix):
    names = []
    for v in values:
        n = f"{prefix}{'m' if v < 0 else ''}{abs(v)}"
        df[n] = (df[col] == v).astype(float)
        names.append((v, n))
    return names


def wald(fit, names):
    b = fit.coef()[names].to_numpy()
    V = fit._vcov
    idx = [list(fit.coef().index).index(n) for n in names]
    Vs = V[np.ix_(idx, idx)]
    F = float(b @ np.linalg.solve(Vs, b) / len(b))
    df = fit._df_t if hasattr(fit, "_df_t") else None
    return F, df


# --- event study on mpdta, reference -1 --------------------------------------------------
m["rel"] = np.where(m.first_treat > 0, m.year - m.first_treat, -999)
ev = sorted(v for v in m.rel.unique() if v != -999 and v != -1)
names = dummies(m, "rel", ev, "e")
fe = pf.feols("lemp ~ " + "+".join(n for _, n in names) + " | countyreal + year", data=m,
              vcov={"CRV1": "countyreal"})
pre = [n for v, n in names if v < 0]
F, _ = wald(fe, pre)
G = m.countyreal.nunique()
out["mpdta_event_study"] = {
    "ref": -1,
    "coefs": {str(v): float(fe.coef()[n]) for v, n in names},
    "se": {str(v): float(fe.se()[n]) for v, n in names},
    "pretrend_F": F, "pretrend_q": len(pre), "pretrend_p": float(st.f.sf(F, len(pre), G - 1)),
}
# binned: leads 2, lags 2
m["relb"] = np.where(m.first_treat > 0, np.clip(m.year - m.first_treat, -2, 2), -999)
evb = sorted(v for v in m.relb.unique() if v != -999 and v != -1)
namesb = dummies(m, "relb", evb, "b")
fb = pf.feols("lemp ~ " + "+".join(n for _, n in namesb) + " | countyreal + year", data=m,
              vcov={"CRV1": "countyreal"})
out["mpdta_event_study_binned_2_2"] = {
    "coefs": {str(v): float(fb.coef()[n]) for v, n in namesb},
    "se": {str(v): float(fb.se()[n]) for v, n in namesb},
}

# --- Sun & Abraham: saturated cohort x relative-period regression + delta method ---------
cells = []
for g in sorted(m.first_treat[m.first_treat > 0].unique()):
    for e in sorted(m.rel[m.first_treat == g].unique()):
        if e == -1:
            continue
        n = f"c{g}_{'m' if e < 0 else ''}{abs(e)}"
        m[n] = ((m.first_treat == g) & (m.rel == e)).astype(float)
        cells.append((g, e, n))
fs = pf.feols("lemp ~ " + "+".join(c[2] for c in cells) + " | countyreal + year", data=m,
              vcov={"CRV1": "countyreal"})
b = fs.coef()[[c[2] for c in cells]].to_numpy()
V = fs._vcov
cnt = np.array([m[c[2]].sum() for c in cells])


def agg(mask):
    w = np.where(mask, cnt, 0.0)
    w = w / w.sum()
    est = float(w @ b)
    se = float(np.sqrt(w @ V @ w))
    return est, se


est, se = agg(np.array([c[1] >= 0 for c in cells]))
out["mpdta_sunab"] = {
    "note": "saturated cohort x relative-period dummies (ref -1, never-treated control), pyfixest CRV1 by county; ATT = count-weighted mean of e>=0 cells, delta-method SE (fixest aggregate / sunab(att=TRUE) convention); df G-1",
    "att": est, "att_se": se, "df": G - 1,
    "by_event_time": {str(e): dict(zip(("est", "se"), agg(np.array([c[1] == e for c in cells]))))
                      for e in sorted({c[1] for c in cells})},
    "cells": {f"{c[0]},{c[1]}": {"est": float(b[i]), "se": float(np.sqrt(V[i, i]))} for i, c in enumerate(cells)},
}
if dd is not None:
    try:
        sa = dd.SunAbraham(control_group="never_treated", cluster="countyreal").fit(
            m.assign(ft=m.first_treat), outcome="lemp", unit="countyreal", time="year", first_treat="ft")
        out["mpdta_sunab"]["diff_diff_overall"] = {"att": float(sa.overall_att), "se": float(sa.overall_se)}
    except Exception as e:  # pragma: no cover
        print("diff-diff SunAbraham failed:", e, file=sys.stderr)

# --- BJS imputation: diff-diff ImputationDiD (and pyfixest did2s point estimate) -----------
if dd is not None:
    im = dd.ImputationDiD(cluster="countyreal").fit(m, outcome="lemp", unit="countyreal", time="year",
                                                    first_treat="first_treat", aggregate="event_study")
    es = im.event_study_effects
    out["mpdta_imputation"] = {
        "source": "diff-diff 3.13 ImputationDiD (BJS Theorem 3 conservative variance, aux_partition cohort_horizon)",
        "att": float(im.overall_att), "att_se": float(im.overall_se),
        "by_event_time": {str(int(h)): {"est": float(v["effect"]), "se": float(v["se"])}
                          for h, v in es.items() if v.get("n_obs", 1) > 0 and np.isfinite(v["se"])},
    }
    # covariate version (lpop, time-invariant: absorbed -> use lpop * year trend)
    m["lpop_t"] = m.lpop * (m.year - 2003)
    imc = dd.ImputationDiD(cluster="countyreal").fit(m, outcome="lemp", unit="countyreal", time="year",
                                                     first_treat="first_treat", covariates=["lpop_t"])
    out["mpdta_imputation_cov"] = {"covariate": "lpop * (year - 2003)", "att": float(imc.overall_att),
                                   "att_se": float(imc.overall_se)}
try:
    d2 = pf.did2s(m.assign(D=m.D.astype(int)), yname="lemp", first_stage="~ 0 | countyreal + year",
                  second_stage="~ D", treatment="D", cluster="countyreal")
    out.setdefault("mpdta_imputation", {})["did2s_point"] = float(d2.coef()["D"])
except Exception as e:  # pragma: no cover
    print("did2s failed:", e, file=sys.stderr)

with open("reference/did.json", "w") as fh:
    json.dump(out, fh, indent=1, sort_keys=True)
print(json.dumps(out, indent=1)[:6000])

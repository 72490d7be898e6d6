"""Reference numbers for the model-error ranking (crates/attribution/src/errors.rs).

Run with the ab peer venv:
    ~/.cache/causalkit-peers/ab/bin/python reference/scripts/errors_reference.py
Writes reference/errors_contacts.csv (seeded simulated contacts with known cell penalties)
and reference/errors.json.

Data: 4,000 contacts, true intents billing/tech/sales/cancel, a text covariate `tier`
(bronze contacts are misrouted more often and have longer, less often resolved contacts:
confounding that the regression adjustment must remove) and a numeric `tenure`. A misrouted
contact (true i, predicted j != i) gets the known penalties below on handle time and FCR;
CSAT (surveyed for 40% of contacts, missing otherwise) falls with handle time.

Reference numbers (independent of causalkit):
- per true intent and KPI: statsmodels 0.15 OLS of the KPI on an intercept, one indicator
  per confusion cell with at least 30 contacts, tier dummies (bronze dropped) and tenure, on
  the contacts of that true intent that are correctly routed or in such a cell (rows with a
  missing KPI dropped for that KPI), HC1 standard errors (cov_type="HC1");
- the joint covariance of the cell coefficients across KPIs: the HC1 sandwich
  B_k (sum_r x_rk u_rk u_rl x_rl') B_l * sqrt(c_k c_l), c = n/(n-p), over the rows present
  for both KPIs, with numpy (its diagonal blocks equal statsmodels' HC1 matrices, checked);
- money: the value node total_cost = contacts*aht*cost_per_second
  + contacts*(1-fcr)*cost_per_unresolved evaluated with contacts = cell share x 2,400,000 at
  the cell's mean KPI levels minus (without the fix) and with the coefficients removed; the
  saving = without - with; fix_top_k sums and their delta-method SEs from the joint
  covariance; per-intent value of one accuracy point.
"""
import json
import os

import numpy as np
import pandas as pd
import statsmodels
import statsmodels.api as sm

root = os.path.join(os.path.dirname(__file__), "..", "..")
rng = np.random.default_rng(20251203)
n = 4000
intents = ["billing", "tech", "sales", "cancel"]
share = [0.42, 0.33, 0.20, 0.05]
base_aht = {"billing": 300.0, "tech": 420.0, "sales": 260.0, "cancel": 350.0}
base_fcr = {"billing": 0.80, "tech": 0.70, "sales": 0.85, "cancel": 0.75}
# Known cell penalties (misrouted minus correctly routed, same contact): seconds, FCR points.
pen_aht = {("billing", "tech"): 120.0, ("billing", "sales"): 60.0, ("tech", "billing"): 200.0,
           ("tech", "sales"): 90.0, ("sales", "billing"): 40.0, ("sales", "tech"): 150.0,
           ("cancel", "billing"): 80.0, ("cancel", "tech"): 80.0}
pen_fcr = {("billing", "tech"): 0.10, ("billing", "sales"): 0.05, ("tech", "billing"): 0.15,
           ("tech", "sales"): 0.08, ("sales", "billing"): 0.03, ("sales", "tech"): 0.12,
           ("cancel", "billing"): 0.05, ("cancel", "tech"): 0.05}
# Misroute probabilities to each other intent (bronze x1.6).
mis = {"billing": {"tech": 0.10, "sales": 0.06}, "tech": {"billing": 0.12, "sales": 0.07},
       "sales": {"billing": 0.08, "tech": 0.10}, "cancel": {"billing": 0.06, "tech": 0.04}}

true = rng.choice(intents, size=n, p=share)
tier = rng.choice(["gold", "silver", "bronze"], size=n, p=[0.2, 0.3, 0.5])
tenure = np.round(rng.uniform(0, 10, size=n), 2)
pred = []
for t, tr in zip(true, tier):
    m = 1.6 if tr == "bronze" else 1.0
    others = list(mis[t].keys())
    p = [mis[t][o] * m for o in others]
    u = rng.uniform()
    c = np.cumsum(p)
    j = int(np.searchsorted(c, u, side="right"))
    pred.append(others[j] if j < len(others) else t)
pred = np.array(pred)
bronze = (tier == "bronze").astype(float)
d_aht = np.array([pen_aht.get((t, p), 0.0) for t, p in zip(true, pred)])
d_fcr = np.array([pen_fcr.get((t, p), 0.0) for t, p in zip(true, pred)])
aht = np.array([base_aht[t] for t in true]) + 40 * bronze - 3 * tenure + d_aht + rng.normal(0, 90, n)
aht = np.round(np.maximum(aht, 30.0), 1)
pf = np.array([base_fcr[t] for t in true]) - 0.08 * bronze - d_fcr
fcr = (rng.uniform(size=n) < pf).astype(int)
csat_latent = 4.2 - 0.004 * (aht - 300) + 0.5 * (fcr - 0.8) + rng.normal(0, 0.8, n)
csat = np.clip(np.round(csat_latent), 1, 5)
surveyed = rng.uniform(size=n) < 0.4
df = pd.DataFrame({"contact_id": np.arange(1, n + 1), "true_intent": true, "predicted_intent": pred,
                   "tier": tier, "tenure": tenure, "handle_seconds": aht, "fcr": fcr,
                   "csat": np.where(surveyed, csat, np.nan)})
df.to_csv(os.path.join(root, "reference", "errors_contacts.csv"), index=False, float_format="%.10g")
df = pd.read_csv(os.path.join(root, "reference", "errors_contacts.csv"))

kpis = [("aht", "handle_seconds"), ("fcr", "fcr"), ("csat", "csat")]
min_contacts = 30
volume = 2_400_000.0
cps, cpu = 0.0125, 6.0
N = len(df)

cells = []  # (truth, pred, n)
skipped = []
blocks = {}  # truth -> dict with coef, cov (stacked over kpis)
for t in intents:
    sub = df[df.true_intent == t]
    counts = sub[sub.predicted_intent != t].predicted_intent.value_counts()
    elig = sorted([p for p, c in counts.items() if c >= min_contacts])
    for p, c in counts.items():
        if c < min_contacts:
            skipped.append({"true": t, "predicted": p, "contacts": int(c)})
    if not elig:
        continue
    rows = sub[(sub.predicted_intent == t) | sub.predicted_intent.isin(elig)]
    X = pd.DataFrame({"const": 1.0}, index=rows.index)
    for p in elig:
        X[f"error:{t}->{p}"] = (rows.predicted_intent == p).astype(float)
    for lev in ["gold", "silver"]:
        X[f"tier={lev}"] = (rows.tier == lev).astype(float)
    X["tenure"] = rows.tenure
    fits = {}
    for name, col in kpis:
        y = rows[col]
        ok = y.notna()
        f = sm.OLS(y[ok].to_numpy(float), X[ok].to_numpy(float)).fit(cov_type="HC1")
        fits[name] = (f, ok.to_numpy())
    Xa = X.to_numpy(float)
    p_ = Xa.shape[1]
    idx = [1 + i for i in range(len(elig))]
    res = {}
    for name, _ in kpis:
        f, ok = fits[name]
        u = np.zeros(len(rows))
        u[ok] = f.resid
        Xk = Xa[ok]
        B = np.linalg.inv(Xk.T @ Xk)
        res[name] = (B, u, ok, len(Xk) / (len(Xk) - p_))
    cov = {}
    for a, _ in kpis:
        for b, _ in kpis:
            Ba, ua, oka, ca = res[a]
            Bb, ub, okb, cb = res[b]
            both = oka & okb
            meat = (Xa[both] * (ua[both] * ub[both])[:, None]).T @ Xa[both]
            # B_k is over the KPI's own rows; scores are zero outside them.
            V = Ba @ meat @ Bb * np.sqrt(ca * cb)
            cov[f"{a}|{b}"] = V[np.ix_(idx, idx)].tolist()
            if a == b:
                assert np.allclose(V, fits[a][0].cov_params(), rtol=1e-10, atol=1e-12)
    block = {"cells": elig, "correct": int((rows.predicted_intent == t).sum()), "contacts": int(len(sub)),
             "n_by_kpi": {k: int(fits[k][1].sum()) for k, _ in kpis},
             "coef": {k: [float(fits[k][0].params[i]) for i in idx] for k, _ in kpis},
             "se": {k: [float(fits[k][0].bse[i]) for i in idx] for k, _ in kpis},
             "cov": cov}
    blocks[t] = block
    for j, p in enumerate(elig):
        cm = rows[rows.predicted_intent == p]
        cells.append({"true": t, "predicted": p, "contacts": int(len(cm)),
                      "mean": {k: float(cm[c].mean()) for k, c in kpis},
                      "beta": {k: block["coef"][k][j] for k, _ in kpis},
                      "true_penalty": {"aht": pen_aht[(t, p)], "fcr": -pen_fcr[(t, p)]},
                      "balance_smd": {}})
        # Covariate balance: SMD of each regressor column, cell vs correct.
        corr = rows[rows.predicted_intent == t]
        for lev in ["gold", "silver", "bronze"]:
            a_ = (cm.tier == lev).astype(float)
            b_ = (corr.tier == lev).astype(float)
            cells[-1]["balance_smd"][f"tier={lev}"] = float((a_.mean() - b_.mean()) / np.sqrt((a_.var(ddof=1) + b_.var(ddof=1)) / 2))
        a_, b_ = cm.tenure, corr.tenure
        cells[-1]["balance_smd"]["tenure"] = float((a_.mean() - b_.mean()) / np.sqrt((a_.var(ddof=1) + b_.var(ddof=1)) / 2))


def total_cost(contacts, aht, fcr):
    return contacts * aht * cps + contacts * (1 - fcr) * cpu


# Money per cell: saving = node(without fix) - node(with fix); gradient w.r.t. beta.
for c in cells:
    vol = c["contacts"] / N * volume
    m = c["mean"]
    b = c["beta"]
    without = total_cost(vol, m["aht"], m["fcr"])
    with_ = total_cost(vol, m["aht"] - b["aht"], m["fcr"] - b["fcr"])
    c["volume"] = vol
    c["saving"] = without - with_
    # d saving / d beta = d with/d effect (effect = -beta): saving = without - with(m - beta)
    c["grad"] = {"aht": vol * cps, "fcr": -vol * cpu, "csat": 0.0}

order = sorted(range(len(cells)), key=lambda i: -cells[i]["saving"])
K = [k for k, _ in kpis]


def cov_between(ci, cj):
    a, b = cells[ci], cells[cj]
    if a["true"] != b["true"]:
        return np.zeros((3, 3))
    blk = blocks[a["true"]]
    ia, ib = blk["cells"].index(a["predicted"]), blk["cells"].index(b["predicted"])
    return np.array([[blk["cov"][f"{k}|{l}"][ia][ib] for l in K] for k in K])


for c in range(len(cells)):
    g = np.array([cells[c]["grad"][k] for k in K])
    cells[c]["saving_se"] = float(np.sqrt(g @ cov_between(c, c) @ g))

fix = []
for k in range(1, 4):
    top = order[:k]
    est = sum(cells[i]["saving"] for i in top)
    var = 0.0
    for i in top:
        for j in top:
            gi = np.array([cells[i]["grad"][q] for q in K])
            gj = np.array([cells[j]["grad"][q] for q in K])
            var += gi @ cov_between(i, j) @ gj
    fix.append({"k": k, "estimate": float(est), "std_error": float(np.sqrt(var)),
                "cells": [f"{cells[i]['true']}->{cells[i]['predicted']}" for i in top]})

point = []
for t in blocks:
    members = [i for i, c in enumerate(cells) if c["true"] == t]
    n_err = sum(cells[i]["contacts"] for i in members)
    scale = 0.01 * blocks[t]["contacts"] / n_err
    est = scale * sum(cells[i]["saving"] for i in members)
    var = 0.0
    for i in members:
        for j in members:
            gi = np.array([cells[i]["grad"][q] for q in K])
            gj = np.array([cells[j]["grad"][q] for q in K])
            var += gi @ cov_between(i, j) @ gj
    point.append({"true": t, "estimate": float(est), "std_error": float(scale * np.sqrt(var))})

out = {
    "versions": {"numpy": np.__version__, "pandas": pd.__version__, "statsmodels": statsmodels.__version__},
    "data": "reference/errors_contacts.csv",
    "contacts": N,
    "min_contacts": min_contacts,
    "value": {"contacts": volume, "cost_per_second": cps, "cost_per_unresolved": cpu},
    "blocks": blocks,
    "cells": cells,
    "order": [f"{cells[i]['true']}->{cells[i]['predicted']}" for i in order],
    "skipped": skipped,
    "fix_top_k": fix,
    "accuracy_point": point,
}
with open(os.path.join(root, "reference", "errors.json"), "w") as f:
    json.dump(out, f, indent=1)
print(json.dumps({k: out[k] for k in ["order", "skipped", "fix_top_k", "accuracy_point"]}, indent=1))
for c in cells:
    print(c["true"], c["predicted"], c["contacts"], round(c["beta"]["aht"], 1), c["true_penalty"]["aht"],
          round(c["beta"]["fcr"], 3), c["true_penalty"]["fcr"], round(c["saving"]), round(c["saving_se"]))

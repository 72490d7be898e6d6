"""Reference numbers for the randomised design of the attribution crate
(crates/attribution/src/randomised.rs): KPI effects (difference in means, CUPED-adjusted with
the pooled slope when a covariate is given) and the joint covariance of the effects from
per-unit influence functions, re-derived with pandas/numpy from the bundled A/B rows
(datasets/contact-centre/ab_contacts.csv).

Influence functions per arm: y - mean (mean, proportion), (m - R d) / mean(d) (ratio of sums),
minus theta * (x - mean_arm(x)) with CUPED, theta = Cov(psi_pooled, x) / Var(x) over both
arms. Cov(effect_j, effect_k) = sum over arms of sum_{units in both} u_j u_k /
sqrt(n_j (n_j - 1) n_k (n_k - 1)); for a proportion the diagonal uses p(1 - p)/n per arm
(the engine's convention). Rows with a missing value in a KPI's columns are dropped for that
KPI only.

A third case ("units_cuped") uses seeded rows written to reference/attribution_units.csv:
customers randomised with one to four contacts each, rows summed per customer (--unit), so
both KPIs are ratios of sums over customers, with CUPED on the customer's mean pre-period
handle time (the data layer averages a unit's covariate rows).

Run: ~/.cache/causalkit-peers/ab/bin/python reference/scripts/attribution_randomised_reference.py
Writes reference/attribution_randomised.json.
"""
import json
import pathlib

import numpy as np
import pandas as pd

root = pathlib.Path(__file__).resolve().parents[2]
df = pd.read_csv(root / "datasets/contact-centre/ab_contacts.csv")
df = df[df["arm"].isin(["control", "treatment"])]


def kpi_rows(kind, cols):
    """Per-row numerator and denominator of a KPI (rows with a missing input dropped)."""
    sub = df.dropna(subset=[c for c in cols if isinstance(c, str)])
    if kind == "mean":
        return sub, sub[cols[0]].astype(float), pd.Series(1.0, index=sub.index), False
    if kind == "proportion":
        return sub, sub[cols[0]].astype(float), pd.Series(1.0, index=sub.index), True
    if kind == "topbox":
        return sub, (sub[cols[0]] >= cols[1]).astype(float), pd.Series(1.0, index=sub.index), True
    if kind == "ratio":
        return sub, sub[cols[0]].astype(float), sub[cols[1]].astype(float), False
    raise ValueError(kind)


def analyse(kpis, covariate):
    effects, infl = [], []
    for name, kind, cols in kpis:
        need = [c for c in cols if isinstance(c, str)] + ([covariate] if covariate else [])
        sub = df.dropna(subset=need)
        _, m, d, prop = kpi_rows(kind, [c for c in cols])
        m, d = m.loc[sub.index], d.loc[sub.index]
        arm = sub["arm"]
        x = sub[covariate].astype(float) if covariate else None
        theta = 0.0
        if covariate:
            mu_d, r = d.mean(), m.sum() / d.sum()
            psi = m / mu_d - r / mu_d * d
            theta = np.cov(psi, x, ddof=1)[0, 1] / x.var(ddof=1)
            xbar_all = x.mean()
        means, per_arm = {}, {}
        for a in ["control", "treatment"]:
            idx = arm == a
            ma, da = m[idx], d[idx]
            n = len(ma)
            unit_den = np.isclose(da, 1.0).all()
            r = ma.sum() / da.sum()
            mu_d = da.mean() if not unit_den else 1.0
            u = (ma - r * da) / mu_d
            est = r
            if covariate:
                xa = x[idx]
                u = u - theta * (xa - xa.mean())
                est = r - theta * (xa.mean() - xbar_all)
            corr = r * (1 - r) / ((n - 1) * n) if (prop and unit_den) else 0.0
            means[a] = est
            per_arm[a] = (u, n, corr)
        effects.append(means["treatment"] - means["control"])
        infl.append(per_arm)
    k = len(kpis)
    cov = np.zeros((k, k))
    for a in ["control", "treatment"]:
        for j in range(k):
            for l in range(k):
                uj, nj, cj = infl[j][a]
                ul, nl, _ = infl[l][a]
                common = uj.index.intersection(ul.index)
                s = float((uj.loc[common] * ul.loc[common]).sum())
                c = s / np.sqrt(nj * (nj - 1) * nl * (nl - 1))
                if j == l:
                    c -= cj
                cov[j, l] += c
    return {
        "kpis": [n for n, _, _ in kpis],
        "effects": effects,
        "covariance": cov.tolist(),
    }


cases = {
    "cuped": analyse(
        [
            ("aht", "mean", ["handle_seconds"]),
            ("fcr", "proportion", ["fcr"]),
            ("csat", "mean", ["csat"]),
        ],
        "pre_handle_seconds",
    ),
    "plain": analyse(
        [
            ("aht", "mean", ["handle_seconds"]),
            ("fcr", "proportion", ["fcr"]),
            ("seconds_per_resolved", "ratio", ["handle_seconds", "fcr"]),
            ("csat_top2", "topbox", ["csat", 4]),
        ],
        None,
    ),
}
# Unit-level case: customers randomised, several contacts each; rows are summed per customer
# (numerator, denominator = contact count; the covariate is averaged), so every KPI is a ratio of sums over
# customers. The rows are generated here (seeded) and stored next to the JSON.
rng = np.random.default_rng(20261204)
rows = []
for c in range(400):
    arm = "treatment" if rng.random() < 0.5 else "control"
    level = rng.normal(420, 60)
    for _ in range(rng.integers(1, 5)):
        pre = level + rng.normal(0, 80)
        hs = level + rng.normal(0, 90) - (20 if arm == "treatment" else 0)
        fcr = int(rng.random() < (0.7 if arm == "treatment" else 0.65))
        rows.append((f"cust_{c:03d}", arm, round(hs, 1), fcr, round(pre, 1)))
units_df = pd.DataFrame(rows, columns=["customer", "arm", "handle_seconds", "fcr", "pre_handle_seconds"])
units_df.to_csv(root / "reference/attribution_units.csv", index=False)


def analyse_units(kpis, covariate):
    g = units_df.groupby("customer")
    arm = g["arm"].first()
    # The data layer's unit covariate is the mean of the unit's rows (the KPI parts are sums).
    x = g[covariate].mean() if covariate else None
    effects, infl = [], []
    for name, col in kpis:
        m = g[col].sum()
        d = g.size().astype(float)
        theta = 0.0
        if covariate:
            mu_d, r = d.mean(), m.sum() / d.sum()
            psi = m / mu_d - r / mu_d * d
            theta = np.cov(psi, x, ddof=1)[0, 1] / x.var(ddof=1)
        means, per_arm = {}, {}
        for a in ["control", "treatment"]:
            idx = arm == a
            ma, da = m[idx], d[idx]
            n = len(ma)
            r = ma.sum() / da.sum()
            u = (ma - r * da) / da.mean()
            est = r
            if covariate:
                xa = x[idx]
                u = u - theta * (xa - xa.mean())
                est = r - theta * (xa.mean() - x.mean())
            means[a] = est
            per_arm[a] = (u, n)
        effects.append(means["treatment"] - means["control"])
        infl.append(per_arm)
    k = len(kpis)
    cov = np.zeros((k, k))
    for a in ["control", "treatment"]:
        for j in range(k):
            for l in range(k):
                uj, nj = infl[j][a]
                ul, nl = infl[l][a]
                cov[j, l] += float((uj * ul).sum()) / np.sqrt(nj * (nj - 1) * nl * (nl - 1))
    return {"kpis": [n for n, _ in kpis], "effects": effects, "covariance": cov.tolist()}


cases["units_cuped"] = analyse_units([("aht", "handle_seconds"), ("fcr", "fcr")], "pre_handle_seconds")

out = {
    "source": "pandas 1.5 / numpy 1.26 re-derivation, reference/scripts/attribution_randomised_reference.py",
    "data": "datasets/contact-centre/ab_contacts.csv",
    "cases": cases,
}
path = root / "reference/attribution_randomised.json"
path.write_text(json.dumps(out, indent=1) + "\n")
for name, c in cases.items():
    print(name, c["effects"])
    print(np.array(c["covariance"]))

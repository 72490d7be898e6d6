"""Reference numbers for the attribution decomposition (crates/attribution/src/decompose.rs)
on the bundled contact-centre A/B data.

Run with the ab peer venv:
    ~/.cache/causalkit-peers/ab/bin/python reference/scripts/decompose_reference.py
Writes reference/decompose.json.

Independent re-derivation with numpy/pandas:
- units: rows, or (arm, customer_id) groups via pandas groupby (sums of numerator and
  denominator per unit and segment);
- parts: written directly from the formulas, ln(N1/N0) - ln(D1/D0) for the log split and
  Kitagawa (1955) rate = sum(wbar * dr), mix = sum(rbar * dw);
- standard errors: delta method with the gradient taken by complex-step differentiation
  (f'(x) = Im f(x + i h) / h, h = 1e-30, exact to rounding), not the analytic gradients of
  the Rust code, and np.cov (ddof 1) of the unit vectors per arm.
"""
import json
import os

import numpy as np
import pandas as pd

root = os.path.join(os.path.dirname(__file__), "..", "..")
df = pd.read_csv(os.path.join(root, "datasets", "contact-centre", "ab_contacts.csv"))


def unit_matrix(d, value, den, segment, unit):
    """One row per unit: numerator sums per segment, then denominator sums per segment."""
    d = d.copy()
    d["_num"] = value
    d["_den"] = den
    segs = sorted(d[segment].unique()) if segment else ["all"]
    d["_seg"] = d[segment] if segment else "all"
    if unit is None:
        d["_unit"] = np.arange(len(d))
    else:
        d["_unit"] = d[unit].astype(str)
    num = d.pivot_table(index="_unit", columns="_seg", values="_num", aggfunc="sum", fill_value=0.0)
    dd = d.pivot_table(index="_unit", columns="_seg", values="_den", aggfunc="sum", fill_value=0.0)
    num = num.reindex(columns=segs, fill_value=0.0)
    dd = dd.reindex(columns=segs, fill_value=0.0)
    return np.hstack([num.to_numpy(float), dd.to_numpy(float)]), segs


def parts(z0, z1, s, segmented):
    """Every part as a function of the two mean vectors (complex-safe)."""
    n0, n1 = z0[:s].sum(), z1[:s].sum()
    d0, d1 = z0[s:].sum(), z1[s:].sum()
    out = [n1 / d1 - n0 / d0]
    names = ["total"]
    out += [np.log(n1 / d1) - np.log(n0 / d0), np.log(n1) - np.log(n0), np.log(d1) - np.log(d0)]
    names += ["log_total", "log_numerator", "log_denominator"]
    if segmented:
        w0, w1 = z0[s:] / d0, z1[s:] / d1
        r0, r1 = z0[:s] / z0[s:], z1[:s] / z1[s:]
        rate_s = 0.5 * (w0 + w1) * (r1 - r0)
        mix_s = 0.5 * (r0 + r1) * (w1 - w0)
        out += [rate_s.sum(), mix_s.sum()]
        names += ["rate", "mix"]
        for i in range(s):
            out += [rate_s[i], mix_s[i]]
            names += [f"rate:{i}", f"mix:{i}"]
    return np.array(out), names


def case(name, d, value, den, segment, unit):
    arm = d["arm"].to_numpy()
    mats = []
    for a in ["control", "treatment"]:
        m = arm == a
        z, segs = unit_matrix(d[m], value[m], den[m], segment, unit)
        mats.append(z)
    _, segs = unit_matrix(d, value, den, segment, unit)
    s = len(segs)
    means = [m.mean(axis=0) for m in mats]
    covs = [np.cov(m, rowvar=False, ddof=1) for m in mats]
    vals, names = parts(means[0], means[1], s, segment is not None)
    h = 1e-30
    var = np.zeros(len(vals))
    for a in range(2):
        grad = np.zeros((len(vals), 2 * s))
        for j in range(2 * s):
            zc = [means[0].astype(complex), means[1].astype(complex)]
            zc[a][j] += 1j * h
            grad[:, j] = parts(zc[0], zc[1], s, segment is not None)[0].imag / h
        var += np.einsum("kj,jl,kl->k", grad, covs[a], grad) / mats[a].shape[0]
    se = np.sqrt(np.maximum(var, 0.0))
    return {
        "name": name,
        "segments": segs,
        "units": [int(mats[0].shape[0]), int(mats[1].shape[0])],
        "parts": {n: {"estimate": float(v), "std_error": float(e)} for n, v, e in zip(names, vals, se)},
    }


cases = []
hs = df["handle_seconds"].to_numpy(float)
ones = np.ones(len(df))
cases.append(case("aht_by_intent_rows", df, hs, ones, "intent", None))
d2 = df.copy()
d2["customer_arm"] = d2["customer_id"] + "|" + d2["arm"]
cases.append(case("aht_by_intent_customer_units", d2, hs, ones, "intent", "customer_arm"))
surveyed = df["csat"].notna().to_numpy()
d3 = df[surveyed]
cases.append(case("csat_by_queue_rows", d3, d3["csat"].to_numpy(float), np.ones(len(d3)), "queue", None))
cases.append(case("fcr_no_segment", df, df["fcr"].to_numpy(float), ones, None, None))

out = {
    "versions": {"numpy": np.__version__, "pandas": pd.__version__},
    "data": "datasets/contact-centre/ab_contacts.csv",
    "method": "complex-step delta method, np.cov ddof=1; parts written from the formulas",
    "csat_rows_dropped": int((~surveyed).sum()),
    "cases": cases,
}
with open(os.path.join(root, "reference", "decompose.json"), "w") as f:
    json.dump(out, f, indent=1)
print(json.dumps(out, indent=1)[:3000])

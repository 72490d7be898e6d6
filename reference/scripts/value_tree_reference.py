"""Reference numbers for the attribution value tree (crates/attribution/src/value.rs).

Independent re-derivation in numpy 1.26 of: the exact change of every value node
(node(baseline + effect) - node(baseline)), the delta-method standard error with gradients
written out by hand (not by automatic differentiation), a 2,000,000-draw Monte Carlo of the
change under effect ~ N(estimate, covariance) (percentiles and SD), and the percentile
interval of 200 given joint replicates pushed through the tree.

Run: ~/.cache/causalkit-peers/ab/bin/python reference/scripts/value_tree_reference.py
Writes reference/value_tree.json.
"""
import json
import pathlib

import numpy as np

kpis = ["aht", "fcr", "csat"]
baseline = np.array([420.0, 0.71, 4.1])
effect = np.array([-12.0, 0.03, 0.05])
se = np.array([3.0, 0.008, 0.02])
corr = np.array([[1.0, -0.4, 0.2], [-0.4, 1.0, 0.3], [0.2, 0.3, 1.0]])
cov = corr * np.outer(se, se)
const = {"contacts": 2400000.0, "cost_per_second": 0.0125, "cost_per_unresolved": 6.0}
alpha = 0.05

# Nodes as written in the test's spec.
nodes = [
    ("handle_cost", "contacts * aht * cost_per_second"),
    ("followup_cost", "contacts * (1 - fcr) * cost_per_unresolved"),
    ("total_cost", "handle_cost + followup_cost"),
    ("resolved_minutes", "contacts * fcr * aht / 60"),
    ("cost_per_resolved", "total_cost / (contacts * fcr)"),
    ("csat_penalty", "-(5 - csat) * 2 * contacts / 1e3"),
]


def values(x):
    """Node values at KPI levels x (columns aht, fcr, csat; x may be (n, 3))."""
    x = np.atleast_2d(x)
    aht, fcr, csat = x[:, 0], x[:, 1], x[:, 2]
    c = const["contacts"]
    h = c * aht * const["cost_per_second"]
    f = c * (1 - fcr) * const["cost_per_unresolved"]
    t = h + f
    r = c * fcr * aht / 60
    cpr = t / (c * fcr)
    p = -(5 - csat) * 2 * c / 1e3
    return np.stack([h, f, t, r, cpr, p], axis=1)


def gradients(x):
    """Hand-written gradients d node / d (aht, fcr, csat) at levels x."""
    aht, fcr, csat = x
    c = const["contacts"]
    cps, cpu = const["cost_per_second"], const["cost_per_unresolved"]
    gh = np.array([c * cps, 0.0, 0.0])
    gf = np.array([0.0, -c * cpu, 0.0])
    gt = gh + gf
    gr = np.array([c * fcr / 60, c * aht / 60, 0.0])
    t = c * aht * cps + c * (1 - fcr) * cpu
    # cpr = t / (c fcr): d/daht = c cps / (c fcr); d/dfcr = (-c cpu * c fcr - t c) / (c fcr)^2
    gcpr = np.array([cps / fcr, (-c * cpu * c * fcr - t * c) / (c * fcr) ** 2, 0.0])
    gp = np.array([0.0, 0.0, 2 * c / 1e3])
    return np.stack([gh, gf, gt, gr, gcpr, gp])


without = values(baseline)[0]
with_ = values(baseline + effect)[0]
change = with_ - without
G = gradients(baseline + effect)
delta_se = np.sqrt(np.einsum("ij,jk,ik->i", G, cov, G))

rng = np.random.default_rng(20261203)
draws = rng.multivariate_normal(effect, cov, size=2_000_000, method="cholesky")
mc = values(baseline + draws) - without
mc_lo = np.percentile(mc, 100 * alpha / 2, axis=0)
mc_hi = np.percentile(mc, 100 * (1 - alpha / 2), axis=0)
mc_sd = mc.std(axis=0, ddof=1)
mc_mean = mc.mean(axis=0)

reps = rng.multivariate_normal(effect, cov, size=200, method="cholesky")
rep_change = values(baseline + reps) - without
rep_lo = np.percentile(rep_change, 100 * alpha / 2, axis=0)  # numpy default: linear (type 7)
rep_hi = np.percentile(rep_change, 100 * (1 - alpha / 2), axis=0)

out = {
    "source": "numpy 1.26 re-derivation, reference/scripts/value_tree_reference.py",
    "kpis": kpis,
    "baseline": baseline.tolist(),
    "effect": effect.tolist(),
    "covariance": cov.tolist(),
    "constants": const,
    "alpha": alpha,
    "nodes": [{"name": n, "expr": e} for n, e in nodes],
    "without": without.tolist(),
    "with": with_.tolist(),
    "change": change.tolist(),
    "gradient": G.tolist(),
    "delta_se": delta_se.tolist(),
    "mc_draws": 2_000_000,
    "mc_mean": mc_mean.tolist(),
    "mc_sd": mc_sd.tolist(),
    "mc_ci_low": mc_lo.tolist(),
    "mc_ci_high": mc_hi.tolist(),
    "replicates": reps.tolist(),
    "replicates_ci_low": rep_lo.tolist(),
    "replicates_ci_high": rep_hi.tolist(),
}
path = pathlib.Path(__file__).resolve().parents[1] / "value_tree.json"
path.write_text(json.dumps(out, indent=1) + "\n")
print("wrote", path)
for n, c, s, sd in zip([n for n, _ in nodes], change, delta_se, mc_sd):
    print(f"{n:18s} change {c: .6g}  delta se {s:.6g}  mc sd {sd:.6g}")

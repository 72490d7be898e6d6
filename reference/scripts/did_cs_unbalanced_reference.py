"""Reference numbers for Callaway & Sant'Anna (2021) on an UNBALANCED panel with R did's
allow_unbalanced_panel = TRUE behaviour, written to reference/did_cs_unbalanced.json. Run from
the repo root with the "panel" peer venv:

    ~/.cache/causalkit-peers/panel/bin/python reference/scripts/did_cs_unbalanced_reference.py

Data: datasets/mpdta.csv with every 7th row removed (0-based rows 6, 13, 20, ...: a fixed,
seed-free rule), which leaves 357 of the 500 counties with a missing year.

Peer: csdid 0.4.3 (Python port of R did 2.x) ATTgt(..., panel=True,
allow_unbalanced_panel=True).fit(bstrap=False): each ATT(g,t) is the repeated-cross-section
2x2 estimator (DRDID reg_did_rc / std_ipw_did_rc / drdid_rc) on the rows of periods t and base
of the cohort and its comparison group, its influence function scaled by n/n1 (n units, n1
rows) and summed within each unit; analytic SEs sqrt(sum psi_i^2)/n over units; aggte with
per-unit mean weights. Cross-check: diff-diff 3.13 CallawaySantAnna(allow_unbalanced_panel=True)
on the same data (recorded where it ran).
"""
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import csdid
from csdid.att_gt import ATTgt

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[2]
mpdta = pd.read_csv(ROOT / "datasets" / "mpdta.csv")
unb = mpdta[np.arange(len(mpdta)) % 7 != 6].reset_index(drop=True)
unb = unb.assign(state=unb["countyreal"] // 1000)


def num(x):
    x = float(x)
    return None if not np.isfinite(x) else x


def run(est_method="reg", control_group="nevertreated", xformla=None, cluster=None):
    kw = dict(yname="lemp", tname="year", idname="countyreal", gname="first.treat", data=unb.copy(),
              control_group=control_group, panel=True, allow_unbalanced_panel=True)
    if xformla is not None:
        kw["xformla"] = xformla
    if cluster is not None:
        kw["clustervar"] = cluster
    m = ATTgt(**kw).fit(est_method=est_method, bstrap=False)
    r = m.results
    out = {
        "spec": dict(est_method=est_method, control_group=control_group, xformla=xformla, cluster=cluster),
        "n": int(m.MP["n"]) if "n" in m.MP else None,
        "group": [int(g) for g in r["group"]], "time": [int(t) for t in r["year"]],
        "att": [num(a) for a in r["att"]], "se": [num(s) for s in r["se"]],
        "W": num(m.MP["W"]) if m.MP.get("W") is not None else None,
        "Wpval": num(m.MP["Wpval"]) if m.MP.get("Wpval") is not None else None,
    }
    agg = {}
    for typec in ["simple", "dynamic", "group", "calendar"]:
        m.aggte(typec=typec, bstrap=False)
        a = m.atte
        e = {"overall_att": num(a["overall_att"]), "overall_se": num(a["overall_se"])}
        if a.get("egt") is not None:
            e["egt"] = [int(v) for v in np.atleast_1d(a["egt"])]
            e["att_egt"] = [num(v) for v in np.atleast_1d(a["att_egt"])]
            e["se_egt"] = [num(v) for v in np.atleast_1d(a["se_egt"])]
        agg[typec] = e
    out["aggte"] = agg
    return out


out = {
    "source": "csdid 0.4.3 ATTgt(allow_unbalanced_panel=True), analytic SEs "
              "(reference/scripts/did_cs_unbalanced_reference.py)",
    "versions": {"csdid": getattr(csdid, "__version__", "0.4.3"), "numpy": np.__version__,
                 "pandas": pd.__version__, "python": sys.version.split()[0]},
    "data": "datasets/mpdta.csv without rows i % 7 == 6 (0-based)",
    "n_rows": int(len(unb)), "n_units": int(unb.countyreal.nunique()),
    "n_units_incomplete": int((unb.groupby("countyreal").size() < 5).sum()),
    "specs": {
        "reg_never": run("reg"),
        "dr_never": run("dr"),
        "dr_lpop": run("dr", xformla="lemp~lpop"),
        "ipw_lpop": run("ipw", xformla="lemp~lpop"),
        "reg_lpop_notyet": run("reg", control_group="notyettreated", xformla="lemp~lpop"),
        "dr_notyet": run("dr", control_group="notyettreated"),
        "reg_cluster_state": run("reg", cluster="state"),
    },
}

try:
    import diff_diff as dd
    out["versions"]["diff_diff"] = dd.__version__
    cs = dd.CallawaySantAnna(control_group="never_treated", estimation_method="reg",
                             allow_unbalanced_panel=True)
    res = cs.fit(unb.rename(columns={"first.treat": "ft"}), outcome="lemp", unit="countyreal",
                 time="year", first_treat="ft")
    cells = {f"{int(g)},{int(t)}": {"att": float(v["effect"]), "se": float(v["se"])}
             for (g, t), v in res.group_time_effects.items()}
    out["diff_diff_reg_never"] = {"overall_att": float(res.overall_att), "overall_se": float(res.overall_se),
                                  "cells": cells}
except Exception as e:  # pragma: no cover
    print("diff-diff cross-check failed:", repr(e), file=sys.stderr)

path = ROOT / "reference" / "did_cs_unbalanced.json"
path.write_text(json.dumps(out, indent=1) + "\n")
print("wrote", path, out["n_rows"], out["n_units"], out["n_units_incomplete"])
s = out["specs"]["reg_never"]
print(list(zip(s["group"], s["time"], s["att"], s["se"]))[:4], s["aggte"]["simple"])
if "diff_diff_reg_never" in out:
    print("diff-diff", out["diff_diff_reg_never"]["overall_att"], out["diff_diff_reg_never"]["overall_se"],
          list(out["diff_diff_reg_never"]["cells"].items())[:2])

"""Reference numbers for Callaway & Sant'Anna (2021) in crates/did/src/cs.

Peer: csdid 0.4.3 (Python port of R `did` 2.x att_gt/aggte), installed by
/work/shared/peers/setup.sh in ~/.cache/causalkit-peers/panel.
Data: datasets/mpdta.csv (outcome lemp, unit countyreal, time year, cohort first.treat).
All standard errors are analytic (bstrap=False): sqrt(mean(psi^2)/n) of csdid's influence
functions, and aggte(bstrap=False) for the aggregations.

Run from the repository root:
    ~/.cache/causalkit-peers/panel/bin/python reference/scripts/cs_reference.py
writes reference/cs.json.
"""
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import csdid
from csdid.att_gt import ATTgt

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parents[2]
mpdta = pd.read_csv(ROOT / "datasets" / "mpdta.csv")


def num(x):
    x = float(x)
    return None if not np.isfinite(x) else x


def run(name, data=None, est_method="reg", control_group="nevertreated", xformla=None,
        base_period="varying", anticipation=0, panel=True, aggregations=True, cluster=None):
    d = mpdta.copy() if data is None else data
    if not panel:
        # Repeated cross-sections: every row is its own sampling unit.
        d = d.assign(countyreal=np.arange(len(d)))
    kw = dict(yname="lemp", tname="year", idname="countyreal", gname="first.treat",
              data=d, control_group=control_group, anticipation=anticipation, panel=panel)
    if xformla is not None:
        kw["xformla"] = xformla
    if cluster is not None:
        kw["clustervar"] = cluster
    m = ATTgt(**kw).fit(est_method=est_method, base_period=base_period, bstrap=False)
    r = m.results
    out = {
        "spec": dict(est_method=est_method, control_group=control_group, xformla=xformla,
                     base_period=base_period, anticipation=anticipation, panel=panel,
                     cluster=cluster),
        "group": [int(g) for g in r["group"]],
        "time": [int(t) for t in r["year"]],
        "att": [num(a) for a in r["att"]],
        "se": [num(s) for s in r["se"]],
        "W": num(m.MP["W"]) if m.MP["W"] is not None else None,
        "Wpval": num(m.MP["Wpval"]) if m.MP["Wpval"] is not None else None,
    }
    if aggregations:
        agg = {}
        for typec in ["simple", "dynamic", "group", "calendar"]:
            m.aggte(typec=typec, bstrap=False)
            a = m.atte
            entry = {"overall_att": num(a["overall_att"]), "overall_se": num(a["overall_se"])}
            if a.get("egt") is not None:
                entry["egt"] = [int(e) for e in np.atleast_1d(a["egt"])]
                entry["att_egt"] = [num(v) for v in np.atleast_1d(a["att_egt"])]
                entry["se_egt"] = [num(v) for v in np.atleast_1d(a["se_egt"])]
            agg[typec] = entry
        out["aggte"] = agg
    return name, out


# Edge-case data sets (the same constructions are rebuilt in crates/did/tests/cs.rs).
# No never-treated units: drop first.treat == 0.
no_never = mpdta[mpdta["first.treat"] != 0].copy()
# Unbalanced: remove year 2005 of every county whose id is divisible by 7 (csdid, like R's
# default allow_unbalanced_panel=FALSE, then drops those counties entirely).
unbalanced = mpdta[~((mpdta["countyreal"] % 7 == 0) & (mpdta["year"] == 2005))].copy()
# Clusters: the state (FIPS county code // 1000).
clustered = mpdta.assign(state=mpdta["countyreal"] // 1000)

specs = [
    run("dr_notyet_no_never", data=no_never, est_method="dr", control_group="notyettreated"),
    run("reg_unbalanced", data=unbalanced),
    run("reg_cluster_state", data=clustered, cluster="state"),
    run("reg_never"),
    run("dr_notyet", est_method="dr", control_group="notyettreated"),
    run("reg_lpop", est_method="reg", xformla="lemp~lpop"),
    run("ipw_lpop", est_method="ipw", xformla="lemp~lpop"),
    run("dr_lpop", est_method="dr", xformla="lemp~lpop"),
    run("dr_lpop_notyet", est_method="dr", xformla="lemp~lpop", control_group="notyettreated"),
    run("reg_universal", base_period="universal"),
    run("reg_anticipation1", anticipation=1),
    run("rc_reg", panel=False),
    run("rc_ipw_lpop", est_method="ipw", xformla="lemp~lpop", panel=False),
    run("rc_dr_lpop", est_method="dr", xformla="lemp~lpop", panel=False),
]
ref = {
    "source": f"csdid {csdid.__version__ if hasattr(csdid, '__version__') else '0.4.3'} "
              "(reference/scripts/cs_reference.py) on datasets/mpdta.csv, analytic SEs",
    "specs": dict(specs),
}
path = ROOT / "reference" / "cs.json"
path.write_text(json.dumps(ref, indent=1) + "\n")
print("wrote", path)
for name, s in specs:
    print(name, s["att"][:3], s["se"][:3], s.get("Wpval"))

"""Python peers for benches/did.rs: pyfixest 0.60, csdid 0.4.3 and diff-diff 3.13.

Same design as benches/did.rs (units x 10 periods, cohorts 4/6/8/never by unit id mod 4,
y = a_i + b_t + tau_it + e, tau = 1 + 0.1 (t - g) when treated), drawn with numpy
(same distribution, not the same numbers). Data generation and DataFrame construction are
not timed. Each task: one untimed warm-up on a small panel (imports, JIT, caches), then
`--reps` timed calls on the full data (time.perf_counter); prints best and median.

Tasks (ids match the Rust bench ids):
  twfe_1M / twfe_10M  pyfixest feols("y ~ D | unit + time", vcov={"CRV1": "unit"});
                      diff-diff TWFE(cluster="unit").fit(...)
  sunab_1M            diff-diff SunAbraham(cluster="unit")
  imputation_1M       diff-diff ImputationDiD(cluster="unit"); pyfixest did2s
  cs_100k_boot999     csdid ATTgt(..., biters=999).fit(est_method="dr") + aggte("dynamic");
                      diff-diff CallawaySantAnna(n_bootstrap=999, estimation_method="dr")
                      with aggregate="event_study"

Usage: python did_peers.py [--only TASK[,TASK]] [--reps N] [--with-10m] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")


def make(units: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    T = 10
    a = rng.standard_normal(units)
    b = rng.standard_normal(T)
    unit = np.repeat(np.arange(units), T)
    t = np.tile(np.arange(1, T + 1), units)
    g = np.array([4, 6, 8, 0])[unit % 4]
    treated = (g > 0) & (t >= g)
    tau = np.where(treated, 1.0 + 0.1 * (t - g), 0.0)
    y = a[unit] + b[t - 1] + tau + rng.standard_normal(units * T)
    return pd.DataFrame({"unit": unit, "time": t, "g": g, "D": treated.astype(np.int64), "y": y})


def pf_twfe(df):
    import pyfixest as pf
    f = pf.feols("y ~ D | unit + time", data=df, vcov={"CRV1": "unit"})
    return float(f.coef()["D"])


def dd_twfe(df):
    import diff_diff as dd
    r = dd.TWFE(cluster="unit").fit(df, outcome="y", treatment="D", unit="unit", time="time")
    return float(r.att)


def dd_sunab(df):
    import diff_diff as dd
    r = dd.SunAbraham(cluster="unit").fit(df, outcome="y", unit="unit", time="time", first_treat="g")
    return float(r.overall_att)


def dd_imputation(df):
    import diff_diff as dd
    r = dd.ImputationDiD(cluster="unit").fit(df, outcome="y", unit="unit", time="time", first_treat="g")
    return float(r.overall_att)


def pf_did2s(df):
    import pyfixest as pf
    f = pf.did2s(df, yname="y", first_stage="~ 0 | unit + time", second_stage="~ D",
                 treatment="D", cluster="unit")
    return float(f.coef()["D"])


def csdid_boot(df):
    from csdid.att_gt import ATTgt
    a = ATTgt(yname="y", tname="time", idname="unit", gname="g", data=df,
              control_group=["nevertreated"], biters=999, cband=True)
    a.fit(est_method="dr", bstrap=True)
    a.aggte(typec="dynamic", biters=999, cband=True)
    return float("nan")


def dd_cs_boot(df):
    import diff_diff as dd
    r = dd.CallawaySantAnna(n_bootstrap=999, estimation_method="dr", seed=1).fit(
        df, outcome="y", unit="unit", time="time", first_treat="g", aggregate="event_study")
    return float(r.overall_att)


TASKS = {
    "twfe_1M": (100_000, [("pyfixest", pf_twfe), ("diff-diff", dd_twfe)]),
    "twfe_10M": (1_000_000, [("pyfixest", pf_twfe), ("diff-diff", dd_twfe)]),
    "sunab_1M": (100_000, [("diff-diff", dd_sunab)]),
    "imputation_1M": (100_000, [("diff-diff", dd_imputation), ("pyfixest did2s", pf_did2s)]),
    "cs_100k_boot999": (100_000, [("csdid", csdid_boot), ("diff-diff", dd_cs_boot)]),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default=None)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--with-10m", action="store_true")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    names = args.only.split(",") if args.only else [k for k in TASKS if k != "twfe_10M" or args.with_10m]
    small = make(2_000)
    out = []
    for name in names:
        units, peers = TASKS[name]
        df = make(units)
        for peer, fn in peers:
            try:
                fn(small.copy())  # warm-up
                times = []
                for _ in range(args.reps):
                    t0 = time.perf_counter()
                    est = fn(df)
                    times.append(time.perf_counter() - t0)
                rec = {"task": name, "peer": peer, "rows": len(df), "best_s": min(times),
                       "median_s": statistics.median(times), "times_s": times, "estimate": est}
            except Exception as e:  # report, do not hide
                rec = {"task": name, "peer": peer, "rows": len(df), "error": repr(e)[:300]}
            print(json.dumps(rec), flush=True)
            out.append(rec)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    sys.exit(main())

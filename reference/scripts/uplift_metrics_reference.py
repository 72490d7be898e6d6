"""Reference values for causalkit-uplift's evaluation metrics (reference/uplift_metrics.json).

Peers: scikit-uplift 0.5.1 and causalml 0.18.0 (venv of ../shared/peers/setup.sh, "uplift").
Run from the repository root:
    ~/.cache/causalkit-peers/uplift/bin/python reference/scripts/uplift_metrics_reference.py

Contents
- toy: the 10-row case of shared/reference/uplift.md (3 bins for the percentile metrics), with causalml's row order as pandas
  sorted it (numpy's quicksort is not stable: tied rows come out in no fixed order).
- hillstrom: datasets/hillstrom.csv, Womens E-Mail (treated) vs No E-Mail (control), 70/30
  split stratified on treatment x visit (random_state 42). Saved scores on the 12,808 test
  rows from (a) a T-learner of two LightGBM 4.7 classifiers, (b) causalml's
  UpliftRandomForestClassifier (KL, 100 trees, depth 5), (c) -recency (12 distinct values,
  heavy ties). Each score is evaluated on `visit` (binary) and `spend` (continuous) by
  scikit-uplift (for `spend` with its binary-outcome check switched off, i.e. its formulas
  evaluated literally) and by causalml (which accepts continuous outcomes), together with
  the permutation pandas' sort produced inside causalml.
- arms: -recency evaluated for Mens E-Mail and Womens E-Mail separately against No E-Mail
  on all 64,000 rows (per-arm evaluation).
"""
import json
import sys
import time
from importlib.metadata import version

import numpy as np
import pandas as pd
import lightgbm as lgb
from sklearn.model_selection import train_test_split
import sklift.metrics.metrics as skm
from causalml.metrics import qini_score, auuc_score
from causalml.inference.tree import UpliftRandomForestClassifier

OUT = "reference/uplift_metrics.json"


def sklift_all(y, s, w, binary=True, bins=10):
    orig = skm.check_is_binary
    if not binary:
        skm.check_is_binary = lambda a: None
    try:
        out = {
            "qini_auc": float(skm.qini_auc_score(y, s, w, negative_effect=True)),
            "uplift_at_k_overall": float(skm.uplift_at_k(y, s, w, strategy="overall", k=0.3)),
            "uplift_at_k_by_group": float(skm.uplift_at_k(y, s, w, strategy="by_group", k=0.3)),
            "wau_overall": float(skm.weighted_average_uplift(y, s, w, strategy="overall", bins=bins)),
            "wau_by_group": float(skm.weighted_average_uplift(y, s, w, strategy="by_group", bins=bins)),
        }
        if binary:
            out["qini_auc_positive"] = float(skm.qini_auc_score(y, s, w, negative_effect=False))
            out["uplift_auc"] = float(skm.uplift_auc_score(y, s, w))
        t = skm.uplift_by_percentile(y, s, w, strategy="overall", bins=bins, std=True)
        out["percentiles"] = {
            "percentile": list(t.index),
            # NaN (sqrt of a negative p(1-p) for a continuous outcome) is written as null.
            **{c: [float(v) if np.isfinite(v) else None for v in t[c]] for c in t.columns},
        }
        qx, qy = skm.qini_curve(y, s, w)
        ux, uy = skm.uplift_curve(y, s, w)
        out["qini_curve_points"] = len(qx)
        out["qini_curve_area"] = float(np.trapezoid(qy, qx))
        out["uplift_curve_area"] = float(np.trapezoid(uy, ux))
        if len(qx) <= 50:
            out["qini_curve"] = {"x": [float(v) for v in qx], "y": [float(v) for v in qy]}
            out["uplift_curve"] = {"x": [float(v) for v in ux], "y": [float(v) for v in uy]}
    finally:
        skm.check_is_binary = orig
    return out


def grouped(y, s, w, k=0.3, bins=10):
    """Independent numpy re-derivation of the tie-grouped rule (not a peer): a group of
    exactly tied scores cut by a position contributes the cut fraction of its sums, i.e. the
    expected sums over random orders inside the group. Returns uplift_at_k (both
    strategies), WAU (both) and causalml's normalised Qini/AUUC under that rule."""
    y = np.asarray(y, dtype=float); s = np.asarray(s, dtype=float); w = np.asarray(w)

    def cum(mask):
        # Sums (nt, nc, yt, yc) over the first x rows (x may cut a tie group) of the rows in
        # `mask`, ranked by descending score.
        ss, yy, ww = s[mask], y[mask], w[mask]
        vals, inv = np.unique(-ss, return_inverse=True)
        cols = np.stack([ww == 1, ww == 0, yy * (ww == 1), yy * (ww == 0)], 1).astype(float)
        gs = np.zeros((len(vals), 4)); np.add.at(gs, inv, cols)
        size = np.bincount(inv, minlength=len(vals)).astype(float)
        ends = np.cumsum(size); starts = ends - size
        pre = np.vstack([np.zeros(4), np.cumsum(gs, 0)])

        def at(x):
            g = np.searchsorted(ends, x, side="right")
            if g >= len(vals):
                return pre[-1]
            return pre[g] + (x - starts[g]) / size[g] * gs[g]
        return at, int(mask.sum())

    allf, n = cum(np.ones(len(y), bool))
    trf, nt = cum(w == 1)
    ctf, nc = cum(w == 0)
    out = {}
    a = allf(int(n * k))
    out["uplift_at_k_overall"] = a[2] / a[0] - a[3] / a[1]
    out["uplift_at_k_by_group"] = trf(int(nt * k))[2] / int(nt * k) - ctf(int(nc * k))[3] / int(nc * k)

    def split(m):
        q, r = divmod(m, bins)
        b = np.cumsum([0] + [q + (i < r) for i in range(bins)])
        return b
    b = split(n)
    num = den = 0.0
    for i in range(bins):
        d = allf(b[i + 1]) - allf(b[i])
        num += d[0] * (d[2] / d[0] - d[3] / d[1]); den += d[0]
    out["wau_overall"] = num / den
    bt, bc = split(nt), split(nc)
    num = den = 0.0
    for i in range(bins):
        dt = trf(bt[i + 1]) - trf(bt[i]); dc = ctf(bc[i + 1]) - ctf(bc[i])
        num += dt[0] * (dt[2] / dt[0] - dc[3] / dc[1]); den += dt[0]
    out["wau_by_group"] = num / den
    c = np.array([allf(i) for i in range(n + 1)])
    with np.errstate(divide="ignore", invalid="ignore"):
        q = c[:, 2] - c[:, 3] * c[:, 0] / c[:, 1]
        lift = c[:, 2] / c[:, 0] - c[:, 3] / c[:, 1]
    for arr in (q, lift):  # causalml interpolates the Qini and the lift (pandas interpolate)
        arr[0] = 0.0
        first = next(i for i in range(1, n + 1) if np.isfinite(arr[i]))
        arr[1:first] = arr[first] * np.arange(1, first) / first
    g = lift * np.arange(n + 1)
    q = q / abs(q[-1]); g = g / abs(g[-1])
    out["causalml_qini"] = (q.sum() - np.linspace(0, q[-1], n + 1).sum()) / (n + 1)
    out["causalml_auuc"] = g.sum() / (n + 1)
    return {kk: float(v) for kk, v in out.items()}


def causalml_all(y, s, w):
    df = pd.DataFrame({"y": np.asarray(y, dtype=float), "w": np.asarray(w), "s": np.asarray(s)})
    order = df.sort_values("s", ascending=False).index.to_numpy()
    stable = np.argsort(-np.asarray(s), kind="stable")
    return {
        "causalml_qini": float(qini_score(df)["s"]),
        "causalml_auuc": float(auuc_score(df)["s"]),
        "causalml_qini_raw": float(qini_score(df, normalize=False)["s"]),
        "causalml_auuc_raw": float(auuc_score(df, normalize=False)["s"]),
        "pandas_order_is_stable": bool((order == stable).all()),
        "order": [int(i) for i in order],
    }


def main():
    ref = {
        "source": "reference/scripts/uplift_metrics_reference.py",
        "versions": {p: version(p) for p in
                     ["scikit-uplift", "causalml", "lightgbm", "scikit-learn", "pandas", "numpy"]},
        "python": sys.version.split()[0],
    }
    # Toy case.
    y = np.array([0, 0, 0, 0, 1, 0, 0, 1, 1, 1])
    w = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    s = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.0, 0.1, 0.2, 0.3, 0.4])
    toy = {"y": y.tolist(), "w": w.tolist(), "score": s.tolist()}
    toy["sklift"] = sklift_all(y, s, w, bins=3)
    toy["bins"] = 3
    cm = causalml_all(y, s, w)
    toy["causalml"] = {k: v for k, v in cm.items() if k != "order"}
    toy["causalml_order"] = cm["order"]
    toy["grouped"] = grouped(y, s, w, bins=3)
    ref["toy"] = toy

    # Hillstrom.
    d = pd.read_csv("datasets/hillstrom.csv")
    sub = d[d.segment.isin(["Womens E-Mail", "No E-Mail"])]
    rows = sub.index.to_numpy()
    wv = (sub.segment == "Womens E-Mail").astype(int).to_numpy()
    yv = sub.visit.to_numpy()
    X = pd.get_dummies(sub[["recency", "history", "mens", "womens", "newbie", "zip_code", "channel"]],
                       columns=["zip_code", "channel"], dtype=float).to_numpy()
    itr, ite = train_test_split(np.arange(len(sub)), test_size=0.3, random_state=42, stratify=wv * 2 + yv)
    ite = np.sort(ite)
    params = dict(n_estimators=100, learning_rate=0.05, num_leaves=15, random_state=42,
                  verbose=-1, deterministic=True, n_jobs=1)
    m1 = lgb.LGBMClassifier(**params).fit(X[itr][wv[itr] == 1], yv[itr][wv[itr] == 1])
    m0 = lgb.LGBMClassifier(**params).fit(X[itr][wv[itr] == 0], yv[itr][wv[itr] == 0])
    t_lgbm = m1.predict_proba(X[ite])[:, 1] - m0.predict_proba(X[ite])[:, 1]
    t0 = time.process_time()
    rf = UpliftRandomForestClassifier(n_estimators=100, max_depth=5, evaluationFunction="KL",
                                      control_name="0", random_state=42, n_jobs=1)
    rf.fit(X[itr], np.where(wv[itr] == 1, "1", "0"), yv[itr])
    fit_cpu = time.process_time() - t0
    forest = np.asarray(rf.predict(X[ite])).reshape(len(ite), -1)[:, 0]
    recency = -sub.recency.to_numpy()[ite].astype(float)
    hs = {
        "description": "Womens E-Mail (w=1) vs No E-Mail (w=0); rows = 0-based row numbers of "
                       "datasets/hillstrom.csv in the 30% test split",
        "rows": [int(r) for r in rows[ite]],
        "scores": {"t_lgbm": t_lgbm.tolist(), "forest": forest.tolist()},
        "forest_fit_cpu_seconds": fit_cpu,
        "n_train": int(len(itr)),
        "results": {},
    }
    yt = yv[ite]
    spend = sub.spend.to_numpy()[ite]
    wt = wv[ite]
    for name, sc in [("t_lgbm", t_lgbm), ("forest", forest), ("neg_recency", recency)]:
        for outcome, yy, binary in [("visit", yt, True), ("spend", spend, False)]:
            r = sklift_all(yy, sc, wt, binary)
            cm = causalml_all(yy, sc, wt)
            r.update({k: v for k, v in cm.items() if k != "order"})
            if not cm["pandas_order_is_stable"]:
                r["causalml_order"] = cm["order"]
            r["distinct_scores"] = int(len(np.unique(sc)))
            r["grouped"] = grouped(yy, sc, wt)
            hs["results"][f"{name}/{outcome}"] = r
    ref["hillstrom"] = hs

    # Per-arm evaluation on all rows.
    arms = {}
    for arm in ["Mens E-Mail", "Womens E-Mail"]:
        a = d[d.segment.isin([arm, "No E-Mail"])]
        arms[arm] = sklift_all(a.visit.to_numpy(), -a.recency.to_numpy().astype(float),
                               (a.segment == arm).astype(int).to_numpy())
        arms[arm].pop("percentiles")
    ref["arms"] = {"score": "-recency", "outcome": "visit", "control": "No E-Mail", "results": arms}

    with open(OUT, "w") as f:
        json.dump(ref, f, separators=(",", ":"), allow_nan=False)
    print("wrote", OUT)


if __name__ == "__main__":
    main()

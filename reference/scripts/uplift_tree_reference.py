"""Reference uplift trees from causalml 0.18.0 (reference/uplift_tree.json).

Run from the repository root:
    ~/.cache/causalkit-peers/uplift/bin/python reference/scripts/uplift_tree_reference.py

Data: datasets/hillstrom.csv, outcome `visit`. Features (11 columns, in this order):
recency, history, mens, womens, newbie, zip_code one-hot (Rural, Surburban, Urban),
channel one-hot (Multichannel, Phone, Web). Two designs:
- two_arm: Womens E-Mail (treatment "1") vs No E-Mail (control "0"), all 42,693 rows;
- three_arm: Mens E-Mail ("1"), Womens E-Mail ("2") vs No E-Mail ("0"), all 64,000 rows.
A single deterministic UpliftTreeClassifier (no sampling; all features tried per node) is
fitted per criterion, and exported node by node (split feature, threshold, rows, per-group
leaf rates). causalml's splitter is scikit-learn's BestSplitter on float32 features: the
candidate thresholds are the midpoints between consecutive distinct values.
"""
import json
import sys
from importlib.metadata import version

import numpy as np
import pandas as pd
from causalml.inference.tree import UpliftTreeClassifier

FEATURES = ["recency", "history", "mens", "womens", "newbie",
            "zip_Rural", "zip_Surburban", "zip_Urban",
            "channel_Multichannel", "channel_Phone", "channel_Web"]


def features(d):
    X = pd.DataFrame({
        "recency": d.recency, "history": d.history, "mens": d.mens, "womens": d.womens,
        "newbie": d.newbie,
        "zip_Rural": (d.zip_code == "Rural") * 1.0, "zip_Surburban": (d.zip_code == "Surburban") * 1.0,
        "zip_Urban": (d.zip_code == "Urban") * 1.0,
        "channel_Multichannel": (d.channel == "Multichannel") * 1.0,
        "channel_Phone": (d.channel == "Phone") * 1.0, "channel_Web": (d.channel == "Web") * 1.0,
    })
    return X[FEATURES].to_numpy(dtype=float)


def export(m):
    t = m.tree_
    counts = m._node_group_counts

    def node(i):
        out = {"n": int(t.n_node_samples[i]), "counts": [int(c) for c in counts[i]]}
        if t.children_left[i] == -1:
            out["value"] = [float(v) for v in t.value[i, :, 0]]
        else:
            out["feature"] = int(t.feature[i])
            out["threshold"] = float(t.threshold[i])
            out["left"] = node(t.children_left[i])
            out["right"] = node(t.children_right[i])
        return out
    return node(0)


def main():
    d = pd.read_csv("datasets/hillstrom.csv")
    ref = {"source": "reference/scripts/uplift_tree_reference.py",
           "versions": {p: version(p) for p in ["causalml", "scikit-learn", "numpy"]},
           "python": sys.version.split()[0], "features": FEATURES, "designs": {}}
    designs = {
        "two_arm": {"No E-Mail": "0", "Womens E-Mail": "1"},
        "three_arm": {"No E-Mail": "0", "Mens E-Mail": "1", "Womens E-Mail": "2"},
    }
    settings = [
        ("KL", True), ("ED", True), ("Chi", True), ("CTS", True), ("KL", False), ("ED", False),
    ]
    for name, mapping in designs.items():
        sub = d[d.segment.isin(mapping)]
        X = features(sub)
        w = sub.segment.map(mapping).to_numpy()
        y = sub.visit.to_numpy()
        out = {"segments": mapping, "rows": int(len(sub)), "trees": {}}
        for crit, norm in settings:
            if name == "three_arm" and not norm:
                continue
            params = dict(control_name="0", max_depth=4, min_samples_leaf=100,
                          min_samples_treatment=10, n_reg=100, evaluationFunction=crit,
                          normalization=norm, random_state=0)
            m = UpliftTreeClassifier(**params).fit(X, treatment=w, y=y)
            key = f"{crit}{'' if norm else '_unnormalised'}"
            out["trees"][key] = {"params": params, "tree": export(m),
                                 "predict_first_rows": m.predict(X[:20]).tolist()}
        ref["designs"][name] = out
    with open("reference/uplift_tree.json", "w") as f:
        json.dump(ref, f, indent=1, allow_nan=False)
    print("wrote reference/uplift_tree.json")


if __name__ == "__main__":
    main()

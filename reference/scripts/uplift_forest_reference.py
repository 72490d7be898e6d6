"""causalml 0.18.0 uplift forest Qini over several seeds (reference/uplift_forest.json).

Run from the repository root:
    ~/.cache/causalkit-peers/uplift/bin/python reference/scripts/uplift_forest_reference.py

Same data, features and 70/30 split as reference/uplift_metrics.json (Hillstrom, Womens
E-Mail vs No E-Mail, `visit`; test rows stored there): UpliftRandomForestClassifier
(n_estimators=100, max_depth=5, evaluationFunction="KL", other arguments at their
defaults: max_features 10, min_samples_leaf 100, min_samples_treatment 10, n_reg 10,
normalization True), random_state 0..4, scored by scikit-uplift 0.5.1 qini_auc_score on
the test rows; the fit's CPU time (n_jobs=1) is recorded too.
"""
import json
import time
from importlib.metadata import version

import numpy as np
import pandas as pd
from causalml.inference.tree import UpliftRandomForestClassifier
from sklift.metrics import qini_auc_score

FEATURES = ["recency", "history", "mens", "womens", "newbie"]


def main():
    ref_rows = json.load(open("reference/uplift_metrics.json"))["hillstrom"]["rows"]
    d = pd.read_csv("datasets/hillstrom.csv")
    X = pd.get_dummies(d[FEATURES + ["zip_code", "channel"]], columns=["zip_code", "channel"],
                       dtype=float).to_numpy()
    two = d.segment.isin(["Womens E-Mail", "No E-Mail"]).to_numpy()
    test = np.zeros(len(d), bool)
    test[ref_rows] = True
    train = two & ~test
    w = (d.segment == "Womens E-Mail").astype(int).to_numpy()
    y = d.visit.to_numpy()
    out = {"source": "reference/scripts/uplift_forest_reference.py",
           "versions": {p: version(p) for p in ["causalml", "scikit-uplift", "numpy"]},
           "n_train": int(train.sum()), "n_test": int(test.sum()), "runs": []}
    for seed in range(5):
        t0 = time.process_time()
        m = UpliftRandomForestClassifier(control_name="0", n_estimators=100, max_depth=5,
                                         evaluationFunction="KL", random_state=seed, n_jobs=1)
        m.fit(X[train], treatment=np.where(w[train] == 1, "1", "0"), y=y[train])
        cpu = time.process_time() - t0
        s = np.asarray(m.predict(X[test])).reshape(int(test.sum()), -1)[:, 0]
        q = float(qini_auc_score(y[test], s, w[test]))
        out["runs"].append({"seed": seed, "qini_auc": q, "fit_cpu_seconds": cpu})
        print(seed, q, cpu, flush=True)
    out["mean_qini_auc"] = float(np.mean([r["qini_auc"] for r in out["runs"]]))
    with open("reference/uplift_forest.json", "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()

"""Hillstrom class-transformation split and peer values (reference/uplift_hillstrom_ct.json).

Run from the repository root:
    ~/.cache/causalkit-peers/uplift/bin/python reference/scripts/uplift_hillstrom_ct_reference.py

scikit-uplift's pipeline notebook: Womens E-Mail vs No E-Mail, target `visit`, test_size 0.5
stratified on treatment x target, random_state 42; published uplift@30% = 0.0661 with a
class-transformation learner (re-run with a newer xgboost: 0.0657). This script stores the
split (test row numbers of datasets/hillstrom.csv) and, as a peer on the same split and
the same 11 numeric features as the Rust test, scikit-uplift 0.5.1 ClassTransformation on
LightGBM 4.7 (depth 2, 100 rounds, learning rate 0.1): uplift_at_k(k=0.3) both strategies.
"""
import json
from importlib.metadata import version

import numpy as np
import pandas as pd
import lightgbm as lgb
from sklearn.model_selection import train_test_split
from sklift.models import ClassTransformation
from sklift.metrics import uplift_at_k, qini_auc_score


def main():
    d = pd.read_csv("datasets/hillstrom.csv")
    sub = d[d.segment.isin(["Womens E-Mail", "No E-Mail"])]
    w = (sub.segment == "Womens E-Mail").astype(int).to_numpy()
    y = sub.visit.to_numpy()
    X = pd.get_dummies(sub[["recency", "history", "mens", "womens", "newbie", "zip_code", "channel"]],
                       columns=["zip_code", "channel"], dtype=float).to_numpy()
    idx = np.arange(len(sub))
    itr, ite = train_test_split(idx, test_size=0.5, random_state=42,
                                stratify=np.column_stack([w, y]))
    ct = ClassTransformation(lgb.LGBMClassifier(max_depth=2, num_leaves=4, n_estimators=100,
                                                learning_rate=0.1, verbose=-1, random_state=42,
                                                deterministic=True, n_jobs=1))
    ct.fit(X[itr], y[itr], w[itr])
    s = ct.predict(X[ite])
    out = {
        "source": "reference/scripts/uplift_hillstrom_ct_reference.py",
        "versions": {p: version(p) for p in ["scikit-uplift", "lightgbm", "scikit-learn"]},
        "published_uplift_at_30": 0.0661,
        "test_rows": sorted(int(r) for r in sub.index.to_numpy()[ite]),
        "lightgbm_ct": {
            "uplift_at_k_by_group": float(uplift_at_k(y[ite], s, w[ite], strategy="by_group", k=0.3)),
            "uplift_at_k_overall": float(uplift_at_k(y[ite], s, w[ite], strategy="overall", k=0.3)),
            "qini_auc": float(qini_auc_score(y[ite], s, w[ite])),
        },
    }
    with open("reference/uplift_hillstrom_ct.json", "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print(out["lightgbm_ct"], len(out["test_rows"]))


if __name__ == "__main__":
    main()

"""Test-split quality of saved scores (benches/results/uplift.md), scikit-uplift 0.5.1 and
scikit-learn: Qini AUC (qini_auc_score) of uplift scores, or ROC AUC of probabilities.

Usage: python benches/peers/uplift_quality.py qini|auc TEST SCORES.csv [COLUMN]
SCORES.csv: one row per test row in file order; COLUMN (default: `score`, else the first
column whose name starts with `uplift`).
"""
import sys

import numpy as np
import pandas as pd

kind, test_path, scores_path = sys.argv[1:4]
te = pd.read_parquet(test_path) if test_path.endswith(".parquet") else pd.read_csv(test_path)
s = pd.read_csv(scores_path)
col = sys.argv[4] if len(sys.argv) > 4 else (
    "score" if "score" in s.columns else next(c for c in s.columns if c.startswith("uplift")))
score = s[col].to_numpy(np.float64)
assert len(score) == len(te), (len(score), len(te))
if kind == "qini":
    from sklift.metrics import qini_auc_score

    print(f"qini_auc {qini_auc_score(te.y.to_numpy(), score, te.t.to_numpy()):.6f}")
else:
    from sklearn.metrics import roc_auc_score

    print(f"auc {roc_auc_score(te.y.to_numpy(), score):.6f}")

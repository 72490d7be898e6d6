"""Whole-process peers of `causalkit uplift fit` (benches/results/uplift.md): one run reads the
train file, fits, predicts the test file and writes the test scores, so that it can be timed
from outside (`/usr/bin/time -v`) like the causalkit command.

Usage (uplift peer venv, see ../shared/peers/setup.sh; pyarrow for Parquet):
  python benches/peers/uplift_peer_fit.py forest TRAIN TEST SCORES.csv [SEED]
  python benches/peers/uplift_peer_fit.py lgbm   TRAIN TEST SCORES.csv [SEED]

- forest: causalml 0.18 UpliftRandomForestClassifier(n_estimators=100, max_depth=5,
  evaluationFunction="KL", min_samples_leaf=100, max_features=10, random_state=SEED), its other
  arguments at their defaults (min_samples_treatment 10, n_reg 10, normalization True,
  n_jobs -1); scores = predicted uplift of t = 1.
- lgbm: LightGBM 4.7 lgb.train(objective="binary", max_depth=6, num_leaves=64, max_bin=255,
  min_data_in_leaf=20, lambda_l2=0, learning_rate=0.1, seed=SEED), 100 rounds, on the outcome
  y from the features (the boosted base learner's task); scores = predicted P(y = 1).
Files: Parquet or CSV with feature columns, `t` (0/1) and `y` (0/1). Prints the fit seconds
(perf_counter around the fit call only) on stderr.
"""
import sys
import time

import numpy as np
import pandas as pd


def read(path):
    return pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)


def main():
    task, train_path, test_path, out = sys.argv[1:5]
    seed = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    tr, te = read(train_path), read(test_path)
    feats = [c for c in tr.columns if c not in ("t", "y")]
    x, xt = tr[feats].to_numpy(np.float64), te[feats].to_numpy(np.float64)
    if task == "forest":
        from causalml.inference.tree import UpliftRandomForestClassifier

        m = UpliftRandomForestClassifier(
            n_estimators=100, max_depth=5, evaluationFunction="KL", min_samples_leaf=100,
            max_features=10, control_name="0", random_state=seed)
        t0 = time.perf_counter()
        m.fit(x, treatment=np.where(tr.t.to_numpy() == 1, "1", "0"), y=tr.y.to_numpy())
        secs = time.perf_counter() - t0
        score = np.asarray(m.predict(xt)).reshape(len(xt), -1)[:, 0]
    elif task == "lgbm":
        import lightgbm as lgb

        params = dict(objective="binary", max_depth=6, num_leaves=64, max_bin=255,
                      min_data_in_leaf=20, lambda_l2=0.0, learning_rate=0.1, verbose=-1,
                      seed=seed)
        t0 = time.perf_counter()
        m = lgb.train(params, lgb.Dataset(x, tr.y.to_numpy()), num_boost_round=100)
        secs = time.perf_counter() - t0
        score = m.predict(xt)
    else:
        sys.exit(f"unknown task {task}")
    pd.DataFrame({"score": score}).to_csv(out, index=False, float_format="%.17g")
    print(f"fit_seconds {secs:.3f}", file=sys.stderr)


if __name__ == "__main__":
    main()

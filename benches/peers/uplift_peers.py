"""Side-by-side timing of causalml 0.18 UpliftRandomForestClassifier and LightGBM 4.7 on the
rows of benches/uplift.rs (results in benches/results/uplift.md).

Setup: `bash ../shared/peers/setup.sh`, then run with the uplift venv:
    $HOME/.cache/causalkit-peers/uplift/bin/python benches/peers/uplift_peers.py [--rows N]

Prints one JSON line per task: best of 3 timed fits after one untimed warm-up, the peak RSS
of this process (ru_maxrss) and the machine load (os.getloadavg) when the task started, plus
the test-split quality (forest: Qini AUC with scikit-uplift's qini_auc_score on a held-out
30 %; LightGBM: test AUC) so speed is compared at equal quality.
"""

import argparse
import json
import os
import resource
import time

import numpy as np

MASK = (1 << 64) - 1


def simulate(n, seed, features=15):
    """The LCG rows of benches/uplift.rs::simulate (same draw order)."""
    s = seed
    out = np.empty(n * (features + 2))
    for i in range(out.size):
        s = (s * 6364136223846793005 + 1442695040888963407) & MASK
        out[i] = (s >> 11) / float(1 << 53)
    out = out.reshape(n, features + 2)
    x = out[:, :features]
    t = (out[:, features] < 0.5).astype(int)
    p = 0.1 + 0.1 * x[:, 0] + t * (0.1 * (x[:, 1] > 0.5) - 0.05 * (x[:, 2] > 0.7))
    y = (out[:, features + 1] < p).astype(int)
    return x, t, y


def best_of(fn, reps=3):
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--task", choices=["forest", "gbdt", "all"], default="all")
    a = ap.parse_args()
    x, t, y = simulate(a.rows, 20261204)
    cut = int(0.7 * a.rows)
    if a.task in ("forest", "all"):
        from causalml.inference.tree import UpliftRandomForestClassifier
        from sklift.metrics import qini_auc_score

        load = os.getloadavg()
        treat = np.where(t == 1, "treatment", "control")

        def fit():
            m = UpliftRandomForestClassifier(
                n_estimators=100, max_depth=5, evaluationFunction="KL",
                min_samples_leaf=100, max_features=10, control_name="control",
                random_state=1,
            )
            m.fit(x[:cut], treat[:cut], y[:cut])
            return m

        secs = best_of(fit)
        m = fit()
        score = np.asarray(m.predict(x[cut:])).reshape(len(x) - cut, -1)[:, 0]
        print(json.dumps({
            "task": "forest_kl_100x5", "rows": a.rows, "peer": "causalml 0.18",
            "seconds_best_of_3": secs, "fit_rows": cut,
            "qini_auc_test": qini_auc_score(y[cut:], score, t[cut:]),
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "loadavg_at_start": load,
        }))
    if a.task in ("gbdt", "all"):
        import lightgbm as lgb
        from sklearn.metrics import roc_auc_score

        load = os.getloadavg()
        params = dict(objective="binary", max_depth=6, num_leaves=64, max_bin=255,
                      min_data_in_leaf=20, lambda_l2=0.0, learning_rate=0.1,
                      verbose=-1, seed=1)

        def fit():
            return lgb.train(params, lgb.Dataset(x[:cut], y[:cut]), num_boost_round=100)

        secs = best_of(fit)
        m = fit()
        print(json.dumps({
            "task": "gbdt_logistic_100x6", "rows": a.rows, "peer": "lightgbm 4.7",
            "seconds_best_of_3": secs, "fit_rows": cut,
            "auc_test": roc_auc_score(y[cut:], m.predict(x[cut:])),
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "loadavg_at_start": load,
        }))


if __name__ == "__main__":
    main()

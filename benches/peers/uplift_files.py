"""Writes the input files of the uplift side-by-side runs (benches/results/uplift.md): one
train and one test file per task, read by both causalkit (`causalkit uplift fit` /
`uplift score`, the `gbdt_fit` example) and the peers (`uplift_peer_fit.py`).

Usage: python benches/peers/uplift_files.py hillstrom OUTDIR
       python benches/peers/uplift_files.py synth ROWS FEATURES OUTDIR [csv|whole]

- hillstrom: datasets/hillstrom.csv, Womens E-Mail (t = 1) vs No E-Mail (t = 0), outcome
  `visit`; features recency, history, mens, womens, newbie and the one-hot dummies of
  zip_code and channel (11 numeric columns, as reference/scripts/uplift_forest_reference.py);
  the 70/30 split of reference/uplift_metrics.json (test rows stored there).
- synth: ROWS rows x FEATURES uniform features (numpy default_rng(20261204)), a fair-coin
  treatment and a 0/1 outcome with P(y = 1) = 0.1 + 0.1 x0 + t (0.1 [x1 > 0.5] -
  0.05 [x2 > 0.7]) (the model of benches/uplift.rs); the first 70 % of the rows are the
  train file, the rest the test file (`whole`: all rows in one Parquet file,
  `synth_{ROWS}x{FEATURES}_all_train.parquet`). Written in chunks of 1M rows (10M x 20 fits in
  memory of a few hundred MiB).
Columns: x0..x{F-1} (float64), t (int64 0/1), y (int64 0/1). Parquet (snappy) by default.
"""
import json
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def hillstrom(out):
    rows = json.load(open("reference/uplift_metrics.json"))["hillstrom"]["rows"]
    d = pd.read_csv("datasets/hillstrom.csv")
    feats = ["recency", "history", "mens", "womens", "newbie"]
    x = pd.get_dummies(d[feats + ["zip_code", "channel"]], columns=["zip_code", "channel"],
                       dtype=float)
    x.columns = [c.replace(" ", "_").replace("/", "_") for c in x.columns]
    x = x.astype(float)
    two = d.segment.isin(["Womens E-Mail", "No E-Mail"]).to_numpy()
    test = np.zeros(len(d), bool)
    test[rows] = True
    train = two & ~test
    x["t"] = (d.segment == "Womens E-Mail").astype(np.int64)
    x["y"] = d.visit.astype(np.int64)
    x[train].to_parquet(f"{out}/hillstrom_train.parquet", index=False)
    x[test].to_parquet(f"{out}/hillstrom_test.parquet", index=False)
    print(f"hillstrom: {train.sum()} train rows, {test.sum()} test rows, {x.shape[1] - 2} features")


def synth(n, f, out, fmt):
    rng = np.random.default_rng(20261204)
    cut = n if fmt == "whole" else int(0.7 * n)
    names = [f"x{j}" for j in range(f)]
    schema = pa.schema([(c, pa.float64()) for c in names] + [("t", pa.int64()), ("y", pa.int64())])
    stem = f"{out}/synth_{n}x{f}"
    if fmt == "whole":
        stem, fmt = stem + "_all", "parquet"
    writers = {}

    def sink(part, table):
        if fmt == "csv":
            path = f"{stem}_{part}.csv"
            first = part not in writers
            writers[part] = True
            table.to_pandas().to_csv(path, mode="w" if first else "a", header=first,
                                     index=False, float_format="%.17g")
        else:
            if part not in writers:
                writers[part] = pq.ParquetWriter(f"{stem}_{part}.parquet", schema,
                                                 compression="snappy")
            writers[part].write_table(table)

    done = 0
    while done < n:
        m = min(1_000_000, n - done)
        x = rng.random((m, f))
        t = (rng.random(m) < 0.5).astype(np.int64)
        p = 0.1 + 0.1 * x[:, 0] + t * (0.1 * (x[:, 1] > 0.5) - 0.05 * (x[:, 2] > 0.7))
        y = (rng.random(m) < p).astype(np.int64)
        cols = {c: x[:, j] for j, c in enumerate(names)}
        cols.update(t=t, y=y)
        tab = pa.table(cols, schema=schema)
        lo, hi = done, done + m
        if hi <= cut:
            sink("train", tab)
        elif lo >= cut:
            sink("test", tab)
        else:
            sink("train", tab.slice(0, cut - lo))
            sink("test", tab.slice(cut - lo))
        done += m
    for w in writers.values():
        if w is not True:
            w.close()
    print(f"{stem}: {cut} train rows, {n - cut} test rows, {f} features")


if __name__ == "__main__":
    if sys.argv[1] == "hillstrom":
        hillstrom(sys.argv[2])
    else:
        synth(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4],
              sys.argv[5] if len(sys.argv) > 5 else "parquet")

"""Writes the A/B aggregation benchmark's input: N unit rows (arm, metric, denominator,
covariate) as Parquet, seeded, in row groups of 1M rows, without holding N rows in memory.

Usage (ab peer venv, which needs pyarrow for pandas' read_parquet):
  ~/.cache/causalkit-peers/ab/bin/pip install pyarrow==17.0.0
  ~/.cache/causalkit-peers/ab/bin/python benches/peers/ab_scan_gen.py 100000000 target/bench-data/ab_100m.parquet
"""
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

n = int(sys.argv[1])
out = sys.argv[2]
chunk = 1_000_000
rng = np.random.default_rng(20261123)
schema = pa.schema(
    [
        ("arm", pa.string()),
        ("metric", pa.float64()),
        ("denominator", pa.float64()),
        ("covariate", pa.float64()),
    ]
)
with pq.ParquetWriter(out, schema, compression="snappy") as w:
    done = 0
    while done < n:
        m = min(chunk, n - done)
        treated = rng.random(m) < 0.5
        covariate = rng.gamma(2.0, 150.0, m)  # pre-period handle seconds per unit
        denominator = 1.0 + rng.poisson(2.0, m)  # contacts per unit
        metric = denominator * (0.6 * covariate / 3.0 + rng.normal(100.0, 60.0, m)) - 8.0 * treated * denominator
        arm = np.where(treated, "B", "A")
        w.write_table(
            pa.table(
                {
                    "arm": pa.array(arm, pa.string()).dictionary_encode().cast(pa.string()),
                    "metric": metric,
                    "denominator": denominator,
                    "covariate": covariate,
                },
                schema=schema,
            )
        )
        done += m
print(f"wrote {n} rows to {out}")

"""Writes the A/B aggregation benchmark's input: N unit rows (arm, metric, denominator,
covariate) as Parquet, seeded, in row groups of 1M rows, without holding N rows in memory.

Usage (ab peer venv, which needs pyarrow for pandas' read_parquet):
  ~/.cache/causalkit-peers/ab/bin/pip install pyarrow==17.0.0
  ~/.cache/causalkit-peers/ab/bin/python benches/peers/ab_scan_gen.py 100000000 target/bench-data/ab_100m.parquet

With `--ints` (third argument) the file holds integer columns of every common width, as
exported warehouse tables do: `metric` Int32 (seconds, rounded), `denominator` UInt8
(contacts), `covariate` Int16 (pre-period seconds, rounded), plus `tenure` Int8 (months),
`events` Int64 and `resolved` Boolean. The same draws as the float file (same seed and order),
so the statistics differ from it only by the rounding.
"""
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

n = int(sys.argv[1])
out = sys.argv[2]
ints = len(sys.argv) > 3 and sys.argv[3] == "--ints"
chunk = 1_000_000
rng = np.random.default_rng(20261123)
if ints:
    schema = pa.schema(
        [
            ("arm", pa.string()),
            ("metric", pa.int32()),
            ("denominator", pa.uint8()),
            ("covariate", pa.int16()),
            ("tenure", pa.int8()),
            ("events", pa.int64()),
            ("resolved", pa.bool_()),
        ]
    )
else:
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
        arm = pa.array(np.where(treated, "B", "A"), pa.string()).dictionary_encode().cast(pa.string())
        if ints:
            cols = {
                "arm": arm,
                "metric": np.rint(metric).astype(np.int32),
                "denominator": denominator.astype(np.uint8),
                "covariate": np.minimum(np.rint(covariate), 32767).astype(np.int16),
                "tenure": rng.integers(0, 121, m, dtype=np.int8),
                "events": rng.poisson(40.0, m).astype(np.int64),
                "resolved": rng.random(m) < 0.7,
            }
        else:
            cols = {"arm": arm, "metric": metric, "denominator": denominator, "covariate": covariate}
        w.write_table(pa.table(cols, schema=schema))
        done += m
print(f"wrote {n} rows to {out}")

"""pyfixest side of the causalkit numeric-core benchmark (benches/core.rs).

Generates the same data as the Rust benchmark, bit for bit (see gen_data.py; the data
checksums printed here equal the ones `CAUSALKIT_BENCH_CHECK=1 cargo bench --bench core`
prints), times pyfixest on it and prints a table.

Timing: one untimed warm-up fit per task on the full data (imports, caches), then
`--reps` (default 3) timed calls, each after the previous result has been freed; the
table reports the best and the median wall time (time.perf_counter). Data generation and
DataFrame construction are not timed; the timed call is exactly the user-facing call
(`pf.feols(...)` with its defaults: `copy_data=True`, singleton detection, and the
coefficient table that `feols` computes itself). Run each task in a fresh process
(`--only`) to get its peak RSS from `/usr/bin/time -v`.

Tasks (ids match the Rust bench ids; `@tol` marks pyfixest's `fixef_tol`):
  twfe/balanced_1M, twfe/unbalanced_1M, twfe/balanced_10M:
      feols("y ~ d | unit + time", vcov={"CRV1": "unit"}), MapDemeaner(fixef_tol=tol)
      at pyfixest's default 1e-6 and at causalkit's default 1e-10.
  ols/hc1_k10_1M: feols("y ~ x0 + ... + x9", vcov="hetero")  (HC1)
  demean/5cols_2fe_1M: pyfixest.core.demean.demean (the Rust MAP demeaner feols uses),
      5 columns, two factors with 100,000 and 1,000 levels, tol 1e-6 and 1e-10.

Usage:
  python twfe_pyfixest.py                       # all 1M-row tasks
  python twfe_pyfixest.py --with-10m            # also the 10M-row panel
  python twfe_pyfixest.py --only twfe/balanced_10M@1e-06 --reps 1   # one task (for max RSS)
  python twfe_pyfixest.py --check-dir /tmp/ck   # compare with files CAUSALKIT_BENCH_EXPORT wrote
  python twfe_pyfixest.py --json out.json       # also write the results as JSON
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_data  # noqa: E402

import pyfixest as pf  # noqa: E402
from pyfixest.core.demean import demean as pf_demean  # noqa: E402

warnings.filterwarnings("ignore", category=DeprecationWarning)

TOLS = (1e-6, 1e-10)


def twfe_call(df: pd.DataFrame, tol: float):
    return pf.feols(
        "y ~ d | unit + time",
        data=df,
        vcov={"CRV1": "unit"},
        demeaner=pf.MapDemeaner(fixef_tol=tol),
    )


def ols_call(df: pd.DataFrame):
    rhs = " + ".join(c for c in df.columns if c != "y")
    return pf.feols(f"y ~ {rhs}", data=df, vcov="hetero")


def coef_se(fit, name: str) -> tuple[float, float]:
    return float(fit.coef()[name]), float(fit.se()[name])


def timed(fn, reps: int) -> tuple[list[float], object]:
    out = fn()  # warm-up, untimed
    times = []
    for _ in range(reps):
        out = None  # free the previous result first, so that only one fit is alive at a time
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


def build_tasks(with_10m: bool):
    """(task id, data factory, call, summary) — data are built lazily and shared per id."""
    tasks = []
    panels = [("twfe/balanced_1M", 100_000, 0.0), ("twfe/unbalanced_1M", 100_000, 0.1)]
    if with_10m:
        panels.append(("twfe/balanced_10M", 1_000_000, 0.0))
    for name, n_units, drop in panels:
        for tol in TOLS:
            tasks.append(
                (
                    f"{name}@{tol:g}",
                    (name, lambda n_units=n_units, drop=drop: gen_data.panel(n_units, 10, drop)),
                    lambda df, tol=tol: twfe_call(df, tol),
                    lambda fit: coef_se(fit, "d"),
                )
            )
    tasks.append(
        (
            "ols/hc1_k10_1M",
            ("ols/hc1_k10_1M", lambda: gen_data.ols_data(1_000_000, 10)),
            ols_call,
            lambda fit: coef_se(fit, "x0"),
        )
    )
    for tol in TOLS:
        tasks.append(
            (
                f"demean/5cols_2fe_1M@{tol:g}",
                ("demean/5cols_2fe_1M", lambda: gen_data.demean_data(1_000_000, 5)),
                lambda data, tol=tol: pf_demean(
                    data[0], data[1], np.ones(data[0].shape[0]), tol=tol, maxiter=100_000
                ),
                lambda out: (float(out[0][0, 0]), float(out[0][1, 0])),
            )
        )
    return tasks


def checksum_of(key: str, data) -> str:
    if key.startswith("demean"):
        return f"col0 {gen_data.checksum(data[0][:, 0])}"
    if key.startswith("ols"):
        return f"y {gen_data.checksum(data['y'].values)}, x9 {gen_data.checksum(data['x9'].values)}"
    return f"y {gen_data.checksum(data['y'].values)}, d {gen_data.checksum(data['d'].values)}"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(args) -> list[dict]:
    tasks = build_tasks(args.with_10m or (args.only or "").find("10M") >= 0)
    if args.only:
        tasks = [t for t in tasks if t[0] == args.only]
        if not tasks:
            sys.exit(f"unknown task {args.only}; known: {[t[0] for t in build_tasks(True)]}")
    results = []
    cache: dict[str, object] = {}
    for task_id, (key, factory), call, summary in tasks:
        if key not in cache:
            cache.clear()  # keep one dataset in memory at a time
            t0 = time.perf_counter()
            cache[key] = factory()
            gen_s = time.perf_counter() - t0
            print(
                f"# {key}: generated in {gen_s:.1f}s; checksum {checksum_of(key, cache[key])}; "
                f"peak RSS so far {peak_rss_mib():.0f} MiB"
            )
        data = cache[key]
        if key.startswith("demean") and key + "/ref" not in cache:
            ref, ok = pf_demean(data[0], data[1], np.ones(data[0].shape[0]), tol=1e-14, maxiter=100_000)
            cache[key + "/ref"] = ref
            print(f"# {key}: reference (tol 1e-14, converged: {ok}) col0[0..2] = {ref[:2, 0].tolist()}")
        times, out = timed(lambda: call(data), args.reps)
        a, b = summary(out)
        if key.startswith("demean"):
            dev = float(np.max(np.abs(out[0] - cache[key + "/ref"])))
            print(f"# {task_id}: converged {out[1]}, max |x - reference| = {dev:.3e}")
        rows = data[0].shape[0] if isinstance(data, tuple) else len(data)
        res = {
            "task": task_id,
            "rows": rows,
            "best_s": min(times),
            "median_s": statistics.median(times),
            "times_s": times,
            "value_a": a,
            "value_b": b,
        }
        label = "col0[0], col0[1]" if key.startswith("demean") else "coef, se"
        print(
            f"{task_id:32s} rows {rows:>10,d}  best {min(times):8.3f}s  "
            f"median {statistics.median(times):8.3f}s  {label} = {a:.15e}, {b:.15e}",
            flush=True,
        )
        results.append(res)
    return results


def check_files(directory: Path) -> None:
    """Compare the CSVs written by `CAUSALKIT_BENCH_EXPORT=<dir> cargo bench --bench core`
    with the numpy-generated data and fit both."""
    ref = gen_data.panel(100_000, 10, 0.1)
    df = pd.read_csv(directory / "twfe_unbalanced_1M.csv", float_precision="round_trip")
    same = all(np.array_equal(df[c].values, ref[c].values) for c in ref.columns)
    print(f"twfe_unbalanced_1M.csv: {len(df):,d} rows, bit-identical to gen_data.panel: {same}")
    for tol in TOLS:
        b, se = coef_se(twfe_call(df, tol), "d")
        print(f"  pyfixest on the Rust file, fixef_tol {tol:g}: coef(d) = {b:.15e}, se = {se:.15e}")
    ref = gen_data.ols_data(1_000_000, 10)
    df = pd.read_csv(directory / "ols_k10_1M.csv", float_precision="round_trip")
    same = all(np.array_equal(df[c].values, ref[c].values) for c in ref.columns)
    print(f"ols_k10_1M.csv: {len(df):,d} rows, bit-identical to gen_data.ols_data: {same}")
    b, se = coef_se(ols_call(df), "x0")
    print(f"  pyfixest on the Rust file: coef(x0) = {b:.15e}, se = {se:.15e}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--with-10m", action="store_true")
    p.add_argument("--only", help="run one task id, e.g. twfe/balanced_1M@1e-06")
    p.add_argument("--check-dir", type=Path)
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    print(
        f"# pyfixest {pf.__version__}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"Python {platform.python_version()}, {platform.machine()}"
    )
    if args.check_dir:
        check_files(args.check_dir)
        return
    results = run(args)
    print()
    print("| task | rows | pyfixest best | pyfixest median |")
    print("|---|---:|---:|---:|")
    for r in results:
        print(f"| {r['task']} | {r['rows']:,d} | {r['best_s']:.3f} s | {r['median_s']:.3f} s |")
    peak = peak_rss_mib()
    print(f"\n# peak RSS of this process: {peak:.0f} MiB")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "peak_rss_mib": peak}, indent=2))


if __name__ == "__main__":
    main()

"""Bit-identical numpy mirror of the data generator in ``benches/core.rs``.

Counter-based SplitMix64 with integer arithmetic and exactly rounded float operations
only (no log/sin/exp), evaluated in the same order as the Rust code, so every value equals
the Rust one bit for bit. ``checksum`` matches the Rust ``checksum`` (wrapping sum of the
IEEE-754 bit patterns) and is printed by both sides.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

GAMMA = np.uint64(0x9E3779B97F4A7C15)
M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)
INV_2_53 = 1.0 / 9_007_199_254_740_992.0
SQRT3 = float(np.sqrt(3.0))


def _mix(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * M1
    z = (z ^ (z >> np.uint64(27))) * M2
    return z ^ (z >> np.uint64(31))


def draw(s: int, i: np.ndarray) -> np.ndarray:
    """The i-th 64-bit draw of stream s (uint64 arithmetic wraps like Rust's wrapping_*)."""
    i = np.asarray(i, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return _mix(((np.uint64(s) << np.uint64(40)) + i + np.uint64(1)) * GAMMA)


def uniform(s: int, i: np.ndarray) -> np.ndarray:
    return (draw(s, i) >> np.uint64(11)).astype(np.float64) * INV_2_53


def normal(v: int, i: np.ndarray) -> np.ndarray:
    s = uniform(4 * v, i) + uniform(4 * v + 1, i)
    s = s + uniform(4 * v + 2, i)
    s = s + uniform(4 * v + 3, i)
    return (s - 2.0) * SQRT3


def checksum(x: np.ndarray) -> str:
    x = np.ascontiguousarray(x, dtype=np.float64)
    return f"{int(x.view(np.uint64).sum(dtype=np.uint64)):016x}"


def panel(n_units: int, n_periods: int, drop_share: float) -> pd.DataFrame:
    """Same as ``panel`` in benches/core.rs: columns y, d (float), unit, time (int)."""
    u = np.arange(n_units, dtype=np.uint64)
    alpha = normal(0, u)
    cohort = (np.uint64(2) + draw(100, u) % np.uint64(10)).astype(np.int64)
    unit = np.repeat(np.arange(n_units, dtype=np.int64), n_periods)
    time = np.tile(np.arange(n_periods, dtype=np.int64), n_units)
    i = np.arange(n_units * n_periods, dtype=np.uint64)
    if drop_share > 0.0:
        keep = uniform(101, i) >= drop_share
        unit, time, i = unit[keep], time[keep], i[keep]
    gamma = 0.1 * time.astype(np.float64)
    d = (time >= cohort[unit]).astype(np.float64)
    y = alpha[unit] + gamma + 1.5 * d + normal(1, i)
    assert len(np.unique(unit)) == n_units
    return pd.DataFrame({"y": y, "d": d, "unit": unit, "time": time})


def ols_data(n: int, k: int) -> pd.DataFrame:
    """Same as ``ols_data`` in benches/core.rs: columns y, x0..x{k-1}."""
    i = np.arange(n, dtype=np.uint64)
    xs = [normal(10 + j, i) for j in range(k)]
    y = np.full(n, 1.0)
    for j, xj in enumerate(xs):
        y = y + (0.1 * float(j + 1)) * xj
    y = y + normal(9, i)
    cols = {"y": y}
    cols.update({f"x{j}": xj for j, xj in enumerate(xs)})
    return pd.DataFrame(cols)


def demean_data(n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Same as ``demean_data`` in benches/core.rs: (columns (n, m), codes (n, 2) uint64)."""
    i = np.arange(n, dtype=np.uint64)
    c1 = draw(200, i) % np.uint64(100_000)
    c2 = draw(201, i) % np.uint64(1_000)
    cols = np.empty((n, m))
    for c in range(m):
        cols[:, c] = normal(30 + c, i) + normal(40 + c, c1) + normal(50 + c, c2)
    return cols, np.column_stack([c1, c2])

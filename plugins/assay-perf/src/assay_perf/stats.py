"""Summary statistics of a list of floats, equal to numpy's to the last bit, without importing numpy
for the sizes an eval run has (issue 18: importing numpy costs more CPU than folding a thousand
requests). ``summary`` gives what ``np.mean``, ``min``, ``max`` and ``np.percentile`` (method
``linear``, the default) give; above ``NUMPY_ABOVE`` values, or above ``NUMPY_LOADED_ABOVE`` when numpy
is already imported, numpy computes them (faster there).

Equal to numpy's because it does what numpy does: the mean is numpy's pairwise sum (blocks of
eight partial sums up to 128 values, halves above) divided by the count, and a percentile is
numpy's ``_lerp`` between the two closest ranks at ``(n - 1) * (q / 100)``. The tests compare
both on random samples of many sizes.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any

# Importing numpy costs ~0.15 s of CPU, the pure-Python pass ~0.5 us a value: a streamed eval's ~170k
# inter-token gaps (2,638 answers of 64 tokens) take 0.09 s here against 0.21 s with numpy's import.
NUMPY_ABOVE = 300_000
NUMPY_LOADED_ABOVE = 2_000  # numpy already imported: only its per-call cost is left


def _pairwise_sum(a: Sequence[float], lo: int, n: int) -> float:
    """numpy's ``pairwise_sum`` of ``a[lo:lo + n]`` (umath/loops_utils.h)."""
    if n < 8:
        res = -0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    if n <= 128:
        # numpy's eight partial sums r0..r7 (r_j = a[lo + j] + a[lo + j + 8] + ..., left to right), in locals
        # and fed eight values a step by one iterator (the same additions in the same order as numpy's loop)
        end = lo + n - n % 8
        r0, r1, r2, r3, r4, r5, r6, r7 = a[lo : lo + 8]
        it = iter(a[lo + 8 : end])
        for x0, x1, x2, x3, x4, x5, x6, x7 in zip(it, it, it, it, it, it, it, it):
            r0 += x0
            r1 += x1
            r2 += x2
            r3 += x3
            r4 += x4
            r5 += x5
            r6 += x6
            r7 += x7
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        for j in range(end, lo + n):
            res += a[j]
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return _pairwise_sum(a, lo, n2) + _pairwise_sum(a, lo + n2, n - n2)


def mean(values: Sequence[float]) -> float:
    """``float(np.mean(values))`` (values as float64)."""
    return (0.0 + _pairwise_sum(values, 0, len(values))) / len(values)


def percentile(ordered: Sequence[float], q: float) -> float:
    """``float(np.percentile(values, q))`` of the sorted ``ordered`` (method ``linear``)."""
    n = len(ordered)
    v = (n - 1) * (q / 100)
    if v >= n - 1:
        return ordered[-1]
    if v < 0:
        return ordered[0]
    lo = math.floor(v)
    a, b = ordered[lo], ordered[lo + 1]
    t = v - lo
    diff = b - a
    if t >= 0.5:
        return b - diff * (1 - t)
    return a + diff * t


def summary(values: Sequence[float], qs: Sequence[float]) -> dict[str, Any]:
    """{"n", "mean", "min", "max", "p<q>"...} of a non-empty float sequence, as numpy computes them."""
    n = len(values)
    if n > NUMPY_ABOVE or (n > NUMPY_LOADED_ABOVE and "numpy" in sys.modules):
        import numpy as np

        a = np.asarray(values, dtype=np.float64)
        out = {"n": int(a.size), "mean": float(a.mean()), "min": float(a.min()), "max": float(a.max())}
        for q, v in zip(qs, np.percentile(a, qs), strict=True):
            out[f"p{q:g}"] = float(v)
        return out
    ordered = sorted(values)
    out = {"n": n, "mean": mean(values), "min": ordered[0], "max": ordered[-1]}
    for q in qs:
        out[f"p{q:g}"] = percentile(ordered, float(q))
    return out

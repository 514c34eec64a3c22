"""assay_perf.stats gives numpy's figures to the last bit (mean, min, max, percentiles), without numpy."""

from __future__ import annotations

import random
from array import array

import numpy as np
import pytest
from assay_perf import stats

QS = [50.0, 90.0, 95.0, 99.0, 0.0, 100.0, 99.9, 12.5, 33.3]


def _numpy(values, qs):
    a = np.frombuffer(array("d", values), dtype=np.float64)
    out = {"n": int(a.size), "mean": float(a.mean()), "min": float(a.min()), "max": float(a.max())}
    for q, v in zip(qs, np.percentile(a, qs), strict=True):
        out[f"p{q:g}"] = float(v)
    return out


@pytest.mark.parametrize("scale", ["unit", "spread", "rounded"])
def test_equal_to_numpy_for_every_size(scale, monkeypatch):
    monkeypatch.setattr(stats, "NUMPY_LOADED_ABOVE", stats.NUMPY_ABOVE)  # numpy is imported here (_numpy)
    rng = random.Random(scale)
    sizes = [*range(1, 300), 511, 512, 513, 1000, 1024, 4097, 8192, 8193, stats.NUMPY_ABOVE, stats.NUMPY_ABOVE + 1]
    for n in sizes:
        if scale == "unit":
            xs = [rng.random() for _ in range(n)]
        elif scale == "spread":  # latencies from microseconds to minutes
            xs = [rng.expovariate(1) * 10 ** rng.randint(-6, 3) for _ in range(n)]
        else:
            xs = [round(rng.random(), 3) for _ in range(n)]
        assert stats.summary(array("d", xs), QS) == _numpy(xs, QS), n


def test_small_eval_sample_does_not_import_numpy():
    import subprocess
    import sys

    code = "import sys; from assay_perf.stats import summary; summary([0.1, 0.2, 0.4], [50, 99]); print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_streamed_evals_gaps_do_not_import_numpy():
    """170k inter-token gaps (a streamed eval of 2,638 answers of 64 tokens) stay below NUMPY_ABOVE: numpy's
    import would cost more than the pure-Python pass; once numpy is imported, it computes them."""
    import subprocess
    import sys

    code = (
        "import sys; from assay_perf.stats import summary; s = summary([i / 7 for i in range(170_000)], [50, 99]);"
        " had = 'numpy' in sys.modules; import numpy; t = summary([i / 7 for i in range(170_000)], [50, 99]);"
        " print(had, s == t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]

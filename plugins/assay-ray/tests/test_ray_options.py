"""--executor-args for the ray executor: a misspelled key is named with the closest one (no cluster needed)."""

from __future__ import annotations

import pytest
from assay.api import AssayError
from assay_ray.executor import OPTIONS, executor_options


def test_an_unknown_key_names_the_closest_and_the_keys_taken() -> None:
    with pytest.raises(AssayError) as err:
        executor_options({"worker": 2})
    assert str(err.value) == (
        "--executor-args: unknown key 'worker' (did you mean 'workers'?) for the ray executor; "
        f"it takes {', '.join(sorted(OPTIONS))}"
    )
    with pytest.raises(AssayError, match=r"unknown key 'zzz' for the ray executor"):
        executor_options({"zzz": 1})

"""subset_list is checked by one kernel rule (assay.api.select_subsets), whichever benchmark reads it."""

from __future__ import annotations

import pytest
from assay.api import AssayError, BenchmarkArgs, select_subsets
from assay.plugins import host


def test_all_subsets_when_none_is_chosen_and_the_chosen_in_their_order() -> None:
    assert select_subsets(BenchmarkArgs(name="b"), ("x", "y", "z")) == ["x", "y", "z"]
    assert select_subsets(BenchmarkArgs(name="b", subset_list=["z", "x"]), ["x", "y", "z"]) == ["z", "x"]


def test_an_unknown_subset_names_the_key_the_closest_name_and_the_list() -> None:
    args = BenchmarkArgs(name="b", subset_list=["geometry", "algebraa"])
    with pytest.raises(AssayError) as err:
        select_subsets(args, ["algebra", "geometry"], where="data/b")
    assert str(err.value) == (
        "dataset_args.b.subset_list: no subset 'algebraa' in data/b (did you mean 'algebra'?); "
        "available: algebra, geometry"
    )
    with pytest.raises(AssayError, match=r"^dataset_args\.b\.subset_list: no task 'q'; available: a, b$"):
        select_subsets(BenchmarkArgs(name="b", subset_list=["q"]), "ab", noun="task")


@pytest.mark.parametrize(
    "bench", ["aime24", "bbh", "bfcl_v3", "ifbench", "ifeval", "math", "math_500", "process_bench", "toolbench_static"]
)
def test_benchmarks_that_check_subsets_when_opened_use_the_kernel_rule(bench) -> None:
    entry = host().get("benchmarks", bench)
    with pytest.raises(AssayError, match=rf"^dataset_args\.{bench}\.subset_list: no .*'nonesuch'.*; available: "):
        entry.obj(BenchmarkArgs(name=bench, subset_list=["nonesuch"]))

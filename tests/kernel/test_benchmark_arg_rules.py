"""subset_list, eval_split, a 0-shot few_shot_num and prompt_template are checked by one kernel rule each
(assay.api.select_subsets, select_split, zero_shot, check_prompt_template), whichever benchmark reads them."""

from __future__ import annotations

import pytest
from assay.api import AssayError, BenchmarkArgs, check_prompt_template, select_split, select_subsets, zero_shot
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


def test_split_default_and_rule() -> None:
    assert select_split(BenchmarkArgs(name="b"), ("dev", "test")) == "dev"
    assert select_split(BenchmarkArgs(name="b", eval_split="test"), ("dev", "test")) == "test"
    with pytest.raises(AssayError) as err:
        select_split(BenchmarkArgs(name="b", eval_split="train"), ("test",), "one split")
    assert str(err.value) == "dataset_args.b.eval_split = 'train': expected one of test (one split)"


def test_zero_shot() -> None:
    zero_shot(BenchmarkArgs(name="b"))
    zero_shot(BenchmarkArgs(name="b", few_shot_num=0))
    with pytest.raises(AssayError) as err:
        zero_shot(BenchmarkArgs(name="b", few_shot_num=3), "no examples")
    assert str(err.value) == "dataset_args.b.few_shot_num = 3: b is evaluated 0-shot (no examples)"


ZERO_SHOT = ["aime24", "bfcl_v3", "ifbench", "ifeval", "longbench_write", "math", "math_500", "process_bench"]


@pytest.mark.parametrize("bench", [*ZERO_SHOT, "toolbench_static", "trivia_qa"])
def test_zero_shot_benchmarks_use_the_kernel_rule(bench) -> None:
    entry = host().get("benchmarks", bench)
    with pytest.raises(AssayError, match=rf"^dataset_args\.{bench}\.few_shot_num = 2: {bench} is evaluated 0-shot"):
        entry.obj(BenchmarkArgs(name=bench, few_shot_num=2))


@pytest.mark.parametrize("bench", ["drop", "ifbench", "math", "mmlu_redux", "trivia_qa", "winogrande", "mmlu_pro"])
def test_benchmarks_check_eval_split_by_the_kernel_rule(bench) -> None:
    entry = host().get("benchmarks", bench)
    with pytest.raises(AssayError, match=rf"^dataset_args\.{bench}\.eval_split = 'nonesuch': expected one of "):
        entry.obj(BenchmarkArgs(name=bench, eval_split="nonesuch"))


def test_prompt_template() -> None:
    def check(template, required=()):
        check_prompt_template(BenchmarkArgs(name="b", prompt_template=template), ("question", "choices"), required)

    check(None)
    check("{question}\n{choices:>4} {{literal}}", required=("question",))
    with pytest.raises(AssayError) as err:
        check("{question} {answer}")
    assert (
        str(err.value) == "dataset_args.b.prompt_template: unknown placeholder {answer}; known: {question}, {choices}"
    )
    for bad in ("{question", "{0}", "{question.x}", "}"):
        with pytest.raises(AssayError, match=r"^dataset_args\.b\.prompt_template: not a valid format string \("):
            check(bad)
    with pytest.raises(AssayError, match=r"^dataset_args\.b\.prompt_template: the template must contain \{question\}$"):
        check("{choices}", required=("question",))


@pytest.mark.parametrize(
    "bench",
    ["drop", "ifbench", "ifeval", "longbench_write", "trivia_qa", "simple_qa", "humaneval", "mbpp_plus", "mmlu", "arc"],
)
def test_a_bad_prompt_template_fails_when_the_benchmark_is_opened(bench) -> None:
    entry = host().get("benchmarks", bench)
    with pytest.raises(
        AssayError, match=rf"^dataset_args\.{bench}\.prompt_template: unknown placeholder \{{nonesuch\}}"
    ):
        entry.obj(BenchmarkArgs(name=bench, prompt_template="{nonesuch}"))

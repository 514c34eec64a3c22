"""HumanEval (openai/human-eval): 164 functions to complete, checked by their ``check(candidate)``."""

from __future__ import annotations

from collections.abc import Iterator

from assay.api import BenchmarkArgs, Sample, check_prompt_template

from assay_datasets import locate, read_jsonl

from .common import SPEC_KEYS, find_file, require, spec

HUB_ID = {"modelscope": "modelscope/humaneval", "huggingface": "openai/openai_humaneval"}
# EvalScope's instruction; the official harness sends the bare prompt to a completion model
DEFAULT_TEMPLATE = (
    "Read the following function signature and docstring, and fully implement the function described. "
    "Your response should only contain the code for this function.\n{prompt}"
)
TIMEOUT = 3.0  # human-eval's evaluate_functional_correctness default


class HumanEval:
    name = "humaneval"
    default_scorers = ["code_pass"]
    extra_args = SPEC_KEYS
    honours = ("prompt_template", "system_prompt")
    files = ("HumanEval.jsonl.gz", "HumanEval.jsonl", "human-eval-v2-20210705.jsonl")

    def __init__(self, args: BenchmarkArgs) -> None:
        self.args = args
        check_prompt_template(args, ("prompt",), required=("prompt",))

    def rows(self, args: BenchmarkArgs) -> Iterator[tuple[str, dict]]:
        path = find_file(locate(args, hub_id=HUB_ID), self.files, self.name)
        for line, row in read_jsonl(path):
            require(row, ("task_id", "prompt", "entry_point", "test"), f"{path}:{line}")
            yield str(row["task_id"]), row

    def load(self, args: BenchmarkArgs) -> Iterator[Sample]:
        template = args.prompt_template or DEFAULT_TEMPLATE
        for task_id, row in self.rows(args):
            messages = [{"role": "user", "content": template.format(prompt=row["prompt"])}]
            if args.system_prompt:
                messages.insert(0, {"role": "system", "content": args.system_prompt})
            yield Sample(
                id=task_id.rsplit("/", 1)[-1],
                subset="openai_humaneval",
                messages=messages,
                target=task_id,
                metadata={
                    "task_id": task_id,
                    "code": self.spec(args, row),
                },
            )

    def spec(self, args: BenchmarkArgs, row: dict) -> dict:
        return spec(
            args,
            "humaneval",
            TIMEOUT,
            prompt=row["prompt"],
            entry_point=row["entry_point"],
            test=row["test"],
        )


def program(spec: dict, code: str) -> str:
    """human-eval's check program: prompt + completion, the test, ``check(entry_point)``.

    A chat answer that repeats the whole function still works: its definition replaces the prompt's.
    """
    return f"{spec['prompt']}{code}\n\n{spec['test']}\n\ncheck({spec['entry_point']})\n"

"""MBPP (google-research): the test split (task ids 11-510), the paper's 3-shot prompt (tasks 2, 3, 4)."""

from __future__ import annotations

from collections.abc import Iterator

from assay.api import AssayError, BenchmarkArgs, Sample

from assay_datasets import locate, read_jsonl

from .common import SPEC_KEYS, find_file, require, spec

HUB_ID = "google-research-datasets/mbpp"
TEST_IDS = range(11, 511)  # mbpp/README.md: 11-510 test, 1-10 few-shot, 511-1000 train/validation
FEW_SHOT_IDS = (2, 3, 4)  # the paper's prompt examples
TIMEOUT = 3.0  # lm-evaluation-harness's mbpp (code_eval's default)
STOP = ("[DONE]", "\nassert", '\n"""')  # EvalScope's stop words for the extracted code
TASK = (
    "You are an expert Python programmer, and here is your task: {text} Your code should pass these tests:\n\n{tests}"
)


def _shot(row: dict) -> str:
    return TASK.format(text=row["text"], tests="\n".join(row["test_list"])) + f"\n[BEGIN]\n{row['code']}\n[DONE]\n"


class MBPP:
    name = "mbpp"
    default_scorers = ["code_pass"]
    extra_args = SPEC_KEYS
    honours = ("few_shot_num", "system_prompt")
    files = ("mbpp.jsonl",)

    def __init__(self, args: BenchmarkArgs) -> None:
        self.args = args

    def load(self, args: BenchmarkArgs) -> Iterator[Sample]:
        path = find_file(locate(args, hub_id=HUB_ID), self.files, self.name)
        rows: dict[int, dict] = {}
        for line, row in read_jsonl(path):
            require(row, ("task_id", "text", "code", "test_list"), f"{path}:{line}")
            rows[int(row["task_id"])] = row
        n_shots = 3 if args.few_shot_num is None else args.few_shot_num
        if n_shots > len(FEW_SHOT_IDS):
            raise AssayError(f"mbpp: few_shot_num is at most {len(FEW_SHOT_IDS)} (the paper's prompt tasks 2, 3, 4)")
        missing = [i for i in (*FEW_SHOT_IDS[:n_shots], *TEST_IDS) if i not in rows]
        if missing:
            raise AssayError(f"{path}: task ids missing from the file: {missing[:10]}")
        shots = "".join(_shot(rows[i]) for i in FEW_SHOT_IDS[:n_shots])
        for task_id in TEST_IDS:
            row = rows[task_id]
            tests = list(row["test_list"])
            question = TASK.format(text=row["text"], tests="\n".join(tests))
            content = f"{shots}{question}\n[BEGIN]\n" if shots else question
            messages = [{"role": "user", "content": content}]
            if args.system_prompt:
                messages.insert(0, {"role": "system", "content": args.system_prompt})
            yield Sample(
                id=str(task_id),
                subset="full",
                messages=messages,
                target=str(task_id),
                metadata={
                    "task_id": task_id,
                    "code": spec(
                        args,
                        "mbpp",
                        TIMEOUT,
                        setup=row.get("test_setup_code") or "",
                        tests=tests,
                        stop=list(STOP),
                    ),
                },
            )


def program(spec: dict, code: str) -> str:
    """The code, then the setup code (task 367's builds objects of the solution's class), then each assert."""
    return "\n".join([code, "", spec.get("setup", ""), *spec["tests"], ""])

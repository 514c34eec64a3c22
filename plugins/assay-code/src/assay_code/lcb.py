"""LiveCodeBench code generation (``livecodebench/code_generation_lite`` layout).

Files: ``test.jsonl`` (release_v1), ``test2.jsonl`` ... ``testN.jsonl`` (what each later release adds).
``release_version`` (dataset_args) picks them: ``release_vN`` (test .. testN), ``release_latest`` (all),
``vN`` (testN only) or ``vA_vB`` (testA .. testB); ``start_date`` / ``end_date`` (ISO dates) filter on
``contest_date``. Private tests are JSON or, in the lite release, base64(zlib(pickle(JSON text)));
the pickle is read with an unpickler that builds nothing but plain strings.

Grading follows lcb_runner/evaluation/testing_util.py: stdin problems run once per test with the
test's input on stdin, output compared line by line after stripping, numbers by ``Decimal`` value;
functional (LeetCode) problems call ``Solution().<func_name>`` on the JSON arguments of each test
in one program, a tuple counting as a list. 6 s per test; the first failing test ends the grading.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import pickle
import re
import zlib
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from assay.api import AssayError, BenchmarkArgs, Sample

from assay_datasets import locate, read_jsonl

from .common import SPEC_KEYS, require, spec

HUB_ID = {"modelscope": "AI-ModelScope/code_generation_lite", "huggingface": "livecodebench/code_generation_lite"}
TIMEOUT = 6.0  # per test, as lcb_runner's run_test
SYSTEM = (
    "You are an expert Python programmer. You will be given a question (problem specification) and will generate "
    "a correct Python program that matches the specification and passes all tests. You will NOT return anything "
    "except for the program."
)
WITH_STARTER = (
    "You will use the following starter code to write the solution to the problem and enclose your code within "
    "delimiters."
)
WITHOUT_STARTER = (
    "Read the inputs from stdin solve the problem and write the answer to stdout (do not directly test on the sample "
    "inputs). Enclose your code within delimiters as follows."
)
FUNCTIONAL_EXIT = {124: ("timeout", "per-test time limit")}


def user_prompt(row: dict[str, Any]) -> str:
    text = f"### Question:\n{row['question_content']}\n\n"
    if row.get("starter_code"):
        text += f"### Format: {WITH_STARTER}\n```python\n{row['starter_code']}\n```\n\n"
    else:
        text += f"### Format: {WITHOUT_STARTER}\n```python\n# YOUR CODE HERE\n```\n\n"
    return text + "### Answer: (use the provided format with backticks)\n\n"


class _StringsOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a test-case pickle")


def decode_tests(value: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(value, list):
        return value
    if not isinstance(value, str):
        raise AssayError(f"{where}: test cases are neither a list nor a string")
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        pass
    try:
        text = _StringsOnly(io.BytesIO(zlib.decompress(base64.b64decode(value)))).load()
        return json.loads(text)
    except Exception as exc:  # noqa: BLE001 - any failure means the same: unreadable tests
        raise AssayError(f"{where}: cannot decode the test cases ({type(exc).__name__}: {exc})") from None


def release_files(root: Path, version: str) -> list[Path]:
    present = {
        int(m.group(1) or 1): p for p in root.glob("test*.jsonl") if (m := re.fullmatch(r"test(\d*)\.jsonl", p.name))
    }
    if not present:
        raise AssayError(f"live_code_bench: no test*.jsonl under {root} (the code_generation_lite layout)")
    if version in ("release_latest", "latest"):
        wanted = sorted(present)
    elif m := re.fullmatch(r"release_v(\d+)", version):
        wanted = list(range(1, int(m.group(1)) + 1))
    elif m := re.fullmatch(r"v(\d+)", version):
        wanted = [int(m.group(1))]
    elif m := re.fullmatch(r"v(\d+)_v(\d+)", version):
        wanted = list(range(int(m.group(1)), int(m.group(2)) + 1))
    else:
        raise AssayError(f"live_code_bench: release_version {version!r} is not release_vN, release_latest, vN or vA_vB")
    missing = [n for n in wanted if n not in present]
    if missing:
        names = ", ".join("test.jsonl" if n == 1 else f"test{n}.jsonl" for n in missing)
        raise AssayError(f"live_code_bench: {version} needs {names} under {root}")
    return [present[n] for n in wanted]


def _date(value: Any, where: str) -> dt.date:
    try:
        return dt.datetime.fromisoformat(str(value)).date()
    except ValueError:
        raise AssayError(f"{where}: not an ISO date: {value!r}") from None


class LiveCodeBench:
    name = "live_code_bench"
    default_scorers = ["code_pass"]
    extra_args = (*SPEC_KEYS, "release_version", "start_date", "end_date")
    honours = ("system_prompt",)

    def __init__(self, args: BenchmarkArgs) -> None:
        self.args = args

    def load(self, args: BenchmarkArgs) -> Iterator[Sample]:
        extra = dict(args.extra)
        version = str(extra.get("release_version", "release_latest"))
        start = _date(extra["start_date"], "start_date") if extra.get("start_date") else None
        end = _date(extra["end_date"], "end_date") if extra.get("end_date") else None
        root = locate(args, hub_id=HUB_ID)
        for path in release_files(root, version):
            for line, row in read_jsonl(path):
                where = f"{path}:{line}"
                require(
                    row,
                    ("question_id", "question_content", "contest_date", "public_test_cases", "private_test_cases"),
                    where,
                )
                date = _date(row["contest_date"], where)
                if (start and date < start) or (end and date > end):
                    continue
                tests = decode_tests(row["public_test_cases"], where) + decode_tests(row["private_test_cases"], where)
                meta = row.get("metadata") or {}
                meta = json.loads(meta) if isinstance(meta, str) else meta
                functional = bool(meta.get("func_name"))
                messages = [{"role": "system", "content": args.system_prompt or SYSTEM}]
                messages.append({"role": "user", "content": user_prompt(row)})
                yield Sample(
                    id=str(row["question_id"]),
                    subset="code_generation",
                    messages=messages,
                    target=str(row["question_id"]),
                    category=str(row.get("difficulty") or "default"),
                    metadata={
                        "platform": row.get("platform"),
                        "contest_date": str(row["contest_date"]),
                        "code": spec(
                            args,
                            "lcb",
                            TIMEOUT,
                            func_name=meta.get("func_name") if functional else None,
                            tests=[{"input": t["input"], "output": t["output"]} for t in tests],
                            keep_main=True,
                            limits={"memory": 4 << 30, **(args.extra.get("limits") or {})},
                        ),
                    },
                )


IMPORTS = (
    "from string import *\nfrom re import *\nfrom datetime import *\nfrom collections import *\nfrom heapq import *\n"
    "from bisect import *\nfrom copy import *\nfrom math import *\nfrom random import *\nfrom statistics import *\n"
    "from itertools import *\nfrom functools import *\nfrom operator import *\nfrom io import *\nfrom sys import *\n"
    "from json import *\nfrom builtins import *\nfrom typing import *\nimport string, re, datetime, collections, heapq\n"
    "import bisect, copy, math, random, statistics, itertools, functools, operator, io, sys, json\n"
    "sys.setrecursionlimit(50000)\n"
)

FUNCTIONAL_RUNNER = r"""
import contextlib, io, json, os, signal, sys

setup = json.load(open("/code/setup.json"))


class TestTimeout(BaseException):
    pass


def on_alarm(signum, frame):
    raise TestTimeout()


signal.signal(signal.SIGALRM, on_alarm)
ns = {"__name__": "__candidate__"}
with contextlib.redirect_stdout(io.StringIO()):
    exec(compile(open("/code/candidate.py").read(), "candidate.py", "exec"), ns)
target = ns["Solution"]() if "Solution" in ns else None
method = getattr(target, setup["func_name"], None) if target is not None else ns.get(setup["func_name"])
if method is None:
    raise NameError(f"no {setup['func_name']} to call")
for i, test in enumerate(setup["tests"]):
    args = [json.loads(line) for line in test["input"].split("\n")]
    expected = json.loads(test["output"])
    signal.setitimer(signal.ITIMER_REAL, setup["timeout"])
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            got = method(*args)
    except TestTimeout:
        print(f"test {i}: over its time limit", file=sys.stderr)
        os._exit(124)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    if isinstance(got, tuple):
        got = list(got)
    if got != expected:
        raise AssertionError(f"wrong answer on test {i}")
print(f"{len(setup['tests'])} tests passed")
"""


def programs(spec: dict[str, Any], code: str) -> list[dict[str, Any]]:
    tests = spec["tests"]
    if spec.get("func_name"):
        setup = {"func_name": spec["func_name"], "tests": tests, "timeout": spec["timeout"]}
        return [
            {
                "tests": "functional",
                "files": {
                    "main.py": FUNCTIONAL_RUNNER,
                    "setup.json": json.dumps(setup),
                    "candidate.py": IMPORTS + "\n" + code,
                },
                "failed_exit": FUNCTIONAL_EXIT,
                "wall": spec["timeout"] * len(tests) + 5,
            }
        ]
    return [
        {"tests": f"stdin:{i}", "source": code, "stdin": t["input"].encode(), "expect": t["output"]}
        for i, t in enumerate(tests)
    ]


def _decimals(line: str) -> list[Decimal] | None:
    try:
        return [Decimal(x) for x in line.split()]
    except InvalidOperation:
        return None


def same_output(got: str, expected: str) -> bool:
    """lcb_runner's stdin comparison: stripped lines, equal as text or as lists of Decimals."""
    a = [line.strip() for line in got.strip().split("\n")]
    b = [line.strip() for line in expected.strip().split("\n")]
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if x == y:
            continue
        dx, dy = _decimals(x), _decimals(y)
        if dx is None or dy is None or dx != dy:
            return False
    return True

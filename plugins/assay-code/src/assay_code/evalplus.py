"""HumanEval+ and MBPP+ (EvalPlus): differential tests against the canonical solution.

Each answer runs twice in the sandbox, on the base inputs then (if those pass) on the plus inputs;
each run computes the expected outputs with the canonical solution first, then calls the answer's
function on a fresh copy of every input under a per-input time limit of max(1 s, 4 x the canonical
solution's time) (EvalPlus's defaults), comparing as EvalPlus does: equality, else with ``atol``
(1e-6 for float outputs when the task has none; rtol 1e-7), and the special oracles of
HumanEval/32 (``find_zero``: |poly(xs, x)| <= atol), Mbpp/164 and Mbpp/295.

The inputs are large (about 7 MB for HumanEval+), so samples carry the data file and task id and
the scorer reads the inputs from there (rescoring needs the data files).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assay.api import AssayError, BenchmarkArgs, Sample, check_prompt_template

from assay_datasets import locate, read_jsonl

from .common import SPEC_KEYS, find_file, require, spec
from .humaneval import DEFAULT_TEMPLATE as HUMANEVAL_TEMPLATE

# EvalPlus's instruction to chat models
MBPP_TEMPLATE = (
    "Please provide a self-contained Python script that solves the following problem in a markdown code block:\n"
    "```\n{prompt}\n```\n"
)
TIMEOUT = 60.0  # the whole run on one input set; each input has its own limit inside
PER_INPUT_EXIT = 124  # the runner's exit status when an input exceeds its time limit

# MBPP+ stores tuples, sets and complex numbers as JSON lists/strings; EvalPlus converts them back
# per task (evalplus/data/mbpp.py, mbpp_deserialize_inputs). Kinds of conversion, by task number:
_MBPP_CONVERT: dict[int, str] = {}
for _kind, _ids in {
    "args_to_tuples": (2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596, 616, 630, 726)
    + (740, 744, 809),
    "nested_args_to_tuples": (63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780),
    "first_arg_items_to_tuples": (75, 413, 444, 753),
    "second_arg_to_tuple": (106, 750),
    "first_arg_items_to_sets": (115,),
    "float_and_complex": (124,),
    "first_arg_to_tuple": (250, 405, 446, 617, 720, 763, 808),
    "nested_then_args_to_tuples": (259, 401, 445),
    "first_arg_lists_to_tuples_then_args": (278,),
    "first_arg_to_tuple_3": (307,),
    "dict_values_to_tuples": (722,),
    "complex": (252,),
    "all_lists_to_tuples": (580, 615, 791),
}.items():
    for _id in _ids:
        _MBPP_CONVERT[_id] = _kind


class HumanEvalPlus:
    name = "humaneval_plus"
    default_scorers = ["code_pass"]
    extra_args = SPEC_KEYS
    honours = ("prompt_template", "system_prompt")
    files = ("HumanEvalPlus.jsonl.gz", "HumanEvalPlus.jsonl")
    hub_id: str | dict[str, str] = {
        "modelscope": "evalscope/humanevalplus",
        "huggingface": "evalplus/humanevalplus",
    }
    subset = "default"
    template = HUMANEVAL_TEMPLATE

    def __init__(self, args: BenchmarkArgs) -> None:
        self.args = args
        check_prompt_template(args, ("prompt",), required=("prompt",))

    def load(self, args: BenchmarkArgs) -> Iterator[Sample]:
        path = find_file(locate(args, hub_id=self.hub_id), self.files, self.name).resolve()
        template = args.prompt_template or self.template
        for line, row in read_jsonl(path):
            require(
                row,
                ("task_id", "prompt", "entry_point", "canonical_solution", "base_input", "plus_input"),
                f"{path}:{line}",
            )
            task_id = str(row["task_id"])
            messages = [{"role": "user", "content": template.format(prompt=row["prompt"].strip())}]
            if args.system_prompt:
                messages.insert(0, {"role": "system", "content": args.system_prompt})
            yield Sample(
                id=task_id.rsplit("/", 1)[-1],
                subset=self.subset,
                messages=messages,
                target=task_id,
                metadata={
                    "task_id": task_id,
                    "code": spec(
                        args,
                        "evalplus",
                        TIMEOUT,
                        data_file=str(path),
                        task_id=task_id,
                        limits={"memory": 4 << 30, **(args.extra.get("limits") or {})},  # EvalPlus allows 4 GB
                        metrics={"pass": ["base", "plus"], "pass_base": ["base"]},
                    ),
                },
            )


class MBPPPlus(HumanEvalPlus):
    name = "mbpp_plus"
    files = ("MbppPlus.jsonl.gz", "MbppPlus.jsonl")
    hub_id: str | dict[str, str] = {"modelscope": "evalscope/mbppplus", "huggingface": "evalplus/mbppplus"}
    template = MBPP_TEMPLATE


@functools.lru_cache(maxsize=4)
def _tasks(data_file: str) -> dict[str, dict[str, Any]]:
    path = Path(data_file)
    if not path.is_file():
        raise AssayError(f"EvalPlus data file {data_file} is gone: rescoring needs the data files")
    return {str(row["task_id"]): row for _, row in read_jsonl(path)}


def task(spec: dict[str, Any]) -> dict[str, Any]:
    tasks = _tasks(spec["data_file"])
    if spec["task_id"] not in tasks:
        raise AssayError(f"{spec['data_file']}: no task {spec['task_id']!r}")
    return tasks[spec["task_id"]]


def programs(spec: dict[str, Any], code: str) -> list[dict[str, Any]]:
    row = task(spec)
    is_mbpp = row["task_id"].startswith("Mbpp/")
    reference = row["canonical_solution"] if is_mbpp else row["prompt"] + row["canonical_solution"]
    candidate = code if is_mbpp else row["prompt"] + code
    convert = _MBPP_CONVERT.get(int(row["task_id"].split("/")[1]), "") if is_mbpp else ""
    runs = []
    for group in ("base", "plus"):  # plus runs only when base passed (EvalPlus's plus = base and plus)
        setup = {
            "entry_point": row["entry_point"],
            "task_id": row["task_id"],
            "atol": float(row.get("atol") or 0),
            "convert": convert,
            "inputs": row[f"{group}_input"],
        }
        runs.append(
            {
                "tests": group,
                "files": {
                    "main.py": RUNNER,
                    "setup.json": json.dumps(setup),
                    "reference.py": reference,
                    "candidate.py": candidate,
                },
                "failed_exit": {PER_INPUT_EXIT: ("timeout", "per-input time limit")},
            }
        )
    return runs


# The program that runs in the sandbox. Standard library only (the sandbox has no numpy).
RUNNER = r"""
import contextlib, copy, io, json, math, os, signal, sys, time

setup = json.load(open("/code/setup.json"))
entry, atol, kind, task_id = setup["entry_point"], setup["atol"], setup["convert"], setup["task_id"]


def tuples(x):
    return tuple(tuples(i) for i in x) if isinstance(x, list) else x


def convert(inp):
    if kind == "args_to_tuples":
        return [tuple(a) for a in inp]
    if kind == "nested_args_to_tuples":
        return [[tuple(b) for b in a] for a in inp]
    if kind == "first_arg_items_to_tuples":
        return [[tuple(b) for b in inp[0]], inp[1]]
    if kind == "second_arg_to_tuple":
        return [inp[0], tuple(inp[1])]
    if kind == "first_arg_items_to_sets":
        return [[set(b) if isinstance(b, list) and b else {} for b in inp[0]]]
    if kind == "float_and_complex":
        return (float(inp[0]), complex(inp[1]))
    if kind == "first_arg_to_tuple":
        return [tuple(inp[0]), inp[1]]
    if kind == "nested_then_args_to_tuples":
        return [tuple(tuple(b) for b in a) for a in inp]
    if kind == "first_arg_lists_to_tuples_then_args":
        return [tuple(tuple(b) if isinstance(b, list) else b for b in inp[0])]
    if kind == "first_arg_to_tuple_3":
        return [tuple(inp[0]), inp[1], inp[2]]
    if kind == "dict_values_to_tuples":
        return [{k: tuple(v) for k, v in inp[0].items()}, *inp[1:]]
    if kind == "complex":
        return [complex(inp[0])]
    if kind == "all_lists_to_tuples":
        return tuples(inp)
    return inp


inputs = [convert(i) for i in setup["inputs"]]


class InputTimeout(BaseException):
    pass


def on_alarm(signum, frame):
    raise InputTimeout()


signal.signal(signal.SIGALRM, on_alarm)


def load(path):
    ns = {"__name__": "__candidate__"}
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        exec(compile(open(path).read(), path, "exec"), ns)
    return ns[entry]


try:
    reference = load("/code/reference.py")
    expected, limits = [], []
    for inp in inputs:
        t = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            expected.append(reference(*copy.deepcopy(inp)))
        limits.append(max(1.0, 4 * (time.perf_counter() - t)))
except BaseException as exc:
    print(f"reference solution failed: {type(exc).__name__}", file=sys.stderr)
    os._exit(125)


def is_floats(x):
    if isinstance(x, float):
        return True
    if isinstance(x, (list, tuple)):
        return all(isinstance(i, float) for i in x)
    return False


def close(out, exp, tol):
    # numpy.testing.assert_allclose(out, exp, atol=tol) with rtol 1e-7, for scalars and nested sequences
    if isinstance(exp, (list, tuple)):
        return isinstance(out, (list, tuple)) and len(out) == len(exp) and all(close(o, e, tol) for o, e in zip(out, exp))
    try:
        o, e = float(out), float(exp)
    except (TypeError, ValueError):
        return False
    if math.isnan(o) and math.isnan(e):
        return True
    return abs(o - e) <= tol + 1e-7 * abs(e)


def poly(xs, x):
    return sum(c * math.pow(x, i) for i, c in enumerate(xs))


def surface_area(base_edge, height):  # Mbpp/581: the height as the pyramid's perpendicular height
    slant = math.sqrt((base_edge / 2) ** 2 + height**2)
    return round(base_edge**2 + 2 * base_edge * slant)


def digit_distance(a, b):  # Mbpp/558: numbers padded with zeros to the same length
    sa, sb = str(a), str(b)
    n = max(len(sa), len(sb))
    return sum(abs(int(x) - int(y)) for x, y in zip(sa.zfill(n), sb.zfill(n)))


SET_EQ = {"similar_elements", "find_char_long", "common_in_nested_lists", "extract_singly", "larg_nnum"}
SET_EQ |= {"intersection_array", "find_dissimilar", "Diff"}
NOT_NONE = {"check_str", "text_match_three", "text_starta_endb"}  # outputs (re.Match) compared as "not None"
mbpp = task_id.startswith("Mbpp/")
if mbpp and entry in NOT_NONE:
    expected = [e is not None for e in expected]


def matches(inp, out, exp):
    exact = out == exp
    if mbpp:
        if entry == "are_equivalent":
            return True
        if entry == "sum_div":
            exact = exact or out == 0
        elif entry == "surface_Area":
            exact = exact or abs(out - surface_area(*inp)) <= atol
        elif entry == "digit_distance_nums":
            exact = exact or out == digit_distance(*inp)
        elif entry in SET_EQ:
            exact = set(out) == set(exp)
        elif entry in NOT_NONE:
            exact = out == exp if isinstance(out, bool) else exp == (out is not None)
    elif entry == "find_zero":
        return abs(poly(*inp, out)) <= atol
    tol = 1e-6 if atol == 0 and is_floats(exp) else atol
    if not exact and tol != 0:
        if type(out) is not type(exp):
            return False
        return close(out, exp, tol)
    return bool(exact)


candidate = load("/code/candidate.py")
for i, inp in enumerate(inputs):
    signal.setitimer(signal.ITIMER_REAL, limits[i])
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            out = candidate(*copy.deepcopy(inp))
    except InputTimeout:
        print(f"input {i}: over its time limit of {limits[i]:.2f} s", file=sys.stderr)
        os._exit(124)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    if not matches(inp, out, expected[i]):
        raise AssertionError(f"wrong output on input {i}")
print(f"{len(inputs)} inputs passed")
"""

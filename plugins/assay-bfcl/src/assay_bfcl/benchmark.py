"""BFCL v3: loading the single-turn categories and turning function docs into OpenAI tools.

Files (gorilla ``berkeley-function-call-leaderboard/bfcl_eval/data`` as of v3): ``BFCL_v3_<category>.json``
(JSON lines: ``id``, ``question`` = list of turns of chat messages, ``function`` = function docs)
and ``possible_answer/BFCL_v3_<category>.json`` (``id``, ``ground_truth``). The relevance
categories have no answer file.

The request (BFCL's FC mode for OpenAI-style models): the first turn's messages as given, the
function docs as ``tools`` after BFCL's processing: `` Note that the provided function is in
Python 3 syntax.`` appended to each description, ``.`` in names -> ``_``, parameter types
mapped by ``GORILLA_TO_OPENAPI`` (``dict`` -> ``object``, ``float`` -> ``number`` with
``format: float`` and `` This is a float type value.``, ...). The tools ride in
``metadata.generation_config`` (merged into the request by the kernel), the original docs in
``metadata.functions`` for the checker.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import msgspec
from assay.api import AssayError, BenchmarkArgs, Sample, check_extra_args, select_subsets, zero_shot
from assay_datasets import locate, read_jsonl

from .checker import language_of

# EvalScope's order of the v3 categories
CATEGORIES = [
    "simple",
    "multiple",
    "parallel",
    "parallel_multiple",
    "java",
    "javascript",
    "irrelevance",
    "live_simple",
    "live_multiple",
    "live_parallel",
    "live_parallel_multiple",
    "live_irrelevance",
    "live_relevance",
    "multi_turn_base",
    "multi_turn_miss_func",
    "multi_turn_miss_param",
    "multi_turn_long_context",
]
NOT_SUPPORTED = {
    "multi_turn_base": "multi-turn categories run BFCL's executable API backends and compare states; not ported yet",
    "multi_turn_miss_func": "multi-turn categories run BFCL's executable API backends and compare states; not ported yet",
    "multi_turn_miss_param": "multi-turn categories run BFCL's executable API backends and compare states; not ported yet",
    "multi_turn_long_context": "multi-turn categories run BFCL's executable API backends and compare states; not ported yet",
}
SUPPORTED = [c for c in CATEGORIES if c not in NOT_SUPPORTED]
NO_ANSWER = ("irrelevance", "live_irrelevance", "live_relevance")
# Hugging Face: gorilla's own dataset repo, the same files as bfcl_eval/data (read as they are).
# ModelScope: EvalScope's id; that copy is one merged file in another layout (EvalScope reads it
# through bfcl-eval), so a snapshot from there ends in this loader's "expected one BFCL_v3_..." error.
HUB_ID = {"huggingface": "gorilla-llm/Berkeley-Function-Calling-Leaderboard", "modelscope": "AI-ModelScope/bfcl_v3"}
HUB_FILES = ["BFCL_v3_*.json", "possible_answer/BFCL_v3_*.json"]

GORILLA_TO_OPENAPI = {
    "integer": "integer",
    "number": "number",
    "float": "number",
    "string": "string",
    "boolean": "boolean",
    "bool": "boolean",
    "array": "array",
    "list": "array",
    "dict": "object",
    "object": "object",
    "tuple": "array",
    "any": "string",
    "byte": "integer",
    "short": "integer",
    "long": "integer",
    "double": "number",
    "char": "string",
    "ArrayList": "array",
    "Array": "array",
    "HashMap": "object",
    "Hashtable": "object",
    "Queue": "array",
    "Stack": "array",
    "Any": "string",
    "String": "string",
    "Bigint": "integer",
}
HINTS = {
    "java": " Note that the provided function is in Java 8 SDK syntax.",
    "javascript": " Note that the provided function is in JavaScript syntax.",
    "python": " Note that the provided function is in Python 3 syntax.",
}


def _cast_to_openai_type(properties: dict[str, Any]) -> dict[str, Any]:
    """BFCL's ``_cast_to_openai_type`` with ``GORILLA_TO_OPENAPI``."""
    m = GORILLA_TO_OPENAPI
    for key, value in properties.items():
        if "type" not in value:
            value["type"] = "string"
        else:
            t = value["type"]
            if t == "float":
                value["format"] = "float"
                value["description"] = value.get("description", "") + " This is a float type value."
            value["type"] = m.get(t, "string")
        if value["type"] in ("array", "object"):
            if "properties" in value:
                value["properties"] = _cast_to_openai_type(value["properties"])
            elif "items" in value:
                items = value["items"]
                items["type"] = m[items["type"]]
                if items["type"] == "array" and "items" in items:
                    items["items"]["type"] = m[items["items"]["type"]]
                elif items["type"] == "object" and "properties" in items:
                    items["properties"] = _cast_to_openai_type(items["properties"])
        properties[key] = value
    return properties


def _language_pre_processing(item: dict[str, Any], language: str) -> None:
    """``_func_doc_language_specific_pre_processing``: the language hint; for Java and JavaScript
    every parameter becomes a string holding a literal of that language, its type told in words."""
    item["description"] = item.get("description", "") + HINTS[language]
    if language == "python":
        return
    lang = "Java" if language == "java" else "JavaScript"
    for value in item["parameters"].get("properties", {}).values():
        value.setdefault("description", "")
        if value["type"] == "any":
            value["description"] += f" This parameter can be of any type of {lang} object in string representation."
        else:
            value["description"] += f" This is {lang} {value['type']} type parameter in string representation."
        if value["type"] in (("ArrayList", "Array") if language == "java" else ("array",)):
            value["description"] += (
                f" The list elements are of type {value['items']['type']}; they are not in string representation."
            )
            del value["items"]
        if language == "javascript" and value["type"] == "dict" and "properties" in value:
            value["description"] += (
                " The dictionary entries have the following schema; they are not in string representation. "
                + json.dumps(value["properties"])
            )
            del value["properties"]
        value["type"] = "string"


def to_tools(functions: list[dict[str, Any]], language: str = "python") -> list[dict[str, Any]]:
    """Function docs -> OpenAI ``tools`` (language pre-processing, then ``convert_to_tool``)."""
    tools = []
    for item in msgspec.json.decode(msgspec.json.encode(functions)):  # a deep copy, ~10x faster than copy.deepcopy
        _language_pre_processing(item, language)
        item["name"] = re.sub(r"\.", "_", item["name"])
        item["parameters"]["type"] = "object"
        item["parameters"]["properties"] = _cast_to_openai_type(item["parameters"].get("properties", {}))
        tools.append({"type": "function", "function": item})
    return tools


def _find(root: Path, name: str, sub: str | None = None) -> Path:
    cands = sorted(p for p in root.rglob(name) if (sub is None) == (p.parent.name != "possible_answer"))
    if sub is not None:
        cands = [p for p in cands if p.parent.name == sub]
    if len(cands) != 1:
        where = f"{sub}/" if sub else ""
        raise AssayError(
            f"bfcl_v3: expected one {where}{name} under {root}, found " + (", ".join(map(str, cands)) or "none")
        )
    return cands[0]


class BFCLv3:
    name = "bfcl_v3"
    hub_id = HUB_ID
    default_scorers: ClassVar[list[str]] = ["bfcl_ast"]
    honours: ClassVar[tuple[str, ...]] = ("subset_list", "few_shot_num", "system_prompt")
    extra_args: ClassVar[tuple[str, ...]] = ()

    def __init__(self, args: BenchmarkArgs) -> None:
        check_extra_args(args, self.extra_args)
        self.args = args
        zero_shot(args)
        if args.prompt_template:
            raise AssayError(f"dataset_args.{args.name}.prompt_template: bfcl_v3 sends the conversation as given")
        for s in args.subset_list or []:
            if s in NOT_SUPPORTED:
                raise AssayError(f"bfcl_v3: category {s!r} is not supported: {NOT_SUPPORTED[s]}")
        select_subsets(args, SUPPORTED, noun="supported category")

    def load(self, args: BenchmarkArgs | None = None) -> Iterator[Sample]:
        args = args or self.args
        root = locate(args, "bfcl_v3", "bfcl", hub_id=self.hub_id, hub_files=HUB_FILES)
        if root.is_file():
            root = root.parent
        for cat in args.subset_list or SUPPORTED:
            qpath = _find(root, f"BFCL_v3_{cat}.json")
            answers: dict[str, Any] = {}
            if cat not in NO_ANSWER:
                apath = _find(root, f"BFCL_v3_{cat}.json", "possible_answer")
                for line, row in read_jsonl(apath):
                    if "id" not in row or not isinstance(row.get("ground_truth"), list):
                        raise AssayError(f"{apath}:{line}: expected 'id' and a 'ground_truth' list")
                    answers[str(row["id"])] = row["ground_truth"]
            for line, row in read_jsonl(qpath):
                yield self._sample(qpath, line, row, cat, answers, args)

    def _sample(
        self, path: Path, line: int, row: dict[str, Any], cat: str, answers: dict[str, Any], args: BenchmarkArgs
    ) -> Sample:
        where = f"{path}:{line}"
        rid, question, functions = row.get("id"), row.get("question"), row.get("function")
        if not isinstance(rid, str) or not rid:
            raise AssayError(f"{where}: missing 'id'")
        if (
            not isinstance(question, list)
            or not question
            or not isinstance(question[0], list)
            or not all(isinstance(m, dict) and "role" in m and "content" in m for m in question[0])
        ):
            raise AssayError(f"{where}: 'question' must be a list of turns, each a list of {{role, content}} messages")
        if not isinstance(functions, list) or not all(
            isinstance(f, dict) and isinstance(f.get("name"), str) and isinstance(f.get("parameters"), dict)
            for f in functions
        ):
            raise AssayError(f"{where}: 'function' must be a list of function docs with 'name' and 'parameters'")
        if cat in NO_ANSWER:
            target: Any = "no function call" if "irrelevance" in cat else "a function call"
        else:
            if rid not in answers:
                raise AssayError(f"{where}: no ground truth for {rid!r} in possible_answer/BFCL_v3_{cat}.json")
            target = answers[rid]
        messages = [dict(m) for m in question[0]]
        if args.system_prompt:
            messages.insert(0, {"role": "system", "content": args.system_prompt})
        try:
            tools = to_tools(functions, language_of(cat))
        except (KeyError, TypeError, AttributeError) as exc:
            raise AssayError(
                f"{where}: a function doc cannot be converted to a tool ({type(exc).__name__}: {exc})"
            ) from None
        return Sample(
            id=rid,
            subset=cat,
            messages=messages,
            target=target,
            metadata={
                "category": cat,
                "functions": functions,
                "generation_config": {"tools": tools},
                "source": where,
            },
        )

"""BFCL's AST checker for Python function calls, ported from ShishirPatil/gorilla
``berkeley-function-call-leaderboard/bfcl_eval/eval_checker/ast_eval/ast_checker.py`` (Apache 2.0),
with the relevance rule of ``eval_runner.py`` and the FC-mode decoding of the OpenAI handler.

Kept as the original decides: types are checked with ``type(x) == T`` (so ``True`` is not an
integer), an int is accepted for a float parameter, strings are compared after
``standardize_string`` (spaces and ``,./-_*^`` removed, lower case, ``'`` -> ``"``), a value
of another type than the function doc says is accepted when the possible answers hold that
type ("a variable"), optional parameters may be left out only when ``""`` is among their
possible answers, parallel calls match in any order. Function names: the tools API forbids
``.``, so names were sent with ``.`` -> ``_`` and the expected names are converted the same way
(BFCL's ``underscore_to_dot``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from assay.api import Score
from assay.events import Generated, SampleLoaded

from .convert import (
    JAVA_TYPE_CONVERSION,
    JS_TYPE_CONVERSION,
    NESTED_CONVERSION_TYPE_LIST,
    java_type_converter,
    js_type_converter,
)

PYTHON_TYPE_MAPPING: dict[str, type] = {
    "string": str,
    "integer": int,
    "float": float,
    "boolean": bool,
    "array": list,
    "tuple": list,
    "dict": dict,
    "any": str,
}
PYTHON_NESTED_TYPE_CHECK_LIST = ("array", "tuple")
RELEVANCE = ("irrelevance", "live_irrelevance", "live_relevance")

Result = dict[str, Any]


def _ok() -> Result:
    return {"valid": True, "error": []}


def _bad(error: str, error_type: str) -> Result:
    return {"valid": False, "error": [error], "error_type": error_type}


def find_description(func_descriptions: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    for d in func_descriptions:
        if d["name"] == name:
            return d
    return None


def get_possible_answer_type(possible_answer: list[Any]) -> type | None:
    for answer in possible_answer:
        if answer != "":  # "" marks an optional parameter
            return type(answer)
    return None


def convert_func_name(name: str) -> str:
    return re.sub(r"\.", "_", name) if "." in name else name


def type_checker(
    param: str, value: Any, possible_answer: list[Any], type_description: str, expected: type, nested: type | None
) -> Result:
    # one level of nesting only, as the original
    result: Result = {"valid": True, "error": [], "is_variable": False, "error_type": "type_error:simple"}
    is_variable = False
    answer_type = get_possible_answer_type(possible_answer)
    if answer_type is not None and answer_type != expected:
        is_variable = True
    if type(value) == expected:  # noqa: E721 - exact type, as the original (bool is not int)
        if nested is None:
            result["is_variable"] = is_variable
            return result
        for item in possible_answer:
            flag = True
            if type(item) == list:  # noqa: E721
                for v in value:
                    if not type_checker(param, v, item, str(nested), nested, None)["valid"]:
                        flag = False
                        break
            if flag:
                return {"valid": True, "error": [], "is_variable": is_variable}
        result["valid"] = False
        result["error"] = [
            f"Nested type checking failed for parameter {param!r}. Expected outer type {type_description} "
            f"with inner type {nested}. Parameter value: {value!r}."
        ]
        result["error_type"] = "type_error:nested"
    answer_type = get_possible_answer_type(possible_answer)
    if answer_type is not None and type(value) == answer_type:  # noqa: E721
        result["is_variable"] = True
        return result
    result["valid"] = False
    result["error"].append(
        f"Incorrect type for parameter {param!r}. Expected type {type_description}, got {type(value).__name__}. "
        f"Parameter value: {value!r}."
    )
    result["error_type"] = "type_error:simple"
    return result


def standardize_string(s: str) -> str:
    return re.sub(r"[ \,\.\/\-\_\*\^]", "", s).lower().replace("'", '"')


def string_checker(param: str, value: str, possible_answer: list[Any]) -> Result:
    if standardize_string(value) not in [standardize_string(a) for a in possible_answer if type(a) == str]:  # noqa: E721
        return _bad(
            f"Invalid value for parameter {param!r}: {value!r}. Expected one of {possible_answer}. Case insensitive.",
            "value_error:string",
        )
    return _ok()


def list_checker(param: str, value: list[Any], possible_answer: list[Any]) -> Result:
    got = [standardize_string(v) if type(v) == str else v for v in value]  # noqa: E721
    want = [[standardize_string(v) if type(v) == str else v for v in a] for a in possible_answer]  # noqa: E721
    if got not in want:
        return _bad(
            f"Invalid value for parameter {param!r}: {value!r}. Expected one of {possible_answer}.",
            "value_error:list/tuple",
        )
    return _ok()


def dict_checker(param: str, value: dict[str, Any], possible_answers: list[Any]) -> Result:
    # flat dictionaries only, as the original (the data holds no nested ones)
    result: Result = {"valid": False, "error": [], "error_type": "dict_checker:unclear"}
    for answer in possible_answers:
        if answer == "":
            continue
        result = {"valid": False, "error": [], "error_type": "dict_checker:unclear"}
        flag = True
        for key, v in value.items():
            if key not in answer:
                result["error"].append(f"Unexpected dict key parameter: '{key}'.")
                result["error_type"] = "value_error:dict_key"
                flag = False
                break
            sv = standardize_string(v) if type(v) == str else v  # noqa: E721
            allowed = [standardize_string(a) if type(a) == str else a for a in answer[key]]  # noqa: E721
            if sv not in allowed:
                result["error"].append(f"Invalid value for parameter {key!r}: {v!r}. Expected one of {allowed}.")
                result["error_type"] = "value_error:dict_value"
                flag = False
                break
        for key, allowed in answer.items():
            if key not in value and "" not in allowed:
                result["error"].append(f"Missing dict key parameter: '{key}'.")
                result["error_type"] = "value_error:dict_key"
                flag = False
                break
        if flag:
            return _ok()
    return result


def list_dict_checker(param: str, value: list[Any], possible_answers: list[Any]) -> Result:
    result: Result = {"valid": False, "error": [], "error_type": "list_dict_checker:unclear"}
    for answer in possible_answers:
        flag = True
        if len(value) != len(answer):
            result = _bad("Wrong number of dictionaries in the list.", "value_error:list_dict_count")
            continue
        for i, item in enumerate(value):
            result = dict_checker(param, item, [answer[i]])
            if not result["valid"]:
                flag = False
                break
        if flag:
            return _ok()
    return result


def language_of(category: str) -> str:
    return {"java": "java", "javascript": "javascript"}.get(category, "python")


def simple_function_checker(
    description: dict[str, Any], model_output: dict[str, Any], possible: dict[str, Any], language: str = "python"
) -> Result:
    possible_answer = next(iter(possible.values()))
    func_name = convert_func_name(description["name"])
    details = description["parameters"]["properties"]
    required = description["parameters"].get("required", [])
    if func_name not in model_output:
        return _bad(
            f"Function name {func_name!r} not found in model output.", "simple_function_checker:wrong_func_name"
        )
    params = model_output[func_name]
    for p in required:
        if p not in params:
            return _bad(f"Missing required parameter: {p!r}.", "simple_function_checker:missing_required")
    for p, value in params.items():
        if p not in details or p not in possible_answer:
            return _bad(f"Unexpected parameter: {p!r}.", "simple_function_checker:unexpected_param")
        type_description = details[p]["type"]
        nested = None
        if language in ("java", "javascript"):
            # the argument is a Java/JS literal in a string: convert it, then check the value
            table = JAVA_TYPE_CONVERSION if language == "java" else JS_TYPE_CONVERSION
            convert = java_type_converter if language == "java" else js_type_converter
            expected = table[type_description]
            if type(value) != str:  # noqa: E721
                return _bad(
                    f"Incorrect type for parameter {p!r}. Expected type String, got {type(value).__name__}. "
                    f"Parameter value: {value!r}.",
                    f"type_error:{'java' if language == 'java' else 'js'}",
                )
            if type_description in NESTED_CONVERSION_TYPE_LIST:
                nested_type = details[p]["items"]["type"]
                nested = table[nested_type]
                value = convert(value, type_description, nested_type)
            else:
                value = convert(value, type_description)
        else:
            expected = PYTHON_TYPE_MAPPING[type_description]
            if type_description in PYTHON_NESTED_TYPE_CHECK_LIST:
                nested = PYTHON_TYPE_MAPPING[details[p]["items"]["type"]]
        if type_description == "tuple" and type(value) == tuple:  # noqa: E721
            value = list(value)
        if language == "python" and type_description == "float" and type(value) == int:  # noqa: E721 - int -> float
            value = float(value)
        checked = type_checker(p, value, possible_answer[p], type_description, expected, nested)
        if not checked["valid"]:
            return checked
        if not checked["is_variable"]:
            if expected is dict:
                r = dict_checker(p, value, possible_answer[p])
            elif expected is list and nested is dict:
                r = list_dict_checker(p, value, possible_answer[p])
            elif expected is str:
                r = string_checker(p, value, possible_answer[p])
            elif expected is list:
                r = list_checker(p, value, possible_answer[p])
            else:
                r = None
            if r is not None:
                if not r["valid"]:
                    return r
                continue
        if value not in possible_answer[p]:
            return _bad(
                f"Invalid value for parameter {p!r}: {value!r}. Expected one of {possible_answer[p]}.",
                "value_error:others",
            )
    for p in possible_answer:
        if p not in params and "" not in possible_answer[p]:
            return _bad(
                f"Optional parameter {p!r} not provided and not marked as optional.",
                "simple_function_checker:missing_optional",
            )
    return {"valid": True, "error": [], "error_type": "simple_function_checker:unclear"}


def parallel_function_checker_no_order(
    descriptions: list[Any], output: list[Any], possible: list[Any], language: str = "python"
) -> Result:
    if len(output) != len(possible):
        return _bad("Wrong number of functions.", "parallel_function_checker_no_order:wrong_count")
    matched: list[int] = []
    for i, answer in enumerate(possible):
        description = find_description(descriptions, next(iter(answer)))
        result: Result = _bad("no candidate left", "parallel_function_checker_no_order:cannot_find_match")
        errors: list[Any] = []
        for j, item in enumerate(output):
            if j in matched:
                continue
            result = simple_function_checker(description, item, answer, language)
            if result["valid"]:
                matched.append(j)
                break
            errors.append({f"Model Result Index {j}": {"sub_error": result["error"]}})
        if not result["valid"]:
            left = [j for j in range(len(output)) if j not in matched]
            return {
                "valid": False,
                "error": [
                    f"Could not find a matching function among index {left} of model output for index {i} of possible answers.",
                    *errors,
                ],
                "error_type": "parallel_function_checker_no_order:cannot_find_match",
            }
    return _ok()


def multiple_function_checker(
    descriptions: list[Any], output: list[Any], possible: list[Any], language: str = "python"
) -> Result:
    if len(output) != len(possible):
        return _bad("Wrong number of functions.", "multiple_function_checker:wrong_count")
    description = find_description(descriptions, next(iter(possible[0])))
    return simple_function_checker(description, output[0], possible[0], language)


def ast_checker(descriptions: list[Any], output: list[Any], possible: list[Any], category: str) -> Result:
    language = language_of(category)
    if "parallel" in category:
        return parallel_function_checker_no_order(descriptions, output, possible, language)
    if "multiple" in category:
        return multiple_function_checker(descriptions, output, possible, language)
    if len(output) != 1:
        return _bad("Wrong number of functions.", "simple_function_checker:wrong_count")
    return simple_function_checker(descriptions[0], output[0], possible[0], language)


def is_function_calling_format_output(decoded: Any) -> bool:
    if not isinstance(decoded, list):
        return False
    for item in decoded:
        if type(item) != dict or len(item) != 1 or type(next(iter(item.values()))) != dict:  # noqa: E721
            return False
    return True


def is_empty_output(decoded: Any) -> bool:
    if not is_function_calling_format_output(decoded):
        return True
    return len(decoded) == 0 or (len(decoded) == 1 and len(decoded[0]) == 0)


def decode_tool_calls(calls: list[dict[str, Any]] | None) -> tuple[list[Any] | None, str]:
    """FC-mode ``decode_ast``: ``[{name: json.loads(arguments)}]``; (None, why) when it fails
    (no call at all: the reply was text, which BFCL's decoder cannot read either)."""
    if not calls:
        return None, "no function call in the reply"
    out = []
    for c in calls:
        try:
            out.append({str(c.get("name", "")): json.loads(c.get("arguments") or "")})
        except (json.JSONDecodeError, TypeError) as exc:
            return None, f"arguments of {c.get('name')!r} are not JSON ({exc})"
    return out, ""


class ASTScorer:
    """``acc``: 1 when the reply's tool calls pass BFCL's checker for the sample's category."""

    def score(self, sample: SampleLoaded, generated: Generated) -> list[Score]:
        md = sample.metadata
        category = md["category"]
        decoded, why = decode_tool_calls(generated.tool_calls)
        shown = [{k: v} for d in decoded or [] for k, v in d.items()] or None
        if category in RELEVANCE:
            called = decoded is not None and not is_empty_output(decoded)
            ok = not called if "irrelevance" in category else called
            how = "called a function" if called else "no function call"
            return [Score("acc", float(ok), extracted=shown, explanation=how)]
        if decoded is None:
            return [Score("acc", 0.0, extracted=None, explanation=f"ast_decoder:decoder_failed: {why}")]
        if not is_function_calling_format_output(decoded):
            return [Score("acc", 0.0, extracted=shown, explanation="ast_decoder:decoder_wrong_output_format")]
        result = ast_checker(md["functions"], decoded, sample.target, category)
        if result["valid"]:
            return [Score("acc", 1.0, extracted=shown, explanation="valid")]
        first = result["error"][0] if result["error"] else ""
        return [Score("acc", 0.0, extracted=shown, explanation=f"{result.get('error_type')}: {first}"[:500])]


SCORER = ASTScorer()  # the instance registered by name

"""BFCL's Java and JavaScript value converters, ported from gorilla
``bfcl_eval/eval_checker/ast_eval/type_convertor/{java,js}_type_converter.py`` (Apache 2.0).

In the Java and JavaScript categories every argument reaches the model as a string holding a
literal of that language (``"new ArrayList<>(Arrays.asList(1, 2))"``, ``"123L"``, ``"[1, 2]"``);
these turn such a string into the Python value the checker compares. Anything that does not
parse stays the string it was, as in the original (so it then fails the comparison).
"""

from __future__ import annotations

import re
from typing import Any

JAVA_TYPE_CONVERSION: dict[str, type] = {
    "byte": int,
    "short": int,
    "integer": int,
    "float": float,
    "double": float,
    "long": int,
    "boolean": bool,
    "char": str,
    "Array": list,
    "ArrayList": list,
    "Set": set,
    "HashMap": dict,
    "Hashtable": dict,
    "Queue": list,
    "Stack": list,
    "String": str,
    "any": str,
}
JS_TYPE_CONVERSION: dict[str, type] = {
    "String": str,
    "integer": int,
    "float": float,
    "Bigint": int,
    "Boolean": bool,
    "dict": dict,
    "array": list,
    "any": str,
}
NESTED_CONVERSION_TYPE_LIST = ("Array", "ArrayList", "array")


# ---- Java ---------------------------------------------------------------------------


def java_type_converter(value: str, expected_type: str, nested_type: str | None = None) -> Any:
    if expected_type not in JAVA_TYPE_CONVERSION:
        raise ValueError(f"Unsupported type: {expected_type}")
    if expected_type in ("byte", "short", "integer"):
        return int(value) if re.match(r"^-?\d+$", value) else str(value)
    if expected_type == "float":
        if not re.match(r"^-?\d+(\.\d+)?([eE][+-]?\d+)?[fF]$", value):
            return str(value)
        return float(re.sub(r"[fF]$", "", value))
    if expected_type == "double":
        return float(value) if re.match(r"^-?\d+(\.\d+)?([eE][+-]?\d+)?$", value) else str(value)
    if expected_type == "long":
        return int(re.sub(r"[lL]$", "", value)) if re.match(r"^-?\d+[lL]$", value) else str(value)
    if expected_type == "boolean":
        return value == "true" if value in ("true", "false") else str(value)
    if expected_type == "char":
        # the original's pattern (r"^\'.$\'") cannot match a quoted char; kept as it decides
        return value if re.match(r"^\'.$\'", value) else str(value)
    if expected_type == "ArrayList":
        return _parse_arraylist(value, nested_type)
    if expected_type == "Array":
        return _parse_array(value, nested_type)
    if expected_type == "HashMap":
        return _parse_hashmap(value)
    if expected_type in ("Set", "Hashtable", "Queue", "Stack"):
        raise NotImplementedError(f"{expected_type} conversion is not implemented")
    return str(value)  # String, any


def _element(text: str, nested_type: str | None) -> Any:
    if nested_type in ("char", "String"):
        return text[1:-1]  # drop the quotes
    return java_type_converter(text, nested_type) if nested_type else parse_java_value(text)


def _parse_arraylist(s: str, nested_type: str | None) -> Any:
    m = re.search(r"new\s+ArrayList<\w*>\(Arrays\.asList\((.+?)\)\)", s)
    if m:
        return [_element(e.strip(), nested_type) for e in m.group(1).split(",")]
    m = re.search(r"new\s+ArrayList<\w*>\(\)\s*\{\{\s*(.+?)\s*\}\}", s, re.DOTALL)
    if m:
        return [_element(v.strip(), nested_type) for v in re.findall(r"add\((.+?)\)", m.group(1))]
    if re.search(r"new\s+ArrayList<\w*>\(\)", s):
        return []
    return s


def _parse_array(s: str, nested_type: str | None) -> Any:
    m = re.search(r"new\s+\w+\[\]\s*\{(.*?)\}", s)
    if not m:
        return s
    parts = [x.strip() for x in m.group(1).split(",") if x.strip()]
    if nested_type:
        return [java_type_converter(x, nested_type) for x in parts]
    return [parse_java_value(x) for x in parts]


def _parse_hashmap(s: str) -> Any:
    m = re.search(r"new\s+HashMap<.*?>\s*\(\)\s*\{\s*\{?\s*(.*?)\s*\}?\s*\}", s, re.DOTALL)
    if m:
        out: dict[str, Any] = {}
        if m.group(1).strip():
            for key, val in re.findall(r"put\(\"(.*?)\",\s*(.*?)\)", m.group(1)):
                out[key] = parse_java_value(val.strip())
        return out
    if re.search(r"new\s+HashMap<.*?>\s*\(\)", s):
        return {}
    return s


def parse_java_value(s: str) -> Any:
    if s == "true":
        return True
    if s == "false":
        return False
    if s.startswith('"') and s.endswith('"'):
        return s[1:-1]
    if re.match(r"^-?\d+[lL]$", s):
        return int(s[:-1])
    if re.match(r"^-?\d+(\.\d+)?([eE][+-]?\d+)?[fF]$", s):
        return float(re.sub(r"[fF]$", "", s))
    try:
        return int(s)
    except ValueError:
        try:
            return float(s)
        except ValueError:
            return s


# ---- JavaScript ---------------------------------------------------------------------


def js_type_converter(value: str, expected_type: str, nested_type: str | None = None) -> Any:
    if expected_type not in JS_TYPE_CONVERSION:
        raise ValueError(f"Unsupported type: {expected_type}")
    if expected_type == "String":
        quoted = (value.startswith('"') and value.endswith('"')) or (value.startswith("'") and value.endswith("'"))
        return value[1:-1] if quoted else str(value)
    if expected_type == "integer":
        return int(value) if re.match(r"^-?\d+$", value) else str(value)
    if expected_type == "float":
        return float(value) if re.match(r"^-?\d+(\.\d+)?$", value) else str(value)
    if expected_type == "Bigint":
        return int(value[:-1]) if re.match(r"^-?\d+n$", value) else str(value)
    if expected_type == "Boolean":
        return value == "true" if value in ("true", "false") else str(value)
    if expected_type in ("dict", "array"):
        return parse_js_collection(value, expected_type, nested_type)
    return str(value)  # any


def parse_js_collection(code: str, type_str: str, nested_type: str | None = None) -> Any:
    code = code.strip()
    if type_str == "array":
        array_2d = r"\[\s*\[.*?\]\s*(,\s*\[.*?\]\s*)*\]|\bnew\s+Array\(\s*\[.*?\]\s*(,\s*\[.*?\]\s*)*\)"
        array_1d = r"\[(.*?)\]|\bnew\s+Array\((.*?)\)"
        try:
            m2 = re.match(array_2d, code)
            if m2:
                out = []
                for idx, inner in enumerate(re.findall(r"\[(.*?)\]", m2.group(0))):
                    inner = inner.strip()
                    if idx == 0 and inner.startswith("["):
                        inner = inner[1:]
                    out.append([parse_js_value(e.strip()) for e in inner.split(",")])
                return out
            m1 = re.match(array_1d, code)
            if not m1:
                return code
            body = m1.group(1) if m1.group(1) is not None else m1.group(2)
            elements = body.strip().split(",") if body is not None and body.strip() else []
            if nested_type:
                return [
                    js_type_converter(e.strip(), nested_type, "String")
                    if (e.strip().startswith("'") or e.strip().startswith('"'))
                    else js_type_converter(e.strip(), nested_type)
                    for e in elements
                ]
            return [parse_js_value(e.strip()) for e in elements]
        except Exception:  # noqa: BLE001 - the original returns the text on any failure
            return code
    if type_str == "dict":
        if code == "{}":
            return {}
        m = re.match(r"\{(.*?)\}", code)
        if not m:
            return code
        try:
            out: dict[str, Any] = {}
            for key, val in re.findall(r"([^:]+):\s*(.*?)(?:,\s*(?=[^,]+:)|$)", m.group(1)):
                key = key.strip().strip("'\"")
                val = val.strip()
                if val.startswith("[") and val.endswith("]"):
                    out[key] = parse_js_collection(val, "array")
                elif val.startswith("{") and val.endswith("}"):
                    out[key] = parse_js_collection(val, "dict")
                else:
                    out[key] = parse_js_value(val.strip("'\""))
            return out
        except Exception:  # noqa: BLE001
            return code
    raise ValueError(f"Unsupported type: {type_str}")


def parse_js_value(s: str) -> Any:
    s = s.strip()
    if s == "true":
        return True
    if s == "false":
        return False
    if (s.startswith('"') and s.endswith('"')) or (s.startswith("'") and s.endswith("'")):
        return s[1:-1]
    try:
        return int(s)
    except ValueError:
        try:
            return float(s)
        except ValueError:
            return s

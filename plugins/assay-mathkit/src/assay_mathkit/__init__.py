"""Answer extraction and equivalence shared by assay's math benchmarks (a library, not a plugin).

- (the ``<think>`` rule is the kernel's :func:`assay.text.split_reasoning`)
- :func:`last_boxed` returns the content of the last ``\\boxed{...}`` / ``\\fbox{...}``,
  braces nested to any depth (the MATH reference ``last_boxed_only_string`` semantics).
- :func:`math_equal` decides mathematical equivalence with math-verify (sympy based).
- :func:`extract_aime_integer` reads an AIME answer (an integer 0-999).
- :func:`pass_at_k` is the unbiased estimator of Chen et al. (2021).
- ``MATH_LEVELS`` / ``MATH_SUBJECTS``: the MATH dataset's difficulty levels and its seven subjects (the
  ``type`` of competition_math, the ``subject`` of MATH-500), by which both benchmarks group their reports.

Heavy imports (math-verify, sympy) happen inside the functions.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

from assay_reportkit.passk import pass_at_k  # assay-reportkit's, re-exported for the math benchmarks

__all__ = [
    "MATH_LEVELS",
    "MATH_SUBJECTS",
    "chat_messages",
    "extract_aime_integer",
    "format_prompt",
    "last_boxed",
    "math_equal",
    "pass_at_k",
    "read_jsonl",
    "require",
]

MATH_LEVELS = [f"Level {i}" for i in range(1, 6)]
MATH_SUBJECTS = [
    "Algebra",
    "Counting & Probability",
    "Geometry",
    "Intermediate Algebra",
    "Number Theory",
    "Prealgebra",
    "Precalculus",
]


def _brace_group(text: str, start: int) -> str | None:
    """The content of the ``{...}`` group opening at ``text[start]``, or None if unbalanced."""
    if start >= len(text) or text[start] != "{":
        return None
    depth = 0
    i = start
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in "{}":
            i += 2  # an escaped brace does not open or close a group
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i]
        i += 1
    return None


def last_boxed(text: str | None) -> str | None:
    """Content of the last ``\\boxed{...}`` (or ``\\fbox{...}`` / ``\\boxed 5``); None if there is none."""
    if not text:
        return None
    idx = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if idx < 0:
        return None
    rest = text[idx:]
    name = "\\boxed" if rest.startswith("\\boxed") else "\\fbox"
    after = rest[len(name) :]
    if after.startswith(" ") and not after.lstrip().startswith("{"):
        # "\boxed 5$": the argument runs to the end of the math span
        return after.strip().split("$")[0].strip() or None
    j = len(after) - len(after.lstrip())
    content = _brace_group(after, j)
    return content.strip() if content is not None else None


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@lru_cache(maxsize=4096)
def _parse(expr: str, timeout: int | None) -> tuple:
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse

    # as the MATH reference normaliser: ",\\!" is a thousands separator ("11,\\! 111,\\! 100"),
    # "\\$" a currency sign, "\\!" a thin space
    expr = expr.replace(",\\!", "").replace("\\$", "").replace("\\!", "")
    expr = re.sub(r"(?<=\d) +(?=\d{3}\b)", "", expr)
    delimited = re.search(r"(?<!\\)\$", expr) or "\\(" in expr or "\\[" in expr or "\\boxed" in expr
    latex = expr if delimited else f"${expr}$"
    return tuple(
        parse(
            latex,
            extraction_config=[LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()],
            parsing_timeout=timeout,
        )
    )


def math_equal(pred: str | None, gold: str | None, *, timeout: int = 5) -> bool:
    """Whether ``pred`` and ``gold`` (LaTeX or plain) are mathematically equivalent.

    Uses math-verify (sympy); equal strings (after trimming) are equal without parsing.
    math-verify's timeout relies on SIGALRM, which works only in the main thread; elsewhere
    the comparison runs without it.
    """
    if pred is None or gold is None:
        return False
    p, g = pred.strip(), gold.strip()
    if not p or not g:
        return False
    if p == g:
        return True
    from math_verify import verify

    t = timeout if _in_main_thread() else None
    try:
        gp = _parse(g, t)
        pp = _parse(p, t)
        if not gp or not pp:
            return False
        return bool(verify(list(gp), list(pp), timeout_seconds=t))
    except Exception:  # noqa: BLE001 - an unparsable answer is a wrong answer
        return False


_ANSWER_IS = re.compile(r"answer\s*(?:is|:)\s*\**\s*\$?\\?\(?\s*(-?\d[\d,]*)", re.IGNORECASE)
_INT = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


_WRAPPER = re.compile(r"\\(?:text|textbf|mathbf|mathrm|boldsymbol|bf)\s*\{([^{}]*)\}")


def _as_int(text: str) -> int | None:
    """An integer written as ``33``, ``033``, ``1,000``, ``\\textbf{(113) }``, ``104.``, ``90^\\circ``; else None."""
    t = text.strip().strip("$")
    prev = None
    while prev != t:  # peel \textbf{...}, \mathbf{...}, \text{...}
        prev, t = t, _WRAPPER.sub(r"\1", t)
    t = t.replace(",", "").replace("\\!", "").replace("~", "").strip()
    t = re.sub(r"\^\{?\\circ\}?$", "", t).strip()
    t = t.rstrip(".").strip()
    if t.startswith("(") and t.endswith(")"):
        t = t[1:-1].strip()
    if re.fullmatch(r"-?\d+", t):
        return int(t)
    if re.fullmatch(r"-?\d+\.0*", t):
        return int(float(t))
    return None


def extract_aime_integer(text: str | None) -> int | None:
    """The integer answer of an AIME response, or None.

    Order: the last ``\\boxed{}`` (must hold an integer); else the number after the last
    "answer is"/"answer:"; else the last number in the text. Leading zeros ("033") are dropped.
    """
    if not text:
        return None
    boxed = last_boxed(text)
    if boxed is not None:
        return _as_int(boxed)
    hits = _ANSWER_IS.findall(text)
    if hits:
        return _as_int(hits[-1])
    nums = _INT.findall(text)
    return _as_int(nums[-1]) if nums else None


def read_jsonl(path) -> list[tuple[int, dict]]:
    """(line number, object) for each non-empty line, through assay-datasets' reader (errors name file:line)."""
    from assay_datasets import read_jsonl as read

    return list(read(path))


def require(obj: dict, key: str, where: str) -> object:
    from assay.api import AssayError

    if key not in obj or obj[key] is None:
        raise AssayError(f"{where}: missing key {key!r} (has: {', '.join(sorted(obj)) or 'nothing'})")
    return obj[key]


def chat_messages(text: str, system_prompt: str | None) -> list[dict]:
    msgs = [{"role": "system", "content": system_prompt}] if system_prompt else []
    msgs.append({"role": "user", "content": text})
    return msgs


def format_prompt(template: str | None, default: str, **fields: object) -> str:
    """Fill ``{question}``-style placeholders; a template naming an unknown field is an error."""
    from assay.api import AssayError

    tpl = template or default
    try:
        return tpl.format(**fields)
    except (KeyError, IndexError) as exc:
        raise AssayError(
            f"prompt_template {tpl!r} names an unknown field {exc}; available: {', '.join('{' + k + '}' for k in fields)}"
        ) from None

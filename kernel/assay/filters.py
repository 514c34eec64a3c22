"""Output filters (``dataset_args.<name>.filters``), as EvalScope names them.

``filters`` maps a filter name to its arguments (a list: positional, a mapping: keywords, any other
value: the one argument) and the filters apply in order to a generation's output before any scorer
reads it. The raw output stays in ``Generated``; the filters ride in ``SampleLoaded.filters``, so
resume and rescore filter the same way.

* ``remove_until(delimiter)``: drop everything up to and including the first ``delimiter``
  (nothing when it is absent), e.g. ``"</think>"``.
* ``regex(regex_pattern='#### (\\-?[0-9\\.\\,]+)', group_select=0, fallback='[invalid]')`` (also
  ``extract``): the ``group_select``-th match (its first non-empty group when the pattern has
  groups), stripped; ``fallback`` when nothing matches.
* ``remove_whitespace()``: strip leading whitespace.
* ``strip()``, ``lower()``: as ``str.strip`` / ``str.lower``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .api import AssayError, did_you_mean

Filter = Callable[[str], str]


def _remove_until(delimiter: str) -> Filter:
    if not isinstance(delimiter, str) or not delimiter:
        raise ValueError("needs a non-empty delimiter string")
    return lambda text: text.split(delimiter, 1)[-1]


def _regex(regex_pattern: str = r"#### (\-?[0-9\.\,]+)", group_select: int = 0, fallback: str = "[invalid]") -> Filter:
    try:
        pattern = re.compile(regex_pattern)
    except (re.error, TypeError) as exc:
        raise ValueError(f"bad regex_pattern {regex_pattern!r}: {exc}") from None
    if not isinstance(group_select, int):
        raise ValueError(f"group_select must be a whole number, got {group_select!r}")

    def apply(text: str) -> str:
        found = pattern.findall(text)
        if not found:
            return fallback
        try:
            match = found[group_select]
        except IndexError:
            return fallback
        if isinstance(match, tuple):
            match = next((m for m in match if m), None)
            if match is None:
                return fallback
        return match.strip()

    return apply


# name -> factory of the filter from its arguments
FILTERS: dict[str, Callable[..., Filter]] = {
    "remove_until": _remove_until,
    "regex": _regex,
    "extract": _regex,
    "remove_whitespace": lambda: str.lstrip,
    "strip": lambda: str.strip,
    "lower": lambda: str.lower,
}


def build(spec: dict[str, Any] | None, where: str = "filters") -> list[Filter]:
    """The filter chain of a ``filters`` mapping; a bad name or argument is an AssayError naming it."""
    if not spec:
        return []
    if not isinstance(spec, dict):
        raise AssayError(f"{where}: expected a mapping of filter name to arguments, got {type(spec).__name__}")
    chain = []
    for name, given in spec.items():
        make = FILTERS.get(name)
        if make is None:
            raise AssayError(
                f"{where}: unknown filter {name!r}{did_you_mean(name, FILTERS)}; known: {', '.join(sorted(FILTERS))}"
            )
        try:
            if isinstance(given, list):
                chain.append(make(*given))
            elif isinstance(given, dict):
                chain.append(make(**given))
            elif given is None or given is True and name not in ("remove_until",):
                chain.append(make())
            else:
                chain.append(make(given))
        except (TypeError, ValueError) as exc:
            raise AssayError(f"{where}.{name}: {exc}") from None
    return chain


def apply(chain: list[Filter], text: str) -> str:
    for f in chain:
        text = f(text)
    return text

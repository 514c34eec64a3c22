"""How untrusted log data becomes screen text: inert (no markup, no escapes) and formatted."""

from __future__ import annotations

import json
import math
import time
from typing import Any

from assay.redact import inert_markup, visible
from rich.style import Style
from rich.text import Text


# Log data (names, model ids, outputs, server messages) is untrusted: shown inert, never as markup or escapes.
def escape(text: Any) -> str:
    """Untrusted text for a markup string: control characters shown as escapes, markup escaped."""
    return inert_markup(text, multiline=False)


def cell(value: Any) -> Text:
    """A table cell of untrusted text: a ``Text`` (DataTable reads a str as markup), escapes shown."""
    return Text(visible("" if value is None else str(value), multiline=False))


class InertText(Text):
    """A ``Text`` whose appended strings have their control characters shown as escapes."""

    def append(self, text: Any, style: Any = None) -> InertText:
        return super().append(visible(text) if isinstance(text, str) else text, style)  # type: ignore[return-value]


def fmt_score(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.4f}"


def fmt_num(v: Any, unit: str = "", digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.{digits}f}{unit}"


def fmt_ts(ts: float | None) -> str:
    if ts is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts))


def short(value: Any, n: int = 200) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= n else text[: n - 1] + "…"


STATUS_STYLE = {
    "passed": Style(color="green"),
    "failed": Style(color="red"),
    "errored": Style(color="yellow", bold=True),
    "pending": Style(dim=True),
    "generated": Style(dim=True),
}

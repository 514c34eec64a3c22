"""The report templates' own filters (Jinja2's environment and :mod:`.page` use the same functions)."""

from __future__ import annotations

import json
from typing import Any


def f4(v: Any) -> str:
    return "-" if v is None else f"{v:.4f}"


def ms(v: Any) -> str:
    return "-" if v is None else f"{v * 1000:.1f}"


def num(v: Any, d: int = 2) -> str:
    return "-" if v is None else f"{v:.{d}f}"


def pct(v: Any) -> str:
    return "-" if v is None else f"{v * 100:+.1f}%"


def pretty(v: Any) -> str:
    return json.dumps(v, indent=2, ensure_ascii=False, default=str)


def point(p: Any) -> str:
    return ", ".join(f"{k}={v}" for k, v in p.items() if v is not None) or "-"


FILTERS = {"f4": f4, "ms": ms, "num": num, "pct": pct, "pretty": pretty, "point": point}

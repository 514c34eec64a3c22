"""Small inline SVG charts, written as text (no JavaScript, no external file).

Every label passes through ``markupsafe.escape`` (it may be a dataset or model name).
"""

from __future__ import annotations

import math
from typing import Any

from markupsafe import Markup, escape

W, H = 640, 260
L, R, T, B = 64, 16, 44, 40  # margins
COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563", "#db2777"]


def _num(v: float) -> str:
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 0.01:
        return f"{v:.3g}"
    return f"{v:.2e}"


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        hi = lo + 1
    step = 10 ** math.floor(math.log10((hi - lo) / n))
    for m in (1, 2, 5, 10):
        if (hi - lo) / (step * m) <= n:
            step *= m
            break
    start = math.floor(lo / step) * step
    out = []
    v = start
    while v <= hi + step * 1e-9:
        if v >= lo - step * 1e-9:
            out.append(round(v, 12))
        v += step
    return out


def _frame(
    title: str, x_label: str, y_label: str, xs: tuple[float, float], ys: tuple[float, float], kind: str
) -> list[str]:
    (x0, x1), (y0, y1) = xs, ys
    parts = [
        f'<svg class="chart" data-chart="{escape(kind)}" viewBox="0 0 {W} {H}" width="{W}" height="{H}" '
        f'xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}">',
        f'<text x="{W / 2}" y="16" text-anchor="middle" class="ct">{escape(title)}</text>',
        f'<line x1="{L}" y1="{H - B}" x2="{W - R}" y2="{H - B}" class="ax"/>',
        f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H - B}" class="ax"/>',
        f'<text x="{(L + W - R) / 2}" y="{H - 6}" text-anchor="middle" class="cl">{escape(x_label)}</text>',
        f'<text x="12" y="{(T + H - B) / 2}" text-anchor="middle" class="cl" '
        f'transform="rotate(-90 12 {(T + H - B) / 2})">{escape(y_label)}</text>',
    ]
    for v in _ticks(y0, y1):
        y = _sy(v, y0, y1)
        parts.append(f'<line x1="{L}" y1="{y:.1f}" x2="{W - R}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{L - 4}" y="{y + 4:.1f}" text-anchor="end" class="tk">{_num(v)}</text>')
    if kind != "bars":
        for v in _ticks(x0, x1, 6):
            x = _sx(v, x0, x1)
            parts.append(f'<text x="{x:.1f}" y="{H - B + 14}" text-anchor="middle" class="tk">{_num(v)}</text>')
    return parts


def _sx(v: float, lo: float, hi: float) -> float:
    return L + (v - lo) / ((hi - lo) or 1) * (W - L - R)


def _sy(v: float, lo: float, hi: float) -> float:
    return H - B - (v - lo) / ((hi - lo) or 1) * (H - T - B)


def histogram(values: Any, title: str, x_label: str, bins: int = 30) -> Markup:
    """Counts of ``values`` (any iterable of numbers) in equal-width bins."""
    if not len(values):
        return Markup("")
    lo, hi = min(values), max(values)
    if hi == lo:
        hi = lo + (abs(lo) * 0.01 or 1e-3)
    width = (hi - lo) / bins
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - lo) / width))] += 1
    top = max(counts)
    parts = _frame(title, x_label, "requests", (lo, hi), (0, top), "histogram")
    for i, c in enumerate(counts):
        if not c:
            continue
        x = _sx(lo + i * width, lo, hi)
        y = _sy(c, 0, top)
        bw = (W - L - R) / bins
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bw - 1, 1):.1f}" height="{H - B - y:.1f}" fill="{COLORS[0]}">'
            f"<title>{_num(lo + i * width)}–{_num(lo + (i + 1) * width)}: {c}</title></rect>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def lines(series: dict[str, list[tuple[float, float]]], title: str, x_label: str, y_label: str) -> Markup:
    """One polyline (with dots) per named series, and a legend."""
    pts = [p for s in series.values() for p in s if p[1] is not None]
    if not pts:
        return Markup("")
    x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts)
    y1 = max(p[1] for p in pts) or 1.0
    parts = _frame(title, x_label, y_label, (x0, x1 if x1 > x0 else x0 + 1), (0, y1), "lines")
    for i, (name, s) in enumerate(series.items()):
        color = COLORS[i % len(COLORS)]
        s = [p for p in s if p[1] is not None]
        xy = " ".join(f"{_sx(x, x0, x1 if x1 > x0 else x0 + 1):.1f},{_sy(y, 0, y1):.1f}" for x, y in s)
        parts.append(f'<polyline points="{xy}" fill="none" stroke="{color}" stroke-width="2"/>')
        if len(s) <= 40:
            for x, y in s:
                cx, cy = _sx(x, x0, x1 if x1 > x0 else x0 + 1), _sy(y, 0, y1)
                parts.append(
                    f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3" fill="{color}"><title>{escape(name)}: '
                    f"{_num(x)}, {_num(y)}</title></circle>"
                )
        parts.append(
            f'<rect x="{L + 8 + 110 * i}" y="22" width="10" height="10" fill="{color}"/>'
            f'<text x="{L + 22 + 110 * i}" y="31" class="tk">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def score_bars(rows: list[dict[str, Any]], title: str) -> Markup:
    """Horizontal bars (score in [0, 1] or the rows' range) with their confidence interval."""
    rows = [r for r in rows if r.get("score") is not None]
    if not rows:
        return Markup("")
    hi = max(1.0, *(r.get("ci_high") or r["score"] for r in rows))
    lo = min(0.0, *(r.get("ci_low") or r["score"] for r in rows))
    bar_h = 18
    height = T + len(rows) * (bar_h + 6) + 24
    label_w = 200
    span = W - label_w - R
    parts = [
        f'<svg class="chart" data-chart="bars" viewBox="0 0 {W} {height}" width="{W}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}">',
        f'<text x="{W / 2}" y="16" text-anchor="middle" class="ct">{escape(title)}</text>',
    ]

    def sx(v: float) -> float:
        return label_w + (v - lo) / ((hi - lo) or 1) * span

    for v in _ticks(lo, hi):
        parts.append(f'<line x1="{sx(v):.1f}" y1="{T}" x2="{sx(v):.1f}" y2="{height - 20}" class="grid"/>')
        parts.append(f'<text x="{sx(v):.1f}" y="{height - 6}" text-anchor="middle" class="tk">{_num(v)}</text>')
    for i, r in enumerate(rows):
        y = T + i * (bar_h + 6)
        name = str(r.get("subset"))
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end" class="tk">{escape(name[:32])}</text>'
            f'<rect x="{sx(min(0.0, r["score"])):.1f}" y="{y}" width="{abs(sx(r["score"]) - sx(0.0)):.1f}" '
            f'height="{bar_h}" fill="{COLORS[0]}"><title>{escape(name)}: {r["score"]:.4f}</title></rect>'
        )
        if r.get("ci_low") is not None and r.get("ci_high") is not None:
            a, b = sx(r["ci_low"]), sx(r["ci_high"])
            m = y + bar_h / 2
            parts.append(
                f'<line x1="{a:.1f}" y1="{m}" x2="{b:.1f}" y2="{m}" class="ci"/>'
                f'<line x1="{a:.1f}" y1="{m - 5}" x2="{a:.1f}" y2="{m + 5}" class="ci"/>'
                f'<line x1="{b:.1f}" y1="{m - 5}" x2="{b:.1f}" y2="{m + 5}" class="ci"/>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))

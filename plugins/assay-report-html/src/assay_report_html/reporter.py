"""Write a run's report (or a comparison) as one self-contained HTML file.

The tables are the report the kernel built (its rows, and every plugin reporter's section: perf,
pass@k...); the sample browser and the perf distributions come from one more pass over the log
(:mod:`.fold`). Nothing is fetched: CSS, script and SVG charts are inline, and a Content-Security-Policy
forbids every request and every script but the report's own (a nonce), on top of Jinja2's escaping.
"""

from __future__ import annotations

import base64
import math
import os
from array import array
from pathlib import Path
from typing import Any, ClassVar

import msgspec
from markupsafe import Markup

from . import svg
from .filters import FILTERS

_TEMPLATES = Path(__file__).parent / "templates"


# what may not appear raw inside <script>: \u escapes of "&", "<", ">" and of the JS line separators
_SCRIPT_SAFE = tuple((ch.encode(), f"\\u{ord(ch):04x}".encode()) for ch in ("&", "<", ">", "\u2028", "\u2029"))


def embed_json(data: Any) -> Markup:
    """JSON to place inside ``<script type="application/json">``: no ``<``, ``>`` or ``&`` survives, so no
    text in it can close the element or open a comment; the script reads it with ``JSON.parse``.

    msgspec writes it (compact; a NaN or an infinity as ``null``, anything else unknown as its ``str``),
    and the escapes are made on the bytes: for a run's samples (megabytes) a few times faster than
    ``json.dumps`` and ``str.replace`` (issue 18)."""
    raw = msgspec.json.encode(data, enc_hook=str)
    for ch, escape in _SCRIPT_SAFE:
        if ch in raw:
            raw = raw.replace(ch, escape)
    return Markup(raw.decode())


def embed_clean(data: Any) -> Markup:
    """``embed_json(_clean(data))``: the same text (``embed_json`` writes NaN and infinities as null)."""
    return embed_json(data)


def _nonce() -> str:
    """``secrets.token_urlsafe(16)``, without importing secrets (and with it hmac and OpenSSL: start-up)."""
    return base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode("ascii")


def _clean(value: Any) -> Any:
    """NaN and infinities become None (JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _env() -> Any:
    import jinja2

    try:  # compiled templates kept between runs (jinja2's private per-user temp directory): start-up, issue 18
        cache: Any = jinja2.FileSystemBytecodeCache()
    except Exception:  # noqa: BLE001 - no usable temp directory: compile each time
        cache = None
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        autoescape=True,  # every {{ value }} is HTML-escaped
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=cache,
    )
    env.filters.update(FILTERS)
    return env


def _render_report(ctx: dict[str, Any]) -> str:
    """report.html: rendered without Jinja2 (:mod:`.page`, the same bytes), by Jinja2 where that raises."""
    try:
        from .page import render
    except Exception:  # noqa: BLE001 - the templates' static parts not found: Jinja2 renders them
        pass
    else:
        try:
            return render(ctx)
        except Exception:  # noqa: BLE001 - what the template would do with odd values is Jinja2's to say
            pass
    return _env().get_template("report.html.j2").render(**ctx)


def _write(out: Path, html: str) -> Path:
    from contextlib import suppress

    from assay.api import AssayError

    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, out)
    except OSError as exc:
        with suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise AssayError(f"cannot write {out}: {exc.strerror or exc}") from None
    return out


def _perf_charts(section: dict[str, Any], raw: dict[str, Any]) -> list[Markup]:
    charts: list[Markup] = []
    points = section.get("points") or []
    # percentiles against concurrency (or rate) when the run swept several points
    if len(points) > 1:
        axis = "rate" if any(pt["point"].get("rate") for pt in points) else "parallel"
        for stat, label in (("ttft_s", "TTFT"), ("e2e_latency_s", "E2E latency")):
            series: dict[str, list[tuple[float, float]]] = {}
            for pt in points:
                x = pt["point"].get(axis)
                st = pt.get(stat) or {}
                for q in section.get("percentiles") or []:
                    v = st.get(f"p{q:g}")
                    if x is not None and v is not None:
                        series.setdefault(f"p{q:g}", []).append((float(x), v * 1000))
            charts.append(svg.lines(series, f"{label} percentiles against {axis}", axis, "ms"))
        charts.append(
            svg.lines(
                {
                    "output tok/s": [
                        (float(pt["point"].get(axis) or 0), pt.get("output_token_throughput"))
                        for pt in points
                        if pt["point"].get(axis) is not None
                    ]
                },
                f"output token throughput against {axis}",
                axis,
                "tokens/s",
            )
        )
    for p in raw["points"][:8]:
        name = svg.escape(", ".join(f"{k}={v}" for k, v in p["point"].items() if v is not None) or "all")
        ms_ttft, ms_e2e = array("d", (v * 1000 for v in p["ttft"])), array("d", (v * 1000 for v in p["e2e"]))
        charts.append(svg.histogram(ms_ttft, f"TTFT distribution ({name})", "TTFT (ms)"))
        charts.append(svg.histogram(ms_e2e, f"latency distribution ({name})", "E2E latency (ms)"))
    tl = raw["timeline"]
    if tl:
        charts.append(svg.lines({"requests/s": [(t, r) for t, r, _ in tl]}, "throughput over time", "seconds", "req/s"))
        charts.append(
            svg.lines({"output tokens/s": [(t, k) for t, _, k in tl]}, "output tokens over time", "seconds", "tok/s")
        )
    return [c for c in charts if c]


def _subset_charts(rows: list[dict[str, Any]]) -> list[Markup]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        if r.get("average") is None:  # subset rows (OVERALL rows are averages)
            groups.setdefault((r["dataset"], r["metric"]), []).append(r)
    return [svg.score_bars(rs, f"{ds} · {metric} per subset (95% CI)") for (ds, metric), rs in groups.items()]


class _Printed:
    """A console that keeps what a reporter prints (``render(section, console)``): Rich tables and text."""

    def __init__(self) -> None:
        self.items: list[Any] = []

    def print(self, *objects: Any, **_: Any) -> None:
        self.items.extend(objects)


def _plain(value: Any) -> str:
    """The text Rich shows for a title, header or cell: a ``Text``'s, or a string's once its markup is
    rendered (the reporters escape theirs: ``assay.redact.inert_markup``)."""
    from rich.markup import MarkupError, render
    from rich.text import Text

    if value is None:
        return ""
    if isinstance(value, Text):
        return value.plain
    try:
        return render(str(value)).plain
    except MarkupError:
        return str(value)


def _part(item: Any) -> dict[str, Any] | None:
    """One printed item as ``{"table": {title, caption, headers, numeric, rows}}`` or ``{"text": ...}``; None
    for anything else (the section is then shown from its data)."""
    from rich.table import Table
    from rich.text import Text

    if isinstance(item, Table):
        columns = item.columns
        if not all(isinstance(c, str | Text) for col in columns for c in (col.header, *col.cells)):
            return None  # a cell that is another renderable (a nested table...): shown from the data
        cells = [[_plain(c) for c in col.cells] for col in columns]
        return {
            "table": {
                "title": _plain(item.title),
                "caption": _plain(item.caption),
                "headers": [_plain(col.header) for col in columns],
                "numeric": [col.justify == "right" for col in columns],
                "rows": [list(row) for row in zip(*cells, strict=True)],
            }
        }
    if isinstance(item, str | Text):
        return {"text": _plain(item)}
    return None


def _shown(sections: dict[str, Any], reporters: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """What each section's reporter (among ``reporters``, the kernel's by name) prints for it, as `assay report`
    shows it: its tables (title, headers, cells, the rows it adds, units) and its lines of text. A section whose
    reporter is not there (a run directory copied to another machine), fails, or prints anything else is left
    out: the page shows it from its data."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name, section in sections.items():
        entry = reporters.get(name)
        if entry is None or not callable(getattr(entry.obj, "render", None)):
            continue
        printed = _Printed()
        try:
            entry.obj.render(section, printed)
            parts = [_part(item) for item in printed.items]
        except Exception:  # noqa: BLE001 - one reporter's bug must not hide the page: shown from its data
            continue
        if parts and all(p is not None for p in parts):
            out[name] = parts  # type: ignore[assignment]
    return out


# an eval's latency rows: the figures of the eval_latency section (assay-perf's fold, as in `assay report`)
_LATENCY_ROWS = (("ttft_s", "TTFT"), ("tpot_s", "TPOT"), ("itl_s", "ITL"), ("e2e_latency_s", "E2E latency"))
_LATENCY_FORMULAS = ("ttft", "tpot", "itl", "e2e_latency", "sent")  # the section's formulas these rows use


def _eval_latency(section: dict[str, Any] | None, raw: dict[str, Any]) -> dict[str, Any] | None:
    """An eval run's own request times (the backend's RequestTimed): the table of the report's
    ``eval_latency`` section (the same figures as the console and report.json: nothing computed here), and
    two histograms of the raw times. None when the run timed no request."""
    points = (section or {}).get("requests") or []
    rows = [{"metric": label, "stats": pt[key]} for pt in points for key, label in _LATENCY_ROWS if pt.get(key)]
    ttft = array("d", (v * 1000 for p in raw["points"] for v in p["ttft"]))
    e2e = array("d", (v * 1000 for p in raw["points"] for v in p["e2e"]))
    charts = [
        svg.histogram(ttft, "TTFT distribution (eval requests)", "TTFT (ms)") if ttft else None,
        svg.histogram(e2e, "latency distribution (eval requests)", "E2E latency (ms)") if e2e else None,
    ]
    if not rows and not e2e:
        return None
    return {
        "percentiles": (section or {}).get("percentiles") or [],
        "formulas": {k: v for k, v in ((section or {}).get("formulas") or {}).items() if k in _LATENCY_FORMULAS},
        "rows": rows,
        "charts": [c for c in charts if c],
    }


class HtmlReporter:
    """A file reporter: ``kinds`` is empty, so it adds no section to ``assay report``; the kernel calls
    ``write`` (report.html in a run directory, ``--format html``) and ``write_compare``."""

    kinds: ClassVar[frozenset[str]] = frozenset()

    def build(self, log_path: Path) -> dict[str, Any]:
        return {}

    def render(self, report: dict[str, Any], console: Any) -> None:
        return None

    def pass_fold(self, log_path: Path) -> Any:
        """The samples and request times, folded in the kernel's one read of the log at the end of a run
        (handed back to :meth:`write` as ``folded``)."""
        from .fold import RunFold

        return RunFold()

    def write(
        self,
        report: dict[str, Any],
        log_path: Path,
        out: Path,
        folded: dict[str, Any] | None = None,
        reporters: dict[str, Any] | None = None,
    ) -> Path:
        """``folded``: :class:`RunFold`'s result for this log, else read here (one read for both folds).
        ``reporters``: the kernel's reporters by name, whose printed tables show their sections (none: every
        section is shown from its data)."""
        from .fold import fold_run

        log_path = Path(log_path)
        is_eval = report.get("kind", "eval") == "eval" and report.get("rows") is not None
        report = _clean(report)
        sections = dict(report.get("sections") or {})
        perf = sections.pop("perf", None)
        if perf is None:
            perf = next((s for s in sections.values() if isinstance(s, dict) and "points" in s), None)
            sections = {k: v for k, v in sections.items() if v is not perf}
        if perf:  # a perf run's report is its section: the header shows its run, status and model
            report = {**report, **{k: perf.get(k) for k in ("run_id", "status", "model") if not report.get(k)}}
        # an eval's request latency: shown as its own table below, not as a plugin section's JSON
        latency = sections.pop("eval_latency", None) if is_eval else None
        raw = folded if folded is not None else fold_run(log_path) if is_eval or perf else None
        ctx: dict[str, Any] = {
            "nonce": _nonce(),
            "report": report,
            "run_dir": str(log_path.parent),
            "perf": perf,
            "perf_charts": _perf_charts(perf, raw["requests"]) if perf and raw is not None else [],
            "subset_charts": _subset_charts(report.get("rows") or []),
            "sections": sections,
            "samples": None,
            "not_shown": 0,
            "latency": None,
            "shown": _shown(sections, reporters or {}),
        }
        if is_eval and raw is not None:
            ctx["samples"] = embed_clean(raw["samples"])
            ctx["sample_count"] = len(raw["samples"])
            ctx["not_shown"] = raw["not_shown"]
            ctx["latency"] = _eval_latency(latency, raw["requests"])
        return _write(out, _render_report(ctx))

    def write_compare(self, result: dict[str, Any], out: Path) -> Path:
        ctx = {"nonce": _nonce(), "result": _clean(result)}
        return _write(out, _env().get_template("compare.html.j2").render(**ctx))


REPORTER = HtmlReporter()

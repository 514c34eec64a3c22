"""report.html without Jinja2: the run-end path of an eval (start-up, issue 18).

:func:`render` writes what ``templates/report.html.j2`` (on ``_base.html.j2``) renders with the
reporter's Jinja2 environment, byte for byte: the same escaping (MarkupSafe), the same lookups
(an attribute, else an item, else undefined: empty text, false, nothing to iterate) and filters, the
template's whitespace as ``trim_blocks``/``lstrip_blocks`` leave it. Its static parts (style,
controls, script) are read from the template files themselves. Importing Jinja2 and rendering cost
an eval of 1,000 samples ~45-60 ms of CPU at its end (loaded machine); this ~2.5 ms, most of it joining
the samples' JSON. The reporter falls back to Jinja2 if anything here raises, and a test renders both
ways and compares the strings.

Change the templates, change this module: the test fails until both agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from .filters import f4, ms, num, point, pretty

_TEMPLATES = Path(__file__).parent / "templates"


def _between(text: str, start: str, end: str) -> str:
    """The text of a template between two markers (each once in it)."""
    if text.count(start) != 1 or text.count(end) != 1:
        raise LookupError(f"template markers {start!r} / {end!r} not found once")
    return text.split(start, 1)[1].split(end, 1)[0]


def _pieces() -> tuple[str, str, str, str, str]:
    base = (_TEMPLATES / "_base.html.j2").read_text(encoding="utf-8")
    report = (_TEMPLATES / "report.html.j2").read_text(encoding="utf-8")
    head = base.split("{{ nonce }}", 1)[0]
    meta = _between(base, "{{ nonce }}", "{% block title %}")
    style = _between(base, "{% block title %}{% endblock %}", "{% block body %}")
    controls = _between(report, "the table above counts them all).</div>{% endif %}\n", "{{ samples }}")
    script = _between(report, '<script nonce="{{ nonce }}', "{% endif %}\n</main>")
    return head, meta, style, controls, script


_HEAD, _META, _STYLE, _CONTROLS, _SCRIPT = _pieces()


def _e(value: Any) -> str:
    """``escape(value)``; Markup as it is (escape would copy it: the samples' JSON is megabytes)."""
    return value if type(value) is Markup else escape(value)


class _Undefined:
    """Jinja2's default ``Undefined`` where the template only prints, tests and iterates it."""

    __slots__ = ()

    def __str__(self) -> str:
        return ""

    def __bool__(self) -> bool:
        return False

    def __iter__(self) -> Any:
        return iter(())

    def __len__(self) -> int:
        return 0


_U = _Undefined()


def _ga(obj: Any, name: str) -> Any:
    """``obj.name`` in a template: the attribute, else the item, else undefined."""
    try:
        return getattr(obj, name)
    except AttributeError:
        pass
    try:
        return obj[name]
    except (TypeError, LookupError, AttributeError):
        return _U


def _gi(obj: Any, key: Any) -> Any:
    """``obj[key]`` in a template: the item, else (a text key) the attribute, else undefined."""
    try:
        return obj[key]
    except (AttributeError, TypeError, LookupError):
        if isinstance(key, str):
            try:
                return getattr(obj, key)
            except AttributeError:
                pass
        return _U


def _default(value: Any, default: Any = "", boolean: bool = False) -> Any:
    return default if value is _U or (boolean and not value) else value


def _defined(value: Any) -> bool:
    return value is not _U


def _mapping(value: Any) -> bool:
    return isinstance(value, Mapping)


def _isfloat(value: Any) -> bool:
    return isinstance(value, float)


def _none(value: Any) -> bool:
    return value is None


def _cells(w: Any, values: Any, numeric: bool = False) -> None:
    """``<td>{{ value }}</td>`` for each value (``<td class="n">``: a numeric column)."""
    start = '<td class="n">' if numeric else "<td>"
    for value in values:
        w(start)
        w(_e(value))
        w("</td>")


def _percentile_heads(w: Any, qs: Any) -> None:
    """``<th class="n">p50</th>``... for the percentiles ``qs`` (the template's ``"%g" % q``)."""
    for q in qs:
        w('<th class="n">p')
        w(_e("%g" % q))  # noqa: UP031 - the template's own formatting
        w("</th>")


def _stat_cells(w: Any, st: Any, qs: Any) -> None:
    """n, mean, each percentile of ``qs`` and max of a summary (ms but n)."""
    quantiles = [ms(_gi(st, "p%g" % q)) for q in qs]  # noqa: UP031
    _cells(w, [_ga(st, "n"), ms(_ga(st, "mean")), *quantiles, ms(_ga(st, "max"))], numeric=True)


def _formulas(w: Any, formulas: Any) -> None:
    """The collapsed list of the formulas behind a table's figures (none: nothing)."""
    if formulas:
        w("<details><summary>Formulas</summary><ul>")
        for k, v in _ga(formulas, "items")():
            w("<li><b>")
            w(_e(k))
            w("</b>: ")
            w(_e(v))
            w("</li>")
        w("</ul></details>")


def _reporter_table(w: Any, t: Any) -> None:
    """A table a section's reporter printed (``shown``): its title, headers, rows and caption."""
    if _ga(t, "title"):
        w('<h3 class="table-title">')
        w(_e(_ga(t, "title")))
        w("</h3>")
    numeric = _ga(t, "numeric")
    w('  <table class="reporter-table"><thead><tr>')
    for i, header in enumerate(_ga(t, "headers")):
        w('<th class="n">' if _gi(numeric, i) else "<th>")
        w(_e(header))
        w("</th>")
    w("</tr></thead><tbody>\n")
    for row in _ga(t, "rows"):
        w("<tr>")
        for i, cell in enumerate(row):
            w('<td class="n">' if _gi(numeric, i) else "<td>")
            w(_e(cell))
            w("</td>")
        w("</tr>")
    w("  </tbody></table>\n")
    if _ga(t, "caption"):
        w('<p class="note">')
        w(_e(_ga(t, "caption")))
        w("</p>")


def render(ctx: dict[str, Any]) -> str:
    """``report.html.j2`` rendered with ``ctx`` (the reporter's context)."""
    get = ctx.get
    report, run_dir, sample_count = get("report", _U), get("run_dir", _U), get("sample_count", _U)
    subset_charts, sections, perf = get("subset_charts", _U), get("sections", _U), get("perf", _U)
    perf_charts, latency, samples = get("perf_charts", _U), get("latency", _U), get("samples", _U)
    not_shown, nonce, shown = get("not_shown", _U), get("nonce", _U), get("shown", _U)
    parts: list[str] = []
    w = parts.append
    w(_HEAD)
    w(_e(nonce))
    w(_META)
    w("assay report ")
    w(_e(_default(_ga(report, "run_id"), "", True)))
    w(_STYLE)
    w('<header>\n  <h1 id="title">assay ')
    w(_e(_default(_ga(report, "kind"), "eval")))
    w(" report: ")
    w(_e(_default(_ga(report, "run_id"), "", True)))
    w('</h1>\n  <div class="meta">status <b id="status">')
    w(_e(_default(_ga(report, "status"), "", True)))
    w("</b>\n")
    if _ga(report, "model"):
        w(" · model ")
        w(_e(_ga(report, "model")))
    if _defined(_ga(report, "samples_loaded")):
        w(" · ")
        w(_e(_ga(report, "samples_loaded")))
        w(" samples loaded, ")
        w(_e(_ga(report, "errored_samples")))
        w(" errored")
    w("  · ")
    w(_e(run_dir))
    w("</div>\n</header>\n<main>\n")
    for warning in _default(_ga(report, "warnings"), []):
        w('<div class="warn">warning: ')
        w(_e(warning))
        w("</div>")
    if _ga(report, "error"):
        w('<div class="warn">run error: ')
        w(_e(_ga(report, "error")))
        w("</div>")
    w("\n")
    if _ga(report, "rows"):
        w(
            '<section id="summary">\n  <h2>Scores</h2>\n  <table id="score-table">\n    <thead><tr><th>Model</th><th>Dataset</th><th>Metric</th><th>Category</th><th>Subset</th><th class="n">Num</th><th class="n">Score</th><th class="n">Errors</th><th>95% CI</th><th class="n">Pending</th></tr></thead>\n    <tbody>\n'
        )
        for r in _ga(report, "rows"):
            w("      <tr")
            if _defined(_ga(r, "average")):
                w(' class="avg"')
            w(">")
            _cells(w, [_ga(r, k) for k in ("model", "dataset", "metric", "category", "subset")])
            _cells(w, [_ga(r, "num"), f4(_ga(r, "score")), _ga(r, "errors")], numeric=True)
            w("<td>")
            if not _none(_ga(r, "ci_low")):
                w("[")
                w(_e(f4(_ga(r, "ci_low"))))
                w(", ")
                w(_e(f4(_ga(r, "ci_high"))))
                w("]")
            else:
                w("-")
            w("</td>")
            _cells(w, [_default(_ga(r, "pending"), "", True)], numeric=True)
            w("</tr>\n")
        w('    </tbody>\n  </table>\n  <p class="note">Errored samples: ')
        w(_e(_default(_ga(report, "errored_samples"), 0)))
        w("; denominator: ")
        w(_e(_default(_ga(report, "denominator"), "-")))
        w(". CI: Wilson for 0/1 metrics, normal otherwise. Coverage: ")
        w(_e(_default(_ga(report, "samples_loaded"), 0)))
        w(" samples loaded")
        if _defined(sample_count):
            w(", ")
            w(_e(sample_count))
            w(" in the sample browser")
        w(".</p>\n")
        if _ga(report, "errors_by_kind"):
            w(
                '  <h2>Why samples errored</h2>\n  <table id="error-table"><thead><tr><th class="n">Count</th><th>Kind</th><th>Example</th></tr></thead><tbody>\n'
            )
            for e in _ga(report, "errors_by_kind"):
                w("<tr>")
                _cells(w, [_ga(e, "count")], numeric=True)
                _cells(w, [_ga(e, "kind"), _ga(e, "example")])
                w("</tr>")
            w("  </tbody></table>\n")
        w("</section>\n")
        if subset_charts:
            w('<section id="subset-charts"><h2>Per subset</h2><div class="charts">')
            for c in subset_charts:
                w(_e(c))
            w("</div></section>\n")
    w("\n")
    for name, section in _ga(sections, "items")():
        w('<section class="plugin-section" data-reporter="')
        w(_e(name))
        w('">\n  <h2>')
        w(_e(name))
        w("</h2>\n")
        printed = _gi(shown, name) if shown else _U  # (Jinja2: `shown and shown[name]`)
        if printed:
            for part in printed:
                t = _ga(part, "table")
                if t:
                    _reporter_table(w, t)
                else:
                    w('  <p class="note">')
                    w(_e(_ga(part, "text")))
                    w("</p>\n")
        elif ((_mapping(section) and _defined(_ga(section, "rows"))) and _ga(section, "rows")) and _mapping(
            _gi(_ga(section, "rows"), 0)
        ):
            cols = list(_ga(_gi(_ga(section, "rows"), 0), "keys")())
            w("  <table><thead><tr>")
            for c in cols:
                w("<th>")
                w(_e(c))
                w("</th>")
            w("</tr></thead><tbody>\n")
            for r in _ga(section, "rows"):
                w("<tr>")
                for c in cols:
                    w("<td>")
                    if _isfloat(_gi(r, c)):
                        w(_e(f4(_gi(r, c))))
                    else:
                        w(_e(_gi(r, c)))
                    w("</td>")
                w("</tr>")
            w("  </tbody></table>\n")
        else:
            w("  <pre>")
            w(_e(pretty(section)))
            w("</pre>\n")
        w("</section>\n")
    w("\n")
    if perf:
        w('<section id="perf">\n  <h2>Serving performance')
        if _ga(perf, "model"):
            w(": ")
            w(_e(_ga(perf, "model")))
        w(
            '</h2>\n  <table id="perf-table"><thead><tr><th>Point</th><th class="n">Requests</th><th class="n">OK</th><th class="n">Failed</th><th class="n">Req/s</th><th class="n">Out tok/s</th><th class="n">Total tok/s</th><th class="n">Window (s)</th></tr></thead><tbody>\n'
        )
        for pt in _ga(perf, "points"):
            w("<tr>")
            _cells(w, [point(_ga(pt, "point"))])
            counts = [_ga(pt, k) for k in ("requests", "succeeded", "failed")]
            rates = [
                num(_ga(pt, k)) for k in ("request_throughput", "output_token_throughput", "total_token_throughput")
            ]
            _cells(w, [*counts, *rates, num(_ga(pt, "window_s"), 3)], numeric=True)
            w("</tr>")
        w(
            '  </tbody></table>\n  <h2 style="margin-top:12px">Latency percentiles (ms)</h2>\n  <table id="percentile-table"><thead><tr><th>Point</th><th>Metric</th><th class="n">n</th><th class="n">mean</th>'
        )
        _percentile_heads(w, _ga(perf, "percentiles"))
        w('<th class="n">max</th></tr></thead><tbody>\n')
        for pt in _ga(perf, "points"):
            for key, label in [
                ("ttft_s", "TTFT"),
                ("tpot_s", "TPOT"),
                ("itl_s", "ITL"),
                ("e2e_latency_s", "E2E latency"),
                ("queue_delay_s", "queue delay"),
            ]:
                st = _gi(pt, key)
                if st:
                    w("  <tr>")
                    _cells(w, [point(_ga(pt, "point")), label])
                    _stat_cells(w, st, _ga(perf, "percentiles"))
                    w("</tr>\n")
        w("  </tbody></table>\n")
        _formulas(w, _ga(perf, "formulas"))
        w('  <div class="charts" id="perf-charts">')
        for c in perf_charts:
            w(_e(c))
        w("</div>\n</section>\n")
    w("\n")
    if latency:
        w(
            '<section id="eval-latency">\n  <h2>Request latency (ms), from the eval\'s RequestTimed events</h2>\n  <table id="latency-table"><thead><tr><th>Metric</th><th class="n">n</th><th class="n">mean</th>'
        )
        _percentile_heads(w, _ga(latency, "percentiles"))
        w('<th class="n">max</th></tr></thead><tbody>\n')
        for r in _ga(latency, "rows"):
            w("<tr>")
            _cells(w, [_ga(r, "metric")])
            _stat_cells(w, _ga(r, "stats"), _ga(latency, "percentiles"))
            w("</tr>")
        w("  </tbody></table>\n")
        _formulas(w, _ga(latency, "formulas"))
        w('  <div class="charts">')
        for c in _ga(latency, "charts"):
            w(_e(c))
        w("</div>\n</section>\n")
    w("\n")
    if not _none(samples):
        w('<section id="samples">\n  <h2>Samples</h2>\n')
        if not_shown:
            w('<div class="warn" id="not-shown">')
            w(_e(not_shown))
            w(" more samples are in the log but not in this file (it holds the first ")
            w(_e(sample_count))
            w("; the table above counts them all).</div>")
        w(_CONTROLS)
        w(_e(samples))
        w('</script>\n<script nonce="')
        w(_e(nonce))
        w(_SCRIPT)
    w("</main>\n")
    w("</body>\n</html>")
    return "".join(parts)

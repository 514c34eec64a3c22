"""report.html at the end of a run is rendered without Jinja2 (assay_report_html.page, issue 18): the
same bytes as the template rendered by Jinja2, for the contexts of real runs (an eval with an errored
sample and markup in a model output, a perf sweep) and for variants of them that take every branch of
the template (warnings, a run error, plugin sections as tables and as JSON, samples left out, values
that need escaping, keys that are missing)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from assay_testserver.testing import assay, run_dirs
from markupsafe import Markup

import assay_report_html.reporter as reporter
from assay.report import build_report
from assay_report_html import page

MARKUP = "<b>&amp; \"q\" 'a'</b> {{ 7*7 }} [red]x[/red]"


def _jinja(ctx: dict) -> str:
    return reporter._env().get_template("report.html.j2").render(**ctx)


def _context(run: Path, monkeypatch) -> dict:
    """The context the reporter renders for ``run`` (its report, as ``assay report --format html``)."""
    seen: list[dict] = []
    monkeypatch.setattr(reporter, "_render_report", lambda ctx: seen.append(ctx) or "")
    reporter.REPORTER.write(build_report(run), run / "events.jsonl", run / "again.html")
    (ctx,) = seen
    return ctx


@pytest.fixture(scope="module")
def runs(tmp_path_factory, datasets_dir) -> dict[str, Path]:
    """An eval (4 GSM8K samples, the third a 500 and so errored, the second's output markup) and a perf sweep."""
    from assay_testserver import TestServer

    tmp = tmp_path_factory.mktemp("runs")
    rows = [json.loads(line) for line in open(datasets_dir / "gsm8k" / "test.jsonl", encoding="utf-8")][:4]
    answers = [f"#### {rows[0]['answer'].rsplit('####', 1)[1].strip()}", f"#### 99 {MARKUP}", "#### 1", "#### 2"]
    rules = [{"match": r["question"], "answer": a} for r, a in zip(rows, answers)]
    with TestServer(rules=rules, faults={"http_500": [3]}) as srv, TestServer(default_answer="one two") as perf:
        _runs(tmp, datasets_dir, srv.url, perf.url)
    (eval_run,) = run_dirs(tmp / "eval")
    return {"eval": eval_run, "perf": tmp / "perf"}


def _runs(tmp: Path, datasets_dir: Path, url: str, perf_url: str) -> None:
    assay(
        "eval", "--model", "m", "--api-url", url, "--datasets", "gsm8k", "--limit", "4", "--retries", "0",
        "--dataset-dir", str(datasets_dir), "--work-dir", str(tmp / "eval"), "--no-progress",
        "--eval-batch-size", "1", check=3,
    )  # fmt: skip
    assay(
        "perf", "--url", perf_url, "--model", "m", "--parallel", "1", "2", "--number", "2", "4",
        "--max-tokens", "4", "--work-dir", str(tmp), "--name", "perf",
    )  # fmt: skip


def _variants(ev: dict, perf: dict) -> list[dict]:
    out = [ev, perf]
    rep = ev["report"]
    odd = copy.deepcopy(ev)
    odd["report"] = {
        **rep,
        "warnings": [MARKUP, "second"],
        "error": MARKUP,
        "model": MARKUP,
        "run_id": None,
        "status": "",
        "rows": [
            {**rep["rows"][0], "pending": 2, "average": None, "ci_low": None},
            {"model": 1, "score": None, "ci_low": None},
        ],
        "errors_by_kind": [{"count": 1, "kind": MARKUP, "example": "x"}, {}],
    }
    del odd["report"]["kind"]
    odd["sections"] = {
        MARKUP: {"rows": [{"a": 1.5, "b": MARKUP, "c": None}, {"a": 2, "d": 3}]},
        "as json": {"rows": [], "x": [1.0, float("inf")], "t": MARKUP},
        "a list": [1, 2, {"k": "<v>"}],
        "rows of text": {"rows": ["a", "b"]},
    }
    odd["not_shown"] = 7
    odd["subset_charts"] = [Markup("<svg>1</svg>"), Markup("<svg>2</svg>")]
    odd["run_dir"] = f"/tmp/{MARKUP}"
    out.append(odd)
    bare = {"nonce": "n", "report": {}, "run_dir": "d", "perf": None, "perf_charts": [], "subset_charts": []}
    out.append({**bare, "sections": {}, "samples": None, "not_shown": 0, "latency": None})
    p = copy.deepcopy(perf)
    p["perf"] = {**p["perf"], "model": MARKUP, "formulas": {"TTFT": MARKUP}}
    p["perf"]["points"][0] = {**p["perf"]["points"][0], "tpot_s": None, "itl_s": {}}
    p["perf"]["points"][0].pop("queue_delay_s", None)
    out.append(p)
    lat = copy.deepcopy(ev)  # the eval's latency table: a row of odd values, no formulas
    qs = lat["latency"]["percentiles"]
    odd_stats = {"n": MARKUP, "mean": None, "max": 1.5, **{f"p{q:g}": float(q) for q in qs}}
    lat["latency"] = {
        **lat["latency"],
        "formulas": {},
        "rows": [*lat["latency"]["rows"], {"metric": MARKUP, "stats": odd_stats}],
    }
    out.append(lat)
    printed = copy.deepcopy(odd)  # sections shown as their reporters print them: tables, lines of text
    table = {"title": MARKUP, "caption": MARKUP, "headers": ["a", MARKUP], "numeric": [False, True]}
    printed["shown"] = {
        MARKUP: [{"table": {**table, "rows": [["1", MARKUP], [MARKUP, "-"]]}}, {"text": MARKUP}],
        "as json": [{"table": {**table, "title": "", "caption": "", "rows": []}}],
        "a list": [],  # printed nothing: shown from its data
    }
    out.append(printed)
    return out


def test_page_is_jinja2s_bytes(runs, monkeypatch):
    ev, perf = _context(runs["eval"], monkeypatch), _context(runs["perf"], monkeypatch)
    assert ev["samples"] is not None and ev["latency"] and ev["report"]["errors_by_kind"]  # the branches taken
    assert perf["perf"]["points"] and perf["perf_charts"] and perf["samples"] is None
    for i, ctx in enumerate(_variants(ev, perf)):
        want = _jinja(ctx)
        assert page.render(ctx) == want, i
    assert MARKUP not in _jinja(_variants(ev, perf)[2])  # (escaped)


def test_the_run_writes_it_and_jinja2_is_the_fallback(runs, monkeypatch):
    ctx = _context(runs["eval"], monkeypatch)
    monkeypatch.undo()
    written = (runs["eval"] / "report.html").read_text(encoding="utf-8")
    nonce = written.split("'nonce-", 1)[1].split("'", 1)[0]
    assert len(nonce) == 22 and written == _jinja({**ctx, "nonce": nonce})  # the eval's own file, its bytes

    def broken(ctx):
        raise KeyError("x")

    monkeypatch.setattr(page, "render", broken)
    assert reporter._render_report(ctx) == _jinja(ctx)
    odd = {**ctx, "report": {**ctx["report"], "warnings": None}}  # a template error stays Jinja2's
    monkeypatch.undo()
    with pytest.raises(TypeError, match="'NoneType' object is not iterable"):
        reporter._render_report(odd)


def test_printed_items_become_tables_text_or_nothing():
    """What a reporter prints, for the page: a Rich table's text as Rich shows it (markup rendered, escapes
    kept as text), a line of text; anything else (a cell that is itself a table, another renderable) is
    None, and the section is then shown from its data."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="[b]pass@k[/b] \\[unbiased]", caption="n = 3")
    table.add_column("Metric")
    table.add_column(Text("Score"), justify="right")
    table.add_row(Text("[red]pass@1[/red]"), "[i]0.5000[/i]")
    assert reporter._part(table) == {
        "table": {
            "title": "pass@k [unbiased]",
            "caption": "n = 3",
            "headers": ["Metric", "Score"],
            "numeric": [False, True],
            "rows": [["[red]pass@1[/red]", "0.5000"]],  # a Text's markup is its text; a string's is rendered
        }
    }
    assert reporter._part(Text("a note")) == {"text": "a note"}
    nested = Table()
    nested.add_column("x")
    nested.add_row(Table())
    assert reporter._part(nested) is None and reporter._part(object()) is None

"""The HTML report in a real headless Chromium (Debian's package, driven by Playwright), from real runs:
`assay eval` / `assay perf` / `assay compare` subprocesses against the repo's OpenAI-compatible test
server, on the real GSM8K test file. Every page is opened from file:// with every other request refused;
the tests assert that none was even attempted, that nothing was logged to the console, what the DOM
shows, that the filters work, and that a model output holding markup stays inert text."""

from __future__ import annotations

import json
from pathlib import Path
from assay_testserver.testing import assay, bodies, run_dirs

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails, with ASSAY_REQUIRE_CHROMIUM)
    expect = None


# a model output that would run script, load an image and style text if it were ever parsed as HTML
XSS = (
    '#### 99 </script><script>window.__xss = 1</script><img src="http://127.0.0.1:9/x.png" '
    "onerror=\"window.__xss = 2\"><b id='injected'>bold</b> {{ 7*7 }} <!--"
)


def _gsm8k(datasets_dir: Path, n: int) -> list[dict]:
    rows = []
    with open(datasets_dir / "gsm8k" / "test.jsonl", encoding="utf-8") as f:
        for line in f:
            rows.append(json.loads(line))
            if len(rows) == n:
                return rows
    return rows


def _gold(answer: str) -> str:
    return answer.rsplit("####", 1)[1].strip().replace(",", "")


def _eval(test_server, datasets_dir, work: Path, answers: list[str], faults=None) -> tuple[Path, int]:
    rows = _gsm8k(datasets_dir, len(answers))
    rules = [{"match": r["question"], "answer": a} for r, a in zip(rows, answers)]
    srv = test_server(rules=rules, faults=faults or {})
    work.mkdir()
    proc = assay(
        "eval", "--model", "m", "--api-url", srv.url, "--datasets", "gsm8k", "--limit", str(len(answers)),
        "--dataset-dir", str(datasets_dir), "--work-dir", str(work), "--no-progress",
        "--retries", "0", "--eval-batch-size", "1", check=False,
    )  # fmt: skip
    (run,) = run_dirs(work)
    return run, proc.returncode


def _texts(page, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(selector).all_inner_texts()]


def test_eval_report_table_filters_search_drilldown_and_inert_output(tmp_path, datasets_dir, test_server, open_page):
    rows = _gsm8k(datasets_dir, 5)
    answers = [f"#### {_gold(rows[0]['answer'])}", XSS, "#### 1", "#### 2", f"#### {_gold(rows[4]['answer'])}"]
    # request 3 (the third sample, one request at a time, no retry) gets a 500: an errored sample
    run, code = _eval(test_server, datasets_dir, tmp_path / "w", answers, faults={"http_500": [3]})
    assert code == 3  # completed with an errored sample
    written = run / "report.html"
    assert written.exists()  # the eval wrote it beside report.json
    out = tmp_path / "elsewhere" / "r.html"
    proc = assay("report", str(run), "--format", "html", "-o", str(out), check=False)
    assert proc.returncode == 3 and proc.stdout == f"wrote {out}\n"
    html = out.read_text(encoding="utf-8")
    assert "<script>window.__xss" not in html and "<b id='injected'>" not in html  # escaped in the file too
    assert "http://127.0.0.1:9" not in html.replace("\\u003c", "<").split("<script id=")[0]  # only as data

    pg = open_page(out)
    page = pg.page
    assert page.locator("#title").inner_text() == f"assay eval report: {run.name}"
    (row,) = page.locator("#score-table tbody tr").all()
    cells = [c.strip() for c in row.locator("td").all_inner_texts()]
    # 2 right of 5; the errored sample stays in the denominator; Wilson interval of 2/5
    assert cells[:9] == ["m", "gsm8k", "acc", "default", "main", "5", "0.4000", "1", "[0.1176, 0.7693]"]
    assert "Errored samples: 1" in page.locator("#summary").inner_text()
    (err,) = page.locator("#error-table tbody tr").all()
    assert [c.strip() for c in err.locator("td").all_inner_texts()][:2] == ["1", "http_5xx"]
    assert page.locator("#subset-charts svg[data-chart=bars]").count() == 1

    # the eval's own request times: 4 requests answered (the fifth got a 500)
    lat = [
        [c.strip() for c in tr.locator("td").all_inner_texts()] for tr in page.locator("#latency-table tbody tr").all()
    ]
    assert [r[:2] for r in lat] == [["TTFT", "4"], ["E2E latency", "4"]]
    assert page.locator("#eval-latency svg[data-chart=histogram]").count() == 2

    assert page.locator("#count").inner_text() == "5 of 5 samples"
    assert _texts(page, "#sample-table tbody tr td:nth-child(3)") == ["passed", "failed", "errored", "failed", "passed"]
    page.click("button[data-status=errored]")
    assert page.locator("#count").inner_text() == "1 of 5 samples"
    assert _texts(page, "#sample-table tbody tr td:nth-child(1)") == ["gsm8k/main/2"]
    page.click("button[data-status=passed]")
    assert _texts(page, "#sample-table tbody tr td:nth-child(1)") == ["gsm8k/main/0", "gsm8k/main/4"]
    page.click("button[data-status=all]")
    page.fill("#search", "window.__xss")
    expect(page.locator("#count")).to_have_text("1 of 5 samples")
    assert _texts(page, "#sample-table tbody tr td:nth-child(1)") == ["gsm8k/main/1"]
    page.click("#sample-table tbody tr")
    detail = page.locator("#detail")
    assert detail.is_visible()
    assert XSS in detail.inner_text()  # shown as the text it is
    assert rows[1]["question"] in detail.inner_text()  # the input
    assert page.locator("#injected").count() == 0 and page.locator("#detail img, #detail b").count() == 0
    assert page.evaluate("window.__xss") is None
    assert page.locator("script").count() == 2  # the data block and the report's own script
    page.fill("#search", "no such text anywhere")
    expect(page.locator("#count")).to_have_text("0 of 5 samples")
    page.fill("#search", "")
    page.click("button[data-status=errored]")
    page.click("#sample-table tbody tr")
    assert "Error (generate, http_5xx)" in detail.inner_text()

    shot = tmp_path / "eval.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    assert pg.requests == [pg.url] and pg.refused == []  # nothing but the file itself, not even attempted
    assert pg.errors == []


def test_eval_latency_table_is_the_reports_section(tmp_path, datasets_dir, test_server, open_page):
    """A streamed eval's latency table is the report's eval_latency section (assay-perf's fold: the figures of
    `assay report` and report.json, TTFT, TPOT, ITL and E2E at the run's percentiles), shown once: not also as a
    plugin section's JSON dump beside it."""
    # 11 tokens 5 ms apart: a server late for its first tokens (a loaded machine) writes those due by then
    # together and keeps its pace after, so the mean TPOT stays near 5 ms (7 tokens 2 ms apart allowed 3 ms)
    srv = test_server(default_answer="one two three four five six seven eight nine #### 1", ttft=0.02, itl=0.005)
    assay(
        "eval", "--model", "m", "--api-url", srv.url, "--datasets", "gsm8k", "--limit", "3", "--stream",
        "--dataset-dir", str(datasets_dir), "--work-dir", str(tmp_path), "--no-progress",
    )  # fmt: skip
    (run,) = run_dirs(tmp_path)
    (point,) = json.loads((run / "report.json").read_text(encoding="utf-8"))["sections"]["eval_latency"]["requests"]
    page = open_page(run / "report.html").page
    assert page.locator('section[data-reporter="eval_latency"]').count() == 0
    assert _texts(page, "#latency-table thead th") == ["Metric", "n", "mean", "p50", "p90", "p95", "p99", "max"]
    shown = {}
    for tr in page.locator("#latency-table tbody tr").all():
        label, *cells = (c.strip() for c in tr.locator("td").all_inner_texts())
        shown[label] = cells
    assert list(shown) == ["TTFT", "TPOT", "ITL", "E2E latency"]
    for label, key in (("TTFT", "ttft_s"), ("TPOT", "tpot_s"), ("ITL", "itl_s"), ("E2E latency", "e2e_latency_s")):
        st = point[key]
        assert shown[label] == [
            str(st["n"]),
            *(f"{st[k] * 1000:.1f}" for k in ("mean", "p50", "p90", "p95", "p99", "max")),
        ]
    assert 0.0025 < point["tpot_s"]["mean"] < 0.05  # 5 ms between tokens (read times: within 1 ms)
    assert "tpot: (e2e latency - ttft)" in page.locator("#eval-latency details").text_content()  # their formulas
    assert page.locator("#eval-latency svg[data-chart=histogram]").count() == 2


def test_reporter_sections_are_their_printed_tables(tmp_path, datasets_dir, open_page):
    """A plugin reporter's section is shown as the reporter prints it in `assay report`: its title, its column
    headers, its cells as formatted there (None as "-", its units) and the rows it adds (ProcessBench's
    "Avg. F1"), not the section's raw keys and values. A section whose reporter is not installed (a run
    directory read elsewhere) is shown from its data."""
    from assay.plugins import PluginHost, host
    from assay.report import build_report, write_files

    import assay_report_html.reporter as reporter

    assay(
        "eval", "--datasets", "process_bench", "--limit", "1", "--dataset-dir", str(datasets_dir),
        "--work-dir", str(tmp_path / "w"), "--no-progress",
    )  # fmt: skip
    (run,) = run_dirs(tmp_path / "w")
    printed = assay("report", str(run)).stdout
    assert "Avg. F1" in printed and "Err num" in printed
    page = open_page(run / "report.html").page
    sec = page.locator('section[data-reporter="process_bench_f1"]')
    assert sec.locator("h3").count() == 1  # (the old page showed the section's keys, no title)
    assert sec.locator("h3").inner_text().startswith("ProcessBench (official run_eval.py)")
    assert _texts(page, 'section[data-reporter="process_bench_f1"] thead th') == [
        "Subset", "Err num", "Error acc", "Corr num", "Correct acc", "F1",
    ]  # fmt: skip
    rows = [[c.strip() for c in tr.locator("td").all_inner_texts()] for tr in sec.locator("tbody tr").all()]
    assert [r[0] for r in rows] == ["gsm8k", "math", "olympiadbench", "omnimath", "Avg. F1"]
    assert rows[0] == ["gsm8k", "1", "0.0", "0", "-", "-"]  # the mock's wrong answer; no correct sample: "-"
    for r in rows[0][1:]:
        assert r in printed  # (each cell as `assay report` shows it)

    report = build_report(run)
    report["sections"]["not_installed_here"] = {"rows": [{"metric": "x", "value": 0.5}]}
    out = reporter.REPORTER.write(report, run / "events.jsonl", tmp_path / "r.html", reporters=host().reporters())
    page = open_page(out).page
    assert _texts(page, 'section[data-reporter="not_installed_here"] thead th') == ["metric", "value"]
    assert _texts(page, 'section[data-reporter="not_installed_here"] tbody td') == ["x", "0.5000"]
    assert page.locator('section[data-reporter="process_bench_f1"] h3').count() == 1

    # the kernel hands the page the reporters of the host it writes with, not the process's: a host without
    # ProcessBench's reporter (its run read elsewhere) gets that section shown from its data
    import assay_eval_report
    import assay_report_html

    elsewhere = PluginHost(entry_points=False)
    elsewhere.register_module(assay_eval_report, "eval-report")
    elsewhere.register_module(assay_report_html, "report-html")
    (out,) = write_files(run, report, elsewhere)  # (its report.html, again)
    sec = open_page(out).page.locator('section[data-reporter="process_bench_f1"]')
    assert sec.count() == 1 and sec.locator("h3").count() == 0
    assert "Err num" not in sec.inner_text() and "Avg. F1" not in sec.inner_text()


def test_perf_report_tables_and_charts(tmp_path, test_server, open_page):
    srv = test_server(ttft=0.02, itl=0.002, default_answer="one two three four five six seven eight")
    proc = assay(
        "perf", "--url", srv.url, "--model", "m", "--parallel", "1", "2", "--number", "4", "8",
        "--stream", "--max-tokens", "8", "--work-dir", str(tmp_path), "--name", "p",
    )  # fmt: skip
    run = tmp_path / "p"
    assert (run / "report.html").exists(), proc.stderr
    section = json.loads(assay("report", str(run), "--format", "json").stdout)
    out = tmp_path / "perf.html"
    assay("report", str(run), "--format", "html", "-o", str(out))
    pg = open_page(out)
    page = pg.page
    assert page.locator("#title").inner_text() == "assay perf report: p"
    trs = page.locator("#perf-table tbody tr").all()
    assert len(trs) == 2
    for tr, pt in zip(trs, section["points"]):
        cells = [c.strip() for c in tr.locator("td").all_inner_texts()]
        assert cells[:4] == [
            f"parallel={pt['point']['parallel']}, number={pt['point']['number']}",
            str(pt["requests"]),
            str(pt["succeeded"]),
            "0",
        ]
        assert cells[4] == f"{pt['request_throughput']:.2f}"
    p50 = [c.strip() for c in page.locator("#percentile-table tbody tr").first.locator("td").all_inner_texts()]
    ttft = section["points"][0]["ttft_s"]
    assert p50[:5] == ["parallel=1, number=4", "TTFT", "4", f"{ttft['mean'] * 1000:.1f}", f"{ttft['p50'] * 1000:.1f}"]
    charts = page.locator("#perf-charts svg")
    # 3 against-concurrency lines, a TTFT and a latency histogram per point, 2 over time
    assert charts.count() == 3 + 2 * 2 + 2
    labels = [charts.nth(i).get_attribute("aria-label") for i in range(charts.count())]
    assert labels[:3] == ["TTFT percentiles against parallel", "E2E latency percentiles against parallel",
                          "output token throughput against parallel"]  # fmt: skip
    assert "TTFT distribution (parallel=1, number=4)" in labels and "throughput over time" in labels
    assert page.locator("#samples").count() == 0
    page.screenshot(path=str(tmp_path / "perf.png"), full_page=True)
    assert pg.requests == [pg.url] and pg.refused == [] and pg.errors == []

    # the perf compare view: a run against itself, every difference 0
    cmp = tmp_path / "cmp.html"
    assay("compare", str(run), str(run), "--format", "html", "-o", str(cmp))
    pc = open_page(cmp)
    first = [c.strip() for c in pc.page.locator(".compare-table tbody tr").first.locator("td").all_inner_texts()]
    rps = f"{section['points'][0]['request_throughput']:.2f}"
    assert first == ["parallel=1, number=4", "request_throughput", rps, rps, "0.00", "+0.0%"]
    texts = pc.page.locator(".compare-table tbody").inner_text()
    assert "ttft p99 (ms)" in texts and "e2e_latency p50 (ms)" in texts
    assert pc.requests == [pc.url] and pc.errors == []


def test_compare_html(tmp_path, datasets_dir, test_server, open_page):
    rows = _gsm8k(datasets_dir, 6)
    right = [f"#### {_gold(r['answer'])}" for r in rows]
    run_a, _ = _eval(test_server, datasets_dir, tmp_path / "a", right[:4] + ["#### 0", "#### 0"])
    run_b, _ = _eval(test_server, datasets_dir, tmp_path / "b", ["#### 0"] + right[1:])
    out = tmp_path / "c.html"
    proc = assay("compare", str(run_a), str(run_b), "--format", "html", "-o", str(out))
    assert proc.stdout == f"wrote {out}\n"
    result = json.loads(assay("compare", str(run_a), str(run_b), "--format", "json").stdout)
    (want,) = result["comparisons"][0]["rows"]
    pg = open_page(out)
    page = pg.page
    assert page.locator("#title").inner_text() == "assay compare (eval): 2 runs"
    (tr,) = page.locator(".compare-table tbody tr").all()
    cells = [c.strip() for c in tr.locator("td").all_inner_texts()]
    assert cells == [
        "gsm8k", "main", "acc", "6", "0.6667", "0.8333", "0.1667",
        f"[{want['ci_low']:.4f}, {want['ci_high']:.4f}]", "mcnemar_exact", "1.0000", "1", "2", "0/0", "0/0",
    ]  # fmt: skip
    page.click("details.flips summary")
    assert "gsm8k/main/0" in page.locator("details.flips").inner_text()
    assert pg.requests == [pg.url] and pg.refused == [] and pg.errors == []


def test_unknown_format_names_the_choices(tmp_path, datasets_dir):
    assay("eval", "--datasets", "gsm8k", "--limit", "1", "--dataset-dir", str(datasets_dir), "--work-dir",
          str(tmp_path), "--no-progress")  # fmt: skip
    (run,) = run_dirs(tmp_path)
    proc = assay("report", str(run), "--format", "pdf", check=False)
    assert proc.returncode == 2 and proc.stdout == ""
    # lines about other installed plugins that fail to load are not this test's concern
    own = "".join(x for x in proc.stderr.splitlines(keepends=True) if not x.startswith("warning: assay plugin '"))
    assert own == "error: no installed reporter writes --format 'pdf'; table, json, markdown and csv are built in\n"


def test_ten_thousand_samples_stay_fast(tmp_path, datasets_dir, open_page):
    """HellaSwag's 10,042 validation items (the real file) through the mock model: the page loads, and a
    filter and a search over every sample each answer well under a second."""
    assay("eval", "--datasets", "hellaswag", "--dataset-dir", str(datasets_dir), "--work-dir", str(tmp_path),
          "--no-progress", timeout=600)  # fmt: skip
    (run,) = run_dirs(tmp_path)
    pg = open_page(run / "report.html")
    page = pg.page
    assert page.locator("#count").inner_text() == "10042 of 10042 samples"
    assert page.locator("#sample-table tbody tr").count() == 50  # one page drawn, not 10,042 rows
    passed = bodies(run, "Scored")
    n_passed = sum(1 for b in passed if b["value"] == 1.0)
    took, count = page.evaluate(
        """() => { const t = performance.now(); document.querySelector('button[data-status=passed]').click();
                   return [performance.now() - t, document.getElementById('count').textContent]; }"""
    )
    assert count == f"{n_passed} of 10042 samples" and took < 1000
    page.click("button[data-status=all]")
    page.fill("#search", "hellaswag/default/1234")
    expect(page.locator("#count")).to_have_text("1 of 10042 samples", timeout=2000)  # 120 ms debounce + search
    assert pg.requests == [pg.url] and pg.errors == []


def test_sample_cap_is_said(tmp_path, datasets_dir, open_page, monkeypatch):
    """A log with more samples than the file may hold: the first ones are browsable, the rest are counted."""
    from assay.report import build_report
    from assay_report_html import fold
    from assay_report_html.reporter import REPORTER

    assay("eval", "--datasets", "gsm8k", "--limit", "5", "--dataset-dir", str(datasets_dir), "--work-dir",
          str(tmp_path), "--no-progress")  # fmt: skip
    (run,) = run_dirs(tmp_path)
    monkeypatch.setattr(fold, "MAX_SAMPLES", 3)
    out = REPORTER.write(build_report(run), run / "events.jsonl", tmp_path / "capped.html")
    page = open_page(out).page
    assert page.locator("#count").inner_text() == "3 of 3 samples"
    assert page.locator("#not-shown").inner_text().startswith("2 more samples are in the log but not in this file")
    assert page.locator("#score-table tbody tr td").nth(5).inner_text() == "5"  # the table counts all five


def test_embedded_samples_are_cleaned_only_when_they_must_be():
    """embed_clean is embed_json(_clean(...)): the same text with and without NaN and infinities."""
    from assay_report_html.reporter import _clean, embed_clean, embed_json

    plain = [{"id": "a/1", "output": "x < y & z", "score": 0.5, "scores": [{"value": 1.0}], "tokens": None}]
    odd = [{"id": "a/2", "latency": float("nan"), "scores": [{"value": float("inf")}, {"value": -float("inf")}]}]
    assert embed_clean(plain) == embed_json(_clean(plain)) == embed_json(plain)
    assert embed_clean(odd) == embed_json(_clean(odd))
    assert str(embed_clean(odd)) == '[{"id":"a/2","latency":null,"scores":[{"value":null},{"value":null}]}]'
    text = str(embed_json([{"s": "</script><!-- & \u2028 \u2029 é"}]))  # nothing closes the script element
    assert text == '[{"s":"\\u003c/script\\u003e\\u003c!-- \\u0026 \\u2028 \\u2029 é"}]'

"""One read of the log for several projections (issue 18): ``assay.log.fold_together`` and the end of a run."""

from __future__ import annotations

import msgspec
import pytest
from assay.events import SampleLoaded, Scored
from assay.log import LogCorrupted, LogWriter, TornTail, decode_blocks, fold_together


class _ABody(msgspec.Struct):
    sample_id: str | None = None
    value: float | None = None


class _ALine(msgspec.Struct):
    type: str
    body: _ABody


class _CBody(msgspec.Struct):
    sample_id: int | None = None  # clashes with the others' str


class _CLine(msgspec.Struct):
    type: str
    body: _CBody


class Collect:
    def __init__(self, line, strict_types=None):
        self.line, self.strict_types = line, strict_types
        self.blocks = []

    def feed(self, lines):
        self.blocks.append(lines)

    def lines(self):
        return [x for b in self.blocks for x in b]


def _log(tmp_path, n=5):
    path = tmp_path / "events.jsonl"
    with LogWriter(path, "r1") as w:
        for i in range(n):
            w.append_many(
                [
                    SampleLoaded(sample_id=f"b/s/{i}", benchmark="b", prompt="p"),
                    Scored(sample_id=f"b/s/{i}", scorer="x", metric="acc", value=float(i % 2)),
                ]
            )
    return path


def _alone(path, line, strict_types=None):
    return [x for b in decode_blocks(path, msgspec.json.Decoder(line), strict_types=strict_types) for x in b]


def test_folds_that_agree_share_one_decode_of_each_block(tmp_path):
    from typing import Any

    b_body = msgspec.defstruct(
        "B", [("sample_id", str | None, None), ("benchmark", str | None, None), ("value", Any, None)]
    )
    b_line = msgspec.defstruct("BLine", [("type", str), ("body", b_body)])
    path = _log(tmp_path)
    a, b = Collect(_ALine), Collect(b_line)
    torn = TornTail()
    fold_together(path, [a, b], torn=torn)
    assert a.blocks[0] is b.blocks[0]  # the same decoded lines: the block was decoded once, for both
    got = [(x.type, x.body.sample_id, x.body.value, x.body.benchmark) for x in a.lines()]
    assert got == [(x.type, x.body.sample_id, x.body.value, x.body.benchmark) for x in _alone(path, b_line)]
    assert [(x.body.sample_id, x.body.value) for x in a.lines()] == [
        (x.body.sample_id, x.body.value) for x in _alone(path, _ALine)
    ]
    assert len(got) == 10 and torn.length == 0


def test_folds_that_clash_decode_each_block_with_their_own_struct(tmp_path):
    path = _log(tmp_path)
    with open(path, "ab") as f:
        f.write(b'{"v":1,"type":"Sca')  # a torn tail: never acknowledged, skipped
    a, c = Collect(_ALine), Collect(_CLine, strict_types=set())  # c: a str sample_id does not fit, skipped
    torn = TornTail()
    fold_together(path, [a, c], torn=torn)
    assert a.blocks[0] is not c.blocks[0]
    assert [type(x) for x in a.lines()] == [_ALine] * 10
    assert c.lines() == []  # every line clashes with c's Struct; it is not strict about any type
    assert torn.length == len(b'{"v":1,"type":"Sca')


def test_a_broken_line_is_named_by_its_number_as_decode_blocks_does(tmp_path):
    path = _log(tmp_path, 2)
    with open(path, "ab") as f:
        f.write(b'{"v":1,"type":"Scored","seq":4,"ts":1.0,"run_id":"r1","body":{"value":"high"}}\n')
    with pytest.raises(LogCorrupted) as alone:
        _alone(path, _ALine)
    a, c = Collect(_ALine), Collect(_CLine, strict_types=set())
    with pytest.raises(LogCorrupted) as together:
        fold_together(path, [a, c])
    assert str(together.value) == str(alone.value)
    assert str(together.value) == (
        f"{path}:5: corrupted event log line: Scored: Expected `float | null`, got `str` - at `$.body.value`"
    )


def test_the_end_of_an_eval_reads_its_log_once(tmp_path, datasets_dir, test_server, monkeypatch):
    # the eval fold, the eval_latency section and the HTML writer's samples and request times: one read
    import assay.log
    from assay.cli import main
    from assay.plugins import host
    from assay.report import build_report, write_files

    srv = test_server(default_answer="#### 0")
    args = ["eval", "--model", "m", "--api-url", srv.url, "--datasets", "gsm8k", "--limit", "4", "--no-progress"]
    assert main([*args, "--dataset-dir", str(datasets_dir), "--work-dir", str(tmp_path)]) == 0
    (run,) = [p.parent for p in tmp_path.rglob("events.jsonl")]
    written = (run / "report.html").read_text()
    reads = []
    real = assay.log._blocks  # every reader of the log's blocks (iter_blocks, decode_blocks, fold_together)
    monkeypatch.setattr(assay.log, "_blocks", lambda *a, **k: reads.append(a) or real(*a, **k))
    folded: dict = {}
    report = build_report(run, host(), workers=1, folded=folded)
    write_files(run, report, host(), folded)
    assert len(reads) == 1
    assert set(folded) == {"html"} and set(report["sections"]) == {"eval_latency"}
    assert [r["num"] for r in report["rows"]] == [4]
    # what the writer made from the shared read is what it makes reading the log itself
    alone = build_report(run, host(), workers=1)
    write_files(run, alone, host())
    assert len(reads) == 3  # the report's read, then the writer's own
    nonce = __import__("re").compile(r'nonce-[\w-]+|nonce="[^"]+"')
    assert nonce.sub("N", (run / "report.html").read_text()) == nonce.sub("N", written)


def test_a_reporter_whose_fold_raises_is_a_warning_and_the_others_are_folded(tmp_path):
    from assay import hookimpl
    from assay.plugins import PluginHost
    from assay.report import build_report

    class Counting(Collect):
        def result(self, torn):
            return {"lines": len(self.lines())}

    class Broken(Counting):
        def feed(self, lines):
            raise ValueError("boom")

    class Reporter:
        kinds = {"eval"}

        def __init__(self, fold):
            self.fold = fold

        def pass_fold(self, path):
            return self.fold(_ALine)

        def build(self, path):
            raise AssertionError("folded in the shared read, never alone")

        def render(self, report, console):
            pass

    class Plugin:
        @hookimpl
        def assay_reporters(self, register):
            register("boom", Reporter(Broken))
            register("count", Reporter(Counting))

    host = PluginHost(entry_points=False)
    host.register_module(Plugin(), "p", "assay-p")
    report = build_report(_log(tmp_path), host, workers=1)
    assert report["sections"] == {"count": {"lines": 10}}
    assert report["warnings"][1:] == ["reporter boom (assay-p) failed: ValueError: boom"]


def test_decode_blocks_skips_the_blocks_that_name_none_of_the_types_read(tmp_path):
    path = tmp_path / "events.jsonl"
    with LogWriter(path, "r1") as w:
        for i in range(40):
            w.append(SampleLoaded(sample_id=f"b/s/{i}", benchmark="b", prompt="p" * 200))
        w.append(Scored(sample_id="b/s/7", scorer="x", metric="acc", value=1.0))
    decoder = msgspec.json.Decoder(_ALine)
    blocks = list(decode_blocks(path, decoder, block=2048, types=["Scored"]))
    assert len(blocks) > 3 and not any(blocks[:-1])  # small blocks: only the last one holds the Scored line
    # the block that names it is decoded whole (the projection picks its lines, as without types)
    everything = [x for b in decode_blocks(path, decoder, block=2048) for x in b]
    assert len(everything) == 41 and blocks[-1] == everything[-len(blocks[-1]) :]
    assert [(x.type, x.body.sample_id) for x in blocks[-1] if x.type == "Scored"] == [("Scored", "b/s/7")]
    # a block that names a type read is decoded whole, with the reader's rules: a broken line is named
    text = path.read_bytes().replace(b'"b/s/7","scorer"', b'"b/s/7",,"scorer"')
    path.write_bytes(text)
    with pytest.raises(LogCorrupted, match=r":41\b"):
        list(decode_blocks(path, decoder, block=2048, types=["Scored"]))


def test_a_cursor_fed_in_pieces_gives_the_lines_of_one_read(tmp_path):
    # the end of a run feeds its report's folds as the log grows (assay.lifecycle): any ends, a block at a time
    import random

    from assay.log import FoldCursor

    path = _log(tmp_path, 40)
    whole = Collect(_ALine)
    fold_together(path, [whole])
    size = path.stat().st_size
    rng = random.Random(7)
    for block in (64, 300, 1 << 20):
        a, b = Collect(_ALine), Collect(_ALine)
        cursor = FoldCursor(path, [a, b])
        end = 0
        while end < size:
            end = min(size, end + rng.randrange(1, 700))  # mostly in the middle of a line: fed up to the one before
            cursor.feed(end=end, block=block, blocks=rng.choice([1, 2, None]))
        cursor.feed(torn=TornTail())
        want = [(x.type, x.body.sample_id, x.body.value) for x in whole.lines()]
        assert [(x.type, x.body.sample_id, x.body.value) for x in a.lines()] == want
        assert len(want) == 80 and cursor.offset == size and cursor.lines == 80

    # a broken line is named by its number in the whole log, however the lines before it were fed
    with open(path, "ab") as f:
        f.write(b'{"v":1,"type":"Scored","seq":80,"ts":1.0,"run_id":"r1","body":{"value":"high"}}\n')
    cursor = FoldCursor(path, [Collect(_ALine)])
    cursor.feed(end=size // 2, block=128)
    with pytest.raises(LogCorrupted, match=r"events\.jsonl:81: corrupted event log line: Scored"):
        cursor.feed()


def _fed_while_waiting(monkeypatch):
    """Each feeding of the report's folds while the run waited: (bytes fed before it, the writer's end)."""
    from assay.report import ReportFolds

    calls = []
    real = ReportFolds.feed

    def feed(self, end, **kw):
        calls.append((self.cursor.offset, end))
        return real(self, end, **kw)

    monkeypatch.setattr(ReportFolds, "feed", feed)
    return calls


def test_the_report_folded_while_the_run_waits_is_the_report_of_its_whole_log(
    tmp_path, datasets_dir, test_server, monkeypatch
):
    import json
    import re

    from assay.cli import main
    from assay.plugins import host
    from assay.report import ReportFolds, build_report, write_files

    fed = _fed_while_waiting(monkeypatch)
    finished = []
    real_finish = ReportFolds.finish
    monkeypatch.setattr(ReportFolds, "finish", lambda self: finished.append(self.cursor.offset) or real_finish(self))
    srv = test_server(default_answer="step step #### 18", ttft=0.03, itl=0.01)  # the client waits: it feeds
    args = ["eval", "--model", "m", "--api-url", srv.url, "--datasets", "gsm8k", "--limit", "12", "--no-progress"]
    args += ["--stream", "--eval-batch-size", "2", "--dataset-dir", str(datasets_dir), "--work-dir", str(tmp_path)]
    assert main(args) == 0
    (run,) = [p.parent for p in tmp_path.rglob("events.jsonl")]
    assert fed and all(end > 0 for _, end in fed)
    assert finished[0] > 0  # the end of the run began where the feeding had stopped, not at the log's start
    report = json.loads((run / "report.json").read_text())
    page = (run / "report.html").read_text()
    folded: dict = {}
    whole = build_report(run, host(), workers=1, folded=folded)  # one read of the whole log
    assert report == json.loads(json.dumps(whole, default=str))
    assert report["rows"][0]["num"] == 12 and report["sections"]["eval_latency"]
    write_files(run, whole, host(), folded)
    nonce = re.compile(r'nonce-[\w-]+|nonce="[^"]+"')
    assert nonce.sub("N", (run / "report.html").read_text()) == nonce.sub("N", page)


def test_folds_that_cannot_be_fed_while_the_run_waits_are_made_again_at_its_end(
    tmp_path, datasets_dir, test_server, monkeypatch
):
    import json

    from assay.cli import main
    from assay.report import ReportFolds, build_report

    def broken(self, end, **kw):
        raise OSError("no read now")

    monkeypatch.setattr(ReportFolds, "feed", broken)
    srv = test_server(default_answer="#### 18", ttft=0.05)
    args = ["eval", "--model", "m", "--api-url", srv.url, "--datasets", "gsm8k", "--limit", "3", "--no-progress"]
    assert main([*args, "--dataset-dir", str(datasets_dir), "--work-dir", str(tmp_path)]) == 0
    (run,) = [p.parent for p in tmp_path.rglob("events.jsonl")]
    report = json.loads((run / "report.json").read_text())
    assert report == json.loads(json.dumps(build_report(run, workers=1), default=str))
    assert report["rows"][0]["num"] == 3

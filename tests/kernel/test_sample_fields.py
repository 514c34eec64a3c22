"""``SampleLoaded.mode`` / ``self_driven`` are typed fields; the report groups by typed fields, not sample ids."""

from __future__ import annotations

import json

from assay import hookimpl
from assay.api import Sample
from assay.evaluate import run_eval
from assay.events import SampleLoaded
from assay.log import iter_events
from assay.plugins import PluginHost
from assay_eval_report.reporter import build_eval


class _Slashed:
    """Subsets whose names hold a slash: a sample id cannot say where the subset ends."""

    name = "slashed"
    default_scorers = ["exact_match"]

    def __init__(self, args):
        self.args = args

    def load(self, args=None):
        for i in range(5):
            subset = "a/b" if i < 3 else "a"
            yield Sample(id=str(i), subset=subset, prompt=f"q{i}", target="yes" if i % 2 == 0 else "no")


class _Plugin:
    @hookimpl
    def assay_benchmarks(self, register):
        register("slashed", _Slashed)


def test_the_report_groups_by_the_events_typed_benchmark_and_subset(tmp_path):
    host = PluginHost()
    host.register_module(_Plugin(), "slashed")
    cfg = {"datasets": ["slashed"], "work_dir": str(tmp_path), "progress": False, "model_args": {"answer": "yes"}}
    report = run_eval(cfg, plugins=host)
    rows = {r["subset"]: (r["num"], r["score"]) for r in report["rows"] if r["subset"] in ("a", "a/b")}
    # a/b: samples 0, 1, 2 (targets yes, no, yes); a: samples 3, 4 (no, yes); the model says "yes"
    assert rows == {"a/b": (3, 2 / 3), "a": (2, 0.5)}
    run_dir = next(tmp_path.iterdir())
    scored = [e.body for e in iter_events(run_dir) if e.type == "Scored"]
    assert [(s.benchmark, s.subset) for s in scored] == [("slashed", "a/b")] * 3 + [("slashed", "a")] * 2


def test_logs_with_the_metadata_keys_only_still_read(tmp_path):
    # as written before mode/self_driven were fields, and before Scored carried its group
    lines = [
        {"type": "RunStarted", "body": {"kind": "eval"}},
        {
            "type": "SampleLoaded",
            "body": {"sample_id": "m/s/1", "benchmark": "m", "subset": "s", "metadata": {"mode": "loglikelihood"}},
        },
        {
            "type": "SampleLoaded",
            "body": {"sample_id": "e/s/1", "benchmark": "e", "subset": "s", "metadata": {"self_driven": True}},
        },
        {"type": "Scored", "body": {"sample_id": "m/s/1", "scorer": "x", "metric": "acc", "value": 1.0}},
        {
            "type": "SampleFailed",
            "body": {"sample_id": "m/s/2", "stage": "generate", "error_type": "E", "message": "m"},
        },
    ]
    path = tmp_path / "events.jsonl"
    path.write_text(
        "".join(json.dumps({"v": 1, "seq": i, "ts": 0.0, "run_id": "r", **ev}) + "\n" for i, ev in enumerate(lines))
    )
    loaded = [e.body for e in iter_events(path) if e.type == "SampleLoaded"]
    assert [(s.mode, s.self_driven) for s in loaded] == [("loglikelihood", False), ("generate", True)]
    rows = build_eval(path)["rows"]
    assert [(r["dataset"], r["subset"], r["num"], r["score"], r["errors"]) for r in rows] == [("m", "s", 2, 0.5, 1)]


def test_typed_fields_win_over_metadata():
    s = SampleLoaded(sample_id="x", benchmark="b", mode="loglikelihood", metadata={"mode": "generate"})
    assert s.mode == "loglikelihood" and not s.self_driven

"""run_task in-process with the offline mock model: config forms, observers, limits, errors."""

from __future__ import annotations


import anyio
import anyio.lowlevel
import pytest
from assay import TaskConfig, hookimpl, run_task
from assay.api import AssayError
from assay.evaluate import run_eval
from assay.log import iter_events
from assay.plugins import PluginHost


def _cfg(tmp_path, datasets_dir, **kw):
    return {
        "datasets": ["gsm8k"],
        "limit": 4,
        "dataset_dir": str(datasets_dir),
        "work_dir": str(tmp_path),
        "progress": False,
        **kw,
    }


def test_dict_yaml_and_taskconfig_give_the_same_report(tmp_path, datasets_dir):
    a = run_task(_cfg(tmp_path, datasets_dir))
    path = tmp_path / "c.yaml"
    path.write_text(
        f"datasets: [gsm8k]\nlimit: 4\ndataset_dir: {datasets_dir}\nwork_dir: {tmp_path}\nprogress: false\n"
    )
    b = run_task(str(path))
    c = run_task(TaskConfig(**_cfg(tmp_path, datasets_dir)))
    assert a["rows"] == b["rows"] == c["rows"]
    assert a["rows"][0]["num"] == 4 and a["rows"][0]["model"] == "mock"


def test_the_mock_model_answers_by_the_prompt_alone(tmp_path, datasets_dir):
    # two runs, one sample at a time and all four at once (another completion order): the same
    # answer for each sample, the same scores, the same report
    runs = []
    for batch in (1, 4):
        work = tmp_path / f"b{batch}"
        report = run_task(_cfg(work, datasets_dir, eval_batch_size=batch, model_args={"delay": 0.01 * (5 - batch)}))
        events = list(iter_events(next(work.iterdir())))
        outputs = {e.body.sample_id: e.body.output for e in events if e.type == "Generated"}
        scores = {e.body.sample_id: e.body.value for e in events if e.type == "Scored"}
        runs.append((outputs, scores, report["rows"]))
    (out1, sc1, rows1), (out4, sc4, rows4) = runs
    assert len(out1) == 4 and out1 == out4 and sc1 == sc4 and rows1 == rows4
    assert len(set(out1.values())) == 4  # four prompts, four different answers: not one constant reply


def test_observers_see_every_event_and_may_be_async(tmp_path, datasets_dir):
    seen = []

    class Observer:
        @hookimpl
        def assay_event(self, event, run):
            if event.type == "Scored":

                async def later():
                    await anyio.lowlevel.checkpoint()
                    seen.append(("async", event.seq))

                return later()
            seen.append((event.type, event.seq))
            return None

    host = PluginHost()
    host.register_module(Observer(), "observer")
    report = run_eval(_cfg(tmp_path, datasets_dir), plugins=host)
    types = [t for t, _ in seen]
    assert types[0] == "RunStarted" and types[-1] == "RunFinished"
    assert types.count("async") == 4 and types.count("Generated") == 4
    run_dir = next(tmp_path.iterdir())
    assert len(seen) == sum(1 for _ in iter_events(run_dir))
    assert report["rows"][0]["num"] == 4


def test_transient_failures_are_retried_and_final_ones_counted(tmp_path, datasets_dir):
    # every 2nd call fails transiently; with retries=0 half the samples error out
    report = run_task(_cfg(tmp_path, datasets_dir, model_args={"fail_every": 2}, retries=0, limit=6))
    row = report["rows"][0]
    assert row["errors"] == 3 and row["num"] == 6 and report["errored_samples"] == 3
    ignored = run_task(
        _cfg(tmp_path, datasets_dir, model_args={"fail_every": 2}, retries=0, limit=6, ignore_errors=True)
    )
    assert ignored["rows"][0]["num"] == 3
    retried = run_task(_cfg(tmp_path, datasets_dir, model_args={"fail_every": 2}, retries=2, limit=6))
    assert retried["rows"][0]["errors"] == 0


def test_fractional_limit_and_fixed_answers(tmp_path, datasets_dir):
    report = run_task(_cfg(tmp_path, datasets_dir, limit=0.01, model_args={"answer": "#### 18"}))
    row = report["rows"][0]
    assert row["num"] == 13  # floor(1319 * 0.01)
    assert row["score"] == pytest.approx(1 / 13)  # only the first problem's answer is 18 among the first 13


def test_unknown_dataset_fails_before_creating_a_run(tmp_path):
    with pytest.raises(AssayError, match="unknown benchmark 'gsm8kk' \\(did you mean 'gsm8k'\\?\\)"):
        run_task({"datasets": ["gsm8kk"], "work_dir": str(tmp_path)})
    assert not any(tmp_path.iterdir())


def test_rescore_carries_corpus_level_metrics(tmp_path, datasets_dir):
    from assay.events import MetricReported
    from assay.resume import run_rescore

    class Corpus:
        name = "corpus"

        def __init__(self, args):
            self.args = args

        async def run(self, run, args, config):
            run.emit(
                MetricReported(benchmark="corpus", metric="spearman", value=0.75, num=10, details={"model": "enc"})
            )

    class Plugin:
        @hookimpl
        def assay_benchmarks(self, register):
            register("corpus", Corpus)

    host = PluginHost()
    host.register_module(Plugin(), "corpus")
    first = run_eval(_cfg(tmp_path, datasets_dir, datasets=["gsm8k", "corpus"]), plugins=host)
    source = next(p for p in tmp_path.iterdir())
    again = run_rescore(source, plugins=host)
    pick = lambda rep: sorted((r["dataset"], r["metric"], r["score"], r["model"]) for r in rep["rows"])
    assert pick(again) == pick(first)
    assert ("corpus", "spearman", 0.75, "enc") in pick(again)


class _ScorerPlugin:
    """`one` always scores 1; `flaky` raises on gsm8k's first problem and scores 1 elsewhere."""

    class One:
        def score(self, sample, generated):
            from assay.api import Score

            return [Score("one", 1.0)]

    class Flaky:
        def score(self, sample, generated):
            from assay.api import Score

            if sample.local_id == "0":
                raise ValueError("flaky scorer bug")
            return [Score("flaky", 1.0)]

    @hookimpl
    def assay_scorers(self, register):
        register("one", self.One())
        register("flaky", self.Flaky())


def test_a_raising_scorer_counts_each_sample_once_per_metric(tmp_path, datasets_dir):
    host = PluginHost()
    host.register_module(_ScorerPlugin(), "scorers")
    cfg = _cfg(tmp_path, datasets_dir, dataset_args={"gsm8k": {"metric_list": ["one", "flaky"]}})
    report = run_eval(cfg, plugins=host)
    rows = {r["metric"]: (r["num"], r["score"], r["errors"]) for r in report["rows"]}
    # 4 samples: `one` scored all 4 (the failure of `flaky` on one sample is not an error of `one`);
    # `flaky` scored 3 and failed 1, which stays in its denominator as a 0
    assert rows == {"one": (4, 1.0, 0), "flaky": (4, 0.75, 1)}
    assert report["errored_samples"] == 1
    failed = [e.body for e in iter_events(next(tmp_path.iterdir())) if e.type == "SampleFailed"]
    assert [(f.sample_id, f.stage, f.message) for f in failed] == [
        ("gsm8k/main/0", "score", "scorer flaky: flaky scorer bug")
    ]

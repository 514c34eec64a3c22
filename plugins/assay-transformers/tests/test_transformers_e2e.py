"""End to end: ``assay eval --model <tiny local checkpoint>`` through generation and log-likelihoods.

The checkpoint is the session's tiny random Llama; the data are the real shared
benchmark files (``datasets_dir``). Expected log-likelihoods are recomputed directly
with the model (``log_softmax`` over its logits).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from assay import hookimpl
from assay.api import Sample, Score
from assay.log import iter_events
from assay.plugins import PluginHost
from assay_datasets import locate
from assay_testserver.testing import assay, run_dirs


def _events(run_dir: Path) -> list:
    return list(iter_events(run_dir / "events.jsonl", PluginHost().bodies()))


def test_eval_gsm8k_generation_end_to_end(tiny_model_dir, datasets_dir, tmp_path, sub_env):
    if "gsm8k" not in PluginHost().benchmarks():
        pytest.skip("assay-gsm8k is not installed: generation through the kernel runs in the in-process test below")
    work = tmp_path / "out"
    proc = assay(
        *[
            "eval",
            "--model",
            str(tiny_model_dir),
            "--datasets",
            "gsm8k",
            "--limit",
            "8",
            "--dataset-dir",
            str(datasets_dir),
            "--eval-batch-size",
            "4",
            "--work-dir",
            str(work),
            "--generation-config",
            '{"max_tokens": 8, "temperature": 0}',
            "--no-progress",
        ],
        env=sub_env,
    )
    (run,) = run_dirs(work)
    events = _events(run)
    started = events[0].body
    assert started.resolved["backend"] == "transformers"  # claimed: a local dir with config.json
    gens = [e.body for e in events if e.type == "Generated"]
    assert len(gens) == 8  # --limit 8 on gsm8k's one subset
    assert not [e for e in events if e.type == "SampleFailed"]
    for g in gens:
        assert g.usage.prompt_tokens > 0
        assert 1 <= g.usage.completion_tokens <= 8  # max_tokens is honoured
        assert g.finish_reason in ("stop", "length")
        assert g.latency > 0
    report = json.loads((run / "report.json").read_text())
    row = next(r for r in report["rows"] if r["dataset"] == "gsm8k")
    assert row["num"] == 8 and row["errors"] == 0
    assert "gsm8k" in proc.stdout


def test_eval_type_checkpoint_and_offline_hub_id_fails_fast(datasets_dir, tmp_path, sub_env):
    t0 = time.perf_counter()
    proc = assay(
        *[
            "eval",
            "--model",
            "assay-test-nonexistent/no-such-model",
            "--eval-type",
            "checkpoint",
            "--datasets",
            "gsm8k",
            "--limit",
            "1",
            "--dataset-dir",
            str(datasets_dir),
            "--work-dir",
            str(tmp_path),
            "--no-progress",
        ],
        env=sub_env,
        check=2,
        timeout=60,
    )
    took = time.perf_counter() - t0
    assert "could not get model 'assay-test-nonexistent/no-such-model' from modelscope" in proc.stderr
    assert "local directory" in proc.stderr
    assert took < 20, took  # modelscope's default retries would take 20-40 s
    proc = assay(
        *[
            "eval",
            "--model",
            "assay-test-nonexistent/no-such-model",
            "--model-args",
            '{"hub": "huggingface"}',
            "--datasets",
            "gsm8k",
            "--limit",
            "1",
            "--dataset-dir",
            str(datasets_dir),
            "--work-dir",
            str(tmp_path),
            "--no-progress",
        ],
        env=sub_env,
        check=2,
        timeout=60,
    )
    assert "from huggingface" in proc.stderr


def test_directory_without_config_is_a_clear_error(tmp_path, datasets_dir, sub_env):
    empty = tmp_path / "not-a-ckpt"
    empty.mkdir()
    proc = assay(
        *[
            "eval",
            "--model",
            str(empty),
            "--eval-type",
            "llm_ckpt",
            "--datasets",
            "gsm8k",
            "--limit",
            "1",
            "--dataset-dir",
            str(datasets_dir),
            "--work-dir",
            str(tmp_path / "o"),
            "--no-progress",
        ],
        env=sub_env,
        check=2,
        timeout=60,
    )
    assert "without config.json" in proc.stderr and str(empty) in proc.stderr


# ---- log-likelihood through the kernel, on real ARC rows ----------------------------------


class _ArcLoglik:
    """A minimal log-likelihood benchmark over the real ARC-Easy test file (for this test only)."""

    name = "tf_arc_ll"
    default_scorers = ["tf_argmax"]  # noqa: RUF012

    def __init__(self, args):
        self.args = args

    def load(self, args):
        path = locate(args, "arc") / "ARC-Easy" / "ARC-Easy-Test.jsonl"
        with open(path, encoding="utf-8") as f:
            for line_no, line in enumerate(f, 1):
                row = json.loads(line)
                q = row["question"]
                labels = [c["label"] for c in q["choices"]]
                yield Sample(
                    id=row["id"],
                    subset="ARC-Easy",
                    prompt=f"Question: {q['stem']}\nAnswer:",
                    choices=[" " + c["text"] for c in q["choices"]],
                    target=labels.index(row["answerKey"]),
                    metadata={"mode": "loglikelihood", "source": f"{path}:{line_no}"},
                )


class _Gsm8kGen:
    """Real GSM8K test questions as chat messages, scored by the kernel's ``includes`` (this test only)."""

    name = "tf_gsm8k_gen"
    default_scorers = ["includes"]  # noqa: RUF012

    def __init__(self, args):
        self.args = args

    def load(self, args):
        path = locate(args, "gsm8k") / "test.jsonl"
        with open(path, encoding="utf-8") as f:
            for line_no, line in enumerate(f, 1):
                row = json.loads(line)
                yield Sample(
                    id=str(line_no),
                    messages=[{"role": "user", "content": row["question"]}],
                    target=row["answer"].rsplit("####", 1)[1].strip(),
                )


class _Argmax:
    def score(self, sample, generated):
        lp = generated.choice_logprobs
        best = max(range(len(lp)), key=lp.__getitem__)
        return [Score("acc", float(best == sample.target), extracted=best)]


class _TestPlugin:
    @staticmethod
    @hookimpl
    def assay_benchmarks(register):
        register("tf_arc_ll", _ArcLoglik)
        register("tf_gsm8k_gen", _Gsm8kGen)

    @staticmethod
    @hookimpl
    def assay_scorers(register):
        register("tf_argmax", _Argmax())


def test_loglikelihood_eval_through_the_kernel(tiny_model_dir, tiny_loaded, datasets_dir, tmp_path):
    import torch
    from assay.evaluate import run_eval

    host = PluginHost()
    host.pm.register(_TestPlugin, name="tf_test")
    report = run_eval(
        {
            "model": str(tiny_model_dir),
            "datasets": ["tf_arc_ll"],
            "limit": 6,
            "dataset_dir": str(datasets_dir),
            "eval_batch_size": 3,
            "work_dir": str(tmp_path),
            "progress": False,
        },
        plugins=host,
    )
    row = next(r for r in report["rows"] if r["dataset"] == "tf_arc_ll")
    assert row["num"] == 6 and row["errors"] == 0
    (run,) = run_dirs(tmp_path)
    events = list(iter_events(run / "events.jsonl", host.bodies()))
    loaded = {e.body.sample_id: e.body for e in events if e.type == "SampleLoaded"}
    gens = [e.body for e in events if e.type == "Generated"]
    assert len(gens) == 6
    lm, tok, _ = tiny_loaded
    g = gens[0]
    s = loaded[g.sample_id]
    assert len(g.choice_logprobs) == len(s.choices) == len(g.choice_greedy)
    ctx = tok(s.prompt)["input_ids"]
    with torch.inference_mode():
        for ci, choice in enumerate(s.choices):
            cont = tok(s.prompt + choice)["input_ids"][len(ctx) :]
            lp = torch.log_softmax(lm(input_ids=torch.tensor([ctx + cont])).logits[0].float(), dim=-1)
            expected = sum(float(lp[len(ctx) - 1 + k, t]) for k, t in enumerate(cont))
            assert g.choice_logprobs[ci] == pytest.approx(expected, abs=1e-4)
    # the report's accuracy is the share of argmax hits in the log
    hits = [e.body.value for e in events if e.type == "Scored"]
    assert row["score"] == pytest.approx(sum(hits) / 6)


def test_arc_plugin_loglikelihood_and_gsm8k_end_to_end(tiny_model_dir, datasets_dir, tmp_path, sub_env):
    if "arc" not in PluginHost().benchmarks():
        pytest.skip("assay-arc is not installed: the ARC part runs through the in-process test above")
    work = tmp_path / "out"
    assay(
        *[
            "eval",
            "--model",
            str(tiny_model_dir),
            "--datasets",
            "gsm8k",
            "arc",
            "--limit",
            "8",
            "--dataset-dir",
            str(datasets_dir),
            "--eval-batch-size",
            "4",
            "--work-dir",
            str(work),
            "--generation-config",
            '{"max_new_tokens": 8}',
            "--no-progress",
            "--dataset-args",
            '{"arc": {"mcq_mode": "loglikelihood"}}',
        ],
        env=sub_env,
    )
    (run,) = run_dirs(work)
    events = _events(run)
    assert not [e for e in events if e.type == "SampleFailed"]
    loaded = {e.body.sample_id: e.body for e in events if e.type == "SampleLoaded"}
    arc = [e.body for e in events if e.type == "Generated" and e.body.sample_id.startswith("arc/")]
    assert arc, "no ARC generations"
    for g in arc:
        n = len(loaded[g.sample_id].choices)
        assert len(g.choice_logprobs) == n and all(v < 0 for v in g.choice_logprobs)
    report = json.loads((run / "report.json").read_text())
    assert {r["dataset"] for r in report["rows"]} >= {"gsm8k", "arc"}


def test_generation_through_the_kernel_batch_1_and_4_agree(tiny_model_dir, datasets_dir, tmp_path):
    from assay.evaluate import run_eval

    outputs = {}
    for bs in (1, 4):
        host = PluginHost()
        host.pm.register(_TestPlugin, name="tf_test")
        work = tmp_path / f"bs{bs}"
        report = run_eval(
            {
                "model": str(tiny_model_dir),
                "datasets": ["tf_gsm8k_gen"],
                "limit": 8,
                "dataset_dir": str(datasets_dir),
                "eval_batch_size": bs,
                "generation_config": {"max_tokens": 8, "temperature": 0},
                "work_dir": str(work),
                "progress": False,
            },
            plugins=host,
        )
        assert report["rows"][0]["num"] == 8 and report["rows"][0]["errors"] == 0
        (run,) = run_dirs(work)
        events = list(iter_events(run / "events.jsonl", host.bodies()))
        assert events[0].body.resolved["backend"] == "transformers"
        gens = {e.body.sample_id: e.body for e in events if e.type == "Generated"}
        assert len(gens) == 8 and all(1 <= g.usage.completion_tokens <= 8 for g in gens.values())
        outputs[bs] = {sid: g.output for sid, g in gens.items()}
    assert outputs[1] == outputs[4]  # greedy: batching (left padding) changes nothing

"""Prompt sources (real files from the shared datasets) and the request builders, against
the real test server (its ``requests`` list holds the JSON bodies it received)."""

from __future__ import annotations

import json

import pytest
from assay.api import AssayError
from assay_perf import datasets as ds
from assay_perf.runner import PerfOptions


def _opts(**kw):
    return PerfOptions(url="http://127.0.0.1:1/v1", model="m", **kw)


def test_mt_bench_first_turns(datasets_dir):
    path = datasets_dir / "mt_bench" / "question.jsonl"
    prompts = list(ds.mt_bench(_opts(dataset_path=str(path))))
    # expected: the file itself, read with json (80 rows per mt_bench/SOURCE.md)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(prompts) == 80 == len(rows)
    assert prompts == [r["turns"][0] for r in rows]
    # a directory works too
    assert list(ds.mt_bench(_opts(dataset_path=str(datasets_dir / "mt_bench")))) == prompts


def test_arena_hard_both_versions(datasets_dir):
    prompts = list(ds.arena_hard(_opts(dataset_path=str(datasets_dir / "arena_hard"))))
    assert len(prompts) == 500 + 750  # row counts in arena_hard/SOURCE.md
    v01 = list(
        ds.arena_hard(_opts(dataset_path=str(datasets_dir / "arena_hard" / "arena-hard-v0.1" / "question.jsonl")))
    )
    assert prompts[:500] == v01
    assert v01[0] == "Use ABC notation to write a melody in the style of a folk tune."  # first row of v0.1


def test_custom_openqa_line_by_line_and_errors(tmp_path):
    good = tmp_path / "c.jsonl"
    good.write_text('{"prompt": "hi"}\n\n{"messages": [{"role": "user", "content": "yo"}]}\n', encoding="utf-8")
    assert list(ds.custom(_opts(dataset_path=str(good)))) == ["hi", [{"role": "user", "content": "yo"}]]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "ok"}\n{"text": "no"}\n', encoding="utf-8")
    with pytest.raises(AssayError, match=r"bad\.jsonl:2: expected a 'prompt' or 'messages' key"):
        list(ds.custom(_opts(dataset_path=str(bad))))
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"question": "a"}\n{"question": \n', encoding="utf-8")
    with pytest.raises(AssayError, match=r"broken\.jsonl:2: invalid JSON"):
        list(ds.openqa(_opts(dataset_path=str(broken))))
    lines = tmp_path / "p.txt"
    lines.write_text("one\n\ntwo two\n", encoding="utf-8")
    assert list(ds.line_by_line(_opts(dataset_path=str(lines)))) == ["one", "two two"]
    with pytest.raises(AssayError, match="needs --dataset-path"):
        list(ds.custom(_opts()))


def test_random_word_fallback_lengths():
    prompts = list(ds.random_prompts(_opts(min_prompt_length=5, max_prompt_length=9, number=[50])))
    assert len(prompts) == 50
    assert all(5 <= len(p.prompt.split()) <= 9 and p.tokens is None for p in prompts)
    again = list(ds.random_prompts(_opts(min_prompt_length=5, max_prompt_length=9, number=[50])))
    assert [p.prompt for p in again] == [p.prompt for p in prompts]  # seeded


def test_random_with_a_local_tokenizer(tmp_path, datasets_dir):
    # a real WordLevel tokenizer trained here on MT-Bench text, saved as a transformers tokenizer
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    text = (datasets_dir / "mt_bench" / "question.jsonl").read_text(encoding="utf-8").splitlines()
    tok.train_from_iterator(text, trainers.WordLevelTrainer(special_tokens=["[UNK]"]))
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]").save_pretrained(tmp_path / "tok")
    opts = _opts(min_prompt_length=20, max_prompt_length=40, number=[10], tokenizer_path=str(tmp_path / "tok"))
    prompts = list(ds.random_prompts(opts))
    check = PreTrainedTokenizerFast.from_pretrained(tmp_path / "tok")
    for p in prompts:
        n = len(check.encode(p.prompt, add_special_tokens=False))
        assert 20 <= n <= 40 and p.tokens == n


def test_completions_stream_extra_args_and_secrets(test_server, perf, request_events):
    srv = test_server(default_answer="a b c d e f", itl=0.001)
    run_dir, rep = perf(
        "--url",
        srv.url + "/completions",
        "--api",
        "openai",
        "--model",
        "mm",
        "--number",
        "3",
        "--stream",
        "--max-tokens",
        "4",
        "--extra-args",
        '{"temperature": 0.5}',
        "--api-key",
        "sk-SECRET-123",
        "--headers",
        "X-Trace=abc",
        "X-Api-Token=tok-SECRET-456",
        "--min-prompt-length",
        "3",
        "--max-prompt-length",
        "3",
    )
    assert [sorted(r) for r in srv.requests][0] == sorted(
        ["model", "prompt", "max_tokens", "stream", "stream_options", "temperature"]
    )
    assert srv.requests[0]["temperature"] == 0.5 and srv.requests[0]["stream_options"] == {"include_usage": True}
    (p,) = rep["points"]
    assert p["succeeded"] == 3 and p["output_tokens"]["mean"] == 4  # max_tokens cuts the 6-word answer
    log = (run_dir / "events.jsonl").read_text()
    assert "SECRET" not in log and "X-Trace" in log  # the key and secret-looking header values never logged
    assert all(e["api"] == "openai_completions" for e in request_events(run_dir))


def test_chat_non_stream_without_usage_and_embeddings(test_server, perf, request_events):
    srv = test_server(default_answer="one two three", report_usage=False)
    run_dir, rep = perf("--url", srv.url, "--model", "m", "--number", "2", "--no-stream", "--max-tokens", "10")
    (p,) = rep["points"]
    assert srv.requests[0]["messages"][0]["role"] == "user" and "stream" not in srv.requests[0]
    # no usage, no tokenizer: one token per content chunk; a non-streamed answer is one chunk
    assert p["usage_reported"] == 0 and p["output_tokens"]["mean"] == 1
    assert p["tpot_s"] is None and p["ttft_s"]["mean"] == p["e2e_latency_s"]["mean"]
    run_dir, rep = perf(
        "--url", srv.url, "--api", "openai_embeddings", "--model", "e", "--number", "3", "--parallel", "3"
    )
    (p,) = rep["points"]
    assert p["succeeded"] == 3 and p["output_tokens"]["mean"] == 0
    assert "input" in srv.requests[-1]


def test_open_loop_rate_duration_and_warmup(test_server, perf, request_events):
    srv = test_server(ttft=0.02)
    # 50 req/s Poisson for 0.6 s at most 1 in flight (20 ms each): some requests must wait
    run_dir, rep = perf(
        "--url",
        srv.url,
        "--model",
        "m",
        "--rate",
        "50",
        "--duration",
        "0.6",
        "--parallel",
        "1",
        "--warmup-num",
        "2",
        "--max-tokens",
        "2",
        "--stream",
        "--seed",
        "7",
    )
    (p,) = rep["points"]
    events = request_events(run_dir)
    measured = [e for e in events if e.get("phase", "measure") == "measure"]
    assert rep["warmup_requests"] == 2 == len(events) - len(measured)
    assert p["requests"] == len(measured) >= 10
    assert all(e["scheduled"] is not None and e["sent"] >= e["scheduled"] - 1e-6 for e in measured)
    assert max(e["scheduled"] for e in measured) - min(e["scheduled"] for e in measured) < 0.6
    assert p["queue_delay_s"]["max"] > 0.005
    # the same seed gives the same arrival gaps
    run2, _ = perf(
        "--url",
        srv.url,
        "--model",
        "m",
        "--rate",
        "50",
        "--number",
        "8",
        "--parallel",
        "8",
        "--max-tokens",
        "2",
        "--seed",
        "7",
    )
    gaps = lambda evs: [b["scheduled"] - a["scheduled"] for a, b in zip(evs, evs[1:])]
    first = sorted(measured, key=lambda e: e["scheduled"])[:8]
    second = sorted(request_events(run2), key=lambda e: e["scheduled"])
    assert gaps(second) == pytest.approx(gaps(first), abs=1e-5)  # timestamps near 1.7e9 carry ~1e-7 s rounding


def test_rate_list_sweeps_pairwise(test_server, perf):
    srv = test_server()
    run_dir, rep = perf(
        "--url",
        srv.url,
        "--model",
        "m",
        "--rate",
        "200",
        "400",
        "--parallel",
        "4",
        "--number",
        "6",
        "--max-tokens",
        "2",
    )
    points = [p["point"] for p in rep["points"]]
    assert points == [{"parallel": 4, "number": 6, "rate": 200.0}, {"parallel": 4, "number": 6, "rate": 400.0}]
    assert all(p["requests"] == 6 and p["queue_delay_s"]["n"] == 6 for p in rep["points"])
    assert sorted(f.name for f in (run_dir / "points").iterdir()) == [
        "parallel_4_number_6_rate_200.0.json",
        "parallel_4_number_6_rate_400.0.json",
    ]

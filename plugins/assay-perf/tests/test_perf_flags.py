"""EvalScope perf's flag names, and the sampling flags reaching the request body (the test
server records every body it receives)."""

from __future__ import annotations

import pytest
from assay.api import AssayError


def test_sampling_flags_reach_the_chat_body(test_server, perf):
    srv = test_server(default_answer="a b c d e f g h")
    perf(
        "--url",
        srv.url,
        "--model",
        "m",
        "-n",
        "2",
        "--max-tokens",
        "5",
        "--temperature",
        "0.7",
        "--top-p",
        "0.9",
        "--top-k",
        "40",
        "--min-p",
        "0.05",
        "--frequency-penalty",
        "0.1",
        "--presence-penalty",
        "0.2",
        "--repetition-penalty",
        "1.1",
        "--n-choices",
        "1",
        "--stop",
        "END",
        "###",
        "--stop-token-ids",
        "2",
        "7",
        "--ignore-eos",
        "--logprobs",
        "--top-logprobs",
        "3",
        "--seed",
        "11",
        "--min-prompt-length",
        "3",
        "--max-prompt-length",
        "3",
    )
    assert len(srv.requests) == 2
    body = srv.requests[0]
    del body["messages"]
    assert body == {
        "model": "m",
        "max_tokens": 5,
        "temperature": 0.7,
        "top_p": 0.9,
        "top_k": 40,
        "min_p": 0.05,
        "frequency_penalty": 0.1,
        "presence_penalty": 0.2,
        "repetition_penalty": 1.1,
        "n": 1,
        "stop": ["END", "###"],
        "stop_token_ids": [2, 7],
        "ignore_eos": True,
        "logprobs": True,
        "top_logprobs": 3,
        "seed": 11,
    }


def test_no_sampling_key_unless_given_and_extra_args_win(test_server, perf):
    srv = test_server()
    perf("--url", srv.url, "--model", "m", "--number", "1", "--min-prompt-length", "2", "--max-prompt-length", "2")
    assert sorted(srv.requests[0]) == ["max_tokens", "messages", "model"]  # no seed unless --seed is given
    perf(
        "--url",
        srv.url + "/completions",
        "--model",
        "m",
        "--number",
        "1",
        "--logprobs",
        "--top-logprobs",
        "4",
        "--temperature",
        "0.5",
        "--extra-args",
        '{"temperature": 0.0}',
    )
    body = srv.requests[-1]
    # completions take logprobs as a count; --extra-args is merged last
    assert body["logprobs"] == 4 and "top_logprobs" not in body and body["temperature"] == 0.0


def test_evalscope_names_and_max_tokens_range(test_server, perf):
    from assay.cli import build_parser

    args = build_parser().parse_args(["perf", "--outputs-dir", "elsewhere", "-n", "3", "5"])
    assert args.work_dir == "elsewhere" and args.number == [3, 5]  # EvalScope's names
    srv = test_server(default_answer="w " * 50)
    run_dir, rep = perf(
        "--url",
        srv.url,
        "--model",
        "m",
        "-n",
        "40",
        "--max-tokens",
        "3",
        "9",
        "--warmup-num",
        "0.1",
        "--min-prompt-length",
        "2",
        "--max-prompt-length",
        "2",
    )
    sent = [r["max_tokens"] for r in srv.requests]
    assert len(sent) == 44  # 4 warm-up requests (10% of 40) + 40
    assert set(sent) <= set(range(3, 10)) and min(sent) == 3 and max(sent) == 9  # uniform in [3, 9], seeded
    (p,) = rep["points"]
    assert p["succeeded"] == 40 and rep["warmup_requests"] == 4


def test_open_loop_sends_on_schedule_whatever_is_in_flight(test_server, perf, request_events):
    srv = test_server(ttft=0.3)
    run_dir, rep = perf(
        "--url", srv.url, "--model", "m", "--number", "6", "--rate", "50", "--parallel", "1", "--open-loop"
    )
    evs = request_events(run_dir)
    # 6 arrivals at 50/s take ~0.1 s; each answer takes 0.3 s: with --parallel 1 capping, they would queue
    assert max(e["sent"] - e["scheduled"] for e in evs) < 0.1
    assert max(e["sent"] for e in evs) < min(e["end"] for e in evs)  # all six were in flight together
    with pytest.raises(AssayError, match="--open-loop needs --rate"):
        perf("--url", srv.url, "--model", "m", "--number", "2", "--open-loop")


def test_flag_errors(perf):
    with pytest.raises(AssayError, match="--top-logprobs needs --logprobs"):
        perf("--url", "http://127.0.0.1:1/v1", "--model", "m", "--top-logprobs", "2")
    with pytest.raises(AssayError, match=r"--max-tokens 9 3: need 1 <= MIN <= MAX"):
        perf("--url", "http://127.0.0.1:1/v1", "--model", "m", "--max-tokens", "9", "3")
    with pytest.raises(SystemExit):
        perf("--url", "http://127.0.0.1:1/v1", "--model", "m", "--warmup-num", "1.5")
    # out of range: one error before any request (the URL is never reached), as the eval's generation_config
    for flags, message in [
        (("--max-tokens", "0"), "--max-tokens must be >= 1, got 0"),
        (("--top-p", "2"), "--top-p: top_p = 2.0: expected a number in [0, 1]"),
        (("--temperature", "-1"), "--temperature: temperature = -1.0: expected a number >= 0"),
        (("--presence-penalty", "3"), "--presence-penalty: presence_penalty = 3.0: expected a number in [-2, 2]"),
    ]:
        with pytest.raises(AssayError) as info:
            perf("--url", "http://127.0.0.1:1/v1", "--model", "m", "-n", "1", *flags)
        assert message in str(info.value)


def _tokenizer(tmp_path, datasets_dir):
    """A real WordLevel tokenizer trained here on MT-Bench text, with a chat template, saved as transformers'."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    text = (datasets_dir / "mt_bench" / "question.jsonl").read_text(encoding="utf-8").splitlines()
    tok.train_from_iterator(text, trainers.WordLevelTrainer(special_tokens=["[UNK]"]))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]")
    fast.chat_template = "{% for m in messages %}<{{ m['role'] }}> {{ m['content'] }} {% endfor %}<assistant>"
    fast.save_pretrained(tmp_path / "tok")
    return tmp_path / "tok", PreTrainedTokenizerFast.from_pretrained(tmp_path / "tok")


def test_tokenize_prompt_and_chat_template(test_server, perf, request_events, tmp_path, datasets_dir):
    path, tok = _tokenizer(tmp_path, datasets_dir)
    lines = ["Compose an engaging travel blog post", "Write a persuasive email to convince"]
    (tmp_path / "p.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    srv = test_server(default_answer="ok")
    common = ["--model", "m", "--dataset", "line_by_line", "--dataset-path", str(tmp_path / "p.txt")]
    common += ["--tokenizer-path", str(path), "--number", "2", "--max-tokens", "3"]
    run_dir, rep = perf("--url", srv.url + "/chat/completions", "--tokenize-prompt", *common)
    ids = [tok.encode(line, add_special_tokens=False) for line in lines]
    assert [r["prompt"] for r in srv.requests] == ids and all(isinstance(i, int) for i in ids[0])
    evs = request_events(run_dir)
    # sent to /completions (EvalScope's rule), the exact input lengths: the ids sent (the server counts them too)
    assert {e["url"] for e in evs} == {srv.url + "/completions"} and {e["api"] for e in evs} == {"openai_completions"}
    assert sorted(e["prompt_tokens"] for e in evs) == sorted(len(i) for i in ids)
    perf("--url", srv.url + "/completions", "--apply-chat-template", *common)
    assert [r["prompt"] for r in srv.requests[2:]] == [f"<user> {line} <assistant>" for line in lines]
    with pytest.raises(AssayError, match="--tokenize-prompt needs --tokenizer-path"):
        perf("--url", srv.url, "--model", "m", "--tokenize-prompt", "--number", "1")

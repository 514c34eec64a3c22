"""assay-judge's Judge against real backends: the openai_api backend on the test server (scripted verdicts,
log-probabilities, failures), several judges aggregated, the worker bound, reuse, the mock backend."""

from __future__ import annotations

import json
import math

import anyio
import pytest
from assay.config import from_dict
from assay.events import SampleLoaded
from assay_judge import Judge, Parsed, expected_from_logprobs, logprob_share, parse_label, parse_rating, reuse_key
from assay.plugins import host
from assay.run import Run

SAMPLE = SampleLoaded(sample_id="b/default/1", benchmark="b", messages=[{"role": "user", "content": "q"}])


def make_run(tmp_path, cfg) -> Run:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return Run(tmp_path, "r1", cfg, host())


def logged(run: Run, type_: str = "Judged") -> list[dict]:
    run.flush()
    lines = (run.run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x)["body"] for x in lines if json.loads(x)["type"] == type_]


def judges(*servers, **more) -> list[dict]:
    return [{"model_id": f"judge{i}", "api_url": s.url, **more} for i, s in enumerate(servers)]


def ask_all(judge: Judge, prompts: list[str], parse, **kw) -> list:
    out = [None] * len(prompts)

    async def main() -> None:
        async def one(i: int) -> None:
            s = SampleLoaded(sample_id=f"b/default/{i}", benchmark="b")
            out[i] = await judge.ask(s, prompts[i], parse=parse, scorer="t", **kw)

        try:
            async with anyio.create_task_group() as tg:
                for i in range(len(prompts)):
                    tg.start_soon(one, i)
        finally:
            await judge.aclose()

    anyio.run(main)
    return out


def test_logprobs_reach_the_judged_event(test_server, tmp_path) -> None:
    srv = test_server(rules=[{"match": "Which is better", "answer": "m", "logprobs": {"m": -0.2, "M": -1.8, "x": -5}}])
    cfg = from_dict({"judge_model_args": judges(srv)})
    run = make_run(tmp_path, cfg)
    [res] = ask_all(
        Judge(cfg, host(), run),
        ["Which is better, m or M?"],
        parse_label(r"(m|M)"),
        logprobs=5,
        key="game1",
        order="BA",
        candidates=["model_a", "gpt4_1106_preview"],
    )
    assert res.ok and res.label == "m"
    assert srv.requests[0]["logprobs"] is True and srv.requests[0]["top_logprobs"] == 5
    [ev] = logged(run)
    assert (ev["key"], ev["order"], ev["candidates"]) == ("game1", "BA", ["model_a", "gpt4_1106_preview"])
    assert ev["messages"] == [{"role": "user", "content": "Which is better, m or M?"}] and ev["label"] == "m"
    top = ev["logprobs"][0]["top_logprobs"]
    assert [(t["token"], t["logprob"]) for t in top] == [("m", -0.2), ("M", -1.8), ("x", -5.0)]
    p_m, p_big = math.exp(-0.2), math.exp(-1.8)
    assert expected_from_logprobs(ev["logprobs"], {"m": 1, "M": 2}) == pytest.approx((p_m + 2 * p_big) / (p_m + p_big))
    # its request is timed like a model call
    assert [t["request_id"] for t in logged(run, "RequestTimed")] == ev["request_ids"]


def test_benchmark_generation_config_under_the_judges_own(test_server, tmp_path) -> None:
    """``ask(generation_config=...)``: the benchmark's settings (AlpacaEval: max_tokens 1, temperature 1),
    each overridden by the judge's own ``generation_config``; logprobs as asked."""
    srv = test_server(rules=[{"match": "Which", "answer": "m wins", "logprobs": {"m": -0.1, "M": -2.4}}])
    cfg = from_dict({"judge_model_args": judges(srv, generation_config={"temperature": 0})})
    run = make_run(tmp_path, cfg)
    [res] = ask_all(
        Judge(cfg, host(), run),
        ["Which?"],
        lambda out, lp: Parsed(value=logprob_share(lp, "m", ("m", "M"))),
        logprobs=5,
        generation_config={"max_tokens": 1, "temperature": 1},
    )
    req = srv.requests[0]
    assert (req["max_tokens"], req["temperature"], req["logprobs"], req["top_logprobs"]) == (1, 0, True, 5)
    p_m, p_big = math.exp(-0.1), math.exp(-2.4)
    assert res.ok and res.value == pytest.approx(p_m / (p_m + p_big))
    assert logged(run)[0]["output"] == "m "  # max_tokens 1: the first token ("m wins" cut)


def test_several_judges_aggregated(test_server, tmp_path) -> None:
    a = test_server(rules=[{"match": "answer-", "answer": "Rating: [[8]]"}])
    b = test_server(rules=[{"match": "answer-1", "answer": "Rating: [[6]]"}, {"match": "answer-2", "answer": "meh"}])
    c = test_server(rules=[{"match": "answer-", "answer": "Rating: [[1]]", "fault": "http_500"}])
    cfg = from_dict({"judge_model_args": judges(a, b, c), "judge_min_valid": 2, "retries": 0})
    run = make_run(tmp_path, cfg)
    res = ask_all(Judge(cfg, host(), run), ["answer-1", "answer-2"], parse_rating(lo=1, hi=10))
    assert res[0].ok and res[0].value == 7.0  # mean of 8 and 6; the failing judge left out
    assert [v.ok for v in res[0].verdicts] == [True, True, False]
    assert not res[1].ok and res[1].reason.startswith("1 of 3 verdicts valid (need 2)")
    events = logged(run)
    assert len(events) == 6 and sorted((e["sample_id"], e.get("judge_index", 0)) for e in events) == [
        (f"b/default/{i}", j) for i in (0, 1) for j in (0, 1, 2)
    ]
    assert sum(e.get("status") == "judge_failed" for e in events) == 3


def test_all_agree_and_majority_labels(test_server, tmp_path) -> None:
    a = test_server(rules=[{"match": "x", "answer": "A"}])
    b = test_server(rules=[{"match": "x", "answer": "B"}])
    c = test_server(rules=[{"match": "x", "answer": "A"}])
    for how, ok, label in (("all_agree", False, None), ("majority", True, "A")):
        cfg = from_dict({"judge_model_args": judges(a, b, c), "judge_aggregation": how})
        [res] = ask_all(Judge(cfg, host(), make_run(tmp_path / how, cfg)), ["x"], parse_label(r"(A|B)"))
        assert (res.ok, res.label) == (ok, label)


@pytest.mark.parametrize("workers", [1, 3])
def test_judge_worker_num_bounds_concurrent_calls(test_server, tmp_path, workers) -> None:
    srv = test_server(rules=[{"match": "q", "answer": "A"}], ttft=0.15)
    cfg = from_dict({"judge_model_args": judges(srv), "judge_worker_num": workers})
    res = ask_all(Judge(cfg, host(), make_run(tmp_path, cfg)), ["q"] * 6, parse_label("(A)"))
    assert all(r.ok for r in res) and srv.server.count == 6
    assert srv.server.max_in_flight == workers


def test_logged_verdicts_are_reused_not_asked_again(test_server, tmp_path) -> None:
    srv = test_server(rules=[{"match": "q", "answer": "B"}])
    cfg = from_dict({"judge_model_args": judges(srv)})
    run = make_run(tmp_path / "a", cfg)
    ask_all(Judge(cfg, host(), run), ["q0", "q1"], parse_label("(A|B)"))
    assert srv.server.count == 2
    from assay.events import Judged
    import msgspec

    reuse = {reuse_key(j): j for j in (msgspec.convert(e, Judged) for e in logged(run))}
    # same prompts: the logged verdicts, read again by the parser given now; a new prompt: asked
    run2 = make_run(tmp_path / "b", cfg)
    res = ask_all(Judge(cfg, host(), run2, reuse=reuse), ["q0", "q1", "q2"], parse_label("(A|B)"))
    assert [r.label for r in res] == ["B", "B", "B"] and srv.server.count == 3
    # rescore without --rejudge: no call at all; what was never judged is a judge failure
    run3 = make_run(tmp_path / "c", cfg)
    res = ask_all(Judge(cfg, host(), run3, reuse=reuse, reuse_from="src", call=False), ["q0", "q9"], parse_label("(B)"))
    assert res[0].ok and not res[1].ok and srv.server.count == 3
    assert "rescore without --rejudge calls no judge" in res[1].reason
    assert [e.get("reused_from") for e in logged(run3)] == ["src", None]


def test_any_backend_judges_the_mock_one(tmp_path) -> None:
    cfg = from_dict({"judge_model_args": {"model_id": "mock"}})
    [res] = ask_all(Judge(cfg, host(), make_run(tmp_path, cfg)), ["grade this"], parse_rating(r"#### (\d+)"))
    assert res.ok and 0 <= res.value < 100


def test_system_prompt_and_generation_config_reach_the_judge(test_server, tmp_path) -> None:
    srv = test_server(rules=[{"match": "grade", "answer": "A"}])
    spec = {"system_prompt": "You are a strict grader.", "generation_config": {"temperature": 0.0, "max_tokens": 4}}
    cfg = from_dict({"judge_model_args": judges(srv, **spec)})
    run = make_run(tmp_path, cfg)
    [res] = ask_all(Judge(cfg, host(), run), ["grade this"], parse_label("(A)"))
    assert res.ok
    sent = srv.requests[0]
    assert sent["messages"] == [
        {"role": "system", "content": "You are a strict grader."},
        {"role": "user", "content": "grade this"},
    ]
    assert (sent["temperature"], sent["max_tokens"], sent["model"]) == (0.0, 4, "judge0")
    assert logged(run)[0]["messages"] == sent["messages"]  # the exact prompt, as sent

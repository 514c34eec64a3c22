"""More model APIs for `assay perf --api` (EvalScope's names), each against the test server's own
implementation of the protocol: rerank (Cohere/Jina/vLLM), the OpenAI Responses API, embeddings."""

from __future__ import annotations

import pytest


def test_rerank(test_server, perf, request_events):
    srv = test_server()
    run_dir, rep = perf(
        "--url", srv.url, "--api", "rerank", "--model", "r", "--number", "3", "--min-prompt-length", "8",
        "--max-prompt-length", "8",
    )  # fmt: skip
    assert len(srv.requests) == 3
    body = srv.requests[0]
    assert sorted(body) == ["documents", "model", "query"] and body["model"] == "r"
    words = " ".join(body["documents"]).split()
    assert len(words) == 8 and len(body["documents"]) == 4 and body["query"] == body["documents"][0]
    (p,) = rep["points"]
    assert (p["succeeded"], p["failed"], p["output_tokens"]["mean"]) == (3, 0, 0)
    assert p["prompt_tokens"]["mean"] == 10  # the server's usage: query (2 words) + documents (8)
    evs = request_events(run_dir)
    assert {e["api"] for e in evs} == {"openai_rerank"} and all(e["url"] == srv.url + "/rerank" for e in evs)
    # --api openai picks rerank from the URL, as it does completions and embeddings
    run_dir, rep = perf("--url", srv.url + "/rerank", "--model", "r", "--number", "1")
    assert rep["points"][0]["succeeded"] == 1 and request_events(run_dir)[0]["api"] == "openai_rerank"


@pytest.mark.parametrize("stream", [True, False])
def test_responses_api(test_server, perf, request_events, stream):
    srv = test_server(default_answer="a b c d e f g", itl=0.002)
    flags = ["--url", srv.url, "--api", "openai_responses", "--model", "m", "--number", "4", "--max-tokens", "5"]
    flags += ["--temperature", "0.3", "--min-prompt-length", "3", "--max-prompt-length", "3"]
    run_dir, rep = perf(*flags, "--stream" if stream else "--no-stream")
    body = srv.requests[0]
    expected = {"model", "input", "max_output_tokens", "temperature"} | ({"stream"} if stream else set())
    assert set(body) == expected and body["max_output_tokens"] == 5 and len(body["input"].split()) == 3
    (p,) = rep["points"]
    assert (p["succeeded"], p["failed"], p["usage_reported"]) == (4, 0, 4)
    assert p["output_tokens"]["mean"] == 5 and p["prompt_tokens"]["mean"] == 3  # the server's usage
    evs = request_events(run_dir)
    assert {e["api"] for e in evs} == {"openai_responses"}
    # streamed: one content chunk per output_text.delta (5), so TPOT and ITL exist; whole: one chunk
    assert {len(e["chunk_times"]) for e in evs} == ({5} if stream else {1})
    assert (p["tpot_s"] is not None) == stream


def test_responses_stream_faults(test_server, perf):
    srv = test_server(default_answer="a b c d e f", faults={"error_event": [2], "reset": [3]})
    _, rep = perf(
        "--url", srv.url + "/responses", "--model", "m", "--number", "4", "--stream", "--max-tokens", "6",
    )  # fmt: skip
    (p,) = rep["points"]
    assert p["failures"] == {"connection": 1, "stream_error": 1} and p["succeeded"] == 2


def test_embedding_aliases(test_server, perf, request_events):
    srv = test_server()
    for name in ("embedding", "openai_embedding"):
        run_dir, rep = perf("--url", srv.url, "--api", name, "--model", "e", "--number", "2")
        assert rep["points"][0]["succeeded"] == 2 and "input" in srv.requests[-1]
        assert {e["api"] for e in request_events(run_dir)} == {"openai_embeddings"}


@pytest.mark.parametrize(("api", "items"), [("openai_embeddings", "data"), ("rerank", "results")])
def test_whole_body_without_its_list_is_a_failure(test_server, perf, request_events, api, items):
    """embeddings and rerank share one on_body: a 200 whose list is empty is a malformed answer, never a success."""
    srv = test_server(faults={"empty_list": [2]})
    run_dir, rep = perf("--url", srv.url, "--api", api, "--model", "m", "--number", "3")
    (p,) = rep["points"]
    assert (p["succeeded"], p["failed"], p["failures"]) == (2, 1, {"malformed": 1})
    events = request_events(run_dir)
    assert [e.get("error_kind") for e in events] == [None, "malformed", None]
    name = "embeddings" if api == "openai_embeddings" else "rerank"
    assert events[1]["error"].startswith(f"{name} response has no {items}: b'{{")
    # the usage of the answers that hold their list is read (rerank's from total_tokens)
    assert all(isinstance(e["prompt_tokens"], int) and e["prompt_tokens"] > 0 for e in (events[0], events[2]))

"""The test server's other protocols: Prometheus ``GET /metrics``, the Anthropic Messages API and
DashScope's text-generation API, each checking what the real one checks."""

from __future__ import annotations

import json
import threading
import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

MSG_HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
USER = [{"role": "user", "content": "hi"}]


def _metrics(srv) -> dict[str, float]:
    text = httpx.get(srv.url.removesuffix("/v1") + "/metrics").text
    return {s.name: s.value for fam in text_string_to_metric_families(text) for s in fam.samples}


def test_metrics_follow_running_and_waiting_requests(test_server):
    # each answer held 1.5 s: the three requests must be in at once, and /metrics read before the first two
    # end, on a loaded host too (at 0.6 s, 2 runs in 2 failed under load)
    srv = test_server(ttft=1.5, max_num_seqs=2, kv_cache_tokens=100, default_answer="a b c d")
    m = _metrics(srv)
    assert m["vllm:num_requests_running"] == 0 and m["vllm:kv_cache_usage_perc"] == 0
    body = {"model": "m", "messages": [{"role": "user", "content": "one two three"}]}
    # the clients made before the threads start (each builds an SSL context: ~0.5 s apart under load)
    clients = [httpx.Client(timeout=10) for _ in range(3)]
    threads = [
        threading.Thread(target=c.post, args=(srv.url + "/chat/completions",), kwargs={"json": body}) for c in clients
    ]
    for t in threads:
        t.start()
    deadline = time.time() + 5
    while srv.server.running + srv.server.waiting < 3 and time.time() < deadline:
        time.sleep(0.01)
    m = _metrics(srv)
    assert (m["vllm:num_requests_running"], m["vllm:num_requests_waiting"]) == (2, 1)
    assert m["vllm:kv_cache_usage_perc"] == 2 * (3 + 4) / 100  # prompt + answer tokens of each running one
    for t in threads:
        t.join()
    for c in clients:
        c.close()
    m = _metrics(srv)
    assert (m["vllm:num_requests_running"], m["vllm:num_requests_waiting"], m["vllm:kv_cache_usage_perc"]) == (0, 0, 0)
    assert m["vllm:request_success_total"] == 3


def test_metrics_faults(test_server):
    srv = test_server(metrics_fault="http_500")
    assert httpx.get(srv.url.removesuffix("/v1") + "/metrics").status_code == 500


def test_messages_checks_headers_system_and_max_tokens(test_server):
    srv = test_server(default_answer="a b c", reasoning="think")
    url = srv.url + "/messages"
    ok = {"model": "c", "max_tokens": 10, "messages": USER, "system": "be brief"}
    r = httpx.post(url, json=ok, headers=MSG_HEADERS).json()
    assert [b["type"] for b in r["content"]] == ["thinking", "text"] and r["content"][1]["text"] == "a b c"
    assert r["stop_reason"] == "end_turn" and r["usage"] == {"input_tokens": 3, "output_tokens": 3}
    no_version = httpx.post(url, json=ok, headers={"x-api-key": "k"})
    assert no_version.status_code == 400 and "anthropic-version" in no_version.json()["error"]["message"]
    assert httpx.post(url, json=ok, headers={"anthropic-version": "2023-06-01"}).status_code == 401
    no_max = httpx.post(url, json={**ok, "max_tokens": None}, headers=MSG_HEADERS)
    assert no_max.status_code == 400 and no_max.json()["error"]["message"] == "max_tokens: Field required"
    sys_role = {**ok, "messages": [{"role": "system", "content": "x"}, *USER]}
    assert httpx.post(url, json=sys_role, headers=MSG_HEADERS).status_code == 400


def test_messages_stream_events(test_server):
    srv = test_server(default_answer="a b c", reasoning="think")
    body = {"model": "c", "max_tokens": 2, "messages": USER, "stream": True}
    with httpx.stream("POST", srv.url + "/messages", json=body, headers=MSG_HEADERS) as r:
        events = [json.loads(line[5:]) for line in r.iter_lines() if line.startswith("data:")]
    kinds = [e["type"] for e in events]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    deltas = [e["delta"] for e in events if e["type"] == "content_block_delta"]
    assert [d.get("text") or d.get("thinking") for d in deltas if d["type"] != "signature_delta"] == [
        "think",
        "a ",
        "b ",
    ]
    assert events[-2]["delta"]["stop_reason"] == "max_tokens" and events[-2]["usage"] == {"output_tokens": 2}


def test_dashscope_streams_with_the_header_only(test_server):
    srv = test_server(default_answer="a b c")
    url = srv.url + "/services/aigc/text-generation/generation"
    body = {"model": "q", "input": {"messages": USER}, "parameters": {"result_format": "message"}}
    whole = httpx.post(url, json=body).json()
    assert whole["output"]["choices"][0]["message"]["content"] == "a b c"
    assert whole["usage"] == {"input_tokens": 1, "output_tokens": 3, "total_tokens": 4}
    with httpx.stream("POST", url, json=body, headers={"X-DashScope-SSE": "enable"}) as r:
        lines = list(r.iter_lines())
    assert ":HTTP_STATUS/200" in lines and "event:result" in lines
    outs = [json.loads(x[5:])["output"]["choices"][0] for x in lines if x.startswith("data:")]
    # not incremental: each event holds the whole text so far
    assert [(o["message"]["content"], o["finish_reason"]) for o in outs] == [
        ("a ", "null"),
        ("a b ", "null"),
        ("a b c", "stop"),
    ]
    body["parameters"] = {"incremental_output": True}  # and result_format text
    with httpx.stream("POST", url, json=body, headers={"X-DashScope-SSE": "enable"}) as r:
        outs = [json.loads(x[5:])["output"] for x in r.iter_lines() if x.startswith("data:")]
    assert [o["text"] for o in outs] == ["a ", "b ", "c"]
    assert httpx.post(url, json={"model": "q", "input": {}}).status_code == 400

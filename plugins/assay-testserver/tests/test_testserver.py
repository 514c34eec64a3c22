"""The test server itself: rules, streaming, timing, faults."""

from __future__ import annotations

import time

import httpx
from assay_testserver import tokens_of


def test_latest_matching_rule_wins(test_server):
    srv = test_server(rules=[{"match": "apple", "answer": "A"}, {"match": "pear", "answer": "P"}], default_answer="D")
    ask = lambda text: httpx.post(
        srv.url + "/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": text}]}
    ).json()
    assert ask("apple then pear")["choices"][0]["message"]["content"] == "P"
    assert ask("pear then apple")["choices"][0]["message"]["content"] == "A"
    assert ask("banana")["choices"][0]["message"]["content"] == "D"


def test_a_rule_with_answers_gives_them_in_turn(test_server):
    srv = test_server(rules=[{"match": "apple", "answers": ["1", "2", "3"]}, {"match": "pear", "answer": "P"}])
    ask = lambda text: httpx.post(
        srv.url + "/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": text}]}
    ).json()["choices"][0]["message"]["content"]
    assert [ask("apple"), ask("pear"), ask("apple"), ask("apple"), ask("apple")] == ["1", "P", "2", "3", "1"]


def test_stream_timing_follows_ttft_and_itl(test_server):
    srv = test_server(default_answer="a b c d e", ttft=0.2, itl=0.05)
    t0 = time.perf_counter()
    arrivals = []
    with httpx.stream(
        "POST",
        srv.url + "/chat/completions",
        json={"model": "m", "stream": True, "messages": [{"role": "user", "content": "x"}]},
    ) as r:
        for line in r.iter_lines():
            if '"content":"' in line and '"content":""' not in line:
                arrivals.append(time.perf_counter() - t0)
    assert len(arrivals) == 5
    # lower bounds are exact (the server must wait); upper bounds leave room for a loaded 2-core machine
    assert 0.195 < arrivals[0] < 1.0
    assert 0.19 < arrivals[-1] - arrivals[0] < 0.6  # 4 gaps of 0.05


def test_forced_length_and_tokens():
    assert tokens_of("a  b\nc") == ["a  ", "b\n", "c"]


def test_fault_by_request_number(test_server):
    srv = test_server(faults={"http_500": [2]})
    codes = [httpx.post(srv.url + "/completions", json={"model": "m", "prompt": "x"}).status_code for _ in range(3)]
    assert codes == [200, 500, 200]


def test_key_leaking_faults(test_server):
    srv = test_server(faults={"http_401_key": [1], "http_400_headers": [2], "http_500_headers": [3]})
    auth = {"Authorization": "Bearer sk-leak-0123456789"}
    post = lambda: httpx.post(srv.url + "/completions", json={"model": "m", "prompt": "x"}, headers=auth)
    r401, r400, r500 = post(), post(), post()
    assert r401.status_code == 401
    assert r401.json()["error"]["message"].startswith("Incorrect API key provided: sk-leak-0123456789.")
    assert (r400.status_code, r500.status_code) == (400, 500)
    for r in (r400, r500):
        assert "'Authorization': 'Bearer sk-leak-0123456789'" in r.json()["error"]["message"]
    assert post().status_code == 200

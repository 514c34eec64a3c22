"""Faults are counted exactly, by kind, once each; the run goes on.

The test server injects a fault on the request numbers listed (1-based, in arrival order,
server.py ``_fault``); every other request succeeds. So the expected counts below are the
list lengths, and the number of RequestTimed events equals the number of requests sent.
"""

from __future__ import annotations

import pytest

FAULTS = {
    "http_500": [2, 11],
    "http_429": [3],
    "http_400": [4],
    "garbage": [5],
    "hang": [6],
    "truncate": [7],
    "stream_error": [8, 15],
    "reset": [9],
}
# how each injected fault must be classified
EXPECTED = {
    "http_5xx": 2,
    "http_4xx": 1,
    "http_429": 1,  # the eval backend's kinds (assay_openai.http.status_kind)
    "malformed": 1,
    "timeout": 1,
    "truncated": 1,
    "stream_error": 2,
    "connection": 1,
}


def expected_failures(stream: bool) -> dict[str, int]:
    """The failures FAULTS give, by kind, sorted: non-streamed, truncate and stream_error only act inside a
    stream, so those requests succeed."""
    expected = dict(EXPECTED)
    if not stream:
        expected.pop("truncated")
        expected.pop("stream_error")
    return dict(sorted(expected.items()))


@pytest.mark.parametrize("stream", [True, False])
def test_faults_counted_exactly(server_process, perf, request_events, stream):
    url = server_process(faults=FAULTS, itl=0.0)
    number = 24
    flags = [
        "--url",
        url,
        "--model",
        "m",
        "--parallel",
        "1",
        "--number",
        str(number),
        "--max-tokens",
        "8",
        "--min-tokens",
        "8",
        "--read-timeout",
        "1.0",
        "--min-prompt-length",
        "4",
        "--max-prompt-length",
        "8",
    ]
    run_dir, rep = perf(*flags, "--stream" if stream else "--no-stream")
    (pt,) = rep["points"]
    expected = expected_failures(stream)
    assert pt["failures"] == expected
    assert pt["failed"] == sum(expected.values())
    assert pt["succeeded"] == number - sum(expected.values())
    events = request_events(run_dir)
    assert len(events) == number  # one event per request: nothing counted twice, nothing lost
    assert len({e["request_id"] for e in events}) == number
    assert sum(1 for e in events if not e.get("ok", True)) == pt["failed"]
    by_kind = {e["error_kind"]: e for e in events if not e.get("ok", True)}
    assert by_kind["http_5xx"]["status"] == 500 and "injected server error" in by_kind["http_5xx"]["error"]
    # the read timeout (1 s) fired; uvloop's timers count from libuv's cached millisecond loop time, which may lag
    # the clock (test_perf_lean measured 0.9998 s)
    assert by_kind["timeout"]["end"] - by_kind["timeout"]["sent"] >= 0.95
    # failed requests add nothing to the latency figures
    assert pt["ttft_s"]["n"] == pt["succeeded"]

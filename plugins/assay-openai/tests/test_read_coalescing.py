"""Read coalescing of the eval backend's lean client (model_args ``read_coalesce_ms``, issue 18): after a wake-up of
the event loop by a read, the next poll waits until that many ms have passed, so a fast server's chunks come in
fewer, larger reads; a loop busier than that never waits. (The perf load generator's pools are made without a
window: Pool's default, 0.)"""

from __future__ import annotations

import asyncio
import time

import anyio
import pytest
from assay.api import AssayError, GenerateRequest, ModelConfig


class Recorder:
    def __init__(self):
        self.events = []

    def emit(self, body):
        self.events.append(body)


def _ask(url: str, model_args: dict) -> tuple:
    """One streamed chat request on the lean client: (result, its RequestTimed, the pool's coalesce in s)."""
    from assay_openai.model import OpenAIModel

    run = Recorder()
    out = {}

    async def go():
        m = OpenAIModel(ModelConfig(model="m", api_url=url, stream=True, model_args=model_args), run)
        try:
            out["result"] = await m.generate(
                GenerateRequest(sample_id="s/1", messages=[{"role": "user", "content": "x"}])
            )
            (pool,) = m._pools.values()  # the lean client served it (plain http on loopback)
            out["coalesce"] = pool.coalesce
        finally:
            await m.aclose()

    anyio.run(go)
    (timed,) = run.events
    return out["result"], timed, out["coalesce"]


def test_a_fast_stream_is_read_in_paced_wake_ups(test_server, monkeypatch):
    monkeypatch.delenv("ASSAY_OPENAI_HTTP", raising=False)
    answer = " ".join(f"w{i}" for i in range(3000))  # a zero-latency server writes 3,000 chunks as fast as it can
    srv = test_server(default_answer=answer)
    result, timed, coalesce = _ask(srv.url, {"read_coalesce_ms": 5})
    assert coalesce == 0.005 and result.output == answer and len(timed.chunk_times) == 3000
    # each read is timed as it is handed over (one connection: one read per wake-up of the loop). A wake-up
    # that came less than two windows after the one before is followed by a pause, so the next read comes at
    # least one window later: no two gaps in a row are both short, whatever the host's load (a sleep is never
    # short). Without pausing, a fast server's reads are microseconds apart, gap after gap.
    reads = sorted(set(timed.chunk_times))
    gaps = [b - a for a, b in zip(reads, reads[1:])]
    w = 0.005 - 1e-6
    assert not [(g, h) for g, h in zip(gaps, gaps[1:]) if g < 2 * w and h < w], gaps
    assert len(reads) < 1500  # chunks were gathered: fewer reads than half the chunks
    assert timed.first_byte <= reads[0] and timed.last_content == reads[-1]


def test_a_stream_of_spaced_chunks_is_not_paced(test_server, monkeypatch):
    """Chunks 50 ms apart (a model generating): a pause would gather nothing, so the loop does not pause
    (a pause is due only after a wake-up less than two windows after the one before)."""
    monkeypatch.delenv("ASSAY_OPENAI_HTTP", raising=False)
    from assay_openai import lean

    pauses = []
    real = lean.Pool.pause
    monkeypatch.setattr(lean.Pool, "pause", lambda self: pauses.append(time.perf_counter()) or real(self))
    srv = test_server(default_answer="a b c d e f g h i j", ttft=0.05, itl=0.05)
    result, timed, _ = _ask(srv.url, {"read_coalesce_ms": 2})
    assert result.output == "a b c d e f g h i j" and len(set(timed.chunk_times)) >= 8  # ~one read per chunk
    # the start (headers, the role chunk) and the end (finish, usage, [DONE]) may come in quick reads
    assert len(pauses) <= 3, pauses


def test_the_default_window_and_off(test_server, monkeypatch):
    monkeypatch.delenv("ASSAY_OPENAI_HTTP", raising=False)
    from assay_openai.model import READ_COALESCE_MS

    srv = test_server(default_answer="one two three")
    assert _ask(srv.url, {})[2] == READ_COALESCE_MS / 1000 == 0.001
    result, timed, coalesce = _ask(srv.url, {"read_coalesce_ms": 0})
    assert coalesce == 0 and result.output == "one two three" and len(timed.chunk_times) == 3


@pytest.mark.parametrize("bad", [-1, 101, "0.2", True, None])
def test_a_bad_window_is_a_clear_error(bad):
    from assay_openai.model import OpenAIModel

    if bad is None:  # JSON null: the default, not an error
        assert OpenAIModel(ModelConfig(model="m", api_url="http://127.0.0.1:9/v1"), Recorder())._coalesce == 0.001
        return
    with pytest.raises(AssayError, match=r"model_args: read_coalesce_ms must be a number of milliseconds"):
        OpenAIModel(ModelConfig(model="m", api_url="http://127.0.0.1:9/v1", model_args={"read_coalesce_ms": bad}), None)


def test_pause_waits_out_the_window_and_a_busy_loop_does_not_wait():
    from assay_openai.lean import Pool

    async def go():
        pool = Pool("127.0.0.1", 9, b"", stream=True, on_event=None, on_body=None, off=0.0, connect_timeout=None,
                    read_timeout=None, total_timeout=None, coalesce=0.05)  # fmt: skip
        pool.woke = t0 = time.perf_counter()  # a read just woke the loop
        pool.pause()
        waited = time.perf_counter() - t0
        assert waited >= 0.05 and pool.woke is None
        pool.woke = time.perf_counter() - 10.0  # the loop has been busy for longer than the window
        t1 = time.perf_counter()
        pool.pause()
        assert time.perf_counter() - t1 < 0.05  # no sleep at all (a generous bound for a loaded host)
        pool.pause()  # no read since the last pause: nothing to wait for
        assert time.perf_counter() - t1 < 0.05

    asyncio.run(go())

"""Logs with fixed content (fixed run id, timestamps and answers), written through the
kernel's :class:`assay.log.LogWriter`: for snapshot tests, the benchmark and demos.

Every figure in them follows from the arguments (see each function), so a test can
state where its expected numbers come from.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
from assay.events import (
    Body,
    Envelope,
    Generated,
    RequestTimed,
    RunFinished,
    RunStarted,
    SampleFailed,
    SampleLoaded,
    Scored,
    Usage,
    type_name,
)
from assay.log import LOG_NAME, LogWriter

T0 = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC


class FixedWriter:
    """Appends bodies with a fixed clock (``ts = t0 + seq * step``) through LogWriter."""

    def __init__(self, run_dir: Path, run_id: str, *, t0: float = T0, step: float = 0.001) -> None:
        self.writer = LogWriter(run_dir / LOG_NAME, run_id, fsync_interval=-1, flush_bytes=1 << 20)
        self.run_id = run_id
        self.t0 = t0
        self.step = step
        self._enc = msgspec.json.Encoder()

    def emit(self, *bodies: Body) -> None:
        for body in bodies:
            seq = self.writer.next_seq
            env = Envelope(
                type=type_name(body),
                seq=seq,
                ts=round(self.t0 + seq * self.step, 6),
                run_id=self.run_id,
                body=body,
            )
            self.writer.append_raw_line(self._enc.encode(env) + b"\n")
            self.writer.next_seq += 1
            if seq % 4096 == 4095:
                self.writer.flush()

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


def eval_samples(
    benchmark: str, subset: str, n: int, *, model: str = "mock", fail_every: int = 0, error_every: int = 0
) -> Iterator[list[Body]]:
    """Sample ``k`` (0-based): target ``k % 7``; the answer is right when ``k % 3 == 0``;
    every ``error_every``-th sample (k % error_every == error_every - 1) errors at generate."""
    for k in range(n):
        sid = f"{benchmark}/{subset}/{k}"
        target = str(k % 7)
        loaded = SampleLoaded(
            sample_id=sid,
            benchmark=benchmark,
            subset=subset,
            local_id=str(k),
            messages=[{"role": "user", "content": f"Question {k}: what is {k} mod 7? Think step by step."}],
            target=target,
            scorers=["exact_match"],
        )
        if error_every and k % error_every == error_every - 1:
            yield [
                loaded,
                SampleFailed(
                    sample_id=sid,
                    stage="generate",
                    error_type="TransientError",
                    message=f"HTTP 503 on sample {k}",
                    attempt=4,
                ),
            ]
            continue
        answer = target if k % 3 == 0 else str((k + 1) % 7)
        gen = Generated(
            sample_id=sid,
            model=model,
            output=f"{k} = 7 * {k // 7} + {k % 7}. The answer is {answer}.",
            reasoning=f"reasoning about {k}" if k % 2 == 0 else None,
            usage=Usage(prompt_tokens=12, completion_tokens=11, total_tokens=23),
            finish_reason="stop",
            latency=0.01 * (k % 10 + 1),
        )
        sc = Scored(
            sample_id=sid,
            scorer="exact_match",
            metric="acc",
            value=1.0 if answer == target else 0.0,
            extracted=answer,
            target=target,
            explanation=f"extracted {answer!r} vs target {target!r}",
        )
        yield [loaded, gen, sc]


def write_eval_log(
    run_dir: Path,
    *,
    run_id: str = "20260101_000000_fixed",
    model: str = "mock",
    groups: dict[str, int] | None = None,
    benchmark: str = "gsm8k",
    error_every: int = 0,
    finished: bool = True,
    loaded_first: bool = True,
) -> Path:
    """An eval log: RunStarted, the samples of each subset (``groups``: subset -> count),
    RunFinished. With ``loaded_first`` all SampleLoaded come first (as the kernel writes)."""
    groups = groups or {"main": 20}
    w = FixedWriter(run_dir, run_id)
    w.emit(
        RunStarted(
            kind="eval",
            config={"model": model, "datasets": [benchmark]},
            resolved={"model": model, "model_id": model, "datasets": [benchmark]},
            seed=42,
        )
    )
    rest: list[Body] = []
    for subset, n in groups.items():
        for bodies in eval_samples(benchmark, subset, n, model=model, error_every=error_every):
            if loaded_first:
                w.emit(bodies[0])
                rest.extend(bodies[1:])
            else:
                w.emit(*bodies)
            if len(rest) > 4096:
                w.emit(*rest)
                rest.clear()
    w.emit(*rest)
    if finished:
        w.emit(RunFinished(status="completed", duration=1.0))
    w.close()
    return run_dir / LOG_NAME


def write_big_eval_log(run_dir: Path, events: int = 1_000_000, *, run_id: str = "20260101_000000_big") -> Path:
    """About ``events`` events: RunStarted, then per sample SampleLoaded + Generated + Scored
    (3 events) in 10 subsets, RunFinished."""
    per_subset = (events - 2) // 3 // 10
    groups = {f"s{j}": per_subset for j in range(10)}
    return write_eval_log(run_dir, run_id=run_id, groups=groups, loaded_first=False)


def write_perf_log(
    run_dir: Path,
    *,
    run_id: str = "20260101_000000_perf",
    requests: int = 200,
    parallel: tuple[int, ...] = (1, 4),
    fail_every: int = 50,
    finished: bool = True,
) -> Path:
    """A perf log of RequestTimed events. Request ``k`` of a point is sent at
    ``T0 + k * 0.05`` s, its first chunk arrives ``ttft_k = 0.02 + 0.001 * (k % 10)`` s later,
    then 9 more chunks 0.005 s apart (10 chunks, 1 token each, so latency = ttft + 0.045);
    every ``fail_every``-th request (k % fail_every == fail_every - 1) fails with HTTP 500."""
    w = FixedWriter(run_dir, run_id)
    w.emit(
        RunStarted(
            kind="perf",
            config={"model": "mock-served", "parallel": list(parallel)},
            resolved={"model": "mock-served"},
        )
    )
    for p in parallel:
        for k in range(requests):
            sent = T0 + k * 0.05
            rid = f"p{p}-r{k}"
            if fail_every and k % fail_every == fail_every - 1:
                w.emit(
                    RequestTimed(
                        request_id=rid,
                        api="openai",
                        url="http://127.0.0.1:1/v1/chat/completions",
                        scheduled=sent,
                        sent=sent,
                        end=sent + 0.01,
                        status=500,
                        ok=False,
                        error_kind="http_5xx",
                        error="HTTP 500",
                        stream=True,
                        point={"parallel": p},
                    )
                )
                continue
            ttft = 0.02 + 0.001 * (k % 10)
            chunks = [round(sent + ttft + 0.005 * j, 6) for j in range(10)]
            w.emit(
                RequestTimed(
                    request_id=rid,
                    api="openai",
                    url="http://127.0.0.1:1/v1/chat/completions",
                    scheduled=sent,
                    sent=sent,
                    first_byte=chunks[0],
                    chunk_times=chunks,
                    chunk_tokens=[1] * 10,
                    last_content=chunks[-1],
                    end=chunks[-1] + 0.001,
                    status=200,
                    ok=True,
                    prompt_tokens=20,
                    output_tokens=10,
                    usage_reported=True,
                    stream=True,
                    point={"parallel": p},
                )
            )
    if finished:
        w.emit(RunFinished(status="completed", duration=10.0))
    w.close()
    return run_dir / LOG_NAME

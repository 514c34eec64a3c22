"""The load generator: the lean HTTP client (:mod:`assay_openai.lean`, the eval backend's too; aiohttp for
https, redirects and anything unusual), incremental SSE framing, raw timestamps; ``--workers N``:
:mod:`assay_perf.workers`.

Every request, warm-up included, becomes exactly one ``RequestTimed`` event holding raw
wall-clock times (``time.perf_counter`` shifted by one offset taken at start, so gaps are
monotonic-exact). Nothing is derived here; :mod:`assay_perf.metrics` folds the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import msgspec
from assay.api import AssayError
from assay.events import RequestTimed

from .apis import Record

_SECRET_HEADER_PARTS = ("auth", "key", "token", "secret", "password", "cookie")


@attrs.define
class PerfOptions:
    url: str
    model: str
    api: str = "openai"
    parallel: list[int] = attrs.field(factory=lambda: [1])
    number: list[int | None] = attrs.field(factory=lambda: [100])
    rate: list[float | None] = attrs.field(factory=lambda: [None])  # req/s, Poisson; None: closed loop
    arrival: str = "poisson"  # poisson | gamma | constant (with --rate); a --trace replays its own times
    burstiness: float = 1.0  # gamma shape (vLLM --burstiness): 1 = Poisson, < 1 burstier, > 1 more regular
    trace: str | None = None  # JSONL trace (Mooncake: timestamp ms, input_length, output_length)
    trace_speed: float = 1.0  # replay speed-up: offsets are divided by it
    input_length_dist: str = "uniform"  # random prompts: uniform | normal | fixed in [min, max]-prompt-length
    prefix_length: int = 0  # words of a shared prefix put before each prompt (prefix-cache workloads)
    prefix_count: int = 1  # distinct prefixes, used in turn
    multi_turn: bool = False  # conversations: each turn sends the history with the server's real answers
    min_turns: int = 1
    max_turns: int = 5
    output_length_dist: str | None = None  # per-request max_tokens: uniform | normal | fixed in [min, max]-tokens
    duration: float | None = None  # seconds per point
    warmup_num: int = 0
    open_loop: bool = False  # with rate: no cap on requests in flight (EvalScope --open-loop)
    sleep_interval: float = 0.0  # seconds between sweep points
    dataset: str = "random"
    dataset_path: str | None = None
    dataset_dir: str | None = None
    tokenizer_path: str | None = None
    tokenize_prompt: bool = False  # send token ids (the tokenizer's) to /v1/completions: exact input lengths
    apply_chat_template: bool | None = None  # completions: the prompt is the tokenizer's chat template applied
    min_prompt_length: int = 128
    max_prompt_length: int = 1024
    max_tokens: int | None = 256
    min_tokens: int | None = None
    max_tokens_min: int | None = None  # --max-tokens MIN MAX: per-request max_tokens drawn in [MIN, MAX]
    sampling: dict[str, Any] = attrs.field(factory=dict)  # request body keys (temperature, top_p, stop, n, seed, ...)
    stream: bool = False
    headers: dict[str, str] = attrs.field(factory=dict)
    api_key: str | None = attrs.field(default=None, repr=False)
    connect_timeout: float = 60.0
    read_timeout: float = 600.0
    total_timeout: float | None = None
    extra_args: dict[str, Any] = attrs.field(factory=dict)
    percentiles: list[float] = attrs.field(factory=lambda: [50.0, 90.0, 95.0, 99.0])
    slo: dict[str, float] = attrs.field(factory=dict)  # ttft / tpot / e2e in ms
    seed: int = 42
    # SLA auto-tune (EvalScope's --sla-* flags; see assay_perf.sla)
    sla_auto_tune: bool = False
    sla_variable: str = "parallel"  # parallel | rate
    sla_params: Any = None  # JSON list of constraint groups
    sla_num_runs: int = 3
    sla_upper_bound: int = 65536
    sla_lower_bound: int = 1
    sla_fixed_parallel: int | None = None  # --sla-variable rate: requests in flight at most (default: upper bound)
    sla_number_multiplier: float = 2.0  # requests per run = round(value * this)
    work_dir: str = "./outputs"
    name: str | None = None
    emit_batch: int = 256
    executor: str = "local"  # where the load runs (assay_executors): local, ray (assay-ray: --workers actors)
    workers: int = 1
    executor_args: dict[str, Any] = attrs.field(factory=dict)
    # --server-metrics: Prometheus URLs sampled during each point ([]: the --url server's /metrics)
    server_metrics: list[str] | None = None
    server_metrics_interval: float = 1.0  # seconds between scrapes
    _tok: Any = attrs.field(default=None, init=False, repr=False)
    _tok_loaded: bool = attrs.field(default=False, init=False, repr=False)
    points_cpu_s: float = attrs.field(default=0.0, init=False, repr=False)  # client CPU inside the points (self-test)

    def tokenizer(self) -> Any:
        if not self._tok_loaded:
            self._tok_loaded = True
            if self.tokenizer_path:
                try:
                    from transformers import AutoTokenizer
                except ImportError:
                    raise AssayError(
                        "--tokenizer-path needs transformers: pip install 'assay-perf[tokenizer]'"
                    ) from None
                try:
                    self._tok = AutoTokenizer.from_pretrained(self.tokenizer_path)
                except Exception as exc:  # noqa: BLE001 - any load failure is the user's path
                    raise AssayError(
                        f"--tokenizer-path {self.tokenizer_path}: cannot load a tokenizer: {exc}"
                    ) from None
        return self._tok

    def arrival_kind(self) -> str:
        """The inter-arrival law: gamma when --burstiness is not 1 (vLLM's rule), else --arrival."""
        if self.arrival not in ("poisson", "gamma", "constant"):
            raise AssayError(f"--arrival must be poisson, gamma or constant, got {self.arrival!r}")
        if not self.burstiness > 0 or math.isinf(self.burstiness):
            raise AssayError(f"--burstiness must be a positive number, got {self.burstiness}")
        if self.arrival == "constant" and self.burstiness != 1.0:
            raise AssayError("--arrival constant takes no --burstiness (constant gaps have none)")
        if self.arrival == "poisson" and self.burstiness != 1.0:
            return "gamma"
        return self.arrival

    def prompt_count(self) -> int:
        """How many distinct prompts a generated source should make (they are cycled)."""
        known = [n for n in self.number if n]
        return max(known + [self.warmup_num, 1]) if known else 1024

    def points(self) -> list[tuple[int, int | None, float | None]]:
        """The sweep: --parallel, --number and --rate lists pair up; a single value repeats."""
        p, n = list(self.parallel), list(self.number)
        r = [None if v is None or v <= 0 else float(v) for v in (self.rate or [None])]
        size = max(len(p), len(n), len(r))
        for vals in (p, n, r):
            if len(vals) not in (1, size):
                raise AssayError(
                    f"--parallel has {len(p)} values, --number {len(n)} and --rate {len(r)}: "
                    "give the same count (they pair up) or one value"
                )
        p, n, r = (v * size if len(v) == 1 else v for v in (p, n, r))
        for v in p:
            if v < 1:
                raise AssayError(f"--parallel must be >= 1, got {v}")
        for v in n:
            if v is not None and v < 1:
                raise AssayError(f"--number must be >= 1, got {v}")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise AssayError(f"--max-tokens must be >= 1, got {self.max_tokens}")
        if any(v is None for v in n) and not self.duration and not self.trace:
            raise AssayError("give --number, or --duration to run each point for a time")
        if self.trace and any(v is not None for v in r):
            raise AssayError("--trace replays the trace's own arrival times: give no --rate")
        if self.open_loop and not (self.trace or all(v is not None for v in r)):
            raise AssayError("--open-loop needs --rate (arrivals per second) or --trace")
        if self.multi_turn:
            if self.trace or any(v is not None for v in r):
                raise AssayError(
                    "--multi-turn runs closed loop (a turn waits for the previous answer): no --rate/--trace"
                )
            if not 1 <= self.min_turns <= self.max_turns:
                raise AssayError(f"--min-turns {self.min_turns} / --max-turns {self.max_turns}: need 1 <= min <= max")
        self.arrival_kind()
        return list(zip(p, n, r))

    def request_headers(self) -> dict[str, str]:
        h = {"Content-Type": "application/json", **self.headers}
        if self.api_key:
            h["Authorization"] = f"Bearer {self.api_key}"
        return h

    def loggable(self) -> dict[str, Any]:
        """The options as logged: the key dropped, secret-looking header values masked."""
        d = attrs.asdict(
            self, filter=lambda a, v: not a.name.startswith("_") and a.name not in ("api_key", "points_cpu_s")
        )
        d["headers"] = {
            k: ("***" if any(s in k.lower() for s in _SECRET_HEADER_PARTS) else v) for k, v in self.headers.items()
        }
        d["api_key_given"] = bool(self.api_key)
        d["url"] = self.url.split("?", 1)[0]
        if self.server_metrics:
            d["server_metrics"] = [u.split("?", 1)[0] for u in self.server_metrics]
        from assay.redact import redact_secrets

        return redact_secrets(d)  # secret names in --extra-args too


def _sse_data(event: bytes) -> bytes | None:
    """The data of one SSE event (its ``data:`` lines joined by newlines), or None."""
    lines = []
    for line in event.split(b"\n"):
        if line.startswith(b"data:"):
            v = line[5:]
            lines.append(v[1:] if v.startswith(b" ") else v)
        # comments (":") and other fields (event:, id:, retry:) carry no timing
    return b"\n".join(lines) if lines else None


def sse_tail(parser: Any, rec: Record) -> None:
    """The end of a stream: an event left without its blank line is [DONE] or a truncation."""
    buf = parser.pending()
    if buf.strip(b"\n") and rec.error_kind is None and not rec.done:
        payload = _sse_data(buf)
        if payload == b"[DONE]":
            rec.done = True
        else:
            rec.fail("truncated", f"the stream ended inside an event: {buf[:80]!r}")


def _lean_target(url: str, headers: dict[str, str]) -> tuple[str, int, bytes] | None:
    """Where the lean client sends (plain http, ordinary headers), unless ASSAY_PERF_HTTP=aiohttp."""
    import os

    if os.environ.get("ASSAY_PERF_HTTP", "lean") == "aiohttp":
        return None
    try:
        from assay_openai.lean import lean_target
    except ImportError:  # httptools not installed: aiohttp does it all
        return None
    return lean_target(url, headers)


def resolve_url(url: str, api: Any) -> str:
    base = url.rstrip("/")
    if base.endswith("/v1"):
        return base + api.path
    return url


class _Load:
    """One point of the sweep: prompts, a session, workers, the event buffer."""

    def __init__(self, opts: PerfOptions, api: Any, url: str, bodies: list[tuple[bytes, int | None]], run: Any) -> None:
        self.opts = opts
        self.api = api
        self.url = url
        self.log_url = url.split("?", 1)[0]
        self.bodies = bodies
        self.run = run
        self.buffer: list[RequestTimed] = []
        self.offset = time.time() - time.perf_counter()
        self.stream = bool(opts.stream and api.streams)
        self.keep_text = opts.tokenizer() is not None
        # an API with its own auth headers (Anthropic's x-api-key) makes them; else Authorization: Bearer
        self.headers = api.request_headers(opts) if hasattr(api, "request_headers") else opts.request_headers()
        self.schedule: list[float] | None = None  # trace replay: offsets in seconds from the point's start
        self.conversations: list[list[Any]] | None = None  # --multi-turn: each conversation's user turns
        self.encoder = msgspec.json.Encoder()
        self.lean = _lean_target(url, self.headers)  # the lean client (assay_openai.lean) when it can serve the URL
        self.pool: Any = None  # its connections, during a point
        self.start_at: float | None = None  # assay_perf.workers: the open loop's t0, common to all workers
        self.scrapers: list[Any] = []  # --server-metrics (the driver's load only, never a worker's)

    def buffer_event(self, body: Any) -> None:
        self.buffer.append(body)

    def flush(self) -> None:
        if self.buffer:
            batch, self.buffer = self.buffer, []
            self.run.emit_many(batch)

    async def one(
        self,
        session: Any,
        idx: int,
        rid: str,
        scheduled: float | None,
        phase: str,
        point: dict[str, Any],
        given: tuple[bytes, int | None] | None = None,
        turn: int | None = None,
    ) -> str | None:
        """One request (``given``: its body and prompt tokens, else prompt ``idx``); returns the
        answer text when the request is a conversation's turn and succeeded, else None."""
        perf = time.perf_counter
        off = self.offset
        body, known_prompt_tokens = given or self.bodies[idx % len(self.bodies)]
        rec = Record(self.keep_text or turn is not None)
        status = None
        first_byte = None
        start = perf() + off
        pool = self.pool
        if pool is not None:
            from assay_openai.lean import LeanUnsupported

            try:
                status, first_byte = await pool.request(body, rec, given is None)
            except LeanUnsupported:  # e.g. a redirect: aiohttp from now on, this request again
                print("note: the server redirects: assay perf goes on with aiohttp", file=sys.stderr)
                self.pool = self.lean = None  # (its connections in use finish their requests)
                rec = Record(self.keep_text or turn is not None)
                start = perf() + off
            except (asyncio.TimeoutError, TimeoutError) as exc:  # noqa: UP041 - connect timeout
                rec.fail("timeout", f"{type(exc).__name__}: {exc or 'timed out connecting'}")
            except (ConnectionError, OSError) as exc:
                rec.fail("connection", f"{type(exc).__name__}: {exc}")
            except Exception as exc:  # noqa: BLE001 - e.g. a third-party API parser bug: count it, go on
                rec.fail("client_error", f"{type(exc).__name__}: {exc}")
        if self.pool is None:
            status, first_byte = await self._one_aiohttp(await session(), body, rec)
        return self._timed(rec, rid, status, first_byte, start, scheduled, known_prompt_tokens, phase, point, turn)

    async def _one_aiohttp(self, session: Any, body: bytes, rec: Record) -> tuple[int | None, float | None]:
        import aiohttp
        from assay_openai.http import status_kind, status_message

        perf = time.perf_counter
        off = self.offset
        status = None
        first_byte = None
        try:
            async with session.post(self.url, data=body, headers=self.headers, trace_request_ctx=rec) as resp:
                first_byte = perf() + off
                status = resp.status
                if status >= 400:  # classified and told as the eval backend does (assay_openai.http)
                    rec.fail(status_kind(status)[0], status_message(status, await resp.read()))
                elif self.stream and "event-stream" in resp.headers.get("Content-Type", ""):
                    await self._read_sse(resp, rec, perf, off)
                else:
                    data = await resp.read()
                    self.api.on_body(data, perf() + off, rec)
        except (asyncio.TimeoutError, TimeoutError) as exc:  # noqa: UP041 - distinct on 3.10; before ClientConnectionError
            rec.fail("timeout", f"{type(exc).__name__}: {exc or 'timed out'}")
        except aiohttp.ClientPayloadError as exc:
            rec.fail("truncated", f"response ended early: {exc}")
        except (aiohttp.ClientConnectionError, ConnectionError, OSError) as exc:
            rec.fail("connection", f"{type(exc).__name__}: {exc}")
        except aiohttp.ClientError as exc:
            rec.fail("connection", f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 - e.g. a third-party API parser bug: count it, go on
            rec.fail("client_error", f"{type(exc).__name__}: {exc}")
        return status, first_byte

    def _timed(
        self,
        rec: Record,
        rid: str,
        status: int | None,
        first_byte: float | None,
        start: float,
        scheduled: float | None,
        known_prompt_tokens: int | None,
        phase: str,
        point: dict[str, Any],
        turn: int | None,
    ) -> str | None:
        end = time.perf_counter() + self.offset
        # "sent" is when the request bytes went to the socket (the lean client: just before its write;
        # aiohttp: its chunk-sent trace); the
        # client's own delay before that (a burst of requests on one event loop) is kept as
        # sent - scheduled, where scheduled is the open-loop due time or the moment this
        # request was started
        sent = rec.sent if rec.sent is not None else start
        if scheduled is None:
            scheduled = start
        if rec.error_kind is None and status is not None and status < 400 and not (rec.done or rec.finished):
            if rec.events == 0:
                rec.fail("malformed", "the response held no decodable event")
            else:
                rec.fail("truncated", "the stream ended without [DONE] or a finish_reason")
        ok = rec.error_kind is None
        usage = rec.output_tokens is not None
        out_tokens = rec.output_tokens
        if out_tokens is None and ok:
            if rec.texts:
                tok = self.opts.tokenizer()
                out_tokens = len(tok.encode("".join(rec.texts), add_special_tokens=False))
            else:
                out_tokens = len(rec.chunk_times)  # approximation: one token per content chunk
        self.buffer.append(
            RequestTimed(
                request_id=rid,
                api=self.api.name,
                url=self.log_url,
                scheduled=scheduled,
                sent=sent,
                first_byte=first_byte,
                chunk_times=rec.chunk_times,
                last_content=rec.chunk_times[-1] if rec.chunk_times else None,
                end=end,
                status=status,
                ok=ok,
                error_kind=rec.error_kind,
                error=rec.error,
                prompt_tokens=rec.prompt_tokens if rec.prompt_tokens is not None else known_prompt_tokens,
                output_tokens=out_tokens,
                usage_reported=usage,
                stream=self.stream,
                phase=phase,
                point=point,
                turn=turn,
                cached_tokens=rec.cached_tokens,
            )
        )
        if len(self.buffer) >= self.opts.emit_batch:
            self.flush()
        return "".join(rec.texts) if ok and turn is not None else None

    async def _read_sse(self, resp: Any, rec: Record, perf: Any, off: float) -> None:
        """SSE framing by the parser the eval backend uses (:class:`assay_openai.sse.SSEParser`).

        One timestamp per network read, taken before any parsing; an ``event: error`` is a stream error.
        """
        from assay_openai.lean import deliver_events
        from assay_openai.sse import SSEParser

        on_event = self.api.on_event
        parser = SSEParser()
        feed = parser.feed
        async for chunk in resp.content.iter_any():
            t = perf() + off  # timestamp before any parsing
            deliver_events(feed(chunk), t, rec, on_event)
        sse_tail(parser, rec)

    async def run_point(
        self, parallel: int, number: int | None, rate: float | None, point: dict[str, Any], pidx: int
    ) -> None:
        opts = self.opts
        made: list[Any] = []
        pool = None

        async def session() -> Any:
            """The aiohttp session (made when first needed: the lean client needs none)."""
            if not made:
                import aiohttp
                from assay_openai.http import make_session

                trace = aiohttp.TraceConfig()
                perf, off = time.perf_counter, self.offset

                async def on_sent(_session: Any, ctx: Any, _params: Any) -> None:
                    ctx.trace_request_ctx.sent = perf() + off

                trace.on_request_chunk_sent.append(on_sent)
                # the session of the eval backend too (assay_openai.http): one HTTP client for both
                made.append(
                    make_session(
                        connect_timeout=opts.connect_timeout,
                        read_timeout=opts.read_timeout,
                        total_timeout=opts.total_timeout,
                        trace_configs=[trace],
                        auto_decompress=False,
                    )
                )
            return made[0]

        if self.lean is not None:
            from assay_openai.lean import Pool

            host, port, prefix = self.lean
            pool = self.pool = Pool(
                host,
                port,
                prefix,
                stream=self.stream,
                on_event=self.api.on_event,
                on_body=self.api.on_body,
                on_tail=sse_tail,
                off=self.offset,
                connect_timeout=opts.connect_timeout,
                read_timeout=opts.read_timeout,
                total_timeout=opts.total_timeout,
            )
        try:
            if opts.warmup_num:
                await self._closed_loop(session, parallel, opts.warmup_num, None, "warmup", point, f"{pidx}-w")
            stop = asyncio.Event()
            # the scrapers' GETs go through aiohttp (made on first use: the lean client needs none)
            scrapes = [asyncio.create_task(s.run(await session(), point, stop)) for s in self.scrapers]
            try:
                if rate or self.schedule is not None:
                    await self._open_loop(session, parallel, number, rate, point, pidx)
                elif self.conversations is not None:
                    await self._multi_turn(session, parallel, number, opts.duration, point, f"{pidx}")
                else:
                    await self._closed_loop(session, parallel, number, opts.duration, "measure", point, f"{pidx}")
            finally:
                stop.set()
                if scrapes:
                    await asyncio.gather(*scrapes, return_exceptions=True)
        finally:
            if pool is not None:
                pool.close()
                self.pool = None
            if made:
                await made[0].close()
        self.flush()

    async def _closed_loop(
        self,
        session: Any,
        parallel: int,
        number: int | None,
        duration: float | None,
        phase: str,
        point: dict[str, Any],
        prefix: str,
    ) -> None:
        counter = itertools.count()
        deadline = time.perf_counter() + duration if duration else math.inf
        limit = number if number is not None else sys.maxsize

        async def worker() -> None:
            for i in counter:
                if i >= limit or time.perf_counter() >= deadline:
                    return
                await self.one(session, i, f"{prefix}-{i}", None, phase, point)

        await asyncio.gather(*(worker() for _ in range(min(parallel, limit))))

    def _turn_body(self, messages: list[dict[str, Any]]) -> tuple[bytes, int | None]:
        body = self.api.body(messages, self.opts)
        if self.opts.extra_args:
            body.update(self.opts.extra_args)
        tok = self.opts.tokenizer()
        tokens = None
        if tok is not None:
            tokens = len(tok.encode("\n".join(str(m["content"]) for m in messages), add_special_tokens=False))
        return self.encoder.encode(body), tokens

    async def _multi_turn(
        self,
        session: Any,
        parallel: int,
        number: int | None,
        duration: float | None,
        point: dict[str, Any],
        prefix: str,
    ) -> None:
        """``parallel`` users, each holding one conversation at a time: turn k sends the history
        (user turns and the server's real answers) plus the next user turn, after answer k-1.
        ``number`` counts requests (turns); a failed turn ends its conversation."""
        convs = self.conversations
        assert convs
        conv_ids = itertools.count()
        req_ids = itertools.count()
        deadline = time.perf_counter() + duration if duration else math.inf
        limit = number if number is not None else sys.maxsize

        async def user() -> None:
            for c in conv_ids:
                history: list[dict[str, Any]] = []
                for t, text in enumerate(convs[c % len(convs)], 1):
                    i = next(req_ids)
                    if i >= limit or time.perf_counter() >= deadline:
                        return
                    history.append({"role": "user", "content": text})
                    answer = await self.one(
                        session, i, f"{prefix}-{i}", None, "measure", point, self._turn_body(history), t
                    )
                    if answer is None:
                        break
                    history.append({"role": "assistant", "content": answer})

        await asyncio.gather(*(user() for _ in range(min(parallel, limit))))

    def arrivals(self, rate: float | None, pidx: int) -> Iterator[float]:
        """Due times, in seconds from the point's start: the trace's offsets, or gaps drawn
        (seeded by --seed and the point's index) from the arrival law at ``rate``."""
        if self.schedule is not None:
            yield from self.schedule
            return
        assert rate
        kind = self.opts.arrival_kind()
        rng = random.Random(self.opts.seed + pidx)
        shape = self.opts.burstiness
        due = 0.0
        while True:
            yield due
            if kind == "constant":
                due += 1.0 / rate
            elif kind == "gamma":  # vLLM: shape = burstiness, scale = 1 / (rate * burstiness): mean 1/rate
                due += rng.gammavariate(shape, 1.0 / (rate * shape))
            else:
                due += rng.expovariate(rate)

    async def _open_loop(
        self, session: Any, parallel: int, number: int | None, rate: float | None, point: dict[str, Any], pidx: int
    ) -> None:
        """Arrivals at ``rate`` (Poisson, gamma or constant gaps) or replayed from a trace; at
        most ``parallel`` in flight. A request that waits for a free slot keeps its scheduled
        time, so client queueing shows."""
        opts = self.opts
        sem = asyncio.Semaphore(sys.maxsize if opts.open_loop else parallel)
        perf = time.perf_counter
        t0 = perf() if self.start_at is None else self.start_at  # --workers: the run's common start
        deadline = t0 + opts.duration if opts.duration else math.inf
        limit = number if number is not None else sys.maxsize
        tasks: set[asyncio.Task[None]] = set()
        dues = self.arrivals(rate, pidx)

        async def go(i: int, scheduled: float) -> None:
            try:
                await self.one(session, i, f"{pidx}-{i}", scheduled, "measure", point)
            finally:
                sem.release()

        i = 0
        for rel in dues:
            due = t0 + rel
            if i >= limit or due >= deadline:
                break
            # uvloop's timers have millisecond granularity and may wake up to 1 ms early:
            # sleep again (a sleep(0) yields to the loop) until the due time has come
            while (delay := due - perf()) > 0:
                await asyncio.sleep(delay)
            await sem.acquire()
            task = asyncio.create_task(go(i, due + self.offset))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            i += 1
        if tasks:
            await asyncio.gather(*tasks)


def _sla_check(opts: PerfOptions) -> list[dict[str, Any]]:
    """The SLA groups, checked before the run directory exists."""
    from .sla import parse_params, percentiles_needed

    if opts.sla_params is None:
        raise AssayError('--sla-auto-tune needs --sla-params, e.g. \'[{"p99_latency": "<=2"}]\'')
    groups = parse_params(opts.sla_params)
    if opts.sla_variable not in ("parallel", "rate"):
        raise AssayError(f"--sla-variable must be parallel or rate, got {opts.sla_variable!r}")
    if not 1 <= opts.sla_lower_bound <= opts.sla_upper_bound:
        raise AssayError(
            f"--sla-lower-bound {opts.sla_lower_bound} / --sla-upper-bound {opts.sla_upper_bound}: need 1 <= lower <= upper"
        )
    if opts.sla_num_runs < 1 or not opts.sla_number_multiplier > 0:
        raise AssayError("--sla-num-runs must be >= 1 and --sla-number-multiplier > 0")
    if opts.multi_turn or opts.trace:
        raise AssayError("--sla-auto-tune runs single requests: no --multi-turn or --trace")
    if not opts.stream and any(m.endswith(("_tpot", "_itl")) for g in groups for m in g):
        raise AssayError("--sla-params: TPOT and ITL are measured on streamed answers: add --stream")
    for q in percentiles_needed(groups):
        if q not in opts.percentiles:
            opts.percentiles.append(q)  # the fold computes the percentiles the conditions read
    return groups


async def _sla_tune(load: _Load, opts: PerfOptions, run: Any, run_dir: Path) -> None:
    """Measure values of --sla-variable until each group's boundary is found (assay_perf.sla)."""
    from assay.log import LOG_NAME

    from .metrics import PerfFold
    from .sla import curve, parse_params, search

    groups = parse_params(opts.sla_params)
    metrics = sorted({m for g in groups for m in g})
    measured: dict[int, dict[str, Any]] = {}
    pidx = 0
    if opts.sla_variable == "rate":
        start = int(next((r for r in opts.rate if r), 1) or 1)
    else:
        start = opts.parallel[0]

    async def measure(v: int) -> dict[str, Any]:
        nonlocal pidx
        if v in measured:
            return measured[v]
        number = max(1, round(v * opts.sla_number_multiplier))
        for k in range(1, opts.sla_num_runs + 1):
            if pidx and opts.sleep_interval > 0:
                await asyncio.sleep(opts.sleep_interval)
            if opts.sla_variable == "rate":
                parallel, rate = opts.sla_fixed_parallel or opts.sla_upper_bound, float(v)
            else:
                parallel, rate = v, None
            point = {"parallel": parallel, "number": number, "rate": rate, "sla_run": k}
            with _quiet_gc():
                await load.run_point(parallel, number, rate, point, pidx)
            pidx += 1
        run.flush()
        summary = PerfFold().build(run_dir / LOG_NAME)  # the decision reads the log, as the report does
        (row,) = [r for r in curve(summary["points"], opts.sla_variable, metrics) if r["value"] == v]
        measured[v] = row
        print(
            f"sla: {opts.sla_variable}={v}: "
            + ", ".join(f"{m}={'-' if row[m] is None else format(row[m], '.4g')}" for m in metrics)
            + (f", failed={row['failed']}" if row["failed"] else ""),
            file=sys.stderr,
        )
        return row

    for group in groups:
        await search(group, start, opts.sla_lower_bound, opts.sla_upper_bound, measure)


@contextlib.contextmanager
def _quiet_gc() -> Iterator[None]:
    """No cyclic-GC pauses inside a measured point (they would show as client lag): objects
    made before it are frozen out of collection and the collector runs between points.
    ASSAY_PERF_GC=on keeps the default collector."""
    import gc
    import os

    if os.environ.get("ASSAY_PERF_GC") == "on" or not gc.isenabled():
        yield
        return
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()
        gc.collect()


def _event_loop_run(coro: Any) -> Any:
    """uvloop when installed (about a fifth less client CPU per request), else asyncio.
    ASSAY_PERF_LOOP=asyncio forces the standard loop."""
    import os

    if os.environ.get("ASSAY_PERF_LOOP", "uvloop") != "asyncio":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.run(coro)
    return asyncio.run(coro)


def _encode_prompts(opts: PerfOptions, api: Any, prompts: list[Any]) -> list[tuple[bytes, int | None]]:
    from .datasets import Prompt

    from .datasets import draw_length

    encoder = msgspec.json.Encoder()
    tok = opts.tokenizer()
    out: list[tuple[bytes, int | None]] = []
    out_lo = opts.max_tokens_min or (opts.min_tokens if opts.min_tokens is not None else 1)
    out_rng = random.Random(f"{opts.seed}-output-length")
    if opts.output_length_dist and (opts.max_tokens is None or not 1 <= out_lo <= opts.max_tokens):
        raise AssayError(f"--output-length-dist needs 1 <= --min-tokens ({out_lo}) <= --max-tokens ({opts.max_tokens})")
    for p in prompts:
        tokens = None
        max_tokens, min_tokens = opts.max_tokens, opts.min_tokens
        if opts.output_length_dist:
            max_tokens = draw_length(out_rng, opts.output_length_dist, out_lo, opts.max_tokens, "--output-length-dist")
            if min_tokens is not None:
                min_tokens = max_tokens  # --min-tokens given: force the drawn length (vLLM's min_tokens)
        if isinstance(p, Prompt):
            if p.max_tokens is not None:
                max_tokens = p.max_tokens
            p, tokens = p.prompt, p.tokens
        if opts.apply_chat_template:  # the tokenizer's chat template, as text (or ids, below)
            messages = [{"role": "user", "content": p}] if isinstance(p, str) else p
            p = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            tokens = None
        if opts.tokenize_prompt:
            text = p if isinstance(p, str) else "\n".join(str(m.get("content", "")) for m in p)
            p = list(tok.encode(text, add_special_tokens=False))
            tokens = len(p)
        if tokens is None and tok is not None:
            text = p if isinstance(p, str) else "\n".join(str(m.get("content", "")) for m in p)
            tokens = len(tok.encode(text, add_special_tokens=False))
        saved = opts.max_tokens, opts.min_tokens
        opts.max_tokens, opts.min_tokens = max_tokens, min_tokens  # this prompt's own output length
        try:
            body = api.body(p, opts)
        finally:
            opts.max_tokens, opts.min_tokens = saved
        if opts.extra_args:
            body.update(opts.extra_args)
        out.append((encoder.encode(body), tokens))
    return out


def _conversations(opts: PerfOptions, prompts: list[Any]) -> list[list[Any]]:
    """The prompts, in order, cut into conversations of [--min-turns, --max-turns] user turns
    (seeded), each prompt used once (the last conversation wraps to the first prompts); a
    chat-list prompt contributes its last message's content."""
    from .datasets import Prompt

    texts = []
    for p in prompts:
        p = p.prompt if isinstance(p, Prompt) else p
        texts.append(p if isinstance(p, str) else str(p[-1].get("content", "")))
    rng = random.Random(f"{opts.seed}-turns")
    out: list[list[Any]] = []
    i = 0
    while i < len(texts):
        k = rng.randint(opts.min_turns, opts.max_turns)
        out.append([texts[(i + j) % len(texts)] for j in range(k)])  # the last one wraps around
        i += k
    return out


def load_prompts(opts: PerfOptions, plugins: Any) -> list[Any]:
    if opts.trace:
        from .datasets import trace_prompts

        return trace_prompts(opts)
    entry = plugins.get("perf_datasets", opts.dataset)
    need = opts.prompt_count()
    prompts = list(itertools.islice(iter(entry.obj(opts)), need))
    if not prompts:
        raise AssayError(f"--dataset {opts.dataset}: no prompts")
    if opts.prefix_length:
        from .datasets import with_prefixes

        prompts = with_prefixes(opts, prompts)
    return prompts


def _for_token_prompts(opts: PerfOptions, api: Any) -> tuple[Any, str | None]:
    """--tokenize-prompt / --apply-chat-template: a completions API (EvalScope moves a chat URL to
    /completions), and a tokenizer to make the prompt with."""
    from .apis import OpenAIChat, OpenAICompletions

    flag = "--tokenize-prompt" if opts.tokenize_prompt else "--apply-chat-template"
    if opts.tokenizer() is None:
        raise AssayError(f"{flag} needs --tokenizer-path (the tokenizer that makes the prompt)")
    if opts.multi_turn:
        raise AssayError(f"{flag} sends completions prompts: not with --multi-turn")
    if isinstance(api, OpenAICompletions):
        return api, None
    if type(api) is not OpenAIChat and not hasattr(api, "for_url"):
        raise AssayError(f"{flag} sends /v1/completions prompts: use --api openai or openai_completions")
    note = None
    base = opts.url.split("?", 1)[0].rstrip("/")
    if base.endswith("/chat/completions"):
        opts.url = base[: -len("/chat/completions")] + "/completions"
        note = f"note: {flag}: sending to {opts.url} (the completions endpoint)"
    return OpenAICompletions(), note


def run_perf(opts: PerfOptions, plugins: Any = None) -> tuple[Path, dict[str, Any]]:
    """Run the sweep; return the run directory and the report (folded from the log)."""
    from assay.lifecycle import RunLifecycle
    from assay.plugins import host

    plugins = plugins or host()
    points = opts.points()
    if opts.sla_auto_tune:
        _sla_check(opts)
    plugins.get("executors", opts.executor).obj(opts, plugins)  # a typo or a bad option fails before the run exists
    if opts.server_metrics is not None and not opts.server_metrics_interval > 0:
        raise AssayError(f"--server-metrics-interval must be > 0 seconds, got {opts.server_metrics_interval}")
    if opts.server_metrics is not None and opts.executor != "local":
        raise AssayError("--server-metrics scrapes from the local load generator: not with --executor ray")
    if opts.workers != 1 and opts.executor == "local":
        from .workers import check

        check(opts, points)  # --workers N: N processes on this host (assay_perf.workers)
    api = plugins.get("perf_apis", opts.api).obj
    api = api() if isinstance(api, type) else api
    if hasattr(api, "for_url"):
        api = api.for_url(opts.url)
    if opts.tokenize_prompt or opts.apply_chat_template:
        api, url_note = _for_token_prompts(opts, api)
        if url_note:
            print(url_note, file=sys.stderr)
    if opts.multi_turn and getattr(api, "path", None) != "/chat/completions":
        raise AssayError(f"--multi-turn needs a chat API (--api openai or openai_chat), not {opts.api}")
    if opts.stream and not api.streams:
        print(f"note: --api {opts.api} does not stream; --stream ignored", file=sys.stderr)
    url = resolve_url(opts.url, api)
    prompts = load_prompts(opts, plugins)
    bodies = _encode_prompts(opts, api, prompts)

    logged = opts.loggable()
    if opts.model != "self-test":
        from .selftest import known_ceiling

        ceiling = known_ceiling()
        if ceiling is not None:  # the client's own ceiling on this machine (assay perf --self-test)
            logged["client_ceiling"] = {k: ceiling.get(k) for k in ("requests_per_s", "stream", "measured_at")}
    with RunLifecycle(plugins, opts, work_dir=opts.work_dir, name=opts.name) as life:
        run = life.run
        life.start(
            kind="perf",
            config=logged,
            resolved={
                **logged,
                "resolved_url": url.split("?", 1)[0],
                "api_class": type(api).__name__,
                "prompts": len(bodies),
                "points": [list(p) for p in points],
            },
            seed=opts.seed,
        )
        load = _Load(opts, api, url, bodies, run)
        if opts.trace:
            from .datasets import trace_offsets

            load.schedule = trace_offsets(opts)
        if opts.multi_turn:
            load.conversations = _conversations(opts, prompts)
        if opts.server_metrics is not None:
            from .server_metrics import Scraper, default_url

            from urllib.parse import urlsplit

            # the key and --headers go to the API's own host only, never to another metrics host
            headers = {k: v for k, v in load.headers.items() if k.lower() != "content-type"}
            load.scrapers = [
                Scraper(
                    u,
                    opts.server_metrics_interval,
                    load.buffer_event,
                    load.offset,
                    headers if urlsplit(u).netloc == urlsplit(url).netloc else {},
                )
                for u in (opts.server_metrics or [default_url(url)])
            ]
        life.before_finish(load.flush)

        async def sweep() -> None:
            if opts.sla_auto_tune:
                await _sla_tune(load, opts, run, life.run_dir)
                return
            for pidx, (parallel, number, rate) in enumerate(points):
                if pidx and opts.sleep_interval > 0:
                    await asyncio.sleep(opts.sleep_interval)
                point = {"parallel": parallel, "number": number, "rate": rate}
                cpu0 = time.process_time()
                with _quiet_gc():
                    await load.run_point(parallel, number, rate, point, pidx)
                opts.points_cpu_s += time.process_time() - cpu0
                run.flush()

        if opts.executor != "local":  # e.g. ray: N load-generator actors, one schedule from here
            plugins.get("executors", opts.executor).obj(opts, plugins).perf(opts, load, points, run)
        elif opts.workers > 1:
            from .workers import run_workers

            run_workers(opts, load, points, run)
        else:
            _event_loop_run(sweep())
    run_dir, report = life.run_dir, life.report or {}
    section = report.get("sections", {}).get("perf")
    if section:
        points_dir = run_dir / "points"
        points_dir.mkdir(exist_ok=True)
        for pt in section["points"]:
            p = pt["point"]
            name = f"parallel_{p['parallel']}_number_{p['number']}" + (f"_rate_{p['rate']}" if p.get("rate") else "")
            if p.get("sla_run"):
                name += f"_run_{p['sla_run']}"
            (points_dir / f"{name}.json").write_text(json.dumps(pt, indent=2), encoding="utf-8")
    return run_dir, report

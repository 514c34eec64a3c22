"""An OpenAI-compatible server with scripted answers, controllable timing and faults."""

from __future__ import annotations

import asyncio
import collections
import functools
import hashlib
import heapq
import itertools
import json
import math
import random
import re
import threading
import time
from collections.abc import Sequence
from typing import Any

import attrs
import msgspec
from aiohttp import HttpVersion11, web

FAULT_KINDS = (
    "http_500",
    "http_429",
    "http_400",
    "garbage",
    "hang",
    "truncate",
    "stream_error",
    "reset",
    "not_event_stream",  # stream requested: a 200 JSON body instead of an event stream
    "empty_stream",  # an event stream that ends with no content, no finish and no [DONE]
    "error_event",  # `event: error` in the middle of a stream, then the end
    "empty_list",  # embeddings / rerank: a 200 body whose list (data / results) is empty
    # leaks a real server can make: a 401 quoting the key it was sent; a 400 / 500 echoing the request headers
    "http_401_key",
    "http_400_headers",
    "http_500_headers",
    "http_529",  # Anthropic's "overloaded" (a retry-after of 0 seconds)
    "redirect",  # a 307 to the same path: the client must send the request again (a new request number)
    "truncate_whole",  # a non-streamed answer cut inside its body ("truncate" acts inside a stream only)
    "gzip_whole",  # a non-streamed answer sent gzip-compressed (Content-Encoding: gzip), unasked
    "unknown_encoding_whole",  # a non-streamed answer with a Content-Encoding no client knows (the body as is)
    "bad_http",  # bytes that are not an HTTP answer (a bad status line), then the connection closes
    "stall",  # an OpenAI stream stopped after half its content chunks, connection open, for hang_seconds; then the rest
)


def _crlf_writer(write: Any) -> Any:
    """An SSE writer in the other legal framing: CRLF line ends, a keep-alive comment, split events."""

    async def crlf_write(data: bytes) -> None:
        data = (b": keep-alive\n\n" + data).replace(b"\n", b"\r\n")
        half = len(data) // 2
        await write(data[:half])
        await asyncio.sleep(0)
        await write(data[half:])

    return crlf_write


_EARLY = 1e-6  # a deadline this close counts as due: the loop runs a timer up to its clock resolution early


class _Paced:
    """One stream's content chunks in the :class:`Pacer`: chunk ``i`` is due at ``first + i * itl`` (loop time)."""

    __slots__ = (
        "transport",
        "frames",
        "first",
        "itl",
        "around",
        "end",
        "on_end",
        "sent",
        "done",
        "first_write",
        "last_write",
    )

    def __init__(
        self,
        transport: asyncio.Transport,
        frames: Sequence[bytes],
        first: float,
        itl: float,
        around: tuple[bytes, bytes],
        end: bytes,
        on_end: Any,
    ) -> None:
        self.transport, self.frames, self.first, self.itl, self.around = transport, frames, first, itl, around
        self.end, self.on_end = end, on_end  # the rest of the body, and what to call just before it is written
        self.done: asyncio.Future[_Paced] = asyncio.get_running_loop().create_future()
        self.sent = 0
        self.first_write = self.last_write = 0.0


class Pacer:
    """The content chunks of every paced stream, written from one timer instead of one sleep per chunk per stream.

    Each stream's chunk ``i`` is due at the absolute deadline ``first + i * itl`` (so errors do not accumulate)
    and is never written early. At each tick every stream that has chunks due gets them in one write (one when
    the server keeps up; all that are due when it falls behind, as a real server's next write would carry them),
    and the timer is set to the earliest next deadline. The streams wait in a heap by their next deadline, so a
    tick visits only those that are due: at 512 streams a millisecond apart, going over all of them at every tick
    was a fifth of the server's CPU. The bytes go to the transport as HTTP/1.1 chunks: one ``transport.write``
    per stream per tick, without aiohttp's per-write coroutine. At 512 streams of 200 chunks/s this is what lets
    one core keep pace (one sleep and one ``resp.write`` per chunk per stream did not)."""

    def __init__(self) -> None:
        self._waiting: list[tuple[float, int, _Paced]] = []  # a heap: (next deadline, order, stream)
        self._order = itertools.count()  # ties in deadline go first come, first written
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf  # when the timer fires (uvloop's timer handles have no when())

    async def send(
        self,
        transport: asyncio.Transport,
        frames: Sequence[bytes],
        first: float,
        itl: float,
        end: bytes = b"",
        on_end: Any = None,
        around: tuple[bytes, bytes] = (b"", b""),
    ) -> _Paced:
        """Write ``frames`` (the body bytes of each chunk, in order, each between the two bytes of ``around``: an
        answer's texts are the same from request to request, the event around them is not, and is joined to
        each in the write) to ``transport`` of a response with chunked transfer encoding, frame ``i`` at loop
        time ``first + i * itl``, and ``end`` (bytes already framed: the rest of the body) in the write of the
        last frame, ``on_end(stream)`` called just before that write; return when all are written (the stream,
        with the wall-clock times of its first and last write), or raise ConnectionResetError when the client
        went away. Frames already due are written at once; a cancelled caller's stream is dropped."""
        loop = asyncio.get_running_loop()
        stream = _Paced(transport, frames, first, itl, around, end, on_end)
        if not frames:
            return stream
        if not self._write_due(stream, loop.time() + _EARLY, time.time()):
            upcoming = first + stream.sent * itl
            heapq.heappush(self._waiting, (upcoming, next(self._order), stream))
            if self._timer is None or upcoming < self._timer_at:
                if self._timer is not None:
                    self._timer.cancel()
                self._timer, self._timer_at = loop.call_at(upcoming, self._tick, loop), upcoming
        try:
            return await stream.done
        finally:
            if stream.done.cancelled() or not stream.done.done():  # the caller was cancelled (client gone)
                stream.done.cancel()
                self._waiting = [w for w in self._waiting if w[2] is not stream]
                heapq.heapify(self._waiting)
                if not self._waiting and self._timer is not None:
                    self._timer.cancel()
                    self._timer = None

    @staticmethod
    def _write_due(s: _Paced, now: float, wall: float) -> bool:
        """Write the frames of ``s`` due by loop time ``now`` in one write; True when ``s`` is finished."""
        if now < s.first:
            return False
        due = len(s.frames) if s.itl <= 0 else min(len(s.frames), int((now - s.first) / s.itl) + 1)
        if due <= s.sent:
            return False
        if s.transport.is_closing():
            s.done.set_exception(ConnectionResetError("Cannot write to closing transport"))
            return True
        if not s.sent:
            s.first_write = wall
        s.last_write = wall
        last = due == len(s.frames)
        if last and s.on_end is not None:
            s.on_end(s)  # before the bytes go: whoever has read the end of the body finds it recorded
        before, after = s.around
        if due == s.sent + 1:  # one frame: framed as an HTTP/1.1 chunk in one formatting, no copy of its own
            data = s.frames[s.sent]
            size = len(before) + len(data) + len(after)
            s.transport.write(b"%x\r\n%b%b%b\r\n%b" % (size, before, data, after, s.end if last else b""))
        else:
            data = before + (after + before).join(s.frames[s.sent : due]) + after  # each frame between the two
            s.transport.write(b"%x\r\n%b\r\n%b" % (len(data), data, s.end if last else b""))
        s.sent = due
        if last:
            s.done.set_result(s)
        return last

    def _tick(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        now = loop.time() + _EARLY
        wall = time.time()
        waiting = self._waiting
        again: list[_Paced] = []  # pushed back after the loop: a deadline rounded to ``now`` is not visited twice
        while waiting and waiting[0][0] <= now:
            s = heapq.heappop(waiting)[2]
            if not self._write_due(s, now, wall):
                again.append(s)
        for s in again:
            heapq.heappush(waiting, (s.first + s.sent * s.itl, next(self._order), s))
        if waiting:
            self._timer_at = waiting[0][0]
            self._timer = loop.call_at(self._timer_at, self._tick, loop)


@attrs.define
class ServerConfig:
    rules: list[dict[str, str]] = attrs.field(factory=list)
    default_answer: str = "I do not know."
    ttft: float = 0.0  # seconds before the first content token
    itl: float = 0.0  # seconds between content chunks
    tokens_per_chunk: int = 1
    report_usage: bool = True
    faults: dict[str, Any] = attrs.field(factory=dict)  # kind -> probability | [request numbers]
    hang_seconds: float = 3600.0
    seed: int = 0
    embedding_dim: int = 64
    model: str = "test-model"
    record: bool = True
    timing: bool = False  # keep (arrival, first content, last content) wall times of streamed answers
    reasoning: str | None = None  # when set, chat answers carry it as reasoning_content
    served_models: list[str] | None = None  # when set: GET /v1/models lists these, other names get a 404
    require_api_key: str | None = None  # when set: requests without this bearer key get a 401
    # > 0: a prefix cache of blocks of this many prompt tokens (words), as vLLM's: the leading
    # blocks seen before are "cached", reported as usage.prompt_tokens_details.cached_tokens
    prefix_cache_block: int = 0
    # seconds of TTFT added per other request in flight when one arrives: a server that slows down
    # under load (for SLA auto-tune tests)
    ttft_per_active: float = 0.0
    sse_framing: str = "lf"  # "crlf": CRLF line ends, a comment before each event, each event in two writes
    # GET /metrics (Prometheus text): "vllm", "sglang" or "tgi" names; values follow the real load
    metrics_flavor: str = "vllm"
    metrics_fault: str | None = None  # "http_500" | "garbage": what GET /metrics answers instead
    max_num_seqs: int = 0  # > 0: at most this many answered at once, the others wait (num_requests_waiting)
    kv_cache_tokens: int = 4096  # simulated KV-cache size: usage = tokens held by running requests / this

    def update(self, data: dict[str, Any]) -> None:
        for k, v in data.items():
            if not hasattr(self, k):
                raise KeyError(f"unknown server setting {k!r}")
            setattr(self, k, v)


def _input_as_body(value: Any) -> dict[str, Any]:
    """``input`` of the Responses API (a string or a message list) or of embeddings (strings, or token ids)."""
    if isinstance(value, list) and value and all(isinstance(m, dict) for m in value):
        return {"messages": value}
    return {
        "prompt": value if isinstance(value, str) else " ".join(map(str, value if isinstance(value, list) else [value]))
    }


def _last_user_text(body: dict[str, Any]) -> str:
    if "input" in body and "messages" not in body:  # the Responses API: a string or a message list
        body = _input_as_body(body["input"])
    if "messages" in body:
        for m in reversed(body["messages"]):
            if m.get("role") == "user":
                c = m.get("content", "")
                if isinstance(c, list):
                    return " ".join(part.get("text", "") for part in c if isinstance(part, dict))
                return str(c)
        return ""
    p = body.get("prompt", "")
    return p if isinstance(p, str) else " ".join(map(str, p))


def _all_text(body: dict[str, Any]) -> str:
    if "input" in body and "messages" not in body:
        body = _input_as_body(body["input"])
    if "messages" in body:
        return "\n".join(str(m.get("content", "")) for m in body["messages"])
    return str(body.get("prompt", ""))


_TOKEN = re.compile(r"\s+|\S+\s*")  # leading whitespace alone, then each word with the whitespace after it


def tokens_of(text: str) -> list[str]:
    """The server's 'tokens': words with their following whitespace (leading whitespace is a token of its own).
    One regular expression (the character loop it replaced cost ~0.4 ms per 2,000-character prompt), its result
    remembered per text (a benchmark run asks for the same answers again and again)."""
    return list(_tokens(text)) if text else []


@functools.lru_cache(maxsize=1 << 14)
def _tokens(text: str) -> tuple[str, ...]:
    return tuple(_TOKEN.findall(text))


def chunk_texts(toks: list[str], per: int) -> list[str]:
    """The text of each streamed chunk: ``per`` tokens a chunk (the tokens themselves when ``per`` is 1)."""
    if per <= 1:
        return toks
    return ["".join(toks[i : i + per]) for i in range(0, len(toks), per)]


@functools.lru_cache(maxsize=1 << 16)
def _json_text(text: str) -> bytes:
    """A chunk's text as JSON bytes, remembered (an answer repeats its words, a benchmark run its answers)."""
    return json.dumps(text).encode()


def _event_json(obj: Any) -> bytes:
    """``json.dumps(obj, separators=(",", ":")).encode()``, the bytes of the events the server writes (non-ASCII
    as \\u escapes), made by msgspec where that gives the same bytes (ASCII without DEL: a few times less CPU).
    For str, int, bool, None, and lists and dicts of them (msgspec writes some floats differently)."""
    data = msgspec.json.encode(obj)
    if data.isascii() and b"\x7f" not in data:
        return data
    return json.dumps(obj, separators=(",", ":")).encode()


@functools.lru_cache(maxsize=1 << 12)
def _json_texts(texts: tuple[str, ...]) -> tuple[bytes, ...]:
    """Each chunk text of an answer as JSON bytes, remembered per answer (one lookup, not one per chunk)."""
    return tuple(map(_json_text, texts))


@functools.lru_cache(maxsize=1 << 14)
def count_tokens(text: str) -> int:
    """``len(tokens_of(text))`` without making the tokens (a prompt's length, counted for every request and
    remembered: a benchmark run sends the same prompts again)."""
    return len(text.split()) + (1 if text[:1].isspace() else 0)


class Server:
    def __init__(self, config: ServerConfig | None = None) -> None:
        self.config = config or ServerConfig()
        self.count = 0
        self.requests: list[dict[str, Any]] = []
        self.timings: list[tuple[float, float, float]] = []  # with config.timing: the server's own view
        self.fault_counts: dict[str, int] = {}
        self.in_flight = 0  # completions being answered now, and the most at once (judge_worker_num tests)
        self.max_in_flight = 0
        self._rule_uses: dict[int, int] = {}
        self._rule_memo: dict[str, tuple[dict[str, Any] | None, int]] = {}  # rule_for, per text
        self._rules_seen: Any = None
        self._rules_len = 0
        self._cached_blocks: set[str] = set()
        self.running = 0  # requests being answered (admitted), and waiting for admission (max_num_seqs)
        self.waiting = 0
        self.kv_private = 0  # KV tokens the running requests hold outside shared prefix blocks
        self._kv_held: dict[int, tuple[int, list[str]]] = {}  # id(request) -> its own tokens, its blocks
        self._held_blocks: dict[str, int] = {}  # prefix block -> running requests holding it
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self.prefix_queries = 0  # prompt tokens looked up in the prefix cache, and found (vLLM's counters)
        self.prefix_hits = 0
        self.finished_requests = 0
        self.metrics_auth: list[bool] = []  # GET /metrics: whether each scrape carried a credential
        self._rng = random.Random(self.config.seed)
        self._pacer = Pacer()  # the content chunks of paced streams (ttft / itl), from one timer
        self.app = web.Application(client_max_size=64 * 1024 * 1024)
        self.app.add_routes(
            [
                web.post("/v1/chat/completions", self.chat),
                web.post("/v1/completions", self.completions),
                web.post("/v1/embeddings", self.embeddings),
                web.post("/v1/rerank", self.rerank),
                web.post("/v2/rerank", self.rerank),
                web.post("/v1/responses", self.responses),
                web.post("/v1/messages", self.messages),
                web.post("/api/v1/services/aigc/text-generation/generation", self.dashscope),
                web.post("/v1/services/aigc/text-generation/generation", self.dashscope),
                web.get("/v1/models", self.models),
                web.get("/metrics", self.metrics),
                web.post("/admin/config", self.admin_config),
                web.get("/admin/stats", self.admin_stats),
                web.get("/admin/timings", self.admin_timings),
            ]
        )

    # ---- answers -----------------------------------------------------------------

    def rule_for(self, body: dict[str, Any]) -> tuple[dict[str, Any] | None, int]:
        """The rule whose ``match`` occurs latest in the last user message (a scripted judge keys its
        verdicts on text of the prompt it is shown), and its index. Remembered per text (a benchmark
        with thousands of rules asks each question again with --repeats; the rules do not change)."""
        text = _last_user_text(body)
        rules = self.config.rules
        if self._rules_seen is not rules or self._rules_len != len(rules):
            self._rule_memo = {}
            self._rules_seen, self._rules_len = rules, len(rules)
        hit = self._rule_memo.get(text)
        if hit is not None:
            return hit
        best, best_pos, best_i = None, -1, -1
        for i, rule in enumerate(rules):
            pos = text.rfind(rule["match"])
            if pos > best_pos:
                best, best_pos, best_i = rule, pos, i
        if len(self._rule_memo) < 65536:
            self._rule_memo[text] = (best, best_i)
        return best, best_i

    def answer_for(self, body: dict[str, Any]) -> str:
        best, best_i = self.rule_for(body)
        if best is None:
            return self.config.default_answer
        if "answers" in best:  # a list answered in turn, one per request matching the rule (repeats)
            used = self._rule_uses.get(best_i, 0)
            self._rule_uses[best_i] = used + 1
            return best["answers"][used % len(best["answers"])]
        return best["answer"]

    def tool_calls_for(self, body: dict[str, Any]) -> list[dict[str, Any]] | None:
        """The function calls of the rule that answers this request (its ``tool_calls``: a list of
        ``{"name", "arguments"}``, arguments an object or raw text sent as is), or None."""
        best, _ = self.rule_for(body)
        calls = best.get("tool_calls") if best is not None else None
        if not calls:
            return None
        out = []
        for i, c in enumerate(calls):
            args = c.get("arguments", {})
            out.append(
                {
                    "id": f"call_{self.count}_{i}",
                    "type": "function",
                    "function": {"name": c["name"], "arguments": args if isinstance(args, str) else json.dumps(args)},
                }
            )
        return out

    def _fault(self, n: int) -> str | None:
        for kind, spec in self.config.faults.items():
            if isinstance(spec, (list, tuple)):
                if n in spec:
                    return kind
            elif spec and self._rng.random() < float(spec):
                return kind
        return None

    def _output_tokens(self, body: dict[str, Any]) -> list[str]:
        toks = tokens_of(self.answer_for(body))
        max_tokens = body.get("max_tokens") or body.get("max_completion_tokens") or body.get("max_output_tokens")
        forced = body.get("min_tokens") or (max_tokens if body.get("ignore_eos") else None)
        if forced:
            # perf runs ask for an exact length: repeat the answer to fill it
            base = toks or ["token "]
            toks = [base[i % len(base)] for i in range(int(forced))]
        if max_tokens:
            toks = toks[: int(max_tokens)]
        return toks

    def _prefix_cache(self, body: dict[str, Any], keys: list[str] | None = None) -> int:
        """Cached prompt tokens: the leading full blocks whose chained hash was seen before;
        every full block of this prompt is then cached (its keys appended to ``keys``)."""
        size = self.config.prefix_cache_block
        toks = tokens_of(_all_text(body))
        h = hashlib.sha256()
        cached, hit = 0, True
        for i in range(len(toks) // size):
            h.update("".join(toks[i * size : (i + 1) * size]).encode())
            key = h.hexdigest()
            if keys is not None:
                keys.append(key)
            if hit and key in self._cached_blocks:
                cached += size
            else:
                hit = False
                self._cached_blocks.add(key)
        self.prefix_queries += len(toks)
        self.prefix_hits += cached
        return cached

    # ---- load accounting (GET /metrics) ------------------------------------------

    async def _admit(self) -> None:
        """Wait while ``max_num_seqs`` requests are running (counted as waiting), then run."""
        while 0 < self.config.max_num_seqs <= self.running:
            fut = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            self.waiting += 1
            try:
                await fut
            except BaseException:
                if fut.done() and not fut.cancelled():
                    self._wake()  # woken, then cancelled: the slot goes to the next one
                raise
            finally:
                self.waiting -= 1
        self.running += 1

    def _wake(self) -> None:
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                return

    def _leave(self, request: web.Request) -> None:
        self._release_kv(request)
        self.finished_requests += 1
        self.running -= 1
        self._wake()

    def _hold_kv(self, request: web.Request, tokens: int, blocks: list[str]) -> None:
        """A running request holds ``tokens`` KV slots; its full prefix blocks are shared with the
        other running requests that hold them (a block is counted once)."""
        own = tokens - self.config.prefix_cache_block * len(blocks)
        for key in blocks:
            self._held_blocks[key] = self._held_blocks.get(key, 0) + 1
        self.kv_private += own
        self._kv_held[id(request)] = (own, blocks)

    def _release_kv(self, request: web.Request) -> None:
        held = self._kv_held.pop(id(request), None)
        if held is None:
            return
        own, blocks = held
        self.kv_private -= own
        for key in blocks:
            self._held_blocks[key] -= 1
            if self._held_blocks[key] == 0:
                del self._held_blocks[key]

    @property
    def kv_tokens(self) -> int:
        return self.kv_private + self.config.prefix_cache_block * len(self._held_blocks)

    def _logprobs(self, body: dict[str, Any], toks: list[str]) -> list[dict[str, Any]]:
        """``logprobs: true, top_logprobs: N``: each output token with its log-probability and the N most likely
        alternatives. A rule's ``logprobs`` ({token: logprob}) scripts the first token's alternatives (a judge's
        verdict token); other tokens are certain (logprob 0)."""
        rule, _ = self.rule_for(body)
        scripted = {str(k): float(v) for k, v in ((rule or {}).get("logprobs") or {}).items()}
        n = int(body.get("top_logprobs") or 0)
        out = []
        for i, tok in enumerate(toks):
            word = tok.strip()
            alts = dict(scripted) if i == 0 and scripted else {word: 0.0}
            alts.setdefault(word, 0.0 if not scripted else max(alts.values()))
            top = sorted(alts.items(), key=lambda kv: -kv[1])[:n]
            out.append(
                {
                    "token": word,
                    "logprob": alts[word],
                    "bytes": list(word.encode()),
                    "top_logprobs": [{"token": t, "logprob": lp, "bytes": list(t.encode())} for t, lp in top],
                }
            )
        return out

    @staticmethod
    def _prompt_tokens(body: dict[str, Any]) -> int:
        return count_tokens(_all_text(body))

    # ---- handlers ----------------------------------------------------------------

    async def _begin(
        self, request: web.Request
    ) -> tuple[dict[str, Any] | None, int, str | None, web.StreamResponse | None]:
        self.count += 1
        n = self.count
        try:  # msgspec on the bytes: a third of request.json()'s CPU (text decoding, then the json module)
            body = msgspec.json.decode(await request.read())
        except msgspec.DecodeError:
            return (
                None,
                n,
                None,
                web.json_response(
                    {"error": {"message": "invalid JSON body", "type": "invalid_request_error"}}, status=400
                ),
            )
        if self.config.record:
            self.requests.append(body)
        refused = self._refuse(request, body)
        if refused is not None:
            return body, n, None, refused
        fault = self._fault(n)
        if not fault and isinstance(body, dict) and self.config.rules:
            rule, _ = self.rule_for(body)
            fault = rule.get("fault") if rule else None  # a rule that fails every request it matches
        if fault:
            self.fault_counts[fault] = self.fault_counts.get(fault, 0) + 1
        if fault == "http_500":
            return (
                body,
                n,
                fault,
                web.json_response({"error": {"message": "injected server error", "type": "server_error"}}, status=500),
            )
        if fault == "http_429":
            return (
                body,
                n,
                fault,
                web.json_response(
                    {"error": {"message": "injected rate limit", "type": "rate_limit_error"}},
                    status=429,
                    headers={"retry-after": "0"},
                ),
            )
        if fault == "http_529":
            return (
                body,
                n,
                fault,
                web.json_response(
                    {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
                    status=529,
                    headers={"retry-after": "0"},
                ),
            )
        if fault == "http_400":
            return (
                body,
                n,
                fault,
                web.json_response(
                    {"error": {"message": "injected bad request", "type": "invalid_request_error"}}, status=400
                ),
            )
        if fault == "http_401_key":
            auth = request.headers.get("Authorization", "")
            key = auth.split(" ", 1)[1] if " " in auth else auth
            message = f"Incorrect API key provided: {key}. You can find your API key in your account settings."
            return (
                body,
                n,
                fault,
                web.json_response(
                    {"error": {"message": message, "type": "invalid_request_error", "code": "invalid_api_key"}},
                    status=401,
                ),
            )
        if fault in ("http_400_headers", "http_500_headers"):
            status = 400 if fault == "http_400_headers" else 500
            message = f"cannot handle this request; headers received: {dict(request.headers)}"
            return body, n, fault, web.json_response({"error": {"message": message, "type": "debug"}}, status=status)
        if fault == "garbage":
            return body, n, fault, web.Response(text="<html>this is not JSON", content_type="application/json")
        if fault == "redirect":  # 307: the client sends the same request again to the same path
            return body, n, fault, web.Response(status=307, headers={"Location": str(request.rel_url)})
        if fault == "hang":
            await asyncio.sleep(self.config.hang_seconds)
        if fault == "reset":
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        if fault == "bad_http":
            if request.transport is not None:
                request.transport.write(b"HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\n{}")
                request.transport.close()
            raise asyncio.CancelledError
        return body, n, fault, None

    def _refuse(self, request: web.Request, body: dict[str, Any]) -> web.Response | None:
        """A wrong key (401) or an unknown model (404), answered as vLLM and OpenAI do."""
        cfg = self.config
        if request.path.endswith("/messages"):  # the Anthropic Messages API: x-api-key
            if cfg.require_api_key is not None and request.headers.get("x-api-key") != cfg.require_api_key:
                return web.json_response(
                    {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}},
                    status=401,
                )
        elif (
            cfg.require_api_key is not None and request.headers.get("Authorization") != f"Bearer {cfg.require_api_key}"
        ):
            return web.json_response(
                {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error"}}, status=401
            )
        model = body.get("model") if isinstance(body, dict) else None
        if cfg.served_models is not None and body and model not in cfg.served_models:
            return web.json_response(
                {"error": {"message": f"The model `{model}` does not exist.", "type": "NotFoundError", "code": 404}},
                status=404,
            )
        return None

    async def chat(self, request: web.Request) -> web.StreamResponse:
        return await self._complete(request, chat=True)

    async def completions(self, request: web.Request) -> web.StreamResponse:
        return await self._complete(request, chat=False)

    async def _complete(self, request: web.Request, *, chat: bool) -> web.StreamResponse:
        return await self._admitted(request, self._answer, chat=chat)

    async def _admitted(self, request: web.Request, handler: Any, **kwargs: Any) -> web.StreamResponse:
        """Run ``handler(request, others=..., **kwargs)`` as one in-flight request: counted, admitted
        under ``--max-num-seqs`` (waiting otherwise, as a server's queue), left when answered."""
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await self._admit()
            try:
                return await handler(request, others=self.in_flight - 1, **kwargs)
            finally:
                self._leave(request)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: web.Request, *, chat: bool, others: int = 0) -> web.StreamResponse:
        arrived = time.time()
        body, n, fault, early = await self._begin(request)
        if early is not None:
            return early
        assert body is not None
        cfg = self.config
        ttft = cfg.ttft + cfg.ttft_per_active * others
        toks = self._output_tokens(body)
        prompt_tokens = self._prompt_tokens(body)
        rid = f"{'chatcmpl' if chat else 'cmpl'}-{n}"
        created = int(time.time())
        model = body.get("model", cfg.model)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(toks),
            "total_tokens": prompt_tokens + len(toks),
        }
        blocks: list[str] = []
        if cfg.prefix_cache_block > 0:
            usage["prompt_tokens_details"] = {"cached_tokens": self._prefix_cache(body, blocks)}
        self._hold_kv(request, prompt_tokens + len(toks), blocks)
        finish = (
            "length"
            if body.get("max_tokens") and len(toks) >= int(body["max_tokens"]) and not body.get("ignore_eos")
            else "stop"
        )
        calls = self.tool_calls_for(body) if chat else None  # a rule's function calls (tools API)
        if calls:
            finish = "tool_calls"
        if not body.get("stream"):
            if ttft:
                await asyncio.sleep(ttft + cfg.itl * max(0, len(toks) - 1))
            text = "".join(toks)
            if chat:
                message: dict[str, Any] = {"role": "assistant", "content": text}
                if cfg.reasoning:
                    message["reasoning_content"] = cfg.reasoning
                if calls:
                    message["content"] = text or None
                    message["tool_calls"] = calls
                choice: dict[str, Any] = {"index": 0, "message": message, "finish_reason": finish}
                if body.get("logprobs"):
                    choice["logprobs"] = {"content": self._logprobs(body, toks)}
                obj = "chat.completion"
            else:
                choice = {"index": 0, "text": text, "finish_reason": finish, "logprobs": None}
                obj = "text_completion"
            payload: dict[str, Any] = {
                "id": rid,
                "object": obj,
                "created": created,
                "model": model,
                "choices": [choice],
            }
            if cfg.report_usage:
                payload["usage"] = usage
            if fault == "truncate_whole":  # a whole answer cut inside its body (Content-Length says more)
                data = json.dumps(payload).encode()
                resp = web.StreamResponse(headers={"Content-Type": "application/json"})
                resp.content_length = len(data)
                await resp.prepare(request)
                await resp.write(data[: len(data) // 2])
                if request.transport is not None:
                    request.transport.abort()
                return resp
            if fault in ("gzip_whole", "unknown_encoding_whole"):
                import gzip

                data = json.dumps(payload).encode()
                gz = fault == "gzip_whole"
                return web.Response(
                    body=gzip.compress(data) if gz else data,
                    headers={"Content-Type": "application/json", "Content-Encoding": "gzip" if gz else "x-unknown"},
                )
            return web.json_response(payload)

        if fault == "not_event_stream":
            return web.json_response({"id": rid, "object": "chat.completion", "model": model, "choices": []})
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        if request.version >= HttpVersion11:
            resp.enable_chunked_encoding()  # as aiohttp would for HTTP/1.1; said here, so the Pacer may frame chunks
        await resp.prepare(request)
        if cfg.sse_framing == "crlf":
            resp.write = _crlf_writer(resp.write)  # type: ignore[method-assign]
        t0 = time.perf_counter()
        obj = "chat.completion.chunk" if chat else "text_completion"

        # a content chunk's bytes around its text, made once (encoding the whole dict gives the same)
        head = _event_json({"id": rid, "object": obj, "created": created, "model": model})
        head_b = (
            b"data: "
            + head[:-1]
            + (b',"choices":[{"index":0,"delta":{"content":' if chat else b',"choices":[{"index":0,"text":')
        )
        tail_b = b'},"finish_reason":null}]}\n\n' if chat else b',"finish_reason":null}]}\n\n'

        def chunk(delta_text: str | None, finish_reason: str | None = None, reasoning: str | None = None) -> bytes:
            if delta_text is not None and finish_reason is None and reasoning is None:
                return head_b + _json_text(delta_text) + tail_b
            if chat:
                delta: dict[str, Any] = {}
                if delta_text is not None:
                    delta["content"] = delta_text
                if reasoning is not None:
                    delta["reasoning_content"] = reasoning
                ch: dict[str, Any] = {"index": 0, "delta": delta, "finish_reason": finish_reason}
            else:
                ch = {"index": 0, "text": delta_text or "", "finish_reason": finish_reason}
            data = {"id": rid, "object": obj, "created": created, "model": model, "choices": [ch]}
            return b"data: " + _event_json(data) + b"\n\n"

        if chat:
            await resp.write(
                b"data: "
                + _event_json(
                    {
                        "id": rid,
                        "object": obj,
                        "created": created,
                        "model": model,
                        "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
                    }
                )
                + b"\n\n"
            )
        if fault == "empty_stream":  # (after the role chunk of a chat answer, whose content is "")
            await resp.write_eof()
            return resp
        if cfg.reasoning and chat:
            await resp.write(chunk(None, reasoning=cfg.reasoning))
        texts = chunk_texts(toks, cfg.tokens_per_chunk)
        # after the content: the finish chunk, the usage chunk (when asked for) and [DONE], all at once
        end = [chunk(None if chat else "", finish_reason=finish)]
        opts = body.get("stream_options") or {}
        if cfg.report_usage and opts.get("include_usage"):
            data = {"id": rid, "object": obj, "created": created, "model": model, "choices": [], "usage": usage}
            end.append(b"data: " + _event_json(data) + b"\n\n")
        end.append(b"data: [DONE]\n\n")
        start = 0  # the first content chunk the loop below writes
        first_write = last_write = 0.0
        if (ttft > 0 or cfg.itl > 0) and resp.chunked and cfg.sse_framing == "lf" and request.transport is not None:
            # paced: the chunks before a mid-stream fault (all of them without one) from the server's one timer
            mid = max(1, len(texts) // 2)
            start = (
                mid
                if fault in ("truncate", "error_event", "stream_error", "stall") and mid < len(texts)
                else len(texts)
            )
            first = asyncio.get_running_loop().time() + (t0 + ttft - time.perf_counter())
            frames = _json_texts(tuple(texts[:start]))  # chunk(text) = head_b + frame + tail_b
            # nothing after the content but its end: the end of the body (and the chunk of size 0 that ends a
            # chunked body) goes in the write of the last content chunk, as a real server sends it, not after
            # this task has waited its turn on a busy loop (~13 ms at 512 streams, measured)
            whole = bool(frames) and start == len(texts) and not calls
            framed_end = b""
            if whole:
                tail = b"".join(end)
                framed_end = b"%x\r\n%b\r\n0\r\n\r\n" % (len(tail), tail)
            on_end = None
            if whole and cfg.timing:  # recorded before the client can have read the whole answer

                def on_end(paced: _Paced) -> None:
                    self.timings.append((arrived, paced.first_write, paced.last_write))

            sent = await self._pacer.send(
                request.transport, frames, first, cfg.itl, framed_end, on_end, around=(head_b, tail_b)
            )
            first_write, last_write = sent.first_write, sent.last_write
            if whole:
                request.writer.chunked = False  # the body is whole: aiohttp's end of the response writes nothing
                await resp.write_eof()
                return resp
        for i in range(start, len(texts)):
            # sleep to absolute deadlines so timing errors do not accumulate
            due = t0 + ttft + cfg.itl * i
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if fault == "stall" and i == max(1, len(texts) // 2):
                await asyncio.sleep(cfg.hang_seconds)  # nothing written, the connection open: a stalled stream
            if fault == "truncate" and i == max(1, len(texts) // 2):
                await resp.write(b'data: {"id": "' + rid.encode() + b'", "choi')
                if request.transport is not None:
                    request.transport.abort()
                return resp
            if fault == "error_event" and i == max(1, len(texts) // 2):
                error = {"message": "injected error event", "type": "server_error"}
                await resp.write(b"event: error\ndata: " + json.dumps(error).encode() + b"\n\n")
                await resp.write_eof()
                return resp
            if fault == "stream_error" and i == max(1, len(texts) // 2):
                await resp.write(
                    b"data: "
                    + json.dumps({"error": {"message": "injected stream error", "type": "server_error"}}).encode()
                    + b"\n\n"
                )
                await resp.write_eof()
                return resp
            if cfg.timing:
                last_write = time.time()
                if i == 0:
                    first_write = last_write
            await resp.write(chunk(texts[i]))
        if cfg.timing and texts:
            self.timings.append((arrived, first_write, last_write))
        for i, call in enumerate(calls or []):
            # as OpenAI streams a call: id and name first, then the arguments in fragments
            fn = call["function"]
            half = len(fn["arguments"]) // 2
            head = {"index": i, "id": call["id"], "type": "function", "function": {"name": fn["name"], "arguments": ""}}
            for delta in (
                head,
                *({"index": i, "function": {"arguments": a}} for a in (fn["arguments"][:half], fn["arguments"][half:])),
            ):
                data = {
                    "id": rid,
                    "object": obj,
                    "created": created,
                    "model": model,
                    "choices": [{"index": 0, "delta": {"tool_calls": [delta]}, "finish_reason": None}],
                }
                await resp.write(b"data: " + _event_json(data) + b"\n\n")
        if cfg.sse_framing == "crlf":  # each event in its own writes
            for event in end:
                await resp.write(event)
            await resp.write_eof()
        else:  # finish, usage and [DONE] come at once: one write with the end of the body, not four
            await resp.write_eof(b"".join(end))
        return resp

    async def embeddings(self, request: web.Request) -> web.StreamResponse:
        body, n, fault, early = await self._begin(request)
        if early is not None:
            return early
        assert body is not None
        inputs = body.get("input", [])
        if isinstance(inputs, str):
            inputs = [inputs]
        dim = int(body.get("dimensions") or self.config.embedding_dim)
        data = [{"object": "embedding", "index": i, "embedding": embed(str(t), dim)} for i, t in enumerate(inputs)]
        if fault == "empty_list":
            data = []
        ntok = sum(count_tokens(str(t)) for t in inputs)
        return web.json_response(
            {
                "object": "list",
                "data": data,
                "model": body.get("model", self.config.model),
                "usage": {"prompt_tokens": ntok, "total_tokens": ntok},
            }
        )

    async def rerank(self, request: web.Request) -> web.StreamResponse:
        """The Cohere / Jina / vLLM rerank format: results by relevance (cosine of bag-of-words embeddings)."""
        body, n, fault, early = await self._begin(request)
        if early is not None:
            return early
        assert body is not None
        query = str(body.get("query", ""))
        docs = [d.get("text", "") if isinstance(d, dict) else str(d) for d in body.get("documents") or []]
        if not query or not docs:
            return web.json_response(
                {"error": {"message": "query and documents are required", "type": "invalid_request_error"}},
                status=400,
            )
        dim = self.config.embedding_dim
        q = embed(query, dim)
        scores = [sum(a * b for a, b in zip(q, embed(d, dim))) for d in docs]
        order = sorted(range(len(docs)), key=lambda i: -scores[i])[: body.get("top_n") or len(docs)]
        if fault == "empty_list":
            order = []
        ntok = count_tokens(query) + sum(count_tokens(d) for d in docs)
        return web.json_response(
            {
                "id": f"rerank-{n}",
                "model": body.get("model", self.config.model),
                "usage": {"total_tokens": ntok},
                "results": [{"index": i, "relevance_score": scores[i], "document": {"text": docs[i]}} for i in order],
            }
        )

    async def responses(self, request: web.Request) -> web.StreamResponse:
        """The OpenAI Responses API: a response object, or its event stream (typed events, no [DONE])."""
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._responses(request, others=self.in_flight - 1)
        finally:
            self.in_flight -= 1

    async def _responses(self, request: web.Request, others: int) -> web.StreamResponse:
        body, n, fault, early = await self._begin(request)
        if early is not None:
            return early
        assert body is not None
        cfg = self.config
        ttft = cfg.ttft + cfg.ttft_per_active * others
        toks = self._output_tokens(body)
        rid = f"resp-{n}"
        usage = {
            "input_tokens": self._prompt_tokens(body),
            "output_tokens": len(toks),
            "total_tokens": self._prompt_tokens(body) + len(toks),
        }
        text = "".join(toks)
        item = {
            "id": f"msg-{n}",
            "type": "message",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}],
        }
        response: dict[str, Any] = {
            "id": rid,
            "object": "response",
            "created_at": int(time.time()),
            "model": body.get("model", cfg.model),
            "status": "completed",
            "output": [item],
        }
        if cfg.report_usage:
            response["usage"] = usage
        if not body.get("stream"):
            if ttft:
                await asyncio.sleep(ttft + cfg.itl * max(0, len(toks) - 1))
            return web.json_response(response)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await resp.prepare(request)

        def event(data: dict[str, Any]) -> bytes:
            return (
                f"event: {data['type']}\ndata: ".encode() + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"
            )

        await resp.write(
            event({"type": "response.created", "response": {**response, "status": "in_progress", "output": []}})
        )
        t0 = time.perf_counter()
        texts = chunk_texts(toks, cfg.tokens_per_chunk)
        for i, piece in enumerate(texts):
            delay = t0 + ttft + cfg.itl * i - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if fault == "error_event" and i == max(1, len(texts) // 2):
                await resp.write(event({"type": "error", "code": "server_error", "message": "injected error event"}))
                await resp.write_eof()
                return resp
            await resp.write(
                event(
                    {
                        "type": "response.output_text.delta",
                        "item_id": item["id"],
                        "output_index": 0,
                        "content_index": 0,
                        "delta": piece,
                    }
                )
            )
        await resp.write(event({"type": "response.output_text.done", "item_id": item["id"], "text": text}))
        await resp.write(event({"type": "response.completed", "response": response}))
        await resp.write_eof()
        return resp

    async def messages(self, request: web.Request) -> web.StreamResponse:
        """The Anthropic Messages API: ``x-api-key`` and ``anthropic-version`` headers, top-level ``system``,
        ``max_tokens`` required; a message object, or its event stream (``message_start``,
        ``content_block_*`` with text / thinking deltas, ``message_delta``, ``message_stop``)."""
        return await self._admitted(request, self._messages)

    @staticmethod
    def _anthropic_error(status: int, kind: str, message: str) -> web.Response:
        return web.json_response({"type": "error", "error": {"type": kind, "message": message}}, status=status)

    async def _messages(self, request: web.Request, others: int) -> web.StreamResponse:
        if not request.headers.get("x-api-key"):
            return self._anthropic_error(401, "authentication_error", "x-api-key header is required")
        if not request.headers.get("anthropic-version"):
            return self._anthropic_error(400, "invalid_request_error", "anthropic-version: header is required")
        body, n, fault, early = await self._begin(request)
        if early is not None:
            return early
        assert body is not None
        if not isinstance(body.get("max_tokens"), int):
            return self._anthropic_error(400, "invalid_request_error", "max_tokens: Field required")
        msgs = body.get("messages")
        if not isinstance(msgs, list) or not msgs or any(m.get("role") not in ("user", "assistant") for m in msgs):
            return self._anthropic_error(
                400,
                "invalid_request_error",
                "messages: roles must be user or assistant (a system prompt is the top-level system parameter)",
            )
        cfg = self.config
        ttft = cfg.ttft + cfg.ttft_per_active * others
        toks = self._output_tokens(body)
        system = body.get("system") or ""
        if isinstance(system, list):
            system = " ".join(b.get("text", "") for b in system if isinstance(b, dict))
        as_chat = {"messages": ([{"role": "system", "content": system}] if system else []) + msgs}
        prompt_tokens = self._prompt_tokens(as_chat)
        self._hold_kv(request, prompt_tokens + len(toks), [])
        stop = "max_tokens" if len(toks) >= body["max_tokens"] and not body.get("ignore_eos") else "end_turn"
        mid = f"msg_{n:06d}"
        model = body.get("model", cfg.model)
        text = "".join(toks)
        thinking = cfg.reasoning  # when set: a thinking block before the text
        usage = {"input_tokens": prompt_tokens, "output_tokens": len(toks)}
        if not body.get("stream"):
            if ttft:
                await asyncio.sleep(ttft + cfg.itl * max(0, len(toks) - 1))
            content: list[dict[str, Any]] = []
            if thinking:
                content.append({"type": "thinking", "thinking": thinking, "signature": "sig"})
            content.append({"type": "text", "text": text})
            message = {
                "id": mid,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": content,
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": usage if cfg.report_usage else {},
            }
            return web.json_response(message)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await resp.prepare(request)

        def event(data: dict[str, Any]) -> bytes:
            return (
                f"event: {data['type']}\ndata: ".encode() + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"
            )

        start = {"id": mid, "type": "message", "role": "assistant", "model": model, "content": []}
        start["stop_reason"] = None
        start["usage"] = {"input_tokens": prompt_tokens, "output_tokens": 1} if cfg.report_usage else {}
        await resp.write(event({"type": "message_start", "message": start}))
        if fault == "empty_stream":
            await resp.write_eof()
            return resp
        index = 0
        if thinking:
            await resp.write(
                event(
                    {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}}
                )
            )
            await resp.write(
                event(
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "thinking_delta", "thinking": thinking},
                    }
                )
            )
            await resp.write(
                event(
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "signature_delta", "signature": "sig"},
                    }
                )
            )
            await resp.write(event({"type": "content_block_stop", "index": 0}))
            index = 1
        await resp.write(
            event({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}})
        )
        await resp.write(event({"type": "ping"}))
        t0 = time.perf_counter()
        texts = chunk_texts(toks, cfg.tokens_per_chunk)
        for i, piece in enumerate(texts):
            delay = t0 + ttft + cfg.itl * i - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if i == max(1, len(texts) // 2) and fault in ("truncate", "error_event", "stream_error"):
                if fault == "truncate":
                    await resp.write(b'event: content_block_delta\ndata: {"type": "content_blo')
                    if request.transport is not None:
                        request.transport.abort()
                    return resp
                await resp.write(
                    event({"type": "error", "error": {"type": "overloaded_error", "message": "injected error event"}})
                )
                await resp.write_eof()
                return resp
            delta = {"type": "text_delta", "text": piece}
            await resp.write(event({"type": "content_block_delta", "index": index, "delta": delta}))
        await resp.write(event({"type": "content_block_stop", "index": index}))
        final: dict[str, Any] = {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}}
        final["usage"] = {"output_tokens": len(toks)} if cfg.report_usage else {}
        await resp.write(event(final))
        await resp.write(event({"type": "message_stop"}))
        await resp.write_eof()
        return resp

    async def dashscope(self, request: web.Request) -> web.StreamResponse:
        """DashScope's text-generation API: ``{"model", "input": {"messages" | "prompt"}, "parameters"}``;
        an event stream when the ``X-DashScope-SSE: enable`` header (or ``Accept: text/event-stream``) asks
        for one: ``id:`` / ``event:result`` / ``:HTTP_STATUS/200`` / ``data:`` events, each the increment
        (``parameters.incremental_output``) or the whole text so far; ``finish_reason`` is ``"null"``
        until the last. ``parameters.result_format``: ``message`` (choices) or ``text``."""
        return await self._admitted(request, self._dashscope)

    async def _dashscope(self, request: web.Request, others: int) -> web.StreamResponse:
        body, n, fault, early = await self._begin(request)
        if early is not None:
            return early
        assert body is not None
        rid = f"ds-{n:06d}"
        inp = body.get("input")
        if not isinstance(inp, dict) or not (isinstance(inp.get("messages"), list) or "prompt" in inp):
            return web.json_response(
                {
                    "code": "InvalidParameter",
                    "message": "input.messages or input.prompt is required",
                    "request_id": rid,
                },
                status=400,
            )
        params = body.get("parameters") or {}
        chat_body = {**params, "model": body.get("model")}
        chat_body.update({"messages": inp["messages"]} if "messages" in inp else {"prompt": inp["prompt"]})
        cfg = self.config
        ttft = cfg.ttft + cfg.ttft_per_active * others
        toks = self._output_tokens(chat_body)
        prompt_tokens = self._prompt_tokens(chat_body)
        self._hold_kv(request, prompt_tokens + len(toks), [])
        finish = "length" if params.get("max_tokens") and len(toks) >= int(params["max_tokens"]) else "stop"
        as_message = params.get("result_format") == "message"
        incremental = bool(params.get("incremental_output"))

        def payload(text: str, finish_reason: str, n_out: int) -> dict[str, Any]:
            if as_message:
                message: dict[str, Any] = {"role": "assistant", "content": text}
                output: dict[str, Any] = {"choices": [{"message": message, "finish_reason": finish_reason}]}
            else:
                output = {"text": text, "finish_reason": finish_reason}
            data: dict[str, Any] = {"output": output, "request_id": rid}
            if cfg.report_usage:
                data["usage"] = {
                    "input_tokens": prompt_tokens,
                    "output_tokens": n_out,
                    "total_tokens": prompt_tokens + n_out,
                }
            return data

        sse = request.headers.get(
            "X-DashScope-SSE", ""
        ).lower() == "enable" or "text/event-stream" in request.headers.get("Accept", "")
        if not sse:
            if ttft:
                await asyncio.sleep(ttft + cfg.itl * max(0, len(toks) - 1))
            return web.json_response(payload("".join(toks), finish, len(toks)))
        resp = web.StreamResponse(
            headers={"Content-Type": "text/event-stream;charset=UTF-8", "Cache-Control": "no-cache"}
        )
        await resp.prepare(request)

        def event(i: int, data: dict[str, Any], name: str = "result", status: int = 200) -> bytes:
            head = f"id:{i}\nevent:{name}\n:HTTP_STATUS/{status}\ndata:".encode()
            return head + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"

        t0 = time.perf_counter()
        per = max(1, cfg.tokens_per_chunk)
        groups = [toks[i : i + per] for i in range(0, len(toks), per)]
        sent = 0
        for i, group in enumerate(groups):
            delay = t0 + ttft + cfg.itl * i - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if i == max(1, len(groups) // 2) and fault in ("truncate", "error_event"):
                if fault == "truncate":
                    await resp.write(b'id:9\nevent:result\ndata:{"output":{"cho')
                    if request.transport is not None:
                        request.transport.abort()
                    return resp
                error = {"code": "InternalError", "message": "injected error event", "request_id": rid}
                await resp.write(event(i + 1, error, name="error", status=500))
                await resp.write_eof()
                return resp
            sent += len(group)
            last = i == len(groups) - 1
            text = "".join(group) if incremental else "".join(toks[:sent])
            await resp.write(event(i + 1, payload(text, finish if last else "null", sent)))
        if not groups:
            await resp.write(event(1, payload("", finish, 0)))
        await resp.write_eof()
        return resp

    async def models(self, request: web.Request) -> web.Response:
        refused = self._refuse(request, {})
        if refused is not None and refused.status == 401:
            return refused
        names = self.config.served_models if self.config.served_models is not None else [self.config.model]
        return web.json_response(
            {"object": "list", "data": [{"id": name, "object": "model", "owned_by": "assay"} for name in names]}
        )

    def metric_families(self) -> list[Any]:
        """The load now, as the server named in ``metrics_flavor`` names it (prometheus_client families)."""
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        cfg = self.config
        usage = min(1.0, self.kv_tokens / cfg.kv_cache_tokens) if cfg.kv_cache_tokens > 0 else 0.0
        flavor = cfg.metrics_flavor
        if flavor == "vllm":
            labels = ["engine", "model_name"]
            values = ["0", cfg.model]
            gauges = [
                ("vllm:num_requests_running", "Number of requests in model execution batches.", self.running),
                ("vllm:num_requests_waiting", "Number of requests waiting to be processed.", self.waiting),
                ("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", usage),
            ]
            counters = [
                ("vllm:prefix_cache_queries", "Prefix cache queries, in terms of number of queried tokens.",
                 self.prefix_queries),
                ("vllm:prefix_cache_hits", "Prefix cache hits, in terms of number of cached tokens.", self.prefix_hits),
                ("vllm:request_success", "Count of successfully processed requests.", self.finished_requests),
            ]  # fmt: skip
        elif flavor == "sglang":
            labels, values = ["model_name"], [cfg.model]
            rate = self.prefix_hits / self.prefix_queries if self.prefix_queries else 0.0
            gauges = [
                ("sglang:num_running_reqs", "The number of running requests.", self.running),
                ("sglang:num_queue_reqs", "The number of requests in the waiting queue.", self.waiting),
                ("sglang:token_usage", "The token usage.", usage),
                ("sglang:cache_hit_rate", "The prefix cache hit rate.", rate),
            ]
            counters = [("sglang:num_requests", "The number of processed requests.", self.finished_requests)]
        elif flavor == "tgi":
            labels, values = [], []
            gauges = [
                ("tgi_batch_current_size", "Current batch size", self.running),
                ("tgi_queue_size", "Current queue size", self.waiting),
            ]
            counters = [("tgi_request_success", "Number of successful requests", self.finished_requests)]
        else:
            raise ValueError(f"metrics_flavor: vllm, sglang or tgi, not {flavor!r}")
        out: list[Any] = []
        for name, doc, value in gauges:
            g = GaugeMetricFamily(name, doc, labels=labels)
            g.add_metric(values, float(value))
            out.append(g)
        for name, doc, value in counters:
            c = CounterMetricFamily(name, doc, labels=labels)
            c.add_metric(values, float(value))
            out.append(c)
        return out

    async def metrics(self, request: web.Request) -> web.Response:
        """``GET /metrics``: the Prometheus text exposition format (prometheus_client's, as vLLM, SGLang
        and TGI serve it); ``metrics_fault`` answers a 500 or a body that is not the format instead."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        self.metrics_auth.append(bool(request.headers.get("Authorization") or request.headers.get("x-api-key")))
        fault = self.config.metrics_fault
        if fault == "http_500":
            return web.Response(status=500, text="injected metrics error")
        if fault == "garbage":
            return web.Response(text="<html>not \x1b[31mmetrics{{{", content_type="text/plain")

        server = self

        class _Collector:
            def collect(self) -> list[Any]:
                return server.metric_families()

        from prometheus_client import CollectorRegistry

        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Collector())
        return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def admin_config(self, request: web.Request) -> web.Response:
        try:
            self.config.update(await request.json())
        except KeyError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"ok": True})

    async def admin_timings(self, request: web.Request) -> web.Response:
        """With ``timing`` on: [arrival, first content write, last content write] (wall clock) of
        each completed streamed answer; ``?reset=1`` clears the list after reading it."""
        out = web.json_response({"timings": self.timings})
        if request.query.get("reset"):
            self.timings = []
        return out

    async def admin_stats(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "requests": self.count,
                "faults": self.fault_counts,
                "max_in_flight": self.max_in_flight,
                "running": self.running,
                "waiting": self.waiting,
            }
        )


def embed(text: str, dim: int) -> list[float]:
    """A deterministic bag-of-words embedding: texts sharing words are close."""
    vec = [0.0] * dim
    for word in text.lower().split():
        h = hashlib.blake2b(word.encode(), digest_size=8).digest()
        idx = int.from_bytes(h[:4], "little") % dim
        vec[idx] += 1.0 if h[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec]


class TestServer:
    """Run :class:`Server` in a background thread: ``with TestServer(...) as srv: srv.url``."""

    __test__ = False  # not a pytest class

    def __init__(
        self, config: ServerConfig | None = None, *, host: str = "127.0.0.1", port: int = 0, **settings: Any
    ) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the test server binds to loopback only")
        cfg = config or ServerConfig()
        cfg.update(settings)
        self.server = Server(cfg)
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def config(self) -> ServerConfig:
        return self.server.config

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self.server.requests

    def start(self) -> TestServer:
        self._thread = threading.Thread(target=self._serve, name="assay-testserver", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error:
            raise self._error
        return self

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._start())
        except BaseException as exc:  # noqa: BLE001
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(self._runner.cleanup() if self._runner else asyncio.sleep(0))
        loop.close()

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.server.app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=1024)
        await site.start()
        sock = site._server.sockets[0]  # type: ignore[union-attr]
        self.port = sock.getsockname()[1]

    def stop(self) -> None:
        loop, self._loop = self._loop, None
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> TestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

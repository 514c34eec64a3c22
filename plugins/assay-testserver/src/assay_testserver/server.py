"""An OpenAI-compatible server with scripted answers, controllable timing and faults."""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import random
import threading
import time
from typing import Any

import attrs
from aiohttp import web

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


def tokens_of(text: str) -> list[str]:
    """The server's 'tokens': words with their following whitespace."""
    if not text:
        return []
    out: list[str] = []
    cur = ""
    for ch in text:
        if ch.isspace() and cur and not cur[-1].isspace():
            cur += ch
        elif not ch.isspace() and cur and cur[-1].isspace():
            out.append(cur)
            cur = ch
        else:
            cur += ch
    if cur:
        out.append(cur)
    return out


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
        self._cached_blocks: set[str] = set()
        self._rng = random.Random(self.config.seed)
        self.app = web.Application(client_max_size=64 * 1024 * 1024)
        self.app.add_routes(
            [
                web.post("/v1/chat/completions", self.chat),
                web.post("/v1/completions", self.completions),
                web.post("/v1/embeddings", self.embeddings),
                web.post("/v1/rerank", self.rerank),
                web.post("/v2/rerank", self.rerank),
                web.post("/v1/responses", self.responses),
                web.get("/v1/models", self.models),
                web.post("/admin/config", self.admin_config),
                web.get("/admin/stats", self.admin_stats),
                web.get("/admin/timings", self.admin_timings),
            ]
        )

    # ---- answers -----------------------------------------------------------------

    def rule_for(self, body: dict[str, Any]) -> tuple[dict[str, Any] | None, int]:
        """The rule whose ``match`` occurs latest in the last user message (a scripted judge keys its
        verdicts on text of the prompt it is shown), and its index."""
        text = _last_user_text(body)
        best, best_pos, best_i = None, -1, -1
        for i, rule in enumerate(self.config.rules):
            pos = text.rfind(rule["match"])
            if pos > best_pos:
                best, best_pos, best_i = rule, pos, i
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
        text = _last_user_text(body)
        best, best_pos = None, -1
        for rule in self.config.rules:
            pos = text.rfind(rule["match"])
            if pos > best_pos:
                best, best_pos = rule, pos
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

    def _prefix_cache(self, body: dict[str, Any]) -> int:
        """Cached prompt tokens: the leading full blocks whose chained hash was seen before;
        every full block of this prompt is then cached."""
        size = self.config.prefix_cache_block
        toks = tokens_of(_all_text(body))
        h = hashlib.sha256()
        cached, hit = 0, True
        for i in range(len(toks) // size):
            h.update("".join(toks[i * size : (i + 1) * size]).encode())
            key = h.hexdigest()
            if hit and key in self._cached_blocks:
                cached += size
            else:
                hit = False
                self._cached_blocks.add(key)
        return cached

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
        return len(tokens_of(_all_text(body)))

    # ---- handlers ----------------------------------------------------------------

    async def _begin(
        self, request: web.Request
    ) -> tuple[dict[str, Any] | None, int, str | None, web.StreamResponse | None]:
        self.count += 1
        n = self.count
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
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
        if fault == "hang":
            await asyncio.sleep(self.config.hang_seconds)
        if fault == "reset":
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        return body, n, fault, None

    def _refuse(self, request: web.Request, body: dict[str, Any]) -> web.Response | None:
        """A wrong key (401) or an unknown model (404), answered as vLLM and OpenAI do."""
        cfg = self.config
        if cfg.require_api_key is not None and request.headers.get("Authorization") != f"Bearer {cfg.require_api_key}":
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
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._answer(request, chat=chat, others=self.in_flight - 1)
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
        if cfg.prefix_cache_block > 0:
            usage["prompt_tokens_details"] = {"cached_tokens": self._prefix_cache(body)}
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
            return web.json_response(payload)

        if fault == "not_event_stream":
            return web.json_response({"id": rid, "object": "chat.completion", "model": model, "choices": []})
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await resp.prepare(request)
        if cfg.sse_framing == "crlf":
            resp.write = _crlf_writer(resp.write)  # type: ignore[method-assign]
        t0 = time.perf_counter()
        obj = "chat.completion.chunk" if chat else "text_completion"

        def chunk(delta_text: str | None, finish_reason: str | None = None, reasoning: str | None = None) -> bytes:
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
            return b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"

        if chat:
            await resp.write(
                b"data: "
                + json.dumps(
                    {
                        "id": rid,
                        "object": obj,
                        "created": created,
                        "model": model,
                        "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
                    },
                    separators=(",", ":"),
                ).encode()
                + b"\n\n"
            )
        if fault == "empty_stream":  # (after the role chunk of a chat answer, whose content is "")
            await resp.write_eof()
            return resp
        if cfg.reasoning and chat:
            await resp.write(chunk(None, reasoning=cfg.reasoning))
        per = max(1, cfg.tokens_per_chunk)
        groups = [toks[i : i + per] for i in range(0, len(toks), per)]
        for i, group in enumerate(groups):
            # sleep to absolute deadlines so timing errors do not accumulate
            due = t0 + ttft + cfg.itl * i
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if fault == "truncate" and i == max(1, len(groups) // 2):
                await resp.write(b'data: {"id": "' + rid.encode() + b'", "choi')
                if request.transport is not None:
                    request.transport.abort()
                return resp
            if fault == "error_event" and i == max(1, len(groups) // 2):
                error = {"message": "injected error event", "type": "server_error"}
                await resp.write(b"event: error\ndata: " + json.dumps(error).encode() + b"\n\n")
                await resp.write_eof()
                return resp
            if fault == "stream_error" and i == max(1, len(groups) // 2):
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
            await resp.write(chunk("".join(group)))
        if cfg.timing and groups:
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
                await resp.write(b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n")
        await resp.write(chunk(None if chat else "", finish_reason=finish) if chat else chunk("", finish_reason=finish))
        opts = body.get("stream_options") or {}
        if cfg.report_usage and opts.get("include_usage"):
            data = {"id": rid, "object": obj, "created": created, "model": model, "choices": [], "usage": usage}
            await resp.write(b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n")
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
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
        ntok = sum(len(tokens_of(str(t))) for t in inputs)
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
        ntok = len(tokens_of(query)) + sum(len(tokens_of(d)) for d in docs)
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
        per = max(1, cfg.tokens_per_chunk)
        groups = [toks[i : i + per] for i in range(0, len(toks), per)]
        for i, group in enumerate(groups):
            delay = t0 + ttft + cfg.itl * i - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if fault == "error_event" and i == max(1, len(groups) // 2):
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
                        "delta": "".join(group),
                    }
                )
            )
        await resp.write(event({"type": "response.output_text.done", "item_id": item["id"], "text": text}))
        await resp.write(event({"type": "response.completed", "response": response}))
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
            {"requests": self.count, "faults": self.fault_counts, "max_in_flight": self.max_in_flight}
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

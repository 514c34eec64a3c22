"""The ``mock`` model: deterministic, offline, instant. The default when no model is given.

Its answer depends only on the request text, so two runs agree. ``--model-args``:
``answer`` (always say this), ``delay`` (seconds to wait per request, to exercise
concurrency), ``fail_every`` (every Nth request raises a TransientError).
"""

from __future__ import annotations

import zlib
from typing import Any

import anyio

from ..api import GenerateRequest, GenerateResult, ModelConfig, TransientError
from ..events import Usage


class MockModel:
    supports_loglikelihood = True

    def __init__(self, config: ModelConfig, run: Any) -> None:
        self.name = config.model
        self.answer = config.model_args.get("answer")
        self.delay = float(config.model_args.get("delay", 0))
        self.fail_every = int(config.model_args.get("fail_every", 0))
        self._calls = 0

    @staticmethod
    def _text(req: GenerateRequest) -> str:
        if req.messages:
            return "\n".join(str(m.get("content", "")) for m in req.messages)
        return req.prompt or ""

    async def generate(self, request: GenerateRequest) -> GenerateResult:
        self._calls += 1
        if self.delay:
            await anyio.sleep(self.delay)
        if self.fail_every and self._calls % self.fail_every == 0:
            raise TransientError("mock: injected transient failure")
        text = self._text(request)
        h = zlib.crc32(text.encode("utf-8"))
        words = len(text.split())
        if request.mode == "loglikelihood" and request.choices:
            logprobs = [-float((h >> (i % 24)) % 97) / 10 - 0.1 for i in range(len(request.choices))]
            best = max(range(len(logprobs)), key=logprobs.__getitem__)
            return GenerateResult(choice_logprobs=logprobs, choice_greedy=[i == best for i in range(len(logprobs))])
        if self.answer is not None:
            out = str(self.answer)
        elif request.choices:
            out = f"The answer is {chr(ord('A') + h % len(request.choices))}."
        else:
            out = f"Let me think. The answer is {h % 100}.\n#### {h % 100}"
        usage = Usage(prompt_tokens=words, completion_tokens=len(out.split()), total_tokens=words + len(out.split()))
        return GenerateResult(output=out, usage=usage, finish_reason="stop")

    async def aclose(self) -> None:
        return None

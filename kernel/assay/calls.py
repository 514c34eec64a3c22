"""Calling a model: one request with the run's retries, timeout and the server's ``Retry-After``.

Used by generation and by the judge. The first attempt is a plain call: tenacity's machinery (measured
per sample in issue 18) is built only when that attempt failed with a :class:`TransientError` or a
timeout. Retries back off exponentially with full jitter (0.2 s doubling, at most 10 s), or wait what
the server asked (at most 60 s).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import anyio

from .api import GenerateRequest, GenerateResult, TransientError

RETRIED = (TransientError, TimeoutError)


def backoff(attempt: int, exc: BaseException | None) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1-based)."""
    asked = getattr(exc, "retry_after", None)
    if asked:
        return min(60.0, asked)
    return random.uniform(0, min(10.0, 0.2 * 2 ** (attempt - 1)))


async def call_model(
    model: Any,
    request: GenerateRequest,
    *,
    retries: int,
    timeout: float | None,
    on_attempt: Callable[[int], None] | None = None,
) -> GenerateResult:
    """``model.generate(request)``, at most ``retries + 1`` times while it raises a transient error or
    times out (``timeout`` seconds per attempt; none when falsy). ``request.attempt`` is set before each
    attempt and ``on_attempt(n)`` called; the last error is raised as it is."""

    async def once(attempt: int) -> GenerateResult:
        request.attempt = attempt
        if on_attempt is not None:
            on_attempt(attempt)
        if timeout:
            with anyio.fail_after(timeout):
                return await model.generate(request)
        return await model.generate(request)

    try:
        return await once(1)
    except RETRIED as exc:
        if retries < 1:
            raise
        first = exc
    from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

    await anyio.sleep(backoff(1, first))

    def wait(state: Any) -> float:  # tenacity counts from the second attempt
        return backoff(state.attempt_number + 1, state.outcome.exception() if state.outcome else None)

    async for try_ in AsyncRetrying(
        stop=stop_after_attempt(retries), wait=wait, retry=retry_if_exception_type(RETRIED), reraise=True
    ):
        with try_:
            return await once(try_.retry_state.attempt_number + 1)
    raise AssertionError("unreachable: tenacity reraises")

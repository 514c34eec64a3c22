"""assay.calls.call_model: the one "call a model with retries/timeout" path of generation and the judge,
driven against the kernel's mock backend (its ``fail_every`` and ``delay`` are real model behaviour)."""

from __future__ import annotations

import anyio
import pytest
import tenacity

from assay.api import GenerateRequest, ModelConfig, TransientError
from assay.builtin.mock import MockModel
from assay.calls import backoff, call_model


def _model(**model_args):
    return MockModel(ModelConfig(model="mock", model_args=model_args), None)


def _call(model, **kw):
    attempts: list[int] = []
    req = GenerateRequest(sample_id="s/default/1", prompt="2+2?")

    async def go():
        return await call_model(model, req, on_attempt=attempts.append, **kw)

    return anyio.run(go), req, attempts


class _NoRetrying:
    def __init__(self, *a, **kw):
        raise AssertionError("tenacity was built although the first attempt succeeded")


def test_first_attempt_succeeds_without_building_tenacity(monkeypatch):
    monkeypatch.setattr(tenacity, "AsyncRetrying", _NoRetrying)
    result, req, attempts = _call(_model(answer="4"), retries=3, timeout=5)
    assert result.output == "4"
    assert attempts == [1] and req.attempt == 1


def test_a_transient_error_is_retried_and_the_attempts_counted():
    model = _model(answer="4", fail_every=2)
    anyio.run(model.generate, GenerateRequest(sample_id="warm", prompt="x"))  # call 1 succeeds: the next fails
    result, req, attempts = _call(model, retries=2, timeout=None)
    assert result.output == "4"
    assert attempts == [1, 2] and req.attempt == 2 and model._calls == 3


def test_the_last_error_is_raised_when_retries_are_spent():
    model = _model(fail_every=1)
    with pytest.raises(TransientError, match="mock: injected transient failure"):
        _call(model, retries=2, timeout=None)
    assert model._calls == 3
    with pytest.raises(TransientError):
        _call(_model(fail_every=1), retries=0, timeout=None)


def test_each_attempt_has_the_timeout():
    model = _model(delay=5)
    with pytest.raises(TimeoutError):
        _call(model, retries=1, timeout=0.05)
    assert model._calls == 2


def test_backoff_honours_retry_after_and_jitters_below_the_cap():
    assert backoff(1, TransientError("429", retry_after=0.25)) == 0.25
    assert backoff(4, TransientError("429", retry_after=600)) == 60.0
    waits = [backoff(3, TransientError("x")) for _ in range(200)]
    assert all(0 <= w <= 0.8 for w in waits) and max(waits) > 0.4
    assert all(0 <= backoff(20, None) <= 10.0 for _ in range(50))

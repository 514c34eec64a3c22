"""The fail-fast rule and the exit statuses of kernel/assay/failures.py."""

from __future__ import annotations

import pytest
from assay.api import FatalError, TransientError
from assay.failures import FailureWatch, RunFailed, error_kind

URL = "http://127.0.0.1:1/v1/chat/completions"


def auth():
    return FatalError("HTTP 401: Incorrect API key provided.", kind="auth", status=401, url=URL)


def refused():
    return TransientError("connection refused", kind="connection", url=URL)


def test_three_alike_stop_the_run_with_the_url_and_cause():
    watch = FailureWatch(total=100)
    watch.failure(auth())
    watch.failure(auth())
    with pytest.raises(RunFailed) as info:
        watch.failure(auth())
    assert str(info.value) == (
        "the run stopped: its first 3 sample(s) all failed the same way and none succeeded: "
        f"{URL}: HTTP 401: Incorrect API key provided.; check --api-key (or $ASSAY_API_KEY)"
    )
    assert info.value.exit_code == 1


def test_a_run_of_one_sample_stops_on_its_failure():
    with pytest.raises(RunFailed):
        FailureWatch(total=1).failure(refused())


def test_a_success_first_turns_the_watch_off():
    watch = FailureWatch(total=100)
    watch.success()
    for _ in range(10):
        watch.failure(auth())  # counted by the report, never stops the run


def test_a_different_error_restarts_the_count():
    watch = FailureWatch(total=100)
    watch.failure(auth())
    watch.failure(auth())
    watch.failure(refused())
    watch.failure(refused())
    with pytest.raises(RunFailed, match="connection refused; check --api-url"):
        watch.failure(refused())


@pytest.mark.parametrize(
    "exc",
    [
        TransientError("HTTP 500", kind="http_5xx", status=500),
        TransientError("timed out", kind="timeout"),
        FatalError("HTTP 400: context too long", kind="http_4xx", status=400),
        TimeoutError(),
    ],
)
def test_errors_retrying_may_fix_or_about_one_sample_never_stop_a_run(exc):
    watch = FailureWatch(total=100)
    for _ in range(10):
        watch.failure(exc)


def test_error_kind_names():
    assert error_kind(auth()) == "auth"
    assert error_kind(TimeoutError()) == "timeout"
    assert error_kind(ValueError("x")) == "ValueError"

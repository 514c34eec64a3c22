"""Ctrl-C (the main task cancelled) is never lost by the lean client, even when it lands on the event loop's
turn in which a connection completes."""

from __future__ import annotations

import asyncio

import pytest

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class _CancelWhenConnected:
    """The running loop's create_connection, which cancels ``task`` as the connection completes (the moment
    Python 3.11's asyncio.wait_for swallows a cancellation: CPython gh-86296)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.task: asyncio.Task | None = None

    async def create_connection(self, *args, **kwargs):
        connected = await self.loop.create_connection(*args, **kwargs)
        assert self.task is not None
        self.task.cancel()
        return connected


async def test_a_cancel_as_the_connection_completes_cancels_the_request(test_server):
    from assay_openai.lean import Pool

    srv = test_server()
    host, port = srv.url.split("//")[1].split("/")[0].split(":")
    pool = Pool(
        host, int(port), b"", stream=False, on_event=None, on_body=None, off=0.0,
        connect_timeout=5.0, read_timeout=None, total_timeout=None,
    )  # fmt: skip
    pool.loop = wrapped = _CancelWhenConnected(asyncio.get_running_loop())
    wrapped.task = task = asyncio.create_task(pool._connect())
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()
    pool.close()  # (the connection made: the request that wanted it ends with the cancellation)

"""``--server-metrics``: sample the server's Prometheus metrics during each perf point.

The scraper runs on the load generator's event loop: one GET per ``--server-metrics-interval``,
the body cut to the lines of the recognised families (a vLLM ``/metrics`` page is mostly
histograms) and parsed by ``prometheus_client.parser``. Each scrape is one
``ServerMetricsSampled`` event; a failed scrape is logged and counted, never fatal.
"""

from __future__ import annotations

import asyncio
import time
import types
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# family name (as parsed: counters without _total) -> the figure it is in the report
RUNNING = ("vllm:num_requests_running", "sglang:num_running_reqs", "tgi_batch_current_size")
WAITING = ("vllm:num_requests_waiting", "sglang:num_queue_reqs", "tgi_queue_size")
KV_USAGE = ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc", "sglang:token_usage")  # fractions 0-1
PREFIX_QUERIES = ("vllm:prefix_cache_queries", "vllm:gpu_prefix_cache_queries")  # counters, tokens
PREFIX_HITS = ("vllm:prefix_cache_hits", "vllm:gpu_prefix_cache_hits")
PREFIX_RATE = ("sglang:cache_hit_rate", "vllm:gpu_prefix_cache_hit_rate")  # gauges (older servers)
FAMILIES = frozenset(RUNNING + WAITING + KV_USAGE + PREFIX_QUERIES + PREFIX_HITS + PREFIX_RATE)
_NAMES = tuple(n.encode() for n in sorted(FAMILIES))


def _lines(text: bytes) -> list[bytes]:
    """The lines of the recognised families (samples, # HELP, # TYPE), in page order. Found with
    ``bytes.find`` (C) per name: a vLLM page is ~100 KB of histograms, and a Python loop over its
    lines would hold the load generator's event loop for milliseconds."""
    found: dict[int, bytes] = {}
    for name in _NAMES:
        heads = (name, b"# HELP " + name, b"# TYPE " + name)
        start = 0
        while (i := text.find(name, start)) != -1:
            ls = text.rfind(b"\n", 0, i) + 1
            le = text.find(b"\n", i)
            le = len(text) if le == -1 else le
            start = le
            line = text[ls:le]
            if line.startswith(heads):
                found[ls] = line
    return [found[k] for k in sorted(found)]


def default_url(url: str) -> str:
    """The server's ``/metrics`` (vLLM, SGLang, TGI serve it at the root) from the API URL."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/metrics", "", ""))


def parse(text: bytes) -> list[tuple[str, dict[str, str], float]]:
    """The samples of the recognised families in a Prometheus text page (ValueError if it is not one)."""
    from prometheus_client.parser import text_string_to_metric_families

    keep = _lines(text)
    out = []
    for fam in text_string_to_metric_families(b"\n".join(keep).decode("utf-8", "replace") + "\n"):
        if fam.name not in FAMILIES:
            continue
        for s in fam.samples:
            if s.name.endswith(("_created", "_bucket", "_count", "_sum")):
                continue
            out.append((fam.name, dict(s.labels), float(s.value)))
    return out


class Scraper:
    """Scrape ``url`` every ``interval`` seconds while a point runs; events go to ``emit``."""

    def __init__(self, url: str, interval: float, emit: Any, offset: float, headers: dict[str, str]) -> None:
        self.url = url
        self.log_url = url.split("?", 1)[0]
        self.interval = interval
        self.emit = emit
        self.offset = offset
        self.headers = headers

    async def scrape(self, session: Any, point: dict[str, Any]) -> Any:
        import aiohttp
        from assay_openai.http import status_message

        from .events import ServerMetricsSampled

        perf = time.perf_counter
        t = perf() + self.offset
        kind = message = None
        samples: list[tuple[str, dict[str, str], float]] = []
        try:
            timeout = aiohttp.ClientTimeout(total=max(self.interval, 1.0) * 5)
            # (a trace context of its own: the load's chunk-sent trace writes .sent on it)
            ctx = types.SimpleNamespace(sent=None)
            async with session.get(self.url, headers=self.headers, timeout=timeout, trace_request_ctx=ctx) as resp:
                body = await resp.read()
                t = perf() + self.offset
                if resp.status >= 400:
                    kind, message = f"http_{resp.status}", status_message(resp.status, body)
                else:
                    try:
                        samples = parse(body)
                    except (ValueError, IndexError, TypeError) as exc:
                        kind, message = "malformed", f"not a Prometheus text page: {exc}"
                    if kind is None and not samples:
                        kind, message = "malformed", "no vLLM, SGLang or TGI load metric on the page"
        except (asyncio.TimeoutError, TimeoutError) as exc:  # noqa: UP041
            kind, message = "timeout", f"{type(exc).__name__}: {exc or 'timed out'}"
        except (aiohttp.ClientError, OSError) as exc:
            kind, message = "connection", f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # noqa: BLE001 - a scrape never stops the run: counted instead
            kind, message = "client_error", f"{type(exc).__name__}: {exc}"
        return ServerMetricsSampled(
            url=self.log_url,
            t=t,
            point=point,
            ok=kind is None,
            error_kind=kind,
            error=None if message is None else message[:300],
            samples=samples,
        )

    async def run(self, session: Any, point: dict[str, Any], stop: asyncio.Event) -> None:
        """Scrape every interval (the first one interval after the point's start) until ``stop`` is set.
        A scrape slower than the interval skips the ticks it missed (no burst of catch-up scrapes)."""
        loop_time = asyncio.get_running_loop().time
        due = loop_time()
        while not stop.is_set():
            due = max(due + self.interval, loop_time())
            try:
                # not asyncio.wait_for: on Python 3.11 a cancellation (Ctrl-C) landing as it times out or ends can
                # be lost (CPython gh-86296), and this loop would go on scraping
                async with asyncio.timeout(due - loop_time()):
                    await stop.wait()
                return
            except TimeoutError:
                pass
            if stop.is_set():
                return
            self.emit(await self.scrape(session, point))

"""Event bodies assay-perf adds to a run's log (registered through ``assay_event_types``)."""

from __future__ import annotations

from typing import Any

from assay.events import Body


class ServerMetricsSampled(Body, kw_only=True):
    """One scrape of the server's Prometheus metrics during a perf point (``--server-metrics``).

    ``samples``: the recognised series as read, ``[name, labels, value]`` (vLLM, SGLang, TGI gauges
    and prefix-cache counters); a failed scrape has ``ok`` false, an ``error_kind`` and no samples.
    Means, maxima and rates are folded from these in the report."""

    url: str  # the metrics URL, query string dropped
    t: float  # wall clock when the answer arrived (when the request was sent, for a failure)
    point: dict[str, Any] = {}  # the sweep point the scrape fell in (as RequestTimed.point)
    ok: bool = True
    error_kind: str | None = None  # connection | timeout | http_<status> | malformed
    error: str | None = None
    samples: list[tuple[str, dict[str, str], float]] = []

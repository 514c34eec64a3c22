"""The perf report: a fold over ``RequestTimed`` events. Nothing else is read.

Formulas (per request, all times from the log, in seconds):

- TTFT = first content chunk arrival - sent
- E2E latency = last content chunk arrival - sent
- TPOT = (E2E latency - TTFT) / (output tokens - 1), streamed requests with >= 2 output tokens
- ITL = every gap between consecutive content chunks of a request, pooled over requests
- sent = when the request bytes were written to the socket; scheduled = the open-loop due time,
  or (closed loop) when the client started the request
- queue delay = sent - scheduled: the client's own queueing (behind the arrival schedule, or a
  burst of requests waiting on the client's event loop)
- measured window = max(end) - min(scheduled, else sent) over the point's measured requests
- request throughput = succeeded / window; output token throughput = sum(output tokens) / window;
  total token throughput = sum(prompt + output tokens) / window (succeeded requests only)
- goodput = succeeded requests meeting every SLO given (ttft, tpot, e2e) / window

Non-streamed responses arrive at once: their TTFT equals their latency; they have no TPOT or ITL.
Output tokens are the server's usage when reported, else the client's count (tokenizer, else chunks).
Warm-up requests are excluded from every figure (counted separately).
"""

from __future__ import annotations

import json
import math
import operator
from array import array
from pathlib import Path
from typing import Any, ClassVar

import msgspec
from assay_reportkit.tables import Column, TableReporter, fixed, render_table

FORMULAS = {
    "ttft": "first content chunk arrival - sent",
    "e2e_latency": "last content chunk arrival - sent",
    "tpot": "(e2e latency - ttft) / (output tokens - 1), per streamed request with >= 2 output tokens",
    "itl": "every gap between consecutive content chunks, pooled over requests",
    "sent": "request bytes written to the socket (aiohttp chunk-sent trace)",
    "queue_delay": "sent - scheduled (open-loop due time, or when the client started the request)",
    "window": "max(end) - min(scheduled) over the measured requests",
    "request_throughput": "succeeded requests / window",
    "output_token_throughput": "sum(output tokens of succeeded requests) / window",
    "total_token_throughput": "sum(prompt + output tokens of succeeded requests) / window",
    "goodput": "succeeded requests meeting every SLO / window",
    "prefix_cache_hit_rate": "sum(cached prompt tokens) / sum(prompt tokens), over requests whose usage reports cached tokens",
    "server_metrics": "--server-metrics: per scrape, running / waiting = the sum over the series (engines), KV-cache "
    "usage = their mean; mean and max over the point's successful scrapes; server prefix-cache hit rate = "
    "delta(hits) / delta(queries) between the point's first and last scrape (vLLM counters), else the mean of "
    "the hit-rate gauge (SGLang)",
}


class _Body(msgspec.Struct):
    # RunStarted / RunFinished / RequestTimed fields the fold reads
    kind: str | None = None
    config: dict[str, Any] | None = None
    status: Any = None
    sent: float | None = None
    scheduled: float | None = None
    chunk_times: list[float] = []
    end: float | None = None
    ok: bool = True
    error_kind: str | None = None
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    usage_reported: bool = False
    stream: bool = False
    phase: str = "measure"
    point: dict[str, Any] = {}
    turn: int | None = None
    cached_tokens: int | None = None
    samples: list[tuple[str, dict[str, str], float]] = []  # ServerMetricsSampled
    url: str | None = None
    error: str | None = None


class _Line(msgspec.Struct):
    type: str
    run_id: str
    body: _Body


_READ = ("RequestTimed", "ServerMetricsSampled", "RunStarted", "RunFinished")  # what PerfFold.feed reads


class _Point:
    def __init__(self, point: dict[str, Any]) -> None:
        self.point = point
        self.n = 0
        self.ok = 0
        self.failures: dict[str, int] = {}
        self.statuses: dict[str, int] = {}
        self.start = math.inf
        self.end = -math.inf
        self.ttft = array("d")
        self.e2e = array("d")
        self.tpot = array("d")
        self.itl = array("d")
        self.queue = array("d")
        self.out_tokens = array("d")
        self.prompt_tokens = array("d")
        self.sum_out = 0
        self.sum_prompt = 0
        self.usage_reported = 0
        self.good = 0
        self.streamed = 0
        self.cached = array("d")
        self.cached_prompt = 0  # prompt tokens of the requests that reported cached tokens
        self.turns: dict[int, _Point] = {}  # --multi-turn: the same figures per conversation turn
        self.scrapes: list[_Body] = []  # --server-metrics: ServerMetricsSampled bodies, in log order


class PerfFold:
    def __init__(self) -> None:
        self.run_id = ""
        self.status = "running"
        self.config: dict[str, Any] = {}
        self.points: dict[str, _Point] = {}
        self.warmup = 0
        self.events = 0

    def slo(self) -> dict[str, float]:
        return {k: float(v) for k, v in (self.config.get("slo") or {}).items()}

    def feed_path(self, path: Path, block: int = 1 << 20) -> None:
        from assay.log import decode_blocks

        # the kernel's block reader: the torn tail (never acknowledged) is skipped, and any line
        # that does not decode is reported with its number; a block with none of the events read here is
        # not decoded (an eval log whose backend logged no requests: a million lines in ~0.1 s, not 4 s)
        for lines in decode_blocks(path, msgspec.json.Decoder(_Line), block=block, types=_READ):
            for line in lines:
                self.feed(line)

    def feed(self, line: _Line) -> None:
        self.events += 1
        t = line.type
        b = line.body
        if t == "RequestTimed":
            if b.phase != "measure":
                self.warmup += 1
                return
            self._add(self._point(b.point), b)
        elif t == "ServerMetricsSampled":
            self._point(b.point).scrapes.append(b)
        elif t == "RunStarted":
            self.run_id = line.run_id
            self.config = b.config or {}
            self._slo = self.slo() or None  # the first line: known before any request is folded
        elif t == "RunFinished":
            self.status = b.status or "completed"

    def _point(self, point: dict[str, Any]) -> _Point:
        """The sweep point's fold (an eval's requests have no point: one key for all, without a json.dumps)."""
        key = json.dumps(point, sort_keys=True) if point else "{}"
        p = self.points.get(key)
        if p is None:
            p = self.points[key] = _Point(point)
        return p

    def _add(self, p: _Point, b: _Body) -> None:
        if b.turn is not None:
            tp = p.turns.get(b.turn)
            if tp is None:
                tp = p.turns[b.turn] = _Point({**p.point, "turn": b.turn})
            self._add(tp, msgspec.structs.replace(b, turn=None))
        p.n += 1
        if b.status is not None:
            s = str(b.status)
            p.statuses[s] = p.statuses.get(s, 0) + 1
        origin = b.scheduled if b.scheduled is not None else b.sent
        p.start = min(p.start, origin)
        p.end = max(p.end, b.end)
        if b.scheduled is not None:
            p.queue.append(b.sent - b.scheduled)
        if not b.ok:
            kind = b.error_kind or "unknown"
            p.failures[kind] = p.failures.get(kind, 0) + 1
            return
        p.ok += 1
        chunks = b.chunk_times
        out = b.output_tokens or 0
        p.sum_out += out
        p.out_tokens.append(out)
        if b.prompt_tokens is not None:
            p.sum_prompt += b.prompt_tokens
            p.prompt_tokens.append(b.prompt_tokens)
        if b.usage_reported:
            p.usage_reported += 1
        if b.cached_tokens is not None:
            p.cached.append(b.cached_tokens)
            p.cached_prompt += b.prompt_tokens or 0
        ttft = e2e = tpot = None
        if chunks:
            ttft = chunks[0] - b.sent
            e2e = chunks[-1] - b.sent
            p.ttft.append(ttft)
            p.e2e.append(e2e)
            if b.stream:
                p.streamed += 1
                if out > 1:
                    tpot = (e2e - ttft) / (out - 1)
                    p.tpot.append(tpot)
                p.itl.extend(map(operator.sub, chunks[1:], chunks))  # each gap: the same subtraction, in C
        slo = self._slo
        if slo is not None:
            good = True
            if "ttft" in slo and (ttft is None or ttft * 1000 > slo["ttft"]):
                good = False
            if "e2e" in slo and (e2e is None or e2e * 1000 > slo["e2e"]):
                good = False
            if "tpot" in slo and tpot is not None and tpot * 1000 > slo["tpot"]:
                good = False
            p.good += good

    _slo: dict[str, float] | None = None

    def build(self, path: Path) -> dict[str, Any]:
        # RunStarted is the first line: read it first so the SLOs are known while folding
        with open(path, "rb") as f:
            first = f.readline()
        if first.endswith(b"\n"):
            line = msgspec.json.decode(first, type=_Line)
            if line.type == "RunStarted":
                self.config = line.body.config or {}
        self._slo = self.slo() or None
        self.feed_path(path)
        return self.summary()

    def summary(self) -> dict[str, Any]:
        """The perf report of what was fed."""
        percentiles = [float(q) for q in self.config.get("percentiles") or [50, 90, 95, 99]]
        out = {
            "kind": "perf",
            "run_id": self.run_id,
            "status": self.status,
            "model": self.config.get("model"),
            "api": self.config.get("api"),
            "url": self.config.get("url"),
            "percentiles": percentiles,
            "slo_ms": self.slo(),
            "warmup_requests": self.warmup,
            "formulas": FORMULAS,
            "points": [self._summary(p, percentiles) for p in self.points.values()],
        }
        ceiling = (self.config.get("client_ceiling") or {}).get("requests_per_s")
        if ceiling:
            near = [p["point"] for p in out["points"] if (p["request_throughput"] or 0.0) >= CEILING_SHARE * ceiling]
            if near:
                out["warnings"] = [
                    f"{len(near)} point(s) reached {CEILING_SHARE:.0%} or more of this client's own ceiling "
                    f"({ceiling:.0f} requests/s, assay perf --self-test): the client may be the bottleneck there"
                ]
        if self.config.get("sla_auto_tune"):
            from .sla import section

            out["sla"] = section(out["points"], self.config)
        return out

    def _summary(self, p: _Point, qs: list[float]) -> dict[str, Any]:
        from .stats import summary  # numpy's figures; numpy itself only for large samples

        window = p.end - p.start if p.n else 0.0

        def stats(values: array) -> dict[str, Any] | None:
            return summary(values, qs) if len(values) else None

        def per_s(x: float) -> float | None:
            return x / window if window > 0 else None

        out = {
            "point": p.point,
            "requests": p.n,
            "succeeded": p.ok,
            "failed": p.n - p.ok,
            "failures": dict(sorted(p.failures.items())),
            "statuses": dict(sorted(p.statuses.items())),
            "window_s": window,
            "request_throughput": per_s(p.ok),
            "output_token_throughput": per_s(p.sum_out),
            "total_token_throughput": per_s(p.sum_out + p.sum_prompt),
            "usage_reported": p.usage_reported,
            "ttft_s": stats(p.ttft),
            "e2e_latency_s": stats(p.e2e),
            "tpot_s": stats(p.tpot),
            "itl_s": stats(p.itl),
            "queue_delay_s": stats(p.queue),
            "output_tokens": stats(p.out_tokens),
            "prompt_tokens": stats(p.prompt_tokens),
        }
        if len(p.cached):
            out["cached_tokens"] = stats(p.cached)
            out["prefix_cache_hit_rate"] = sum(p.cached) / p.cached_prompt if p.cached_prompt else None
        if p.scrapes or self.config.get("server_metrics") is not None:  # a point too short for a scrape: 0
            out["server_metrics"] = server_metrics_summary(p.scrapes)
        if p.turns:
            keep = ("requests", "succeeded", "failed", "ttft_s", "e2e_latency_s", "prompt_tokens", "output_tokens")
            out["turns"] = [
                {"turn": t, **{k: v for k, v in self._summary(tp, qs).items() if k in keep}}
                for t, tp in sorted(p.turns.items())
            ]
        if self._slo:
            out["goodput"] = {
                "good_requests": p.good,
                "requests_per_s": per_s(p.good),
                "fraction": p.good / p.n if p.n else None,
            }
        return out


def server_metrics_summary(scrapes: list[Any]) -> dict[str, Any]:
    """The point's ``ServerMetricsSampled`` events folded: scrapes, failures, running / waiting /
    KV-cache usage (mean, max) and the server's prefix-cache hit rate (see FORMULAS)."""
    from .server_metrics import KV_USAGE, PREFIX_HITS, PREFIX_QUERIES, PREFIX_RATE, RUNNING, WAITING

    ok = [s for s in scrapes if s.ok]
    failures: dict[str, int] = {}
    for s in scrapes:
        if not s.ok:
            failures[s.error_kind or "unknown"] = failures.get(s.error_kind or "unknown", 0) + 1

    def per_scrape(names: tuple[str, ...], how: str) -> list[float]:
        vals = []
        for s in ok:
            xs = [v for name, _labels, v in s.samples if name in names and not math.isnan(v)]
            if xs:
                vals.append(sum(xs) if how == "sum" else sum(xs) / len(xs))
        return vals

    def mean_max(vals: list[float]) -> dict[str, Any] | None:
        return {"n": len(vals), "mean": sum(vals) / len(vals), "max": max(vals)} if vals else None

    hit_rate = None
    queries, hits = per_scrape(PREFIX_QUERIES, "sum"), per_scrape(PREFIX_HITS, "sum")
    if len(queries) >= 2 and len(hits) == len(queries) and queries[-1] > queries[0]:
        hit_rate = (hits[-1] - hits[0]) / (queries[-1] - queries[0])
    elif (rates := per_scrape(PREFIX_RATE, "mean")) and not queries:
        hit_rate = sum(rates) / len(rates)
    return {
        "url": scrapes[0].url if scrapes else None,
        "scrapes": len(scrapes),
        "failed": len(scrapes) - len(ok),
        "failures": dict(sorted(failures.items())),
        "last_error": next((s.error for s in reversed(scrapes) if not s.ok), None),
        "running": mean_max(per_scrape(RUNNING, "sum")),
        "waiting": mean_max(per_scrape(WAITING, "sum")),
        "kv_cache_usage": mean_max(per_scrape(KV_USAGE, "mean")),
        "prefix_cache_hit_rate": hit_rate,
    }


CEILING_SHARE = 0.7  # AIPerf's pitfall: a client can saturate before the server does


_PLAIN_COLUMNS = ("Point", "Requests", "OK", "Failed", "Req/s", "Out tok/s", "TTFT p50 (s)", "TTFT p99 (s)",
                  "E2E p50 (s)", "E2E p99 (s)")  # fmt: skip


class _Pass:
    """A perf fold fed by the kernel's one read of the log (:func:`assay.log.fold_together`)."""

    line = _Line
    strict_types = None

    def __init__(self, finish: Any) -> None:
        self.fold = PerfFold()
        self.finish = finish

    def feed(self, lines: list[_Line]) -> None:
        feed = self.fold.feed
        for line in lines:
            feed(line)

    def result(self, torn: Any) -> dict[str, Any]:
        return self.finish(self.fold.summary())


class PerfReporter:
    kinds: ClassVar[set[str]] = {"perf"}

    def build(self, log_path: Path) -> dict[str, Any]:
        return PerfFold().build(Path(log_path))

    def pass_fold(self, log_path: Path) -> _Pass:
        return _Pass(lambda report: report)

    def plain_table(self, report: dict[str, Any]) -> tuple[tuple[str, ...], list[list[Any]], set[str]]:
        """``assay report --format markdown|csv`` of a perf run: one row per sweep point, plain values;
        every column but the point is numeric."""
        rows = []
        for pt in report.get("points", []):
            where = ", ".join(f"{k}={v}" for k, v in pt["point"].items() if v is not None)
            ttft, e2e = pt.get("ttft_s") or {}, pt.get("e2e_latency_s") or {}
            rows.append(
                [where, pt["requests"], pt["succeeded"], pt["failed"], pt["request_throughput"],
                 pt["output_token_throughput"], ttft.get("p50"), ttft.get("p99"), e2e.get("p50"), e2e.get("p99")]
            )  # fmt: skip
        return _PLAIN_COLUMNS, rows, set(_PLAIN_COLUMNS[1:])

    def render(self, report: dict[str, Any], console: Any) -> None:
        from assay.redact import inert_text

        qs = report.get("percentiles") or []
        points = [{**pt, "qs": qs} for pt in report.get("points", [])]
        title = f"perf {report.get('run_id', '')} ({report.get('status', '')}) {report.get('model') or ''}"
        console.print(render_table(inert_text(title, multiline=False), _THROUGHPUT, points))  # the model: inert
        console.print(render_table("latency (ms): mean / " + " / ".join(f"p{q:g}" for q in qs), _LATENCY, points))
        turns = [
            {**t, "parallel": str(pt["point"].get("parallel")), "qs": qs}
            for pt in points
            for t in pt.get("turns") or []
        ]
        if turns:
            per_turn = "per turn (--multi-turn), ms: mean / " + " / ".join(f"p{q:g}" for q in qs)
            console.print(render_table(per_turn, _PER_TURN, turns))
        if any(pt.get("server_metrics") for pt in points):
            _render_server_metrics(report, console)
        if report.get("sla"):
            _render_sla(report["sla"], console)
        for w in report.get("warnings") or []:
            console.print(f"warning: {w}", markup=False)
        for pt in report.get("points", []):
            if pt["failures"]:
                failures = ", ".join(f"{k}={v}" for k, v in pt["failures"].items())
                console.print(inert_text(f"failures at {pt['point']}: {failures}", multiline=False))
        console.print(
            "formulas: "
            + "; ".join(
                f"{k} = {v}"
                for k, v in report.get("formulas", {}).items()
                if k in ("ttft", "tpot", "itl", "e2e_latency")
            )
        )


def _render_server_metrics(report: dict[str, Any], console: Any) -> None:
    from assay.redact import inert_text

    title = "server metrics (Prometheus, --server-metrics): mean / max over the point's scrapes"
    points = [pt for pt in report.get("points", []) if pt.get("server_metrics")]
    console.print(render_table(title, _SERVER_METRICS, points))
    for pt in points:
        sm = pt["server_metrics"]
        if sm["failed"]:
            kinds = ", ".join(f"{k}={v}" for k, v in sm["failures"].items())
            console.print(
                inert_text(
                    f"server metrics at {pt['point']}: {sm['failed']} of {sm['scrapes']} scrapes failed ({kinds}): "
                    f"{sm.get('last_error') or ''}",
                    multiline=False,
                )
            )


def _render_sla(sla: dict[str, Any], console: Any) -> None:
    metrics = [k for k in (sla["curve"][0] if sla["curve"] else {}) if k not in ("value", "runs", "requests", "failed")]
    columns = (
        _right(sla["variable"].capitalize(), "value", "{:g}"),
        _right("Runs", "runs"),
        _right("Failed", "failed"),
        *(_right(m, m, "{:.4g}") for m in metrics),
        *(
            _right(f"G{i}", lambda row, g=g: "pass" if g["passes"][str(row["value"])] else "FAIL")
            for i, g in enumerate(sla["groups"], 1)
        ),
    )
    title = f"SLA auto-tune over {sla['variable']} (seconds; mean of {sla.get('num_runs')} run(s) per value)"
    console.print(render_table(title, columns, sla["curve"]))
    for i, g in enumerate(sla["groups"], 1):
        conds = ", ".join(f"{m} {c}" for m, c in g["conditions"].items())
        got = "none of the measured values" if g["answer"] is None else f"{g['answer']:g}"
        console.print(f"SLA G{i} ({conds}): highest {sla['variable']} meeting it: {got}")


def _f(v: Any) -> str:
    return "-" if v is None else f"{v:.2f}"


def _ms(s: dict[str, Any] | None, qs: list[float]) -> str:
    if not s:
        return "-"
    return " / ".join(f"{s[k] * 1000:.1f}" for k in ["mean"] + [f"p{q:g}" for q in qs])


def _right(header: str, key: Any, fmt: Any = None) -> Column:
    return Column(header, key, fmt, justify="right")


def _goodput(pt: dict[str, Any]) -> str:
    gp = pt.get("goodput")
    return "-" if not gp else f"{gp['good_requests']}/{pt['requests']} ({_f(gp['requests_per_s'])}/s)"


def _at(key: str) -> Any:
    return lambda pt: str(pt["point"].get(key))  # "None" where the point has no such key, as the table has shown


_LATENCIES = (
    ("TTFT", "ttft_s"),
    ("TPOT", "tpot_s"),
    ("ITL", "itl_s"),
    ("E2E", "e2e_latency_s"),
    ("Queue", "queue_delay_s"),
)
_THROUGHPUT = (
    _right("Parallel", _at("parallel")),
    _right("Number", _at("number")),
    _right("Rate", lambda pt: pt["point"].get("rate") or "-"),
    _right("OK", "succeeded"),
    _right("Fail", "failed"),
    _right("Req/s", "request_throughput", _f),
    _right("Out tok/s", "output_token_throughput", _f),
    _right("Total tok/s", "total_token_throughput", _f),
)
_LATENCY = (
    _right("Parallel", _at("parallel")),
    _right("Number", _at("number")),
    *(_right(h, lambda p, k=k: _ms(p[k], p["qs"])) for h, k in _LATENCIES),
    _right("Goodput", _goodput),
)
_PER_TURN = (
    _right("Parallel", "parallel"),
    _right("Turn", "turn"),
    _right("OK", "succeeded"),
    _right("Fail", "failed"),
    _right("Prompt tok", lambda t: (t.get("prompt_tokens") or {}).get("mean"), _f),
    _right("TTFT", lambda t: _ms(t["ttft_s"], t["qs"])),
    _right("E2E", lambda t: _ms(t["e2e_latency_s"], t["qs"])),
)


def _mean_max(s: dict[str, Any] | None, scale: float = 1.0) -> str:
    return "-" if not s else f"{s['mean'] * scale:.1f} / {s['max'] * scale:.1f}"


_SERVER_METRICS = (
    _right("Parallel", _at("parallel")),
    _right("Number", _at("number")),
    _right("Scrapes", lambda pt: pt["server_metrics"]["scrapes"]),
    _right("Failed", lambda pt: pt["server_metrics"]["failed"]),
    _right("Running", lambda pt: _mean_max(pt["server_metrics"].get("running"))),
    _right("Waiting", lambda pt: _mean_max(pt["server_metrics"].get("waiting"))),
    _right("KV cache %", lambda pt: _mean_max(pt["server_metrics"].get("kv_cache_usage"), 100.0)),
    _right("Prefix hit %", lambda pt: pt["server_metrics"].get("prefix_cache_hit_rate"), fixed(1, 100.0)),
)


_TPOT = Column("TPOT", lambda r: _ms(r["tpot_s"], r["qs"]), justify="right")  # streamed requests only


class EvalLatencyReporter(TableReporter):
    """An eval's request latency, as EvalScope's collect_perf reports it: the same fold as a perf run's, over
    the ``RequestTimed`` events the model backend logged for the eval's requests (judges' included)."""

    section = "requests"
    columns = (
        Column("Model", "model", justify="right"),
        Column("Requests", "requests", justify="right"),
        Column("OK", "succeeded", justify="right"),
        Column("Fail", "failed", justify="right"),
        Column("TTFT", lambda r: _ms(r["ttft_s"], r["qs"]), justify="right"),
        _TPOT,
        Column("E2E", lambda r: _ms(r["e2e_latency_s"], r["qs"]), justify="right"),
        Column("Out tok/s", "output_token_throughput", _f, justify="right"),
    )

    def columns_of(self, report: dict[str, Any]) -> tuple[Column, ...]:
        # TPOT where some request has one (streamed, 2 tokens or more): a whole answer has none
        if any(pt.get("tpot_s") for pt in report.get("requests") or []):
            return self.columns
        return tuple(c for c in self.columns if c is not _TPOT)

    def fold(self, log_path: Path) -> dict[str, Any]:
        return self._section(PerfFold().build(log_path))

    def pass_fold(self, log_path: Path) -> _Pass:
        return _Pass(self._section)

    @staticmethod
    def _section(report: dict[str, Any]) -> dict[str, Any]:
        points = report.get("points") or []
        if not points:
            return {}
        return {
            "model": report.get("model"),
            "percentiles": report.get("percentiles"),
            "formulas": report.get("formulas"),
            "requests": points,
        }

    def title_of(self, report: dict[str, Any]) -> str:
        return "request latency of the eval (ms): mean / " + " / ".join(
            f"p{q:g}" for q in report.get("percentiles") or []
        )

    def rows_of(self, report: dict[str, Any]) -> list[dict[str, Any]]:
        qs = report.get("percentiles") or []
        return [{**pt, "model": report.get("model") or "-", "qs": qs} for pt in report.get("requests") or []]

"""pass@k over the repeats of each problem, and what the executions did: a projection of the log.

For every problem (benchmark, subset, local id) and every metric of ``code_pass``: n = repeats
loaded, c = repeats scored 1. A repeat that errored (a sandbox error, a failed generation) stays in
n and is not correct, as the kernel's own table counts errors, unless the run was made with
``ignore_errors``; then n counts the scored repeats only. pass@k is the unbiased estimator of
Chen et al. (2021), 1 - C(n-c, k) / C(n, k), averaged over problems, for k in 1, 5, 10 where
every problem has n >= k.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import msgspec
from assay.log import decode_blocks

SCORER = "code_pass"
KS = (1, 5, 10)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of one problem with n samples of which c are correct."""
    if not 1 <= k <= n:
        raise ValueError(f"pass@k needs 1 <= k <= n, got k={k}, n={n}")
    if not 0 <= c <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n, got c={c}, n={n}")
    if n - c < k:
        return 1.0
    # 1 - prod_{i=n-c+1}^{n} (1 - k/i): the numerically stable form of 1 - C(n-c,k)/C(n,k)
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


class _Body(msgspec.Struct):
    sample_id: str | None = None
    benchmark: str | None = None
    subset: str | None = None
    local_id: str | None = None
    scorer: str | None = None
    metric: str | None = None
    value: float | None = None
    scorers: list[str] | None = None
    verdict: str | None = None
    stage: str | None = None
    resolved: dict[str, Any] | None = None


class _Line(msgspec.Struct):
    type: str
    body: _Body


def fold(log_path: Path) -> dict[str, Any]:
    decoder = msgspec.json.Decoder(_Line)
    problem_of: dict[str, tuple[str, str, str]] = {}
    loaded: dict[tuple[str, str, str], int] = {}
    scored: dict[tuple[str, str, str, str], dict[str, float]] = {}  # (problem..., metric) -> sample -> value
    metrics: dict[tuple[str, str], set[str]] = {}
    verdicts: dict[tuple[str, str], dict[str, int]] = {}
    errored: dict[tuple[str, str], set[str]] = {}
    ignore_errors = False
    for lines in decode_blocks(log_path, decoder, strict_types=set()):
        for ev in lines:
            b = ev.body
            if ev.type == "SampleLoaded" and b.sample_id and SCORER in (b.scorers or ()):
                key = (b.benchmark or "", b.subset or "default", b.local_id or b.sample_id.split("#")[0])
                if b.sample_id not in problem_of:
                    problem_of[b.sample_id] = key
                    loaded[key] = loaded.get(key, 0) + 1
            elif ev.type == "Scored" and b.scorer == SCORER and b.metric:
                key = problem_of.get(b.sample_id or "")
                if key is not None:
                    scored.setdefault((*key, b.metric), {})[b.sample_id or ""] = b.value or 0.0
                    metrics.setdefault(key[:2], set()).add(b.metric)
            elif ev.type == "Executed":
                key = problem_of.get(b.sample_id or "")
                if key is not None:
                    counts = verdicts.setdefault(key[:2], {})
                    counts[b.verdict or "?"] = counts.get(b.verdict or "?", 0) + 1
            elif ev.type == "SampleFailed":
                key = problem_of.get(b.sample_id or "")
                if key is not None:
                    errored.setdefault(key[:2], set()).add(b.sample_id or "")
            elif ev.type == "RunStarted":
                ignore_errors = bool((b.resolved or {}).get("ignore_errors"))
    rows = []
    groups: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for key in loaded:
        groups.setdefault(key[:2], []).append(key)
    for group, problems in sorted(groups.items()):
        scored_ids = {sid for (*k, _m), by in scored.items() if tuple(k[:2]) == group for sid in by}
        errors = len(errored.get(group, set()) - scored_ids)
        for metric in sorted(metrics.get(group, {"pass"})):
            items = []
            for p in problems:
                values = scored.get((*p, metric), {})
                n = len(values) if ignore_errors else loaded[p]
                items.append((n, sum(1 for v in values.values() if v == 1.0)))
            items = [(n, c) for n, c in items if n > 0]
            if not items:
                continue
            n_min = min(n for n, _ in items)
            for k in KS:
                if k > n_min:
                    continue
                rows.append(
                    {
                        "dataset": group[0],
                        "subset": group[1],
                        "metric": f"{metric}@{k}",
                        "k": k,
                        "score": sum(pass_at_k(n, c, k) for n, c in items) / len(items),
                        "problems": len(items),
                        "samples_per_problem": n_min,
                        "errors": errors,
                    }
                )
    executions = [
        {"dataset": g[0], "subset": g[1], "verdicts": dict(sorted(v.items()))} for g, v in sorted(verdicts.items())
    ]
    return {"rows": rows, "executions": executions}


class PassAtK:
    kinds: ClassVar[set[str]] = {"eval"}

    def build(self, log_path: Path) -> dict[str, Any]:
        return fold(Path(log_path))

    def render(self, report: dict[str, Any], console: Any) -> None:
        from rich.table import Table
        from rich.text import Text

        rows = report.get("rows") or []
        if rows:
            table = Table(title="code: pass@k (unbiased estimator over the repeats of each problem)")
            for col in ("Dataset", "Subset", "Metric", "Problems", "Samples/problem", "Errors", "Score"):
                table.add_column(col, justify="right" if col in ("Problems", "Errors", "Score") else "left")
            for r in rows:
                table.add_row(
                    Text(r["dataset"]),
                    Text(r["subset"]),
                    Text(r["metric"]),
                    str(r["problems"]),
                    str(r["samples_per_problem"]),
                    str(r["errors"]),
                    f"{r['score']:.4f}",
                )
            console.print(table)
        for e in report.get("executions") or []:
            counts = ", ".join(f"{k} {v}" for k, v in e["verdicts"].items())
            console.print(Text(f"executions of {e['dataset']}/{e['subset']}: {counts}"))


REPORTER = PassAtK()

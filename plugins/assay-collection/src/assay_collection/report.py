"""The ``collection`` reporter: a collection run's scores per level, folded from the log.

Each item counts once, with its benchmark's primary metric (``acc`` when it has one, else the
first metric it was scored on); an errored item counts 0 and is in the denominator (unless the
run was made with ``ignore_errors``). Levels, in tree order: the schema's root (overall), each
schema node, each benchmark entry under its node, each of its subsets; then each benchmark across
the nodes it appears in, each tag and each task type. Averages:

* ``micro``: the mean over the items below (every item weighs the same);
* ``macro``: the mean of the children's ``macro`` (a benchmark entry: of its subsets' scores);
* ``weighted``: the children's ``weighted`` averaged with the schema's weights (a benchmark entry:
  its micro), so the root's ``weighted`` is the mixture the schema describes, whatever the counts.

Memory is bounded by the number of leaf subsets (plus the ids of errored items), not the log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from assay.redact import scrub
from assay_reportkit.tables import Column, TableReporter, read_bodies

from . import BENCHMARKS


class _Body(msgspec.Struct):
    sample_id: str | None = None
    benchmark: str | None = None
    subset: str = "default"
    metric: str | None = None
    value: float | None = None
    metadata: dict[str, Any] | None = None
    resolved: dict[str, Any] | None = None
    stage: str | None = None


class _Group:
    __slots__ = ("errors", "info", "loaded", "metrics", "sums")

    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        self.loaded = 0
        self.errors = 0
        self.metrics: list[str] = []
        self.sums: dict[str, list[float]] = {}  # metric -> [n, sum]


def fold(log_path: Path) -> dict[str, Any]:
    groups: dict[str, _Group] = {}
    failed: dict[str, str] = {}
    ignore_errors = False
    for type_, b in read_bodies(log_path, _Body):  # the kernel's reader
        if type_ == "RunStarted":
            ignore_errors = bool((b.resolved or {}).get("ignore_errors"))
        if b.benchmark not in BENCHMARKS:
            continue
        if type_ == "SampleLoaded":
            g = groups.get(b.subset)
            if g is None:
                g = groups[b.subset] = _Group(dict((b.metadata or {}).get("collection") or {}))
            g.loaded += 1
        elif type_ == "Scored" and b.metric is not None and b.value is not None:
            g = groups.get(b.subset)
            if g is None:
                continue
            if b.metric not in g.sums:
                g.metrics.append(b.metric)
                g.sums[b.metric] = [0, 0.0]
            acc = g.sums[b.metric]
            acc[0] += 1
            acc[1] += b.value
            failed.pop(b.sample_id or "", None)
        elif type_ == "Generated":
            failed.pop(b.sample_id or "", None)
        elif type_ == "SampleFailed" and b.sample_id:
            failed[b.sample_id] = b.subset
    for subset in failed.values():
        if subset in groups:
            groups[subset].errors += 1
    return _levels(groups, ignore_errors)


def _leaf_stats(g: _Group, ignore_errors: bool) -> tuple[str, int, float, int]:
    metric = "acc" if "acc" in g.sums else (g.metrics[0] if g.metrics else "acc")
    n, s = g.sums.get(metric, [0, 0.0])
    err = g.errors
    return metric, int(n) + (0 if ignore_errors else err), float(s), err


def _row(level: str, name: str, depth: int, n: int, s: float, err: int, macro: Any, weighted: Any, **more: Any):
    return {
        "level": level,
        "name": name,
        "depth": depth,
        "num": n,
        "errors": err,
        "micro": s / n if n else None,
        "macro": macro,
        "weighted": weighted,
        **more,
    }


def _mean(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def _levels(groups: dict[str, _Group], ignore_errors: bool) -> dict[str, Any]:
    # tree: node path -> children; a benchmark entry is (path, benchmark) -> subsets
    entries: dict[tuple[tuple[str, ...], str], list[tuple[str, int, float, int, str]]] = {}
    share: dict[tuple[tuple[str, ...], str], float] = {}
    tags: dict[tuple[tuple[str, ...], str], list[str]] = {}
    task: dict[tuple[tuple[str, ...], str], str] = {}
    metric_of: dict[str, str] = {}
    for key in sorted(groups):
        g = groups[key]
        info = g.info
        path = tuple(map(str, info.get("schema_path") or ["collection"]))
        bench = str(info.get("benchmark") or key)
        metric, n, s, err = _leaf_stats(g, ignore_errors)
        metric_of.setdefault(bench, metric)
        e = (path, bench)
        entries.setdefault(e, []).append((str(info.get("subset", key)), n, s, err, metric))
        share[e] = float(info.get("weight") or 0.0)
        tags[e] = list(info.get("tags") or [])
        task[e] = str(info.get("task_type") or "")
    if not entries:
        return {"rows": [], "metrics": {}}

    def entry_stats(e: tuple[tuple[str, ...], str]) -> dict[str, Any]:
        subs = entries[e]
        n = sum(x[1] for x in subs)
        s = sum(x[2] for x in subs)
        err = sum(x[3] for x in subs)
        scores = [x[2] / x[1] if x[1] else None for x in subs]
        return {"n": n, "s": s, "err": err, "macro": _mean(scores), "weighted": s / n if n else None, "share": share[e]}

    nodes: set[tuple[str, ...]] = set()
    for path, _ in entries:
        for i in range(1, len(path) + 1):
            nodes.add(path[:i])

    memo: dict[tuple[str, ...], dict[str, Any]] = {}

    def node_stats(path: tuple[str, ...]) -> dict[str, Any]:
        if path in memo:
            return memo[path]
        kids = [node_stats(p) for p in sorted(nodes) if len(p) == len(path) + 1 and p[: len(path)] == path]
        kids += [entry_stats(e) for e in sorted(entries) if e[0] == path]
        n = sum(k["n"] for k in kids)
        s = sum(k["s"] for k in kids)
        err = sum(k["err"] for k in kids)
        wsum = sum(k["share"] for k in kids if k["weighted"] is not None)
        weighted = sum(k["share"] * k["weighted"] for k in kids if k["weighted"] is not None) / wsum if wsum else None
        memo[path] = {
            "n": n,
            "s": s,
            "err": err,
            "macro": _mean([k["macro"] for k in kids]),
            "weighted": weighted,
            "share": sum(k["share"] for k in kids),
        }
        return memo[path]

    rows: list[dict[str, Any]] = []

    def emit_node(path: tuple[str, ...]) -> None:
        st = node_stats(path)
        level = "overall" if len(path) == 1 else "node"
        rows.append(
            _row(level, "/".join(path), len(path) - 1, st["n"], st["s"], st["err"], st["macro"], st["weighted"])
        )
        for p in sorted(nodes):
            if len(p) == len(path) + 1 and p[: len(path)] == path:
                emit_node(p)
        for e in sorted(entries):
            if e[0] != path:
                continue
            es = entry_stats(e)
            name = "/".join([*path, e[1]])
            rows.append(
                _row(
                    "dataset",
                    name,
                    len(path),
                    es["n"],
                    es["s"],
                    es["err"],
                    es["macro"],
                    es["weighted"],
                    metric=metric_of[e[1]],
                )
            )
            for sub, n, s, err, metric in entries[e]:
                score = s / n if n else None
                rows.append(_row("subset", f"{name}/{sub}", len(path) + 1, n, s, err, score, score, metric=metric))

    roots = sorted(p for p in nodes if len(p) == 1)
    for r in roots:
        emit_node(r)

    def across(level: str, keyed: dict[str, list[tuple[tuple[str, ...], str]]]) -> None:
        for name in sorted(keyed):
            stats = [entry_stats(e) for e in keyed[name]]
            n = sum(x["n"] for x in stats)
            s = sum(x["s"] for x in stats)
            err = sum(x["err"] for x in stats)
            subs = [x[2] / x[1] if x[1] else None for e in keyed[name] for x in entries[e]]
            rows.append(_row(level, name, 0, n, s, err, _mean(subs), None))

    by_bench: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    by_tag: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    by_task: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for e in sorted(entries):
        by_bench.setdefault(e[1], []).append(e)
        for t in tags[e]:
            by_tag.setdefault(t, []).append(e)
        if task[e]:
            by_task.setdefault(task[e], []).append(e)
    across("benchmark", by_bench)
    across("tag", by_tag)
    across("task_type", by_task)
    return {"rows": rows, "metrics": metric_of}


def _label(r: dict[str, Any]) -> str:
    """A row's own name: the last part of a node/dataset/subset path, a dataset's metric in brackets."""
    name = r["name"].rsplit("/", 1)[-1] if r["level"] in ("node", "dataset", "subset") else r["name"]
    if r.get("metric") and r["level"] == "dataset":
        name += f" ({r['metric']})"
    return name


def _name(r: dict[str, Any]) -> str:
    return "  " * r["depth"] + scrub(_label(r))


_ACROSS = (("benchmark", "by benchmark"), ("tag", "by tag"), ("task_type", "by task type"))


def tree(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's rows as a tree for ``assay view``: collection -> node -> dataset -> subset (by
    ``depth``), then one group per cross-cutting level (benchmark, tag, task type). A node is
    ``{"label", "data": {column: value}, "children"}``."""

    def node(r: dict[str, Any], label: str) -> dict[str, Any]:
        data = {k: r[k] for k in ("num", "errors", "micro", "macro", "weighted")}
        return {"label": label, "data": data, "children": []}

    roots: list[dict[str, Any]] = []
    stack: list[tuple[int, dict[str, Any]]] = []
    groups: dict[str, list[dict[str, Any]]] = {level: [] for level, _ in _ACROSS}
    for r in report.get("rows") or []:
        if r["level"] in groups:
            groups[r["level"]].append(node(r, r["name"]))
            continue
        n = node(r, _label(r))
        while stack and stack[-1][0] >= r["depth"]:
            stack.pop()
        (stack[-1][1]["children"] if stack else roots).append(n)
        stack.append((r["depth"], n))
    for level, title in _ACROSS:
        if groups[level]:
            roots.append({"label": title, "data": {}, "children": groups[level]})
    return roots


class CollectionReporter(TableReporter):
    tree_title = "collection"
    title = "collection (each item scored by its benchmark's primary metric)"
    columns = (
        Column("Level", "level"),
        Column("Name", _name),
        Column("Num", "num", justify="right"),
        Column("Errors", "errors", justify="right"),
        Column("Micro", "micro", "{:.4f}", justify="right"),
        Column("Macro", "macro", "{:.4f}", justify="right"),
        Column("Weighted", "weighted", "{:.4f}", justify="right"),
    )
    projection = fold

    def tree(self, report: dict[str, Any]) -> list[dict[str, Any]]:
        return tree(report)


REPORTER = CollectionReporter()

"""pass@k: the unbiased estimator of Chen et al. (2021), "Evaluating Large Language Models Trained on Code".

One copy for every reporter that folds repeats of a problem into pass@k (AIME, the code benchmarks),
and the fold of a log's repeats of each problem (:class:`Repeats`) they share.
"""

from __future__ import annotations

from typing import Any

import msgspec


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of one problem with ``n`` samples of which ``c`` are correct: 1 - C(n-c, k) / C(n, k).

    Computed as 1 - prod_{i=n-c+1}^{n} (1 - k/i), the numerically stable form the paper gives
    (no large binomials at n = 200).
    """
    if not 1 <= k <= n:
        raise ValueError(f"pass@k needs 1 <= k <= n, got k={k}, n={n}")
    if not 0 <= c <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n, got c={c}, n={n}")
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


def mean_pass_at_k(items: list[tuple[int, int]], k: int) -> float:
    """pass@k averaged over problems, each given as ``(n, c)``."""
    return sum(pass_at_k(n, c, k) for n, c in items) / len(items)


def doubling_ks(n: int) -> list[int]:
    """k = 1, 2, 4, ... below ``n``, then ``n``."""
    ks = []
    k = 1
    while k < n:
        ks.append(k)
        k *= 2
    ks.append(n)
    return ks


Problem = tuple[str, str, str]  # (benchmark, subset, local id)


class RepeatBody(msgspec.Struct):
    """The fields of ``SampleLoaded`` and ``Scored`` that :class:`Repeats` reads."""

    sample_id: str | None = None
    benchmark: str | None = None
    subset: str | None = None
    local_id: str | None = None
    scorer: str | None = None
    metric: str | None = None
    value: float | None = None
    scorers: list[str] | None = None


class Repeats:
    """The repeats of each problem scored by ``scorer``: a fold of ``SampleLoaded`` and ``Scored`` events.

    A problem is (benchmark, subset, local id); its n is the repeats loaded, its c for a metric the
    repeats scored 1 (an errored or unscored repeat counts as wrong). Feed it every event with
    :meth:`add` (bodies with :class:`RepeatBody`'s fields, e.g. from :func:`assay_reportkit.tables.read_bodies`).

    ``scorer=None`` (the eval report): every scorer, and the samples loaded as repeats (``#`` in the id);
    a problem is then read from the sample id, so parts of a log folded apart merge (:meth:`merge`).
    """

    def __init__(self, scorer: str | None) -> None:
        self.scorer = scorer
        self.problem_of: dict[str, Problem] = {}
        self.loaded: dict[Problem, int] = {}
        self.values: dict[tuple[Problem, str], dict[str, float]] = {}  # (problem, metric) -> sample -> value
        self.metrics: dict[tuple[str, str], set[str]] = {}  # (benchmark, subset) -> metrics scored

    def add(self, type: str, b: Any) -> Problem | None:
        """Fold one event; return the problem of its sample (None when not one of ``scorer``'s)."""
        if self.scorer is None:
            return self._add_any(type, b)
        if type == "SampleLoaded" and b.sample_id and self.scorer in (b.scorers or ()):
            key = (b.benchmark or "", b.subset or "default", b.local_id or b.sample_id.split("#")[0])
            if b.sample_id not in self.problem_of:
                self.problem_of[b.sample_id] = key
                self.loaded[key] = self.loaded.get(key, 0) + 1
            return key
        key = self.problem_of.get(b.sample_id or "")
        if type == "Scored" and key is not None and b.scorer == self.scorer and b.metric:
            self.values.setdefault((key, b.metric), {})[b.sample_id or ""] = b.value or 0.0
            self.metrics.setdefault(key[:2], set()).add(b.metric)
        return key

    def _add_any(self, type: str, b: Any) -> Problem | None:
        sid = b.sample_id or ""
        if "#" not in sid or type not in ("SampleLoaded", "Scored"):
            return None
        if b.benchmark is None:  # a log written before Scored carried its group
            bench, subset, _ = sid.split("/", 2)
        else:
            bench, subset = b.benchmark, b.subset or "default"
        key = (bench, subset, sid.rsplit("#", 1)[0])
        if type == "SampleLoaded":
            if sid not in self.problem_of:
                self.problem_of[sid] = key
                self.loaded[key] = self.loaded.get(key, 0) + 1
        elif b.metric:
            self.values.setdefault((key, b.metric), {})[sid] = b.value or 0.0
            self.metrics.setdefault(key[:2], set()).add(b.metric)
        return key

    def merge(self, later: Repeats) -> None:
        """Fold in the state of the part of the log that comes after this one."""
        for sid, key in later.problem_of.items():
            if sid not in self.problem_of:
                self.problem_of[sid] = key
                self.loaded[key] = self.loaded.get(key, 0) + 1
        for k, values in later.values.items():
            self.values.setdefault(k, {}).update(values)
        for g, metrics in later.metrics.items():
            self.metrics.setdefault(g, set()).update(metrics)

    def groups(self) -> dict[tuple[str, str], list[Problem]]:
        """The problems of each (benchmark, subset), sorted by group."""
        out: dict[tuple[str, str], list[Problem]] = {}
        for key in self.loaded:
            out.setdefault(key[:2], []).append(key)
        return dict(sorted(out.items()))

    def counts(self, problems: list[Problem], metric: str, *, scored_only: bool = False) -> list[tuple[int, int]]:
        """``(n, c)`` of each problem with n > 0; ``scored_only``: n counts the scored repeats only."""
        items = []
        for p in problems:
            values = self.values.get((p, metric), {})
            n = len(values) if scored_only else self.loaded[p]
            if n > 0:
                items.append((n, sum(1 for v in values.values() if v == 1.0)))
        return items

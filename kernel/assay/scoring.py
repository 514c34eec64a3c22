"""Scoring a generation: every scorer of a sample, judged ones awaited; a failure is a ``SampleFailed``."""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterable
from typing import Any

import msgspec

from . import filters
from .events import Body, Generated, SampleFailed, SampleLoaded, Scored
from .failures import RunFailed
from .plugins import PluginHost


def is_judged_scorer(scorer: Any) -> bool:
    return inspect.iscoroutinefunction(getattr(scorer, "score", None))


def judge_failed(sample: SampleLoaded, message: str, kind: str | None = None) -> SampleFailed:
    """The sample could not be judged: left out of the score, counted as a judge failure (never a 0).
    ``kind`` ``judge_call_failed`` is asked again by ``assay resume``."""
    return SampleFailed(
        sample_id=sample.sample_id,
        stage="judge",
        error_type="JudgeFailed",
        error_kind=kind,
        message=message,
        benchmark=sample.benchmark,
        subset=sample.subset,
    )


def open_judge(cfg: Any, plugins: PluginHost, run: Any, **reuse: Any) -> Any:
    """The run's judge from the ``assay_judge`` hook (assay-judge; ``reuse``: its ``reuse``, ``reuse_from``,
    ``call``), or None when no plugin provides judges (then no setting asks for one: the config checked it)."""
    factory = plugins.judge()
    return None if factory is None else factory(cfg, plugins, run, **reuse)


class Scoring:
    def __init__(self, plugins: PluginHost, override: list[str] | None = None, judge: Any = None) -> None:
        self.plugins = plugins
        self.override = override
        self.judge = judge  # for scorers with ``async def score(sample, generated, judge)`` (see assay_judge)
        self._filters: dict[str, list[Any]] = {}
        # per sample, the same few scorer lists: what each needs (judged, blocking) is looked up once (issue 18)
        self._needs: dict[tuple[str, ...], tuple[bool, bool]] = {}
        self._scorers: dict[str, Any] = {}

    def _scorer(self, name: str) -> Any:
        scorer = self._scorers.get(name)
        if scorer is None:
            scorer = self._scorers[name] = self.plugins.get("scorers", name).obj
        return scorer

    def _judge_failed(self, exc: Exception) -> bool:
        """Whether a judged scorer's exception is the judge's ``Failed``: a judge failure, not a scorer error."""
        return isinstance(exc, getattr(self.judge, "Failed", ()))

    def _needs_of(self, sample: SampleLoaded) -> tuple[bool, bool]:
        names = tuple(self.override or sample.scorers)
        needs = self._needs.get(names)
        if needs is None:
            registry = self.plugins.scorers()
            found = [registry[n].obj for n in names if n in registry]
            needs = self._needs[names] = (
                self._strategy(list(names)) is not None or any(map(is_judged_scorer, found)),
                any(getattr(scorer, "blocking", False) for scorer in found),
            )
        return needs

    def judged(self, sample: SampleLoaded) -> bool:
        """Whether a scorer of this sample is async (it asks a judge), or the judge strategy asks one."""
        return self._needs_of(sample)[0]

    def blocking(self, sample: SampleLoaded) -> bool:
        """Whether a scorer of this sample blocks for long (runs code): it then runs in a worker thread."""
        return self._needs_of(sample)[1]

    def _strategy(self, names: list[str]) -> str | None:
        """``llm`` / ``llm_recall`` when a judge is configured and the sample is scored by rules only
        (EvalScope's judge strategies: llm replaces the rules by the judge, llm_recall asks the judge only
        about what the rules scored 0)."""
        judge = self.judge
        if judge is None or not judge.configured or judge.strategy not in ("llm", "llm_recall"):
            return None
        registry = self.plugins.scorers()
        if any(n in registry and is_judged_scorer(registry[n].obj) for n in names):
            return None
        return judge.strategy

    async def ascore(self, sample: SampleLoaded, gen: Generated) -> tuple[list[Scored], list[SampleFailed]]:
        """Score with every scorer, awaiting the judged ones; the judge's ``Failed`` is a judge failure."""
        gen = self._filtered(sample, gen)
        scored: list[Scored] = []
        failed: list[SampleFailed] = []
        names = self.override or sample.scorers
        strategy = self._strategy(names)
        if strategy == "llm":
            names = ["llm_judge"]
        for name in names:
            scorer = self._scorer(name)
            if not is_judged_scorer(scorer):
                s, f = self._score_with(name, scorer, sample, gen)
                scored += s
                failed += f
                continue
            try:
                assert self.judge is not None, "no judge for a judged scorer"
                items = await scorer.score(sample, gen, self.judge.view(name))
            except RunFailed:
                raise
            except Exception as exc:  # noqa: BLE001 - as in score()
                if self._judge_failed(exc):
                    failed.append(judge_failed(sample, f"scorer {name}: {exc}", getattr(exc, "kind", None)))
                else:
                    failed.append(self._failure(name, sample, exc))
                continue
            s, f = self._collect(name, sample, items)
            scored += s
            failed += f
        if strategy == "llm_recall" and scored and not failed and scored[0].value == 0:
            scored, failed = await self._recall(sample, gen, scored)
        return scored, failed

    async def _recall(
        self, sample: SampleLoaded, gen: Generated, scored: list[Scored]
    ) -> tuple[list[Scored], list[SampleFailed]]:
        """``llm_recall``: the rules gave the main metric 0; the judge's verdict replaces it."""
        main = scored[0].metric
        judge_scorer = self._scorer("llm_judge")
        assert self.judge is not None
        try:
            items = await judge_scorer.score(sample, gen, self.judge.view("llm_judge"), metric=main)
        except Exception as exc:
            if not self._judge_failed(exc):
                raise
            return [], [judge_failed(sample, f"llm_recall ({main} was 0 by the rules): {exc}")]
        judged, failed = self._collect("llm_judge", sample, items)
        return [sc for sc in scored if sc.metric != main] + judged, failed

    def _failure(self, name: str, sample: SampleLoaded, exc: Exception) -> SampleFailed:
        return SampleFailed(
            sample_id=sample.sample_id,
            stage="score",
            error_type=type(exc).__name__,
            message=f"scorer {name}: {exc}",
            benchmark=sample.benchmark,
            subset=sample.subset,
        )

    def _collect(
        self, name: str, sample: SampleLoaded, items: Iterable[Any]
    ) -> tuple[list[Scored], list[SampleFailed]]:
        scored: list[Scored] = []
        failed: list[SampleFailed] = []
        for sc in items:
            if isinstance(sc, Body):
                (failed if isinstance(sc, SampleFailed) else scored).append(sc)  # type: ignore[arg-type]
                continue
            scored.append(
                Scored(
                    sample_id=sample.sample_id,
                    scorer=name,
                    metric=sc.metric,
                    value=float(sc.value),
                    extracted=sc.extracted,
                    target=sample.target,
                    explanation=sc.explanation,
                    benchmark=sample.benchmark,
                    subset=sample.subset,
                )
            )
        return scored, failed

    def _score_with(
        self, name: str, scorer: Any, sample: SampleLoaded, gen: Generated
    ) -> tuple[list[Scored], list[SampleFailed]]:
        try:
            return self._collect(name, sample, scorer.score(sample, gen))
        except Exception as exc:  # noqa: BLE001 - a scorer bug fails the sample, not the run
            return [], [self._failure(name, sample, exc)]

    def score(self, sample: SampleLoaded, gen: Generated) -> tuple[list[Scored], list[SampleFailed]]:
        gen = self._filtered(sample, gen)
        scored: list[Scored] = []
        failed: list[SampleFailed] = []
        for name in self.override or sample.scorers:
            s, f = self._score_with(name, self._scorer(name), sample, gen)
            scored += s
            failed += f
        return scored, failed

    def _filtered(self, sample: SampleLoaded, gen: Generated) -> Generated:
        """``dataset_args`` filters: the raw output stays in the log; scorers read the filtered one."""
        if not sample.filters:
            return gen
        key = json.dumps(sample.filters, sort_keys=False)
        chain = self._filters.get(key)
        if chain is None:
            chain = self._filters[key] = filters.build(sample.filters, f"{sample.benchmark} filters")
        return msgspec.structs.replace(gen, output=filters.apply(chain, gen.output))

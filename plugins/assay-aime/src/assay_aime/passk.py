"""pass@k over the repeats of each problem: a projection of the event log (a reporter).

For every problem (benchmark, subset, local id) scored by ``aime_acc``: n = repeats loaded,
c = repeats whose ``acc`` is 1 (an errored or unscored repeat counts as wrong). pass@k is
the unbiased estimator 1 - C(n-c, k)/C(n, k) (Chen et al., 2021), averaged over problems,
for k = 1, 2, 4, ... and k = n; mean@k is the mean over problems of c/n (equal to the
kernel's mean of ``acc`` when no sample errored).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import msgspec
from assay.log import decode_blocks
from assay_mathkit import pass_at_k

SCORER = "aime_acc"


class _Body(msgspec.Struct):
    sample_id: str | None = None
    benchmark: str | None = None
    subset: str | None = None
    local_id: str | None = None
    repeat: int | None = None
    scorer: str | None = None
    metric: str | None = None
    value: float | None = None
    scorers: list[str] | None = None


class _Line(msgspec.Struct):
    type: str
    body: _Body


def ks_for(n: int) -> list[int]:
    ks = []
    k = 1
    while k < n:
        ks.append(k)
        k *= 2
    ks.append(n)
    return ks


def fold(log_path: Path, scorer: str = SCORER) -> dict[str, Any]:
    decoder = msgspec.json.Decoder(_Line)
    problem_of: dict[str, tuple[str, str, str]] = {}
    loaded: dict[tuple[str, str, str], int] = {}
    correct: dict[tuple[str, str, str], set[str]] = {}
    # the kernel's block reader: torn tail skipped, broken lines reported with their number,
    # other plugins' events whose fields clash with _Line skipped
    for lines in decode_blocks(log_path, decoder, strict_types=set()):
        for ev in lines:
            b = ev.body
            if ev.type == "SampleLoaded" and b.sample_id and scorer in (b.scorers or ()):
                key = (b.benchmark or "", b.subset or "default", b.local_id or b.sample_id.split("#")[0])
                if b.sample_id not in problem_of:
                    problem_of[b.sample_id] = key
                    loaded[key] = loaded.get(key, 0) + 1
            elif ev.type == "Scored" and b.scorer == scorer and b.metric == "acc" and b.value == 1.0:
                key = problem_of.get(b.sample_id or "")
                if key is not None:
                    correct.setdefault(key, set()).add(b.sample_id)
    groups: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for key, n in loaded.items():
        groups.setdefault(key[:2], []).append((n, len(correct.get(key, ()))))
    rows = []
    for (bench, subset), items in sorted(groups.items()):
        n_min = min(n for n, _ in items)
        for k in ks_for(n_min):
            value = sum(pass_at_k(n, c, k) for n, c in items) / len(items)
            rows.append(
                {
                    "dataset": bench,
                    "subset": subset,
                    "category": "-",
                    "metric": f"pass@{k}",
                    "k": k,
                    "score": value,
                    "num": len(items),
                    "problems": len(items),
                    "samples_per_problem": n_min,
                }
            )
        rows.append(
            {
                "dataset": bench,
                "subset": subset,
                "category": "-",
                "metric": f"mean@{n_min}",
                "k": n_min,
                "score": sum(c / n for n, c in items) / len(items),
                "num": len(items),
                "problems": len(items),
                "samples_per_problem": n_min,
            }
        )
    return {"rows": rows}


class PassAtK:
    kinds: ClassVar[set[str]] = {"eval"}

    def build(self, log_path: Path) -> dict[str, Any]:
        return fold(Path(log_path))

    def render(self, report: dict[str, Any], console: Any) -> None:
        rows = report.get("rows") or []
        if not rows:
            return
        from assay.redact import inert_text
        from rich.table import Table

        table = Table(title="AIME pass@k (unbiased estimator over the repeats of each problem)")
        for col in ("Dataset", "Subset", "Metric", "Problems", "Samples/problem", "Score"):
            table.add_column(col)
        for r in rows:
            table.add_row(
                inert_text(r["dataset"], multiline=False),  # names from the log: shown inert
                inert_text(r["subset"], multiline=False),
                inert_text(r["metric"], multiline=False),
                str(r["problems"]),
                str(r["samples_per_problem"]),
                f"{r['score']:.4f}",
            )
        console.print(table)


REPORTER = PassAtK()  # the instance registered by name

"""Generic scorers any benchmark can name in ``metric_list``."""

from __future__ import annotations

from ..api import Score
from ..events import Generated, SampleLoaded


def _norm(text: object) -> str:
    return " ".join(str(text).split()).strip().lower()


class ExactMatch:
    def score(self, sample: SampleLoaded, generated: Generated) -> list[Score]:
        out = _norm(generated.output)
        return [Score("exact_match", float(out == _norm(sample.target)), extracted=out)]


class IncludesMatch:
    def score(self, sample: SampleLoaded, generated: Generated) -> list[Score]:
        hit = _norm(sample.target) in _norm(generated.output)
        return [Score("includes", float(hit), extracted=None)]

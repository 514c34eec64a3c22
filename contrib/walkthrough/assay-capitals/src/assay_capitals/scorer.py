"""Step 3: the scorer. It gets the SampleLoaded and the Generated event of one sample; each Score it
returns becomes a Scored event."""

from __future__ import annotations

from assay.api import Score
from assay.events import Generated, SampleLoaded


class CapitalScorer:
    def score(self, sample: SampleLoaded, generated: Generated) -> list[Score]:
        lines = generated.output.strip().splitlines() or [""]
        answer = lines[-1].strip().rstrip(".")
        right = str(sample.target).lower() in answer.lower()
        return [Score("acc", float(right), extracted=answer)]


SCORER = CapitalScorer()

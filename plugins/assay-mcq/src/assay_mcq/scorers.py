"""The two MCQ scorers.

``mcq_letter`` (generation mode): the letter extracted from ``Generated.output`` (see
:mod:`assay_mcq.extract`; reasoning in ``<think>`` tags or in ``Generated.reasoning`` is
never read) equals the target letter -> metric ``acc``; ``Score.extracted`` = the letter.

``mcq_loglik`` (log-likelihood mode): ``argmax(Generated.choice_logprobs)`` is the target
-> ``acc``. When the continuations are the option texts (``mcq_continuation: text``) it
also gives ``acc_norm``: argmax of logprob / UTF-8 byte length of the continuation
(lm-evaluation-harness's ``acc_norm``). With letter continuations every continuation has
the same length and ``acc_norm`` would repeat ``acc``, so it is not emitted. When the
backend returned no log-likelihoods (it cannot compute them: the kernel then falls back to
generation), the reply is scored like ``mcq_letter`` and the explanation says so.
"""

from __future__ import annotations

import math

from assay.api import Score
from assay.events import Generated, SampleLoaded

from .extract import extract_letter
from .prompt import LETTERS


def _letters(sample: SampleLoaded) -> str:
    letters = sample.metadata.get("letters")
    if letters:
        return "".join(letters)
    if sample.choices:
        return LETTERS[: len(sample.choices)]
    raise ValueError(f"{sample.sample_id}: no letters in metadata and no choices; not a multiple-choice sample")


def _choice_texts(sample: SampleLoaded) -> list[str] | None:
    texts = sample.metadata.get("choice_texts")
    if texts is not None:
        return [str(t) for t in texts]
    return [str(c) for c in sample.choices] if sample.choices else None


def _target_letter(sample: SampleLoaded, letters: str) -> str:
    t = sample.target
    if isinstance(t, int) and not isinstance(t, bool):
        return letters[t]
    t = str(t).strip()
    if t not in letters:
        raise ValueError(f"{sample.sample_id}: target {sample.target!r} is not one of the letters {letters}")
    return t


def argmax(values: list[float]) -> int:
    """Index of the largest value; ties go to the first (as lm-evaluation-harness's np.argmax)."""
    best = 0
    for i, v in enumerate(values):
        if v > values[best]:
            best = i
    return best


class LetterScorer:
    """``acc`` of the extracted letter."""

    def score(self, sample: SampleLoaded, generated: Generated) -> list[Score]:
        letters = _letters(sample)
        target = _target_letter(sample, letters)
        letter, how = extract_letter(generated.output, letters, _choice_texts(sample))
        if letter is None:
            why = "no answer letter found in the reply"
        else:
            why = f"matched by pattern {how!r}"
        return [Score("acc", float(letter == target), extracted=letter, explanation=why)]


class LoglikScorer:
    """``acc`` (and ``acc_norm`` for text continuations) from choice log-likelihoods."""

    def __init__(self) -> None:
        self._letter = LetterScorer()

    def score(self, sample: SampleLoaded, generated: Generated) -> list[Score]:
        letters = _letters(sample)
        target = _target_letter(sample, letters)
        lps = generated.choice_logprobs
        if not lps:
            out = self._letter.score(sample, generated)
            out[0].explanation = (
                "backend gave no log-likelihoods; scored by letter extraction (" + (out[0].explanation or "") + ")"
            )
            return out
        if len(lps) != len(letters):
            raise ValueError(f"{sample.sample_id}: {len(lps)} log-likelihoods for {len(letters)} choices")
        if any(not isinstance(v, (int, float)) or math.isnan(v) for v in lps):
            raise ValueError(f"{sample.sample_id}: non-numeric log-likelihood in {lps!r}")
        best = argmax(list(lps))
        out = [
            Score(
                "acc",
                float(letters[best] == target),
                extracted=letters[best],
                explanation=f"argmax of {len(lps)} log-likelihoods",
            )
        ]
        if sample.metadata.get("continuation") == "text" and sample.choices:
            lengths = [max(1, len(c.encode("utf-8"))) for c in sample.choices]
            norm = [v / n for v, n in zip(lps, lengths)]
            bn = argmax(norm)
            out.append(
                Score(
                    "acc_norm",
                    float(letters[bn] == target),
                    extracted=letters[bn],
                    explanation="argmax of log-likelihood per UTF-8 byte",
                )
            )
        return out


# the instances registered by name (imported on first use)
LETTER = LetterScorer()
LOGLIK = LoglikScorer()

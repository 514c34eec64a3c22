"""Exact match, BLEU (sacrebleu) and ROUGE (rouge-score) against the reference answer.

- ``qa_exact_match``: 1 when the answer equals the reference after trimming and collapsing
  whitespace (case kept).
- ``qa_bleu``: sacrebleu's sentence BLEU (4-gram, exponential smoothing) divided by 100;
  tokenizer ``13a``, or ``zh`` when the reference holds CJK characters.
- ``qa_rouge``: rouge-score F1 of ROUGE-1, ROUGE-2 and ROUGE-L (no stemming); rouge-score's
  default tokenizer drops every non-ASCII character, so CJK text is tokenised one
  character a token (other text: lowercase ``[a-z0-9]+`` words, rouge-score's rule).

Reasoning (``<think>...</think>``) is removed from the answer first (:func:`assay.text.split_reasoning`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from assay.api import Score
from assay.events import Generated, SampleLoaded
from assay.text import split_reasoning

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]|[a-z0-9]+")


def answer_of(generated: Generated) -> str:
    return split_reasoning(generated.output)[0].strip()


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


class CjkTokenizer:
    """rouge-score tokenizer: CJK characters one a token, other text as rouge-score's words."""

    def tokenize(self, text: str) -> list[str]:
        return _TOKEN.findall(text.lower())


def _norm(text: str) -> str:
    return " ".join(str(text).split())


class ExactMatchScorer:
    def score(self, sample: SampleLoaded, generated: Generated) -> list[Score]:
        pred = answer_of(generated)
        return [Score("exact_match", float(_norm(pred) == _norm(sample.target)), extracted=pred)]


class BleuScorer:
    def score(self, sample: SampleLoaded, generated: Generated) -> list[Score]:
        from sacrebleu.metrics import BLEU

        pred, ref = answer_of(generated), str(sample.target)
        tok = "zh" if has_cjk(ref) else "13a"
        bleu = BLEU(tokenize=tok, effective_order=True).sentence_score(pred, [ref])
        return [Score("bleu", bleu.score / 100.0, explanation=f"sacrebleu tokenize={tok}: {bleu}")]


@lru_cache(maxsize=2)
def _rouge(cjk: bool) -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(
        ["rouge1", "rouge2", "rougeL"], use_stemmer=False, tokenizer=CjkTokenizer() if cjk else None
    )


class RougeScorer:
    def score(self, sample: SampleLoaded, generated: Generated) -> list[Score]:
        pred, ref = answer_of(generated), str(sample.target)
        scores = _rouge(has_cjk(ref) or has_cjk(pred)).score(ref, pred)
        return [Score(f"{k}", scores[k].fmeasure) for k in ("rouge1", "rouge2", "rougeL")]


# the instances registered by name
EXACT = ExactMatchScorer()
BLEU = BleuScorer()
ROUGE = RougeScorer()

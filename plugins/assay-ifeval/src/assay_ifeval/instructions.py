"""The 25 verifiable instructions of IFEval (Zhou et al., 2023), one checker each.

Written for assay after the semantics of google-research ``instruction_following_eval``
(``instructions.py``): the same counting rules, thresholds and edge cases, so scores
match the official ones. Each checker is built from the row's ``kwargs`` (unknown or
missing keys are errors) and answers ``check(response) -> bool``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any, ClassVar

from . import text as T

RELATIONS = ("less than", "at least")


class KwargsError(ValueError):
    """The kwargs of an instruction are missing, unknown or of the wrong type."""


def _compare(actual: int, relation: str, threshold: int) -> bool:
    return actual < threshold if relation == "less than" else actual >= threshold


class Instruction:
    id: str = ""
    required: ClassVar[dict[str, type | tuple[type, ...]]] = {}
    optional: ClassVar[dict[str, type | tuple[type, ...]]] = {}

    def __init__(self, **kwargs: Any) -> None:
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        allowed = {**self.required, **self.optional}
        unknown = sorted(set(kwargs) - set(allowed))
        if unknown:
            raise KwargsError(f"{self.id}: unknown kwargs {unknown}; expected {sorted(allowed) or 'none'}")
        missing = sorted(set(self.required) - set(kwargs))
        if missing:
            raise KwargsError(f"{self.id}: missing kwargs {missing}")
        for k, v in kwargs.items():
            if not isinstance(v, allowed[k]) or isinstance(v, bool):
                raise KwargsError(f"{self.id}: kwarg {k!r} must be {allowed[k]}, got {v!r}")
        for k in ("relation", "let_relation", "capital_relation"):
            if k in kwargs and kwargs[k] not in RELATIONS:
                raise KwargsError(f"{self.id}: {k} must be one of {RELATIONS}, got {kwargs[k]!r}")
        self.kw = kwargs
        self.setup(**kwargs)

    def setup(self, **kwargs: Any) -> None:
        pass

    def check(self, response: str) -> bool:
        raise NotImplementedError


REGISTRY: dict[str, type[Instruction]] = {}


def register(cls: type[Instruction]) -> type[Instruction]:
    REGISTRY[cls.id] = cls
    return cls


def build(instruction_id: str, kwargs: dict[str, Any] | None) -> Instruction:
    cls = REGISTRY.get(instruction_id)
    if cls is None:
        raise KwargsError(f"unknown instruction id {instruction_id!r}; known: {', '.join(sorted(REGISTRY))}")
    return cls(**(kwargs or {}))


# ---- keywords -----------------------------------------------------------------


@register
class KeywordExistence(Instruction):
    """Every keyword occurs (case-insensitive, as a substring)."""

    id = "keywords:existence"
    required: ClassVar[dict[str, type | tuple[type, ...]]] = {"keywords": list}

    def check(self, response: str) -> bool:
        return all(re.search(re.escape(k), response, re.IGNORECASE) for k in self.kw["keywords"])


@register
class KeywordFrequency(Instruction):
    """The keyword occurs <N ("less than") or >=N ("at least") times, case-insensitive substring count."""

    id = "keywords:frequency"
    required: ClassVar[dict[str, type | tuple[type, ...]]] = {"keyword": str, "frequency": int, "relation": str}

    def check(self, response: str) -> bool:
        n = len(re.findall(re.escape(self.kw["keyword"].strip()), response, re.IGNORECASE))
        return _compare(n, self.kw["relation"], self.kw["frequency"])


@register
class ForbiddenWords(Instruction):
    """None of the words occurs as a whole word (case-insensitive)."""

    id = "keywords:forbidden_words"
    required: ClassVar[dict[str, type | tuple[type, ...]]] = {"forbidden_words": list}

    def check(self, response: str) -> bool:
        return not any(
            re.search(r"\b" + re.escape(w) + r"\b", response, re.IGNORECASE) for w in set(self.kw["forbidden_words"])
        )


@register
class LetterFrequency(Instruction):
    """The letter (case-insensitive) occurs <N or >=N times. Non-letters ("#", "!" in the data) are counted as given,
    as google-research does (lm-evaluation-harness swaps them for a random letter)."""

    id = "keywords:letter_frequency"
    required: ClassVar[dict[str, type | tuple[type, ...]]] = {"letter": str, "let_frequency": int, "let_relation": str}

    def setup(self, **kw: Any) -> None:
        if len(kw["letter"].strip()) != 1:
            raise KwargsError(f"{self.id}: letter must be one character, got {kw['letter']!r}")

    def check(self, response: str) -> bool:
        n = Counter(response.lower())[self.kw["letter"].strip().lower()]
        return _compare(n, self.kw["let_relation"], self.kw["let_frequency"])


# ---- language and case ------------------------------------------------------------


@register
class ResponseLanguage(Instruction):
    """langdetect's language is the requested ISO 639-1 code (undetectable text passes)."""

    id = "language:response_language"
    required: ClassVar[dict[str, type | tuple[type, ...]]] = {"language": str}

    def check(self, response: str) -> bool:
        lang = T.detect_language(response)
        return True if lang is None else lang == self.kw["language"]


@register
class EnglishLowercase(Instruction):
    """All cased characters lowercase, and the text is English (undetectable text passes the language part)."""

    id = "change_case:english_lowercase"

    def check(self, response: str) -> bool:
        if not response.islower():
            return False
        lang = T.detect_language(response)
        return True if lang is None else lang == "en"


@register
class EnglishCapital(Instruction):
    """All cased characters uppercase, and the text is English."""

    id = "change_case:english_capital"

    def check(self, response: str) -> bool:
        if not response.isupper():
            return False
        lang = T.detect_language(response)
        return True if lang is None else lang == "en"


@register
class CapitalWordFrequency(Instruction):
    """Words (nltk.word_tokenize) written all in capitals: <N or >=N."""

    id = "change_case:capital_word_frequency"
    required: ClassVar[dict[str, type | tuple[type, ...]]] = {"capital_frequency": int, "capital_relation": str}

    def check(self, response: str) -> bool:
        n = sum(1 for w in T.word_tokenize(response) if w.isupper())
        return _compare(n, self.kw["capital_relation"], self.kw["capital_frequency"])


# ---- length ---------------------------------------------------------------------


@register
class NumberOfWords(Instruction):
    id = "length_constraints:number_words"
    required: ClassVar[dict[str, type | tuple[type, ...]]] = {"num_words": int, "relation": str}

    def check(self, response: str) -> bool:
        return _compare(T.count_words(response), self.kw["relation"], self.kw["num_words"])


@register
class NumberOfSentences(Instruction):
    """Sentences by NLTK's English Punkt model: <N or >=N."""

    id = "length_constraints:number_sentences"
    required: ClassVar[dict[str, type | tuple[type, ...]]] = {"num_sentences": int, "relation": str}

    def check(self, response: str) -> bool:
        return _compare(T.count_sentences(response), self.kw["relation"], self.kw["num_sentences"])


def _count_parts(parts: list[str]) -> int | None:
    """Non-empty parts; an empty part in the middle makes the count invalid (None)."""
    n = len(parts)
    for i, p in enumerate(parts):
        if not p.strip():
            if i in (0, len(parts) - 1):
                n -= 1
            else:
                return None
    return n


@register
class NumberOfParagraphs(Instruction):
    """Exactly N paragraphs separated by the markdown divider ``***``."""

    id = "length_constraints:number_paragraphs"
    required: ClassVar[dict[str, type | tuple[type, ...]]] = {"num_paragraphs": int}

    def check(self, response: str) -> bool:
        n = _count_parts(re.split(r"\s?\*\*\*\s?", response))
        return n is not None and n == self.kw["num_paragraphs"]


@register
class NthParagraphFirstWord(Instruction):
    """Exactly N paragraphs separated by ``\\n\\n`` and paragraph i starts with the word."""

    id = "length_constraints:nth_paragraph_first_word"
    required: ClassVar[dict[str, type | tuple[type, ...]]] = {
        "num_paragraphs": int,
        "nth_paragraph": int,
        "first_word": str,
    }

    def check(self, response: str) -> bool:
        paragraphs = re.split(r"\n\n", response)
        count = sum(1 for p in paragraphs if p.strip())
        nth = self.kw["nth_paragraph"]
        if nth > count:
            return False
        para = paragraphs[nth - 1].strip()
        if not para:
            return False
        word = para.split()[0].strip().lstrip("'").lstrip('"')
        first = ""
        for ch in word:
            if ch in ".,?!'\"":
                break
            first += ch.lower()
        return count == self.kw["num_paragraphs"] and first == self.kw["first_word"].lower()


# ---- content ----------------------------------------------------------------------


@register
class Placeholders(Instruction):
    """At least N ``[placeholder]`` spans."""

    id = "detectable_content:number_placeholders"
    required: ClassVar[dict[str, type | tuple[type, ...]]] = {"num_placeholders": int}

    def check(self, response: str) -> bool:
        return len(re.findall(r"\[.*?\]", response)) >= self.kw["num_placeholders"]


@register
class Postscript(Instruction):
    """A line with the postscript marker (``P.S.``, ``P.P.S`` or another marker), case-insensitive."""

    id = "detectable_content:postscript"
    required: ClassVar[dict[str, type | tuple[type, ...]]] = {"postscript_marker": str}

    def check(self, response: str) -> bool:
        marker = self.kw["postscript_marker"].strip()
        if marker == "P.P.S":
            pattern = r"\s*p\.\s?p\.\s?s.*$"
        elif marker == "P.S.":
            pattern = r"\s*p\.\s?s\..*$"
        else:
            pattern = r"\s*" + re.escape(marker.lower()) + r".*$"
        return bool(re.findall(pattern, response.lower(), flags=re.MULTILINE))


# ---- format -------------------------------------------------------------------------


@register
class BulletLists(Instruction):
    """Exactly N markdown bullets (lines starting with ``*`` or ``-``)."""

    id = "detectable_format:number_bullet_lists"
    required: ClassVar[dict[str, type | tuple[type, ...]]] = {"num_bullets": int}

    def check(self, response: str) -> bool:
        stars = re.findall(r"^\s*\*[^\*].*$", response, flags=re.MULTILINE)
        dashes = re.findall(r"^\s*-.*$", response, flags=re.MULTILINE)
        return len(stars) + len(dashes) == self.kw["num_bullets"]


CONSTRAINED_OPTIONS = ("My answer is yes.", "My answer is no.", "My answer is maybe.")


@register
class ConstrainedResponse(Instruction):
    """The response contains one of "My answer is yes./no./maybe." (case-sensitive)."""

    id = "detectable_format:constrained_response"

    def check(self, response: str) -> bool:
        r = response.strip()
        return any(opt in r for opt in CONSTRAINED_OPTIONS)


@register
class HighlightedSections(Instruction):
    """At least N ``*highlighted*`` spans (``**bold**`` spans count too), non-empty, within one line."""

    id = "detectable_format:number_highlighted_sections"
    required: ClassVar[dict[str, type | tuple[type, ...]]] = {"num_highlights": int}

    def check(self, response: str) -> bool:
        n = sum(1 for h in re.findall(r"\*[^\n\*]*\*", response) if h.strip("*").strip())
        n += sum(1 for h in re.findall(r"\*\*[^\n\*]*\*\*", response) if h[2:-2].strip())
        return n >= self.kw["num_highlights"]


@register
class MultipleSections(Instruction):
    """At least N sections, each opened by "<splitter> <number>"."""

    id = "detectable_format:multiple_sections"
    required: ClassVar[dict[str, type | tuple[type, ...]]] = {"section_spliter": str, "num_sections": int}

    def check(self, response: str) -> bool:
        pattern = r"\s?" + re.escape(self.kw["section_spliter"].strip()) + r"\s?\d+\s?"
        return len(re.split(pattern, response)) - 1 >= self.kw["num_sections"]


@register
class JsonFormat(Instruction):
    """The whole response (markdown fences allowed) parses as JSON."""

    id = "detectable_format:json_format"

    def check(self, response: str) -> bool:
        v = response.strip()
        for fence in ("```json", "```Json", "```JSON", "```"):
            if v.startswith(fence):
                v = v[len(fence) :]
                break
        v = v.removesuffix("```")
        try:
            json.loads(v.strip())
        except ValueError:
            return False
        return True


@register
class Title(Instruction):
    """A non-empty title in double angular brackets, ``<<title>>``, on one line."""

    id = "detectable_format:title"

    def check(self, response: str) -> bool:
        return any(t.lstrip("<").rstrip(">").strip() for t in re.findall(r"<<[^\n]+>>", response))


# ---- combination, start/end, punctuation -------------------------------------------------


@register
class TwoResponses(Instruction):
    """Exactly two different responses separated by ``******``."""

    id = "combination:two_responses"

    def check(self, response: str) -> bool:
        parts = response.split("******")
        valid = []
        for i, p in enumerate(parts):
            if not p.strip():
                if i not in (0, len(parts) - 1):
                    return False
            else:
                valid.append(p)
        return len(valid) == 2 and valid[0].strip() != valid[1].strip()


@register
class RepeatPrompt(Instruction):
    """The response starts with the request, repeated word for word (case-insensitive)."""

    id = "combination:repeat_prompt"
    required: ClassVar[dict[str, type | tuple[type, ...]]] = {"prompt_to_repeat": str}

    def check(self, response: str) -> bool:
        return response.strip().lower().startswith(self.kw["prompt_to_repeat"].strip().lower())


@register
class EndChecker(Instruction):
    """The response (trimmed, outer double quotes removed) ends with the phrase, case-insensitive."""

    id = "startend:end_checker"
    required: ClassVar[dict[str, type | tuple[type, ...]]] = {"end_phrase": str}

    def check(self, response: str) -> bool:
        return response.strip().strip('"').lower().endswith(self.kw["end_phrase"].strip().lower())


@register
class Quotation(Instruction):
    """The whole response is wrapped in double quotation marks."""

    id = "startend:quotation"

    def check(self, response: str) -> bool:
        r = response.strip()
        return len(r) > 1 and r[0] == '"' and r[-1] == '"'


@register
class NoComma(Instruction):
    id = "punctuation:no_comma"

    def check(self, response: str) -> bool:
        return "," not in response


# ---- strict and loose -----------------------------------------------------------------


def loose_variants(response: str) -> list[str]:
    """The official loose variants: as is, without first line, last line, both; each also without ``*``."""
    lines = response.split("\n")
    no_first = "\n".join(lines[1:]).strip()
    no_last = "\n".join(lines[:-1]).strip()
    no_both = "\n".join(lines[1:-1]).strip()
    base = [response, response.replace("*", ""), no_first, no_last, no_both]
    return base + [no_first.replace("*", ""), no_last.replace("*", ""), no_both.replace("*", "")]


def follows_strict(inst: Instruction, response: str) -> bool:
    return bool(response.strip()) and inst.check(response)


def follows_loose(inst: Instruction, response: str) -> bool:
    return any(r.strip() and inst.check(r) for r in loose_variants(response))


Checker = Callable[[Instruction, str], bool]

"""Answer extraction and normalisation for GSM8K."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from assay.api import Score
from assay.events import Generated, SampleLoaded
from assay.text import split_reasoning

_NUM = r"-?[$]?\s*[0-9][0-9,]*(?:\.[0-9]+)?"
_HASH = re.compile(r"####\s*(" + _NUM + ")")
_ANSWER_IS = re.compile(r"(?:the (?:final )?answer is|answer:)\s*[:=]?\s*\**\s*(" + _NUM + ")", re.IGNORECASE)
_BOXED = re.compile(r"\\boxed\{\s*(" + _NUM + r")\s*\}")
_ANY = re.compile(_NUM)


def normalize(number: str) -> str | None:
    s = number.replace(",", "").replace("$", "").replace(" ", "").rstrip(".").strip()
    s = s.rstrip("%")
    if s.isascii() and s.isdigit() and len(s) <= 28:  # a whole number within Decimal's precision: the same text
        return str(int(s))
    try:
        d = Decimal(s)
    except InvalidOperation:
        return None
    if d == d.to_integral_value():
        return str(d.quantize(Decimal(1)))
    return format(d.normalize(), "f")


def extract(text: str) -> tuple[str | None, str]:
    """The model's numeric answer, and which rule found it."""
    text = split_reasoning(text)[0]
    for rule, pattern in (("####", _HASH), ("answer is", _ANSWER_IS), ("boxed", _BOXED)):
        found = pattern.findall(text)
        if found:
            return normalize(found[-1]), rule
    found = _ANY.findall(text)
    if found:
        return normalize(found[-1]), "last number"
    return None, "none"


def target_of(answer: str) -> str:
    """The gold number of a GSM8K solution (its '#### n' line)."""
    m = _HASH.findall(answer)
    if not m:
        raise ValueError("solution has no '#### <number>' line")
    value = normalize(m[-1])
    if value is None:
        raise ValueError(f"unparseable gold answer {m[-1]!r}")
    return value


class GSM8KAccuracy:
    def score(self, sample: SampleLoaded, generated: Generated) -> list[Score]:
        got, rule = extract(generated.output)
        target = str(sample.target)
        ok = got is not None and got == target
        return [Score("acc", 1.0 if ok else 0.0, extracted=got, explanation=f"extracted by rule '{rule}'")]


SCORER = GSM8KAccuracy()  # the instance registered by name

"""BBH answer extraction and normalisation.

Extraction follows lm-evaluation-harness ``bbh_cot_fewshot`` (filter "get-answer": the
first match of ``the answer is (.*)`` on one line, its last character, normally the
period, dropped; when nothing follows on that line, the next non-empty line). Normalisation:

- multiple-choice tasks (targets "(A)".."(R)"): the letter of the first "(X)" in the
  extracted answer, else a bare leading letter ("B", "B.", "B)"); compared with the
  target's letter. Where a multiple-choice target is not a letter (movie_recommendation
  row 163 "Monsters, Inc", ruin_names rows 99 and 144) the text is compared as free form,
  as the official exact match does.
- free-form tasks: trimmed, markdown emphasis and surrounding quotes removed, whitespace
  collapsed, case folded ("yes" == "Yes"), then exact match.

No "the answer is" in the output: nothing is extracted and the sample scores 0 (the
official "[invalid]").
"""

from __future__ import annotations

import re

from assay.api import Score
from assay.events import Generated, SampleLoaded
from assay.text import split_reasoning

MULTIPLE_CHOICE = [
    "date_understanding",
    "disambiguation_qa",
    "geometric_shapes",
    "hyperbaton",
    "logical_deduction_five_objects",
    "logical_deduction_seven_objects",
    "logical_deduction_three_objects",
    "movie_recommendation",
    "penguins_in_a_table",
    "reasoning_about_colored_objects",
    "ruin_names",
    "salient_translation_error_detection",
    "snarks",
    "temporal_sequences",
    "tracking_shuffled_objects_five_objects",
    "tracking_shuffled_objects_seven_objects",
    "tracking_shuffled_objects_three_objects",
]
FREE_FORM = [
    "boolean_expressions",
    "causal_judgement",
    "dyck_languages",
    "formal_fallacies",
    "multistep_arithmetic_two",
    "navigate",
    "object_counting",
    "sports_understanding",
    "web_of_lies",
    "word_sorting",
]
TASKS = sorted(MULTIPLE_CHOICE + FREE_FORM)

_ANSWER = re.compile(r"the answer is:?[ \t]*(.*)", re.IGNORECASE)
_LETTER_TARGET = re.compile(r"^\(([A-Z])\)$")
_PAREN_LETTER = re.compile(r"\(([A-Za-z])\)")
_BARE_LETTER = re.compile(r"^(?:option\s+)?([A-Z])(?:[.):,]|\s|$)")


def extract_answer(output: str) -> str | None:
    """The text after the first "the answer is" on its line, trailing period dropped."""
    m = _ANSWER.search(output)
    if not m:
        return None
    ans = m.group(1).strip()
    if not ans:  # "The answer is:\n(B)": the answer is on the next non-empty line
        rest = output[m.end() :].strip()
        ans = rest.split("\n", 1)[0].strip() if rest else ""
    if ans.endswith("."):
        ans = ans[:-1].rstrip()
    return ans


def normalise_free(text: str) -> str:
    t = text.strip()
    t = re.sub(r"^[*_`]+|[*_`]+$", "", t).strip()  # **bold** / `code`
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "\"'":
        t = t[1:-1]
    t = t.strip().rstrip(".").strip()
    return " ".join(t.split()).casefold()


def choice_letter(text: str) -> str | None:
    t = re.sub(r"^[*_`]+|[*_`]+$", "", text.strip()).strip()
    m = _PAREN_LETTER.search(t)
    if m:
        return m.group(1).upper()
    m = _BARE_LETTER.match(t)
    return m.group(1) if m else None


def is_correct(task: str, extracted: str | None, target: str) -> tuple[bool, str | None]:
    """(correct, the normalised answer compared)."""
    if extracted is None:
        return False, None
    m = _LETTER_TARGET.match(target.strip())
    if task in MULTIPLE_CHOICE and m:
        letter = choice_letter(extracted)
        return letter == m.group(1), (f"({letter})" if letter else None)
    norm = normalise_free(extracted)
    return norm == normalise_free(target), norm


class BBHExactMatch:
    def score(self, sample: SampleLoaded, generated: Generated) -> list[Score]:
        task = sample.subset
        extracted = extract_answer(split_reasoning(generated.output)[0])
        ok, compared = is_correct(task, extracted, str(sample.target))
        why = (
            "no 'the answer is' in the output" if extracted is None else f"compared {compared!r} with {sample.target!r}"
        )
        return [Score("acc", float(ok), extracted=extracted, explanation=why)]


SCORER = BBHExactMatch()  # the instance registered by name

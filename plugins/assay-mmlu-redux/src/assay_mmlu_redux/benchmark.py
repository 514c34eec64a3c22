"""The implementation behind assay_mmlu_redux (see the package docstring)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from assay.api import AssayError, BenchmarkArgs, Sample, Score, select_split
from assay.events import Generated, SampleLoaded
from assay_datasets import locate, read_arrow_stream
from assay_mcq import MCQItem, PromptStyle, extract_letter, make_sample, parse_options, select_subsets
from assay_mcq.templates import SINGLE_ANSWER_COT, fill

MS_ID = "AI-ModelScope/mmlu-redux-2.0"  # EvalScope's dataset_id
HF_ID = "edinburgh-dawg/mmlu-redux-2.0"
ARROW = "data-00000-of-00001.arrow"  # what datasets.save_to_disk writes in each subject folder
COLUMNS = ("question", "choices", "answer", "error_type", "correct_answer")
STYLE = PromptStyle(header="", answer_prefix="Answer:")

# subject -> MMLU category (STEM, Humanities, Social Science, Other), as EvalScope's report groups them
SUBJECT_CATEGORY = {
    "abstract_algebra": "STEM",
    "anatomy": "Other",
    "astronomy": "STEM",
    "business_ethics": "Other",
    "clinical_knowledge": "Other",
    "college_biology": "STEM",
    "college_chemistry": "STEM",
    "college_computer_science": "STEM",
    "college_mathematics": "STEM",
    "college_medicine": "Other",
    "college_physics": "STEM",
    "computer_security": "STEM",
    "conceptual_physics": "STEM",
    "econometrics": "Social Science",
    "electrical_engineering": "STEM",
    "elementary_mathematics": "STEM",
    "formal_logic": "Humanities",
    "global_facts": "Other",
    "high_school_biology": "STEM",
    "high_school_chemistry": "STEM",
    "high_school_computer_science": "STEM",
    "high_school_european_history": "Humanities",
    "high_school_geography": "Social Science",
    "high_school_government_and_politics": "Social Science",
    "high_school_macroeconomics": "Social Science",
    "high_school_mathematics": "STEM",
    "high_school_microeconomics": "Social Science",
    "high_school_physics": "STEM",
    "high_school_psychology": "Social Science",
    "high_school_statistics": "STEM",
    "high_school_us_history": "Humanities",
    "high_school_world_history": "Humanities",
    "human_aging": "Other",
    "human_sexuality": "Social Science",
    "international_law": "Humanities",
    "jurisprudence": "Humanities",
    "logical_fallacies": "Humanities",
    "machine_learning": "STEM",
    "management": "Other",
    "marketing": "Other",
    "medical_genetics": "Other",
    "miscellaneous": "Other",
    "moral_disputes": "Humanities",
    "moral_scenarios": "Humanities",
    "nutrition": "Other",
    "philosophy": "Humanities",
    "prehistory": "Humanities",
    "professional_accounting": "Other",
    "professional_law": "Humanities",
    "professional_medicine": "Other",
    "professional_psychology": "Social Science",
    "public_relations": "Social Science",
    "security_studies": "Social Science",
    "sociology": "Social Science",
    "us_foreign_policy": "Social Science",
    "virology": "Other",
    "world_religions": "Humanities",
}


def accepted(record: dict[str, Any]) -> tuple[list[str], list[int]]:
    """(choices, accepted answer indexes) after the re-annotation, as EvalScope's adapter reads it:
    ``no_correct_answer`` puts the annotators' answer in place of the labelled option,
    ``wrong_groundtruth`` moves the answer, ``multiple_correct_answers`` accepts several; an
    unreadable list accepts every option."""
    choices = list(record["choices"])
    error_type = record["error_type"]
    correct = record["correct_answer"]
    targets = [int(record["answer"])]
    if error_type == "no_correct_answer" and correct:
        choices[targets[0]] = correct
    elif error_type == "wrong_groundtruth" and correct:
        try:
            targets = [int(correct)]
        except ValueError:
            targets = [ord(correct) - ord("A")]
    elif error_type == "multiple_correct_answers" and correct:
        correct = correct.strip("()")
        try:
            correct = correct.replace(" and ", ",").replace(" or ", ",")
            targets = list(map(int, correct.split(",")))
        except ValueError:
            try:
                targets = [ord(c) - ord("A") for c in correct.split(",")]
            except TypeError:
                targets = [choices.index(c) for c in correct.split(",") if c in choices]
    if not targets:
        targets = list(range(len(choices)))
    return choices, targets


class MMLURedux:
    name = "mmlu_redux"
    hub_id = MS_ID
    hf_id = HF_ID
    default_scorers: ClassVar[list[str]] = ["mcq_letter_any"]
    honours: ClassVar[tuple[str, ...]] = ("subset_list", "few_shot_num", "prompt_template", "eval_split")
    extra_args: ClassVar[tuple[str, ...]] = ()

    def __init__(self, args: BenchmarkArgs) -> None:
        self.args = args
        self.opts = parse_options(args, 0)
        if self.opts.mode != "generation":
            raise AssayError(f"dataset_args.{args.name}.mcq_mode: mmlu_redux is scored on generated letters only")
        if self.opts.few_shot:
            raise AssayError(f"dataset_args.{args.name}.few_shot_num: mmlu_redux has no few-shot split (0-shot CoT)")
        select_split(args, ("test",))

    def load(self, args: BenchmarkArgs | None = None) -> Iterator[Sample]:
        args = args or self.args
        hubs = {"modelscope": self.hub_id, "huggingface": self.hf_id}
        root = locate(args, "mmlu_redux", "mmlu-redux-2.0", hub_id=hubs)
        present = [s for s in SUBJECT_CATEGORY if (root / s / ARROW).is_file()]
        if not present:
            raise AssayError(
                f"mmlu_redux: no <subject>/{ARROW} in {root} (the layout of the {HF_ID} snapshot, "
                "one folder per subject, e.g. abstract_algebra/)"
            )
        for subject in select_subsets(args, present, root):
            path = root / subject / ARROW
            for index, (_, record) in enumerate(read_arrow_stream(path, COLUMNS)):
                where = f"{path}:row {index}"
                try:
                    choices, targets = accepted(record)
                except (ValueError, TypeError, IndexError) as exc:
                    raise AssayError(f"{where}: unreadable answer annotation ({exc})") from None
                if not all(0 <= t < len(choices) for t in targets):
                    raise AssayError(f"{where}: accepted answer(s) {targets} outside the {len(choices)} choices")
                item = MCQItem(
                    id=str(index),
                    question=record["question"],
                    choices=choices,
                    answer=targets[0],
                    subject=subject,
                    source=where,
                )
                meta = {
                    "error_type": record["error_type"],
                    "correct_answer": record["correct_answer"],
                    "potential_reason": record.get("potential_reason") or "",
                    "source_id": record.get("source"),
                }
                text = fill(args.prompt_template or SINGLE_ANSWER_COT, item)
                sample = make_sample(
                    item,
                    [],
                    STYLE,
                    args,
                    self.opts,
                    subject_label="",
                    category=SUBJECT_CATEGORY[subject],
                    prompt=text,
                    metadata=meta,
                )
                sample.target = [item.letters[t] for t in targets]
                yield sample


class LetterAnyScorer:
    """``acc``: the letter read from the reply is one of the accepted letters (``target`` a list)."""

    def score(self, sample: SampleLoaded, generated: Generated) -> list[Score]:
        letters = "".join(sample.metadata.get("letters") or "ABCD")
        targets = sample.target if isinstance(sample.target, list) else [sample.target]
        letter, how = extract_letter(generated.output, letters, sample.metadata.get("choice_texts"))
        why = "no answer letter found in the reply" if letter is None else f"matched by pattern {how!r}"
        return [Score("acc", float(letter is not None and letter in targets), extracted=letter, explanation=why)]


LETTER_ANY = LetterAnyScorer()

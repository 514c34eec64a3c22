"""The implementation behind assay_super_gpqa (see the package docstring)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assay.api import AssayError, BenchmarkArgs, Sample, Score
from assay.events import Generated, SampleLoaded
from assay_datasets import locate, read_jsonl
from assay_mcq import MCQItem, OwnFilesMCQ, PromptStyle, make_sample, select_subsets, shuffle_item
from assay_mcq.templates import SINGLE_ANSWER_COT, fill

from .fewshot import FEW_SHOT_SAMPLES, HEAD

HUB_ID = "m-a-p/SuperGPQA"  # EvalScope's dataset_id (ModelScope); the same id on Hugging Face
FILE = "SuperGPQA-all.jsonl"
REQUIRED = ("uuid", "question", "options", "answer_letter", "field", "discipline")
STYLE = PromptStyle(header="", answer_prefix="Answer:")  # log-likelihood continuations only

# field (the subset) -> discipline (the report category), as EvalScope groups them
FIELD_DISCIPLINE = {
    "Electronic Science and Technology": "Engineering",
    "Philosophy": "Philosophy",
    "Traditional Chinese Medicine": "Medicine",
    "Applied Economics": "Economics",
    "Mathematics": "Science",
    "Physics": "Science",
    "Clinical Medicine": "Medicine",
    "Computer Science and Technology": "Engineering",
    "Information and Communication Engineering": "Engineering",
    "Control Science and Engineering": "Engineering",
    "Theoretical Economics": "Economics",
    "Law": "Law",
    "History": "History",
    "Basic Medicine": "Medicine",
    "Education": "Education",
    "Materials Science and Engineering": "Engineering",
    "Electrical Engineering": "Engineering",
    "Systems Science": "Science",
    "Power Engineering and Engineering Thermophysics": "Engineering",
    "Military Science": "Military Science",
    "Biology": "Science",
    "Business Administration": "Management",
    "Language and Literature": "Literature and Arts",
    "Public Health and Preventive Medicine": "Medicine",
    "Political Science": "Law",
    "Chemistry": "Science",
    "Hydraulic Engineering": "Engineering",
    "Chemical Engineering and Technology": "Engineering",
    "Pharmacy": "Medicine",
    "Geography": "Science",
    "Art Studies": "Literature and Arts",
    "Architecture": "Engineering",
    "Forestry Engineering": "Engineering",
    "Public Administration": "Management",
    "Oceanography": "Science",
    "Journalism and Communication": "Literature and Arts",
    "Nuclear Science and Technology": "Engineering",
    "Weapon Science and Technology": "Engineering",
    "Naval Architecture and Ocean Engineering": "Engineering",
    "Environmental Science and Engineering": "Engineering",
    "Transportation Engineering": "Engineering",
    "Geology": "Science",
    "Physical Oceanography": "Science",
    "Musicology": "Literature and Arts",
    "Stomatology": "Medicine",
    "Aquaculture": "Agronomy",
    "Mechanical Engineering": "Engineering",
    "Aeronautical and Astronautical Science and Technology": "Engineering",
    "Civil Engineering": "Engineering",
    "Mechanics": "Engineering",
    "Petroleum and Natural Gas Engineering": "Engineering",
    "Sociology": "Sociology",
    "Food Science and Engineering": "Engineering",
    "Agricultural Engineering": "Engineering",
    "Surveying and Mapping Science and Technology": "Engineering",
    "Metallurgical Engineering": "Engineering",
    "Library, Information and Archival Management": "Management",
    "Mining Engineering": "Engineering",
    "Astronomy": "Science",
    "Geological Resources and Geological Engineering": "Engineering",
    "Atmospheric Science": "Science",
    "Optical Engineering": "Engineering",
    "Animal Husbandry": "Agronomy",
    "Geophysics": "Science",
    "Crop Science": "Agronomy",
    "Management Science and Engineering": "Management",
    "Psychology": "Education",
    "Forestry": "Agronomy",
    "Textile Science and Engineering": "Engineering",
    "Veterinary Medicine": "Agronomy",
    "Instrument Science and Technology": "Engineering",
    "Physical Education": "Education",
}


def data_file(root: Path) -> Path:
    if root.is_file():
        return root
    path = root / FILE
    if not path.is_file():
        raise AssayError(f"super_gpqa: no {FILE} in {root} (the hub snapshot of {HUB_ID} holds it at its root)")
    return path


class SuperGPQA(OwnFilesMCQ):
    name = "super_gpqa"
    hub_id = HUB_ID
    splits = ("train",)
    split_rule = "super_gpqa has one split"
    few_shots = (0, 5)
    few_shot_rule = "is 0-shot or 5-shot (EvalScope's five fixed examples)"

    def __init__(self, args: BenchmarkArgs) -> None:
        super().__init__(args)
        if self.opts.few_shot and self.opts.mode == "loglikelihood":
            raise AssayError(f"dataset_args.{args.name}: the 5-shot prompt is for generation only")

    def rows(self, path: Path) -> dict[str, list[tuple[int, dict[str, Any]]]]:
        """The file's rows grouped by field, in file order within a field."""
        by_field: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for line, row in read_jsonl(path):
            missing = [k for k in REQUIRED if k not in row]
            if missing:
                raise AssayError(f"{path}:{line}: missing key(s) {', '.join(missing)}")
            if not isinstance(row["options"], list):
                raise AssayError(f"{path}:{line}: options must be a list")
            by_field.setdefault(str(row["field"]), []).append((line, row))
        return by_field

    def load(self, args: BenchmarkArgs | None = None) -> Iterator[Sample]:
        args = args or self.args
        root = locate(args, "super_gpqa", "SuperGPQA", hub_id=self.hub_id, hub_files=[FILE])
        path = data_file(root)
        by_field = self.rows(path)
        order = [f for f in FIELD_DISCIPLINE if f in by_field] + sorted(set(by_field) - set(FIELD_DISCIPLINE))
        for field in select_subsets(args, order, path):
            for line, row in by_field[field]:
                options = row["options"]
                letter = str(row["answer_letter"]).strip()
                answer = ord(letter) - ord("A") if len(letter) == 1 else -1
                if not 0 <= answer < len(options):
                    raise AssayError(
                        f"{path}:{line}: answer_letter {letter!r} is not one of the {len(options)} options"
                    )
                item = MCQItem(
                    id=str(row["uuid"]),
                    question=str(row["question"]),
                    choices=options,
                    answer=answer,
                    subject=field,
                    source=f"{path}:{line}",
                )
                item = shuffle_item(item, args)
                meta = {
                    "discipline": row["discipline"],
                    "subfield": row.get("subfield"),
                    "difficulty": row.get("difficulty"),
                    "is_calculation": row.get("is_calculation"),
                }
                text = (
                    None if self.opts.mode == "loglikelihood" else fill(args.prompt_template or SINGLE_ANSWER_COT, item)
                )
                if self.opts.few_shot:
                    text = f"{HEAD}{FEW_SHOT_SAMPLES}\n\n{text}"
                    meta["few_shot"] = 5
                sample = make_sample(
                    item,
                    [],
                    STYLE,
                    args,
                    self.opts,
                    subject_label="",
                    category=FIELD_DISCIPLINE.get(field, str(row["discipline"])),
                    prompt=text,
                    metadata=meta,
                )
                if self.opts.few_shot:
                    sample.scorers = list(args.metric_list or ["super_gpqa_letter"])
                yield sample


class FewShotLetterScorer:
    """``acc`` for the 5-shot prompt, as EvalScope reads it: the letter from the reply up to its first
    "Question:" (a model that goes on to write the next example's question is not read past it),
    else from the whole reply; assay-mcq's extraction either way."""

    def score(self, sample: SampleLoaded, generated: Generated) -> list[Score]:
        from assay_mcq import extract_letter

        letters = "".join(sample.metadata.get("letters") or "ABCDEFGHIJ")
        choices = sample.metadata.get("choice_texts")
        output = generated.output or ""
        letter, how = extract_letter(output.split("Question:")[0], letters, choices)
        if letter is None:
            letter, how = extract_letter(output, letters, choices)
        why = "no answer letter found in the reply" if letter is None else f"matched by pattern {how!r}"
        return [Score("acc", float(letter == sample.target), extracted=letter, explanation=why)]


FEW_SHOT_LETTER = FewShotLetterScorer()

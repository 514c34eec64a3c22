"""The implementation behind assay_mmlu_pro (see the package docstring and README).

Files: the Hugging Face layout of ``TIGER-Lab/MMLU-Pro``: ``test-00000-of-00001.parquet``
(12,032 rows) and ``validation-00000-of-00001.parquet`` (70 rows, 5 chain-of-thought
exemplars per category), found anywhere under the data folder (a hub snapshot keeps them
in ``data/``). Columns: ``question_id``, ``question``, ``options`` (list, up to 10),
``answer`` (letter), ``answer_index``, ``cot_content``, ``category``, ``src``.

Prompt (TIGER-AI-Lab/MMLU-Pro ``evaluate_from_api.py``, ``single_request`` and
``format_example``): options equal to ``"N/A"`` are dropped (``preprocess``), then::

    The following are multiple choice questions (with answers) about {category}. Think step by step
    and then output the answer in the format of "The answer is (X)" at the end.\\n\\n
    Question: {q}\\nOptions: A. {o1}\\nB. {o2}\\n...Answer: {cot without "A: "}\\n\\n   (x 5 exemplars)
    Question: {q}\\nOptions: A. {o1}\\n...Answer: Let's think step by step.\\n\\n

Scoring (``mmlu_pro_letter``): the official ``extract_answer`` -> ``extract_again`` ->
``extract_final`` chain on the reply with ``**`` removed; a reply with no letter is wrong
(the official script instead draws a random letter and may count it right: not done here,
a failure is never a score).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from assay.api import AssayError, BenchmarkArgs, Sample, Score
from assay.events import Generated, SampleLoaded
from assay.text import split_reasoning
from assay_datasets import locate, read_parquet
from assay_mcq import MCQItem, OwnFilesMCQ, PromptStyle, make_sample, select_subsets, shuffle_item
from assay_mcq.prompt import LETTERS
from assay_mcq.templates import fill

__version__ = "0.1.0"

HUB_ID = "TIGER-Lab/MMLU-Pro"  # EvalScope's dataset id (ModelScope and Hugging Face)
# EvalScope's SUBSET_LIST order; per-category test counts from its _meta/mmlu_pro.json
CATEGORIES = [
    "computer science",
    "math",
    "chemistry",
    "engineering",
    "law",
    "biology",
    "health",
    "physics",
    "business",
    "philosophy",
    "economics",
    "other",
    "psychology",
    "history",
]
COLUMNS = ("question_id", "question", "options", "answer", "answer_index", "cot_content", "category", "src")
SPLITS = ("test", "validation")
MAX_SHOTS = 5  # the validation split holds 5 exemplars per category
HEADER = (
    "The following are multiple choice questions (with answers) about {category}. Think step by"
    ' step and then output the answer in the format of "The answer is (X)" at the end.\n\n'
)

# loglikelihood mode only: continuations " A", " B", ... after "Answer:"
STYLE = PromptStyle(header="", answer_prefix="Answer:")


def format_example(question: str, options: list[str], cot_content: str = "") -> str:
    """``format_example`` of the official script, character for character."""
    if cot_content == "":
        cot_content = "Let's think step by step."
    if cot_content.startswith("A: "):
        cot_content = cot_content[3:]
    example = f"Question: {question}\nOptions: "
    for i, opt in enumerate(options):
        example += f"{LETTERS[i]}. {opt}\n"
    return example + "Answer: " + cot_content + "\n\n"


def to_item(path: Path, n: int, row: dict[str, Any]) -> MCQItem:
    """One row -> an item, "N/A" options dropped (the official ``preprocess``); bad rows name file:row."""
    where = f"{path}:{n}"
    q, opts, ans, cat = row["question"], row["options"], row["answer"], row["category"]
    if not isinstance(q, str) or not q.strip():
        raise AssayError(f"{where} (row {n}): empty or missing question")
    if not isinstance(opts, list) or not all(isinstance(o, str) for o in opts):
        raise AssayError(f"{where} (row {n}): options must be a list of strings, got {opts!r}")
    if cat not in CATEGORIES:
        raise AssayError(f"{where} (row {n}): unknown category {cat!r}; known: {', '.join(CATEGORIES)}")
    if not isinstance(ans, str) or len(ans) != 1 or ans not in LETTERS[: len(opts)]:
        raise AssayError(f"{where} (row {n}): answer {ans!r} is not a letter of the {len(opts)} options")
    idx = LETTERS.index(ans)
    # the official script grades against the letter (``answer``); one test row (question_id 3983)
    # has answer_index 1 with answer "C", so the letter rules and the disagreement is recorded
    extra: dict[str, Any] = {"question_id": row["question_id"], "src": row["src"]}
    if row["answer_index"] != idx:
        extra["answer_index_in_file"] = row["answer_index"]
    if opts[idx] == "N/A":
        raise AssayError(f"{where} (row {n}): the answer {ans} is an 'N/A' option")
    kept = [o for o in opts if o != "N/A"]
    answer = sum(1 for o in opts[:idx] if o != "N/A")
    if len(kept) < 2:
        raise AssayError(f"{where} (row {n}): fewer than 2 options after dropping 'N/A'")
    return MCQItem(
        id=str(row["question_id"]),
        question=q,
        choices=kept,
        answer=answer,
        subject=cat,
        source=where,
        extra={**extra, "cot_content": row["cot_content"] or ""},
    )


class MMLUPro(OwnFilesMCQ):
    name = "mmlu_pro"
    hub_id = HUB_ID
    default_scorers: ClassVar[list[str]] = ["mmlu_pro_letter"]
    splits = SPLITS
    default_few_shot = MAX_SHOTS
    few_shots = range(MAX_SHOTS + 1)
    few_shot_rule = f"takes at most {MAX_SHOTS}: the validation split holds {MAX_SHOTS} exemplars per category"

    def files(self, args: BenchmarkArgs) -> dict[str, Path]:
        root = locate(args, "mmlu_pro", "MMLU-Pro", hub_id=self.hub_id)
        base = root.parent if root.is_file() else root
        out: dict[str, Path] = {}
        for split in SPLITS:
            if root.is_file() and root.name.startswith(f"{split}-"):
                out[split] = root
                continue
            found = sorted(base.rglob(f"{split}-*.parquet"))
            if len(found) != 1:
                raise AssayError(
                    f"mmlu_pro: expected one {split}-*.parquet under {base}, found "
                    + (", ".join(map(str, found)) or "none")
                )
            out[split] = found[0]
        return out

    def load(self, args: BenchmarkArgs | None = None) -> Iterator[Sample]:
        args = args or self.args
        files = self.files(args)
        path = files[self.split]
        wanted = select_subsets(args, CATEGORIES, path)
        shots: dict[str, list[MCQItem]] = {c: [] for c in CATEGORIES}
        if self.opts.few_shot:
            for n, row in read_parquet(files["validation"], COLUMNS, only=True):
                item = to_item(files["validation"], n, row)
                shots[item.subject].append(item)
        by_cat: dict[str, list[MCQItem]] = {c: [] for c in wanted}
        for n, row in read_parquet(path, COLUMNS, only=True):
            if row["category"] in by_cat or row["category"] not in CATEGORIES:
                item = to_item(path, n, row)
                by_cat[item.subject].append(item)
        for cat in wanted:
            pool = shots[cat][: self.opts.few_shot]
            if len(pool) < self.opts.few_shot:
                raise AssayError(
                    f"{files['validation']}: {len(pool)} exemplars for {cat!r}, {self.opts.few_shot} asked"
                )
            header = HEADER.format(category=cat) + "".join(
                format_example(s.question, s.choices, s.extra["cot_content"]) for s in pool
            )
            for item in by_cat[cat]:
                item = shuffle_item(item, args)
                if args.prompt_template:
                    text = fill(args.prompt_template, item)
                else:
                    text = header + format_example(item.question, item.choices)
                meta = {"fewshot_ids": [s.id for s in pool]} if pool else {}
                item.extra.pop("cot_content", None)
                yield make_sample(
                    item, [], STYLE, args, self.opts, subject_label="", category=None, prompt=text, metadata=meta
                )


# ---- scoring: the official extraction chain --------------------------------------

_FIRST = re.compile(r"answer is \(?([A-J])\)?")
_AGAIN = re.compile(r".*[aA]nswer:\s*([A-J])")
_FINAL = re.compile(r"\b[A-J]\b(?!.*\b[A-J]\b)", re.DOTALL)


def extract_answer(text: str) -> tuple[str | None, str]:
    """(letter, which step found it) as ``extract_answer``/``extract_again``/``extract_final``."""
    m = _FIRST.search(text)
    if m:
        return m.group(1), "answer is (X)"
    m = _AGAIN.search(text)
    if m:
        return m.group(1), "Answer: X"
    m = _FINAL.search(text)
    if m:
        return m.group(0), "last lone letter"
    return None, "no letter"


class MMLUProLetter:
    """``acc``: the officially extracted letter equals the target (text after ``</think>`` only)."""

    def score(self, sample: SampleLoaded, generated: Generated) -> list[Score]:
        answer, _reasoning = split_reasoning(generated.output)
        letter, how = extract_answer(answer.replace("**", ""))
        why = "no answer letter found in the reply" if letter is None else f"matched by {how}"
        return [Score("acc", float(letter == str(sample.target)), extracted=letter, explanation=why)]


SCORER = MMLUProLetter()  # the instance registered by name

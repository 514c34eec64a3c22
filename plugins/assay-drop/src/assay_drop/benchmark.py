"""The implementation behind assay_drop (see the package docstring).

The metric is DROP's official evaluation (``drop_eval.py`` of allenai/allennlp-reading-comprehension,
as EvalScope's adapter carries it): answers are normalised (lower case, punctuation and articles
removed, numbers as floats), split into bags of tokens per span, and predicted spans are aligned
one-to-one with gold spans (Hungarian assignment, ``scipy.optimize.linear_sum_assignment``);
F1 is the mean over the aligned bags, EM needs the same set of normalised spans. Each sample
takes the best EM and F1 over its gold answers (``answer`` and ``validated_answers``);
EvalScope rounds each F1 to two decimals, and so do we.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from assay.api import AssayError, BenchmarkArgs, Sample, Score, check_prompt_template, select_split
from assay.events import Generated, SampleLoaded
from assay.text import split_reasoning
from assay_datasets import locate, read_parquet

MS_ID = "AI-ModelScope/DROP"  # EvalScope's dataset_id
HF_ID = "EleutherAI/drop"
SPLIT_FILES = {"validation": "drop_validation.parquet", "train": "drop_train.parquet"}
COLUMNS = ("query_id", "passage", "question", "answer", "validated_answers")

TEMPLATE = (
    "You will be asked to read a passage and answer a question. {drop_examples}\n# Your Task\n\n---\n{query}"
    '\n\nThink step by step, then write a line of the form "Answer: [ANSWER]" at the end of your response.'
)
# EvalScope's three fixed examples (passages from DROP's train split), used when few_shot_num is 3
EXAMPLES = (
    "Some examples of passages and Q&A are provided below.\n"
    "\n"
    "# Examples\n"
    "---\n"
    "Passage: Trunajaya rebellion  or Trunajaya War was the ultimately unsuccessful rebellion waged by "
    "the Madurese prince Trunajaya and fighters from Makassar against the Mataram Sultanate and its "
    "Dutch East India Company  supporters in Java  during the 1670s. The rebellion was initially "
    "successful: the rebels defeated the royal army at Gegodog , captured most of the Javanese north "
    "coast, and took the Mataram capital Plered . King Amangkurat I died during the retreat of the royal "
    "court. His son and successor, Amangkurat II, requested help from the VOC in exchange for financial "
    "remuneration and geopolitical concessions. The VOC's subsequent involvement turned the tide of the "
    "war. VOC and Mataram forces recovered lost territories and overran Trunajaya's new capital at "
    "Kediri . However, the rebellion continued until the capture of Trunajaya at the end of 1679, and "
    "the defeat, death, or surrender of the other rebel leaders . Trunajaya was killed by Amangkurat II "
    "personally in 1680 while a prisoner of the VOC. After his father's death in 1677, Amangkurat II "
    "also faced rival claims to the throne. The most serious rival was his brother Pangeran Puger, who "
    "took the capital Plered in 1677 and did not surrender until 1681.\n"
    "Question: How many years was it between Trunajaya's capture and his death while prisoner of the "
    "VOC?\n"
    "Answer:  1\n"
    "\n"
    "---\n"
    "Passage: Led by former Giant Kurt Warner, the defending NFC champions took the field at Giants "
    "Stadium against a Giants team still reeling from their bad loss in New Orleans. The Giants scored "
    "first, sending Jacobs in for a 4-yard touchdown run following a Terrell Thomas interception. Later, "
    "Arizona running back Beanie Wells scored his first career touchdown on a 13-yard rush. Manning "
    "responded by throwing a 62-yard touchdown to Nicks for his longest reception of the year. In the "
    "second half, the Cardinals' Tim Hightower and Jason Wright scored touchdowns. But it was turnovers "
    "that decided this game; Manning's 3 interceptions were as many as he had thrown all season. The "
    "Giants scored only 3 points in the second half, ending the game on an interception to Antrel Rolle. "
    "The Giants notable streak of 38 consecutive starts by the same offensive line unit was ended here, "
    "as offensive tackle Kareem McKenzie missed the game with a groin injury. McKenzie returned the "
    "following week.\n"
    "Question: Which player made the first score of the game?\n"
    "Answer:  Jacobs\n"
    "\n"
    "---\n"
    "Passage: Hoping to rebound from their road loss to the Bills, the Chargers flew to Wembley Stadium "
    "for the 2008 International Series game with the New Orleans Saints. In the first quarter, San Diego "
    "trailed early as kicker Taylor Mehlhaff got a 23-yard field goal.  The 'Bolts would respond with "
    "kicker Nate Kaeding getting a 33-yard field goal.  In the second quarter, New Orleans regained the "
    "lead as QB Drew Brees (a former Charger) completed a 12-yard TD pass to WR Devery Henderson (with a "
    "failed PAT) and RB Deuce McAllister getting a 1-yard TD run.  San Diego answered as QB Philip "
    "Rivers completed a 12-yard TD pass to RB LaDainian Tomlinson, but the Saints replied with Brees "
    "completing a 30-yard TD pass to WR Lance Moore.  The Chargers closed out the half with Rivers "
    "completing a 12-yard TD pass to TE Antonio Gates. In the third quarter, New Orleans increased its "
    "lead Brees completing a 1-yard TD pass to TE Mark Campbell, after a very controversial Pass "
    "interference call on cornerback Cletis Gordon put the Saints on the 1-yard line.  The 'Bolts would "
    "answer with Kaeding getting a 24-yard field goal.  In the fourth quarter, the Saints continued to "
    "build its lead as FB Mike Karney got a 1-yard TD run.  San Diego tried to rally as Kaeding nailed a "
    "31-yard field goal, Rivers completed a 14-yard TD pass to WR Vincent Jackson, and Brees giving the "
    "'Bolts a safety via an incomplete pass thrown into the back of his own endzone.  However, New "
    "Orleans' defense stiffened for the win. With the loss, the Chargers went into their bye week at "
    "3-5.\n"
    "Question: How many total yards of touchdown passes did Drew Brees make?\n"
    "Answer:  43\n"
    "\n"
)


# ---- data --------------------------------------------------------------------------


def parse_answer(answer: dict[str, Any]) -> tuple[str, ...]:
    """One annotation as a tuple of answer strings: the number, else the spans, else the date."""
    if answer.get("number"):
        return (str(answer["number"]),)
    if answer.get("spans"):
        return tuple(answer["spans"])
    date = answer.get("date") or {}
    return (" ".join([date.get("day") or "", date.get("month") or "", date.get("year") or ""]).strip(),)


def gold_answers(record: dict[str, Any]) -> list[tuple[str, ...]]:
    """``answer`` then each of ``validated_answers`` (a struct of lists in the parquet), deduplicated."""
    validated = record.get("validated_answers") or {}
    numbers, dates, spans = (validated.get(k) or [] for k in ("number", "date", "spans"))
    candidates = [record["answer"]]
    candidates += [{"number": n, "date": d, "spans": s} for n, d, s in zip(numbers, dates, spans)]
    out: list[tuple[str, ...]] = []
    for c in candidates:
        a = parse_answer(c)
        if a not in out:
            out.append(a)
    return out


# ---- the official metric -----------------------------------------------------------

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCT = set(string.punctuation)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _normalize(answer: str) -> str:
    tokens = []
    for token in re.split(" |-", answer):
        t = token.lower()
        if not _is_number(t):
            t = "".join(ch for ch in t if ch not in _PUNCT)
        if _is_number(t):
            t = str(float(t))
        t = " ".join(_ARTICLES.sub(" ", t).split())
        if t.strip():
            tokens.append(t)
    return " ".join(tokens).strip()


def _bags(answer: str | tuple[str, ...] | list[str]) -> tuple[list[str], list[set[str]]]:
    spans = list(answer) if isinstance(answer, (list, tuple)) else [answer]
    normalized = [_normalize(s) for s in spans]
    return normalized, [set(n.split()) for n in normalized]


def _f1(pred: set[str], gold: set[str]) -> float:
    common = len(gold & pred)
    precision = common / len(pred) if pred else 1.0
    recall = common / len(gold) if gold else 1.0
    return 0.0 if precision == 0.0 and recall == 0.0 else 2 * precision * recall / (precision + recall)


def _numbers_match(gold: set[str], pred: set[str]) -> bool:
    gold_numbers = {w for w in gold if _is_number(w)}
    return not gold_numbers or bool(gold_numbers & {w for w in pred if _is_number(w)})


def _align(pred: list[set[str]], gold: list[set[str]]) -> list[float]:
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    scores = np.zeros([len(gold), len(pred)])
    for i, g in enumerate(gold):
        for j, p in enumerate(pred):
            if _numbers_match(g, p):
                scores[i, j] = _f1(p, g)
    rows, cols = linear_sum_assignment(-scores)
    best = np.zeros([max(len(gold), len(pred))])
    for r, c in zip(rows, cols):
        best[r] = max(best[r], scores[r, c])
    return [float(x) for x in best]


def em_f1(prediction: str, gold: tuple[str, ...] | list[str]) -> tuple[float, float]:
    """DROP's (exact match, F1) of one prediction against one gold answer."""
    p_spans, p_bags = _bags(prediction)
    g_spans, g_bags = _bags(tuple(gold))
    em = 1.0 if set(p_spans) == set(g_spans) and len(p_spans) == len(g_spans) else 0.0
    scores = _align(p_bags, g_bags)
    return em, round(sum(scores) / len(scores), 2)


_ANSWER_LINE = re.compile(r"(?i)Answer\s*:\s*([^\n]+)")


def extract_answer(output: str) -> str:
    """The last "Answer: ..." line's text, else the whole reply (EvalScope's rule)."""
    text = split_reasoning(output)[0]
    found = _ANSWER_LINE.findall(text)
    return found[-1] if found else text


class EMF1Scorer:
    def score(self, sample: SampleLoaded, generated: Generated) -> list[Score]:
        golds = sample.target or []
        pred = extract_answer(generated.output or "")
        best_em = best_f1 = 0.0
        for gold in golds:
            if not gold or not str(gold[0]).strip():
                continue
            em, f1 = em_f1(pred, gold)
            best_em, best_f1 = max(best_em, em), max(best_f1, f1)
        why = f"best over {len(golds)} gold answer(s)"
        return [
            Score("em", best_em, extracted=pred, explanation=why),
            Score("f1", best_f1, extracted=pred, explanation=why),
        ]


EM_F1 = EMF1Scorer()


# ---- the benchmark -----------------------------------------------------------------


class DROP:
    name = "drop"
    hub_id = MS_ID
    hf_id = HF_ID
    default_scorers: ClassVar[list[str]] = ["drop_em_f1"]
    honours: ClassVar[tuple[str, ...]] = (
        "subset_list",
        "few_shot_num",
        "prompt_template",
        "eval_split",
        "system_prompt",
    )
    extra_args: ClassVar[tuple[str, ...]] = ()

    def __init__(self, args: BenchmarkArgs) -> None:
        from assay.api import check_extra_args

        check_extra_args(args, self.extra_args)
        self.args = args
        self.shots = 3 if args.few_shot_num is None else args.few_shot_num
        if self.shots not in (0, 3):
            raise AssayError(
                f"dataset_args.{args.name}.few_shot_num = {self.shots!r}: drop uses EvalScope's 3 fixed examples "
                "(3) or none (0)"
            )
        self.split = select_split(args, tuple(SPLIT_FILES))
        check_prompt_template(args, ("drop_examples", "query"))

    def data_file(self, root: Path) -> Path:
        if root.is_file():
            return root
        name = SPLIT_FILES[self.split]
        for cand in (root / name, *sorted(root.glob(f"data/{self.split}-*.parquet"))):
            if cand.is_file():
                return cand
        raise AssayError(f"drop: no {name} in {root} (the hub snapshot of {HF_ID} holds drop_validation.parquet)")

    def load(self, args: BenchmarkArgs | None = None) -> Iterator[Sample]:
        args = args or self.args
        hubs = {"modelscope": self.hub_id, "huggingface": self.hf_id}
        files = [SPLIT_FILES[self.split], f"data/{self.split}-*"]
        path = self.data_file(locate(args, "drop", "DROP", hub_id=hubs, hub_files=files))
        if args.subset_list and args.subset_list != ["default"]:
            raise AssayError(f"dataset_args.{args.name}.subset_list: drop has one subset (default)")
        template = args.prompt_template or TEMPLATE
        for index, (_, record) in enumerate(read_parquet(path, COLUMNS)):
            query = f"Passage: {record['passage']}\nQuestion: {record['question']}"
            text = template.format(drop_examples=EXAMPLES if self.shots else "", query=query)
            messages = [{"role": "system", "content": args.system_prompt}] if args.system_prompt else []
            messages.append({"role": "user", "content": text})
            yield Sample(
                id=str(record["query_id"] or index),
                messages=messages,
                target=[list(g) for g in gold_answers(record)],
                metadata={"section_id": record.get("section_id"), "source": f"{path}:row {index}"},
            )

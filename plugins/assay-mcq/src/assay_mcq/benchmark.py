"""A base for multiple-choice benchmarks: subsets, few-shot, both scoring modes.

A subclass says where files are and how to read one subject's split into
:class:`~assay_mcq.prompt.MCQItem` s; the base turns them into samples:

* generation mode (default): ``Sample.messages`` = [system prompt] + one user message
  holding the whole prompt (few-shot examples included), ``Sample.choices`` = the option
  texts, ``Sample.target`` = the letter; scored by ``mcq_letter`` (or ``metric_list``).
* log-likelihood mode (``dataset_args.<name>.mcq_mode = "loglikelihood"``):
  ``Sample.prompt`` = the same text, ``Sample.choices`` = the continuations (" A", " B"...
  -- the style's ``answer_sep`` then the letter, so "A" after a Chinese "答案：" --
  or with ``mcq_continuation = "text"`` " <option text>" after an un-lettered question),
  ``Sample.mode = "loglikelihood"``, scored by ``mcq_loglik``.

``metadata`` keeps ``letters``, ``choice_texts``, ``answer_index``, ``source`` (file:line)
and ``fewshot_ids``.
"""

from __future__ import annotations

import random
from collections.abc import Container, Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import attrs
from assay.api import (
    AssayError,
    BenchmarkArgs,
    Sample,
    check_extra_args,
    check_prompt_template,
    select_split,
    select_subsets,
)
from assay_datasets import locate

from .prompt import TEMPLATE_FIELDS, MCQItem, PromptStyle, build_prompt, pick_shots

MODES = ("generation", "loglikelihood")
CONTINUATIONS = ("letter", "text")
COMMON_EXTRA = ("mcq_mode", "mcq_continuation")


@attrs.define
class MCQOptions:
    mode: str = "generation"
    continuation: str = "letter"
    few_shot: int = 0
    extra: dict[str, Any] = attrs.field(factory=dict)


def parse_options(args: BenchmarkArgs, default_few_shot: int, allowed_extra: Iterable[str] = ()) -> MCQOptions:
    check_extra_args(args, {*COMMON_EXTRA, *allowed_extra})
    mode = str(args.extra.get("mcq_mode", "generation")).lower()
    if mode in ("generate", "gen"):
        mode = "generation"
    if mode not in MODES:
        raise AssayError(f"dataset_args.{args.name}.mcq_mode = {mode!r}: expected one of {', '.join(MODES)}")
    cont = str(args.extra.get("mcq_continuation", "letter")).lower()
    if cont not in CONTINUATIONS:
        raise AssayError(
            f"dataset_args.{args.name}.mcq_continuation = {cont!r}: expected one of {', '.join(CONTINUATIONS)}"
        )
    k = default_few_shot if args.few_shot_num is None else args.few_shot_num
    if not isinstance(k, int) or k < 0:
        raise AssayError(f"dataset_args.{args.name}.few_shot_num = {k!r}: expected a whole number >= 0")
    check_prompt_template(args, TEMPLATE_FIELDS, required=("question",))  # (nothing to check without one)
    return MCQOptions(
        mode=mode,
        continuation=cont,
        few_shot=k,
        extra={k2: v for k2, v in args.extra.items() if k2 not in COMMON_EXTRA},
    )


# the dataset_args keys an MCQ benchmark that reads its own files applies (assay.api.BENCHMARK_HONOURED)
MCQ_HONOURS = ("subset_list", "few_shot_num", "prompt_template", "eval_split", "shuffle_choices")


class OwnFilesMCQ:
    """A base for MCQ benchmarks that read their own files (not through :class:`MCQBenchmark`'s
    ``subjects`` / ``read_items``): it declares the MCQ ``dataset_args`` and checks them once, to
    ``self.opts`` (:class:`MCQOptions`) and ``self.split``. A subclass sets ``name`` and what differs."""

    name = "mcq"
    default_scorers: ClassVar[list[str]] = ["mcq_letter"]
    extra_args: ClassVar[tuple[str, ...]] = COMMON_EXTRA  # dataset_args keys beyond BenchmarkArgs
    honours: ClassVar[tuple[str, ...]] = MCQ_HONOURS
    splits: ClassVar[tuple[str, ...]] = ("test",)  # the eval_split values taken; the first is the default
    split_rule = ""  # why, when eval_split is none of them
    default_few_shot = 0
    few_shots: ClassVar[Container[int]] = (0,)  # the few_shot_num values taken
    few_shot_rule = "has no few-shot split"  # after the name, when few_shot_num is not one of them

    def __init__(self, args: BenchmarkArgs) -> None:
        self.args = args
        self.opts = parse_options(args, self.default_few_shot, [k for k in self.extra_args if k not in COMMON_EXTRA])
        if self.opts.few_shot not in self.few_shots:
            raise AssayError(
                f"dataset_args.{args.name}.few_shot_num = {self.opts.few_shot}: {self.name} {self.few_shot_rule}"
            )
        self.split = select_split(args, self.splits, self.split_rule)


def shuffled_choices(choices: list[Any], answer: int, seed: int, key: str) -> tuple[list[Any], int, list[int]]:
    """A seeded permutation of ``choices`` (the same for the same seed and ``key``, e.g. the sample id):
    the shuffled list, where the answer went, and ``order`` (``shuffled[i] = choices[order[i]]``)."""
    order = list(range(len(choices)))
    random.Random(f"{seed}:{key}").shuffle(order)
    return [choices[i] for i in order], order.index(answer), order


def shuffle_item(item: MCQItem, args: BenchmarkArgs) -> MCQItem:
    """``dataset_args.<name>.shuffle_choices``: the item with its options in a seeded order (seeded
    by the item's id: the same order in every run with this seed), the permutation recorded in its
    metadata (``permutation``, ``shuffle_seed``); the item as it is otherwise."""
    if not args.shuffle_choices:
        return item
    choices, answer, order = shuffled_choices(item.choices, item.answer, args.seed, item.id)
    extra = {**item.extra, "permutation": order, "shuffle_seed": args.seed}
    return attrs.evolve(item, choices=choices, answer=answer, extra=extra)


def make_sample(
    item: MCQItem,
    shots: list[MCQItem],
    style: PromptStyle,
    args: BenchmarkArgs,
    opts: MCQOptions,
    *,
    subject_label: str,
    category: str | None,
    prompt: str | None = None,
    metadata: dict[str, Any] | None = None,
    cache: dict[Any, str] | None = None,
) -> Sample:
    """Turn one item into a Sample of the chosen mode (``prompt`` overrides the built one)."""
    if len(item.choices) < 2 or len(item.choices) > 26:
        raise AssayError(f"{item.source}: {len(item.choices)} choices; a multiple-choice question needs 2 to 26")
    if not 0 <= item.answer < len(item.choices):
        raise AssayError(f"{item.source}: answer index {item.answer} outside the {len(item.choices)} choices")
    meta: dict[str, Any] = {
        "letters": list(item.letters),
        "choice_texts": [str(c) for c in item.choices],
        "answer_index": item.answer,
        "source": item.source,
    }
    if shots:
        meta["fewshot_ids"] = [s.id for s in shots]
    meta.update(item.extra)
    if metadata:
        meta.update(metadata)
    loglik = opts.mode == "loglikelihood"
    if loglik and opts.continuation == "text":
        style = attrs.evolve(style, list_choices=False)
    text = (
        prompt if prompt is not None else build_prompt(item, shots, style, subject_label, args.prompt_template, cache)
    )
    if loglik:
        if opts.continuation == "text":
            conts = [style.answer_sep + str(c).strip() for c in item.choices]
        else:
            conts = [style.answer_sep + ltr for ltr in item.letters]
        meta.update(continuation=opts.continuation)
        full = f"{args.system_prompt}\n\n{text}" if args.system_prompt else text
        return Sample(
            id=item.id,
            subset=item.subject,
            prompt=full,
            choices=conts,
            target=item.target,
            category=category,
            metadata=meta,
            scorers=list(args.metric_list or ["mcq_loglik"]),
            mode="loglikelihood",
        )
    messages = [{"role": "system", "content": args.system_prompt}] if args.system_prompt else []
    messages.append({"role": "user", "content": text})
    return Sample(
        id=item.id,
        subset=item.subject,
        messages=messages,
        choices=[str(c) for c in item.choices],
        target=item.target,
        category=category,
        metadata=meta,
    )


class MCQBenchmark:
    """Subclass and fill in: ``name``, ``folders``, ``subjects``, ``read_items`` (and
    ``category`` / ``style`` / ``subject_label`` where they differ)."""

    name = "mcq"
    folders: tuple[str, ...] = ()
    hub_id: str | dict[str, str] | None = None  # per hub: {"modelscope": ..., "huggingface": ...}
    default_scorers: ClassVar[list[str]] = ["mcq_letter"]
    default_few_shot = 0
    splits: tuple[str, ...] = ("test",)
    default_split = "test"
    few_shot_split: str | None = "dev"
    extra_args: ClassVar[tuple[str, ...]] = COMMON_EXTRA  # dataset_args keys beyond BenchmarkArgs
    # the benchmark-specific dataset_args keys this loader applies (assay.api.BENCHMARK_HONOURED)
    honours: ClassVar[tuple[str, ...]] = (
        "subset_list",
        "few_shot_num",
        "few_shot_random",
        "prompt_template",
        "train_split",
        "eval_split",
        "shuffle_choices",
        "system_prompt",
    )

    def __init__(self, args: BenchmarkArgs) -> None:
        self.args = args
        self.opts = parse_options(args, self.default_few_shot, self.extra_args)
        self.split = args.eval_split or self.default_split
        if self.split not in self.splits:
            raise AssayError(
                f"dataset_args.{args.name}.eval_split = {self.split!r}: expected one of {', '.join(self.splits)}"
            )
        if args.train_split is not None:
            if args.train_split not in (*self.splits, self.few_shot_split):
                known = sorted({*self.splits, *([self.few_shot_split] if self.few_shot_split else [])})
                raise AssayError(
                    f"dataset_args.{args.name}.train_split = {args.train_split!r}: expected one of {', '.join(known)}"
                )
            self.few_shot_split = args.train_split
        if self.opts.few_shot and self.few_shot_split is None:
            raise AssayError(
                f"dataset_args.{args.name}.few_shot_num = {self.opts.few_shot}: {self.name} has no few-shot split"
            )

    # ---- to fill in -------------------------------------------------------------

    def subjects(self, root: Path) -> list[str]:
        raise NotImplementedError

    def read_items(self, root: Path, subject: str, split: str) -> list[MCQItem]:
        raise NotImplementedError

    def category(self, subject: str) -> str | None:
        return None

    def more_categories(self, subject: str) -> list[str]:
        """Report groups the subject belongs to beyond ``category`` (CMMLU's "China specific")."""
        return []

    def style(self, subject: str) -> PromptStyle:
        return PromptStyle()

    def subject_label(self, subject: str) -> str:
        return subject.replace("_", " ")

    # ---- the Benchmark protocol ---------------------------------------------------

    def root(self, args: BenchmarkArgs) -> Path:
        return locate(args, *self.folders, hub_id=self.hub_id)

    def load(self, args: BenchmarkArgs | None = None) -> Iterator[Sample]:
        args = args or self.args
        opts = self.opts
        root = self.root(args)
        for subject in select_subsets(args, self.subjects(root), root):
            pool = self.read_items(root, subject, self.few_shot_split) if opts.few_shot and self.few_shot_split else []
            style = self.style(subject)
            label = self.subject_label(subject)
            category = self.category(subject)
            extra_categories = self.more_categories(subject)
            cache: dict[Any, str] = {}
            for item in self.read_items(root, subject, self.split):
                item = shuffle_item(item, args)
                shots = pick_shots(pool, opts.few_shot, rand=args.few_shot_random, seed=args.seed, item=item)
                sample = make_sample(
                    item,
                    shots,
                    style,
                    args,
                    opts,
                    subject_label=label,
                    category=category,
                    cache=None if args.few_shot_random else cache,
                )
                sample.categories = list(extra_categories)
                yield sample

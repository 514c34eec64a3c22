"""RAG end to end: faithfulness, answer relevancy, context precision, context recall (RAGAS definitions).

Input: JSONL records ``{"id"?, "question", "contexts": [...], "answer", "ground_truth"?}`` (aliases:
``user_input``, ``retrieved_contexts``, ``response``, ``reference``, ``ground_truths``).

- faithfulness = supported statements / statements of the answer (judge: split the answer into
  statements, then a 0/1 verdict for each against the contexts);
- answer_relevancy = mean cosine(question, q_i) over ``relevancy_questions`` (default 3) questions the
  judge writes from the answer, times 0 when the judge calls the answer noncommittal; embeddings
  from this plugin (``embedding_model`` / ``embedding_api_url``, default all-MiniLM-L6-v2);
- context_precision = sum_k precision@k * v_k / sum_k v_k over the contexts in their order, with v_k
  the judge's 0/1 "was context k useful for the reference answer" (the answer when no reference);
- context_recall = reference sentences attributable to the contexts / reference sentences.

The judge is assay-judge's (:mod:`assay_judge`): the run's ``--judge-model-args`` when given (several
judges, aggregation, ``--judge-worker-num``), else one judge from ``judge_backend`` (default
``openai_api``), ``judge_model`` / ``judge_api_url`` / ``judge_api_key`` (else the run's --model /
--api-url / --api-key) and ``judge_generation_config`` (temperature 0 unless given). Every judge call is a
``Judged`` event (key ``<metric>:<step>``, messages as sent, raw reply, the parsed JSON as its label),
retried and reused on rescore/resume like any judged benchmark's. Each record's figures are ``Scored``
events (the report shows their means). A judge reply that cannot be used (no JSON, the wrong shape, a call
that failed after its retries) makes the record judge-failed: counted, out of every metric's score and
denominator, never a 0. A record that lacks what a metric needs (no contexts, no ground truth) is an
errored sample. (Logs written before this carry ``RagJudged`` events, still replayed.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import anyio
import attrs
import numpy as np
from assay.api import AssayError, BenchmarkArgs
from assay_datasets import locate, read_jsonl
from assay.events import SampleFailed, SampleLoaded, Scored

from .encoders import ENCODER_ARGS, encode, make_encoder, open_cache

METRICS = ("faithfulness", "answer_relevancy", "context_precision", "context_recall")

STATEMENTS_PROMPT = (
    "Given a question and an answer, break the answer down into one or more standalone statements. "
    "Each statement must be understandable on its own, without pronouns. "
    'Reply with JSON only, in the form {{"statements": ["...", "..."]}}.\n\n'
    "Question: {question}\nAnswer: {answer}\nStatements (JSON):"
)
VERDICTS_PROMPT = (
    "Judge the faithfulness of a series of statements to a given context. For each statement, give "
    "verdict 1 if the statement can be directly inferred from the context, 0 if it cannot. "
    'Reply with JSON only, in the form {{"verdicts": [{{"statement": "...", "reason": "...", "verdict": 0}}]}}, '
    "one entry per statement, in order.\n\nContext:\n{context}\n\nStatements:\n{statements}\nVerdicts (JSON):"
)
QUESTIONS_PROMPT = (
    "Write {n} different questions that the given answer answers, and say whether the answer is "
    "noncommittal (evasive, vague or ambiguous, such as 'I don't know'): noncommittal 1, otherwise 0. "
    'Reply with JSON only, in the form {{"questions": ["..."], "noncommittal": 0}}.\n\n'
    "Answer: {answer}\nQuestions (JSON):"
)
PRECISION_PROMPT = (
    "Given a question, a reference answer and one context, say whether the context was useful in "
    'arriving at the reference answer. Reply with JSON only, in the form {{"reason": "...", "verdict": 1}} '
    "(verdict 1 if useful, 0 if not).\n\n"
    "Question: {question}\nContext: {context}\nReference answer: {reference}\nVerdict (JSON):"
)
RECALL_PROMPT = (
    "Given a context and a reference answer, split the reference answer into its sentences and classify "
    "whether each sentence can be attributed to the context: attributed 1 if yes, 0 if no. "
    'Reply with JSON only, in the form {{"classifications": [{{"statement": "...", "reason": "...", "attributed": 1}}]}}.\n\n'
    "Question: {question}\nContext:\n{context}\n\nReference answer: {reference}\nClassifications (JSON):"
)


@attrs.define
class Record:
    id: str
    question: str
    contexts: list[str]
    answer: str
    reference: str | None


class RecordError(Exception):
    """The record lacks what a metric needs: an errored sample, not a judge failure."""


class JudgeError(Exception):
    """The judge's reply cannot be used."""


def read_records(path: Path) -> list[Record]:
    out: list[Record] = []
    seen: set[str] = set()
    for lineno, obj in read_jsonl(path):
        where = f"{path}:{lineno}"

        def get(*names: str, required: bool = True, obj: dict[str, Any] = obj, where: str = where) -> Any:
            for n in names:
                if obj.get(n) is not None:
                    return obj[n]
            if required:
                raise AssayError(f"{where}: missing field {names[0]!r} (or {', '.join(names[1:])})")
            return None

        contexts = get("contexts", "retrieved_contexts")
        if isinstance(contexts, str):
            contexts = [contexts]
        if not isinstance(contexts, list) or not all(isinstance(c, str) for c in contexts):
            raise AssayError(f"{where}: 'contexts' must be a list of strings")
        ref = get("ground_truth", "reference", "ground_truths", required=False)
        if isinstance(ref, list):
            ref = " ".join(map(str, ref))
        rid = str(obj.get("id", lineno))
        if rid in seen:
            raise AssayError(f"{where}: duplicate id {rid!r}")
        seen.add(rid)
        out.append(
            Record(
                rid,
                str(get("question", "user_input")),
                contexts,
                str(get("answer", "response")),
                None if ref is None else str(ref),
            )
        )
    if not out:
        raise AssayError(f"{path}: no records")
    return out


def parse_json(text: str) -> Any:
    """The first JSON object in a reply (code fences and prose around it are ignored)."""
    text = re.sub(r"```(?:json)?", "", text or "")
    start = text.find("{")
    if start < 0:
        raise JudgeError(f"no JSON object in the reply: {text[:200]!r}")
    try:
        obj, _ = json.JSONDecoder().raw_decode(text[start:])
    except json.JSONDecodeError as exc:
        raise JudgeError(f"invalid JSON in the reply ({exc.msg}): {text[:200]!r}") from None
    return obj


def _flag(value: Any, what: str) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)) and value in (0, 1):
        return int(value)
    if isinstance(value, str) and value.strip().lower() in ("0", "1", "yes", "no", "true", "false"):
        return int(value.strip().lower() in ("1", "yes", "true"))
    raise JudgeError(f"{what} must be 0 or 1, got {value!r}")


def _json_reply(output: str, logprobs: Any = None) -> Any:
    """A judge reply's JSON object, kept as the verdict's label (raises on a reply with none: unparseable)."""
    from assay_judge import Parsed

    return Parsed(label=json.dumps(parse_json(output), ensure_ascii=False))


def average_precision(verdicts: list[int]) -> float:
    """RAGAS context precision: sum_k precision@k * v_k / (sum_k v_k), 0 when nothing is useful."""
    hits = 0
    num = 0.0
    for k, v in enumerate(verdicts, 1):
        hits += v
        num += (hits / k) * v
    return num / hits if hits else 0.0


class RAG:
    name = "rag"
    description = "RAG: faithfulness, answer relevancy, context precision and recall (RAGAS definitions, judge model)"
    honours = ("eval_split",)
    extra_args = (
        *("embedding_model", "embedding_api_url", "embedding_api_key", *ENCODER_ARGS),
        *("judge_backend", "judge_model", "judge_api_url", "judge_api_key", "judge_model_args"),
        *("judge_generation_config", "relevancy_questions"),
    )

    def __init__(self, args: BenchmarkArgs) -> None:
        self.args = args
        self.metrics = list(args.metric_list or METRICS)
        bad = [m for m in self.metrics if m not in METRICS]
        if bad:
            raise AssayError(f"{args.name}: unknown metric(s) {', '.join(bad)}; known: {', '.join(METRICS)}")

    # ---- the judge ------------------------------------------------------------------

    def _judge(self, run: Any, args: BenchmarkArgs, config: Any) -> Any:
        """The kernel's judge: the run's judge_model_args, else one built from this benchmark's judge_* keys."""
        from assay_judge import Judge, judge_specs
        from assay.plugins import host

        cfg = config
        if not judge_specs(config):
            x = args.extra
            backend = str(x.get("judge_backend", "openai_api"))
            api_url = x.get("judge_api_url") or getattr(config, "api_url", None)
            if backend == "openai_api" and not api_url:
                raise AssayError(
                    f"{args.name}: the judge needs an OpenAI-compatible server: --judge-model-args, --api-url "
                    f"or dataset_args.{args.name}.judge_api_url"
                )
            spec = {
                "model_id": str(x.get("judge_model") or getattr(config, "model", None) or "mock"),
                "eval_type": backend,
                "api_url": api_url,
                "api_key": x.get("judge_api_key") or getattr(config, "api_key", None),
                "model_args": dict(x.get("judge_model_args", {})),
                "generation_config": {"temperature": 0.0, **x.get("judge_generation_config", {})},
            }
            cfg = attrs.evolve(config, judge_model_args={k: v for k, v in spec.items() if v is not None})
        plugins = getattr(run, "plugins", None) or host()
        return Judge(cfg, plugins, run)

    # ---- the four metrics --------------------------------------------------------------

    async def _faithfulness(self, ask: Any, r: Record) -> float:
        got = await ask("faithfulness", "statements", STATEMENTS_PROMPT.format(question=r.question, answer=r.answer))
        statements = got.get("statements") if isinstance(got, dict) else None
        if not isinstance(statements, list) or not statements:
            raise JudgeError("faithfulness: the judge gave no statements")
        listed = "\n".join(f"{i}. {s}" for i, s in enumerate(statements, 1))
        got = await ask(
            "faithfulness", "verdicts", VERDICTS_PROMPT.format(context="\n".join(r.contexts), statements=listed)
        )
        verdicts = got.get("verdicts") if isinstance(got, dict) else None
        if not isinstance(verdicts, list) or len(verdicts) != len(statements):
            raise JudgeError(f"faithfulness: expected {len(statements)} verdicts, got {verdicts!r:.200}")
        flags = [_flag(v.get("verdict") if isinstance(v, dict) else v, "verdict") for v in verdicts]
        return sum(flags) / len(flags)

    async def _relevancy_questions(self, ask: Any, r: Record, n: int) -> tuple[list[str], int]:
        got = await ask("answer_relevancy", "questions", QUESTIONS_PROMPT.format(n=n, answer=r.answer))
        qs = got.get("questions") if isinstance(got, dict) else None
        if isinstance(got, dict) and qs is None and isinstance(got.get("question"), str):
            qs = [got["question"]]
        if not isinstance(qs, list) or not qs or not all(isinstance(q, str) for q in qs):
            raise JudgeError("answer_relevancy: the judge gave no questions")
        return qs, _flag(got.get("noncommittal", 0), "noncommittal")

    async def _context_precision(self, ask: Any, r: Record) -> float:
        if not r.contexts:
            raise RecordError("context_precision: the record has no contexts")
        reference = r.reference if r.reference is not None else r.answer
        flags = []
        for i, c in enumerate(r.contexts):
            got = await ask(
                "context_precision",
                f"context-{i}",
                PRECISION_PROMPT.format(question=r.question, context=c, reference=reference),
            )
            flags.append(_flag(got.get("verdict") if isinstance(got, dict) else None, "verdict"))
        return average_precision(flags)

    async def _context_recall(self, ask: Any, r: Record) -> float:
        if r.reference is None:
            raise RecordError("context_recall: the record has no ground_truth")
        got = await ask(
            "context_recall",
            "classifications",
            RECALL_PROMPT.format(question=r.question, context="\n".join(r.contexts), reference=r.reference),
        )
        items = got.get("classifications") if isinstance(got, dict) else None
        if not isinstance(items, list) or not items:
            raise JudgeError("context_recall: the judge gave no classifications")
        flags = [_flag(c.get("attributed") if isinstance(c, dict) else c, "attributed") for c in items]
        return sum(flags) / len(flags)

    # ---- the run ------------------------------------------------------------------------

    async def run(self, run: Any, args: BenchmarkArgs, config: Any) -> None:
        subset = "default"
        path = locate(args)
        if path.is_dir():
            split = args.eval_split or "test"
            cand = path / f"{split}.jsonl"
            if not cand.is_file():
                raise AssayError(
                    f"{args.name}: {cand} does not exist (give a .jsonl file or a folder of <split>.jsonl)"
                )
            path = cand
        records = read_records(path)
        if args.limit is not None:
            records = records[
                : max(1, int(len(records) * args.limit))
                if isinstance(args.limit, float) and args.limit < 1
                else int(args.limit)
            ]
        sids = [f"{args.name}/{subset}/{r.id}" for r in records]
        run.emit_many(
            SampleLoaded(
                sample_id=sid,
                benchmark=args.name,
                subset=subset,
                local_id=r.id,
                prompt=r.question,
                target=r.reference,
                metadata={"contexts": r.contexts, "answer": r.answer},
                self_driven=True,
            )
            for sid, r in zip(sids, records)
        )
        judge = self._judge(run, args, config)
        samples = {sid: SampleLoaded(sample_id=sid, benchmark=args.name, subset=subset) for sid in sids}
        n_q = int(args.extra.get("relevancy_questions", 3))
        limiter = anyio.CapacityLimiter(
            int(args.extra.get("concurrency", max(4, getattr(config, "eval_batch_size", 1))))
        )
        results: list[dict[str, Any]] = [{} for _ in records]

        async def one(i: int) -> None:
            r, sid = records[i], sids[i]

            async def ask(metric: str, step: str, prompt: str) -> Any:
                result = await judge.ask(samples[sid], prompt, parse=_json_reply, key=f"{metric}:{step}")
                if not result.ok:
                    raise JudgeError(f"{step}: {result.reason}")
                return json.loads(result.label)

            async with limiter:
                for metric in self.metrics:
                    try:
                        if metric == "faithfulness":
                            results[i][metric] = await self._faithfulness(ask, r)
                        elif metric == "answer_relevancy":
                            results[i][metric] = await self._relevancy_questions(ask, r, n_q)
                        elif metric == "context_precision":
                            results[i][metric] = await self._context_precision(ask, r)
                        elif metric == "context_recall":
                            results[i][metric] = await self._context_recall(ask, r)
                    except (JudgeError, RecordError) as exc:
                        results[i][metric] = exc

        try:
            async with anyio.create_task_group() as tg:
                for i in range(len(records)):
                    tg.start_soon(one, i)
        finally:
            await judge.aclose()

        if "answer_relevancy" in self.metrics:
            await self._relevancy_scores(run, args, config, records, results, subset)
        for i, sid in enumerate(sids):
            res = results[i]
            data = {m: e for m, e in res.items() if isinstance(e, RecordError)}
            judged = {m: e for m, e in res.items() if isinstance(e, JudgeError)}
            if data or judged:
                # one record, one status: any metric the judge could not grade makes the record judge-failed
                # (out of every metric, counted); a record missing data for a metric is an errored sample
                stage, kind = ("score", "RecordError") if data else ("judge", "JudgeFailed")
                msg = "; ".join(f"{m}: {e}" for m, e in (data or judged).items())
                run.emit(
                    SampleFailed(
                        sample_id=sid,
                        stage=stage,
                        error_type=kind,
                        message=msg[:2000],
                        benchmark=args.name,
                        subset=subset,
                    )
                )
                continue
            run.emit_many(
                Scored(
                    sample_id=sid,
                    scorer="rag",
                    metric=m,
                    value=float(res[m]),
                    target=records[i].reference,
                    benchmark=args.name,
                    subset=subset,
                )
                for m in self.metrics
            )

    async def _relevancy_scores(
        self,
        run: Any,
        args: BenchmarkArgs,
        config: Any,
        records: list[Record],
        results: list[dict[str, Any]],
        subset: str,
    ) -> None:
        todo = [
            i
            for i, res in enumerate(results)
            if isinstance(res.get("answer_relevancy"), tuple)
            and not any(isinstance(v, Exception) for v in res.values())
        ]
        if not todo:
            return
        texts: list[str] = []
        spans = []
        for i in todo:
            qs, _ = results[i]["answer_relevancy"]
            spans.append((i, len(texts), len(qs)))
            texts.append(records[i].question)
            texts.extend(qs)
        encoder = await anyio.to_thread.run_sync(lambda: make_encoder(args, config, prefix="embedding_"))
        run.emit(encoder.loaded_event())
        cache = open_cache(args, config)
        try:
            emb = await encode(
                encoder, texts, run=run, benchmark=args.name, subset=subset, purpose="relevancy questions", cache=cache
            )
        finally:
            if cache is not None:
                cache.close()
        emb = emb.astype(np.float64)
        emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
        for i, start, n in spans:
            _, noncommittal = results[i]["answer_relevancy"]
            cos = emb[start + 1 : start + 1 + n] @ emb[start]
            results[i]["answer_relevancy"] = float(cos.mean()) * (1 - noncommittal)

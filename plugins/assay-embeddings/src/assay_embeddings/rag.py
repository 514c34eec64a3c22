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

The judge is any model backend of the kernel (``judge_backend``, default ``openai_api``) with
``judge_model`` / ``judge_api_url`` / ``judge_api_key`` (else the run's --model / --api-url / --api-key).
Every judge call is logged as a ``RagJudged`` event (messages as sent, raw reply, parsed verdicts);
each record's figures are ``Scored`` events (the report shows their means). A metric whose judge reply
cannot be used scores 0 for that record (the reason is the Scored explanation and the RagJudged error);
a record with no usable metric at all is a ``SampleFailed`` (in the denominator, as errors are in assay).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import anyio
import attrs
import numpy as np
from assay.api import AssayError, BenchmarkArgs, GenerateRequest, ModelConfig, TransientError
from assay.data import read_jsonl
from assay.events import SampleFailed, SampleLoaded, Scored

from .encoders import ENCODER_ARGS, encode, make_encoder, open_cache
from .events import RagJudged

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
        from assay.plugins import host

        x = args.extra
        backend = str(x.get("judge_backend", "openai_api"))
        mcfg = ModelConfig(
            model=str(x.get("judge_model") or getattr(config, "model", "mock")),
            api_url=x.get("judge_api_url") or getattr(config, "api_url", None),
            api_key=x.get("judge_api_key") or getattr(config, "api_key", None),
            timeout=getattr(config, "timeout", None),
            model_args=dict(x.get("judge_model_args", {})),
        )
        if backend == "openai_api" and not mcfg.api_url:
            raise AssayError(
                f"{args.name}: the judge needs an OpenAI-compatible server: --api-url or dataset_args.{args.name}.judge_api_url"
            )
        plugins = getattr(run, "plugins", None) or host()
        return plugins.get("models", backend).obj(mcfg, run), mcfg.model

    async def _ask(
        self,
        model: Any,
        model_name: str,
        sid: str,
        metric: str,
        step: str,
        prompt: str,
        events: list[Any],
        retries: int,
    ) -> Any:
        from tenacity import (
            AsyncRetrying,
            retry_if_exception_type,
            stop_after_attempt,
            wait_exponential_jitter,
        )

        messages = [{"role": "user", "content": prompt}]
        gen_cfg = {"temperature": 0.0, **self.args.extra.get("judge_generation_config", {})}
        attempt = 0
        t0 = time.perf_counter()
        try:
            async for try_ in AsyncRetrying(
                stop=stop_after_attempt(retries + 1),
                reraise=True,
                wait=wait_exponential_jitter(multiplier=0.2, max=10, jitter=0.2),
                retry=retry_if_exception_type((TransientError, TimeoutError)),
            ):
                with try_:
                    attempt += 1
                    t0 = time.perf_counter()
                    result = await model.generate(
                        GenerateRequest(
                            sample_id=f"{sid}:{metric}:{step}",
                            messages=messages,
                            generation_config=gen_cfg,
                            attempt=attempt,
                        )
                    )
        except Exception as exc:  # noqa: BLE001 - logged, the record fails for this metric
            err = f"{type(exc).__name__}: {str(exc)[:500]}"
            events.append(
                RagJudged(
                    sample_id=sid,
                    metric=metric,
                    step=step,
                    model=model_name,
                    messages=messages,
                    attempt=attempt,
                    error=err,
                )
            )
            raise JudgeError(f"judge call failed: {err}") from None
        ev = RagJudged(
            sample_id=sid,
            metric=metric,
            step=step,
            model=model_name,
            messages=messages,
            output=result.output,
            latency=time.perf_counter() - t0,
            attempt=attempt,
        )
        events.append(ev)
        try:
            ev.verdicts = parse_json(result.output)
        except JudgeError as exc:
            ev.error = str(exc)
            raise
        return ev.verdicts

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
            raise JudgeError("context_precision: the record has no contexts")
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
            raise JudgeError("context_recall: the record has no ground_truth")
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
        path = args.data_path()
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
        model, model_name = self._judge(run, args, config)
        n_q = int(args.extra.get("relevancy_questions", 3))
        retries = int(getattr(config, "retries", 3))
        limiter = anyio.CapacityLimiter(
            int(args.extra.get("concurrency", max(4, getattr(config, "eval_batch_size", 1))))
        )
        results: list[dict[str, Any]] = [{} for _ in records]
        events: list[list[Any]] = [[] for _ in records]

        async def one(i: int) -> None:
            r, sid = records[i], sids[i]

            async def ask(metric: str, step: str, prompt: str) -> Any:
                return await self._ask(model, model_name, sid, metric, step, prompt, events[i], retries)

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
                    except JudgeError as exc:
                        results[i][metric] = exc

        try:
            async with anyio.create_task_group() as tg:
                for i in range(len(records)):
                    tg.start_soon(one, i)
        finally:
            await model.aclose()

        if "answer_relevancy" in self.metrics:
            await self._relevancy_scores(run, args, config, records, results, subset)
        for i, sid in enumerate(sids):
            res = results[i]
            errors = {m: v for m, v in res.items() if isinstance(v, Exception)}
            if len(errors) == len(self.metrics):
                # nothing usable: the record is an errored sample (in the denominator, counted as an error)
                msg = "; ".join(f"{m}: {e}" for m, e in errors.items())
                run.emit_many(
                    [
                        *events[i],
                        SampleFailed(sample_id=sid, stage="score", error_type="JudgeError", message=msg[:2000]),
                    ]
                )
                continue
            # the kernel counts errors per sample, not per metric: a metric whose judge reply was
            # unusable scores 0 for this record, with the reason as its explanation
            scored = [
                Scored(
                    sample_id=sid,
                    scorer="rag",
                    metric=m,
                    value=0.0 if m in errors else float(res[m]),
                    target=records[i].reference,
                    explanation=f"judge error: {errors[m]}" if m in errors else None,
                )
                for m in self.metrics
            ]
            run.emit_many([*events[i], *scored])

    async def _relevancy_scores(
        self,
        run: Any,
        args: BenchmarkArgs,
        config: Any,
        records: list[Record],
        results: list[dict[str, Any]],
        subset: str,
    ) -> None:
        todo = [i for i, res in enumerate(results) if isinstance(res.get("answer_relevancy"), tuple)]
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

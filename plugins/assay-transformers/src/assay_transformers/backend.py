"""The transformers model backend: batched generation and log-likelihood scoring.

The kernel calls ``await model.generate(req)`` from ``--eval-batch-size`` concurrent
tasks. Requests go into a queue; one worker thread takes up to ``batch_size`` pending
requests that share a mode and generation config and runs them as one forward pass
(left padding for generation, right padding for log-likelihoods). Inference never
runs on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import time
from collections import deque
from typing import Any

from assay.api import AssayError, GenerateRequest, GenerateResult, ModelConfig
from assay.config import check_generation_config as check_generation_config_keys
from assay.events import Usage

# generation_config keys this backend understands; OpenAI-only keys are accepted and ignored
GEN_KEYS = {
    "do_sample",
    "temperature",
    "top_p",
    "top_k",
    "max_new_tokens",
    "max_tokens",
    "max_length",
    "min_new_tokens",
    "stop",
    "stop_strings",
    "stop_seqs",
    "repetition_penalty",
    "num_beams",
    "seed",
}
IGNORED_KEYS = {
    "n",
    "presence_penalty",
    "frequency_penalty",
    "logprobs",
    "top_logprobs",
    "stream",
    "timeout",
    "extra_body",
    "response_format",
    "logit_bias",
    "user",
}
DEFAULT_MAX_NEW_TOKENS = 512


def check_generation_config(cfg: dict[str, Any], where: str = "--generation-config") -> None:
    """The keys this backend reads, and the kernel's rule for the keys every backend reads."""
    unknown = sorted(set(cfg) - GEN_KEYS - IGNORED_KEYS)
    if unknown:
        raise AssayError(
            f"{where}: unknown key(s) {', '.join(map(repr, unknown))} for the transformers backend; known: {', '.join(sorted(GEN_KEYS))}"
        )
    check_generation_config_keys(cfg, prefix=f"{where}: ")
    for key in ("max_length", "top_k", "num_beams", "min_new_tokens"):  # transformers' own, and its top_k
        v = cfg.get(key)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
            raise AssayError(f"{where}: {key} = {v!r}: expected a whole number >= 0")


def generate_kwargs(cfg: dict[str, Any]) -> tuple[dict[str, Any], list[str], int | None]:
    """Map an EvalScope/OpenAI-style generation config to ``model.generate`` kwargs.

    Returns (kwargs, stop strings, seed).
    """
    kw: dict[str, Any] = {}
    if cfg.get("max_new_tokens") is not None:
        kw["max_new_tokens"] = int(cfg["max_new_tokens"])
    elif cfg.get("max_tokens") is not None:
        kw["max_new_tokens"] = int(cfg["max_tokens"])
    elif cfg.get("max_length") is None:
        kw["max_new_tokens"] = DEFAULT_MAX_NEW_TOKENS
    if cfg.get("max_length") is not None:
        kw["max_length"] = int(cfg["max_length"])
    if cfg.get("min_new_tokens") is not None:
        kw["min_new_tokens"] = int(cfg["min_new_tokens"])
    temperature = cfg.get("temperature")
    do_sample = cfg.get("do_sample")
    if do_sample is None:
        do_sample = temperature is not None and float(temperature) > 0
    if temperature is not None and float(temperature) == 0:
        do_sample = False
    kw["do_sample"] = bool(do_sample)
    if do_sample:
        for key in ("temperature", "top_p", "top_k"):
            if cfg.get(key) is not None:
                kw[key] = cfg[key]
    else:  # greedy: unset sampling knobs so transformers does not warn about them
        kw.update(temperature=None, top_p=None, top_k=None)
    for key in ("repetition_penalty", "num_beams"):
        if cfg.get(key) is not None:
            kw[key] = cfg[key]
    stop = cfg.get("stop", cfg.get("stop_strings", cfg.get("stop_seqs"))) or []
    stops = [stop] if isinstance(stop, str) else [s for s in stop if s]
    seed = cfg.get("seed")
    return kw, stops, (int(seed) if seed is not None else None)


class _Job:
    __slots__ = ("future", "key", "loop", "queued", "request")

    def __init__(
        self, request: GenerateRequest, future: asyncio.Future[Any], loop: asyncio.AbstractEventLoop, key: str
    ) -> None:
        self.request = request
        self.future = future
        self.loop = loop
        self.key = key
        self.queued = time.perf_counter()


def _settle(fut: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if fut.done():  # the caller gave up (timeout, cancellation)
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(result)


class TransformersModel:
    """A :class:`assay.api.Model` over a local checkpoint or hub snapshot."""

    supports_loglikelihood = True

    def __init__(self, config: ModelConfig, run: Any = None, *, loaded: tuple[Any, Any, str] | None = None) -> None:
        from . import loading

        self.name = config.model
        self.config = config
        self.batch_size = max(1, int(config.batch_size or 1))
        args = dict(config.model_args)
        check_generation_config(dict(config.generation_config))
        self.batch_wait = float(args.get("batch_wait", 0.02))
        self.model, self.tok, self.device = loaded or loading.load(config.model, args, config.chat_template)
        use_chat = args.get("use_chat_template", "auto")
        self.has_template = bool(getattr(self.tok, "chat_template", None))
        if use_chat is True and not self.has_template:
            raise AssayError(
                f"model_args.use_chat_template is true but {config.model} has no chat template (give --chat-template)"
            )
        self.wrap_prompts = self.has_template and use_chat in ("auto", True)
        self.eos_ids = self._eos_ids()
        seed = getattr(getattr(run, "config", None), "seed", None)
        if seed is not None:
            import torch

            torch.manual_seed(int(seed))
        self.max_positions = int(getattr(self.model.config, "max_position_embeddings", 0) or 0)
        self.batch_sizes: list[int] = []  # sizes of the batches run, for tests and diagnostics
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # ---- the async face ----------------------------------------------------------

    async def generate(self, request: GenerateRequest) -> GenerateResult:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[GenerateResult] = loop.create_future()
        if request.mode == "loglikelihood":
            if not request.choices:
                raise AssayError(f"{request.sample_id}: log-likelihood mode needs choices")
            key = "loglikelihood"
        else:
            check_generation_config(request.generation_config, where=f"{request.sample_id}: generation_config")
            key = "generate:" + json.dumps(request.generation_config, sort_keys=True, default=str)
        self._ensure_worker()
        self._queue.put(_Job(request, fut, loop, key))
        return await fut

    async def aclose(self) -> None:
        thread = self._thread
        if thread is not None:
            self._queue.put(None)
            await asyncio.to_thread(thread.join)
            self._thread = None
        self.model = None
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except Exception:  # noqa: BLE001, S110 - freeing memory is best effort
            pass

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="assay-transformers", daemon=True)
                self._thread.start()

    # ---- the worker thread ---------------------------------------------------------

    def _work(self) -> None:
        held: deque[_Job] = deque()  # taken from the queue but of another kind than the batch
        stopping = False
        while True:
            if held:
                first = held.popleft()
            elif stopping:
                return
            else:
                got = self._queue.get()
                if got is None:
                    return
                first = got
            batch = [first]
            for job in list(held):
                if len(batch) >= self.batch_size:
                    break
                if job.key == first.key:
                    batch.append(job)
                    held.remove(job)
            # gather: wait while requests keep arriving, until the batch is full
            while len(batch) < self.batch_size and not stopping:
                try:
                    nxt = self._queue.get(timeout=self.batch_wait)
                except queue.Empty:
                    break
                if nxt is None:
                    stopping = True
                elif nxt.key == first.key:
                    batch.append(nxt)
                else:
                    held.append(nxt)
            batch = [j for j in batch if not j.future.done()]
            if not batch:
                continue
            self._run(batch, first.key)

    def _run(self, batch: list[_Job], key: str) -> None:
        """Run one batch; if it fails, run its requests one by one so one bad input fails alone."""
        import torch

        self.batch_sizes.append(len(batch))
        try:
            with torch.inference_mode():
                if key == "loglikelihood":
                    results = self.loglikelihood([j.request for j in batch])
                else:
                    results = self.generate_batch([j.request for j in batch])
        except Exception as exc:  # noqa: BLE001 - handed to the waiting caller(s)
            if len(batch) > 1:
                for j in batch:
                    self._run([j], key)
                return
            batch[0].loop.call_soon_threadsafe(_settle, batch[0].future, None, exc)
            return
        for j, r in zip(batch, results, strict=True):
            j.loop.call_soon_threadsafe(_settle, j.future, r, None)

    # ---- inputs ----------------------------------------------------------------

    def _eos_ids(self) -> set[int]:
        ids: set[int] = set()
        gc = getattr(self.model, "generation_config", None)
        eos = getattr(gc, "eos_token_id", None)
        if isinstance(eos, int):
            ids.add(eos)
        elif eos:
            ids.update(int(e) for e in eos)
        if self.tok.eos_token_id is not None:
            ids.add(int(self.tok.eos_token_id))
        return ids

    def render(self, request: GenerateRequest, *, wrap_prompt: bool) -> tuple[str, bool]:
        """The text the model sees and whether the tokenizer should add special tokens."""
        if request.messages is not None:
            if self.has_template:
                text = self.tok.apply_chat_template(request.messages, tokenize=False, add_generation_prompt=True)
                return str(text), False
            return "\n\n".join(str(m.get("content", "")) for m in request.messages), True
        prompt = request.prompt or ""
        if wrap_prompt and self.has_template:
            text = self.tok.apply_chat_template(
                [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
            )
            return str(text), False
        return prompt, True

    def encode(self, text: str, special: bool) -> list[int]:
        return list(self.tok(text, add_special_tokens=special)["input_ids"])

    # ---- generation --------------------------------------------------------------

    def generate_batch(self, requests: list[GenerateRequest]) -> list[GenerateResult]:
        """Generate for requests that share one generation config, in one batch (left padding)."""
        import torch

        # the kernel has merged the run's --generation-config with the sample's own
        kwargs, stops, seed = generate_kwargs(requests[0].generation_config)
        encoded = []
        for r in requests:
            text, special = self.render(r, wrap_prompt=self.wrap_prompts)
            ids = self.encode(text, special)
            if not ids:
                raise AssayError(f"{r.sample_id}: empty prompt after tokenization")
            encoded.append(ids)
        pad = self.tok.pad_token_id
        width = max(len(e) for e in encoded)
        input_ids = torch.full((len(encoded), width), pad, dtype=torch.long)
        mask = torch.zeros((len(encoded), width), dtype=torch.long)
        for i, ids in enumerate(encoded):  # left padding
            input_ids[i, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
            mask[i, width - len(ids) :] = 1
        device = self.model.device
        if seed is not None:
            torch.manual_seed(seed)
        if stops:
            kwargs["stop_strings"] = stops
            kwargs["tokenizer"] = self.tok
        out = self.model.generate(
            input_ids=input_ids.to(device), attention_mask=mask.to(device), pad_token_id=pad, **kwargs
        )
        results = []
        stop_ids = self.eos_ids | {pad}
        for i, ids in enumerate(encoded):
            new = out[i, width:].tolist()
            n = len(new)
            hit_eos = False
            for k, t in enumerate(new):
                if t in stop_ids:
                    n, hit_eos = k, True
                    break
            text = self.tok.decode(new[:n], skip_special_tokens=True)
            finish = "stop" if hit_eos else "length"
            if stops:
                cut = min((p for p in (text.find(s) for s in stops) if p >= 0), default=-1)
                if cut >= 0:
                    text, finish = text[:cut], "stop"
            completion = n + (1 if hit_eos and new[n] in self.eos_ids else 0)
            results.append(
                GenerateResult(
                    output=text,
                    usage=Usage(
                        prompt_tokens=len(ids),
                        completion_tokens=completion,
                        total_tokens=len(ids) + completion,
                    ),
                    finish_reason=finish,
                )
            )
        return results

    # ---- log-likelihood ------------------------------------------------------------

    def continuation_tokens(self, context: str, special: bool, continuation: str) -> tuple[list[int], list[int]]:
        """Tokens of context and continuation, split as lm-evaluation-harness does.

        Trailing spaces of the context move to the continuation; the whole string is
        encoded once and the continuation is what follows the context's tokens.
        """
        n_spaces = len(context) - len(context.rstrip(" "))
        if n_spaces:
            continuation = context[-n_spaces:] + continuation
            context = context[:-n_spaces]
        whole = self.encode(context + continuation, special)
        ctx = self.encode(context, special)
        cont = whole[len(ctx) :]
        if not cont:
            cont = self.encode(continuation, False)
        return ctx, cont

    def loglikelihood(self, requests: list[GenerateRequest]) -> list[GenerateResult]:
        """Sum of log-probabilities of each choice given the context, and whether it is the greedy path."""
        import torch

        rows: list[tuple[int, int, list[int], list[int]]] = []
        for ri, r in enumerate(requests):
            context, special = self.render(r, wrap_prompt=False)
            for ci, choice in enumerate(r.choices or []):
                if not choice:
                    raise AssayError(f"{r.sample_id}: choice {ci} is empty")
                ctx, cont = self.continuation_tokens(context, special, str(choice))
                if not ctx:
                    bos = self.tok.bos_token_id if self.tok.bos_token_id is not None else self.tok.eos_token_id
                    ctx = [int(bos)]
                full = ctx + cont
                if self.max_positions and len(full) > self.max_positions:
                    full = full[-self.max_positions :]
                rows.append((ri, ci, full, cont))
        logprobs: dict[tuple[int, int], float] = {}
        greedy: dict[tuple[int, int], bool] = {}
        order = sorted(range(len(rows)), key=lambda k: -len(rows[k][2]))
        chunk = max(1, self.batch_size)
        pad = self.tok.pad_token_id
        device = self.model.device
        for start in range(0, len(order), chunk):
            part = [rows[k] for k in order[start : start + chunk]]
            width = max(len(p[2]) for p in part)
            input_ids = torch.full((len(part), width), pad, dtype=torch.long)
            mask = torch.zeros((len(part), width), dtype=torch.long)
            for i, (_, _, full, _) in enumerate(part):  # right padding: positions stay 0..n-1
                input_ids[i, : len(full)] = torch.tensor(full, dtype=torch.long)
                mask[i, : len(full)] = 1
            logits = self.model(input_ids=input_ids.to(device), attention_mask=mask.to(device)).logits
            for i, (ri, ci, full, cont) in enumerate(part):
                n, m = len(full), len(cont)
                lp = torch.log_softmax(logits[i, n - m - 1 : n - 1].float(), dim=-1)
                target = torch.tensor(full[n - m :], dtype=torch.long, device=lp.device)
                logprobs[(ri, ci)] = float(lp.gather(1, target[:, None]).sum())
                greedy[(ri, ci)] = bool((lp.argmax(dim=-1) == target).all())
        out = []
        for ri, r in enumerate(requests):
            k = len(r.choices or [])
            out.append(
                GenerateResult(
                    choice_logprobs=[logprobs[(ri, ci)] for ci in range(k)],
                    choice_greedy=[greedy[(ri, ci)] for ci in range(k)],
                    finish_reason="loglikelihood",
                )
            )
        return out

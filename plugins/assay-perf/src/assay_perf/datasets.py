"""Prompt sources for ``assay perf`` (registered through ``assay_perf_datasets``).

A dataset factory is called with the run's :class:`assay_perf.runner.PerfOptions` and
returns an iterable of prompts: a string, a list of chat messages, or a
:class:`Prompt` (prompt plus its token count, when the source knows it).
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
from assay.api import AssayError
from assay_datasets import read_jsonl, read_lines


@attrs.define
class Prompt:
    prompt: Any  # str or list of messages
    tokens: int | None = None
    max_tokens: int | None = None  # this prompt's output length (sent instead of --max-tokens)


# ---- helpers ---------------------------------------------------------------------


def _data_file(options: Any, name: str, default_names: tuple[str, ...]) -> list[Path]:
    """The files to read: --dataset-path (a file or a directory), else $ASSAY_DATA_DIR/<name>."""
    raw = options.dataset_path
    if raw is None:
        base = options.dataset_dir or os.environ.get("ASSAY_DATA_DIR")
        if not base:
            raise AssayError(
                f"--dataset {name} needs --dataset-path FILE_OR_DIR (or --dataset-dir / $ASSAY_DATA_DIR "
                f"holding a {name}/ folder)"
            )
        raw = str(Path(base) / name)
    path = Path(raw)
    if path.is_file():
        return [path]
    if path.is_dir():
        found: list[Path] = []
        for pattern in default_names:
            found.extend(sorted(path.rglob(pattern)))
        if found:
            return found
        raise AssayError(f"--dataset {name}: no {' or '.join(default_names)} under {path}")
    raise AssayError(f"--dataset {name}: {path} does not exist")


def _need_str(row: dict[str, Any], key: str, path: Path, n: int) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value.strip():
        raise AssayError(f"{path}:{n}: key {key!r} must be a non-empty string, got {value!r}")
    return value


def _check_messages(msgs: Any, path: Path, n: int) -> list[dict[str, Any]]:
    if not isinstance(msgs, list) or not msgs:
        raise AssayError(f"{path}:{n}: key 'messages' must be a non-empty list")
    for i, m in enumerate(msgs):
        if not isinstance(m, dict) or "role" not in m or "content" not in m:
            raise AssayError(f"{path}:{n}: messages[{i}] needs 'role' and 'content'")
    return msgs


# ---- sources ---------------------------------------------------------------------

# Common short English words: with most BPE vocabularies each is one token after a space.
_WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "you",
    "that",
    "it",
    "he",
    "was",
    "for",
    "on",
    "are",
    "as",
    "with",
    "his",
    "they",
    "at",
    "be",
    "this",
    "have",
    "from",
    "or",
    "one",
    "had",
    "by",
    "word",
    "but",
    "not",
    "what",
    "all",
    "were",
    "we",
    "when",
    "your",
    "can",
    "said",
    "there",
    "use",
    "an",
    "each",
    "which",
    "she",
    "do",
    "how",
    "their",
    "if",
    "will",
    "up",
    "other",
    "about",
    "out",
    "many",
    "then",
    "them",
    "these",
    "so",
    "some",
    "her",
    "would",
    "make",
    "like",
    "him",
    "into",
    "time",
    "has",
    "look",
    "two",
    "more",
    "write",
    "go",
    "see",
    "number",
    "no",
    "way",
    "could",
    "people",
    "my",
    "than",
    "first",
    "water",
    "been",
    "call",
    "who",
    "oil",
    "its",
    "now",
    "find",
    "long",
    "down",
    "day",
    "did",
    "get",
    "come",
    "made",
    "may",
    "part",
    "over",
    "new",
    "sound",
    "take",
    "only",
    "little",
    "work",
    "know",
    "place",
    "year",
    "live",
    "me",
    "back",
    "give",
    "most",
    "very",
    "after",
    "thing",
    "our",
    "just",
    "name",
    "good",
    "sentence",
    "man",
    "think",
    "say",
    "great",
    "where",
    "help",
    "through",
    "much",
    "before",
    "line",
    "right",
    "too",
    "mean",
    "old",
    "any",
    "same",
    "tell",
    "boy",
    "follow",
    "came",
    "want",
    "show",
    "also",
    "around",
    "form",
    "three",
    "small",
    "set",
    "put",
    "end",
    "does",
    "another",
    "well",
    "large",
    "must",
    "big",
    "even",
    "such",
    "because",
    "turn",
    "here",
    "why",
    "ask",
    "went",
    "men",
    "read",
    "need",
    "land",
    "different",
    "home",
    "us",
    "move",
    "try",
    "kind",
    "hand",
    "picture",
    "again",
    "change",
    "off",
    "play",
    "spell",
    "air",
    "away",
    "animal",
    "house",
    "point",
    "page",
    "letter",
    "mother",
    "answer",
    "found",
    "study",
    "still",
    "learn",
    "should",
    "world",
    "high",
    "every",
    "near",
    "add",
    "food",
    "between",
    "own",
    "below",
    "country",
    "plant",
    "last",
    "school",
    "father",
    "keep",
    "tree",
    "never",
    "start",
    "city",
    "earth",
    "eye",
    "light",
    "thought",
    "head",
    "under",
    "story",
    "saw",
    "left",
    "few",
    "while",
    "along",
    "might",
    "close",
    "something",
    "seem",
    "next",
    "hard",
    "open",
    "example",
    "begin",
    "life",
    "always",
    "those",
    "both",
    "paper",
    "together",
    "got",
    "group",
    "often",
    "run",
    "important",
    "until",
    "children",
    "side",
    "feet",
    "car",
    "mile",
    "night",
    "walk",
    "white",
    "sea",
    "began",
    "grow",
]


def draw_length(rng: random.Random, dist: str, lo: int, hi: int, flag: str) -> int:
    """One length in [lo, hi]: uniform; normal (mean the midpoint, standard deviation a sixth
    of the range, rounded and clipped to it); fixed (always hi)."""
    if dist == "uniform":
        return rng.randint(lo, hi)
    if dist == "normal":
        return min(hi, max(lo, round(rng.gauss((lo + hi) / 2, (hi - lo) / 6))))
    if dist == "fixed":
        return hi
    raise AssayError(f"{flag} must be uniform, normal or fixed, got {dist!r}")


def random_prompts(options: Any) -> Iterator[Prompt]:
    """Prompts of random length in [--min-prompt-length, --max-prompt-length] tokens, drawn
    by --input-length-dist (uniform, normal or fixed: see :func:`draw_length`).

    With ``--tokenizer-path`` the prompt is built from random token ids of that tokenizer
    and its length is re-measured with it (decoding and re-encoding can merge tokens, so
    the length is what the tokenizer counts). Without one it is that many common English
    words separated by spaces: an approximation of the token count (one token per word for
    most BPE vocabularies; exact for the assay test server, which counts words).
    """
    lo, hi = options.min_prompt_length, options.max_prompt_length
    if lo < 1 or hi < lo:
        raise AssayError(f"--min-prompt-length {lo} / --max-prompt-length {hi}: need 1 <= min <= max")
    rng = random.Random(options.seed)
    tok = options.tokenizer()
    count = options.prompt_count()
    dist = options.input_length_dist
    if dist not in ("uniform", "normal", "fixed"):
        raise AssayError(f"--input-length-dist must be uniform, normal or fixed, got {dist!r}")
    if tok is None:
        for _ in range(count):
            n = draw_length(rng, dist, lo, hi, "--input-length-dist")
            yield Prompt(" ".join(rng.choice(_WORDS) for _ in range(n)), None)
        return
    special = set(getattr(tok, "all_special_ids", []) or [])
    vocab = [i for i in range(len(tok)) if i not in special]
    for _ in range(count):
        n = draw_length(rng, dist, lo, hi, "--input-length-dist")
        ids = [rng.choice(vocab) for _ in range(n)]
        text = tok.decode(ids)
        # trim or pad until the re-encoded length falls in [lo, hi]
        for _ in range(8):
            enc = tok.encode(text, add_special_tokens=False)
            if lo <= len(enc) <= hi:
                break
            if len(enc) > hi:
                enc = enc[:hi]
            else:
                enc = enc + [rng.choice(vocab) for _ in range(lo - len(enc))]
            text = tok.decode(enc)
        yield Prompt(text, len(tok.encode(text, add_special_tokens=False)))


def line_by_line(options: Any) -> Iterator[str]:
    """Each non-empty line of a text file (``--dataset-path``) is one prompt."""
    for path in _data_file(options, "line_by_line", ("*.txt",)):
        for _, line in read_lines(path):
            yield line


def openqa(options: Any) -> Iterator[str]:
    """EvalScope's ``openqa`` (HC3-style JSONL): the ``question`` of each row."""
    for path in _data_file(options, "openqa", ("*.jsonl",)):
        for n, row in read_jsonl(path):
            yield _need_str(row, "question", path, n)


def custom(options: Any) -> Iterator[Any]:
    """A user's JSONL: each row has ``prompt`` (a string) or ``messages`` (a chat list)."""
    for path in _data_file(options, "custom", ("*.jsonl",)):
        for n, row in read_jsonl(path):
            if "messages" in row:
                yield _check_messages(row["messages"], path, n)
            elif "prompt" in row:
                yield _need_str(row, "prompt", path, n)
            else:
                raise AssayError(f"{path}:{n}: expected a 'prompt' or 'messages' key, got {sorted(row)}")


def mt_bench(options: Any) -> Iterator[str]:
    """MT-Bench ``question.jsonl``: the first turn of each question (the second needs an answer)."""
    for path in _data_file(options, "mt_bench", ("question.jsonl",)):
        for n, row in read_jsonl(path):
            turns = row.get("turns")
            if not isinstance(turns, list) or not turns or not isinstance(turns[0], str):
                raise AssayError(f"{path}:{n}: key 'turns' must be a non-empty list of strings")
            yield turns[0]


def arena_hard(options: Any) -> Iterator[str]:
    """Arena-Hard-Auto ``question.jsonl`` (v0.1 and v2.0): the ``prompt`` of each row.

    A directory holding several versions yields them all, in path order.
    """
    for path in _data_file(options, "arena_hard", ("question.jsonl",)):
        for n, row in read_jsonl(path):
            yield _need_str(row, "prompt", path, n)


def sharegpt(options: Any) -> Iterator[str]:
    """ShareGPT JSON (a list of ``{"id", "conversations": [{"from", "value"}, ...]}``): the first
    human turn of each conversation, in file order. Takes the full ShareGPT_V3 file and the
    first-turn-only subsets (whose conversations hold one turn); rows without a human turn
    first are skipped, as vLLM's loader does."""
    import json

    for path in _data_file(options, "sharegpt", ("*.json",)):
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise AssayError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
        if not isinstance(rows, list):
            raise AssayError(f"{path}: expected a JSON list of conversations, got {type(rows).__name__}")
        for n, row in enumerate(rows):
            conv = row.get("conversations") if isinstance(row, dict) else None
            if not isinstance(conv, list):
                raise AssayError(f"{path}: row {n}: key 'conversations' must be a list")
            if not conv or not isinstance(conv[0], dict) or conv[0].get("from") != "human":
                continue
            text = conv[0].get("value")
            if isinstance(text, str) and text.strip():
                yield text


# ---- prefix-cache workloads -------------------------------------------------------


def with_prefixes(options: Any, prompts: list[Any]) -> list[Prompt]:
    """Prompt i gets prefix i % --prefix-count before it: --prefix-length random common words
    (seeded), then a space. A chat-list prompt gets it at the start of its first message.
    Token counts are measured again (with --tokenizer-path) since the text changed."""
    n, k = options.prefix_length, options.prefix_count
    if n < 0 or k < 1:
        raise AssayError(f"--prefix-length {n} / --prefix-count {k}: need a length >= 0 and a count >= 1")
    rng = random.Random(f"{options.seed}-prefix")
    prefixes = [" ".join(rng.choice(_WORDS) for _ in range(n)) + " " for _ in range(k)]
    out: list[Prompt] = []
    for i, p in enumerate(prompts):
        max_tokens = p.max_tokens if isinstance(p, Prompt) else None
        p = p.prompt if isinstance(p, Prompt) else p
        pre = prefixes[i % k]
        if isinstance(p, str):
            p = pre + p
        else:
            p = [{**p[0], "content": pre + str(p[0].get("content", ""))}, *p[1:]]
        out.append(Prompt(p, None, max_tokens))
    return out


# ---- trace replay ---------------------------------------------------------------

_TRACE_BLOCK = 512  # Mooncake: each hash id names a block of 512 tokens


def _read_trace(options: Any) -> list[tuple[float, int, int | None, list[int]]]:
    """Rows of a JSONL trace: (timestamp in ms, input_length, output_length or None, hash_ids)."""
    path = Path(options.trace)
    if not path.is_file():
        raise AssayError(f"--trace {path}: no such file")
    rows: list[tuple[float, int, int | None, list[int]]] = []
    last = -math.inf
    for n, row in read_jsonl(path):
        ts, inp, out = row.get("timestamp"), row.get("input_length"), row.get("output_length")
        if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not math.isfinite(ts):
            raise AssayError(f"{path}:{n}: 'timestamp' (milliseconds) must be a number, got {ts!r}")
        if ts < last:
            raise AssayError(f"{path}:{n}: timestamp {ts} is before the previous row's {last}: sort the trace")
        last = ts
        if isinstance(inp, bool) or not isinstance(inp, int) or inp < 1:
            raise AssayError(f"{path}:{n}: 'input_length' must be a positive integer, got {inp!r}")
        if out is not None and (isinstance(out, bool) or not isinstance(out, int) or out < 1):
            raise AssayError(f"{path}:{n}: 'output_length' must be a positive integer, got {out!r}")
        hashes = row.get("hash_ids") or []
        if not isinstance(hashes, list) or not all(isinstance(h, int) and not isinstance(h, bool) for h in hashes):
            raise AssayError(f"{path}:{n}: 'hash_ids' must be a list of integers")
        rows.append((float(ts), inp, out, hashes))
    if not rows:
        raise AssayError(f"--trace {path}: no rows")
    return rows


def trace_offsets(options: Any) -> list[float]:
    """Each row's due time in seconds after the first row's (divided by --trace-speed)."""
    if not options.trace_speed > 0:
        raise AssayError(f"--trace-speed must be > 0, got {options.trace_speed}")
    rows = _read_trace(options)
    t0 = rows[0][0]
    return [(ts - t0) / 1000.0 / options.trace_speed for ts, *_ in rows]


def trace_prompts(options: Any) -> list[Prompt]:
    """One prompt per trace row: ``input_length`` words (the word approximation of tokens),
    ``output_length`` as its max_tokens. Rows that share Mooncake ``hash_ids`` share those
    512-word blocks, so the trace's prefix reuse reaches the server's cache."""
    blocks: dict[int, list[str]] = {}
    rng = random.Random(options.seed)
    out: list[Prompt] = []
    for _ts, inp, outlen, hashes in _read_trace(options):
        words: list[str] = []
        for h in hashes:
            if len(words) >= inp:
                break
            if h not in blocks:
                brng = random.Random(f"{options.seed}-{h}")
                blocks[h] = [brng.choice(_WORDS) for _ in range(_TRACE_BLOCK)]
            words.extend(blocks[h])
        del words[inp:]
        words.extend(rng.choice(_WORDS) for _ in range(inp - len(words)))
        out.append(Prompt(" ".join(words), None, outlen))
    return out


BUILTIN = {
    "random": (random_prompts, "random prompts with token lengths in a range (tokenizer or word approximation)"),
    "line_by_line": (line_by_line, "one prompt per non-empty line of a text file"),
    "openqa": (openqa, "HC3-style JSONL, the 'question' field"),
    "custom": (custom, "JSONL of {'prompt': str} or {'messages': [...]}"),
    "mt_bench": (mt_bench, "MT-Bench question.jsonl (first turns)"),
    "arena_hard": (arena_hard, "Arena-Hard-Auto question.jsonl (v0.1 / v2.0)"),
    "sharegpt": (sharegpt, "ShareGPT JSON conversations (first human turn)"),
}

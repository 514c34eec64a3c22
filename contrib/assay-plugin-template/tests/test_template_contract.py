"""The template's contract: assay discovers it, and it runs end to end with the kernel's mock model."""

from __future__ import annotations

import json

from assay.events import Generated, SampleLoaded


def test_discovered_with_what_it_registers(assay, installed):
    listing = json.loads(assay("plugins", "--format", "json").stdout)
    (me,) = [p for p in listing["plugins"] if p["distribution"] == "assay-example-qa"]
    assert me["version"] == installed
    assert me["registers"] == {"benchmarks": ["example_qa"], "scorers": ["example_exact"]}
    assert not [f for f in listing["failures"] if f["distribution"] == "assay-example-qa"]


def test_runs_end_to_end(assay, report_rows, tmp_path):
    # the mock model answers "Paris." to everything: right on France, wrong on the three others
    assay(
        *("eval", "--model", "mock", "--model-args", "answer=Paris.", "--datasets", "example_qa"),
        *("--work-dir", str(tmp_path), "--no-progress"),
    )
    (run,) = list(tmp_path.iterdir())
    scores = {r["subset"]: (r["num"], r["score"]) for r in report_rows(run)}
    # per subset, then over all samples (micro) and the mean of the subsets (macro)
    assert scores == {"geography": (2, 0.5), "science": (2, 0.0), "OVERALL": (4, 0.25), "OVERALL (macro)": (4, 0.25)}


def test_the_scorer_reads_the_last_word():
    from assay_example_qa.benchmark import SCORER

    sample = SampleLoaded(sample_id="example_qa/geography/0", benchmark="example_qa", target="Paris")
    (right,) = SCORER.score(sample, Generated(sample_id=sample.sample_id, model="m", output="It is paris."))
    (wrong,) = SCORER.score(sample, Generated(sample_id=sample.sample_id, model="m", output="Lyon"))
    assert (right.value, right.extracted, wrong.value, wrong.extracted) == (1.0, "paris", 0.0, "lyon")

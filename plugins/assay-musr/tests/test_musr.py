"""MuSR on a fixture in the hub layout (TAUR-Lab/MuSR: three CSVs, ``choices`` a list literal).

The rows under tests/fixtures/musr are written in the documented format of the hub files
(columns ``narrative, question, choices, answer_index, answer_choice``, as on the dataset card
and in EvalScope's adapter), with short narratives.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay_testserver.testing import cli_eval, cli_eval_hub, bodies, fake_hf_cache, rows_by
from assay_musr import MuSR

FIXTURES = Path(__file__).parent / "fixtures"


def _load(**kw):
    kw.setdefault("dataset_dir", str(FIXTURES))
    args = BenchmarkArgs(name="musr", **kw)
    return list(MuSR(args).load(args))


def test_subsets_prompt_and_targets() -> None:
    samples = _load()
    assert [(s.id, s.subset, s.target) for s in samples] == [
        ("0", "murder_mysteries", "A"),
        ("1", "murder_mysteries", "B"),
        ("0", "object_placements", "A"),
        ("1", "object_placements", "B"),
        ("0", "team_allocation", "B"),
    ]
    s = samples[3]
    assert s.choices == ["bowl", "hook", "car"]
    assert s.messages == [
        {
            "role": "user",
            "content": "Answer the following multiple choice question. The last line of your response should be of "
            "the following format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of A,B,C. "
            "Think step by step before answering.\n\n"
            "Anna put the keys in the bowl by the door. Ben, wanting to tidy up, moved them to the hook in the "
            "hallway while Anna watched from the kitchen.\n\n"
            "Which location is the most likely place Anna would look to find the keys given the story?\n\n"
            "A) bowl\nB) hook\nC) car",
        }
    ]
    only = _load(subset_list=["team_allocation"])
    assert [(s.id, s.subset) for s in only] == [("0", "team_allocation")]
    with pytest.raises(AssayError, match=r"no subset 'team' .*available: murder_mysteries, object_placements"):
        _load(subset_list=["team"])


def test_bad_rows_and_missing_files(tmp_path) -> None:
    d = tmp_path / "musr"
    shutil.copytree(FIXTURES / "musr", d)
    (d / "object_placements.csv").unlink()
    with pytest.raises(AssayError, match=r"musr: no object_placements\.csv in .*TAUR-Lab/MuSR"):
        _load(dataset_dir=str(tmp_path))
    shutil.copy(FIXTURES / "musr" / "object_placements.csv", d)
    (d / "team_allocation.csv").write_text(
        "narrative,question,choices,answer_index,answer_choice\nstory,q?,A or B,0,A\n", encoding="utf-8"
    )
    with pytest.raises(AssayError, match=r"team_allocation\.csv:2: choices is not a list literal: 'A or B'"):
        _load(dataset_dir=str(tmp_path))
    (d / "team_allocation.csv").write_text("narrative,question\nstory,q?\n", encoding="utf-8")
    with pytest.raises(AssayError, match=r"missing column\(s\) 'choices', 'answer_index'"):
        _load(dataset_dir=str(tmp_path))
    with pytest.raises(AssayError, match="musr has no few-shot split"):
        _load(few_shot_num=3)


@pytest.mark.slow
def test_cli_exact_scores(test_server, tmp_path) -> None:
    rules = [
        {"match": "Mackenzie had quite an eventful week", "answer": "Means, motive, opportunity.\nANSWER: A"},
        {"match": "leading choir practice", "answer": "ANSWER: A"},  # wrong (B)
        {"match": "Mark left his glasses", "answer": "He last saw them there.\nANSWER: A"},
        {"match": "Anna put the keys", "answer": "ANSWER: D"},  # malformed: only A-C exist
        {"match": "Alice burns everything", "answer": "<think>A?</think>The answer is (B)"},
    ]
    srv = test_server(rules=rules, default_answer="no idea")
    run_dir, report = cli_eval("musr", api_url=srv.url, datasets_dir=FIXTURES, work_dir=tmp_path)
    rows = rows_by(report)
    assert {k[1]: (r["score"], r["num"]) for k, r in rows.items()} == {
        "murder_mysteries": (0.5, 2),
        "object_placements": (0.5, 2),
        "team_allocation": (1.0, 1),
        "OVERALL": (0.6, 5),
        "OVERALL (macro)": (pytest.approx(2 / 3), 5),
    }
    scored = {e["sample_id"]: (e["value"], e.get("extracted")) for e in bodies(run_dir, "Scored")}
    assert scored == {
        "musr/murder_mysteries/0": (1.0, "A"),
        "musr/murder_mysteries/1": (0.0, "A"),
        "musr/object_placements/0": (1.0, "A"),
        "musr/object_placements/1": (0.0, None),
        "musr/team_allocation/0": (1.0, "B"),
    }
    assert len(srv.requests) == 5


@pytest.mark.slow
def test_hub_snapshot_through_kernel_download(tmp_path) -> None:
    """No local files: assay-datasets' hub download (huggingface_hub, offline) finds the cached snapshot."""
    snap = fake_hf_cache(
        tmp_path / "hf",
        "TAUR-Lab/MuSR",
        {p.name: p for p in (FIXTURES / "musr").glob("*.csv")},
    )
    proc = cli_eval_hub("musr", "huggingface", tmp_path / "hf", tmp_path / "out", "--limit", "1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    [run_dir] = (tmp_path / "out").iterdir()
    loaded = bodies(run_dir, "SampleLoaded")
    assert [e["sample_id"] for e in loaded] == [
        f"musr/{s}/0" for s in ("murder_mysteries", "object_placements", "team_allocation")
    ]
    assert all(e["metadata"]["source"].startswith(str(snap)) for e in loaded)
    # ModelScope (the default hub) is unreachable here: one error naming every place looked
    proc = cli_eval_hub(
        "musr", "modelscope", tmp_path / "hf", tmp_path / "out2", "--dataset-dir", str(tmp_path / "nowhere")
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "musr: no local files" in proc.stderr and "Looked in: " in proc.stderr
    assert str(tmp_path / "nowhere" / "musr") in proc.stderr and "AI-ModelScope/MuSR" in proc.stderr


def test_full_size_load_speed(tmp_path) -> None:
    """756 rows at the real per-subset counts and narrative lengths (~5,000 characters): load + prompts < 3 s."""
    import csv
    import time

    d = tmp_path / "musr"
    d.mkdir()
    for name, n in (("murder_mystery.csv", 250), ("object_placements.csv", 256), ("team_allocation.csv", 250)):
        with open(FIXTURES / "musr" / name, encoding="utf-8", newline="") as f:
            header, first = list(csv.reader(f))[:2]
        with open(d / name, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            for i in range(n):
                w.writerow([f"{first[0]}\n\n" + f"Paragraph {i}. " * 350, *first[1:]])
    t0, c0 = time.perf_counter(), time.process_time()
    samples = _load(dataset_dir=str(tmp_path))
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert len(samples) == 756
    assert cpu < 3.0, (cpu, elapsed)  # CPU time: the 2-core dev machine is shared, wall time varies with load
    print(f"musr: 756 samples loaded and prompted in {cpu:.2f} s CPU ({elapsed:.2f} s wall)")


def test_discovery() -> None:
    from importlib import metadata

    from assay.plugins import PluginHost

    host = PluginHost()
    [p] = [p for p in host.loaded if p.distribution == "assay-musr"]
    assert p.version == metadata.version("assay-musr")
    assert host.benchmarks()["musr"].distribution == "assay-musr"

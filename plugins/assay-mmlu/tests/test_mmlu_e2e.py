"""End to end: `assay eval` through the CLI against the real test server, exact scores."""

from __future__ import annotations

import json

import pytest
from assay.api import BenchmarkArgs
from assay_testserver.testing import cli_eval, bodies, rows_by
from assay_mmlu import MMLU

pytestmark = pytest.mark.slow  # starts `assay` subprocesses

WRONG = {"A": "B", "B": "C", "C": "D", "D": "A"}


def _items(datasets_dir, subject, n):
    args = BenchmarkArgs(name="mmlu", dataset_dir=str(datasets_dir))
    return MMLU(args).read_items(datasets_dir / "mmlu", subject, "test")[:n]


def _match(item) -> str:
    # the question and its first option, as they appear in the prompt's last block
    return f"{item.question.strip()}\nA. {item.choices[0].strip()}"


def test_mmlu_cli_scores_by_subset_and_category(test_server, datasets_dir, tmp_path) -> None:
    aa = _items(datasets_dir, "abstract_algebra", 4)  # STEM
    cp = _items(datasets_dir, "college_physics", 4)  # STEM
    an = _items(datasets_dir, "anatomy", 4)  # Other
    rules = [
        # abstract_algebra: 3 right (three reply styles), 1 wrong -> 3/4
        {"match": _match(aa[0]), "answer": f"The answer is ({aa[0].target})"},
        {"match": _match(aa[1]), "answer": f"**{aa[1].target}**"},
        {"match": _match(aa[2]), "answer": aa[2].target},
        {"match": _match(aa[3]), "answer": f"The answer is ({WRONG[aa[3].target]})"},
        # college_physics: 1 right, 1 wrong, 1 malformed, 1 default (malformed) -> 1/4
        {"match": _match(cp[0]), "answer": f"答案是{cp[0].target}"},
        {"match": _match(cp[1]), "answer": WRONG[cp[1].target]},
        {"match": _match(cp[2]), "answer": "I cannot decide between them."},
        # anatomy: 1 right ("X. text" form), 3 default -> 1/4
        {"match": _match(an[0]), "answer": f"{an[0].target}. {an[0].choices[an[0].answer]}"},
    ]
    srv = test_server(rules=rules, default_answer="I am not sure.")
    run_dir, report = cli_eval(
        "mmlu",
        api_url=srv.url,
        datasets_dir=datasets_dir,
        work_dir=tmp_path,
        limit=4,
        dataset_args={"subset_list": ["abstract_algebra", "college_physics", "anatomy"]},
    )
    rows = rows_by(report)
    # expected figures follow from the rules above
    assert rows[("STEM", "abstract_algebra")]["score"] == pytest.approx(3 / 4)
    assert rows[("STEM", "college_physics")]["score"] == pytest.approx(1 / 4)
    assert rows[("Other", "anatomy")]["score"] == pytest.approx(1 / 4)
    assert rows[("STEM", "OVERALL")]["score"] == pytest.approx(4 / 8) and rows[("STEM", "OVERALL")]["num"] == 8
    assert rows[("Other", "OVERALL")]["score"] == pytest.approx(1 / 4)
    assert rows[("-", "OVERALL")]["score"] == pytest.approx(5 / 12) and rows[("-", "OVERALL")]["num"] == 12
    assert rows[("-", "OVERALL (macro)")]["score"] == pytest.approx((3 / 4 + 1 / 4 + 1 / 4) / 3)
    assert all(r["errors"] == 0 for r in rows.values())
    # the prompt each sample received is in its SampleLoaded event, 5-shot included
    loaded = {e["sample_id"]: e for e in bodies(run_dir, "SampleLoaded")}
    assert len(loaded) == 12 and len(srv.requests) == 12
    sent = {json.dumps(r["messages"], sort_keys=True) for r in srv.requests}
    assert {json.dumps(e["messages"], sort_keys=True) for e in loaded.values()} == sent
    assert all(e["messages"][-1]["content"].count("\nAnswer:") == 6 for e in loaded.values())
    scored = {e["sample_id"]: e for e in bodies(run_dir, "Scored")}
    assert "extracted" not in scored["mmlu/college_physics/2"]  # None is omitted from the log
    assert scored["mmlu/abstract_algebra/3"]["extracted"] == WRONG[aa[3].target]


def test_mmlu_loglikelihood_mode_on_a_backend_without_logprobs(test_server, datasets_dir, tmp_path) -> None:
    # the OpenAI backend cannot give choice log-likelihoods: the kernel sends a plain
    # completion, and mcq_loglik scores the reply's letter and says so
    vi = _items(datasets_dir, "virology", 2)
    rules = [
        {"match": _match(vi[0]), "answer": f" {vi[0].target}"},
        {"match": _match(vi[1]), "answer": f" {WRONG[vi[1].target]}"},
    ]
    srv = test_server(rules=rules, default_answer="?")
    run_dir, report = cli_eval(
        "mmlu",
        api_url=srv.url,
        datasets_dir=datasets_dir,
        work_dir=tmp_path,
        limit=2,
        dataset_args={"subset_list": ["virology"], "mcq_mode": "loglikelihood", "few_shot_num": 0},
    )
    assert rows_by(report)[("Other", "virology")]["score"] == pytest.approx(1 / 2)
    assert all("prompt" in r and "messages" not in r for r in srv.requests)
    assert all(e["explanation"].startswith("backend gave no log-likelihoods") for e in bodies(run_dir, "Scored"))


def test_mmlu_loglikelihood_mode_with_the_mock_backend(datasets_dir, tmp_path) -> None:
    # the mock backend gives log-likelihoods; the report must equal the argmax of the logged
    # choice_logprobs against the logged targets, recomputed here from the raw events
    from assay import run_task

    report = run_task(
        {
            "datasets": ["mmlu"],
            "limit": 5,
            "dataset_dir": str(datasets_dir),
            "work_dir": str(tmp_path),
            "dataset_args": {"mmlu": {"subset_list": ["astronomy", "sociology"], "mcq_mode": "loglikelihood"}},
        }
    )
    run_dir = next(tmp_path.iterdir())
    loaded = {e["sample_id"]: e for e in bodies(run_dir, "SampleLoaded")}
    want: dict[str, list[float]] = {}
    for g in bodies(run_dir, "Generated"):
        lps = g["choice_logprobs"]
        s = loaded[g["sample_id"]]
        want.setdefault(s["subset"], []).append(float("ABCD"[lps.index(max(lps))] == s["target"]))
    rows = rows_by(report)
    for subset, vals in want.items():
        row = next(r for (c, sub), r in rows.items() if sub == subset)
        assert row["num"] == 5 and row["score"] == pytest.approx(sum(vals) / len(vals))

"""BIG-Bench Hard: prompts, extraction/normalisation on real rows, `assay eval` over HTTP.

Expected figures: row counts from SOURCE.md (6511 examples, 27 tasks, 3 exemplars a task);
scores from the answers the test scripts.
"""

from __future__ import annotations

import json

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay.events import Generated, SampleLoaded
from assay.plugins import PluginHost
from assay_bbh.benchmark import BBH, parse_cot_prompt
from assay_bbh.extract import FREE_FORM, MULTIPLE_CHOICE, TASKS, BBHExactMatch, extract_answer, is_correct
from assay_testserver.testing import main_eval


def _examples(datasets_dir, task):
    return json.loads((datasets_dir / "bbh" / "bbh" / f"{task}.json").read_text(encoding="utf-8"))["examples"]


def test_plugin_is_discovered():
    host = PluginHost()
    (p,) = [p for p in host.loaded if p.name == "bbh"]
    assert p.distribution == "assay-bbh" and p.version == "0.1.0"
    assert "bbh" in host.benchmarks() and "bbh_exact_match" in host.scorers()


def test_27_tasks_and_their_prompts(datasets_dir):
    files = sorted(p.stem for p in (datasets_dir / "bbh" / "bbh").glob("*.json"))
    assert files == TASKS and len(TASKS) == 27 and len(MULTIPLE_CHOICE) == 17 and len(FREE_FORM) == 10
    for task in TASKS:
        path = datasets_dir / "bbh" / "cot-prompts" / f"{task}.txt"
        description, exemplars = parse_cot_prompt(path.read_text(encoding="utf-8"), str(path))
        assert description and "canary" not in description and len(exemplars) == 3  # SOURCE.md: 3 exemplars a task
        for ex in exemplars:
            # each official exemplar answer goes through our extraction unchanged in meaning
            answer = extract_answer(ex.split("\nA: ", 1)[1])
            assert answer is not None and "So the answer is" not in answer


def test_loads_all_6511_examples(datasets_dir):
    args = BenchmarkArgs(name="bbh", dataset_dir=str(datasets_dir))
    samples = list(BBH(args).load(args))
    assert len(samples) == 6511  # SOURCE.md
    assert len({s.subset for s in samples}) == 27
    s = next(s for s in samples if s.subset == "boolean_expressions")
    text = s.messages[-1]["content"]
    assert text.startswith("Evaluate the result of a random Boolean expression.\n\nQ: not ( ( not not True ) ) is")
    assert text.endswith(
        f"Q: {_examples(datasets_dir, 'boolean_expressions')[0]['input']}\nA: Let's think step by step."
    )
    assert text.count("\nA: Let's think step by step.") == 4  # 3 exemplars + the question
    assert {s.category for s in samples if s.subset == "snarks"} == {"multiple_choice"}


def test_few_shot_num_and_bad_options(datasets_dir):
    args = BenchmarkArgs(name="bbh", dataset_dir=str(datasets_dir), subset_list=["navigate"], few_shot_num=0)
    samples = list(BBH(args).load(args))
    assert len(samples) == 250  # SOURCE.md: navigate 250
    assert samples[0].messages[-1]["content"].count("Q: ") == 1
    with pytest.raises(AssayError, match="did you mean 'navigate'"):
        BBH(BenchmarkArgs(name="bbh", subset_list=["navigat"]))
    with pytest.raises(AssayError, match="few_shot_num must be 0-3"):
        BBH(BenchmarkArgs(name="bbh", few_shot_num=5))


@pytest.mark.parametrize(
    ("task", "output", "target", "ok"),
    [
        ("date_understanding", "So the answer is (D).", "(D)", True),
        ("date_understanding", "So the answer is D.", "(D)", True),
        ("date_understanding", "So the answer is **(D) 12/14/1937**.", "(D)", True),
        ("date_understanding", "So the answer is (B).", "(D)", False),
        ("date_understanding", "The answer is:\n\n(D) 12/14/1937", "(D)", True),  # answer on the next line
        ("date_understanding", "The date is 12/14/1937.", "(D)", False),  # no 'the answer is': the official [invalid]
        ("sports_understanding", "So the answer is Yes.", "yes", True),  # case folded
        ("boolean_expressions", "So the answer is True.", "True", True),
        ("boolean_expressions", "So the answer is False.", "True", False),
        ("dyck_languages", "So the answer is ) ) }.", ") ) }", True),
        ("multistep_arithmetic_two", "So the answer is -219.", "-219", True),
        ("word_sorting", "So the answer is arson  aspect census.", "arson aspect census", True),
        ("formal_fallacies", "So the answer is invalid.", "valid", False),
        # movie_recommendation row 163: the target is text, not a letter; (A) "Monsters" is not it
        ("movie_recommendation", "So the answer is Monsters, Inc.", "Monsters, Inc", True),
        ("movie_recommendation", "So the answer is (A).", "Monsters, Inc", False),
        ("causal_judgement", "<think>So the answer is Yes.</think>So the answer is No.", "Yes", False),
    ],
)
def test_scoring(task, output, target, ok):
    s = SampleLoaded(sample_id=f"bbh/{task}/0", benchmark="bbh", subset=task, target=target)
    (sc,) = BBHExactMatch().score(s, Generated(sample_id=s.sample_id, model="m", output=output))
    assert sc.value == float(ok)


def test_every_real_target_matches_itself_in_the_official_answer_form(datasets_dir):
    n = 0
    for task in TASKS:
        for ex in _examples(datasets_dir, task):
            ok, _ = is_correct(task, extract_answer(f"So the answer is {ex['target']}."), ex["target"])
            assert ok, (task, ex["target"])
            n += 1
    assert n == 6511


def test_eval_against_the_http_server(tmp_path, datasets_dir, test_server):
    tasks = ["date_understanding", "sports_understanding", "word_sorting"]
    ex = {t: _examples(datasets_dir, t)[:3] for t in tasks}
    d, s, w = ex["date_understanding"], ex["sports_understanding"], ex["word_sorting"]
    answers = {
        # date_understanding: right (letter), right (bare letter, bold), wrong letter -> 2/3
        d[0]["input"]: f"Let's see. So the answer is {d[0]['target']}.",
        d[1]["input"]: f"So the answer is **{d[1]['target'][1]}**.",
        d[2]["input"]: "So the answer is (F)." if d[2]["target"] != "(F)" else "So the answer is (A).",
        # sports_understanding: right but capitalised, malformed, reasoning trap -> 1/3
        s[0]["input"]: f"So the answer is {s[0]['target'].capitalize()}.",
        s[1]["input"]: "It is plausible.",
        s[2][
            "input"
        ]: f"<think>So the answer is {s[2]['target']}.</think>So the answer is {'no' if s[2]['target'] == 'yes' else 'yes'}.",
        # word_sorting: all three right -> 3/3
        **{e["input"]: f"Sorted: So the answer is {e['target']}." for e in w},
    }
    srv = test_server(rules=[{"match": q, "answer": a} for q, a in answers.items()])
    _, report = main_eval(
        tmp_path,
        "--model",
        "m",
        "--api-url",
        srv.url,
        "--api-key",
        "EMPTY",
        "--datasets",
        "bbh",
        "--dataset-args",
        json.dumps({"bbh": {"subset_list": tasks}}),
        "--limit",
        "3",
        "--dataset-dir",
        str(datasets_dir),
    )
    got = {(r["category"], r["subset"]): (r["num"], r["score"]) for r in report["rows"]}
    assert got[("multiple_choice", "date_understanding")] == (3, pytest.approx(2 / 3))
    assert got[("free_form", "sports_understanding")] == (3, pytest.approx(1 / 3))
    assert got[("free_form", "word_sorting")] == (3, 1.0)
    assert got[("free_form", "OVERALL")] == (6, pytest.approx(4 / 6))  # category row: 1 + 3 of 6
    assert got[("multiple_choice", "OVERALL")] == (3, pytest.approx(2 / 3))
    assert got[("-", "OVERALL")] == (9, pytest.approx(6 / 9))
    assert len(srv.requests) == 9
    assert srv.requests[0]["messages"][-1]["content"].endswith("\nA: Let's think step by step.")

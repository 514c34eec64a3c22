"""End to end through the `assay` CLI: alpaca_eval answered by one test server with gpt-3.5-turbo-1106's
published outputs, judged by another that replays the published judge's first-token log-probabilities
(weighted_alpaca_eval_gpt4_turbo annotations), plus a verdict with no m/M and a failing judge call.
The win rate and standard error equal the official formula on the published preferences."""

from __future__ import annotations

import importlib.util
import json
import math
import statistics
from pathlib import Path

import pytest
from assay_testserver.testing import assay, bodies, report_items, run_dir_of, section

pytestmark = pytest.mark.slow  # starts `assay` subprocesses

FIXTURES = Path(__file__).parent / "fixtures"
KEY = "sk-alpaca-SECRET-0123456789abcdef"
FAIL_PARSE, FAIL_CALL = 3, 5  # instructions whose judge answers no m/M, and whose judge call fails


def subset_dir(datasets_dir: Path, indices: list[int], root: Path) -> Path:
    """A data dir holding the chosen rows of the real files, byte for byte, in the given order."""
    src = datasets_dir / "alpaca_eval"
    lines = (src / "alpaca_eval.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    refs = json.loads((src / "gpt4_1106_preview/model_outputs.json").read_text(encoding="utf-8"))
    out = root / "alpaca_eval"
    (out / "gpt4_1106_preview").mkdir(parents=True)
    (out / "alpaca_eval.jsonl").write_text("".join(lines[i] for i in indices), encoding="utf-8")
    (out / "gpt4_1106_preview/model_outputs.json").write_text(json.dumps([refs[i] for i in indices]), "utf-8")
    return root


def test_alpaca_eval_replays_published_annotations(test_server, datasets_dir, tmp_path) -> None:
    published = json.loads((FIXTURES / "gpt35_1106_subset.json").read_text(encoding="utf-8"))["annotations"]
    rows = [json.loads(x) for x in (datasets_dir / "alpaca_eval/alpaca_eval.jsonl").read_text("utf-8").splitlines()]
    indices = [a["index"] for a in published] + [FAIL_PARSE, FAIL_CALL]
    instructions = [rows[i]["instruction"] for i in indices]
    assert not any(a in b for a in instructions for b in instructions if a is not b)  # rules match one each
    outputs = [a["output"] for a in published] + ["FAIL-PARSE answer", "FAIL-CALL answer"]
    model = test_server(rules=[{"match": q, "answer": o} for q, o in zip(instructions, outputs, strict=True)])
    judge_rules = [
        {"match": rows[a["index"]]["instruction"], "answer": a["token"], "logprobs": dict(a["top_logprobs"])}
        for a in published
        if a["top_logprobs"] is not None
    ]
    judge_rules += [
        {"match": instructions[-2], "answer": "The", "logprobs": {"The": -0.01, "Both": -4.0}},
        {"match": instructions[-1], "answer": "m", "fault": "http_500"},
    ]
    judge = test_server(rules=judge_rules, require_api_key=KEY)
    data = subset_dir(datasets_dir, indices, tmp_path / "data")
    judge_args = json.dumps({"model_id": "gpt-4-1106-preview", "api_url": judge.url, "api_key": KEY})
    proc = assay(
        "eval", "--model", "gpt-3.5-turbo-1106", "--api-url", model.url, "--datasets", "alpaca_eval",
        "--dataset-dir", str(data), "--work-dir", str(tmp_path / "w"), "--no-progress", "--retries", "1",
        "--judge-model-args", judge_args, "--judge-worker-num", "3", "--eval-batch-size", "4",
        check=3,
    )  # fmt: skip  # 3: two samples not judged
    run = run_dir_of(proc)

    # the official get_winrate on the published preferences (the identical-output draw 1.5 among them)
    prefs = [a["preference"] for a in published]
    x = [p - 1 for p in prefs]
    win_rate, se = 100 * statistics.mean(x), 100 * statistics.stdev(x) / math.sqrt(len(x))
    sec = section(report_items(run, 3), "alpaca_eval")
    row = sec["rows"][0]
    assert (row["version"], row["reference"], row["judged"], row["judge_failures"], row["errors"]) == (
        "2.0", "gpt4_1106_preview", 17, 2, 0
    )  # fmt: skip
    assert row["win_rate"] == pytest.approx(win_rate, abs=1e-7)
    assert row["standard_error"] == pytest.approx(se, abs=1e-7)
    assert (row["n_total"], row["n_draws"]) == (17, 1)
    assert row["n_wins"] == sum(v > 0.5 for v in x) and row["n_wins_base"] == sum(v < 0.5 for v in x)
    assert row["discrete_win_rate"] == pytest.approx(
        100 * statistics.mean([round(p) - 1 if p != 1.5 else 0.5 for p in prefs])
    )
    assert row["avg_length"] == int(statistics.mean(len(o) for o in outputs))
    assert row["length_controlled_winrate"] is None and "HF_HUB_OFFLINE is set" in row["lc_note"]
    # the kernel table: win_rate's mean with coverage, judge failures counted and never a score
    table = {r["metric"]: r for r in report_items(run, 3) if r.get("metric")}
    assert table["win_rate"]["score"] == pytest.approx(win_rate / 100, abs=1e-9)
    assert (table["win_rate"]["num"], table["win_rate"]["judged"], table["win_rate"]["judge_failures"]) == (17, 17, 2)
    assert table["win_rate"]["coverage"] == f"{win_rate / 100:.3f} on 17/19 judged; 2 judge failures"

    # every judged sample's preference equals the published one, in the order it was shown
    scored = {e["sample_id"]: e for e in bodies(run, "Scored") if e["metric"] == "win_rate"}
    for i, a in enumerate(published):
        assert scored[f"alpaca_eval/default/{i}"]["value"] + 1 == pytest.approx(a["preference"], abs=1e-9)
    judged = {e["sample_id"]: e for e in bodies(run, "Judged")}
    assert len(judged) == 18  # 16 published, the malformed one, the failed call; the identical pair not asked
    assert "alpaca_eval/default/16" not in judged
    assert scored["alpaca_eval/default/16"]["explanation"] == "identical outputs: a draw"
    first = judged["alpaca_eval/default/0"]
    assert first["order"] == "BA" and first["candidates"] == ["gpt-3.5-turbo-1106", "gpt4_1106_preview"]
    assert [m["role"] for m in first["messages"]] == ["system", "user"]
    user = first["messages"][1]["content"]
    assert f'"instruction": """{instructions[0]}""",' in user
    assert f'"model_identifier": "m",\n        "output": """{outputs[0]}"""' in user  # switched: the model is m
    assert first["value"] == pytest.approx(published[0]["preference"], abs=1e-9)
    req = judge.server.requests[0]
    assert (req["max_tokens"], req["temperature"], req["logprobs"], req["top_logprobs"]) == (1, 1, True, 5)
    assert "unparseable verdict" in judged["alpaca_eval/default/17"]["reason"]
    assert "HTTP 500" in judged["alpaca_eval/default/18"]["reason"]
    failed = sorted(e["sample_id"] for e in bodies(run, "SampleFailed"))
    assert failed == ["alpaca_eval/default/17", "alpaca_eval/default/18"]
    text = (run / "events.jsonl").read_text(encoding="utf-8")
    assert KEY not in text and KEY not in proc.stdout and KEY not in proc.stderr
    assert "AlpacaEval (get_winrate; judge failures left out)" in proc.stdout

    # the length-controlled win rate once the GLM's baseline data lies beside the files (a constructed
    # df_gamed.csv; the fit itself is tested in test_alpacaeval_glm.py): the report is a projection
    if importlib.util.find_spec("sklearn") is None:  # the plugin installed alone: no [lc] extra
        lc = section(report_items(run, 3), "alpaca_eval")["rows"][0]
        assert lc["length_controlled_winrate"] is None and "needs scikit-learn" in lc["lc_note"]
    else:
        gamed = ["model,index,preference,std_delta_len,instruction_difficulty,not_gamed_baseline"]
        for i in range(len(indices)):
            gamed += [
                f"verbose,{i},{(i + 3) / 25},-1.0,{(i - 9) / 10},False",
                f"concise,{i},{(i + 1) / 25},0.8,{(i - 9) / 10},False",
            ]
        (data / "alpaca_eval/df_gamed.csv").write_text("\n".join(gamed) + "\n", encoding="utf-8")
        from assay_alpacaeval.glm import GamedData, length_controlled

        refs = json.loads((data / "alpaca_eval/gpt4_1106_preview/model_outputs.json").read_text(encoding="utf-8"))
        expected = length_controlled(
            prefs, [len(r["output"]) for r in refs[:17]], [len(o) for o in outputs[:17]], list(range(17)),
            GamedData.read(data / "alpaca_eval/df_gamed.csv"),
        )  # fmt: skip
        lc = section(report_items(run, 3), "alpaca_eval")["rows"][0]
        assert lc["length_controlled_winrate"] == pytest.approx(
            expected["length_controlled_winrate"], abs=1e-6
        )  # prefs read back as (p - 1) + 1
        assert lc["lc_source"] == str(data / "alpaca_eval/df_gamed.csv") and "lc_note" not in lc
        assert lc["win_rate"] == row["win_rate"]

    # resume: nothing generated or judged again but the failed call (asked again: it fails again, twice with
    # its retry); the unparseable verdict is a verdict and is not asked again
    calls, gens = judge.server.count, model.server.count
    assay("resume", str(run), "--judge-model-args", judge_args, check=3)
    assert (judge.server.count - calls, model.server.count) == (2, gens)
    resumed = [e["sample_id"] for e in bodies(run, "Judged")][18:]
    assert resumed == ["alpaca_eval/default/18"]

    # rescore: the logged verdicts read again, no judge call, the same figures
    calls = judge.server.count
    rescored = run_dir_of(assay("rescore", str(run), "--work-dir", str(tmp_path / "r"), check=3))
    assert judge.server.count == calls
    again = section(report_items(rescored, 3), "alpaca_eval")["rows"][0]
    assert (again["win_rate"], again["standard_error"], again["judged"], again["judge_failures"]) == (
        row["win_rate"], row["standard_error"], 17, 2
    )  # fmt: skip


def test_alpaca_eval_needs_a_judge(datasets_dir, tmp_path) -> None:
    proc = assay(
        "eval", "--datasets", "alpaca_eval", "--limit", "1", "--dataset-dir", str(datasets_dir),
        "--work-dir", str(tmp_path), "--no-progress", check=2,
    )  # fmt: skip
    assert "alpaca_eval is scored by a judge" in proc.stderr and "--judge-model-args" in proc.stderr

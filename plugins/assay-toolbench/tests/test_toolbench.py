"""ToolBench-Static on the real out_of_domain file: steps, prompt, the official step metrics,
bad rows, and `assay eval` through the CLI against the test server.

Expected figures: 400 conversations (toolbench_static/SOURCE.md) holding 1,146 caller turns and
294 conclusion turns (counted in the test from the file), so 1,146 call steps and 294 finish
steps, plus 107 give-up steps; the prompt from alpha-UMi's prompt_lib.py (toolbench_backbone),
the step rules from prepro_backbone.py, the metrics from evaluate-backbone.py.
"""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay.events import Generated, SampleLoaded
from assay.plugins import PluginHost
from assay_testserver.testing import cli_eval, rows_by
from assay_toolbench.benchmark import SCORER, ToolBenchStatic, input_f1, parse_output


def _load(**kw):
    args = BenchmarkArgs(name="toolbench_static", **kw)
    return list(ToolBenchStatic(args).load(args))


def test_steps_from_the_real_file(datasets_dir) -> None:
    data = json.loads((datasets_dir / "toolbench_static" / "out_of_domain.json").read_text(encoding="utf-8"))
    turns = Counter(t["from"] for c in data for t in c["conversations"])
    t0 = time.process_time()  # CPU seconds: wall time on the loaded 2-core box is noise
    s = _load(dataset_dir=str(datasets_dir))
    assert time.process_time() - t0 < 3.0
    assert len(data) == 400 and (turns["caller"], turns["conclusion"]) == (1146, 294)
    assert Counter(x.subset for x in s) == {
        "out_of_domain/call": 1146,
        "out_of_domain/finish": 294,
        "out_of_domain/give_up": 107,
    }
    first = s[0]
    conv = data[0]
    doc = "".join(json.dumps(t) + "\n" for t in conv["tools"])
    names = ", ".join(t["Name"] for t in conv["tools"])
    assert first.messages == [
        {
            "role": "user",
            "content": f"You have assess to the following apis:\n{doc}\nThe conversation history is:\n"
            f"user: {conv['conversations'][0]['value']}</s>\n"
            "You should answer the action of next step in the following format:\nThe thought to solve the question,\n"
            f"Action: the name of api that should be called in this step, should be exactly in [{names}],\n"
            "Action Input: the api call request.\nOnce you think the question is finished, output conclusion: the final "
            "answer of the question or give up if you think you cannot answer this question.\n assistant: ",
        }
    ]
    assert first.target == (
        conv["conversations"][1]["value"].replace("Next: caller.", "").strip()
        + "\n"
        + conv["conversations"][2]["value"]
    )
    fin = next(x for x in s if x.subset == "out_of_domain/finish")
    assert "\nconclusion: " in fin.target and parse_output(fin.target)[0] == "finish"
    gu = next(x for x in s if x.subset == "out_of_domain/give_up")
    assert gu.target.endswith("\nconclusion: give up.") and parse_output(gu.target)[0] == "give up"
    # the give-up step's history holds the earlier steps: assistant text + call, then the observation
    assert "observation: 403 - Forbidden" in gu.messages[0]["content"]


def test_parse_and_f1() -> None:
    assert parse_output('Thinking.\nAction: get_x\nAction Input: {"a": 1}') == ("call", "get_x", '{"a": 1}', None)
    assert parse_output("no format at all") == ("call", "none", "{}", None)
    assert parse_output("done\nconclusion: Paris is the capital.") == ("finish", None, None, "Paris is the capital.")
    assert parse_output("sorry\nconclusion: give up.") == ("give up", None, None, None)
    assert input_f1("f", "f", '{"a": 1, "b": 2}', '{"a": 1, "b": 2}') == pytest.approx(1.0)
    assert input_f1("f", "f", '{"a": 1, "b": 3}', '{"a": 1, "b": 2}') == pytest.approx(
        0.75
    )  # b half: (1+.5)/2 both ways
    assert input_f1("f", "f", '{"a": 1}', '{"a": 1, "b": 2}') == pytest.approx(
        2 * 0.5 * 1 / 1.5
    )  # recall .5, precision 1
    assert input_f1("g", "f", '{"a": 1}', '{"a": 1}') == 0.0  # another action
    assert input_f1("f", "f", "{a: 1}", '{"a": 1}') == 0.0  # unreadable arguments
    assert input_f1("f", "f", "{}", "{}") == 1.0 and input_f1("f", "f", '{"a": 1}', "{}") == 0.0
    assert input_f1("f", "f", '{"c": 1}', '{"a": 1}') == 0.0  # nothing matched (0/0 in the original, caught as 0)


def test_scorer_metrics_by_step_kind() -> None:
    def score(target, out, names=("get_x",)):
        s = SampleLoaded(
            sample_id="x", benchmark="toolbench_static", target=target, metadata={"tool_names": list(names)}
        )
        return {sc.metric: sc.value for sc in SCORER.score(s, Generated(sample_id="x", model="m", output=out))}

    call = 'Plan.\nAction: get_x\nAction Input: {"a": 1}'
    assert score(call, call) == {"Plan.EM": 1.0, "HalluRate": 0.0, "Act.EM": 1.0, "F1": 1.0}
    assert score(call, "Action: get_y\nAction Input: {}") == {
        "Plan.EM": 1.0,
        "HalluRate": 1.0,
        "Act.EM": 0.0,
        "F1": 0.0,
    }
    fin = "ok\nconclusion: The answer is 42."
    got = score(fin, "conclusion: The answer is 42.")
    assert got == {"Plan.EM": 1.0, "HalluRate": 0.0, "Rouge-L": 1.0}
    assert score(fin, "<think>conclusion: The answer is 42.</think>no idea")["Plan.EM"] == 0.0


def test_bad_rows_and_options(tmp_path, datasets_dir) -> None:
    d = tmp_path / "toolbench_static"
    d.mkdir()
    (d / "out_of_domain.json").write_text(json.dumps([{"tools": [{"Name": "a"}], "conversations": [{"value": "hi"}]}]))
    with pytest.raises(AssayError, match=r"out_of_domain\.json: conversation 0: conversation turn 0 must be an object"):
        _load(dataset_dir=str(tmp_path))
    (d / "out_of_domain.json").write_text(json.dumps([{"tools": "none", "conversations": []}]))
    with pytest.raises(AssayError, match=r"conversation 0: 'tools' must be a list of tool docs with 'Name'"):
        _load(dataset_dir=str(tmp_path))
    with pytest.raises(AssayError, match=r"no in_domain\.json in .*toolbench_static"):
        _load(dataset_dir=str(datasets_dir), subset_list=["in_domain"])
    with pytest.raises(AssayError, match=r"no subset 'ood'"):
        _load(dataset_dir=str(datasets_dir), subset_list=["ood"])


def test_discovery() -> None:
    host = PluginHost()
    b = host.benchmarks()
    assert b["toolbench_static"].distribution == "assay-toolbench" and b["tool_bench"].distribution == "assay-toolbench"


@pytest.mark.slow
def test_cli_exact_scores(test_server, datasets_dir, tmp_path) -> None:
    s = _load(dataset_dir=str(datasets_dir))
    call, fin, gu = (next(x for x in s if x.subset == f"out_of_domain/{k}") for k in ("call", "finish", "give_up"))

    def tail(x):  # the end of the step's history: unique to its prompt
        return x.messages[0]["content"].split("\nYou should answer the action")[0][-200:]

    ref_action = parse_output(call.target)[1]
    ref_answer = parse_output(fin.target)[3]
    rules = [
        {"match": tail(call), "answer": f"I will call it.\nAction: {ref_action}\nAction Input: {{}}"},  # all right
        {"match": tail(fin), "answer": f"Done.\nconclusion: {ref_answer}"},  # the reference answer: Rouge-L 1
        {
            "match": tail(gu),
            "answer": 'Action: made_up_tool\nAction Input: {"x": 1}',
        },  # should give up; hallucinated tool
    ]
    srv = test_server(rules=rules)
    run_dir, report = cli_eval(
        "toolbench_static", api_url=srv.url, datasets_dir=datasets_dir, work_dir=tmp_path, limit=1
    )
    assert len(srv.requests) == 3

    def rows(metric):
        return {sub: (r["num"], r["score"]) for (_c, sub), r in rows_by(report, metric).items()}

    assert rows("Plan.EM") == {
        "out_of_domain/call": (1, 1.0),
        "out_of_domain/finish": (1, 1.0),
        "out_of_domain/give_up": (1, 0.0),
        "OVERALL": (3, pytest.approx(2 / 3)),
        "OVERALL (macro)": (3, pytest.approx(2 / 3)),
    }
    assert rows("HalluRate")["OVERALL"] == (3, pytest.approx(1 / 3))
    assert rows("Act.EM") == {"out_of_domain/call": (1, 1.0)}
    assert rows("F1") == {"out_of_domain/call": (1, 1.0)}
    assert rows("Rouge-L") == {"out_of_domain/finish": (1, 1.0)}
    assert all("pending" not in r for r in report if "metric" in r)

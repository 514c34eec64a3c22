"""IQuiz on a fixture (``<subset>/test.jsonl`` per subset; records as EvalScope documents them).

The records follow the format in EvalScope's iquiz adapter docstring and its documented sample
(``{"question", "choices", "answer": "D", "level"}``; the first IQ row is that sample, the
second one of the questions the IQuiz announcement quotes); the EQ rows are stand-ins. The
ModelScope repository's file layout could not be checked from here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay_iquiz import IQuiz
from assay_testserver.testing import cli_eval, bodies, rows_by

FIXTURES = Path(__file__).parent / "fixtures"


def _load(**kw):
    kw.setdefault("dataset_dir", str(FIXTURES))
    args = BenchmarkArgs(name="iquiz", **kw)
    return list(IQuiz(args).load(args))


def test_subsets_and_prompt() -> None:
    samples = _load()
    assert [(s.subset, s.id, s.target, s.metadata["level"]) for s in samples] == [
        ("IQ", "0", "D", 1),
        ("IQ", "1", "A", 1),
        ("EQ", "0", "B", 2),
        ("EQ", "1", "B", 1),
    ]
    # EvalScope's documented sample prompt, character for character
    assert samples[0].messages == [
        {
            "role": "user",
            "content": '回答下面的单项选择题，请选出其中的正确答案。你的回答的最后一行应该是这样的格式："答案：[LETTER]"（不带引号），'
            "其中 [LETTER] 是 A,B,C,D 中的一个。请在回答前进行一步步思考。\n\n问题：天气预报说本周星期三会下雨，昨天果然下雨了，"
            "今天星期几？\n选项：\nA) 星期一\nB) 星期二\nC) 星期三\nD) 星期四\n",
        }
    ]
    assert samples[1].messages[0]["content"].count("\n") == 7  # three choices, letters A,B,C
    assert "是 A,B,C 中的一个" in samples[1].messages[0]["content"]


def test_errors(tmp_path) -> None:
    d = tmp_path / "iquiz" / "IQ"
    d.mkdir(parents=True)
    with pytest.raises(AssayError, match=r"iquiz: no IQ/test\.jsonl in .*AI-ModelScope/IQuiz"):
        _load(dataset_dir=str(tmp_path))
    (d / "test.jsonl").write_text('{"question": "q", "choices": ["a", "b"], "answer": "C"}\n', encoding="utf-8")
    with pytest.raises(AssayError, match=r"IQ/test\.jsonl:1: answer 'C' is not the letter of one of the 2 choices"):
        _load(dataset_dir=str(tmp_path), subset_list=["IQ"])
    with pytest.raises(AssayError, match=r"no subset 'iq' .*available: IQ, EQ"):
        _load(subset_list=["iq"])
    with pytest.raises(AssayError, match=r"no huggingface id for iquiz \(it has modelscope 'AI-ModelScope/IQuiz'"):
        _load(dataset_dir=str(tmp_path / "nowhere"), dataset_hub="huggingface")


@pytest.mark.slow
def test_cli_exact_scores(test_server, tmp_path) -> None:
    rules = [
        {"match": "天气预报说本周星期三会下雨", "answer": "昨天是星期三，所以今天是星期四。\n答案：D"},
        {"match": "数字9.8和9.11哪个大", "answer": "答案：B"},  # wrong
        {"match": "同事在会议上当众指出", "answer": "应当感谢并核实。\n答案：B"},
        {"match": "朋友考试失利", "answer": "答案：E"},  # malformed: no option E
    ]
    srv = test_server(rules=rules, default_answer="不知道")
    run_dir, report = cli_eval("iquiz", api_url=srv.url, datasets_dir=FIXTURES, work_dir=tmp_path)
    assert {k[1]: (r["score"], r["num"]) for k, r in rows_by(report).items()} == {
        "IQ": (0.5, 2),
        "EQ": (0.5, 2),
        "OVERALL": (0.5, 4),
        "OVERALL (macro)": (0.5, 4),
    }
    scored = {e["sample_id"]: (e["value"], e.get("extracted")) for e in bodies(run_dir, "Scored")}
    assert scored == {
        "iquiz/IQ/0": (1.0, "D"),
        "iquiz/IQ/1": (0.0, "B"),
        "iquiz/EQ/0": (1.0, "B"),
        "iquiz/EQ/1": (0.0, None),
    }


def test_discovery() -> None:
    from importlib import metadata

    from assay.plugins import PluginHost

    host = PluginHost()
    [p] = [p for p in host.loaded if p.distribution == "assay-iquiz"]
    assert p.version == metadata.version("assay-iquiz")
    assert host.benchmarks()["iquiz"].distribution == "assay-iquiz"

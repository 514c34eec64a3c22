"""IFEval as a benchmark: discovery, loading, and `assay eval` over HTTP with exact scores.

The e2e test uses six real rows of input_data.jsonl (picked by key, copied unchanged to
a local file) and scripted responses; the expected figures are counted by hand below.
"""

from __future__ import annotations

import json

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay.plugins import PluginHost
from assay_ifeval.benchmark import IFEval
from assay_testserver.testing import run_dirs


def test_plugin_is_discovered():
    host = PluginHost()
    (p,) = [p for p in host.loaded if p.name == "ifeval"]
    assert p.distribution == "assay-ifeval" and p.version == "0.1.0"
    assert "ifeval" in host.benchmarks() and "ifeval" in host.scorers()


def test_loads_541_prompts(datasets_dir):
    args = BenchmarkArgs(name="ifeval", dataset_dir=str(datasets_dir))
    samples = list(IFEval(args).load(args))
    assert len(samples) == 541  # SOURCE.md
    first = samples[0]
    assert first.id == "1000" and first.messages == [{"role": "user", "content": first.messages[0]["content"]}]
    assert first.metadata["instruction_id_list"] == [
        "punctuation:no_comma",
        "detectable_format:number_highlighted_sections",
        "length_constraints:number_words",
    ]


def test_unknown_instruction_names_file_and_line(tmp_path):
    bad = {"key": 7, "prompt": "p", "instruction_id_list": ["keywords:nonsense"], "kwargs": [{}]}
    (tmp_path / "input_data.jsonl").write_text(
        '{"key": 1, "prompt": "p", "instruction_id_list": [], "kwargs": []}\n' + json.dumps(bad) + "\n"
    )
    args = BenchmarkArgs(name="ifeval", local_path=str(tmp_path))
    with pytest.raises(AssayError, match=r"input_data.jsonl:2: unknown instruction id 'keywords:nonsense'"):
        list(IFEval(args).load(args))


KEYS = [1001, 1021, 122, 1305, 1128, 1322]


def _responses(rows):
    bullets9 = "\n".join(f"* Name {i}" for i in range(9))
    return {
        # 1001 no_comma: the commas are only in the reasoning, which is stripped -> followed
        1001: "<think>Tokyo, Kyoto, Osaka</think>Visit Tokyo then Kyoto then Osaka.",
        # 1021 english_capital + 2 PARAGRAPH sections -> both followed
        1021: "PARAGRAPH 1\nTHIS SENTENCE IS CLEAR AND WELL WRITTEN.\nPARAGRAPH 2\nTHE CRITIQUE ENDS HERE WITH A SHORT NOTE.",
        # 122 quotation: a lead-in line breaks strict; loose (first line removed) follows
        122: 'Here is the post:\n"The internet changed how we live and work."',
        # 1305 postscript P.P.S followed, but 9 bullets instead of 10 -> 1 of 2
        1305: f"{bullets9}\n\nP.P.S. Congratulations!",
        # 1128 end phrase in bold: strict no, loose (asterisks removed) yes
        1128: "It is unclear.\n**Is there anything else I can help with?**",
        # 1322 no <<title>> -> not followed
        1322: "Kotlin is concise; Java is verbose.",
    }


def test_eval_against_the_http_server(tmp_path, datasets_dir, test_server):
    lines = (datasets_dir / "ifeval" / "input_data.jsonl").read_text(encoding="utf-8").splitlines()
    picked = [line for line in lines if json.loads(line)["key"] in KEYS]
    assert len(picked) == 6
    data = tmp_path / "data"
    data.mkdir()
    (data / "input_data.jsonl").write_text("\n".join(picked) + "\n", encoding="utf-8")
    rows = {json.loads(line)["key"]: json.loads(line) for line in picked}
    srv = test_server(rules=[{"match": rows[k]["prompt"], "answer": a} for k, a in _responses(rows).items()])
    from assay.cli import main

    work = tmp_path / "out"
    assert (
        main(
            [
                "eval",
                "--model",
                "m",
                "--api-url",
                srv.url,
                "--api-key",
                "EMPTY",
                "--datasets",
                "ifeval",
                "--dataset-args",
                json.dumps({"ifeval": {"local_path": str(data)}}),
                "--dataset-dir",
                str(datasets_dir),
                "--work-dir",
                str(work),
                "--no-progress",
            ]
        )
        == 0
    )
    (run,) = run_dirs(work)
    report = json.loads((run / "report.json").read_text())
    got = {r["metric"]: (r["num"], r["score"]) for r in report["rows"]}
    # prompts fully followed: strict 1001, 1021 -> 2/6; loose adds 122 and 1128 -> 4/6
    assert got["prompt_level_strict_acc"] == (6, pytest.approx(2 / 6))
    assert got["prompt_level_loose_acc"] == (6, pytest.approx(4 / 6))
    # 8 instructions (1+2+1+2+1+1); strict followed 1+2+0+1+0+0 = 4; loose 1+2+1+1+1+0 = 6
    assert got["inst_level_strict_acc"] == (8, 0.5)
    assert got["inst_level_loose_acc"] == (8, 0.75)
    assert len(srv.requests) == 6

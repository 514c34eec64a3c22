"""HellaSwag: the whole real validation file (llama.cpp layout), the official JSONL layout,
prompt shape, extraction, malformed files."""

from __future__ import annotations

import bz2
import json
import time
from importlib import metadata

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay.plugins import PluginHost
from assay_hellaswag import HellaSwag
from assay_mcq import extract_letter


def _load(datasets_dir, **kw):
    args = BenchmarkArgs(name="hellaswag", dataset_dir=str(datasets_dir), **kw)
    return list(HellaSwag(args).load(args))


def test_whole_validation_file(datasets_dir) -> None:
    # CPU time, not wall time: the dev machine is shared, and waiting for a core is not our cost
    t0 = time.process_time()
    samples = _load(datasets_dir)
    assert time.process_time() - t0 < 3.0
    assert len(samples) == 10042  # hellaswag/SOURCE.md; official validation size
    assert [s.id for s in samples[:3]] == ["0", "1", "2"] and samples[-1].id == "10041"
    assert {ltr: sum(s.target == ltr for s in samples) for ltr in "ABCD"} == {
        "A": 2515,
        "B": 2485,
        "C": 2584,
        "D": 2458,
    }
    first = samples[0]
    # SOURCE.md: the first item is "Roof shingle removal", label 3
    assert first.target == "D" and first.metadata["activity_label"] == "Roof shingle removal"
    assert first.metadata["source"].endswith("hellaswag_val_full.txt.bz2:1")
    assert samples[-1].metadata["source"].endswith(":60247")
    assert all("[title]" not in c and "[step]" not in c for s in samples for c in s.choices)


def test_prompt_shape(datasets_dir) -> None:
    s = _load(datasets_dir)[0]
    assert s.messages == [
        {
            "role": "user",
            "content": "Answer the following multiple choice question. The entire content of your response should "
            "be of the following format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of A,B,C,D.\n\n"
            "A man is sitting on a roof. he\n\n"
            "A) is using wrap to wrap a pair of skis.\nB) is ripping level tiles off.\n"
            "C) is holding a rubik's cube.\nD) starts pulling up roofing on a roof.",
        }
    ]


OFFICIAL = [
    {
        "ind": 4,
        "activity_label": "Removing ice from car",
        "ctx_a": "Then, the man writes over the snow covering the window of a car, and a woman wearing winter clothes smiles.",
        "ctx_b": "then",
        "endings": [
            ", the man adds wax to the windshield and cuts it.",
            ", a person board a ski lift.",
            ", the man puts on a christmas coat.",
            ", the man continues removing the snow on his car.",
        ],
        "label": "3",
    },
    {
        "ind": 9,
        "activity_label": "Making a sandwich",
        "ctx_a": "[header] How to make a sandwich [title] Get bread.",
        "ctx_b": "",
        "endings": ["[step] Toast it.", "Eat it.  Now.", "x", "y"],
        "label": 0,
    },
]


def test_official_jsonl_layout(tmp_path) -> None:
    d = tmp_path / "hellaswag"
    d.mkdir()
    (d / "hellaswag_val.jsonl").write_text("".join(json.dumps(r) + "\n" for r in OFFICIAL), encoding="utf-8")
    # the JSONL is preferred when both layouts are present
    (d / "hellaswag_val_full.txt.bz2").write_bytes(bz2.compress(b"garbage\n"))
    a, b = _load(tmp_path)
    assert a.id == "4" and a.target == "D" and a.metadata["activity_label"] == "Removing ice from car"
    # EvalScope's context: ctx_a + " " + ctx_b.capitalize()
    assert "winter clothes smiles. Then\n\nA) , the man adds wax" in a.messages[0]["content"]
    assert b.target == "A" and b.choices == ["Toast it.", "Eat it. Now.", "x", "y"]
    assert "\n\nHow to make a sandwich. Get bread.\n\n" in b.messages[0]["content"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("Act: ctx\n3\na\nb\nc\n", r"5 lines, not a multiple of 6"),
        ("Act: ctx\n4\na\nb\nc\nd\n", r"\.bz2:1: label '4' is not 0-3"),
        ("Act: ctx\n1\na\nb\nc\nd\nno label here\n0\na\nb\nc\nd\n", r"\.bz2:7: expected 'activity label: context'"),
        ("Act: ctx\n1\na\n\nc\nd\n", r"\.bz2:1: blank line inside an item"),
        ("", r"holds no samples"),
    ],
)
def test_malformed_text_layout(tmp_path, content, message) -> None:
    d = tmp_path / "hellaswag"
    d.mkdir()
    (d / "hellaswag_val_full.txt.bz2").write_bytes(bz2.compress(content.encode()))
    with pytest.raises(AssayError, match=message):
        _load(tmp_path)


def test_cut_short_bz2_and_bad_args(tmp_path, datasets_dir) -> None:
    d = tmp_path / "hellaswag"
    d.mkdir()
    whole = bz2.compress(b"Act: ctx\n1\na\nb\nc\nd\n" * 50)
    (d / "hellaswag_val_full.txt.bz2").write_bytes(whole[:-20])
    with pytest.raises(AssayError, match=r"hellaswag_val_full\.txt\.bz2: cannot read"):
        _load(tmp_path)
    with pytest.raises(
        AssayError, match=r"eval_split = 'test': expected one of validation, val \(only validation has labels\)"
    ):
        _load(datasets_dir, eval_split="test")


@pytest.mark.parametrize(
    ("reply", "letter"),
    [("ANSWER: D", "D"), ("The answer is B.", "B"), ("starts pulling up roofing on a roof.", "D"), ("E", None)],
)
def test_extraction(reply, letter) -> None:
    choices = [
        "is using wrap",
        "is ripping level tiles off.",
        "is holding a cube.",
        "starts pulling up roofing on a roof.",
    ]
    assert extract_letter(reply, "ABCD", choices)[0] == letter


def test_discovery() -> None:
    host = PluginHost()
    [p] = [p for p in host.loaded if p.name == "hellaswag"]
    assert (p.distribution, p.version) == ("assay-hellaswag", metadata.version("assay-hellaswag"))
    assert host.benchmarks()["hellaswag"].distribution == "assay-hellaswag"

"""GSM8K: discovery contract, extraction on real rows, prompt building."""

from __future__ import annotations

import json

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay_gsm8k.benchmark import GSM8K
from assay_gsm8k.extract import extract, normalize, target_of


def test_discovery_contract(plugin_host):
    entry = plugin_host.benchmarks()["gsm8k"]
    assert entry.distribution == "assay-gsm8k"
    assert "gsm8k_acc" in plugin_host.scorers()
    assert {"distribution": "assay-gsm8k", "version": "0.1.0", "entry_point": "gsm8k"} in plugin_host.versions()


def test_every_gold_answer_parses(datasets_dir):
    rows = [json.loads(line) for line in open(datasets_dir / "gsm8k" / "test.jsonl", encoding="utf-8")]
    targets = [target_of(r["answer"]) for r in rows]
    assert len(targets) == 1319
    # row 0 (Janet's ducks) is 18; some gold answers carry thousands separators or are negative
    assert targets[0] == "18"
    assert all(t.lstrip("-").isdigit() for t in targets)


@pytest.mark.parametrize(
    ("text", "expected", "rule"),
    [
        ("She makes 9 * 2 = $18.\n#### 18", "18", "####"),
        ("#### 1,000", "1000", "####"),
        ("#### $5.00", "5", "####"),
        ("The answer is 42.", "42", "answer is"),
        ("so the final answer is: **-3**", "-3", "answer is"),
        ("ANSWER: 7", "7", "answer is"),
        ("Thus \\boxed{12}", "12", "boxed"),
        ("<think>maybe #### 3</think>I think it costs 20 dollars, not 25.", "25", "last number"),
        ("no idea", None, "none"),
        ("#### 0.50", "0.5", "####"),
    ],
)
def test_extraction_rules(text, expected, rule):
    assert extract(text) == (expected, rule)


def test_normalize():
    assert normalize("1,234.0") == "1234" and normalize("12%") == "12" and normalize("abc") is None


def test_normalize_of_whole_numbers_is_decimals():
    """Whole numbers take a short path (per sample: the gold answer and the extracted one): Decimal's text."""
    from decimal import Decimal

    for s in ["0", "000", "007", "18", "1,234", "$ 5", "12%", "9" * 28, "1" + "0" * 27, "١٢"]:
        t = s.replace(",", "").replace("$", "").replace(" ", "").rstrip("%")
        assert normalize(s) == str(Decimal(t).quantize(Decimal(1))), s


def test_prompt_has_few_shots_and_question(datasets_dir):
    args = BenchmarkArgs(name="gsm8k", dataset_dir=str(datasets_dir), few_shot_num=2)
    first = next(iter(GSM8K(args).load(args)))
    content = first.messages[-1]["content"]
    assert content.count("Question:") == 3 and "Janet" in content and "<<" not in content
    assert first.target == "18" and first.subset == "main"


def test_malformed_row_names_file_and_line(tmp_path):
    d = tmp_path / "gsm8k"
    d.mkdir()
    (d / "train.jsonl").write_text('{"question": "q", "answer": "a #### 1"}\n')
    (d / "test.jsonl").write_text('{"question": "q", "answer": "#### 2"}\n{"question": "q2", "answer": 3\n')
    args = BenchmarkArgs(name="gsm8k", dataset_dir=str(tmp_path), few_shot_num=1)
    with pytest.raises(AssayError, match=r"test.jsonl:2: invalid JSON"):
        list(GSM8K(args).load(args))

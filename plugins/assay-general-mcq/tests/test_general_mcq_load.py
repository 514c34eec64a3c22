"""general_mcq: the user's CSV/JSONL files (CRLF, quoted newlines, 3 options), errors, discovery."""

from __future__ import annotations

from importlib import metadata

import pytest
from assay.api import AssayError, BenchmarkArgs
from assay.plugins import PluginHost
from assay_general_mcq import GeneralMCQ


def _load(local_path, **kw):
    args = BenchmarkArgs(name="general_mcq", local_path=str(local_path), **kw)
    return list(GeneralMCQ(args).load(args))


def test_folder_of_subsets(tmp_path, mcq_set) -> None:
    samples = _load(mcq_set(tmp_path / "mine"), few_shot_num=1)
    by = {(s.subset, s.id): s for s in samples}
    assert sorted(by) == [
        ("example", "q1"),
        ("example", "q2"),
        ("example", "q3"),
        ("more", "1"),
        ("more", "line2"),
    ]
    q1 = by[("example", "q1")]
    assert q1.choices == ["4", "6", "7", "9"] and q1.target == "C"
    assert "Which is a prime,\nnumber?\nA. 4" in q1.messages[0]["content"]  # CRLF inside a quoted field -> \n
    assert q1.messages[0]["content"].startswith(
        "The following are multiple choice questions (with answers) about example.\n\n2+2?\nA. 3"
    )
    assert (
        by[("example", "q2")].choices == ["hi", "bye"]
        and by[("example", "q2")].messages[0]["content"].count('Say "hi"') == 1
    )
    assert by[("example", "q3")].target == "B"  # lower-case answer accepted
    assert by[("more", "1")].target == "E" and len(by[("more", "1")].choices) == 5
    assert by[("more", "1")].metadata["source"].endswith("more_val.jsonl:1")


def test_single_file_and_subset_list(tmp_path, mcq_set) -> None:
    root = mcq_set(tmp_path / "mine")
    assert [s.id for s in _load(root / "example_val.csv")] == ["q1", "q2", "q3"]
    assert {s.subset for s in _load(root, subset_list=["more"])} == {"more"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "id,question,A,B,answer\n1,q,x,y,C\n",
            r"bad_val\.csv:2: answer 'C' is not one of the option letters A, B",
        ),
        (
            "id,question,A,B,C,answer\n1,q,x,,z,A\n",
            r"bad_val\.csv:2: option B is empty but a later one is not",
        ),
        ("id,question,A,answer\n1,q,x,A\n", r"bad_val\.csv:2: needs option columns A and B"),
        ("id,question,A,B,answer\n1,q,x,y,A\n1,r,x,y,B\n", r"bad_val\.csv:3: duplicate id '1'"),
        ("id,question,A,B\n1,q,x,y\n", r"bad_val\.csv:1: missing column\(s\) 'answer'"),
        ('id,question,A,B,answer\n1,"q,x,y,A\n', r"bad_val\.csv:2: malformed CSV record"),
    ],
)
def test_bad_files_name_file_and_line(tmp_path, content, message) -> None:
    (tmp_path / "bad_val.csv").write_text(content, encoding="utf-8")
    with pytest.raises(AssayError, match=message):
        _load(tmp_path)


def test_local_path_is_required_and_few_shot_needs_dev(tmp_path, mcq_set) -> None:
    with pytest.raises(AssayError, match="local_path is required"):
        GeneralMCQ(BenchmarkArgs(name="general_mcq"))
    root = mcq_set(tmp_path / "m")
    (root / "more_dev.jsonl").unlink()
    with pytest.raises(AssayError, match="no more_dev.csv"):
        _load(root, subset_list=["more"], few_shot_num=2)


def test_discovery() -> None:
    host = PluginHost()
    [p] = [p for p in host.loaded if p.name == "general_mcq"]
    assert (p.distribution, p.version) == ("assay-general-mcq", metadata.version("assay-general-mcq"))
    assert host.benchmarks()["general_mcq"].distribution == "assay-general-mcq"

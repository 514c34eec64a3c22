"""assay-datasets' readers: one error contract (file:line, byte offset, empty, missing) and long CSV fields."""

from __future__ import annotations

import re

import pytest
from assay.api import AssayError
from assay_datasets.files import DataError, read_csv, read_csv_dicts, read_json, read_jsonl, read_lines, read_text


def test_not_utf8_names_line_and_byte_offset(tmp_path) -> None:
    p = tmp_path / "latin.jsonl"
    good = b'{"q": "a"}\n{"q": "b"}\n'
    p.write_bytes(good + '{"q": "caf\xe9"}\n'.encode("latin-1"))
    offset = len(good) + len('{"q": "caf')
    with pytest.raises(DataError) as info:
        list(read_jsonl(p))
    assert str(info.value) == (
        f"{p}: not UTF-8 text (line 3, byte offset {offset}: byte 0xe9, invalid continuation byte); save the file as UTF-8"
    )
    assert isinstance(info.value, AssayError)
    csv_p = tmp_path / "latin.csv"
    csv_p.write_bytes("a,b\n1,x\n2,caf\xe9\n".encode("latin-1"))
    with pytest.raises(DataError, match=re.escape(f"{csv_p}: not UTF-8 text (line 3, byte offset 13: byte 0xe9")):
        list(read_csv_dicts(csv_p))


@pytest.mark.parametrize("content", [b"", b"\n\n  \r\n"])
def test_an_empty_file_holds_no_samples(tmp_path, content) -> None:
    p = tmp_path / "e.jsonl"
    p.write_bytes(content)
    expected = f"{p}: holds no samples (the file is empty or has no data rows)"
    for read in (read_jsonl, read_csv, read_lines):
        with pytest.raises(DataError) as info:
            list(read(p))
        assert str(info.value) == expected
    for read in (read_json, read_text):
        with pytest.raises(DataError) as info:
            read(p)
        assert str(info.value) == expected
    assert list(read_jsonl(p, allow_empty=True)) == []


def test_a_header_without_rows_holds_no_samples(tmp_path) -> None:
    p = tmp_path / "h.csv"
    p.write_text("question,answer\r\n", encoding="utf-8")
    with pytest.raises(DataError, match=re.escape(f"{p}: holds no samples")):
        list(read_csv_dicts(p, required=("question",)))


def test_missing_file_and_directory(tmp_path) -> None:
    with pytest.raises(DataError) as info:
        list(read_jsonl(tmp_path / "none.jsonl"))
    assert str(info.value) == f"{tmp_path / 'none.jsonl'}: file not found"
    with pytest.raises(DataError) as info:
        list(read_csv(tmp_path))
    assert str(info.value) == f"{tmp_path}: is a directory, expected a file"


def test_bad_rows_name_file_and_line(tmp_path) -> None:
    p = tmp_path / "x.jsonl"
    p.write_text('{"a": 1}\n\n{"a": 2,}\n', encoding="utf-8")
    with pytest.raises(DataError) as info:
        list(read_jsonl(p))
    assert str(info.value) == f"{p}:3: invalid JSON (Expecting property name enclosed in double quotes at column 9)"
    j = tmp_path / "x.json"
    j.write_text('{\n  "examples": [1,\n  ]\n}\n', encoding="utf-8")
    with pytest.raises(DataError, match=re.escape(f"{j}:3: invalid JSON")):
        read_json(j)


def test_csv_fields_over_128_kib_are_data(tmp_path) -> None:
    long = "word " * 60_000  # 300,000 characters, past csv's default 131,072 limit
    p = tmp_path / "long.csv"
    p.write_text(f'question,answer\n"{long}",A\nshort,B\n', encoding="utf-8")
    rows = list(read_csv_dicts(p))
    assert [(line, len(r["question"]), r["answer"]) for line, r in rows] == [(2, 300_000, "A"), (3, 5, "B")]
    t = tmp_path / "long.tsv"
    t.write_text(f"a\t{long}\n", encoding="utf-8")
    assert [len(f[1]) for _, f in read_csv(t, delimiter="\t", quoting=False)] == [300_000]


def test_tab_files_read_quotes_verbatim(datasets_dir) -> None:
    # STS-B: TAB-separated, no quoting, texts with unbalanced quotes; sts-dev.csv has 1500 rows (stsb/SOURCE.md)
    rows = list(read_csv(datasets_dir / "stsb" / "sts-dev.csv", delimiter="\t", quoting=False, min_columns=7))
    assert len(rows) == 1500
    assert any('"' in f[5] or '"' in f[6] for _, f in rows)


def test_gzipped_jsonl_and_its_damage(tmp_path, datasets_dir) -> None:
    real = datasets_dir / "humaneval" / "HumanEval.jsonl.gz"
    rows = list(read_jsonl(real))
    assert len(rows) == 164 and rows[0][1]["task_id"] == "HumanEval/0"  # humaneval/SOURCE.md: 164 problems
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(real.read_bytes()[:4000])
    with pytest.raises(DataError) as info:
        list(read_jsonl(cut))
    assert str(info.value) == f"{cut}: the compressed file is cut short"
    plain = tmp_path / "plain.jsonl.gz"
    plain.write_text('{"a": 1}\n', encoding="utf-8")
    with pytest.raises(DataError, match=re.escape(f"{plain}: cannot read (Not a gzipped file")):
        list(read_jsonl(plain))

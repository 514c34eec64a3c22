"""CSV/JSONL readers on the real files (CRLF, headerless, multi-line fields) and bad input."""

from __future__ import annotations

import pytest
from assay_mcq import MCQDataError, read_csv, read_csv_dicts, read_jsonl


def test_ceval_crlf_file(datasets_dir) -> None:
    path = datasets_dir / "ceval" / "val" / "accountant_val.csv"
    assert b"\r\n" in path.read_bytes()  # the file really is CRLF (ceval/SOURCE.md)
    rows = list(read_csv_dicts(path, required=("id", "question", "a", "b", "c", "d", "answer")))
    # row count: ceval/SOURCE.md lists accountant_val.csv; 49 records = 50 lines - header
    assert len(rows) == 49
    assert all("\r" not in v for _, r in rows for v in r.values())
    assert rows[0][0] == 2 and rows[0][1]["id"] == "0" and rows[0][1]["answer"] == "D"


def test_mmlu_headerless_multiline_records_keep_their_start_line(datasets_dir) -> None:
    # high_school_european_history has passages with newlines inside quoted fields
    path = datasets_dir / "mmlu" / "test" / "high_school_european_history_test.csv"
    rows = list(read_csv(path, columns=6))
    assert len(rows) == 165  # mmlu/SOURCE.md: 165 rows for this file (canonical MMLU count)
    multi = [(line, r) for line, r in rows if "\n" in r[0]]
    assert multi, "expected multi-line question fields"
    lines = path.read_text(encoding="utf-8").split("\n")
    for line, r in rows:
        # the reported line is where the record starts: the raw line opens with the question
        head = r[0].split("\n")[0][:20]
        raw = lines[line - 1]
        assert raw.startswith((head, '"' + head.replace('"', '""'))), (line, head, raw[:40])
    # doubled quotes inside a quoted field read as one quote (file lines 2-3 of this CSV)
    first = rows[0][1][0]
    assert 'the term "Protoplasm," which' in first and '""' not in first
    assert 'Huxley, "The Physical Basis of Life," 1868' in first
    # line numbers increase strictly
    assert [ln for ln, _ in rows] == sorted({ln for ln, _ in rows})


def test_every_shared_mcq_csv_parses(datasets_dir) -> None:
    # row counts from each SOURCE.md: MMLU test 14042 / dev 285 / val 1531; C-Eval val 1346 / dev 260;
    # CMMLU test 11582 / dev 335 (header excluded)
    expect = {
        ("mmlu", "test"): 14042,
        ("mmlu", "dev"): 285,
        ("mmlu", "val"): 1531,
        ("ceval", "val"): 1346,
        ("ceval", "dev"): 260,
        ("cmmlu", "test"): 11582,
        ("cmmlu", "dev"): 335,
    }
    for (bench, split), n in expect.items():
        total = 0
        for p in sorted((datasets_dir / bench / split).glob("*.csv")):
            if bench == "mmlu":
                total += sum(1 for _ in read_csv(p, columns=6))
            else:
                total += sum(1 for _ in read_csv_dicts(p))
        assert total == n, (bench, split)


def test_wrong_field_count_names_file_and_line(tmp_path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text('q1,a,b,c,d,A\n"multi\nline q",a,b,c,d,B\nq3,a,b,c,D\n', encoding="utf-8")
    with pytest.raises(MCQDataError, match=r"bad\.csv:4: expected 6 fields, found 5"):
        list(read_csv(p, columns=6))


def test_header_mismatch_and_missing_columns(tmp_path) -> None:
    p = tmp_path / "h.csv"
    p.write_text("id,question,A,B,answer\n1,q,x,y,A\n2,q,x,y\n", encoding="utf-8")
    with pytest.raises(MCQDataError, match=r"h\.csv:3: expected 5 fields \(as the header\), found 4"):
        list(read_csv_dicts(p))
    with pytest.raises(MCQDataError, match=r"h\.csv:1: missing column\(s\) 'c'"):
        list(read_csv_dicts(p, required=("question", "c")))


def test_bad_quoting_and_encoding(tmp_path) -> None:
    p = tmp_path / "q.csv"
    p.write_text('a,b\n1,"x"y\n', encoding="utf-8")
    with pytest.raises(MCQDataError, match=r"q\.csv:2: malformed CSV record"):
        list(read_csv(p))
    p2 = tmp_path / "latin.csv"
    p2.write_bytes("a,b\n1,caf\xe9\n".encode("latin-1"))
    with pytest.raises(MCQDataError, match=r"latin\.csv: not UTF-8"):
        list(read_csv(p2))
    with pytest.raises(MCQDataError, match="file not found"):
        list(read_csv(tmp_path / "none.csv"))


def test_bom_and_blank_lines(tmp_path) -> None:
    p = tmp_path / "bom.csv"
    p.write_bytes("\ufeffid,question\r\n\r\n1,q\r\n".encode("utf-8"))
    assert list(read_csv_dicts(p)) == [(3, {"id": "1", "question": "q"})]


def test_jsonl_errors_name_the_line(tmp_path, datasets_dir) -> None:
    rows = list(read_jsonl(datasets_dir / "arc" / "ARC-Easy" / "ARC-Easy-Dev.jsonl"))
    assert len(rows) == 570  # arc/SOURCE.md
    p = tmp_path / "x.jsonl"
    p.write_text('{"a": 1}\n\n{"a": 2,}\n', encoding="utf-8")
    with pytest.raises(MCQDataError, match=r"x\.jsonl:3: invalid JSON"):
        list(read_jsonl(p))
    p.write_text("[1, 2]\n", encoding="utf-8")
    with pytest.raises(MCQDataError, match=r"x\.jsonl:1: expected a JSON object"):
        list(read_jsonl(p))

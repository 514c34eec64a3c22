"""assay-datasets' Arrow readers (parquet, Arrow IPC stream): rows numbered from 1, streamed, and the same
error contract as the text readers (the file named; missing, not the format, missing column, no rows)."""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.ipc
import pyarrow.parquet as pq
import pytest
from assay_datasets import DataError, read_arrow_stream, read_parquet

ROWS = [{"q": f"question {i}", "a": i, "extra": [i, i]} for i in range(150)]  # more than one 64-row batch


def _parquet(path, rows=ROWS):
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=40)
    return path


def _stream(path, rows=ROWS):
    table = pa.Table.from_pylist(rows)
    with pa.OSFile(str(path), "wb") as f, pyarrow.ipc.new_stream(f, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=50):
            writer.write_batch(batch)
    return path


@pytest.mark.parametrize(("read", "write"), [(read_parquet, _parquet), (read_arrow_stream, _stream)])
def test_rows_numbered_from_one_with_every_column_or_only_the_named(tmp_path, read, write) -> None:
    path = write(tmp_path / "data")
    rows = list(read(path, ["q"]))
    assert [n for n, _ in rows] == list(range(1, 151))
    assert [r for _, r in rows] == ROWS
    assert list(read(path, ["a", "q"], only=True))[149] == (150, {"a": 149, "q": "question 149"})


@pytest.mark.parametrize(
    ("read", "write", "what"),
    [(read_parquet, _parquet, "parquet file"), (read_arrow_stream, _stream, "Arrow stream")],
)
def test_errors_name_the_file(tmp_path, read, write, what) -> None:
    path = write(tmp_path / "data")
    with pytest.raises(DataError) as err:
        list(read(path, ["q", "answer", "choices"]))
    assert str(err.value) == f"{path}: missing column(s) answer, choices; columns are q, a, extra"
    missing = tmp_path / "none"
    with pytest.raises(DataError, match=f"^{re.escape(str(missing))}: file not found$"):
        list(read(missing))
    junk = tmp_path / "junk"
    junk.write_text('{"q": 1}\n')
    with pytest.raises(DataError, match=f"^{re.escape(str(junk))}: not a readable {what}"):
        list(read(junk))
    empty = write(tmp_path / "empty", rows=[])
    with pytest.raises(DataError, match=f"^{re.escape(str(empty))}: holds no samples"):
        list(read(empty))
    assert list(read(empty, allow_empty=True)) == []

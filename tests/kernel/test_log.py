"""The log's contract: dense seq, torn tails dropped and repaired, corruption reported by line."""

from __future__ import annotations

import os

import pytest
from assay.events import SampleLoaded, Scored
from assay.log import LogCorrupted, LogWriter, TornTail, iter_events, iter_raw, repair_tail
from assay_testserver.testing import assay


def _write(path, n, start=0):
    with LogWriter(path, "r1") as w:
        for i in range(start, start + n):
            w.append(Scored(sample_id=f"b/s/{i}", scorer="x", metric="acc", value=float(i % 2)))


def test_seq_is_dense_and_survives_reopen(tmp_path):
    path = tmp_path / "events.jsonl"
    _write(path, 5)
    _write(path, 3, start=5)
    seqs = [e.seq for e in iter_raw(path)]
    assert seqs == list(range(8))


def test_group_append_is_one_write(tmp_path, monkeypatch):
    path = tmp_path / "events.jsonl"
    writes: list[bytes] = []
    real_write = os.write

    def counting_write(fd, data):
        if fd == log_fd:
            writes.append(bytes(data))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", counting_write)
    sizes = [2, 5, 1, 300]  # events per group; flush_bytes=1 flushes after every group
    with LogWriter(path, "r1", flush_bytes=1) as w:
        log_fd = w._fd
        seqs = []
        for g, size in enumerate(sizes):
            group = [SampleLoaded(sample_id=f"b/s/{g}", benchmark="b")]
            group += [Scored(sample_id=f"b/s/{g}", scorer="x", metric=f"m{k}", value=1.0) for k in range(size - 1)]
            seqs.append([e.seq for e in w.append_many(group)])
    # one write call per group, holding exactly that group's lines, whole
    assert [chunk.count(b"\n") for chunk in writes] == sizes
    assert all(chunk.endswith(b"\n") for chunk in writes)
    assert b"".join(writes) == path.read_bytes()
    assert seqs == [[0, 1], [2, 3, 4, 5, 6], [7], list(range(8, 308))]
    assert [e.type for e in iter_events(path)][:3] == ["SampleLoaded", "Scored", "SampleLoaded"]


def test_torn_tail_is_skipped_and_repaired(tmp_path):
    path = tmp_path / "events.jsonl"
    _write(path, 4)
    with open(path, "ab") as f:
        f.write(b'{"v":1,"type":"Scored","seq":4,"ts":1.0,"run_id":"r1","body":{"sample_')
    torn = TornTail()
    assert len(list(iter_raw(path, torn=torn))) == 4
    assert torn.length > 0
    next_seq, removed = repair_tail(path)
    assert (next_seq, removed) == (4, torn.length)
    _write(path, 1, start=4)  # appending after repair continues the sequence
    assert [e.seq for e in iter_raw(path)] == [0, 1, 2, 3, 4]


def test_corrupt_terminated_line_names_its_line(tmp_path):
    path = tmp_path / "events.jsonl"
    _write(path, 3)
    lines = path.read_bytes().split(b"\n")
    lines[1] = b'{"v":1,"type":"Scored", this is not json}'
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(LogCorrupted) as info:
        list(iter_raw(path))
    assert info.value.line == 2
    assert "events.jsonl:2" in str(info.value)


def test_blank_line_is_corruption(tmp_path):
    path = tmp_path / "events.jsonl"
    _write(path, 2)
    path.write_bytes(path.read_bytes() + b"\n")
    with pytest.raises(LogCorrupted) as info:
        list(iter_raw(path))
    assert info.value.line == 3


def test_reader_streams_across_small_blocks(tmp_path):
    path = tmp_path / "events.jsonl"
    _write(path, 50)
    # a block smaller than a line forces lines to span reads
    assert [e.seq for e in iter_raw(path, block=17)] == list(range(50))


@pytest.mark.parametrize("torn", [b"", b'{"v":1,"type":"Sco'])
def test_blocks_are_the_complete_lines_with_their_numbers_whatever_the_block_size(tmp_path, torn):
    """iter_blocks (every reader's blocks): the bytes of the complete lines, in order, each block's first line
    numbered, a line longer than a block read whole, the torn tail left out and described; also over a byte
    range (the parallel fold's), at every block size from 1 byte to more than the file."""
    from assay.log import iter_blocks

    lines = [b'{"n":%d,"pad":"%s"}\n' % (i, b"x" * (i * 7 % 90)) for i in range(40)]
    lines[17] = b'{"n":17,"pad":"%s"}\n' % (b"y" * 700)  # longer than most blocks below
    data = b"".join(lines)
    path = tmp_path / "events.jsonl"
    path.write_bytes(data + torn)
    starts = [sum(map(len, lines[:i])) for i in range(len(lines) + 1)]
    for block in [*range(1, 64), 100, 333, 699, 700, 701, 1 << 20]:
        t = TornTail()
        got = list(iter_blocks(path, torn=t, block=block))
        assert b"".join(c for c, _ in got) == data, block
        assert all(c.endswith(b"\n") for c, _ in got)
        before = [sum(c.count(b"\n") for c, _ in got[:i]) for i in range(len(got))]
        assert [first for _, first in got] == before, block
        assert (t.offset, t.length) == ((len(data), len(torn)) if torn else (0, 0)), block
        # a byte range that starts and ends at line starts (lines 5 to 29): those lines, numbered from its start
        ranged = list(iter_blocks(path, block=block, start=starts[5], end=starts[30]))
        assert b"".join(c for c, _ in ranged) == b"".join(lines[5:30]), block
        assert ranged[0][1] == 0


def test_unknown_event_types_replay_as_dicts(tmp_path):
    path = tmp_path / "events.jsonl"
    _write(path, 1)
    with open(path, "ab") as f:
        f.write(b'{"v":1,"type":"PluginThing","seq":1,"ts":1.0,"run_id":"r1","body":{"x":[1,2]}}\n')
    events = list(iter_events(path))
    assert events[1].type == "PluginThing" and events[1].body == {"x": [1, 2]}


def test_report_of_a_torn_or_corrupt_log_from_the_cli(tmp_path, datasets_dir):
    from assay import run_task

    run_task(
        {
            "datasets": ["gsm8k"],
            "limit": 3,
            "dataset_dir": str(datasets_dir),
            "work_dir": str(tmp_path),
            "progress": False,
        }
    )
    (run,) = list(tmp_path.iterdir())
    log = run / "events.jsonl"
    good = log.read_bytes()
    log.write_bytes(good + b'{"v":1,"type":"Scored","seq":99,"ts":1.0,"run_id":"x","bo')
    proc = assay("report", str(run))
    assert "torn last line" in proc.stdout and "gsm8k" in proc.stdout
    lines = good.split(b"\n")
    lines[2] = b'{"v":1,"type":"SampleLoaded","seq":2,"ts":1.0,"run_id":"x","body":{"sample_id":5}}'
    log.write_bytes(b"\n".join(lines))
    proc = assay("report", str(run), check=2)
    assert "events.jsonl:3" in proc.stderr and "Traceback" not in proc.stderr

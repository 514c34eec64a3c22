"""A small general_mcq file set: CRLF CSV with quoted newlines and doubled quotes, a
two-option row, a lower-case answer, dev files, and a JSONL subset with five options."""

from __future__ import annotations

import json

import pytest

VAL = (
    "id,question,A,B,C,D,answer\r\n"
    'q1,"Which is a prime,\r\nnumber?",4,6,7,9,C\r\n'
    'q2,"Say ""hi""",hi,bye,,,A\r\n'  # two options only: C and D left empty
    "q3,Largest planet?,Mars,Jupiter,Venus,Earth,b\r\n"
)
DEV = "id,question,A,B,C,D,answer\nd1,2+2?,3,4,5,6,B\nd2,Sky colour?,blue,red,green,black,A\n"


def write_set(root):
    root.mkdir(parents=True, exist_ok=True)
    (root / "example_val.csv").write_bytes(VAL.encode("utf-8"))
    (root / "example_dev.csv").write_text(DEV, encoding="utf-8")
    with open(root / "more_val.jsonl", "w", encoding="utf-8") as f:
        f.write(
            json.dumps(
                {
                    "id": 1,
                    "question": "Five options?",
                    "A": "a",
                    "B": "b",
                    "C": "c",
                    "D": "d",
                    "E": "e",
                    "answer": "E",
                }
            )
            + "\n"
        )
        f.write(json.dumps({"question": "No id", "A": "x", "B": "y", "answer": "B"}) + "\n")
    (root / "more_dev.jsonl").write_text(
        json.dumps({"question": "1+1?", "A": "2", "B": "3", "answer": "A"}) + "\n", encoding="utf-8"
    )
    return root


@pytest.fixture
def mcq_set():
    return write_set

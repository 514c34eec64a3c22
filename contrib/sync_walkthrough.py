"""Copy the example files into WALKTHROUGH.md's code blocks (each under an ``<!-- include: path[#region] -->``).

    python contrib/sync_walkthrough.py          # rewrite the blocks from the files
    python contrib/sync_walkthrough.py --check  # exit 1 when a block differs from its file

A region is the lines between ``# region NAME`` and ``# endregion`` of a file.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
WALKTHROUGH = HERE / "WALKTHROUGH.md"
EXAMPLE = HERE / "walkthrough" / "assay-capitals"
MARK = "<!-- include: "


def source(ref: str) -> str:
    path, _, region = ref.partition("#")
    text = (EXAMPLE / path).read_text(encoding="utf-8")
    if not region:
        return text.strip("\n")
    lines = text.splitlines()
    start = lines.index(f"# region {region}") + 1
    return "\n".join(lines[start : lines.index("# endregion", start)]).strip("\n")


def blocks(text: str) -> list[tuple[str, int, int]]:
    """(ref, first line of the block's body, the line of its closing fence) for each include."""
    lines = text.splitlines()
    found = []
    for i, line in enumerate(lines):
        if line.startswith(MARK):
            ref = line.removeprefix(MARK).removesuffix(" -->")
            if not lines[i + 1].startswith("```"):
                raise SystemExit(f"WALKTHROUGH.md:{i + 1}: no code block under the include of {ref}")
            found.append((ref, i + 2, lines.index("```", i + 2)))
    return found


def synced(text: str) -> str:
    lines = text.splitlines()
    for ref, start, end in reversed(blocks(text)):
        lines[start:end] = source(ref).splitlines()
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    text = WALKTHROUGH.read_text(encoding="utf-8")
    if "--check" in argv:
        if synced(text) != text:
            print("contrib/WALKTHROUGH.md differs from its example files: run contrib/sync_walkthrough.py")
            return 1
        return 0
    WALKTHROUGH.write_text(synced(text), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

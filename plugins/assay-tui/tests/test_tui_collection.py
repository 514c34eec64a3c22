"""`assay view` shows a collection run's levels as a tree (collection -> node -> dataset -> subset,
with micro / macro / weighted scores, as the collection reporter folds them): a real collection
sampled from ../shared/datasets by `assay collection create`, evaluated against the test server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from assay_tui.app import ViewApp
from assay_tui.screens.report import ReportScreen
from textual.widgets import Static, Tree
from assay_testserver.testing import assay
from tui_steps import open_report

pytestmark = pytest.mark.anyio

SCHEMA = {
    "name": "mix",
    "datasets": [
        {
            "name": "math",
            "weight": 2,
            "datasets": [{"name": "gsm8k", "task_type": "math", "args": {"few_shot_num": 0}}],
        },
        {
            "name": "knowledge",
            "datasets": [
                {"name": "mmlu", "tags": ["en"], "args": {"subset_list": ["anatomy", "astronomy"]}},
                {"name": "arc", "tags": ["en"]},
            ],
        },
    ],
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def collection_run(datasets_dir, tmp_path, test_server) -> Path:
    pytest.importorskip("assay_collection", reason="this real run needs the assay-collection plugin")
    from assay import run_task

    (tmp_path / "schema.json").write_text(json.dumps(SCHEMA))
    out = tmp_path / "coll.jsonl"
    assay(
        *["collection", "create", str(tmp_path / "schema.json"), "-o", str(out)],
        *["--dataset-dir", str(datasets_dir), "--count", "12"],
    )
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    rules = []
    for r in recs:  # every gsm8k item right, every other one wrong
        target = r["sample"]["target"]
        answer = f"#### {target}" if r["benchmark"] == "gsm8k" else f"ANSWER: {'B' if target == 'A' else 'A'}"
        rules.append({"match": r["sample"]["messages"][-1]["content"], "answer": answer})
    srv = test_server(rules=rules)
    run_task(
        {
            "model": "m",
            "eval_type": "openai_api",
            "api_url": srv.url,
            "datasets": ["data_collection"],
            "dataset_args": {"data_collection": {"local_path": str(out)}},
            "work_dir": str(tmp_path / "runs"),
            "progress": False,
        }
    )
    return tmp_path / "runs"


def _labels(node, depth=0) -> list[tuple[int, str]]:
    out = []
    for child in node.children:
        out.append((depth, child.label.plain))
        out += _labels(child, depth + 1)
    return out


async def test_the_report_screen_shows_a_collection_as_a_tree(collection_run) -> None:
    app = ViewApp([collection_run], live_interval=0)
    async with app.run_test(size=(120, 60)) as pilot:
        await open_report(pilot)
        tree = app.screen.query_one("#tree-collection", Tree)
        lines = _labels(tree.root)
        header = tree.root.label.plain
        screen_lines = [tree.render_line(y).text.rstrip() for y in range(tree.size.height)]
        expanded = all(n.is_expanded for n in [tree.root, *tree.root.children, *tree.root.children[0].children])
        # the collection reporter's text table is not shown a second time
        sections = app.screen.query("#report-sections")
        shown = str(sections.first(Static).render()) if sections else ""
        # tab reaches the tree; enter on a node folds it (the screen's enter, the samples, is not taken)
        await pilot.press("tab")
        await pilot.pause()
        assert app.focused is tree
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ReportScreen)
        folded = [(c.label.plain.split()[0], c.is_expanded) for c in tree.root.children]
    assert folded == [("mix", False), ("by", True), ("by", True), ("by", True)]
    assert header.split() == [
        "collection",
        "num",
        "errors",
        "micro",
        "macro",
        "weighted",
    ]
    # 8 gsm8k items (all right), 2 mmlu and 2 arc (all wrong): weighted = 2/3 * 1 + 1/3 * 0
    words = [text.split() for _, text in lines]
    assert words == [
        ["mix", "12", "0", "0.6667", "0.5000", "0.6667"],
        ["knowledge", "4", "0", "0.0000", "0.0000", "0.0000"],
        ["arc", "(acc)", "2", "0", "0.0000", "0.0000", "0.0000"],
        ["ARC-Challenge", "1", "0", "0.0000", "0.0000", "0.0000"],
        ["ARC-Easy", "1", "0", "0.0000", "0.0000", "0.0000"],
        ["mmlu", "(acc)", "2", "0", "0.0000", "0.0000", "0.0000"],
        ["anatomy", "1", "0", "0.0000", "0.0000", "0.0000"],
        ["astronomy", "1", "0", "0.0000", "0.0000", "0.0000"],
        ["math", "8", "0", "1.0000", "1.0000", "1.0000"],
        ["gsm8k", "(acc)", "8", "0", "1.0000", "1.0000", "1.0000"],
        ["main", "8", "0", "1.0000", "1.0000", "1.0000"],
        ["by", "benchmark"],
        ["arc", "2", "0", "0.0000", "0.0000", "-"],
        ["gsm8k", "8", "0", "1.0000", "1.0000", "-"],
        ["mmlu", "2", "0", "0.0000", "0.0000", "-"],
        ["by", "tag"],
        ["en", "4", "0", "0.0000", "0.0000", "-"],
        ["knowledge", "4", "0", "0.0000", "0.0000", "-"],
        ["math", "8", "0", "1.0000", "1.0000", "-"],
        ["mix", "12", "0", "0.6667", "0.2000", "-"],  # a tag's macro: the mean of its 5 subsets
        ["by", "task", "type"],
        ["math", "8", "0", "1.0000", "1.0000", "-"],
    ]
    with_figures = [(d, text) for d, text in lines if not text.startswith("by ")]
    # as drawn (guides included): the header and every node's last figure end in one column
    drawn = [line for line in screen_lines if line and not line.lstrip(" ─│├└▼").startswith("by ")]
    assert len(drawn) == 1 + len(with_figures), screen_lines
    assert len({len(line) for line in drawn}) == 1, screen_lines
    assert expanded
    assert "collection (each item" not in shown


def test_tree_labels_from_data_are_inert() -> None:
    from assay_tui.screens.report import report_tree

    nodes = [{"label": "[bold]x[/bold]\x1b[31mred", "data": {"num": 1, "micro": 0.5}, "children": []}]
    tree = report_tree("t", "title [i]", nodes)
    (leaf,) = tree.root.children
    assert leaf.label.plain.split() == ["[bold]x[/bold]\\x1b[31mred", "1", "0.5000"]
    assert leaf.label.spans == [] and tree.root.label.plain.split() == ["title", "[i]", "num", "micro"]

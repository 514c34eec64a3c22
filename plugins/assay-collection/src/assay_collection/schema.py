"""The collection schema: EvalScope's ``CollectionSchema`` (a nested, weighted tree of datasets).

A node is ``{"name", "weight" (default 1), "datasets": [node or leaf, ...]}``; a leaf is
``{"name": <benchmark>, "weight" (default 1), "task_type" (""), "tags" ([]), "args" ({}: its
dataset_args)}``. Read from JSON or YAML. Flattening gives each leaf its share of the whole (its
weight over its siblings' sum, times its parent's share, as EvalScope's ``flatten_weight``), its
schema path (the names of the nodes above it, root first) and its tags (its own, then the path's,
as EvalScope's ``flatten_tags``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
from assay.api import AssayError, did_you_mean
from assay_datasets import read_json, read_text

NODE_KEYS = ("name", "weight", "datasets")
LEAF_KEYS = ("name", "weight", "task_type", "tags", "args")


@attrs.define
class Leaf:
    name: str  # the benchmark
    weight: float = 1.0
    task_type: str = ""
    tags: list[str] = attrs.field(factory=list)
    args: dict[str, Any] = attrs.field(factory=dict)


@attrs.define
class Node:
    name: str
    weight: float = 1.0
    datasets: list[Node | Leaf] = attrs.field(factory=list)


@attrs.define
class FlatLeaf:
    """A leaf after flattening: ``share`` of the whole, ``path`` of node names (root first)."""

    name: str
    share: float
    path: list[str]
    tags: list[str]
    task_type: str
    args: dict[str, Any]


def _unknown(keys: set[str], known: tuple[str, ...], where: str) -> None:
    for k in sorted(keys - set(known)):
        raise AssayError(
            f"{where}: unknown key {k!r}{did_you_mean(k, known)}"
            + f"; a {'node' if 'datasets' in known else 'dataset'} has {', '.join(known)}"
        )


def _weight(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise AssayError(f"{where}.weight = {value!r}: expected a number > 0")
    return float(value)


def _name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise AssayError(f"{where}: expected a non-empty 'name'")
    if "/" in value:
        raise AssayError(f"{where}.name = {value!r}: a name cannot hold '/' (it separates schema levels)")
    return value


def parse(obj: Any, where: str = "schema") -> Node:
    """A schema from its dict form; errors name the place (``schema.datasets[1].weight``)."""
    if not isinstance(obj, dict):
        raise AssayError(f"{where}: expected a mapping, got {type(obj).__name__}")
    if "datasets" not in obj:
        raise AssayError(f"{where}: the root of a collection schema needs 'datasets' (a list of datasets or nodes)")
    return _node(obj, where)


def _node(obj: dict[str, Any], where: str) -> Node:
    _unknown(set(obj), NODE_KEYS, where)
    name = _name(obj.get("name"), where)
    items = obj["datasets"]
    if not isinstance(items, list) or not items:
        raise AssayError(f"{where}.datasets: expected a non-empty list")
    children: list[Node | Leaf] = []
    for i, child in enumerate(items):
        cw = f"{where}.datasets[{i}]"
        if not isinstance(child, dict):
            raise AssayError(f"{cw}: expected a mapping, got {type(child).__name__}")
        children.append(_node(child, cw) if "datasets" in child else _leaf(child, cw))
    return Node(name=name, weight=_weight(obj.get("weight", 1), where), datasets=children)


def _leaf(obj: dict[str, Any], where: str) -> Leaf:
    _unknown(set(obj), LEAF_KEYS, where)
    tags = obj.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise AssayError(f"{where}.tags: expected a list of strings")
    args = obj.get("args", {})
    if not isinstance(args, dict):
        raise AssayError(f"{where}.args: expected a mapping (the benchmark's dataset_args)")
    task_type = obj.get("task_type", "")
    if not isinstance(task_type, str):
        raise AssayError(f"{where}.task_type: expected a string")
    return Leaf(
        name=_name(obj.get("name"), where),
        weight=_weight(obj.get("weight", 1), where),
        task_type=task_type,
        tags=list(tags),
        args=dict(args),
    )


def load(path: str | Path) -> Node:
    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            obj = yaml.safe_load(read_text(path))
        except yaml.YAMLError as exc:
            raise AssayError(f"{path}: invalid YAML: {exc}") from None
    else:
        obj = read_json(path)
    return parse(obj, str(path))


def flatten(root: Node) -> list[FlatLeaf]:
    out: list[FlatLeaf] = []

    def walk(node: Node, share: float, path: list[str]) -> None:
        here = [*path, node.name]
        total = sum(c.weight for c in node.datasets)
        for c in node.datasets:
            part = share * c.weight / total
            if isinstance(c, Node):
                walk(c, part, here)
            else:
                tags = list(c.tags) + [n for n in here if n not in c.tags]
                out.append(FlatLeaf(c.name, part, here, tags, c.task_type, dict(c.args)))

    walk(root, 1.0, [])
    return out

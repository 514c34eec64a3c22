"""The collection schema alone (no other benchmark installed): parsing, errors, weights down the tree."""

from __future__ import annotations

import pytest
from assay.api import AssayError
from assay_collection.schema import flatten, parse
from assay_collection.sampler import counts


def test_flatten_shares_weights_down_the_tree() -> None:
    root = parse(
        {
            "name": "all",
            "datasets": [
                {"name": "a", "weight": 3, "datasets": [{"name": "x", "weight": 1}, {"name": "y", "weight": 3}]},
                {"name": "z", "weight": 1, "tags": ["t"]},
            ],
        }
    )
    flat = [(f.name, f.share, f.path, f.tags) for f in flatten(root)]
    assert flat == [
        ("x", 0.75 * 0.25, ["all", "a"], ["all", "a"]),
        ("y", 0.75 * 0.75, ["all", "a"], ["all", "a"]),
        ("z", 0.25, ["all"], ["t", "all"]),
    ]


def test_a_bad_node_is_named_by_its_place() -> None:
    with pytest.raises(AssayError) as err:
        parse({"name": "all", "datasets": [{"name": "a/b"}]})
    assert str(err.value) == "schema.datasets[0].name = 'a/b': a name cannot hold '/' (it separates schema levels)"
    with pytest.raises(AssayError) as err:
        parse({"name": "all", "datasets": []})
    assert str(err.value) == "schema.datasets: expected a non-empty list"


def test_counts_follow_evalscope_rules() -> None:
    leaves = flatten(parse({"name": "r", "datasets": [{"name": "a", "weight": 2}, {"name": "b"}, {"name": "c"}]}))
    assert counts(leaves, [100, 100, 100], 10, "weighted") == [5, 2, 3]  # int(0.5*10), int(0.25*10), the rest
    assert counts(leaves, [100, 100, 100], 10, "uniform") == [3, 3, 4]
    assert counts(leaves, [10, 30, 60], 10, "stratified") == [1, 3, 6]
    assert counts(leaves, [1, 100, 100], 10, "weighted") == [1, 2, 3]  # never more than a dataset has

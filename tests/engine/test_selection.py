"""Selection orders beyond what the cases show: every strategy is total and id-stable."""

from __future__ import annotations

import itertools

import pytest

from wnm.domain.enums import Generation, NodeStatus, RemovalStrategy
from wnm.domain.node import Node, NodeMetrics
from wnm.engine.selection import oldest_first, parse_strategy, removal_order


def node(node_id: int, age: int = 1000, **metrics: object) -> Node:
    return Node(
        id=node_id,
        generation=Generation.LEGACY,
        manager="setsid+user",
        root_dir=f"/n/antnode{node_id:04d}",
        log_dir="",
        binary="",
        port=55000 + node_id,
        metrics_port=13000 + node_id,
        rpc_port=30000 + node_id,
        status=NodeStatus.RUNNING,
        status_changed_at=0,
        age=age,
        metrics=NodeMetrics(**metrics),
    )


@pytest.mark.parametrize("strategy", list(RemovalStrategy))
def test_order_does_not_depend_on_input_order(strategy: RemovalStrategy) -> None:
    nodes = [node(1, 5), node(2, 5), node(3, 9), node(4, 1)]
    orders = {tuple(n.id for n in removal_order(p, strategy)) for p in itertools.permutations(nodes)}
    assert len(orders) == 1


def test_equal_nodes_remove_highest_id_first_and_start_lowest() -> None:
    nodes = [node(2), node(7), node(4)]
    assert [n.id for n in removal_order(nodes, RemovalStrategy.OLDEST)] == [7, 4, 2]
    assert [n.id for n in oldest_first(nodes)] == [2, 4, 7]


def test_rewards_compare_as_decimals() -> None:
    nodes = [node(1, rewards="10"), node(2, rewards="9.99"), node(3, rewards="NaN"), node(4, rewards="")]
    assert [n.id for n in removal_order(nodes, RemovalStrategy.LOWEST_REWARDS)] == [4, 3, 2, 1]


@pytest.mark.parametrize(
    ("text", "strategy"),
    [("youngest", RemovalStrategy.YOUNGEST), (" Most_Shunned ", RemovalStrategy.MOST_SHUNNED)],
)
def test_parse_strategy(text: str, strategy: RemovalStrategy) -> None:
    assert parse_strategy(text) is strategy


def test_parse_unknown_strategy() -> None:
    assert parse_strategy("random") is None

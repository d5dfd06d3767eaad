"""Which node goes first: removal order by ``node_removal_strategy``, and oldest-first order.

``age`` is the node's birth epoch, so the youngest node has the largest ``age``. Every order
ends with the node id, so equal candidates always come out the same way: for stop/remove the
highest id goes first (the colony shrinks from the top, like anm), for start/upgrade the
lowest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from wnm.domain.enums import RemovalStrategy
from wnm.domain.node import Node

_SortKey = tuple[Decimal, ...]


# Smaller key = removed first; ties fall through to the id.
_STRATEGY_KEYS: dict[RemovalStrategy, Callable[[Node], _SortKey]] = {
    RemovalStrategy.YOUNGEST: lambda n: (Decimal(-n.age),),
    RemovalStrategy.OLDEST: lambda n: (Decimal(n.age),),
    RemovalStrategy.LEAST_RECORDS: lambda n: (Decimal(n.metrics.records),),
    RemovalStrategy.MOST_SHUNNED: lambda n: (
        Decimal(-n.metrics.shunned),
        Decimal(-n.metrics.shunned_count),
    ),
    RemovalStrategy.HIGHEST_CPU: lambda n: (-Decimal(str(n.metrics.cpu_percent)),),
    RemovalStrategy.LOWEST_REWARDS: lambda n: (n.metrics.rewards_amount,),
}


def parse_strategy(name: str) -> RemovalStrategy | None:
    """The strategy named by the setting, or None when the name is unknown."""
    try:
        return RemovalStrategy(name.strip().lower())
    except ValueError:
        return None


def removal_order(nodes: Iterable[Node], strategy: RemovalStrategy) -> list[Node]:
    """``nodes`` in the order they should be stopped or removed."""
    key = _STRATEGY_KEYS[strategy]
    return sorted(nodes, key=lambda n: (*key(n), Decimal(-n.id)))


def oldest_first(nodes: Iterable[Node]) -> list[Node]:
    """Order for starts and upgrades: the oldest node (smallest birth epoch) first."""
    return sorted(nodes, key=lambda n: (n.age, n.id))


def strategy_detail(node: Node, strategy: RemovalStrategy) -> str:
    """The number the strategy looked at, for the action's reason."""
    metrics = node.metrics
    details = {
        RemovalStrategy.YOUNGEST: f"youngest, born at {node.age}",
        RemovalStrategy.OLDEST: f"oldest, born at {node.age}",
        RemovalStrategy.LEAST_RECORDS: f"least records, {metrics.records}",
        RemovalStrategy.MOST_SHUNNED: f"most shunned, {metrics.shunned}",
        RemovalStrategy.HIGHEST_CPU: f"highest cpu, {metrics.cpu_percent:.1f}%",
        RemovalStrategy.LOWEST_REWARDS: f"lowest rewards, {node.metrics.rewards_amount}",
    }
    return details[strategy]

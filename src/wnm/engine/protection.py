"""Identity protection: old nodes are stopped, not removed, unless their disk is in crisis.

A node's identity (its key and the records and reputation that came with it) takes days to
build and is destroyed by a removal. So under over-cap or disk pressure, REMOVE never picks a
node born more than ``protect_age`` seconds ago (``now - age > protect_age``; ``protect_age``
<= 0 switches protection off) — unless its filesystem is critical: free space below
``crisis_bytes``, where keeping the identity would let the disk fill completely.

When only protected nodes are left to take, one is STOPPED instead (``then_status`` STOPPED,
``pressure`` True so the executor stamps the cool-down): it stops growing and keeps its identity.

- Over the cap, a stopped or dead protected node already counts as dealt with: stops are planned
  only for the part of the excess not yet covered, so a protected node left stopped over the cap
  is left alone (no action every run) and no further node is stopped for the same excess.
- Disk pressure is not relieved by a stop (the data stays), so a stop there only halts growth;
  to avoid stopping the whole disk in a few minutes, a further protected stop for disk pressure
  waits for the pressure cool-down (``delay_restart``). Once the disk is critical, protection
  ends and removals take over.
"""

from __future__ import annotations

from wnm.domain.actions import PRIORITY_PRESSURE, Action
from wnm.domain.enums import ActionType, NodeStatus
from wnm.domain.node import Node
from wnm.engine.budgets import Budgets
from wnm.engine.context import Draft, Facts, on_path
from wnm.engine.pressure import gib, same_path
from wnm.engine.selection import strategy_detail


def protect_text(facts: Facts) -> str:
    days = facts.settings.protect_age / 86400
    shown = f"{days:g}d" if days >= 1 else f"{facts.settings.protect_age}s"
    return f"identity older than {shown} is protected (protect_age)"


def disk_critical(node: Node, facts: Facts) -> bool:
    """The node's filesystem has less than ``crisis_bytes`` free."""
    crisis = facts.settings.crisis_bytes
    return any(u.free < crisis for u in facts.snapshot.host.storage if on_path(node, u.path))


def is_old(node: Node, facts: Facts) -> bool:
    """Born more than ``protect_age`` ago (protection switched on)."""
    limit = facts.settings.protect_age
    return limit > 0 and facts.now - node.age > limit


def is_protected(node: Node, facts: Facts) -> bool:
    """Too old to remove: born more than ``protect_age`` ago and its disk is not critical."""
    return is_old(node, facts) and not disk_critical(node, facts)


def stop_protected(
    facts: Facts,
    budgets: Budgets,
    draft: Draft,
    protected: list[Node],
    uncovered: int,
    disk_paths: list[str],
    cause: str,
) -> None:
    """Stop protected nodes where removals cannot happen.

    ``protected`` holds the protected candidates in removal order (nodes on the fullest disk
    first); ``uncovered`` is the cap excess left after every removable node (0 when not over the
    cap); ``disk_paths`` the filesystems under disk pressure that no removal relieves this run.
    """
    idle = [n for n in protected if n.status is not NodeStatus.RUNNING]
    running = [n for n in protected if n.status is NodeStatus.RUNNING]
    cap_stops = max(0, uncovered - len(idle))
    if uncovered > 0 and idle:
        names = ", ".join(n.name for n in idle)
        draft.notes.append(
            f"over node_cap but {protect_text(facts)}: node(s) {names} left stopped; "
            "remove them by hand or raise node_cap"
        )
    disk_running = [n for n in running if any(on_path(n, p) for p in disk_paths)]
    disk_stops = 1 if disk_running else 0
    if disk_paths and not disk_running:
        draft.notes.append(
            f"disk pressure on {', '.join(disk_paths)}: {protect_text(facts)} and no running node "
            f"there to stop; {_crisis_text(facts, disk_paths)}"
        )
    elif disk_stops and not cap_stops and facts.cooldown_left > 0:
        draft.notes.append(
            f"disk pressure on {', '.join(disk_paths)}: only protected nodes there "
            f"({protect_text(facts)}); next stop after the cool-down, {facts.cooldown_left}s left"
        )
        disk_stops = 0
    for node in running[: max(cap_stops, disk_stops)]:
        if budgets.removals.remaining <= 0:
            draft.notes.append(f"protected stop waits: {budgets.removals.describe()}")
            return
        budgets.take_removal()
        draft.actions.append(
            Action(
                type=ActionType.STOP,
                reason=(
                    f"{cause}; {protect_text(facts)}: stopped instead of removed "
                    f"(born at {node.age}; {strategy_detail(node, facts.strategy)})"
                ),
                priority=PRIORITY_PRESSURE,
                node_id=node.id,
                pressure=True,
                then_status=NodeStatus.STOPPED,
            )
        )


def _crisis_text(facts: Facts, disk_paths: list[str]) -> str:
    parts = [
        f"{u.path} {gib(u.free)} free"
        for u in facts.snapshot.host.storage
        if any(same_path(u.path, p) for p in disk_paths)
    ]
    return f"removals resume below crisis_bytes {gib(facts.settings.crisis_bytes)} free ({', '.join(parts)})"

"""Cleaning up and reviving: BROKEN nodes, finished removals, DEAD nodes.

- BROKEN (files missing) -> REMOVE to clean up the row, unit and firewall rule. These cost
  little, so they need no operations budget, but at most ``max_concurrent_removals`` are removed
  per run: a storage disk that failed to mount makes every node on it look BROKEN, and pacing
  leaves the operator a few runs to notice before the whole colony is written off.
- REMOVING past ``delay_remove`` (or begun before the last boot) -> REMOVE again to finish the
  cleanup; no budget, it is the tail of an operation already counted.
- DEAD (the process went away without wnm asking):
  * crash loop — at least ``crash_loop_count`` deaths (``Node.recent_deaths``, epoch seconds)
    within ``crash_loop_minutes`` — -> DISABLE with ``then_status=QUARANTINED``: the node is
    parked for the operator instead of restarted forever;
  * otherwise START once ``delay_restart`` has passed since the death was seen
    (``status_changed_at``), within the start and operations budgets; a death seen within
    ``delay_restart`` after the host booted is a casualty of the reboot and starts at once;
  * never under pressure (it would only be stopped again).
"""

from __future__ import annotations

from wnm.domain.actions import PRIORITY_BROKEN, PRIORITY_DEAD, Action
from wnm.domain.enums import ActionType, NodeStatus
from wnm.domain.node import Node
from wnm.engine.budgets import Budgets, is_in_flight
from wnm.engine.context import Draft, Facts
from wnm.engine.selection import oldest_first


def repair(facts: Facts, budgets: Budgets, draft: Draft, under_pressure: bool) -> None:
    _remove_broken(facts, draft)
    _finish_removals(facts, draft)
    for node in oldest_first(facts.with_status(NodeStatus.DEAD)):
        _revive(facts, budgets, draft, node, under_pressure)


def _remove_broken(facts: Facts, draft: Draft) -> None:
    broken = sorted(facts.with_status(NodeStatus.BROKEN), key=lambda n: n.id)
    limit = max(0, facts.settings.max_concurrent_removals)
    for node in broken[:limit]:
        why = node.status_reason or "node files missing"
        draft.actions.append(
            Action(
                type=ActionType.REMOVE,
                reason=f"broken since {node.status_changed_at}: {why}",
                priority=PRIORITY_BROKEN,
                node_id=node.id,
            )
        )
    if len(broken) > limit:
        draft.notes.append(
            f"{len(broken) - limit} more broken node(s) wait (max_concurrent_removals {limit} per run)"
        )


def _finish_removals(facts: Facts, draft: Draft) -> None:
    settings, now, boot = facts.settings, facts.now, facts.snapshot.host.boot_time
    for node in facts.with_status(NodeStatus.REMOVING):
        if is_in_flight(node, settings, now, boot):
            continue
        elapsed = now - node.status_changed_at
        draft.actions.append(
            Action(
                type=ActionType.REMOVE,
                reason=f"finish removal: removing for {elapsed}s >= delay_remove {settings.delay_remove}s",
                priority=PRIORITY_BROKEN,
                node_id=node.id,
            )
        )


def crash_count(node: Node, facts: Facts) -> int:
    window = facts.settings.crash_loop_minutes * 60
    return sum(1 for t in node.recent_deaths if facts.now - t < window)


def reboot_casualty(node: Node, facts: Facts) -> bool:
    """The death was seen within ``delay_restart`` after the host booted."""
    boot = facts.snapshot.host.boot_time
    return boot > 0 and node.status_changed_at <= boot + facts.settings.delay_restart


def _revive(facts: Facts, budgets: Budgets, draft: Draft, node: Node, under_pressure: bool) -> None:
    settings = facts.settings
    deaths = crash_count(node, facts)
    if settings.crash_loop_count > 0 and deaths >= settings.crash_loop_count:
        draft.actions.append(
            Action(
                type=ActionType.DISABLE,
                reason=(
                    f"crash loop: {deaths} deaths in the last {settings.crash_loop_minutes} min "
                    f"(crash_loop_count {settings.crash_loop_count}); quarantined for the operator"
                ),
                priority=PRIORITY_DEAD,
                node_id=node.id,
                then_status=NodeStatus.QUARANTINED,
            )
        )
        return
    if under_pressure:
        draft.notes.append(f"dead node {node.name} not restarted: host under pressure")
        return
    waited = facts.now - node.status_changed_at
    if waited < settings.delay_restart and not reboot_casualty(node, facts):
        draft.notes.append(
            f"dead node {node.name} restarts in {settings.delay_restart - waited}s "
            f"(delay_restart {settings.delay_restart}s)"
        )
        return
    blocked = budgets.start_blocked()
    if blocked:
        draft.notes.append(f"dead node {node.name} waits: {blocked}")
        return
    budgets.take_start()
    if waited < settings.delay_restart:
        why = f"dead for {waited}s, died with the reboot at {facts.snapshot.host.boot_time}: no restart delay"
    else:
        why = f"dead for {waited}s >= delay_restart {settings.delay_restart}s"
    draft.actions.append(
        Action(
            type=ActionType.START,
            reason=f"{why}; {deaths} recent death(s)",
            priority=PRIORITY_DEAD,
            node_id=node.id,
        )
    )

"""Reboot and first-run detection, and bringing back the nodes a reboot took down.

A reboot shows as a host boot time later than the one recorded in the machine row (0 = never
recorded = first run). Up to ``REBOOT_TOLERANCE`` seconds of difference is clock jitter (the
kernel's boot time moves when the clock is slewed), not a reboot. An unknown host boot time
(0) switches detection off for the run rather than raising a false alarm every minute.

The reboot run emits RESURVEY (the executor records the new boot time) and STARTs the nodes
that should be running: DEAD ones, and RESTARTING/UPGRADING ones whose transition began before
the boot (the reboot ended it). Self-upgraded nodes waiting for their restart are left to
``rollout`` (its own budget), in this run as in any other. STOPPED nodes stay stopped: wnm or the operator stopped them.
Starts are limited by the start and operations budgets; nodes that do not fit are started by the
DEAD rule in the next runs without waiting ``delay_restart`` (see ``repair.reboot_casualty``).
The run adds and removes nothing: mounts and network may still be settling.
"""

from __future__ import annotations

from wnm.domain.actions import PRIORITY_DEAD, PRIORITY_REBOOT, Action
from wnm.domain.enums import ActionType, NodeStatus
from wnm.engine.budgets import Budgets, is_self_upgraded
from wnm.engine.context import Draft, Facts
from wnm.engine.selection import oldest_first

REBOOT_TOLERANCE = 60


def reboot_reason(facts: Facts, draft: Draft) -> str | None:
    """Why this run is a reboot/first run, or None for an ordinary run."""
    host_boot = facts.snapshot.host.boot_time
    recorded = facts.snapshot.machine.boot_time
    if host_boot <= 0:
        draft.notes.append("host boot time unknown: reboot detection skipped this run")
        return None
    if recorded <= 0:
        return f"first run: no boot time recorded yet, host booted at {host_boot}"
    if host_boot > recorded + REBOOT_TOLERANCE:
        return f"host rebooted: booted at {host_boot}, recorded boot time {recorded}"
    return None


def recover(facts: Facts, budgets: Budgets, draft: Draft, reason: str) -> None:
    boot = facts.snapshot.host.boot_time
    draft.actions.append(Action(type=ActionType.RESURVEY, reason=reason, priority=PRIORITY_REBOOT))
    interrupted = (NodeStatus.RESTARTING, NodeStatus.UPGRADING)
    casualties = [
        n
        for n in facts.nodes
        if n.status is NodeStatus.DEAD
        or (n.status in interrupted and n.status_changed_at < boot and not is_self_upgraded(n))
    ]
    waiting = 0
    for node in oldest_first(casualties):
        if budgets.start_blocked():
            waiting += 1
            continue
        budgets.take_start()
        draft.actions.append(
            Action(
                type=ActionType.START,
                reason=(
                    f"restart after boot at {boot}: node was {node.status.value} "
                    f"since {node.status_changed_at}"
                ),
                priority=PRIORITY_DEAD,
                node_id=node.id,
            )
        )
    if waiting:
        draft.notes.append(
            f"{waiting} node(s) to restart after the reboot wait for later runs: {budgets.start_blocked()}"
        )
    draft.block("reboot recovery run: adds and removals wait for the next run")

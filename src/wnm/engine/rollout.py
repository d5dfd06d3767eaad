"""Living with upgrades on real nodes: restarting self-upgraded nodes, rolling back failed ones.

Self-upgrades. Nodes replace their own binary and exit 0 (legacy every ~72 h under
``--stop-on-upgrade``, v2 always). systemd, docker and launchd bring them back themselves; with
setsid nobody does but wnm. The survey records such a node UPGRADING with ``upgrade_from``
empty; once its process is known to be gone (``alive is False``) it is STARTed here, oldest
first, at once: no ``delay_restart`` (it did not crash, its exit is not a death), no add
conditions and no resource pressure check (it is an existing node coming back, not growth).
The fleet-wide guard is the upgrade budget: at most ``max_concurrent_upgrades`` per run, less
the wnm-started upgrades in flight, so a bad release that every node fetched for itself is not
restarted everywhere at once. The rest wait, and managed upgrades wait while any do.

Rollbacks. A wnm-started upgrade (UPGRADING with ``upgrade_from``) is in flight for
``delay_upgrade`` seconds; the survey settles it (RUNNING) once healthy on the new version for
``upgrade_settle``. One still UPGRADING after ``delay_upgrade`` did not make it: ROLLBACK to
``upgrade_from`` with the node's own complaint in the reason. The executor restores the old
binary, restarts the node and pauses the rollout (``machine.upgrade_paused``) for the operator.
"""

from __future__ import annotations

from wnm.domain.actions import PRIORITY_DEAD, PRIORITY_ROLLBACK, Action
from wnm.domain.enums import ActionType
from wnm.engine.budgets import Budgets, awaits_restart, is_managed_upgrade, is_self_upgraded
from wnm.engine.context import Draft, Facts
from wnm.engine.selection import oldest_first


def roll_back(facts: Facts, budgets: Budgets, draft: Draft) -> None:
    """ROLLBACK every wnm-started upgrade still unsettled ``delay_upgrade`` after it began."""
    delay = facts.settings.delay_upgrade
    for node in oldest_first(n for n in facts.nodes if is_managed_upgrade(n)):
        elapsed = facts.now - node.status_changed_at
        if elapsed < delay:
            continue
        problem = node.status_reason or "no reason recorded"
        budgets.take_rollback()
        draft.actions.append(
            Action(
                type=ActionType.ROLLBACK,
                reason=(
                    f"node {node.name} not healthy on {node.version or 'the new version'} after "
                    f"{elapsed}s ({problem}): rolling back to {node.upgrade_from} "
                    f"(delay_upgrade {delay}s)"
                ),
                priority=PRIORITY_ROLLBACK,
                node_id=node.id,
                target_version=node.upgrade_from,
            )
        )


def restart_self_upgraded(facts: Facts, budgets: Budgets, draft: Draft) -> None:
    """START self-upgraded nodes waiting for a restart, within the upgrade budget."""
    touched = draft.touched()
    waiting = [n for n in oldest_first(facts.nodes) if awaits_restart(n) and n.id not in touched]
    left = 0
    for node in waiting:
        if budgets.upgrades.remaining <= 0:
            left += 1
            continue
        budgets.take_self_restart()
        draft.actions.append(
            Action(
                type=ActionType.START,
                reason=(
                    f"{node.status_reason or 'exited after self-upgrade'}: restart now, "
                    f"oldest first (born at {node.age}); a self-upgrade exit is not a crash"
                ),
                priority=PRIORITY_DEAD,
                node_id=node.id,
            )
        )
    if left:
        draft.notes.append(
            f"{left} self-upgraded node(s) wait for the upgrade budget: {budgets.upgrades.describe()}"
        )
    unknown = [n.name for n in facts.nodes if is_self_upgraded(n) and n.alive is None]
    if unknown:
        draft.notes.append(
            f"self-upgraded node(s) {', '.join(unknown)}: process state unknown, not started this run"
        )


def self_upgraded_waiting(facts: Facts, draft: Draft) -> list[str]:
    """Names of self-upgraded nodes that are not back and not being started by this plan."""
    touched = draft.touched()
    return [n.name for n in facts.nodes if is_self_upgraded(n) and n.id not in touched]

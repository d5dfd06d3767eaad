"""Upgrades: RUNNING nodes whose version is strictly older than the source binary of their own
generation, oldest node first.

Skipped entirely unless ``enable_upgrade``; while ``machine.upgrade_paused`` holds a reason (set
by a rollback; the plan's notes and idle reason repeat it with how to resume); while there is any
pressure or a removal is needed (the ladder does not call this then); while a self-upgraded node
is still waiting for its restart (they go first and share the upgrade budget); and in a run that
rolls a node back. Only a strictly newer version counts, so a node that upgraded itself past the
source binary is never downgraded and a pre-release binary (``0.4.18-rc.1``) never "upgrades"
a ``0.4.18`` node (wnm-compat D5). Nodes with an unknown version are left alone and noted.
STOPPED nodes are not upgraded (an upgrade restarts the node and would undo the stop); they pick
up the new version once started. Budget: ``max_concurrent_upgrades`` minus wnm-started upgrades in
flight (each stays in flight until it settles or ``delay_upgrade`` passes, so a rollout goes one
budget at a time, every node settled before the next), and the operations budget.
"""

from __future__ import annotations

from wnm.domain.actions import PRIORITY_UPGRADE, Action
from wnm.domain.enums import ActionType, NodeStatus
from wnm.domain.node import Node
from wnm.domain.snapshot import BinaryInfo
from wnm.engine.budgets import Budgets
from wnm.engine.context import Draft, Facts
from wnm.engine.rollout import self_upgraded_waiting
from wnm.engine.selection import oldest_first
from wnm.engine.versions import is_newer, parse_version


def upgrade_candidates(facts: Facts, draft: Draft) -> list[tuple[Node, BinaryInfo]]:
    """RUNNING nodes older than their generation's binary, oldest first; notes what is skipped."""
    found: list[tuple[Node, BinaryInfo]] = []
    touched = draft.touched()
    noted_binaries: set[str] = set()
    for node in oldest_first(facts.with_status(NodeStatus.RUNNING)):
        binary = facts.snapshot.binary_for(node.generation)
        if binary is None or node.id in touched:
            continue
        if parse_version(binary.version) is None:
            if binary.path not in noted_binaries:
                noted_binaries.add(binary.path)
                draft.notes.append(
                    f"binary {binary.path} has no usable version ({binary.version!r}): no upgrades"
                )
            continue
        if parse_version(node.version) is None:
            draft.notes.append(f"node {node.name} version unknown ({node.version!r}): not upgraded")
            continue
        if is_newer(binary.version, node.version):
            found.append((node, binary))
    return found


def plan_upgrades(facts: Facts, budgets: Budgets, draft: Draft) -> None:
    if not facts.settings.enable_upgrade:
        return
    if not facts.snapshot.binaries:
        draft.notes.append("no upgrades: no source node binary available")
        return
    candidates = upgrade_candidates(facts, draft)
    paused = facts.snapshot.machine.upgrade_paused.strip()
    if paused:
        draft.notes.append(
            f"upgrades paused: {paused}; resume with wnm --force_action resume_upgrades "
            f"({len(candidates)} node(s) older than the binary)"
        )
        return
    if not candidates:
        return
    rolling_back = [a for a in draft.actions if a.type is ActionType.ROLLBACK]
    if rolling_back:
        draft.notes.append(f"upgrades wait: {len(rolling_back)} node(s) rolled back in this run")
        return
    waiting = self_upgraded_waiting(facts, draft)
    if waiting:
        draft.notes.append(f"upgrades wait: self-upgraded node(s) {', '.join(waiting)} not restarted yet")
        return
    for index, (node, binary) in enumerate(candidates):
        blocked = budgets.upgrade_blocked()
        if blocked:
            draft.notes.append(f"{len(candidates) - index} node(s) wait for an upgrade: {blocked}")
            return
        budgets.take_upgrade()
        draft.actions.append(
            Action(
                type=ActionType.UPGRADE,
                reason=(
                    f"version {node.version} < available {binary.version} ({binary.generation.value}); "
                    f"oldest first, born at {node.age}"
                ),
                priority=PRIORITY_UPGRADE,
                node_id=node.id,
                target_version=binary.version,
                binary_source=binary.path,
            )
        )

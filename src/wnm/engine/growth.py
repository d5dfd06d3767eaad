"""Growth: start STOPPED nodes (oldest first), then ADD new ones; and the add blockers.

Every blocker is collected even when another one already blocks, so the plan lists each
condition that stands between the colony and its next node, with the numbers.

Conditions shared by starts and adds: no pressure; CPU, memory, every load average and each
active I/O threshold under its add threshold; no pressure-stop cool-down running (``now -
last_pressure_at < delay_restart``: no flapping); a free place in the start and operations
budgets. A start also needs the node's own filesystem under ``hd_less_than``; it needs no
source binary (the node has its own copy). An add also needs: fewer counted nodes than
``node_cap`` (adds never exceed ``node_cap - counted``), a source binary of the wanted
generation, a usable ``rewards_address``, a free id/ports and a storage path with room (see
``allocation``). Disk room is judged per storage path: a full disk blocks adds there only.
"""

from __future__ import annotations

from wnm.domain.actions import PRIORITY_ADD, PRIORITY_START, Action
from wnm.domain.enums import ActionType, NodeStatus
from wnm.domain.wallets import WalletError, parse_wallets
from wnm.engine.allocation import AllocationBlocked, Allocator, choose_binary
from wnm.engine.budgets import Budgets
from wnm.engine.context import Draft, Facts, on_path
from wnm.engine.pressure import headroom_text, resource_blockers
from wnm.engine.relief import PressureView
from wnm.engine.selection import oldest_first


def shared_blockers(facts: Facts, view: PressureView) -> list[str]:
    settings = facts.settings
    blockers = list(view.lines())
    blockers += resource_blockers(facts.snapshot.host, settings)
    left = facts.cooldown_left
    if left:
        blockers.append(f"cool-down after pressure stop: {left}s of {settings.delay_restart}s left")
    return blockers


def grow(facts: Facts, budgets: Budgets, draft: Draft, view: PressureView, may_act: bool) -> None:
    """Plan starts and adds when ``may_act`` and nothing blocks; always record the blockers."""
    shared = shared_blockers(facts, view)
    for line in shared:
        draft.block(line)
    may_act = may_act and not shared
    if may_act:
        _start_stopped(facts, budgets, draft)
    _add(facts, budgets, draft, may_act)


def _start_stopped(facts: Facts, budgets: Budgets, draft: Draft) -> None:
    settings = facts.settings
    touched = draft.touched()
    for node in oldest_first(facts.with_status(NodeStatus.STOPPED)):
        if node.id in touched:
            continue
        usage = next((u for u in facts.snapshot.host.storage if on_path(node, u.path)), None)
        if usage is not None and usage.percent >= settings.hd_less_than:
            draft.notes.append(
                f"stopped node {node.name} stays stopped: disk {usage.path} {usage.percent:.1f}% "
                f">= add threshold {settings.hd_less_than}%"
            )
            continue
        blocked = budgets.start_blocked()
        if blocked:
            draft.notes.append(f"stopped node {node.name} waits: {blocked}")
            return
        budgets.take_start()
        draft.actions.append(
            Action(
                type=ActionType.START,
                reason=(
                    f"stopped node, oldest first (born at {node.age}); "
                    f"{headroom_text(facts.snapshot.host, settings)}"
                ),
                priority=PRIORITY_START,
                node_id=node.id,
            )
        )


def _add(facts: Facts, budgets: Budgets, draft: Draft, may_act: bool) -> None:
    settings = facts.settings
    counted = len(facts.counted)
    room = settings.node_cap - counted
    if room <= 0:
        draft.block(f"node_cap {settings.node_cap} reached ({counted} nodes)")
    budget = budgets.start_blocked()
    if budget:
        draft.block(budget)
    try:
        wallets = parse_wallets(settings.rewards_address, settings.donate_address)
    except WalletError as error:
        draft.block(f"rewards_address unusable: {error}")
        wallets = ()
    try:
        binary = choose_binary(facts)
    except AllocationBlocked as error:
        draft.block(str(error))
        return
    if not wallets:
        return
    allocator = Allocator(facts, binary, wallets)
    for added in range(max(room, 1)):
        try:
            spec = allocator.next_spec()  # also when blocked: a placement problem is a blocker too
        except AllocationBlocked as error:
            draft.block(str(error))
            return
        if budget or room <= 0 or not may_act:
            return
        budgets.take_start()
        draft.actions.append(
            Action(
                type=ActionType.ADD,
                reason=(
                    f"{counted + added} nodes < node_cap {settings.node_cap}; "
                    f"{headroom_text(facts.snapshot.host, settings)}; "
                    f"{spec.generation.value} {spec.version} on {spec.storage_path}"
                ),
                priority=PRIORITY_ADD,
                node_id=spec.id,
                spec=spec,
            )
        )
        budget = budgets.start_blocked()
        if budget and added + 1 < room:
            draft.block(budget)

"""Pressure relief: stop a node for CPU/memory/load/I/O pressure, remove nodes for disk pressure
or for being over ``node_cap``.

- Over the cap, exactly the excess is removed (never more, wnm-compat D11), at most
  ``max_concurrent_removals`` minus removals in flight per run; the rest follow next runs.
- Disk pressure removes one budgeted step per run, taking nodes stored on the full filesystem
  (removing a node elsewhere would not free that disk), the fullest filesystem first. A full
  disk that holds no node is reported and left alone.
- Removal takes stopped and dead nodes first, then running ones, each group in the order of
  ``node_removal_strategy``.
- Identities older than ``protect_age`` are never removed unless their disk is critical; they
  are stopped instead when nothing else can be taken (see ``protection``).
- CPU/memory/load/I/O pressure stops ONE running node per run (if the removal budget allows),
  so the host can settle before the next step; the STOP carries ``pressure=True`` and the
  executor stamps ``last_pressure_at``. While that cool-down (``delay_restart``) runs, the
  lagging 5/15-minute load averages do not stop further nodes (see ``stop_signals``).
- Relief is limited by ``max_concurrent_removals`` only, never by ``max_concurrent_operations``:
  shedding load must not wait for a slow upgrade or restart to settle.
- DISABLED, QUARANTINED and in-flight nodes are never chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

from wnm.domain.actions import PRIORITY_PRESSURE, Action
from wnm.domain.enums import ActionType, NodeStatus
from wnm.domain.node import Node
from wnm.engine.budgets import Budgets
from wnm.engine.context import Draft, Facts, on_path
from wnm.engine.pressure import disk_pressure, gib, stop_signals
from wnm.engine.protection import disk_critical, is_old, is_protected, stop_protected
from wnm.engine.selection import removal_order, strategy_detail

_NOT_RUNNING = (NodeStatus.STOPPED, NodeStatus.DEAD)


@dataclass(frozen=True)
class PressureView:
    """All pressure of this run. ``stop_now`` is ``stop`` minus the signals muted while settling."""

    stop: tuple[str, ...]
    stop_now: tuple[str, ...]
    disk: tuple[tuple[str, str], ...]
    excess: int
    cap_text: str

    @property
    def removal_needed(self) -> bool:
        return bool(self.disk) or self.excess > 0

    @property
    def active(self) -> bool:
        return bool(self.stop) or self.removal_needed

    def lines(self) -> tuple[str, ...]:
        """One line per pressure: ``pressure: <signal>`` for resources and disks, then the cap."""
        lines = [f"pressure: {text}" for text in (*self.stop, *(text for _, text in self.disk))]
        if self.excess > 0:
            lines.append(self.cap_text)
        return tuple(lines)


def assess(facts: Facts) -> PressureView:
    host, settings = facts.snapshot.host, facts.settings
    counted = len(facts.counted)
    return PressureView(
        stop=stop_signals(host, settings, settling=False),
        stop_now=stop_signals(host, settings, settling=facts.cooldown_left > 0),
        disk=disk_pressure(host, settings),
        excess=max(0, counted - settings.node_cap),
        cap_text=f"over node_cap: {counted} nodes > node_cap {settings.node_cap}",
    )


def relieve(facts: Facts, budgets: Budgets, draft: Draft, view: PressureView) -> None:
    """Append the relief actions for ``view`` to ``draft`` (nothing when there is no pressure)."""
    if view.removal_needed:
        _remove(facts, budgets, draft, view)
    elif view.stop_now:
        _stop(facts, budgets, draft, view.stop_now)
    elif view.stop:
        left = facts.cooldown_left
        draft.notes.append(
            f"pressure from lagging load averages only, {left}s of cool-down left: no further stop yet"
        )


def _remove(facts: Facts, budgets: Budgets, draft: Draft, view: PressureView) -> None:
    disk_paths = [path for path, _ in view.disk]
    touched = draft.touched()
    fullness = {u.path: u.percent for u in facts.snapshot.host.storage if u.path in disk_paths}

    def full_disk_percent(node: Node) -> float:
        """How full the node's disk is when that disk is under pressure, else 0."""
        return max((pct for path, pct in fullness.items() if on_path(node, path)), default=0.0)

    pool = [
        n for n in facts.counted if n.status in (*_NOT_RUNNING, NodeStatus.RUNNING) and n.id not in touched
    ]
    if view.excess == 0:
        pool = [n for n in pool if full_disk_percent(n) > 0]
        if not pool:
            draft.notes.append(
                f"disk pressure on {', '.join(disk_paths)} but no removable node is stored there"
            )
            return
    order = {n.id: i for i, n in enumerate(removal_order(pool, facts.strategy))}
    pool.sort(key=lambda n: (-full_disk_percent(n), n.status is NodeStatus.RUNNING, order[n.id]))
    removable = [n for n in pool if not is_protected(n, facts)]
    protected = [n for n in pool if is_protected(n, facts)]
    wanted = max(view.excess, 1)
    allowed = budgets.removals.remaining
    if allowed <= 0:
        draft.notes.append(f"removal waits: {budgets.removals.describe()}")
        return
    causes = [text for _, text in view.disk]
    if view.excess:
        causes.append(f"{view.cap_text} (remove {view.excess})")
    cause = "; ".join(causes)
    chosen = removable[: min(wanted, allowed)]
    for node in chosen:
        budgets.take_removal()
        state = "running" if node.status is NodeStatus.RUNNING else node.status.value.lower()
        lifted = is_old(node, facts) and disk_critical(node, facts)
        crisis = gib(facts.settings.crisis_bytes)
        critical = f" (disk critical, under crisis_bytes {crisis} free: protect_age lifted)" if lifted else ""
        draft.actions.append(
            Action(
                type=ActionType.REMOVE,
                reason=f"{cause}; {state} node, {strategy_detail(node, facts.strategy)}{critical}",
                priority=PRIORITY_PRESSURE,
                node_id=node.id,
            )
        )
    unrelieved = [p for p in disk_paths if not any(on_path(n, p) for n in chosen)]
    uncovered = max(0, view.excess - len(removable))
    if protected and (uncovered or (unrelieved and len(removable) < wanted)):
        stop_protected(facts, budgets, draft, protected, uncovered, unrelieved, cause)
    elif len(pool) < min(wanted, allowed):
        draft.notes.append(f"only {len(pool)} node(s) may be removed automatically; {wanted} wanted")
    elif wanted > allowed and len(removable) > allowed:
        draft.notes.append(
            f"{wanted - allowed} more removal(s) wait for the next run (max_concurrent_removals "
            f"{facts.settings.max_concurrent_removals})"
        )


def _stop(facts: Facts, budgets: Budgets, draft: Draft, signals: tuple[str, ...]) -> None:
    touched = draft.touched()
    running = [n for n in facts.with_status(NodeStatus.RUNNING) if n.id not in touched]
    if not running:
        draft.notes.append("pressure but no running node to stop")
        return
    if budgets.removals.remaining <= 0:
        draft.notes.append(f"pressure stop waits: {budgets.removals.describe()}")
        return
    node = removal_order(running, facts.strategy)[0]
    budgets.take_removal()
    draft.actions.append(
        Action(
            type=ActionType.STOP,
            reason=f"{'; '.join(signals)}; {strategy_detail(node, facts.strategy)}",
            priority=PRIORITY_PRESSURE,
            node_id=node.id,
            pressure=True,
            then_status=NodeStatus.STOPPED,
        )
    )

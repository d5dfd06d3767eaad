"""Capacity counting, work in flight, and the per-run concurrency budgets.

Capacity: a node occupies a place under ``node_cap`` unless it is on its way out or parked
outside the colony: REMOVING and BROKEN nodes do not count (they are being cleaned up), nor do
QUARANTINED ones (the operator must look at them; they must not stop the colony from growing).
DISABLED nodes *do* count, as in wnm 0.6: the operator turned them off but they keep their
identity, disk and ports, and may be switched back on.

In flight: a transition wnm started is still in progress while it is younger than its delay —
RESTARTING within ``delay_start``, a wnm-started upgrade (UPGRADING with ``upgrade_from`` set)
within ``delay_upgrade``, REMOVING within ``delay_remove`` — and only if it started after the
host booted (a reboot ended it). An UPGRADING node without ``upgrade_from`` upgraded itself and
exited: nothing of wnm's is in progress there, it waits for a restart (``awaits_restart``).
"""

from __future__ import annotations

from dataclasses import dataclass

from wnm.domain.enums import NodeStatus
from wnm.domain.node import Node
from wnm.domain.settings import Settings

NOT_COUNTED = frozenset({NodeStatus.REMOVING, NodeStatus.BROKEN, NodeStatus.QUARANTINED})


def counts_toward_cap(node: Node) -> bool:
    return node.status not in NOT_COUNTED


def delay_for(status: NodeStatus, settings: Settings) -> int | None:
    """The settle delay of a transitional status; None for a status that is not a transition."""
    return {
        NodeStatus.RESTARTING: settings.delay_start,
        NodeStatus.UPGRADING: settings.delay_upgrade,
        NodeStatus.REMOVING: settings.delay_remove,
    }.get(status)


def is_managed_upgrade(node: Node) -> bool:
    """An upgrade wnm started and has not yet seen settle (it may be rolled back)."""
    return node.status is NodeStatus.UPGRADING and bool(node.upgrade_from)


def is_self_upgraded(node: Node) -> bool:
    """The node replaced its own binary and exited; it is not back yet."""
    return node.status is NodeStatus.UPGRADING and not node.upgrade_from and node.alive is not True


def awaits_restart(node: Node) -> bool:
    """A self-upgraded node whose process is known to be gone: wnm should start it."""
    return is_self_upgraded(node) and node.alive is False


def is_in_flight(node: Node, settings: Settings, now: int, boot_time: int) -> bool:
    delay = delay_for(node.status, settings)
    if delay is None or node.status_changed_at < boot_time:
        return False
    if node.status is NodeStatus.UPGRADING and not node.upgrade_from:
        return False
    return now - node.status_changed_at < delay


def in_flight_text(node: Node, settings: Settings, now: int) -> str:
    """``node 0003 restarting (120s of 300s)``."""
    delay = delay_for(node.status, settings) or 0
    return f"node {node.name} {node.status.value.lower()} ({now - node.status_changed_at}s of {delay}s)"


@dataclass(frozen=True)
class InFlight:
    """Transitions still settling, by kind."""

    starts: tuple[Node, ...]
    upgrades: tuple[Node, ...]
    removals: tuple[Node, ...]

    @property
    def total(self) -> tuple[Node, ...]:
        return self.starts + self.upgrades + self.removals


def find_in_flight(nodes: tuple[Node, ...], settings: Settings, now: int, boot_time: int) -> InFlight:
    def of(status: NodeStatus) -> tuple[Node, ...]:
        return tuple(n for n in nodes if n.status is status and is_in_flight(n, settings, now, boot_time))

    return InFlight(
        starts=of(NodeStatus.RESTARTING),
        upgrades=of(NodeStatus.UPGRADING),
        removals=of(NodeStatus.REMOVING),
    )


class Budget:
    """One concurrency limit for this run: ``limit`` minus what is in flight minus what this
    run already planned. Mutable on purpose, but it lives only inside one ``decide`` call."""

    def __init__(self, label: str, limit: int, busy: tuple[Node, ...], settings: Settings, now: int):
        self.label = label
        self.limit = limit
        self._busy = busy
        self._settings = settings
        self._now = now
        self.planned = 0

    @property
    def remaining(self) -> int:
        return max(0, self.limit - len(self._busy) - self.planned)

    def describe(self) -> str:
        """Why the budget is used up, e.g. ``start budget used: 1 of 1 (node 0003 restarting ...)``."""
        parts = [in_flight_text(n, self._settings, self._now) for n in self._busy]
        if self.planned:
            parts.append(f"{self.planned} planned in this run")
        used = len(self._busy) + self.planned
        detail = f" ({'; '.join(parts)})" if parts else ""
        return f"{self.label} budget used: {used} of {self.limit}{detail}"


class Budgets:
    """The four limits of wnm-compat: starts (adds included), upgrades, removals, operations."""

    def __init__(self, in_flight: InFlight, settings: Settings, now: int):
        self.starts = Budget("start", settings.max_concurrent_starts, in_flight.starts, settings, now)
        self.upgrades = Budget("upgrade", settings.max_concurrent_upgrades, in_flight.upgrades, settings, now)
        self.removals = Budget("removal", settings.max_concurrent_removals, in_flight.removals, settings, now)
        self.operations = Budget(
            "operations", settings.max_concurrent_operations, in_flight.total, settings, now
        )

    def _blocked(self, kind: Budget) -> str | None:
        for budget in (kind, self.operations):
            if budget.remaining <= 0:
                return budget.describe()
        return None

    def start_blocked(self) -> str | None:
        """None when one more start (or add) fits; else the reason it does not."""
        return self._blocked(self.starts)

    def upgrade_blocked(self) -> str | None:
        return self._blocked(self.upgrades)

    def take_start(self) -> None:
        self.starts.planned += 1
        self.operations.planned += 1

    def take_upgrade(self) -> None:
        self.upgrades.planned += 1
        self.operations.planned += 1

    def take_self_restart(self) -> None:
        """A self-upgraded node's restart: limited by the upgrade budget only (it must not wait on
        other work), but it uses the operations budget so this run starts nothing else on top."""
        self.upgrades.planned += 1
        self.operations.planned += 1

    def take_rollback(self) -> None:
        """A rollback ends an upgrade that is no longer in flight; it waits for nothing."""
        self.operations.planned += 1

    def take_removal(self) -> None:
        """Pressure relief counts against removals only: it must never wait on a slow upgrade."""
        self.removals.planned += 1

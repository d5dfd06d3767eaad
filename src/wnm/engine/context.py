"""What every rule reads (``Facts``, immutable) and what rules write (``Draft``, one per run)."""

from __future__ import annotations

from dataclasses import dataclass, field

from wnm.domain.actions import Action
from wnm.domain.enums import NodeStatus, RemovalStrategy
from wnm.domain.node import Node
from wnm.domain.settings import Settings
from wnm.domain.snapshot import Snapshot
from wnm.engine.budgets import InFlight, counts_toward_cap, find_in_flight
from wnm.engine.pressure import same_path
from wnm.engine.selection import parse_strategy


@dataclass(frozen=True)
class Facts:
    """The snapshot, the settings and ``now``, plus the derived facts several rules share."""

    snapshot: Snapshot
    settings: Settings
    now: int
    strategy: RemovalStrategy
    in_flight: InFlight
    counted: tuple[Node, ...]

    @property
    def nodes(self) -> tuple[Node, ...]:
        return self.snapshot.nodes

    def with_status(self, *statuses: NodeStatus) -> tuple[Node, ...]:
        return tuple(n for n in self.nodes if n.status in statuses)

    @property
    def cooldown_left(self) -> int:
        """Seconds left of the no-growth cool-down after the last pressure stop (0 = none)."""
        last = self.snapshot.machine.last_pressure_at
        if last <= 0:
            return 0
        delay = self.settings.delay_restart
        return max(0, min(delay, delay - (self.now - last)))  # a stamp from the future: full delay


def on_path(node: Node, path: str) -> bool:
    """Whether the node's data lives on storage path ``path``."""
    if node.storage_path:
        return same_path(node.storage_path, path)
    return node.root_dir.startswith(path.rstrip("/") + "/")


def build_facts(snapshot: Snapshot, settings: Settings, now: int, notes: list[str]) -> Facts:
    strategy = parse_strategy(settings.node_removal_strategy)
    if strategy is None:
        notes.append(f"unknown node_removal_strategy {settings.node_removal_strategy!r}: using youngest")
        strategy = RemovalStrategy.YOUNGEST
    return Facts(
        snapshot=snapshot,
        settings=settings,
        now=now,
        strategy=strategy,
        in_flight=find_in_flight(snapshot.nodes, settings, now, snapshot.host.boot_time),
        counted=tuple(n for n in snapshot.nodes if counts_toward_cap(n)),
    )


@dataclass
class Draft:
    """Collects the actions, notes and add blockers of one ``decide`` call."""

    actions: list[Action] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)

    def block(self, text: str) -> None:
        if text not in self.blockers:
            self.blockers.append(text)

    def touched(self) -> set[int]:
        """Ids of nodes that already have an action in this plan (one action per node)."""
        return {a.node_id for a in self.actions if a.node_id is not None}

"""Actions the engine asks for, and the Plan that carries them with the reasons."""

from __future__ import annotations

from dataclasses import dataclass, field

from wnm.domain.enums import ActionType, NodeStatus
from wnm.domain.node import NodeSpec

# Priorities: higher runs first. The ladder mirrors the rule order of the engine.
PRIORITY_REBOOT = 100
PRIORITY_ROLLBACK = 95  # just below reboot recovery, above everything else
PRIORITY_BROKEN = 90
PRIORITY_DEAD = 80
PRIORITY_PRESSURE = 70
PRIORITY_UPGRADE = 50
PRIORITY_START = 40
PRIORITY_ADD = 30
PRIORITY_FORCED = 20
PRIORITY_SURVEY = 0


@dataclass(frozen=True)
class Action:
    """One thing to do, with its complete target and a reason an operator can read.

    ``spec`` is set for ADD; ``target_version`` and ``binary_source`` for UPGRADE;
    ``then_status`` tells the executor which status to record on success when it is not the
    obvious one (e.g. a pressure STOP leaves the node STOPPED and stamps a cool-down).
    """

    type: ActionType
    reason: str
    priority: int = PRIORITY_FORCED
    node_id: int | None = None
    spec: NodeSpec | None = None
    target_version: str = ""
    binary_source: str = ""
    pressure: bool = False
    then_status: NodeStatus | None = None

    def describe(self) -> str:
        target = f" node {self.node_id:04d}" if self.node_id is not None else ""
        if self.spec is not None:
            target = f" node {self.spec.id:04d} (port {self.spec.port}, metrics {self.spec.metrics_port})"
        version = f" -> {self.target_version}" if self.target_version else ""
        return f"{self.type.value}{target}{version}: {self.reason}"


@dataclass(frozen=True)
class Plan:
    """What the engine decided. Empty ``actions`` means idle; ``idle_reason`` then says why.

    ``blockers`` list what stops the next add (one line each, with the numbers).
    """

    actions: tuple[Action, ...] = ()
    idle_reason: str = ""
    blockers: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_idle(self) -> bool:
        return not any(a.type not in (ActionType.SURVEY,) for a in self.actions)

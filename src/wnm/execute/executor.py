"""The ActionExecutor: carries out a plan action by action and records every outcome.

One executor serves every entry point (cron run, forced action, later the API). It never knows
about dry runs: a dry run simply never reaches it. A failed action does not stop the others.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from wnm.domain.actions import Action
from wnm.domain.enums import ActionType, NodeStatus, Outcome
from wnm.domain.node import Node
from wnm.errors import PermanentFailure, TemporaryFailure, WnmError
from wnm.execute.journal import Journal
from wnm.execute.lifecycle import Lifecycle

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActionResult:
    action: Action
    outcome: Outcome
    message: str
    duration: float
    temporary: bool = False

    @property
    def node_id(self) -> int | None:
        return self.action.spec.id if self.action.spec is not None else self.action.node_id


class ActionExecutor:
    def __init__(
        self,
        lifecycle: Lifecycle,
        journal: Journal,
        *,
        action_delay_ms: int = 0,
        sleep: Callable[[float], None] = time.sleep,
        forced: bool = False,
    ) -> None:
        self.forced = forced
        self.lifecycle = lifecycle
        self.journal = journal
        self.action_delay = action_delay_ms / 1000.0
        self.sleep = sleep

    def execute(self, actions: Sequence[Action], nodes: Mapping[int, Node]) -> list[ActionResult]:
        """Run ``actions`` highest priority first; returns one result per action."""
        results: list[ActionResult] = []
        current = dict(nodes)
        ordered = sorted(actions, key=lambda a: -a.priority)
        acted = False
        for action in ordered:
            if action.type in (ActionType.SURVEY, ActionType.RESURVEY):
                results.append(ActionResult(action, Outcome.OK, "surveyed", 0.0))
                continue
            if acted and self.action_delay:
                self.sleep(self.action_delay)
            acted = True
            result = self._one(action, current)
            results.append(result)
        return results

    def _one(self, action: Action, nodes: dict[int, Node]) -> ActionResult:
        started = time.monotonic()
        temporary = False
        try:
            message = self._dispatch(action, nodes)
            outcome = Outcome.OK
            error = ""
        except TemporaryFailure as exc:
            outcome, message, error, temporary = Outcome.FAILED, str(exc), str(exc), True
        except PermanentFailure as exc:
            outcome, message, error = Outcome.FAILED, str(exc), str(exc)
        except WnmError as exc:
            outcome, message, error = Outcome.FAILED, str(exc), str(exc)
        duration = time.monotonic() - started
        node_id = action.spec.id if action.spec is not None else action.node_id
        self.journal.log(
            action=action.type.value,
            node_id=node_id,
            reason=action.reason,
            outcome=outcome.value,
            error=error,
            duration=duration,
        )
        target = f" node {node_id:04d}" if node_id is not None else ""
        if outcome is Outcome.OK:
            log.info("%s%s: %s (%.2fs)", action.type.value, target, message, duration)
        else:
            log.error("%s%s failed: %s", action.type.value, target, message)
        return ActionResult(action, outcome, message, duration, temporary)

    def _dispatch(self, action: Action, nodes: dict[int, Node]) -> str:
        lc = self.lifecycle
        if action.type is ActionType.ADD:
            if action.spec is None:
                raise PermanentFailure("add action without a node spec")
            node = lc.add(action.spec, action.reason)
            nodes[node.id] = node
            return f"added and started (port {node.port}, metrics {node.metrics_port})"
        node = self._target(action, nodes)
        if action.type is ActionType.START:
            nodes[node.id] = lc.start(node, action.reason, forgive=self.forced)
            return "started"
        if action.type is ActionType.ROLLBACK:
            nodes[node.id] = lc.rollback(node, action.target_version, action.reason)
            return f"rolled back to {action.target_version}; upgrades paused"
        if action.type is ActionType.STOP:
            status = action.then_status or NodeStatus.STOPPED
            nodes[node.id] = lc.stop(node, action.reason, pressure=action.pressure, status=status)
            return "stopped"
        if action.type is ActionType.RESTART:
            nodes[node.id] = lc.restart(node, action.reason)
            return "restarted"
        if action.type is ActionType.UPGRADE:
            if not action.binary_source or not action.target_version:
                raise PermanentFailure("upgrade action without a binary and version", node.id)
            nodes[node.id] = lc.upgrade(node, action.binary_source, action.target_version, action.reason)
            return f"upgraded to {action.target_version}; settling"
        if action.type is ActionType.REMOVE:
            lc.remove(node, action.reason)
            nodes.pop(node.id, None)
            return "removed"
        if action.type is ActionType.DISABLE:
            if action.then_status is NodeStatus.QUARANTINED:
                nodes[node.id] = lc.quarantine(node, action.reason)
                return "quarantined"
            nodes[node.id] = lc.disable(node, action.reason)
            return "disabled"
        if action.type is ActionType.ENABLE:
            nodes[node.id] = lc.enable(node, action.reason)
            return "enabled"
        raise PermanentFailure(f"unknown action {action.type}")

    @staticmethod
    def _target(action: Action, nodes: Mapping[int, Node]) -> Node:
        if action.node_id is None or action.node_id not in nodes:
            raise PermanentFailure(f"{action.type.value}: node {action.node_id} is not in the node table")
        return nodes[action.node_id]


def summarize(results: Sequence[ActionResult]) -> tuple[int, int]:
    """(attempted, failed) counting only real actions (not surveys)."""
    real = [r for r in results if r.action.type not in (ActionType.SURVEY, ActionType.RESURVEY)]
    return len(real), sum(1 for r in real if r.outcome is Outcome.FAILED)

"""The merge rules: what a survey saw of a node + what was stored -> the status to record.

Pure: everything (including ``now`` and the delays in ``settings``) comes in as arguments.
``alive`` = the node answered HTTP or its process runs; ``healthy`` = legacy: ``/metrics``
answered 200 with a complete body, v2: process alive. First match wins:

===============================  ==============================  ==================================
stored status                    observed                        recorded
===============================  ==============================  ==================================
REMOVING, DISABLED, QUARANTINED  anything                        unchanged (metrics updated)
any other                        root dir missing                BROKEN
any other                        process state unknown, no HTTP  unchanged ("state unknown")
UPGRADING, wnm-started           alive, healthy on its new       RUNNING, settled — once
(``upgrade_from`` set)           version                         ``upgrade_settle`` has passed;
                                                                 before: UPGRADING ("settling on X:
                                                                 healthy for Ns of Ms")
UPGRADING, wnm-started           gone after a self-upgrade       as for RUNNING below
UPGRADING, wnm-started           gone, unhealthy, or answering   UPGRADING with the problem; never
                                 with another version            DEAD: the engine rolls it back
UPGRADING, self-upgraded         alive                           RUNNING (no settle)
(``upgrade_from`` empty)         gone                            UPGRADING ("waiting for restart")
RESTARTING within delay_start    alive but not healthy, or gone  unchanged (still coming up)
any other                        alive                           RUNNING (reason says if unhealthy)
RUNNING, RESTARTING              gone, binary now has another    UPGRADING, self_upgraded ("exited
                                 version, exit code 0/unknown    after self-upgrade to X; waiting
                                                                 for restart"), not a death
RESTARTING (past delay_start)    gone                            DEAD, died ("did not come up
                                                                 within delay_start")
RUNNING                          gone                            DEAD, died (exit code, last words)
STOPPED, DEAD, BROKEN            gone                            unchanged
===============================  ==============================  ==================================

A wnm-started upgrade settles after ``min(upgrade_settle, delay_upgrade)`` seconds since it was
recorded (``status_changed_at``) while healthy now: capped by ``delay_upgrade`` so that a
healthy node is never rolled back because ``upgrade_settle`` was set longer than the deadline.
Whenever a node with ``upgrade_from`` set is recorded in anything but a still-settling
wnm-started upgrade, the observation says ``settled`` so the row forgets ``upgrade_from`` (a
stale one would turn a later self-upgrade into a "wnm-started" upgrade and roll it back).
"""

from __future__ import annotations

from dataclasses import dataclass

from wnm.backends.process.base import ProcessState, ProcessStatus
from wnm.domain.enums import NodeStatus
from wnm.domain.node import Node, NodeMetrics
from wnm.domain.observation import NodeObservation
from wnm.domain.settings import Settings

_KEEP_ALWAYS = frozenset({NodeStatus.REMOVING, NodeStatus.DISABLED, NodeStatus.QUARANTINED})
_EXPECTED_RUNNING = frozenset({NodeStatus.RUNNING, NodeStatus.RESTARTING, NodeStatus.UPGRADING})
WAITING_FOR_RESTART = "waiting for restart"


@dataclass(frozen=True)
class NodeProbe:
    """What the survey found out about one node this run, before judging.

    ``version`` is what the running process reports (legacy ``/metadata``); ``binary_version``
    what the node's binary file reports, read only when its stamp changed (``binary_stamp`` is
    then the stamp to store). ``failure`` holds the node's own last words for a gone process
    (critical_failure.log or its last ERROR line).
    """

    healthy: bool = False
    answered: bool = False
    problem: str = ""
    metrics: NodeMetrics | None = None
    version: str = ""
    peer_id: str = ""
    root_exists: bool = True
    binary_version: str = ""
    binary_stamp: str = ""
    log_problems: tuple[str, ...] = ()
    failure: str = ""


class _Observer:
    """Builds the observation for one node; ``status`` and ``reason`` vary, the facts do not."""

    def __init__(self, node: Node, probe: NodeProbe, process: ProcessStatus):
        self.node = node
        self.probe = probe
        self.process = process
        self.alive = probe.healthy or probe.answered or process.state is ProcessState.RUNNING

    def __call__(
        self, status: NodeStatus, reason: str, *, keep_version: bool = False, **flags: bool
    ) -> NodeObservation:
        probe, process, alive = self.probe, self.process, self.alive
        settling = status is NodeStatus.UPGRADING and not flags.get("self_upgraded", False)
        return NodeObservation(
            node_id=self.node.id,
            status=status,
            reason=reason,
            version="" if keep_version else probe.version or probe.binary_version,
            peer_id=probe.peer_id,
            pid=process.pid if alive else None,
            metrics=probe.metrics if alive else None,
            responded=probe.healthy,
            exit_code=None if alive else process.exit_code,
            alive=alive or (None if process.state is ProcessState.UNKNOWN else False),
            settled=bool(self.node.upgrade_from) and not settling,
            binary_stamp=probe.binary_stamp,
            log_problems=probe.log_problems,
            **flags,
        )


def judge(
    node: Node, probe: NodeProbe, process: ProcessStatus, now: int, settings: Settings
) -> NodeObservation:
    """The observation to record for ``node`` (see the module table for the rules)."""
    observe = _Observer(node, probe, process)
    alive, stored = observe.alive, node.status
    if stored in _KEEP_ALWAYS:
        return observe(stored, node.status_reason)
    if not probe.root_exists:
        return observe(NodeStatus.BROKEN, f"root dir {node.root_dir} is missing")
    if not alive and process.state is ProcessState.UNKNOWN:
        return observe(stored, f"process state unknown: {process.detail or 'no answer from the manager'}")
    if stored is NodeStatus.UPGRADING and node.upgrade_from:
        return _judge_upgrade(observe, now, settings)
    if stored is NodeStatus.UPGRADING and not alive:
        return observe(stored, node.status_reason or f"exited after self-upgrade; {WAITING_FOR_RESTART}")
    waiting = _still_coming_up(node, now, settings)
    if alive:
        if waiting and not probe.healthy:
            return observe(stored, f"{probe.problem or 'not healthy yet'}; waiting ({waiting})")
        return observe(NodeStatus.RUNNING, "" if probe.healthy else probe.problem)
    if waiting:
        if _self_upgrade(node, probe, process):  # it came up, upgraded itself and left already
            return _gone(observe, settings)
        return observe(stored, f"not running yet; waiting ({waiting})")
    if stored in _EXPECTED_RUNNING:
        return _gone(observe, settings)
    return observe(stored, node.status_reason)


def _judge_upgrade(observe: _Observer, now: int, settings: Settings) -> NodeObservation:
    """A wnm-started upgrade: settle it, or keep it UPGRADING with the problem in the reason."""
    node, probe = observe.node, observe.probe
    target = node.version
    if not observe.alive:
        if _self_upgrade(node, probe, observe.process):
            return _gone(observe, settings)
        code = observe.process.exit_code
        exit_text = f" (exit code {code})" if code is not None else ""
        last_words = f": {probe.failure}" if probe.failure else ""
        return observe(NodeStatus.UPGRADING, f"not running on {target}{exit_text}{last_words}")
    if probe.version and target and probe.version != target:
        reason = f"answers with version {probe.version}, expected {target}"
        return observe(NodeStatus.UPGRADING, reason, keep_version=True)
    if not probe.healthy:
        return observe(NodeStatus.UPGRADING, probe.problem or f"not healthy on {target}")
    settle = min(settings.upgrade_settle, settings.delay_upgrade)
    healthy_for = now - node.status_changed_at
    if healthy_for >= settle:
        return observe(NodeStatus.RUNNING, "")
    return observe(NodeStatus.UPGRADING, f"settling on {target}: healthy for {healthy_for}s of {settle}s")


def _gone(observe: _Observer, settings: Settings) -> NodeObservation:
    """A node expected to run whose process is gone: a self-upgrade exit or a death."""
    node, probe, process = observe.node, observe.probe, observe.process
    upgraded = _self_upgrade(node, probe, process)
    if upgraded:
        reason = f"exited after self-upgrade to {upgraded}; {WAITING_FOR_RESTART}"
        return observe(NodeStatus.UPGRADING, reason, self_upgraded=True)
    return observe(NodeStatus.DEAD, _death_reason(node, probe, process, settings), died=True)


def _still_coming_up(node: Node, now: int, settings: Settings) -> str:
    """For a node wnm (re)started within ``delay_start``: the delay text; "" otherwise."""
    if node.status is not NodeStatus.RESTARTING:
        return ""
    elapsed = now - node.status_changed_at
    return f"{elapsed}s of delay_start {settings.delay_start}s" if elapsed < settings.delay_start else ""


def _self_upgrade(node: Node, probe: NodeProbe, process: ProcessStatus) -> str:
    """The new version when the node exited because it replaced its own binary; "" otherwise."""
    new = probe.binary_version
    if new and node.version and new != node.version and process.exit_code in (0, None):
        return new
    return ""


def _death_reason(node: Node, probe: NodeProbe, process: ProcessStatus, settings: Settings) -> str:
    if node.status is NodeStatus.RESTARTING:
        reason = f"did not come up within delay_start ({settings.delay_start}s)"
    elif process.exit_code is not None:
        reason = f"process exited with code {process.exit_code}"
    else:
        reason = "process is gone"
    if process.exit_code is not None and node.status is not NodeStatus.RUNNING:
        reason += f", exit code {process.exit_code}"
    if probe.failure:
        reason += f": {probe.failure}"
    return reason

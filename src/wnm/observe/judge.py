"""The merge rules: what a survey saw of a node + what was stored -> the status to record.

Pure: everything (including ``now`` and the delays in ``settings``) comes in as arguments.
The rules, first match wins (``alive`` = the node answered HTTP or its process runs;
``healthy`` = legacy: ``/metrics`` answered 200 with a complete body, v2: process alive):

====================================  ==============================  ===============================
stored status                          observed                        recorded
====================================  ==============================  ===============================
REMOVING                               anything                        REMOVING (metrics updated)
DISABLED, QUARANTINED                  anything                        unchanged (metrics updated)
any other                              root dir missing                BROKEN
any other                              process state unknown, no HTTP  unchanged ("state unknown")
RESTARTING within delay_start,         alive but not healthy           unchanged (still coming up)
UPGRADING within delay_upgrade
any other                              alive                           RUNNING (reason says if unhealthy)
RESTARTING within delay_start,         gone                            unchanged (still coming up)
UPGRADING within delay_upgrade
RUNNING, RESTARTING, UPGRADING         gone, binary now has another    STOPPED, self_upgraded
                                       version, exit code 0/unknown    ("exited after self-upgrade to X")
RESTARTING, UPGRADING (past delay)     gone                            DEAD, died ("did not come up
                                                                       within delay_start/upgrade")
RUNNING                                gone                            DEAD, died (exit code, last words)
STOPPED, DEAD, BROKEN                  gone                            unchanged
====================================  ==============================  ===============================
"""

from __future__ import annotations

from dataclasses import dataclass

from wnm.backends.process.base import ProcessState, ProcessStatus
from wnm.domain.enums import NodeStatus
from wnm.domain.node import Node, NodeMetrics
from wnm.domain.observation import NodeObservation
from wnm.domain.settings import Settings

_KEEP_ALWAYS = frozenset({NodeStatus.DISABLED, NodeStatus.QUARANTINED})
_EXPECTED_RUNNING = frozenset({NodeStatus.RUNNING, NodeStatus.RESTARTING, NodeStatus.UPGRADING})


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


def judge(
    node: Node, probe: NodeProbe, process: ProcessStatus, now: int, settings: Settings
) -> NodeObservation:
    """The observation to record for ``node`` (see the module table for the rules)."""
    alive = probe.healthy or probe.answered or process.state is ProcessState.RUNNING
    stored = node.status

    def observe(status: NodeStatus, reason: str, **extra: bool) -> NodeObservation:
        return NodeObservation(
            node_id=node.id,
            status=status,
            reason=reason,
            version=probe.version or probe.binary_version,
            peer_id=probe.peer_id,
            pid=process.pid if alive else None,
            metrics=probe.metrics if alive else None,
            responded=probe.healthy,
            exit_code=None if alive else process.exit_code,
            binary_stamp=probe.binary_stamp,
            log_problems=probe.log_problems,
            **extra,
        )

    if stored is NodeStatus.REMOVING or stored in _KEEP_ALWAYS:
        return observe(stored, node.status_reason)
    if not probe.root_exists:
        return observe(NodeStatus.BROKEN, f"root dir {node.root_dir} is missing")
    if not alive and process.state is ProcessState.UNKNOWN:
        return observe(stored, f"process state unknown: {process.detail or 'no answer from the manager'}")
    waiting = _still_coming_up(node, now, settings)
    if alive:
        if waiting and not probe.healthy:
            return observe(stored, f"{probe.problem or 'not healthy yet'}; waiting ({waiting})")
        return observe(NodeStatus.RUNNING, "" if probe.healthy else probe.problem)
    if waiting:
        return observe(stored, f"not running yet; waiting ({waiting})")
    if stored in _EXPECTED_RUNNING:
        upgraded = _self_upgrade(node, probe, process)
        if upgraded:
            return observe(NodeStatus.STOPPED, f"exited after self-upgrade to {upgraded}", self_upgraded=True)
        return observe(NodeStatus.DEAD, _death_reason(node, probe, process, settings), died=True)
    return observe(stored, node.status_reason)


def _still_coming_up(node: Node, now: int, settings: Settings) -> str:
    """For a node wnm started or upgraded within its delay: the delay text; "" otherwise."""
    if node.status is NodeStatus.RESTARTING:
        name, delay = "delay_start", settings.delay_start
    elif node.status is NodeStatus.UPGRADING:
        name, delay = "delay_upgrade", settings.delay_upgrade
    else:
        return ""
    elapsed = now - node.status_changed_at
    return f"{elapsed}s of {name} {delay}s" if elapsed < delay else ""


def _self_upgrade(node: Node, probe: NodeProbe, process: ProcessStatus) -> str:
    """The new version when the node exited because it replaced its own binary; "" otherwise."""
    new = probe.binary_version
    if new and node.version and new != node.version and process.exit_code in (0, None):
        return new
    return ""


def _death_reason(node: Node, probe: NodeProbe, process: ProcessStatus, settings: Settings) -> str:
    if node.status is NodeStatus.RESTARTING:
        reason = f"did not come up within delay_start ({settings.delay_start}s)"
    elif node.status is NodeStatus.UPGRADING:
        reason = f"did not come up within delay_upgrade ({settings.delay_upgrade}s)"
    elif process.exit_code is not None:
        reason = f"process exited with code {process.exit_code}"
    else:
        reason = "process is gone"
    if process.exit_code is not None and node.status is not NodeStatus.RUNNING:
        reason += f", exit code {process.exit_code}"
    if probe.failure:
        reason += f": {probe.failure}"
    return reason

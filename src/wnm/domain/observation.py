"""What one survey saw of one node, before it is merged into the node table."""

from __future__ import annotations

from dataclasses import dataclass

from wnm.domain.enums import NodeStatus
from wnm.domain.node import NodeMetrics


@dataclass(frozen=True)
class NodeObservation:
    """The survey's verdict on one node.

    ``status`` is the status to record (what was observed wins over what was stored, except
    for DISABLED/QUARANTINED and transitions still within their delay). Empty ``version`` /
    ``peer_id`` and ``metrics is None`` mean "not observed this time, keep the stored value".
    ``died`` is True when the node was expected to run and its process is gone (feeds the
    crash-loop count); ``self_upgraded`` when it exited after replacing its own binary.
    """

    node_id: int
    status: NodeStatus
    reason: str = ""
    version: str = ""
    peer_id: str = ""
    pid: int | None = None
    metrics: NodeMetrics | None = None
    responded: bool = False
    exit_code: int | None = None
    died: bool = False
    self_upgraded: bool = False
    alive: bool | None = None
    settled: bool = False  # no wnm-started upgrade is pending any more (it settled, or the node moved on)
    binary_stamp: str = ""
    log_problems: tuple[str, ...] = ()

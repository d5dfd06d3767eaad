"""A node as wnm knows it: identity, placement, status and its latest observed metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from wnm.domain.enums import Generation, NodeStatus

SERVICE_PREFIX = "antnode"


def node_name(node_id: int) -> str:
    """The 4-digit zero-padded name of a node (``0001``), as wnm has always used."""
    return f"{node_id:04d}"


def service_name(node_id: int) -> str:
    """The service name of a node (``antnode0001``); no ``.service`` suffix."""
    return f"{SERVICE_PREFIX}{node_name(node_id)}"


@dataclass(frozen=True)
class NodeMetrics:
    """The latest values read from a node (metrics endpoint for legacy, process/data for v2)."""

    uptime: int = 0
    records: int = 0
    connected_peers: int = 0
    routing_table_peers: int = 0
    shunned: int = 0
    shunned_count: int = 0
    bad_peers: int = 0
    open_connections: int = 0
    network_size: int = 0
    rewards: str = "0"
    puts: int = 0
    payment_count: int = 0
    relevant_records: int = 0
    max_records: int = 0
    live_time: int = 0
    cpu_percent: float = 0.0
    mem_mb: float = 0.0
    data_size: int = 0

    @property
    def rewards_amount(self) -> Decimal:
        """``rewards`` as a number (it is stored as text: atto amounts exceed 64 bits); 0 if unreadable."""
        try:
            value = Decimal(self.rewards.strip() or "0")
        except InvalidOperation:
            return Decimal(0)
        return value if value.is_finite() else Decimal(0)


@dataclass(frozen=True)
class Node:
    """One node row. ``status_changed_at`` and ``age`` are epoch seconds.

    ``age`` is when the node was first created (its identity's birth); ``container_id`` is the
    row id of the container holding it, for the docker manager.
    """

    id: int
    generation: Generation
    manager: str
    root_dir: str
    log_dir: str
    binary: str
    port: int
    metrics_port: int
    rpc_port: int
    status: NodeStatus
    status_changed_at: int
    age: int
    wallet: str = ""
    version: str = ""
    peer_id: str = ""
    host: str = "127.0.0.1"
    environment: str = ""
    storage_path: str = ""
    container_id: int | None = None
    service: str = ""
    status_reason: str = ""
    pid: int | None = None
    recent_deaths: tuple[int, ...] = ()
    metrics: NodeMetrics = field(default_factory=NodeMetrics)
    binary_stamp: str = ""  # "<mtime_ns>:<size>" of ``binary`` when its version was last read
    upgrade_from: str = ""  # version before a wnm-started upgrade, while it is not yet settled
    alive: bool | None = None  # observed this run: process running (None = not known); not stored

    @property
    def name(self) -> str:
        return node_name(self.id)

    @property
    def service_name(self) -> str:
        return self.service or service_name(self.id)


@dataclass(frozen=True)
class NodeSpec:
    """Everything needed to create a new node; carried by an ADD action."""

    id: int
    generation: Generation
    manager: str
    port: int
    metrics_port: int
    rpc_port: int
    wallet: str
    binary_source: str
    storage_path: str
    root_dir: str
    log_dir: str
    binary: str
    version: str = ""
    host: str = "127.0.0.1"
    environment: str = ""

    @property
    def service_name(self) -> str:
        return service_name(self.id)

"""Mapping between rows and domain values, and the few queries a run needs."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, fields
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from wnm.domain.enums import Generation, NodeStatus
from wnm.domain.host import HostCounters
from wnm.domain.node import Node, NodeMetrics, node_name
from wnm.domain.settings import SETTING_NAMES, MachineState, Settings
from wnm.store.models import ActionLogRow, ContainerRow, MachineRow, NodeRow

MACHINE_ID = 1
_STATE_NAMES = tuple(f.name for f in fields(MachineState))

# NodeMetrics field -> node column, where the names differ
_METRIC_COLUMNS = {
    "routing_table_peers": "total_peers",
    "relevant_records": "rel_records",
    "cpu_percent": "cpu",
    "mem_mb": "mem",
}
_METRIC_NAMES = tuple(f.name for f in fields(NodeMetrics))


# ---- machine -------------------------------------------------------------------------------


def load_machine(session: Session) -> MachineRow | None:
    return session.get(MachineRow, MACHINE_ID)


def settings_of(row: MachineRow) -> Settings:
    return Settings(**{name: getattr(row, name) for name in SETTING_NAMES})


def state_of(row: MachineRow) -> MachineState:
    return MachineState(**{name: getattr(row, name) for name in _STATE_NAMES})


def counters_of(row: MachineRow) -> HostCounters | None:
    if not row.host_counters:
        return None
    try:
        return HostCounters(**json.loads(row.host_counters))
    except (ValueError, TypeError):
        return None


def create_machine(session: Session, settings: Settings, state: MachineState) -> MachineRow:
    row = MachineRow(id=MACHINE_ID, created_at=int(time.time()), host_counters="")
    for name, value in asdict(settings).items():
        setattr(row, name, value)
    for name, value in asdict(state).items():
        setattr(row, name, value)
    session.add(row)
    return row


def update_machine(session: Session, values: Mapping[str, Any]) -> None:
    row = load_machine(session)
    if row is None:
        return
    for name, value in values.items():
        setattr(row, name, value)


def save_state(session: Session, state: MachineState, counters: HostCounters | None = None) -> None:
    values: dict[str, Any] = asdict(state)
    if counters is not None:
        values["host_counters"] = json.dumps(asdict(counters))
    update_machine(session, values)


# ---- nodes ---------------------------------------------------------------------------------


def node_of(row: NodeRow) -> Node:
    metrics = NodeMetrics(**{name: getattr(row, _METRIC_COLUMNS.get(name, name)) for name in _METRIC_NAMES})
    deaths = tuple(int(x) for x in row.recent_deaths.split(",") if x) if row.recent_deaths else ()
    return Node(
        id=row.id,
        generation=Generation(row.generation),
        manager=row.manager_type,
        root_dir=row.root_dir,
        log_dir=row.log_dir,
        binary=row.binary,
        port=row.port,
        metrics_port=row.metrics_port,
        rpc_port=row.rpc_port,
        status=NodeStatus(row.status),
        status_changed_at=row.timestamp,
        age=row.age,
        wallet=row.wallet,
        version=row.version,
        peer_id=row.peer_id,
        host=row.host,
        environment=row.environment,
        storage_path=row.storage_path,
        container_id=row.container_id,
        service=row.service,
        status_reason=row.status_reason,
        pid=row.pid,
        recent_deaths=deaths,
        binary_stamp=row.binary_stamp,
        metrics=metrics,
    )


def node_values(node: Node) -> dict[str, Any]:
    """Column values of a node (everything but the primary key)."""
    values: dict[str, Any] = {
        "generation": node.generation.value,
        "manager_type": node.manager,
        "node_name": node_name(node.id),
        "service": node.service_name,
        "binary": node.binary,
        "binary_stamp": node.binary_stamp,
        "version": node.version,
        "root_dir": node.root_dir,
        "log_dir": node.log_dir,
        "storage_path": node.storage_path,
        "port": node.port,
        "metrics_port": node.metrics_port,
        "rpc_port": node.rpc_port,
        "wallet": node.wallet,
        "peer_id": node.peer_id,
        "status": node.status.value,
        "status_reason": node.status_reason,
        "timestamp": node.status_changed_at,
        "age": node.age,
        "pid": node.pid,
        "recent_deaths": ",".join(str(d) for d in node.recent_deaths),
        "host": node.host,
        "environment": node.environment,
        "container_id": node.container_id,
    }
    for name in _METRIC_NAMES:
        values[_METRIC_COLUMNS.get(name, name)] = getattr(node.metrics, name)
    return values


def load_nodes(session: Session) -> list[Node]:
    return [node_of(r) for r in session.scalars(select(NodeRow).order_by(NodeRow.id))]


def save_node(session: Session, node: Node) -> None:
    """Insert or update one node row."""
    row = session.get(NodeRow, node.id)
    if row is None:
        row = NodeRow(id=node.id, machine_id=MACHINE_ID)
        session.add(row)
    for name, value in node_values(node).items():
        setattr(row, name, value)


def save_nodes(session: Session, nodes: Iterable[Node]) -> None:
    for node in nodes:
        save_node(session, node)


def delete_node(session: Session, node_id: int) -> None:
    session.execute(delete(NodeRow).where(NodeRow.id == node_id))


# ---- containers ----------------------------------------------------------------------------


def upsert_container(
    session: Session, docker_id: str, name: str, image: str, status: str, created_at: int
) -> int:
    row = session.scalars(select(ContainerRow).where(ContainerRow.container_id == docker_id)).first()
    if row is None:
        row = ContainerRow(
            container_id=docker_id, name=name, image=image, status=status, created_at=created_at
        )
        session.add(row)
        session.flush()
    else:
        row.status = status
    return row.id


def delete_containers_except(session: Session, keep_docker_ids: Sequence[str]) -> None:
    session.execute(delete(ContainerRow).where(ContainerRow.container_id.not_in(list(keep_docker_ids))))


def load_containers(session: Session) -> list[ContainerRow]:
    return list(session.scalars(select(ContainerRow).order_by(ContainerRow.id)))


# ---- action log ----------------------------------------------------------------------------


def log_action(
    session: Session,
    *,
    action: str,
    node_id: int | None,
    reason: str,
    outcome: str,
    error: str = "",
    duration: float = 0.0,
    source: str = "run",
    at: float | None = None,
) -> None:
    session.add(
        ActionLogRow(
            time=time.time() if at is None else at,
            action=action,
            node_id=node_id,
            reason=reason,
            outcome=outcome,
            error=error,
            duration=round(duration, 3),
            source=source,
        )
    )


def recent_actions(session: Session, limit: int = 50) -> list[ActionLogRow]:
    rows = session.scalars(select(ActionLogRow).order_by(ActionLogRow.id.desc()).limit(limit))
    return list(reversed(list(rows)))

"""Mapping between rows and domain values, and the few queries a run needs (stdlib sqlite3).

Column names are those of ``store.models`` (checked by tests/store/test_repository.py). All
statements use placeholders; column names come only from the constants and dataclasses here.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from wnm.domain.enums import Generation, NodeStatus
from wnm.domain.host import HostCounters
from wnm.domain.node import Node, NodeMetrics, node_name
from wnm.domain.settings import SETTING_NAMES, MachineState, Settings

MACHINE_ID = 1
STATE_NAMES = tuple(f.name for f in fields(MachineState))
MACHINE_EXTRA = ("host_counters", "binary_cache", "created_at")
MACHINE_COLUMNS = frozenset(("id", *SETTING_NAMES, *STATE_NAMES, *MACHINE_EXTRA))

# NodeMetrics field -> node column, where the names differ
_METRIC_COLUMNS = {
    "routing_table_peers": "total_peers",
    "relevant_records": "rel_records",
    "cpu_percent": "cpu",
    "mem_mb": "mem",
}
_METRIC_NAMES = tuple(f.name for f in fields(NodeMetrics))
_BOOL_SETTINGS = frozenset(f.name for f in fields(Settings) if f.type in ("bool", bool))

Row = sqlite3.Row


# ---- machine -------------------------------------------------------------------------------


def load_machine(conn: sqlite3.Connection) -> Row | None:
    row: Row | None = conn.execute("SELECT * FROM machine WHERE id = ?", (MACHINE_ID,)).fetchone()
    return row


def settings_of(row: Row) -> Settings:
    values = {name: row[name] for name in SETTING_NAMES}
    for name in _BOOL_SETTINGS:
        values[name] = bool(values[name])
    return Settings(**values)


def state_of(row: Row) -> MachineState:
    return MachineState(**{name: row[name] for name in STATE_NAMES})


def counters_of(row: Row) -> HostCounters | None:
    if not row["host_counters"]:
        return None
    try:
        return HostCounters(**json.loads(row["host_counters"]))
    except (ValueError, TypeError):
        return None


def create_machine(conn: sqlite3.Connection, settings: Settings, state: MachineState) -> None:
    values: dict[str, Any] = {"id": MACHINE_ID, **asdict(settings), **asdict(state)}
    values.update(host_counters="", binary_cache="", created_at=int(time.time()))
    _insert(conn, "machine", values)


def update_machine(conn: sqlite3.Connection, values: Mapping[str, Any]) -> None:
    if not values:
        return
    unknown = set(values) - MACHINE_COLUMNS
    if unknown:
        raise ValueError(f"not machine columns: {sorted(unknown)}")
    names = list(values)
    assignments = ", ".join(f"{n} = ?" for n in names)
    conn.execute(f"UPDATE machine SET {assignments} WHERE id = ?", [values[n] for n in names] + [MACHINE_ID])


# ---- nodes ---------------------------------------------------------------------------------


def node_of(row: Row) -> Node:
    metrics = NodeMetrics(**{name: row[_METRIC_COLUMNS.get(name, name)] for name in _METRIC_NAMES})
    deaths = tuple(int(x) for x in row["recent_deaths"].split(",") if x) if row["recent_deaths"] else ()
    return Node(
        id=row["id"],
        generation=Generation(row["generation"]),
        manager=row["manager_type"],
        root_dir=row["root_dir"],
        log_dir=row["log_dir"],
        binary=row["binary"],
        port=row["port"],
        metrics_port=row["metrics_port"],
        rpc_port=row["rpc_port"],
        status=NodeStatus(row["status"]),
        status_changed_at=row["timestamp"],
        age=row["age"],
        wallet=row["wallet"],
        version=row["version"],
        peer_id=row["peer_id"],
        host=row["host"],
        environment=row["environment"],
        storage_path=row["storage_path"],
        container_id=row["container_id"],
        service=row["service"],
        status_reason=row["status_reason"],
        pid=row["pid"],
        recent_deaths=deaths,
        binary_stamp=row["binary_stamp"],
        upgrade_from=row["upgrade_from"],
        metrics=metrics,
    )


def node_values(node: Node) -> dict[str, Any]:
    """Column values of a node row, the primary key included."""
    values: dict[str, Any] = {
        "id": node.id,
        "machine_id": MACHINE_ID,
        "generation": node.generation.value,
        "manager_type": node.manager,
        "node_name": node_name(node.id),
        "service": node.service_name,
        "binary": node.binary,
        "binary_stamp": node.binary_stamp,
        "upgrade_from": node.upgrade_from,
        "version": node.version,
        "root_dir": node.root_dir,
        "log_dir": node.log_dir,
        "storage_path": node.storage_path,
        "port": node.port,
        "metrics_port": node.metrics_port,
        "rpc_port": node.rpc_port,
        "network": "evm-arbitrum-one",
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


NODE_COLUMNS: tuple[str, ...] = tuple(
    node_values(Node(0, Generation.LEGACY, "", "", "", "", 0, 0, 0, NodeStatus.STOPPED, 0, 0)).keys()
)
_UPSERT_NODE = (
    f"INSERT INTO node ({', '.join(NODE_COLUMNS)}) VALUES ({', '.join('?' for _ in NODE_COLUMNS)}) "
    f"ON CONFLICT(id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in NODE_COLUMNS if c != 'id')}"
)


def load_nodes(conn: sqlite3.Connection) -> list[Node]:
    return [node_of(r) for r in conn.execute("SELECT * FROM node ORDER BY id")]


def save_node(conn: sqlite3.Connection, node: Node) -> None:
    """Insert or update one node row."""
    save_nodes(conn, (node,))


def save_nodes(conn: sqlite3.Connection, nodes: Iterable[Node]) -> None:
    rows = [tuple(node_values(n)[c] for c in NODE_COLUMNS) for n in nodes]
    conn.executemany(_UPSERT_NODE, rows)


def delete_node(conn: sqlite3.Connection, node_id: int) -> None:
    conn.execute("DELETE FROM node WHERE id = ?", (node_id,))


# ---- containers ----------------------------------------------------------------------------


def upsert_container(
    conn: sqlite3.Connection, docker_id: str, name: str, image: str, status: str, created_at: int
) -> int:
    conn.execute(
        "INSERT INTO container (machine_id, container_id, name, image, status, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(container_id) DO UPDATE SET status = excluded.status, "
        "name = excluded.name, image = excluded.image",
        (MACHINE_ID, docker_id, name, image, status, created_at),
    )
    row = conn.execute("SELECT id FROM container WHERE container_id = ?", (docker_id,)).fetchone()
    return int(row[0])


def delete_containers_except(conn: sqlite3.Connection, keep_docker_ids: Sequence[str]) -> None:
    marks = ", ".join("?" for _ in keep_docker_ids)
    if keep_docker_ids:
        conn.execute(f"DELETE FROM container WHERE container_id NOT IN ({marks})", list(keep_docker_ids))
    else:
        conn.execute("DELETE FROM container")


# ---- action log ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionRecord:
    time: float
    action: str
    node_id: int | None
    reason: str
    outcome: str
    error: str
    duration: float
    source: str


def log_action(
    conn: sqlite3.Connection,
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
    _insert(
        conn,
        "action_log",
        {
            "time": time.time() if at is None else at,
            "action": action,
            "node_id": node_id,
            "reason": reason,
            "outcome": outcome,
            "error": error,
            "duration": round(duration, 3),
            "source": source,
        },
    )


def recent_actions(conn: sqlite3.Connection, limit: int = 50) -> list[ActionRecord]:
    rows = conn.execute(
        "SELECT time, action, node_id, reason, outcome, error, duration, source FROM action_log "
        "ORDER BY id DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [ActionRecord(*tuple(r)) for r in reversed(rows)]


def _insert(conn: sqlite3.Connection, table: str, values: Mapping[str, Any]) -> None:
    names = list(values)
    conn.execute(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
        [values[n] for n in names],
    )

"""Build domain objects from the JSON decision cases, with terse defaults.

A case file holds ``description``, ``settings`` (overrides), ``snapshot``, ``now`` and
``expect``. Anything a case leaves out takes the defaults below, chosen so the default host is
calm (cpu 10%, mem 20%, load 0.1) with one storage path ``/srv/wnm`` (1000 GiB, 100 used), a
legacy binary 0.4.17, a valid rewards address, and a boot time already recorded (no reboot).

Node entries: ``{"id": 3, "status": "RUNNING", ...}`` or ``{"ids": [1, 20], ...}`` for a range.
Defaults per node: legacy, version 0.4.17, on ``/srv/wnm``, ports 55000/13000/30000 + id,
``status_changed_at = now - 3600``, ``age = now - 4 days + 1000 * id`` (higher id = younger; every
default node is younger than the default ``protect_age`` of 7 days, so removals may take it).
Conveniences: ``changed_ago`` (seconds before now), ``born_ago``, ``deaths_ago`` (list),
``metrics`` (NodeMetrics fields). Storage entries take bytes or ``total_gib``/``used_gib``/
``free_gib`` (free defaults to total - used).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from wnm.domain.enums import Generation, NodeStatus
from wnm.domain.host import HostMetrics, StorageUsage
from wnm.domain.node import Node, NodeMetrics
from wnm.domain.settings import GIB, MachineState, Settings
from wnm.domain.snapshot import BinaryInfo, Snapshot

DEFAULT_NOW = 1_700_100_000
DEFAULT_BOOT = 1_700_000_000
WALLET = "0x" + "a1" * 20
STORAGE = "/srv/wnm"
DEFAULT_AGE = 4 * 86400  # seconds before ``now`` a default node was born (less 1000 s per id)

BASE_SETTINGS: dict[str, Any] = {
    "rewards_address": WALLET,
    "node_storage": STORAGE,
    "process_manager": "setsid+user",
}


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    settings: Settings
    snapshot: Snapshot
    now: int
    expect: dict[str, Any]


def load_case(path: Path) -> Case:
    raw = json.loads(path.read_text())
    unknown = set(raw) - {"description", "settings", "snapshot", "now", "expect"}
    if unknown:
        raise ValueError(f"{path.name}: unknown keys {sorted(unknown)}")
    now = int(raw.get("now", DEFAULT_NOW))
    settings = build_settings(raw.get("settings", {}))
    snapshot = build_snapshot(raw.get("snapshot", {}), now)
    return Case(path.stem, raw["description"], settings, snapshot, now, raw["expect"])


def build_settings(overrides: dict[str, Any]) -> Settings:
    known = {f.name for f in fields(Settings)}
    bad = set(overrides) - known
    if bad:
        raise ValueError(f"unknown settings {sorted(bad)}")
    return replace(Settings(), **{**BASE_SETTINGS, **overrides})


def build_snapshot(raw: dict[str, Any], now: int) -> Snapshot:
    nodes: list[Node] = []
    for entry in raw.get("nodes", []):
        nodes.extend(build_nodes(entry, now))
    binaries = raw.get(
        "binaries", [{"path": "/usr/local/bin/antnode", "generation": "legacy", "version": "0.4.17"}]
    )
    return Snapshot(
        host=build_host(raw.get("host", {})),
        nodes=tuple(nodes),
        machine=MachineState(**{"boot_time": DEFAULT_BOOT, **raw.get("machine", {})}),
        binaries=tuple(BinaryInfo(b["path"], Generation(b["generation"]), b["version"]) for b in binaries),
        ports_in_use=frozenset(raw.get("ports_in_use", [])),
        dirs_present=frozenset(raw.get("dirs_present", [])),
    )


def build_host(raw: dict[str, Any]) -> HostMetrics:
    values: dict[str, Any] = {
        "cpu_percent": 10.0,
        "mem_percent": 20.0,
        "load": (0.1, 0.1, 0.1),
        "cpu_count": 2,
        "boot_time": DEFAULT_BOOT,
    }
    values.update({k: v for k, v in raw.items() if k != "storage"})
    values["load"] = tuple(values["load"])
    storage = raw.get("storage", [{"path": STORAGE, "total_gib": 1000, "used_gib": 100}])
    values["storage"] = tuple(build_storage(s) for s in storage)
    return HostMetrics(**values)


def build_storage(raw: dict[str, Any]) -> StorageUsage:
    total = int(raw["total_gib"] * GIB) if "total_gib" in raw else int(raw["total"])
    used = int(raw["used_gib"] * GIB) if "used_gib" in raw else int(raw["used"])
    free = int(raw["free_gib"] * GIB) if "free_gib" in raw else int(raw.get("free", total - used))
    return StorageUsage(path=raw["path"], total=total, used=used, free=free)


def build_nodes(raw: dict[str, Any], now: int) -> list[Node]:
    if "ids" in raw:
        first, last = raw["ids"]
        rest = {k: v for k, v in raw.items() if k != "ids"}
        return [build_node({**rest, "id": i}, now) for i in range(first, last + 1)]
    return [build_node(raw, now)]


def build_node(raw: dict[str, Any], now: int) -> Node:
    data = dict(raw)
    node_id = int(data.pop("id"))
    storage = data.pop("storage_path", STORAGE)
    root = data.pop("root_dir", f"{storage}/antnode{node_id:04d}")
    generation = Generation(data.pop("generation", "legacy"))
    binary_name = "antnode" if generation is Generation.LEGACY else "ant-node"
    if "changed_ago" in data:
        data["status_changed_at"] = now - int(data.pop("changed_ago"))
    if "born_ago" in data:
        data["age"] = now - int(data.pop("born_ago"))
    if "deaths_ago" in data:
        data["recent_deaths"] = tuple(now - int(x) for x in data.pop("deaths_ago"))
    metrics = NodeMetrics(**data.pop("metrics", {}))
    values: dict[str, Any] = {
        "manager": "setsid+user",
        "log_dir": f"{root}/logs",
        "binary": f"{root}/{binary_name}",
        "port": 55000 + node_id,
        "metrics_port": 13000 + node_id,
        "rpc_port": 30000 + node_id,
        "status": "RUNNING",
        "status_changed_at": now - 3600,
        "age": now - DEFAULT_AGE + 1000 * node_id,
        "version": "0.4.17",
    }
    values.update(data)
    values["status"] = NodeStatus(values["status"])
    if "recent_deaths" in values:
        values["recent_deaths"] = tuple(values["recent_deaths"])
    return Node(
        id=node_id,
        generation=generation,
        root_dir=root,
        storage_path=storage,
        metrics=metrics,
        **values,
    )

"""One observation of the host and every node, merged into the node table's view.

Level-driven: what is observed now wins over what is stored (except statuses the operator or
a pending transition owns), so every run rebuilds its picture from the host as it is.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from wnm.backends.process.base import ContainerInfo, ProcessManager, ProcessState, ProcessStatus
from wnm.domain.enums import Generation
from wnm.domain.host import HostCounters
from wnm.domain.node import Node
from wnm.domain.observation import NodeObservation
from wnm.domain.settings import MachineState, Settings
from wnm.domain.snapshot import BinaryInfo, Snapshot
from wnm.errors import WnmError
from wnm.nodes.versions import file_stamp, probe_binary
from wnm.store import repository as repo
from wnm.store.db import Store

log = logging.getLogger(__name__)

SURVEY_DEADLINE = 2.0


@dataclass(frozen=True)
class Observation:
    snapshot: Snapshot
    nodes: tuple[Node, ...]
    counters: HostCounters
    binary_cache: str
    containers: tuple[ContainerInfo, ...] = ()


def observe(
    settings: Settings,
    state: MachineState,
    nodes: Sequence[Node],
    counters: HostCounters | None,
    manager: ProcessManager,
    now: int,
    *,
    binary_cache: str = "",
    deadline: float = SURVEY_DEADLINE,
) -> Observation:
    """Observe host and nodes; returns the snapshot for the engine and the merged node rows."""
    from wnm.observe.host import read_host
    from wnm.observe.ports import ports_in_use
    from wnm.observe.survey import survey

    host = read_host(settings.storage_paths, counters)
    statuses = _statuses(manager, nodes)
    observations = survey(nodes, statuses, settings, now, deadline=deadline)
    by_id = {o.node_id: o for o in observations}
    merged = tuple(apply_observation(n, by_id[n.id], now, settings) if n.id in by_id else n for n in nodes)
    binaries, cache = source_binaries(settings, binary_cache)
    snapshot = Snapshot(
        host=host,
        nodes=merged,
        machine=state,
        binaries=binaries,
        ports_in_use=ports_in_use(),
        dirs_present=node_dirs(settings.storage_paths),
    )
    return Observation(snapshot, merged, host.counters, cache, _containers(manager))


def _statuses(manager: ProcessManager, nodes: Sequence[Node]) -> Mapping[int, ProcessStatus]:
    if not nodes:
        return {}
    try:
        return manager.status_all(nodes)
    except WnmError as exc:
        log.warning("%s could not report node processes: %s", manager.name, exc)
        return {n.id: ProcessStatus(ProcessState.UNKNOWN, detail=str(exc)) for n in nodes}


def _containers(manager: ProcessManager) -> tuple[ContainerInfo, ...]:
    try:
        return tuple(manager.containers())
    except WnmError as exc:
        log.warning("%s could not list its containers: %s", manager.name, exc)
        return ()


def apply_observation(node: Node, obs: NodeObservation, now: int, settings: Settings) -> Node:
    """The node row after this observation (pure)."""
    deaths = node.recent_deaths
    if obs.died:
        window = settings.crash_loop_minutes * 60
        deaths = (*tuple(d for d in deaths if now - d < window), now)
    changes: dict[str, Any] = {"recent_deaths": deaths, "pid": obs.pid, "alive": obs.alive}
    if obs.settled:
        changes["upgrade_from"] = ""
    if obs.status is not node.status:
        changes["status"] = obs.status
        changes["status_changed_at"] = now
        changes["status_reason"] = obs.reason
    elif obs.reason != node.status_reason and (obs.reason or obs.responded):
        changes["status_reason"] = obs.reason  # a node that answers again loses its old complaint
    if obs.version:
        changes["version"] = obs.version
    if obs.peer_id:
        changes["peer_id"] = obs.peer_id
    if obs.metrics is not None:
        changes["metrics"] = obs.metrics
    if obs.binary_stamp:
        changes["binary_stamp"] = obs.binary_stamp
    return replace(node, **changes)


def source_binaries(settings: Settings, cache_text: str) -> tuple[tuple[BinaryInfo, ...], str]:
    """The configured source binaries with their versions; ``--version`` runs only when a file
    changed since the version was cached (the cache is stored in the machine row)."""
    try:
        cache: dict[str, Any] = json.loads(cache_text) if cache_text else {}
    except ValueError:
        cache = {}
    found: list[BinaryInfo] = []
    new_cache: dict[str, Any] = {}
    for path in {settings.antnode_path, settings.node_binary_path}:
        if not path:
            continue
        stamp = file_stamp(path)
        if stamp is None:
            continue
        entry = cache.get(path)
        if entry and entry.get("stamp") == str(stamp):
            info = BinaryInfo(path, Generation(entry["generation"]), entry["version"])
        else:
            probed = probe_binary(path)
            if probed is None:
                continue
            info = probed
        found.append(info)
        new_cache[path] = {"stamp": str(stamp), "generation": info.generation.value, "version": info.version}
    found.sort(key=lambda b: b.generation.value)
    return tuple(found), json.dumps(new_cache, sort_keys=True)


def node_dirs(storage_paths: Sequence[str]) -> frozenset[str]:
    """Node directories present under the storage paths (so a new id never reuses an identity)."""
    present: set[str] = set()
    for base in storage_paths:
        try:
            with os.scandir(base) as entries:
                present.update(e.path for e in entries if e.name.startswith(("antnode", "ant-node")))
        except OSError:
            continue
    return frozenset(present)


def discard_stale_backups(nodes: Sequence[Node]) -> None:
    """Delete old binaries kept for a rollback once nothing can need them any more.

    A backup (``<binary>.old``) is needed only while a wnm-started upgrade is settling
    (``upgrade_from`` set); a running node without one has settled, or its upgrade was cut
    short by a killed run and it came back on whichever binary is in place.
    """
    from wnm.domain.enums import NodeStatus
    from wnm.system.files import discard

    for node in nodes:
        if node.upgrade_from or node.status is not NodeStatus.RUNNING or not node.binary:
            continue
        backup = node.binary + ".old"
        if os.path.exists(backup):
            try:
                discard(backup)
            except WnmError as exc:
                log.warning("node %04d: %s", node.id, exc)


def record(store: Store, observation: Observation, state: MachineState) -> None:
    """Store the merged nodes, host counters, binary versions and boot time in one transaction."""
    host = observation.snapshot.host
    with store.transaction() as conn:
        holder: dict[int, int] = {}
        for info in observation.containers:
            row_id = repo.upsert_container(
                conn, info.docker_id, info.name, info.image, info.status, info.created_at
            )
            holder.update((node_id, row_id) for node_id in info.node_ids)
        nodes = tuple(replace(n, container_id=holder.get(n.id)) for n in observation.nodes)
        repo.save_nodes(conn, nodes)
        # containers that are gone (or a machine that has none) leave no rows behind
        repo.delete_containers_except(conn, [c.docker_id for c in observation.containers])
        repo.update_machine(
            conn,
            {
                "host_counters": json.dumps(asdict(observation.counters)),
                "binary_cache": observation.binary_cache,
                "boot_time": host.boot_time or state.boot_time,
            },
        )

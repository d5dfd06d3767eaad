"""Survey every node at once: what each one is doing now, as NodeObservations.

Fetching is separate from judging: this module gathers the facts (HTTP for legacy nodes, in one
concurrent batch under one deadline; process stats, data size and logs for v2 nodes; the
binary's ``--version`` only when its file stamp changed) into a :class:`NodeProbe` per node, and
:func:`wnm.observe.judge.judge` turns each into the status to record.

Binary versions: the version a *running* node reports is the truth (legacy ``/metadata``). A
binary file that changed while its process kept running means a self-upgrade is pending; its
version is only read once the process is gone (so the judge can tell a self-upgrade exit from
a crash) or once the running process is younger than the file (it runs the new binary).
A self-upgrade exit is recorded as UPGRADING "waiting for restart", never as a death.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from wnm.backends.process.base import ProcessState, ProcessStatus
from wnm.domain.enums import Generation, NodeStatus
from wnm.domain.node import Node, NodeMetrics
from wnm.domain.observation import NodeObservation
from wnm.domain.settings import Settings
from wnm.nodes.health import data_size, failure_reason, v2_log_problems
from wnm.nodes.versions import FileStamp, file_stamp, probe_binary
from wnm.observe.host import cpu_count
from wnm.observe.judge import NodeProbe, judge
from wnm.observe.openmetrics import MetricsFormatError, parse_metadata, parse_node_metrics
from wnm.observe.probe import DEFAULT_DEADLINE, Reply, Target, fetch_all
from wnm.observe.procstats import ProcStats, process_stats
from wnm.system.commands import CommandRunner, run

log = logging.getLogger(__name__)

VERSION_WORKERS = 8
_NO_STATUS = ProcessStatus(ProcessState.UNKNOWN, detail="the process manager did not report this node")
_EXPECTED_RUNNING = (NodeStatus.RUNNING, NodeStatus.RESTARTING, NodeStatus.UPGRADING)


def _expected_running(node: Node) -> bool:
    """Whether a gone process needs explaining; a self-upgraded node waiting for restart does not."""
    waiting = node.status is NodeStatus.UPGRADING and not node.upgrade_from
    return node.status in _EXPECTED_RUNNING and not waiting


def survey(
    nodes: Sequence[Node],
    statuses: Mapping[int, ProcessStatus],
    settings: Settings,
    now: int,
    *,
    deadline: float = DEFAULT_DEADLINE,
    runner: CommandRunner = run,
) -> list[NodeObservation]:
    """One observation per node, in the order of ``nodes``.

    ``statuses`` is the process manager's ``status_all`` (a node missing from it counts as
    UNKNOWN). All legacy metrics endpoints are probed concurrently within ``deadline`` seconds
    in total. Never raises for a node that misbehaves; its observation says what went wrong.
    """
    http = _probe_http(
        [n for n in nodes if n.generation is Generation.LEGACY], deadline, settings.survey_delay / 1000.0
    )
    status_of = {n.id: statuses.get(n.id, _NO_STATUS) for n in nodes}
    first = {n.id: _first_look(n, status_of[n.id], http.get(n.id)) for n in nodes}
    # process facts where no metrics endpoint gave them: v2 nodes, legacy nodes not answering
    stats = process_stats(
        status.pid
        for n in nodes
        if (status := status_of[n.id]).pid is not None
        and status.state is ProcessState.RUNNING
        and (n.generation is Generation.V2 or not first[n.id].healthy)
    )
    stamps = {n.id: file_stamp(n.binary) for n in nodes}
    wanted = {
        n.id for n in nodes if _needs_binary_version(n, first[n.id], status_of[n.id], stamps[n.id], stats)
    }
    versions = _binary_versions(sorted({n.binary for n in nodes if n.id in wanted}), runner)
    cpus = cpu_count()
    observations = []
    for n in nodes:
        binary_version = versions.get(n.binary, "") if n.id in wanted else ""
        probe = _complete(n, first[n.id], status_of[n.id], stamps[n.id], binary_version, stats, now, cpus)
        observations.append(judge(n, probe, status_of[n.id], now, settings))
    return observations


def _probe_http(legacy: Sequence[Node], deadline: float, pace: float = 0.0) -> dict[int, tuple[Reply, Reply]]:
    """``/metrics`` and ``/metadata`` replies per legacy node, fetched in one batch; ``pace``
    seconds between nodes when the operator asked for a ``survey_delay``."""
    targets = [Target(n.host, n.metrics_port, path) for n in legacy for path in ("/metrics", "/metadata")]
    replies = fetch_all(targets, deadline=deadline, pace=pace, pace_every=2) if targets else []
    return {n.id: (replies[2 * i], replies[2 * i + 1]) for i, n in enumerate(legacy)}


def _first_look(node: Node, status: ProcessStatus, replies: tuple[Reply, Reply] | None) -> NodeProbe:
    """What HTTP (legacy) or the process state (v2) says, before files and binaries are read."""
    root_exists = not node.root_dir or os.path.isdir(node.root_dir)
    if replies is None:  # v2: no endpoint; the process is the health signal
        return NodeProbe(healthy=status.state is ProcessState.RUNNING, root_exists=root_exists)
    metrics_reply, metadata_reply = replies
    version = peer_id = ""
    if metadata_reply.ok:
        try:
            meta = parse_metadata(metadata_reply.body)
            version, peer_id = meta.version, meta.peer_id
        except MetricsFormatError as exc:
            log.debug("node %s: /metadata unreadable: %s", node.name, exc)
    metrics, problem = _read_metrics(metrics_reply)
    return NodeProbe(
        healthy=metrics is not None,
        answered=metrics_reply.answered or metadata_reply.answered,
        problem=problem,
        metrics=metrics,
        version=version,
        peer_id=peer_id,
        root_exists=root_exists,
    )


def _read_metrics(reply: Reply) -> tuple[NodeMetrics | None, str]:
    """Metrics from a complete 200 reply, else None and why."""
    if reply.ok:
        try:
            parsed = parse_node_metrics(reply.body)
        except MetricsFormatError as exc:
            return None, f"metrics unreadable: {exc}"
        if parsed.complete:
            return parsed.metrics, ""
        return None, "metrics body incomplete (no # EOF)"
    if reply.answered:
        detail = f" ({reply.error}: {reply.detail})" if reply.error else ""
        return None, f"metrics endpoint answered HTTP {reply.status}{detail}"
    return None, f"metrics not answering ({reply.error}: {reply.detail})"


def _needs_binary_version(
    node: Node,
    probe: NodeProbe,
    status: ProcessStatus,
    stamp: FileStamp | None,
    stats: Mapping[int, ProcStats],
) -> bool:
    """Whether to run ``<binary> --version`` for this node now (see the module docstring)."""
    if stamp is None or str(stamp) == node.binary_stamp:
        return False
    if probe.version:  # the running legacy node told its version itself
        return False
    alive = probe.answered or status.state is ProcessState.RUNNING
    if not alive or not node.version:
        return True
    proc = stats.get(status.pid) if status.pid else None
    return proc is not None and proc.create_time >= stamp.mtime


def _binary_versions(paths: Sequence[str], runner: CommandRunner) -> dict[str, str]:
    """``--version`` of each path (2 s timeout each, a few at a time); missing when unusable."""
    if not paths:
        return {}
    with ThreadPoolExecutor(max_workers=min(VERSION_WORKERS, len(paths))) as pool:
        infos = list(pool.map(lambda p: probe_binary(p, runner), paths))
    return {path: info.version for path, info in zip(paths, infos, strict=True) if info is not None}


def _complete(
    node: Node,
    probe: NodeProbe,
    status: ProcessStatus,
    stamp: FileStamp | None,
    binary_version: str,
    stats: Mapping[int, ProcStats],
    now: int,
    cpus: int,
) -> NodeProbe:
    """Add the file-based facts: binary version, v2 process metrics and logs, last words."""
    alive = probe.healthy or probe.answered or status.state is ProcessState.RUNNING
    metrics = probe.metrics
    log_problems: tuple[str, ...] = ()
    if node.generation is Generation.V2 and alive and probe.root_exists:
        proc = stats.get(status.pid) if status.pid else None
        metrics = NodeMetrics(
            uptime=max(0, int(now - proc.create_time)) if proc else 0,
            cpu_percent=proc.cpu_percent(now, cpus) if proc else 0.0,
            mem_mb=round(proc.rss / 1e6, 4) if proc else 0.0,
            data_size=data_size(node.root_dir),
        )
        log_problems = v2_log_problems(node)
    failure = failure_reason(node) if not alive and _expected_running(node) else ""
    return replace(
        probe,
        metrics=metrics,
        binary_version=binary_version,
        binary_stamp=str(stamp) if binary_version and stamp else "",
        log_problems=log_problems,
        failure=failure,
    )

"""Read-only reports (no lock, no writes): machine config and metrics, node status, action log."""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Sequence
from dataclasses import asdict, fields
from typing import Any

from wnm.app.context import Loaded, load
from wnm.config.options import PERSISTED
from wnm.config.parser import Parsed
from wnm.domain.node import Node
from wnm.domain.settings import GIB
from wnm.errors import UsageError
from wnm.store import repository as repo


def run_report(parsed: Parsed) -> int:
    report = str(parsed.get("report"))
    fmt = "json" if parsed.flag("json") else str(parsed.get("report_format") or "text")
    loaded = load(parsed, read_only=True)
    print(render(report, fmt, loaded, parsed))
    return 0


def render(report: str, fmt: str, loaded: Loaded, parsed: Parsed) -> str:
    if report == "machine-config":
        return machine_config(loaded, fmt)
    if report != "influx-resources" and (fmt == "config" or (fmt == "env" and report != "machine-metrics")):
        raise UsageError(f"--report {report} has no {fmt} format (use text or json)")
    if report == "machine-metrics":
        return machine_metrics(loaded, fmt)
    nodes = select_nodes(loaded.nodes, parsed.get("service_name"))
    if report == "node-status":
        return node_status(nodes, fmt)
    if report == "node-status-details":
        return node_details(nodes, fmt)
    if report == "influx-resources":
        from wnm.app.influx import influx_lines

        return influx_lines(nodes, time.time_ns())
    if report == "action-log":
        return action_log(loaded, fmt, int(parsed.get("count") or 50))
    raise UsageError(f"unknown report {report!r}")


def select_nodes(nodes: Sequence[Node], names: object) -> list[Node]:
    """Filter by ``--service_name`` (``antnode0001``, ``antnode0001.service``, ``0001`` or ``1``)."""
    if not names:
        return list(nodes)
    from wnm.app.targets import resolve_names

    wanted = resolve_names(str(names), nodes)
    return [n for n in nodes if n.id in wanted]


# ---- machine ---------------------------------------------------------------------------------


def _machine_values(loaded: Loaded) -> dict[str, Any]:
    values: dict[str, Any] = asdict(loaded.settings)
    values.update(asdict(loaded.state))
    values["dbpath"] = str(loaded.db_path)
    return values


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def machine_config(loaded: Loaded, fmt: str) -> str:
    values = _machine_values(loaded)
    if fmt == "json":
        return json.dumps(values, indent=2)
    if fmt in ("env", "config"):
        # only the options a run accepts, so the output can be fed back as input
        names = [o.name for o in PERSISTED]
        if fmt == "env":
            return "\n".join(f"{n.upper()}={shlex.quote(_plain(values[n]))}" for n in names)
        return "\n".join(f"{n} = {_plain(values[n])}" for n in names)
    return _aligned([(k, _plain(v)) for k, v in values.items()])


def machine_metrics(loaded: Loaded, fmt: str) -> str:
    from wnm.observe.host import read_host

    host = read_host(loaded.settings.storage_paths, loaded.counters)
    values: dict[str, Any] = {
        "cpu_percent": round(host.cpu_percent, 2),
        "mem_percent": round(host.mem_percent, 2),
        "load_1": host.load[0],
        "load_5": host.load[1],
        "load_15": host.load[2],
        "cpu_count": host.cpu_count,
        "boot_time": host.boot_time,
        "disk_read_bps": round(host.disk_read_bps),
        "disk_write_bps": round(host.disk_write_bps),
        "net_rx_bps": round(host.net_rx_bps),
        "net_tx_bps": round(host.net_tx_bps),
        "interval_seconds": round(host.interval, 1),
        "nodes_total": len(loaded.nodes),
    }
    limit = loaded.settings.hd_less_than
    for usage in host.storage:
        nodes_here = sum(1 for n in loaded.nodes if n.storage_path == usage.path)
        headroom = max(0, usage.total * limit // 100 - usage.used)
        fits = headroom // max(1, loaded.settings.node_disk_budget)
        values[f"storage {usage.path}"] = (
            f"{usage.percent:.1f}% used, {usage.free / GIB:.2f} GiB free, {nodes_here} nodes, "
            f"{headroom / GIB:.2f} GiB headroom to {limit}% (about {fits} more nodes at node_disk_budget)"
        )
    if fmt == "json":
        return json.dumps(values, indent=2)
    if fmt == "env":
        return "\n".join(
            f"{k.upper().replace(' ', '_').replace('/', '_')}={shlex.quote(str(v))}"
            for k, v in values.items()
        )
    return _aligned([(k, str(v)) for k, v in values.items()])


# ---- nodes -----------------------------------------------------------------------------------

_STATUS_COLUMNS = ("Service Name", "Peer ID", "Status", "Version", "Connected Peers")


def node_status(nodes: Sequence[Node], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(
            [
                {
                    "service_name": n.service_name,
                    "peer_id": n.peer_id or "-",
                    "status": n.status.value,
                    "version": n.version,
                    "connected_peers": n.metrics.connected_peers,
                    "reason": n.status_reason,
                }
                for n in nodes
            ],
            indent=2,
        )
    if not nodes:
        return "No nodes found."
    rows = [
        (n.service_name, n.peer_id or "-", n.status.value, n.version or "-", str(n.metrics.connected_peers))
        for n in nodes
    ]
    text = _table(_STATUS_COLUMNS, rows, right={4})
    notes = [
        f"{n.service_name}: {n.status.value.lower()}: {n.status_reason}"
        for n in nodes
        if n.status_reason and n.status.value in ("QUARANTINED", "BROKEN", "DEAD", "DISABLED")
    ]
    return text + ("\n\n" + "\n".join(notes) if notes else "")


def _node_dict(node: Node) -> dict[str, Any]:
    data = asdict(node)
    data["generation"] = node.generation.value
    data["status"] = node.status.value
    data["service_name"] = node.service_name
    data["recent_deaths"] = list(node.recent_deaths)
    return data


def node_details(nodes: Sequence[Node], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([_node_dict(n) for n in nodes], indent=2)
    if not nodes:
        return "No nodes found."
    blocks = []
    for n in nodes:
        pairs = [
            ("Service Name", n.service_name),
            ("Generation", n.generation.value),
            ("Version", n.version or "-"),
            ("Status", n.status.value + (f" ({n.status_reason})" if n.status_reason else "")),
            ("Since", time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(n.status_changed_at))),
            ("Port", str(n.port)),
            ("Metrics Port", str(n.metrics_port)),
            ("Data path", n.root_dir),
            ("Log path", n.log_dir),
            ("Bin Path", n.binary),
            ("Manager", n.manager),
            ("Rewards address", n.wallet),
            ("Age", time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(n.age))),
            ("Peer ID", n.peer_id or "-"),
        ]
        pairs += [
            (f.name.replace("_", " ").capitalize(), str(getattr(n.metrics, f.name)))
            for f in fields(n.metrics)
        ]
        blocks.append(_aligned(pairs))
    return "\n\n".join(blocks)


def action_log(loaded: Loaded, fmt: str, limit: int) -> str:
    with loaded.store.transaction() as conn:
        rows = repo.recent_actions(conn, limit)
    entries = [
        {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(r.time)),
            "action": r.action,
            "node": f"{r.node_id:04d}" if r.node_id is not None else "-",
            "outcome": r.outcome,
            "reason": r.reason,
            "error": r.error,
            "duration": str(r.duration),
            "source": r.source,
        }
        for r in rows
    ]
    if fmt == "json":
        return json.dumps(entries, indent=2)
    if not entries:
        return "No actions recorded."
    table = [
        (
            e["time"],
            e["action"],
            e["node"],
            e["outcome"],
            e["reason"] + (f" [{e['error']}]" if e["error"] else ""),
        )
        for e in entries
    ]
    return _table(("Time", "Action", "Node", "Outcome", "Reason"), table)


# ---- layout ----------------------------------------------------------------------------------


def _aligned(pairs: Sequence[tuple[str, str]]) -> str:
    width = max((len(k) for k, _ in pairs), default=0)
    return "\n".join(f"{k + ':':<{width + 1}} {v}" for k, v in pairs)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int] | None = None) -> str:
    right = right or set()
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])

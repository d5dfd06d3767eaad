"""``--report influx-resources``: InfluxDB line protocol in the NTracking layout of wnm 0.6.

Operators feed it to dashboards from cron (``wnm --report influx-resources | curl …``), so the
measurement, tag and field names are exactly those of wnm 0.6.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from wnm.domain.enums import NodeStatus
from wnm.domain.node import Node


def _string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def node_line(node: Node, ns: int) -> str:
    m = node.metrics
    fields = [
        f"PeerId={_string(node.peer_id)}",
        f"status={_string(node.status.value)}",
        f"version={_string(node.version)}",
        "gets=0i",
        f"puts={m.puts}i",
        f"up_time={m.uptime}i",
        f"rewards={_string(m.rewards or '0')}",
        f"records={m.records}i",
        f"connected_peers={m.connected_peers}i",
        f"network_size={m.network_size}i",
        f"open_connections={m.open_connections}i",
        f"total_peers={m.routing_table_peers}i",
        f"shunned_count={m.shunned_count}i",
        f"bad_peers={m.bad_peers}i",
        f"mem={float(m.mem_mb)}",
        f"cpu={float(m.cpu_percent)}",
        f"rel_records={m.relevant_records}i",
        f"max_records={m.max_records}i",
        f"payment_count={m.payment_count}i",
        f"live_time={m.live_time}i",
    ]
    return f"nodes,id={node.id} {','.join(fields)} {ns}"


def influx_lines(nodes: Sequence[Node], ns: int) -> str:
    """Per-node lines, then the totals and the network-size line, all stamped ``ns``."""
    if not nodes:
        return "# No nodes found"
    lines = [node_line(n, ns) for n in nodes]
    running = [n for n in nodes if n.status is NodeStatus.RUNNING]
    killed = sum(1 for n in nodes if n.status in (NodeStatus.STOPPED, NodeStatus.DEAD))
    total = sum((n.metrics.rewards_amount for n in nodes), Decimal(0))
    lines.append(
        f"nodes_totals rewards={_string(str(total))},nodes_running={len(running)}i,nodes_killed={killed}i {ns}"
    )
    sizes = [n.metrics.network_size for n in running if n.metrics.network_size > 0]
    average = sum(sizes) // len(sizes) if sizes else 0
    lines.append(f"nodes_network size={average}i {ns}")
    return "\n".join(lines)

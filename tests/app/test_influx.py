"""The influx-resources report keeps wnm 0.6's NTracking line protocol."""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import CliResult
from wnm.app.influx import influx_lines
from wnm.domain.enums import Generation, NodeStatus
from wnm.domain.node import Node, NodeMetrics


def node(node_id: int, status: NodeStatus, rewards: str = "0", size: int = 0) -> Node:
    return Node(
        id=node_id, generation=Generation.LEGACY, manager="setsid+user", root_dir=f"/n/antnode{node_id:04d}",
        log_dir="/l", binary="/b", port=55000 + node_id, metrics_port=13000 + node_id, rpc_port=0,
        status=status, status_changed_at=0, age=0, version="0.4.17", peer_id='12D3Koo"W',
        metrics=NodeMetrics(records=5, puts=3, rewards=rewards, network_size=size, mem_mb=97.5, cpu_percent=0.25),
    )  # fmt: skip


def test_lines_totals_and_network_size() -> None:
    text = influx_lines(
        [
            node(1, NodeStatus.RUNNING, "100000000000000000000000", 2_000_000),
            node(2, NodeStatus.RUNNING, "5", 1_000_000),
            node(3, NodeStatus.STOPPED),
            node(4, NodeStatus.DEAD),
        ],
        123,
    )
    lines = text.splitlines()
    assert lines[0].startswith(
        'nodes,id=1 PeerId="12D3Koo\\"W",status="RUNNING",version="0.4.17",gets=0i,puts=3i,'
    )
    assert "mem=97.5,cpu=0.25" in lines[0] and lines[0].endswith(" 123")
    assert lines[4] == 'nodes_totals rewards="100000000000000000000005",nodes_running=2i,nodes_killed=2i 123'
    assert lines[5] == "nodes_network size=1500000i 123"


def test_no_nodes(machine: dict[str, str], cli: Callable[..., CliResult]) -> None:
    result = cli("--dbpath", machine["db"], "--report", "influx-resources")
    assert result.code == 0
    assert result.out.strip() == "# No nodes found"

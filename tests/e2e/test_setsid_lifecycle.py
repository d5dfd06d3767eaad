"""End to end with setsid+user and real emulated nodes: grow to node_cap, shrink, stop under
pressure, and tear down leaving nothing behind. Runs once with each node generation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.helpers import UNLIMITED, Colony, metrics_answer, processes_of, statuses
from wnm.system.netcheck import port_free

PERMISSIVE = (
    "--node_cap",
    "3",
    "--max_concurrent_starts",
    "3",
    "--max_concurrent_operations",
    "3",
    "--max_concurrent_removals",
    "3",
    *UNLIMITED,
    "--delay_start",
    "20",
    "--delay_restart",
    "30",
    "--delay_remove",
    "0",
)


@pytest.fixture(params=["legacy", "v2"])
def colony(request: pytest.FixtureRequest, colony: Colony) -> Colony:
    colony.generation = request.param
    return colony


def test_grow_shrink_pressure_teardown(colony: Colony) -> None:
    colony.init(*PERMISSIVE)

    # grow: repeated runs bring up node_cap nodes
    nodes = colony.run_until(lambda ns: statuses(ns) == ["RUNNING"] * 3)
    for node in nodes:
        assert len(processes_of(node["root_dir"])) == 1, node
        if colony.generation == "legacy":
            assert metrics_answer(node["metrics_port"]), node
        assert Path(node["root_dir"], "node.pid").exists()
    ports = [(n["port"], n["metrics_port"]) for n in nodes]
    assert len({p for p, _ in ports}) == 3

    # shrink: lowering node_cap removes nodes (and everything they had)
    colony.wnm("--node_cap", "1", check=True)
    remaining = colony.run_until(lambda ns: len(ns) == 1)
    gone = [n for n in nodes if n["id"] not in {r["id"] for r in remaining}]
    assert len(gone) == 2
    for node in gone:
        assert not processes_of(node["root_dir"]), node
        assert not Path(node["root_dir"]).exists()
        assert not Path(node["log_dir"]).exists()

    # pressure: memory above its remove threshold stops a node, and nothing is added meanwhile
    colony.wnm("--node_cap", "2", check=True)
    colony.run_until(lambda ns: statuses(ns) == ["RUNNING", "RUNNING"])
    stopped = colony.run_until(
        lambda ns: "STOPPED" in statuses(ns), "--mem_less_than", "0", "--mem_remove", "1"
    )
    assert statuses(stopped) == ["RUNNING", "STOPPED"]
    assert colony.machine()["last_pressure_at"] > 0
    victim = next(n for n in stopped if n["status"] == "STOPPED")
    assert not processes_of(victim["root_dir"])
    assert Path(
        victim["root_dir"], "secret-key" if colony.generation == "legacy" else "node_identity.key"
    ).exists()
    # restore the thresholds: the cool-down after a pressure stop blocks starts and adds
    done = colony.wnm("--dry-run", "--mem_less_than", "99", "--mem_remove", "100")
    assert "cool-down" in done.stdout, done.stdout

    # teardown leaves no process, directory, pid file or port behind
    everything = colony.nodes()
    done = colony.wnm("--force_action", "teardown", "--confirm")
    assert done.returncode == 0, done.stderr
    assert colony.nodes() == []
    for node in everything:
        assert not processes_of(node["root_dir"])
        assert not Path(node["root_dir"]).exists()
        assert port_free(node["port"], "udp")
        assert port_free(node["metrics_port"], "tcp", "127.0.0.1")
    assert os.listdir(colony.storage) == []


def test_teardown_needs_confirm(colony: Colony) -> None:
    colony.init(*PERMISSIVE)
    done = colony.wnm("--force_action", "teardown")
    assert done.returncode == 2
    assert "--confirm" in done.stderr

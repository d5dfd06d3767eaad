"""``kill -9`` of wnm in the middle of an add, upgrade or remove: the next runs end consistent.

Consistent means: no node process without a row, no row whose files are missing unless it is
marked BROKEN, no two rows sharing a port, and every remaining node running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.e2e.helpers import UNLIMITED, Colony, statuses
from tests.emulators.build import make_antnode

FAST = (
    "--max_concurrent_starts",
    "2",
    "--max_concurrent_operations",
    "2",
    "--max_concurrent_removals",
    "2",
    "--max_concurrent_upgrades",
    "1",
    *UNLIMITED,
    "--delay_start",
    "2",
    "--delay_restart",
    "0",
    "--delay_remove",
    "0",
    "--delay_upgrade",
    "10",
    "--upgrade_settle",
    "1",
)


def run_and_kill_at(colony: Colony, point: str, *args: str) -> None:
    """Start one ``wnm`` run that freezes at ``point``, then SIGKILL it there."""
    env = colony.env() | {"WNM_FAULT_POINT": point}
    proc = subprocess.Popen(
        [sys.executable, "-m", "wnm", "--dbpath", colony.db, *args],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert proc.stderr is not None
        seen = []
        for line in proc.stderr:
            seen.append(line)
            if line.strip() == f"wnm-fault-point {point}":
                break
        else:
            raise AssertionError(f"run ended before reaching {point}:\n{''.join(seen)}")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        if proc.stderr:
            proc.stderr.close()


def node_processes(storage: Path) -> dict[str, int]:
    """root dir -> number of live node processes running out of ``storage``."""
    counts: dict[str, int] = {}
    for proc in psutil.process_iter(["cmdline", "status"]):
        try:
            if proc.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            cmd = proc.info["cmdline"] or []
            if "--root-dir" in cmd:
                root = cmd[cmd.index("--root-dir") + 1]
                if root.startswith(str(storage)):
                    counts[root] = counts.get(root, 0) + 1
        except (psutil.Error, IndexError):
            continue
    return counts


def assert_consistent(colony: Colony, nodes: list[dict[str, Any]]) -> None:
    running = node_processes(colony.storage)
    roots = {n["root_dir"] for n in nodes}
    assert set(running) <= roots, f"orphan node processes: {set(running) - roots}"
    assert all(c == 1 for c in running.values()), running
    ports = [p for n in nodes for p in (n["port"], n["metrics_port"])]
    assert len(ports) == len(set(ports)), "duplicate ports"
    for node in nodes:
        if node["status"] != "BROKEN":
            assert Path(node["root_dir"]).is_dir(), node
            assert Path(node["binary"]).is_file(), node
    leftovers = {p.name for p in colony.storage.iterdir()} - {Path(r).name for r in roots}
    assert not leftovers, f"node dirs without rows: {leftovers}"


def settled(colony: Colony, expected: int) -> Any:
    def check(nodes: list[dict[str, Any]]) -> bool:
        if statuses(nodes) != ["RUNNING"] * expected:
            return False
        assert_consistent(colony, nodes)
        return True

    return check


@pytest.mark.parametrize("point", ["add.row-written", "add.files-written", "add.started"])
def test_kill_during_add(colony: Colony, point: str) -> None:
    colony.init(*FAST, "--node_cap", "1")
    run_and_kill_at(colony, point)
    nodes = colony.run_until(settled(colony, 1))
    assert len(nodes) == 1


@pytest.mark.parametrize("point", ["remove.marked", "remove.service-gone", "remove.files-gone"])
def test_kill_during_remove(colony: Colony, point: str) -> None:
    colony.init(*FAST, "--node_cap", "2")
    colony.run_until(settled(colony, 2))
    run_and_kill_at(colony, point, "--node_cap", "1")
    nodes = colony.run_until(settled(colony, 1))
    assert len(nodes) == 1


@pytest.mark.parametrize("point", ["upgrade.stopped", "upgrade.swapped", "upgrade.started"])
def test_kill_during_upgrade(colony: Colony, point: str) -> None:
    colony.init(*FAST, "--node_cap", "1", "--enable_upgrade")
    colony.run_until(settled(colony, 1))
    make_antnode(colony.binary, "0.4.18")
    run_and_kill_at(colony, point)

    def upgraded(nodes: list[dict[str, Any]]) -> bool:
        return settled(colony, 1)(nodes) and nodes[0]["version"] == "0.4.18"

    nodes = colony.run_until(upgraded)
    assert not Path(nodes[0]["binary"] + ".new").exists()
    assert not Path(nodes[0]["binary"] + ".old").exists()


def test_two_real_runs_second_exits_75_and_a_killed_run_leaves_no_lock(colony: Colony) -> None:
    """A real run frozen mid-add holds the lock: a second run exits 75 within a second; after
    the first is killed with SIGKILL the next run takes the lock and repairs the half-done add."""
    import time

    colony.init(*FAST, "--node_cap", "1")
    env = colony.env() | {"WNM_FAULT_POINT": "add.files-written"}
    first = subprocess.Popen(
        [sys.executable, "-m", "wnm", "--dbpath", colony.db],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert first.stderr is not None
        for line in first.stderr:
            if line.strip() == "wnm-fault-point add.files-written":
                break
        started = time.monotonic()
        second = colony.wnm()
        assert second.returncode == 75, second.stderr
        assert time.monotonic() - started < 1.0
        assert "another wnm run" in second.stderr
        os.kill(first.pid, signal.SIGKILL)
    finally:
        first.wait(timeout=30)
        if first.stderr:
            first.stderr.close()
    nodes = colony.run_until(settled(colony, 1))
    assert len(nodes) == 1

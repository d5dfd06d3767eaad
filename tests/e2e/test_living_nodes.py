"""Living with real nodes (setsid + emulators): self-upgrade restarts, a health-gated rolling
upgrade with rollback and pause, and crash-loop quarantine."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from tests.e2e.helpers import UNLIMITED, Colony, processes_of, statuses
from tests.emulators.build import make_antnode

FAST = (
    *UNLIMITED,
    "--delay_start", "5",
    "--delay_restart", "0",
    "--delay_remove", "0",
)  # fmt: skip


def by_id(nodes: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {n["id"]: n for n in nodes}


def test_self_upgrade_exit_is_restarted_and_recorded(colony: Colony) -> None:
    colony.init(*FAST, "--node_cap", "2", "--max_concurrent_starts", "2", "--max_concurrent_operations", "2")
    nodes = colony.run_until(lambda ns: statuses(ns) == ["RUNNING"] * 2)
    newer = make_antnode(colony.tmp / "bin" / "antnode-0.4.18", "0.4.18")
    target = nodes[0]
    Path(target["root_dir"], "emulator-knobs.json").write_text(
        json.dumps({"upgrade_after": 1, "upgrade_from": str(newer)})
    )
    for proc in processes_of(target["root_dir"]):  # restart it so it reads the knobs
        proc.send_signal(signal.SIGKILL)
    colony.run_until(lambda ns: by_id(ns)[target["id"]]["status"] == "RUNNING")

    def upgraded(ns: list[dict[str, Any]]) -> bool:
        node = by_id(ns)[target["id"]]
        return node["status"] == "RUNNING" and node["version"] == "0.4.18"

    final = colony.run_until(upgraded, runs=30)
    node = by_id(final)[target["id"]]
    # the kill above was a death; the self-upgrade exit that followed was not
    assert len(node["recent_deaths"]) <= 1
    log = json.loads(colony.wnm("--report", "action-log", "--json").stdout)
    starts = [e for e in log if e["action"] == "start" and e["node"] == f"{target['id']:04d}"]
    assert any("self-upgrade" in e["reason"] for e in starts), starts
    assert statuses(final) == ["RUNNING", "RUNNING"]


def test_rolling_upgrade_respects_budget_and_pauses_on_a_bad_version(colony: Colony) -> None:
    budget = 2
    colony.init(
        *FAST,
        "--node_cap", "10",
        "--max_concurrent_starts", "10",
        "--max_concurrent_operations", "10",
        "--max_concurrent_upgrades", str(budget),
        "--delay_upgrade", "20",
        "--upgrade_settle", "2",
    )  # fmt: skip
    colony.run_until(lambda ns: statuses(ns) == ["RUNNING"] * 10, runs=40)
    make_antnode(colony.binary, "0.4.18")
    colony.wnm("--enable_upgrade", check=True)
    most_down = 0
    for _ in range(60):
        nodes = colony.nodes()
        down = sum(1 for n in nodes if n["status"] != "RUNNING")
        most_down = max(most_down, down)
        if all(n["version"] == "0.4.18" and n["status"] == "RUNNING" for n in nodes):
            break
        colony.wnm()
        time.sleep(0.3)
    else:
        raise AssertionError(f"rollout did not finish: {colony.nodes()}")
    assert most_down <= budget, most_down

    # a broken release: it crashes a second after it starts
    make_antnode(colony.binary, "0.4.19", knobs={"crash_after": 1.0})
    for _ in range(60):
        colony.wnm()
        paused = colony.machine()["upgrade_paused"]
        if paused:
            break
        time.sleep(0.3)
    else:
        raise AssertionError(f"rollout never paused: {colony.nodes()}")
    assert "0.4.19" in paused
    nodes = colony.run_until(lambda ns: statuses(ns) == ["RUNNING"] * 10, runs=40)
    assert {n["version"] for n in nodes} == {"0.4.18"}  # the bad one rolled back, no others tried
    for node in nodes:
        assert not Path(node["binary"] + ".old").exists()
    done = colony.wnm("--dry-run")
    assert "paused" in done.stdout
    resumed = colony.wnm("--force_action", "resume_upgrades")
    assert resumed.returncode == 0 and "resumed" in resumed.stdout
    assert colony.machine()["upgrade_paused"] == ""


def test_crash_loop_is_quarantined_with_its_reason(colony: Colony) -> None:
    colony.init(*FAST, "--node_cap", "1", "--crash_loop_count", "3", "--crash_loop_minutes", "10")
    nodes = colony.run_until(lambda ns: statuses(ns) == ["RUNNING"])
    root = nodes[0]["root_dir"]
    Path(root, "emulator-knobs.json").write_text(json.dumps({"crash_after": 0.5, "crash_exit_code": 3}))
    for proc in processes_of(root):
        proc.send_signal(signal.SIGKILL)
    first = nodes[0]["id"]
    final = colony.run_until(lambda ns: by_id(ns)[first]["status"] == "QUARANTINED", runs=40)
    assert len(by_id(final)[first]["recent_deaths"]) >= 3
    assert not processes_of(root)
    report = colony.wnm("--report", "node-status")
    assert "QUARANTINED" in report.stdout
    assert "crash" in report.stdout.lower()
    # a quarantined node does not count toward node_cap: a replacement comes up, and the
    # quarantined one is left alone by automatic rules
    final = colony.run_until(lambda ns: sorted(n["status"] for n in ns) == ["QUARANTINED", "RUNNING"])
    os.unlink(Path(root, "emulator-knobs.json"))
    done = colony.wnm("--force_action", "start", "--service_name", f"antnode{first:04d}")
    assert done.returncode == 0, done.stderr
    # back over node_cap: the youngest (the replacement) goes, the released node stays
    after = colony.run_until(lambda ns: [n["id"] for n in ns] == [first] and statuses(ns) == ["RUNNING"])
    assert after[0]["recent_deaths"] == []

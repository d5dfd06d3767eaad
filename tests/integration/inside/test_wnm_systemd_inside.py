"""The whole ``wnm`` command against a real systemd: runs INSIDE the nspawn container.

Started by ``tests/integration/test_wnm_systemd.py`` with ``WNM_INSIDE_NSPAWN=system`` (as root,
``systemd+sudo``, system units) and ``WNM_INSIDE_NSPAWN=user`` (as the lingering user ``ant``
without ``XDG_RUNTIME_DIR``, as under cron: ``systemd+user``). Skipped anywhere else.

One scenario, driven only through ``python -m wnm`` runs (tests/e2e/helpers.py): init, grow to
two RUNNING nodes, one node upgrades itself (emulator knob) and systemd's ``Restart=always``
brings it back, which wnm must record as the new version and not as a crash; lowering
``node_cap`` removes a node with its unit; teardown leaves nothing. Nodes run on the container's
``/usr/bin/python3`` (the emulator is stdlib only).
"""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.helpers import UNLIMITED, Colony, kill_leftovers, metrics_answer, processes_of, statuses
from tests.emulators.build import make_antnode

INSIDE = os.environ.get("WNM_INSIDE_NSPAWN", "")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(INSIDE not in ("system", "user"), reason="runs only inside the nspawn container"),
]
SYSTEM = INSIDE == "system"
MODE = "systemd+sudo" if SYSTEM else "systemd+user"
NODE_PYTHON = "/usr/bin/python3"
HOME = Path(pwd.getpwuid(os.getuid()).pw_dir)
UNIT_DIR = Path("/etc/systemd/system") if SYSTEM else HOME / ".config/systemd/user"
WANTS_DIR = UNIT_DIR / ("multi-user.target.wants" if SYSTEM else "default.target.wants")
UPGRADE_AFTER = 5  # seconds after its start the upgraded node replaces itself and exits

SETTINGS = (
    "--node_cap", "2",
    "--max_concurrent_starts", "2",
    "--max_concurrent_operations", "2",
    "--max_concurrent_removals", "2",
    *UNLIMITED,
    "--node_disk_budget", "0",  # the emulators store next to nothing; a small /tmp must do
    "--delay_start", "3",
    "--delay_restart", "0",
    "--delay_remove", "0",
)  # fmt: skip


def systemctl(*args: str) -> subprocess.CompletedProcess[str]:
    scope = [] if SYSTEM else ["--user"]
    env = dict(os.environ, XDG_RUNTIME_DIR=f"/run/user/{os.getuid()}")
    return subprocess.run(
        ["systemctl", *scope, *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def show(unit: str) -> dict[str, str]:
    """A few properties of ``unit`` as systemd reports them."""
    props = "LoadState,ActiveState,SubState,MainPID,NRestarts,UnitFileState,ExecMainStatus"
    out = systemctl("show", "-p", props, unit).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def our_units() -> list[str]:
    return sorted(p.name for p in UNIT_DIR.glob("antnode*.service"))


def metadata_version(port: int) -> str:
    """The version the node process at ``port`` reports on ``/metadata``; "" when it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metadata", timeout=2) as reply:
            text = reply.read().decode()
    except OSError:
        return ""
    _, found, rest = text.partition('antnode_version="')
    return rest.split('"', 1)[0] if found else ""


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``check`` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)
    return value


def self_upgrade(colony: Colony, source: Path, target: dict[str, Any]) -> dict[str, Any]:
    """Make ``target`` upgrade itself to ``source`` while RUNNING; its row once wnm recorded it.

    As under cron, wnm does not act between the node's exit and systemd's restart
    (``RestartSec``); a dry run in that gap shows how wnm judges the exit.
    """
    unit = f"{target['service_name']}.service"
    Path(target["root_dir"], "emulator-knobs.json").write_text(
        json.dumps({"upgrade_after": UPGRADE_AFTER, "upgrade_from": str(source)})
    )
    colony.wnm("--force_action", "restart", "--service_name", target["service_name"], check=True)
    pid = int(show(unit)["MainPID"])
    assert pid and pid != target["pid"]

    def row() -> dict[str, Any]:
        return next(n for n in colony.nodes() if n["id"] == target["id"])

    def recorded_running() -> bool:
        colony.wnm()
        return row()["status"] == "RUNNING" and row()["pid"] == pid

    wait_for(recorded_running, UPGRADE_AFTER - 1, "wnm to record the restarted node RUNNING")
    exited = wait_for(
        lambda: (props := show(unit))["SubState"] == "auto-restart" and props,
        UPGRADE_AFTER + 5,
        "the self-upgrade exit",
    )
    assert exited["ExecMainStatus"] == "0", exited
    gap = json.loads(colony.wnm("--dry-run", "--json", check=True).stdout)
    assert "DEAD" not in gap["nodes"] and sum(gap["nodes"].values()) == 2, gap
    assert show(unit)["SubState"] == "auto-restart", "the dry run was too slow to see the gap"

    def back() -> bool:
        props = show(unit)
        return (
            props["NRestarts"] == "1"
            and int(props["MainPID"]) not in (0, pid)
            and metadata_version(target["metrics_port"]) == "0.4.18"
        )

    wait_for(back, 15, "systemd to restart the node on its new binary")
    colony.wnm(check=True)
    upgraded = row()
    assert (upgraded["status"], upgraded["version"]) == ("RUNNING", "0.4.18"), (upgraded, gap)
    assert upgraded["recent_deaths"] == [], f"the self-upgrade was recorded as a death: {upgraded}"
    assert show(unit)["NRestarts"] == "1", show(unit)
    print(f"\nseen by a dry run between the exit and systemd's restart: {gap['nodes']}, {gap['actions']}")
    return upgraded


@pytest.fixture
def colony(tmp_path: Path) -> Iterator[Colony]:
    """An uninitialized colony whose units and processes are removed afterwards, also on failure."""
    assert not our_units(), f"antnode units left over from another test: {our_units()}"
    tmp_path.chmod(0o755)
    c = Colony(tmp_path, HOME, mode=MODE)
    try:
        yield c
    finally:
        leftovers = our_units()
        for unit in leftovers:
            systemctl("disable", "--now", unit)
            (UNIT_DIR / unit).unlink(missing_ok=True)
            (WANTS_DIR / unit).unlink(missing_ok=True)
        if leftovers:
            systemctl("daemon-reload")
            systemctl("reset-failed")
        kill_leftovers(tmp_path)


def init(colony: Colony) -> Path:
    """``wnm --init`` for a legacy colony; returns the source antnode binary (0.4.17)."""
    colony.python = NODE_PYTHON
    colony.init(*SETTINGS)
    return colony.binary


def assert_served_by_systemd(node: dict[str, Any]) -> None:
    """The node's unit is installed, enabled and active, and its main process is the node."""
    unit = f"{node['service_name']}.service"
    assert (UNIT_DIR / unit).is_file(), unit
    assert (WANTS_DIR / unit).is_symlink(), f"{unit} is not enabled by a {WANTS_DIR.name} link"
    props = show(unit)
    assert (props["UnitFileState"], props["ActiveState"], props["SubState"]) == (
        "enabled",
        "active",
        "running",
    ), props
    procs = processes_of(node["root_dir"])
    assert [p.pid for p in procs] == [int(props["MainPID"])], (props, procs)
    assert procs[0].cmdline()[:2] == [NODE_PYTHON, node["binary"]]
    assert node["pid"] == procs[0].pid, node
    assert metrics_answer(node["metrics_port"]), node


def assert_unit_gone(node: dict[str, Any]) -> None:
    unit = f"{node['service_name']}.service"
    assert not (UNIT_DIR / unit).exists(), unit
    assert not (WANTS_DIR / unit).is_symlink(), unit
    assert show(unit)["LoadState"] == "not-found", show(unit)
    assert not processes_of(node["root_dir"]), node
    assert not Path(node["root_dir"]).exists(), node


def test_wnm_lifecycle_under_systemd(colony: Colony) -> None:
    timings: dict[str, float] = {}
    started = time.monotonic()

    def lap(name: str) -> None:
        timings[name] = round(time.monotonic() - started, 1)

    source = init(colony)
    assert colony.machine()["process_manager"] == MODE

    # grow: cron-like runs bring up two enabled units running the nodes
    nodes = colony.run_until(lambda ns: statuses(ns) == ["RUNNING", "RUNNING"])
    lap("two_running")
    for node in nodes:
        assert_served_by_systemd(node)
        assert node["version"] == "0.4.17", node
    assert sorted(our_units()) == sorted(f"{n['service_name']}.service" for n in nodes)

    # self-upgrade: a newer release appears and one node replaces its own binary and exits 0
    make_antnode(source, "0.4.18", python=NODE_PYTHON)
    target, other = sorted(nodes, key=lambda n: n["id"])
    upgraded = self_upgrade(colony, source, target)
    lap("self_upgrade_recorded")
    assert_served_by_systemd(upgraded)
    assert Path(upgraded["binary"]).read_bytes() == source.read_bytes()
    # no --enable_upgrade: wnm itself upgrades nothing
    untouched = {n["id"]: n for n in colony.nodes()}[other["id"]]
    assert (untouched["status"], untouched["version"], untouched["pid"]) == (
        "RUNNING",
        "0.4.17",
        other["pid"],
    )

    # shrink: node_cap 1 removes one node together with its unit and enable link
    colony.wnm("--node_cap", "1", check=True)
    remaining = colony.run_until(lambda ns: len(ns) == 1 and statuses(ns) == ["RUNNING"])
    lap("shrunk")
    gone = [n for n in nodes if n["id"] != remaining[0]["id"]]
    assert len(gone) == 1
    assert_unit_gone(gone[0])
    assert_served_by_systemd(remaining[0])
    assert our_units() == [f"{remaining[0]['service_name']}.service"]

    # teardown: no unit, process or directory remains
    done = colony.wnm("--force_action", "teardown", "--confirm")
    lap("torn_down")
    assert done.returncode == 0, done.stderr
    assert colony.nodes() == []
    assert our_units() == []
    assert not list(WANTS_DIR.glob("antnode*.service"))
    listed = systemctl("list-units", "--all", "--plain", "--no-legend", "antnode*").stdout.strip()
    assert listed == "", listed
    for node in nodes:
        assert_unit_gone(node)
        assert not Path(node["log_dir"]).exists(), node
    assert not any(colony.storage.iterdir())
    print(f"\n{MODE}: timings {timings}")

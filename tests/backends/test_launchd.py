"""LaunchdManager end to end: real node processes run by the fake launchctl (fake_launchctl.py)."""

from __future__ import annotations

import plistlib
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # helper modules next to this file

from fake_launchctl import FakeLaunchctl
from process_nodes import command_for, make_antnode, make_node, metadata, set_knobs, wait_until

from wnm.backends.process.base import ManagerContext, ProcessState
from wnm.backends.process.launchd import LaunchdManager
from wnm.domain.node import Node
from wnm.domain.settings import Settings
from wnm.errors import PermanentFailure


@pytest.fixture(scope="module")
def antnode(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_antnode(tmp_path_factory.mktemp("bin") / "antnode")


@pytest.fixture
def launchd() -> Iterator[FakeLaunchctl]:
    fake = FakeLaunchctl()
    yield fake
    fake.close()


def manager_for(runner: FakeLaunchctl, plist_dir: Path, mode: str = "launchd+user") -> LaunchdManager:
    ctx = ManagerContext(Settings(), mode, command_for=command_for, runner=runner)
    return LaunchdManager(ctx, plist_dir=plist_dir)


def running_pid(manager: LaunchdManager, node: Node) -> int:
    status = manager.status_all([node])[node.id]
    assert status.state is ProcessState.RUNNING, status
    assert status.pid is not None
    return status.pid


def test_availability_needs_launchctl(launchd: FakeLaunchctl) -> None:
    on_linux = LaunchdManager.availability(
        ManagerContext(Settings(), "launchd+user", command_for=command_for)
    )
    assert not on_linux.ok and "launchctl not found" in on_linux.reason
    ctx = ManagerContext(Settings(), "launchd+user", command_for=command_for, runner=launchd)
    assert LaunchdManager.availability(ctx).ok


def test_lifecycle_with_real_processes(tmp_path: Path, launchd: FakeLaunchctl, antnode: Path) -> None:
    manager = manager_for(launchd, tmp_path / "LaunchAgents")
    node = make_node(tmp_path, 1, antnode, "launchd+user")
    assert manager.create(node) == node
    plist = plistlib.loads(manager.plist_path(node).read_bytes())
    assert plist["ProgramArguments"] == list(command_for(node).argv)
    assert manager.status_all([node])[node.id].detail == "not loaded"

    manager.start(node)  # bootstrap; RunAtLoad starts it
    pid = running_pid(manager, node)
    assert wait_until(lambda: metadata(node), timeout=5)
    assert psutil.Process(pid).cmdline()[1:3] == [node.binary, "--root-dir"]
    manager.start(node)  # loaded and running: nothing changes
    assert running_pid(manager, node) == pid

    manager.restart(node)  # kickstart -k
    new_pid = running_pid(manager, node)
    assert new_pid != pid and not psutil.pid_exists(pid)
    assert wait_until(lambda: metadata(node), timeout=5)

    manager.stop(node)  # bootout
    assert not psutil.pid_exists(new_pid)
    status = manager.status_all([node])[node.id]
    assert (status.state, status.detail) == (ProcessState.STOPPED, "not loaded")
    manager.stop(node)  # already stopped is fine

    manager.start(node)
    running_pid(manager, node)
    manager.remove(node)
    assert not manager.plist_path(node).exists()
    assert manager.status_all([node])[node.id].state is ProcessState.MISSING
    assert ("launchctl", "bootout", f"gui/{launchd.uid}/com.autonomi.antnode-1") in launchd.calls
    with pytest.raises(PermanentFailure, match="missing"):
        manager.start(node)


def test_keepalive_brings_back_a_node_that_exits_0(
    tmp_path: Path, launchd: FakeLaunchctl, antnode: Path
) -> None:
    """A node exiting 0 (as after a self-upgrade with --stop-on-upgrade) must be started again."""
    manager = manager_for(launchd, tmp_path / "LaunchAgents")
    node = make_node(tmp_path, 2, antnode, "launchd+user")
    set_knobs(node, crash_after=0.5, crash_exit_code=0)
    manager.create(node)
    manager.start(node)
    first = running_pid(manager, node)

    def restarted() -> bool:
        status = manager.status_all([node])[node.id]
        return status.pid not in (None, first) and status.exit_code == 0

    wait_until(restarted, timeout=10, interval=0.1)
    set_knobs(node)
    manager.restart(node)
    assert wait_until(lambda: metadata(node), timeout=5)


def test_status_all_is_one_launchctl_list(tmp_path: Path, launchd: FakeLaunchctl, antnode: Path) -> None:
    manager = manager_for(launchd, tmp_path / "LaunchAgents")
    nodes = [make_node(tmp_path, i, antnode, "launchd+user") for i in (1, 2, 3)]
    for node in nodes[:2]:
        manager.create(node)
    manager.start(nodes[0])
    manager.start(nodes[1])
    killed = running_pid(manager, nodes[1])
    launchd.jobs[(f"gui/{launchd.uid}", "com.autonomi.antnode-2")].plist["KeepAlive"] = False
    psutil.Process(killed).send_signal(signal.SIGKILL)
    wait_until(
        lambda: not psutil.Process(killed).is_running() or psutil.Process(killed).status() == "zombie", 5
    )
    before = len(launchd.calls)
    statuses = manager.status_all(nodes)
    assert launchd.calls[before:] == [("launchctl", "list")]
    assert statuses[1].state is ProcessState.RUNNING
    assert (statuses[2].state, statuses[2].exit_code, statuses[2].detail) == (
        ProcessState.STOPPED,
        -9,
        "loaded",
    )
    assert statuses[3].state is ProcessState.MISSING


def test_sudo_mode_uses_the_system_domain(tmp_path: Path, antnode: Path) -> None:
    launchd = FakeLaunchctl(list_domain="system")
    try:
        (tmp_path / "LaunchDaemons").mkdir()  # exists on every Mac; sudo mode never creates it
        manager = manager_for(launchd, tmp_path / "LaunchDaemons", mode="launchd+sudo")
        node = make_node(tmp_path, 5, antnode, "launchd+sudo")
        manager.create(node)
        assert oct(manager.plist_path(node).stat().st_mode & 0o777) == "0o644"
        manager.start(node)
        assert ("launchctl", "bootstrap", "system", str(manager.plist_path(node))) in launchd.calls
        running_pid(manager, node)
        manager.remove(node)
        assert manager.status_all([node])[node.id].state is ProcessState.MISSING
    finally:
        launchd.close()

"""SetsidManager and wnm.system.spawn against real node processes (the antnode emulator)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # helper modules next to this file

from process_nodes import command_for, make_antnode, make_node, metadata, wait_until

from wnm.backends.process.base import ManagerContext, ProcessState
from wnm.backends.process.setsid import PID_FILE, SetsidManager
from wnm.domain.node import Node
from wnm.domain.settings import Settings
from wnm.errors import CommandNotFound, PermanentFailure, TemporaryFailure
from wnm.nodes.command import NodeCommand
from wnm.system import spawn
from wnm.system.spawn import ProcessIdentity


@pytest.fixture(scope="module")
def antnode(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_antnode(tmp_path_factory.mktemp("bin") / "antnode")


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[list[Node]]:
    """Nodes made by a test; every process of theirs is killed afterwards, also on failure."""
    made: list[Node] = []
    yield made
    for node in made:
        for ident in spawn.find_by_option_value([node.root_dir])[node.root_dir]:
            spawn.terminate(ident, node.root_dir, timeout=0.5)
    spawn.reap_all()


def manager_for(command=command_for, mode: str = "setsid+user") -> SetsidManager:  # type: ignore[no-untyped-def]
    return SetsidManager(ManagerContext(settings=Settings(), mode=mode, command_for=command))


def new_node(tmp_path: Path, nodes: list[Node], binary: Path, node_id: int = 1) -> Node:
    node = make_node(tmp_path, node_id, binary)
    nodes.append(node)
    return node


def node_children(of: list[Node]) -> list[int]:
    """PIDs of our child processes (zombies included) that belong to these nodes."""
    roots = {node.root_dir for node in of}
    found = []
    for child in psutil.Process().children():
        try:
            if child.status() == psutil.STATUS_ZOMBIE or any(r in child.cmdline() for r in roots):
                found.append(child.pid)
        except psutil.NoSuchProcess:
            continue
    return found


def script(path: Path, body: str) -> Path:
    """A stand-in node program (for behaviours the emulator does not have)."""
    path.write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
    path.chmod(0o755)
    return path


def test_start_spawns_the_node_itself_in_its_own_session(
    tmp_path: Path, nodes: list[Node], antnode: Path
) -> None:
    node = new_node(tmp_path, nodes, antnode)
    manager = manager_for()
    manager.start(node)
    ident = spawn.read_pid_file(Path(node.root_dir) / PID_FILE)
    assert ident is not None
    proc = psutil.Process(ident.pid)
    assert abs(proc.create_time() - ident.create_time) < 0.05
    assert proc.cmdline()[1] == node.binary  # the node, not a `setsid` wrapper (D8)
    assert os.getsid(ident.pid) == ident.pid
    assert wait_until(lambda: metadata(node), timeout=5)
    status = manager.status_all([node])[node.id]
    assert (status.state, status.pid) == (ProcessState.RUNNING, ident.pid)
    assert "Node started" in (Path(node.log_dir) / "console.log").read_text()


def test_start_twice_keeps_the_running_process(tmp_path: Path, nodes: list[Node], antnode: Path) -> None:
    node = new_node(tmp_path, nodes, antnode)
    manager = manager_for()
    manager.start(node)
    first = manager.status_all([node])[node.id].pid
    manager.start(node)
    assert manager.status_all([node])[node.id].pid == first
    assert len(spawn.find_by_option_value([node.root_dir])[node.root_dir]) == 1


def test_node_environment_is_added_to_ours(tmp_path: Path, nodes: list[Node], antnode: Path) -> None:
    node = new_node(tmp_path, nodes, antnode)
    manager = manager_for(lambda n: command_for(n, env={"ANT_LOG": "all", "WNM_T": "a b=c"}))
    manager.start(node)
    environ = psutil.Process(manager.status_all([node])[node.id].pid or 0).environ()
    assert (environ["ANT_LOG"], environ["WNM_T"], environ["PATH"]) == ("all", "a b=c", os.environ["PATH"])


def test_stop_terminates_removes_pid_file_and_leaves_no_zombie(
    tmp_path: Path, nodes: list[Node], antnode: Path
) -> None:
    node = new_node(tmp_path, nodes, antnode)
    manager = manager_for()
    manager.start(node)
    pid = manager.status_all([node])[node.id].pid
    assert pid
    manager.stop(node, timeout=5)
    assert not (Path(node.root_dir) / PID_FILE).exists()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).ppid() != os.getpid()
    status = manager.status_all([node])[node.id]
    assert (status.state, status.detail) == (ProcessState.STOPPED, "no pid file")
    manager.stop(node)  # stopping a stopped node is fine


def test_stop_without_pid_file_still_kills_the_node(tmp_path: Path, nodes: list[Node], antnode: Path) -> None:
    """wnm-compat D8: 'No PID found' must never mean success while the node runs."""
    node = new_node(tmp_path, nodes, antnode)
    manager = manager_for()
    manager.start(node)
    pid = manager.status_all([node])[node.id].pid
    (Path(node.root_dir) / PID_FILE).unlink()
    manager.stop(node, timeout=5)
    assert spawn.reap(pid or 0) == -signal.SIGTERM
    assert spawn.find_by_option_value([node.root_dir])[node.root_dir] == []


def test_stop_kills_a_node_ignoring_sigterm_after_the_timeout(tmp_path: Path, nodes: list[Node]) -> None:
    stubborn = script(
        tmp_path / "stubborn",
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(600)\n",
    )
    node = new_node(tmp_path, nodes, stubborn)
    manager = manager_for(lambda n: NodeCommand((n.binary, "--root-dir", n.root_dir)))
    manager.start(node)
    pid = manager.status_all([node])[node.id].pid or 0
    started = time.monotonic()
    manager.stop(node, timeout=0.5)
    assert 0.5 <= time.monotonic() - started < 3
    assert spawn.reap(pid) == -signal.SIGKILL


def test_a_recycled_pid_is_never_taken_for_the_node(tmp_path: Path, nodes: list[Node], antnode: Path) -> None:
    """The pid file names a live process that is not the node: STOPPED, and stop leaves it alone."""
    node = new_node(tmp_path, nodes, antnode)
    manager = manager_for()
    other = subprocess.Popen(["sleep", "30"])
    try:
        created = psutil.Process(other.pid).create_time()
        pid_file = Path(node.root_dir) / PID_FILE
        pid_file.write_text(f"{other.pid} {created:.2f}\n")
        assert manager.status_all([node])[node.id].state is ProcessState.STOPPED
        manager.stop(node, timeout=1)
        assert other.poll() is None
        # right command line but a different create time: also not the node
        manager.start(node)
        real = spawn.read_pid_file(pid_file)
        assert real is not None
        pid_file.write_text(f"{real.pid} {real.create_time - 5:.2f}\n")
        assert not spawn.is_alive(ProcessIdentity(real.pid, real.create_time - 5), node.root_dir)
    finally:
        other.kill()
        other.wait()


def test_status_all_finds_and_adopts_a_node_started_elsewhere(
    tmp_path: Path, nodes: list[Node], antnode: Path
) -> None:
    """A node with no pid file (older wnm, or re-spawned by its own upgrade) is RUNNING and adopted."""
    node = new_node(tmp_path, nodes, antnode)
    manager = manager_for()
    stray = subprocess.Popen(command_for(node).argv, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until(lambda: metadata(node), timeout=5)
        status = manager.status_all([node])[node.id]
        assert (status.state, status.pid) == (ProcessState.RUNNING, stray.pid)
        assert "found by command line" in status.detail
        recorded = spawn.read_pid_file(Path(node.root_dir) / PID_FILE)
        assert recorded is not None and recorded.pid == stray.pid
        manager.start(node)  # adopted, so no second process
        assert [i.pid for i in spawn.find_by_option_value([node.root_dir])[node.root_dir]] == [stray.pid]
        manager.stop(node, timeout=5)
        assert stray.wait(timeout=5) == -signal.SIGTERM
    finally:
        if stray.poll() is None:
            stray.kill()
            stray.wait()


def test_a_node_that_upgrades_itself_and_respawns_is_followed(tmp_path: Path, nodes: list[Node]) -> None:
    """Self-upgrade without --stop-on-upgrade: the node spawns its successor and exits 0."""
    new = make_antnode(tmp_path / "release" / "antnode", "0.4.17")
    old = make_antnode(
        tmp_path / "bin" / "antnode", "0.4.10", knobs={"upgrade_after": 0.5, "upgrade_from": str(new)}
    )
    node = new_node(tmp_path, nodes, old)
    manager = manager_for()
    manager.start(node)
    first = manager.status_all([node])[node.id].pid
    wait_until(lambda: 'antnode_version="0.4.17"' in (metadata(node) or ""), timeout=10)
    assert spawn.reap(first or 0) == 0
    status = manager.status_all([node])[node.id]
    assert status.state is ProcessState.RUNNING and status.pid != first
    assert "found by command line" in status.detail
    assert manager.status_all([node])[node.id].detail == ""  # pid file rewritten: no scan needed
    manager.stop(node, timeout=5)
    assert spawn.find_by_option_value([node.root_dir])[node.root_dir] == []


def test_start_adopts_the_oldest_stray_and_kills_duplicates(
    tmp_path: Path, nodes: list[Node], antnode: Path
) -> None:
    node = new_node(tmp_path, nodes, antnode)
    sleeper = script(tmp_path / "sleeper", "import time\ntime.sleep(600)\n")
    argv = [str(sleeper), "--root-dir", node.root_dir]
    first = subprocess.Popen(argv)
    time.sleep(0.05)
    second = subprocess.Popen(argv)
    try:
        manager_for().start(node)
        assert second.wait(timeout=5) == -signal.SIGTERM
        assert first.poll() is None
        recorded = spawn.read_pid_file(Path(node.root_dir) / PID_FILE)
        assert recorded is not None and recorded.pid == first.pid
    finally:
        for proc in (first, second):
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_status_all_reports_a_dead_child_with_its_exit_code(
    tmp_path: Path, nodes: list[Node], antnode: Path
) -> None:
    running, dead, never, gone = (new_node(tmp_path, nodes, antnode, i) for i in (1, 2, 3, 4))
    manager = manager_for()
    manager.start(running)
    manager.start(dead)
    dead_pid = manager.status_all([dead])[dead.id].pid or 0
    os.kill(dead_pid, signal.SIGKILL)
    wait_until(lambda: manager.status_all([dead])[dead.id].state is ProcessState.STOPPED, timeout=5)
    Path(gone.root_dir).rmdir()
    statuses = manager.status_all([running, dead, never, gone])
    assert statuses[running.id].state is ProcessState.RUNNING
    assert (statuses[dead.id].state, statuses[dead.id].exit_code) == (ProcessState.STOPPED, -signal.SIGKILL)
    assert (statuses[never.id].state, statuses[never.id].detail) == (ProcessState.STOPPED, "no pid file")
    assert statuses[gone.id].state is ProcessState.MISSING
    assert node_children([running, dead, never, gone]) == [statuses[running.id].pid]


def test_node_exiting_at_once_is_a_permanent_failure_with_its_output(
    tmp_path: Path, nodes: list[Node]
) -> None:
    binary = make_antnode(tmp_path / "bin" / "antnode")
    node = new_node(tmp_path, nodes, binary)
    no_rewards = manager_for(lambda n: NodeCommand((n.binary, "--root-dir", n.root_dir, "evm-arbitrum-one")))
    with pytest.raises(PermanentFailure, match=r"exited at once with code 101: .*rewards-address"):
        no_rewards.start(node)
    assert not (Path(node.root_dir) / PID_FILE).exists()


def test_node_failing_at_once_for_other_reasons_is_temporary(tmp_path: Path, nodes: list[Node]) -> None:
    flaky = script(tmp_path / "flaky", "import sys\nprint('Error: port busy', flush=True)\nsys.exit(1)\n")
    node = new_node(tmp_path, nodes, flaky)
    manager = manager_for(lambda n: NodeCommand((n.binary, "--root-dir", n.root_dir)))
    with pytest.raises(TemporaryFailure, match="code 1: Error: port busy"):
        manager.start(node)


def test_missing_binary_and_unusable_command(tmp_path: Path, nodes: list[Node]) -> None:
    node = new_node(tmp_path, nodes, tmp_path / "nope" / "antnode")
    with pytest.raises(CommandNotFound):
        manager_for().start(node)
    no_root = manager_for(lambda n: NodeCommand((n.binary, "--port", "1")))
    with pytest.raises(PermanentFailure, match="does not pass its root dir"):
        no_root.start(node)


def test_create_makes_dirs_and_remove_stops_the_node(
    tmp_path: Path, nodes: list[Node], antnode: Path
) -> None:
    node = make_node(tmp_path, 7, antnode)
    nodes.append(node)
    Path(node.root_dir).rmdir()
    manager = manager_for(mode="setsid+sudo")
    assert manager.create(node) == node
    assert Path(node.root_dir).is_dir() and Path(node.log_dir).is_dir()
    manager.start(node)
    manager.remove(node)
    assert not (Path(node.root_dir) / PID_FILE).exists()
    assert spawn.find_by_option_value([node.root_dir])[node.root_dir] == []
    assert SetsidManager.availability(manager.ctx).ok


@pytest.mark.parametrize(
    ("cmdline", "expected"),
    [
        (["antnode", "--root-dir", "/n/antnode0001"], True),
        (["antnode", "--root-dir=/n/antnode0001/"], True),
        (["antnode", "--root-dir", "/n/antnode0001/"], True),
        (["tail", "-f", "/n/antnode0001"], False),
        (["vi", "/n/antnode0001"], False),
        (["antnode", "--root-dir", "/n/antnode00011"], False),
        (["antnode", "--flag=x", "/n/antnode0001"], False),
    ],
)
def test_only_option_values_identify_a_node(cmdline: list[str], expected: bool) -> None:
    assert spawn.carries_option_value(cmdline, "/n/antnode0001") is expected


def test_pid_file_text_round_trip_and_old_format(tmp_path: Path) -> None:
    ident = ProcessIdentity(4242, 1764541234.56)
    path = tmp_path / PID_FILE
    spawn.write_pid_file(path, ident)
    assert spawn.read_pid_file(path) == ident
    assert [p.name for p in tmp_path.iterdir()] == [PID_FILE]  # no temp file left behind
    path.write_text("4243\n")
    assert spawn.read_pid_file(path) == ProcessIdentity(4243, 0.0)
    path.write_text("garbage")
    assert spawn.read_pid_file(path) is None
    assert spawn.read_pid_file(tmp_path / "missing") is None


@pytest.mark.slow
def test_twenty_real_nodes_start_and_stop(
    tmp_path: Path, nodes: list[Node], antnode: Path, record_property: pytest.RecordProperty
) -> None:
    manager = manager_for()
    batch = [new_node(tmp_path, nodes, antnode, i) for i in range(1, 21)]
    started = time.monotonic()
    for node in batch:
        manager.start(node)
    start_s = time.monotonic() - started
    for node in batch:
        assert wait_until(lambda node=node: metadata(node), timeout=10)  # type: ignore[misc]
    statuses = manager.status_all(batch)
    assert {s.state for s in statuses.values()} == {ProcessState.RUNNING}
    started = time.monotonic()
    for node in batch:
        manager.stop(node, timeout=5)
    stop_s = time.monotonic() - started
    assert {s.state for s in manager.status_all(batch).values()} == {ProcessState.STOPPED}
    assert node_children(batch) == []
    record_property("start_20_s", round(start_s, 2))
    record_property("stop_20_s", round(stop_s, 2))
    print(f"\nsetsid: start 20 nodes {start_s:.2f}s, stop 20 nodes {stop_s:.2f}s")
    assert start_s < 20 and stop_s < 20


@pytest.mark.slow
def test_status_all_of_200_pid_files(tmp_path: Path, record_property: pytest.RecordProperty) -> None:
    """200 pid files of live processes (tiny ``sh``), then 50 stale and 50 missing (one process scan)."""
    manager = manager_for()
    read_end, write_end = os.pipe()
    procs: list[subprocess.Popen[bytes]] = []
    batch = [make_node(tmp_path, i, Path("/bin/sh")) for i in range(1, 201)]
    try:
        for node in batch:
            proc = subprocess.Popen(
                ["sh", "-c", "read x", "wnm", "--root-dir", node.root_dir], stdin=read_end
            )
            procs.append(proc)
            spawn.write_pid_file(
                Path(node.root_dir) / PID_FILE,
                ProcessIdentity(proc.pid, psutil.Process(proc.pid).create_time()),
            )
        started = time.monotonic()
        statuses = manager.status_all(batch)
        live_s = time.monotonic() - started
        assert {s.state for s in statuses.values()} == {ProcessState.RUNNING}
        for node in batch[100:150]:
            (Path(node.root_dir) / PID_FILE).write_text("999999 1.00\n")  # stale: beyond pid_max
        for node in batch[150:]:
            (Path(node.root_dir) / PID_FILE).unlink()
        for proc in procs[100:]:
            proc.kill()
            proc.wait()
        started = time.monotonic()
        statuses = manager.status_all(batch)
        mixed_s = time.monotonic() - started
        assert [s.state for s in statuses.values()].count(ProcessState.STOPPED) == 100
        record_property("status_all_200_live_s", round(live_s, 3))
        record_property("status_all_200_half_stale_s", round(mixed_s, 3))
        print(
            f"\nsetsid status_all: 200 live {live_s * 1000:.0f} ms, 100 live + 100 stale/missing "
            f"{mixed_s * 1000:.0f} ms"
        )
        assert live_s < 2 and mixed_s < 3
    finally:
        os.close(write_end)
        os.close(read_end)
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()

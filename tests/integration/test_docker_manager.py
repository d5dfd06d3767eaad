"""DockerManager against a real dockerd, with antnode emulators as the nodes.

Each test gets its own control root, which is also the ``wnm.instance`` label value, so the
teardown removes exactly the containers that test made (also when it fails).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TypeVar

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from docker_env import DockerEnv, docker_env, make_antnode, remove_labelled  # noqa: F401

from wnm.backends.process.base import ManagerContext, ProcessState
from wnm.backends.process.docker import DockerManager
from wnm.backends.process.docker_control import (
    WANT_RUN,
    WANT_STOP,
    NodeControl,
    RunState,
    parse_state,
    supervisor_ready,
)
from wnm.backends.process.docker_layout import LABEL_INSTANCE, bind_roots, created_epoch, group_name, is_under
from wnm.backends.process.docker_procs import ProcessTable
from wnm.domain.enums import Generation, NodeStatus
from wnm.domain.node import Node
from wnm.domain.settings import Settings
from wnm.errors import TemporaryFailure
from wnm.nodes.command import NodeCommand

pytestmark = pytest.mark.integration
T = TypeVar("T")

IMAGE_PYTHON = "/usr/bin/python3"  # the Debian base image's interpreter runs the emulators
REWARDS = "0x00455d78f850b0358E8cea5be24d415E01E107CF"


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def antnode_command(node: Node) -> NodeCommand:
    return NodeCommand(
        (
            node.binary,
            "--root-dir",
            node.root_dir,
            "--port",
            str(node.port),
            "--enable-metrics-server",
            "--metrics-server-port",
            str(node.metrics_port),
            "--log-output-dest",
            node.log_dir,
            "--max-log-files",
            "1",
            "--max-archived-log-files",
            "1",
            "--no-upnp",
            "--stop-on-upgrade",
            "--rewards-address",
            REWARDS,
            "evm-arbitrum-one",
        ),
        (("ANT_LOG", "info"),),
    )


def get(port: int, path: str = "/metrics", timeout: float = 2.0) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as response:
            return str(response.read().decode())
    except (urllib.error.URLError, OSError):
        return None


def wait_until(check: Callable[[], T], timeout: float = 15.0, what: str = "condition") -> T:
    """Poll ``check`` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


class Harness:
    """Builds nodes (dirs, emulator binary, free ports) and managers for one test."""

    def __init__(self, env: DockerEnv, base: Path) -> None:
        self.env = env
        self.base = base
        self.control_root = base / "control"

    def node(self, node_id: int, version: str = "0.4.17", **knobs: object) -> Node:
        node = self.plain_node(self.base, node_id)
        make_antnode(Path(node.binary), version, python=IMAGE_PYTHON, knobs=knobs)
        return node

    @staticmethod
    def plain_node(base: Path, node_id: int) -> Node:
        """A node row with its directories made under ``base`` and free ports (no binary yet)."""
        root = base / "nodes" / f"antnode{node_id:04d}"
        logs = base / "logs" / f"antnode{node_id:04d}"
        root.mkdir(parents=True, exist_ok=True)
        logs.mkdir(parents=True, exist_ok=True)
        return Node(
            id=node_id,
            generation=Generation.LEGACY,
            manager="docker",
            root_dir=str(root),
            log_dir=str(logs),
            binary=str(root / "antnode"),
            port=free_port(socket.SOCK_DGRAM),
            metrics_port=free_port(),
            rpc_port=0,
            status=NodeStatus.STOPPED,
            status_changed_at=0,
            age=0,
        )

    def manager(
        self,
        per_container: int = 1,
        command: Callable[[Node], NodeCommand] = antnode_command,
        image: str | None = None,
        bootstrap_cache_dir: str = "",
    ) -> DockerManager:
        settings = replace(
            Settings(),
            docker_image=image or self.env.image,
            max_node_per_container=per_container,
            node_storage=str(self.base / "nodes"),
            log_dir=str(self.base / "logs"),
            bootstrap_cache_dir=bootstrap_cache_dir,
        )
        ctx = ManagerContext(settings=settings, mode="docker", command_for=command, timeout=30.0)
        return DockerManager(ctx, control_root=str(self.control_root), base_url=self.env.base_url)


@pytest.fixture
def harness(docker_env: DockerEnv, tmp_path: Path) -> Iterator[Harness]:  # noqa: F811
    h = Harness(docker_env, tmp_path)
    try:
        yield h
    finally:
        remove_labelled(docker_env.client, f"{LABEL_INSTANCE}={h.control_root}")


def test_availability_needs_daemon_and_image(harness: Harness) -> None:
    ok = DockerManager.availability(harness.manager().ctx)
    assert ok.ok, ok.reason
    ctx = replace(harness.manager().ctx, settings=replace(Settings(), docker_image="wnm-test/absent:none"))
    missing = DockerManager.availability(ctx)
    assert not missing.ok
    assert "wnm-test/absent:none" in missing.reason


def test_single_node_lifecycle(harness: Harness) -> None:
    manager = harness.manager()
    node = harness.node(1)
    assert manager.create(node) == node
    info = manager.container_for(node)
    assert info is not None and info.name == "antnode0001" and info.node_ids == (1,)
    assert info.image == harness.env.image and info.created_at > 0
    assert manager.status_all([node])[1].state is ProcessState.STOPPED

    manager.start(node)
    assert wait_until(lambda: get(node.metrics_port), what="metrics from the host")
    status = manager.status_all([node])[1]
    assert status.state is ProcessState.RUNNING
    assert status.pid is not None
    assert node.binary in Path(f"/proc/{status.pid}/cmdline").read_text()
    attrs = harness.env.client.containers.get("antnode0001").attrs
    assert attrs["HostConfig"]["NetworkMode"] == "host"
    assert attrs["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    assert Path(node.root_dir, "secret-key").exists()  # data lands in the host's root dir
    assert Path(node.log_dir, "antnode.log").exists()

    started = time.monotonic()
    manager.stop(node, timeout=10)
    assert time.monotonic() - started < 5
    assert get(node.metrics_port, timeout=0.5) is None
    assert manager.status_all([node])[1].state is ProcessState.STOPPED
    manager.stop(node)  # stopping a stopped node is fine

    manager.start(node)
    first_pid = wait_until(lambda: manager.status_all([node])[1].pid, what="a pid")
    wait_until(lambda: get(node.metrics_port), what="metrics after start")
    manager.restart(node)
    wait_until(lambda: get(node.metrics_port), what="metrics after restart")
    assert manager.status_all([node])[1].pid not in (None, first_pid)

    manager.remove(node)
    assert manager.list_containers() == []
    assert manager.status_all([node])[1].state is ProcessState.MISSING
    manager.remove(node)  # removing a removed node is fine


def test_single_node_comes_back_after_self_upgrade(harness: Harness) -> None:
    manager = harness.manager()
    node = harness.node(2, version="0.4.10", upgrade_after=1.5, upgrade_from="")
    new = make_antnode(Path(node.root_dir) / "antnode-new", "0.4.17", python=IMAGE_PYTHON)
    Path(node.root_dir, "emulator-knobs.json").write_text(f'{{"upgrade_from": "{new}"}}')
    manager.create(node)
    manager.start(node)

    def upgraded() -> bool:
        body = get(node.metrics_port, "/metadata") or ""
        return "0.4.17" in body

    wait_until(upgraded, timeout=20, what="the node to run the upgraded binary")
    status = manager.status_all([node])[node.id]
    assert status.state is ProcessState.RUNNING
    assert status.restarts >= 1


def test_shared_binary_and_bootstrap_cache_are_mounted_read_only(harness: Harness) -> None:
    cache = harness.base / "bootstrap-cache"
    cache.mkdir()
    manager = harness.manager(bootstrap_cache_dir=str(cache))
    node = replace(harness.plain_node(harness.base, 3), binary=str(harness.base / "bin" / "antnode"))
    make_antnode(Path(node.binary), python=IMAGE_PYTHON)
    manager.create(node)
    manager.start(node)
    wait_until(partial(get, node.metrics_port), what="metrics of a node running a shared binary")
    mounts = harness.env.client.containers.get("antnode0003").attrs["Mounts"]
    assert {m["Destination"]: m["RW"] for m in mounts} == {
        node.root_dir: True,
        node.log_dir: True,
        node.binary: False,
        str(cache): False,
    }


def test_group_container_runs_three_nodes(harness: Harness) -> None:
    manager = harness.manager(per_container=3)
    nodes = [harness.node(i) for i in (11, 12, 13)]
    for node in nodes:
        manager.create(node)
    containers = manager.list_containers()
    assert [(c.name, c.node_ids, c.mode) for c in containers] == [("wnm-nodes-01", (11, 12, 13), "group")]
    for node in nodes:
        manager.start(node)
    for node in nodes:
        wait_until(partial(get, node.metrics_port), what=f"metrics of node {node.id}")
    statuses = manager.status_all(nodes)
    assert all(statuses[n.id].state is ProcessState.RUNNING for n in nodes)
    for node in nodes:
        assert node.binary in Path(f"/proc/{statuses[node.id].pid}/cmdline").read_text()

    manager.stop(nodes[1], timeout=10)
    assert get(nodes[1].metrics_port, timeout=0.5) is None
    assert get(nodes[0].metrics_port) and get(nodes[2].metrics_port)
    statuses = manager.status_all(nodes)
    assert [statuses[n.id].state for n in nodes] == [
        ProcessState.RUNNING,
        ProcessState.STOPPED,
        ProcessState.RUNNING,
    ]
    manager.start(nodes[1])
    wait_until(lambda: get(nodes[1].metrics_port), what="metrics of the restarted node")
    manager.restart(nodes[0])
    wait_until(lambda: get(nodes[0].metrics_port), what="metrics after a group restart")

    for node in nodes:
        manager.remove(node)
        assert manager.status_all([node])[node.id].state is ProcessState.MISSING
    assert manager.list_containers() == []
    assert not (harness.control_root / "wnm-nodes-01").exists()


def test_group_restarts_a_node_after_self_upgrade(harness: Harness) -> None:
    manager = harness.manager(per_container=2)
    node = harness.node(21, version="0.4.10")
    new = make_antnode(Path(node.root_dir) / "antnode-new", "0.4.17", python=IMAGE_PYTHON)
    Path(node.root_dir, "emulator-knobs.json").write_text(
        f'{{"upgrade_after": 1.5, "upgrade_from": "{new}"}}'
    )
    manager.create(node)
    manager.start(node)
    wait_until(
        lambda: "0.4.17" in (get(node.metrics_port, "/metadata") or ""), timeout=20, what="the upgraded node"
    )
    status = manager.status_all([node])[node.id]
    assert status.state is ProcessState.RUNNING and status.restarts == 1


def test_group_container_restart_brings_back_only_wanted_nodes(harness: Harness) -> None:
    """A container restart (dockerd restart, host reboot) resumes the nodes wnm wanted running."""
    manager = harness.manager(per_container=2)
    running, stopped = harness.node(61), harness.node(62)
    manager.create(running)
    manager.create(stopped)
    manager.start(running)
    wait_until(lambda: get(running.metrics_port), what="metrics")
    container = harness.env.client.containers.get("wnm-nodes-01")
    started = time.monotonic()
    container.restart(timeout=10)
    assert time.monotonic() - started < 5  # the supervisor stops its nodes at once on SIGTERM
    wait_until(lambda: get(running.metrics_port), what="metrics after the container restart")
    statuses = manager.status_all([running, stopped])
    assert statuses[61].state is ProcessState.RUNNING
    assert statuses[62].state is ProcessState.STOPPED
    assert get(stopped.metrics_port, timeout=0.5) is None


def test_group_placement_fills_containers_in_order(harness: Harness) -> None:
    manager = harness.manager(per_container=2)
    nodes = [harness.node(i) for i in (31, 32, 33)]
    for node in nodes:
        manager.create(node)
    layout = sorted((c.name, c.node_ids) for c in manager.list_containers())
    assert layout == [("wnm-nodes-01", (31, 32)), ("wnm-nodes-02", (33,))]
    info = manager.container_for(nodes[2])
    assert info is not None and info.name == "wnm-nodes-02" and info.status == "running"
    statuses = manager.status_all(nodes)
    assert all(s.state is ProcessState.STOPPED for s in statuses.values())
    manager.remove(nodes[2])
    assert [c.name for c in manager.list_containers()] == ["wnm-nodes-01"]


def test_group_supervisor_runs_on_busybox(harness: Harness) -> None:
    """The same image built on busybox: its sh runs the supervisor; the nodes are httpd."""
    ports = {41: free_port(), 42: free_port()}

    def httpd(node: Node) -> NodeCommand:
        return NodeCommand(("/bin/httpd", "-f", "-p", f"127.0.0.1:{ports[node.id]}", "-h", node.root_dir))

    manager = harness.manager(per_container=2, command=httpd, image=harness.env.busybox_image)
    nodes = []
    for node_id in ports:
        node = harness.node(node_id)
        Path(node.root_dir, "index.html").write_text(f"node {node_id}\n")
        nodes.append(node)
        manager.create(node)
        manager.start(node)
    for node in nodes:
        assert wait_until(partial(get, ports[node.id], "/index.html")) == f"node {node.id}\n"
    manager.stop(nodes[0], timeout=5)
    assert get(ports[41], "/index.html", timeout=0.5) is None
    assert get(ports[42], "/index.html") == "node 42\n"
    statuses = manager.status_all(nodes)
    assert statuses[41].state is ProcessState.STOPPED and statuses[42].state is ProcessState.RUNNING
    for node in nodes:
        manager.remove(node)
    assert manager.list_containers() == []


def test_status_all_is_one_pass_and_reports_missing(harness: Harness) -> None:
    single = harness.manager()
    a, b = harness.node(51), harness.node(52)
    single.create(a)
    single.start(a)
    wait_until(lambda: get(a.metrics_port), what="metrics")
    started = time.monotonic()
    statuses = single.status_all([a, b])
    elapsed = time.monotonic() - started
    assert statuses[a.id].state is ProcessState.RUNNING
    assert statuses[b.id].state is ProcessState.MISSING
    assert elapsed < 2, elapsed
    assert os.path.isdir(a.root_dir)


def test_without_a_daemon_everything_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("docker")
    url = f"unix://{tmp_path}/no-docker.sock"
    monkeypatch.setenv("DOCKER_HOST", url)
    ctx = ManagerContext(settings=Settings(), mode="docker", command_for=antnode_command, timeout=2.0)
    availability = DockerManager.availability(ctx)
    assert not availability.ok and url in availability.reason
    manager = DockerManager(ctx, control_root=str(tmp_path / "control"))
    node = Harness.plain_node(tmp_path, 1)
    status = manager.status_all([node])[1]
    assert status.state is ProcessState.UNKNOWN and status.detail
    with pytest.raises(TemporaryFailure):
        manager.start(node)


# -- the supervisor script itself, on this host's dash and busybox sh (no docker needed) --------

SUPERVISOR = Path(__file__).resolve().parents[2] / "docker" / "wnm-supervisor.sh"


@pytest.fixture(params=["dash", "busybox"])
def supervisor(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    shell = ["dash"] if request.param == "dash" else ["busybox", "sh"]
    if shutil.which(shell[0]) is None:
        pytest.skip(f"{shell[0]} is not installed")
    control = tmp_path / "control"
    control.mkdir()
    env = {**os.environ, "WNM_CONTROL_DIR": str(control), "WNM_STOP_GRACE": "3"}
    proc = subprocess.Popen(
        [*shell, str(SUPERVISOR)], env=env, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        wait_until(lambda: supervisor_ready(control), timeout=5, what="the supervisor")
        yield proc, control
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


def define(control: Path, name: str, argv: list[str], env: dict[str, str] | None = None) -> NodeControl:
    node = NodeControl(control, name)
    node.define(argv, env or {}, owner=None)
    return node


def alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_supervisor_runs_and_stops_nodes_one_by_one(supervisor: tuple[subprocess.Popen[bytes], Path]) -> None:
    proc, control = supervisor
    a = define(control, "0001", ["sh", "-c", 'echo "hello $GREETING"; exec sleep 300'], {"GREETING": "a b"})
    b = define(control, "0002", ["sleep", "300"])
    for node in (a, b):
        node.want(WANT_RUN)
    proc.send_signal(signal.SIGHUP)
    states = [node.wait_for(("running",), 5, "start") for node in (a, b)]
    assert all(alive(s.pid) for s in states)
    wait_until(lambda: a.output_tail() == "hello a b", timeout=5, what="the node's output")

    b.want(WANT_STOP, stop_timeout=5)
    proc.send_signal(signal.SIGHUP)
    stopped = b.wait_for(("stopped",), 5, "stop")
    assert stopped.exit_code == 128 + signal.SIGTERM
    assert not alive(states[1].pid)
    assert a.state().kind == "running" and alive(states[0].pid)


def test_supervisor_restarts_exited_nodes_and_kills_stubborn_ones(
    supervisor: tuple[subprocess.Popen[bytes], Path],
) -> None:
    proc, control = supervisor
    flaky = define(control, "0003", ["sh", "-c", "exit 3"])
    stubborn = define(control, "0004", ["sh", "-c", "trap '' TERM; while :; do sleep 0.2; done"])
    flaky.want(WANT_RUN)
    stubborn.want(WANT_RUN)
    proc.send_signal(signal.SIGHUP)
    wait_until(lambda: flaky.state().restarts >= 1, timeout=5, what="a restart")
    assert flaky.state().kind in ("backoff", "running")
    flaky.want(WANT_STOP)
    flaky.wait_for(("stopped",), 5, "stop during backoff")

    pid = stubborn.wait_for(("running",), 5, "start").pid
    started = time.monotonic()
    stubborn.want(WANT_STOP, stop_timeout=1)
    proc.send_signal(signal.SIGHUP)
    assert stubborn.wait_for(("stopped",), 6, "escalation to SIGKILL").exit_code == 128 + signal.SIGKILL
    assert 0.9 < time.monotonic() - started < 4
    assert not alive(pid)


def test_supervisor_shutdown_keeps_wishes_for_the_next_start(
    supervisor: tuple[subprocess.Popen[bytes], Path],
) -> None:
    proc, control = supervisor
    node = define(control, "0005", ["sleep", "300"])
    node.want(WANT_RUN)
    proc.send_signal(signal.SIGHUP)
    pid = node.wait_for(("running",), 5, "start").pid
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    assert not alive(pid)
    assert node.state().kind == "stopped"
    assert (node.dir / "want").read_text() == "run\n"
    assert not supervisor_ready(control)


# -- pure helpers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("running 42 1700000000\n", RunState("running", pid=42, restarts=2)),
        ("backoff 3 1700000000", RunState("backoff", exit_code=3, restarts=2)),
        ("stopped 143", RunState("stopped", exit_code=143, restarts=2)),
        ("stopped -", RunState("stopped", restarts=2)),
        ("", RunState("unknown", restarts=2)),
        ("garbage", RunState("unknown", restarts=2)),
    ],
)
def test_parse_state(line: str, expected: RunState) -> None:
    assert parse_state(line, "2\n") == expected


def test_layout_helpers() -> None:
    assert group_name(["wnm-nodes-01", "wnm-nodes-03"]) == "wnm-nodes-02"
    assert bind_roots(["/a/b", "/a", "/c/d", ""]) == ["/a", "/c/d"]
    assert is_under("/a/b/c", ["/a/b"]) and not is_under("/a/bc", ["/a/b"])
    assert created_epoch("2026-11-30T21:40:01.123456789Z") == 1796074801
    assert created_epoch("nonsense") == 0


def test_process_table_finds_children_and_namespace_pids() -> None:
    child = subprocess.Popen(["sh", "-c", "sleep 30 & wait"])
    grandchildren: list[int] = []
    try:
        grandchildren = wait_until(
            lambda: ProcessTable.read().children.get(child.pid, []), timeout=5, what="the grandchild"
        )
        table = ProcessTable.read()
        assert child.pid in table.descendants(os.getpid())
        assert table.first_child(child.pid) == grandchildren[0]
        assert table.host_pid(child.pid, table.ns_pid[grandchildren[0]]) == grandchildren[0]
        assert table.host_pid(None, 1) is None and table.first_child(None) is None
    finally:
        for pid in grandchildren:
            os.kill(pid, signal.SIGKILL)
        child.kill()
        child.wait(timeout=5)

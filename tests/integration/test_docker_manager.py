"""DockerManager against a real dockerd, with antnode emulators as the nodes.

Each test gets its own control root, which is also the ``wnm.instance`` label value, so the
teardown removes exactly the containers that test made (also when it fails).
"""

from __future__ import annotations

import os
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from docker_env import DockerEnv, docker_env, make_antnode, remove_labelled  # noqa: F401

from wnm.backends.process.base import ManagerContext, ProcessState
from wnm.backends.process.docker import DockerManager
from wnm.backends.process.docker_layout import LABEL_INSTANCE
from wnm.domain.enums import Generation, NodeStatus
from wnm.domain.node import Node
from wnm.domain.settings import Settings
from wnm.nodes.command import NodeCommand

pytestmark = pytest.mark.integration

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


def wait_until(check: Callable[[], object], timeout: float = 15.0, what: str = "condition") -> object:
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
        root = self.base / "nodes" / f"antnode{node_id:04d}"
        logs = self.base / "logs" / f"antnode{node_id:04d}"
        root.mkdir(parents=True, exist_ok=True)
        logs.mkdir(parents=True, exist_ok=True)
        binary = make_antnode(root / "antnode", version, python=IMAGE_PYTHON, knobs=knobs)
        return Node(
            id=node_id,
            generation=Generation.LEGACY,
            manager="docker",
            root_dir=str(root),
            log_dir=str(logs),
            binary=str(binary),
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
    ) -> DockerManager:
        settings = replace(
            Settings(),
            docker_image=image or self.env.image,
            max_node_per_container=per_container,
            node_storage=str(self.base / "nodes"),
            log_dir=str(self.base / "logs"),
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
        wait_until(lambda n=node: get(n.metrics_port), what=f"metrics of node {node.id}")
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
        assert wait_until(lambda n=node: get(ports[n.id], "/index.html")) == f"node {node.id}\n"
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

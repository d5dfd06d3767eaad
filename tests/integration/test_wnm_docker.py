"""The whole ``wnm`` command with ``--process_manager docker`` against a real dockerd.

Driven only through ``python -m wnm`` runs (tests/e2e/helpers.py), on the host as root, with the
node image built from ``docker/`` on the local Debian base (docker_env.py) and antnode
emulators on the image's ``/usr/bin/python3``. Runs once with one node per container and once
with both nodes in one group container: grow to two RUNNING nodes, keep the ``container`` table
in step, survive a self-upgrade exit (restarted by docker's restart policy or by the
supervisor, recorded as the new version and not as a crash), shrink, tear down.

As root wnm's control root (``/var/lib/wnm/docker``) is also its ``wnm.instance`` label and the
containers are named after the nodes, so a machine can hold one such colony at a time: the test
skips when those names are taken, and removes exactly its own containers (label + mounts under
its temp dir) and control directories afterwards, also on failure.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # helper modules next to this file

from docker_env import DockerEnv, docker_env  # noqa: F401 - session fixture
from tests.e2e.helpers import UNLIMITED, Colony, kill_leftovers, metrics_answer, processes_of, statuses
from tests.emulators.build import make_antnode

from wnm.backends.process.docker import default_control_root
from wnm.backends.process.docker_layout import is_under

pytestmark = pytest.mark.integration

IMAGE_PYTHON = "/usr/bin/python3"  # the Debian base image's interpreter runs the emulators
UPGRADE_AFTER = 4  # seconds after its start the upgraded node replaces itself and exits
CONTROL_ROOT = Path(default_control_root())
OUR_NAMES = ("antnode0001", "antnode0002", "wnm-nodes-01")

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


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``check`` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)
    return value


def metadata_version(port: int) -> str:
    """The version the node process at ``port`` reports on ``/metadata``; "" when it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metadata", timeout=2) as reply:
            text = reply.read().decode()
    except OSError:
        return ""
    _, found, rest = text.partition('antnode_version="')
    return rest.split('"', 1)[0] if found else ""


@dataclass
class DockerColony(Colony):
    """A Colony whose nodes run in containers of ``image`` on the daemon behind ``client``."""

    client: Any = None
    image: str = ""
    per_container: int = 1

    def containers(self) -> list[Any]:
        """This colony's containers: wnm's label and mounts under our temp dir."""
        found = self.client.containers.list(all=True, filters={"label": f"wnm.instance={CONTROL_ROOT}"})
        return [c for c in found if any(is_under(m["Source"], [str(self.tmp)]) for m in c.attrs["Mounts"])]

    def table(self, sql: str) -> list[tuple[Any, ...]]:
        with contextlib.closing(sqlite3.connect(self.db)) as conn:
            return list(conn.execute(sql))

    def logs(self) -> str:
        """The last lines each container (and each group member) wrote, for failure messages."""
        lines = [f"{c.name}: {c.logs(tail=3).decode(errors='replace').strip()}" for c in self.containers()]
        lines += [
            f"{out}: {out.read_text(errors='replace')[-300:]}" for out in CONTROL_ROOT.glob("*/*/output")
        ]
        return "\n".join(lines)


class NodeDied(AssertionError):
    """A node wnm started died instead of running (see the xfail on the test)."""


def running(colony: DockerColony, count: int) -> Callable[[list[dict[str, Any]]], bool]:
    """A ``run_until`` condition: ``count`` nodes RUNNING; raises NodeDied at the first death."""

    def check(nodes: list[dict[str, Any]]) -> bool:
        dead = [(n["service_name"], n["status_reason"]) for n in nodes if n["recent_deaths"]]
        if dead:
            raise NodeDied(f"nodes died: {dead}\n{colony.logs()}")
        return len(nodes) == count and statuses(nodes) == ["RUNNING"] * count

    return check


@pytest.fixture(params=[1, 2], ids=["one-per-container", "two-per-container"])
def colony(
    request: pytest.FixtureRequest,
    docker_env: DockerEnv,  # noqa: F811
    tmp_path: Path,
    isolated_env: Path,
) -> Iterator[DockerColony]:
    client = docker_env.client
    listed = client.containers.list(all=True, sparse=True)
    taken = sorted({n.lstrip("/") for c in listed for n in c.attrs.get("Names") or []} & set(OUR_NAMES))
    if taken:
        pytest.skip(f"containers {taken} exist: another wnm docker colony runs here")
    made = [p for p in (CONTROL_ROOT.parent, CONTROL_ROOT) if not p.exists()]
    groups_before = set(CONTROL_ROOT.iterdir()) if CONTROL_ROOT.exists() else set()
    tmp_path.chmod(0o755)
    c = DockerColony(
        tmp_path,
        isolated_env,
        mode="docker",
        client=client,
        image=docker_env.image,
        per_container=request.param,
    )
    try:
        yield c
    finally:
        for container in c.containers():
            with contextlib.suppress(Exception):
                container.remove(force=True)
        if CONTROL_ROOT.exists():
            for group in set(CONTROL_ROOT.iterdir()) - groups_before:
                shutil.rmtree(group, ignore_errors=True)
        for path in reversed(made):
            with contextlib.suppress(OSError):
                path.rmdir()
        kill_leftovers(tmp_path)


def init(colony: DockerColony) -> Path:
    """``wnm --init`` for a legacy docker colony; returns the source antnode binary (0.4.17)."""
    colony.python = IMAGE_PYTHON
    colony.init(
        "--docker_image", colony.image, "--max_node_per_container", str(colony.per_container), *SETTINGS
    )  # fmt: skip
    return colony.binary


def assert_in_step(colony: DockerColony, nodes: list[dict[str, Any]]) -> dict[str, Any]:
    """Containers, their labels and the ``container`` table agree with the nodes; returns
    the containers by name."""
    containers = {c.name: c for c in colony.containers()}
    if colony.per_container == 1:
        assert sorted(containers) == sorted(n["service_name"] for n in nodes), containers
    else:
        assert sorted(containers) == ["wnm-nodes-01"], containers
    for container in containers.values():
        labels = container.labels
        assert (labels["wnm.managed"], labels["wnm.instance"]) == ("1", str(CONTROL_ROOT)), labels
        assert labels["wnm.mode"] == ("single" if colony.per_container == 1 else "group"), labels
        assert container.attrs["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
        assert container.attrs["HostConfig"]["NetworkMode"] == "host"
    rows = {name: (row_id, docker_id) for row_id, docker_id, name in colony.table(
        "SELECT id, container_id, name FROM container")}  # fmt: skip
    assert {name: docker_id for name, (_, docker_id) in rows.items()} == {
        name: c.id for name, c in containers.items()
    }, rows
    holder = dict(colony.table("SELECT id, container_id FROM node"))
    for node in nodes:
        name = node["service_name"] if colony.per_container == 1 else "wnm-nodes-01"
        assert holder[node["id"]] == rows[name][0] == node["container_id"], (node, rows)
        if colony.per_container == 1:
            assert containers[name].labels["wnm.node_ids"] == str(node["id"])
    return containers


def assert_running_in_docker(colony: DockerColony, node: dict[str, Any]) -> None:
    """The node's process is the one wnm recorded, lives in a container and answers from the host."""
    procs = processes_of(node["root_dir"])  # with docker's init (whose argv is the node's) in single mode
    nodes = [p for p in procs if p.cmdline()[:2] == [IMAGE_PYTHON, node["binary"]]]
    assert [p.pid for p in nodes] == [node["pid"]], (node, procs)
    assert {p.name() for p in procs} - {nodes[0].name()} <= {"docker-init"}, procs
    cgroup = Path(f"/proc/{node['pid']}/cgroup").read_text()
    assert "docker" in cgroup, cgroup
    assert metrics_answer(node["metrics_port"]), node


def self_upgrade(colony: DockerColony, target: dict[str, Any], release: Path) -> dict[str, Any]:
    """Make ``target`` upgrade itself to ``release`` while RUNNING; its row once wnm recorded it."""
    Path(target["root_dir"], "emulator-knobs.json").write_text(
        json.dumps({"upgrade_after": UPGRADE_AFTER, "upgrade_from": str(release)})
    )
    colony.wnm("--force_action", "restart", "--service_name", target["service_name"], check=True)

    def row() -> dict[str, Any]:
        return next(n for n in colony.nodes() if n["id"] == target["id"])

    def recorded_running() -> dict[str, Any] | None:
        colony.wnm()
        now = row()
        return now if now["status"] == "RUNNING" and now["pid"] not in (None, target["pid"]) else None

    restarted = wait_for(recorded_running, UPGRADE_AFTER - 1, "wnm to record the restarted node RUNNING")
    # the node replaces its binary and exits 0; docker (one node per container) or the
    # supervisor (group) starts it again on the new binary
    wait_for(
        lambda: metadata_version(target["metrics_port"]) == "0.4.18",
        UPGRADE_AFTER + 10,
        "the node to come back on 0.4.18",
    )
    if colony.per_container == 1:
        container = colony.client.containers.get(target["service_name"])
        assert container.attrs["RestartCount"] == 1, container.attrs["State"]
    colony.wnm(check=True)
    upgraded = row()
    assert (upgraded["status"], upgraded["version"]) == ("RUNNING", "0.4.18"), upgraded
    assert upgraded["pid"] != restarted["pid"]
    assert upgraded["recent_deaths"] == [], f"the self-upgrade was recorded as a death: {upgraded}"
    return upgraded


def test_wnm_lifecycle_in_docker(colony: DockerColony) -> None:
    timings: dict[str, float] = {}
    started = time.monotonic()

    def lap(name: str) -> None:
        timings[name] = round(time.monotonic() - started, 1)

    source = init(colony)
    assert colony.machine()["process_manager"] == "docker"

    # grow: containers exist, labelled, the nodes answer on host ports, the table is in step
    nodes = colony.run_until(running(colony, 2))
    lap("two_running")
    for node in nodes:
        assert_running_in_docker(colony, node)
        assert node["version"] == "0.4.17", node
    assert_in_step(colony, nodes)

    # self-upgrade from a release the node "downloaded" into its HOME (its root dir)
    make_antnode(source, "0.4.18", python=IMAGE_PYTHON)
    target, other = sorted(nodes, key=lambda n: n["id"])
    release = Path(target["root_dir"], ".local/share/autonomi/upgrades/antnode-0.4.18")
    release.parent.mkdir(parents=True)
    shutil.copy2(source, release)
    upgraded = self_upgrade(colony, target, release)
    lap("self_upgrade_recorded")
    assert_running_in_docker(colony, upgraded)
    assert Path(upgraded["binary"]).read_bytes() == source.read_bytes()
    untouched = next(n for n in colony.nodes() if n["id"] == other["id"])
    assert (untouched["status"], untouched["version"], untouched["pid"]) == (
        "RUNNING",
        "0.4.17",
        other["pid"],
    )
    assert_in_step(colony, colony.nodes())

    # shrink: node_cap 1 removes one node and (one per container) its container
    colony.wnm("--node_cap", "1", check=True)
    remaining = colony.run_until(running(colony, 1))
    lap("shrunk")
    gone = next(n for n in nodes if n["id"] != remaining[0]["id"])
    assert not processes_of(gone["root_dir"]) and not Path(gone["root_dir"]).exists(), gone
    containers = assert_in_step(colony, remaining)
    assert gone["service_name"] not in containers
    assert_running_in_docker(colony, remaining[0])
    if colony.per_container > 1:
        members = sorted(p.name for p in (CONTROL_ROOT / "wnm-nodes-01").iterdir() if p.is_dir())
        assert members == [f"{remaining[0]['id']:04d}"], members

    # teardown: no container, row, process or directory remains
    done = colony.wnm("--force_action", "teardown", "--confirm")
    lap("torn_down")
    assert done.returncode == 0, done.stderr
    assert colony.nodes() == []
    assert colony.containers() == []
    # a teardown records what it saw before acting; the next observation must sync the table
    colony.wnm("--force_action", "survey", check=True)
    assert colony.table("SELECT * FROM container") == [], "stale container rows after teardown"
    assert not (CONTROL_ROOT / "wnm-nodes-01").exists()
    for node in nodes:
        assert not processes_of(node["root_dir"]), node
        assert not Path(node["root_dir"]).exists(), node
    assert not any(colony.storage.iterdir())
    print(f"\ndocker, {colony.per_container} node(s) per container: timings {timings}")

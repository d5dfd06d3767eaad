"""survey() against real node processes: the antnode / ant-node emulators of tests/emulators.

Each node is started with the command line ``build_command`` produces (so the arguments are
exercised too); the process statuses a manager would report are taken from the Popen objects.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from tests.emulators.build import make_ant_node, make_antnode
from wnm.backends.process.base import ProcessState, ProcessStatus
from wnm.domain.enums import Generation, NodeStatus
from wnm.domain.node import Node
from wnm.domain.observation import NodeObservation
from wnm.domain.settings import Settings
from wnm.nodes.arguments import build_command
from wnm.nodes.health import PROBLEM_DISK_FULL
from wnm.nodes.versions import file_stamp
from wnm.observe.probe import Target, fetch_all
from wnm.observe.survey import survey

WALLET = "0x03B770D9cD32077cC0bF330c13C114a87643B124"
SETTINGS = Settings(rewards_address=WALLET, delay_start=300)


def _free_port(kind: socket.SocketKind) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@dataclass
class Running:
    node: Node
    proc: subprocess.Popen[bytes]

    def status(self) -> ProcessStatus:
        code = self.proc.poll()
        if code is None:
            return ProcessStatus(ProcessState.RUNNING, pid=self.proc.pid)
        return ProcessStatus(ProcessState.STOPPED, exit_code=code)


class Fleet:
    """Builds emulator binaries, starts nodes from build_command, kills them all at the end."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.running: list[Running] = []
        self.next_id = 1

    def node(
        self, generation: Generation, version: str = "", knobs: Mapping[str, object] | None = None
    ) -> Node:
        node_id = self.next_id
        self.next_id += 1
        root = self.base / f"node{node_id}"
        logs = self.base / f"logs{node_id}"
        root.mkdir()
        if generation is Generation.LEGACY:
            binary = make_antnode(root / "antnode", version or "0.4.17", knobs=knobs)
        else:
            binary = make_ant_node(root / "ant-node", version or "0.14.2", knobs=knobs)
        return Node(
            id=node_id,
            generation=generation,
            manager="setsid+user",
            root_dir=str(root),
            log_dir=str(logs),
            binary=str(binary),
            port=_free_port(socket.SOCK_DGRAM),
            metrics_port=_free_port(socket.SOCK_STREAM),
            rpc_port=0,
            status=NodeStatus.RESTARTING,
            status_changed_at=int(time.time()),
            age=int(time.time()),
            wallet=WALLET,
        )

    def start(self, node: Node) -> Running:
        cmd = build_command(node, SETTINGS, "setsid")
        proc = subprocess.Popen(
            cmd.argv,
            env={**os.environ, **cmd.env_dict},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        running = Running(node, proc)
        self.running.append(running)
        return running

    def stop_all(self) -> None:
        for r in self.running:
            if r.proc.poll() is None:
                r.proc.kill()
            r.proc.wait(timeout=10)


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    f = Fleet(tmp_path)
    try:
        yield f
    finally:
        f.stop_all()


def _wait(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def _metrics_up(node: Node) -> bool:
    (reply,) = fetch_all([Target("127.0.0.1", node.metrics_port, "/metrics")], deadline=0.5)
    return reply.ok


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _survey(nodes: list[Running], deadline: float = 2.0) -> list[NodeObservation]:
    statuses = {r.node.id: r.status() for r in nodes}
    return survey([r.node for r in nodes], statuses, SETTINGS, int(time.time()), deadline=deadline)


def test_legacy_node_running_with_metrics_version_and_peer_id(fleet: Fleet) -> None:
    r = fleet.start(fleet.node(Generation.LEGACY, "0.4.18-rc.1"))
    _wait(lambda: _metrics_up(r.node))
    (obs,) = _survey([r])
    assert obs.status is NodeStatus.RUNNING and obs.responded and obs.reason == ""
    assert obs.version == "0.4.18-rc.1"
    assert obs.peer_id.startswith("12D3KooW") and len(obs.peer_id) == 52
    assert obs.metrics is not None and obs.metrics.uptime >= 0 and obs.pid == r.proc.pid
    assert obs.binary_stamp == ""  # the running node told its version; the binary was not run


def test_hung_and_broken_metrics_cost_one_deadline(fleet: Fleet) -> None:
    healthy = fleet.start(fleet.node(Generation.LEGACY))
    hung = [fleet.start(fleet.node(Generation.LEGACY, knobs={"metrics_mode": "hang"})) for _ in range(4)]
    broken = fleet.start(fleet.node(Generation.LEGACY, knobs={"metrics_mode": "500"}))
    truncated = fleet.start(fleet.node(Generation.LEGACY, knobs={"metrics_mode": "truncated"}))
    _wait(lambda: _metrics_up(healthy.node))
    _wait(lambda: all(_listening(r.node.metrics_port) for r in (*hung, broken, truncated)))
    nodes = [healthy, *hung, broken, truncated]
    nodes = [replace(r, node=replace(r.node, status=NodeStatus.RUNNING)) for r in nodes]
    started = time.monotonic()
    observations = _survey(nodes, deadline=1.0)
    # one deadline for all four hung nodes (one after the other they would take 4 s or more)
    assert time.monotonic() - started < 1.0 + 1.5
    by_id = {o.node_id: o for o in observations}
    assert by_id[healthy.node.id].responded
    for r in hung:
        obs = by_id[r.node.id]
        assert obs.status is NodeStatus.RUNNING and not obs.responded and obs.metrics is None
        assert "metrics not answering (timeout" in obs.reason
    assert "HTTP 500" in by_id[broken.node.id].reason and by_id[broken.node.id].status is NodeStatus.RUNNING
    assert by_id[truncated.node.id].metrics is None and by_id[truncated.node.id].status is NodeStatus.RUNNING


def test_restarting_node_stays_restarting_until_it_answers(fleet: Fleet) -> None:
    r = fleet.start(fleet.node(Generation.LEGACY, knobs={"startup_delay": 30.0}))
    _wait(lambda: os.path.exists(os.path.join(r.node.root_dir, "secret-key")))
    (obs,) = _survey([r], deadline=0.3)
    assert obs.status is NodeStatus.RESTARTING and "delay_start" in obs.reason


def test_legacy_node_killed_is_dead_with_exit_code_and_last_words(fleet: Fleet) -> None:
    r = fleet.start(fleet.node(Generation.LEGACY, knobs={"sigint_delay": 0.1}))
    _wait(lambda: _metrics_up(r.node))
    r.node = replace(r.node, status=NodeStatus.RUNNING, version="0.4.17")
    r.proc.send_signal(signal.SIGINT)  # antnode writes critical_failure.log and exits 1
    r.proc.wait(timeout=10)
    (obs,) = _survey([r])
    assert obs.status is NodeStatus.DEAD and obs.died and obs.exit_code == 1
    assert "exited with code 1" in obs.reason and "Ctrl-C received!" in obs.reason
    assert obs.metrics is None and obs.pid is None


def test_stopped_node_with_changed_binary_gets_its_version_read(fleet: Fleet) -> None:
    node = replace(fleet.node(Generation.LEGACY, "0.4.16"), status=NodeStatus.STOPPED, version="0.4.16")
    stamp = file_stamp(node.binary)
    assert stamp is not None
    unchanged = replace(node, binary_stamp=str(stamp))
    obs_same, obs_new = survey(
        [unchanged, replace(node, id=99)],
        {},
        SETTINGS,
        int(time.time()),
        deadline=0.2,
    )
    # no process status at all: UNKNOWN, and nothing answers -> stored status kept
    assert obs_same.status is NodeStatus.STOPPED and obs_same.binary_stamp == "" and obs_same.version == ""
    assert obs_new.version == "0.4.16" and obs_new.binary_stamp == str(stamp)


def test_v2_node_by_process_data_and_logs(fleet: Fleet) -> None:
    r = fleet.start(
        fleet.node(
            Generation.V2, knobs={"data_growth": 200_000, "disk_full_after": 0.5, "disk_full_interval": 0.1}
        )
    )
    data = Path(r.node.root_dir, "chunks.mdb", "data.mdb")
    _wait(lambda: data.exists() and data.stat().st_size > 0)
    _wait(
        lambda: any(
            "Insufficient disk space" in p.read_text() for p in Path(r.node.log_dir).glob("ant-node.*.log")
        )
    )
    (obs,) = _survey([r])
    assert obs.status is NodeStatus.RUNNING and obs.responded and obs.pid == r.proc.pid
    assert obs.metrics is not None
    assert obs.metrics.mem_mb > 1 and obs.metrics.data_size > 0 and obs.metrics.uptime >= 0
    assert PROBLEM_DISK_FULL in obs.log_problems
    stamp = file_stamp(r.node.binary)
    assert obs.version == "0.14.2" and obs.binary_stamp == str(stamp)  # first look: read once


def test_v2_binary_replaced_while_running_is_not_taken_as_running_version(
    fleet: Fleet, tmp_path: Path
) -> None:
    r = fleet.start(fleet.node(Generation.V2))
    _wait(lambda: Path(r.node.root_dir, "node_identity.key").exists())
    old_stamp = file_stamp(r.node.binary)
    r.node = replace(r.node, status=NodeStatus.RUNNING, version="0.14.2", binary_stamp=str(old_stamp))
    time.sleep(0.05)
    newer = make_ant_node(tmp_path / "new" / "ant-node", "0.14.3")
    shutil.copyfile(newer, r.node.binary + ".tmp")
    os.chmod(r.node.binary + ".tmp", 0o755)
    os.replace(r.node.binary + ".tmp", r.node.binary)
    (obs,) = _survey([r])
    assert obs.status is NodeStatus.RUNNING
    assert obs.version == "" and obs.binary_stamp == ""  # pending self-upgrade: keep stored version


def test_v2_self_upgrade_exit_is_recognised(fleet: Fleet, tmp_path: Path) -> None:
    newer = make_ant_node(tmp_path / "release" / "ant-node", "0.14.3")
    node = fleet.node(Generation.V2, knobs={"upgrade_after": 0.4, "upgrade_from": str(newer)})
    stamp = file_stamp(node.binary)
    r = fleet.start(replace(node, status=NodeStatus.RUNNING, version="0.14.2", binary_stamp=str(stamp)))
    assert r.proc.wait(timeout=10) == 0  # --stop-on-upgrade: exit 0 after replacing its binary
    (obs,) = _survey([r])
    assert obs.status is NodeStatus.UPGRADING and obs.self_upgraded and not obs.died
    assert (
        obs.version == "0.14.3" and obs.reason == "exited after self-upgrade to 0.14.3; waiting for restart"
    )
    assert obs.binary_stamp == str(file_stamp(node.binary)) != str(stamp)
    assert obs.alive is False
    # restarted (by the manager or wnm's next run): RUNNING at once, no settle for self-upgrades
    waiting = replace(
        r.node,
        status=NodeStatus.UPGRADING,
        version=obs.version,
        binary_stamp=obs.binary_stamp,
        status_reason=obs.reason,
    )
    again = fleet.start(waiting)
    _wait(lambda: Path(waiting.root_dir, "node_identity.key").exists() and again.proc.poll() is None)
    (back,) = _survey([again])
    assert back.status is NodeStatus.RUNNING and back.alive is True and not back.self_upgraded
    assert again.proc.poll() is None


def test_v2_crash_is_dead(fleet: Fleet) -> None:
    node = fleet.node(Generation.V2, knobs={"crash_after": 0.3, "crash_exit_code": 3})
    stamp = file_stamp(node.binary)
    r = fleet.start(replace(node, status=NodeStatus.RUNNING, version="0.14.2", binary_stamp=str(stamp)))
    assert r.proc.wait(timeout=10) == 3
    (obs,) = _survey([r])
    assert obs.status is NodeStatus.DEAD and obs.died and "code 3" in obs.reason
    assert "emulated crash" in obs.reason


def test_missing_root_dir_is_broken(fleet: Fleet) -> None:
    node = fleet.node(Generation.V2)
    shutil.rmtree(node.root_dir)
    (obs,) = survey([node], {node.id: ProcessStatus(ProcessState.STOPPED)}, SETTINGS, int(time.time()))
    assert obs.status is NodeStatus.BROKEN and "is missing" in obs.reason

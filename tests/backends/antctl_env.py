"""An emulated antctl installation for the antctl manager tests (real processes, temp dirs only).

``antctl_env`` builds an antctl emulator (system layout, every path it chooses under
``ANTCTL_EMU_PREFIX`` in the test's temp dir) and antnode emulators, and kills every process
whose command line mentions the temp dir when the test ends, also on failure: antctl starts its
nodes in their own sessions, so they are found by path, never by name.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import REWARDS
from tests.emulators.build import make_antctl, make_antnode
from tests.emulators.fixtures import free_port, pids_mentioning

from wnm.backends.process.antctl import AntctlManager
from wnm.backends.process.base import ManagerContext
from wnm.domain.enums import Generation, NodeStatus
from wnm.domain.node import Node, service_name
from wnm.domain.settings import Settings
from wnm.nodes.command import NodeCommand
from wnm.system.commands import CommandRunner, run

OLD_VERSION = "0.4.10"
NEW_VERSION = "0.4.17"
NODE_KNOBS = {"startup_delay": 0.05, "sigint_delay": 0.05}


def no_node_command(node: Node) -> NodeCommand:
    raise AssertionError(f"the antctl manager must not build node command lines ({node.name})")


@dataclass
class AntctlEnv:
    tmp: Path
    prefix: Path
    antctl: Path
    antnode: Path  # OLD_VERSION, the binary wnm hands to antctl
    antnode_new: Path  # NEW_VERSION, for upgrades
    storage: Path
    logs: Path

    @property
    def registry_path(self) -> Path:
        return self.prefix / "var/antctl/node_registry.json"

    def settings(self, mode: str = "antctl+user", **changes: Any) -> Settings:
        base = replace(
            Settings(),
            antctl_path=str(self.antctl),
            antnode_path=str(self.antnode),
            rewards_address=REWARDS,
            process_manager=mode,
            node_storage=str(self.storage),
            log_dir=str(self.logs),
            firewall="null",
        )
        return replace(base, **changes)

    def context(
        self, mode: str = "antctl+user", runner: CommandRunner = run, **changes: Any
    ) -> ManagerContext:
        return ManagerContext(self.settings(mode, **changes), mode, no_node_command, runner=runner)

    def manager(
        self, mode: str = "antctl+user", runner: CommandRunner = run, **changes: Any
    ) -> AntctlManager:
        return AntctlManager(self.context(mode, runner, **changes))

    def node(self, node_id: int, mode: str = "antctl+user", **changes: Any) -> Node:
        """A node as the executor hands it to ``create``: wnm's id, paths and fresh free ports."""
        root = f"{self.storage}/{service_name(node_id)}"
        node = Node(
            id=node_id,
            generation=Generation.LEGACY,
            manager=mode,
            root_dir=root,
            log_dir=f"{self.logs}/{service_name(node_id)}",
            binary=f"{root}/antnode",
            port=free_port(),
            metrics_port=free_port(),
            rpc_port=free_port(),
            status=NodeStatus.RESTARTING,
            status_changed_at=int(time.time()),
            age=int(time.time()),
            version=OLD_VERSION,
            storage_path=str(self.storage),
        )
        return replace(node, **changes)

    def registry(self) -> list[dict[str, Any]]:
        if not self.registry_path.exists():
            return []
        nodes: list[dict[str, Any]] = json.loads(self.registry_path.read_text())["nodes"]
        return nodes

    def entry(self, service: str) -> dict[str, Any]:
        return next(n for n in self.registry() if n["service_name"] == service)

    def processes(self) -> list[int]:
        """Live processes running out of this test's temp dir (nodes antctl started)."""
        return pids_mentioning(str(self.tmp))

    def cleanup(self) -> None:
        for _ in range(5):
            pids = self.processes()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)


def build_env(tmp: Path, **antctl_knobs: object) -> AntctlEnv:
    bins = tmp / "bin"
    env = AntctlEnv(
        tmp=tmp,
        prefix=tmp / "prefix",
        antctl=make_antctl(bins / "antctl", knobs={"mode": "system", "stop_wait": 5.0, **antctl_knobs}),
        antnode=make_antnode(bins / "antnode", OLD_VERSION, knobs=NODE_KNOBS),
        antnode_new=make_antnode(bins / "new" / "antnode", NEW_VERSION, knobs=NODE_KNOBS),
        storage=tmp / "nodes",
        logs=tmp / "logs",
    )
    env.storage.mkdir()
    env.logs.mkdir()
    return env


@pytest.fixture
def antctl_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AntctlEnv]:
    """An emulated antctl in ``tmp_path``; ANTCTL_EMU_PREFIX is set for every command run."""
    env = build_env(tmp_path)
    monkeypatch.setenv("ANTCTL_EMU_PREFIX", str(env.prefix))
    for knob in ("MODE", "DOWNLOAD_BINARY", "LATEST_VERSION", "START_WAIT", "STOP_WAIT", "ANTNODE_PYTHON"):
        monkeypatch.delenv(f"WNM_EMU_{knob}", raising=False)
    try:
        yield env
    finally:
        env.cleanup()

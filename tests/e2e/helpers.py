"""Running the real ``wnm`` command against real emulated nodes, for end-to-end tests."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from tests.conftest import REWARDS
from tests.emulators.build import make_ant_node, make_antnode

# thresholds no busy test machine reaches, so only the test's own settings cause pressure
UNLIMITED = (
    "--cpu_less_than", "99", "--cpu_remove", "100",
    "--mem_less_than", "99", "--mem_remove", "100",
    "--hd_less_than", "99", "--hd_remove", "100",
    "--desired_load_average", "500", "--max_load_average_allowed", "600",
)  # fmt: skip


@dataclass
class Colony:
    """One initialized wnm machine in a temp dir, driven through the real CLI in subprocesses."""

    tmp: Path
    home: Path
    generation: str = "legacy"
    mode: str = "setsid+user"
    extra_init: tuple[str, ...] = ()
    python: str = sys.executable  # interpreter of the emulated node binaries (the container's, in nspawn)
    port_start: int = field(default_factory=lambda: random.randint(20, 29))
    metrics_port_start: int = field(default_factory=lambda: random.randint(10, 19))
    rpc_port_start: int = field(default_factory=lambda: random.randint(3, 9))

    @property
    def db(self) -> str:
        return str(self.tmp / "colony.db")

    @property
    def storage(self) -> Path:
        return self.tmp / "nodes"

    @property
    def binary(self) -> Path:
        return self.tmp / "bin" / ("antnode" if self.generation == "legacy" else "ant-node")

    def env(self) -> dict[str, str]:
        """The environment of a wnm run: ours without any wnm option variables, and a private HOME."""
        from wnm.config.options import OPTIONS

        drop = {o.env_var for o in OPTIONS if o.env_var} | {"WNM_FAULT_POINT"}
        env = {k: v for k, v in os.environ.items() if k not in drop}
        env["HOME"] = str(self.home)
        return env

    def wnm(self, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "wnm", "--dbpath", self.db, *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=self.env(),
        )
        if check and done.returncode != 0:
            raise AssertionError(f"wnm {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
        return done

    def init(self, *args: str) -> None:
        if self.generation == "legacy":
            make_antnode(self.binary, python=self.python)
            binary_opt = ["--antnode_path", str(self.binary), "--node_binary_path", str(self.tmp / "none")]
        else:
            make_ant_node(self.binary, python=self.python)
            binary_opt = ["--node_binary_path", str(self.binary), "--antnode_path", str(self.tmp / "none")]
        self.wnm(
            "--init",
            "--rewards_address",
            REWARDS,
            "--process_manager",
            self.mode,
            "--firewall",
            "null",
            "--node_storage",
            str(self.storage),
            "--log_dir",
            str(self.tmp / "logs"),
            "--bootstrap_cache_dir",
            str(self.tmp / "cache"),
            "--port_start",
            str(self.port_start),
            "--metrics_port_start",
            str(self.metrics_port_start),
            "--rpc_port_start",
            str(self.rpc_port_start),
            "--node_generation",
            self.generation,
            *binary_opt,
            *self.extra_init,
            *args,
            check=True,
        )

    def nodes(self) -> list[dict[str, Any]]:
        done = self.wnm("--report", "node-status-details", "--json", check=True)
        data: list[dict[str, Any]] = json.loads(done.stdout)
        return data

    def machine(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.wnm("--report", "machine-config", "--json", check=True).stdout)
        return data

    def run_until(
        self, condition: Callable[[list[dict[str, Any]]], bool], *args: str, runs: int = 25
    ) -> list[dict[str, Any]]:
        """Run ``wnm`` (a cron tick) until ``condition(nodes)`` holds; fail after ``runs`` runs."""
        last = ""
        for _ in range(runs):
            done = self.wnm(*args)
            last = done.stderr
            nodes = self.nodes()
            if condition(nodes):
                return nodes
            time.sleep(0.4)
        raise AssertionError(
            f"condition not reached after {runs} runs; last run:\n{last}\nnodes: {self.nodes()}"
        )


def statuses(nodes: list[dict[str, Any]]) -> list[str]:
    return sorted(n["status"] for n in nodes)


def metrics_answer(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as reply:
            return bool(reply.status == 200 and reply.read().rstrip().endswith(b"# EOF"))
    except OSError:
        return False


def processes_of(root_dir: str) -> list[psutil.Process]:
    """Live processes whose command line mentions ``root_dir`` (a node's --root-dir)."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        try:
            if proc.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if any(root_dir == part for part in proc.info["cmdline"] or ()):
                found.append(proc)
        except psutil.Error:
            continue
    return found


def kill_leftovers(tmp: Path) -> None:
    """Kill any process still running out of ``tmp`` (a safety net for failed tests)."""
    prefix = str(tmp)
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if any(part.startswith(prefix) for part in proc.info["cmdline"] or ()):
                proc.kill()
        except psutil.Error:
            continue

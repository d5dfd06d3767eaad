"""The antctl emulator behaves like reference/antctl.md says antctl 0.14.2 does."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

try:
    from tests.emulators import antctl_emu, antnode_emu, build
    from tests.emulators.fixtures import REWARDS, Procs, alive, free_port, http_get, procs, wait_for
except ImportError:
    from emulators import antctl_emu, antnode_emu, build  # type: ignore[no-redef]
    from emulators.fixtures import (  # type: ignore[no-redef]
        REWARDS,
        Procs,
        alive,
        free_port,
        http_get,
        procs,
        wait_for,
    )

__all__ = ["procs"]

NODE_KNOBS = {"startup_delay": 0.05, "sigint_delay": 0.05}
NODE_FIELDS = [
    "alpha",
    "schema_version",
    "antnode_path",
    "auto_restart",
    "connected_peers",
    "data_dir_path",
    "evm_network",
    "initial_peers_config",
    "listen_addr",
    "log_dir_path",
    "log_format",
    "max_archived_log_files",
    "max_log_files",
    "metrics_port",
    "network_id",
    "node_ip",
    "node_port",
    "no_upnp",
    "number",
    "peer_id",
    "pid",
    "relay",
    "rewards_address",
    "reward_balance",
    "rpc_socket_addr",
    "service_name",
    "status",
    "user",
    "user_mode",
    "version",
    "write_older_cache_files",
]


class Antctl:
    """One emulated antctl installation in a test's temporary directory."""

    def __init__(self, tmp_path: Path, procs: Procs, **knobs: object) -> None:
        self.tmp = tmp_path
        self.procs = procs
        self.prefix = tmp_path / "prefix"
        self.binary = build.make_antctl(tmp_path / "bin" / "antctl", knobs=knobs)
        self.antnode = build.make_antnode(tmp_path / "bin" / "antnode", "0.4.17", knobs=NODE_KNOBS)
        self.env = {**os.environ, "ANTCTL_EMU_PREFIX": str(self.prefix), "HOME": str(tmp_path / "home")}

    @property
    def registry_path(self) -> Path:
        return self.prefix / "var/antctl/node_registry.json"

    def run(self, *args: str | Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
        """Run antctl with extra environment variables; stdin is fed to prompts."""
        process = self.procs.spawn([self.binary, *args], env={**self.env, **env}, stdin=subprocess.PIPE)
        out, err = process.communicate(stdin, timeout=30)
        return subprocess.CompletedProcess(process.args, process.returncode, out, err)

    def add(self, *extra: str | Path, evm: str = "evm-arbitrum-one") -> subprocess.CompletedProcess[str]:
        return self.run("add", "--rewards-address", REWARDS, "--path", self.antnode, *extra, evm)

    def nodes(self) -> list[dict[str, Any]]:
        nodes: list[dict[str, Any]] = json.loads(self.registry_path.read_text())["nodes"]
        return nodes


@pytest.fixture
def antctl(tmp_path: Path, procs: Procs) -> Antctl:
    return Antctl(tmp_path, procs, mode="system")  # what root gets; forced so non-root runs agree


def test_global_version_flags(antctl: Antctl) -> None:
    result = antctl.run("--version")
    lines = result.stdout.splitlines()
    assert lines[0] == "Autonomi Node Manager v0.14.2"
    assert lines[1] == "Package version: 2026.2.3.2"
    assert lines[2].startswith("Git info: stable / ")
    assert antctl.run("--crate-version").stdout == "0.14.2\n"
    assert antctl.run("--package-version").stdout == "2026.2.3.2\n"


def test_empty_registry_status_prints_nothing(antctl: Antctl) -> None:
    for args in (["status"], ["status", "--json"], ["status", "--details"]):
        result = antctl.run(*args)
        assert (result.returncode, result.stdout) == (0, "")


def test_full_lifecycle(antctl: Antctl) -> None:
    node_port, metrics, rpc = free_port(), free_port(), free_port()
    added = antctl.add(
        "--node-port",
        str(node_port),
        "--metrics-port",
        str(metrics),
        "--rpc-port",
        str(rpc),
        "--no-upnp",
        "--max-log-files",
        "1",
    )
    assert added.returncode == 0, added.stderr
    data = antctl.prefix / "var/antctl/services/antnode1"
    logs = antctl.prefix / "var/log/antnode/antnode1"
    assert added.stdout.splitlines() == [
        "╔══════════════════════════╗",
        "║   Add Antnode Services   ║",
        "╚══════════════════════════╝",
        "1 service(s) to be added",
        "Services Added:",
        " ✓ antnode1",
        f"    - Antnode path: {data}/antnode",
        f"    - Data path: {data}",
        f"    - Log path: {logs}",
        f"    - RPC port: 127.0.0.1:{rpc}",
        "[!] Note: newly added services have not been started",
    ]
    assert (data / "antnode").read_bytes() == antctl.antnode.read_bytes()
    assert antctl.antnode.exists()  # the --path source is kept
    raw = antctl.registry_path.read_text()
    assert "\n" not in raw.strip() and stat.S_IMODE(antctl.registry_path.stat().st_mode) == 0o777
    registry = json.loads(raw)
    assert list(registry) == ["daemon", "environment_variables", "nat_status", "nodes", "save_path"]
    (node,) = registry["nodes"]
    assert list(node) == NODE_FIELDS
    assert node["status"] == "Added" and node["schema_version"] == 2 and node["user"] == "ant"
    assert node["rewards_address"] == REWARDS.lower() and node["version"] == "0.4.17"
    unit = (antctl.prefix / "etc/systemd/system/antnode1.service").read_text()
    assert (
        f"ExecStart={data}/antnode --rpc 127.0.0.1:{rpc} --root-dir {data} --log-output-dest {logs} " in unit
    )
    assert (
        f"--no-upnp --port {node_port} --metrics-server-port {metrics} --max-log-files 1 "
        f"--rewards-address {REWARDS} --stop-on-upgrade evm-arbitrum-one\n"
    ) in unit
    assert "Restart=on-success\n" in unit and "User=ant\n" in unit and "[Install]" not in unit
    assert "ADDED" in antctl.run("status").stdout.splitlines()[1]

    started = antctl.run("start")
    assert started.returncode == 0, started.stdout + started.stderr
    (node,) = antctl.nodes()
    pid = node["pid"]
    assert isinstance(pid, int) and alive(pid)
    assert f"✓ Started antnode1 service\n  - PID: {pid}\n" in started.stdout
    assert node["status"] == "Running"
    assert node["peer_id"] == antnode_emu.peer_id_of((data / "secret-key").read_bytes())
    assert node["listen_addr"] == [f"/ip4/127.0.0.1/udp/{node_port}/quic-v1/p2p/{node['peer_id']}"]
    assert http_get(metrics, "/metadata")[0] == 200
    assert antctl.run("start").stdout.count("The antnode1 service is already running") == 1

    table = antctl.run("status").stdout.splitlines()
    assert table[0] == f"{'Service Name':<18} {'Peer ID':<52} {'Status':<7} {'Connected Peers':>15} Failure"
    assert table[1] == f"{'antnode1':<18} {node['peer_id']:<52} {'RUNNING':<7} {'6':>15} -"
    details = antctl.run("status", "--details").stdout
    assert "║   antnode1 - RUNNING   ║" in details and f"PID: {pid}\n" in details
    assert f"RPC Socket: 127.0.0.1:{rpc}\n" in details and "Listen Addresses: Some([/ip4/" in details
    as_json = json.loads(antctl.run("status", "--json").stdout)
    assert list(as_json) == ["nodes", "daemon"] and as_json["nodes"][0]["status"] == "Running"

    stopped = antctl.run("stop", "--service-name", "antnode1")
    assert f"✓ Service antnode1 with PID {pid} was stopped" in stopped.stdout
    wait_for(lambda: not alive(pid))
    (node,) = antctl.nodes()
    assert (node["status"], node["pid"], node["connected_peers"]) == ("Stopped", None, None)
    assert "✓ Service antnode1 was already stopped" in antctl.run("stop").stdout

    removed = antctl.run("remove", "--service-name", "antnode1")
    assert "✓ Service antnode1 was removed" in removed.stdout
    assert not data.exists() and not logs.exists()
    assert [n["status"] for n in antctl.nodes()] == ["Removed"]
    assert antctl.run("status").stdout.splitlines()[1:] == []  # removed nodes hidden
    assert json.loads(antctl.run("status", "--json").stdout)["nodes"][0]["status"] == "Removed"

    # numbers are never reused, and ports of Removed entries stay taken
    assert antctl.add("--node-port", str(node_port)).returncode == 1
    assert " ✓ antnode2" in antctl.add().stdout
    reset = antctl.run("reset", "--force")
    assert reset.returncode == 0 and not antctl.registry_path.exists()
    assert " ✓ antnode1" in antctl.add().stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["add", "--path", "X", "evm-arbitrum-one"], 2, "--rewards-address <REWARDS_ADDRESS>"),
        (["add", "--rewards-address", REWARDS], 2, "requires a subcommand"),
        (
            ["add", "--rewards-address", REWARDS, "evm-arbitrum-one", "--version", "0.4.17"],
            2,
            "unexpected argument '--version'",
        ),
        (["add", "--rewards-address", "0xzz", "evm-arbitrum-one"], 2, "invalid value '0xzz'"),
        (
            ["add", "--count", "2", "--first", "--rewards-address", REWARDS, "evm-arbitrum-one"],
            2,
            "cannot be used with",
        ),
        (
            [
                "add",
                "--url",
                "http://x",
                "--version",
                "1.0.0",
                "--rewards-address",
                REWARDS,
                "evm-arbitrum-one",
            ],
            2,
            "cannot be used with",
        ),
        (["add", "--node-port", "a-b", "--rewards-address", REWARDS, "evm-arbitrum-one"], 2, "invalid value"),
        (["status", "--debug"], 2, "unexpected argument '--debug'"),
        (["status", "--json", "--details"], 2, "cannot be used with"),
        (["frobnicate"], 2, "unrecognized subcommand"),
        (["add", "--rewards-address", REWARDS, "evm-arbitrum-one"], 1, "no network access"),
        (
            [
                "add",
                "--count",
                "2",
                "--node-port",
                "30000-30002",
                "--rewards-address",
                REWARDS,
                "--path",
                "{node}",
                "evm-arbitrum-one",
            ],
            1,
            "The count (2) does not match the number of ports (3)",
        ),
        (["start", "--service-name", "antnode9"], 1, "antnode9"),
    ],
)
def test_errors_and_exit_codes(antctl: Antctl, args: list[str], code: int, message: str) -> None:
    result = antctl.run(*[a.replace("{node}", str(antctl.antnode)) for a in args])
    assert result.returncode == code
    assert message in result.stderr
    assert result.stderr.startswith("error: " if code == 2 else "Error: ")


def test_port_used_by_another_service(antctl: Antctl) -> None:
    port = free_port()
    assert antctl.add("--metrics-port", str(port)).returncode == 0
    for flag in ("--node-port", "--metrics-port", "--rpc-port"):
        result = antctl.add(flag, str(port))
        assert result.returncode == 1
        assert f"Port {port} is being used by another service" in result.stderr
    assert len(antctl.nodes()) == 1


def test_count_and_port_ranges(antctl: Antctl) -> None:
    base = free_port() // 10 * 10
    result = antctl.add("--count", "3", "--node-port", f"{base}-{base + 2}", "--enable-metrics-server")
    assert result.returncode == 0, result.stderr
    nodes = antctl.nodes()
    assert [n["service_name"] for n in nodes] == ["antnode1", "antnode2", "antnode3"]
    assert [n["node_port"] for n in nodes] == [base, base + 1, base + 2]
    assert all(isinstance(n["metrics_port"], int) for n in nodes)
    assert len({n["rpc_socket_addr"] for n in nodes}) == 3


def test_remove_refuses_running_and_reconciles_dead(antctl: Antctl) -> None:
    antctl.add()
    assert antctl.run("start").returncode == 0
    refused = antctl.run("remove")
    assert refused.returncode == 1
    assert (
        'Unable to remove a running service ["antnode1"], stop this service first before removing'
        in refused.stderr
    )
    pid = antctl.nodes()[0]["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not alive(pid))
    mismatch = antctl.run("remove")
    assert mismatch.returncode == 1 and antctl.nodes()[0]["status"] == "Stopped"
    assert antctl.run("remove").returncode == 0
    assert antctl.nodes()[0]["status"] == "Removed"


def test_status_notices_a_dead_node_and_its_failure(antctl: Antctl) -> None:
    antctl.add()
    antctl.run("start")
    pid = antctl.nodes()[0]["pid"]
    os.kill(pid, signal.SIGINT)
    wait_for(lambda: not alive(pid))
    row = antctl.run("status").stdout.splitlines()[1]
    assert "STOPPED" in row and row.endswith("Ctrl-C received!")
    assert "Failure reason: Ctrl-C received!" in antctl.run("status", "--details").stdout
    failing = antctl.run("status", "--fail")
    assert failing.returncode == 1 and 'The service(s) is not running: ["antnode1"]' in failing.stderr


def test_start_fails_when_the_node_exits(antctl: Antctl) -> None:
    antctl.add()
    result = antctl.run("start", WNM_EMU_BOOTSTRAP="no-peers", WNM_EMU_BOOTSTRAP_FAIL_DELAY="0.2")
    assert result.returncode == 1
    assert "Failed to start one or more services" in result.stderr
    assert antctl.nodes()[0]["status"] == "Added"


def test_upgrade(antctl: Antctl) -> None:
    antctl.add()
    antctl.run("start")
    old_pid = antctl.nodes()[0]["pid"]
    same = antctl.run("upgrade", "--version", "0.4.17")
    assert same.returncode == 0 and "✓ All nodes are at the latest version" in same.stdout
    offline = antctl.run("upgrade")
    assert offline.returncode == 1 and "no network" in offline.stderr
    newer = build.make_antnode(antctl.tmp / "release" / "antnode", "0.4.18", knobs=NODE_KNOBS)
    result = antctl.run("upgrade", "--path", newer, "--env", "ANT_LOG=all")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Upgrade summary:\n✓ Forced antnode1 version change from 0.4.17 to 0.4.18.\n" in result.stdout
    (node,) = antctl.nodes()
    assert node["version"] == "0.4.18" and node["status"] == "Running" and node["pid"] != old_pid
    unit = (antctl.prefix / "etc/systemd/system/antnode1.service").read_text()
    assert f"--stop-on-upgrade --rewards-address {REWARDS} evm-arbitrum-one" in unit
    assert 'Environment="ANT_LOG=all"' in unit
    # the emulated crates.io: a download binary makes "latest" known
    newest = build.make_antnode(antctl.tmp / "release2" / "antnode", "0.4.19", knobs=NODE_KNOBS)
    zen = antctl.run("upgrade", "--do-not-start", WNM_EMU_DOWNLOAD_BINARY=str(newest))
    assert "✓ antnode1 upgraded from 0.4.18 to 0.4.19" in zen.stdout
    assert antctl.nodes()[0]["status"] == "Stopped"


def test_node_self_upgrade_is_seen_by_status(antctl: Antctl) -> None:
    newer = build.make_antnode(antctl.tmp / "release" / "antnode", "0.4.18", knobs=NODE_KNOBS)
    antctl.add()
    antctl.run("start", WNM_EMU_UPGRADE_AFTER="0.5", WNM_EMU_UPGRADE_FROM=str(newer))
    pid = antctl.nodes()[0]["pid"]
    wait_for(lambda: not alive(pid), 5)
    (node,) = json.loads(antctl.run("status", "--json").stdout)["nodes"]
    assert node["status"] == "Stopped" and node["version"] == "0.4.18"  # exit 0, no restart policy here


def test_reset_prompt_and_debug_noise(antctl: Antctl) -> None:
    antctl.add()
    aborted = antctl.run("reset", stdin="n\n")
    assert "Do you wish to proceed? [y/n]" in aborted.stdout and "Reset aborted" in aborted.stdout
    assert antctl.registry_path.exists()
    noisy = antctl.run("--debug", "status", "--json")
    assert noisy.stderr and "DEBUG" in noisy.stderr
    assert json.loads(noisy.stdout)["nodes"][0]["service_name"] == "antnode1"
    assert antctl.run("reset", stdin="y\n").returncode == 0
    assert not antctl.registry_path.exists()


def test_user_mode_paths(tmp_path: Path, procs: Procs) -> None:
    ctl = Antctl(tmp_path, procs, mode="user")
    ctl.add("--log-dir-path", tmp_path / "custom-logs")
    base = ctl.prefix / str(tmp_path / "home").lstrip("/") / ".local/share/autonomi/node"
    (node,) = json.loads((base / "node_registry.json").read_text())["nodes"]
    assert node["user_mode"] is True and node["user"] is None
    assert node["data_dir_path"] == str(base / "antnode1")
    assert node["log_dir_path"] == str(tmp_path / "custom-logs" / "antnode1")
    assert node["initial_peers_config"]["bootstrap_cache_dir"] is None
    assert (
        ctl.prefix / str(tmp_path / "home").lstrip("/") / ".config/systemd/user/antnode1.service"
    ).exists()


def test_antnode_python_runs_binaries_without_usable_shebang(tmp_path: Path, procs: Procs) -> None:
    ctl = Antctl(tmp_path, procs)
    ctl.binary = build.make_antctl(
        tmp_path / "bin" / "antctl", knobs={"mode": "system"}, antnode_python=sys.executable
    )
    ctl.antnode = build.make_antnode(
        tmp_path / "bin" / "antnode", python="/nonexistent/python3", knobs=NODE_KNOBS
    )
    assert ctl.add().returncode == 0
    assert ctl.run("start").returncode == 0
    node = ctl.nodes()[0]
    assert node["status"] == "Running" and node["version"] == "0.4.17"


def test_eip55_checksum_and_keccak() -> None:
    assert (
        antctl_emu.keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )
    assert antctl_emu.checksum_address("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed") == (
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    )
    assert antctl_emu.checksum_address(REWARDS.lower()) == REWARDS
    seed = os.urandom(32)
    assert antctl_emu.peer_id_of(seed) == antnode_emu.peer_id_of(seed)
    assert re.fullmatch(r"12D3KooW\w{44}", antctl_emu.peer_id_of(seed))

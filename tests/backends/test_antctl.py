"""AntctlManager (antctl+user|sudo|zen) against the antctl emulator, which runs real node processes.

The parsing tests use output as antctl prints it (reference/antctl.md §1, §3.6, §6.3).
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # helper modules next to this file

from antctl_env import NEW_VERSION, OLD_VERSION, AntctlEnv, antctl_env
from tests.e2e.helpers import UNLIMITED, Colony, kill_leftovers, metrics_answer, processes_of, statuses
from tests.emulators.build import make_antctl
from tests.emulators.fixtures import alive, cmdline, http_get, wait_for

from wnm.backends.process.antctl import AntctlManager, add_arguments
from wnm.backends.process.antctl_parse import (
    AddedService,
    AntctlOutputError,
    error_text,
    parse_added,
    parse_status_json,
)
from wnm.backends.process.base import ProcessState
from wnm.domain.enums import Generation
from wnm.errors import CommandTimeout, PermanentFailure, TemporaryFailure
from wnm.observe.openmetrics import parse_metadata
from wnm.system.commands import CommandResult, run

__all__ = ["antctl_env"]

ADD_STDOUT = """\
╔══════════════════════════╗
║   Add Antnode Services   ║
╚══════════════════════════╝
1 service(s) to be added
Services Added:
 ✓ antnode1
    - Antnode path: /home/u/.local/share/autonomi/node/antnode1/antnode
    - Data path: /home/u/.local/share/autonomi/node/antnode1
    - Log path: /home/u/.local/share/autonomi/node/antnode1/logs
    - RPC port: 127.0.0.1:41785
[!] Note: newly added services have not been started
"""

STATUS_JSON = """\
{
  "nodes": [
    {
      "alpha": false,
      "schema_version": 2,
      "antnode_path": "/var/antctl/services/antnode1/antnode",
      "connected_peers": null,
      "data_dir_path": "/var/antctl/services/antnode1",
      "log_dir_path": "/var/log/antnode/antnode1",
      "metrics_port": 13001,
      "node_port": 56215,
      "peer_id": null,
      "pid": null,
      "rewards_address": "0x03b770d9cd32077cc0bf330c13c114a87643b124",
      "rpc_socket_addr": "127.0.0.1:30001",
      "service_name": "antnode1",
      "status": "Removed",
      "version": "0.4.17"
    },
    {
      "antnode_path": "/var/antctl/services/antnode2/antnode",
      "data_dir_path": "/var/antctl/services/antnode2",
      "log_dir_path": "/var/log/antnode/antnode2",
      "metrics_port": null,
      "node_port": 56216,
      "peer_id": "12D3KooWMDqtXsSEbuWZ5wdrr3Ai6rUWJta6yBgutJaJXusSujuu",
      "pid": 4242,
      "rpc_socket_addr": "127.0.0.1:30002",
      "service_name": "antnode2",
      "status": "Running",
      "version": "0.4.17"
    }
  ],
  "daemon": null
}
"""

ERROR_REPORT = """\
Error:
   0: Failed to start one or more services

Location:
   ant-node-manager/src/bin/cli/main.rs:952
"""


class Recorder:
    """The real command runner, remembering every argv it ran."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(
        self,
        argv: Sequence[str],
        *,
        timeout: float = 30.0,
        check: bool = True,
        env: Mapping[str, str] | None = None,
        input: str | None = None,
    ) -> CommandResult:
        self.calls.append(list(argv))
        return run(argv, timeout=timeout, check=check, env=env, input=input)

    def subcommand(self, name: str) -> list[list[str]]:
        return [argv for argv in self.calls if name in argv[1:3]]


# --------------------------------------------------------------------------- parsing (pure)


def test_parse_added_reads_service_and_paths() -> None:
    base = "/home/u/.local/share/autonomi/node/antnode1"
    assert parse_added(ADD_STDOUT) == [
        AddedService("antnode1", binary=f"{base}/antnode", data_dir=base, log_dir=f"{base}/logs")
    ]
    downloaded = ADD_STDOUT.replace(
        "Services Added:",
        "Retrieving latest version for antnode...\nDownloading antnode version 0.4.17...\n"
        "Download completed: /home/u/.local/share/autonomi/node/downloads/antnode\nServices Added:",
    )
    assert parse_added(downloaded)[0].version == "0.4.17"


def test_parse_added_without_service_raises() -> None:
    with pytest.raises(AntctlOutputError, match="no added service"):
        parse_added("1 service(s) to be added\n")


def test_parse_status_json_empty_output_means_no_nodes() -> None:
    assert parse_status_json("") == []
    assert parse_status_json("\n") == []


def test_parse_status_json_reads_entries_after_noise() -> None:
    noisy = "[2026-02-19T10:00:00.000000Z DEBUG ant_node_manager] Executing cmd: status\n" + STATUS_JSON
    removed, running = parse_status_json(noisy)
    assert (removed.service, removed.status, removed.pid, removed.rpc_port) == (
        "antnode1",
        "Removed",
        None,
        30001,
    )
    assert (running.service, running.status, running.pid) == ("antnode2", "Running", 4242)
    assert (running.node_port, running.metrics_port, running.rpc_port) == (56216, None, 30002)
    assert running.data_dir == "/var/antctl/services/antnode2"
    assert running.binary == "/var/antctl/services/antnode2/antnode"
    assert running.peer_id.startswith("12D3KooW")


@pytest.mark.parametrize(
    "text",
    [
        '{"nodes": [',
        '{"daemon": null}',
        "Error: \n   0: boom\n",
        '{"nodes": [{"status": "Running"}]}',
        "[1, 2]",
    ],
)
def test_parse_status_json_rejects_what_antctl_does_not_print(text: str) -> None:
    with pytest.raises(AntctlOutputError):
        parse_status_json(text)


def test_error_text_takes_antctl_explanations() -> None:
    assert error_text(ERROR_REPORT) == "Failed to start one or more services"
    summary = "Upgrade summary:\n✕ antnode1 was not upgraded: disk full\n" + ERROR_REPORT.replace(
        "Failed to start one or more services", "There was a problem upgrading one or more nodes"
    )
    assert error_text(summary) == (
        "antnode1 was not upgraded: disk full; There was a problem upgrading one or more nodes"
    )
    clap = "error: unexpected argument '--version' found\n\nUsage: antctl add evm-arbitrum-one [OPTIONS]\n"
    assert error_text(clap) == "unexpected argument '--version' found"
    assert error_text("[x DEBUG y] noise\nsomething odd happened\n") == "something odd happened"
    assert error_text("") == "(no output)"


def test_add_arguments_put_every_flag_before_the_evm_subcommand(antctl_env: AntctlEnv) -> None:
    node = antctl_env.node(3, environment="ANT_LOG=all")
    settings = antctl_env.settings(no_upnp=True, antctl_version="0.4.17", environment="RUST_LOG=info")
    args = add_arguments(node, settings, zen=False)
    assert args == [
        "add", "--count", "1",
        "--node-port", str(node.port), "--metrics-port", str(node.metrics_port),
        "--rpc-port", str(node.rpc_port), "--rewards-address", settings.rewards_address,
        "--no-upnp",
        "--data-dir-path", str(antctl_env.storage), "--log-dir-path", str(antctl_env.logs),
        "--path", str(antctl_env.antnode),
        "--env", "RUST_LOG=info,ANT_LOG=all",
        "evm-arbitrum-one",
    ]  # fmt: skip
    zen = add_arguments(node, settings, zen=True)
    assert zen[-1] == "evm-arbitrum-one" and zen[zen.index("--version") + 1] == "0.4.17"
    assert not {"--path", "--data-dir-path", "--log-dir-path"} & set(zen)
    # a log dir inside the root dir is antctl's default layout: no --log-dir-path
    inside = antctl_env.node(4, log_dir=f"{antctl_env.storage}/antnode0004/logs")
    assert "--log-dir-path" not in add_arguments(inside, settings, zen=False)


def test_add_arguments_refuse_what_antctl_cannot_express(antctl_env: AntctlEnv) -> None:
    settings = antctl_env.settings()
    with pytest.raises(PermanentFailure, match="legacy antnode only"):
        add_arguments(antctl_env.node(1, generation=Generation.V2), settings, zen=False)
    with pytest.raises(PermanentFailure, match="no rewards address"):
        add_arguments(antctl_env.node(1), antctl_env.settings(rewards_address=""), zen=False)
    with pytest.raises(PermanentFailure, match="comma"):
        add_arguments(antctl_env.node(1, environment="RUST_LOG=a=debug,b=info"), settings, zen=False)
    with pytest.raises(PermanentFailure, match="KEY=VALUE"):
        add_arguments(antctl_env.node(1, environment="nonsense"), settings, zen=False)


# --------------------------------------------------------------------------- availability


def test_availability(antctl_env: AntctlEnv, tmp_path: Path) -> None:
    assert AntctlManager.availability(antctl_env.context()).ok
    assert AntctlManager.availability(antctl_env.context("antctl+zen")).ok
    missing = AntctlManager.availability(antctl_env.context(antctl_path=str(tmp_path / "nope")))
    assert not missing.ok and "antctl not found at" in missing.reason
    assert "not set" in AntctlManager.availability(antctl_env.context(antctl_path="")).reason
    plain = tmp_path / "plain"
    plain.write_text("#!/bin/sh\n")
    assert "not executable" in AntctlManager.availability(antctl_env.context(antctl_path=str(plain))).reason
    wrong = AntctlManager.availability(antctl_env.context(antctl_path=str(antctl_env.antnode)))
    assert not wrong.ok and "is not antctl" in wrong.reason and "Autonomi Node v0.4.10" in wrong.reason
    assert "unknown antctl mode" in AntctlManager.availability(antctl_env.context("antctl+root")).reason


# --------------------------------------------------------------------------- lifecycle


def test_create_keeps_wnm_ids_and_takes_antctl_names_and_paths(antctl_env: AntctlEnv) -> None:
    recorder = Recorder()
    manager = antctl_env.manager(runner=recorder)
    assert manager.uses_own_paths()
    first = manager.create(antctl_env.node(7))
    second = manager.create(antctl_env.node(8))
    assert (first.id, first.service, first.service_name) == (7, "antnode1", "antnode1")
    assert (second.id, second.service) == (8, "antnode2")
    data = antctl_env.storage / "antnode1"
    assert (first.root_dir, first.binary) == (str(data), str(data / "antnode"))
    assert first.log_dir == str(antctl_env.logs / "antnode1")
    assert Path(first.binary).read_bytes() == antctl_env.antnode.read_bytes()  # antctl copied it
    entry = antctl_env.entry("antnode1")
    assert entry["status"] == "Added" and entry["node_port"] == first.port
    assert entry["metrics_port"] == first.metrics_port
    assert entry["rpc_socket_addr"] == f"127.0.0.1:{first.rpc_port}"
    (add_argv, _) = recorder.subcommand("add")
    assert add_argv[-1] == "evm-arbitrum-one" and add_argv[1] == "add"
    statuses = manager.status_all([first, second])  # keyed by wnm's ids, one antctl call
    assert set(statuses) == {7, 8}
    assert statuses[7].state is ProcessState.STOPPED  # Added, never started

    manager.start(first)
    pid = antctl_env.entry("antnode1")["pid"]
    argv = cmdline(pid)
    node_args = argv[argv.index(first.binary) + 1 :]
    assert node_args[-1] == "evm-arbitrum-one"
    assert "--stop-on-upgrade" in node_args
    assert node_args[node_args.index("--root-dir") + 1] == first.root_dir
    assert node_args[node_args.index("--port") + 1] == str(first.port)
    assert node_args[node_args.index("--metrics-server-port") + 1] == str(first.metrics_port)


def test_start_stop_and_status(antctl_env: AntctlEnv) -> None:
    manager = antctl_env.manager()
    node = manager.create(antctl_env.node(1))
    manager.start(node)
    status = manager.status_all([node])[1]
    pid = status.pid
    assert status.state is ProcessState.RUNNING and pid is not None and alive(pid)
    assert wait_for(lambda: _answers(node.metrics_port), timeout=5)
    assert node.root_dir in cmdline(pid)

    manager.stop(node, timeout=5)
    wait_for(lambda: not alive(pid))
    stopped = manager.status_all([node])[1]
    assert (stopped.state, stopped.pid) == (ProcessState.STOPPED, None)
    manager.stop(node, timeout=5)  # stopping a stopped node is fine
    unknown = antctl_env.node(2, service="antnode99")
    manager.stop(unknown, timeout=5)  # so is one antctl does not know
    assert manager.status_all([unknown])[2].state is ProcessState.MISSING
    manager.restart(node)
    assert manager.status_all([node])[1].state is ProcessState.RUNNING


def test_remove_stops_and_deletes_everything(antctl_env: AntctlEnv) -> None:
    manager = antctl_env.manager()
    node = manager.create(antctl_env.node(5))
    manager.start(node)
    pid = manager.status_all([node])[5].pid
    assert pid is not None
    manager.remove(node)  # running: stop first, antctl refuses otherwise
    assert not alive(pid)
    assert manager.status_all([node])[5].state is ProcessState.MISSING
    assert not Path(node.root_dir).exists() and not Path(node.log_dir).exists()
    assert antctl_env.entry(node.service)["status"] == "Removed"
    manager.remove(node)  # again: nothing left to do
    manager.remove(antctl_env.node(6))  # never added (no service name, unknown port)
    assert antctl_env.processes() == []


def test_upgrade_in_place_swaps_the_binary(antctl_env: AntctlEnv) -> None:
    recorder = Recorder()
    manager = antctl_env.manager(runner=recorder)
    node = manager.create(antctl_env.node(2))
    manager.start(node)
    assert wait_for(lambda: _version(node.metrics_port), timeout=5) == OLD_VERSION
    assert manager.upgrade_in_place(node, str(antctl_env.antnode_new)) is True
    (argv,) = recorder.subcommand("upgrade")
    assert argv[argv.index("--path") + 1] == str(antctl_env.antnode_new) and "--force" in argv
    assert Path(node.binary).read_bytes() == antctl_env.antnode_new.read_bytes()
    assert manager.status_all([node])[2].state is ProcessState.RUNNING
    assert wait_for(lambda: _version(node.metrics_port) == NEW_VERSION, timeout=5)
    assert antctl_env.entry(node.service)["version"] == NEW_VERSION


def test_antctl_errors_carry_antctl_messages(antctl_env: AntctlEnv) -> None:
    manager = antctl_env.manager()
    node = manager.create(antctl_env.node(1))
    clash = antctl_env.node(2, port=node.port)
    with pytest.raises(PermanentFailure, match=f"Port {node.port} is being used by another service") as exc:
        manager.create(clash)
    assert exc.value.node_id == 2
    with pytest.raises(PermanentFailure, match="No service named 'antnode42'"):
        manager.start(antctl_env.node(3, service="antnode42"))
    with pytest.raises(PermanentFailure, match="never added"):
        manager.start(antctl_env.node(4))
    # a node that dies at once: antctl reports the failed start, wnm may retry later
    Path(node.binary).write_text("#!/bin/sh\nexit 3\n")
    with pytest.raises(TemporaryFailure, match="exited with code 3") as failed:
        manager.start(node)
    assert "Failed to start one or more services" in str(failed.value)
    assert manager.status_all([node])[1].state is ProcessState.STOPPED


def test_hung_antctl_times_out(antctl_env: AntctlEnv, tmp_path: Path) -> None:
    hung = tmp_path / "hung-antctl"
    hung.write_text(
        "#!/bin/sh\n"
        '[ "$1" = --version ] && { echo "Autonomi Node Manager v0.14.2"; exit 0; }\n'
        "exec sleep 30\n"
    )
    hung.chmod(hung.stat().st_mode | stat.S_IXUSR)
    context = antctl_env.context(antctl_path=str(hung))
    assert AntctlManager.availability(context).ok
    manager = AntctlManager(context)
    manager.status_timeout = manager.action_timeout = 0.3
    began = time.monotonic()
    with pytest.raises(CommandTimeout):
        manager.status_all([antctl_env.node(1, service="antnode1")])
    with pytest.raises(CommandTimeout):
        manager.start(antctl_env.node(1, service="antnode1"))
    assert time.monotonic() - began < 5


def test_debug_noise_does_not_disturb_parsing(antctl_env: AntctlEnv) -> None:
    recorder = Recorder()
    manager = antctl_env.manager(runner=recorder, antctl_debug=True)
    node = manager.create(antctl_env.node(1))
    manager.start(node)
    assert manager.status_all([node])[1].state is ProcessState.RUNNING
    assert all(argv[1] == "--debug" for argv in recorder.calls)
    manager.remove(node)


def test_sudo_mode_runs_the_same_lifecycle(antctl_env: AntctlEnv) -> None:
    if os.geteuid() != 0:
        pytest.skip("antctl+sudo needs passwordless sudo or root; this test runs as root only")
    manager = antctl_env.manager("antctl+sudo")
    node = manager.create(antctl_env.node(1, mode="antctl+sudo"))
    manager.start(node)
    assert manager.status_all([node])[1].state is ProcessState.RUNNING
    manager.remove(node)
    assert manager.status_all([node])[1].state is ProcessState.MISSING


def test_zen_lets_antctl_choose_paths_and_binary(
    antctl_env: AntctlEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder()
    manager = antctl_env.manager("antctl+zen", runner=recorder, no_upnp=True)
    node = antctl_env.node(1, mode="antctl+zen")
    with pytest.raises(TemporaryFailure, match="Failed to download antnode"):
        manager.create(node)  # the emulator has no network, like a host without internet
    (argv,) = recorder.subcommand("add")
    assert not {"--path", "--data-dir-path", "--log-dir-path"} & set(argv)
    assert argv[-2:] == ["--no-upnp", "evm-arbitrum-one"]

    monkeypatch.setenv("WNM_EMU_DOWNLOAD_BINARY", str(antctl_env.antnode))
    added = manager.create(node)
    data = antctl_env.prefix / "var/antctl/services/antnode1"
    assert (added.service, added.root_dir, added.binary) == ("antnode1", str(data), str(data / "antnode"))
    assert added.log_dir == str(antctl_env.prefix / "var/log/antnode/antnode1")
    assert added.version == OLD_VERSION and added.storage_path == str(data.parent)
    manager.start(added)
    assert manager.status_all([added])[1].state is ProcessState.RUNNING
    manager.upgrade_in_place(added, str(antctl_env.antnode_new))
    (upgrade,) = recorder.subcommand("upgrade")
    assert "--path" not in upgrade and "--force" not in upgrade
    manager.remove(added)
    assert not data.exists()


def _answers(port: int) -> bool:
    try:
        return http_get(port, "/metrics", timeout=1)[0] == 200
    except OSError:
        return False


def _version(port: int) -> str:
    try:
        status, _, body = http_get(port, "/metadata", timeout=1)
    except OSError:
        return ""
    return parse_metadata(body).version if status == 200 else ""


# --------------------------------------------------------------------------- whole wnm runs


@dataclass
class AntctlColony(Colony):
    """A Colony whose wnm runs see the emulator's ANTCTL_EMU_PREFIX (Colony.env drops it)."""

    prefix: Path = Path("/nonexistent")

    def env(self) -> dict[str, str]:
        return {**super().env(), "ANTCTL_EMU_PREFIX": str(self.prefix)}


@pytest.mark.slow
def test_wnm_grows_to_node_cap_and_tears_down_through_antctl(tmp_path: Path, isolated_env: Path) -> None:
    prefix = tmp_path / "prefix"
    antctl = make_antctl(tmp_path / "antctl-bin" / "antctl", knobs={"mode": "system", "stop_wait": 5.0})
    colony = AntctlColony(
        tmp_path,
        isolated_env,
        mode="antctl+user",
        extra_init=("--antctl_path", str(antctl)),
        prefix=prefix,
    )
    try:
        colony.init(
            "--node_cap", "2",
            "--max_concurrent_starts", "2",
            "--max_concurrent_operations", "2",
            "--max_concurrent_removals", "2",
            "--delay_start", "20",
            "--delay_remove", "0",
            *UNLIMITED,
        )  # fmt: skip
        nodes = colony.run_until(lambda ns: statuses(ns) == ["RUNNING", "RUNNING"])
        assert sorted(n["service"] for n in nodes) == ["antnode1", "antnode2"]
        for node in nodes:
            assert node["root_dir"] == str(colony.storage / node["service"])
            assert len(processes_of(node["root_dir"])) == 1, node
            assert metrics_answer(node["metrics_port"]), node
        registry = json.loads((prefix / "var/antctl/node_registry.json").read_text())["nodes"]
        assert sorted(e["status"] for e in registry) == ["Running", "Running"]

        done = colony.wnm("--force_action", "teardown", "--confirm")
        assert done.returncode == 0, done.stdout + done.stderr
        assert colony.nodes() == []
        registry = json.loads((prefix / "var/antctl/node_registry.json").read_text())["nodes"]
        assert [e["status"] for e in registry] == ["Removed", "Removed"]
        for node in nodes:
            assert not processes_of(node["root_dir"])
            assert not Path(node["root_dir"]).exists() and not Path(node["log_dir"]).exists()
    finally:
        kill_leftovers(tmp_path)

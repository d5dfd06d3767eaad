"""The v2 ant-node emulator behaves like reference/ant-node-v2.md says the real binary does."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import socket
import subprocess
from pathlib import Path

import psutil
import pytest

try:
    from tests.emulators import build
    from tests.emulators.fixtures import REWARDS, Procs, free_port, procs, wait_for
except ImportError:
    from emulators import build  # type: ignore[no-redef]
    from emulators.fixtures import REWARDS, Procs, free_port, procs, wait_for  # type: ignore[no-redef]

__all__ = ["procs"]

FAST = {"startup_delay": 0.05}


def make(tmp_path: Path, version: str = "0.14.2", **knobs: object) -> Path:
    return build.make_ant_node(tmp_path / "bin" / "ant-node", version, knobs={**FAST, **knobs})


def argv(binary: Path, root: Path, *extra: str | Path) -> list[str | Path]:
    return [
        binary,
        "--root-dir",
        root,
        "--port",
        str(free_port()),
        "--metrics-port",
        str(free_port()),
        "--rewards-address",
        REWARDS,
        "--evm-network",
        "arbitrum-one",
        *extra,
    ]


def todays_log(log_dir: Path) -> Path:
    return log_dir / f"ant-node.{dt.datetime.now(dt.UTC):%Y-%m-%d}.log"


def log_has(log_dir: Path, text: str, timeout: float = 5.0) -> None:
    wait_for(lambda: todays_log(log_dir).exists() and text in todays_log(log_dir).read_text(), timeout)


def run(binary: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), *args],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_version_is_one_clap_line(tmp_path: Path) -> None:
    binary = make(tmp_path, "0.14.2")
    for flag in ("--version", "-V"):
        result = run(binary, flag)
        assert (result.returncode, result.stdout) == (0, "ant-node 0.14.2\n")


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--bogus"], {}, "unexpected argument '--bogus' found"),
        (["--enable-metrics-server"], {}, "unexpected argument '--enable-metrics-server'"),  # legacy flag
        (["--port", "x"], {}, "invalid value 'x' for '--port <PORT>'"),
        ([], {"ANT_PORT": "x"}, "invalid value 'x' for '--port <PORT>'"),
        (["--evm-network", "mainnet"], {}, "invalid value 'mainnet'"),
        (["--evm-rpc-url", "http://localhost:8545"], {}, "--evm-payment-token <EVM_PAYMENT_TOKEN>"),
        (["evm-arbitrum-one"], {}, "unexpected argument 'evm-arbitrum-one'"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], env: dict[str, str], message: str) -> None:
    result = run(make(tmp_path), *args, env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and message in result.stderr


def test_identity_storage_and_silence_without_logging(tmp_path: Path, procs: Procs) -> None:
    binary = make(tmp_path, data_growth=200_000)
    root = tmp_path / "node"
    node = procs.spawn(argv(binary, root, "--log-dir", tmp_path / "logs"))  # --log-dir alone: still no logs
    data = root / "chunks.mdb" / "data.mdb"
    wait_for(data.exists)
    key = (root / "node_identity.key").read_bytes()
    assert len(key) > 1000
    size = data.stat().st_size
    wait_for(lambda: data.stat().st_size > size, 5)  # chunk store grows by the knob
    assert not (tmp_path / "logs").exists() or not list((tmp_path / "logs").iterdir())
    # no metrics HTTP server even though --metrics-port was given
    assert not [c for c in psutil.Process(node.pid).net_connections("tcp") if c.status == psutil.CONN_LISTEN]
    assert any(c.type == socket.SOCK_DGRAM for c in psutil.Process(node.pid).net_connections("udp"))
    node.send_signal(signal.SIGTERM)
    out, err = node.communicate(timeout=5)
    assert node.returncode == 0 and out == "" and err == ""
    # the identity is reused on the next start
    again = procs.spawn([binary, "--root-dir", root, "--enable-logging"])
    head = [again.stdout.readline() for _ in range(2)]  # type: ignore[union-attr]
    again.send_signal(signal.SIGINT)
    out = "".join(head) + again.communicate(timeout=5)[0]
    assert again.returncode == 0
    peer_id = re.search(r"Node identity: ([0-9a-f]+)", out).group(1)  # type: ignore[union-attr]
    assert len(peer_id) == 64
    assert (root / "node_identity.key").read_bytes() == key


def test_logging_to_daily_file_sighup_and_graceful_stop(tmp_path: Path, procs: Procs) -> None:
    logs = tmp_path / "logs"
    node = procs.spawn(
        argv(make(tmp_path, "0.14.2"), tmp_path / "node", "--enable-logging", "--log-dir", logs)
    )
    log_has(logs, "Node started")
    text = todays_log(logs).read_text()
    assert "ant-node v0.14.2" in text.splitlines()[0]
    assert re.match(r"^\d{4}-\d\d-\d\dT[\d:.]+Z  INFO ant_node: ", text)
    node.send_signal(signal.SIGHUP)
    log_has(logs, "config reload not yet supported")
    assert node.poll() is None
    node.send_signal(signal.SIGINT)
    assert node.wait(timeout=5) == 0
    assert "shutting down gracefully" in todays_log(logs).read_text()


def test_env_twins_enable_stdout_json_logging(tmp_path: Path, procs: Procs) -> None:
    env = {
        **os.environ,
        "ANT_ENABLE_LOGGING": "true",
        "ANT_LOG_FORMAT": "json",
        "ANT_ROOT_DIR": str(tmp_path / "n"),
    }
    node = procs.spawn([make(tmp_path)], env=env)
    wait_for(lambda: (tmp_path / "n" / "node_identity.key").exists())
    node.send_signal(signal.SIGTERM)
    out, _ = node.communicate(timeout=5)
    assert '"level": "INFO"' in out.splitlines()[0] and "ant-node v0.14.2" in out.splitlines()[0]


def test_default_root_identity_rules(tmp_path: Path, procs: Procs) -> None:
    binary = make(tmp_path)
    env = {**os.environ, "HOME": str(tmp_path / "home")}
    env.pop("XDG_DATA_HOME", None)
    nodes = tmp_path / "home" / ".local/share/ant/nodes"
    first = procs.spawn([binary, "--port", "0"], env=env)
    wait_for(lambda: list(nodes.glob("*/node_identity.key")))
    first.kill()
    (created,) = list(nodes.iterdir())
    assert re.fullmatch(r"[0-9a-f]{64}", created.name)
    second = procs.spawn([binary, "--port", "0"], env=env)
    wait_for(lambda: (created / "chunks.mdb").exists())
    assert len(list(nodes.iterdir())) == 1  # exactly one identity: reused
    second.kill()
    (nodes / ("0" * 64)).mkdir()
    (nodes / ("0" * 64) / "node_identity.key").write_bytes(os.urandom(64))
    result = procs.run([binary, "--port", "0"], env=env)
    assert result.returncode == 1
    assert "Multiple node identities found" in result.stderr and "--root-dir" in result.stderr


def test_busy_udp_port_fails(tmp_path: Path, procs: Procs) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("0.0.0.0", 0))
        result = procs.run(
            [make(tmp_path), "--root-dir", tmp_path / "n", "--port", str(taken.getsockname()[1])]
        )
    assert result.returncode == 1 and result.stderr.startswith("Error: ")


def test_disk_full_lines_stop_growth(tmp_path: Path, procs: Procs) -> None:
    logs, root = tmp_path / "logs", tmp_path / "node"
    binary = make(tmp_path, data_growth=100_000, disk_full_after=0.5, disk_full_interval=0.2)
    procs.spawn(argv(binary, root, "--enable-logging", "--log-dir", logs))
    log_has(logs, "Insufficient disk space: ")
    line = next(x for x in todays_log(logs).read_text().splitlines() if "Insufficient" in x)
    assert re.search(
        r"Insufficient disk space: [\d.]+ GiB available, [\d.]+ GiB reserve required\. "
        r"Free disk space or increase the partition to continue storing chunks\.",
        line,
    )
    size = (root / "chunks.mdb" / "data.mdb").stat().st_size
    wait_for(lambda: todays_log(logs).read_text().count("Insufficient disk space") >= 2)
    assert (root / "chunks.mdb" / "data.mdb").stat().st_size == size


@pytest.mark.parametrize("stop_on_upgrade", [True, False])
def test_self_upgrade(tmp_path: Path, procs: Procs, stop_on_upgrade: bool) -> None:
    new = build.make_ant_node(tmp_path / "release" / "ant-node", "0.14.3", knobs=FAST)
    binary = make(tmp_path, "0.14.2", upgrade_after=0.4, upgrade_from=str(new))
    logs = tmp_path / "logs"
    extra = ["--stop-on-upgrade"] if stop_on_upgrade else []
    with (tmp_path / "out.txt").open("w") as sink:
        node = procs.spawn(
            argv(binary, tmp_path / "node", "--enable-logging", "--log-dir", logs, *extra),
            stdout=sink,
            stderr=sink,
        )
    assert node.wait(timeout=10) == 0
    assert run(binary, "--version").stdout == "ant-node 0.14.3\n"
    if stop_on_upgrade:
        assert "Exiting after upgrade" in todays_log(logs).read_text()
        return
    # without --stop-on-upgrade the new binary was spawned: a new process, same identity
    log_has(logs, "Starting ant-node v0.14.3")
    successors = [p for p in psutil.process_iter(["cmdline"]) if str(binary) in (p.info["cmdline"] or [])[:2]]
    assert successors and all(p.pid != node.pid for p in successors)
    starts = re.findall(r"Node identity: (\w+)", todays_log(logs).read_text())
    assert len(starts) == 2 and starts[0] == starts[1]

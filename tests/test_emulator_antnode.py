"""The legacy antnode emulator behaves like reference/antnode.md says the real binary does."""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

try:
    from tests.emulators import antnode_emu, build
    from tests.emulators.fixtures import (
        REWARDS,
        Procs,
        check_openmetrics,
        free_port,
        http_get,
        port_open,
        procs,
        wait_for,
    )
except ImportError:
    from emulators import antnode_emu, build  # type: ignore[no-redef]
    from emulators.fixtures import (  # type: ignore[no-redef]
        REWARDS,
        Procs,
        check_openmetrics,
        free_port,
        http_get,
        port_open,
        procs,
        wait_for,
    )

__all__ = ["procs"]

FAST = {"startup_delay": 0.05, "sigint_delay": 0.05}
LOG_LINE = re.compile(r"^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z (INFO|WARN|ERROR|DEBUG) [\w:]+ \d+\] .+$")


def make(tmp_path: Path, version: str = "0.4.17", **knobs: object) -> Path:
    return build.make_antnode(tmp_path / "bin" / "antnode", version, knobs={**FAST, **knobs})


def node_argv(binary: Path, root: Path, port: int, metrics: int | None, *extra: str) -> list[str | Path]:
    argv: list[str | Path] = [binary, "--root-dir", root, "--port", str(port)]
    if metrics is not None:
        argv += ["--enable-metrics-server", "--metrics-server-port", str(metrics)]
    argv += ["--log-output-dest", root / "logs", "--max-log-files", "1", "--max-archived-log-files", "1"]
    return [*argv, *extra, "--rewards-address", REWARDS, "evm-arbitrum-one"]


def started(root: Path, timeout: float = 5.0) -> int:
    """Wait for antnode.pid and return the pid in it."""
    pid_file = root / "antnode.pid"
    wait_for(lambda: pid_file.exists() and pid_file.read_text().strip(), timeout)
    return int(pid_file.read_text())


def run(binary: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), *args],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
        env={**os.environ, **(env or {})},
    )


# --------------------------------------------------------------------------- CLI


def test_version_has_four_lines_and_needs_no_rewards_address(tmp_path: Path) -> None:
    binary = make(tmp_path, "0.4.17")
    result = run(binary, "--version")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Autonomi Node v0.4.17"
    assert lines[1] == "Network version: ant/1.0/1"
    assert lines[2] == "Package version: 2026.2.3.2"
    assert re.fullmatch(r"Git info: stable / [0-9a-f]{7} / \d{4}-\d\d-\d\d", lines[3])
    assert len(lines) == 4
    # the three manager parsers of §3
    assert lines[0].split("v", 1)[1].split()[0] == "0.4.17"
    assert re.search(r"Autonomi Node v([\d\.]+)", result.stdout).group(1) == "0.4.17"  # type: ignore[union-attr]
    assert lines[0].split()[2].lstrip("v") == "0.4.17"
    assert run(binary, "--version", "--alpha").stdout.splitlines()[1] == "Network version: ant/1.0/2"


def test_missing_rewards_address_panics_with_101(tmp_path: Path) -> None:
    binary = make(tmp_path)
    for args in ([], ["--port", "12000"], ["--crate-version"]):
        result = run(binary, *args)
        assert result.returncode == 101
        assert "panicked" in result.stderr
        assert "the following required arguments were not provided: --rewards-address" in result.stderr


def test_info_flags_print_one_line(tmp_path: Path) -> None:
    binary = make(tmp_path, "0.4.10")
    assert run(binary, "--rewards-address", REWARDS, "--crate-version").stdout == "Crate version: 0.4.10\n"
    assert (
        run(binary, "--rewards-address", REWARDS, "--protocol-version").stdout
        == "Network version: ant/1.0/1\n"
    )
    assert (
        run(binary, "--rewards-address", REWARDS, "--package-version").stdout
        == "Package version: 2025.12.1.1\n"
    )


def test_invalid_rewards_hex_is_error_exit_1(tmp_path: Path) -> None:
    result = run(make(tmp_path), "--rewards-address", "0x12zz", "evm-arbitrum-one")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bogus"], "unexpected argument '--bogus' found"),
        (["--rewards", REWARDS], "unexpected argument '--rewards' found"),  # no prefix abbreviation
        (["--port", "abc"], "invalid value 'abc' for '--port <PORT>'"),
        (["--port", "70000"], "invalid value '70000' for '--port <PORT>'"),
        (["--port"], "a value is required for '--port <PORT>'"),
        (["--port", "1", "--port", "2"], "cannot be used multiple times"),
        (["--log-format", "xml"], "invalid value 'xml'"),
        (["--first", "--peer", "/ip4/1.2.3.4/udp/1/quic-v1"], "'--first' cannot be used with"),
        (["--rewards-address", REWARDS, "evm-arbitrum-one", "--port", "1"], "unexpected argument '--port'"),
        (["--rewards-address", REWARDS, "evm-custom", "--rpc-url", "http://x"], "required arguments"),
        (["evm-arbitrum-sepolia"], "unrecognized subcommand 'evm-arbitrum-sepolia'"),
    ],
)
def test_usage_errors_exit_2_like_clap(tmp_path: Path, args: list[str], message: str) -> None:
    result = run(make(tmp_path), *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert "For more information, try '--help'." in result.stderr


def test_evm_network_must_be_known(tmp_path: Path) -> None:
    result = run(
        make(tmp_path), "--rewards-address", REWARDS, "--network-id", "3", "--root-dir", str(tmp_path / "r")
    )
    assert result.returncode == 1
    assert "EVM network not specified" in result.stderr


def test_help_exits_0(tmp_path: Path) -> None:
    assert run(make(tmp_path), "--help").returncode == 0


# --------------------------------------------------------------------------- a running node


def test_running_node_files_stdout_metrics_and_sigint(tmp_path: Path, procs: Procs) -> None:
    binary = make(tmp_path)
    root, port, metrics = tmp_path / "node", free_port(), free_port()
    rpc = free_port()
    node = procs.spawn(node_argv(binary, root, port, metrics, "--rpc", f"127.0.0.1:{rpc}"))
    pid = started(root)
    assert pid == node.pid

    key = root / "secret-key"
    assert len(key.read_bytes()) == 32
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    peer_id = antnode_emu.peer_id_of(key.read_bytes())
    assert re.fullmatch(r"12D3KooW[1-9A-HJ-NP-Za-km-z]{44}", peer_id)
    assert (root / "network_key_version").read_text() == "1"
    assert (root / "record_store").is_dir()
    log_lines = (root / "logs" / "antnode.log").read_text().splitlines()
    assert log_lines and all(LOG_LINE.match(line) for line in log_lines)

    # listeners: UDP on 0.0.0.0:<port>, metrics TCP on 127.0.0.1 only
    conns = psutil.Process(pid).net_connections(kind="inet")
    assert any(c.type == socket.SOCK_DGRAM and c.laddr == ("0.0.0.0", port) for c in conns)
    listening = {c.laddr for c in conns if c.status == psutil.CONN_LISTEN}
    assert ("127.0.0.1", metrics) in listening and ("127.0.0.1", rpc) in listening

    status, headers, body = http_get(metrics, "/metrics")
    assert status == 200
    assert headers["content-type"] == "application/openmetrics-text;charset=utf-8;version=1.0.0"
    text = body.decode()
    assert check_openmetrics(text) == []
    assert 500 <= text.count("\n") <= 600
    assert 45_000 <= len(body) <= 65_000
    assert "ant_node_uptime 0\n" in text  # all gauges 0 right after start
    assert "ant_networking_max_records 0\n" in text
    assert "libp2p_bandwidth_bytes_total{" in text and "# UNIT libp2p_bandwidth_bytes bytes\n" in text

    extended = http_get(metrics, "/metrics_extended")[2].decode()
    assert check_openmetrics(extended) == []
    assert extended.count("# EOF") == 1
    assert 'ant_networking_shunned_count_across_time_frames{time_frame="LastHour"} 0' in extended

    status, headers, meta = http_get(metrics, "/metadata")
    assert status == 200 and check_openmetrics(meta.decode()) == []
    assert f'ant_networking_peer_id_info{{peer_id="{peer_id}"}} 1' in meta.decode()
    assert 'ant_node_antnode_version_info{antnode_version="0.4.17"} 1' in meta.decode()
    assert 'min_node_version_info{min_node_version="0.4.15"} 1' in meta.decode()

    status, _, missing = http_get(metrics, "/nope")
    assert (status, missing) == (404, b"Not found try localhost:[port]/metrics")

    # HTTP/1.1 keep-alive: two requests on one connection; HTTP/1.0 closes after the answer
    conn = http.client.HTTPConnection("127.0.0.1", metrics, timeout=3)
    for _ in range(2):
        conn.request("GET", "/metadata")
        assert conn.getresponse().read() == meta
    conn.close()
    with socket.create_connection(("127.0.0.1", metrics), timeout=3) as raw:
        raw.sendall(b"GET /metadata HTTP/1.0\r\n\r\n")
        received = b""
        while chunk := raw.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 200") or received.startswith(b"HTTP/1.0 200")
    assert received.endswith(meta)

    node.send_signal(signal.SIGINT)
    out, err = node.communicate(timeout=5)
    assert node.returncode == 1
    lines = out.splitlines()
    assert lines[:3] == [
        "EVM network: ArbitrumOne",
        f'Logging to directory: "{root / "logs"}"',
        f"Metrics server on http://127.0.0.1:{metrics}/metrics",
    ]
    assert lines[3:9] == [
        "",
        "Node started",
        "",
        f"PeerId is {peer_id}",
        "You can check your reward balance by running:",
        f"`safe wallet balance --peer-id={peer_id}`",
    ]
    assert f"RPC Server listening on 127.0.0.1:{rpc}" in lines
    assert lines[-1].startswith("Node is stopping in 1s...")
    assert err.startswith("Error: ")
    assert "Ctrl-C received!" in (root / "logs" / "critical_failure.log").read_text()


def test_key_reused_and_critical_failure_cleared_on_restart(tmp_path: Path, procs: Procs) -> None:
    binary = make(tmp_path)
    root = tmp_path / "node"
    first = procs.spawn(node_argv(binary, root, free_port(), None))
    started(root)
    key = (root / "secret-key").read_bytes()
    first.send_signal(signal.SIGINT)
    first.communicate(timeout=5)
    assert (root / "logs" / "critical_failure.log").exists()
    (root / "antnode.pid").unlink()
    second = procs.spawn(node_argv(binary, root, free_port(), None))
    started(root)
    assert (root / "secret-key").read_bytes() == key
    assert not (root / "logs" / "critical_failure.log").exists()
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=5) == -signal.SIGTERM


def test_sigterm_is_immediate_death_without_output(tmp_path: Path, procs: Procs) -> None:
    root = tmp_path / "node"
    node = procs.spawn(node_argv(make(tmp_path), root, free_port(), None))
    started(root)
    node.send_signal(signal.SIGTERM)
    out, err = node.communicate(timeout=5)
    assert node.returncode == -signal.SIGTERM
    assert "stopping" not in out and err == ""
    assert not (root / "logs" / "critical_failure.log").exists()


def test_busy_udp_port_fails_with_exit_1(tmp_path: Path, procs: Procs) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("0.0.0.0", 0))
        port = taken.getsockname()[1]
        result = procs.run(node_argv(make(tmp_path), tmp_path / "node", port, None))
    assert result.returncode == 1
    assert result.stderr.startswith("Error: ") and "Address already in use" in result.stderr


def test_busy_metrics_port_keeps_node_running_without_metrics(tmp_path: Path, procs: Procs) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        metrics = taken.getsockname()[1]
        root = tmp_path / "node"
        node = procs.spawn(node_argv(make(tmp_path), root, free_port(), metrics))
        started(root)
        time.sleep(0.2)
        assert node.poll() is None
    node.kill()
    out, err = node.communicate(timeout=5)
    assert "panicked" in err and "Metrics server on" not in out


def test_metrics_enabled_rules(tmp_path: Path, procs: Procs) -> None:
    binary = make(tmp_path)
    plain_root, random_root = tmp_path / "plain", tmp_path / "random"
    plain = procs.spawn(node_argv(binary, plain_root, free_port(), None))
    flag_only = procs.spawn(
        [
            *node_argv(binary, random_root, free_port(), None)[:1],
            "--enable-metrics-server",
            *node_argv(binary, random_root, free_port(), None)[1:],
        ]
    )
    started(plain_root)
    started(random_root)
    assert not [c for c in psutil.Process(plain.pid).net_connections("tcp") if c.status == psutil.CONN_LISTEN]
    flag_only.send_signal(signal.SIGINT)
    out = flag_only.communicate(timeout=5)[0]
    assert re.search(r"^Metrics server on http://127\.0\.0\.1:\d+/metrics$", out, re.M)
    plain.kill()


def test_default_log_dest_and_root_fall_into_home(tmp_path: Path, procs: Procs) -> None:
    binary = make(tmp_path)
    home = tmp_path / "home"
    env = {**os.environ, "HOME": str(home)}
    root = tmp_path / "custom-root"
    node = procs.spawn(
        [
            binary,
            "--root-dir",
            root,
            "--port",
            str(free_port()),
            "--rewards-address",
            REWARDS,
            "evm-arbitrum-one",
        ],
        env=env,
    )
    started(root)
    peer_id = antnode_emu.peer_id_of((root / "secret-key").read_bytes())
    trap = home / ".local/share/autonomi/node" / peer_id / "logs" / "antnode.log"
    wait_for(trap.exists)
    assert not (root / "logs").exists()
    node.kill()
    # without --root-dir: a new key (and node dir under home) on every run
    nodes_dir = home / ".local/share/autonomi/node"
    for count in (1, 2):
        anon = procs.spawn([binary, "--port", "0", "--rewards-address", REWARDS, "evm-arbitrum-one"], env=env)
        wait_for(lambda: len(list(nodes_dir.glob("*/antnode.pid"))) == count)  # noqa: B023
        anon.kill()
    for pid_file in nodes_dir.glob("*/antnode.pid"):
        node_dir = pid_file.parent
        assert (node_dir / "secret-key").stat().st_size == 32
        assert antnode_emu.peer_id_of((node_dir / "secret-key").read_bytes()) == node_dir.name


def test_network_key_change_wipes_record_store(tmp_path: Path, procs: Procs) -> None:
    root = tmp_path / "node"
    (root / "record_store").mkdir(parents=True)
    (root / "record_store" / "aa").write_bytes(b"x")
    (root / "network_key_version").write_text("2")
    node = procs.spawn(node_argv(make(tmp_path), root, free_port(), None))
    started(root)
    assert (root / "network_key_version").read_text() == "1"
    assert list((root / "record_store").iterdir()) == []
    node.kill()


# --------------------------------------------------------------------------- knobs


def test_startup_delay_and_bootstrap_failure(tmp_path: Path, procs: Procs) -> None:
    binary = make(tmp_path, startup_delay=0.6)
    metrics = free_port()
    begin = time.monotonic()
    procs.spawn(node_argv(binary, tmp_path / "slow", free_port(), metrics))
    wait_for(lambda: port_open(metrics), 5)
    assert time.monotonic() - begin >= 0.6

    env = {**os.environ, "WNM_EMU_BOOTSTRAP": "no-peers", "WNM_EMU_BOOTSTRAP_FAIL_DELAY": "0.3"}
    failing = procs.run(node_argv(binary, tmp_path / "lonely", free_port(), free_port()), env=env)
    assert failing.returncode == 1
    assert "Error: Failed to obtain any bootstrap peers" in failing.stderr
    assert "Node started" not in failing.stdout
    genesis_root = tmp_path / "genesis"
    procs.spawn(
        [
            *node_argv(binary, genesis_root, free_port(), None)[:-3],
            "--first",
            "--rewards-address",
            REWARDS,
            "evm-arbitrum-one",
        ],
        env=env,
    )
    started(genesis_root)


def test_knob_precedence_baked_env_file(tmp_path: Path, procs: Procs) -> None:
    binary = make(tmp_path, crash_after=30)  # baked: far away
    root = tmp_path / "node"
    root.mkdir()
    (root / "emulator-knobs.json").write_text(json.dumps({"crash_exit_code": 7}))
    env = {**os.environ, "WNM_EMU_CRASH_AFTER": "0.4", "WNM_EMU_CRASH_EXIT_CODE": "3"}
    result = procs.run(node_argv(binary, root, free_port(), None), env=env)
    assert result.returncode == 7  # env beat baked (0.4 s), the root-dir file beat env (7)
    assert "Node terminated due to" in (root / "logs" / "critical_failure.log").read_text()


@pytest.mark.parametrize("mode", ["hang", "slow:0.4", "garbage", "404", "500", "truncated"])
def test_metrics_modes(tmp_path: Path, procs: Procs, mode: str) -> None:
    metrics = free_port()
    root = tmp_path / "node"
    procs.spawn(node_argv(make(tmp_path, metrics_mode=mode), root, free_port(), metrics))
    started(root)
    if mode == "hang":
        with pytest.raises(TimeoutError):
            http_get(metrics, timeout=0.5)
        assert port_open(metrics)  # accepted, never answered
        return
    if mode == "truncated":
        with pytest.raises(http.client.IncompleteRead):
            http_get(metrics)
        return
    begin = time.monotonic()
    status, _, body = http_get(metrics)
    if mode == "slow:0.4":
        assert time.monotonic() - begin >= 0.4 and status == 200 and check_openmetrics(body.decode()) == []
    elif mode == "garbage":
        assert status == 200 and check_openmetrics(body.decode(errors="replace")) != []
    elif mode == "404":
        assert (status, body) == (404, b"Not found try localhost:[port]/metrics")
    else:
        assert (status, body) == (500, b"Something went wrong with the Metrics server")


def test_metrics_evolve_with_emulated_time(tmp_path: Path, procs: Procs) -> None:
    metrics = free_port()
    root = tmp_path / "node"
    binary = make(tmp_path, time_scale=3000, quote_after=1500, records_per_hour=360, record_bytes=64)
    procs.spawn(node_argv(binary, root, free_port(), metrics))
    started(root)

    def value(body: str, name: str) -> float:
        return float(re.search(rf"^{name} (\S+)$", body, re.M).group(1))  # type: ignore[union-attr]

    bodies: list[str] = []
    while not bodies or value(bodies[-1], "ant_node_uptime") < 2000:
        bodies.append(http_get(metrics)[2].decode())
        time.sleep(0.1)
    uptimes = [value(b, "ant_node_uptime") for b in bodies]
    assert uptimes == sorted(uptimes) and all(u % 10 == 0 for u in uptimes)  # 10 s steps
    for body, uptime in zip(bodies, uptimes, strict=True):
        memory = value(body, "ant_networking_process_memory_used_mb")
        assert (memory == 0) == (uptime < 60)  # first reading after 60 s
        quoted = value(body, "ant_networking_max_records")
        assert quoted == (16384 if uptime >= 1500 else 0)  # quoting gauges 0 until the first quote
        assert re.search(r"^ant_node_uptime \d+$", body, re.M)  # integer gauge, for wnm's regex
    assert any(u < 1500 for u in uptimes)
    assert value(bodies[-1], "ant_networking_live_time") > 0
    records = value(bodies[-1], "ant_networking_records_stored")
    assert records > value(bodies[0], "ant_networking_records_stored")
    assert check_openmetrics(bodies[-1]) == []
    wait_for(lambda: len(list((root / "record_store").iterdir())) >= records)


def test_self_upgrade_with_stop_on_upgrade_exits_0(tmp_path: Path, procs: Procs) -> None:
    new = build.make_antnode(tmp_path / "release" / "antnode", "0.4.18", knobs=FAST)
    binary = make(tmp_path, "0.4.17", upgrade_after=0.5, upgrade_from=str(new))
    root = tmp_path / "node"
    result = procs.run(
        [
            *node_argv(binary, root, free_port(), None)[:-3],
            "--stop-on-upgrade",
            "--rewards-address",
            REWARDS,
            "evm-arbitrum-one",
        ]
    )
    assert result.returncode == 0
    assert (
        result.stdout.splitlines()[-1] == "Node stopped after upgrade. Service manager will handle restart."
    )
    assert run(binary, "--version").stdout.startswith("Autonomi Node v0.4.18\n")
    assert os.access(binary, os.X_OK)


def test_self_upgrade_without_stop_on_upgrade_respawns(tmp_path: Path, procs: Procs) -> None:
    new = build.make_antnode(tmp_path / "release" / "antnode", "0.4.18", knobs=FAST)
    binary = make(tmp_path, "0.4.17", upgrade_after=0.5, upgrade_from=str(new))
    root, metrics, port = tmp_path / "node", free_port(), free_port()
    stdout = tmp_path / "stdout.txt"
    with stdout.open("w") as sink:  # the re-spawned node inherits it: a pipe would never reach EOF
        first = procs.spawn(node_argv(binary, root, port, metrics), stdout=sink)
    old_pid = started(root)
    assert first.wait(timeout=10) == 0
    assert "A new node process has been started successfully." in stdout.read_text().splitlines()
    new_pid = wait_for(
        lambda: (root / "antnode.pid").read_text() != str(old_pid) and int((root / "antnode.pid").read_text())
    )
    assert new_pid != old_pid and psutil.pid_exists(int(new_pid))  # type: ignore[call-overload]
    wait_for(lambda: port_open(metrics))
    meta = http_get(metrics, "/metadata")[2].decode()
    assert 'antnode_version="0.4.18"' in meta
    assert antnode_emu.peer_id_of((root / "secret-key").read_bytes()) in meta
    conns = psutil.Process(int(new_pid)).net_connections("udp")  # type: ignore[call-overload]
    assert any(c.laddr[1] == port for c in conns)


# --------------------------------------------------------------------------- identity and builder


def test_ed25519_matches_rfc8032_and_cryptography() -> None:
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    expected = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    assert antnode_emu.ed25519_public_key(seed).hex() == expected
    seeds = [os.urandom(32) for _ in range(3)]
    ours = [antnode_emu.ed25519_public_key(s).hex() for s in seeds]
    script = (
        "import sys;from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey as K;"
        "from cryptography.hazmat.primitives.serialization import Encoding as E, PublicFormat as F;"
        "[print(K.from_private_bytes(bytes.fromhex(s)).public_key().public_bytes(E.Raw, F.Raw).hex())"
        " for s in sys.argv[1:]]"
    )
    interpreters = [sys.executable] if importlib.util.find_spec("cryptography") else []
    interpreters += [p for p in ("/usr/bin/python3",) if os.path.exists(p)]
    for python in interpreters:
        result = subprocess.run(
            [python, "-c", script, *(s.hex() for s in seeds)],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        if result.returncode == 0:
            assert result.stdout.split() == ours
            return
    pytest.skip("the cryptography package is not importable by any local interpreter")


def test_builder_output_is_standalone_and_copyable(tmp_path: Path) -> None:
    binary = build.make_antnode(tmp_path / "a" / "antnode", "0.4.7", knobs={"startup_delay": 0.1})
    assert binary.read_text().startswith(f"#!{sys.executable}\n")
    assert stat.S_IMODE(binary.stat().st_mode) == 0o755
    copy = tmp_path / "elsewhere" / "antnode"
    copy.parent.mkdir()
    shutil.copy2(binary, copy)
    assert run(copy, "--version").stdout.startswith(
        "Autonomi Node v0.4.7\nNetwork version: ant/1.0/1\nPackage version: 2025.11.1.1\n"
    )
    with pytest.raises(ValueError, match="unknown knob"):
        build.make_antnode(tmp_path / "b" / "antnode", knobs={"no_such_knob": 1})

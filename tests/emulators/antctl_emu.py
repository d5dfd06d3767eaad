#!/usr/bin/env python3
"""Emulator of ``antctl`` (maidsafe/autonomi ant-node-manager <= 0.14.2), for tests.

Standard library only, one file: ``build.make_antctl`` copies it as an executable with a shebang
and baked-in version/knobs. Emulated from ``reference/antctl.md``: global options, the ``add``,
``start``, ``stop``, ``remove``, ``reset``, ``status`` (plain, ``--details``, ``--json``,
``--fail``), ``upgrade`` and ``balance`` subcommands with their flags, texts and exit codes
(clap usage errors exit 2, other errors ``Error:`` + exit 1), the compact ``node_registry.json``
(schema_version 2 node objects), service numbering ``antnode{N}`` (Removed entries count),
port-range rules, generated systemd unit files (§3.5 argument order, ``Restart=on-success``).

Instead of systemd, ``start`` runs each node as a detached process (new session, stdio to
``<registry dir>/emulator-journal/<service>.log``) from the unit's ExecStart, and waits until the
node writes its pid to ``<data dir>/antnode.pid`` (a few seconds at most, not 300 s for peers).
``stop`` sends SIGTERM (as ``systemctl stop``). Status refresh checks the stored pid is alive
and its command line holds the node's binary path, else scans processes for that path, else
reads ``antnode.pid``. There is no restart policy: a node that exits stays down until ``start``.
No service user is created (``--user``/``ant`` is only recorded). Each command holds an flock on
``<registry>.lock`` (an emulator artifact) so concurrent calls serialise.

Paths: root -> system mode, otherwise user mode (``mode`` knob overrides); every path antctl
chooses itself is prefixed by the environment variable ``ANTCTL_EMU_PREFIX`` (e.g. the system
registry is ``$ANTCTL_EMU_PREFIX/var/antctl/node_registry.json``). Paths given on the command line
are used as given.

Knobs (baked default < environment ``WNM_EMU_<NAME>``):

  mode             auto | user | system (default auto: root -> system)
  antnode_python   interpreter used to run node binaries ("" = run them directly via shebang)
  start_wait       max seconds ``start`` waits for a node's pid file (default 15)
  stop_wait        seconds ``stop`` waits after SIGTERM before SIGKILL (default 10)
  download_binary  node binary the emulator "downloads" when no --path is given ("" = downloads
                   fail with exit 1, as there is no network)
  latest_version   version "crates.io" reports (default: the download_binary's own version)
  package_version  package version printed by --version (default 2026.2.3.2)
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime as _dt
import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any, NoReturn

BAKED: dict[str, Any] = {"version": "0.14.2", "knobs": {}}  # baked by build.py

KNOB_DEFAULTS: dict[str, Any] = {
    "mode": "auto",
    "antnode_python": "",
    "start_wait": 15.0,
    "stop_wait": 10.0,
    "download_binary": "",
    "latest_version": "",
    "package_version": "2026.2.3.2",
}
ENV_PREFIX = "WNM_EMU_"
EVM_COMMANDS = ("evm-arbitrum-one", "evm-arbitrum-sepolia-test", "evm-custom", "evm-local")
LOCAL_EVM = {
    "rpc_url_http": "http://localhost:4343/",
    "payment_token_address": "0x5fbdb2315678afecb367f032d93f642f64180aa3",
    "data_payments_address": "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512",
    "merkle_payments_address": None,
}


def load_knobs() -> dict[str, Any]:
    knobs: dict[str, Any] = dict(KNOB_DEFAULTS)
    knobs.update(BAKED.get("knobs") or {})
    for name, default in KNOB_DEFAULTS.items():
        raw = os.environ.get(ENV_PREFIX + name.upper())
        if raw is not None:
            knobs[name] = raw
        knobs[name] = float(knobs[name]) if isinstance(default, float) else str(knobs[name])
    return knobs


KNOBS = load_knobs()
Node = dict[str, Any]  # one node object of node_registry.json


class Failure(Exception):
    """An antctl error: printed as color_eyre does (``Error:`` + numbered cause), exit 1."""


class UsageError(Exception):
    """A clap usage error: printed on stderr, exit 2."""


# --------------------------------------------------------------------------- hashing helpers

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_P = 2**255 - 19
_D = -121665 * pow(121666, _P - 2, _P) % _P


def _recover_x(y: int) -> int:
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * pow(2, (_P - 1) // 4, _P) % _P
    return _P - x if x & 1 else x


def _add(p: tuple[int, ...], q: tuple[int, ...]) -> tuple[int, int, int, int]:
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = 2 * p[3] * q[3] * _D % _P
    d = 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def peer_id_of(seed: bytes) -> str:
    """libp2p peer id of an ed25519 seed (same derivation as the antnode emulator)."""
    gy = 4 * pow(5, _P - 2, _P) % _P
    gx = _recover_x(gy)
    scalar = int.from_bytes(hashlib.sha512(seed).digest()[:32], "little")
    scalar = (scalar & ((1 << 254) - 8)) | (1 << 254)
    acc: tuple[int, ...] = (0, 1, 1, 0)
    addend: tuple[int, ...] = (gx, gy, 1, gx * gy % _P)
    while scalar:
        if scalar & 1:
            acc = _add(acc, addend)
        addend = _add(addend, addend)
        scalar >>= 1
    z_inv = pow(acc[2], _P - 2, _P)
    x, y = acc[0] * z_inv % _P, acc[1] * z_inv % _P
    return peer_id_of_public_key((y | (x & 1) << 255).to_bytes(32, "little"))


def peer_id_of_public_key(public_key: bytes) -> str:
    raw = b"\x00\x24\x08\x01\x12\x20" + public_key
    number, out = int.from_bytes(raw, "big"), ""
    while number:
        number, rest = divmod(number, 58)
        out = _B58[rest] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


def _keccak_tables() -> tuple[list[int], list[int]]:
    rotations = [0] * 25
    x, y = 1, 0
    for t in range(24):
        rotations[x + 5 * y] = ((t + 1) * (t + 2) // 2) % 64
        x, y = y, (2 * x + 3 * y) % 5
    constants, state = [], 1
    for _ in range(24):
        value = 0
        for j in range(7):
            if state & 1:
                value |= 1 << ((1 << j) - 1)
            state = ((state << 1) ^ 0x71) & 0xFF if state & 0x80 else state << 1
        constants.append(value)
    return rotations, constants


_ROT, _RC = _keccak_tables()
_MASK = (1 << 64) - 1


def keccak256(data: bytes) -> bytes:
    """Original Keccak-256 (as Ethereum uses for EIP-55), not NIST SHA3-256."""
    message = bytearray(data) + b"\x01"
    message += bytes(-len(message) % 136)
    message[-1] |= 0x80
    lanes = [0] * 25
    for offset in range(0, len(message), 136):
        for i in range(17):
            lanes[i] ^= int.from_bytes(message[offset + 8 * i : offset + 8 * i + 8], "little")
        for constant in _RC:
            c = [lanes[x] ^ lanes[x + 5] ^ lanes[x + 10] ^ lanes[x + 15] ^ lanes[x + 20] for x in range(5)]
            d = [
                c[(x - 1) % 5] ^ (((c[(x + 1) % 5] << 1) | (c[(x + 1) % 5] >> 63)) & _MASK) for x in range(5)
            ]
            a = [lanes[i] ^ d[i % 5] for i in range(25)]
            b = [0] * 25
            for x in range(5):
                for y in range(5):
                    r, v = _ROT[x + 5 * y], a[x + 5 * y]
                    b[y + 5 * ((2 * x + 3 * y) % 5)] = ((v << r) | (v >> (64 - r))) & _MASK if r else v
            lanes = [b[i] ^ (~b[(i + 1) % 5 + i - i % 5] & b[(i + 2) % 5 + i - i % 5]) for i in range(25)]
            lanes[0] ^= constant
    return b"".join(lane.to_bytes(8, "little") for lane in lanes[:4])


def checksum_address(address: str) -> str:
    """EIP-55 mixed-case form of a 20-byte hex address."""
    lower = address.lower().removeprefix("0x")
    digest = keccak256(lower.encode()).hex()
    return "0x" + "".join(ch.upper() if int(digest[i], 16) >= 8 else ch for i, ch in enumerate(lower))


# --------------------------------------------------------------------------- output helpers


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


class Output:
    """Process-wide output switches set from the global flags."""

    debug = False
    quiet = False


def debug(message: str) -> None:
    if Output.debug:
        stamp = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        sys.stderr.write(f"[{stamp} DEBUG ant_node_manager] {message}\n")
        sys.stderr.flush()


def banner(text: str) -> None:
    if Output.quiet:
        return
    width = len(text) + 4
    say("╔" + "═" * (width + 2) + "╗")
    say(f"║ {text:^{width}} ║")
    say("╚" + "═" * (width + 2) + "╝")


def colour(status: str) -> str:
    text = status.upper()
    if not sys.stdout.isatty() or os.environ.get("NO_COLOR"):
        return text
    code = {"RUNNING": 32, "ADDED": 33}.get(text, 31)
    return f"\x1b[{code}m{text}\x1b[0m"


def version_tuple(text: str | None) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text or "")[:3])


# --------------------------------------------------------------------------- layout and registry


class Layout:
    """Where antctl keeps things in this mode, under ANTCTL_EMU_PREFIX."""

    def __init__(self) -> None:
        mode = str(KNOBS["mode"])
        self.system = os.geteuid() == 0 if mode == "auto" else mode == "system"
        prefix = os.environ.get("ANTCTL_EMU_PREFIX", "").rstrip("/")
        if self.system:
            self.registry = f"{prefix}/var/antctl/node_registry.json"
            self.data = f"{prefix}/var/antctl/services"
            self.logs = f"{prefix}/var/log/antnode"
            self.units = f"{prefix}/etc/systemd/system"
            self.downloads = f"{prefix}/var/antctl/downloads"
            self.bootstrap_cache: str | None = f"{prefix}/var/antctl/bootstrap_cache"
        else:
            home = prefix + os.path.expanduser("~")
            self.data = f"{home}/.local/share/autonomi/node"
            self.registry = f"{self.data}/node_registry.json"
            self.logs = ""
            self.units = f"{home}/.config/systemd/user"
            self.downloads = f"{self.data}/downloads"
            self.bootstrap_cache = None
        self.journal = os.path.join(os.path.dirname(self.registry), "emulator-journal")

    def default_log_dir(self, name: str) -> str:
        return f"{self.logs}/{name}" if self.system else f"{self.data}/{name}/logs"


class Registry:
    """node_registry.json, read and written compact, under an exclusive lock for the whole command."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.path = layout.registry
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self._lock = open(self.path + ".lock", "a")  # noqa: SIM115 - held for the process lifetime
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        self.data: dict[str, Any] = {
            "daemon": None,
            "environment_variables": None,
            "nat_status": None,
            "nodes": [],
            "save_path": self.path,
        }
        try:
            with open(self.path, encoding="utf-8") as handle:
                text = handle.read()
        except FileNotFoundError:
            text = ""
        if text.strip():
            self.data.update(json.loads(text))
        self.nodes: list[Node] = [upgrade_schema(n) for n in self.data["nodes"]]

    def save(self) -> None:
        self.data["nodes"] = self.nodes
        self.data["save_path"] = self.path
        temporary = f"{self.path}.tmp-{os.getpid()}"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(self.data, handle, separators=(",", ":"), ensure_ascii=False)
        os.replace(temporary, self.path)
        if self.layout.system:
            os.chmod(self.path, 0o777)

    def delete(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        self.nodes = []

    def select(self, names: list[str], peer_ids: list[str]) -> list[Node]:
        """Nodes named on the command line (all non-removed when none); raises Failure."""
        if names:
            chosen = []
            for name in names:
                match = [n for n in self.nodes if n["service_name"] == name]
                if not match:
                    raise Failure(f"No service named '{name}'")
                chosen.extend(match)
            return chosen
        if peer_ids:
            chosen = []
            for peer in peer_ids:
                match = [n for n in self.nodes if n["peer_id"] == peer]
                if not match:
                    raise Failure(f"Could not find node with peer id '{peer}'")
                chosen.extend(match)
            return chosen
        return [n for n in self.nodes if n["status"] != "Removed"]


def upgrade_schema(node: Node) -> dict[str, Any]:
    """Accept V0/V1 node objects by filling V2 fields with defaults."""
    node = dict(node)
    node.setdefault("alpha", False)
    node.setdefault("write_older_cache_files", False)
    node.setdefault("no_upnp", not node.pop("upnp", True))
    node.setdefault("relay", bool(node.pop("home_network", False)))
    node.setdefault(
        "initial_peers_config",
        {
            "first": False,
            "addrs": [],
            "network_contacts_url": [],
            "local": False,
            "ignore_cache": False,
            "bootstrap_cache_dir": None,
        },
    )
    node["schema_version"] = 2
    return node


# --------------------------------------------------------------------------- processes


def _cmdline(pid: int) -> list[str] | None:
    """Command line of a live (non-zombie) process, None when gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
            if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                return None
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            raw = handle.read()
    except (OSError, IndexError):
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0")[:-1]] or None


def runs_binary(pid: object, binary: str) -> bool:
    """The process is alive and its command line starts with the node's binary path."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    cmd = _cmdline(pid)
    return cmd is not None and binary in cmd[:3]


def find_by_binary(binary: str) -> int | None:
    for entry in os.listdir("/proc"):
        if entry.isdigit() and runs_binary(int(entry), binary):
            return int(entry)
    return None


def find_node_pid(node: Node) -> int | None:
    """antctl's order: stored pid, a process running the binary, then <data>/antnode.pid."""
    binary = str(node["antnode_path"])
    stored = node.get("pid")
    if isinstance(stored, int) and runs_binary(stored, binary):
        return stored
    found = find_by_binary(binary)
    if found:
        return found
    try:
        with open(os.path.join(str(node["data_dir_path"]), "antnode.pid"), encoding="utf-8") as handle:
            pid = int(handle.read().strip() or 0)
    except (OSError, ValueError):
        return None
    return pid if runs_binary(pid, binary) else None


def node_command(binary: str) -> list[str]:
    python = str(KNOBS["antnode_python"])
    return [python, binary] if python else [binary]


def binary_version(binary: str, timeout: float = 2.0) -> str | None:
    """Version from ``<binary> --version`` line 1: text after the first 'v' up to whitespace."""
    try:
        result = subprocess.run(
            [*node_command(binary), "--version"], capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    first = (result.stdout.splitlines() or [""])[0]
    match = re.search(r"v(\S+)", first)
    return match.group(1) if result.returncode == 0 and match else None


def free_port(kind: int, used: set[int]) -> int:
    while True:
        with socket.socket(socket.AF_INET, kind) as sock:
            sock.bind(("127.0.0.1" if kind == socket.SOCK_STREAM else "0.0.0.0", 0))
            port: int = sock.getsockname()[1]
        if port not in used:
            used.add(port)
            return port


def fake_peers(count: int) -> list[str]:
    """Valid-looking peer ids of connected peers (random bytes as public keys, antnode.md §12)."""
    return [peer_id_of_public_key(os.urandom(32)) for _ in range(count)]


# --------------------------------------------------------------------------- units and arguments


def evm_arguments(evm: Any) -> list[str]:
    if evm == "ArbitrumOne":
        return ["evm-arbitrum-one"]
    if evm == "ArbitrumSepoliaTest":
        return ["evm-arbitrum-sepolia-test"]
    custom = evm["Custom"]
    args = [
        "evm-custom",
        "--rpc-url",
        custom["rpc_url_http"],
        "--payment-token-address",
        custom["payment_token_address"],
        "--data-payments-address",
        custom["data_payments_address"],
    ]
    if custom.get("merkle_payments_address"):
        args += ["--merkle-payments-address", custom["merkle_payments_address"]]
    return args


def node_arguments(node: Node, upgrade_order: bool = False) -> list[str]:
    """antnode arguments in antctl's install order (§3.5), or its re-install order for upgrade."""
    peers = node["initial_peers_config"]
    head = [
        "--rpc",
        str(node["rpc_socket_addr"]),
        "--root-dir",
        str(node["data_dir_path"]),
        "--log-output-dest",
        str(node["log_dir_path"]),
    ]
    peer_args: list[str] = []
    if peers["first"]:
        peer_args.append("--first")
    if peers["local"]:
        peer_args.append("--local")
    if peers["addrs"]:
        peer_args += ["--peer", ",".join(peers["addrs"])]
    if peers["network_contacts_url"]:
        peer_args += ["--network-contacts-url", ",".join(peers["network_contacts_url"])]
    if peers["ignore_cache"]:
        peer_args.append("--ignore-cache")
    if peers["bootstrap_cache_dir"]:
        peer_args += ["--bootstrap-cache-dir", str(peers["bootstrap_cache_dir"])]
    flag = {
        "alpha": ["--alpha"] if node["alpha"] else [],
        "network_id": ["--network-id", str(node["network_id"])] if node["network_id"] is not None else [],
        "relay": ["--relay"] if node["relay"] else [],
        "log_format": ["--log-format", str(node["log_format"]).lower()] if node["log_format"] else [],
        "no_upnp": ["--no-upnp"] if node["no_upnp"] else [],
        "ip": ["--ip", str(node["node_ip"])] if node["node_ip"] else [],
        "port": ["--port", str(node["node_port"])] if node["node_port"] else [],
        "metrics": ["--metrics-server-port", str(node["metrics_port"])] if node["metrics_port"] else [],
        "archived": ["--max-archived-log-files", str(node["max_archived_log_files"])]
        if node["max_archived_log_files"] is not None
        else [],
        "max_logs": ["--max-log-files", str(node["max_log_files"])]
        if node["max_log_files"] is not None
        else [],
        "rewards": ["--rewards-address", checksum_address(str(node["rewards_address"]))],
        "older": ["--write-older-cache-files"] if node["write_older_cache_files"] else [],
        "stop": ["--stop-on-upgrade"],
    }
    order = (
        [
            "log_format",
            "network_id",
            "no_upnp",
            "relay",
            "alpha",
            "ip",
            "port",
            "metrics",
            "archived",
            "max_logs",
            "stop",
            "rewards",
            "older",
        ]
        if upgrade_order
        else [
            "alpha",
            "network_id",
            "relay",
            "log_format",
            "no_upnp",
            "ip",
            "port",
            "metrics",
            "archived",
            "max_logs",
            "rewards",
            "older",
            "stop",
        ]
    )
    args = head + peer_args
    for key in order:
        args += flag[key]
    return args + evm_arguments(node["evm_network"])


def unit_path(layout: Layout, node: Node) -> str:
    return os.path.join(layout.units, f"{node['service_name']}.service")


def write_unit(layout: Layout, node: Node, env: list[list[str]] | None, upgrade_order: bool = False) -> None:
    exec_start = shlex.join([str(node["antnode_path"]), *node_arguments(node, upgrade_order)])
    lines = [
        "[Unit]",
        f"Description={node['service_name']}",
        "[Service]",
        f"ExecStart={exec_start}",
        "Restart=on-success",
    ]
    if node["user"]:
        lines.append(f"User={node['user']}")
    lines += [f'Environment="{key}={value}"' for key, value in env or []]
    if node["auto_restart"]:
        lines += ["[Install]", f"WantedBy={'multi-user.target' if layout.system else 'default.target'}"]
    os.makedirs(layout.units, exist_ok=True)
    with open(unit_path(layout, node), "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def read_unit(layout: Layout, node: Node) -> tuple[list[str], dict[str, str]]:
    """ExecStart argv and Environment of the unit (rebuilt from the registry if it is missing)."""
    argv = [str(node["antnode_path"]), *node_arguments(node)]
    env: dict[str, str] = {}
    try:
        with open(unit_path(layout, node), encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("ExecStart="):
                    argv = shlex.split(line[len("ExecStart=") :])
                elif line.startswith("Environment="):
                    key, _, value = line[len("Environment=") :].strip().strip('"').partition("=")
                    env[key] = value
    except FileNotFoundError:
        pass
    return argv, env


# --------------------------------------------------------------------------- lifecycle


def spawn(layout: Layout, node: Node) -> subprocess.Popen[bytes]:
    """Run the node like a service: detached session, stdio to the emulator journal."""
    argv, env = read_unit(layout, node)
    python = str(KNOBS["antnode_python"])
    if python:
        argv = [python, *argv]
    os.makedirs(layout.journal, exist_ok=True)
    journal = os.path.join(layout.journal, f"{node['service_name']}.log")
    with open(journal, "ab") as out:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd="/",
            env={**os.environ, **env},
            start_new_session=True,
            close_fds=True,
        )


def wait_ready(node: Node, process: subprocess.Popen[bytes], timeout: float) -> str | None:
    """Wait for the node to write its pid file; returns an error text or None when started."""
    pid_file = os.path.join(str(node["data_dir_path"]), "antnode.pid")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"The node exited with code {process.returncode} before connecting to the network"
        try:
            with open(pid_file, encoding="utf-8") as handle:
                if handle.read().strip() == str(process.pid):
                    return None
        except OSError:
            pass
        time.sleep(0.05)
    return f"The node did not connect to the network within {timeout:.0f}s"


def start_node(layout: Layout, node: Node, timeout: float) -> str | None:
    """Start one node; returns None on success or the failure reason."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(str(node["data_dir_path"]), "antnode.pid"))
    try:
        process = spawn(layout, node)
    except OSError as exc:
        return f"Failed to launch {node['antnode_path']}: {exc}"
    debug(f"Spawned {node['service_name']} with pid {process.pid}")
    problem = wait_ready(node, process, min(timeout, float(KNOBS["start_wait"])))
    if process.poll() is not None:
        return problem or "The PID of the process was not found after starting it."
    node["pid"] = process.pid
    node["status"] = "Running"
    if problem:
        return problem
    try:
        with open(os.path.join(str(node["data_dir_path"]), "secret-key"), "rb") as handle:
            node["peer_id"] = peer_id_of(handle.read())
    except OSError:
        pass
    node["connected_peers"] = fake_peers(6)
    node["listen_addr"] = [f"/ip4/127.0.0.1/udp/{node['node_port']}/quic-v1/p2p/{node['peer_id']}"]
    node["version"] = binary_version(str(node["antnode_path"])) or node["version"]
    return None


def stop_node(node: Node, verbose: bool = True) -> None:
    name = node["service_name"]
    if node["status"] == "Added":
        if verbose:
            say(f"Service {name} has not been started since it was installed")
        return
    pid = find_node_pid(node)
    if pid is None:
        if verbose:
            say(f"✓ Service {name} was already stopped")
    else:
        if verbose:
            say(f"Attempting to stop {name}...")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + float(KNOBS["stop_wait"])
        while _cmdline(pid) is not None and time.monotonic() < deadline:
            time.sleep(0.02)
        if _cmdline(pid) is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if verbose:
            say(f"✓ Service {name} with PID {pid} was stopped")
    node.update(status="Stopped", pid=None, connected_peers=None, listen_addr=None)


def refresh(nodes: list[Node], versions: bool) -> None:
    """Status refresh (§6.1): liveness for every node, binary versions when asked."""
    for node in nodes:
        if node["status"] == "Removed":
            continue
        pid = find_node_pid(node)
        if pid is not None:
            if node["pid"] != pid:
                node["pid"] = pid
            node["status"] = "Running"
        elif node["status"] == "Running":
            node.update(status="Stopped", pid=None, connected_peers=None, listen_addr=None)
        node["reward_balance"] = None
    if versions:
        live = [n for n in nodes if n["status"] != "Removed" and os.path.exists(str(n["antnode_path"]))]
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            for node, version in zip(
                live, pool.map(lambda n: binary_version(str(n["antnode_path"])), live), strict=True
            ):
                if version:
                    node["version"] = version


def critical_failure(node: Node) -> tuple[str, str] | None:
    for directory in (node["data_dir_path"], node["log_dir_path"]):
        try:
            with open(os.path.join(str(directory), "critical_failure.log"), encoding="utf-8") as handle:
                text = handle.read().strip()
        except OSError:
            continue
        match = re.match(r"\[([^\]]*)\]\s*(.*)", text, re.S)
        return (match.group(2), match.group(1)) if match else (text, "")
    return None


# --------------------------------------------------------------------------- binaries


def obtain_binary(layout: Layout, path: str | None, url: str | None, version: str | None) -> tuple[str, str]:
    """(binary path, version): --path as given, else the emulated download; raises Failure."""
    if path:
        if not os.path.isfile(path):
            raise Failure(f"The provided path does not exist: {path}")
        found = binary_version(path)
        if found is None:
            raise Failure(f"Failed to obtain the version of the antnode binary at {path}")
        return path, found
    source = str(KNOBS["download_binary"])
    if not source:
        raise Failure(
            "Failed to download antnode: the antctl emulator has no network access "
            "(use --path, or set the download_binary knob)"
        )
    if not url and not version:
        say("Retrieving latest version for antnode...")
        version = str(KNOBS["latest_version"]) or binary_version(source)
    found = binary_version(source) or version or "0.0.0"
    say(f"Downloading antnode version {version or found}...")
    os.makedirs(layout.downloads, exist_ok=True)
    target = os.path.join(layout.downloads, "antnode")
    shutil.copy2(source, target)
    say(f"Download completed: {target}")
    return target, found


def latest_version() -> str:
    source = str(KNOBS["download_binary"])
    latest = str(KNOBS["latest_version"]) or (binary_version(source) if source else None)
    if not latest:
        raise Failure("Failed to retrieve the latest antnode version from crates.io: no network access")
    return latest


def install_binary(source: str, target: str) -> None:
    os.makedirs(os.path.dirname(target), exist_ok=True)
    temporary = f"{target}.tmp-{os.getpid()}"
    shutil.copyfile(source, temporary)
    os.chmod(temporary, 0o755)
    os.replace(temporary, target)


# --------------------------------------------------------------------------- commands


def ports_of(spec: tuple[int, int] | None, count: int) -> list[int] | None:
    if spec is None:
        return None
    ports = list(range(spec[0], spec[1] + 1))
    if len(ports) != count:
        raise Failure(f"The count ({count}) does not match the number of ports ({len(ports)})")
    return ports


def cmd_add(args: argparse.Namespace, layout: Layout) -> int:
    registry = Registry(layout)
    count = args.count or 1
    if args.first and any(n["initial_peers_config"]["first"] for n in registry.nodes):
        raise Failure("A genesis node already exists")
    if args.auto_set_nat_flags and registry.data["nat_status"] is None:
        raise Failure("The NAT status has not been set. Run the NAT detection command first.")
    node_ports = ports_of(args.node_port, count)
    metrics_ports = ports_of(args.metrics_port, count)
    rpc_ports = ports_of(args.rpc_port, count)
    used: set[int] = set()
    for existing in registry.nodes:
        used.update(p for p in (existing["node_port"], existing["metrics_port"]) if isinstance(p, int))
        used.add(int(str(existing["rpc_socket_addr"]).rsplit(":", 1)[1]))
    for port in (node_ports or []) + (metrics_ports or []) + (rpc_ports or []):
        if port in used:
            raise Failure(f"Port {port} is being used by another service")
    banner("Add Antnode Services")
    say(f"{count} service(s) to be added")
    source, version = obtain_binary(layout, args.path, args.url, args.version)
    if args.env:
        registry.data["environment_variables"] = [list(pair) for pair in args.env]
    relay, no_upnp = args.relay, args.no_upnp
    if args.auto_set_nat_flags:
        relay = registry.data["nat_status"] == "Private"
        no_upnp = registry.data["nat_status"] != "UPnP"
    added = []
    for index in range(count):
        number = len(registry.nodes) + 1
        name = f"antnode{number}"
        data_dir = os.path.join(args.data_dir_path or layout.data, name)
        log_dir = os.path.join(args.log_dir_path, name) if args.log_dir_path else layout.default_log_dir(name)
        binary = os.path.join(data_dir, "antnode")
        os.makedirs(log_dir, exist_ok=True)
        install_binary(source, binary)
        metrics = metrics_ports[index] if metrics_ports else None
        if metrics is None and args.enable_metrics_server:
            metrics = free_port(socket.SOCK_STREAM, used)
        rpc_port = rpc_ports[index] if rpc_ports else free_port(socket.SOCK_STREAM, used)
        cache_dir = layout.bootstrap_cache if layout.system else None
        if layout.system and args.bootstrap_cache_dir:
            cache_dir = args.bootstrap_cache_dir
        node: Node = {
            "alpha": args.alpha,
            "schema_version": 2,
            "antnode_path": binary,
            "auto_restart": args.auto_restart,
            "connected_peers": None,
            "data_dir_path": data_dir,
            "evm_network": args.evm_network,
            "initial_peers_config": {
                "first": args.first,
                "addrs": args.peer,
                "network_contacts_url": args.network_contacts_url,
                "local": args.local,
                "ignore_cache": args.ignore_cache,
                "bootstrap_cache_dir": cache_dir,
            },
            "listen_addr": None,
            "log_dir_path": log_dir,
            "log_format": {"default": "Default", "json": "Json"}.get(args.log_format or ""),
            "max_archived_log_files": args.max_archived_log_files,
            "max_log_files": args.max_log_files,
            "metrics_port": metrics,
            "network_id": args.network_id,
            "node_ip": args.node_ip,
            "node_port": node_ports[index] if node_ports else free_port(socket.SOCK_DGRAM, used),
            "no_upnp": no_upnp,
            "number": number,
            "peer_id": None,
            "pid": None,
            "relay": relay,
            "rewards_address": args.rewards_address.lower(),
            "reward_balance": None,
            "rpc_socket_addr": f"{args.rpc_address}:{rpc_port}",
            "service_name": name,
            "status": "Added",
            "user": (args.user or "ant") if layout.system else None,
            "user_mode": not layout.system,
            "version": version,
            "write_older_cache_files": args.write_older_cache_files,
        }
        write_unit(layout, node, registry.data["environment_variables"])
        registry.nodes.append(node)
        registry.save()
        added.append(node)
        debug(f"Added {name} with arguments {node_arguments(node)}")
    if args.url is None and args.path is None and source.startswith(layout.downloads):
        os.unlink(source)
    say("Services Added:")
    for node in added:
        say(f" ✓ {node['service_name']}")
        say(f"    - Antnode path: {node['antnode_path']}")
        say(f"    - Data path: {node['data_dir_path']}")
        say(f"    - Log path: {node['log_dir_path']}")
        say(f"    - RPC port: {node['rpc_socket_addr']}")
    say("[!] Note: newly added services have not been started")
    return 0


def start_one(layout: Layout, node: Node, timeout: float) -> bool:
    name = node["service_name"]
    say(f"Attempting to start {name}...")
    problem = start_node(layout, node, timeout)
    if problem:
        say(f"✕ Failed to start {name}: {problem}")
        return False
    say(f"✓ Started {name} service")
    say(f"  - PID: {node['pid']}")
    say(f"  - Bin path: {node['antnode_path']}")
    say(f"  - Data path: {node['data_dir_path']}")
    say(f"  - Logs path: {node['log_dir_path']}")
    return True


def cmd_start(args: argparse.Namespace, layout: Layout) -> int:
    registry = Registry(layout)
    nodes = [n for n in registry.select(args.service_name, args.peer_id) if n["status"] != "Removed"]
    if not registry.nodes:
        say("No services available to start")
        return 0
    banner("Start Antnode Services")
    failed = False
    for index, node in enumerate(nodes):
        if node["status"] == "Running" and find_node_pid(node) is not None:
            say(f"The {node['service_name']} service is already running")
            continue
        if args.interval and index:
            time.sleep(args.interval / 1000)
        failed |= not start_one(layout, node, args.connection_timeout)
        registry.save()
    if failed:
        raise Failure("Failed to start one or more services")
    return 0


def cmd_stop(args: argparse.Namespace, layout: Layout) -> int:
    registry = Registry(layout)
    nodes = [n for n in registry.select(args.service_name, args.peer_id) if n["status"] != "Removed"]
    if not registry.nodes:
        say("No services available to stop")
        return 0
    banner("Stop Antnode Services")
    for index, node in enumerate(nodes):
        if args.interval and index:
            time.sleep(args.interval / 1000)
        stop_node(node)
        registry.save()
    return 0


def remove_node(layout: Layout, node: Node, keep_directories: bool) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(unit_path(layout, node))
    if not keep_directories:
        for directory in (node["data_dir_path"], node["log_dir_path"]):
            shutil.rmtree(str(directory), ignore_errors=True)
    node.update(status="Removed", pid=None, connected_peers=None, listen_addr=None)


def cmd_remove(args: argparse.Namespace, layout: Layout) -> int:
    registry = Registry(layout)
    nodes = [n for n in registry.select(args.service_name, args.peer_id) if n["status"] != "Removed"]
    if not registry.nodes:
        say("No services available to remove")
        return 0
    banner("Remove Antnode Services")
    running, mismatched = [], []
    for node in nodes:
        if node["status"] == "Running":
            if runs_binary(node["pid"], str(node["antnode_path"])) or find_node_pid(node) is not None:
                running.append(str(node["service_name"]))
                continue
            node.update(status="Stopped", pid=None, connected_peers=None, listen_addr=None)
            mismatched.append(str(node["service_name"]))
            continue
        remove_node(layout, node, args.keep_directories)
        say(f"✓ Service {node['service_name']} was removed")
        registry.save()
    registry.save()
    if running:
        raise Failure(
            f"Unable to remove a running service {json.dumps(running)}, stop this service first "
            "before removing"
        )
    if mismatched:
        raise Failure(
            f"The service(s) {json.dumps(mismatched)} were marked as running but had actually "
            "stopped. To remove the service(s), run the command again."
        )
    return 0


def cmd_reset(args: argparse.Namespace, layout: Layout) -> int:
    if not args.force:
        say("WARNING: all antnode services, data, and logs will be removed.")
        sys.stdout.write("Do you wish to proceed? [y/n]\n")
        sys.stdout.flush()
        if sys.stdin.readline().strip().lower() != "y":
            say("Reset aborted")
            return 0
    registry = Registry(layout)
    banner("Reset Antnode Services")
    for node in registry.nodes:
        if node["status"] == "Removed":
            continue
        stop_node(node)
        remove_node(layout, node, keep_directories=False)
        say(f"✓ Service {node['service_name']} was removed")
    registry.delete()
    return 0


def cmd_status(args: argparse.Namespace, layout: Layout) -> int:
    registry = Registry(layout)
    if not registry.nodes:
        return 0
    refresh(registry.nodes, versions=True)
    registry.save()
    if args.json:
        say(
            json.dumps(
                {"nodes": registry.nodes, "daemon": registry.data["daemon"]}, indent=2, ensure_ascii=False
            )
        )
    elif args.details:
        for node in registry.nodes:
            if node["status"] == "Removed":
                continue
            print_details(node)
    else:
        say(f"{'Service Name':<18} {'Peer ID':<52} {'Status':<7} {'Connected Peers':>15} Failure")
        for node in registry.nodes:
            if node["status"] == "Removed":
                continue
            peers = node["connected_peers"]
            failure = critical_failure(node) if node["status"] == "Stopped" else None
            count = len(peers) if isinstance(peers, list) else "-"
            status = colour(str(node["status"]))
            say(
                f"{node['service_name']!s:<18} {node['peer_id'] or '-'!s:<52} {status:<7} "
                f"{count!s:>15} {failure[0] if failure else '-'}"
            )
    if args.fail:
        down = [str(n["service_name"]) for n in registry.nodes if n["status"] != "Running"]
        if down:
            raise Failure(f"The service(s) is not running: {json.dumps(down)}")
    return 0


def print_details(node: Node) -> None:
    banner(f"{node['service_name']} - {str(node['status']).upper()}")
    say(f"Version: {node['version']}")
    say(f"Peer ID: {node['peer_id'] or '-'}")
    say(f"RPC Socket: {node['rpc_socket_addr']}")
    listen = node["listen_addr"]
    say(f"Listen Addresses: {'Some([' + ', '.join(listen) + '])' if isinstance(listen, list) else 'None'}")
    say(f"PID: {node['pid'] or '-'}")
    if node["status"] == "Stopped":
        failure = critical_failure(node)
        if failure:
            say(f"Failure reason: {failure[0]}")
    say(f"Data path: {node['data_dir_path']}")
    say(f"Log path: {node['log_dir_path']}")
    say(f"Bin path: {node['antnode_path']}")
    peers = node["connected_peers"]
    say(f"Connected peers: {len(peers) if isinstance(peers, list) else '-'}")
    say(f"Reward balance: {node['reward_balance'] or '-'}")
    say(f"Rewards address: {node['rewards_address']}")
    say()


def cmd_upgrade(args: argparse.Namespace, layout: Layout) -> int:
    registry = Registry(layout)
    nodes = [n for n in registry.select(args.service_name, args.peer_id) if n["status"] != "Removed"]
    if not nodes:
        say("No services available to upgrade")
        return 0
    force = args.force or bool(args.path)
    banner("Upgrade Antnode Services")
    if args.path:
        target = binary_version(args.path) if os.path.isfile(args.path) else None
        if target is None:
            raise Failure(f"The provided path does not exist or is not an antnode binary: {args.path}")
    elif args.version:
        target = args.version
    else:
        say("Retrieving latest version for antnode...")
        target = latest_version()
        say(f"Latest version is {target}")
    refresh(nodes, versions=True)
    if not force and all(version_tuple(str(n["version"])) >= version_tuple(target) for n in nodes):
        say("✓ All nodes are at the latest version")
        registry.save()
        return 0
    source, target = obtain_binary(layout, args.path, args.url, args.version or target)
    if args.env:
        registry.data["environment_variables"] = [list(pair) for pair in args.env]
    summary, failed = [], False
    for index, node in enumerate(nodes):
        name, old = node["service_name"], str(node["version"])
        if not force and version_tuple(old) >= version_tuple(target):
            summary.append(f"- {name} did not require an upgrade")
            continue
        try:
            if find_node_pid(node) is not None:
                stop_node(node)
            install_binary(source, str(node["antnode_path"]))
            write_unit(layout, node, registry.data["environment_variables"], upgrade_order=True)
            node["version"] = target
        except OSError as exc:
            summary.append(f"✕ {name} was not upgraded: {exc}")
            failed = True
            continue
        started = True
        if not args.do_not_start:
            if args.interval and index:
                time.sleep(args.interval / 1000)
            started = start_one(layout, node, args.connection_timeout)
        registry.save()
        if not started:
            summary.append(f"✕ {name} was upgraded from {old} to {target} but it did not start")
            failed = True
        elif force:
            summary.append(f"✓ Forced {name} version change from {old} to {target}.")
        else:
            summary.append(f"✓ {name} upgraded from {old} to {target}")
    registry.save()
    say("Upgrade summary:")
    for line in summary:
        say(line)
    if failed:
        raise Failure("There was a problem upgrading one or more nodes")
    return 0


def cmd_balance(args: argparse.Namespace, layout: Layout) -> int:
    registry = Registry(layout)
    for node in registry.select(args.service_name, args.peer_id):
        if node["status"] != "Removed":
            say(f"{node['service_name']}: 0")
    return 0


# --------------------------------------------------------------------------- command line


def _value_name(flag: str) -> str:
    return "<" + flag.lstrip("-").replace("-", "_").upper() + ">"


class ClapParser(argparse.ArgumentParser):
    """argparse configured to fail like clap 4 (UsageError -> stderr, exit 2)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        match = re.match(r"argument ([^:]+): (.*)$", message, re.S)
        if match:
            flag = next((f for f in match.group(1).split("/") if f.startswith("--")), match.group(1))
            detail = match.group(2)
            if detail.startswith("expected one argument"):
                text = f"a value is required for '{flag} {_value_name(flag)}' but none was supplied"
            elif detail.startswith("invalid choice"):
                bad = re.search(r"'([^']*)'", detail)
                text = f"unrecognized subcommand '{bad.group(1) if bad else ''}'"
            elif detail.startswith("not allowed with argument"):
                other = detail.split("argument ", 1)[1].split("/")[-1]
                text = f"the argument '{flag}' cannot be used with '{other}'"
            elif detail.startswith("!"):
                text = detail[1:].replace("{flag}", f"{flag} {_value_name(flag)}")
            else:
                text = f"invalid value for '{flag} {_value_name(flag)}': {detail}"
        elif message.startswith("the following arguments are required"):
            flags = [f.split("/")[-1].strip() for f in message.split(":", 1)[1].split(",")]
            text = "the following required arguments were not provided:" + "".join(
                f"\n  {f} {_value_name(f)}" for f in flags
            )
        else:
            text = message
        raise UsageError(
            f"error: {text}\n\nUsage: {self.prog} [OPTIONS]\n\nFor more information, try '--help'.\n"
        )


def _typed(parse: Callable[[str], object]) -> Callable[[str], object]:
    def convert(value: str) -> object:
        try:
            return parse(value)
        except (ValueError, OverflowError) as exc:
            raise argparse.ArgumentTypeError(f"!invalid value '{value}' for '{{flag}}': {exc}") from None

    return convert


def _uint(limit: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        if not value.isdigit():
            raise ValueError("invalid digit found in string")
        if int(value) > limit:
            raise ValueError(f"{value} is not in 0..={limit}")
        return int(value)

    return parse


def _port_range(value: str) -> tuple[int, int]:
    start, sep, end = value.partition("-")
    low = _uint(65535)(start)
    high = _uint(65535)(end) if sep else low
    if high < low:
        raise ValueError("The end port must be greater than the start port")
    return low, high


def _ipv4(value: str) -> str:
    import ipaddress

    return str(ipaddress.IPv4Address(value))


def _rewards(value: str) -> str:
    body = value[2:] if value[:2].lower() == "0x" else value
    if re.search(r"[^0-9a-fA-F]", body):
        raise ValueError("invalid character")
    if len(body) != 40:
        raise ValueError("invalid string length")
    return "0x" + body


def _env_pairs(value: str) -> list[tuple[str, str]]:
    pairs = []
    for item in value.split(","):
        key, sep, val = item.partition("=")
        if not sep:
            raise ValueError(
                "Environment variable must be in the format KEY=VALUE or KEY=INNER_KEY=VALUE.\n"
                "Multiple key-value pairs can be given with a comma between them."
            )
        pairs.append((key, val))
    return pairs


def _selection(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--service-name", action="append", default=[])
    group.add_argument("--peer-id", action="append", default=[])


def _start_timing(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--connection-timeout", type=_typed(_uint(2**64)), default=300)
    group.add_argument("--interval", type=_typed(_uint(2**64)))


def build_parser() -> ClapParser:
    parser = ClapParser(prog="antctl", description="Autonomi node manager (emulated)")
    parser.add_argument("--version", action="store_true", dest="show_version")
    parser.add_argument("--crate-version", action="store_true", dest="show_crate_version")
    parser.add_argument("--package-version", action="store_true", dest="show_package_version")
    logging = parser.add_mutually_exclusive_group()
    logging.add_argument("--debug", action="store_true")
    logging.add_argument("--trace", action="store_true")
    parser.add_argument("-v", "--verbose", action="count")
    sub = parser.add_subparsers(dest="command", parser_class=ClapParser, metavar="COMMAND")

    add = sub.add_parser("add")
    add.add_argument("--auto-restart", action="store_true")
    add.add_argument("--auto-set-nat-flags", action="store_true")
    add.add_argument("--count", type=_typed(_uint(65535)))
    add.add_argument("--data-dir-path")
    add.add_argument("--enable-metrics-server", action="store_true")
    add.add_argument("--env", type=_typed(_env_pairs))
    add.add_argument("--relay", action="store_true")
    add.add_argument("--log-dir-path")
    add.add_argument("--log-format", type=_typed(lambda v: v if v in ("default", "json") else int("x")))
    add.add_argument("--max-log-files", type=_typed(_uint(2**64)))
    add.add_argument("--max-archived-log-files", type=_typed(_uint(2**64)))
    add.add_argument("--metrics-port", type=_typed(_port_range))
    add.add_argument("--network-id", type=_typed(_uint(255)))
    add.add_argument("--node-ip", type=_typed(_ipv4))
    add.add_argument("--node-port", type=_typed(_port_range))
    add.add_argument("--rpc-port", type=_typed(_port_range))
    add.add_argument("--rpc-address", type=_typed(_ipv4), default="127.0.0.1")
    add.add_argument("--path")
    add.add_argument("--first", action="store_true")
    add.add_argument("--peer", action="append", default=[])
    add.add_argument("--network-contacts-url", action="append", default=[])
    add.add_argument("--local", action="store_true")
    add.add_argument("--ignore-cache", action="store_true")
    add.add_argument("--bootstrap-cache-dir")
    add.add_argument("--rewards-address", type=_typed(_rewards), required=True)
    add.add_argument("--no-upnp", action="store_true")
    add.add_argument("--alpha", action="store_true")
    add.add_argument("--write-older-cache-files", action="store_true")
    add.add_argument("--url")
    add.add_argument("--user")
    add.add_argument("--version")
    evm = add.add_subparsers(dest="evm", parser_class=ClapParser, metavar="COMMAND")
    for name in ("evm-arbitrum-one", "evm-arbitrum-sepolia-test", "evm-local"):
        evm.add_parser(name)
    custom = evm.add_parser("evm-custom")
    custom.add_argument("--rpc-url", required=True)
    custom.add_argument("-p", "--payment-token-address", required=True)
    custom.add_argument("-d", "--data-payments-address", required=True)
    custom.add_argument("--merkle-payments-address")

    balance = sub.add_parser("balance")
    _selection(balance)
    remove = sub.add_parser("remove")
    _selection(remove)
    remove.add_argument("--keep-directories", action="store_true")
    reset = sub.add_parser("reset")
    reset.add_argument("-f", "--force", action="store_true")
    start = sub.add_parser("start")
    _selection(start)
    _start_timing(start)
    status = sub.add_parser("status")
    status.add_argument("--fail", action="store_true")
    view = status.add_mutually_exclusive_group()
    view.add_argument("--details", action="store_true")
    view.add_argument("--json", action="store_true")
    stop = sub.add_parser("stop")
    _selection(stop)
    stop.add_argument("--interval", type=_typed(_uint(2**64)))
    upgrade = sub.add_parser("upgrade")
    _selection(upgrade)
    _start_timing(upgrade)
    upgrade.add_argument("--do-not-start", action="store_true")
    upgrade.add_argument("--env", type=_typed(_env_pairs))
    upgrade.add_argument("--force", action="store_true")
    upgrade.add_argument("--path")
    upgrade.add_argument("--url")
    upgrade.add_argument("--version")
    for name in ("local", "daemon", "nat-detection"):
        sub.add_parser(name).add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def prescan(parser: argparse.ArgumentParser, argv: list[str], prog: str) -> None:
    """Report the first unknown flag before any other error, as clap does; raises UsageError."""
    known = parser._option_string_actions
    choices: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            choices = dict(action.choices)
    index = 0
    while index < len(argv):
        token = argv[index]
        name = token.split("=", 1)[0]
        if token == "--":
            return
        if token.startswith("-") and len(token) > 1 and not token[1:].replace(".", "").isdigit():
            option = known.get(name)
            if option is None:
                raise UsageError(
                    f"error: unexpected argument '{name}' found\n\nUsage: {prog} [OPTIONS]\n\n"
                    "For more information, try '--help'.\n"
                )
            index += 1 if option.nargs == 0 or "=" in token else 2
            continue
        if token in choices:
            prescan(choices[token], argv[index + 1 :], f"{prog} {token}")
            return
        index += 1


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse like clap; raises UsageError."""
    parser = build_parser()
    prescan(parser, argv, "antctl")
    args, extra = parser.parse_known_args(argv)
    if extra:
        where = " ".join(x for x in ("antctl", args.command, getattr(args, "evm", None)) if x)
        raise UsageError(
            f"error: unexpected argument '{extra[0]}' found\n\nUsage: {where} [OPTIONS]\n\n"
            "For more information, try '--help'.\n"
        )
    if args.command == "add":
        conflicts = [
            ("--count", args.count is not None, "--first", args.first),
            ("--url", args.url is not None, "--version", args.version is not None),
        ]
        for one, has_one, other, has_other in conflicts:
            if has_one and has_other:
                raise UsageError(
                    f"error: the argument '{one} {_value_name(one)}' cannot be used with '{other}'\n\n"
                    "Usage: antctl add [OPTIONS]\n\nFor more information, try '--help'.\n"
                )
        if args.evm is None:
            raise UsageError(
                "error: 'antctl add' requires a subcommand but one was not provided\n"
                f"  [subcommands: {', '.join(EVM_COMMANDS)}, help]\n\n"
                "Usage: antctl add [OPTIONS] <COMMAND>\n\nFor more information, try '--help'.\n"
            )
        args.evm_network = _evm_network(args)
        args.peer = [p for chunk in args.peer for p in chunk.split(",") if p]
        args.network_contacts_url = [u for chunk in args.network_contacts_url for u in chunk.split(",") if u]
    return args


def _evm_network(args: argparse.Namespace) -> object:
    if args.evm == "evm-arbitrum-one":
        return "ArbitrumOne"
    if args.evm == "evm-arbitrum-sepolia-test":
        return "ArbitrumSepoliaTest"
    if args.evm == "evm-local":
        return {"Custom": dict(LOCAL_EVM)}
    return {
        "Custom": {
            "rpc_url_http": args.rpc_url,
            "payment_token_address": args.payment_token_address,
            "data_payments_address": args.data_payments_address,
            "merkle_payments_address": args.merkle_payments_address,
        }
    }


COMMANDS = {
    "add": cmd_add,
    "balance": cmd_balance,
    "remove": cmd_remove,
    "reset": cmd_reset,
    "start": cmd_start,
    "status": cmd_status,
    "stop": cmd_stop,
    "upgrade": cmd_upgrade,
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = parse_args(argv)
    except UsageError as exc:
        sys.stderr.write(str(exc))
        return 2
    version = str(BAKED["version"])
    if args.show_version:
        sha = hashlib.sha1(version.encode()).hexdigest()[:7]
        say(
            f"Autonomi Node Manager v{version}\nPackage version: {KNOBS['package_version']}\n"
            f"Git info: stable / {sha} / 2026-02-19"
        )
        return 0
    if args.show_crate_version:
        say(version)
        return 0
    if args.show_package_version:
        say(str(KNOBS["package_version"]))
        return 0
    Output.debug = args.debug or args.trace
    Output.quiet = args.verbose == 1
    debug(f"Executing cmd: {args.command} {argv}")
    if args.command is None:
        return 0
    if args.command not in COMMANDS:
        sys.stderr.write(
            f"Error: \n   0: The '{args.command}' command is not supported by the antctl emulator\n"
        )
        return 1
    layout = Layout()
    debug(f"Mode: {'system' if layout.system else 'user'}; registry at {layout.registry}")
    try:
        code = COMMANDS[args.command](args, layout)
    except Failure as exc:
        sys.stdout.flush()
        sys.stderr.write(f"Error: \n   0: {exc}\n\nLocation:\n   ant-node-manager/src/bin/cli/main.rs:952\n")
        sys.stderr.flush()
        return 1
    debug("Command completed")
    return code


if __name__ == "__main__":
    sys.exit(main())

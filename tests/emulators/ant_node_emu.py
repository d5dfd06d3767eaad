#!/usr/bin/env python3
"""Emulator of the second-generation ``ant-node`` binary (WithAutonomi/ant-node 0.14), for tests.

Standard library only, one file: ``build.make_ant_node`` copies it as an executable named
``ant-node`` with a shebang and baked-in version/knobs. Emulated from ``reference/ant-node-v2.md``:
the clap command line with environment twins (``ANT_*``), ``--version`` -> ``ant-node X.Y.Z``,
``<root>/node_identity.key`` and a 64-hex peer id, the default-root identity rules (several
identities -> error), ``chunks.mdb/data.mdb`` growth, logging only with ``--enable-logging``
(stdout, or daily ``ant-node.YYYY-MM-DD.log`` files in ``--log-dir``), the UDP port, SIGINT/SIGTERM
graceful exit, SIGHUP "config reload not yet supported", self-upgrade (always on), and
"Insufficient disk space" log lines. ``--metrics-port`` is accepted and ignored: no HTTP server,
as found in the real source.

Knobs (baked default < environment ``WNM_EMU_<NAME>`` < ``<root-dir>/emulator-knobs.json``):

  startup_delay      seconds before the UDP port is bound and "Node started" logged (default 0.2)
  crash_after        seconds after start to crash (0 = never)
  crash_exit_code    exit code of that crash (default 1; negative -N = die by signal N)
  upgrade_after      seconds after start to self-upgrade (0 = never)
  upgrade_from       path of the new binary copied over our own executable (temp file + rename);
                     skipped when identical. Then exit 0 (--stop-on-upgrade) or spawn it and exit.
  data_growth        bytes per second appended to chunks.mdb/data.mdb (default 0)
  disk_full_after    seconds after start from which "Insufficient disk space" is logged and growth
                     stops (0 = never)
  disk_full_interval seconds between those log lines (default 10)
  signal_exit_code   exit code after a graceful SIGINT/SIGTERM shutdown (default 0; the real code
                     is UNVERIFIED)

Simplifications: identity bytes are random (not an ML-DSA keypair) and the peer id is the SHA-256
of the public part; ``--config`` is only checked to be readable TOML (``[upgrade]
stop_on_upgrade`` honoured); no networking beyond binding the UDP port (IPv4).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import glob
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, NoReturn

BAKED: dict[str, Any] = {"version": "0.14.2", "knobs": {}}  # baked by build.py

KNOB_DEFAULTS: dict[str, object] = {
    "startup_delay": 0.2,
    "crash_after": 0.0,
    "crash_exit_code": 1,
    "upgrade_after": 0.0,
    "upgrade_from": "",
    "data_growth": 0,
    "disk_full_after": 0.0,
    "disk_full_interval": 10.0,
    "signal_exit_code": 0,
}
ENV_PREFIX = "WNM_EMU_"
KNOBS_FILE = "emulator-knobs.json"
IDENTITY_FILE = "node_identity.key"
PUBLIC_KEY_BYTES = 1952
SECRET_KEY_BYTES = 4032
LEVELS = ("error", "warn", "info", "debug", "trace")


def load_knobs(root_dir: str | None) -> dict[str, Any]:
    """Merge baked knobs, WNM_EMU_* variables and the root-dir JSON file (later wins)."""
    knobs: dict[str, Any] = dict(KNOB_DEFAULTS)
    knobs.update(BAKED.get("knobs") or {})
    for name in KNOB_DEFAULTS:
        raw = os.environ.get(ENV_PREFIX + name.upper())
        if raw is not None:
            knobs[name] = raw
    if root_dir:
        try:
            with open(os.path.join(root_dir, KNOBS_FILE), encoding="utf-8") as handle:
                knobs.update(json.load(handle))
        except (OSError, ValueError):
            pass
    for name, default in KNOB_DEFAULTS.items():
        value = knobs[name]
        if isinstance(default, int):
            knobs[name] = int(float(value))
        elif isinstance(default, float):
            knobs[name] = float(value)
        else:
            knobs[name] = str(value)
    return knobs


# --------------------------------------------------------------------------- clap-like parsing


class UsageError(Exception):
    """A command-line error reported like clap (stderr, exit 2)."""


def _value_name(flag: str) -> str:
    return "<" + flag.lstrip("-").replace("-", "_").upper() + ">"


def _usage_error(text: str) -> UsageError:
    return UsageError(f"error: {text}\n\nUsage: ant-node [OPTIONS]\n\nFor more information, try '--help'.\n")


class ClapParser(argparse.ArgumentParser):
    """argparse configured to fail like clap 4: exit 2 with clap's wording on stderr."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        match = re.match(r"argument ([^:]+): (.*)$", message, re.S)
        if not match:
            raise _usage_error(message)
        flag = next((f for f in match.group(1).split("/") if f.startswith("--")), match.group(1))
        detail = match.group(2)
        if detail.startswith("expected one argument"):
            raise _usage_error(f"a value is required for '{flag} {_value_name(flag)}' but none was supplied")
        if detail.startswith("!"):
            raise _usage_error(detail[1:].replace("{flag}", f"{flag} {_value_name(flag)}"))
        raise _usage_error(f"invalid value for '{flag} {_value_name(flag)}': {detail}")


def _typed(parse: Callable[[str], object]) -> Callable[[str], object]:
    def convert(value: str) -> object:
        try:
            return parse(value)
        except (ValueError, OverflowError) as exc:
            raise argparse.ArgumentTypeError(f"!invalid value '{value}' for '{{flag}}': {exc}") from None

    return convert


def _int_in(limit: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        if not value.isdigit():
            raise ValueError("invalid digit found in string")
        if int(value) > limit:
            raise ValueError(f"{value} is not in 0..={limit}")
        return int(value)

    return parse


def _one_of(*choices: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in choices:
            raise ValueError(f"[possible values: {', '.join(choices)}]")
        return value

    return parse


def _socket_addr(value: str) -> str:
    import ipaddress

    host, _, port = value.rpartition(":")
    ipaddress.ip_address(host.strip("[]"))
    _int_in(65535)(port)
    return value


def _address(value: str) -> str:
    if not re.fullmatch(r"0x[0-9a-fA-F]{40}", value):
        raise ValueError("invalid EVM address")
    return value


# (flag(s), environment twin, converter, default, action)
OPTIONS: list[tuple[tuple[str, ...], str | None, Callable[[str], Any], object, str]] = [
    (("--root-dir",), "ANT_ROOT_DIR", str, None, "store"),
    (("--port", "-p"), "ANT_PORT", _typed(_int_in(65535)), 0, "store"),
    (("--ipv4-only",), "ANT_IPV4_ONLY", str, False, "flag"),
    (("--bootstrap", "-b"), "ANT_BOOTSTRAP", _typed(_socket_addr), None, "append"),
    (("--rewards-address",), "ANT_REWARDS_ADDRESS", _typed(_address), None, "store"),
    (
        ("--evm-network",),
        "ANT_EVM_NETWORK",
        _typed(_one_of("arbitrum-one", "arbitrum-sepolia")),
        "arbitrum-one",
        "store",
    ),
    (("--evm-rpc-url",), "ANT_EVM_RPC_URL", str, None, "store"),
    (("--evm-payment-token",), "ANT_EVM_PAYMENT_TOKEN", _typed(_address), None, "store"),
    (("--evm-payment-vault",), "ANT_EVM_PAYMENT_VAULT", _typed(_address), None, "store"),
    (("--metrics-port",), "ANT_METRICS_PORT", _typed(_int_in(65535)), 9100, "store"),
    (("--enable-logging",), "ANT_ENABLE_LOGGING", str, False, "flag"),
    (("--log-level",), "RUST_LOG", _typed(_one_of(*LEVELS)), "info", "store"),
    (("--log-format",), "ANT_LOG_FORMAT", _typed(_one_of("text", "json")), "text", "store"),
    (("--log-dir",), "ANT_LOG_DIR", str, None, "store"),
    (("--log-max-files",), "ANT_LOG_MAX_FILES", _typed(_int_in(2**32)), 7, "store"),
    (
        ("--network-mode",),
        "ANT_NETWORK_MODE",
        _typed(_one_of("production", "testnet", "development")),
        "production",
        "store",
    ),
    (("--upgrade-channel",), "ANT_UPGRADE_CHANNEL", _typed(_one_of("stable", "beta")), "stable", "store"),
    (("--cache-capacity",), "ANT_CACHE_CAPACITY", _typed(_int_in(2**64)), 100000, "store"),
    (("--config", "-c"), None, str, None, "store"),
    (("--stop-on-upgrade",), None, str, False, "flag"),
]


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
    """Parse flags, then fill unset ones from their environment twins; raises UsageError."""
    parser = ClapParser(prog="ant-node", description="Autonomi v2 node (emulated)")
    parser.add_argument("-V", "--version", action="store_true")
    for flags, _env, convert, _default, action in OPTIONS:
        if action == "flag":
            parser.add_argument(*flags, action="store_true", default=None)
        else:
            parser.add_argument(*flags, type=convert, action=action, default=None)
    prescan(parser, argv, "ant-node")
    args, extra = parser.parse_known_args(argv)
    if extra:
        raise _usage_error(f"unexpected argument '{extra[0]}' found")
    for flags, env, convert, default, action in OPTIONS:
        dest = flags[0].lstrip("-").replace("-", "_")
        if getattr(args, dest) is not None:
            continue
        raw = os.environ.get(env) if env else None
        value: object = default
        if raw is not None and action == "flag":
            value = raw.lower() in ("1", "true", "yes", "on")
        elif raw is not None:
            try:
                value = (
                    [convert(part) for part in raw.split(",") if part] if action == "append" else convert(raw)
                )
            except argparse.ArgumentTypeError as exc:
                if env == "RUST_LOG":  # lenient: RUST_LOG often holds filter directives
                    value = default
                else:
                    text = str(exc)[1:].replace("{flag}", f"{flags[0]} {_value_name(flags[0])}")
                    raise _usage_error(text) from None
        setattr(args, dest, value if value is not None or action != "append" else [])
    if args.evm_rpc_url and not (args.evm_payment_token and args.evm_payment_vault):
        missing = [
            f
            for f in ("--evm-payment-token", "--evm-payment-vault")
            if not getattr(args, f[2:].replace("-", "_"))
        ]
        lines = "".join(f"\n  {f} {_value_name(f)}" for f in missing)
        raise _usage_error(f"the following required arguments were not provided:{lines}")
    return args


# --------------------------------------------------------------------------- logging


class Log:
    """tracing-subscriber style logs: off unless --enable-logging; stdout or daily files."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.enabled = bool(args.enable_logging)
        self.level = LEVELS.index(args.log_level)
        self.json = args.log_format == "json"
        self.directory = os.path.abspath(args.log_dir) if args.log_dir else None
        self.max_files = int(args.log_max_files)
        self.lock = threading.RLock()  # re-entrant: the SIGHUP handler logs from the main thread
        if self.enabled and self.directory:
            os.makedirs(self.directory, exist_ok=True)
            self.prune()

    def prune(self) -> None:
        files = sorted(glob.glob(os.path.join(self.directory or "", "ant-node.*.log")))
        for old in files[: max(0, len(files) - self.max_files)]:
            os.unlink(old)

    def write(self, level: str, message: str, target: str = "ant_node::node") -> None:
        if not self.enabled or LEVELS.index(level) > self.level:
            return
        now = _dt.datetime.now(_dt.UTC)
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if self.json:
            line = json.dumps(
                {"timestamp": stamp, "level": level.upper(), "fields": {"message": message}, "target": target}
            )
        else:
            line = f"{stamp} {level.upper():>5} {target}: {message}"
        with self.lock:
            if self.directory is None:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
                return
            path = os.path.join(self.directory, f"ant-node.{now:%Y-%m-%d}.log")
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")


# --------------------------------------------------------------------------- the node


class Stop(Exception):
    """SIGINT or SIGTERM arrived (raised from the handler in the main thread)."""


class StartupError(Exception):
    """Start-up failed; the message is printed as ``Error: ...`` and the exit code is 1."""


def default_root() -> str:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "ant")


def _new_identity(directory: str) -> bytes:
    os.makedirs(directory, exist_ok=True)
    key = os.urandom(PUBLIC_KEY_BYTES + SECRET_KEY_BYTES)
    fd = os.open(os.path.join(directory, IDENTITY_FILE), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


def peer_id_of(key: bytes) -> str:
    return hashlib.sha256(key[:PUBLIC_KEY_BYTES]).hexdigest()


def resolve_identity(root_arg: str | None) -> tuple[str, str]:
    """(root dir, peer id) by the rules of ant-node-v2.md §4; raises StartupError."""
    default = default_root()
    if root_arg and os.path.abspath(root_arg) != os.path.abspath(default):
        root = os.path.abspath(root_arg)
        path = os.path.join(root, IDENTITY_FILE)
        if os.path.exists(path):
            with open(path, "rb") as handle:
                return root, peer_id_of(handle.read())
        return root, peer_id_of(_new_identity(root))
    nodes = os.path.join(default, "nodes")
    found = sorted(glob.glob(os.path.join(nodes, "*", IDENTITY_FILE)))
    if len(found) > 1:
        raise StartupError(
            f"Multiple node identities found in {nodes} ({len(found)}). Specify --root-dir to select one."
        )
    if found:
        with open(found[0], "rb") as handle:
            return os.path.dirname(found[0]), peer_id_of(handle.read())
    key = os.urandom(PUBLIC_KEY_BYTES + SECRET_KEY_BYTES)
    root = os.path.join(nodes, peer_id_of(key))
    os.makedirs(root, exist_ok=True)
    fd = os.open(os.path.join(root, IDENTITY_FILE), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return root, peer_id_of(key)


class Node:
    """One running emulated ant-node process."""

    def __init__(self, args: argparse.Namespace, argv: list[str]) -> None:
        self.args = args
        self.argv = argv
        self.version = str(BAKED["version"])
        self.exe = os.path.realpath(sys.argv[0])
        self.started = time.monotonic()
        self.log = Log(args)
        self.udp: socket.socket | None = None
        self.stop_on_upgrade = bool(args.stop_on_upgrade)

    def start(self) -> None:
        if self.args.config:
            self.read_config(self.args.config)
        self.root, self.peer_id = resolve_identity(self.args.root_dir)
        self.knobs = load_knobs(self.root)
        self.log.write("info", f"Starting ant-node v{self.version}", "ant_node")
        self.log.write("info", f"Node identity: {self.peer_id}")
        self.log.write("info", f"Root directory: {self.root}")
        self.log.write(
            "info",
            f"Network mode: {self.args.network_mode}, upgrade channel: "
            f"{self.args.upgrade_channel}, EVM network: {self.args.evm_network}",
        )
        store = os.path.join(self.root, "chunks.mdb")
        os.makedirs(store, exist_ok=True)
        self.data_file = os.path.join(store, "data.mdb")
        if not os.path.exists(self.data_file):
            with open(self.data_file, "wb") as handle:
                handle.write(bytes(16384))
        with open(os.path.join(store, "lock.mdb"), "ab"):
            pass
        time.sleep(float(self.knobs["startup_delay"]))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.udp.bind(("0.0.0.0", self.args.port))
        except OSError as exc:
            self.log.write("error", f"Failed to bind QUIC endpoint on 0.0.0.0:{self.args.port}: {exc}")
            where = f"0.0.0.0:{self.args.port}"
            raise StartupError(
                f"Failed to bind QUIC endpoint on {where}: {exc.strerror} (os error {exc.errno})"
            ) from None
        self.port = self.udp.getsockname()[1]
        self.log.write("info", f"Listening on 0.0.0.0:{self.port} (QUIC)", "saorsa_core::transport")
        peers = self.args.bootstrap or []
        self.log.write("info", f"Bootstrapping from {len(peers)} peer(s)", "saorsa_core::bootstrap")
        self.log.write("info", f"Node started, node id {self.peer_id}")

    def read_config(self, path: str) -> None:
        import tomllib

        try:
            with open(path, "rb") as handle:
                config = tomllib.load(handle)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise StartupError(f"Failed to load config file {path}: {exc}") from None
        if config.get("upgrade", {}).get("stop_on_upgrade"):
            self.stop_on_upgrade = True

    def run(self) -> int:
        knobs = self.knobs
        crash_after = float(knobs["crash_after"])
        upgrade_after = float(knobs["upgrade_after"])
        full_after = float(knobs["disk_full_after"])
        full_every = max(0.1, float(knobs["disk_full_interval"]))
        growth = int(knobs["data_growth"])
        next_full_log = full_after
        grown_until = 0.0
        while True:
            elapsed = time.monotonic() - self.started
            if crash_after and elapsed >= crash_after:
                return self.crash()
            if upgrade_after and elapsed >= upgrade_after:
                upgrade_after = 0.0
                code = self.self_upgrade()
                if code is not None:
                    return code
            full = bool(full_after) and elapsed >= full_after
            if full and elapsed >= next_full_log:
                self.log.write("error", self.disk_full_message(), "ant_node::storage::lmdb")
                next_full_log = elapsed + full_every
            if growth and not full:
                self.grow(growth * (elapsed - grown_until) if grown_until else 0)
                grown_until = elapsed
            deadlines = [t - elapsed for t in (crash_after, upgrade_after) if t]
            if full_after:
                deadlines.append(next_full_log - elapsed)
            time.sleep(max(0.01, min([1.0, *deadlines])))

    def grow(self, amount: float) -> None:
        if amount < 1:
            return
        with open(self.data_file, "ab") as handle:
            handle.write(bytes(int(amount)))
        self.log.write("debug", f"Stored chunk data ({int(amount)} bytes)", "ant_node::storage::lmdb")

    def disk_full_message(self) -> str:
        stats = os.statvfs(self.root)
        available = min(stats.f_bavail * stats.f_frsize / 2**30, 0.42)
        return (
            f"Insufficient disk space: {available:.2f} GiB available, 0.49 GiB reserve required. "
            "Free disk space or increase the partition to continue storing chunks."
        )

    def crash(self) -> int:
        code = int(self.knobs["crash_exit_code"])
        self.log.write("error", "Fatal error: emulated crash")
        sys.stderr.write("Error: emulated crash\n")
        sys.stderr.flush()
        if code < 0:
            signal.signal(-code, signal.SIG_DFL)
            os.kill(os.getpid(), -code)
            time.sleep(5)
        os._exit(code)

    def self_upgrade(self) -> int | None:
        """Replace our executable in place, then exit 0 or spawn the new binary; None = no-op."""
        source = str(self.knobs["upgrade_from"])
        try:
            with open(source, "rb") as handle:
                new = handle.read()
            with open(self.exe, "rb") as handle:
                current = handle.read()
        except OSError as exc:
            self.log.write("warn", f"Upgrade check failed: {exc}", "ant_node::upgrade")
            return None
        if new == current:
            self.log.write("info", "No upgrade available", "ant_node::upgrade")
            return None
        directory, name = os.path.split(self.exe)
        temporary = os.path.join(directory, f".{name}.upgrade-{os.getpid()}")
        with open(temporary, "wb") as handle:
            handle.write(new)
        os.chmod(temporary, 0o755)
        os.replace(temporary, self.exe)
        self.log.write("info", f"Upgrade applied to {self.exe}", "ant_node::upgrade::apply")
        if self.stop_on_upgrade:
            self.log.write(
                "info",
                "Exiting after upgrade (--stop-on-upgrade); the service manager must restart the node",
                "ant_node::upgrade::apply",
            )
            return 0
        if self.udp is not None:
            self.udp.close()
        try:
            subprocess.Popen([self.exe, *self.argv], close_fds=True)
        except OSError:
            subprocess.Popen([sys.executable, self.exe, *self.argv], close_fds=True)
        self.log.write("info", "Spawned the upgraded node; exiting", "ant_node::upgrade::apply")
        return 0

    def shutdown(self, reason: str) -> int:
        self.log.write("info", f"{reason} received, shutting down gracefully")
        self.log.write("info", "Replication engine stopped", "ant_node::replication")
        self.log.write("info", "P2P node stopped", "saorsa_core::network")
        return int(self.knobs["signal_exit_code"])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = parse_args(argv)
    except UsageError as exc:
        sys.stderr.write(str(exc))
        return 2
    if args.version:
        sys.stdout.write(f"ant-node {BAKED['version']}\n")
        return 0
    node = Node(args, argv)
    reason = {"name": ""}

    def on_stop(signum: int, frame: object) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        reason["name"] = signal.Signals(signum).name
        raise Stop()

    def on_hup(signum: int, frame: object) -> None:
        node.log.write("info", "Received SIGHUP: config reload not yet supported")

    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGHUP, on_hup)
    try:
        node.start()
        return node.run()
    except StartupError as exc:
        sys.stderr.write(f"Error: {exc}\n")
        return 1
    except Stop:
        if not hasattr(node, "knobs"):
            return 0
        return node.shutdown(reason["name"])


if __name__ == "__main__":
    sys.exit(main())

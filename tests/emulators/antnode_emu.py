#!/usr/bin/env python3
"""Emulator of the legacy ``antnode`` binary (maidsafe/autonomi <= 0.4.17), for tests.

Standard library only, one file: ``build.make_antnode`` copies it as an executable named
``antnode`` with a shebang and baked-in version/knobs. Facts emulated are those of
``reference/antnode.md``: the clap command line (unknown flag -> exit 2, EVM subcommand last,
``--version`` 4 lines, missing ``--rewards-address`` -> panic exit 101, bad hex -> exit 1),
``secret-key`` (32 bytes, 0600) and the real ed25519 -> ``12D3KooW...`` peer id, ``antnode.pid``,
``network_key_version``, ``record_store/``, logs (incl. the home-dir trap), critical_failure.log,
stdout lines, SIGINT (exit 1) / SIGTERM (default death), the UDP port, the metrics server on
127.0.0.1 (/metrics, /metrics_extended, /metadata) and self-upgrade.

Knobs (baked default < environment ``WNM_EMU_<NAME>`` < ``<root-dir>/emulator-knobs.json``,
the file read once at start; names are lower case in JSON, upper case in the environment):

  startup_delay        seconds before the metrics port opens (default 0.3; real ~1 s warm cache)
  crash_after          seconds after start to crash (0 = never)
  crash_exit_code      exit code of that crash (default 1; negative -N = die by signal N)
  metrics_mode         normal | hang (accept, never answer) | slow:<seconds> | garbage | 404 |
                       truncated | 500
  bootstrap            ok | no-peers (no-peers: "Error: Failed to obtain any bootstrap peers",
                       exit 1 after bootstrap_fail_delay, metrics port never opens; --first skips it)
  bootstrap_fail_delay seconds before that failure (default 30, as real)
  upgrade_after        seconds after start to self-upgrade (0 = never)
  upgrade_from         path of the new binary copied over our own executable (temp file + rename);
                       skipped when its content equals ours (like the real hash check)
  sigint_delay         seconds between the SIGINT stop message and the exit (default 1.0)
  time_scale           speed of emulated time for metric evolution (default 1.0)
  quote_after          emulated seconds before the quoting gauges leave 0 (default 600)
  records_per_hour     growth of records_stored / record_store files (default 12)
  record_bytes         size of each emulated record file (default 4096)
  peers_target         connected peers after ramp-up (default 0 = derived from the peer id)

Simplifications: no networking beyond binding the UDP port, no gRPC (``--rpc`` only binds the TCP
port), no log rotation, bootstrap cache written only when ``--bootstrap-cache-dir`` is given,
metric values are synthetic but follow the real cadence (uptime 10 s steps, cpu/mem every 60 s).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, NoReturn

BAKED: dict[str, Any] = {"version": "0.4.17", "knobs": {}}  # baked by build.py

KNOB_DEFAULTS: dict[str, object] = {
    "startup_delay": 0.3,
    "crash_after": 0.0,
    "crash_exit_code": 1,
    "metrics_mode": "normal",
    "bootstrap": "ok",
    "bootstrap_fail_delay": 30.0,
    "upgrade_after": 0.0,
    "upgrade_from": "",
    "sigint_delay": 1.0,
    "time_scale": 1.0,
    "quote_after": 600.0,
    "records_per_hour": 12.0,
    "record_bytes": 4096,
    "peers_target": 0,
}
ENV_PREFIX = "WNM_EMU_"
KNOBS_FILE = "emulator-knobs.json"

RELEASES = {  # crate version -> (package version, build date)
    "0.3.0": ("2024.12.1.5", "2024-12-18"),
    "0.4.0": ("2025.5.1.2", "2025-05-09"),
    "0.4.7": ("2025.11.1.1", "2025-11-04"),
    "0.4.10": ("2025.12.1.1", "2025-12-11"),
    "0.4.17": ("2026.2.3.2", "2026-02-19"),
}
PROTOCOL = "1.0"
MIN_NODE_VERSION = "0.4.15"
NOT_FOUND = "Not found try localhost:[port]/metrics"
SERVER_ERROR = "Something went wrong with the Metrics server"
CONTENT_TYPE = "application/openmetrics-text;charset=utf-8;version=1.0.0"


# --------------------------------------------------------------------------- knobs and versions


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
        if isinstance(default, bool):
            knobs[name] = str(value).lower() in ("1", "true", "yes")
        elif isinstance(default, int):
            knobs[name] = int(float(value))
        elif isinstance(default, float):
            knobs[name] = float(value)
        else:
            knobs[name] = str(value)
    return knobs


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def release_of(version: str) -> tuple[str, str, str]:
    """Package version, short git sha and build date printed by --version."""
    package, date = RELEASES.get(version, ("2026.2.3.2", "2026-02-19"))
    sha = hashlib.sha1(version.encode()).hexdigest()[:7]
    return package, sha, date


# --------------------------------------------------------------------------- ed25519 and peer ids

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _recover_x(y: int, sign: int) -> int:
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if x & 1 != sign:
        x = _P - x
    return x


_GY = 4 * pow(5, _P - 2, _P) % _P
_GX = _recover_x(_GY, 0)
_G = (_GX, _GY, 1, _GX * _GY % _P)


def _point_add(p: tuple[int, int, int, int], q: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = 2 * p[3] * q[3] * _D % _P
    d = 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def ed25519_public_key(seed: bytes) -> bytes:
    """RFC 8032 public key of a 32-byte secret seed (what libp2p derives the peer id from)."""
    digest = hashlib.sha512(seed).digest()
    scalar = int.from_bytes(digest[:32], "little")
    scalar &= (1 << 254) - 8
    scalar |= 1 << 254
    acc, addend = (0, 1, 1, 0), _G
    while scalar:
        if scalar & 1:
            acc = _point_add(acc, addend)
        addend = _point_add(addend, addend)
        scalar >>= 1
    z_inv = pow(acc[2], _P - 2, _P)
    x, y = acc[0] * z_inv % _P, acc[1] * z_inv % _P
    return (y | (x & 1) << 255).to_bytes(32, "little")


_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58(data: bytes) -> str:
    number, out = int.from_bytes(data, "big"), ""
    while number:
        number, rest = divmod(number, 58)
        out = _B58[rest] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def peer_id_of(seed: bytes) -> str:
    """libp2p peer id: identity multihash of the protobuf-wrapped ed25519 public key."""
    return base58(b"\x00\x24\x08\x01\x12\x20" + ed25519_public_key(seed))


# --------------------------------------------------------------------------- clap-like parsing


class UsageError(Exception):
    """A command-line error reported like clap (stderr, exit 2)."""


def _value_name(flag: str) -> str:
    return "<" + flag.lstrip("-").replace("-", "_").upper() + ">"


class ClapParser(argparse.ArgumentParser):
    """argparse configured to fail like clap 4: exit 2 with clap's wording on stderr."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(_clap_message(self.prog, message))


def _clap_message(prog: str, message: str) -> str:
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
        lines = "".join(f"\n  {f} {_value_name(f)}" for f in flags)
        text = f"the following required arguments were not provided:{lines}"
    else:
        text = message
    return f"error: {text}\n\nUsage: {prog} [OPTIONS] [COMMAND]\n\nFor more information, try '--help'.\n"


class Once(argparse.Action):
    """Store a value but refuse a second occurrence, like clap for single-valued options."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        seen = namespace.__dict__.setdefault("_seen", set())
        if self.dest in seen:
            raise argparse.ArgumentError(self, "!the argument '{flag}' cannot be used multiple times")
        seen.add(self.dest)
        setattr(namespace, self.dest, values)


def _typed(parse: Callable[[str], object], reason: str | None) -> Callable[[str], object]:
    def convert(value: str) -> object:
        try:
            return parse(value)
        except (ValueError, OverflowError) as exc:
            why = reason
            raise argparse.ArgumentTypeError(
                f"!invalid value '{value}' for '{{flag}}': {why or exc}"
            ) from None

    return convert


def _int_in(limit: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        if not value.isdigit():
            raise ValueError("invalid digit found in string")
        number = int(value)
        if number > limit:
            raise ValueError(f"{number} is not in 0..={limit}")
        return number

    return parse


def _ip(value: str) -> str:
    import ipaddress

    return str(ipaddress.ip_address(value))


def _socket_addr(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    port_number = _int_in(65535)(port)
    return _ip(host.strip("[]")), port_number


def _one_of(*choices: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in choices:
            raise ValueError(f"possible values: {', '.join(choices)}")
        return value

    return parse


U16 = _typed(_int_in(65535), None)
U8 = _typed(_int_in(255), None)
USIZE = _typed(_int_in(2**64 - 1), None)


def build_parser() -> ClapParser:
    parser = ClapParser(prog="antnode", description="Autonomi node (emulated)")
    opt = parser.add_argument
    opt("--rewards-address", action=Once)
    opt("--port", type=U16, default=0, action=Once)
    opt("--ip", type=_typed(_ip, "invalid IP address syntax"), default="0.0.0.0", action=Once)
    opt("--metrics-server-port", type=U16, default=0, action=Once)
    opt("--enable-metrics-server", action="store_true")
    opt("--root-dir", action=Once)
    opt("--log-output-dest", default="data-dir", action=Once)
    opt("--log-format", type=_typed(_one_of("default", "json"), None), action=Once)
    opt("--max-log-files", type=USIZE, action=Once)
    opt("--max-archived-log-files", type=USIZE, action=Once)
    opt("--rpc", type=_typed(_socket_addr, "invalid socket address syntax"), action=Once)
    opt("--network-id", type=U8, action=Once)
    for flag in (
        "--alpha",
        "--no-upnp",
        "--relay",
        "--first",
        "--local",
        "--ignore-cache",
        "--write-older-cache-files",
        "--stop-on-upgrade",
        "--version",
        "--crate-version",
        "--protocol-version",
        "--package-version",
    ):
        opt(flag, action="store_true")
    opt("--peer", action="append", default=[])
    opt("--network-contacts-url", action="append", default=[])
    opt("--bootstrap-cache-dir", action=Once)
    evm = parser.add_subparsers(dest="evm", parser_class=ClapParser, metavar="COMMAND")
    evm.add_parser("evm-arbitrum-one")
    evm.add_parser("evm-arbitrum-sepolia-test")
    custom = evm.add_parser("evm-custom")
    custom.add_argument("--rpc-url", required=True, action=Once)
    custom.add_argument("-p", "--payment-token-address", required=True, action=Once)
    custom.add_argument("-d", "--data-payments-address", required=True, action=Once)
    custom.add_argument("--merkle-payments-address", action=Once)
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
    """Parse like clap; raises UsageError with clap's text."""
    parser = build_parser()
    prescan(parser, argv, "antnode")
    args, extra = parser.parse_known_args(argv)
    if extra:
        prog = "antnode" + (f" {args.evm}" if args.evm else "")
        raise UsageError(
            f"error: unexpected argument '{extra[0]}' found\n\nUsage: {prog} [OPTIONS]\n\n"
            "For more information, try '--help'.\n"
        )
    if args.first and (args.peer or args.network_contacts_url):
        other = "--peer <multiaddr>" if args.peer else "--network-contacts-url <URL>"
        raise UsageError(_clap_message("antnode", f"argument --first: not allowed with argument {other}"))
    args.peer = [p for chunk in args.peer for p in chunk.split(",") if p]
    return args


# --------------------------------------------------------------------------- small helpers


def utc_stamp() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def fail(text: str, code: int = 1) -> int:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()
    return code


def rewards_error(address: str) -> str | None:
    body = address[2:] if address[:2].lower() == "0x" else address
    bad = re.search(r"[^0-9a-fA-F]", body)
    if bad:
        return f"Invalid character {bad.group()!r} at position {bad.start()}"
    if len(body) % 2:
        return "Odd number of digits"
    if len(body) != 40:
        return "Invalid string length"
    return None


class Log:
    """antnode's default log format: [<RFC3339 UTC> <LEVEL> <module> <line>] <message>."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.lock = threading.Lock()

    def write(self, level: str, module: str, line: int, message: str) -> None:
        text = f"[{utc_stamp()} {level} {module} {line}] {message}\n"
        with self.lock:
            if self.path is None:
                sys.stdout.write(text)
                sys.stdout.flush()
                return
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(text)

    def info(self, message: str, module: str = "ant_node::node", line: int = 476) -> None:
        self.write("INFO", module, line, message)


# --------------------------------------------------------------------------- OpenMetrics body


def fmt_value(value: object) -> str:
    if isinstance(value, float):
        text = repr(round(value, 4))
        return f"{value:.1f}" if "e" in text else text
    return str(value)


Labels = list[tuple[str, str]]
Series = list[tuple[Labels, Any]]


class Body:
    """OpenMetrics text pre-rendered once; only the dynamic sample values are filled per tick."""

    def __init__(self) -> None:
        self.parts: list[Any] = []

    def _text(self, text: str) -> None:
        if self.parts and isinstance(self.parts[-1], str):
            self.parts[-1] += text
        else:
            self.parts.append(text)

    def family(self, name: str, kind: str, help_text: str, unit: str | None = None) -> None:
        self._text(f"# HELP {name} {help_text}.\n# TYPE {name} {kind}\n")
        if unit:
            self._text(f"# UNIT {name} {unit}\n")

    def sample(self, name: str, labels: Labels, value: object) -> None:
        label_text = "{" + ",".join(f'{k}="{v}"' for k, v in labels) + "}" if labels else ""
        if isinstance(value, (int, float)):
            self._text(f"{name}{label_text} {fmt_value(value)}\n")
        else:
            self._text(f"{name}{label_text} ")
            self.parts.append(value)
            self._text("\n")

    def counter(self, name: str, help_text: str, series: Series, unit: str | None = None) -> None:
        self.family(name, "counter", help_text, unit)
        for labels, value in series:
            self.sample(name + "_total", labels, value)

    def gauge(self, name: str, help_text: str, series: Series) -> None:
        self.family(name, "gauge", help_text)
        for labels, value in series:
            self.sample(name, labels, value)

    def info(self, name: str, help_text: str, label: str, value: str) -> None:
        self.family(name, "info", help_text)
        self.sample(name + "_info", [(label, value)], 1)

    def histogram(
        self,
        name: str,
        help_text: str,
        bounds: list[float],
        series: list[tuple[Labels, float, float]],
        unit: str | None = None,
    ) -> None:
        """series: (labels, observations per second, mean observation)."""
        self.family(name, "histogram", help_text, unit)
        for labels, rate, mean in series:
            self.sample(name + "_sum", labels, ("hsum", rate, mean))
            self.sample(name + "_count", labels, ("rate", rate))
            for index, bound in enumerate(bounds):
                share = 1 - 0.55 ** (index + 1)
                self.sample(name + "_bucket", [*labels, ("le", repr(float(bound)))], ("rate", rate * share))
            self.sample(name + "_bucket", [*labels, ("le", "+Inf")], ("rate", rate))

    def render(self, values: dict[str, object], seconds: float) -> str:
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            kind = part[0]
            if kind == "key":
                out.append(fmt_value(values[part[1]]))
            elif kind == "rate":
                out.append(str(int(part[1] * seconds)))
            else:
                out.append(fmt_value(float(int(part[1] * seconds) * part[2])))
        return "".join(out)


def _key(name: str) -> tuple[str, str]:
    return ("key", name)


def _rate(per_second: float) -> tuple[str, float]:
    return ("rate", per_second)


def _exponential(start: float, factor: float, count: int) -> list[float]:
    return [round(start * factor**i, 6) for i in range(count)]


QUIC = "/ip4/udp/quic-v1/p2p"
QUIC6 = "/ip6/udp/quic-v1/p2p"
CIRCUIT = "/ip4/udp/quic-v1/p2p/p2p-circuit/p2p"


def standard_registry(version: tuple[int, ...], relay: bool, package: str) -> Body:
    """The /metrics families in registration order: ant_node_*, libp2p_*, ant_networking_*."""
    b = Body()
    newer = version > (0, 4, 7)
    b.counter(
        "ant_node_put_record_ok",
        "Number of successful record PUTs",
        [([("record_type", "Chunk")], _key("put_chunk"))],
    )
    b.counter("ant_node_put_record_err", "Number of errors during record PUTs", [([], 0)])
    b.counter("ant_node_put_record_err_v2", "Number of errors during record PUTs", [])
    b.counter(
        "ant_node_replication_triggered",
        "Number of time that replication has been triggered",
        [([], _rate(1 / 135))],
    )
    b.histogram(
        "ant_node_replication_keys_to_fetch",
        "Number of replication keys to fetch from the network",
        [1, 2, 4, 8],
        [([], 1 / 900, 1.5)],
    )
    if newer:
        b.histogram(
            "ant_node_network_wide_replication_holders_v2",
            "Share of close peers that hold a replicated record",
            [0.2, 0.4, 0.6, 0.8, 1.0],
            [([], 1 / 600, 0.8)],
        )
    b.counter(
        "ant_node_peer_added_to_routing_table",
        "Number of peers that have been added to the Routing Table",
        [([], _key("rt_added"))],
    )
    b.counter(
        "ant_node_peer_removed_from_routing_table",
        "Number of peers that have been removed from the Routing Table",
        [([], _key("rt_removed"))],
    )
    b.gauge(
        "ant_node_current_reward_wallet_balance", "The number of Nanos in the node reward wallet", [([], 0)]
    )
    b.gauge(
        "ant_node_total_forwarded_rewards", "The cumulative number of Nanos forwarded by the node", [([], 0)]
    )
    b.gauge("ant_node_uptime", "The uptime of the node in seconds", [([], _key("uptime"))])
    _libp2p_families(b)
    _networking_families(b, newer, relay, package)
    if version >= (0, 4, 14):
        b.counter(
            "ant_networking_version_check_result",
            "Peer version check results by type (accepted/rejected/legacy/parse_error)",
            [
                ([("peer_type", "Node"), ("result", "Accepted")], _key("vc_node")),
                ([("peer_type", "Client"), ("result", "Accepted")], _key("vc_client")),
                ([("peer_type", "Node"), ("result", "Rejected")], _key("vc_rejected")),
            ],
        )
    return b


def _libp2p_families(b: Body) -> None:
    b.counter(
        "libp2p_bandwidth_bytes",
        "Bandwidth usage by direction and transport protocols",
        [
            ([("protocols", proto), ("direction", way)], _rate(rate))
            for proto, scale in ((QUIC, 1.0), (QUIC6, 0.05), (CIRCUIT, 0.01))
            for way, rate in (("Inbound", 4800 * scale), ("Outbound", 1850 * scale))
        ],
        unit="bytes",
    )
    b.counter(
        "libp2p_identify_errors",
        "Number of errors while attempting to identify the remote",
        [([], _rate(1 / 300))],
    )
    b.counter(
        "libp2p_identify_pushed",
        "Number of times identification information of the local node has been actively pushed to a peer",
        [([], _rate(1 / 120))],
    )
    b.counter(
        "libp2p_identify_received",
        "Number of times identification information has been received from a peer",
        [([], _rate(1 / 4))],
    )
    b.counter(
        "libp2p_identify_sent",
        "Number of times identification information of the local "
        "node has been sent to a peer in response to an identification request",
        [([], _rate(1 / 4))],
    )
    protocols = [
        "/ipfs/id/1.0.0",
        "/ipfs/id/push/1.0.0",
        "/autonomi/kad/1.0.0",
        "/autonomi/1.0/1/req_resp",
        "/libp2p/circuit/relay/0.2.0/hop",
        "/libp2p/circuit/relay/0.2.0/stop",
        "/libp2p/autonat/1.0.0",
        "unrecognized",
    ]
    b.gauge(
        "libp2p_identify_remote_protocols",
        "Number of connected nodes supporting a specific "
        'protocol, with "unrecognized" for each peer supporting one or more unrecognized '
        "protocols",
        [([("protocol", p)], _key("peers")) for p in protocols],
    )
    b.gauge(
        "libp2p_identify_remote_listen_addresses",
        "Number of connected nodes advertising a specific listen address",
        [([("listen_address", a)], _key("peers")) for a in (QUIC, QUIC6, CIRCUIT)],
    )
    b.gauge(
        "libp2p_identify_local_observed_addresses",
        "Number of connected nodes observing the local node at a specific address",
        [([("observed_address", a)], _key("peers")) for a in (QUIC, QUIC6)],
    )
    b.counter(
        "libp2p_kad_query_result_get_record_ok",
        "Number of records returned by a successful Kademlia get record query",
        [([], _rate(1 / 40))],
    )
    b.counter(
        "libp2p_kad_query_result_get_record_error",
        "Number of failed Kademlia get record queries",
        [
            ([("error", e)], _rate(r))
            for e, r in (("NotFound", 1 / 90), ("QuorumFailed", 1 / 900), ("Timeout", 1 / 600))
        ],
    )
    b.histogram(
        "libp2p_kad_query_result_get_closest_peers_ok",
        "Number of closest peers returned by a successful Kademlia get closest peers query",
        _exponential(1, 2, 8),
        [([], 1 / 30, 18.0)],
    )
    b.counter(
        "libp2p_kad_query_result_get_closest_peers_error",
        "Number of failed Kademlia get closest peers queries",
        [([("error", "Timeout")], _rate(1 / 700))],
    )
    b.histogram(
        "libp2p_kad_query_result_get_providers_ok",
        "Number of providers returned by a successful Kademlia get providers query",
        _exponential(1, 2, 8),
        [],
    )
    b.counter(
        "libp2p_kad_query_result_get_providers_error", "Number of failed Kademlia get providers queries", []
    )
    kinds = (
        ("GetClosestPeers", 1 / 30),
        ("GetRecord", 1 / 25),
        ("PutRecord", 1 / 400),
    )
    for metric, text, mean in (
        ("num_requests", "Number of requests started for a Kademlia query", 22.0),
        ("num_success", "Number of successful requests of a Kademlia query", 19.0),
    ):
        b.histogram(
            f"libp2p_kad_query_result_{metric}",
            text,
            _exponential(1, 2, 8),
            [([("type", k)], r, mean) for k, r in kinds],
        )
    b.histogram(
        "libp2p_kad_query_result_duration_seconds",
        "Duration of a Kademlia query",
        _exponential(0.1, 2, 8),
        [([("type", k)], r, 2.4) for k, r in kinds],
        unit="seconds",
    )
    b.counter(
        "libp2p_kad_routing_updated",
        "Number of peers added, updated or evicted to, in or from a specific kbucket in the routing table",
        [
            ([("action", a), ("bucket", str(n))], _rate(r / (256 - n)))
            for n in range(248, 256)
            for a, r in (("Added", 0.02), ("Updated", 0.2))
        ],
    )
    b.counter(
        "libp2p_kad_inbound_requests",
        "Number of inbound requests",
        [
            ([("request", q)], _rate(r))
            for q, r in (("FindNode", 2.1), ("GetRecord", 0.6), ("PutRecord", 0.05))
        ],
    )
    b.counter(
        "libp2p_relay_events",
        "Events emitted by the relay NetworkBehaviour",
        [
            ([("event", e)], _rate(r))
            for e, r in (
                ("ReservationReqAccepted", 1 / 900),
                ("ReservationReqDenied", 1 / 1800),
                ("CircuitReqAccepted", 1 / 1200),
                ("CircuitClosed", 1 / 1300),
            )
        ],
    )
    roles = (("Dialer", 0.09), ("Listener", 0.06))
    stacks = ((QUIC, 1.0), (QUIC6, 0.05))
    b.counter(
        "libp2p_swarm_connections_incoming",
        "Number of incoming connections per address stack",
        [([("protocols", p)], _rate(r)) for p, r in ((QUIC, 0.06), (QUIC6, 0.003))],
    )
    b.counter(
        "libp2p_swarm_connections_incoming_error",
        "Number of incoming connection errors",
        [
            ([("error", e), ("protocols", QUIC)], _rate(r))
            for e, r in (("TransportErrorOther", 0.004), ("Aborted", 0.001), ("Denied", 0.0005))
        ],
    )
    b.counter(
        "libp2p_swarm_connections_established",
        "Number of connections established",
        [([("role", r), ("protocols", QUIC)], _rate(rate)) for r, rate in roles],
    )
    b.histogram(
        "libp2p_swarm_connections_establishment_duration_seconds",
        "Time it took (locally) to establish connections",
        _exponential(0.01, 1.5, 20),
        [([("role", r), ("protocols", p)], rate * s, 0.35) for r, rate in roles for p, s in stacks],
        unit="seconds",
    )
    b.histogram(
        "libp2p_swarm_connections_duration_seconds",
        "Time a connection was alive",
        _exponential(0.01, 3, 20),
        [
            ([("role", r), ("protocols", p), ("cause", "KeepAliveTimeout")], rate * s, 95.0)
            for r, rate in roles
            for p, s in stacks
        ],
        unit="seconds",
    )
    b.counter("libp2p_swarm_new_listen_addr", "Number of new listen addresses", [([("protocols", QUIC)], 1)])
    b.counter("libp2p_swarm_expired_listen_addr", "Number of expired listen addresses", [])
    b.counter(
        "libp2p_swarm_external_addr_candidates",
        "Number of new external address candidates",
        [([("protocols", QUIC)], _rate(1 / 60))],
    )
    b.counter(
        "libp2p_swarm_external_addr_confirmed",
        "Number of confirmed external addresses",
        [([("protocols", QUIC)], 1)],
    )
    b.counter("libp2p_swarm_external_addr_expired", "Number of expired external addresses", [])
    b.counter("libp2p_swarm_listener_closed", "Number of listeners closed", [])
    b.counter("libp2p_swarm_listener_error", "Number of listener errors", [([], 0)])
    b.counter("libp2p_swarm_dial_attempt", "Number of dial attempts", [([], _rate(0.11))])
    b.counter(
        "libp2p_swarm_outgoing_connection_error",
        "Number outgoing connection errors",
        [
            ([("peer", p), ("error", e)], _rate(r))
            for p, e, r in (
                ("Known", "TransportOther", 0.012),
                ("Known", "Aborted", 0.003),
                ("Unknown", "TransportOther", 0.002),
            )
        ],
    )


def _networking_families(b: Body, newer: bool, relay: bool, package: str) -> None:
    b.gauge("ant_networking_records_stored", "The number of records stored locally", [([], _key("records"))])
    b.gauge(
        "ant_networking_relay_reservation_health",
        "The average health of all the relay reservation connections. Value is between 0-1",
        [([], 1.0)] if relay else [],
    )
    b.gauge(
        "ant_networking_connected_peers",
        "The number of peers that we are currently connected to",
        [([], _key("peers"))],
    )
    b.gauge(
        "ant_networking_connected_relay_clients",
        "The number of relay clients that are currently connected to us",
        [([], 0)],
    )
    b.gauge(
        "ant_networking_estimated_network_size",
        "The estimated number of nodes in the network calculated by the peers in our RT",
        [([], _key("netsize"))],
    )
    b.gauge(
        "ant_networking_relay_peers_percentage",
        "The percentage of relay peers in our routing table",
        [([], 0.0)],
    )
    b.gauge(
        "ant_networking_open_connections",
        "The number of active connections to other peers",
        [([], _key("open_conns"))],
    )
    b.gauge(
        "ant_networking_peers_in_routing_table",
        "The total number of peers in our routing table",
        [([], _key("rt"))],
    )
    b.gauge(
        "ant_networking_relay_peers_in_routing_table",
        "The total number of relay peers in our routing table",
        [([], 0)],
    )
    b.counter(
        "ant_networking_shunned_count", "Number of peers that have shunned our node", [([], _key("shunned"))]
    )
    b.counter(
        "ant_networking_bad_peers_count",
        "Number of bad peers that have been detected by us and been added to the blocklist",
        [([], _key("bad_peers"))],
    )
    b.counter(
        "ant_networking_upnp_events",
        "Events emitted by the UPnP behaviour",
        [] if relay else [([("event", "GatewayNotFound")], 1)],
    )
    b.counter(
        "ant_networking_relay_client_events",
        "Events emitted by the relay client",
        [([("event", "ReservationReqAccepted")], _rate(1 / 600))] if relay else [],
    )
    b.gauge(
        "ant_networking_node_versions",
        "Number of nodes running each version",
        [([("version", v)], _key(f"nv{i}")) for i, v in enumerate(_peer_versions(package))],
    )
    b.gauge(
        "ant_networking_process_memory_used_mb",
        "Memory used by the process in MegaBytes",
        [([], _key("mem"))],
    )
    b.gauge(
        "ant_networking_process_cpu_usage_percentage",
        "The percentage of CPU used by the process. Value is from 0-100",
        [([], _key("cpu"))],
    )
    if newer:
        b.gauge(
            "ant_networking_replicate_candidates_v2",
            "Number of replication candidates per distance range",
            [([("range", r)], _key("peers")) for r in ("close_group", "extended")],
        )
        b.counter(
            "ant_networking_replication_sender_range_v2",
            "Replication requests received per sender range",
            [([("range", r)], _rate(x)) for r, x in (("InRange", 0.02), ("OutOfRange", 0.002))],
        )
        b.gauge(
            "ant_networking_replication_sender_close_group_threshold_v2",
            "Close group size used to accept replication senders",
            [([], 5)],
        )
        b.gauge(
            "ant_networking_replication_sender_extended_distance_multiplier_v2",
            "Multiplier applied to the close group distance for replication senders",
            [([], 2)],
        )
        b.gauge(
            "ant_networking_replication_sender_extended_distance_ilog2_v2",
            "ilog2 of the extended replication sender distance",
            [([], 238)],
        )
        b.gauge(
            "ant_networking_distance_range_v2", "ilog2 of the current responsible distance range", [([], 237)]
        )
        b.counter(
            "ant_networking_replication_sender_outcome_v2",
            "Outcome of replication requests by sender check",
            [([("outcome", o)], _rate(x)) for o, x in (("Accepted", 0.02), ("Rejected", 0.001))],
        )
        b.gauge(
            "ant_networking_replication_keys_incoming_percentages_v2",
            "Share of incoming replication keys by kind",
            [
                ([("metric_type", m)], v)
                for m, v in (("new_keys", 0.12), ("already_held", 0.85), ("out_of_range", 0.03))
            ],
        )
    b.gauge(
        "ant_networking_relevant_records",
        "The number of records that we're responsible for. This is used to calculate the store cost",
        [([], _key("q_relevant"))],
    )
    b.gauge(
        "ant_networking_max_records",
        "The maximum number of records that we can store. This is used to calculate the store cost",
        [([], _key("q_max"))],
    )
    b.gauge(
        "ant_networking_received_payment_count",
        "The number of payments received by our node. This is used to calculate the store cost",
        [([], _key("q_payments"))],
    )
    b.gauge(
        "ant_networking_live_time",
        "The time for which the node has been alive. This is used to calculate the store cost",
        [([], _key("q_live"))],
    )
    b.gauge(
        "ant_networking_shunned_by_close_group",
        "The number of close group peers that have shunned our node",
        [([], _key("shunned_cg"))],
    )
    b.gauge(
        "ant_networking_shunned_by_old_close_group",
        "The number of close group peers that have "
        "shunned our node. This contains the peers that are no longer present in our close "
        "group",
        [([], 0)],
    )


def extended_registry() -> Body:
    b = Body()
    b.gauge(
        "ant_networking_shunned_count_across_time_frames",
        "Number of peers that have shunned our node across different time frames",
        [
            ([("time_frame", f)], _key("shunned"))
            for f in ("LastTenMinutes", "LastHour", "LastSixHours", "LastDay", "LastWeek", "Indefinite")
        ],
    )
    return b


def metadata_body(version: str, peer_id: str, network_id: int) -> str:
    b = Body()
    b.info("ant_node_antnode_version", "The version of the ant node", "antnode_version", version)
    b.info("ant_node_antnode_branch", "The branch of the ant node", "antnode_branch", "stable")
    b.info("ant_networking_peer_id", "Identifier of a peer of the network", "peer_id", peer_id)
    b.info(
        "ant_networking_identify_protocol_str",
        "The protocol version string that is used to connect to the correct network",
        "identify_protocol_str",
        f"ant/{PROTOCOL}/{network_id}",
    )
    if version_tuple(version) >= (0, 4, 14):
        b.info(
            "ant_networking_min_node_version",
            "Minimum required node version for connecting peers",
            "min_node_version",
            MIN_NODE_VERSION,
        )
    return b.render({}, 0) + "# EOF\n"


def _peer_versions(package: str) -> list[str]:
    older = ["2025.11.1.1", "2025.12.1.1", "2026.1.2.3"]
    return [v for v in older if v != package] + [package]


class Evolution:
    """Synthetic metric values as a pure function of emulated time, seeded by the peer id."""

    def __init__(self, seed: str, knobs: dict[str, Any], records_at_start: int) -> None:
        rng = random.Random(seed)
        self.seed = seed
        self.peers_target = int(knobs["peers_target"]) or rng.randint(8, 60)
        self.rt_target = rng.randint(150, 400)
        self.netsize_base = rng.randint(300_000, 4_000_000)
        self.mem_base = rng.uniform(80.0, 140.0)
        self.quote_after = float(knobs["quote_after"])
        self.records_per_hour = float(knobs["records_per_hour"])
        self.records_at_start = records_at_start

    def records(self, seconds: float) -> int:
        grown = int(self.records_per_hour * seconds / 3600)
        return min(16384, self.records_at_start + grown)

    def values(self, tick: int, versions: int) -> dict[str, object]:
        """Values after `tick` complete 10-second periods (uptime moves in 10 s steps)."""
        seconds = tick * 10.0
        jitter = random.Random(f"{self.seed}/{tick}")
        ramp = min(1.0, seconds / 60.0)
        peers = 0 if tick == 0 else max(0, int(self.peers_target * ramp) + jitter.randint(-2, 2))
        rt = int(self.rt_target * min(1.0, seconds / 120.0))
        records = self.records(seconds)
        minute = int(seconds // 60)
        minute_rng = random.Random(f"{self.seed}/m{minute}")
        quoted = seconds >= self.quote_after
        values: dict[str, object] = {
            "uptime": int(seconds),
            "put_chunk": records - self.records_at_start,
            "rt_added": rt + int(seconds / 60),
            "rt_removed": int(seconds / 60),
            "records": records,
            "peers": peers,
            "open_conns": peers + (jitter.randint(0, 3) if peers else 0),
            "rt": rt,
            "netsize": 0 if rt == 0 else int(self.netsize_base * jitter.uniform(0.9, 1.1)),
            "shunned": int(seconds / 7200),
            "bad_peers": int(seconds / 900),
            "mem": 0.0 if minute == 0 else round(self.mem_base + 0.4 * minute + minute_rng.uniform(-2, 2), 4),
            "cpu": 0.0 if minute == 0 else round(minute_rng.uniform(0.01, 2.5), 4),
            "q_relevant": int(records * 0.9) if quoted else 0,
            "q_max": 16384 if quoted else 0,
            "q_payments": int((seconds - self.quote_after) / 5400) if quoted else 0,
            "q_live": int(seconds) if quoted else 0,
            "shunned_cg": 0,
            "vc_node": rt + int(seconds / 20),
            "vc_client": int(seconds / 90),
            "vc_rejected": int(seconds / 1800),
        }
        shares = [0.04, 0.12, 0.3, 0.54][-versions:]
        for index, share in enumerate(shares):
            values[f"nv{index}"] = int(rt * share)
        return values


# --------------------------------------------------------------------------- metrics server


class Metrics:
    """Renders the three endpoints, caching each body per 10-second tick."""

    def __init__(self, node: Node) -> None:
        self.node = node
        version = node.version
        package = release_of(version)[0]
        self.versions = len(_peer_versions(package))
        self.standard = standard_registry(version_tuple(version), node.args.relay, package)
        self.extended = extended_registry()
        self.metadata = metadata_body(version, node.peer_id, node.network_id).encode()
        self.lock = threading.Lock()
        self.cache: dict[str, tuple[int, bytes]] = {}

    def body(self, path: str) -> bytes | None:
        if path == "/metadata":
            return self.metadata
        if path not in ("/metrics", "/metrics_extended"):
            return None
        seconds = self.node.emulated_seconds()
        tick = int(seconds // 10)
        with self.lock:
            cached = self.cache.get(path)
            if cached and cached[0] == tick:
                return cached[1]
            values = self.node.evolution.values(tick, self.versions)
            text = self.standard.render(values, tick * 10.0)
            if path == "/metrics_extended":
                text += self.extended.render(values, tick * 10.0)
            data = (text + "# EOF\n").encode()
            self.cache[path] = (tick, data)
            return data


def start_metrics_server(node: Node, port: int) -> Any:
    """Serve on 127.0.0.1:<port> in a daemon thread; OSError when the port is busy."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import urlsplit

    metrics = Metrics(node)
    mode = str(node.knobs["metrics_mode"])

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 60

        def log_message(self, format: str, *args: object) -> None:
            return

        def reply(self, code: int, body: bytes, content_type: str | None, cut: bool = False) -> None:
            self.send_response_only(code)
            if content_type:
                self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            self.send_header("date", self.date_time_string())
            self.end_headers()
            if self.command == "HEAD":
                return
            if cut:
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            self.wfile.write(body)

        def do_GET(self) -> None:
            if mode == "hang":
                threading.Event().wait()
            if mode.startswith("slow:"):
                time.sleep(float(mode.split(":", 1)[1] or 0))
            if mode == "404":
                self.reply(404, NOT_FOUND.encode(), None)
                return
            if mode == "500":
                self.reply(500, SERVER_ERROR.encode(), None)
                return
            if mode == "garbage":
                junk = bytes(random.getrandbits(8) for _ in range(256))
                self.reply(200, b"<html><body>\x00garbage\n" + junk, "text/html")
                return
            body = metrics.body(urlsplit(self.path).path)
            if body is None:
                self.reply(404, NOT_FOUND.encode(), None)
                return
            self.reply(200, body, CONTENT_TYPE, cut=mode == "truncated")

        do_HEAD = do_GET
        do_POST = do_GET

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        block_on_close = False
        allow_reuse_address = True

    server = Server(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.5}, daemon=True)
    thread.start()
    return server


# --------------------------------------------------------------------------- the node


class Interrupted(Exception):
    """SIGINT arrived (raised from the signal handler in the main thread)."""


class Node:
    """One running emulated antnode process."""

    def __init__(self, args: argparse.Namespace, argv: list[str], evm_text: str) -> None:
        self.args = args
        self.argv = argv
        self.evm_text = evm_text
        self.version = str(BAKED["version"])
        self.network_id = args.network_id if args.network_id is not None else (2 if args.alpha else 1)
        self.exe = os.path.realpath(sys.argv[0])
        self.started = time.monotonic()
        self.knobs = load_knobs(args.root_dir)
        self.udp: socket.socket | None = None
        self.rpc: socket.socket | None = None
        self.server: Any = None
        self.log = Log(None)
        self.log_dest = "stdout"
        self.crit_dir = ""
        self.peer_id = ""

    def emulated_seconds(self) -> float:
        return (time.monotonic() - self.started) * float(self.knobs["time_scale"])

    # ---- start-up steps

    def load_identity(self) -> None:
        if self.args.root_dir:
            self.root = os.path.abspath(self.args.root_dir)
            os.makedirs(self.root, exist_ok=True)
            key_path = os.path.join(self.root, "secret-key")
            try:
                with open(key_path, "rb") as handle:
                    seed = handle.read()
                if len(seed) != 32:
                    raise ValueError(f"secret key has {len(seed)} bytes, expected 32")
            except FileNotFoundError:
                seed = os.urandom(32)
                fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(seed)
            self.peer_id = peer_id_of(seed)
        else:
            seed = os.urandom(32)
            self.peer_id = peer_id_of(seed)
            self.root = self.default_node_dir()
            os.makedirs(self.root, exist_ok=True)
            fd = os.open(os.path.join(self.root, "secret-key"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(seed)
            self.knobs = load_knobs(self.root)

    def default_node_dir(self) -> str:
        return os.path.join(os.path.expanduser("~"), ".local", "share", "autonomi", "node", self.peer_id)

    def init_logging(self) -> None:
        dest = self.args.log_output_dest
        stem = os.path.splitext(os.path.basename(sys.argv[0]))[0] or "antnode"
        if dest == "stdout":
            self.log, self.crit_dir, self.log_dest = Log(None), self.root, "stdout"
            say("Logging to stdout")
            return
        if dest == "data-dir":
            directory = os.path.join(self.default_node_dir(), "logs")
            path = os.path.join(directory, f"{stem}.log")
            say(f'Logging to directory: "{directory}"')
        elif dest.endswith(".log"):
            path = os.path.abspath(dest)
            directory = os.path.dirname(path)
            say(f'Logging to file: "{path}"')
        else:
            directory = os.path.abspath(dest)
            path = os.path.join(directory, f"{stem}.log")
            say(f'Logging to directory: "{directory}"')
        os.makedirs(directory, exist_ok=True)
        self.log, self.crit_dir, self.log_dest = Log(path), directory, directory
        try:
            os.unlink(os.path.join(directory, "critical_failure.log"))
        except FileNotFoundError:
            pass

    def critical_failure(self, reason: str) -> None:
        directory = self.crit_dir or getattr(self, "root", "")
        if not directory:
            return  # stopped before the root dir was known
        try:
            with open(os.path.join(directory, "critical_failure.log"), "w", encoding="utf-8") as handle:
                handle.write(f"[{utc_stamp()}] {reason}\n")
        except OSError:
            pass

    def prepare_root(self) -> None:
        store = os.path.join(self.root, "record_store")
        key_version = os.path.join(self.root, "network_key_version")
        try:
            with open(key_version, encoding="utf-8") as handle:
                previous = handle.read().strip()
        except FileNotFoundError:
            previous = None
        if previous is not None and previous != str(self.network_id):
            shutil.rmtree(store, ignore_errors=True)
            self.log.info(f"Network key version changed from {previous}: record store wiped")
        with open(key_version, "w", encoding="utf-8") as handle:
            handle.write(str(self.network_id))
        os.makedirs(store, exist_ok=True)
        self.store = store
        self.records_written = len(os.listdir(store))
        self.evolution = Evolution(self.peer_id, self.knobs, self.records_written)

    def bind_udp(self) -> None:
        family = socket.AF_INET6 if ":" in self.args.ip else socket.AF_INET
        self.udp = socket.socket(family, socket.SOCK_DGRAM)
        self.udp.bind((self.args.ip, self.args.port))
        self.port = self.udp.getsockname()[1]
        self.log.info(
            f"Listening on /ip4/{self.args.ip}/udp/{self.port}/quic-v1", "ant_node::networking::driver", 812
        )

    def start_metrics(self) -> None:
        enabled = self.args.enable_metrics_server or self.args.metrics_server_port != 0
        if not enabled:
            return
        try:
            server = start_metrics_server(self, self.args.metrics_server_port)
        except OSError as exc:
            sys.stderr.write(
                "thread 'tokio-runtime-worker' panicked at ant-node/src/networking/metrics/service.rs:"
                f"41:10:\nFailed to bind metrics server to 127.0.0.1:{self.args.metrics_server_port}: "
                f"{exc.strerror} (os error {exc.errno})\nnote: run with `RUST_BACKTRACE=1` "
                "environment variable to display a backtrace\n"
            )
            sys.stderr.flush()
            return
        self.server = server
        port = server.server_address[1]
        say(f"Metrics server on http://127.0.0.1:{port}/metrics")
        self.log.info(f"Metrics server on http://127.0.0.1:{port}/metrics", "ant_node::metrics", 96)

    def announce(self) -> None:
        say()
        say("Node started")
        say()
        say(f"PeerId is {self.peer_id}")
        say("You can check your reward balance by running:")
        say(f"`safe wallet balance --peer-id={self.peer_id}`")
        self.log.info(f"Node started, PeerId is {self.peer_id}")
        with open(os.path.join(self.root, "antnode.pid"), "w", encoding="utf-8") as handle:
            handle.write(str(os.getpid()))
        if self.args.rpc:
            host, port = self.args.rpc
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            self.rpc = socket.socket(family, socket.SOCK_STREAM)
            self.rpc.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.rpc.bind((host, port))
            self.rpc.listen(16)
            say(f"RPC Server listening on {host}:{port}")

    # ---- running

    def run(self) -> int:
        say(f"EVM network: {self.evm_text}")
        self.load_identity()
        self.init_logging()
        self.log.info(f"Running antnode v{self.version}", "antnode", 317)
        self.log.info(f"EVM network: {self.evm_text}", "antnode", 325)
        self.prepare_root()
        if not self.args.first and self.knobs["bootstrap"] == "no-peers":
            time.sleep(float(self.knobs["bootstrap_fail_delay"]))
            self.log.write("ERROR", "antnode", 288, "Failed to obtain any bootstrap peers")
            return fail("Error: Failed to obtain any bootstrap peers")
        time.sleep(float(self.knobs["startup_delay"]))
        try:
            self.bind_udp()
        except OSError as exc:
            where = f"/ip4/{self.args.ip}/udp/{self.args.port}/quic-v1"
            self.log.write("ERROR", "antnode", 402, f"Failed to listen on {where}: {exc}")
            return fail(f"Error: Failed to listen on {where}: {exc.strerror} (os error {exc.errno})")
        self.start_metrics()
        try:
            self.announce()
        except OSError as exc:
            return fail(f"Error: Failed to start the RPC service: {exc.strerror} (os error {exc.errno})")
        self.write_bootstrap_cache()
        return self.loop()

    def write_bootstrap_cache(self) -> None:
        if not self.args.bootstrap_cache_dir:
            return
        os.makedirs(self.args.bootstrap_cache_dir, exist_ok=True)
        suffix = "_local" if self.args.local else ""
        name = f"bootstrap_cache_{self.network_id}_{PROTOCOL}{suffix}.json"
        peers = [
            f"/ip4/10.{i}.0.1/udp/{12000 + i}/quic-v1/p2p/{peer_id_of(bytes([i]) * 32)}" for i in range(1, 6)
        ]
        data = {"peers": [[p] for p in peers], "last_updated": int(time.time()), "network_version": PROTOCOL}
        with open(os.path.join(self.args.bootstrap_cache_dir, name), "w", encoding="utf-8") as handle:
            json.dump(data, handle)

    def loop(self) -> int:
        crash_after = float(self.knobs["crash_after"])
        upgrade_after = float(self.knobs["upgrade_after"])
        connected_logged = False
        while True:
            elapsed = time.monotonic() - self.started
            if crash_after and elapsed >= crash_after:
                return self.crash()
            if upgrade_after and elapsed >= upgrade_after:
                upgrade_after = 0.0
                code = self.self_upgrade()
                if code is not None:
                    return code
            seconds = self.emulated_seconds()
            peers = self.evolution.values(int(seconds // 10), 4)["peers"]
            if not connected_logged and isinstance(peers, int) and peers > 5:
                self.log.info("NodeConnectedToNetwork")
                connected_logged = True
            self.grow_records(seconds)
            waits = [1.0] + [t - elapsed for t in (crash_after, upgrade_after) if t]
            time.sleep(max(0.01, min(waits)))

    def grow_records(self, seconds: float) -> None:
        target = self.evolution.records(seconds)
        size = int(self.knobs["record_bytes"])
        while self.records_written < target:
            name = os.urandom(32).hex()
            with open(os.path.join(self.store, name), "wb") as handle:
                handle.write(os.urandom(size))
            self.records_written += 1
            self.log.info(f"Record {name} stored", "ant_node::networking::record_store", 871)

    def crash(self) -> int:
        code = int(self.knobs["crash_exit_code"])
        reason = "Node terminated due to: emulated crash"
        self.critical_failure(reason)
        self.log.write("ERROR", "antnode", 530, reason)
        sys.stderr.write(f"Error: {reason}\n")
        sys.stderr.flush()
        sys.stdout.flush()
        if code < 0:
            signal.signal(-code, signal.SIG_DFL)
            os.kill(os.getpid(), -code)
            time.sleep(5)
        os._exit(code)

    def stop_on_sigint(self) -> int:
        say(f"Node is stopping in 1s... Node log path: {self.log_dest}")
        self.log.info("Ctrl-C received!", "antnode", 360)
        self.critical_failure("Ctrl-C received!")
        time.sleep(float(self.knobs["sigint_delay"]))
        return fail("Error: Ctrl-C received!")

    def self_upgrade(self) -> int | None:
        """Replace our executable in place, then exit 0 or re-spawn; None when nothing to do."""
        source = str(self.knobs["upgrade_from"])
        try:
            with open(source, "rb") as handle:
                new = handle.read()
            with open(self.exe, "rb") as handle:
                current = handle.read()
        except OSError as exc:
            self.log.write("WARN", "antnode::upgrade", 118, f"Upgrade check failed: {exc}")
            return None
        if new == current:
            self.log.info("Running binary is the latest release", "antnode::upgrade", 97)
            return None
        directory, name = os.path.split(self.exe)
        temporary = os.path.join(directory, f".{name}.upgrade-{os.getpid()}")
        with open(temporary, "wb") as handle:
            handle.write(new)
        os.chmod(temporary, 0o755)
        os.replace(temporary, self.exe)
        self.log.info(f"Binary {self.exe} replaced by the new release", "antnode::upgrade", 212)
        if self.args.stop_on_upgrade:
            say("Node stopped after upgrade. Service manager will handle restart.")
            return 0
        self.release_ports()
        argv = [a for a in self.argv if a != "--first"]
        if "--port" not in argv:
            argv = ["--port", str(self.port), *argv]
        if "--root-dir" not in argv:
            argv = ["--root-dir", self.root, *argv]
        try:
            subprocess.Popen([self.exe, *argv], close_fds=True)
        except OSError:
            subprocess.Popen([sys.executable, self.exe, *argv], close_fds=True)
        say("A new node process has been started successfully.")
        return 0

    def release_ports(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        for sock in (self.udp, self.rpc):
            if sock is not None:
                sock.close()


# --------------------------------------------------------------------------- entry point


def evm_description(args: argparse.Namespace, network_id: int) -> str | None:
    if args.evm == "evm-arbitrum-one":
        return "ArbitrumOne"
    if args.evm == "evm-arbitrum-sepolia-test":
        return "ArbitrumSepoliaTest"
    if args.evm == "evm-custom":
        return _custom(
            args.rpc_url, args.payment_token_address, args.data_payments_address, args.merkle_payments_address
        )
    env = os.environ
    if env.get("EVM_NETWORK") == "local" or all(
        env.get(k) for k in ("RPC_URL", "PAYMENT_TOKEN_ADDRESS", "DATA_PAYMENTS_ADDRESS")
    ):
        return _custom(
            env.get("RPC_URL", "http://localhost:4343"),
            env.get("PAYMENT_TOKEN_ADDRESS", ""),
            env.get("DATA_PAYMENTS_ADDRESS", ""),
            env.get("MERKLE_PAYMENTS_ADDRESS"),
        )
    return {1: "ArbitrumOne", 2: "ArbitrumSepoliaTest"}.get(network_id)


def _custom(rpc: str, token: str, payments: str, merkle: str | None) -> str:
    merkle_text = f"Some({merkle})" if merkle else "None"
    return (
        f'Custom(CustomNetwork {{ rpc_url_http: "{rpc}", payment_token_address: {token}, '
        f"data_payments_address: {payments}, merkle_payments_address: {merkle_text} }})"
    )


def version_text(version: str, network_id: int) -> str:
    package, sha, date = release_of(version)
    return (
        f"Autonomi Node v{version}\nNetwork version: ant/{PROTOCOL}/{network_id}\n"
        f"Package version: {package}\nGit info: stable / {sha} / {date}"
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = parse_args(argv)
    except UsageError as exc:
        sys.stderr.write(str(exc))
        return 2
    version = str(BAKED["version"])
    network_id = args.network_id if args.network_id is not None else (2 if args.alpha else 1)
    if args.version:
        say(version_text(version, network_id))
        return 0
    if not args.rewards_address:
        return fail(
            "thread 'main' panicked at ant-node/src/bin/antnode/main.rs:270:10:\n"
            "the following required arguments were not provided: --rewards-address <REWARDS_ADDRESS>\n"
            "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
            101,
        )
    problem = rewards_error(args.rewards_address)
    if problem:
        return fail(f"Error: Failed to parse rewards address '{args.rewards_address}': {problem}")
    if args.crate_version:
        say(f"Crate version: {version}")
        return 0
    if args.protocol_version:
        say(f"Network version: ant/{PROTOCOL}/{network_id}")
        return 0
    if args.package_version:
        say(f"Package version: {release_of(version)[0]}")
        return 0
    evm_text = evm_description(args, network_id)
    if evm_text is None:
        return fail(
            "Error: EVM network not specified. Please specify a network using the subcommand "
            "or by setting the `EVM_NETWORK` environment variable."
        )

    def on_sigint(signum: int, frame: object) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise Interrupted()

    signal.signal(signal.SIGINT, on_sigint)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    node = Node(args, argv, evm_text)
    try:
        return node.run()
    except Interrupted:
        return node.stop_on_sigint()


if __name__ == "__main__":
    sys.exit(main())

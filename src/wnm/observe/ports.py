"""Local ports already taken on this host, so a new node never gets a busy port.

On Linux the kernel's socket tables in ``/proc/net`` are read directly: listening TCP sockets
and every bound UDP socket, IPv4 and IPv6. That is a few file reads even with thousands of
sockets, and needs no privileges. Elsewhere psutil's connection list is used (which may only
see the current user's sockets).
"""

from __future__ import annotations

import os
import re
import socket

# "<sl>: <local hex addr>:<port> <remote>:<port> <state>"; only the slot number ends in ": ".
_ANY_LINE = re.compile(r": [0-9A-F]+:([0-9A-F]{4}) [0-9A-F]+:[0-9A-F]{4} ")
_LISTEN_LINE = re.compile(r": [0-9A-F]+:([0-9A-F]{4}) [0-9A-F]+:[0-9A-F]{4} 0A ")
_PROC_TABLES = (
    ("/proc/net/tcp", True),
    ("/proc/net/tcp6", True),
    ("/proc/net/udp", False),
    ("/proc/net/udp6", False),
)


def ports_in_use() -> frozenset[int]:
    """Ports of listening TCP and bound UDP sockets (any local address)."""
    if os.path.exists(_PROC_TABLES[0][0]):
        ports: set[int] = set()
        for path, tcp in _PROC_TABLES:
            ports.update(parse_proc_net(_read(path), listening_only=tcp))
        return frozenset(ports)
    return _psutil_ports()


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def parse_proc_net(text: str, *, listening_only: bool) -> set[int]:
    """Local ports of the sockets in one ``/proc/net/{tcp,tcp6,udp,udp6}`` table.

    Lines look like ``  1: 0100007F:32C9 00000000:0000 0A …``: local address and port in hex,
    remote address and port, state. ``listening_only`` keeps TCP sockets in state LISTEN (``0A``).
    One regex over the whole table: with thousands of TIME_WAIT sockets a line loop is slower.
    """
    pattern = _LISTEN_LINE if listening_only else _ANY_LINE
    ports = {int(p, 16) for p in pattern.findall(text)}
    ports.discard(0)
    return ports


def _psutil_ports() -> frozenset[int]:
    import psutil

    try:
        conns = psutil.net_connections(kind="inet")
    except (psutil.AccessDenied, OSError):
        return frozenset()
    ports = set()
    for c in conns:
        if not c.laddr:
            continue
        if c.type == socket.SOCK_DGRAM or c.status == psutil.CONN_LISTEN:
            ports.add(c.laddr.port)
    return frozenset(ports)

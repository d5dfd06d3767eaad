"""Checking that a port is really free before a node is given it."""

from __future__ import annotations

import socket


def port_free(port: int, protocol: str = "udp", host: str = "0.0.0.0") -> bool:
    """True when ``port`` can be bound now on ``host`` (the node binds it right after)."""
    kind = socket.SOCK_DGRAM if protocol == "udp" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as sock:
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True

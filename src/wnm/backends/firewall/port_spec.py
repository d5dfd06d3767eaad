"""The ``<port>/<protocol>`` argument every firewall tool takes, validated once."""

from __future__ import annotations

from wnm.errors import PermanentFailure

PROTOCOLS = ("udp", "tcp")


def port_spec(port: int, protocol: str) -> str:
    """``12001/udp``; PermanentFailure for a port outside 1..65535 or an unknown protocol.

    Validating here keeps a bad value from ever reaching a root-run firewall command.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise PermanentFailure(f"port {port!r} is not in 1..65535")
    if protocol not in PROTOCOLS:
        raise PermanentFailure(f"protocol must be one of {PROTOCOLS}, not {protocol!r}")
    return f"{port}/{protocol}"

"""ports_in_use sees real sockets; the /proc/net parser on a recorded table."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from wnm.observe.ports import parse_proc_net, ports_in_use

FIXTURES = Path(__file__).parent / "fixtures"

TCP_TABLE = (FIXTURES / "proc-net-tcp.txt").read_text()
TCP6_TABLE = (FIXTURES / "proc-net-tcp6.txt").read_text()
UDP_TABLE = (FIXTURES / "proc-net-udp.txt").read_text()


def test_parse_recorded_tables() -> None:
    assert parse_proc_net(TCP_TABLE, listening_only=True) == {0x07E8, 0x32C9}
    assert parse_proc_net(TCP6_TABLE, listening_only=True) == {0x3A99}
    assert parse_proc_net(UDP_TABLE, listening_only=False) == {0xD6D9}  # port 0 is not a port
    assert parse_proc_net("", listening_only=False) == set()


@pytest.mark.parametrize("family", [socket.AF_INET, socket.AF_INET6])
def test_sees_sockets_bound_now(family: socket.AddressFamily) -> None:
    host = "127.0.0.1" if family == socket.AF_INET else "::1"
    try:
        tcp = socket.socket(family, socket.SOCK_STREAM)
        tcp.bind((host, 0))
    except OSError:
        pytest.skip(f"cannot bind {host}")
    udp = socket.socket(family, socket.SOCK_DGRAM)
    client = socket.socket(family, socket.SOCK_STREAM)
    try:
        tcp.listen(1)
        udp.bind((host, 0))
        client.connect(tcp.getsockname()[:2])
        tcp_port, udp_port = tcp.getsockname()[1], udp.getsockname()[1]
        client_port = client.getsockname()[1]
        seen = ports_in_use()
        assert tcp_port in seen and udp_port in seen
        if sys.platform.startswith("linux"):
            assert client_port not in seen  # an outgoing connection is not a listener
    finally:
        for s in (tcp, udp, client):
            s.close()
    if sys.platform.startswith("linux"):
        assert tcp_port not in ports_in_use()  # closed: no longer listening

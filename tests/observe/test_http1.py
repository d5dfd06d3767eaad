"""HTTP/1.x response framing: status line, Content-Length, chunked bodies."""

from __future__ import annotations

import pytest

from wnm.observe.http1 import BadResponse, ResponseHead, dechunk, parse_head


def test_parse_head() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\ncontent-length: 12"
    assert parse_head(raw) == ResponseHead(200, 12, False)
    assert parse_head(b"HTTP/1.0 404 Not Found") == ResponseHead(404)
    chunked = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: gzip, chunked"
    assert parse_head(chunked) == ResponseHead(200, None, True)  # chunking wins over a length


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"HTTP/2 200",
        b"HTTP/1.1 OK",
        b"HTTP/1.1 2000 OK",
        b"SSH-2.0-OpenSSH",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1",
    ],
)
def test_parse_head_rejects(raw: bytes) -> None:
    with pytest.raises(BadResponse):
        parse_head(raw)


def test_dechunk() -> None:
    body = b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n"
    assert dechunk(b"HEAD" + body, 4) == b"hello world"
    assert dechunk(b"5\r\nhel", 0) is None  # incomplete
    assert dechunk(b"zz\r\nhello\r\n0\r\n\r\n", 0) is None  # bad size
    assert dechunk(b"5\r\nhelloXX0\r\n\r\n", 0) is None  # missing CRLF after data

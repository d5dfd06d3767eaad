"""The HTTP/1.x response framing the probe needs: the status line and headers, chunked bodies.

Pure functions over bytes, so the probe's event loop stays about sockets and deadlines.
"""

from __future__ import annotations

from dataclasses import dataclass


class BadResponse(Exception):
    """What arrived is not a usable HTTP/1.x response (the text says why)."""


@dataclass(frozen=True)
class ResponseHead:
    """Status and body framing: ``length`` from Content-Length, or ``chunked``, or neither
    (then the body ends when the server closes the connection)."""

    status: int
    length: int | None = None
    chunked: bool = False


def parse_head(raw: bytes) -> ResponseHead:
    """Parse the header block (without its final blank line). Raises :class:`BadResponse`."""
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if (
        len(parts) < 2
        or not parts[0].startswith("HTTP/1.")
        or not (parts[1].isdigit() and len(parts[1]) == 3)
    ):
        raise BadResponse(f"bad status line {lines[0][:60]!r}")
    length: int | None = None
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            if not value.strip().isdigit():
                raise BadResponse(f"bad Content-Length {value.strip()[:20]!r}")
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    # RFC 9112: Transfer-Encoding overrides Content-Length
    return ResponseHead(int(parts[1]), None if chunked else length, chunked)


def dechunk(buf: bytes | bytearray, start: int) -> bytes | None:
    """The body of a chunked response held in ``buf[start:]``; None when incomplete or malformed."""
    out = bytearray()
    pos = start
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        size_text = bytes(buf[pos:eol]).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return None
        if size == 0:
            return bytes(out)
        data_end = eol + 2 + size
        if buf[data_end : data_end + 2] != b"\r\n":
            return None
        out += buf[eol + 2 : data_end]
        pos = data_end + 2

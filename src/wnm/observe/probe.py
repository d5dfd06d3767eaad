"""Many small HTTP GETs at once, in one thread, under one overall deadline.

A host may run a thousand legacy nodes, two URLs each, every minute. Sequential requests with
per-request timeouts made one hung node cost 10 s (wnm 0.6 defect D26); a thread per request
or an HTTP library per call is too slow at this scale. So: non-blocking sockets and a selector,
at most ``max_sockets`` connections open at once (the rest queued), and a single deadline for
the whole batch after which whatever has not answered is cut off as a timeout.

Only what the node metrics servers need: ``GET`` with ``Connection: close``; the response
ends at Content-Length, at the last chunk (chunked transfer encoding), or when the server closes.
"""

from __future__ import annotations

import errno
import os
import selectors
import socket
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from wnm.observe.http1 import BadResponse, ResponseHead, dechunk, parse_head

DEFAULT_DEADLINE = 2.0
DEFAULT_MAX_SOCKETS = 512
DEFAULT_MAX_BODY = 4 * 1024 * 1024
_RECV = 64 * 1024  # one recv holds a whole ~55 KB body; larger buffers cost more to allocate
_CONNECTING, _SENDING, _READING = 0, 1, 2
_Address = tuple[socket.AddressFamily, tuple[Any, ...]]  # (family, sockaddr)
_IN_PROGRESS = (errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN, errno.EALREADY)


class FetchError(StrEnum):
    """Why a GET gave no complete response."""

    REFUSED = "refused"  # nothing listens on the port
    TIMEOUT = "timeout"  # no (complete) response before the deadline
    BAD_RESPONSE = "bad_response"  # something answered, but not with HTTP (or reset the connection)
    TRUNCATED = "truncated"  # HTTP response whose body ended early
    ERROR = "error"  # could not even try: bad address, no route, out of descriptors


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    path: str

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{self.path}"


@dataclass(frozen=True)
class Reply:
    """Outcome of one GET. ``status`` is set whenever an HTTP status line arrived (even on error)."""

    status: int | None = None
    body: bytes = b""
    error: FetchError | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None

    @property
    def answered(self) -> bool:
        """An HTTP server answered (any status): the process behind the port is alive."""
        return self.status is not None


class _Conn:
    """One request in flight: its socket, what is sent, what arrived."""

    __slots__ = ("buf", "head", "header_end", "index", "phase", "request", "sent", "sock")

    def __init__(self, index: int, sock: socket.socket, request: bytes) -> None:
        self.index = index
        self.sock = sock
        self.request = request
        self.sent = 0
        self.phase = _CONNECTING
        self.buf = bytearray()
        self.header_end = -1
        self.head: ResponseHead | None = None

    @property
    def status(self) -> int | None:
        return self.head.status if self.head else None


def fetch_all(
    targets: Sequence[Target],
    *,
    deadline: float = DEFAULT_DEADLINE,
    max_sockets: int = DEFAULT_MAX_SOCKETS,
    max_body: int = DEFAULT_MAX_BODY,
    pace: float = 0.0,
    pace_every: int = 1,
) -> list[Reply]:
    """GET every target; replies in the same order. Never raises for a network problem.

    The whole batch takes at most ``deadline`` seconds (plus bookkeeping, plus the pacing);
    requests still queued or unanswered then get ``FetchError.TIMEOUT``. ``pace`` > 0 spreads the
    starts: each group of ``pace_every`` targets starts ``pace`` seconds after the previous one
    (the operator's ``survey_delay``, for hosts that must not see all probes at once).
    """
    batch = _Batch(targets, deadline, max(1, min(max_sockets, _fd_budget())), max_body)
    batch.pace, batch.pace_every = max(0.0, pace), max(1, pace_every)
    return batch.run()


def _fd_budget() -> int:
    """Half of the soft NOFILE limit: leave room for the rest of the process."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):
        return DEFAULT_MAX_SOCKETS
    return DEFAULT_MAX_SOCKETS * 64 if soft == resource.RLIM_INFINITY else max(8, soft // 2)


class _Batch:
    def __init__(self, targets: Sequence[Target], deadline: float, max_sockets: int, max_body: int) -> None:
        self.targets = targets
        self.results: list[Reply | None] = [None] * len(targets)
        self.deadline = deadline
        self.max_sockets = max_sockets
        self.max_body = max_body
        self.sel = selectors.DefaultSelector()
        self.active = 0
        self.addresses: dict[tuple[str, int], _Address | str] = {}

    pace = 0.0
    pace_every = 1

    def run(self) -> list[Reply]:
        begin = time.monotonic()
        groups = (len(self.targets) + self.pace_every - 1) // self.pace_every
        end = begin + self.deadline + self.pace * max(0, groups - 1)
        queue = deque(range(len(self.targets)))
        try:
            while queue or self.active:
                now = time.monotonic()
                while queue and self.active < self.max_sockets and self._may_start(queue[0], begin, now):
                    self._start(queue.popleft())
                remaining = end - time.monotonic()
                if remaining <= 0:
                    break
                if not self.active:
                    if queue:
                        time.sleep(min(remaining, self._start_at(queue[0], begin) - time.monotonic()))
                    continue
                wait = remaining
                if queue:
                    wait = min(wait, max(0.0, self._start_at(queue[0], begin) - time.monotonic()))
                for key, _ in self.sel.select(wait):
                    self._step(key.data)
            for key in list(self.sel.get_map().values()):
                conn: _Conn = key.data
                self._finish(conn, self._timeout_reply(conn))
        finally:
            self.sel.close()
        too_late = Reply(error=FetchError.TIMEOUT, detail=f"not started within {self.deadline:g}s")
        return [r if r is not None else too_late for r in self.results]

    def _start_at(self, index: int, begin: float) -> float:
        return begin + self.pace * (index // self.pace_every)

    def _may_start(self, index: int, begin: float, now: float) -> bool:
        return self.pace <= 0 or now >= self._start_at(index, begin)

    def _address(self, host: str, port: int) -> _Address | str:
        """Resolved (family, sockaddr), or the resolver's error text; cached per batch."""
        key = (host, port)
        found = self.addresses.get(key)
        if found is None:
            try:
                info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
                found = (info[0], tuple(info[4]))
            except (OSError, UnicodeError) as exc:
                found = f"cannot resolve {host}: {exc}"
            self.addresses[key] = found
        return found

    def _start(self, index: int) -> None:
        target = self.targets[index]
        address = self._address(target.host, target.port)
        if isinstance(address, str):
            self.results[index] = Reply(error=FetchError.ERROR, detail=address)
            return
        family, sockaddr = address
        try:
            sock = socket.socket(family, socket.SOCK_STREAM)
        except OSError as exc:
            self.results[index] = Reply(error=FetchError.ERROR, detail=f"socket: {exc.strerror}")
            return
        sock.setblocking(False)
        host = f"[{target.host}]" if ":" in target.host else target.host
        request = (
            f"GET {target.path} HTTP/1.1\r\nHost: {host}:{target.port}\r\n"
            "User-Agent: wnm\r\nAccept: */*\r\nConnection: close\r\n\r\n"
        ).encode("ascii")
        conn = _Conn(index, sock, request)
        err = sock.connect_ex(sockaddr)
        if err and err not in _IN_PROGRESS:
            sock.close()
            self.results[index] = _connect_error(err)
            return
        self.sel.register(sock, selectors.EVENT_WRITE, conn)
        self.active += 1

    def _step(self, conn: _Conn) -> None:
        try:
            if conn.phase == _READING:
                self._read(conn)
            elif conn.phase == _CONNECTING:
                err = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    self._finish(conn, _connect_error(err))
                    return
                conn.phase = _SENDING
                self._send(conn)
            else:
                self._send(conn)
        except BadResponse as exc:
            self._finish(conn, Reply(status=conn.status, error=FetchError.BAD_RESPONSE, detail=str(exc)))

    def _send(self, conn: _Conn) -> None:
        try:
            conn.sent += conn.sock.send(conn.request[conn.sent :])
        except BlockingIOError:
            return
        except OSError as exc:
            raise BadResponse(f"send failed: {exc.strerror}") from None
        if conn.sent >= len(conn.request):
            conn.phase = _READING
            self.sel.modify(conn.sock, selectors.EVENT_READ, conn)

    def _read(self, conn: _Conn) -> None:
        try:
            data = conn.sock.recv(_RECV)
        except BlockingIOError:
            return
        except OSError as exc:
            if conn.header_end < 0:
                raise BadResponse(f"connection {exc.strerror or exc}") from None
            self._finish(conn, self._partial(conn, FetchError.TRUNCATED, f"connection {exc.strerror}"))
            return
        if not data:
            self._finish(conn, self._at_close(conn))
            return
        seen = len(conn.buf)
        conn.buf += data
        if conn.header_end < 0:
            cut = conn.buf.find(b"\r\n\r\n", max(0, seen - 3))
            if cut < 0:
                if len(conn.buf) > 65536 or not conn.buf.startswith(b"HTTP/"[: len(conn.buf)]):
                    raise BadResponse(f"not an HTTP response: {bytes(conn.buf[:40])!r}")
                return
            conn.header_end = cut + 4
            conn.head = parse_head(bytes(conn.buf[:cut]))
        head = conn.head
        assert head is not None
        body_len = len(conn.buf) - conn.header_end
        if body_len > self.max_body:
            raise BadResponse(f"body larger than {self.max_body} bytes")
        if head.length is not None and body_len >= head.length:
            body = bytes(conn.buf[conn.header_end : conn.header_end + head.length])
            self._finish(conn, Reply(status=head.status, body=body))
        elif head.chunked and conn.buf.endswith(b"0\r\n\r\n"):
            decoded = dechunk(conn.buf, conn.header_end)
            if decoded is not None:
                self._finish(conn, Reply(status=head.status, body=decoded))

    def _at_close(self, conn: _Conn) -> Reply:
        """The server closed the connection: the response is whatever arrived."""
        head = conn.head
        if head is None:
            if not conn.buf:
                return Reply(error=FetchError.BAD_RESPONSE, detail="connection closed without a response")
            return Reply(
                error=FetchError.BAD_RESPONSE, detail=f"not an HTTP response: {bytes(conn.buf[:40])!r}"
            )
        body = bytes(conn.buf[conn.header_end :])
        if head.chunked:
            decoded = dechunk(conn.buf, conn.header_end)
            if decoded is None:
                return self._partial(conn, FetchError.TRUNCATED, "chunked body ended early")
            return Reply(status=head.status, body=decoded)
        if head.length is not None and len(body) < head.length:
            detail = f"body {len(body)} of {head.length} bytes"
            return Reply(status=head.status, body=body, error=FetchError.TRUNCATED, detail=detail)
        return Reply(status=head.status, body=body)

    def _partial(self, conn: _Conn, error: FetchError, detail: str) -> Reply:
        body = bytes(conn.buf[conn.header_end :]) if conn.header_end >= 0 else b""
        return Reply(status=conn.status, body=body, error=error, detail=detail)

    def _timeout_reply(self, conn: _Conn) -> Reply:
        phase = ("connecting", "sending", "waiting for the response")[conn.phase]
        return self._partial(conn, FetchError.TIMEOUT, f"deadline {self.deadline:g}s reached while {phase}")

    def _finish(self, conn: _Conn, reply: Reply) -> None:
        self.sel.unregister(conn.sock)
        conn.sock.close()
        self.active -= 1
        self.results[conn.index] = reply


def _connect_error(err: int) -> Reply:
    if err == errno.ECONNREFUSED:
        return Reply(error=FetchError.REFUSED, detail="connection refused")
    if err == errno.ETIMEDOUT:
        return Reply(error=FetchError.TIMEOUT, detail="connect timed out")
    return Reply(error=FetchError.ERROR, detail=f"connect: {os.strerror(err)}")

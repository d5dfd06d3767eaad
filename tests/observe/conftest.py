"""Real loopback HTTP endpoints with chosen misbehaviours, served from one background thread.

``endpoints.add("hang")`` returns a port whose server accepts and never answers; the other
behaviours are ``ok`` (the bodies given), ``slow:<s>``, ``404``, ``500``, ``garbage``,
``truncated`` (Content-Length larger than what is sent), ``chunked``, ``no-length`` (body ends
at close), ``close`` (accept, then close without a word) and ``headers-only`` (headers, then
silence). ``endpoints.closed_port()`` is a port nothing listens on.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import pytest

from tests.observe.metrics_body import render_metadata, render_metrics

OPENMETRICS = "application/openmetrics-text;charset=utf-8;version=1.0.0"


@dataclass
class _Client:
    behaviour: str
    bodies: Mapping[str, bytes]
    request: bytes = b""
    respond_at: float | None = None
    path: str = ""
    extra: dict[str, object] = field(default_factory=dict)


class Endpoints:
    def __init__(self) -> None:
        self.sel = selectors.DefaultSelector()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.sockets: list[socket.socket] = []
        self.default_bodies = {
            "/metrics": render_metrics().encode(),
            "/metadata": render_metadata().encode(),
        }
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def add(self, behaviour: str = "ok", bodies: Mapping[str, bytes] | None = None) -> int:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        listener.setblocking(False)
        with self.lock:
            self.sockets.append(listener)
            self.sel.register(
                listener, selectors.EVENT_READ, ("listen", behaviour, bodies or self.default_bodies)
            )
        port: int = listener.getsockname()[1]
        return port

    @staticmethod
    def closed_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port: int = s.getsockname()[1]
        return port

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        for s in self.sockets:
            s.close()
        self.sel.close()

    def _loop(self) -> None:
        delayed: list[tuple[socket.socket, _Client]] = []
        while not self.stop.is_set():
            with self.lock:
                events = self.sel.select(timeout=0.02)
            for key, _ in events:
                kind = key.data[0]
                if kind == "listen":
                    self._accept(key.fileobj, key.data[1], key.data[2])  # type: ignore[arg-type]
                else:
                    self._read(key.fileobj, key.data[1], delayed)  # type: ignore[arg-type]
            now = time.monotonic()
            for item in [d for d in delayed if d[1].respond_at is not None and d[1].respond_at <= now]:
                delayed.remove(item)
                self._respond(*item)

    def _accept(self, listener: socket.socket, behaviour: str, bodies: Mapping[str, bytes]) -> None:
        try:
            conn, _ = listener.accept()
        except BlockingIOError:
            return
        if behaviour == "close":
            conn.close()
            return
        conn.setblocking(False)
        with self.lock:
            self.sockets.append(conn)
            self.sel.register(conn, selectors.EVENT_READ, ("client", _Client(behaviour, bodies)))

    def _read(
        self, conn: socket.socket, client: _Client, delayed: list[tuple[socket.socket, _Client]]
    ) -> None:
        try:
            data = conn.recv(4096)
        except OSError:
            data = b""
        if not data:
            self._drop(conn)
            return
        client.request += data
        if b"\r\n\r\n" not in client.request or client.respond_at is not None:
            return
        client.path = client.request.split(b" ", 2)[1].decode()
        if client.behaviour == "hang":
            client.respond_at = float("inf")
        elif client.behaviour.startswith("slow:"):
            client.respond_at = time.monotonic() + float(client.behaviour[5:])
            delayed.append((conn, client))
        else:
            self._respond(conn, client)

    def _respond(self, conn: socket.socket, client: _Client) -> None:
        b = client.behaviour
        body = client.bodies.get(client.path)
        if body is None:
            status, body = "404 Not Found", b"Not found try localhost:[port]/metrics"
        elif b in ("404", "500"):
            status, body = (
                ("404 Not Found", b"nope") if b == "404" else ("500 Internal Server Error", b"oops")
            )
        else:
            status = "200 OK"
        head = f"HTTP/1.1 {status}\r\ncontent-type: {OPENMETRICS}\r\n"
        if b == "garbage":
            payload = b"\x00\xff\x13garbage that is not HTTP at all\r\n\r\n"
        elif b == "chunked":
            chunks = [body[i : i + 1000] for i in range(0, len(body), 1000)]
            encoded = b"".join(f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in chunks) + b"0\r\n\r\n"
            payload = (head + "transfer-encoding: chunked\r\n\r\n").encode() + encoded
        elif b == "no-length":
            payload = (head + "\r\n").encode() + body
        elif b == "truncated":
            payload = (head + f"content-length: {len(body)}\r\n\r\n").encode() + body[: len(body) // 2]
        elif b == "headers-only":
            conn.setblocking(True)
            conn.sendall((head + f"content-length: {len(body)}\r\n\r\n").encode())
            conn.setblocking(False)
            return  # and then silence
        else:
            payload = (head + f"content-length: {len(body)}\r\n\r\n").encode() + body
        try:
            conn.setblocking(True)
            conn.settimeout(2.0)
            conn.sendall(payload)
        except OSError:
            pass
        self._drop(conn)

    def _drop(self, conn: socket.socket) -> None:
        with self.lock:
            try:
                self.sel.unregister(conn)
            except (KeyError, ValueError):
                pass
        conn.close()


@pytest.fixture
def endpoints() -> Iterator[Endpoints]:
    server = Endpoints()
    try:
        yield server
    finally:
        server.close()

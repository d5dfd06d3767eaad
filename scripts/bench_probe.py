#!/usr/bin/env python3
"""Measure the survey's HTTP probe + OpenMetrics parse against many emulated metrics servers.

A child process listens on N loopback ports and answers ``/metrics`` (≈ 55 KB realistic
antnode body) and ``/metadata`` from pre-rendered bytes with one selector, so the server costs
as little CPU as possible (it shares the two cores with the measured client). The parent then
runs ``fetch_all`` over 2 × N URLs and parses every body, then the whole ``survey()`` over N
legacy nodes on those ports, and prints wall and CPU time of both.

    .venv/bin/python scripts/bench_probe.py 200 1000 [--rounds 5] [--deadline 2.0]
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from tests.observe.metrics_body import Values, render_metadata, render_metrics

from wnm.backends.process.base import ProcessState, ProcessStatus
from wnm.domain.enums import Generation, NodeStatus
from wnm.domain.node import Node
from wnm.domain.settings import Settings
from wnm.nodes.versions import file_stamp
from wnm.observe.openmetrics import parse_metadata, parse_node_metrics
from wnm.observe.probe import Target, fetch_all
from wnm.observe.survey import survey

VARIANTS = 16


def _response(body: str) -> bytes:
    data = body.encode()
    head = (
        "HTTP/1.1 200 OK\r\n"
        "content-type: application/openmetrics-text;charset=utf-8;version=1.0.0\r\n"
        f"content-length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


class _Server:
    """One selector serving every port: accept, read the request line, send a pre-rendered reply."""

    def __init__(self, count: int) -> None:
        self.metrics = [
            _response(
                render_metrics(
                    Values(uptime=600 + i, records=i, puts={"Chunk": i}), seed=i, node_versions=130
                )
            )
            for i in range(VARIANTS)
        ]
        self.metadata = _response(render_metadata())
        self.not_found = b"HTTP/1.1 404 Not Found\r\ncontent-length: 9\r\n\r\nNot found"
        self.sel = selectors.DefaultSelector()
        self.listeners: dict[socket.socket, int] = {}
        self.requests: dict[socket.socket, tuple[int, bytes]] = {}
        self.pending: dict[socket.socket, tuple[bytes, int]] = {}
        for i in range(count):
            lsock = socket.socket()
            lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            lsock.bind(("127.0.0.1", 0))
            lsock.listen(256)
            lsock.setblocking(False)
            self.sel.register(lsock, selectors.EVENT_READ, lsock)
            self.listeners[lsock] = i

    @property
    def ports(self) -> list[int]:
        return [s.getsockname()[1] for s in self.listeners]

    def run(self) -> None:
        self.sel.register(sys.stdin, selectors.EVENT_READ, None)
        while True:
            for key, _ in self.sel.select():
                sock: socket.socket | None = key.data
                if sock is None:
                    return  # stdin closed: the parent is done
                if sock in self.listeners:
                    self._accept(sock)
                elif sock in self.pending:
                    self._send(sock)
                else:
                    self._read(sock)

    def _accept(self, lsock: socket.socket) -> None:
        try:
            conn, _ = lsock.accept()
        except BlockingIOError:
            return
        conn.setblocking(False)
        self.requests[conn] = (self.listeners[lsock], b"")
        self.sel.register(conn, selectors.EVENT_READ, conn)

    def _read(self, conn: socket.socket) -> None:
        index, buf = self.requests[conn]
        try:
            data = conn.recv(4096)
        except OSError:
            data = b""
        if not data:
            del self.requests[conn]
            self._close(conn)
            return
        buf += data
        if b"\r\n\r\n" not in buf:
            self.requests[conn] = (index, buf)
            return
        del self.requests[conn]
        path = buf.split(b" ", 2)[1]
        if path == b"/metrics":
            reply = self.metrics[index % VARIANTS]
        else:
            reply = self.metadata if path == b"/metadata" else self.not_found
        self.pending[conn] = (reply, 0)
        self.sel.modify(conn, selectors.EVENT_WRITE, conn)
        self._send(conn)

    def _send(self, conn: socket.socket) -> None:
        reply, sent = self.pending[conn]
        try:
            sent += conn.send(reply[sent:])
        except BlockingIOError:
            return
        except OSError:
            sent = len(reply)
        if sent < len(reply):
            self.pending[conn] = (reply, sent)
            return
        del self.pending[conn]
        self._close(conn)

    def _close(self, conn: socket.socket) -> None:
        self.sel.unregister(conn)
        conn.close()


def serve(count: int) -> None:
    """Listen on ``count`` ports, print them as JSON, answer until stdin closes."""
    server = _Server(count)
    print(json.dumps(server.ports), flush=True)
    server.run()


def measure_survey(ports: list[int], deadline: float) -> tuple[float, float, int]:
    """The whole survey() over legacy nodes on these ports (statuses RUNNING, binaries unchanged)."""
    with tempfile.TemporaryDirectory() as tmp:
        binary = os.path.join(tmp, "antnode")
        with open(binary, "w") as handle:
            handle.write("not run: its stamp is already stored")
        stamp = str(file_stamp(binary))
        now = int(time.time())
        nodes = [
            Node(
                id=i + 1,
                generation=Generation.LEGACY,
                manager="setsid+user",
                root_dir=tmp,
                log_dir=tmp,
                binary=binary,
                port=0,
                metrics_port=port,
                rpc_port=0,
                status=NodeStatus.RUNNING,
                status_changed_at=now - 3600,
                age=now - 86400,
                version="0.4.17",
                binary_stamp=stamp,
            )
            for i, port in enumerate(ports)
        ]
        statuses = {n.id: ProcessStatus(ProcessState.RUNNING, pid=os.getpid()) for n in nodes}
        wall0, cpu0 = time.perf_counter(), time.process_time()
        observations = survey(nodes, statuses, Settings(), now, deadline=deadline)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return wall, cpu, sum(o.responded for o in observations)


def measure(ports: list[int], deadline: float) -> tuple[float, float, int]:
    targets = [Target("127.0.0.1", p, path) for p in ports for path in ("/metrics", "/metadata")]
    wall0, cpu0 = time.perf_counter(), time.process_time()
    replies = fetch_all(targets, deadline=deadline)
    parsed = 0
    for target, reply in zip(targets, replies, strict=True):
        if not reply.ok:
            continue
        if target.path == "/metrics":
            parsed += parse_node_metrics(reply.body).complete
        else:
            parsed += parse_metadata(reply.body).complete
    return time.perf_counter() - wall0, time.process_time() - cpu0, parsed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("counts", nargs="*", type=int, default=[200, 1000])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--deadline", type=float, default=2.0)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return 0
    for count in args.counts:
        server = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--serve", str(count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            ports = json.loads(server.stdout.readline())
            measure(ports[:10], args.deadline)  # warm up
            runs = [measure(ports, args.deadline) for _ in range(args.rounds)]
            surveys = [measure_survey(ports, args.deadline) for _ in range(args.rounds)]
        finally:
            assert server.stdin is not None
            server.stdin.close()
            server.wait(timeout=10)
        walls = [w for w, _, _ in runs]
        cpus = [c for _, c, _ in runs]
        ok = min(p for _, _, p in runs)
        print(
            f"{count:5d} endpoints x2 URLs: wall median {statistics.median(walls):.3f}s "
            f"(best {min(walls):.3f}s, worst {max(walls):.3f}s), "
            f"client CPU median {statistics.median(cpus):.3f}s, "
            f"complete bodies {ok}/{2 * count}"
        )
        walls = [w for w, _, _ in surveys]
        print(
            f"{count:5d} legacy nodes, whole survey(): wall median {statistics.median(walls):.3f}s "
            f"(best {min(walls):.3f}s, worst {max(walls):.3f}s), "
            f"client CPU median {statistics.median([c for _, c, _ in surveys]):.3f}s, "
            f"healthy {min(h for _, _, h in surveys)}/{count}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

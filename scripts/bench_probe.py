#!/usr/bin/env python3
"""Measure the survey's HTTP probe + OpenMetrics parse against many emulated metrics servers.

A child process listens on N loopback ports and answers ``/metrics`` (≈ 55 KB realistic
antnode body) and ``/metadata`` from pre-rendered bytes with one selector, so the server costs
as little CPU as possible (it shares the two cores with the measured client). The parent then
runs ``fetch_all`` over 2 × N URLs and parses every body, and prints wall and CPU time.

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
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "observe"))

from metrics_body import Values, render_metadata, render_metrics  # noqa: E402

from wnm.observe.openmetrics import parse_metadata, parse_node_metrics  # noqa: E402
from wnm.observe.probe import Target, fetch_all  # noqa: E402

VARIANTS = 16


def _response(body: str) -> bytes:
    data = body.encode()
    head = (
        "HTTP/1.1 200 OK\r\n"
        "content-type: application/openmetrics-text;charset=utf-8;version=1.0.0\r\n"
        f"content-length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


def serve(count: int) -> None:
    """Listen on ``count`` ports, print them as JSON, answer until stdin closes."""
    metrics = [
        _response(render_metrics(Values(uptime=600 + i, records=i, puts={"Chunk": i, "GraphEntry": 1}), seed=i, node_versions=130))
        for i in range(VARIANTS)
    ]
    metadata = _response(render_metadata())
    not_found = b"HTTP/1.1 404 Not Found\r\ncontent-length: 9\r\n\r\nNot found"
    sel = selectors.DefaultSelector()
    ports = []
    for i in range(count):
        lsock = socket.socket()
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(256)
        lsock.setblocking(False)
        sel.register(lsock, selectors.EVENT_READ, ("listen", i))
        ports.append(lsock.getsockname()[1])
    sel.register(sys.stdin, selectors.EVENT_READ, ("stdin", 0))
    print(json.dumps(ports), flush=True)
    pending: dict[socket.socket, tuple[bytes, int]] = {}
    requests: dict[socket.socket, bytes] = {}
    while True:
        for key, _ in sel.select():
            kind, i = key.data
            if kind == "stdin":
                return
            if kind == "listen":
                try:
                    conn, _ = key.fileobj.accept()  # type: ignore[union-attr]
                except BlockingIOError:
                    continue
                conn.setblocking(False)
                requests[conn] = b""
                sel.register(conn, selectors.EVENT_READ, ("read", i))
            elif kind == "read":
                conn = key.fileobj  # type: ignore[assignment]
                data = conn.recv(4096)
                buf = requests[conn] + data
                if not data or b"\r\n\r\n" not in buf:
                    if not data:
                        sel.unregister(conn)
                        conn.close()
                        del requests[conn]
                    else:
                        requests[conn] = buf
                    continue
                del requests[conn]
                path = buf.split(b" ", 2)[1]
                reply = metrics[i % VARIANTS] if path == b"/metrics" else metadata if path == b"/metadata" else not_found
                sent = conn.send(reply)
                if sent == len(reply):
                    sel.unregister(conn)
                    conn.close()
                else:
                    pending[conn] = (reply, sent)
                    sel.modify(conn, selectors.EVENT_WRITE, ("write", i))
            else:
                conn = key.fileobj  # type: ignore[assignment]
                reply, sent = pending[conn]
                try:
                    sent += conn.send(reply[sent:])
                except BlockingIOError:
                    continue
                if sent == len(reply):
                    del pending[conn]
                    sel.unregister(conn)
                    conn.close()
                else:
                    pending[conn] = (reply, sent)


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
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
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
        finally:
            assert server.stdin is not None
            server.stdin.close()
            server.wait(timeout=10)
        walls = [w for w, _, _ in runs]
        cpus = [c for _, c, _ in runs]
        ok = min(p for _, _, p in runs)
        print(
            f"{count:5d} endpoints x2 URLs: wall median {statistics.median(walls):.3f}s "
            f"(best {min(walls):.3f}s, worst {max(walls):.3f}s), client CPU median {statistics.median(cpus):.3f}s, "
            f"complete bodies {ok}/{2 * count}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

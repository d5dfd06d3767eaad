"""survey_delay: probes of consecutive nodes start ``pace`` seconds apart, and the batch still ends."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from wnm.observe.probe import Target, fetch_all


@pytest.fixture
def server() -> Iterator[tuple[int, list[float]]]:
    """A tiny HTTP server on loopback that records when each request arrived."""
    arrivals: list[float] = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(4096)
                arrivals.append(time.monotonic())
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], arrivals
    finally:
        stop.set()
        thread.join(timeout=2)
        listener.close()


def test_pace_spreads_groups_of_targets(server: tuple[int, list[float]]) -> None:
    port, arrivals = server
    targets = [Target("127.0.0.1", port, p) for _ in range(4) for p in ("/metrics", "/metadata")]
    started = time.monotonic()
    replies = fetch_all(targets, deadline=2.0, pace=0.15, pace_every=2)
    elapsed = time.monotonic() - started
    assert all(r.ok for r in replies)
    assert 0.45 <= elapsed < 2.0  # 3 gaps of 0.15 s between 4 nodes, no more
    arrivals.sort()
    assert arrivals[-1] - arrivals[0] >= 0.44


def test_no_pace_starts_everything_at_once(server: tuple[int, list[float]]) -> None:
    port, _arrivals = server
    started = time.monotonic()
    replies = fetch_all([Target("127.0.0.1", port, "/metrics")] * 8, deadline=2.0)
    assert all(r.ok for r in replies)
    assert time.monotonic() - started < 1.0

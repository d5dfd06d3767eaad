"""fetch_all against real loopback servers that behave well and badly."""

from __future__ import annotations

import socket
import time

import pytest

from tests.observe.conftest import Endpoints
from tests.observe.metrics_body import render_metadata, render_metrics
from wnm.observe.probe import FetchError, Target, fetch_all


def _get(port: int, path: str = "/metrics") -> list[Target]:
    return [Target("127.0.0.1", port, path)]


def test_healthy_endpoint_both_paths(endpoints: Endpoints) -> None:
    port = endpoints.add("ok")
    metrics, metadata, missing = fetch_all(
        [Target("127.0.0.1", port, p) for p in ("/metrics", "/metadata", "/nothing")]
    )
    assert metrics.ok and metrics.body == render_metrics().encode()
    assert metadata.ok and metadata.body == render_metadata().encode()
    assert missing.status == 404 and missing.error is None and missing.answered and not missing.ok


def test_refused(endpoints: Endpoints) -> None:
    (reply,) = fetch_all(_get(endpoints.closed_port()))
    assert reply.error is FetchError.REFUSED and not reply.answered


@pytest.mark.parametrize(
    ("behaviour", "status", "error"),
    [
        ("404", 404, None),
        ("500", 500, None),
        ("garbage", None, FetchError.BAD_RESPONSE),
        ("close", None, FetchError.BAD_RESPONSE),
        ("truncated", 200, FetchError.TRUNCATED),
    ],
)
def test_misbehaving_endpoints(
    endpoints: Endpoints, behaviour: str, status: int | None, error: FetchError
) -> None:
    (reply,) = fetch_all(_get(endpoints.add(behaviour)), deadline=2.0)
    assert reply.status == status
    assert reply.error is error
    assert not reply.ok


def test_truncated_keeps_the_partial_body(endpoints: Endpoints) -> None:
    (reply,) = fetch_all(_get(endpoints.add("truncated")))
    full = render_metrics().encode()
    assert reply.body == full[: len(full) // 2]
    assert f"of {len(full)} bytes" in reply.detail


def test_chunked_and_close_delimited_bodies(endpoints: Endpoints) -> None:
    chunked, no_length = fetch_all(_get(endpoints.add("chunked")) + _get(endpoints.add("no-length")))
    assert chunked.ok and chunked.body == render_metrics().encode()
    assert no_length.ok and no_length.body == render_metrics().encode()


def test_slow_within_deadline_is_fine_beyond_is_timeout(endpoints: Endpoints) -> None:
    slow_ok, slow_late = fetch_all(
        _get(endpoints.add("slow:0.1")) + _get(endpoints.add("slow:5")), deadline=0.4
    )
    assert slow_ok.ok
    assert slow_late.error is FetchError.TIMEOUT and not slow_late.answered


def test_headers_then_silence_is_answered_timeout(endpoints: Endpoints) -> None:
    (reply,) = fetch_all(_get(endpoints.add("headers-only")), deadline=0.3)
    assert reply.error is FetchError.TIMEOUT
    assert reply.status == 200 and reply.answered  # the process is alive


def test_one_deadline_for_many_hung_endpoints(endpoints: Endpoints) -> None:
    """20 hung endpoints among healthy, refused and broken ones cost one deadline, not 20."""
    hung = [endpoints.add("hang") for _ in range(20)]
    healthy = [endpoints.add("ok") for _ in range(10)]
    refused = [endpoints.closed_port() for _ in range(5)]
    broken = [endpoints.add(b) for b in ("404", "500", "garbage", "truncated")]
    targets = [
        Target("127.0.0.1", p, path)
        for p in hung + healthy + refused + broken
        for path in ("/metrics", "/metadata")
    ]
    deadline = 0.6
    started = time.monotonic()
    replies = fetch_all(targets, deadline=deadline)
    elapsed = time.monotonic() - started
    assert elapsed <= deadline + 0.8
    by_port = {t.port: r for t, r in zip(targets, replies, strict=True) if t.path == "/metrics"}
    assert all(by_port[p].error is FetchError.TIMEOUT for p in hung)
    assert all(by_port[p].ok for p in healthy)
    assert all(by_port[p].error is FetchError.REFUSED for p in refused)
    assert [by_port[p].status for p in broken] == [404, 500, None, 200]


def test_queue_beyond_max_sockets_and_deadline_for_unstarted(endpoints: Endpoints) -> None:
    ports = [endpoints.add("ok") for _ in range(12)]
    replies = fetch_all([Target("127.0.0.1", p, "/metadata") for p in ports], max_sockets=3)
    assert all(r.ok for r in replies)
    hung = [endpoints.add("hang") for _ in range(4)]
    replies = fetch_all([Target("127.0.0.1", p, "/metrics") for p in hung], max_sockets=2, deadline=0.2)
    assert [r.error for r in replies] == [FetchError.TIMEOUT] * 4
    assert sum("not started" in r.detail for r in replies) == 2


def test_body_size_cap(endpoints: Endpoints) -> None:
    (reply,) = fetch_all(_get(endpoints.add("ok")), max_body=1000)
    assert reply.error is FetchError.BAD_RESPONSE and "larger than" in reply.detail


def test_unresolvable_host_is_an_error_not_an_exception() -> None:
    (reply,) = fetch_all([Target("no-such-host.invalid", 80, "/metrics")], deadline=1.0)
    assert reply.error in (FetchError.ERROR, FetchError.TIMEOUT)


def test_ipv6_loopback(endpoints: Endpoints) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        server = socket.socket(socket.AF_INET6)
        server.bind(("::1", 0))
    except OSError:
        pytest.skip("no ::1 on this host")
    server.listen(1)
    port = server.getsockname()[1]
    try:
        (reply,) = fetch_all([Target("::1", port, "/metrics")], deadline=0.2)
        assert reply.error is FetchError.TIMEOUT  # accepted by the kernel, never answered
        assert Target("::1", port, "/metrics").url == f"http://[::1]:{port}/metrics"
    finally:
        server.close()


def test_empty_batch() -> None:
    assert fetch_all([]) == []

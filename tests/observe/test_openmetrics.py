"""The targeted OpenMetrics reader: realistic bodies, label escapes, truncation, garbage, speed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.observe.metrics_body import PEER_ID, Values, render_metadata, render_metrics
from wnm.domain.node import NodeMetrics
from wnm.observe.openmetrics import (
    Exposition,
    MetricsFormatError,
    parse_labels,
    parse_metadata,
    parse_node_metrics,
    to_int,
    to_integer_text,
)

# The real 0.4.7 capture of antnode.md §10.1 (libp2p families shortened as printed there).
REAL_CAPTURE = (Path(__file__).parent / "fixtures" / "antnode-0.4.7-metrics.txt").read_text()

CAPTURE_METRICS = NodeMetrics(
    uptime=1260, records=1, connected_peers=4, routing_table_peers=362, shunned=0, shunned_count=0,
    bad_peers=0, open_connections=4, network_size=2064384, rewards="0", puts=1, payment_count=0,
    relevant_records=0, max_records=0, live_time=0, cpu_percent=0.0353, mem_mb=97.8125,
)  # fmt: skip


def test_real_capture() -> None:
    parsed = parse_node_metrics(REAL_CAPTURE.encode())
    assert parsed.complete
    assert parsed.metrics == CAPTURE_METRICS


def test_realistic_full_body_maps_every_field() -> None:
    values = Values(
        uptime=86410, records=1500, connected_peers=37, network_size=4_500_000, open_connections=41,
        routing_table_peers=301, shunned_count=17, bad_peers=3, shunned_by_close_group=2,
        reward_balance="123456789012345678901234567", puts={"Chunk": 120, "GraphEntry": 7, "Scratchpad": 3},
        mem_mb="212.5", cpu_percent="1.25", relevant_records=900, max_records=16384, payment_count=44,
        live_time=86000,
    )  # fmt: skip
    body = render_metrics(values, node_versions=130)
    assert 550 <= len(body.splitlines()) <= 720 and 45_000 <= len(body) <= 60_000
    parsed = parse_node_metrics(body.encode())
    assert parsed.complete
    assert parsed.metrics == NodeMetrics(
        uptime=86410, records=1500, connected_peers=37, routing_table_peers=301, shunned=2, shunned_count=17,
        bad_peers=3, open_connections=41, network_size=4_500_000, rewards="123456789012345678901234567",
        puts=130, payment_count=44, relevant_records=900, max_records=16384, live_time=86000,
        cpu_percent=1.25, mem_mb=212.5,
    )  # fmt: skip


def test_families_in_unexpected_order_still_found() -> None:
    lines = REAL_CAPTURE.splitlines()
    eof = lines.pop()
    # move the first family (put_record_ok) to the end and the uptime family to the front
    head, rest = lines[:3], lines[3:]
    reordered = "\n".join(rest + head + [eof]) + "\n"
    assert parse_node_metrics(reordered).metrics == CAPTURE_METRICS


def test_prefix_names_and_prometheus_counters() -> None:
    body = (
        "# TYPE ant_node_uptime_extra gauge\n"
        "ant_node_uptime_extra 99\n"
        "ant_node_uptime 5\n"
        "ant_networking_shunned_count 4\n"  # Prometheus text format: counter without _total
        'ant_networking_shunned_count_across_time_frames{time_frame="LastHour"} 9\n'
        'ant_node_put_record_ok{record_type="Chunk"} 2\n'
        'ant_node_put_record_ok{record_type="Pointer"} 3\n'
    )
    parsed = parse_node_metrics(body)
    assert not parsed.complete  # no # EOF
    assert (parsed.metrics.uptime, parsed.metrics.shunned_count, parsed.metrics.puts) == (5, 4, 5)


def test_puts_sums_every_series_not_the_first_only() -> None:
    body = render_metrics(Values(puts={"Chunk": 1, "GraphEntry": 10, "Pointer": 100}))
    assert parse_node_metrics(body).metrics.puts == 111


def test_values_timestamps_and_special_floats() -> None:
    body = (
        "ant_node_uptime 1260 1700000000000\n"
        "ant_networking_records_stored 12.0\n"
        "ant_networking_connected_peers NaN\n"
        "ant_networking_estimated_network_size +Inf\n"
        "ant_networking_process_memory_used_mb 1.5e2\n"
        "ant_networking_process_cpu_usage_percentage -Inf\n"
        "ant_node_current_reward_wallet_balance 1e3\n"
        'ant_networking_open_connections 4 # {trace_id="x"} 1\n'
        "# EOF\n"
    )
    m = parse_node_metrics(body).metrics
    assert (m.uptime, m.records, m.connected_peers, m.network_size) == (1260, 12, 0, 0)
    assert (m.mem_mb, m.cpu_percent, m.rewards, m.open_connections) == (150.0, 0.0, "1000", 4)


def test_label_escapes() -> None:
    text = '{a="x\\"y",b="c,d}e",c="back\\\\slash",d="new\\nline",e=""} 1'
    labels, end = parse_labels(text, 0, len(text))
    assert labels == (("a", 'x"y'), ("b", "c,d}e"), ("c", "back\\slash"), ("d", "new\nline"), ("e", ""))
    assert text[end:] == " 1"
    trailing = '{a="1",} 2'
    assert parse_labels(trailing, 0, len(trailing))[0] == (("a", "1"),)


def test_metadata_with_escaped_and_suffixed_labels() -> None:
    meta = parse_metadata(render_metadata("0.4.18-rc.1").encode())
    assert (meta.version, meta.peer_id, meta.complete) == ("0.4.18-rc.1", PEER_ID, True)
    odd = 'ant_node_antnode_version_info{branch="a\\"b,c",antnode_version="0.4.17"} 1\n# EOF\n'
    assert parse_metadata(odd).version == "0.4.17"


def test_truncated_body_is_flagged_and_cut_line_dropped() -> None:
    body = REAL_CAPTURE.encode()
    cut = body.index(b"ant_node_uptime 1260") + len(b"ant_node_uptime 12")
    parsed = parse_node_metrics(body[:cut])
    assert not parsed.complete
    assert parsed.metrics.uptime == 0  # "ant_node_uptime 12" was cut mid-value: not trusted
    assert parsed.metrics.puts == 1
    whole_lines = body[: body.index(b"# HELP ant_networking_records_stored")]
    parsed = parse_node_metrics(whole_lines)
    assert not parsed.complete and parsed.metrics.uptime == 1260


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\n\n",
        b"\x00\xff\xfe binary",
        b"<html><body>502 Bad Gateway</body></html>",
        b'{"json": true}',
        b"# HELP nothing here\n# EOF\n",
        b"some_other_metric 1\n# EOF\n",
    ],
)
def test_garbage_is_a_clear_failure(body: bytes) -> None:
    with pytest.raises(MetricsFormatError):
        parse_node_metrics(body)


@pytest.mark.parametrize(
    "line",
    [
        "ant_node_uptime\n",
        "ant_node_uptime abc\n",
        'ant_node_uptime{a="unterminated} 1\n',
        "ant_node_uptime{a=1} 1\n",
    ],
)
def test_malformed_needed_line_is_a_clear_failure(line: str) -> None:
    with pytest.raises(MetricsFormatError):
        parse_node_metrics(line + "# EOF\n")


def test_metadata_garbage() -> None:
    with pytest.raises(MetricsFormatError):
        parse_metadata(b"# EOF\n")
    with pytest.raises(MetricsFormatError):
        parse_metadata(b"\xff\xfe")


def test_integer_helpers() -> None:
    assert to_int("340282366920938463463374607431768211456") == 2**128
    assert to_int("+Inf") == 0 and to_int("7.9") == 7
    assert to_integer_text("000") == "0" and to_integer_text("0042") == "42"


def test_exposition_first_and_missing() -> None:
    expo = Exposition(REAL_CAPTURE)
    assert expo.first("nope_total", "ant_node_uptime") is not None
    assert expo.samples("does_not_exist") == ()
    assert expo.complete


def test_parse_speed() -> None:
    """A thousand realistic bodies must parse in well under a second (the survey's budget)."""
    body = render_metrics(node_versions=130).encode()
    meta = render_metadata().encode()
    started = time.perf_counter()
    for _ in range(200):
        parse_node_metrics(body)
        parse_metadata(meta)
    per_body = (time.perf_counter() - started) / 200
    assert per_body < 0.005, f"{per_body * 1e6:.0f} µs per body"  # a guard; bench_probe.py measures

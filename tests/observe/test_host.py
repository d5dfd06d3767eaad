"""Host metrics: rates from stored counters without sleeping; a short sample only when needed."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import pytest

from wnm.domain.host import HostCounters, HostMetrics
from wnm.observe.host import (
    MAX_INTERVAL,
    SAMPLE_SECONDS,
    cpu_count,
    existing_parent,
    read_counters,
    read_host,
    storage_usage,
)


def _timed_read(
    previous: HostCounters | None, paths: list[str], **kwargs: float
) -> tuple[float, HostMetrics]:
    started = time.perf_counter()
    host = read_host(paths, previous, **kwargs)
    return time.perf_counter() - started, host


def test_first_run_takes_one_short_sample(tmp_path: Path) -> None:
    elapsed, host = _timed_read(None, [str(tmp_path)])
    assert SAMPLE_SECONDS * 0.9 <= elapsed <= 1.0
    assert SAMPLE_SECONDS * 0.9 <= host.interval <= 1.0
    assert 0.0 <= host.cpu_percent <= 100.0
    assert host.counters.at > 0 and host.counters.cpu_total > 0


def test_no_sleep_when_previous_counters_exist(tmp_path: Path) -> None:
    previous = read_counters()
    sum(i * i for i in range(200_000))  # some CPU time between the readings
    elapsed, host = _timed_read(previous, [str(tmp_path)])
    assert elapsed < SAMPLE_SECONDS * 0.75  # no sample was taken
    assert host.interval > 0
    assert host.counters.at >= previous.at


def test_rates_are_averages_over_the_real_interval(tmp_path: Path) -> None:
    base = read_counters()
    previous = replace(
        base,
        at=base.at - 10.0,
        cpu_busy=base.cpu_busy - 5.0,
        cpu_total=base.cpu_total - 20.0,
        disk_read=max(0, base.disk_read - 10_000),
        disk_write=max(0, base.disk_write - 20_000),
        net_rx=max(0, base.net_rx - 30_000),
        net_tx=max(0, base.net_tx - 40_000),
    )
    elapsed, host = _timed_read(previous, [str(tmp_path)], now=base.at)
    assert elapsed < SAMPLE_SECONDS * 0.75  # no sample was taken
    assert host.interval == 10.0
    # counters only grow, so each rate is at least what was planted (and not wildly more)
    assert 20.0 <= host.cpu_percent <= 100.0
    if base.disk_read >= 10_000:
        assert host.disk_read_bps >= 1_000
    if base.net_tx >= 40_000:
        assert host.net_tx_bps >= 4_000


@pytest.mark.parametrize("why", ["stale", "backwards", "before boot", "in the future", "never stored"])
def test_unusable_previous_counters_trigger_a_sample(tmp_path: Path, why: str) -> None:
    base = read_counters()
    previous = {
        "stale": replace(base, at=base.at - MAX_INTERVAL - 5),
        "backwards": replace(base, at=base.at - 30, cpu_total=base.cpu_total + 1000),
        "before boot": replace(base, at=1.0),
        "in the future": replace(base, at=base.at + 60),
        "never stored": HostCounters(),
    }[why]
    elapsed, host = _timed_read(previous, [str(tmp_path)])
    assert elapsed >= SAMPLE_SECONDS * 0.9
    assert SAMPLE_SECONDS * 0.9 <= host.interval <= 1.0


def test_host_facts(tmp_path: Path) -> None:
    host = read_host([str(tmp_path)], read_counters())
    assert host.cpu_count == cpu_count() >= 1
    assert len(host.load) == 3 and all(x >= 0 for x in host.load)
    assert 0 < host.mem_percent < 100
    assert 0 < host.boot_time < time.time()


def test_storage_of_a_path_that_does_not_exist_yet(tmp_path: Path) -> None:
    future = tmp_path / "not" / "yet" / "created"
    assert existing_parent(str(future)) == str(tmp_path)
    usage = storage_usage(str(future))
    st = os.statvfs(tmp_path)
    assert usage.path == str(future)
    assert usage.free == st.f_bavail * st.f_frsize
    assert usage.total == usage.used + usage.free > 0
    assert 0 <= usage.percent <= 100
    host = read_host([str(future), str(tmp_path)], read_counters())
    assert [s.path for s in host.storage] == [str(future), str(tmp_path)]
    assert existing_parent("/") == "/"

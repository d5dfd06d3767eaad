"""Host metrics of one run, without sleeping.

wnm 0.6 blocked every run for a full second in ``psutil.cpu_times_percent(1)`` (defect D27) and
so judged CPU by one second of spikes. Here every rate (CPU busy, disk and network bytes per
second) is the average since the previous run: the caller stores the raw cumulative counters
(:class:`HostCounters`) and hands them back next time. Only when there is nothing usable to
compare with — first run, counters older than :data:`MAX_INTERVAL`, counters from before the
last boot or running backwards — is a short sample of :data:`SAMPLE_SECONDS` taken.

psutil is imported inside the functions so importing wnm (e.g. for ``--help``) never loads it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

from wnm.domain.host import HostCounters, HostMetrics, StorageUsage

MAX_INTERVAL = 3600.0
SAMPLE_SECONDS = 0.2
_NOT_BUSY = frozenset({"idle", "iowait", "guest", "guest_nice"})
_SLACK = 0.05  # seconds of CPU time: float sums of cumulative counters wobble in the last digits


def read_host(
    storage_paths: Sequence[str],
    previous: HostCounters | None,
    *,
    now: float | None = None,
) -> HostMetrics:
    """Observe the host now; rates are averaged over the time since ``previous``.

    ``now`` is the wall-clock time of this reading (``time.time()`` when None; stored in the
    returned counters' ``at``). Wall-clock time is compared with the boot time to recognise
    counters from before a reboot. Never raises for a storage path that does not exist yet:
    its nearest existing parent directory is measured.
    """
    import psutil

    boot_time = int(psutil.boot_time())
    current = read_counters(now)
    if not _comparable(previous, current, boot_time):
        previous = current
        time.sleep(SAMPLE_SECONDS)
        current = read_counters(None if now is None else now + SAMPLE_SECONDS)
    assert previous is not None
    interval = current.at - previous.at
    total = current.cpu_total - previous.cpu_total
    vm = psutil.virtual_memory()
    return HostMetrics(
        cpu_percent=_percent(current.cpu_busy - previous.cpu_busy, total),
        mem_percent=float(vm.percent),
        load=os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0),
        cpu_count=cpu_count(),
        boot_time=boot_time,
        disk_read_bps=_rate(current.disk_read - previous.disk_read, interval),
        disk_write_bps=_rate(current.disk_write - previous.disk_write, interval),
        net_rx_bps=_rate(current.net_rx - previous.net_rx, interval),
        net_tx_bps=_rate(current.net_tx - previous.net_tx, interval),
        interval=round(interval, 3),
        storage=tuple(storage_usage(p) for p in storage_paths),
        counters=current,
    )


def read_counters(now: float | None = None) -> HostCounters:
    """The host's cumulative CPU-time, disk and network byte counters right now.

    CPU busy time is the total minus idle and iowait (as psutil's own ``cpu_percent``);
    guest time is already part of user time on Linux and is not counted twice. Network
    counters leave out loopback interfaces: wnm's own metric probes run over loopback and
    would otherwise show up as node traffic.
    """
    import psutil

    fields = psutil.cpu_times()._asdict()
    idle = fields.get("idle", 0.0) + fields.get("iowait", 0.0)
    busy = sum(v for k, v in fields.items() if k not in _NOT_BUSY)
    disk = psutil.disk_io_counters(perdisk=False)
    rx = tx = 0
    for name, nic in psutil.net_io_counters(pernic=True).items():
        if name == "lo" or name.startswith("lo0"):
            continue
        rx += nic.bytes_recv
        tx += nic.bytes_sent
    return HostCounters(
        at=time.time() if now is None else now,
        cpu_busy=busy,
        cpu_total=busy + idle,
        disk_read=disk.read_bytes if disk else 0,
        disk_write=disk.write_bytes if disk else 0,
        net_rx=rx,
        net_tx=tx,
    )


def _comparable(previous: HostCounters | None, current: HostCounters, boot_time: int) -> bool:
    """Whether rates over (previous, current) mean something."""
    if previous is None or previous.at <= 0:
        return False
    interval = current.at - previous.at
    if not 0 < interval <= MAX_INTERVAL or previous.at < boot_time:
        return False
    return (
        current.cpu_total > previous.cpu_total
        and current.cpu_busy >= previous.cpu_busy - _SLACK
        and current.disk_read >= previous.disk_read
        and current.disk_write >= previous.disk_write
        and current.net_rx >= previous.net_rx
        and current.net_tx >= previous.net_tx
    )


def _percent(busy: float, total: float) -> float:
    return round(min(100.0, max(0.0, 100.0 * busy / total)), 2) if total > 0 else 0.0


def _rate(delta: float, interval: float) -> float:
    return round(delta / interval, 1) if interval > 0 and delta > 0 else 0.0


def cpu_count() -> int:
    """CPUs this process may run on (the affinity mask, e.g. under taskset or a cpuset)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def existing_parent(path: str) -> str:
    """``path`` itself when it exists, else its nearest existing ancestor (``/`` at worst)."""
    current = os.path.abspath(path)
    while not os.path.exists(current):
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    return current


def storage_usage(path: str) -> StorageUsage:
    """Usage of the filesystem holding ``path`` (or where it will be created), as ``df`` sees it.

    ``total`` is the space an unprivileged writer can use (used + available: root-reserved
    blocks left out), so ``percent`` equals df's ``Use%``.
    """
    st = os.statvfs(existing_parent(path))
    used = (st.f_blocks - st.f_bfree) * st.f_frsize
    free = st.f_bavail * st.f_frsize
    return StorageUsage(path=path, total=used + free, used=used, free=free)

"""Host signals, each judged on its own with the numbers in the text.

Two families of checks per resource: *remove* thresholds say the host is under pressure and
must shed a node; *less-than* thresholds say there is room to start or add one. Between the two
lies a dead band where nothing happens, which keeps the colony from flapping.

I/O thresholds (disk read/write, net rx/tx, bytes per second) are switched on one by one: a
threshold of 0 disables that single check and nothing else. wnm 0.5 switched a whole family on
when any one of its four thresholds was set, so the three left at 0 made ``allow`` always false
and ``remove`` almost always true (wnm-compat D15).
"""

from __future__ import annotations

from dataclasses import dataclass

from wnm.domain.host import HostMetrics, StorageUsage
from wnm.domain.settings import Settings

_LOAD_WINDOWS = ("1 min", "5 min", "15 min")


@dataclass(frozen=True)
class IoCheck:
    label: str
    value: float
    less_than: int
    remove: int


def io_checks(host: HostMetrics, settings: Settings) -> tuple[IoCheck, ...]:
    return (
        IoCheck("disk read", host.disk_read_bps, settings.hdio_read_less_than, settings.hdio_read_remove),
        IoCheck("disk write", host.disk_write_bps, settings.hdio_write_less_than, settings.hdio_write_remove),
        IoCheck("net rx", host.net_rx_bps, settings.netio_read_less_than, settings.netio_read_remove),
        IoCheck("net tx", host.net_tx_bps, settings.netio_write_less_than, settings.netio_write_remove),
    )


def stop_signals(host: HostMetrics, settings: Settings, settling: bool) -> tuple[str, ...]:
    """CPU, memory, load and I/O pressure, one line per signal over its remove threshold.

    ``settling`` is True while a previous pressure stop is inside its cool-down: the 5- and
    15-minute load averages still mostly reflect the load from before that stop, so they are
    not allowed to stop a further node then. CPU, memory, I/O (averaged over the last run
    interval) and the 1-minute load still are.
    """
    signals: list[str] = []
    if host.cpu_percent > settings.cpu_remove:
        signals.append(f"cpu {host.cpu_percent:.1f}% > remove threshold {settings.cpu_remove}%")
    if host.mem_percent > settings.mem_remove:
        signals.append(f"mem {host.mem_percent:.1f}% > remove threshold {settings.mem_remove}%")
    for index, (window, load) in enumerate(zip(_LOAD_WINDOWS, host.load, strict=False)):
        if settling and index > 0:
            continue
        if load > settings.max_load_average_allowed:
            signals.append(
                f"load average {load:.2f} ({window}) > max allowed {settings.max_load_average_allowed:.2f}"
            )
    for check in io_checks(host, settings):
        if check.remove > 0 and check.value > check.remove:
            signals.append(f"{check.label} {check.value:.0f} B/s > remove threshold {check.remove} B/s")
    return tuple(signals)


def resource_blockers(host: HostMetrics, settings: Settings) -> tuple[str, ...]:
    """What keeps CPU, memory, load and I/O from allowing a start or an add."""
    blockers: list[str] = []
    if host.cpu_percent >= settings.cpu_less_than:
        blockers.append(f"cpu {host.cpu_percent:.1f}% >= add threshold {settings.cpu_less_than}%")
    if host.mem_percent >= settings.mem_less_than:
        blockers.append(f"mem {host.mem_percent:.1f}% >= add threshold {settings.mem_less_than}%")
    for window, load in zip(_LOAD_WINDOWS, host.load, strict=False):
        if load >= settings.desired_load_average:
            blockers.append(
                f"load average {load:.2f} ({window}) >= desired {settings.desired_load_average:.2f}"
            )
    for check in io_checks(host, settings):
        if check.less_than > 0 and check.value >= check.less_than:
            blockers.append(f"{check.label} {check.value:.0f} B/s >= add threshold {check.less_than} B/s")
    return tuple(blockers)


def same_path(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def usage_of(host: HostMetrics, path: str) -> StorageUsage | None:
    for usage in host.storage:
        if same_path(usage.path, path):
            return usage
    return None


def disk_pressure(host: HostMetrics, settings: Settings) -> tuple[tuple[str, str], ...]:
    """``(path, text)`` for each storage path whose filesystem is over ``hd_remove``."""
    return tuple(
        (
            u.path,
            f"disk {u.path} {u.percent:.1f}% > remove threshold {settings.hd_remove}% ({gib(u.free)} free)",
        )
        for u in host.storage
        if u.percent > settings.hd_remove
    )


def gib(n: int) -> str:
    return f"{n / 1024**3:.1f} GiB"


def headroom_text(host: HostMetrics, settings: Settings) -> str:
    """The numbers that allowed a start or an add, for the action's reason."""
    loads = "/".join(f"{x:.2f}" for x in host.load)
    return (
        f"cpu {host.cpu_percent:.1f}% < {settings.cpu_less_than}%, "
        f"mem {host.mem_percent:.1f}% < {settings.mem_less_than}%, "
        f"load {loads} < {settings.desired_load_average:.2f}"
    )

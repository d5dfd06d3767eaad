"""What wnm observed about the host in one run."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class StorageUsage:
    """Usage of the filesystem holding one ``node_storage`` path."""

    path: str
    total: int
    used: int
    free: int

    @property
    def percent(self) -> float:
        return 100.0 * self.used / self.total if self.total else 0.0


@dataclass(frozen=True)
class HostCounters:
    """Raw cumulative counters, stored so the next run can compute rates without sleeping."""

    at: float = 0.0
    cpu_busy: float = 0.0
    cpu_total: float = 0.0
    disk_read: int = 0
    disk_write: int = 0
    net_rx: int = 0
    net_tx: int = 0


@dataclass(frozen=True)
class HostMetrics:
    """Host metrics of one run; rates are averages over ``interval`` seconds since the last run."""

    cpu_percent: float
    mem_percent: float
    load: tuple[float, float, float]
    cpu_count: int
    boot_time: int
    disk_read_bps: float = 0.0
    disk_write_bps: float = 0.0
    net_rx_bps: float = 0.0
    net_tx_bps: float = 0.0
    interval: float = 0.0
    storage: tuple[StorageUsage, ...] = ()
    counters: HostCounters = field(default_factory=HostCounters)

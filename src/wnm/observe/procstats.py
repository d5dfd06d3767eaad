"""Cheap per-process facts for nodes without a metrics endpoint: start time, CPU time, memory.

One psutil lookup per live pid (a couple of small ``/proc`` reads on Linux). psutil is imported
inside the function so importing wnm never loads it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class ProcStats:
    pid: int
    create_time: float  # epoch seconds
    cpu_seconds: float  # user + system since start
    rss: int  # bytes

    def cpu_percent(self, now: float, cpu_count: int) -> float:
        """Average CPU use over the process's life, in percent of the whole host (0-100).

        A lifetime average, not a recent rate: enough to rank nodes, and it needs no second
        reading (legacy antnode reports CPU divided by the cores the same way).
        """
        elapsed = now - self.create_time
        if elapsed <= 0 or cpu_count <= 0:
            return 0.0
        return round(min(100.0, 100.0 * self.cpu_seconds / elapsed / cpu_count), 4)


def process_stats(pids: Iterable[int]) -> dict[int, ProcStats]:
    """Stats of each pid that exists and can be read; vanished or unreadable pids are left out."""
    import psutil

    found: dict[int, ProcStats] = {}
    for pid in set(pids):
        try:
            proc = psutil.Process(pid)
            with proc.oneshot():
                times = proc.cpu_times()
                found[pid] = ProcStats(
                    pid=pid,
                    create_time=proc.create_time(),
                    cpu_seconds=times.user + times.system,
                    rss=proc.memory_info().rss,
                )
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, OSError):
            continue
    return found

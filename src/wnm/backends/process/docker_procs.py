"""Host PIDs of processes inside containers, read from /proc (best effort, Linux only).

Docker reports the host PID of a container's init only; wnm wants the node's own PID (to sample
its CPU and memory). With ``init=True`` the node of a single-node container is the init's child;
in a group container the supervisor records PIDs as seen inside the container, which map to host
PIDs through the ``NSpid`` line of /proc/<pid>/status. When /proc cannot be read (another OS, a
remote daemon) every lookup answers None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")


@dataclass
class ProcessTable:
    """Parent and namespace-PID facts of every host process, read once per status pass."""

    children: dict[int, list[int]] = field(default_factory=dict)
    ns_pid: dict[int, int] = field(default_factory=dict)

    @classmethod
    def read(cls, proc: Path = PROC) -> ProcessTable:
        table = cls()
        try:
            entries = list(proc.iterdir())
        except OSError:
            return table
        for entry in entries:
            if not entry.name.isdigit():
                continue
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            pid = int(entry.name)
            for line in status.splitlines():
                key, _, value = line.partition(":")
                if key == "PPid":
                    table.children.setdefault(int(value), []).append(pid)
                elif key == "NSpid":
                    table.ns_pid[pid] = int(value.split()[-1])
        return table

    def descendants(self, pid: int) -> list[int]:
        found: list[int] = []
        todo = list(self.children.get(pid, []))
        while todo:
            child = todo.pop()
            found.append(child)
            todo.extend(self.children.get(child, []))
        return found

    def first_child(self, pid: int | None) -> int | None:
        """The oldest child (lowest PID) of ``pid``: the node under docker's init."""
        if not pid:
            return None
        kids = self.children.get(pid, [])
        return min(kids) if kids else None

    def host_pid(self, init_pid: int | None, ns_pid: int | None) -> int | None:
        """The host PID of the process that is ``ns_pid`` inside the container of ``init_pid``."""
        if not init_pid or ns_pid is None:
            return None
        for pid in self.descendants(init_pid):
            if self.ns_pid.get(pid) == ns_pid:
                return pid
        return None

"""setsid: nodes as detached processes in their own session, tracked by ``<root_dir>/node.pid``.

No supervisor: a node that dies stays dead until wnm starts it again, and nodes do not come
back after a reboot by themselves (wnm's next run starts them). What this backend guarantees
instead (wnm-compat defects D7/D8 are what it must never do):

* the node is spawned directly (``Popen(start_new_session=True)``), never through util-linux
  ``setsid``, so the PID wnm records is the node's own;
* the pid file holds PID *and* create time, and a node counts as running only when that process
  is alive and carries the node's root dir as an option value, so a recycled PID never passes;
* ``stop`` without a (valid) pid file still finds the node's processes by command line and
  kills them; it never reports success while the node runs;
* a node that exits within :attr:`SetsidManager.start_grace` seconds is a start failure carrying
  the tail of its ``console.log``.

``setsid+sudo`` runs nodes as the user running wnm (root when wnm runs under sudo or root's
cron); there is no switch to another user.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from wnm.backends.process.base import (
    Availability,
    ManagerContext,
    ProcessManager,
    ProcessState,
    ProcessStatus,
)
from wnm.domain.node import Node
from wnm.errors import PermanentFailure, TemporaryFailure
from wnm.system import spawn
from wnm.system.spawn import ProcessIdentity

log = logging.getLogger(__name__)

PID_FILE = "node.pid"
CONSOLE_LOG = "console.log"
# exit codes that will recur on every start: usage error, missing rewards address (antnode's
# panic), not executable, not found
_PERMANENT_EXIT_CODES = frozenset({2, 101, 126, 127})


class SetsidManager(ProcessManager):
    """Detached node processes without a supervisor. See the module docstring for guarantees."""

    name = "setsid"
    start_grace = 0.3

    @classmethod
    def availability(cls, ctx: ManagerContext) -> Availability:
        if os.name != "posix":
            return Availability(False, "setsid needs a POSIX system (sessions and signals)")
        return Availability(True)

    def create(self, node: Node) -> Node:
        """Make sure the node's root and log dirs exist; there is nothing else to define."""
        for path in (node.root_dir, node.log_dir):
            try:
                Path(path).mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise PermanentFailure(f"cannot create {path}: {exc.strerror}", node.id) from exc
        return node

    def start(self, node: Node) -> None:
        """Spawn the node unless it already runs (then adopt it); raise if it dies at once."""
        if self._running(node):
            return
        strays = self._strays(node)
        if strays:
            self._adopt(node, strays)
            return
        command = self.ctx.command_for(node)
        if not spawn.carries_option_value(command.argv, node.root_dir):
            raise PermanentFailure(
                f"node command of {node.service_name} does not pass its root dir {node.root_dir} as an "
                "option value; setsid could not recognise the process",
                node.id,
            )
        log_path = Path(node.log_dir) / CONSOLE_LOG
        ident = spawn.spawn_detached(
            command.argv, env=command.env_dict, log_path=log_path, cwd=Path(node.root_dir)
        )
        try:
            self._write_pid(node, ident)
        except PermanentFailure:
            spawn.terminate(ident, node.root_dir, timeout=5.0)
            raise
        code = spawn.wait_exit(ident.pid, self.start_grace)
        if code is None:
            log.info("started %s as pid %d", node.service_name, ident.pid)
            return
        self._pid_path(node).unlink(missing_ok=True)
        message = f"{node.service_name} exited at once with code {code}: {_tail(log_path)}"
        if code in _PERMANENT_EXIT_CODES:
            raise PermanentFailure(message, node.id)
        raise TemporaryFailure(message, node.id)

    def stop(self, node: Node, timeout: float = 30.0) -> None:
        """Stop the pid-file process and any stray process of this node, then drop the pid file."""
        targets = self._strays(node)
        recorded = spawn.read_pid_file(self._pid_path(node))
        if recorded is not None and spawn.is_alive(recorded, node.root_dir):
            targets = [recorded, *(t for t in targets if t.pid != recorded.pid)]
        for ident in targets:
            spawn.terminate(ident, node.root_dir, timeout)
        self._pid_path(node).unlink(missing_ok=True)

    def remove(self, node: Node) -> None:
        """Stop the node; its pid file goes with it (dirs are deleted by the executor)."""
        self.stop(node)

    def status_all(self, nodes: Sequence[Node]) -> Mapping[int, ProcessStatus]:
        """Pid-file checks for all nodes, plus one process scan for the nodes without a live one.

        A node found by the scan (started by an older wnm, or re-spawned by its own self-upgrade)
        is reported RUNNING and its pid file is rewritten, so the next run needs no scan.
        """
        result: dict[int, ProcessStatus] = {}
        unsure: list[tuple[Node, ProcessIdentity | None]] = []
        for node in nodes:
            recorded = spawn.read_pid_file(self._pid_path(node))
            if recorded is not None and spawn.is_alive(recorded, node.root_dir):
                result[node.id] = ProcessStatus(ProcessState.RUNNING, pid=recorded.pid)
            else:
                unsure.append((node, recorded))
        if not unsure:
            return result
        found = spawn.find_by_option_value(node.root_dir for node, _ in unsure)
        for node, recorded in unsure:
            strays = found.get(node.root_dir, [])
            if strays:
                oldest = min(strays, key=lambda ident: ident.create_time)
                with contextlib.suppress(PermanentFailure):  # an observation must not fail on it
                    self._write_pid(node, oldest)
                result[node.id] = ProcessStatus(
                    ProcessState.RUNNING,
                    pid=oldest.pid,
                    detail="found by command line (no valid pid file)",
                )
            else:
                result[node.id] = self._not_running(node, recorded)
        return result

    def _not_running(self, node: Node, recorded: ProcessIdentity | None) -> ProcessStatus:
        if not Path(node.root_dir).is_dir():
            return ProcessStatus(ProcessState.MISSING, detail=f"root dir {node.root_dir} is missing")
        if recorded is None:
            return ProcessStatus(ProcessState.STOPPED, detail="no pid file")
        return ProcessStatus(
            ProcessState.STOPPED, exit_code=spawn.reap(recorded.pid), detail=f"pid {recorded.pid} is gone"
        )

    def _running(self, node: Node) -> bool:
        recorded = spawn.read_pid_file(self._pid_path(node))
        return recorded is not None and spawn.is_alive(recorded, node.root_dir)

    def _strays(self, node: Node) -> list[ProcessIdentity]:
        return spawn.find_by_option_value([node.root_dir])[node.root_dir]

    def _adopt(self, node: Node, strays: list[ProcessIdentity]) -> None:
        """Record the oldest stray as the node; kill duplicates (they share port and data dir)."""
        keep, *extra = sorted(strays, key=lambda ident: ident.create_time)
        for ident in extra:
            log.warning("%s: killing duplicate process %d", node.service_name, ident.pid)
            spawn.terminate(ident, node.root_dir, timeout=10.0)
        self._write_pid(node, keep)
        log.info("%s: adopted running process %d", node.service_name, keep.pid)

    def _write_pid(self, node: Node, ident: ProcessIdentity) -> None:
        try:
            spawn.write_pid_file(self._pid_path(node), ident)
        except OSError as exc:
            raise PermanentFailure(f"cannot write {self._pid_path(node)}: {exc.strerror}", node.id) from exc

    @staticmethod
    def _pid_path(node: Node) -> Path:
        return Path(node.root_dir) / PID_FILE


def _tail(path: Path, lines: int = 5, max_bytes: int = 4096) -> str:
    """The last lines of a console log, joined with `` | `` for a one-line error message."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - max_bytes))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return "(no console output)"
    kept = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
    return " | ".join(kept) if kept else "(no console output)"

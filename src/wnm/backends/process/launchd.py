"""launchd (macOS): one ``com.autonomi.antnode-<id>`` job per node.

``launchd+user`` installs LaunchAgents in ``~/Library/LaunchAgents`` and drives the
``gui/<uid>`` domain (which exists while the user has a login session); ``launchd+sudo``
installs LaunchDaemons in ``/Library/LaunchDaemons`` (written through ``ctx.privilege``) and
drives the ``system`` domain. Only the modern ``launchctl`` verbs are used:

* start: ``kickstart <domain>/<label>`` when the job is loaded, else ``bootstrap <domain> <plist>``
  (``RunAtLoad`` starts it);
* stop: ``bootout <domain>/<label>`` (unloads the job: with ``KeepAlive`` that is the only stop
  launchd will not undo; the installed plist loads it again at the next boot/login);
* restart: ``kickstart -k``; status of all nodes: one ``launchctl list``.
"""

from __future__ import annotations

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
from wnm.backends.process.definition_file import delete_definition, write_definition
from wnm.backends.process.launchd_plist import EXIT_TIMEOUT, label_for, render_plist
from wnm.domain.node import Node
from wnm.errors import CommandError, CommandNotFound, CommandTimeout, PermanentFailure
from wnm.system.commands import CommandResult

SYSTEM_PLIST_DIR = Path("/Library/LaunchDaemons")
CONSOLE_LOG = "console.log"
_NOT_LOADED_CODES = frozenset({3, 113})  # "No such process", "Could not find service"
_STOP_MARGIN = 15.0


class LaunchdManager(ProcessManager):
    """Nodes as launchd jobs. ``plist_dir`` overrides where plists go (tests)."""

    name = "launchd"

    def __init__(self, ctx: ManagerContext, plist_dir: Path | None = None) -> None:
        super().__init__(ctx)
        self.system = _is_system(ctx)
        self.domain = _domain(self.system)
        self.plist_dir = plist_dir or (
            SYSTEM_PLIST_DIR if self.system else Path.home() / "Library" / "LaunchAgents"
        )

    @classmethod
    def availability(cls, ctx: ManagerContext) -> Availability:
        """Usable when ``launchctl print <domain>`` answers (it does not exist off macOS)."""
        domain = _domain(_is_system(ctx))
        try:
            result = ctx.runner(["launchctl", "print", domain], timeout=5.0, check=False)
        except CommandNotFound:
            return Availability(False, "launchctl not found: launchd exists only on macOS")
        except CommandTimeout as exc:
            return Availability(False, str(exc))
        if result.returncode != 0:
            return Availability(False, f"launchctl print {domain}: {result.output or result.returncode}")
        return Availability(True)

    def create(self, node: Node) -> Node:
        """Install the plist; the job is loaded (and so started) by :meth:`start`."""
        data = render_plist(
            self.label(node),
            self.ctx.command_for(node),
            working_directory=node.root_dir,
            log_path=str(Path(node.log_dir) / CONSOLE_LOG),
        )
        try:
            Path(node.log_dir).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PermanentFailure(f"cannot create {node.log_dir}: {exc.strerror}", node.id) from exc
        write_definition(self.ctx, self.plist_path(node), data, privileged=self.system)
        return node

    def start(self, node: Node) -> None:
        """Start the loaded job, or load it (``RunAtLoad`` starts it)."""
        if not self._not_loaded(self._launchctl("kickstart", self.target(node))):
            return
        self._bootstrap(node)

    def stop(self, node: Node, timeout: float = 30.0) -> None:
        """Unload the job (SIGTERM, SIGKILL after the plist's ExitTimeOut). Not loaded is fine."""
        wait = max(timeout, float(EXIT_TIMEOUT)) + _STOP_MARGIN
        self._not_loaded(self._launchctl("bootout", self.target(node), timeout=wait))

    def restart(self, node: Node) -> None:
        if self._not_loaded(self._launchctl("kickstart", "-k", self.target(node))):
            self._bootstrap(node)

    def remove(self, node: Node) -> None:
        """Unload the job and delete its plist (so it cannot come back at the next login)."""
        self.stop(node)
        delete_definition(self.ctx, self.plist_path(node), privileged=self.system)

    def status_all(self, nodes: Sequence[Node]) -> Mapping[int, ProcessStatus]:
        """One ``launchctl list``; a job not listed is STOPPED if its plist exists, else MISSING."""
        try:
            listed = parse_launchctl_list(self._launchctl("list", check=True).stdout)
        except (CommandError, CommandTimeout, CommandNotFound) as exc:
            return {node.id: ProcessStatus(ProcessState.UNKNOWN, detail=str(exc)) for node in nodes}
        result: dict[int, ProcessStatus] = {}
        for node in nodes:
            label = self.label(node)
            if label in listed:
                pid, status = listed[label]
                if pid is not None:
                    result[node.id] = ProcessStatus(ProcessState.RUNNING, pid=pid, exit_code=status)
                else:
                    result[node.id] = ProcessStatus(ProcessState.STOPPED, exit_code=status, detail="loaded")
            elif self.plist_path(node).exists():
                result[node.id] = ProcessStatus(ProcessState.STOPPED, detail="not loaded")
            else:
                result[node.id] = ProcessStatus(ProcessState.MISSING, detail="no plist")
        return result

    @staticmethod
    def label(node: Node) -> str:
        return label_for(node.id)

    def target(self, node: Node) -> str:
        return f"{self.domain}/{self.label(node)}"

    def plist_path(self, node: Node) -> Path:
        return self.plist_dir / f"{self.label(node)}.plist"

    def _bootstrap(self, node: Node) -> None:
        path = self.plist_path(node)
        if not path.exists():
            raise PermanentFailure(f"{path} is missing; the node must be created again", node.id)
        self._launchctl("bootstrap", self.domain, str(path), check=True)

    def _launchctl(self, *args: str, timeout: float | None = None, check: bool = False) -> CommandResult:
        argv = ["launchctl", *args]
        if self.system:
            argv = self.ctx.privilege.wrap(argv)
        return self.ctx.runner(argv, timeout=timeout or self.ctx.timeout, check=check)

    @staticmethod
    def _not_loaded(result: CommandResult) -> bool:
        """True when launchctl said the job is not loaded; raises on any other failure."""
        if result.returncode == 0:
            return False
        if result.returncode in _NOT_LOADED_CODES or "Could not find service" in result.output:
            return True
        raise CommandError(result.argv, result.returncode, result.output)


def parse_launchctl_list(text: str) -> dict[str, tuple[int | None, int | None]]:
    """``launchctl list`` rows (``PID Status Label``, ``-`` for none) as label -> (pid, status).

    Status is the last exit status; launchd shows a death by signal N as ``-N``.
    """
    jobs: dict[str, tuple[int | None, int | None]] = {}
    for line in text.splitlines():
        fields = line.split(None, 2)
        if len(fields) != 3 or fields[0] == "PID":
            continue
        jobs[fields[2].strip()] = (_optional_int(fields[0]), _optional_int(fields[1]))
    return jobs


def _optional_int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def _is_system(ctx: ManagerContext) -> bool:
    return ctx.variant == "sudo"


def _domain(system: bool) -> str:
    return "system" if system else f"gui/{os.getuid()}"

"""systemd: one enabled ``antnodeNNNN.service`` per node, system units (``+sudo``) or user units.

User mode uses ``systemctl --user`` and ``~/.config/systemd/user``; cron gives no
``XDG_RUNTIME_DIR`` or session bus address, so they are filled in (``/run/user/<uid>``) when
missing. User units only survive logout and start at boot when the user has lingering enabled
(``loginctl enable-linger``); wnm does not switch that on by itself.

System mode writes ``/etc/systemd/system`` through ``install -m 0644`` from a temp file and runs
state-changing ``systemctl`` calls through ``ctx.privilege`` (``sudo -n`` when not root);
read-only calls (``show``, ``is-system-running``) need no privilege. A system unit gets
``User=<owner of the node's root dir>`` when that owner is not root, so nodes run as whoever owns
their data; otherwise no ``User=`` line (root).

Units are enabled at create time so nodes come back after a reboot (wnm-compat D29); see
:mod:`wnm.backends.process.systemd_unit` for the unit itself. ``stop(timeout)`` waits for
systemd, whose forced kill comes after the unit's ``TimeoutStopSec``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
from collections.abc import Mapping, Sequence
from pathlib import Path

from wnm.backends.process.base import (
    Availability,
    ManagerContext,
    ProcessManager,
    ProcessState,
    ProcessStatus,
)
from wnm.backends.process.definition_file import delete_definition, read_definition, write_definition
from wnm.backends.process.systemd_unit import TIMEOUT_STOP_SEC, render_unit
from wnm.domain.node import Node
from wnm.errors import CommandError, CommandNotFound, CommandTimeout, PermanentFailure
from wnm.system.commands import CommandResult

SYSTEM_UNIT_DIR = Path("/etc/systemd/system")
SHOW_PROPERTIES = (
    "Id",
    "LoadState",
    "ActiveState",
    "SubState",
    "MainPID",
    "ExecMainCode",
    "ExecMainStatus",
    "NRestarts",
    "UnitFileState",
)
SHOW_CHUNK = 200
_USABLE_STATES = frozenset({"running", "degraded", "starting", "initializing"})
_STOP_MARGIN = 15.0
_EXIT_NOT_LOADED = 5  # systemctl's exit status for "unit not loaded"
_CLD_EXITED, _CLD_KILLED, _CLD_DUMPED = "1", "2", "3"


class SystemdManager(ProcessManager):
    """Nodes as systemd services. ``unit_dir`` overrides where unit files go (tests)."""

    name = "systemd"

    def __init__(self, ctx: ManagerContext, unit_dir: Path | None = None) -> None:
        super().__init__(ctx)
        self.system = _is_system(ctx)
        self.unit_dir = unit_dir or (SYSTEM_UNIT_DIR if self.system else _user_unit_dir())

    @classmethod
    def availability(cls, ctx: ManagerContext) -> Availability:
        """Usable when ``systemctl [--user] is-system-running`` answers with a working state."""
        system = _is_system(ctx)
        argv = _systemctl_argv(system, "is-system-running")
        try:
            result = ctx.runner(argv, timeout=5.0, check=False, env=_bus_env(system))
        except (CommandNotFound, CommandTimeout) as exc:
            return Availability(False, str(exc))
        state = result.stdout.strip()
        if state in _USABLE_STATES:
            return Availability(True)
        reason = f"{' '.join(argv)}: {result.output or f'exit {result.returncode}'}"
        # is-system-running only says "offline"; show-environment says why (no systemd as PID 1,
        # no user bus)
        with contextlib.suppress(CommandTimeout):
            probe = ctx.runner(
                _systemctl_argv(system, "show-environment"), timeout=5.0, check=False, env=_bus_env(system)
            )
            if probe.returncode != 0 and probe.stderr.strip():
                reason += f" ({probe.stderr.strip()})"
        return Availability(False, reason)

    def create(self, node: Node) -> Node:
        """Write (or rewrite) the unit, reload systemd and enable the unit; does not start it."""
        command = self.ctx.command_for(node)
        text = render_unit(
            command,
            description=f"wnm node {node.service_name}",
            working_directory=node.root_dir,
            system=self.system,
            user=_owner_if_not_root(node.root_dir) if self.system else None,
        )
        path = self.unit_path(node)
        if read_definition(path) != text.encode():
            write_definition(self.ctx, path, text.encode(), privileged=self.system)
            self._systemctl("daemon-reload")
        self._systemctl("enable", self.unit(node))
        return node

    def start(self, node: Node) -> None:
        self._raise_missing(node, self._systemctl("start", self.unit(node), check=False))

    def stop(self, node: Node, timeout: float = 30.0) -> None:
        """``systemctl stop``; a unit systemd does not know is already stopped."""
        result = self._systemctl("stop", self.unit(node), timeout=_stop_wait(timeout), check=False)
        if result.returncode not in (0, _EXIT_NOT_LOADED):
            raise CommandError(result.argv, result.returncode, result.output)

    def restart(self, node: Node) -> None:
        self._raise_missing(
            node, self._systemctl("restart", self.unit(node), timeout=_stop_wait(30.0), check=False)
        )

    def remove(self, node: Node) -> None:
        """Disable and stop, delete the unit file and its enable link, reload, forget failures."""
        unit = self.unit(node)
        path = self.unit_path(node)
        result = self._systemctl("disable", "--now", unit, timeout=_stop_wait(30.0), check=False)
        if result.returncode != 0:
            if path.exists():
                raise CommandError(result.argv, result.returncode, result.output)
            self.stop(node)  # no file: it may still be loaded from before
        delete_definition(self.ctx, path, privileged=self.system)
        link = self.unit_dir / f"{_wanted_by(self.system)}.wants" / unit
        if link.is_symlink():
            delete_definition(self.ctx, link, privileged=self.system)
        self._systemctl("daemon-reload")
        self._systemctl("reset-failed", unit, check=False)

    def status_all(self, nodes: Sequence[Node]) -> Mapping[int, ProcessStatus]:
        """One ``systemctl show`` per :data:`SHOW_CHUNK` units; UNKNOWN when systemctl fails."""
        by_unit = {self.unit(node): node.id for node in nodes}
        units = list(by_unit)
        result: dict[int, ProcessStatus] = {}
        for start in range(0, len(units), SHOW_CHUNK):
            chunk = units[start : start + SHOW_CHUNK]
            argv = _systemctl_argv(self.system, "show", "-p", ",".join(SHOW_PROPERTIES), *chunk)
            try:
                shown = self.ctx.runner(argv, timeout=self.ctx.timeout, env=_bus_env(self.system))
            except (CommandError, CommandTimeout, CommandNotFound) as exc:
                result.update(
                    {by_unit[u]: ProcessStatus(ProcessState.UNKNOWN, detail=str(exc)) for u in chunk}
                )
                continue
            for props in parse_show_output(shown.stdout):
                if props.get("Id") in by_unit:
                    result[by_unit[props["Id"]]] = status_from_properties(props)
        for unit, node_id in by_unit.items():
            result.setdefault(
                node_id, ProcessStatus(ProcessState.UNKNOWN, detail=f"systemctl show omitted {unit}")
            )
        return result

    @staticmethod
    def unit(node: Node) -> str:
        return f"{node.service_name}.service"

    def unit_path(self, node: Node) -> Path:
        return self.unit_dir / self.unit(node)

    def _systemctl(self, *args: str, timeout: float | None = None, check: bool = True) -> CommandResult:
        argv = _systemctl_argv(self.system, *args)
        if self.system:
            argv = self.ctx.privilege.wrap(argv)
        return self.ctx.runner(
            argv, timeout=timeout or self.ctx.timeout, check=check, env=_bus_env(self.system)
        )

    def _raise_missing(self, node: Node, result: CommandResult) -> None:
        if result.returncode == 0:
            return
        if "not found" in result.output or not self.unit_path(node).exists():
            raise PermanentFailure(f"{self.unit(node)} is not installed: {result.output}", node.id)
        raise CommandError(result.argv, result.returncode, result.output)


def parse_show_output(text: str) -> list[dict[str, str]]:
    """Split ``systemctl show`` output for several units into one property dict per unit.

    Units are separated by blank lines; a value may itself contain ``=`` (split on the first).
    """
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
                current = {}
            continue
        key, sep, value = line.partition("=")
        if sep:
            current[key] = value
    if current:
        blocks.append(current)
    return blocks


def status_from_properties(props: Mapping[str, str]) -> ProcessStatus:
    """What one unit's properties say about its node.

    A unit systemd cannot load (file gone, bad setting, masked) is MISSING: its definition must
    be written again. A running main process is RUNNING; anything else is STOPPED, with the
    last exit code (``-N`` when killed by signal N) and ``ActiveState/SubState`` as detail
    (``activating/auto-restart`` means systemd restarts it in ``RestartSec``).
    """
    load = props.get("LoadState", "")
    if load != "loaded":
        return ProcessStatus(ProcessState.MISSING, detail=f"unit load state {load or 'unknown'}")
    pid = _int(props.get("MainPID"))
    restarts = _int(props.get("NRestarts"))
    detail = f"{props.get('ActiveState', '?')}/{props.get('SubState', '?')}"
    enabled = props.get("UnitFileState", "")
    if enabled and enabled != "enabled":
        detail += f", {enabled}"
    if pid > 0:
        return ProcessStatus(ProcessState.RUNNING, pid=pid, restarts=restarts, detail=detail)
    code = props.get("ExecMainCode")
    status = _int(props.get("ExecMainStatus"))
    exit_code = status if code == _CLD_EXITED else -status if code in (_CLD_KILLED, _CLD_DUMPED) else None
    return ProcessStatus(ProcessState.STOPPED, exit_code=exit_code, restarts=restarts, detail=detail)


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def _is_system(ctx: ManagerContext) -> bool:
    return ctx.variant == "sudo"


def _wanted_by(system: bool) -> str:
    return "multi-user.target" if system else "default.target"


def _systemctl_argv(system: bool, *args: str) -> list[str]:
    return ["systemctl", *args] if system else ["systemctl", "--user", *args]


def _bus_env(system: bool) -> dict[str, str]:
    """For user mode: the runtime dir and session bus cron does not provide."""
    if system:
        return {}
    env: dict[str, str] = {}
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    if "XDG_RUNTIME_DIR" not in os.environ:
        env["XDG_RUNTIME_DIR"] = runtime
    if "DBUS_SESSION_BUS_ADDRESS" not in os.environ:
        env["DBUS_SESSION_BUS_ADDRESS"] = f"unix:path={runtime}/bus"
    return env


def _user_unit_dir() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "systemd" / "user"


def _owner_if_not_root(path: str) -> str | None:
    try:
        uid = os.stat(path).st_uid
    except OSError:
        return None
    if uid == 0:
        return None
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _stop_wait(timeout: float) -> float:
    return max(timeout, float(TIMEOUT_STOP_SEC)) + _STOP_MARGIN

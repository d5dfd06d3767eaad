"""Long-running node processes that must outlive wnm: spawn, identify, signal and reap them.

Besides :mod:`wnm.system.commands` this is the only module that creates OS processes. A node is
started directly with ``Popen(..., start_new_session=True)`` (never through util-linux
``setsid``, which forks and exits at once when its caller leads a process group). A process is
identified by its PID *and* its create time, so a recycled PID is never mistaken for a node.

Children spawned by this process are kept in a table until they are reaped, so a long-running
caller (the test-suite, a future daemon) never accumulates zombies and can report their exit
codes. Exit codes follow ``subprocess``: ``>= 0`` for a normal exit, ``-N`` when killed by
signal N. A single-shot wnm run exits long before its nodes, which are then re-parented to init.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from wnm.errors import CommandNotFound, PermanentFailure, TemporaryFailure

# create times come from /proc start ticks (10 ms) plus the boot time: allow a little slack
_CREATE_TIME_SLACK = 0.05
_children: dict[int, subprocess.Popen[bytes]] = {}
_exit_codes: dict[int, int] = {}  # reaped children: pid -> exit code (until the pid is reused)


@dataclass(frozen=True)
class ProcessIdentity:
    """A process as (pid, create time): stable for the life of the process, unique across reuse."""

    pid: int
    create_time: float

    def to_text(self) -> str:
        return f"{self.pid} {self.create_time:.2f}\n"

    @classmethod
    def from_text(cls, text: str) -> ProcessIdentity | None:
        """Parse ``"<pid> <create_time>"``; a bare PID (older wnm pid files) gets create time 0."""
        parts = text.split()
        try:
            pid = int(parts[0])
            created = float(parts[1]) if len(parts) > 1 else 0.0
        except (IndexError, ValueError):
            return None
        return cls(pid, created) if pid > 0 else None


def spawn_detached(
    argv: Sequence[str], *, env: Mapping[str, str], log_path: Path, cwd: Path
) -> ProcessIdentity:
    """Start ``argv`` in a new session, stdio to ``log_path`` (appended), ``env`` added to ours.

    Raises :class:`CommandNotFound` when the program does not exist and
    :class:`PermanentFailure` when it cannot be executed (permissions, bad format, missing cwd)
    or the log cannot be opened.
    """
    full_env = dict(os.environ)
    full_env.update(env)
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(log_path, "ab")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise PermanentFailure(f"cannot open console log {log_path}: {exc.strerror}") from exc
    with log:
        try:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=full_env,
                close_fds=True,
                start_new_session=True,
            )
        except FileNotFoundError as exc:
            if not cwd.is_dir():
                raise PermanentFailure(f"working directory {cwd} does not exist") from exc
            raise CommandNotFound(argv[0]) from exc
        except OSError as exc:
            raise PermanentFailure(f"cannot execute {argv[0]}: {exc.strerror or exc}") from exc
    _children[proc.pid] = proc
    _exit_codes.pop(proc.pid, None)
    created = _create_time(proc.pid)
    return ProcessIdentity(proc.pid, created if created is not None else time.time())


def wait_exit(pid: int, timeout: float) -> int | None:
    """Wait up to ``timeout`` s for our child ``pid`` to exit; its exit code, or None if running."""
    proc = _children.get(pid)
    if proc is None:
        return None
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    del _children[pid]
    _exit_codes[pid] = code
    return code


def reap(pid: int) -> int | None:
    """Exit code of ``pid`` if it is (or was) our child and has exited (reaping it), else None."""
    proc = _children.get(pid)
    if proc is None:
        return _exit_codes.get(pid)
    code = proc.poll()
    if code is not None:
        del _children[pid]
        _exit_codes[pid] = code
    return code


def reap_all() -> None:
    """Reap every exited child we spawned (cheap; callers use it to never leave zombies)."""
    for pid in list(_children):
        reap(pid)


def is_alive(ident: ProcessIdentity, marker: str) -> bool:
    """True when ``ident`` is a live (non-zombie) process whose command line carries ``marker``.

    ``marker`` is the node's root dir; an identity from an old pid file without a create time
    is accepted on the marker alone. A dead child of ours is reaped on the way.
    """
    try:
        proc = psutil.Process(ident.pid)
        with proc.oneshot():
            created = proc.create_time()
            if ident.create_time and abs(created - ident.create_time) > _CREATE_TIME_SLACK:
                return False
            if proc.status() == psutil.STATUS_ZOMBIE:
                reap(ident.pid)
                return False
            return carries_option_value(proc.cmdline(), marker)
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        reap(ident.pid)
        return False
    except psutil.AccessDenied:
        return False


def carries_option_value(cmdline: Sequence[str], value: str) -> bool:
    """True when ``value`` is passed as an option value: ``--opt value`` or ``--opt=value``.

    Matching only option values (not any argument) keeps ``tail -f <root_dir>`` or an editor
    from being taken for the node.
    """
    want = value.rstrip("/") or "/"
    previous = ""
    for arg in cmdline:
        if previous.startswith("--") and "=" not in previous and arg.rstrip("/") == want:
            return True
        if arg.startswith("--") and "=" in arg and arg.partition("=")[2].rstrip("/") == want:
            return True
        previous = arg
    return False


def find_by_option_value(values: Iterable[str]) -> dict[str, list[ProcessIdentity]]:
    """Scan all processes once; map each of ``values`` to the live processes carrying it.

    Used to find nodes that have no (valid) pid file: strays from older wnm versions, or the new
    process a node spawned when it upgraded itself.
    """
    wanted = {v.rstrip("/") or "/": v for v in values}
    found: dict[str, list[ProcessIdentity]] = {v: [] for v in wanted.values()}
    if not wanted:
        return found
    me = os.getpid()
    for proc in psutil.process_iter(["pid", "cmdline", "create_time", "status"]):
        info = proc.info
        cmdline = info.get("cmdline") or []
        if info["pid"] == me or info.get("status") == psutil.STATUS_ZOMBIE or len(cmdline) < 2:
            continue
        for key, original in wanted.items():
            if carries_option_value(cmdline, key):
                found[original].append(ProcessIdentity(info["pid"], info.get("create_time") or 0.0))
    return found


def terminate(ident: ProcessIdentity, marker: str, timeout: float, kill_timeout: float = 5.0) -> None:
    """SIGTERM ``ident`` (its process group when it leads one), SIGKILL after ``timeout`` s.

    Does nothing when the process is already gone. Raises :class:`TemporaryFailure` when it
    survives SIGKILL for ``kill_timeout`` s (stuck in the kernel, e.g. on a dead disk).
    """
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, kill_timeout)):
        if not is_alive(ident, marker):
            return
        _signal(ident.pid, sig)
        if _wait_gone(ident, marker, wait):
            return
    raise TemporaryFailure(f"process {ident.pid} survived SIGKILL for {kill_timeout:g}s")


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError as exc:
        raise PermanentFailure(f"not permitted to signal process {pid}") from exc


def _wait_gone(ident: ProcessIdentity, marker: str, timeout: float) -> bool:
    if ident.pid in _children:
        return wait_exit(ident.pid, timeout) is not None or not is_alive(ident, marker)
    deadline = time.monotonic() + timeout
    delay = 0.01
    while is_alive(ident, marker):
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.2)
    return True


def _create_time(pid: int) -> float | None:
    try:
        return float(psutil.Process(pid).create_time())
    except psutil.Error:
        return None


def read_pid_file(path: Path) -> ProcessIdentity | None:
    """The identity stored in ``path``; None when missing or unreadable garbage."""
    try:
        return ProcessIdentity.from_text(path.read_text(encoding="ascii", errors="replace"))
    except OSError:
        return None


def write_pid_file(path: Path, ident: ProcessIdentity) -> None:
    """Replace ``path`` atomically (temp file in the same dir + rename): never half written."""
    fd, tmp = tempfile.mkstemp(prefix=".node.pid.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(ident.to_text())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise

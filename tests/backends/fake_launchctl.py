"""A tiny launchd behind the command seam: the one fake wnm's tests allow (launchctl cannot exist
on Linux).

:class:`FakeLaunchctl` is a :class:`~wnm.system.commands.CommandRunner`. Calls whose program is
``launchctl`` (also behind ``sudo -n``) are answered like launchd would, and the jobs' real
``ProgramArguments`` run as real processes; every other command goes to the real runner.

Behaviour modelled (macOS 13+ ``launchctl``):

* ``print <domain>`` / ``print <domain>/<label>``: 0, or 113 "Could not find service";
* ``bootstrap <domain> <plist>``: loads the job and starts it when ``RunAtLoad``; an already
  loaded job gives ``Bootstrap failed: 5: Input/output error``;
* ``bootout <domain>/<label>``: SIGTERM to the job's process group, SIGKILL after ``ExitTimeOut``,
  unload; not loaded gives ``Boot-out failed: 3: No such process``;
* ``kickstart [-k] <domain>/<label>``: start the job if not running; ``-k`` kills a running
  instance first; not loaded gives 113;
* ``list``: ``PID<TAB>Status<TAB>Label`` rows for the listing domain, with a few unrelated
  Apple jobs, PID ``-`` when not running and the last exit status (``-N`` for signal N).

``KeepAlive``: a job whose process has exited is respawned whenever the fake is next called
(launchd respawns by itself; tests observe it by polling ``list``). ``ThrottleInterval`` is not
modelled (respawn is immediate) so tests stay fast.
"""

from __future__ import annotations

import os
import plistlib
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wnm.errors import CommandError
from wnm.system.commands import DEFAULT_TIMEOUT, CommandResult, run

APPLE_JOBS = (
    "-\t0\tcom.apple.SafariHistoryServiceAgent",
    "412\t0\tcom.apple.Finder",
    "-\t-9\tcom.apple.mdworker",
)


@dataclass
class Job:
    domain: str
    label: str
    plist: dict[str, Any]
    proc: subprocess.Popen[bytes] | None = None
    last_status: int | None = None
    starts: int = 0
    log: list[str] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class FakeLaunchctl:
    """launchd for one test. ``list_domain`` is the domain ``launchctl list`` shows (root: system)."""

    def __init__(self, list_domain: str | None = None) -> None:
        self.uid = os.getuid()
        self.list_domain = list_domain or f"gui/{self.uid}"
        self.jobs: dict[tuple[str, str], Job] = {}
        self.calls: list[tuple[str, ...]] = []

    def __call__(
        self,
        argv: Sequence[str],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        check: bool = True,
        env: Mapping[str, str] | None = None,
        input: str | None = None,
    ) -> CommandResult:
        args = list(argv)
        if args[:2] == ["sudo", "-n"]:
            args = args[2:]
        if not args or args[0] != "launchctl":
            return run(argv, timeout=timeout, check=check, env=env, input=input)
        self.calls.append(tuple(args))
        self.poll()
        code, out, err = self._dispatch(args[1:], timeout)
        result = CommandResult(tuple(argv), code, out, err)
        if check and code != 0:
            raise CommandError(result.argv, code, result.output)
        return result

    def poll(self) -> None:
        """Record exits and respawn KeepAlive jobs, as launchd does on its own."""
        for job in self.jobs.values():
            if job.proc is not None and job.proc.poll() is not None:
                job.last_status = job.proc.returncode
                job.proc = None
                if job.plist.get("KeepAlive") is True:
                    self._spawn(job)

    def close(self) -> None:
        """Kill every job's process (test teardown)."""
        for job in self.jobs.values():
            self._kill(job, grace=0.5)
        self.jobs.clear()

    # ---------------------------------------------------------------- verbs

    def _dispatch(self, args: list[str], timeout: float) -> tuple[int, str, str]:
        verb, rest = (args[0], args[1:]) if args else ("", [])
        if verb == "print" and len(rest) == 1:
            return self._print(rest[0])
        if verb == "bootstrap" and len(rest) == 2:
            return self._bootstrap(rest[0], Path(rest[1]))
        if verb == "bootout" and len(rest) in (1, 2):
            target = rest[0] if len(rest) == 1 else f"{rest[0]}/{self._label_of(Path(rest[1]))}"
            return self._bootout(target, timeout)
        if verb == "kickstart" and rest:
            return self._kickstart(rest[-1], kill="-k" in rest[:-1])
        if verb == "list" and not rest:
            return 0, self._list(), ""
        return 64, "", f"Unrecognized subcommand: {' '.join(args)}\n"

    def _print(self, target: str) -> tuple[int, str, str]:
        domain, _, label = _split_gui(target)
        if domain not in ("system", f"gui/{self.uid}"):
            return 113, "", f"Could not find domain for {target}\n"
        if not label:
            return 0, f"{domain} = {{\n\ttype = {'system' if domain == 'system' else 'gui'}\n}}\n", ""
        job = self.jobs.get((domain, label))
        if job is None:
            return 113, "", f'Could not find service "{label}" in domain for port\n'
        state = "running" if job.running else "not running"
        pid = f"\tpid = {job.proc.pid}\n" if job.running and job.proc else ""
        return 0, f"{target} = {{\n\tstate = {state}\n{pid}\truns = {job.starts}\n}}\n", ""

    def _bootstrap(self, domain: str, path: Path) -> tuple[int, str, str]:
        try:
            with open(path, "rb") as handle:
                plist = plistlib.load(handle)
        except FileNotFoundError:
            return 2, "", "Bootstrap failed: 2: No such file or directory\n"
        key = (domain, str(plist["Label"]))
        if key in self.jobs:
            return 5, "", "Bootstrap failed: 5: Input/output error\n"
        job = Job(domain, key[1], plist)
        self.jobs[key] = job
        if plist.get("RunAtLoad"):
            self._spawn(job)
        return 0, "", ""

    def _bootout(self, target: str, timeout: float) -> tuple[int, str, str]:
        job = self.jobs.pop(_split_gui(target)[::2], None)
        if job is None:
            return 3, "", "Boot-out failed: 3: No such process\n"
        self._kill(job, grace=min(float(job.plist.get("ExitTimeOut", 20)), timeout))
        return 0, "", ""

    def _kickstart(self, target: str, kill: bool) -> tuple[int, str, str]:
        domain, _, label = _split_gui(target)
        job = self.jobs.get((domain, label))
        if job is None:
            return 113, "", f'Could not find service "{label}" in domain for port\n'
        if job.running and not kill:
            return 0, "", ""
        if job.running:
            self._kill(job, grace=float(job.plist.get("ExitTimeOut", 20)))
        self._spawn(job)
        return 0, "", ""

    def _list(self) -> str:
        rows = ["PID\tStatus\tLabel", *APPLE_JOBS]
        for job in self.jobs.values():
            if job.domain != self.list_domain:
                continue
            pid = str(job.proc.pid) if job.running and job.proc else "-"
            status = "0" if job.last_status is None else str(job.last_status)
            rows.append(f"{pid}\t{status}\t{job.label}")
        return "\n".join(rows) + "\n"

    # ---------------------------------------------------------------- processes

    def _spawn(self, job: Job) -> None:
        plist = job.plist
        env = dict(os.environ)
        env.update(plist.get("EnvironmentVariables") or {})
        out_path = plist.get("StandardOutPath", "/dev/null")
        err_path = plist.get("StandardErrorPath", "/dev/null")
        with open(out_path, "ab") as out, open(err_path, "ab") as err:
            job.proc = subprocess.Popen(
                list(plist["ProgramArguments"]),
                cwd=plist.get("WorkingDirectory") or "/",
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        job.starts += 1
        job.log.append(f"started {job.proc.pid}")

    def _kill(self, job: Job, grace: float) -> None:
        proc = job.proc
        if proc is None:
            return
        if proc.poll() is None:
            _signal_group(proc.pid, signal.SIGTERM)
            deadline = time.monotonic() + grace
            while proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            if proc.poll() is None:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait()
        job.last_status = proc.returncode
        job.proc = None

    @staticmethod
    def _label_of(path: Path) -> str:
        with open(path, "rb") as handle:
            return str(plistlib.load(handle)["Label"])


def _split_gui(target: str) -> tuple[str, str, str]:
    """``gui/501/com.x`` -> (``gui/501``, ``/``, ``com.x``); ``system/com.x`` likewise."""
    parts = target.split("/")
    if parts[0] == "gui" and len(parts) >= 2:
        return "/".join(parts[:2]), "/", "/".join(parts[2:])
    return parts[0], "/", "/".join(parts[1:])


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass

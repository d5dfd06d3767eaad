"""Private network namespaces with a real ufw or firewalld (reference/test-environment.md §4).

Every command of the code under test runs through :class:`NetnsRunner`, which prefixes
``ip netns exec <ns>``; ``ip netns exec`` bind-mounts ``/etc/netns/<ns>/*`` over ``/etc``, so ufw
and firewalld read and write a private copy of their configuration and the host's firewall is
never touched. firewalld talks over a private dbus-daemon (``DBUS_SYSTEM_BUS_ADDRESS``), which
the runner always sets, so nothing here reaches the host's system bus either.

Names are unique (``wnm-fw-<pid>-<n>``); namespaces, overlays, temp dirs and daemons (stopped by
PID) are removed at teardown, also when a test fails.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from wnm.system.commands import DEFAULT_TIMEOUT, CommandResult, run

_numbers = itertools.count(1)
FIREWALLD_RUN_DIR = Path("/run/firewalld")


class NetnsRunner:
    """A CommandRunner that runs every command inside network namespace ``ns``."""

    def __init__(self, ns: str, bus_address: str) -> None:
        self.ns = ns
        self.bus_address = bus_address
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
        self.calls.append(tuple(argv))
        merged = {"DBUS_SYSTEM_BUS_ADDRESS": self.bus_address, **(env or {})}
        return run(
            ["ip", "netns", "exec", self.ns, *argv], timeout=timeout, check=check, env=merged, input=input
        )


@dataclass
class FirewallNetns:
    """One namespace: its name, the runner into it and what it runs (``ufw``/``firewalld``/none)."""

    name: str
    runner: NetnsRunner
    workdir: Path
    kind: str

    def output(self, *argv: str) -> str:
        """stdout of a command inside the namespace (empty when it fails), for checking rules."""
        result: CommandResult = self.runner(argv, timeout=20, check=False)
        return result.stdout


def _require(*programs: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("firewall integration tests need root")
    for program in programs:
        if shutil.which(program) is None:
            pytest.skip(f"{program} is not installed")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _wait(check: Callable[[], bool], timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-1500:] if log and log.exists() else ""
            pytest.skip(f"{what} did not come up within {timeout}s: {tail}")
        time.sleep(0.1)


def _bus_config(workdir: Path) -> Path:
    """The system bus config rewritten to listen on a socket in ``workdir`` (no pidfile, no user)."""
    text = Path("/usr/share/dbus-1/system.conf").read_text()
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("<listen>"):
            line = f"  <listen>unix:path={workdir}/system_bus_socket</listen>"
        elif stripped.startswith(("<pidfile>", "<user>")):
            continue
        elif stripped == "<includedir>system.d</includedir>":
            line = "  <includedir>/usr/share/dbus-1/system.d</includedir>"
        lines.append(line)
    path = workdir / "system.conf"
    path.write_text("\n".join(lines) + "\n")
    return path


@contextlib.contextmanager
def firewall_netns(kind: str) -> Iterator[FirewallNetns]:
    """A fresh namespace with ufw enabled (``ufw``), firewalld running (``firewalld``) or neither.

    In every kind ufw has a private, disabled configuration, so ``ufw status`` answers about the
    namespace; in ``ufw``/none kinds the bus socket exists in no daemon, so firewalld is absent.
    """
    _require(
        "ip",
        "ufw",
        "iptables",
        *(("firewalld", "firewall-cmd", "dbus-daemon") if kind == "firewalld" else ()),
    )
    name = f"wnm-fw-{os.getpid()}-{next(_numbers)}"
    overlay = Path("/etc/netns") / name
    workdir = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    runner = NetnsRunner(name, f"unix:path={workdir}/system_bus_socket")
    daemons: list[subprocess.Popen[bytes]] = []
    created = False
    had_run_dir = FIREWALLD_RUN_DIR.exists()
    try:
        result = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True, timeout=10)
        if result.returncode != 0:
            pytest.skip(f"cannot create a network namespace: {result.stderr.strip()}")
        created = True
        runner(["ip", "link", "set", "lo", "up"])
        overlay.mkdir(parents=True)
        shutil.copytree("/etc/ufw", overlay / "ufw", symlinks=True)
        conf = overlay / "ufw" / "ufw.conf"
        conf.write_text(
            "".join(
                "ENABLED=no\n" if line.startswith("ENABLED=") else line
                for line in conf.read_text().splitlines(keepends=True)
            )
        )
        if kind == "ufw":
            runner(["ufw", "--force", "enable"], timeout=30)
        elif kind == "firewalld":
            shutil.copytree("/etc/firewalld", overlay / "firewalld", symlinks=True)
            bus_log = open(workdir / "dbus.log", "wb")  # noqa: SIM115 - closed with the daemon below
            daemons.append(
                subprocess.Popen(
                    ["dbus-daemon", f"--config-file={_bus_config(workdir)}", "--nofork"],
                    stdout=bus_log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
            bus_log.close()
            _wait(lambda: (workdir / "system_bus_socket").exists(), 10, "dbus-daemon", workdir / "dbus.log")
            fw_log = open(workdir / "firewalld.log", "wb")  # noqa: SIM115
            daemons.append(
                subprocess.Popen(
                    ["ip", "netns", "exec", name, "firewalld", "--nofork", "--nopid", "--log-target=console"],
                    stdout=fw_log,
                    stderr=subprocess.STDOUT,
                    env={**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": runner.bus_address},
                    start_new_session=True,
                )
            )
            fw_log.close()
            _wait(
                lambda: (
                    runner(["firewall-cmd", "--state"], check=False, timeout=10).stdout.strip() == "running"
                ),
                60,
                "firewalld",
                workdir / "firewalld.log",
            )
        yield FirewallNetns(name, runner, workdir, kind)
    finally:
        for daemon in reversed(daemons):
            _stop(daemon)
        if created:
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)
        shutil.rmtree(overlay, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)
        if not had_run_dir:
            with contextlib.suppress(OSError):
                FIREWALLD_RUN_DIR.rmdir()  # firewalld's (empty) runtime dir, only if we caused it


@pytest.fixture(scope="module")
def ufw_ns() -> Iterator[FirewallNetns]:
    with firewall_netns("ufw") as ns:
        yield ns


@pytest.fixture(scope="module")
def firewalld_ns() -> Iterator[FirewallNetns]:
    with firewall_netns("firewalld") as ns:
        yield ns


@pytest.fixture(scope="module")
def bare_ns() -> Iterator[FirewallNetns]:
    with firewall_netns("none") as ns:
        yield ns

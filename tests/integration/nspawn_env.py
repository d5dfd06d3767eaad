"""A real systemd to test against: the Debian rootfs booted with ``systemd-nspawn``.

How (reference/test-environment.md §3), and why each step:

* The host's PID 1 is not systemd, and systemd must never start in the host's root cgroup
  (it would pull every process of the machine into its ``init.scope``). So the launcher first
  moves itself into fresh child cgroups ``wnm-nspawn-<pid>`` of the unified and ``name=systemd``
  hierarchies, then execs ``systemd-nspawn -b``.
* ``--register=no --keep-unit`` (no host systemd to register with), ``--private-network`` (the
  container only has ``lo``), ``--volatile=overlay`` (the shared rootfs stays pristine: users,
  units and chmods made by tests vanish at shutdown, and concurrent sessions may boot it),
  ``-M wnm-<pid>`` (unique machine name).
* The checkout (with its venv) and the venv's base interpreter are bind-mounted at their host
  paths, so ``<repo>/.venv/bin/python -m pytest`` runs the project inside; its ``systemctl``
  calls reach the container's systemd. Commands enter with ``nsenter -t <leader> -a``.
* Teardown (also after failures): SIGTERM to nspawn (orderly poweroff), SIGKILL if it hangs,
  remove this machine's ``/run/systemd/nspawn`` leftovers, ``rmdir`` the cgroups bottom-up.

The rootfs (``/var/lib/machines/wnm-deb``) is made by debootstrap when missing, under a lock
shared with the other integration fixtures; tests skip when that is impossible.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ROOTFS = Path("/var/lib/machines/wnm-deb")
DEBOOTSTRAP_PACKAGES = "systemd,systemd-sysv,dbus,python3,procps,iproute2,libpam-systemd,dbus-user-session"
CGROUP_ROOTS = (Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup/systemd"))
NEEDED_IN_ROOTFS = ("usr/bin/python3", "lib/systemd/systemd", "usr/bin/loginctl", "usr/bin/dbus-daemon")
BOOT_TIMEOUT = 60.0


@dataclass
class Machine:
    """A booted container: run commands in it with :meth:`run`."""

    name: str
    nspawn_pid: int
    leader: int
    repo: Path
    python: Path
    log: Path
    timings: dict[str, float] = field(default_factory=dict)

    def run(
        self,
        argv: Sequence[str],
        *,
        user: str | None = None,
        env: Mapping[str, str] | None = None,
        unset: Sequence[str] = (),
        timeout: float = 60.0,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` inside (cwd: the repo), as ``user`` via runuser when given."""
        # not nsenter --wd: it opens the directory before entering the mount namespace, which
        # leaves the command with an unreachable cwd
        command = ["nsenter", "-t", str(self.leader), "-a"]
        if user:
            command += ["runuser", "-u", user, "--"]
            # coverage of the test run cannot write its data into the root-owned checkout as
            # another user: measure only what runs as root
            unset = [*unset, "COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START"]
        command += ["env", "-C", str(self.repo), *(f"-u{name}" for name in unset)]
        command += [*(f"{k}={v}" for k, v in (env or {}).items()), *argv]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)

    def pytest(self, module: Path, mode: str, *, user: str | None = None, timeout: float = 600.0) -> str:
        """Run a test module inside (``WNM_INSIDE_NSPAWN=mode``, as ``user``); its output.

        Fails the calling test unless pytest exited 0 with passes and no failure, error or skip.
        """
        started = time.monotonic()
        result = self.run(
            [str(self.python), "-m", "pytest", str(module), "-q", "-rA", "-s", "-p", "no:cacheprovider"],
            user=user,
            env={"WNM_INSIDE_NSPAWN": mode, "PYTHONDONTWRITEBYTECODE": "1"},
            unset=("XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS"),
            timeout=timeout,
        )
        self.timings[f"{module.stem}_{mode}_s"] = round(time.monotonic() - started, 2)
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        summary = output.strip().splitlines()[-1]
        assert re.search(r"\d+ passed", summary) and not re.search(r"failed|error", summary), output
        return output

    def check(self, argv: Sequence[str], **kwargs: object) -> str:
        """:meth:`run` that fails the test on a non-zero exit; returns stdout."""
        result = self.run(argv, **kwargs)  # type: ignore[arg-type]
        assert result.returncode == 0, (
            f"{' '.join(argv)} exited {result.returncode}: {result.stderr}{result.stdout}"
        )
        return result.stdout


def skip_reason() -> str | None:
    """Why nspawn cannot run here, or None."""
    if os.geteuid() != 0:
        return "systemd-nspawn needs root"
    for tool in ("systemd-nspawn", "nsenter", "runuser"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    for root in CGROUP_ROOTS:
        if not (root / "cgroup.procs").exists():
            return f"cgroup hierarchy {root} is missing (the recipe needs the hybrid layout)"
    if sys.prefix == sys.base_prefix:
        return "tests must run from a virtualenv (its base interpreter is bind-mounted)"
    return None


def ensure_rootfs(rootfs: Path = ROOTFS) -> Path:
    """The Debian rootfs with systemd, python3 and the user-session packages; built when missing.

    Built in a temp dir and renamed into place under a lock (shared with the docker fixtures),
    so no session ever sees half a rootfs. Skips the test when debootstrap cannot run.
    """
    if all((rootfs / item).exists() for item in NEEDED_IN_ROOTFS):
        return rootfs
    if shutil.which("debootstrap") is None:
        pytest.skip("no usable Debian rootfs and no debootstrap to make one")
    rootfs.parent.mkdir(parents=True, exist_ok=True)
    with open(rootfs.parent / ".wnm-deb.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if all((rootfs / item).exists() for item in NEEDED_IN_ROOTFS):
            return rootfs
        tmp = Path(tempfile.mkdtemp(prefix=".wnm-deb-", dir=rootfs.parent))
        command = [
            "debootstrap",
            "--variant=minbase",
            f"--include={DEBOOTSTRAP_PACKAGES}",
            "bookworm",
            str(tmp),
            "http://deb.debian.org/debian",
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
        if result.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            pytest.skip(f"debootstrap failed: {result.stdout[-800:]}{result.stderr[-800:]}")
        (tmp / "etc/hostname").write_text("wnm-deb\n")
        if rootfs.exists():
            shutil.rmtree(rootfs)
        tmp.rename(rootfs)
    return rootfs


def base_prefix(python: Path) -> Path:
    """The interpreter installation the venv was made from (must be visible inside)."""
    out = subprocess.run(
        [str(python), "-c", "import sys; print(sys.base_prefix)"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return Path(out.stdout.strip())


@contextlib.contextmanager
def booted(rootfs: Path, repo: Path = REPO) -> Iterator[Machine]:
    """Boot ``rootfs`` (see the module docstring); always shut down and clean up."""
    venv = Path(sys.prefix)
    python = venv / "bin" / "python"
    name = f"wnm-{os.getpid()}"
    cgroups = [root / f"wnm-nspawn-{os.getpid()}" for root in CGROUP_ROOTS]
    binds = [f"--bind-ro={base_prefix(python)}", f"--bind={repo}"]
    if not venv.is_relative_to(repo):
        binds.append(f"--bind={venv}")
    workdir = Path(tempfile.mkdtemp(prefix="wnm-nspawn-"))
    log = workdir / "nspawn.log"
    for cgroup in cgroups:
        cgroup.mkdir(exist_ok=True)
    joins = "; ".join(f"echo $$ > {cgroup}/cgroup.procs" for cgroup in cgroups)
    argv = [
        "sh",
        "-c",
        f'{joins}; exec "$@"',
        "wnm-nspawn",
        "systemd-nspawn",
        "--register=no",
        "--keep-unit",
        "--private-network",
        "--volatile=overlay",
        *binds,
        "-D",
        str(rootfs),
        "-M",
        name,
        "--console=read-only",
        "-b",
    ]
    started = time.monotonic()
    with open(log, "wb") as log_handle:
        nspawn = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log_handle, stderr=subprocess.STDOUT)
    try:
        leader = _wait_leader(nspawn, log)
        machine = Machine(name, nspawn.pid, leader, repo, python, log)
        _wait_booted(machine, nspawn)
        machine.timings["boot_s"] = round(time.monotonic() - started, 2)
        yield machine
    finally:
        stopping = time.monotonic()
        _stop(nspawn)
        _remove_leftovers(name, cgroups)
        shutil.rmtree(workdir, ignore_errors=True)
        if "machine" in locals():
            machine.timings["shutdown_s"] = round(time.monotonic() - stopping, 2)


def _wait_leader(nspawn: subprocess.Popen[bytes], log: Path) -> int:
    """The host PID of the container's PID 1 (systemd), a child of the nspawn process."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if nspawn.poll() is not None:
            raise RuntimeError(
                f"systemd-nspawn exited {nspawn.returncode}: {log.read_text(errors='replace')[-2000:]}"
            )
        for task in Path(f"/proc/{nspawn.pid}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                for pid in task.read_text().split():
                    if Path(f"/proc/{pid}/comm").read_text().strip() == "systemd":
                        return int(pid)
        time.sleep(0.05)
    raise RuntimeError(f"no container init after 15 s: {log.read_text(errors='replace')[-2000:]}")


def _wait_booted(machine: Machine, nspawn: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + BOOT_TIMEOUT
    state = ""
    while time.monotonic() < deadline:
        if nspawn.poll() is not None:
            break
        state = machine.run(["systemctl", "is-system-running"], timeout=10).stdout.strip()
        if state in ("running", "degraded"):
            return
        time.sleep(0.1)
    raise RuntimeError(
        f"container did not boot (state {state!r}): {machine.log.read_text(errors='replace')[-2000:]}"
    )


def _stop(nspawn: subprocess.Popen[bytes]) -> None:
    if nspawn.poll() is not None:
        return
    nspawn.send_signal(signal.SIGTERM)  # orderly poweroff of the container
    try:
        nspawn.wait(timeout=30)
    except subprocess.TimeoutExpired:
        nspawn.kill()
        nspawn.wait(timeout=10)


def _remove_leftovers(name: str, cgroups: Sequence[Path]) -> None:
    """This machine's nspawn runtime dirs and our cgroups (bottom-up); shared dirs only if empty."""
    run_dir = Path("/run/systemd/nspawn")
    shutil.rmtree(run_dir / "propagate" / name, ignore_errors=True)
    for sub in ("propagate", "locks", ""):
        with contextlib.suppress(OSError):
            (run_dir / sub).rmdir()
    for cgroup in cgroups:
        if not cgroup.exists():
            continue
        for path in sorted(
            (p for p in cgroup.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True
        ):
            _rmdir_cgroup(path)
        _rmdir_cgroup(cgroup)


def _rmdir_cgroup(path: Path) -> None:
    """rmdir a cgroup, retrying briefly while its last processes are being reaped."""
    for _ in range(50):
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.1)


class _Shared:
    """The one container of this test process, with how many fixture instances use it."""

    stack: contextlib.ExitStack | None = None
    machine: Machine | None = None
    users = 0


@contextlib.contextmanager
def _shared_boot() -> Iterator[Machine]:
    """Boot on first use, shut down when the last user is done.

    pytest makes a separate session fixture for every test module that imports
    ``nspawn_machine``; two boots would share the machine name and the cgroups, so every module
    gets the same container instead.
    """
    if _Shared.machine is None:
        stack = contextlib.ExitStack()
        _Shared.machine = stack.enter_context(booted(ensure_rootfs()))
        _Shared.stack = stack
    _Shared.users += 1
    try:
        yield _Shared.machine
    finally:
        _Shared.users -= 1
        if _Shared.users == 0 and _Shared.stack is not None:
            stack, _Shared.stack, _Shared.machine = _Shared.stack, None, None
            stack.close()


@pytest.fixture(scope="session")
def nspawn_machine() -> Iterator[Machine]:
    """A booted container for the whole session; skips cleanly when nspawn cannot run here."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    with _shared_boot() as machine:
        yield machine
    print(f"\nnspawn timings: {machine.timings}")

"""The run lock: a second run exits 75 at once; a killed holder never leaves a stale lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

HOLDER = """
import sys, time
from pathlib import Path
from wnm.system.lock import RunLock
lock = RunLock(Path(sys.argv[1]))
lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


def wnm(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wnm", *args], capture_output=True, text=True, timeout=60, env=env
    )


def test_second_run_exits_75_quickly_and_kill_9_leaves_no_stale_lock(
    machine: dict[str, str], isolated_env: Path
) -> None:
    env = {**os.environ, "HOME": str(isolated_env)}
    lock_path = machine["db"] + ".lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, lock_path], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        second = wnm("--dbpath", machine["db"], "--force_action", "nullop", env=env)
        elapsed = time.monotonic() - started
        assert second.returncode == 75, second.stderr
        assert elapsed < 1.0, elapsed
        assert len(second.stderr.strip().splitlines()) == 1
        assert "another wnm run" in second.stderr and str(holder.pid) in second.stderr
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
        after = wnm("--dbpath", machine["db"], "--force_action", "nullop", env=env)
        assert after.returncode == 0, after.stderr
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=10)


def test_reports_and_dry_runs_do_not_need_the_lock(machine: dict[str, str], isolated_env: Path) -> None:
    env = {**os.environ, "HOME": str(isolated_env)}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, machine["db"] + ".lock"], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        report = wnm("--dbpath", machine["db"], "--report", "machine-config", env=env)
        assert report.returncode == 0, report.stderr
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_remove_lockfile_is_harmless(cli, machine: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    result = cli("--remove_lockfile", "--dbpath", machine["db"])
    assert result.code == 0
    assert "nothing to remove" in result.out

"""The systemd backend against real systemd 252 booted in systemd-nspawn (see nspawn_env.py).

The real assertions live in ``inside/test_systemd_inside.py``, run in the container once as root
(system units, ``systemd+sudo``) and once as a lingering user ``ant`` (user units,
``systemd+user``, without ``XDG_RUNTIME_DIR`` as under cron). Here we boot, prepare the user,
run those passes and require that every inner test ran and passed.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # helper modules next to this file

from nspawn_env import Machine, nspawn_machine  # noqa: F401 - session fixture

pytestmark = pytest.mark.integration

INNER = Path(__file__).parent / "inside" / "test_systemd_inside.py"
USER = "ant"


def run_inner(machine: Machine, mode: str, user: str | None = None) -> str:
    return machine.pytest(INNER, mode, user=user, timeout=600)


def test_system_units(nspawn_machine: Machine) -> None:  # noqa: F811
    output = run_inner(nspawn_machine, "system")
    assert "skipped" not in output.strip().splitlines()[-1], output
    print(f"\n{output}\ntimings: {nspawn_machine.timings}")


def test_user_units_with_linger(nspawn_machine: Machine) -> None:  # noqa: F811
    machine = nspawn_machine
    if machine.run(["id", USER]).returncode != 0:
        machine.check(["useradd", "-m", USER])
    machine.check(["loginctl", "enable-linger", USER])
    uid = machine.check(["id", "-u", USER]).strip()
    machine.check(["systemctl", "start", f"user@{uid}.service"], timeout=60)
    # the venv's base interpreter is bind-mounted below root's home: let other users traverse it
    # (the rootfs is a volatile overlay, so this change vanishes with the container)
    machine.check(["chmod", "711", "/root"])
    output = run_inner(machine, "user", user=USER)
    summary = output.strip().splitlines()[-1]
    assert re.search(r"\b1 skipped", summary), output  # only the system-only User= test
    print(f"\n{output}\ntimings: {machine.timings}")

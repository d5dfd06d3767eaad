"""The whole ``wnm`` command against real systemd 252 booted in systemd-nspawn (see nspawn_env.py).

The scenario lives in ``inside/test_wnm_systemd_inside.py``; here we boot (the container is
shared with test_systemd_nspawn.py), prepare the lingering user, run that module once as root
(``systemd+sudo``) and once as ``ant`` (``systemd+user``, no ``XDG_RUNTIME_DIR`` as under cron),
and require that its test ran and passed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # helper modules next to this file

from nspawn_env import Machine, nspawn_machine  # noqa: F401 - session fixture

pytestmark = pytest.mark.integration

INNER = Path(__file__).parent / "inside" / "test_wnm_systemd_inside.py"
USER = "ant"


def run_inner(machine: Machine, mode: str, user: str | None = None) -> str:
    return machine.pytest(INNER, mode, user=user, timeout=300)


def test_wnm_with_system_units(nspawn_machine: Machine) -> None:  # noqa: F811
    output = run_inner(nspawn_machine, "system")
    print(f"\n{output}\ntimings: {nspawn_machine.timings}")


def test_wnm_with_user_units(nspawn_machine: Machine) -> None:  # noqa: F811
    machine = nspawn_machine
    if machine.run(["id", USER]).returncode != 0:
        machine.check(["useradd", "-m", USER])
    machine.check(["loginctl", "enable-linger", USER])
    uid = machine.check(["id", "-u", USER]).strip()
    machine.check(["systemctl", "start", f"user@{uid}.service"], timeout=60)
    # the venv's base interpreter may live below root's home: let other users traverse it
    # (the rootfs is a volatile overlay, so this change vanishes with the container)
    machine.check(["chmod", "711", "/root"])
    output = run_inner(machine, "user", user=USER)
    print(f"\n{output}\ntimings: {machine.timings}")

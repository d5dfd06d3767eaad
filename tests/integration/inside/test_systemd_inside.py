"""SystemdManager against a real systemd: runs INSIDE the nspawn container.

Started by ``tests/integration/test_systemd_nspawn.py`` with ``WNM_INSIDE_NSPAWN=system`` (as root:
``systemd+sudo``, system units) and ``WNM_INSIDE_NSPAWN=user`` (as user ``ant`` with lingering, no
``XDG_RUNTIME_DIR`` in the environment, as under cron: ``systemd+user``). Skipped anywhere else.
Node programs use the container's ``/usr/bin/python3`` (stdlib only).
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from wnm.backends.process import systemd as systemd_module
from wnm.backends.process.base import ManagerContext, ProcessState
from wnm.backends.process.systemd import SystemdManager
from wnm.domain.node import Node
from wnm.domain.settings import Settings
from wnm.errors import PermanentFailure
from wnm.nodes.command import NodeCommand
from wnm.system.commands import run

INSIDE = os.environ.get("WNM_INSIDE_NSPAWN", "")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(INSIDE not in ("system", "user"), reason="runs only inside the nspawn container"),
]
SYSTEM = INSIDE == "system"
MODE = "systemd+sudo" if SYSTEM else "systemd+user"
NODE_PYTHON = "/usr/bin/python3"
REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tests" / "backends"))
from process_nodes import command_for, make_antnode, make_node, metadata, wait_until  # noqa: E402


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """Node dirs; world-traversable so a ``User=`` node can reach its own dirs."""
    tmp_path.chmod(0o755)
    for parent in tmp_path.parents:
        if parent == Path("/tmp"):
            break
        parent.chmod(parent.stat().st_mode | 0o111)
    return tmp_path


@pytest.fixture
def antnode(base: Path) -> Path:
    return make_antnode(base / "bin" / "antnode", python=NODE_PYTHON)


@pytest.fixture
def created() -> Iterator[list[tuple[SystemdManager, Node]]]:
    """Nodes whose units a test created; removed afterwards, also on failure."""
    made: list[tuple[SystemdManager, Node]] = []
    yield made
    for manager, node in made:
        manager.remove(node)


def manager_for(command=command_for) -> SystemdManager:  # type: ignore[no-untyped-def]
    return SystemdManager(ManagerContext(Settings(), MODE, command_for=command))


def create(made: list[tuple[SystemdManager, Node]], manager: SystemdManager, node: Node) -> Node:
    made.append((manager, node))
    return manager.create(node)


def systemctl(*args: str) -> subprocess.CompletedProcess[str]:
    scope = [] if SYSTEM else ["--user"]
    env = dict(os.environ, XDG_RUNTIME_DIR=f"/run/user/{os.getuid()}")
    return subprocess.run(["systemctl", *scope, *args], capture_output=True, text=True, env=env, check=False)


def wanted_link(manager: SystemdManager, node: Node) -> Path:
    target = "multi-user.target" if SYSTEM else "default.target"
    return manager.unit_dir / f"{target}.wants" / manager.unit(node)


def test_environment_is_like_cron() -> None:
    if SYSTEM:
        assert os.geteuid() == 0
    else:
        assert os.geteuid() != 0 and "XDG_RUNTIME_DIR" not in os.environ  # the manager must cope
    assert SystemdManager.availability(ManagerContext(Settings(), MODE, command_for=command_for)).ok


def test_lifecycle_of_an_enabled_unit(
    base: Path, antnode: Path, created: list[tuple[SystemdManager, Node]]
) -> None:
    manager = manager_for()
    node = create(created, manager, make_node(base, 1, antnode, MODE))
    expected_dir = Path("/etc/systemd/system") if SYSTEM else Path.home() / ".config/systemd/user"
    assert manager.unit_path(node) == expected_dir / "antnode0001.service"
    assert systemctl("is-enabled", "antnode0001.service").stdout.strip() == "enabled"
    assert wanted_link(manager, node).is_symlink()
    assert manager.status_all([node])[node.id].state is ProcessState.STOPPED

    manager.start(node)
    status = manager.status_all([node])[node.id]
    assert status.state is ProcessState.RUNNING and status.pid
    assert psutil.Process(status.pid).cmdline()[:2] == [NODE_PYTHON, node.binary]
    assert wait_until(lambda: metadata(node), timeout=10)

    manager.restart(node)
    restarted = manager.status_all([node])[node.id]
    assert restarted.state is ProcessState.RUNNING and restarted.pid != status.pid
    assert wait_until(lambda: metadata(node), timeout=10)

    manager.stop(node)
    stopped = manager.status_all([node])[node.id]
    assert stopped.state is ProcessState.STOPPED and stopped.detail.startswith("inactive/dead")
    assert not psutil.pid_exists(restarted.pid or 0)
    manager.stop(node)  # stopping a stopped node is fine

    manager.start(node)
    manager.remove(node)
    assert not manager.unit_path(node).exists()
    assert not wanted_link(manager, node).exists()
    assert manager.status_all([node])[node.id].state is ProcessState.MISSING
    assert systemctl("is-enabled", "antnode0001.service").returncode != 0
    manager.remove(node)  # removing twice is fine
    with pytest.raises(PermanentFailure):
        manager.start(node)


def test_restart_always_brings_back_a_node_that_upgraded_itself(
    base: Path, created: list[tuple[SystemdManager, Node]]
) -> None:
    """With --stop-on-upgrade the node exits 0 after replacing its binary; systemd restarts it."""
    new = make_antnode(base / "release" / "antnode", "0.4.17", python=NODE_PYTHON)
    old = make_antnode(
        base / "bin" / "antnode",
        "0.4.10",
        python=NODE_PYTHON,
        knobs={"upgrade_after": 1, "upgrade_from": str(new)},
    )
    manager = manager_for(lambda n: command_for(n, extra=("--stop-on-upgrade",)))
    node = create(created, manager, make_node(base, 2, old, MODE))
    manager.start(node)
    first = manager.status_all([node])[node.id].pid

    def upgraded() -> bool:
        status = manager.status_all([node])[node.id]
        return status.state is ProcessState.RUNNING and status.pid != first and status.restarts >= 1

    wait_until(upgraded, timeout=20, interval=0.2)
    assert wait_until(lambda: 'antnode_version="0.4.17"' in (metadata(node) or ""), timeout=10)
    status = manager.status_all([node])[node.id]
    assert (status.exit_code, status.restarts) == (None, 1)


def test_status_all_reports_a_crash_and_the_auto_restart(
    base: Path, antnode: Path, created: list[tuple[SystemdManager, Node]]
) -> None:
    manager = manager_for()
    node = create(created, manager, make_node(base, 3, antnode, MODE))
    (Path(node.root_dir) / "emulator-knobs.json").write_text(
        json.dumps({"crash_after": 0.5, "crash_exit_code": 3})
    )
    manager.start(node)
    waiting = wait_until(
        lambda: (s := manager.status_all([node])[node.id]).state is ProcessState.STOPPED and s, timeout=10
    )
    assert waiting.exit_code == 3 and waiting.detail.startswith("activating/auto-restart")  # type: ignore[attr-defined]


def test_exec_start_and_environment_survive_systemd_parsing(
    base: Path, created: list[tuple[SystemdManager, Node]]
) -> None:
    """What the node receives is exactly the argv/env wnm asked for, whatever the characters."""
    dump = base / "my bin" / "dump node"
    dump.parent.mkdir()
    dump.write_text(
        f"#!{NODE_PYTHON}\nimport json, os, sys, time\n"
        "root = sys.argv[sys.argv.index('--root-dir') + 1]\n"
        "env = {k: v for k, v in os.environ.items() if k.startswith('WNM_')}\n"
        "open(os.path.join(root, 'seen.json'), 'w').write(json.dumps({'argv': sys.argv[1:], 'env': env}))\n"
        "time.sleep(600)\n"
    )
    dump.chmod(0o755)
    node = make_node(base / "ant nodes %i $HOME", 4, dump, MODE)
    args = (
        "--root-dir",
        node.root_dir,
        ";",
        "",
        'say "hi" \\ bye',
        "100%",
        "$HOME ${USER} $$",
        "it's",
        "ünï",
    )
    env = {"WNM_A": 'x "y" \\z %i $PATH', "WNM_EMPTY": "", "WNM_SP": " lead and trail "}
    manager = manager_for(lambda n: NodeCommand((n.binary, *args), tuple(env.items())))
    create(created, manager, node)
    manager.start(node)
    seen_path = Path(node.root_dir) / "seen.json"
    wait_until(seen_path.exists, timeout=10)
    time.sleep(0.1)
    seen = json.loads(seen_path.read_text())
    assert seen == {"argv": list(args), "env": env}


@pytest.mark.skipif(not SYSTEM, reason="User= is only written into system units")
def test_system_unit_runs_as_the_owner_of_the_node_dir(
    base: Path, created: list[tuple[SystemdManager, Node]]
) -> None:
    nobody = pwd.getpwnam("nobody")
    antnode = make_antnode(base / "bin" / "antnode", python=NODE_PYTHON)
    node = make_node(base, 5, antnode)
    Path(node.log_dir).mkdir()
    for path in (node.root_dir, node.log_dir):
        shutil.chown(path, nobody.pw_uid, nobody.pw_gid)
    manager = manager_for()
    create(created, manager, node)
    assert "User=nobody" in manager.unit_path(node).read_text()
    manager.start(node)
    pid = manager.status_all([node])[node.id].pid
    assert pid and psutil.Process(pid).uids().real == nobody.pw_uid
    assert wait_until(lambda: metadata(node), timeout=10)


def test_status_all_asks_systemd_once_per_200_units(
    base: Path, antnode: Path, created: list[tuple[SystemdManager, Node]], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def counting(argv, **kwargs):  # type: ignore[no-untyped-def]
        if list(argv[:3]) in (["systemctl", "show", "-p"], ["systemctl", "--user", "show"]):
            calls.append(len([a for a in argv if a.endswith(".service")]))
        return run(argv, **kwargs)

    manager = SystemdManager(ManagerContext(Settings(), MODE, command_for=command_for, runner=counting))
    real = create(created, manager, make_node(base, 6, antnode, MODE))
    manager.start(real)
    ghosts = [make_node(base / "ghosts", i, antnode, MODE) for i in range(1000, 1449)]
    started = time.monotonic()
    statuses = manager.status_all([real, *ghosts])
    elapsed = time.monotonic() - started
    assert calls == [systemd_module.SHOW_CHUNK, systemd_module.SHOW_CHUNK, 50]
    assert statuses[real.id].state is ProcessState.RUNNING
    assert {statuses[g.id].state for g in ghosts} == {ProcessState.MISSING}
    print(f"\nstatus_all of 450 units: {elapsed * 1000:.0f} ms in {len(calls)} systemctl calls")

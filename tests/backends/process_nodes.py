"""Real node processes for the process-manager tests: emulator binaries, Node rows, argv, probes.

Nodes are the legacy ``antnode`` emulator built by ``tests/emulators/build.py`` (stdlib only,
so it also runs on the container's ``/usr/bin/python3``). ``command_for`` is what the real
``ManagerContext.command_for`` would return for such a node: binary first, ``--root-dir`` etc.
Loaded by file path (``load_module``) so it works without test packages and inside nspawn.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType

from wnm.domain.enums import Generation, NodeStatus
from wnm.domain.node import Node
from wnm.nodes.command import NodeCommand

REPO = Path(__file__).resolve().parents[2]
REWARDS = "0x03B770D9cD32077cC0bF330c13C114a87643B124"


def load_module(path: Path, name: str) -> ModuleType:
    """Import a helper module by path (tests have no package structure to import it by name)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def make_antnode(
    dest: Path,
    version: str = "0.4.17",
    *,
    python: str = sys.executable,
    knobs: Mapping[str, object] | None = None,
) -> Path:
    build = load_module(REPO / "tests" / "emulators" / "build.py", "wnm_test_emulator_build")
    path: Path = build.make_antnode(dest, version, python=python, knobs=knobs)
    return path


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port free right now on 127.0.0.1 (TCP and UDP both checked)."""
    while True:
        with socket.socket(socket.AF_INET, kind) as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
        other = socket.SOCK_DGRAM if kind == socket.SOCK_STREAM else socket.SOCK_STREAM
        with socket.socket(socket.AF_INET, other) as check:
            try:
                check.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


def make_node(base: Path, node_id: int, binary: Path, manager: str = "setsid+user") -> Node:
    """A Node row with its own root/log dirs under ``base`` and free ports."""
    root = base / f"antnode{node_id:04d}"
    root.mkdir(parents=True, exist_ok=True)
    logs = root / "logs"
    return Node(
        id=node_id,
        generation=Generation.LEGACY,
        manager=manager,
        root_dir=str(root),
        log_dir=str(logs),
        binary=str(binary),
        port=free_port(socket.SOCK_DGRAM),
        metrics_port=free_port(),
        rpc_port=0,
        status=NodeStatus.STOPPED,
        status_changed_at=0,
        age=0,
    )


def command_for(
    node: Node, *, extra: tuple[str, ...] = (), env: Mapping[str, str] | None = None
) -> NodeCommand:
    """The legacy node argv (EVM subcommand last), as the real builder lays it out."""
    argv = (
        node.binary,
        "--root-dir",
        node.root_dir,
        "--port",
        str(node.port),
        "--enable-metrics-server",
        "--metrics-server-port",
        str(node.metrics_port),
        "--log-output-dest",
        node.log_dir,
        "--max-log-files",
        "1",
        "--max-archived-log-files",
        "1",
        *extra,
        "--rewards-address",
        REWARDS,
        "evm-arbitrum-one",
    )
    return NodeCommand(argv, tuple((env or {}).items()))


def set_knobs(node: Node, **knobs: object) -> None:
    """Per-node emulator knobs, read by the node at its next start."""
    (Path(node.root_dir) / "emulator-knobs.json").write_text(json.dumps(knobs), encoding="utf-8")


def metadata(node: Node, timeout: float = 1.0) -> str | None:
    """The node's ``/metadata`` body, or None when its metrics server does not answer."""
    url = f"http://127.0.0.1:{node.metrics_port}/metadata"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body: bytes = response.read()
            return body.decode("utf-8", errors="replace")
    except (urllib.error.URLError, OSError):
        return None


def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.05) -> object:
    """Poll ``predicate`` until it returns something truthy; that value, or AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout:g}s")
        time.sleep(interval)

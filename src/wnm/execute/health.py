"""Confirming that an upgraded node came back healthy on its new version."""

from __future__ import annotations

import time
from collections.abc import Callable

from wnm.backends.process.base import ProcessManager, ProcessState
from wnm.domain.enums import Generation
from wnm.domain.node import Node
from wnm.domain.settings import Settings
from wnm.errors import WnmError

CONFIRM_TIMEOUT = 30.0
V2_ALIVE_FOR = 2.0


def make_upgrade_check(
    manager: ProcessManager,
    settings: Settings,
    *,
    timeout: float = CONFIRM_TIMEOUT,
    poll: float = 0.5,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Callable[[Node, str], str | None]:
    """A check that waits up to ``timeout`` s for the node to run ``version`` and answer.

    Legacy nodes must answer ``/metadata`` with the new version; v2 nodes (no metrics) must have
    a live process for ``V2_ALIVE_FOR`` seconds. Returns None when healthy, else the last problem.
    """
    limit = max(5.0, min(timeout, float(settings.delay_upgrade) or timeout))

    def check(node: Node, version: str) -> str | None:
        deadline = clock() + limit
        problem = "no answer yet"
        alive_since: float | None = None
        while True:
            problem, alive = _look(manager, node, version)
            if alive and node.generation is Generation.V2:
                alive_since = alive_since if alive_since is not None else clock()
                if clock() - alive_since >= V2_ALIVE_FOR:
                    return None
            elif problem == "":
                return None
            else:
                alive_since = None if not alive else alive_since
            if clock() >= deadline:
                return f"{problem} after {limit:.0f}s"
            sleep(poll)

    return check


def _look(manager: ProcessManager, node: Node, version: str) -> tuple[str, bool]:
    """(problem or "", process alive)."""
    try:
        status = manager.status_all([node]).get(node.id)
    except WnmError as exc:
        return f"status unavailable: {exc}", False
    alive = status is not None and status.state is ProcessState.RUNNING
    if not alive:
        detail = f" (exit {status.exit_code})" if status and status.exit_code is not None else ""
        return f"process not running{detail}", False
    if node.generation is Generation.V2:
        return "", True
    from wnm.observe.openmetrics import MetricsFormatError, parse_metadata
    from wnm.observe.probe import Target, fetch_all

    reply = fetch_all([Target(node.host, node.metrics_port, "/metadata")], deadline=2.0)[0]
    if not reply.ok:
        return f"metrics port {node.metrics_port} not answering ({reply.error or reply.status})", True
    try:
        running = parse_metadata(reply.body).version
    except MetricsFormatError as exc:
        return f"bad /metadata: {exc}", True
    if running != version:
        return f"runs version {running or 'unknown'}, not {version}", True
    return "", True

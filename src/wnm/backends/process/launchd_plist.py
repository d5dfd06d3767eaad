"""Pure rendering of a node's launchd property list (via :mod:`plistlib`, so XML is escaped).

``KeepAlive`` is plain ``true``: a node that exits 0 after a self-upgrade must be started again,
which ``{SuccessfulExit: false}`` would not do. ``RunAtLoad`` starts the node when the job is
bootstrapped and at every login/boot while the plist is installed. ``ExitTimeOut`` (seconds
between SIGTERM and SIGKILL on stop) and ``ThrottleInterval`` (minimum seconds between
respawns) match the systemd unit's ``TimeoutStopSec`` and ``RestartSec``.
"""

from __future__ import annotations

import plistlib

from wnm.errors import PermanentFailure
from wnm.nodes.command import NodeCommand

LABEL_PREFIX = "com.autonomi.antnode-"
EXIT_TIMEOUT = 30
THROTTLE_INTERVAL = 5


def label_for(node_id: int) -> str:
    """The job label wnm has always used: ``com.autonomi.antnode-<id>``."""
    return f"{LABEL_PREFIX}{node_id}"


def render_plist(label: str, command: NodeCommand, *, working_directory: str, log_path: str) -> bytes:
    """The XML plist for one node. Raises PermanentFailure for text XML cannot carry."""
    job: dict[str, object] = {
        "Label": label,
        "ProgramArguments": list(command.argv),
        "WorkingDirectory": working_directory,
        "StandardOutPath": log_path,
        "StandardErrorPath": log_path,
        "RunAtLoad": True,
        "KeepAlive": True,
        "ExitTimeOut": EXIT_TIMEOUT,
        "ThrottleInterval": THROTTLE_INTERVAL,
    }
    if command.env:
        job["EnvironmentVariables"] = dict(command.env)
    try:
        return plistlib.dumps(job, fmt=plistlib.FMT_XML, sort_keys=True)
    except ValueError as exc:  # control characters cannot be represented in a plist string
        raise PermanentFailure(f"cannot write plist for {label}: {exc}") from exc

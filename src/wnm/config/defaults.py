"""Built-in defaults per platform and mode (user vs system paths, Linux vs macOS), wnm-compat §5.3."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

from wnm.domain.settings import Settings


def _platform() -> str:
    """``sys.platform`` as a plain string (so type checkers do not prune other platforms)."""
    return str(sys.platform)


def is_system_mode(process_manager: str | None) -> bool:
    """``+sudo`` modes use system paths; with no mode given, root means system mode."""
    if process_manager:
        return process_manager.endswith("+sudo") or (process_manager == "docker" and os.geteuid() == 0)
    return os.geteuid() == 0


def base_dir(system: bool) -> Path:
    """Where the database lives (and, by default, the node storage and logs)."""
    home = Path.home()
    if _platform() == "darwin":
        if system:
            return Path("/Library/Application Support/autonomi")
        return home / "Library" / "Application Support" / "autonomi"
    if _platform().startswith("linux"):
        return Path("/var/antctl") if system else home / ".local" / "share" / "autonomi"
    return home / "autonomi"


def default_dbpath(process_manager: str | None) -> Path:
    """The database path when ``--dbpath`` is not given.

    An existing database is found first (user, then system location), so an operator who runs
    ``wnm`` by hand as root against a user install, or vice versa, gets a clear answer.
    """
    if process_manager:
        return base_dir(is_system_mode(process_manager)) / "colony.db"
    for system in (False, True):
        candidate = base_dir(system) / "colony.db"
        if candidate.exists():
            return candidate
    return base_dir(is_system_mode(None)) / "colony.db"


def default_process_manager() -> str:
    """The mode for a new machine when none is given: the supervisor this host really runs."""
    if _platform() == "darwin":
        return "launchd+sudo" if os.geteuid() == 0 else "launchd+user"
    variant = "sudo" if os.geteuid() == 0 else "user"
    if Path("/run/systemd/system").is_dir():
        return f"systemd+{variant}"
    return f"setsid+{variant}"


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        return os.cpu_count() or 1


def platform_defaults(process_manager: str) -> Settings:
    """Settings for a new machine in ``process_manager`` mode, before the operator's options."""
    system = is_system_mode(process_manager)
    base = base_dir(system)
    home = Path.home()
    if _platform() == "darwin":
        logs = Path("/Library/Logs/autonomi") if system else home / "Library" / "Logs" / "autonomi"
        cache_root = Path("/Library/Caches/autonomi") if system else home / "Library" / "Caches" / "autonomi"
        cache = cache_root / "bootstrap-cache"
    elif _platform().startswith("linux") and system:
        logs = Path("/var/log/antnode")
        cache = base / "bootstrap-cache"
    else:
        logs = base / "logs"
        cache = base / "bootstrap-cache"
    storage = Path("/var/antctl/services") if (system and _platform().startswith("linux")) else base / "node"
    cpus = cpu_count()
    local_bin = home / ".local" / "bin"
    return replace(
        Settings(),
        cpu_count=cpus,
        desired_load_average=round(0.6 * cpus, 2),
        max_load_average_allowed=float(cpus),
        node_storage=str(storage),
        log_dir=str(logs),
        bootstrap_cache_dir=str(cache),
        process_manager=process_manager,
        antnode_path=str(local_bin / "antnode"),
        node_binary_path=str(local_bin / "ant-node"),
        antctl_path=str(local_bin / "antctl"),
    )

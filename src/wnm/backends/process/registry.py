"""The explicit table of process managers: mode family -> class (imported only when chosen)."""

from __future__ import annotations

import importlib

from wnm.backends.process.base import Availability, ManagerContext, ProcessManager
from wnm.errors import BackendUnavailable, ConfigError

MANAGERS: dict[str, tuple[str, str]] = {
    "systemd": ("wnm.backends.process.systemd", "SystemdManager"),
    "setsid": ("wnm.backends.process.setsid", "SetsidManager"),
    "launchd": ("wnm.backends.process.launchd", "LaunchdManager"),
    "docker": ("wnm.backends.process.docker", "DockerManager"),
    "antctl": ("wnm.backends.process.antctl", "AntctlManager"),
}


def family(mode: str) -> str:
    """``systemd+user`` -> ``systemd``."""
    return mode.partition("+")[0]


def manager_class(mode: str) -> type[ProcessManager]:
    try:
        module_name, class_name = MANAGERS[family(mode)]
    except KeyError:
        raise ConfigError("process_manager", f"unknown mode {mode!r}") from None
    cls: type[ProcessManager] = getattr(importlib.import_module(module_name), class_name)
    return cls


def availability(ctx: ManagerContext) -> Availability:
    return manager_class(ctx.mode).availability(ctx)


def create_manager(ctx: ManagerContext) -> ProcessManager:
    """The manager for ``ctx.mode``; raises BackendUnavailable (with the reason) if unusable here."""
    cls = manager_class(ctx.mode)
    usable = cls.availability(ctx)
    if not usable.ok:
        raise BackendUnavailable(ctx.mode, usable.reason)
    return cls(ctx)

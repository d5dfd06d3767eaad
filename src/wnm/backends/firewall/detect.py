"""Choosing the firewall backend: the explicit name -> class table and ``auto`` detection.

An explicit choice (``ufw``, ``firewalld``, ``null``) is used only when it is usable here, else
BackendUnavailable with the reason: never a silent fallback. ``auto`` takes ufw if it is active,
else firewalld if it is running, else null, and says why in the returned reason (for the log).
``WNM_FIREWALL_DISABLED=1|true|yes`` (kept from wnm 0.x) forces null whatever was asked.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import NamedTuple

from wnm.backends.firewall.base import FirewallManager
from wnm.backends.firewall.firewalld import FirewalldFirewall
from wnm.backends.firewall.null import NullFirewall
from wnm.backends.firewall.ufw import UfwFirewall
from wnm.errors import BackendUnavailable, ConfigError
from wnm.system.commands import CommandRunner, Privilege, run

FirewallClass = type[UfwFirewall] | type[FirewalldFirewall] | type[NullFirewall]

FIREWALLS: dict[str, FirewallClass] = {
    "ufw": UfwFirewall,
    "firewalld": FirewalldFirewall,
    "null": NullFirewall,
}
ALIASES = {"none": "null"}
AUTO = "auto"
AUTO_ORDER = ("ufw", "firewalld")
DISABLE_VARIABLE = "WNM_FIREWALL_DISABLED"


class FirewallChoice(NamedTuple):
    """The chosen backend and a sentence for the log saying why it was chosen."""

    manager: FirewallManager
    reason: str


def firewall_disabled(environ: Mapping[str, str]) -> bool:
    return environ.get(DISABLE_VARIABLE, "").strip().lower() in ("1", "true", "yes")


def choose_firewall(
    name: str,
    runner: CommandRunner = run,
    privilege: Privilege = Privilege(),
    *,
    environ: Mapping[str, str] | None = None,
    timeout: float = 20.0,
) -> FirewallChoice:
    """The firewall for setting ``firewall`` = ``name``.

    Raises ConfigError for an unknown name and BackendUnavailable when an explicitly named
    backend cannot be used here.
    """
    env = os.environ if environ is None else environ
    wanted = ALIASES.get(name.strip().lower(), name.strip().lower())
    if wanted != AUTO and wanted not in FIREWALLS:
        raise ConfigError("firewall", f"must be one of {', '.join((AUTO, *FIREWALLS))}, not {name!r}")
    if firewall_disabled(env):
        return FirewallChoice(
            NullFirewall(runner, privilege, timeout), f"{DISABLE_VARIABLE} is set: no firewall"
        )
    if wanted != AUTO:
        cls = FIREWALLS[wanted]
        usable = cls.availability(runner, privilege, timeout)
        if not usable.ok:
            raise BackendUnavailable(f"firewall {wanted}", usable.reason)
        return FirewallChoice(cls(runner, privilege, timeout), f"firewall {wanted} as configured")
    reasons: list[str] = []
    for candidate in AUTO_ORDER:
        cls = FIREWALLS[candidate]
        usable = cls.availability(runner, privilege, timeout)
        if usable.ok:
            return FirewallChoice(cls(runner, privilege, timeout), f"auto: {candidate} is active")
        reasons.append(f"{candidate}: {usable.reason}")
    return FirewallChoice(
        NullFirewall(runner, privilege, timeout), "auto: no active firewall (" + "; ".join(reasons) + ")"
    )

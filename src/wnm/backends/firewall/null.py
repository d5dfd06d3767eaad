"""NullFirewall: the backend for hosts where wnm must not (or cannot) touch a firewall."""

from __future__ import annotations

from wnm.backends.firewall.base import FirewallManager
from wnm.backends.process.base import Availability
from wnm.system.commands import CommandRunner, Privilege, run


class NullFirewall(FirewallManager):
    """Does nothing and records nothing; always available.

    With no firewall managed by wnm nothing blocks a node's port, so ``is_open`` answers True.
    """

    name = "null"

    @classmethod
    def availability(
        cls, runner: CommandRunner = run, privilege: Privilege = Privilege(), timeout: float = 20.0
    ) -> Availability:
        return Availability(True)

    def open_port(self, port: int, protocol: str = "udp", comment: str = "") -> None:
        return None

    def close_port(self, port: int, protocol: str = "udp") -> None:
        return None

    def is_open(self, port: int, protocol: str = "udp") -> bool:
        return True

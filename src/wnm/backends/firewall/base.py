"""The FirewallManager base class."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from wnm.backends.process.base import Availability
from wnm.system.commands import CommandRunner, Privilege, run


class FirewallManager(ABC):
    """Opens and closes node ports. Both operations are idempotent."""

    name: ClassVar[str]

    def __init__(
        self, runner: CommandRunner = run, privilege: Privilege = Privilege(), timeout: float = 20.0
    ) -> None:
        self.runner = runner
        self.privilege = privilege
        self.timeout = timeout

    @classmethod
    @abstractmethod
    def availability(cls, runner: CommandRunner = run) -> Availability: ...

    @abstractmethod
    def open_port(self, port: int, protocol: str = "udp", comment: str = "") -> None: ...

    @abstractmethod
    def close_port(self, port: int, protocol: str = "udp") -> None: ...

    @abstractmethod
    def is_open(self, port: int, protocol: str = "udp") -> bool: ...

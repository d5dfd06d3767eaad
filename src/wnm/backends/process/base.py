"""The ProcessManager base class: how one kind of supervisor creates, runs and removes nodes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import ClassVar

from wnm.domain.node import Node
from wnm.domain.settings import Settings
from wnm.nodes.command import NodeCommand
from wnm.system.commands import CommandRunner, Privilege, run


class ProcessState(str, Enum):
    RUNNING = "running"
    STOPPED = "stopped"
    MISSING = "missing"  # no service definition / container / pid file at all
    UNKNOWN = "unknown"  # the manager could not tell (its tool failed)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class ProcessStatus:
    """What the supervisor says about one node right now.

    ``exit_code`` is the last exit status when the supervisor knows it; ``restarts`` counts
    supervisor restarts (systemd ``NRestarts``, docker ``RestartCount``).
    """

    state: ProcessState
    pid: int | None = None
    exit_code: int | None = None
    restarts: int = 0
    detail: str = ""


@dataclass(frozen=True)
class ContainerInfo:
    """One container holding nodes (docker manager), as the ``container`` table keeps it.

    ``docker_id`` is docker's 64-hex id; ``status`` docker's state word (``running``,
    ``exited``, ``restarting``, ``created``); ``created_at`` epoch seconds; ``mode`` is
    ``single`` (one node) or ``group`` (several nodes under a supervisor).
    """

    docker_id: str
    name: str
    image: str
    status: str
    created_at: int
    node_ids: tuple[int, ...]
    mode: str = "single"


@dataclass(frozen=True)
class Availability:
    ok: bool
    reason: str = ""


@dataclass(frozen=True)
class ManagerContext:
    """What every manager gets: the settings, its mode, the command seam and the node argv builder.

    ``mode`` is the full mode string (``systemd+user``); ``command_for`` builds a node's argv for
    this manager (binary path, flags, env) so managers never assemble node flags themselves.
    """

    settings: Settings
    mode: str
    command_for: Callable[[Node], NodeCommand]
    runner: CommandRunner = run
    privilege: Privilege = field(default_factory=Privilege)
    timeout: float = 30.0

    @property
    def variant(self) -> str:
        """The part after ``+`` (``user``, ``sudo``, ``zen``), empty for plain ``docker``."""
        return self.mode.partition("+")[2]


class ProcessManager(ABC):
    """Lifecycle of nodes under one supervisor. Every method raises ActionFailure subclasses.

    ``create`` defines the node (unit, plist, container, antctl entry) without starting it and
    returns the node with any fields the supervisor chose (antctl service name, container id).
    ``remove`` stops the node if needed and deletes the definition; node data and logs are
    deleted by the executor afterwards.
    """

    name: ClassVar[str]

    def __init__(self, ctx: ManagerContext) -> None:
        self.ctx = ctx

    @classmethod
    @abstractmethod
    def availability(cls, ctx: ManagerContext) -> Availability:
        """Whether this manager can run here, and if not, why."""

    @abstractmethod
    def create(self, node: Node) -> Node: ...

    @abstractmethod
    def start(self, node: Node) -> None: ...

    @abstractmethod
    def stop(self, node: Node, timeout: float = 30.0) -> None:
        """Stop gracefully, forcing after ``timeout`` seconds. Stopping a stopped node is fine."""

    def restart(self, node: Node) -> None:
        self.stop(node)
        self.start(node)

    @abstractmethod
    def remove(self, node: Node) -> None: ...

    @abstractmethod
    def status_all(self, nodes: Sequence[Node]) -> Mapping[int, ProcessStatus]:
        """Status of many nodes in as few external calls as possible (one, ideally)."""

    def containers(self) -> Sequence[ContainerInfo]:
        """Containers this manager runs nodes in (docker); empty for every other manager."""
        return ()

    def upgrade_in_place(self, node: Node, source: str) -> bool:
        """Let the supervisor swap the node's binary itself (antctl does). False: wnm swaps the file."""
        return False

    def uses_own_paths(self) -> bool:
        """True when the supervisor, not wnm, chooses data/log dirs and binaries (antctl)."""
        return False

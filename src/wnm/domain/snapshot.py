"""Everything the engine needs to decide, gathered by one observation."""

from __future__ import annotations

from dataclasses import dataclass, field

from wnm.domain.enums import Generation
from wnm.domain.host import HostMetrics
from wnm.domain.node import Node
from wnm.domain.settings import MachineState


@dataclass(frozen=True)
class BinaryInfo:
    """A source node binary (``--antnode_path`` / ``--node_binary_path``) and its version."""

    path: str
    generation: Generation
    version: str


@dataclass(frozen=True)
class Snapshot:
    """The host and every node as observed now, plus the machine's run-to-run state.

    ``binaries`` holds the usable source binaries (none when missing); ``ports_in_use`` the
    local TCP/UDP ports bound on the host; ``dirs_present`` the node root dirs that exist
    under the storage paths (so a new id never lands on an old identity).
    """

    host: HostMetrics
    nodes: tuple[Node, ...]
    machine: MachineState
    binaries: tuple[BinaryInfo, ...] = ()
    ports_in_use: frozenset[int] = field(default_factory=frozenset)
    dirs_present: frozenset[str] = field(default_factory=frozenset)

    def binary_for(self, generation: Generation) -> BinaryInfo | None:
        for b in self.binaries:
            if b.generation is generation:
                return b
        return None

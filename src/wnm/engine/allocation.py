"""Placing a new node: its id and ports, its storage path, and the NodeSpec of the ADD.

Ids. For every manager but antctl the lowest free id is reused, as wnm always did, but an id is
free only when no row has it, none of its three ports (node, metrics, rpc) is bound on the
host or held by a row, and no ``antnodeNNNN`` directory of it is left under any storage path —
so a new node never inherits an old node's identity (wnm-compat D22). antctl never reuses ids:
the next one is ``max(highest_node_id_used, highest row id) + 1``, going further up past ids
whose ports or directories are taken. Ports stop at 65535; an id beyond that is impossible.

Storage. The path with the most room is chosen, where room is the free bytes less what the
young v2 nodes already there will still grow into (``node_disk_budget`` minus their data).
Every new node needs ``node_disk_budget`` of room, and its filesystem must stay under
``hd_less_than`` with that budget and all reservations added, so adds stop *before* any
filesystem would cross the threshold. One budget serves both generations: a v2 node's LMDB
store grows until the disk is full, so the budget is what the operator lets it have; a legacy
node's store is capped (16384 records of up to ~4 MB, ~32-35 GB in practice), but wnm has no
separate legacy setting and does not measure legacy data, so the same budget is asked of a new
legacy node (set ``node_disk_budget`` to ~35 GiB for legacy colonies). Existing legacy nodes
reserve nothing: their store is pruned and capped and already shows in ``used``.
Refusals name every path with its headroom (bytes left to ``hd_less_than``) and needs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from wnm.domain.enums import Generation
from wnm.domain.host import StorageUsage
from wnm.domain.node import Node, NodeSpec, service_name
from wnm.domain.settings import Settings
from wnm.domain.snapshot import BinaryInfo
from wnm.domain.wallets import WeightedWallet, pick_wallet
from wnm.engine.context import Facts, on_path
from wnm.engine.pressure import gib, usage_of

MAX_PORT = 65535
BINARY_NAMES = {Generation.LEGACY: "antnode", Generation.V2: "ant-node"}


class AllocationBlocked(Exception):
    """No new node can be placed; the message is the blocker line."""


@dataclass(frozen=True)
class Placement:
    path: str
    room: int


def choose_binary(facts: Facts) -> BinaryInfo:
    """The source binary for new nodes, by ``node_generation`` (``auto`` prefers legacy).

    Raises AllocationBlocked when that generation has no usable binary.
    """
    wanted = facts.settings.node_generation.strip().lower()
    snapshot = facts.snapshot
    if wanted == "auto":
        found = snapshot.binary_for(Generation.LEGACY) or snapshot.binary_for(Generation.V2)
        if found is None:
            s = facts.settings
            raise AllocationBlocked(
                f"no node binary available: --antnode_path {s.antnode_path or '(unset)'} and "
                f"--node_binary_path {s.node_binary_path or '(unset)'} are missing or not node programs"
            )
        return found
    try:
        generation = Generation(wanted)
    except ValueError:
        raise AllocationBlocked(f"node_generation {wanted!r} is not legacy, v2 or auto") from None
    binary = snapshot.binary_for(generation)
    if binary is None:
        raise AllocationBlocked(f"no {generation.value} node binary available for node_generation {wanted}")
    return binary


class IdSpace:
    """Node ids and their three ports: which ids are free on this host, remembering picks.

    An id is free when no row has it, none of its ports is bound on the host or held by a row,
    no ``antnodeNNNN`` directory of it is left under a storage path, and its highest port is a
    real port. Used by the allocator for new nodes and by ``--restore`` for restored ones.
    """

    def __init__(
        self,
        settings: Settings,
        nodes: Iterable[Node],
        ports_in_use: Iterable[int],
        dirs_present: Iterable[str],
    ) -> None:
        self._settings = settings
        nodes = tuple(nodes)
        self.ids = {n.id for n in nodes}
        self._ports = set(ports_in_use)
        self._ports.update(p for n in nodes for p in (n.port, n.metrics_port, n.rpc_port) if p)
        self._dir_names = {d.rstrip("/").rsplit("/", 1)[-1] for d in dirs_present}

    def ports_of(self, node_id: int) -> tuple[int, int, int]:
        s = self._settings
        return (s.port_base + node_id, s.metrics_port_base + node_id, s.rpc_port_base + node_id)

    def is_free(self, node_id: int) -> bool:
        ports = self.ports_of(node_id)
        return (
            max(ports) <= MAX_PORT
            and node_id not in self.ids
            and not self._ports.intersection(ports)
            and service_name(node_id) not in self._dir_names
        )

    def take(self, node_id: int) -> int:
        self.ids.add(node_id)
        self._ports.update(self.ports_of(node_id))
        self._dir_names.add(service_name(node_id))
        return node_id

    def first_free(self, start: int = 1) -> int:
        """The lowest free id from ``start`` on; raises AllocationBlocked past the last port."""
        candidate = start
        while not self.is_free(candidate):
            ports = self.ports_of(candidate)
            if max(ports) > MAX_PORT:
                raise AllocationBlocked(
                    f"no free node id: id {candidate} would need port {max(ports)} > {MAX_PORT}"
                )
            candidate += 1
        return candidate


class Allocator:
    """Hands out ids, ports and storage for the adds of one run, remembering its own picks."""

    def __init__(self, facts: Facts, binary: BinaryInfo, wallets: tuple[WeightedWallet, ...]):
        self._facts = facts
        self._settings = facts.settings
        self._binary = binary
        self._wallets = wallets
        snapshot = facts.snapshot
        self._space = IdSpace(facts.settings, facts.nodes, snapshot.ports_in_use, snapshot.dirs_present)
        self._reserved: dict[str, int] = {}

    def next_spec(self) -> NodeSpec:
        """The next node to add. Raises AllocationBlocked with the blocker line."""
        placement = self._storage()
        node_id = self._free_id()
        settings = self._settings
        root_dir = f"{placement.path.rstrip('/')}/{service_name(node_id)}"
        log_dir = (
            f"{settings.log_dir.rstrip('/')}/{service_name(node_id)}"
            if settings.log_dir
            else f"{root_dir}/logs"
        )
        generation = self._binary.generation
        spec = NodeSpec(
            id=node_id,
            generation=generation,
            manager=settings.process_manager,
            port=settings.port_base + node_id,
            metrics_port=settings.metrics_port_base + node_id,
            rpc_port=settings.rpc_port_base + node_id,
            wallet=pick_wallet(self._wallets, node_id),
            binary_source=self._binary.path,
            storage_path=placement.path,
            root_dir=root_dir,
            log_dir=log_dir,
            binary=f"{root_dir}/{BINARY_NAMES[generation]}",
            version=self._binary.version,
            host=settings.host,
            environment=settings.environment,
        )
        self._space.take(node_id)
        self._reserved[placement.path] = self._reserved.get(placement.path, 0) + self._need()
        return spec

    def _free_id(self) -> int:
        if self._settings.process_manager.startswith("antctl"):  # antctl never reuses numbers
            highest = max([self._facts.snapshot.machine.highest_node_id_used, *self._space.ids], default=0)
            return self._space.first_free(highest + 1)
        return self._space.first_free()

    def _need(self) -> int:
        return max(0, self._settings.node_disk_budget)

    def _outstanding(self, path: str) -> int:
        """Bytes the v2 nodes on ``path`` (and this run's adds) may still grow into."""
        budget = self._settings.node_disk_budget
        young = sum(
            max(0, budget - n.metrics.data_size)
            for n in self._facts.counted
            if n.generation is Generation.V2 and on_path(n, path)
        )
        return young + self._reserved.get(path, 0)

    def _storage(self) -> Placement:
        paths = self._settings.storage_paths
        if not paths:
            raise AllocationBlocked("no storage path: node_storage is not set")
        fits: list[Placement] = []
        refusals: list[str] = []
        for path in paths:
            usage = usage_of(self._facts.snapshot.host, path)
            if usage is None:
                refusals.append(f"{path}: no disk usage measured")
                continue
            refusal = self._refusal(usage, path)
            if refusal:
                refusals.append(refusal)
            else:
                fits.append(Placement(path, usage.free - self._outstanding(path)))
        if not fits:
            raise AllocationBlocked("no storage path has room: " + "; ".join(refusals))
        return max(fits, key=lambda p: p.room)  # max() keeps the first of equals: node_storage order

    def _refusal(self, usage: StorageUsage, path: str) -> str:
        need = self._need()
        outstanding = self._outstanding(path)
        room = usage.free - outstanding
        if room < need:
            return f"{path}: {gib(room)} free after {gib(outstanding)} reserved < node budget {gib(need)}"
        if usage.total <= 0:
            return f"{path}: filesystem size unknown"
        limit = self._settings.hd_less_than
        headroom = usage.total * limit // 100 - usage.used - outstanding
        if headroom <= need:
            after = 100.0 * (usage.used + outstanding + need) / usage.total
            return (
                f"{path}: {usage.percent:.1f}% used, headroom {gib(max(0, headroom))} to add threshold "
                f"{limit}% after {gib(outstanding)} reserved <= node budget {gib(need)} "
                f"(would reach {after:.1f}%)"
            )
        return ""

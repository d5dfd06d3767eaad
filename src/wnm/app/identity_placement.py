"""Where restored identities go on this machine: node ids, storage paths, the node rows, and
making their directories so that a failed restore can take everything back (``Undo``).

Ids follow the engine's rules (``engine.allocation``): an id is free when no row has it, none
of its three ports (this machine's ``port_start`` etc.) is bound on the host or held by a row,
no ``antnodeNNNN`` directory of it is under a storage path, and its highest port is <= 65535.
A restored node keeps its old id when that id is free here; the others then get the lowest
free ids, as new nodes would. Storage: the path with the most free space, less what v2 nodes
restored there in the same run reserve (``node_disk_budget``; a legacy node's store is capped).
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Sequence
from functools import partial

from wnm.app.identity_archive import Identity
from wnm.domain.enums import Generation, NodeStatus
from wnm.domain.node import Node, service_name
from wnm.domain.settings import Settings
from wnm.domain.snapshot import BinaryInfo
from wnm.domain.wallets import parse_wallets, pick_wallet
from wnm.engine.allocation import BINARY_NAMES, AllocationBlocked, IdSpace
from wnm.errors import WnmError

log = logging.getLogger(__name__)


def assign_ids(settings: Settings, existing: Sequence[Node], wanted: Sequence[int]) -> list[int]:
    """An id for each wanted (old) id: itself when free here, else the lowest free one.

    Old ids are claimed first, so a node moved off a taken id never pushes another node off an
    id that was free for it. Raises WnmError when no id is left.
    """
    from wnm.app.observe import node_dirs
    from wnm.observe.ports import ports_in_use

    space = IdSpace(settings, existing, ports_in_use(), node_dirs(settings.storage_paths))
    kept = {old: space.take(old) for old in wanted if space.is_free(old)}
    try:
        return [kept[old] if old in kept else space.take(space.first_free()) for old in wanted]
    except AllocationBlocked as exc:
        raise WnmError(f"restore: {exc}") from None


class StoragePicker:
    """Chooses the storage path of each restored node (see the module docstring)."""

    def __init__(self, settings: Settings) -> None:
        from wnm.observe.host import storage_usage

        if not settings.storage_paths:
            raise WnmError("restore: node_storage is not set")
        self._budget = settings.node_disk_budget
        self._room = {path: storage_usage(path).free for path in settings.storage_paths}

    def place(self, generation: Generation) -> str:
        path = max(self._room, key=lambda p: self._room[p])  # max() keeps the first of equals
        if generation is Generation.V2:
            self._room[path] -= self._budget
        return path


def node_for(
    identity: Identity,
    node_id: int,
    storage_path: str,
    settings: Settings,
    binary: BinaryInfo,
    now: int,
    reason: str,
) -> Node:
    """The STOPPED node row of a restored identity, laid out like a new node of this machine."""
    name = service_name(node_id)
    root_dir = f"{storage_path.rstrip('/')}/{name}"
    log_dir = f"{settings.log_dir.rstrip('/')}/{name}" if settings.log_dir else f"{root_dir}/logs"
    wallet = identity.wallet or pick_wallet(
        parse_wallets(settings.rewards_address, settings.donate_address), node_id
    )
    port, metrics_port, rpc_port = (
        settings.port_base + node_id,
        settings.metrics_port_base + node_id,
        settings.rpc_port_base + node_id,
    )
    return Node(
        id=node_id,
        generation=identity.generation,
        manager=settings.process_manager,
        root_dir=root_dir,
        log_dir=log_dir,
        binary=f"{root_dir}/{BINARY_NAMES[identity.generation]}",
        port=port,
        metrics_port=metrics_port,
        rpc_port=rpc_port,
        status=NodeStatus.STOPPED,
        status_changed_at=now,
        age=identity.age or now,
        wallet=wallet,
        version=binary.version,
        peer_id=identity.peer_id,
        host=settings.host,
        environment=settings.environment,
        storage_path=storage_path,
        status_reason=reason,
    )


def make_dirs(path: str, mode: int, undo: Undo) -> None:
    """Create ``path`` and its missing parents; the topmost one created is undone with its tree."""
    top = ""
    current = os.path.abspath(path)
    while not os.path.lexists(current):
        top = current
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    if not top:
        if not os.path.isdir(path):
            raise WnmError(f"restore: {path} exists and is not a directory")
        return
    undo.push(f"directory {top}", partial(remove_tree, top))  # first: makedirs may fail half-way
    try:
        os.makedirs(path, mode=mode, exist_ok=True)
    except OSError as exc:
        raise WnmError(f"restore: cannot create {path}: {exc.strerror}") from exc


def remove_tree(path: str) -> None:
    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        pass


class Undo:
    """What a restore created, removed again newest first when the restore fails."""

    def __init__(self) -> None:
        self._steps: list[tuple[str, Callable[[], object]]] = []

    def push(self, what: str, step: Callable[[], object]) -> None:
        self._steps.append((what, step))

    def run(self) -> None:
        for what, step in reversed(self._steps):
            try:
                step()
            except (OSError, WnmError) as exc:
                log.error("restore: could not remove %s again: %s", what, exc)
        self._steps.clear()

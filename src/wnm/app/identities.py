"""Backing up node identities, and restoring them on another disk or host (issue 5).

A node's identity is its key file (legacy ``secret-key``, v2 ``node_identity.key``): the peer
id, and with it the node's age and standing in the network, cannot be had back once the file
is lost. ``wnm --force_action backup`` copies every node's key into one tar file
(:mod:`~wnm.app.identity_archive`); ``wnm --init --restore FILE`` creates those nodes again,
STOPPED, with this machine's settings, and the normal runs start them with their old peer ids.

Restore is all or nothing: the archive, the node_cap and the source binaries are checked
before anything is created, and a failure part-way removes every directory, file and service
definition the restore made (the caller's database transaction is rolled back with it).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from sqlite3 import Connection

from wnm import __version__
from wnm.app.backends import build_manager
from wnm.app.context import Loaded
from wnm.app.identity_archive import (
    KEY_FILES,
    Identity,
    IdentityArchive,
    Manifest,
    key_size_problem,
    read_archive,
    write_archive,
)
from wnm.app.identity_placement import StoragePicker, Undo, assign_ids, make_dirs, node_for, remove_tree
from wnm.config.parser import Parsed
from wnm.domain.enums import Generation
from wnm.domain.node import Node
from wnm.domain.settings import Settings
from wnm.domain.snapshot import BinaryInfo
from wnm.errors import ConfigError, UsageError, WnmError
from wnm.store import repository as repo
from wnm.system import files

log = logging.getLogger(__name__)

BINARY_OPTIONS = {Generation.LEGACY: "antnode_path", Generation.V2: "node_binary_path"}


# ---- backup --------------------------------------------------------------------------------


def run_backup(loaded: Loaded, parsed: Parsed, now: float | None = None) -> int:
    """Write every node's identity to the backup file (the caller holds the run lock).

    Nodes without a readable, plausible key file are skipped with a warning. Raises WnmError
    when the backup file cannot be written.
    """
    when = int(time.time() if now is None else now)
    identities: list[Identity] = []
    keys: dict[str, bytes] = {}
    skipped: list[str] = []
    for node in sorted(loaded.nodes, key=lambda n: n.id):
        key_path = Path(node.root_dir) / KEY_FILES[node.generation]
        try:
            data = _read_key(key_path, node.generation)
        except (OSError, ValueError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else str(exc)
            log.warning("backup: skipping %s: %s: %s", node.service_name, key_path, why)
            skipped.append(node.service_name)
            continue
        identity = _identity_of(node, data)
        identities.append(identity)
        keys[identity.member] = data
    target = _backup_target(parsed.get("backup_file"), loaded.db_path, when)
    manifest = Manifest(when, socket.gethostname(), __version__, tuple(identities))
    write_archive(target, manifest, keys)
    if parsed.flag("json"):
        summary = {"status": "ok", "backup_file": str(target), "count": len(identities), "skipped": skipped}
        print(json.dumps(summary, indent=2))
    else:
        note = f"; skipped (no usable key file): {', '.join(skipped)}" if skipped else ""
        print(f"backed up {len(identities)} node identities to {target}{note}")
    return 0


def _read_key(path: Path, generation: Generation) -> bytes:
    with open(path, "rb") as handle:
        data = handle.read(1024 * 1024)
    problem = key_size_problem(generation, len(data))
    if problem:
        raise ValueError(f"implausible key file ({problem})")
    return data


def _identity_of(node: Node, data: bytes) -> Identity:
    return Identity(
        id=node.id,
        service_name=node.service_name,
        generation=node.generation,
        peer_id=node.peer_id,
        wallet=node.wallet,
        version=node.version,
        port=node.port,
        age=max(0, node.age),
        key_file=KEY_FILES[node.generation],
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _backup_target(given: object, db_path: Path, when: int) -> Path:
    """``--backup_file`` (a directory there gets the default name), else beside the database."""
    name = f"wnm-identities-{time.strftime('%Y%m%dT%H%M%S', time.gmtime(when))}.tar"
    if given:
        target = Path(os.path.expanduser(str(given))).absolute()
        return target / name if target.is_dir() else target
    target = db_path.parent / name
    serial = 1
    while target.exists():  # two backups in one second keep both
        serial += 1
        target = db_path.parent / f"{name[:-4]}-{serial}.tar"
    return target


# ---- restore -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RestorePlan:
    """A checked archive and the source binary for each generation in it."""

    source: Path
    archive: IdentityArchive
    binaries: Mapping[Generation, BinaryInfo]


@dataclass(frozen=True)
class Restored:
    node: Node
    identity: Identity


def prepare_restore(source: str, settings: Settings) -> RestorePlan:
    """Check everything a restore needs before anything is created.

    Raises ArchiveError (a bad or hostile archive), UsageError (antctl mode, missing binary)
    or ConfigError (node_cap below the number of identities: the engine would remove nodes).
    """
    from wnm.app.observe import source_binaries
    from wnm.backends.process.registry import family

    path = Path(os.path.expanduser(source)).absolute()
    archive = read_archive(path)
    identities = archive.manifest.identities
    if family(settings.process_manager) == "antctl":
        raise UsageError("--restore does not work with the antctl modes: antctl chooses its own node dirs")
    if len(identities) > settings.node_cap:
        raise ConfigError(
            "node_cap",
            f"{settings.node_cap} is below the {len(identities)} identities in {path} (the excess would be "
            f"removed); give --node_cap {len(identities)} or more",
        )
    found, _cache = source_binaries(settings, "")
    binaries = {b.generation: b for b in found}
    for generation in sorted({i.generation for i in identities}, key=lambda g: g.value):
        if generation not in binaries:
            option = BINARY_OPTIONS[generation]
            raise UsageError(
                f"{path} holds {generation.value} identities but there is no usable {generation.value} "
                f"binary at --{option} {getattr(settings, option) or '(not set)'}"
            )
    return RestorePlan(path, archive, binaries)


def restore_identities(
    conn: Connection, plan: RestorePlan, settings: Settings, now: int | None = None
) -> list[Restored]:
    """Create the restored nodes: rows (STOPPED), dirs, key files, binaries, service definitions.

    Commits ``conn`` itself, so that a failed commit is undone too. On any failure everything
    created here is removed again and the error re-raised (WnmError for file and manager
    failures); the caller must then roll back and drop what it made.
    """
    when = int(time.time()) if now is None else now
    identities = plan.archive.manifest.identities
    ids = assign_ids(settings, repo.load_nodes(conn), [i.id for i in identities])
    storage = StoragePicker(settings)
    restored = []
    for node_id, identity in zip(ids, identities, strict=True):
        reason = f"restored from {plan.source.name} ({identity.service_name} on {plan.archive.manifest.host})"
        binary = plan.binaries[identity.generation]
        node = node_for(identity, node_id, storage.place(identity.generation), settings, binary, when, reason)
        restored.append(Restored(node, identity))
    undo = Undo()
    try:
        for item in restored:
            _write_node(item, plan, undo)
        manager = build_manager(settings)
        nodes = []
        for item in restored:
            nodes.append(manager.create(item.node))
            undo.push(f"service of {item.node.service_name}", partial(manager.remove, item.node))
        repo.save_nodes(conn, nodes)
        row = repo.load_machine(conn)
        highest = max([int(row["highest_node_id_used"]) if row else 0, *ids])
        repo.update_machine(conn, {"highest_node_id_used": highest})
        conn.commit()
    except BaseException:
        undo.run()
        raise
    return [Restored(node, item.identity) for node, item in zip(nodes, restored, strict=True)]


def report_restored(plan: RestorePlan, restored: list[Restored]) -> None:
    for item in restored:
        node, identity = item.node, item.identity
        moved = "" if node.id == identity.id else f" (was {identity.service_name})"
        peer = identity.peer_id or "?"
        print(f"restored {node.service_name}{moved}: {node.generation.value}, peer {peer}, {node.root_dir}")
    print(f"restored {len(restored)} node identities from {plan.source}; wnm runs start them (STOPPED now)")


def _write_node(item: Restored, plan: RestorePlan, undo: Undo) -> None:
    node = item.node
    make_dirs(node.storage_path, 0o755, undo)
    try:
        os.mkdir(node.root_dir, 0o700)
    except OSError as exc:
        raise WnmError(f"restore: cannot create {node.root_dir}: {exc.strerror}") from exc
    undo.push(f"directory {node.root_dir}", partial(remove_tree, node.root_dir))
    try:
        os.chmod(node.root_dir, 0o700)
        _write_key(Path(node.root_dir) / item.identity.key_file, plan.archive.key_of(item.identity), node.age)
    except OSError as exc:
        raise WnmError(f"restore: cannot write the key of {node.service_name}: {exc.strerror}") from exc
    source = plan.binaries[node.generation].path
    files.copy_executable(source, node.binary)
    files.copy_companions(source, node.root_dir)
    make_dirs(node.log_dir, 0o755, undo)


def _write_key(path: Path, data: bytes, age: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, 0o600)
    if age > 0:  # legacy imports read a node's age from this file's mtime
        os.utime(path, (age, age))

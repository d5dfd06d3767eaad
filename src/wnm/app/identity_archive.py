"""The identity backup file: a plain tar of node key files with a JSON manifest, and its checks.

Layout (format version 1), every member a regular file with mode 0600::

    wnm-identities.json            the manifest (below)
    <service_name>/secret-key      a legacy node's key (32 bytes)
    <service_name>/node_identity.key   a v2 node's key

The manifest: ``{"format": "wnm-identities", "version": 1, "created_at": <epoch>,
"host": <host name>, "wnm_version": ..., "nodes": [{"id", "service_name", "generation",
"peer_id", "wallet", "version", "port", "age", "key_file", "sha256"}, ...]}``.

Reading never extracts anything to disk. An archive is refused as a whole, with one line, when
a member is not a regular file (links, devices, fifos), has an unsafe name (absolute, ``..``,
more than one directory level), appears twice or is not listed in the manifest; when a listed
key is missing, has an implausible size or does not match its sha256; or when the manifest is
missing or malformed.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from wnm.domain.enums import Generation
from wnm.errors import UsageError, WnmError

MANIFEST_NAME = "wnm-identities.json"
FORMAT = "wnm-identities"
FORMAT_VERSION = 1
KEY_FILES = {Generation.LEGACY: "secret-key", Generation.V2: "node_identity.key"}
LEGACY_KEY_BYTES = 32
MAX_KEY_BYTES = 64 * 1024  # a v2 post-quantum keypair is a few KiB
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
MAX_MEMBERS = 2 * 65536 + 1  # a key per possible node id, plus the manifest
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class ArchiveError(UsageError):
    """The identity archive is unreadable, incomplete or unsafe; nothing was changed."""


@dataclass(frozen=True)
class Identity:
    """One node's entry in the manifest; ``age`` is the node's birth (epoch seconds)."""

    id: int
    service_name: str
    generation: Generation
    peer_id: str
    wallet: str
    version: str
    port: int
    age: int
    key_file: str
    sha256: str

    @property
    def member(self) -> str:
        return f"{self.service_name}/{self.key_file}"


@dataclass(frozen=True)
class Manifest:
    created_at: int
    host: str
    wnm_version: str
    identities: tuple[Identity, ...]


@dataclass(frozen=True)
class IdentityArchive:
    """A validated archive: its manifest and each identity's key bytes (by member name)."""

    manifest: Manifest
    keys: Mapping[str, bytes]

    def key_of(self, identity: Identity) -> bytes:
        return self.keys[identity.member]


def key_size_problem(generation: Generation, size: int) -> str:
    """Why ``size`` bytes cannot be a key of ``generation``; "" when it can."""
    if generation is Generation.LEGACY and size != LEGACY_KEY_BYTES:
        return f"{size} bytes, a legacy secret-key has {LEGACY_KEY_BYTES}"
    if not 0 < size <= MAX_KEY_BYTES:
        return f"{size} bytes, expected 1 to {MAX_KEY_BYTES}"
    return ""


# ---- writing -------------------------------------------------------------------------------


def write_archive(target: Path, manifest: Manifest, keys: Mapping[str, bytes]) -> None:
    """Write the archive to ``target`` atomically (temp file + rename), mode 0600.

    Raises WnmError when the file cannot be written; ``target`` is then unchanged.
    """
    body = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "created_at": manifest.created_at,
        "host": manifest.host,
        "wnm_version": manifest.wnm_version,
        "nodes": [{**asdict(i), "generation": i.generation.value} for i in manifest.identities],
    }
    members = [(MANIFEST_NAME, json.dumps(body, indent=2).encode())]
    members += [(i.member, keys[i.member]) for i in manifest.identities]
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise WnmError(f"cannot write backup {target}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            with tarfile.open(fileobj=handle, mode="w", format=tarfile.PAX_FORMAT) as tar:
                for name, data in members:
                    info = tarfile.TarInfo(name)
                    info.size, info.mode, info.mtime = len(data), 0o600, manifest.created_at
                    tar.addfile(info, io.BytesIO(data))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise WnmError(f"cannot write backup {target}: {exc.strerror}") from exc
    _sync_dir(target.parent)


def _sync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# ---- reading -------------------------------------------------------------------------------


def read_archive(path: Path) -> IdentityArchive:
    """Read and check the archive at ``path``. Raises ArchiveError (one line) on any problem."""
    try:
        with tarfile.open(path, mode="r:") as tar:
            members = _members(tar, path)
            manifest = _manifest(tar, members, path)
            keys = {i.member: _key(tar, members, i, path) for i in manifest.identities}
    except FileNotFoundError:
        raise ArchiveError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ArchiveError(f"{path}: is a directory, not an identity backup") from None
    except OSError as exc:
        raise ArchiveError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tarfile.TarError as exc:
        raise ArchiveError(
            f"{path}: not a readable uncompressed tar file (wnm identity backup): {exc}"
        ) from None
    unexpected = sorted(set(members) - set(keys) - {MANIFEST_NAME})
    if unexpected:
        raise ArchiveError(f"{path}: refused: member {unexpected[0]!r} is not listed in the manifest")
    return IdentityArchive(manifest, keys)


def _members(tar: tarfile.TarFile, path: Path) -> dict[str, tarfile.TarInfo]:
    found: dict[str, tarfile.TarInfo] = {}
    for count, member in enumerate(tar, start=1):
        if count > MAX_MEMBERS:
            raise ArchiveError(f"{path}: refused: more than {MAX_MEMBERS} members")
        name = member.name
        if not member.isreg():
            raise ArchiveError(f"{path}: refused: member {name!r} is not a regular file")
        parts = name.split("/")
        if name.startswith("/") or "\\" in name or len(parts) > 2 or not all(map(_SAFE_NAME.match, parts)):
            raise ArchiveError(f"{path}: refused: unsafe member name {name!r}")
        if name in found:
            raise ArchiveError(f"{path}: refused: member {name!r} appears twice")
        found[name] = member
    return found


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = tar.extractfile(member)
    if handle is None:  # only for non-files, which _members refused already
        raise tarfile.TarError(f"{member.name} has no data")
    with handle:
        return handle.read(member.size)


def _manifest(tar: tarfile.TarFile, members: Mapping[str, tarfile.TarInfo], path: Path) -> Manifest:
    member = members.get(MANIFEST_NAME)
    if member is None:
        raise ArchiveError(f"{path}: no {MANIFEST_NAME} in it: not a wnm identity backup")
    if member.size > MAX_MANIFEST_BYTES:
        raise ArchiveError(f"{path}: refused: {MANIFEST_NAME} is {member.size} bytes")
    try:
        body = json.loads(_read(tar, member))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ArchiveError(f"{path}: {MANIFEST_NAME} is not valid JSON: {exc}") from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise ArchiveError(f"{path}: {MANIFEST_NAME} is not a wnm identity manifest")
    version = body.get("version")
    if version != FORMAT_VERSION:
        raise ArchiveError(f"{path}: manifest format version {version!r}; this wnm reads {FORMAT_VERSION}")
    nodes = body.get("nodes")
    if not isinstance(nodes, list):
        raise ArchiveError(f"{path}: manifest: 'nodes' must be a list")
    identities = tuple(_identity(entry, n, path) for n, entry in enumerate(nodes, start=1))
    for attribute in ("id", "service_name"):
        values = [getattr(i, attribute) for i in identities]
        duplicate = next((v for v in values if values.count(v) > 1), None)
        if duplicate is not None:
            raise ArchiveError(f"{path}: manifest lists {attribute} {duplicate!r} twice")
    return Manifest(
        created_at=_int(body, "created_at", path, "manifest"),
        host=_str(body, "host", path, "manifest"),
        wnm_version=_str(body, "wnm_version", path, "manifest"),
        identities=identities,
    )


def _identity(entry: Any, n: int, path: Path) -> Identity:
    where = f"manifest node #{n}"
    if not isinstance(entry, dict):
        raise ArchiveError(f"{path}: {where} is not an object")
    try:
        generation = Generation(entry.get("generation"))
    except ValueError:
        raise ArchiveError(f"{path}: {where}: generation must be legacy or v2") from None
    identity = Identity(
        id=_int(entry, "id", path, where),
        service_name=_str(entry, "service_name", path, where),
        generation=generation,
        peer_id=_str(entry, "peer_id", path, where),
        wallet=_str(entry, "wallet", path, where),
        version=_str(entry, "version", path, where),
        port=_int(entry, "port", path, where),
        age=_int(entry, "age", path, where),
        key_file=_str(entry, "key_file", path, where),
        sha256=_str(entry, "sha256", path, where).lower(),
    )
    if identity.id < 1 or not _SAFE_NAME.match(identity.service_name):
        raise ArchiveError(f"{path}: {where}: bad id {identity.id} or service name {identity.service_name!r}")
    if identity.key_file != KEY_FILES[generation]:
        raise ArchiveError(f"{path}: {where}: a {generation.value} key file is {KEY_FILES[generation]}")
    if not _SHA256.match(identity.sha256):
        raise ArchiveError(f"{path}: {where}: sha256 must be 64 hex digits")
    return identity


def _key(
    tar: tarfile.TarFile, members: Mapping[str, tarfile.TarInfo], identity: Identity, path: Path
) -> bytes:
    member = members.get(identity.member)
    if member is None:
        raise ArchiveError(f"{path}: the key of {identity.service_name} ({identity.member}) is missing")
    problem = key_size_problem(identity.generation, member.size)
    if problem:
        raise ArchiveError(f"{path}: refused: {identity.member} has {problem}")
    data = _read(tar, member)
    if hashlib.sha256(data).hexdigest() != identity.sha256:
        raise ArchiveError(f"{path}: {identity.member} does not match its sha256 in the manifest")
    return data


def _int(body: Mapping[str, Any], name: str, path: Path, where: str) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ArchiveError(f"{path}: {where}: {name} must be a whole number >= 0")
    return value


def _str(body: Mapping[str, Any], name: str, path: Path, where: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise ArchiveError(f"{path}: {where}: {name} must be a string")
    return value

"""File operations on node directories and binaries, with the safety checks deletion needs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from wnm.errors import PermanentFailure, TemporaryFailure

NODE_DIR_PREFIXES = ("antnode", "ant-node")


def make_dir(path: str, mode: int = 0o755) -> None:
    try:
        os.makedirs(path, mode=mode, exist_ok=True)
    except OSError as exc:
        raise PermanentFailure(f"cannot create {path}: {exc.strerror}") from exc


def copy_executable(source: str, dest: str) -> None:
    """Copy ``source`` to ``dest`` atomically (temp file + rename), mode 0755."""
    src = Path(source)
    if not src.is_file():
        raise PermanentFailure(f"node binary {source} does not exist")
    target = Path(dest)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        shutil.copyfile(src, tmp)
        tmp.chmod(0o755)
        os.replace(tmp, target)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise TemporaryFailure(f"cannot copy {source} to {dest}: {exc.strerror}") from exc


COMPANIONS = ("bootstrap_peers.toml",)
"""Files a node binary looks for beside itself (v2 ant-node reads its bootstrap peers there)."""


def copy_companions(source: str, dest_dir: str) -> None:
    """Copy the companion files that sit beside ``source`` into ``dest_dir``, if there are any."""
    for name in COMPANIONS:
        companion = Path(source).with_name(name)
        if companion.is_file():
            try:
                shutil.copyfile(companion, Path(dest_dir) / name)
            except OSError as exc:
                raise TemporaryFailure(f"cannot copy {companion} to {dest_dir}: {exc.strerror}") from exc


def swap_in(path: str, replacement: str) -> str:
    """Move ``path`` aside to ``path.old`` and put a copy of ``replacement`` in its place.

    Returns the backup path. The swap is two renames, so at every moment either the old or the
    new binary is at ``path`` (or both exist).
    """
    backup = path + ".old"
    copy_executable(replacement, path + ".new")
    try:
        if os.path.exists(path):
            shutil.copy2(path, backup)
        os.replace(path + ".new", path)
    except OSError as exc:
        raise TemporaryFailure(f"cannot swap binary {path}: {exc.strerror}") from exc
    return backup


def restore(path: str, backup: str) -> None:
    try:
        os.replace(backup, path)
    except OSError as exc:
        raise PermanentFailure(f"cannot restore {path} from {backup}: {exc.strerror}") from exc


def discard(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise TemporaryFailure(f"cannot delete {path}: {exc.strerror}") from exc


def is_node_dir(path: str) -> bool:
    """A directory wnm may delete: absolute, not a root, named like a node dir or inside one."""
    p = Path(path)
    if not p.is_absolute() or len(p.parts) < 3:
        return False
    return any(part.startswith(NODE_DIR_PREFIXES) for part in p.parts[-2:])


def remove_node_dir(path: str) -> None:
    """Delete a node's directory tree; refuses anything that does not look like a node dir."""
    if not path:
        return
    if not is_node_dir(path):
        raise PermanentFailure(f"refusing to delete {path}: it does not look like a node directory")
    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise TemporaryFailure(f"cannot delete {path}: {exc.strerror}") from exc

"""Writing and deleting a supervisor's definition file (systemd unit, launchd plist).

Unprivileged files (user units, LaunchAgents) are replaced atomically (temp file in the same
directory + rename), so a crash never leaves half a unit. Files in system directories go through
``install -m 0644`` / ``rm -f`` via ``ctx.privilege``, so ``+sudo`` modes work when wnm is not
root (``sudo -n install ...``) and nothing is ever piped through ``sudo tee``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from wnm.backends.process.base import ManagerContext
from wnm.errors import PermanentFailure


def read_definition(path: Path) -> bytes | None:
    """The current bytes of ``path``, or None when it is missing or unreadable."""
    try:
        return path.read_bytes()
    except OSError:
        return None


def write_definition(ctx: ManagerContext, path: Path, data: bytes, *, privileged: bool) -> None:
    """Put ``data`` at ``path`` with mode 0644. Raises PermanentFailure / CommandError."""
    if not privileged:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(path, data)
        except OSError as exc:
            raise PermanentFailure(f"cannot write {path}: {exc.strerror}") from exc
        return
    fd, tmp = tempfile.mkstemp(prefix="wnm-def-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        argv = ctx.privilege.wrap(["install", "-m", "0644", tmp, str(path)])
        ctx.runner(argv, timeout=ctx.timeout)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def delete_definition(ctx: ManagerContext, path: Path, *, privileged: bool) -> None:
    """Remove ``path`` (a file or a symlink); a missing file is fine."""
    if privileged:
        ctx.runner(ctx.privilege.wrap(["rm", "-f", str(path)]), timeout=ctx.timeout)
        return
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise PermanentFailure(f"cannot delete {path}: {exc.strerror}") from exc


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise

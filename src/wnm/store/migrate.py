"""Bring a database to the newest schema revision on every run, safely and cheaply.

The head revision is found by reading the revision files as text, so a run whose database is
already current never imports alembic (it costs ~0.2 s). When a migration is pending, the database
file is first copied aside (``<db>.bak-<revision>-<epoch>``), then alembic upgrades it in one
transaction.
"""

from __future__ import annotations

import logging
import re
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wnm.errors import StoreError

log = logging.getLogger(__name__)

_REVISION = re.compile(r"^revision\s*(?::\s*str\s*)?=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*(None|['\"]([^'\"]+)['\"])", re.M)


def migrations_dir() -> Path:
    """Where the alembic environment lives: inside the installed package, or the source tree."""
    packaged = Path(__file__).resolve().parent.parent / "_migrations"
    if (packaged / "env.py").is_file():
        return packaged
    source = Path(__file__).resolve().parents[3] / "alembic"
    if (source / "env.py").is_file():
        return source
    raise StoreError(f"schema migrations are missing (looked in {packaged} and {source})")


@dataclass(frozen=True)
class RevisionFile:
    revision: str
    down_revision: str | None
    path: Path


def read_revisions(directory: Path) -> list[RevisionFile]:
    """Parse ``revision`` / ``down_revision`` out of every version file without importing it."""
    found: list[RevisionFile] = []
    for path in sorted((directory / "versions").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        rev = _REVISION.search(source)
        down = _DOWN.search(source)
        if rev is None or down is None:
            continue
        found.append(RevisionFile(rev.group(1), down.group(2), path))
    return found


def head_revision(directory: Path) -> str:
    """The single head of the linear revision chain; raises StoreError on a branched chain."""
    revisions = read_revisions(directory)
    parents = {r.down_revision for r in revisions}
    heads = [r.revision for r in revisions if r.revision not in parents]
    if len(heads) != 1:
        raise StoreError(f"migrations in {directory} have {len(heads)} heads: {heads}")
    return heads[0]


def current_revision(conn: sqlite3.Connection) -> str | None:
    has_table = conn.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name='alembic_version'"
    ).fetchone()
    if has_table is None:
        return None
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(row[0]) if row else None


def has_tables(conn: sqlite3.Connection) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
    ).fetchone()
    return bool(row and row[0])


def pending(conn: sqlite3.Connection, directory: Path | None = None) -> tuple[str | None, str] | None:
    """``(current, head)`` when a migration is pending, else None."""
    directory = directory or migrations_dir()
    head = head_revision(directory)
    current = current_revision(conn)
    return None if current == head else (current, head)


def upgrade_file(db_file: Path, directory: Path | None = None) -> str | None:
    """Upgrade the database file to head, copying it aside first. Returns the backup path.

    Raises StoreError when the upgrade fails; the backup is left in place then.
    """
    directory = directory or migrations_dir()
    with sqlite3.connect(db_file) as probe:
        state = pending(probe, directory)
        populated = has_tables(probe)
    probe.close()
    if state is None:
        return None
    current, head = state
    backup: str | None = None
    if populated:
        backup_path = db_file.with_name(f"{db_file.name}.bak-{current or 'none'}-{int(time.time())}")
        shutil.copy2(db_file, backup_path)
        backup_path.chmod(0o600)
        backup = str(backup_path)
        log.info("database %s is at revision %s; copied to %s before migrating", db_file, current, backup)
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine(f"sqlite:///{db_file}", poolclass=NullPool)
    try:
        _run_alembic(engine, directory, current, head, backup)
    finally:
        engine.dispose()
    return backup


def upgrade_connection(conn: sqlite3.Connection, directory: Path | None = None) -> None:
    """Upgrade an open (e.g. in-memory) sqlite3 connection to head."""
    directory = directory or migrations_dir()
    state = pending(conn, directory)
    if state is None:
        return
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    engine = create_engine("sqlite://", creator=lambda: conn, poolclass=StaticPool)
    _run_alembic(engine, directory, state[0], state[1], None)


def _run_alembic(engine: Any, directory: Path, current: str | None, head: str, backup: str | None) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(directory))
    try:
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
    except Exception as exc:  # alembic/SQL errors of any kind: report with the backup location
        raise StoreError(
            f"migrating the database to {head} failed: {exc}" + (f" (backup: {backup})" if backup else "")
        ) from exc
    log.info("database migrated from %s to %s", current or "empty", head)

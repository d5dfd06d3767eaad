"""Opening the SQLite database: path resolution, file mode 0600, read-only access for dry runs."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import NullPool

from wnm.errors import NotInitialized, StoreError
from wnm.store import migrate


def resolve_db_path(dbpath: str) -> Path:
    """Accept a plain path or a ``sqlite:///`` URL (wnm-compat), expanding ``~`` and ``$VARS``."""
    value = dbpath.strip()
    if value.startswith("sqlite:///"):
        value = value[len("sqlite:///") :]
    return Path(os.path.expandvars(os.path.expanduser(value))).absolute()


def create_db_file(path: Path) -> None:
    """Create an empty database file with mode 0600 (never world-readable)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
    except FileExistsError:
        return
    except OSError as exc:
        raise StoreError(f"cannot create database {path}: {exc.strerror}") from exc


def _pragmas(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def open_engine(path: Path, *, read_only: bool = False) -> Engine:
    """An engine on ``path``. Read-only engines cannot write even by mistake (dry runs, reports)."""
    if read_only:
        if not path.exists():
            raise NotInitialized(f"no database at {path}")
        url = f"sqlite:///file:{path}?mode=ro&uri=true"
    else:
        url = f"sqlite:///{path}"
    engine = create_engine(url, poolclass=NullPool)
    event.listen(engine, "connect", _pragmas)
    return engine


def open_database(path: Path, *, create: bool = False, read_only: bool = False) -> Engine:
    """Open (and if needed create) the database and bring its schema to the newest revision.

    A read-only open of a database that needs migrating works on an in-memory copy, so a dry run
    or report never writes. Raises NotInitialized when the file is absent and ``create`` is False.
    """
    if not path.exists():
        if not create:
            raise NotInitialized(f"no database at {path}")
        create_db_file(path)
    engine = open_engine(path, read_only=read_only)
    try:
        with engine.connect() as conn:
            state = migrate.pending(conn)
            if state is None:
                return engine
            if not read_only:
                migrate.upgrade(conn, path)
                return engine
    except StoreError:
        raise
    except Exception as exc:  # sqlite3.DatabaseError etc.: a corrupt or foreign file
        raise StoreError(f"cannot open database {path}: {exc}") from exc
    engine.dispose()
    return _migrated_memory_copy(path)


def _migrated_memory_copy(path: Path) -> Engine:
    """An in-memory copy of the database at ``path``, migrated to head (nothing on disk changes)."""
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    memory = sqlite3.connect(":memory:", check_same_thread=False)
    source.backup(memory)
    source.close()
    engine = create_engine("sqlite://", creator=lambda: memory, poolclass=_single_pool())
    with engine.connect() as conn:
        migrate.upgrade(conn, None)
    return engine


def _single_pool() -> type:
    from sqlalchemy.pool import StaticPool

    return StaticPool

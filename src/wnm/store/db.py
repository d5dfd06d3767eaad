"""Opening the SQLite database: path resolution, file mode 0600, read-only access, migrations.

Runs read and write through the standard library's ``sqlite3``: importing SQLAlchemy costs
~0.45 s on the 2-core machines wnm targets, more than a whole cron run may take. SQLAlchemy
(``store.models``) and Alembic define the schema and migrate it, and are imported only when a
migration is pending; ``tests/store`` checks that the SQL here matches the models.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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


def _connect(path: Path, read_only: bool) -> sqlite3.Connection:
    uri = f"file:{path}?mode=ro" if read_only else f"file:{path}"
    conn = sqlite3.connect(uri, uri=True, timeout=5.0, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


class Store:
    """The database of one machine. ``transaction()`` yields a connection and commits on success.

    A read-only store refuses writes at the SQLite level (dry runs and reports). A store may
    also live in memory (a migrated copy of a database that a dry run must not change).
    """

    def __init__(self, path: Path, *, read_only: bool = False, memory: sqlite3.Connection | None = None):
        self.path = path
        self.read_only = read_only
        self._memory = memory

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._memory if self._memory is not None else _connect(self.path, self.read_only)
        try:
            yield conn
            conn.commit()
        except sqlite3.Error as exc:
            conn.rollback()
            raise StoreError(f"database {self.path}: {exc}") from exc
        except BaseException:
            conn.rollback()
            raise
        finally:
            if self._memory is None:
                conn.close()


def open_database(path: Path, *, create: bool = False, read_only: bool = False) -> Store:
    """Open (and if needed create) the database and bring its schema to the newest revision.

    A read-only open of a database that needs migrating works on an in-memory copy, so a dry run
    or report never writes. Raises NotInitialized when the file is absent and ``create`` is
    False, StoreError when it is not a usable database.
    """
    if not path.exists():
        if not create:
            raise NotInitialized(f"no database at {path}")
        create_db_file(path)
    try:
        conn = _connect(path, read_only)
        try:
            state = migrate.pending(conn)
        finally:
            conn.close()
    except StoreError:
        raise
    except sqlite3.Error as exc:  # a corrupt or foreign file
        raise StoreError(f"cannot open database {path}: {exc}") from exc
    if state is None:
        return Store(path, read_only=read_only)
    if not read_only:
        migrate.upgrade_file(path)
        return Store(path)
    return Store(path, read_only=True, memory=_migrated_memory_copy(path))


def _migrated_memory_copy(path: Path) -> sqlite3.Connection:
    """An in-memory copy of the database at ``path``, migrated to head (nothing on disk changes)."""
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    memory = sqlite3.connect(":memory:", check_same_thread=False)
    source.backup(memory)
    source.close()
    migrate.upgrade_connection(memory)
    memory.row_factory = sqlite3.Row
    return memory

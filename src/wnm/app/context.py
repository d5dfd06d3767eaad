"""Loading what every flow needs: the database, the machine's settings and the node table."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wnm.config.defaults import default_dbpath
from wnm.config.parser import Parsed
from wnm.config.resolve import changes, check_immutable, merge
from wnm.config.validate import validate
from wnm.domain.host import HostCounters
from wnm.domain.node import Node
from wnm.domain.settings import MachineState, Settings
from wnm.errors import NotInitialized
from wnm.store import repository as repo
from wnm.store.db import Store, open_database, resolve_db_path
from wnm.system.lock import RunLock

log = logging.getLogger(__name__)


def db_path_of(parsed: Parsed) -> Path:
    given = parsed.get("dbpath")
    if given:
        return resolve_db_path(str(given))
    return default_dbpath(parsed.get("process_manager"))


def run_lock(db_path: Path) -> RunLock:
    """The one run lock of a database, shared by cron runs, forced actions and (later) the API."""
    return RunLock(db_path.with_name(db_path.name + ".lock"))


@dataclass
class Loaded:
    """The machine as stored, and the settings this run uses (stored overlaid with given options)."""

    db_path: Path
    store: Store
    stored: Settings
    settings: Settings
    state: MachineState
    counters: HostCounters | None
    nodes: list[Node]
    changed: dict[str, Any] = field(default_factory=dict)
    binary_cache: str = ""


def load(parsed: Parsed, *, read_only: bool) -> Loaded:
    """Open the database (migrating it if needed) and resolve this run's settings.

    Options given on this run are validated against the stored row; ``changed`` lists the
    tunables that differ (the caller stores them unless this is a dry run). Raises
    NotInitialized, ConfigError (bad or immutable option), StoreError.
    """
    db_path = db_path_of(parsed)
    if not db_path.exists():
        raise NotInitialized(f"no database at {db_path}")
    store = open_database(db_path, read_only=read_only)
    with store.transaction() as conn:
        row = repo.load_machine(conn)
        if row is None:
            raise NotInitialized(f"database {db_path} has no machine yet")
        stored = repo.settings_of(row)
        state = repo.state_of(row)
        counters = repo.counters_of(row)
        nodes = repo.load_nodes(conn)
        binary_cache = str(row["binary_cache"])
    check_immutable(stored, parsed.given)
    settings = merge(stored, parsed.given)
    changed = changes(stored, settings)
    if changed:
        validate(settings, parsed.given.keys())
    return Loaded(db_path, store, stored, settings, state, counters, nodes, changed, binary_cache)


def store_changes(loaded: Loaded) -> None:
    """Persist the tunables this run was given (so later runs use them too)."""
    if not loaded.changed:
        return
    with loaded.store.transaction() as conn:
        repo.update_machine(conn, loaded.changed)
    log.info("settings changed: %s", ", ".join(f"{k}={v!r}" for k, v in sorted(loaded.changed.items())))

"""``wnm --init``: create the machine row for this host, then exit without acting."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from wnm.app import identities
from wnm.app.context import db_path_of, run_lock
from wnm.config.defaults import default_process_manager, platform_defaults
from wnm.config.parser import Parsed
from wnm.config.resolve import merge
from wnm.config.validate import validate
from wnm.domain.settings import MachineState, Settings
from wnm.errors import ConfigError, StoreError, UsageError
from wnm.store import repository as repo
from wnm.store.db import create_db_file, open_database

log = logging.getLogger(__name__)


def build_initial_settings(parsed: Parsed) -> Settings:
    """Platform defaults for the chosen mode, overlaid with the given options, validated."""
    if not parsed.get("rewards_address"):
        raise ConfigError("rewards_address", "is required for --init (0x address, faucet, donate, or a list)")
    mode = str(parsed.get("process_manager") or default_process_manager())
    settings = merge(platform_defaults(mode), {**parsed.given, "process_manager": mode})
    validate(settings, parsed.given.keys())
    return settings


def run_init(parsed: Parsed) -> int:
    """Create the database and machine row. Refuses an existing machine; changes nothing on error."""
    if parsed.flag("dry_run"):
        raise UsageError("--dry_run cannot be combined with --init (init only records settings)")
    db_path = db_path_of(parsed)
    settings = build_initial_settings(parsed)
    _check_manager(settings)
    restore = None
    if parsed.get("restore"):
        restore = identities.prepare_restore(str(parsed.get("restore")), settings)  # checks before creating
    restored: list[identities.Restored] = []
    fresh = not db_path.exists()
    lock = run_lock(db_path)
    with lock:
        if not fresh:
            store = open_database(db_path)
            with store.transaction() as conn:
                if repo.load_machine(conn) is not None:
                    raise UsageError(
                        f"this machine is already initialized in {db_path}; change settings by giving "
                        "them on a normal run (e.g. wnm --node_cap 30)"
                    )
        boot = _boot_time()
        try:
            create_db_file(db_path)
            store = open_database(db_path, create=True)
            with store.transaction() as conn:
                repo.create_machine(conn, settings, MachineState(boot_time=boot, last_stopped_at=boot))
                if restore is not None:  # all or nothing: undoes its files, then this rolls back
                    restored = identities.restore_identities(conn, restore, settings)
        except Exception:
            if fresh:
                _discard(db_path)
            raise
    _make_dirs(settings)
    log.info(
        "initialized %s: process manager %s, node storage %s, node_cap %d",
        db_path,
        settings.process_manager,
        settings.node_storage,
        settings.node_cap,
    )
    _report_missing_binaries(settings)
    if restore is not None:
        identities.report_restored(restore, restored)
    return 0


def _check_manager(settings: Settings) -> None:
    from wnm.app.backends import check_manager_available

    check_manager_available(settings)


def _boot_time() -> int:
    import psutil

    return int(psutil.boot_time())


def _discard(db_path: Path) -> None:
    for path in (db_path, db_path.with_name(db_path.name + "-journal")):
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StoreError(f"cannot remove half-created {path}: {exc.strerror}") from exc


def _make_dirs(settings: Settings) -> None:
    for path in (*settings.storage_paths, settings.log_dir):
        if path:
            try:
                os.makedirs(path, mode=0o755, exist_ok=True)
            except OSError as exc:
                log.warning("cannot create %s yet: %s", path, exc.strerror)


def _report_missing_binaries(settings: Settings) -> None:
    wanted = []
    if settings.node_generation in ("auto", "legacy"):
        wanted.append(("antnode_path", settings.antnode_path))
    if settings.node_generation in ("auto", "v2"):
        wanted.append(("node_binary_path", settings.node_binary_path))
    present = [p for _, p in wanted if p and os.access(p, os.X_OK)]
    if not present:
        names = " or ".join(f"--{n} ({p})" for n, p in wanted)
        log.warning("no node binary found at %s: nodes cannot be added until one is installed", names)

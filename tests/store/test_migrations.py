"""Schema migrations: applied automatically on every run, with a copy of the database first."""

from __future__ import annotations

import shutil
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult
from wnm.store import migrate

NEW_REVISION = '''"""Add machine.test_column (a migration written after the database was created).

Revision ID: 9999_test_column
Revises: {head}
"""

import sqlalchemy as sa
from alembic import op

revision = "9999_test_column"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("machine") as batch:
        batch.add_column(sa.Column("test_column", sa.Integer(), nullable=False, server_default="42"))


def downgrade() -> None:
    with op.batch_alter_table("machine") as batch:
        batch.drop_column("test_column")
'''


@pytest.fixture
def migrations_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped migrations that the test may extend; wnm is pointed at it."""
    copy = tmp_path / "migrations"
    shutil.copytree(migrate.migrations_dir(), copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrate, "migrations_dir", lambda: copy)
    return copy


def columns(db: str) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {row[1] for row in conn.execute("PRAGMA table_info(machine)")}


def revision(db: str) -> str:
    with sqlite3.connect(db) as conn:
        return str(conn.execute("SELECT version_num FROM alembic_version").fetchone()[0])


def test_database_is_created_mode_0600(machine: dict[str, str]) -> None:
    mode = stat.S_IMODE(Path(machine["db"]).stat().st_mode)
    assert mode == 0o600


def test_head_is_found_without_importing_alembic(machine: dict[str, str]) -> None:
    assert revision(machine["db"]) == migrate.head_revision(migrate.migrations_dir())


def test_new_migration_is_applied_automatically_with_backup(
    migrations_copy: Path, machine: dict[str, str], cli: Callable[..., CliResult]
) -> None:
    head = migrate.head_revision(migrations_copy)
    (migrations_copy / "versions" / "9999_test_column.py").write_text(NEW_REVISION.format(head=head))
    assert "test_column" not in columns(machine["db"])
    result = cli("--dbpath", machine["db"], "--force_action", "nullop")
    assert result.code == 0, result.err
    assert "test_column" in columns(machine["db"])
    assert revision(machine["db"]) == "9999_test_column"
    backups = list(Path(machine["db"]).parent.glob("colony.db.bak-*"))
    assert len(backups) == 1
    assert "test_column" not in columns(str(backups[0]))
    assert stat.S_IMODE(backups[0].stat().st_mode) == 0o600
    # the machine row survived the migration
    assert cli("--dbpath", machine["db"], "--report", "machine-config").code == 0


def test_dry_run_on_a_database_needing_migration_changes_nothing(
    migrations_copy: Path, machine: dict[str, str], cli: Callable[..., CliResult]
) -> None:
    head = migrate.head_revision(migrations_copy)
    (migrations_copy / "versions" / "9999_test_column.py").write_text(NEW_REVISION.format(head=head))
    before = Path(machine["db"]).read_bytes()
    result = cli("--dbpath", machine["db"], "--report", "machine-config", "--json")
    assert result.code == 0, result.err
    assert Path(machine["db"]).read_bytes() == before
    assert not list(Path(machine["db"]).parent.glob("colony.db.bak-*"))


def test_branched_migrations_are_a_clear_error(migrations_copy: Path) -> None:
    head = migrate.head_revision(migrations_copy)
    for name in ("a", "b"):
        text = NEW_REVISION.format(head=head).replace("9999_test_column", f"9999_{name}")
        (migrations_copy / "versions" / f"9999_{name}.py").write_text(text)
    with pytest.raises(Exception, match="2 heads"):
        migrate.head_revision(migrations_copy)


def test_corrupt_database_is_a_one_line_error(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    db = tmp_path / "colony.db"
    db.write_bytes(b"this is not sqlite" * 100)
    result = cli("--dbpath", str(db), "--dry-run")
    assert result.code == 1
    assert "cannot open database" in result.err
    assert "Traceback" not in result.err
    assert db.read_bytes() == b"this is not sqlite" * 100

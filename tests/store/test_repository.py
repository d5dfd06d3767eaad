"""The sqlite3 repository and the SQLAlchemy models describe the same tables."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

from wnm.domain.enums import Generation, NodeStatus
from wnm.domain.node import Node, NodeMetrics
from wnm.domain.settings import MachineState, Settings
from wnm.store import repository as repo
from wnm.store.db import open_database
from wnm.store.models import Base


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    store = open_database(tmp_path / "t.db", create=True)
    connection = sqlite3.connect(store.path)
    connection.row_factory = sqlite3.Row
    return connection


def test_machine_columns_match_models() -> None:
    assert set(Base.metadata.tables["machine"].columns.keys()) == set(repo.MACHINE_COLUMNS)


def test_node_columns_match_models() -> None:
    assert set(Base.metadata.tables["node"].columns.keys()) == set(repo.NODE_COLUMNS)


def test_migrated_schema_matches_models(conn: sqlite3.Connection) -> None:
    for table in ("machine", "node", "container", "action_log"):
        actual = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        assert actual == set(Base.metadata.tables[table].columns.keys()), table


def test_machine_and_node_round_trip(conn: sqlite3.Connection) -> None:
    settings = Settings(rewards_address="faucet", node_storage="/x", no_upnp=True, desired_load_average=1.5)
    repo.create_machine(conn, settings, MachineState(boot_time=5, highest_node_id_used=3))
    row = repo.load_machine(conn)
    assert row is not None
    assert repo.settings_of(row) == settings
    assert repo.state_of(row).highest_node_id_used == 3
    node = Node(
        id=7,
        generation=Generation.V2,
        manager="setsid+user",
        root_dir="/x/antnode0007",
        log_dir="/l",
        binary="/x/antnode0007/ant-node",
        port=55007,
        metrics_port=13007,
        rpc_port=30007,
        status=NodeStatus.QUARANTINED,
        status_changed_at=100,
        age=50,
        wallet="0x" + "1" * 40,
        version="0.14.2",
        peer_id="f" * 64,
        recent_deaths=(1, 2, 3),
        status_reason="crash loop",
        service="antnode0007",
        metrics=NodeMetrics(
            records=5, rewards="123456789012345678901234567890", cpu_percent=1.5, data_size=9
        ),
    )
    repo.save_node(conn, node)
    repo.save_node(conn, node)  # upsert
    assert repo.load_nodes(conn) == [node]
    repo.delete_node(conn, 7)
    assert repo.load_nodes(conn) == []


def test_update_machine_rejects_unknown_columns(conn: sqlite3.Connection) -> None:
    with pytest.raises(ValueError, match="not machine columns"):
        repo.update_machine(conn, {"node_cap; DROP TABLE node": 1})


def test_action_log_round_trip(conn: sqlite3.Connection) -> None:
    repo.log_action(conn, action="add", node_id=1, reason="r", outcome="ok", duration=0.1234, at=10.0)
    repo.log_action(conn, action="stop", node_id=None, reason="s", outcome="failed", error="e", at=11.0)
    records = repo.recent_actions(conn, 10)
    assert [r.action for r in records] == ["add", "stop"]
    assert records[0].duration == 0.123 and records[1].error == "e"


def test_hot_path_does_not_import_sqlalchemy(tmp_path: Path) -> None:
    import subprocess

    db = tmp_path / "c.db"
    code = (
        "import sys\nfrom pathlib import Path\nfrom wnm.store.db import open_database\n"
        "from wnm.store import repository as repo\n"
        f"store = open_database(Path({str(db)!r}))\n"
        "with store.transaction() as conn:\n    repo.load_nodes(conn)\n"
        "print('sqlalchemy' in sys.modules, 'alembic' in sys.modules)\n"
    )
    open_database(db, create=True)  # migrated once (imports alembic in this process only)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"

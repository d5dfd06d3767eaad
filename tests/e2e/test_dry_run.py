"""`wnm --dry-run` decides with this run's settings, prints the plan, and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.helpers import UNLIMITED, Colony, processes_of, statuses


@pytest.fixture
def colony(colony: Colony) -> Colony:
    colony.init(*UNLIMITED, "--node_cap", "1", "--delay_start", "5")
    return colony


def test_dry_run_changes_nothing_and_uses_given_settings(colony: Colony) -> None:
    colony.run_until(lambda ns: statuses(ns) == ["RUNNING"])
    db_before = Path(colony.db).read_bytes()
    dirs_before = sorted(p.name for p in colony.storage.iterdir())
    done = colony.wnm("--dry-run", "--json", "--node_cap", "2")
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    adds = [a for a in plan["actions"] if a["type"] == "add"]
    assert len(adds) == 1  # the same run uses the given node_cap (wnm-compat D12)
    assert adds[0]["spec"]["port"] == colony.port_start * 1000 + 2
    assert "node_cap" in adds[0]["reason"]
    assert Path(colony.db).read_bytes() == db_before
    assert sorted(p.name for p in colony.storage.iterdir()) == dirs_before
    assert not processes_of(str(colony.storage / "antnode0002"))
    assert colony.machine()["node_cap"] == 1


def test_dry_run_text_explains_idle(colony: Colony) -> None:
    colony.run_until(lambda ns: statuses(ns) == ["RUNNING"])
    done = colony.wnm("--dry-run")
    assert done.returncode == 0, done.stderr
    assert "plan: idle" in done.stdout
    assert "node_cap 1 reached" in done.stdout


def test_normal_run_logs_the_plan_then_acts(colony: Colony) -> None:
    done = colony.wnm()
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    plan_at = next(i for i, line in enumerate(lines) if " plan: 1 action" in line)
    acted_at = next(i for i, line in enumerate(lines) if "add node 0001: added and started" in line)
    assert plan_at < acted_at

"""Forced actions through the real CLI: same executor, same log, per-node output, exit codes."""

from __future__ import annotations

import json
import os

import pytest

from tests.e2e.helpers import UNLIMITED, Colony, statuses

SETTINGS = (
    *UNLIMITED,
    "--node_cap", "2",
    "--max_concurrent_starts", "2",
    "--max_concurrent_operations", "2",
    "--delay_start", "5",
    "--delay_restart", "0",
)  # fmt: skip


@pytest.fixture
def colony(colony: Colony) -> Colony:
    colony.init(*SETTINGS)
    return colony


def test_forced_add_respects_node_cap_unless_forced(colony: Colony) -> None:
    done = colony.wnm("--force_action", "add", "--count", "3")
    assert done.returncode == 0, done.stderr
    assert "node_cap 2 allows no more" in done.stderr
    assert done.stdout.count("add ok") == 2
    assert len(colony.nodes()) == 2
    refused = colony.wnm("--force_action", "add")
    assert refused.returncode == 1
    assert "node_cap 2 reached" in refused.stderr
    forced = colony.wnm("--force_action", "add", "--force", "--json")
    assert forced.returncode == 0, forced.stderr
    result = json.loads(forced.stdout)
    assert result["status"] == "ok" and result["add_count"] == 1
    assert colony.machine()["node_cap"] == 3  # raised, so the next run does not undo the add
    colony.run_until(lambda ns: statuses(ns) == ["RUNNING"] * 3)


def test_stop_start_disable_enable_by_name(colony: Colony) -> None:
    colony.run_until(lambda ns: statuses(ns) == ["RUNNING"] * 2)
    done = colony.wnm("--force_action", "stop", "--service_name", "antnode0001")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "node 0001: stop ok: stopped"
    assert {n["id"]: n["status"] for n in colony.nodes()}[1] == "STOPPED"

    assert colony.wnm("--force_action", "disable").returncode == 2  # needs names
    done = colony.wnm("--force_action", "disable", "--service_name", "1")
    assert done.returncode == 0, done.stderr
    colony.wnm()  # a normal run leaves a disabled node alone
    assert {n["id"]: n["status"] for n in colony.nodes()}[1] == "DISABLED"
    assert colony.wnm("--force_action", "enable", "--service_name", "antnode0001.service").returncode == 0
    colony.run_until(lambda ns: statuses(ns) == ["RUNNING"] * 2)

    unknown = colony.wnm("--force_action", "stop", "--service_name", "antnode0009")
    assert unknown.returncode == 2
    assert "no such node: antnode0009" in unknown.stderr


def test_a_failed_action_does_not_stop_the_others_and_is_logged(colony: Colony) -> None:
    colony.run_until(lambda ns: statuses(ns) == ["RUNNING"] * 2)
    assert colony.wnm("--force_action", "stop", "--count", "2").returncode == 0
    nodes = colony.nodes()
    os.unlink(nodes[0]["binary"])  # node 1 can no longer start
    done = colony.wnm("--force_action", "start", "--service_name", "antnode0001,antnode0002", "--json")
    assert done.returncode == 1
    result = json.loads(done.stdout)
    assert result["status"] == "partial"
    assert result["start_nodes"] == ["0002"]
    assert [f["node"] for f in result["failed_nodes"]] == ["0001"]
    log = json.loads(colony.wnm("--report", "action-log", "--json").stdout)
    forced = [e for e in log if e["source"] == "forced" and e["action"] == "start"]
    assert {(e["node"], e["outcome"]) for e in forced} == {("0001", "failed"), ("0002", "ok")}
    assert forced[0]["error"] or forced[1]["error"]


def test_forced_survey_prints_a_report(colony: Colony) -> None:
    colony.run_until(lambda ns: statuses(ns) == ["RUNNING"] * 2)
    done = colony.wnm("--force_action", "survey", "--json")
    assert done.returncode == 0, done.stderr
    assert [n["status"] for n in json.loads(done.stdout)] == ["RUNNING", "RUNNING"]

# ruff: noqa: E501  (the case table reads best one case per line)
"""Upgrades in the merge rules: wnm-started upgrades settle or wait for the engine's rollback;
self-upgrade exits wait for a restart and are never deaths."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from wnm.backends.process.base import ProcessState, ProcessStatus
from wnm.domain.enums import Generation, NodeStatus
from wnm.domain.node import Node, NodeMetrics
from wnm.domain.settings import Settings
from wnm.observe.judge import NodeProbe, judge

NOW = 1_800_000_000
SETTINGS = Settings(upgrade_settle=60, delay_upgrade=300, delay_start=300)
METRICS = NodeMetrics(uptime=30, records=5)

S = NodeStatus
RUN = ProcessStatus(ProcessState.RUNNING, pid=77)
STOP_0 = ProcessStatus(ProcessState.STOPPED, exit_code=0)
STOP_1 = ProcessStatus(ProcessState.STOPPED, exit_code=1)
STOP = ProcessStatus(ProcessState.STOPPED)
UNKNOWN = ProcessStatus(ProcessState.UNKNOWN, detail="launchctl timed out")

ON_NEW = NodeProbe(healthy=True, answered=True, metrics=METRICS, version="0.4.18")
ON_OLD = NodeProbe(healthy=True, answered=True, metrics=METRICS, version="0.4.17")
V2_ALIVE = NodeProbe(healthy=True)  # v2: a running process is the health signal; no version endpoint
SILENT = NodeProbe(problem="metrics not answering (timeout: deadline 2s reached)")
LAST_WORDS = NodeProbe(failure="[2026-02-20 10:11:15 UTC] Node terminated due to: bad config")
UPGRADED_AGAIN = NodeProbe(binary_version="0.4.19", binary_stamp="9:9")


@dataclass(frozen=True)
class Case:
    probe: NodeProbe
    process: ProcessStatus
    expect: NodeStatus
    elapsed: int  # seconds since the upgrade was recorded
    reason: str  # fragment of the recorded reason ("" = must be empty)
    settled: bool = False
    alive: bool | None = True
    version: str = ""  # the version the observation records ("" = keep the stored one)
    self_upgraded: bool = False


# The stored node: UPGRADING from 0.4.17 to 0.4.18, started by wnm (upgrade_from set).
WNM_STARTED = {
    "healthy, settling": Case(ON_NEW, RUN, S.UPGRADING, 20, "settling on 0.4.18: healthy for 20s of 60s", version="0.4.18"),
    "healthy, settle reached": Case(ON_NEW, RUN, S.RUNNING, 60, "", settled=True, version="0.4.18"),
    "healthy long after": Case(ON_NEW, RUN, S.RUNNING, 5000, "", settled=True, version="0.4.18"),
    "v2 alive, settling": Case(V2_ALIVE, RUN, S.UPGRADING, 59, "healthy for 59s of 60s"),
    "v2 alive, settled": Case(V2_ALIVE, RUN, S.RUNNING, 61, "", settled=True),
    "answers the old version": Case(ON_OLD, RUN, S.UPGRADING, 120, "answers with version 0.4.17, expected 0.4.18"),
    "alive, metrics silent": Case(SILENT, RUN, S.UPGRADING, 120, "metrics not answering"),
    "alive, metrics silent past delay": Case(SILENT, RUN, S.UPGRADING, 900, "metrics not answering"),
    "gone, crashed": Case(LAST_WORDS, STOP_1, S.UPGRADING, 30, "not running on 0.4.18 (exit code 1): [2026-02-20", alive=False),
    "gone past delay_upgrade: not DEAD": Case(NodeProbe(), STOP, S.UPGRADING, 900, "not running on 0.4.18", alive=False),
    "state unknown": Case(SILENT, UNKNOWN, S.UPGRADING, 30, "launchctl timed out", alive=None),
    "self-upgraded past the target": Case(
        UPGRADED_AGAIN, STOP_0, S.UPGRADING, 30, "exited after self-upgrade to 0.4.19; waiting for restart",
        settled=True, alive=False, version="0.4.19", self_upgraded=True,
    ),
}  # fmt: skip


def _node(**changes: object) -> Node:
    node = Node(
        id=3, generation=Generation.LEGACY, manager="setsid+user", root_dir="/srv/n/0003", log_dir="/srv/l/0003",
        binary="/srv/n/0003/antnode", port=55003, metrics_port=13003, rpc_port=30003, status=S.UPGRADING,
        status_changed_at=NOW - 10, age=NOW - 86400, version="0.4.18", upgrade_from="0.4.17",
        status_reason="old reason",
    )  # fmt: skip
    return replace(node, **changes)


@pytest.mark.parametrize("name", list(WNM_STARTED))
def test_wnm_started_upgrade(name: str) -> None:
    case = WNM_STARTED[name]
    node = _node(status_changed_at=NOW - case.elapsed)
    obs = judge(node, case.probe, case.process, NOW, SETTINGS)
    assert obs.status is case.expect
    assert (case.reason in obs.reason) if case.reason else obs.reason == "", obs.reason
    assert obs.settled is case.settled
    assert obs.alive is case.alive
    assert obs.version == case.version
    assert obs.self_upgraded is case.self_upgraded
    assert not obs.died  # an upgrade that does not come up is rolled back, not counted as a crash


def test_settle_is_capped_by_delay_upgrade() -> None:
    """upgrade_settle longer than delay_upgrade must not let a healthy node be rolled back."""
    settings = replace(SETTINGS, upgrade_settle=900, delay_upgrade=300)
    early = judge(_node(status_changed_at=NOW - 299), ON_NEW, RUN, NOW, settings)
    assert early.status is S.UPGRADING and "healthy for 299s of 300s" in early.reason
    due = judge(_node(status_changed_at=NOW - 300), ON_NEW, RUN, NOW, settings)
    assert due.status is S.RUNNING and due.settled


def test_self_upgrade_exit_then_restart() -> None:
    """RUNNING -> exit 0 with a new binary -> UPGRADING (no death) -> back alive -> RUNNING at once."""
    running = _node(status=S.RUNNING, version="0.4.17", upgrade_from="", recent_deaths=(NOW - 60,))
    exited = judge(running, replace(UPGRADED_AGAIN, binary_version="0.4.18"), STOP_0, NOW, SETTINGS)
    assert (exited.status, exited.version, exited.alive) == (S.UPGRADING, "0.4.18", False)
    assert exited.self_upgraded and not exited.died and not exited.settled
    assert exited.reason == "exited after self-upgrade to 0.4.18; waiting for restart"
    waiting = _node(status=S.UPGRADING, upgrade_from="", status_reason=exited.reason, status_changed_at=NOW)
    later = judge(waiting, NodeProbe(), STOP_0, NOW + 3600, SETTINGS)
    assert later.status is S.UPGRADING and later.reason == exited.reason
    assert not later.died and not later.self_upgraded and later.alive is False
    back = judge(waiting, ON_NEW, RUN, NOW + 3660, SETTINGS)
    assert (back.status, back.reason, back.alive, back.settled) == (S.RUNNING, "", True, False)


def test_stale_upgrade_from_is_cleared_outside_an_upgrade() -> None:
    """A node restarted after a reboot interrupted its upgrade forgets ``upgrade_from`` once seen."""
    restarting = _node(status=S.RESTARTING, status_changed_at=NOW - 20)
    assert judge(restarting, ON_NEW, RUN, NOW, SETTINGS).settled
    assert judge(_node(upgrade_from=""), ON_NEW, RUN, NOW, SETTINGS).settled is False

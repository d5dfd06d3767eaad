# ruff: noqa: E501  (the case table reads best one case per line)
"""The merge rules as a table: stored status + what the survey saw -> recorded observation."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from wnm.backends.process.base import ProcessState, ProcessStatus
from wnm.domain.enums import Generation, NodeStatus
from wnm.domain.node import Node, NodeMetrics
from wnm.domain.settings import Settings
from wnm.observe.judge import NodeProbe, judge

NOW = 1_800_000_000
SETTINGS = Settings(delay_start=300, delay_upgrade=600)
METRICS = NodeMetrics(uptime=100, records=5)

S = NodeStatus
RUN = ProcessStatus(ProcessState.RUNNING, pid=4242)
STOP = ProcessStatus(ProcessState.STOPPED)
STOP_0 = ProcessStatus(ProcessState.STOPPED, exit_code=0)
STOP_1 = ProcessStatus(ProcessState.STOPPED, exit_code=1)
MISSING = ProcessStatus(ProcessState.MISSING)
UNKNOWN = ProcessStatus(ProcessState.UNKNOWN, detail="systemctl timed out")

HEALTHY = NodeProbe(healthy=True, answered=True, metrics=METRICS, version="0.4.17", peer_id="12D3KooWx")
NOT_ANSWERING = NodeProbe(problem="metrics not answering (timeout: deadline 2s reached)")
HTTP_500 = NodeProbe(answered=True, problem="metrics endpoint answered HTTP 500")
GONE = NodeProbe(failure="[2026-02-20 10:11:15 UTC] Node terminated due to: x")
UPGRADED = NodeProbe(binary_version="0.4.18", binary_stamp="123:456")
SAME_BINARY = NodeProbe(binary_version="0.4.17", binary_stamp="123:456")
NO_ROOT = NodeProbe(healthy=True, answered=True, metrics=METRICS, root_exists=False)


@dataclass(frozen=True)
class Case:
    stored: NodeStatus
    probe: NodeProbe
    process: ProcessStatus
    expect: NodeStatus
    elapsed: int = 10_000  # seconds since the stored status was set
    reason: str = ""  # fragment expected in the reason ("" = reason must be empty)
    died: bool = False
    self_upgraded: bool = False
    metrics: bool = False  # metrics carried in the observation


CASES = {
    # observed wins over stored
    "running stays running": Case(S.RUNNING, HEALTHY, RUN, S.RUNNING, metrics=True),
    "stopped seen alive": Case(S.STOPPED, HEALTHY, STOP, S.RUNNING, metrics=True),
    "dead seen alive": Case(S.DEAD, HEALTHY, RUN, S.RUNNING, metrics=True),
    "broken seen alive again": Case(S.BROKEN, NOT_ANSWERING, RUN, S.RUNNING, reason="metrics not answering"),
    "alive, metrics silent": Case(S.RUNNING, NOT_ANSWERING, RUN, S.RUNNING, reason="metrics not answering"),
    "alive, HTTP 500": Case(S.RUNNING, HTTP_500, MISSING, S.RUNNING, reason="HTTP 500"),
    "stopped stays stopped": Case(S.STOPPED, NodeProbe(), STOP, S.STOPPED, reason="old reason"),
    "missing service, stopped": Case(S.STOPPED, NodeProbe(), MISSING, S.STOPPED, reason="old reason"),
    "dead stays dead": Case(S.DEAD, NodeProbe(), STOP, S.DEAD, reason="old reason"),
    # kept statuses
    "disabled kept, metrics updated": Case(S.DISABLED, HEALTHY, RUN, S.DISABLED, reason="old reason", metrics=True),
    "disabled kept when gone": Case(S.DISABLED, NodeProbe(), STOP, S.DISABLED, reason="old reason"),
    "quarantined kept": Case(S.QUARANTINED, HEALTHY, RUN, S.QUARANTINED, reason="old reason", metrics=True),
    "removing kept when alive": Case(S.REMOVING, HEALTHY, RUN, S.REMOVING, reason="old reason", metrics=True),
    "removing kept when root gone": Case(S.REMOVING, NO_ROOT, STOP, S.REMOVING, reason="old reason", metrics=True),
    # broken
    "root dir missing": Case(S.RUNNING, NO_ROOT, RUN, S.BROKEN, reason="is missing", metrics=True),
    "root dir missing, stopped": Case(S.STOPPED, NodeProbe(root_exists=False), STOP, S.BROKEN, reason="is missing"),
    "broken stays broken": Case(S.BROKEN, NodeProbe(), STOP, S.BROKEN, reason="old reason"),
    # unknown process state
    "unknown keeps stored": Case(S.RUNNING, NOT_ANSWERING, UNKNOWN, S.RUNNING, reason="systemctl timed out"),
    "unknown but answering": Case(S.STOPPED, HEALTHY, UNKNOWN, S.RUNNING, metrics=True),
    # RESTARTING / UPGRADING within and past their delays
    "restarting, now healthy": Case(S.RESTARTING, HEALTHY, RUN, S.RUNNING, elapsed=5, metrics=True),
    "restarting, alive, no metrics yet": Case(
        S.RESTARTING, NOT_ANSWERING, RUN, S.RESTARTING, elapsed=5, reason="5s of delay_start 300s"
    ),
    "restarting, not up yet": Case(S.RESTARTING, NodeProbe(), STOP, S.RESTARTING, elapsed=299, reason="waiting"),
    "restarting past delay": Case(
        S.RESTARTING, GONE, STOP_1, S.DEAD, elapsed=300, reason="did not come up within delay_start (300s), exit code 1",
        died=True,
    ),
    "restarting past delay, alive": Case(
        S.RESTARTING, NOT_ANSWERING, RUN, S.RUNNING, elapsed=301, reason="metrics not answering"
    ),
    # self-upgraded (upgrade_from empty): waits for a restart, never dies, RUNNING once alive
    "self-upgraded, still gone": Case(S.UPGRADING, NodeProbe(), STOP, S.UPGRADING, elapsed=5, reason="old reason"),
    "self-upgraded, gone for long": Case(S.UPGRADING, NodeProbe(), MISSING, S.UPGRADING, elapsed=90_000, reason="old reason"),
    "self-upgraded, back and healthy": Case(S.UPGRADING, HEALTHY, RUN, S.RUNNING, elapsed=1, metrics=True),
    "self-upgraded, back, no metrics yet": Case(S.UPGRADING, NOT_ANSWERING, RUN, S.RUNNING, elapsed=1, reason="metrics not answering"),
    # deaths and self-upgrades
    "running, process gone": Case(S.RUNNING, NodeProbe(), STOP, S.DEAD, reason="process is gone", died=True),
    "running, exit 1 with last words": Case(
        S.RUNNING, GONE, STOP_1, S.DEAD, reason="exited with code 1: [2026-02-20 10:11:15 UTC] Node terminated",
        died=True,
    ),
    "running, exit 0 same binary": Case(S.RUNNING, SAME_BINARY, STOP_0, S.DEAD, reason="code 0", died=True),
    "self-upgrade, exit 0": Case(
        S.RUNNING, UPGRADED, STOP_0, S.UPGRADING, reason="exited after self-upgrade to 0.4.18; waiting for restart",
        self_upgraded=True,
    ),
    "self-upgrade, exit unknown": Case(
        S.RUNNING, UPGRADED, STOP, S.UPGRADING, reason="self-upgrade to 0.4.18", self_upgraded=True
    ),
    "self-upgrade, service gone": Case(
        S.RUNNING, UPGRADED, MISSING, S.UPGRADING, reason="self-upgrade to 0.4.18", self_upgraded=True
    ),
    "new binary but crashed": Case(S.RUNNING, UPGRADED, STOP_1, S.DEAD, reason="code 1", died=True),
    "restarting, self-upgraded past delay": Case(
        S.RESTARTING, UPGRADED, STOP_0, S.UPGRADING, elapsed=400, reason="self-upgrade", self_upgraded=True
    ),
    "stopped with new binary stays stopped": Case(S.STOPPED, UPGRADED, STOP_0, S.STOPPED, reason="old reason"),
}  # fmt: skip


def _node(case: Case) -> Node:
    return Node(
        id=3, generation=Generation.LEGACY, manager="setsid+user", root_dir="/srv/n/0003", log_dir="/srv/l/0003",
        binary="/srv/n/0003/antnode", port=55003, metrics_port=13003, rpc_port=30003, status=case.stored,
        status_changed_at=NOW - case.elapsed, age=NOW - 86400, version="0.4.17",
        status_reason="old reason",
    )  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_merge_rules(name: str) -> None:
    case = CASES[name]
    obs = judge(_node(case), case.probe, case.process, NOW, SETTINGS)
    assert obs.node_id == 3
    assert obs.status is case.expect
    if case.reason:
        assert case.reason in obs.reason, obs.reason
    else:
        assert obs.reason == ""
    assert obs.died is case.died
    assert obs.self_upgraded is case.self_upgraded
    assert (obs.metrics is not None) is case.metrics


def test_observation_carries_facts() -> None:
    node = _node(CASES["running stays running"])
    obs = judge(node, HEALTHY, RUN, NOW, SETTINGS)
    assert (obs.version, obs.peer_id, obs.pid, obs.responded, obs.metrics) == (
        "0.4.17",
        "12D3KooWx",
        4242,
        True,
        METRICS,
    )
    gone = judge(node, UPGRADED, STOP_0, NOW, SETTINGS)
    assert (gone.version, gone.binary_stamp, gone.pid, gone.exit_code) == ("0.4.18", "123:456", None, 0)
    assert gone.alive is False and not gone.died and not gone.settled
    probe = NodeProbe(healthy=True, log_problems=("insufficient disk space",))
    v2 = judge(node, probe, RUN, NOW, SETTINGS)
    assert v2.log_problems == ("insufficient disk space",) and v2.status is S.RUNNING


def test_self_upgrade_needs_a_known_old_version() -> None:
    node = _node(CASES["self-upgrade, exit 0"])
    obs = judge(replace(node, version=""), UPGRADED, STOP_0, NOW, SETTINGS)
    assert obs.status is S.DEAD and obs.died


@pytest.mark.parametrize(
    ("probe", "process", "alive"),
    [
        (HEALTHY, RUN, True),
        (NOT_ANSWERING, RUN, True),
        (HTTP_500, MISSING, True),  # answering HTTP: alive whatever the manager says
        (HEALTHY, UNKNOWN, True),
        (NodeProbe(), STOP_0, False),
        (NodeProbe(), MISSING, False),
        (NOT_ANSWERING, UNKNOWN, None),
    ],
)
@pytest.mark.parametrize("stored", [S.RUNNING, S.STOPPED, S.UPGRADING, S.DISABLED, S.REMOVING])
def test_alive_is_always_set(
    stored: NodeStatus, probe: NodeProbe, process: ProcessStatus, alive: bool | None
) -> None:
    node = replace(_node(CASES["running stays running"]), status=stored)
    assert judge(node, probe, process, NOW, SETTINGS).alive is alive

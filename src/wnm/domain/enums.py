"""Enumerations shared by every layer. All are ``(str, Enum)`` so they read well in logs and the DB."""

from __future__ import annotations

from enum import Enum


class NodeStatus(str, Enum):
    """The status of a node as recorded in the node table.

    RUNNING / STOPPED are observed facts; RESTARTING, UPGRADING and REMOVING are transitions wnm
    started and waits on; DEAD means the process exited without wnm asking; BROKEN means the
    node's files are missing or its service definition cannot be used; DISABLED and QUARANTINED
    are left alone by automatic rules until the operator acts.
    """

    RUNNING = "RUNNING"
    STOPPED = "STOPPED"
    RESTARTING = "RESTARTING"
    UPGRADING = "UPGRADING"
    REMOVING = "REMOVING"
    DEAD = "DEAD"
    BROKEN = "BROKEN"
    DISABLED = "DISABLED"
    QUARANTINED = "QUARANTINED"

    def __str__(self) -> str:
        return self.value


class Generation(str, Enum):
    """Which node program a node runs: legacy ``antnode`` or second-generation ``ant-node``."""

    LEGACY = "legacy"
    V2 = "v2"

    def __str__(self) -> str:
        return self.value


class ActionType(str, Enum):
    """What an Action does."""

    ADD = "add"
    START = "start"
    STOP = "stop"
    RESTART = "restart"
    UPGRADE = "upgrade"
    REMOVE = "remove"
    DISABLE = "disable"
    ENABLE = "enable"
    ROLLBACK = "rollback"
    SURVEY = "survey"
    RESURVEY = "resurvey"

    def __str__(self) -> str:
        return self.value


class RemovalStrategy(str, Enum):
    """How to choose which node to stop or remove under pressure."""

    YOUNGEST = "youngest"
    OLDEST = "oldest"
    LEAST_RECORDS = "least_records"
    MOST_SHUNNED = "most_shunned"
    HIGHEST_CPU = "highest_cpu"
    LOWEST_REWARDS = "lowest_rewards"

    def __str__(self) -> str:
        return self.value


class Outcome(str, Enum):
    """Result of one executed action, as stored in ``action_log``."""

    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"

    def __str__(self) -> str:
        return self.value

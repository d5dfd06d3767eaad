"""How wnm lays nodes out in docker containers: names, labels, mounts, and reading them back.

Pure functions over the attribute dicts docker returns (``container.attrs``), so the rules are
testable without a daemon.

Labels mark wnm's own containers (``wnm.managed=1``) and the wnm instance that owns them
(``wnm.instance=<control root>``, so two instances or a test never touch each other's).
A single-node container also says which node it holds (``wnm.node_ids``); a group container's
members change over time and live in its control directory instead (labels are immutable).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wnm.backends.process.base import ContainerInfo

LABEL_MANAGED = "wnm.managed"
LABEL_INSTANCE = "wnm.instance"
LABEL_CONTAINER = "wnm.container"
LABEL_MODE = "wnm.mode"
LABEL_NODE_IDS = "wnm.node_ids"
LABEL_CONTROL = "wnm.control"
MODE_SINGLE = "single"
MODE_GROUP = "group"
GROUP_PREFIX = "wnm-nodes-"
SUPERVISOR = "/usr/local/bin/wnm-supervisor"


def labels_for(
    instance: str, name: str, mode: str, node_ids: Iterable[int] = (), control: str = ""
) -> dict[str, str]:
    labels = {
        LABEL_MANAGED: "1",
        LABEL_INSTANCE: instance,
        LABEL_CONTAINER: name,
        LABEL_MODE: mode,
    }
    ids = ",".join(str(i) for i in node_ids)
    if ids:
        labels[LABEL_NODE_IDS] = ids
    if control:
        labels[LABEL_CONTROL] = control
    return labels


def instance_filter(instance: str) -> dict[str, list[str]]:
    """The docker ``filters`` that select this instance's containers in one list call."""
    return {"label": [f"{LABEL_MANAGED}=1", f"{LABEL_INSTANCE}={instance}"]}


def labels_of(attrs: Mapping[str, Any]) -> dict[str, str]:
    config = attrs.get("Config") or {}
    labels = config.get("Labels") or attrs.get("Labels") or {}
    return {str(k): str(v) for k, v in labels.items()}


def mode_of(attrs: Mapping[str, Any]) -> str:
    return labels_of(attrs).get(LABEL_MODE, MODE_SINGLE)


def label_node_ids(attrs: Mapping[str, Any]) -> tuple[int, ...]:
    text = labels_of(attrs).get(LABEL_NODE_IDS, "")
    return tuple(int(part) for part in text.split(",") if part.strip().isdigit())


def name_of(attrs: Mapping[str, Any]) -> str:
    return str(attrs.get("Name", "")).lstrip("/")


def state_of(attrs: Mapping[str, Any]) -> Mapping[str, Any]:
    state = attrs.get("State")
    return state if isinstance(state, Mapping) else {}


def status_word(attrs: Mapping[str, Any]) -> str:
    return str(state_of(attrs).get("Status", "unknown"))


def created_epoch(created: str) -> int:
    """Docker's ``Created`` (RFC 3339 with nanoseconds) as epoch seconds; 0 when unreadable."""
    try:
        return int(datetime.fromisoformat(created[:19]).replace(tzinfo=UTC).timestamp())
    except ValueError:
        return 0


def container_info(attrs: Mapping[str, Any], node_ids: tuple[int, ...]) -> ContainerInfo:
    config = attrs.get("Config") or {}
    return ContainerInfo(
        docker_id=str(attrs.get("Id", "")),
        name=name_of(attrs),
        image=str(config.get("Image", "")),
        status=status_word(attrs),
        created_at=created_epoch(str(attrs.get("Created", ""))),
        node_ids=node_ids,
        mode=mode_of(attrs),
    )


def mount_sources(attrs: Mapping[str, Any]) -> list[str]:
    return [str(m.get("Source", "")) for m in attrs.get("Mounts") or [] if m.get("Source")]


def is_under(path: str, roots: Iterable[str]) -> bool:
    """Whether ``path`` is one of ``roots`` or inside one of them (paths as written, normalised).

    Symlinks are deliberately not resolved: a mount must appear inside the container at the
    path the node's argv uses, and docker follows a symlinked source by itself.
    """
    target = os.path.abspath(path)
    for root in roots:
        base = os.path.abspath(root)
        if target == base or target.startswith(base.rstrip("/") + "/"):
            return True
    return False


def bind_roots(paths: Iterable[str]) -> list[str]:
    """The given paths without duplicates and without those inside another one."""
    unique = sorted({os.path.abspath(p) for p in paths if p})
    kept: list[str] = []
    for path in unique:
        if not is_under(path, kept):
            kept.append(path)
    return kept


def group_name(taken: Iterable[str]) -> str:
    """The first free group container name (``wnm-nodes-01``, ``wnm-nodes-02``, …)."""
    used = set(taken)
    number = 1
    while f"{GROUP_PREFIX}{number:02d}" in used:
        number += 1
    return f"{GROUP_PREFIX}{number:02d}"


def owner_of(path: str) -> tuple[int, int]:
    """uid and gid owning ``path``: the user a node's container runs as."""
    st = Path(path).stat()
    return st.st_uid, st.st_gid

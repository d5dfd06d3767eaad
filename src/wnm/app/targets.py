"""Resolving ``--service_name`` lists to node ids."""

from __future__ import annotations

import re
from collections.abc import Sequence

from wnm.domain.node import Node
from wnm.errors import UsageError

_ID = re.compile(r"^(?:antnode|ant-node)?0*(\d+)(?:\.service)?$")


def resolve_names(names: str, nodes: Sequence[Node]) -> set[int]:
    """Ids named by a comma list; each item may be ``antnode0001``, ``antnode0001.service``,
    an antctl service name (``antnode1``) or a bare number. Unknown names are a UsageError."""
    by_service = {n.service_name: n.id for n in nodes}
    known = {n.id for n in nodes}
    ids: set[int] = set()
    unknown: list[str] = []
    for raw in names.split(","):
        item = raw.strip()
        if not item:
            continue
        if item in by_service:
            ids.add(by_service[item])
            continue
        match = _ID.match(item)
        if match and int(match.group(1)) in known:
            ids.add(int(match.group(1)))
        else:
            unknown.append(item)
    if unknown:
        raise UsageError(f"--service_name: no such node: {', '.join(unknown)}")
    return ids

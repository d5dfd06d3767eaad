"""Rendering a plan for people (an aligned text block) and for programs (JSON)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from typing import Any

from wnm.domain.actions import Action, Plan
from wnm.domain.enums import ActionType
from wnm.domain.snapshot import Snapshot


def _action_dict(action: Action) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": action.type.value,
        "node_id": action.spec.id if action.spec else action.node_id,
        "priority": action.priority,
        "reason": action.reason,
    }
    if action.spec is not None:
        spec = asdict(action.spec)
        spec["generation"] = action.spec.generation.value
        out["spec"] = spec
    if action.target_version:
        out["target_version"] = action.target_version
        out["binary_source"] = action.binary_source
    if action.pressure:
        out["pressure"] = True
    return out


def _host_line(snapshot: Snapshot) -> str:
    h = snapshot.host
    disks = ", ".join(f"{s.path} {s.percent:.1f}%" for s in h.storage) or "-"
    return (
        f"host: cpu {h.cpu_percent:.1f}%  mem {h.mem_percent:.1f}%  "
        f"load {h.load[0]:.2f}/{h.load[1]:.2f}/{h.load[2]:.2f}  disk {disks}  "
        f"io r/w {h.disk_read_bps / 1e6:.1f}/{h.disk_write_bps / 1e6:.1f} MB/s  "
        f"net rx/tx {h.net_rx_bps / 1e6:.1f}/{h.net_tx_bps / 1e6:.1f} MB/s"
    )


def _counts(snapshot: Snapshot) -> dict[str, int]:
    return dict(sorted(Counter(n.status.value for n in snapshot.nodes).items()))


def plan_text(plan: Plan, snapshot: Snapshot) -> str:
    counts = _counts(snapshot)
    lines = [
        _host_line(snapshot),
        f"nodes: {len(snapshot.nodes)} ("
        + (", ".join(f"{k.lower()} {v}" for k, v in counts.items()) or "none")
        + ")",
    ]
    real = [a for a in plan.actions if a.type not in (ActionType.SURVEY, ActionType.RESURVEY)]
    if real:
        lines.append(f"plan: {len(real)} action{'s' if len(real) != 1 else ''}")
        for i, action in enumerate(sorted(real, key=lambda a: -a.priority), 1):
            lines.append(f"  {i}. {action.describe()}")
    else:
        reason = plan.idle_reason or "idle: nothing to do"
        if plan.blockers or plan.notes:  # listed below: keep the headline short
            reason = reason.split(" -- ", 1)[0]
        lines.append("plan: " + reason)
    if plan.blockers:
        lines.append("next add blocked by:")
        lines.extend(f"  - {b}" for b in plan.blockers)
    lines.extend(f"note: {n}" for n in plan.notes)
    return "\n".join(lines)


def plan_json(plan: Plan, snapshot: Snapshot) -> str:
    h = snapshot.host
    doc = {
        "actions": [_action_dict(a) for a in sorted(plan.actions, key=lambda a: -a.priority)],
        "idle": plan.is_idle,
        "idle_reason": plan.idle_reason,
        "blockers": list(plan.blockers),
        "notes": list(plan.notes),
        "host": {
            "cpu_percent": round(h.cpu_percent, 2),
            "mem_percent": round(h.mem_percent, 2),
            "load": list(h.load),
            "disk_read_bps": round(h.disk_read_bps),
            "disk_write_bps": round(h.disk_write_bps),
            "net_rx_bps": round(h.net_rx_bps),
            "net_tx_bps": round(h.net_tx_bps),
            "storage": [
                {"path": s.path, "percent": round(s.percent, 2), "free": s.free, "total": s.total}
                for s in h.storage
            ],
        },
        "nodes": _counts(snapshot),
    }
    return json.dumps(doc, indent=2)

"""The rule ladder: one run's decision, from the snapshot to the Plan."""

from __future__ import annotations

from wnm.domain.actions import Plan
from wnm.domain.enums import ActionType, NodeStatus
from wnm.domain.settings import Settings
from wnm.domain.snapshot import Snapshot
from wnm.engine.budgets import Budgets, delay_for, is_in_flight, is_self_upgraded
from wnm.engine.context import Draft, Facts, build_facts
from wnm.engine.growth import grow
from wnm.engine.recovery import reboot_reason, recover
from wnm.engine.relief import assess, relieve
from wnm.engine.repair import repair
from wnm.engine.rollout import restart_self_upgraded, roll_back
from wnm.engine.upgrades import plan_upgrades


def decide(snapshot: Snapshot, settings: Settings, now: int) -> Plan:
    """Decide what this run should do. Pure: reads only its arguments — no database, psutil,
    HTTP, subprocess, filesystem or clock — and returns the same Plan for the same input.

    Rules, highest first (a later rule sees the budgets the earlier ones used):

    1. Reboot / first run: RESURVEY, restart the nodes the reboot took down, restart
       self-upgraded nodes; nothing else.
    2. Rollback: a wnm-started upgrade still unsettled after ``delay_upgrade``.
    3. Self-upgraded nodes waiting for a restart: START them, within the upgrade budget.
    4. Repair: remove BROKEN nodes, finish removals past ``delay_remove``, restart DEAD nodes
       after ``delay_restart`` (or quarantine a crash loop).
    5. Pressure: remove for disk pressure or cap excess (identities older than ``protect_age``
       are stopped instead unless the disk is critical), else stop one node for
       CPU/memory/load/I/O pressure. Any pressure skips rules 6 and 7.
    6. Upgrades to a strictly newer binary, oldest node first.
    7. Start STOPPED nodes, then ADD new ones, when every add condition holds.
    8. Otherwise idle, with ``idle_reason``; ``blockers`` always lists what stops the next add.

    See the module docstrings of ``recovery``, ``rollout``, ``repair``, ``relief``,
    ``protection``, ``upgrades``, ``growth``, ``allocation`` and ``budgets`` for each rule.
    """
    draft = Draft()
    facts = build_facts(snapshot, settings, now, draft.notes)
    budgets = Budgets(facts.in_flight, settings, now)
    view = assess(facts)
    reboot = reboot_reason(facts, draft)
    if reboot is not None:
        recover(facts, budgets, draft, reboot)
        restart_self_upgraded(facts, budgets, draft)
        grow(facts, budgets, draft, view, may_act=False)
    else:
        roll_back(facts, budgets, draft)
        restart_self_upgraded(facts, budgets, draft)
        repair(facts, budgets, draft, under_pressure=view.active)
        relieve(facts, budgets, draft, view)
        if view.active:
            if settings.enable_upgrade:
                draft.notes.append("upgrades wait: host under pressure")
        else:
            plan_upgrades(facts, budgets, draft)
        grow(facts, budgets, draft, view, may_act=True)
    _note_stale_transitions(facts, draft)
    actions = tuple(sorted(draft.actions, key=lambda a: -a.priority))
    busy = any(a.type is not ActionType.SURVEY for a in actions)
    return Plan(
        actions=actions,
        idle_reason="" if busy else _idle_reason(facts, draft),
        blockers=tuple(draft.blockers),
        notes=tuple(draft.notes),
    )


def _note_stale_transitions(facts: Facts, draft: Draft) -> None:
    """RESTARTING/UPGRADING past their delay should have been resolved by the survey; say so."""
    boot = facts.snapshot.host.boot_time
    touched = draft.touched()
    for node in facts.with_status(NodeStatus.RESTARTING, NodeStatus.UPGRADING):
        if is_in_flight(node, facts.settings, facts.now, boot) or node.id in touched:
            continue
        if is_self_upgraded(node):
            continue  # waiting for a restart: rollout notes it
        delay = delay_for(node.status, facts.settings)
        draft.notes.append(
            f"node {node.name} still {node.status.value} {facts.now - node.status_changed_at}s after "
            f"the change (delay {delay}s): no longer counted as in flight"
        )
    quarantined = facts.with_status(NodeStatus.QUARANTINED)
    if quarantined:
        names = ", ".join(n.name for n in quarantined)
        draft.notes.append(f"quarantined, needs the operator: {names}")


def _idle_reason(facts: Facts, draft: Draft) -> str:
    counted = len(facts.counted)
    running = len(facts.with_status(NodeStatus.RUNNING))
    head = f"idle: {counted} of node_cap {facts.settings.node_cap} nodes, {running} running"
    parts = [head]
    if draft.blockers:
        parts.append("blocked by " + "; ".join(draft.blockers))
    if draft.notes:
        parts.append(" | ".join(draft.notes))
    return " -- ".join(parts)

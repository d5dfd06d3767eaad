"""``--force_action``: act now on named (``--service_name``) or counted (``--count``) nodes.

Forced actions take the same run lock and go through the same executor and action log as a
cron run; they only choose their targets differently.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence

from wnm.app.backends import build_manager
from wnm.app.context import Loaded, db_path_of, load, run_lock, store_changes
from wnm.app.cycle import build_executor
from wnm.app.observe import observe, record
from wnm.app.reports import render
from wnm.app.targets import resolve_names
from wnm.config.parser import Parsed
from wnm.domain.actions import PRIORITY_FORCED, Action
from wnm.domain.enums import ActionType, NodeStatus, Outcome, RemovalStrategy
from wnm.domain.node import Node
from wnm.domain.snapshot import Snapshot
from wnm.errors import UsageError, WnmError
from wnm.execute.executor import ActionResult
from wnm.store import repository as repo

log = logging.getLogger(__name__)

NEEDS_NAMES = ("disable", "enable")
ACTION_OF = {
    "add": ActionType.ADD,
    "remove": ActionType.REMOVE,
    "teardown": ActionType.REMOVE,
    "start": ActionType.START,
    "stop": ActionType.STOP,
    "restart": ActionType.RESTART,
    "upgrade": ActionType.UPGRADE,
    "disable": ActionType.DISABLE,
    "enable": ActionType.ENABLE,
}


def run_forced(parsed: Parsed) -> int:
    verb = str(parsed.get("force_action"))
    if verb == "teardown" and not parsed.flag("confirm"):
        raise UsageError("--force_action teardown removes every node with its data; add --confirm")
    if verb in NEEDS_NAMES and not parsed.get("service_name"):
        raise UsageError(f"--force_action {verb} needs --service_name")
    with run_lock(db_path_of(parsed)):
        loaded = load(parsed, read_only=False)
        store_changes(loaded)
        if verb in ("nullop", "update_config"):
            return 0
        if verb == "backup":
            from wnm.app.identities import run_backup

            return run_backup(loaded, parsed)
        if verb == "resume_upgrades":
            return _resume_upgrades(loaded)
        manager = build_manager(loaded.settings)
        now = int(time.time())
        observation = observe(
            loaded.settings,
            loaded.state,
            loaded.nodes,
            loaded.counters,
            manager,
            now,
            binary_cache=loaded.binary_cache,
        )
        record(loaded.store, observation, loaded.state)
        if verb == "survey":
            loaded.nodes = list(observation.nodes)
            report = str(parsed.get("report") or "node-status")
            fmt = "json" if parsed.flag("json") else str(parsed.get("report_format") or "text")
            print(render(report, fmt, loaded, parsed))
            return 0
        actions = choose(verb, parsed, loaded, observation.snapshot, now)
        executor = build_executor(loaded, parsed, manager, source="forced")
        results = executor.execute(actions, {n.id: n for n in observation.nodes})
    print(_result_text(verb, results) if not parsed.flag("json") else _result_json(verb, results))
    return 1 if any(r.outcome is Outcome.FAILED for r in results) else 0


def _resume_upgrades(loaded: Loaded) -> int:
    """Clear the pause a failed upgrade left, so the rollout continues on the next run."""
    if not loaded.state.upgrade_paused:
        print("upgrades are not paused")
        return 0
    with loaded.store.transaction() as conn:
        repo.update_machine(conn, {"upgrade_paused": ""})
    print(f"upgrades resumed (were paused: {loaded.state.upgrade_paused})")
    return 0


def choose(verb: str, parsed: Parsed, loaded: Loaded, snapshot: Snapshot, now: int) -> list[Action]:
    """The actions for ``verb``; raises UsageError/WnmError when nothing sensible can be done."""
    nodes = list(snapshot.nodes)
    reason = f"forced {verb} by operator"
    kind = ACTION_OF.get(verb)
    if kind is None:
        raise UsageError(f"--force_action {verb} is not supported")
    count = int(parsed.get("count") or 1)
    if count < 1:
        raise UsageError("--count must be 1 or more")
    if verb == "add":
        return _adds(parsed, loaded, snapshot, now, count, reason)
    if verb == "teardown":
        targets = sorted(nodes, key=lambda n: -n.id)
    elif parsed.get("service_name"):
        wanted = resolve_names(str(parsed.get("service_name")), nodes)
        targets = [n for n in nodes if n.id in wanted]
    else:
        targets = _counted(verb, nodes, count)
        if not targets:
            raise WnmError(f"--force_action {verb}: no node is in a state to {verb}")
    if verb == "upgrade":
        return _upgrades(parsed, snapshot, targets, reason)
    return [Action(kind, reason, PRIORITY_FORCED, node_id=n.id) for n in targets]


def _counted(verb: str, nodes: Sequence[Node], count: int) -> list[Node]:
    from wnm.engine.selection import oldest_first, removal_order

    youngest = removal_order(nodes, RemovalStrategy.YOUNGEST)
    oldest = oldest_first(nodes)
    running = (NodeStatus.RUNNING, NodeStatus.RESTARTING)
    if verb == "remove":
        return youngest[:count]
    if verb == "stop":
        return [n for n in youngest if n.status in running][:count]
    if verb == "start":
        return [n for n in oldest if n.status in (NodeStatus.STOPPED, NodeStatus.DEAD)][:count]
    if verb in ("restart", "upgrade"):
        return [n for n in oldest if n.status in running][:count]
    return []


def _adds(
    parsed: Parsed, loaded: Loaded, snapshot: Snapshot, now: int, count: int, reason: str
) -> list[Action]:
    from wnm.config.validate import validate
    from wnm.domain.wallets import WalletError, parse_wallets
    from wnm.engine.allocation import AllocationBlocked, Allocator, choose_binary
    from wnm.engine.budgets import counts_toward_cap
    from wnm.engine.context import build_facts

    settings = loaded.settings
    counted = sum(1 for n in snapshot.nodes if counts_toward_cap(n))
    room = settings.node_cap - counted
    if count > room and not parsed.flag("force"):
        if room <= 0:
            raise WnmError(
                f"node_cap {settings.node_cap} reached ({counted} nodes); raise --node_cap or add --force"
            )
        log.warning(
            "adding %d of %d nodes: node_cap %d allows no more (use --force)", room, count, settings.node_cap
        )
        count = room
    if counted + count > settings.node_cap:
        # --force beyond the cap: raise the cap so the next run does not undo the add
        new_cap = counted + count
        loaded.changed = {"node_cap": new_cap}
        from dataclasses import replace

        loaded.settings = replace(settings, node_cap=new_cap)
        validate(loaded.settings, ("node_cap",))
        store_changes(loaded)
        settings = loaded.settings
    facts = build_facts(snapshot, settings, now, [])
    try:
        allocator = Allocator(
            facts, choose_binary(facts), parse_wallets(settings.rewards_address, settings.donate_address)
        )
        specs = [allocator.next_spec() for _ in range(count)]
    except (AllocationBlocked, WalletError) as exc:
        raise WnmError(f"cannot add a node: {exc}") from None
    return [Action(ActionType.ADD, reason, PRIORITY_FORCED, spec=s) for s in specs]


def _upgrades(parsed: Parsed, snapshot: Snapshot, targets: Sequence[Node], reason: str) -> list[Action]:
    from wnm.engine.versions import is_newer

    wanted = parsed.version
    actions = []
    for node in targets:
        binary = snapshot.binary_for(node.generation)
        if binary is None:
            raise WnmError(f"no {node.generation.value} source binary to upgrade node {node.id:04d} from")
        if wanted and binary.version != wanted:
            raise WnmError(f"--version {wanted}: the source binary {binary.path} is version {binary.version}")
        if not wanted and node.version and not is_newer(binary.version, node.version):
            log.warning(
                "node %04d runs %s; %s is not newer (give --version %s to force it)",
                node.id,
                node.version,
                binary.version,
                binary.version,
            )
            continue
        actions.append(
            Action(
                ActionType.UPGRADE,
                reason,
                PRIORITY_FORCED,
                node_id=node.id,
                target_version=binary.version,
                binary_source=binary.path,
            )
        )
    return actions


def _result_text(verb: str, results: Sequence[ActionResult]) -> str:
    if not results:
        return f"{verb}: nothing to do"
    lines = []
    for r in results:
        target = f"node {r.node_id:04d}" if r.node_id is not None else "machine"
        state = "ok" if r.outcome is Outcome.OK else "FAILED"
        lines.append(f"{target}: {verb} {state}: {r.message}")
    return "\n".join(lines)


def _result_json(verb: str, results: Sequence[ActionResult]) -> str:
    done = [f"{r.node_id:04d}" for r in results if r.outcome is Outcome.OK and r.node_id is not None]
    failed = [
        {"node": f"{r.node_id:04d}" if r.node_id is not None else None, "error": r.message}
        for r in results
        if r.outcome is Outcome.FAILED
    ]
    status = "ok" if not failed else ("error" if not done else "partial")
    return json.dumps(
        {
            "status": status,
            f"{verb}_count": len(done),
            f"{verb}_nodes": done,
            "failed_count": len(failed),
            "failed_nodes": failed,
        },
        indent=2,
    )

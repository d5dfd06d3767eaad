"""One run: lock -> load -> observe -> decide -> (print plan | act) -> record.

A dry run takes no lock, opens the database read-only, prints the plan and stops: it never
reaches the executor, so nothing on the host or in the database changes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from wnm.app.backends import build_firewall, build_manager
from wnm.app.context import Loaded, db_path_of, load, run_lock, store_changes
from wnm.app.observe import Observation, discard_stale_backups, observe, record
from wnm.app.plan_view import plan_json, plan_text
from wnm.backends.process.base import ProcessManager
from wnm.config.parser import Parsed
from wnm.domain.actions import Plan
from wnm.engine import decide
from wnm.execute.executor import ActionExecutor, summarize
from wnm.execute.health import make_upgrade_check
from wnm.execute.journal import Journal
from wnm.execute.lifecycle import Lifecycle

log = logging.getLogger(__name__)


def run_cycle(parsed: Parsed, *, dry: bool) -> int:
    if dry:
        loaded = load(parsed, read_only=True)
        observation, plan = observe_and_decide(loaded, build_manager(loaded.settings), parsed)
        print(
            plan_json(plan, observation.snapshot)
            if parsed.flag("json")
            else plan_text(plan, observation.snapshot)
        )
        return 0
    loaded_path = None
    with run_lock(db_path_of(parsed)):
        loaded = load(parsed, read_only=False)
        loaded_path = loaded.db_path
        store_changes(loaded)
        manager = build_manager(loaded.settings)
        observation, plan = observe_and_decide(loaded, manager, parsed)
        record(loaded.store, observation, loaded.state)
        discard_stale_backups(observation.nodes)
        for line in plan_text(plan, observation.snapshot).splitlines():
            log.info("%s", line)
        real = [a for a in plan.actions if a.type.value not in ("survey", "resurvey")]
        if not real:
            return 0
        executor = build_executor(loaded, parsed, manager)
        results = executor.execute(plan.actions, {n.id: n for n in observation.nodes})
    attempted, failed = summarize(results)
    log.info("run done: %d action(s), %d failed (%s)", attempted, failed, loaded_path)
    return 1 if attempted and failed == attempted else 0


def observe_and_decide(loaded: Loaded, manager: ProcessManager, parsed: Parsed) -> tuple[Observation, Plan]:
    """Observe the host and nodes through ``manager`` and let the engine decide."""
    settings = loaded.settings
    this_delay = parsed.get("this_survey_delay")
    now = int(time.time())
    observation = observe(
        settings if this_delay is None else replace(settings, survey_delay=int(this_delay)),
        loaded.state,
        loaded.nodes,
        loaded.counters,
        manager,
        now,
        binary_cache=loaded.binary_cache,
    )
    if parsed.flag("show_machine_config"):
        log.info("settings: %s", settings)
    if parsed.flag("show_machine_metrics"):
        log.info("host: %s", observation.snapshot.host)
    plan = decide(observation.snapshot, settings, now)
    if parsed.flag("show_decisions"):
        log.info("plan: %s", plan)
    return observation, plan


def build_executor(
    loaded: Loaded, parsed: Parsed, manager: ProcessManager, source: str = "run"
) -> ActionExecutor:
    """The one executor every entry point uses (cron run, forced action)."""
    settings = loaded.settings
    firewall = build_firewall(settings)
    journal = Journal(loaded.store, source)
    lifecycle = Lifecycle(
        manager=manager,
        firewall=firewall,
        journal=journal,
        settings=settings,
        confirm_upgrade=make_upgrade_check(manager, settings),
    )
    delay = parsed.get("interval")
    if delay is None:
        delay = parsed.get("this_action_delay")
    if delay is None:
        delay = settings.action_delay
    return ActionExecutor(lifecycle, journal, action_delay_ms=int(delay), forced=source == "forced")

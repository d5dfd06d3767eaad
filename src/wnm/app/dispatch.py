"""Choosing the flow for a parsed command line: init, report, forced action, dry run or run."""

from __future__ import annotations

import logging

from wnm.config.parser import Parsed
from wnm.errors import UsageError

log = logging.getLogger(__name__)


def dispatch(parsed: Parsed) -> int:
    if parsed.flag("remove_lockfile"):
        print("wnm uses a kernel lock (fcntl) that is released when a run ends or dies: nothing to remove")
        return 0
    if parsed.get("restore") and not parsed.flag("init"):
        raise UsageError("--restore works only with --init (it creates a new machine from a backup)")
    if parsed.get("backup_file") and parsed.get("force_action") != "backup":
        raise UsageError("--backup_file works only with --force_action backup")
    if parsed.flag("init"):
        for conflicting in ("report", "force_action"):
            if parsed.get(conflicting):
                raise UsageError(f"--{conflicting} cannot be combined with --init")
        from wnm.app.init import run_init

        return run_init(parsed)
    if parsed.get("force_action"):
        if parsed.flag("dry_run"):
            raise UsageError("--dry_run cannot be combined with --force_action")
        from wnm.app.forced import run_forced

        return run_forced(parsed)
    if parsed.get("report"):
        from wnm.app.reports import run_report

        return run_report(parsed)
    from wnm.app.cycle import run_cycle

    return run_cycle(parsed, dry=parsed.flag("dry_run"))

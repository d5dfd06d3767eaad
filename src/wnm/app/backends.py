"""Building this run's process manager and firewall from the settings."""

from __future__ import annotations

import logging

from wnm.backends.firewall.base import FirewallManager
from wnm.backends.process.base import ManagerContext, ProcessManager
from wnm.backends.process.registry import availability, create_manager, family
from wnm.domain.node import Node
from wnm.domain.settings import Settings
from wnm.errors import BackendUnavailable
from wnm.nodes.command import NodeCommand
from wnm.system.commands import CommandRunner, Privilege, run

log = logging.getLogger(__name__)


def privilege_for(settings: Settings) -> Privilege:
    """``sudo -n`` only in the ``+sudo`` modes, and only where a command needs it."""
    return Privilege(sudo=settings.process_manager.endswith("+sudo"))


def manager_context(settings: Settings, runner: CommandRunner = run) -> ManagerContext:
    flavor = family(settings.process_manager)

    def command_for(node: Node) -> NodeCommand:
        from wnm.nodes.arguments import build_command

        return build_command(node, settings, flavor)

    return ManagerContext(
        settings=settings,
        mode=settings.process_manager,
        command_for=command_for,
        runner=runner,
        privilege=privilege_for(settings),
    )


def check_manager_available(settings: Settings) -> None:
    """Raise BackendUnavailable, with the reason, when the chosen mode cannot run here."""
    usable = availability(manager_context(settings))
    if not usable.ok:
        raise BackendUnavailable(settings.process_manager, usable.reason)


def build_manager(settings: Settings, runner: CommandRunner = run) -> ProcessManager:
    return create_manager(manager_context(settings, runner))


def build_firewall(settings: Settings, runner: CommandRunner = run) -> FirewallManager:
    """The firewall named by ``--firewall`` (``auto`` detects); a named one that is unusable is an error."""
    from wnm.backends.firewall.detect import choose_firewall

    firewall, why = choose_firewall(settings.firewall, runner, privilege_for(settings))
    log.debug("firewall: %s (%s)", firewall.name, why)
    return firewall

"""FirewalldFirewall: node ports in firewalld's default zone, at runtime and permanently.

Each change is made twice: ``--add-port`` takes effect now, ``--permanent --add-port`` survives a
reload or reboot (firewalld keeps the two configurations apart). firewall-cmd talks to firewalld
over the D-Bus system bus; it honours ``DBUS_SYSTEM_BUS_ADDRESS``, which ``sudo`` would strip, so
in ``+sudo`` modes the variable is passed on explicitly through ``env``. firewall-cmd is
idempotent: adding an added port or removing a missing one prints a warning
(``ALREADY_ENABLED`` / ``NOT_ENABLED``) and exits 0.
"""

from __future__ import annotations

import os

from wnm.backends.firewall.base import FirewallManager
from wnm.backends.firewall.port_spec import port_spec
from wnm.backends.process.base import Availability
from wnm.errors import ActionFailure, CommandError
from wnm.system.commands import CommandResult, CommandRunner, Privilege, run

BUS_VARIABLE = "DBUS_SYSTEM_BUS_ADDRESS"
NOT_RUNNING = 252  # firewall-cmd's exit code when firewalld does not answer


def firewall_cmd(privilege: Privilege, *args: str) -> list[str]:
    """The argv of one firewall-cmd call, keeping a custom system bus across ``sudo``."""
    argv = ["firewall-cmd", *args]
    bus = os.environ.get(BUS_VARIABLE)
    wrapped = privilege.wrap(argv)
    if bus and wrapped[0] == "sudo":
        wrapped = privilege.wrap(["env", f"{BUS_VARIABLE}={bus}", *argv])
    return wrapped


class FirewalldFirewall(FirewallManager):
    name = "firewalld"

    @classmethod
    def availability(
        cls, runner: CommandRunner = run, privilege: Privilege = Privilege(), timeout: float = 20.0
    ) -> Availability:
        """Usable when ``firewall-cmd --state`` says running."""
        try:
            result = runner(firewall_cmd(privilege, "--state"), timeout=timeout, check=False)
        except ActionFailure as exc:  # not installed, timed out
            return Availability(False, str(exc))
        if result.returncode == 0 and result.stdout.strip() == "running":
            return Availability(True)
        if result.returncode == NOT_RUNNING:
            return Availability(False, "firewalld is installed but not running")
        return Availability(False, f"`firewall-cmd --state` failed: {result.output}")

    def _cmd(self, *args: str, check: bool = True) -> CommandResult:
        return self.runner(firewall_cmd(self.privilege, *args), timeout=self.timeout, check=check)

    def open_port(self, port: int, protocol: str = "udp", comment: str = "") -> None:
        """Open now and permanently; firewalld ports carry no comment, so ``comment`` is unused."""
        spec = port_spec(port, protocol)
        self._cmd(f"--add-port={spec}")
        self._cmd("--permanent", f"--add-port={spec}")

    def close_port(self, port: int, protocol: str = "udp") -> None:
        spec = port_spec(port, protocol)
        self._cmd(f"--remove-port={spec}")
        self._cmd("--permanent", f"--remove-port={spec}")

    def is_open(self, port: int, protocol: str = "udp") -> bool:
        """Whether the runtime configuration lists the port (``--query-port``: yes 0 / no 1)."""
        spec = port_spec(port, protocol)
        result = self._cmd(f"--query-port={spec}", check=False)
        answer = result.stdout.strip()
        if result.returncode == 0 and answer == "yes":
            return True
        if result.returncode == 1 and answer == "no":
            return False
        raise CommandError(result.argv, result.returncode, result.output)

"""UfwFirewall: node ports through ``ufw allow`` / ``ufw delete allow``.

``ufw status`` is parsed (``parse_status``, a pure function tested on recorded output) to tell
whether ufw is active and whether a port is allowed. Commands run with ``LC_ALL=C`` because ufw
translates its output. ufw itself is idempotent: allowing an allowed port prints "Skipping adding
existing rule", deleting a missing rule prints "Could not delete non-existent rule", both exit 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from wnm.backends.firewall.base import FirewallManager
from wnm.backends.firewall.port_spec import port_spec
from wnm.backends.process.base import Availability
from wnm.errors import ActionFailure
from wnm.system.commands import CommandRunner, Privilege, run

C_LOCALE = {"LC_ALL": "C"}

_RULE = re.compile(
    r"^(?P<to>\S.*?)\s+(?P<action>ALLOW|DENY|REJECT|LIMIT)(?:\s(?P<direction>IN|OUT|FWD))?"
    r"\s+(?P<source>\S.*?)(?:\s+#\s(?P<comment>.*?))?\s*$"
)


@dataclass(frozen=True)
class UfwRule:
    """One line of ``ufw status``: ``to`` is e.g. ``12001/udp``, ``12002:12010/udp``, ``22``."""

    to: str
    action: str
    direction: str
    source: str
    comment: str = ""

    @property
    def v6(self) -> bool:
        return "(v6)" in self.to

    def allows(self, port: int, protocol: str) -> bool:
        """True when this rule lets anyone reach ``port``/``protocol`` on any interface."""
        if self.action not in ("ALLOW", "LIMIT") or self.direction not in ("", "IN"):
            return False
        if not self.source.startswith("Anywhere") or " on " in self.source:
            return False
        spec, *rest = self.to.replace(" (v6)", "").split()
        if rest:  # "12001/udp on eth0": limited to one interface
            return False
        ports, _, proto = spec.partition("/")
        if proto and proto != protocol:
            return False
        return any(_covers(part, port) for part in ports.split(","))


@dataclass(frozen=True)
class UfwStatus:
    active: bool
    rules: tuple[UfwRule, ...] = ()


def _covers(part: str, port: int) -> bool:
    low, _, high = part.partition(":")
    if not low.isdigit() or (high and not high.isdigit()):
        return False  # an application profile such as "OpenSSH"
    return int(low) <= port <= int(high or low)


def parse_status(text: str) -> UfwStatus:
    """Parse ``ufw status`` (plain or ``verbose``/``numbered``) output in the C locale."""
    active = False
    rules: list[UfwRule] = []
    in_table = False
    for line in text.splitlines():
        if line.startswith("Status:"):
            active = line.split(":", 1)[1].strip() == "active"
            continue
        stripped = re.sub(r"^\[\s*\d+\]\s*", "", line.strip())
        if stripped.startswith("--"):
            in_table = True
            continue
        if not in_table or not stripped:
            continue
        match = _RULE.match(stripped)
        if match:
            rules.append(
                UfwRule(
                    to=match["to"],
                    action=match["action"],
                    direction=match["direction"] or "",
                    source=match["source"],
                    comment=match["comment"] or "",
                )
            )
    return UfwStatus(active, tuple(rules))


class UfwFirewall(FirewallManager):
    name = "ufw"

    @classmethod
    def availability(
        cls, runner: CommandRunner = run, privilege: Privilege = Privilege(), timeout: float = 20.0
    ) -> Availability:
        """Usable when ``ufw status`` runs and says active."""
        try:
            result = runner(privilege.wrap(["ufw", "status"]), timeout=timeout, check=False, env=C_LOCALE)
        except ActionFailure as exc:  # not installed, timed out
            return Availability(False, str(exc))
        if result.returncode != 0:
            return Availability(False, f"`ufw status` failed: {result.output}")
        if not parse_status(result.stdout).active:
            return Availability(False, "ufw is installed but inactive")
        return Availability(True)

    def _ufw(self, *args: str) -> str:
        argv = self.privilege.wrap(["ufw", *args])
        return self.runner(argv, timeout=self.timeout, env=C_LOCALE).stdout

    def open_port(self, port: int, protocol: str = "udp", comment: str = "") -> None:
        spec = port_spec(port, protocol)
        self._ufw("allow", spec, *(("comment", comment) if comment else ()))

    def close_port(self, port: int, protocol: str = "udp") -> None:
        self._ufw("--force", "delete", "allow", port_spec(port, protocol))

    def is_open(self, port: int, protocol: str = "udp") -> bool:
        port_spec(port, protocol)
        status = parse_status(self._ufw("status"))
        return any(rule.allows(port, protocol) for rule in status.rules if not rule.v6)

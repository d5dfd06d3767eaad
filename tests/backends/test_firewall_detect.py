"""Firewall choice without any firewall installed, and the null and firewalld argv rules.

"Not installed" is real here: the runner below is the real command runner with a PATH that holds
no programs, so ufw and firewall-cmd are genuinely not found. The backends against the real
tools are tested in tests/integration/test_firewalls.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from wnm.backends.firewall.detect import FIREWALLS, choose_firewall, firewall_disabled
from wnm.backends.firewall.firewalld import FirewalldFirewall, firewall_cmd
from wnm.backends.firewall.null import NullFirewall
from wnm.backends.firewall.ufw import UfwFirewall
from wnm.errors import BackendUnavailable, ConfigError
from wnm.system.commands import DEFAULT_TIMEOUT, CommandResult, CommandRunner, Privilege, run


@pytest.fixture
def bare_path(tmp_path: Path) -> CommandRunner:
    """The real runner, looking programs up in an empty directory."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()

    def runner(
        argv: Sequence[str],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        check: bool = True,
        env: Mapping[str, str] | None = None,
        input: str | None = None,
    ) -> CommandResult:
        return run(argv, timeout=timeout, check=check, env={**(env or {}), "PATH": str(empty)}, input=input)

    return runner


def test_table_names_every_backend() -> None:
    assert {"ufw": UfwFirewall, "firewalld": FirewalldFirewall, "null": NullFirewall} == FIREWALLS
    assert {cls.name for cls in FIREWALLS.values()} == set(FIREWALLS)


@pytest.mark.parametrize("name", ["null", "none", "NULL"])
def test_null_is_always_available(name: str, bare_path: CommandRunner) -> None:
    choice = choose_firewall(name, bare_path, Privilege(), environ={})
    assert isinstance(choice.manager, NullFirewall)
    assert choice.reason == "firewall null as configured"


def test_unknown_name_is_a_config_error(bare_path: CommandRunner) -> None:
    with pytest.raises(ConfigError, match="iptables"):
        choose_firewall("iptables", bare_path, Privilege(), environ={})


@pytest.mark.parametrize("name", ["ufw", "firewalld"])
def test_explicit_missing_tool_is_unavailable_with_reason(name: str, bare_path: CommandRunner) -> None:
    with pytest.raises(BackendUnavailable) as raised:
        choose_firewall(name, bare_path, Privilege(), environ={})
    assert raised.value.backend == f"firewall {name}"
    assert "command not found" in raised.value.reason


def test_auto_without_tools_is_null_with_both_reasons(bare_path: CommandRunner) -> None:
    choice = choose_firewall("auto", bare_path, Privilege(), environ={})
    assert isinstance(choice.manager, NullFirewall)
    assert "ufw: ufw: command not found" in choice.reason
    assert "firewalld: firewall-cmd: command not found" in choice.reason


@pytest.mark.parametrize(
    ("value", "disabled"), [("1", True), ("true", True), ("YES", True), ("0", False), ("", False)]
)
def test_disabled_variable(value: str, disabled: bool, bare_path: CommandRunner) -> None:
    env = {"WNM_FIREWALL_DISABLED": value}
    assert firewall_disabled(env) is disabled
    if disabled:
        choice = choose_firewall("ufw", bare_path, Privilege(), environ=env)
        assert isinstance(choice.manager, NullFirewall)
        assert "WNM_FIREWALL_DISABLED" in choice.reason


def test_null_does_nothing_and_answers_open(bare_path: CommandRunner) -> None:
    fw = NullFirewall(bare_path)
    fw.open_port(55001, "udp", "antnode0001")
    fw.close_port(55001)
    assert fw.is_open(55001)


def test_firewall_cmd_argv_without_sudo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/tmp/bus")
    assert firewall_cmd(Privilege(sudo=False), "--add-port=1/udp") == ["firewall-cmd", "--add-port=1/udp"]

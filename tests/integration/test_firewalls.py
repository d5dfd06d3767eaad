"""ufw, firewalld and auto-detection against the real tools, each in its own network namespace.

Rules are checked where the kernel keeps them (``iptables -S ufw-user-input`` for ufw, the nft
ruleset and the permanent zone file for firewalld), not only through the backend's own view.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from netns_env import FirewallNetns, bare_ns, firewalld_ns, ufw_ns  # noqa: F401

from wnm.backends.firewall.detect import choose_firewall
from wnm.backends.firewall.firewalld import FirewalldFirewall
from wnm.backends.firewall.null import NullFirewall
from wnm.backends.firewall.ufw import UfwFirewall
from wnm.errors import BackendUnavailable
from wnm.system.commands import Privilege

pytestmark = pytest.mark.integration


def ufw_rules(ns: FirewallNetns) -> list[str]:
    return [
        line for line in ns.output("iptables", "-S", "ufw-user-input").splitlines() if line.startswith("-A")
    ]


def host_rules() -> str:
    return subprocess.run(["iptables", "-S"], capture_output=True, text=True, timeout=10).stdout


def test_ufw_opens_and_closes_real_rules(ufw_ns: FirewallNetns) -> None:  # noqa: F811
    assert UfwFirewall.availability(ufw_ns.runner).ok
    fw = UfwFirewall(ufw_ns.runner, Privilege(), timeout=20)
    assert not fw.is_open(55001)

    fw.open_port(55001, "udp", comment="antnode0001")
    assert fw.is_open(55001)
    assert not fw.is_open(55001, "tcp")
    assert ufw_rules(ufw_ns) == ["-A ufw-user-input -p udp -m udp --dport 55001 -j ACCEPT"]
    assert "# antnode0001" in ufw_ns.output("ufw", "status")
    assert "55001" not in host_rules()

    fw.open_port(55001, "udp", comment="antnode0001")  # idempotent: still one rule
    assert len(ufw_rules(ufw_ns)) == 1

    fw.close_port(55001)
    assert not fw.is_open(55001)
    assert ufw_rules(ufw_ns) == []
    fw.close_port(55001)  # closing a closed port is fine


def test_ufw_tcp_port(ufw_ns: FirewallNetns) -> None:  # noqa: F811
    fw = UfwFirewall(ufw_ns.runner)
    fw.open_port(13001, "tcp")
    assert fw.is_open(13001, "tcp") and not fw.is_open(13001, "udp")
    assert "-A ufw-user-input -p tcp -m tcp --dport 13001 -j ACCEPT" in ufw_rules(ufw_ns)
    fw.close_port(13001, "tcp")
    assert ufw_rules(ufw_ns) == []


def firewalld_has(ns: FirewallNetns, port: int) -> tuple[bool, bool]:
    """(in the live nft ruleset, in the permanent public zone file)."""
    live = f"udp dport {port} accept" in ns.output("nft", "list", "ruleset")
    zone = Path("/etc/netns") / ns.name / "firewalld" / "zones" / "public.xml"
    permanent = zone.exists() and f'port="{port}"' in zone.read_text()
    return live, permanent


def test_firewalld_opens_and_closes_runtime_and_permanent(firewalld_ns: FirewallNetns) -> None:  # noqa: F811
    assert FirewalldFirewall.availability(firewalld_ns.runner).ok
    fw = FirewalldFirewall(firewalld_ns.runner, Privilege(), timeout=20)
    assert not fw.is_open(55011)

    fw.open_port(55011, "udp", comment="antnode0011")
    assert fw.is_open(55011)
    assert firewalld_has(firewalld_ns, 55011) == (True, True)
    assert firewalld_ns.output("firewall-cmd", "--permanent", "--query-port=55011/udp").strip() == "yes"
    fw.open_port(55011)  # idempotent (ALREADY_ENABLED is a warning, exit 0)

    fw.close_port(55011)
    assert not fw.is_open(55011)
    assert firewalld_has(firewalld_ns, 55011) == (False, False)
    fw.close_port(55011)  # idempotent (NOT_ENABLED)


def test_availability_says_why(bare_ns: FirewallNetns, firewalld_ns: FirewallNetns) -> None:  # noqa: F811
    ufw = UfwFirewall.availability(bare_ns.runner)
    assert not ufw.ok and "inactive" in ufw.reason
    firewalld = FirewalldFirewall.availability(bare_ns.runner)
    assert not firewalld.ok and firewalld.reason
    assert NullFirewall.availability(bare_ns.runner).ok
    assert not UfwFirewall.availability(firewalld_ns.runner).ok  # ufw is off where firewalld runs


def test_auto_prefers_active_ufw(ufw_ns: FirewallNetns) -> None:  # noqa: F811
    choice = choose_firewall("auto", ufw_ns.runner, Privilege(), environ={})
    assert isinstance(choice.manager, UfwFirewall)
    assert "ufw" in choice.reason


def test_auto_takes_running_firewalld(firewalld_ns: FirewallNetns) -> None:  # noqa: F811
    choice = choose_firewall("auto", firewalld_ns.runner, Privilege(), environ={})
    assert isinstance(choice.manager, FirewalldFirewall)
    choice.manager.open_port(55021)
    assert firewalld_has(firewalld_ns, 55021) == (True, True)
    choice.manager.close_port(55021)


def test_auto_falls_back_to_null_and_says_why(bare_ns: FirewallNetns) -> None:  # noqa: F811
    choice = choose_firewall("auto", bare_ns.runner, Privilege(), environ={})
    assert isinstance(choice.manager, NullFirewall)
    assert "ufw: ufw is installed but inactive" in choice.reason
    assert "firewalld:" in choice.reason


def test_explicit_choice_never_falls_back(bare_ns: FirewallNetns, ufw_ns: FirewallNetns) -> None:  # noqa: F811
    with pytest.raises(BackendUnavailable, match="inactive"):
        choose_firewall("ufw", bare_ns.runner, Privilege(), environ={})
    with pytest.raises(BackendUnavailable, match="firewalld"):
        choose_firewall("firewalld", ufw_ns.runner, Privilege(), environ={})
    assert isinstance(choose_firewall("ufw", ufw_ns.runner, Privilege(), environ={}).manager, UfwFirewall)


def test_disabled_variable_forces_null(ufw_ns: FirewallNetns) -> None:  # noqa: F811
    choice = choose_firewall("ufw", ufw_ns.runner, Privilege(), environ={"WNM_FIREWALL_DISABLED": "yes"})
    assert isinstance(choice.manager, NullFirewall)
    assert "WNM_FIREWALL_DISABLED" in choice.reason
    before = ufw_rules(ufw_ns)
    choice.manager.open_port(55031)
    assert ufw_rules(ufw_ns) == before

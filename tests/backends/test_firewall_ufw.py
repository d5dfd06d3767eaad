"""ufw: the ``ufw status`` parser on output recorded from ufw 0.36.2 (C locale, in a netns)."""

from __future__ import annotations

import pytest

from wnm.backends.firewall.port_spec import port_spec
from wnm.backends.firewall.ufw import UfwRule, parse_status
from wnm.errors import PermanentFailure

# Recorded with: ufw allow 12002:12010/udp; ufw allow 13000; ufw allow 14000/tcp; ufw deny 15000/udp;
# ufw allow from 10.0.0.0/8 to any port 16000 proto udp; ufw allow in on lo to any port 16001 proto udp;
# ufw limit 22/tcp; ufw allow 16002/udp comment 'has # hash'; ufw allow out 16003/udp;
# ufw allow 16010,16012/udp
STATUS = (
    "Status: active\n"
    "\n"
    "To                         Action      From\n"
    "--                         ------      ----\n"
    "12002:12010/udp            ALLOW       Anywhere                  \n"
    "13000                      ALLOW       Anywhere                  \n"
    "14000/tcp                  ALLOW       Anywhere                  \n"
    "15000/udp                  DENY        Anywhere                  \n"
    "16000/udp                  ALLOW       10.0.0.0/8                \n"
    "16001/udp on lo            ALLOW       Anywhere                  \n"
    "22/tcp                     LIMIT       Anywhere                  \n"
    "16002/udp                  ALLOW       Anywhere                   # has # hash\n"
    "16010,16012/udp            ALLOW       Anywhere                  \n"
    "12002:12010/udp (v6)       ALLOW       Anywhere (v6)             \n"
    "13000 (v6)                 ALLOW       Anywhere (v6)             \n"
    "14000/tcp (v6)             ALLOW       Anywhere (v6)             \n"
    "15000/udp (v6)             DENY        Anywhere (v6)             \n"
    "16001/udp (v6) on lo       ALLOW       Anywhere (v6)             \n"
    "22/tcp (v6)                LIMIT       Anywhere (v6)             \n"
    "16002/udp (v6)             ALLOW       Anywhere (v6)              # has # hash\n"
    "16010,16012/udp (v6)       ALLOW       Anywhere (v6)             \n"
    "\n"
    "16003/udp                  ALLOW OUT   Anywhere                  \n"
    "16003/udp (v6)             ALLOW OUT   Anywhere (v6)             \n"
    "\n"
)

NUMBERED = (
    "Status: active\n"
    "\n"
    "     To                         Action      From\n"
    "     --                         ------      ----\n"
    "[ 1] 12002:12010/udp            ALLOW IN    Anywhere                  \n"
    "[ 2] 13000                      ALLOW IN    Anywhere                  \n"
    "[ 3] 14000/tcp                  ALLOW IN    Anywhere                  \n"
    "[ 4] 15000/udp                  DENY IN     Anywhere                  \n"
    "[ 5] 16000/udp                  ALLOW IN    10.0.0.0/8                \n"
    "[ 6] 16001/udp on lo            ALLOW IN    Anywhere                  \n"
    "[ 7] 22/tcp                     LIMIT IN    Anywhere                  \n"
    "[ 8] 16002/udp                  ALLOW IN    Anywhere                   # has # hash\n"
    "[ 9] 16003/udp                  ALLOW OUT   Anywhere                   (out)\n"
    "[10] 16010,16012/udp            ALLOW IN    Anywhere                  \n"
    "[11] 12002:12010/udp (v6)       ALLOW IN    Anywhere (v6)             \n"
    "[12] 13000 (v6)                 ALLOW IN    Anywhere (v6)             \n"
    "[13] 14000/tcp (v6)             ALLOW IN    Anywhere (v6)             \n"
    "[14] 15000/udp (v6)             DENY IN     Anywhere (v6)             \n"
    "[15] 16001/udp (v6) on lo       ALLOW IN    Anywhere (v6)             \n"
    "[16] 22/tcp (v6)                LIMIT IN    Anywhere (v6)             \n"
    "[17] 16002/udp (v6)             ALLOW IN    Anywhere (v6)              # has # hash\n"
    "[18] 16003/udp (v6)             ALLOW OUT   Anywhere (v6)              (out)\n"
    "[19] 16010,16012/udp (v6)       ALLOW IN    Anywhere (v6)             \n"
    "\n"
)

VERBOSE = (
    "Status: active\n"
    "Logging: on (low)\n"
    "Default: deny (incoming), allow (outgoing), deny (routed)\n"
    "New profiles: skip\n"
    "\n"
    "To                         Action      From\n"
    "--                         ------      ----\n"
    "12002:12010/udp            ALLOW IN    Anywhere                  \n"
    "13000                      ALLOW IN    Anywhere                  \n"
    "14000/tcp                  ALLOW IN    Anywhere                  \n"
    "15000/udp                  DENY IN     Anywhere                  \n"
    "16000/udp                  ALLOW IN    10.0.0.0/8                \n"
    "16001/udp on lo            ALLOW IN    Anywhere                  \n"
    "22/tcp                     LIMIT IN    Anywhere                  \n"
    "16002/udp                  ALLOW IN    Anywhere                   # has # hash\n"
    "16010,16012/udp            ALLOW IN    Anywhere                  \n"
    "12002:12010/udp (v6)       ALLOW IN    Anywhere (v6)             \n"
    "13000 (v6)                 ALLOW IN    Anywhere (v6)             \n"
    "14000/tcp (v6)             ALLOW IN    Anywhere (v6)             \n"
    "15000/udp (v6)             DENY IN     Anywhere (v6)             \n"
    "16001/udp (v6) on lo       ALLOW IN    Anywhere (v6)             \n"
    "22/tcp (v6)                LIMIT IN    Anywhere (v6)             \n"
    "16002/udp (v6)             ALLOW IN    Anywhere (v6)              # has # hash\n"
    "16010,16012/udp (v6)       ALLOW IN    Anywhere (v6)             \n"
    "\n"
    "16003/udp                  ALLOW OUT   Anywhere                  \n"
    "16003/udp (v6)             ALLOW OUT   Anywhere (v6)             \n"
    "\n"
)

INACTIVE = "Status: inactive\n"


@pytest.mark.parametrize("text", [STATUS, NUMBERED, VERBOSE], ids=["plain", "numbered", "verbose"])
def test_every_format_gives_the_same_rules(text: str) -> None:
    status = parse_status(text)
    assert status.active
    v4 = [r for r in status.rules if not r.v6]
    assert [r.to for r in v4][:4] == ["12002:12010/udp", "13000", "14000/tcp", "15000/udp"]
    assert len([r for r in status.rules if r.v6]) == len(v4) - 1  # 10.0.0.0/8 has no v6 twin


@pytest.mark.parametrize("text", [STATUS, NUMBERED, VERBOSE], ids=["plain", "numbered", "verbose"])
@pytest.mark.parametrize(
    ("port", "protocol", "expected"),
    [
        (12002, "udp", True),  # range start
        (12007, "udp", True),  # inside the range
        (12010, "udp", True),  # range end
        (12011, "udp", False),
        (12005, "tcp", False),  # the range is udp only
        (13000, "udp", True),  # no protocol = both
        (13000, "tcp", True),
        (14000, "udp", False),
        (15000, "udp", False),  # DENY
        (16000, "udp", False),  # only from 10.0.0.0/8
        (16001, "udp", False),  # only on lo
        (22, "tcp", True),  # LIMIT still accepts
        (16002, "udp", True),  # comment containing '#'
        (16003, "udp", False),  # outgoing only
        (16010, "udp", True),  # port list
        (16011, "udp", False),
        (16012, "udp", True),
    ],
)
def test_allows(text: str, port: int, protocol: str, expected: bool) -> None:
    rules = [r for r in parse_status(text).rules if not r.v6]
    assert any(r.allows(port, protocol) for r in rules) is expected


def test_comment_and_direction_are_read() -> None:
    rules = {r.to: r for r in parse_status(NUMBERED).rules}
    assert rules["16002/udp"].comment == "has # hash"
    assert rules["16003/udp"].direction == "OUT"
    assert rules["16001/udp on lo"].direction == "IN"
    assert rules["22/tcp"].action == "LIMIT"


def test_inactive_has_no_rules() -> None:
    status = parse_status(INACTIVE)
    assert not status.active and status.rules == ()


def test_application_profiles_never_match() -> None:
    rule = UfwRule(to="OpenSSH", action="ALLOW", direction="", source="Anywhere")
    assert not rule.allows(22, "tcp")


def test_port_spec_validates() -> None:
    assert port_spec(55001, "udp") == "55001/udp"
    for port, protocol in [(0, "udp"), (65536, "udp"), (55001, "sctp"), (True, "udp")]:
        with pytest.raises(PermanentFailure):
            port_spec(port, protocol)

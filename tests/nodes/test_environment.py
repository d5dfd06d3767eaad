"""The environment setting: one parsing rule, strict validation (no unit-file injection)."""

from __future__ import annotations

import pytest

from wnm.errors import ConfigError
from wnm.nodes.environment import merge_environment, parse_environment


@pytest.mark.parametrize(
    ("text", "pairs"),
    [
        ("", ()),
        ("  \n ; \n", ()),
        ("ANT_LOG=ant_evm=error", (("ANT_LOG", "ant_evm=error"),)),
        ("A=1;B=2", (("A", "1"), ("B", "2"))),
        ("A=1\nB=two words\r\n_C=", (("A", "1"), ("B", "two words"), ("_C", ""))),
        (
            "  PEERS=/ip4/1.2.3.4/udp/1/quic-v1,/ip4/5.6.7.8/udp/2/quic-v1  ",
            (("PEERS", "/ip4/1.2.3.4/udp/1/quic-v1,/ip4/5.6.7.8/udp/2/quic-v1"),),
        ),
        ('Q="quoted"', (("Q", '"quoted"'),)),
    ],
)
def test_parse_environment(text: str, pairs: tuple[tuple[str, str], ...]) -> None:
    assert parse_environment(text) == pairs


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("NOEQUALS", "not KEY=VALUE"),
        ("1A=x", "not a valid variable name"),
        ("A-B=x", "not a valid variable name"),
        ("=x", "not a valid variable name"),
        ("A=x\x00y", "control character"),
        ("A=x\ry", "control character"),
        ("A=x\tY", "control character"),
        ("A=1;A=2", "more than once"),
        ("A=x\n[Service]\nExecStartPre=/bin/evil", "not KEY=VALUE"),
    ],
)
def test_parse_environment_rejects(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_environment(text)
    assert info.value.option == "environment"
    assert fragment in info.value.rule


def test_newline_cannot_smuggle_a_directive() -> None:
    """A value never contains a newline: a newline always starts a new (validated) entry."""
    pairs = parse_environment("A=1\nExecStartPre=/bin/true")
    assert pairs == (("A", "1"), ("ExecStartPre", "/bin/true"))
    assert all("\n" not in v for _, v in pairs)


def test_merge_environment_override_wins_in_place() -> None:
    merged = merge_environment((("A", "1"), ("B", "2")), (("B", "3"), ("C", "4")))
    assert merged == (("A", "1"), ("B", "3"), ("C", "4"))

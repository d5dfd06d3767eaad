"""The version comparator: release order, pre-release suffixes, unparseable input."""

from __future__ import annotations

import pytest

from wnm.engine.versions import is_newer, parse_version


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("0.4.17", "0.4.18"),
        ("0.4.9", "0.4.10"),
        ("0.4.18-rc.1", "0.4.18"),
        ("0.4.18-rc.1", "0.4.18-rc.2"),
        ("0.4.18-rc.9", "0.4.18-rc.10"),
        ("0.4.18rc9", "0.4.18rc10"),
        ("0.4.18-alpha", "0.4.18-beta"),
        ("0.4.18-1", "0.4.18-alpha"),
        ("0.4.18-rc.1", "0.4.18-rc.1.1"),
        ("0.4.18", "0.4.18.1"),
        ("v0.4.17", "0.4.18"),
        ("0.4.18", "0.5.0-rc.1"),
        ("0.14.2", "0.15.0"),
    ],
)
def test_order(older: str, newer: str) -> None:
    assert is_newer(newer, older)
    assert not is_newer(older, newer)


@pytest.mark.parametrize(("a", "b"), [("0.4", "0.4.0"), ("v1.2.3", "1.2.3"), ("1.2.3+build.7", "1.2.3")])
def test_equal_versions_are_not_newer(a: str, b: str) -> None:
    assert parse_version(a) == parse_version(b)
    assert not is_newer(a, b) and not is_newer(b, a)


@pytest.mark.parametrize("text", ["", "   ", "unknown", "Autonomi Node v0.4.17", "0.4.x", "-1.0", "1..2"])
def test_unparseable(text: str) -> None:
    assert parse_version(text) is None
    assert not is_newer(text, "0.0.1")
    assert not is_newer("99.0.0", text)


def test_keeps_original_text() -> None:
    version = parse_version(" 0.4.18-rc.1 ")
    assert version is not None and str(version) == "0.4.18-rc.1"

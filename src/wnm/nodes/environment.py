"""The ``environment`` setting: extra variables for node processes, parsed once, strictly.

Rule: entries are ``KEY=VALUE`` separated by newlines or semicolons; blanks around an entry are
ignored and empty entries skipped. ``KEY`` matches ``[A-Za-z_][A-Za-z0-9_]*``; ``VALUE`` is
everything after the first ``=`` (it may be empty and may hold spaces, ``=`` or commas, but no
semicolon and no control character). A key may appear once per text.

Every process manager receives the result as pairs, never the raw text, so a value can never
inject a line into a unit file or plist (wnm 0.6 defect D30).
"""

from __future__ import annotations

import re

from wnm.errors import ConfigError

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Environment = tuple[tuple[str, str], ...]


def parse_environment(text: str, option: str = "environment") -> Environment:
    """Split ``text`` into ``(key, value)`` pairs in their order.

    Raises :class:`ConfigError` (for ``option``) naming the offending entry when an entry has
    no ``=``, the key is not a valid variable name, a value holds a control character, or a key
    repeats.
    """
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for raw in re.split(r"[;\n]", text.replace("\r\n", "\n")):
        entry = raw.strip(" \t")
        if not entry:
            continue
        key, eq, value = entry.partition("=")
        if not eq:
            raise ConfigError(option, f"entry {entry!r} is not KEY=VALUE")
        if not _KEY.match(key):
            raise ConfigError(option, f"{key!r} is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)")
        if _CONTROL.search(value):
            raise ConfigError(option, f"value of {key} contains a control character")
        if key in seen:
            raise ConfigError(option, f"{key} is given more than once")
        seen.add(key)
        pairs.append((key, value))
    return tuple(pairs)


def merge_environment(base: Environment, override: Environment) -> Environment:
    """``base`` with ``override`` applied: a key in both takes the override's value in place."""
    merged = dict(base)
    merged.update(override)
    return tuple(merged.items())

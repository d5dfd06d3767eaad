"""Node version comparison, written for the strings node binaries actually print.

Accepted forms: ``0.4.18``, ``v0.4.18``, ``0.4.18-rc.1``, ``0.4.18rc1``, ``0.4.18+build.5`` (not ``0.4.x``).
The numeric dotted part compares number by number (``0.4`` == ``0.4.0``); a pre-release suffix
sorts *before* the release it precedes (``0.4.18-rc.1`` < ``0.4.18``), and pre-release
identifiers compare as in semver (numbers numerically, words alphabetically, numbers before
words, a shorter list first). Build metadata after ``+`` is ignored. Anything else (``""``,
``"unknown"``) does not parse, and a node with such a version is never chosen for an upgrade:
the old tool crashed on ``Version("")`` (wnm-compat D5).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_VERSION = re.compile(
    r"""^\s*v?
    (?P<release>\d+(?:\.\d+)*)
    (?:-?(?P<pre>[A-Za-z][0-9A-Za-z.-]*|(?<=-)[0-9][0-9A-Za-z.-]*))?
    (?:\+[0-9A-Za-z.-]+)?\s*$""",
    re.VERBOSE,
)
_TOKEN = re.compile(r"\d+|[A-Za-z]+")

# A pre-release token: numbers sort before words, as semver wants.
_Token = tuple[int, int, str]


@dataclass(frozen=True, order=True)
class Version:
    """A parsed version; ordering is the release order described in the module docstring."""

    release: tuple[int, ...]
    is_release: bool
    pre: tuple[_Token, ...]
    text: str = field(default="", compare=False)

    def __str__(self) -> str:
        return self.text


def parse_version(text: str) -> Version | None:
    """Parse ``text``; ``None`` when it is not a version (empty, a word, garbage)."""
    match = _VERSION.match(text or "")
    if match is None:
        return None
    release = tuple(int(part) for part in match.group("release").split("."))
    while len(release) > 1 and release[-1] == 0:
        release = release[:-1]
    pre_text = match.group("pre") or ""
    pre = tuple(_token(t) for t in _TOKEN.findall(pre_text))
    return Version(release=release, is_release=not pre, pre=pre, text=text.strip())


def _token(token: str) -> _Token:
    return (0, int(token), "") if token.isdigit() else (1, 0, token.lower())


def is_newer(candidate: str, current: str) -> bool:
    """True only when both parse and ``candidate`` is strictly newer than ``current``.

    An unparseable side gives False: an unknown version is never a reason to upgrade (or to
    downgrade a node that upgraded itself).
    """
    new = parse_version(candidate)
    old = parse_version(current)
    return new is not None and old is not None and new > old

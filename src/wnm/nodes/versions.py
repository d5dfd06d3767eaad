"""Which node program a binary is and which version it reports.

Both generations print their version with ``--version`` but in different shapes:

* legacy ``antnode``: four lines, the first ``Autonomi Node v0.4.17`` (or, for nightly builds,
  ``Autonomi Node -- Nightly Release 2026.02.19``);
* second generation ``ant-node``: one line, ``ant-node 0.14.2``.

Pre-release suffixes (``0.4.18-rc.1``) are kept: cutting them off (as wnm 0.6 did) makes a
release candidate look like the release. A nightly build has no crate version; it is reported
as ``nightly-YYYY.MM.DD``, which no release version equals, so it is never taken for one.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass

from wnm.domain.enums import Generation
from wnm.domain.snapshot import BinaryInfo
from wnm.errors import ActionFailure, WnmError
from wnm.system.commands import CommandRunner, run

log = logging.getLogger(__name__)

LEGACY_BINARY = "antnode"
V2_BINARY = "ant-node"
VERSION_TIMEOUT = 2.0

_SEMVER = r"(\d+(?:\.\d+)+(?:[-+][0-9A-Za-z.+-]+)?)"
_LEGACY_LINE = re.compile(r"^Autonomi Node v" + _SEMVER + r"(?:\s|$)")
_NIGHTLY_LINE = re.compile(r"^Autonomi Node -- Nightly Release (\d{4}\.\d{1,2}\.\d{1,2})(?:\s|$)")
_V2_LINE = re.compile(r"^ant-node v?" + _SEMVER + r"(?:\s|$)")


class UnknownVersionOutput(WnmError):
    """``--version`` printed something that is neither an antnode nor an ant-node version."""

    def __init__(self, text: str) -> None:
        first = text.strip().splitlines()[0] if text.strip() else "(empty)"
        super().__init__(f"unrecognised --version output: {first[:120]!r}")
        self.text = text


def binary_name(generation: Generation) -> str:
    """File name of a node binary of ``generation`` (``antnode`` / ``ant-node``)."""
    return LEGACY_BINARY if generation is Generation.LEGACY else V2_BINARY


def generation_from_name(path: str) -> Generation | None:
    """Guess the generation from a binary's file name; None when the name says nothing."""
    name = os.path.basename(path).lower()
    if name.startswith(V2_BINARY):
        return Generation.V2
    if name.startswith(LEGACY_BINARY):
        return Generation.LEGACY
    return None


def parse_version(text: str) -> tuple[Generation, str]:
    """Generation and version from ``--version`` output.

    Only the first non-empty line decides. Raises :class:`UnknownVersionOutput` for anything
    else (a different program, an error message, empty output).
    """
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    m = _LEGACY_LINE.match(first)
    if m:
        return Generation.LEGACY, m.group(1)
    m = _NIGHTLY_LINE.match(first)
    if m:
        return Generation.LEGACY, f"nightly-{m.group(1)}"
    m = _V2_LINE.match(first)
    if m:
        return Generation.V2, m.group(1)
    raise UnknownVersionOutput(text)


def probe_binary(
    path: str, runner: CommandRunner = run, timeout: float = VERSION_TIMEOUT
) -> BinaryInfo | None:
    """Run ``<path> --version`` and identify the binary; None when it is not a usable node binary.

    Never raises for a bad binary (missing, not executable, hangs, crashes, prints something
    else): the reason is logged at WARNING and None returned, because a missing or broken source
    binary is a normal state the engine reports ("no binary"), not a failure of the run.
    """
    try:
        result = runner([path, "--version"], timeout=timeout, check=True)
        generation, version = parse_version(result.stdout or result.stderr)
    except (ActionFailure, UnknownVersionOutput, OSError) as exc:
        log.warning("cannot identify node binary %s: %s", path, exc)
        return None
    return BinaryInfo(path=path, generation=generation, version=version)


@dataclass(frozen=True)
class FileStamp:
    """Identity of one binary file's content, cheap to take: modification time and size."""

    mtime_ns: int
    size: int

    def __str__(self) -> str:
        return f"{self.mtime_ns}:{self.size}"

    @property
    def mtime(self) -> float:
        return self.mtime_ns / 1e9


def file_stamp(path: str) -> FileStamp | None:
    """The stamp of ``path``; None when it does not exist or cannot be read."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return FileStamp(st.st_mtime_ns, st.st_size)

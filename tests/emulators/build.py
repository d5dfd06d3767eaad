"""Builders that turn the emulator templates into executable node / antctl binaries for tests.

Each builder copies one self-contained emulator file to ``dest`` (the full path of the binary,
e.g. ``tmp/bin/antnode``), replaces its shebang with ``python`` and bakes in the version and knob
defaults, writes it atomically and makes it executable (0755). The result keeps working when
copied elsewhere (wnm and antctl copy the binary per node). Knob names are listed in each
emulator's module docstring; an unknown name raises ValueError so typos fail loudly.
"""

from __future__ import annotations

import ast
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

EMULATOR_DIR = Path(__file__).resolve().parent
_BAKED_LINE = re.compile(r"^BAKED(?:: [^=]+)? = .*# baked by build\.py$", re.M)
_KNOB_TABLE = re.compile(r"^KNOB_DEFAULTS(?:: [^=]+)? = (\{.*?^\})", re.M | re.S)


def knob_names(template: str) -> frozenset[str]:
    """The knob names an emulator template understands (read from its KNOB_DEFAULTS table)."""
    source = (EMULATOR_DIR / template).read_text(encoding="utf-8")
    match = _KNOB_TABLE.search(source)
    if match is None:
        raise RuntimeError(f"{template} has no KNOB_DEFAULTS table")
    return frozenset(ast.literal_eval(match.group(1)))


def _write(template: str, dest: Path, python: str, baked: dict[str, object]) -> Path:
    knobs = dict(baked.get("knobs") or {})  # type: ignore[call-overload]
    unknown = set(knobs) - knob_names(template)
    if unknown:
        raise ValueError(f"unknown knob(s) for {template}: {sorted(unknown)}")
    for name, value in knobs.items():
        if not isinstance(value, (str, int, float, bool)):
            raise ValueError(f"knob {name} must be str, int, float or bool, not {type(value).__name__}")
    source = (EMULATOR_DIR / template).read_text(encoding="utf-8")
    body = source.split("\n", 1)[1]
    baked_line = f"BAKED: dict[str, Any] = {baked!r}  # baked by build.py"
    body, count = _BAKED_LINE.subn(lambda _m: baked_line, body, count=1)
    if count != 1:
        raise RuntimeError(f"{template} has no BAKED line")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    temporary = dest.with_name(f".{dest.name}.build-{os.getpid()}")
    temporary.write_text(f"#!{python}\n{body}", encoding="utf-8")
    temporary.chmod(0o755)
    os.replace(temporary, dest)
    return dest


def make_antnode(
    dest: Path,
    version: str = "0.4.17",
    *,
    python: str = sys.executable,
    knobs: Mapping[str, object] | None = None,
) -> Path:
    """Write a legacy ``antnode`` emulator reporting ``Autonomi Node v<version>``."""
    return _write("antnode_emu.py", dest, python, {"version": version, "knobs": dict(knobs or {})})


def make_ant_node(
    dest: Path,
    version: str = "0.14.2",
    *,
    python: str = sys.executable,
    knobs: Mapping[str, object] | None = None,
) -> Path:
    """Write a v2 ``ant-node`` emulator reporting ``ant-node <version>``."""
    return _write("ant_node_emu.py", dest, python, {"version": version, "knobs": dict(knobs or {})})


def make_antctl(
    dest: Path,
    version: str = "0.14.2",
    *,
    python: str = sys.executable,
    knobs: Mapping[str, object] | None = None,
    antnode_python: str | None = None,
) -> Path:
    """Write an ``antctl`` emulator; ``antnode_python`` (if given) runs node binaries as
    ``<antnode_python> <binary> ...`` instead of relying on their shebang."""
    merged = dict(knobs or {})
    if antnode_python is not None:
        merged["antnode_python"] = antnode_python
    return _write("antctl_emu.py", dest, python, {"version": version, "knobs": merged})

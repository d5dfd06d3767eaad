"""--version parsing for both generations, and probing real (script) binaries."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from wnm.domain.enums import Generation
from wnm.nodes.versions import (
    UnknownVersionOutput,
    binary_name,
    file_stamp,
    generation_from_name,
    parse_version,
    probe_binary,
)

LEGACY_OUTPUT = """Autonomi Node v0.4.17
Network version: ant/1.0/1
Package version: 2026.2.3.2
Git info: stable / 1a2b3c4 / 2026-02-19
"""


@pytest.mark.parametrize(
    ("text", "generation", "version"),
    [
        (LEGACY_OUTPUT, Generation.LEGACY, "0.4.17"),
        ("Autonomi Node v0.4.18-rc.1\nNetwork version: ant/1.0/1\n", Generation.LEGACY, "0.4.18-rc.1"),
        ("Autonomi Node v0.3.0", Generation.LEGACY, "0.3.0"),
        (
            "Autonomi Node -- Nightly Release 2026.02.19\nNetwork version: ant/1.0/1\n",
            Generation.LEGACY,
            "nightly-2026.02.19",
        ),
        ("ant-node 0.14.2\n", Generation.V2, "0.14.2"),
        ("\n  ant-node 0.15.0-beta.3  \n", Generation.V2, "0.15.0-beta.3"),
        ("ant-node v0.10.0", Generation.V2, "0.10.0"),
        ("ant-node 1.2.3+build.7", Generation.V2, "1.2.3+build.7"),
    ],
)
def test_parse_version(text: str, generation: Generation, version: str) -> None:
    assert parse_version(text) == (generation, version)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n",
        "antctl 0.14.2",
        "Autonomi Node vX.Y",
        "Autonomi Node 0.4.17",
        "ant-node",
        "error: unexpected argument '--version' found",
        "Python 3.11.2",
        "ant-node 0.14.2x",
    ],
)
def test_parse_version_rejects_other_text(text: str) -> None:
    with pytest.raises(UnknownVersionOutput):
        parse_version(text)


def test_names() -> None:
    assert binary_name(Generation.LEGACY) == "antnode"
    assert binary_name(Generation.V2) == "ant-node"
    assert generation_from_name("/opt/bin/ant-node") is Generation.V2
    assert generation_from_name("/var/antctl/services/antnode0001/antnode") is Generation.LEGACY
    assert generation_from_name("/usr/bin/python3") is None


def _script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_probe_binary_real_scripts(tmp_path: Path) -> None:
    legacy = _script(tmp_path / "antnode", "printf 'Autonomi Node v0.4.17\\nNetwork version: ant/1.0/1\\n'\n")
    v2 = _script(tmp_path / "ant-node", "echo 'ant-node 0.14.2'\n")
    info = probe_binary(legacy)
    assert info is not None and (info.generation, info.version, info.path) == (
        Generation.LEGACY,
        "0.4.17",
        legacy,
    )
    info = probe_binary(v2)
    assert info is not None and (info.generation, info.version) == (Generation.V2, "0.14.2")


def test_probe_binary_returns_none_for_unusable(tmp_path: Path) -> None:
    assert probe_binary(str(tmp_path / "missing")) is None
    not_exec = tmp_path / "plain"
    not_exec.write_text("ant-node 0.14.2\n")
    assert probe_binary(str(not_exec)) is None
    assert probe_binary(_script(tmp_path / "other", "echo 'something else'\n")) is None
    assert probe_binary(_script(tmp_path / "fails", "echo 'ant-node 0.14.2'; exit 3\n")) is None
    hang = _script(tmp_path / "hang", "exec sleep 30\n")
    started = time.monotonic()
    assert probe_binary(hang, timeout=0.3) is None
    assert time.monotonic() - started < 2.0


def test_file_stamp_changes_with_content(tmp_path: Path) -> None:
    binary = tmp_path / "antnode"
    assert file_stamp(str(binary)) is None
    binary.write_bytes(b"one")
    first = file_stamp(str(binary))
    assert first is not None and str(first) == f"{first.mtime_ns}:3"
    binary.write_bytes(b"three")
    os.utime(binary, ns=(first.mtime_ns + 10**9, first.mtime_ns + 10**9))
    second = file_stamp(str(binary))
    assert second is not None and str(second) != str(first)
    assert second.mtime == pytest.approx(first.mtime + 1.0)

"""Shared fixtures: an isolated HOME and environment, and running the whole CLI in-process."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # make tests.* importable

from wnm.config.options import OPTIONS

REWARDS = "0x" + "ab" * 20

# the inner systemd tests run only inside the nspawn container (tests/integration/test_systemd_nspawn.py)
collect_ignore_glob = [] if os.environ.get("WNM_INSIDE_NSPAWN") else ["integration/inside/*"]


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private HOME and no wnm option variables from the developer's environment."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for option in OPTIONS:
        if option.env_var:
            monkeypatch.delenv(option.env_var, raising=False)
    monkeypatch.delenv("WNM_FIREWALL_DISABLED", raising=False)
    return home


@pytest.fixture
def cli(isolated_env: Path) -> Callable[..., CliResult]:
    """Run ``wnm`` in-process: ``cli("--init", ...)`` -> CliResult(code, out, err)."""
    from wnm.cli import main

    def run(*argv: str) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(list(argv))
        return CliResult(code, out.getvalue(), err.getvalue())

    return run


@pytest.fixture
def machine(tmp_path: Path, cli: Callable[..., CliResult]) -> Iterator[dict[str, str]]:
    """An initialized machine (setsid+user, no firewall) in a temp dir; yields its paths."""
    db = tmp_path / "colony.db"
    storage = tmp_path / "nodes"
    logs = tmp_path / "logs"
    bins = tmp_path / "bin"
    bins.mkdir()
    result = cli(
        "--init",
        "--rewards_address",
        REWARDS,
        "--dbpath",
        str(db),
        "--node_storage",
        str(storage),
        "--log_dir",
        str(logs),
        "--process_manager",
        "setsid+user",
        "--firewall",
        "null",
        "--antnode_path",
        str(bins / "antnode"),
        "--node_binary_path",
        str(bins / "ant-node"),
        "--bootstrap_cache_dir",
        str(tmp_path / "cache"),
    )
    assert result.code == 0, result.err
    yield {"db": str(db), "storage": str(storage), "logs": str(logs), "bin": str(bins), "tmp": str(tmp_path)}


def db_snapshot(path: str) -> bytes:
    """The database file's bytes, to prove a command changed nothing."""
    return Path(path).read_bytes()

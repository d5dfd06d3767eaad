"""The colony fixture every end-to-end test starts from (test modules refine it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.helpers import Colony, kill_leftovers


@pytest.fixture
def colony(tmp_path: Path, isolated_env: Path) -> Iterator[Colony]:
    """A not yet initialized legacy setsid colony in ``tmp_path``; its processes die with the test."""
    c = Colony(tmp_path, isolated_env)
    try:
        yield c
    finally:
        kill_leftovers(tmp_path)

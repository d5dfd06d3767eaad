"""End to end: node identities survive a backup, the loss of the whole colony, and a restore
into another colony (other storage, database and ports), with real emulated legacy and v2 nodes
(setsid+user) driven through the real ``wnm`` command.

Peer ids are compared as the live nodes report them: legacy nodes on their ``/metadata``
endpoint (which the survey also stores as ``peer_id``), v2 nodes, which have no HTTP endpoint,
in the ``Node identity: <peer id>`` line they log at start-up.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import UNLIMITED, Colony, kill_leftovers, processes_of
from tests.emulators.build import make_ant_node

pytestmark = pytest.mark.slow

PERMISSIVE = (
    "--max_concurrent_starts", "4",
    "--max_concurrent_operations", "4",
    "--max_concurrent_removals", "4",
    *UNLIMITED,
    "--delay_start", "20",
    "--delay_restart", "30",
    "--delay_remove", "0",
)  # fmt: skip
KEY_FILES = {"legacy": "secret-key", "v2": "node_identity.key"}
IDENTITY_LINE = re.compile(r"Node identity: ([0-9a-f]{64})")
METADATA_PEER = re.compile(r'ant_networking_peer_id_info\{peer_id="([^"]+)"\}')


@pytest.fixture
def base(tmp_path: Path) -> Iterator[Path]:
    try:
        yield tmp_path
    finally:
        kill_leftovers(tmp_path)


def colony(base: Path, home: Path, name: str, port_start: int) -> Colony:
    tmp = base / name
    tmp.mkdir()
    c = Colony(tmp, home, generation="legacy", port_start=port_start)
    make_ant_node(tmp / "bin" / "ant-node")
    return c


def v2_binary(c: Colony) -> tuple[str, str]:
    return ("--node_binary_path", str(c.tmp / "bin" / "ant-node"))


def logged_identity(node: dict[str, Any]) -> str:
    """The peer id a v2 node logged at its latest start ("" when it has not logged one yet)."""
    found = ""
    for log in sorted(Path(node["log_dir"]).glob("ant-node.*.log")):
        matches = IDENTITY_LINE.findall(log.read_text(encoding="utf-8", errors="replace"))
        found = matches[-1] if matches else found
    return found


def metadata_identity(node: dict[str, Any]) -> str:
    """The peer id a legacy node reports on /metadata now ("" when it does not answer)."""
    try:
        url = f"http://127.0.0.1:{node['metrics_port']}/metadata"
        with urllib.request.urlopen(url, timeout=2) as reply:
            found = METADATA_PEER.search(reply.read().decode())
    except OSError:
        return ""
    return found.group(1) if found else ""


def observed_peer(node: dict[str, Any]) -> str:
    if node["generation"] == "legacy":
        peer = metadata_identity(node)
        return peer if peer == node["peer_id"] else ""  # and the survey has recorded it
    return logged_identity(node)


def all_up(count: int) -> Any:
    """All ``count`` nodes RUNNING and each one's peer id observed."""

    def check(nodes: list[dict[str, Any]]) -> bool:
        return len(nodes) == count and all(n["status"] == "RUNNING" and observed_peer(n) for n in nodes)

    return check


def identities(nodes: list[dict[str, Any]]) -> dict[int, tuple[str, str, str, int, bytes]]:
    """id -> (generation, observed peer id, wallet, age, key bytes)."""
    return {
        n["id"]: (
            n["generation"],
            observed_peer(n),
            n["wallet"],
            n["age"],
            (Path(n["root_dir"]) / KEY_FILES[n["generation"]]).read_bytes(),
        )
        for n in nodes
    }


def test_identities_come_back_with_the_same_peer_ids_after_restore(base: Path, isolated_env: Path) -> None:
    first = colony(base, isolated_env, "first", port_start=21)
    first.init(*PERMISSIVE, "--node_cap", "2", *v2_binary(first))
    first.run_until(all_up(2))
    first.wnm("--node_generation", "v2", "--node_cap", "4", check=True)
    before = first.run_until(all_up(4))
    assert sorted(n["generation"] for n in before) == ["legacy", "legacy", "v2", "v2"]
    original = identities(before)
    assert len({peer for _g, peer, *_ in original.values()}) == 4

    archive = base / "identities.tar"
    done = first.wnm("--force_action", "backup", "--backup_file", str(archive), "--json", check=True)
    assert json.loads(done.stdout)["count"] == 4 and json.loads(done.stdout)["skipped"] == []

    # the whole colony is lost: every node, its data and its key
    first.wnm("--force_action", "teardown", "--confirm", check=True)
    assert first.nodes() == []
    for node in before:
        assert not processes_of(node["root_dir"]) and not Path(node["root_dir"]).exists()

    second = colony(base, isolated_env, "second", port_start=27)
    second.init(*PERMISSIVE, "--node_cap", "4", *v2_binary(second), "--restore", str(archive))
    restored = second.nodes()
    assert [n["status"] for n in restored] == ["STOPPED"] * 4
    assert sorted(n["id"] for n in restored) == sorted(original)
    for node in restored:
        assert node["root_dir"].startswith(str(second.storage))
        assert node["port"] == 27000 + node["id"]

    after = second.run_until(all_up(4))
    assert identities(after) == original
    for node in after:
        assert len(processes_of(node["root_dir"])) == 1, node
    second.wnm("--force_action", "teardown", "--confirm", check=True)

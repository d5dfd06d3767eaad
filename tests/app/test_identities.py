"""Identity backup and restore through the real CLI, in-process, with real SQLite and real files.

Nodes are written straight into the node table (with their key files on disk), so these tests
need no running node; ``tests/e2e/test_backup_restore.py`` covers the round trip with live ones.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sqlite3
import stat
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REWARDS, CliResult
from tests.emulators.build import make_ant_node, make_antnode
from wnm.domain.enums import Generation, NodeStatus
from wnm.domain.node import Node, service_name
from wnm.store import repository as repo
from wnm.store.db import open_database

Cli = Callable[..., CliResult]
LEGACY_KEY = bytes(range(32))
V2_KEY = bytes(range(256)) * 24  # a v2 keypair is a few KiB


def add_node(machine: dict[str, str], node_id: int, generation: Generation, key: bytes | None) -> Node:
    """A node row of the machine, with its root dir and (unless None) its key file."""
    root = Path(machine["storage"]) / service_name(node_id)
    root.mkdir(parents=True)
    if key is not None:
        name = "secret-key" if generation is Generation.LEGACY else "node_identity.key"
        (root / name).write_bytes(key)
        (root / name).chmod(0o600)
    node = Node(
        id=node_id,
        generation=generation,
        manager="setsid+user",
        root_dir=str(root),
        log_dir=f"{machine['logs']}/{service_name(node_id)}",
        binary=str(root / "antnode"),
        port=55000 + node_id,
        metrics_port=13000 + node_id,
        rpc_port=30000 + node_id,
        status=NodeStatus.RUNNING,
        status_changed_at=1_700_000_100,
        age=1_700_000_000 + node_id,
        wallet="0x" + f"{node_id:02d}" * 20,
        version="0.4.17",
        peer_id=f"12D3KooWpeer{node_id}",
    )
    with open_database(Path(machine["db"])).transaction() as conn:
        repo.save_node(conn, node)
    return node


def backup(cli: Cli, machine: dict[str, str], *extra: str) -> CliResult:
    return cli("--dbpath", machine["db"], "--force_action", "backup", *extra)


def init_target(cli: Cli, base: Path, *extra: str) -> CliResult:
    """``wnm --init`` of a second machine under ``base`` (other ports, storage and database)."""
    bins = base / "bin"
    if not bins.exists():
        make_antnode(bins / "antnode")
        make_ant_node(bins / "ant-node")
    return cli(
        "--init",
        "--rewards_address", REWARDS,
        "--dbpath", str(base / "target.db"),
        "--node_storage", str(base / "nodes"),
        "--log_dir", str(base / "logs"),
        "--process_manager", "setsid+user",
        "--firewall", "null",
        "--port_start", "41", "--metrics_port_start", "42", "--rpc_port_start", "43",
        "--antnode_path", str(bins / "antnode"),
        "--node_binary_path", str(bins / "ant-node"),
        *extra,
    )  # fmt: skip


def target_nodes(base: Path) -> list[Node]:
    with open_database(base / "target.db", read_only=True).transaction() as conn:
        return repo.load_nodes(conn)


def assert_nothing_created(base: Path) -> None:
    assert not (base / "target.db").exists()
    assert not (base / "nodes").exists()
    assert not (base / "logs").exists()


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Path]:
    base = tmp_path / "target"
    base.mkdir()
    yield base


# ---- backup --------------------------------------------------------------------------------


def test_backup_holds_each_key_and_a_manifest_and_skips_nodes_without_key(
    cli: Cli, machine: dict[str, str]
) -> None:
    legacy = add_node(machine, 1, Generation.LEGACY, LEGACY_KEY)
    v2 = add_node(machine, 2, Generation.V2, V2_KEY)
    add_node(machine, 3, Generation.LEGACY, None)
    out = Path(machine["tmp"]) / "ids.tar"
    result = backup(cli, machine, "--backup_file", str(out))
    assert result.code == 0, result.err
    assert (
        result.out.strip()
        == f"backed up 2 node identities to {out}; skipped (no usable key file): antnode0003"
    )
    assert "skipping antnode0003" in result.err
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with tarfile.open(out) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert sorted(members) == [
            "antnode0001/secret-key",
            "antnode0002/node_identity.key",
            "wnm-identities.json",
        ]
        assert all(m.isreg() and m.mode == 0o600 for m in members.values())
        manifest = json.loads(tar.extractfile("wnm-identities.json").read())  # type: ignore[union-attr]
        assert tar.extractfile("antnode0002/node_identity.key").read() == V2_KEY  # type: ignore[union-attr]
    assert manifest["format"] == "wnm-identities" and manifest["version"] == 1
    assert manifest["host"] and manifest["created_at"] > 1_700_000_000
    first = manifest["nodes"][0]
    assert first == {
        "id": 1,
        "service_name": "antnode0001",
        "generation": "legacy",
        "peer_id": legacy.peer_id,
        "wallet": legacy.wallet,
        "version": "0.4.17",
        "port": 55001,
        "age": legacy.age,
        "key_file": "secret-key",
        "sha256": hashlib.sha256(LEGACY_KEY).hexdigest(),
    }
    assert manifest["nodes"][1]["generation"] == "v2" and manifest["nodes"][1]["peer_id"] == v2.peer_id
    assert not list(Path(machine["tmp"]).glob(".ids.tar.*"))  # no temp file left


def test_backup_default_name_beside_the_database_and_json_summary(cli: Cli, machine: dict[str, str]) -> None:
    add_node(machine, 1, Generation.LEGACY, LEGACY_KEY)
    first = backup(cli, machine, "--json")
    second = backup(cli, machine, "--json")
    assert first.code == second.code == 0, first.err + second.err
    paths = [Path(json.loads(r.out)["backup_file"]) for r in (first, second)]
    assert paths[0] != paths[1] and all(p.exists() for p in paths)
    for path in paths:
        assert path.parent == Path(machine["db"]).parent
        assert re.fullmatch(r"wnm-identities-\d{8}T\d{6}(-\d+)?\.tar", path.name), path.name
    assert json.loads(first.out)["count"] == 1


def test_backup_skips_a_legacy_key_of_the_wrong_size(cli: Cli, machine: dict[str, str]) -> None:
    add_node(machine, 1, Generation.LEGACY, b"short")
    out = Path(machine["tmp"]) / "ids.tar"
    result = backup(cli, machine, "--backup_file", str(out))
    assert result.code == 0 and "backed up 0 node identities" in result.out
    assert "5 bytes" in result.err


def test_backup_into_a_missing_directory_fails_cleanly(cli: Cli, machine: dict[str, str]) -> None:
    add_node(machine, 1, Generation.LEGACY, LEGACY_KEY)
    result = backup(cli, machine, "--backup_file", str(Path(machine["tmp"]) / "nowhere" / "ids.tar"))
    assert result.code == 1
    assert "cannot write backup" in result.err and len(result.err.strip().splitlines()) == 1


# ---- restore -------------------------------------------------------------------------------


def test_restore_recreates_stopped_nodes_with_their_keys_ids_and_ages(
    cli: Cli, machine: dict[str, str], target: Path
) -> None:
    legacy = add_node(machine, 1, Generation.LEGACY, LEGACY_KEY)
    v2 = add_node(machine, 2, Generation.V2, V2_KEY)
    archive = Path(machine["tmp"]) / "ids.tar"
    assert backup(cli, machine, "--backup_file", str(archive)).code == 0

    result = init_target(cli, target, "--restore", str(archive))
    assert result.code == 0, result.err
    assert "restored 2 node identities" in result.out
    nodes = target_nodes(target)
    assert [n.id for n in nodes] == [1, 2]
    expected = ((legacy, LEGACY_KEY, "secret-key"), (v2, V2_KEY, "node_identity.key"))
    for node, (old, key, name) in zip(nodes, expected, strict=True):
        assert node.status is NodeStatus.STOPPED
        assert (node.generation, node.peer_id, node.wallet, node.age) == (
            old.generation,
            old.peer_id,
            old.wallet,
            old.age,
        )
        assert (node.port, node.metrics_port, node.rpc_port) == (
            41000 + node.id,
            42000 + node.id,
            43000 + node.id,
        )
        assert node.root_dir == str(target / "nodes" / service_name(node.id))
        assert node.log_dir == str(target / "logs" / service_name(node.id)) and Path(node.log_dir).is_dir()
        assert stat.S_IMODE(os.stat(node.root_dir).st_mode) == 0o700
        key_path = Path(node.root_dir) / name
        assert key_path.read_bytes() == key
        assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
        assert int(key_path.stat().st_mtime) == old.age
        assert os.access(node.binary, os.X_OK)
    assert nodes[0].binary.endswith("/antnode") and nodes[1].binary.endswith("/ant-node")
    assert nodes[1].version == "0.14.2"  # the version of the binary copied here
    with sqlite3.connect(target / "target.db") as conn:
        assert conn.execute("SELECT highest_node_id_used FROM machine").fetchone()[0] == 2


def test_restore_moves_a_node_off_a_taken_id_without_displacing_the_others(
    cli: Cli, machine: dict[str, str], target: Path
) -> None:
    add_node(machine, 1, Generation.LEGACY, LEGACY_KEY)
    add_node(machine, 2, Generation.LEGACY, bytes(32))
    archive = Path(machine["tmp"]) / "ids.tar"
    assert backup(cli, machine, "--backup_file", str(archive)).code == 0
    (target / "nodes" / "antnode0001").mkdir(parents=True)  # a leftover identity dir of id 1

    result = init_target(cli, target, "--restore", str(archive))
    assert result.code == 0, result.err
    assert "restored antnode0003 (was antnode0001)" in result.out
    nodes = {n.peer_id: n for n in target_nodes(target)}
    assert nodes["12D3KooWpeer1"].id == 3 and nodes["12D3KooWpeer2"].id == 2
    assert (Path(nodes["12D3KooWpeer1"].root_dir) / "secret-key").read_bytes() == LEGACY_KEY
    assert not any((target / "nodes" / "antnode0001").iterdir())  # the leftover is untouched


def test_restore_failing_part_way_leaves_nothing_behind(
    cli: Cli, machine: dict[str, str], target: Path
) -> None:
    add_node(machine, 1, Generation.LEGACY, LEGACY_KEY)
    add_node(machine, 2, Generation.V2, V2_KEY)
    archive = Path(machine["tmp"]) / "ids.tar"
    assert backup(cli, machine, "--backup_file", str(archive)).code == 0
    logs = target / "logs"
    logs.mkdir()
    (logs / "antnode0002").write_text("a file where node 2's log dir must go")

    result = init_target(cli, target, "--restore", str(archive))
    assert result.code == 1
    assert "exists and is not a directory" in result.err
    assert not (target / "target.db").exists()
    assert not (target / "nodes").exists()  # node 1 was complete, node 2 half done: both gone
    assert sorted(p.name for p in logs.iterdir()) == ["antnode0002"]


def test_restore_needs_the_binary_of_each_generation(cli: Cli, machine: dict[str, str], target: Path) -> None:
    add_node(machine, 1, Generation.V2, V2_KEY)
    archive = Path(machine["tmp"]) / "ids.tar"
    assert backup(cli, machine, "--backup_file", str(archive)).code == 0
    result = init_target(cli, target, "--restore", str(archive), "--node_binary_path", str(target / "none"))
    assert result.code == 2
    assert "holds v2 identities but there is no usable v2 binary" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert_nothing_created(target)


def test_restore_refuses_more_identities_than_node_cap(
    cli: Cli, machine: dict[str, str], target: Path
) -> None:
    add_node(machine, 1, Generation.LEGACY, LEGACY_KEY)
    add_node(machine, 2, Generation.LEGACY, bytes(32))
    archive = Path(machine["tmp"]) / "ids.tar"
    assert backup(cli, machine, "--backup_file", str(archive)).code == 0
    result = init_target(cli, target, "--restore", str(archive), "--node_cap", "1")
    assert result.code == 2 and "--node_cap: 1 is below the 2 identities" in result.err
    assert_nothing_created(target)


# ---- refusing bad and hostile archives -----------------------------------------------------


def manifest_for(*entries: tuple[str, Generation, bytes], **overrides: Any) -> bytes:
    nodes = [
        {
            "id": n,
            "service_name": service,
            "generation": generation.value,
            "peer_id": f"peer{n}",
            "wallet": "",
            "version": "0.4.17",
            "port": 55000 + n,
            "age": 1_700_000_000,
            "key_file": "secret-key" if generation is Generation.LEGACY else "node_identity.key",
            "sha256": hashlib.sha256(key).hexdigest(),
        }
        for n, (service, generation, key) in enumerate(entries, start=1)
    ]
    body = {"format": "wnm-identities", "version": 1, "created_at": 1, "host": "h", "wnm_version": "1.0.0"}
    body.update({"nodes": nodes, **overrides})
    return json.dumps(body).encode()


def make_tar(path: Path, members: list[tuple[str, bytes] | tarfile.TarInfo]) -> Path:
    with tarfile.open(path, "w") as tar:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tar.addfile(member)
                continue
            name, data = member
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o600
            tar.addfile(info, io.BytesIO(data))
    return path


def special(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    return info


GOOD_MANIFEST = manifest_for(("antnode0001", Generation.LEGACY, LEGACY_KEY))
KEY1 = "antnode0001/secret-key"
GOOD_KEY = (KEY1, LEGACY_KEY)
Member = tuple[str, bytes] | tarfile.TarInfo


def man(body: bytes = GOOD_MANIFEST) -> tuple[str, bytes]:
    return ("wnm-identities.json", body)


def one(generation: Generation, key: bytes, service: str = "antnode0001") -> bytes:
    return manifest_for((service, generation, key))


BAD_ARCHIVES: dict[str, tuple[list[Member], str]] = {
    "absolute path": ([man(), GOOD_KEY, ("/etc/cron.d/x", b"x")], "unsafe member name"),
    "dot-dot": ([man(), ("antnode0001/../../x", b"x"), GOOD_KEY], "unsafe member name"),
    "deep path": ([man(), ("a/b/secret-key", b"x")], "unsafe member name"),
    "symlink": ([man(), special(KEY1, tarfile.SYMTYPE, "/etc/shadow")], "not a regular file"),
    "hard link": ([man(), special(KEY1, tarfile.LNKTYPE, "wnm-identities.json")], "not a regular file"),
    "device": ([man(), special(KEY1, tarfile.CHRTYPE)], "not a regular file"),
    "fifo": ([special("wnm-identities.json", tarfile.FIFOTYPE)], "not a regular file"),
    "directory": ([special("antnode0001", tarfile.DIRTYPE), man(), GOOD_KEY], "not a regular file"),
    "duplicate member": ([man(), GOOD_KEY, (KEY1, bytes(32))], "appears twice"),
    "unlisted member": (
        [man(), GOOD_KEY, ("antnode0009/secret-key", bytes(32))],
        "not listed in the manifest",
    ),
    "missing manifest": ([GOOD_KEY], "no wnm-identities.json"),
    "manifest not json": ([man(b"{nope"), GOOD_KEY], "not valid JSON"),
    "foreign manifest": ([man(b'{"format": "other"}'), GOOD_KEY], "not a wnm identity manifest"),
    "newer format": ([man(manifest_for(version=2)), GOOD_KEY], "format version 2"),
    "missing key": ([man()], "is missing"),
    "checksum mismatch": ([man(), (KEY1, bytes(32))], "does not match its sha256"),
    "legacy key of 31 bytes": (
        [man(one(Generation.LEGACY, bytes(31))), (KEY1, bytes(31))],
        "a legacy secret-key has 32",
    ),
    "empty v2 key": ([man(one(Generation.V2, b"")), ("antnode0001/node_identity.key", b"")], "0 bytes"),
    "wrong key file name": (
        [
            man(GOOD_MANIFEST.replace(b"secret-key", b"node_identity.key")),
            ("antnode0001/node_identity.key", LEGACY_KEY),
        ],
        "a legacy key file is secret-key",
    ),
    "unsafe service name": ([man(one(Generation.LEGACY, LEGACY_KEY, service=".."))], "bad id"),
    "duplicate id": (
        [man(manifest_for(nodes=[json.loads(GOOD_MANIFEST)["nodes"][0]] * 2)), GOOD_KEY],
        "lists id 1 twice",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_ARCHIVES))
def test_restore_refuses_a_bad_archive_with_one_line_and_creates_nothing(
    case: str, cli: Cli, tmp_path: Path, target: Path, isolated_env: Path
) -> None:
    members, expected = BAD_ARCHIVES[case]
    archive = make_tar(tmp_path / "bad.tar", members)
    result = init_target(cli, target, "--restore", str(archive))
    assert result.code == 2, (result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], lines
    assert_nothing_created(target)


@pytest.mark.parametrize(
    ("content", "expected"),
    [(None, "no such file"), (b"", "not a readable uncompressed tar"), (b"PK\x03\x04zip", "not a readable")],
)
def test_restore_refuses_what_is_not_a_tar(
    content: bytes | None, expected: str, cli: Cli, tmp_path: Path, target: Path
) -> None:
    archive = tmp_path / "ids.tar"
    if content is not None:
        archive.write_bytes(content)
    result = init_target(cli, target, "--restore", str(archive))
    assert result.code == 2 and expected in result.err and len(result.err.strip().splitlines()) == 1
    assert_nothing_created(target)

"""File-based health signals: v2 data size and log problems, legacy last words."""

from __future__ import annotations

import os
from pathlib import Path

from wnm.domain.enums import Generation, NodeStatus
from wnm.domain.node import Node
from wnm.nodes.health import (
    PROBLEM_DISK_FULL,
    PROBLEM_PORT_IN_USE,
    TAIL_BYTES,
    data_size,
    failure_reason,
    log_problems,
    newest_v2_log,
    read_tail,
    v2_log_problems,
)


def _node(tmp_path: Path, generation: Generation) -> Node:
    root, logs = tmp_path / "root", tmp_path / "logs"
    root.mkdir()
    logs.mkdir()
    return Node(
        id=1, generation=generation, manager="setsid+user", root_dir=str(root), log_dir=str(logs),
        binary=str(root / "bin"), port=1, metrics_port=2, rpc_port=3, status=NodeStatus.RUNNING,
        status_changed_at=0, age=0,
    )  # fmt: skip


def test_data_size(tmp_path: Path) -> None:
    assert data_size(str(tmp_path)) == 0
    store = tmp_path / "chunks.mdb"
    store.mkdir()
    (store / "data.mdb").write_bytes(b"x" * 100_000)
    assert data_size(str(tmp_path)) == 100_000
    sparse = tmp_path / "sparse"
    (sparse / "chunks.mdb").mkdir(parents=True)
    with open(sparse / "chunks.mdb" / "data.mdb", "wb") as f:
        f.truncate(1 << 30)  # 1 GiB apparent, nothing allocated
        f.seek(0)
        f.write(b"y" * 8192)
    assert data_size(str(sparse)) < 1 << 20


def test_newest_log_and_tail(tmp_path: Path) -> None:
    assert newest_v2_log(str(tmp_path / "none")) is None
    for day in ("2026-06-29", "2026-07-01", "2026-06-30"):
        (tmp_path / f"ant-node.{day}.log").write_text(f"{day}\n")
    (tmp_path / "other.log").write_text("x")
    assert newest_v2_log(str(tmp_path)) == str(tmp_path / "ant-node.2026-07-01.log")
    big = tmp_path / "big.log"
    lines = [f"line {i:06d} " + "z" * 50 for i in range(2000)]
    big.write_text("\n".join(lines) + "\n")
    tail = read_tail(str(big))
    assert len(tail.encode()) <= TAIL_BYTES
    assert tail.startswith("line ")  # starts at a line boundary
    assert tail.rstrip().endswith(lines[-1])
    assert read_tail(str(tmp_path / "missing")) == ""


def test_log_problems() -> None:
    text = (
        "2026-07-01T10:00:00.000000Z  INFO ant_node::node: Node started\n"
        "2026-07-01T10:00:05.000000Z ERROR ant_node::storage: Insufficient disk space: 0.42 GiB available, "
        "0.49 GiB reserve required.\n"
        "2026-07-01T10:00:06.000000Z ERROR saorsa_core: bind failed: Address already in use (os error 98)\n"
    )
    assert log_problems(text) == (PROBLEM_DISK_FULL, PROBLEM_PORT_IN_USE)
    assert log_problems("all fine\n") == ()


def test_v2_log_problems_reads_newest_log_only(tmp_path: Path) -> None:
    node = _node(tmp_path, Generation.V2)
    logs = Path(node.log_dir)
    (logs / "ant-node.2026-06-30.log").write_text("ERROR Insufficient disk space: old\n")
    (logs / "ant-node.2026-07-01.log").write_text("INFO all good\n")
    assert v2_log_problems(node) == ()
    (logs / "ant-node.2026-07-02.log").write_text("x ERROR y: Insufficient disk space: 0.1 GiB available\n")
    assert v2_log_problems(node) == (PROBLEM_DISK_FULL,)


def test_failure_reason_legacy(tmp_path: Path) -> None:
    node = _node(tmp_path, Generation.LEGACY)
    logs = Path(node.log_dir)
    assert failure_reason(node) == ""
    (logs / "antnode.log").write_text(
        "[2026-02-20T10:11:12.123456Z INFO ant_node::node 476] NodeConnectedToNetwork\n"
        "[2026-02-20T10:11:13.000000Z ERROR ant_node::node 500] Failed to bind metrics server\n"
        "[2026-02-20T10:11:14.000000Z INFO ant_node::node 501] still going\n"
    )
    assert failure_reason(node).endswith("Failed to bind metrics server")
    (logs / "critical_failure.log").write_text(
        "[2026-02-20 10:11:15 UTC] Node terminated due to: event channel closed\n"
    )
    assert failure_reason(node) == "[2026-02-20 10:11:15 UTC] Node terminated due to: event channel closed"


def test_failure_reason_v2(tmp_path: Path) -> None:
    node = _node(tmp_path, Generation.V2)
    log = Path(node.log_dir) / "ant-node.2026-07-01.log"
    log.write_text(
        "2026-07-01T10:00:00Z ERROR ant_node::node: Fatal error: emulated crash\n"
        "2026-07-01T10:00:01Z  INFO x: bye\n"
    )
    assert failure_reason(node).endswith("Fatal error: emulated crash")
    os.remove(log)
    assert failure_reason(node) == ""

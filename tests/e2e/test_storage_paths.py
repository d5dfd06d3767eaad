"""Disk budgets across several storage paths, on two small real filesystems (tmpfs mounts):
new v2 nodes go where there is most room, and adding stops before a filesystem would cross
its add threshold."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.helpers import UNLIMITED, Colony, kill_leftovers

MIB = 1024 * 1024

pytestmark = pytest.mark.integration


def mount_tmpfs(path: Path, size_mib: int) -> None:
    path.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mib}m,mode=0755", "tmpfs", str(path)],
                   check=True, timeout=20)  # fmt: skip


@pytest.fixture
def two_disks(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    if os.geteuid() != 0:
        pytest.skip("mounting test filesystems needs root")
    big, small = tmp_path / "disk-a", tmp_path / "disk-b"
    mounted: list[Path] = []
    try:
        for path, size in ((big, 64), (small, 40)):
            try:
                mount_tmpfs(path, size)
            except (subprocess.CalledProcessError, OSError) as exc:
                pytest.skip(f"cannot mount tmpfs here: {exc}")
            mounted.append(path)
        yield big, small
    finally:
        kill_leftovers(tmp_path)
        for path in mounted:
            subprocess.run(["umount", "-l", str(path)], check=False, timeout=20)


def test_nodes_spread_by_free_space_and_adding_stops_before_the_threshold(
    two_disks: tuple[Path, Path], tmp_path: Path, isolated_env: Path
) -> None:
    big, small = two_disks
    colony = Colony(tmp_path, isolated_env, generation="v2")
    colony.init(
        *UNLIMITED,
        "--node_storage", f"{big},{small}",
        "--hd_less_than", "60",
        "--hd_remove", "90",
        "--node_disk_budget", str(8 * MIB),
        "--node_cap", "10",
        "--max_concurrent_starts", "10",
        "--max_concurrent_operations", "10",
        "--delay_start", "5",
    )  # fmt: skip
    previous = -1
    for _ in range(15):
        colony.wnm()
        nodes = colony.nodes()
        if len(nodes) == previous and all(n["status"] == "RUNNING" for n in nodes):
            break
        previous = len(nodes)
    on_big = [n for n in nodes if n["storage_path"] == str(big)]
    on_small = [n for n in nodes if n["storage_path"] == str(small)]
    assert len(on_big) == 4 and len(on_small) == 2, [(n["id"], n["storage_path"]) for n in nodes]
    assert min(n["id"] for n in on_big) == 1  # the emptier disk got the first node
    plan = colony.wnm("--dry-run").stdout
    assert "no storage path has room" in plan
    for disk in (big, small):
        usage = os.statvfs(disk)
        total = usage.f_blocks * usage.f_frsize
        used = total - usage.f_bfree * usage.f_frsize
        reserved = 8 * MIB * sum(1 for n in nodes if n["storage_path"] == str(disk))
        assert used + reserved <= total * 0.60
    metrics = colony.wnm("--report", "machine-metrics").stdout
    assert str(big) in metrics and str(small) in metrics
    assert colony.wnm("--force_action", "teardown", "--confirm").returncode == 0
    assert list(big.iterdir()) == [] and list(small.iterdir()) == []

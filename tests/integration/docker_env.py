"""Session fixtures for tests against a real dockerd (reference/test-environment.md §2).

Only ONE dockerd ever runs on a machine: if one answers already it is reused and left alone;
otherwise the session starts ``dockerd`` (log in a temp dir), stops it by PID at the end and
removes what it left on the host (docker0, the nft tables it created).

Images come from local root filesystems, never a registry: ``local/debian-py:bookworm`` is a
``docker import`` of the Debian rootfs at /var/lib/machines/wnm-deb (bootstrapped here when
missing), and the wnm node image is built from the repository's ``docker/`` directory on top of
it. A busybox base image proves the supervisor also runs on busybox ``sh``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from wnm.backends.process.docker_api import docker_sdk

REPO = Path(__file__).resolve().parents[2]
DOCKER_CONTEXT = REPO / "docker"
ROOTFS = Path("/var/lib/machines/wnm-deb")
DEBIAN_IMAGE = "local/debian-py:bookworm"
BUSYBOX_IMAGE = "local/busybox:latest"
DEBOOTSTRAP_PACKAGES = "systemd,systemd-sysv,dbus,python3,procps,iproute2,libpam-systemd,dbus-user-session"


def make_antnode(
    dest: Path, version: str = "0.4.17", *, python: str, knobs: Mapping[str, object] | None = None
) -> Path:
    """The antnode emulator (tests/emulators/build.py, loaded by path: "build" is a PyPI name)."""
    name = "wnm_test_emulator_build"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, REPO / "tests" / "emulators" / "build.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    path: Path = module.make_antnode(dest, version, python=python, knobs=knobs)
    return path


@dataclass(frozen=True)
class DockerEnv:
    """A reachable daemon plus the images the tests run (``image``: wnm on Debian)."""

    client: Any
    base_url: str
    image: str
    busybox_image: str
    started_daemon: bool


def _client(base_url: str) -> Any:
    return docker_sdk().DockerClient(base_url=base_url, timeout=60)


def _answers(base_url: str) -> bool:
    try:
        client = _client(base_url)
        ok = bool(client.ping())
        client.close()
        return ok
    except Exception:
        return False


def _nft_tables() -> set[str]:
    try:
        out = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return set()
    return {line.strip() for line in out.splitlines() if line.startswith("table ")}


@contextlib.contextmanager
def _own_daemon(base_url: str) -> Iterator[bool]:
    """Yield True after starting dockerd ourselves, False when one already answers."""
    if _answers(base_url):
        yield False
        return
    if shutil.which("dockerd") is None:
        pytest.skip("dockerd is not installed (apt-get install docker.io)")
    tables_before = _nft_tables()
    had_docker0 = Path("/sys/class/net/docker0").exists()
    workdir = Path(tempfile.mkdtemp(prefix="wnm-dockerd-"))
    with open(workdir / "dockerd.log", "wb") as log:
        proc = subprocess.Popen(["dockerd"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not _answers(base_url):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = (workdir / "dockerd.log").read_text(errors="replace")[-2000:]
                pytest.skip(f"dockerd did not come up: {tail}")
            time.sleep(0.25)
        yield True
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if not had_docker0 and Path("/sys/class/net/docker0").exists():
            subprocess.run(["ip", "link", "del", "docker0"], capture_output=True, timeout=10)
        for table in sorted(_nft_tables() - tables_before):
            subprocess.run(["nft", "delete", *table.split()], capture_output=True, timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def ensure_debian_rootfs() -> Path:
    """The shared Debian rootfs, bootstrapped (≈80 s, once per machine) when missing.

    Built in a temp dir and renamed into place under a lock, so a concurrent session never sees
    half a rootfs. Skips the calling test when debootstrap cannot run.
    """
    if (ROOTFS / "usr/bin/python3").exists():
        return ROOTFS
    if shutil.which("debootstrap") is None:
        pytest.skip("no Debian rootfs and no debootstrap to make one")
    ROOTFS.parent.mkdir(parents=True, exist_ok=True)
    with open(ROOTFS.parent / ".wnm-deb.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (ROOTFS / "usr/bin/python3").exists():
            return ROOTFS
        tmp = Path(tempfile.mkdtemp(prefix=".wnm-deb-", dir=ROOTFS.parent))
        cmd = [
            "debootstrap",
            "--variant=minbase",
            f"--include={DEBOOTSTRAP_PACKAGES}",
            "bookworm",
            str(tmp),
            "http://deb.debian.org/debian",
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            pytest.skip(f"debootstrap failed: {result.stdout[-1000:]}{result.stderr[-1000:]}")
        (tmp / "etc/hostname").write_text("wnm-deb\n")
        if ROOTFS.exists():
            shutil.rmtree(ROOTFS)
        tmp.rename(ROOTFS)
    return ROOTFS


def _has_image(client: Any, tag: str) -> bool:
    try:
        client.images.get(tag)
        return True
    except docker_sdk().errors.ImageNotFound:
        return False


def _import_rootfs(rootfs: Path, tag: str, cmd: str) -> None:
    tar = subprocess.Popen(
        ["tar", "-C", str(rootfs), "--exclude=./proc/*", "--exclude=./sys/*", "--exclude=./dev/*", "-c", "."],
        stdout=subprocess.PIPE,
    )
    try:
        result = subprocess.run(
            ["docker", "import", "-c", f"CMD {cmd}", "-", tag],
            stdin=tar.stdout,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        assert tar.stdout is not None
        tar.stdout.close()
        tar.wait(timeout=60)
    if result.returncode != 0:
        pytest.skip(f"docker import of {rootfs} failed: {result.stderr.strip()}")


def _ensure_debian_image(client: Any) -> None:
    if not _has_image(client, DEBIAN_IMAGE):
        _import_rootfs(ensure_debian_rootfs(), DEBIAN_IMAGE, '["/bin/bash"]')


def _ensure_busybox_image(client: Any) -> None:
    if _has_image(client, BUSYBOX_IMAGE):
        return
    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.skip("busybox is not installed (apt-get install busybox-static)")
    with tempfile.TemporaryDirectory(prefix="wnm-bbroot-") as tmp:
        root = Path(tmp)
        for sub in ("bin", "tmp", "etc"):
            (root / sub).mkdir()
        shutil.copy(busybox, root / "bin/busybox")
        for applet in (
            "sh",
            "ls",
            "cat",
            "echo",
            "sleep",
            "kill",
            "date",
            "mv",
            "tr",
            "basename",
            "httpd",
            "printf",
            "rm",
            "env",
            "chmod",
            "id",
        ):
            (root / "bin" / applet).symlink_to("busybox")
        (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
        _import_rootfs(root, BUSYBOX_IMAGE, '["/bin/sh"]')


def _context_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(DOCKER_CONTEXT.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@pytest.fixture(scope="session")
def docker_env() -> Iterator[DockerEnv]:
    if os.geteuid() != 0:
        pytest.skip("docker integration tests need root")
    try:
        docker_sdk()
    except ImportError:
        pytest.skip("the docker SDK is not installed")
    base_url = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    with _own_daemon(base_url) as started:
        client = _client(base_url)
        try:
            from wnm.backends.process.docker_image import build_image

            _ensure_debian_image(client)
            _ensure_busybox_image(client)
            tag = f"wnm-test/node:{_context_digest()}"
            build_image(client, str(DOCKER_CONTEXT), tag, DEBIAN_IMAGE)
            bb_tag = f"wnm-test/node-busybox:{_context_digest()}"
            build_image(client, str(DOCKER_CONTEXT), bb_tag, BUSYBOX_IMAGE)
            yield DockerEnv(client, base_url, tag, bb_tag, started)
        finally:
            client.close()


def remove_labelled(client: Any, label: str) -> None:
    """Remove every container carrying ``label`` (``key=value``), running or not."""
    for container in client.containers.list(all=True, sparse=True, filters={"label": label}):
        with contextlib.suppress(Exception):
            container.remove(force=True)

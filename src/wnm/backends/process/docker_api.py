"""The docker SDK behind one small wrapper: lazy import, timeouts, and error translation.

Every call goes through :meth:`DockerApi.call`, which turns docker/requests errors into wnm's
failures: TemporaryFailure for an unreachable daemon, a timeout or a 5xx answer (worth retrying
next run), PermanentFailure for a 4xx answer (missing image, name taken by a foreign container).
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from wnm.backends.process import docker_layout as layout
from wnm.errors import PermanentFailure, TemporaryFailure

DEFAULT_BASE_URL = "unix:///var/run/docker.sock"
LOG_CONFIG = {"type": "json-file", "config": {"max-size": "10m", "max-file": "2"}}


def docker_sdk() -> Any:
    """The docker SDK, imported on first use (it is an optional dependency: ``wnm[docker]``).

    Imported by name so type checkers do not mistake the repository's ``docker/`` directory
    (the image build context) for the SDK. Raises ImportError when it is not installed.
    """
    return importlib.import_module("docker")


def default_base_url() -> str:
    return os.environ.get("DOCKER_HOST") or DEFAULT_BASE_URL


class DockerApi:
    """A lazily connected ``DockerClient`` whose every request has ``timeout`` seconds."""

    def __init__(self, base_url: str, timeout: float, instance: str) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.instance = instance
        self._client: Any = None

    def client(self) -> Any:
        if self._client is None:
            docker = docker_sdk()
            with self.call("connecting to docker"):
                self._client = docker.DockerClient(base_url=self.base_url, timeout=self.timeout)
        return self._client

    @contextlib.contextmanager
    def call(self, what: str, node_id: int | None = None) -> Iterator[None]:
        """Run the body, translating docker errors (see the module docstring)."""
        import requests

        docker = docker_sdk()
        try:
            yield
        except docker.errors.APIError as exc:
            status = exc.status_code or 0
            message = f"{what}: {exc.explanation or exc}"
            if 400 <= status < 500:
                raise PermanentFailure(message, node_id) from exc
            raise TemporaryFailure(message, node_id) from exc
        except (requests.exceptions.RequestException, docker.errors.DockerException) as exc:
            raise TemporaryFailure(f"{what}: {exc}", node_id) from exc

    def get(self, name: str, node_id: int | None = None) -> Any:
        """The container called ``name``, or None when there is none."""
        docker = docker_sdk()
        with self.call(f"inspecting container {name}", node_id):
            try:
                return self.client().containers.get(name)
            except docker.errors.NotFound:
                return None

    def get_own(self, name: str, node_id: int | None = None) -> Any:
        """Like :meth:`get`, but None also for a container of another wnm instance (or none)."""
        container = self.get(name, node_id)
        if container is None or layout.labels_of(container.attrs).get(layout.LABEL_INSTANCE) != self.instance:
            return None
        return container

    def list_own(self) -> list[Any]:
        """This instance's containers with full attributes, in one list call."""
        with self.call("listing containers"):
            found = self.client().containers.list(
                all=True, filters=layout.instance_filter(self.instance), ignore_removed=True
            )
        return list(found)

    def names_like(self, prefix: str) -> list[str]:
        """Names of every container on the daemon (any owner) whose name contains ``prefix``."""
        with self.call("listing container names"):
            listed = self.client().containers.list(all=True, sparse=True, filters={"name": prefix})
        return [str(name).lstrip("/") for c in listed for name in c.attrs.get("Names") or []]

    def create(self, name: str, node_id: int, **options: Any) -> None:
        """Create (not start) a container with wnm's common options (host network, init, …)."""
        with self.call(f"creating container {name}", node_id):
            self.client().containers.create(name=name, **common_options(), **options)


def common_options() -> dict[str, Any]:
    """Host networking (see the manager's docstring), docker's init, restart unless stopped."""
    return {
        "network_mode": "host",
        "init": True,
        "restart_policy": {"Name": "unless-stopped"},
        "log_config": LOG_CONFIG,
    }


def bind_mounts(rw: Sequence[str], ro: Iterable[str]) -> list[Any]:
    """Bind mounts at the same path inside; read-only ones (files or directories, skipped when
    missing) only where no rw mount covers them already."""
    mount = docker_sdk().types.Mount
    mounts = [mount(target=p, source=p, type="bind") for p in rw]
    for path in layout.bind_roots(p for p in ro if p and os.path.exists(p)):
        if not layout.is_under(path, rw):
            mounts.append(mount(target=path, source=path, type="bind", read_only=True))
    return mounts

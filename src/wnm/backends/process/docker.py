"""DockerManager: nodes in docker containers, driven through the Docker SDK.

Design (the reasons live here so nobody "fixes" them back):

* **Host networking.** Legacy antnode binds its metrics server to 127.0.0.1 only, whatever
  ``--ip`` says; behind a bridge network wnm on the host could not read ``/metrics``. With
  ``network_mode=host`` the node port and the metrics port are host ports, exactly as for the
  systemd and setsid managers, so the firewall and observers need no docker special case.
* **Same paths inside and out.** The node's root dir and log dir are bind-mounted at their host
  paths (the bootstrap cache read-only), so the node's argv is the one every manager uses, wnm
  reads data and log files directly, and the node runs its own binary copy from its root dir
  (upgrading a node = replacing that file and restarting; the image never changes).
* **Restart policy ``unless-stopped``** brings a node back after it exits 0 following a
  self-upgrade; stopping through the API marks it stopped so it stays down. ``init=True`` makes
  docker's init PID 1, so a stop is a SIGTERM that reaches the node at once.
* **Containers run as the owner of the node's root dir**, so files stay the operator's.
* **Modes.** ``max_node_per_container == 1``: one container per node, named after the node
  (``antnode0001``), whose command is the node. ``> 1``: group containers (``wnm-nodes-01`` …)
  run ``docker/wnm-supervisor.sh``, steered through a bind-mounted control directory
  (see :mod:`wnm.backends.process.docker_control`); a node joins the first group with room whose
  mounts cover its directories, and the last node leaving removes the container.

Every API call has the context's timeout (``DockerClient(timeout=…)``); docker errors become
TemporaryFailure (daemon unreachable, 5xx, timeouts) or PermanentFailure (4xx: missing image,
name taken by a foreign container).
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from wnm.backends.process import docker_layout as layout
from wnm.backends.process.base import (
    Availability,
    ManagerContext,
    ProcessManager,
    ProcessState,
    ProcessStatus,
)
from wnm.backends.process.docker_control import (
    WANT_RUN,
    WANT_STOP,
    NodeControl,
    member_names,
    supervisor_ready,
)
from wnm.backends.process.docker_layout import ContainerInfo
from wnm.backends.process.docker_procs import ProcessTable
from wnm.domain.node import Node
from wnm.errors import PermanentFailure, TemporaryFailure

DEFAULT_BASE_URL = "unix:///var/run/docker.sock"
SUPERVISOR_GRACE = 20
LOG_CONFIG = {"type": "json-file", "config": {"max-size": "10m", "max-file": "2"}}


def default_control_root() -> str:
    """Where group containers' control directories live (and the instance label's value)."""
    if os.geteuid() == 0:
        return "/var/lib/wnm/docker"
    state = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return os.path.join(state, "wnm", "docker")


def docker_sdk() -> Any:
    """The docker SDK, imported on first use (it is an optional dependency: ``wnm[docker]``).

    Imported by name so type checkers do not mistake the repository's ``docker/`` directory
    (the image build context) for the SDK. Raises ImportError when it is not installed.
    """
    return importlib.import_module("docker")


def _base_url() -> str:
    return os.environ.get("DOCKER_HOST") or DEFAULT_BASE_URL


class DockerManager(ProcessManager):
    name = "docker"

    def __init__(
        self, ctx: ManagerContext, *, control_root: str | None = None, base_url: str | None = None
    ) -> None:
        super().__init__(ctx)
        self.control_root = Path(control_root or default_control_root())
        self.instance = str(self.control_root)
        self.base_url = base_url or _base_url()
        self._docker: Any = None

    # -- availability and plumbing -------------------------------------------------------------

    @classmethod
    def availability(cls, ctx: ManagerContext) -> Availability:
        try:
            docker = docker_sdk()
        except ImportError:
            return Availability(False, "the docker Python SDK is not installed (pip install 'wnm[docker]')")
        url = _base_url()
        try:
            client = docker.DockerClient(base_url=url, timeout=min(ctx.timeout, 10.0))
        except Exception as exc:
            return Availability(False, f"no docker daemon answers at {url}: {exc}")
        try:
            client.ping()
            client.images.get(ctx.settings.docker_image)
        except docker.errors.ImageNotFound:
            return Availability(
                False,
                f"image {ctx.settings.docker_image} does not exist; build it from the docker/ directory",
            )
        except Exception as exc:
            return Availability(False, f"docker daemon at {url} does not answer: {exc}")
        finally:
            client.close()
        return Availability(True)

    def _client(self) -> Any:
        if self._docker is None:
            docker = docker_sdk()
            with self._api("connecting to docker"):
                self._docker = docker.DockerClient(base_url=self.base_url, timeout=self.ctx.timeout)
        return self._docker

    @contextlib.contextmanager
    def _api(self, what: str, node_id: int | None = None) -> Iterator[None]:
        """Translate docker/requests errors into wnm's temporary/permanent failures."""
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

    def _get(self, name: str, node_id: int | None = None) -> Any:
        """The container called ``name``, or None when there is none."""
        docker = docker_sdk()
        with self._api(f"inspecting container {name}", node_id):
            try:
                return self._client().containers.get(name)
            except docker.errors.NotFound:
                return None

    def _list(self) -> list[Any]:
        with self._api("listing containers"):
            return list(
                self._client().containers.list(
                    all=True, filters=layout.instance_filter(self.instance), ignore_removed=True
                )
            )

    # -- the lifecycle ---------------------------------------------------------------------------

    def create(self, node: Node) -> Node:
        for path in (node.root_dir, node.log_dir):
            if not os.path.isdir(path):
                raise PermanentFailure(f"{path} does not exist; create the node's directories first", node.id)
        if self.ctx.settings.max_node_per_container > 1:
            self._group_create(node)
        else:
            self._single_create(node)
        return node

    def start(self, node: Node) -> None:
        group = self._group_dir(node)
        if group is not None:
            self._group_start(node, group)
            return
        container = self._single(node)
        with self._api(f"starting {container.name}", node.id):
            container.start()

    def stop(self, node: Node, timeout: float = 30.0) -> None:
        group = self._group_dir(node)
        if group is not None:
            self._group_stop(node, group, timeout)
            return
        container = self._get(node.service_name, node.id)
        if container is None:
            return
        with self._api(f"stopping {container.name}", node.id):
            container.stop(timeout=math.ceil(timeout))

    def restart(self, node: Node) -> None:
        if self._group_dir(node) is not None:
            super().restart(node)
            return
        container = self._single(node)
        with self._api(f"restarting {container.name}", node.id):
            container.restart(timeout=30)

    def remove(self, node: Node) -> None:
        group = self._group_dir(node)
        if group is not None:
            self._group_remove(node, group)
            return
        container = self._get(node.service_name, node.id)
        if container is None:
            return
        with self._api(f"removing {container.name}", node.id):
            container.stop(timeout=30)
            container.remove()

    # -- observation -----------------------------------------------------------------------------

    def status_all(self, nodes: Sequence[Node]) -> Mapping[int, ProcessStatus]:
        """One ``containers.list`` for this instance, plus control-file reads for group members."""
        containers = self._list()
        table = (
            ProcessTable.read() if any(layout.status_word(c.attrs) == "running" for c in containers) else None
        )
        found: dict[int, ProcessStatus] = {}
        for container in containers:
            attrs = container.attrs
            if layout.mode_of(attrs) == layout.MODE_GROUP:
                found.update(self._group_statuses(attrs, table))
            else:
                for node_id in layout.label_node_ids(attrs):
                    found[node_id] = _single_status(attrs, table)
        missing = ProcessStatus(ProcessState.MISSING, detail="no container")
        return {node.id: found.get(node.id, missing) for node in nodes}

    def container_for(self, node: Node) -> ContainerInfo | None:
        group = self._group_dir(node)
        container = self._get(group.name if group else node.service_name, node.id)
        if container is None or layout.labels_of(container.attrs).get(layout.LABEL_INSTANCE) != self.instance:
            return None
        return self._info(container.attrs)

    def list_containers(self) -> list[ContainerInfo]:
        return [self._info(container.attrs) for container in self._list()]

    def _info(self, attrs: Mapping[str, Any]) -> ContainerInfo:
        if layout.mode_of(attrs) == layout.MODE_GROUP:
            ids = tuple(int(n) for n in member_names(self._control_dir(layout.name_of(attrs))) if n.isdigit())
        else:
            ids = layout.label_node_ids(attrs)
        return layout.container_info(attrs, ids)

    # -- one node per container ------------------------------------------------------------------

    def _single(self, node: Node) -> Any:
        container = self._get(node.service_name, node.id)
        if container is None:
            raise PermanentFailure(
                f"container {node.service_name} does not exist; create the node first", node.id
            )
        return container

    def _single_create(self, node: Node) -> None:
        old = self._get(node.service_name, node.id)
        if old is not None:
            if layout.labels_of(old.attrs).get(layout.LABEL_INSTANCE) != self.instance:
                raise PermanentFailure(
                    f"a container named {node.service_name} exists and is not wnm's", node.id
                )
            with self._api(f"replacing {node.service_name}", node.id):
                old.remove(force=True)
        command = self.ctx.command_for(node)
        uid, gid = layout.owner_of(node.root_dir)
        rw = layout.bind_roots([node.root_dir, node.log_dir])
        ro = [p for p in (os.path.dirname(node.binary), self.ctx.settings.bootstrap_cache_dir) if p]
        with self._api(f"creating container {node.service_name}", node.id):
            self._client().containers.create(
                self.ctx.settings.docker_image,
                command=list(command.argv),
                name=node.service_name,
                labels=layout.labels_for(self.instance, node.service_name, layout.MODE_SINGLE, [node.id]),
                environment={"HOME": node.root_dir, **command.env_dict},
                user=f"{uid}:{gid}",
                working_dir=node.root_dir,
                mounts=_mounts(rw, ro),
                **_common_options(),
            )

    # -- several nodes per container -------------------------------------------------------------

    def _control_dir(self, container_name: str) -> Path:
        return self.control_root / container_name

    def _group_dir(self, node: Node) -> Path | None:
        """The control directory of the group container holding ``node``, if any."""
        try:
            groups = sorted(self.control_root.iterdir())
        except FileNotFoundError:
            return None
        for group in groups:
            if NodeControl(group, node.name).exists():
                return group
        return None

    def _group_create(self, node: Node) -> None:
        group = self._group_dir(node) or self._pick_group(node) or self._new_group(node)
        command = self.ctx.command_for(node)
        owner = layout.owner_of(node.root_dir)
        env = {"HOME": node.root_dir, **command.env_dict}
        NodeControl(group, node.name).define(list(command.argv), env, owner)
        self._ensure_running(group.name, node.id)

    def _pick_group(self, node: Node) -> Path | None:
        """The first group with room whose image, user and mounts suit ``node``."""
        settings = self.ctx.settings
        uid, gid = layout.owner_of(node.root_dir)
        needed = [node.root_dir, node.log_dir, node.binary]
        candidates = sorted(
            (c.attrs for c in self._list() if layout.mode_of(c.attrs) == layout.MODE_GROUP),
            key=layout.name_of,
        )
        for attrs in candidates:
            group = self._control_dir(layout.name_of(attrs))
            config = attrs.get("Config") or {}
            if (
                config.get("Image") == settings.docker_image
                and config.get("User") == f"{uid}:{gid}"
                and len(member_names(group)) < settings.max_node_per_container
                and all(layout.is_under(p, layout.mount_sources(attrs)) for p in needed)
            ):
                return group
        return None

    def _new_group(self, node: Node) -> Path:
        settings = self.ctx.settings
        with self._api("listing container names"):
            listed = self._client().containers.list(
                all=True, sparse=True, filters={"name": layout.GROUP_PREFIX}
            )
        taken = [str(name).lstrip("/") for c in listed for name in c.attrs.get("Names") or []]
        name = layout.group_name(taken)
        group = self._control_dir(name)
        group.mkdir(parents=True, exist_ok=True)
        uid, gid = layout.owner_of(node.root_dir)
        if os.geteuid() == 0:
            os.chown(group, uid, gid)
        wanted = [
            *settings.storage_paths,
            settings.log_dir,
            os.path.dirname(node.root_dir),
            os.path.dirname(node.log_dir),
        ]
        rw = layout.bind_roots([str(group), *(p for p in wanted if p and os.path.isdir(p))])
        ro = [p for p in (os.path.dirname(node.binary), settings.bootstrap_cache_dir) if p]
        with self._api(f"creating container {name}", node.id):
            self._client().containers.create(
                settings.docker_image,
                command=[layout.SUPERVISOR],
                name=name,
                labels=layout.labels_for(self.instance, name, layout.MODE_GROUP, control=str(group)),
                environment={"WNM_CONTROL_DIR": str(group), "WNM_STOP_GRACE": str(SUPERVISOR_GRACE)},
                user=f"{uid}:{gid}",
                mounts=_mounts(rw, ro),
                **_common_options(),
            )
        return group

    def _ensure_running(self, name: str, node_id: int) -> Any:
        """Start the group container if it is not running and wait for its supervisor."""
        container = self._get(name, node_id)
        if container is None:
            raise PermanentFailure(f"group container {name} is gone; remove and re-add its nodes", node_id)
        group = self._control_dir(name)
        if container.status != "running":
            (group / ".ready").unlink(missing_ok=True)
            with self._api(f"starting {name}", node_id):
                container.start()
        deadline = time.monotonic() + 15
        while not supervisor_ready(group):
            if time.monotonic() > deadline:
                raise TemporaryFailure(f"the supervisor in {name} did not come up within 15s", node_id)
            time.sleep(0.05)
        return container

    def _nudge(self, container: Any, node_id: int) -> None:
        """SIGHUP makes the supervisor read its control files now instead of at its next poll."""
        with self._api(f"signalling {container.name}", node_id):
            container.kill(signal="SIGHUP")

    def _group_start(self, node: Node, group: Path) -> None:
        container = self._ensure_running(group.name, node.id)
        control = NodeControl(group, node.name)
        control.want(WANT_RUN)
        self._nudge(container, node.id)
        control.wait_for(("running", "backoff"), 10, f"starting node {node.name} in {group.name}")

    def _group_stop(self, node: Node, group: Path, timeout: float) -> None:
        control = NodeControl(group, node.name)
        control.want(WANT_STOP, stop_timeout=timeout)
        container = self._get(group.name, node.id)
        if container is None or container.status != "running":
            return
        self._nudge(container, node.id)
        control.wait_for(("stopped", "unknown"), timeout + 5, f"stopping node {node.name} in {group.name}")

    def _group_remove(self, node: Node, group: Path) -> None:
        self._group_stop(node, group, 30)
        shutil.rmtree(group / node.name, ignore_errors=True)
        if member_names(group):
            return
        container = self._get(group.name, node.id)
        if container is not None:
            with self._api(f"removing {group.name}", node.id):
                container.stop(timeout=SUPERVISOR_GRACE + 5)
                container.remove()
        shutil.rmtree(group, ignore_errors=True)

    def _group_statuses(
        self, attrs: Mapping[str, Any], table: ProcessTable | None
    ) -> dict[int, ProcessStatus]:
        name = layout.name_of(attrs)
        group = self._control_dir(name)
        word = layout.status_word(attrs)
        init_pid = int(layout.state_of(attrs).get("Pid") or 0)
        found: dict[int, ProcessStatus] = {}
        for member in member_names(group):
            if not member.isdigit():
                continue
            state = NodeControl(group, member).state()
            if word != "running":
                status = ProcessStatus(
                    ProcessState.STOPPED, restarts=state.restarts, detail=f"container {name} {word}"
                )
            elif state.kind == "running":
                pid = table.host_pid(init_pid, state.pid) if table else None
                status = ProcessStatus(ProcessState.RUNNING, pid=pid, restarts=state.restarts)
            else:
                detail = "restarting" if state.kind == "backoff" else state.kind
                status = ProcessStatus(
                    ProcessState.STOPPED, exit_code=state.exit_code, restarts=state.restarts, detail=detail
                )
            found[int(member)] = status
        return found


def _mounts(rw: Sequence[str], ro: Sequence[str]) -> list[Any]:
    """Bind mounts at the same path inside; read-only ones only where no rw mount covers them."""
    mount = docker_sdk().types.Mount
    mounts = [mount(target=p, source=p, type="bind") for p in rw]
    for path in layout.bind_roots(p for p in ro if os.path.isdir(p)):
        if not layout.is_under(path, rw):
            mounts.append(mount(target=path, source=path, type="bind", read_only=True))
    return mounts


def _common_options() -> dict[str, Any]:
    return {
        "network_mode": "host",
        "init": True,
        "restart_policy": {"Name": "unless-stopped"},
        "log_config": LOG_CONFIG,
    }


def _single_status(attrs: Mapping[str, Any], table: ProcessTable | None) -> ProcessStatus:
    state = layout.state_of(attrs)
    word = layout.status_word(attrs)
    restarts = int(attrs.get("RestartCount") or 0)
    exit_code = state.get("ExitCode")
    code = int(exit_code) if isinstance(exit_code, int) else None
    if word == "running":
        pid = table.first_child(int(state.get("Pid") or 0)) if table else None
        return ProcessStatus(ProcessState.RUNNING, pid=pid, restarts=restarts)
    if word == "created":
        return ProcessStatus(ProcessState.STOPPED, restarts=restarts, detail="created, never started")
    detail = f"restarting after exit {code}" if word == "restarting" else word
    return ProcessStatus(ProcessState.STOPPED, exit_code=code, restarts=restarts, detail=detail)

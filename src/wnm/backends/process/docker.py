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
  (:mod:`~wnm.backends.process.docker_group`, :mod:`~wnm.backends.process.docker_control`).
  Operations on an existing node follow where it is (a group's control dir, else the container
  named after it), so changing ``max_node_per_container`` affects only nodes created later.
* **Ownership.** Labels ``wnm.managed=1`` and ``wnm.instance=<control root>`` mark this wnm's
  containers; a same-named container of anyone else is never stopped, replaced or removed.

Every API call has the context's timeout (``DockerClient(timeout=…)``); docker errors become
TemporaryFailure or PermanentFailure (:mod:`~wnm.backends.process.docker_api`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from wnm.backends.process import docker_layout as layout
from wnm.backends.process.base import (
    Availability,
    ContainerInfo,
    ManagerContext,
    ProcessManager,
    ProcessState,
    ProcessStatus,
)
from wnm.backends.process.docker_api import DockerApi, bind_mounts, default_base_url, docker_sdk
from wnm.backends.process.docker_group import GroupContainers
from wnm.backends.process.docker_procs import ProcessTable
from wnm.domain.node import Node
from wnm.errors import ActionFailure, PermanentFailure

STOP_TIMEOUT = 30


def default_control_root() -> str:
    """Where group containers' control directories live; also the ``wnm.instance`` label value."""
    if os.geteuid() == 0:
        return "/var/lib/wnm/docker"
    state = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return os.path.join(state, "wnm", "docker")


class DockerManager(ProcessManager):
    """Nodes in docker containers; see the module docstring for the design."""

    name = "docker"

    def __init__(
        self, ctx: ManagerContext, *, control_root: str | None = None, base_url: str | None = None
    ) -> None:
        super().__init__(ctx)
        root = Path(control_root or default_control_root())
        self.api = DockerApi(base_url or default_base_url(), ctx.timeout, instance=str(root))
        self.groups = GroupContainers(self.api, ctx, root)

    @classmethod
    def availability(cls, ctx: ManagerContext) -> Availability:
        """Usable when the SDK imports, the daemon answers a ping and the node image exists."""
        try:
            docker = docker_sdk()
        except ImportError:
            return Availability(False, "the docker Python SDK is not installed (pip install 'wnm[docker]')")
        url = default_base_url()
        try:
            client = docker.DockerClient(base_url=url, timeout=min(ctx.timeout, 10.0))
        except Exception as exc:  # the SDK raises DockerException and requests errors alike
            return Availability(False, f"no docker daemon answers at {url}: {exc}")
        try:
            client.ping()
            client.images.get(ctx.settings.docker_image)
        except docker.errors.ImageNotFound:
            image = ctx.settings.docker_image
            return Availability(False, f"image {image} does not exist; build it from the docker/ directory")
        except Exception as exc:
            return Availability(False, f"docker daemon at {url} does not answer: {exc}")
        finally:
            client.close()
        return Availability(True)

    # -- the lifecycle ---------------------------------------------------------------------------

    def create(self, node: Node) -> Node:
        """Define the node's container (or its place in a group); the node is returned unchanged.

        The ``container`` table row is the store's business: it reads :meth:`container_for`.
        """
        for path in (node.root_dir, node.log_dir):
            if not os.path.isdir(path):
                raise PermanentFailure(f"{path} does not exist; create the node's directories first", node.id)
        if self.ctx.settings.max_node_per_container > 1:
            self.groups.create(node)
        else:
            self._create_single(node)
        return node

    def start(self, node: Node) -> None:
        group = self.groups.dir_of(node)
        if group is not None:
            self.groups.start(node, group)
            return
        container = self._single(node)
        with self.api.call(f"starting {container.name}", node.id):
            container.start()

    def stop(self, node: Node, timeout: float = 30.0) -> None:
        group = self.groups.dir_of(node)
        if group is not None:
            self.groups.stop(node, group, timeout)
            return
        container = self.api.get_own(node.service_name, node.id)
        if container is None:
            return
        with self.api.call(f"stopping {container.name}", node.id):
            container.stop(timeout=math.ceil(timeout))

    def restart(self, node: Node) -> None:
        if self.groups.dir_of(node) is not None:
            super().restart(node)
            return
        container = self._single(node)
        with self.api.call(f"restarting {container.name}", node.id):
            container.restart(timeout=STOP_TIMEOUT)

    def remove(self, node: Node) -> None:
        group = self.groups.dir_of(node)
        if group is not None:
            self.groups.remove(node, group)
            return
        container = self.api.get_own(node.service_name, node.id)
        if container is None:
            return
        with self.api.call(f"removing {container.name}", node.id):
            container.stop(timeout=STOP_TIMEOUT)
            container.remove()

    # -- observation -----------------------------------------------------------------------------

    def status_all(self, nodes: Sequence[Node]) -> Mapping[int, ProcessStatus]:
        """One ``containers.list`` for this instance, plus control-file reads for group members.

        (The SDK's full listing inspects each container on the same socket: ≈30 ms for 20
        running containers.) Node PIDs are host PIDs, found in /proc when it can be read. Every
        node is UNKNOWN when the daemon cannot be asked.
        """
        try:
            containers = [c.attrs for c in self.api.list_own()]
        except ActionFailure as exc:
            return {node.id: ProcessStatus(ProcessState.UNKNOWN, detail=str(exc)) for node in nodes}
        running = any(layout.status_word(attrs) == "running" for attrs in containers)
        table = ProcessTable.read() if running else None
        found: dict[int, ProcessStatus] = {}
        for attrs in containers:
            if layout.mode_of(attrs) == layout.MODE_GROUP:
                found.update(self.groups.statuses(attrs, table))
            else:
                for node_id in layout.label_node_ids(attrs):
                    found[node_id] = single_status(attrs, table)
        missing = ProcessStatus(ProcessState.MISSING, detail="no container")
        return {node.id: found.get(node.id, missing) for node in nodes}

    def container_for(self, node: Node) -> ContainerInfo | None:
        """The container holding ``node``, or None when it has none (yet)."""
        group = self.groups.dir_of(node)
        container = self.api.get_own(group.name if group else node.service_name, node.id)
        return None if container is None else self._info(container.attrs)

    def list_containers(self) -> list[ContainerInfo]:
        """Every container of this wnm instance, for keeping the ``container`` table in step."""
        return [self._info(container.attrs) for container in self.api.list_own()]

    def containers(self) -> Sequence[ContainerInfo]:
        return self.list_containers()

    def _info(self, attrs: Mapping[str, Any]) -> ContainerInfo:
        if layout.mode_of(attrs) == layout.MODE_GROUP:
            return layout.container_info(attrs, self.groups.member_ids(attrs))
        return layout.container_info(attrs, layout.label_node_ids(attrs))

    # -- one node per container ------------------------------------------------------------------

    def _single(self, node: Node) -> Any:
        container = self.api.get_own(node.service_name, node.id)
        if container is None:
            raise PermanentFailure(f"container {node.service_name} does not exist; create the node", node.id)
        return container

    def _create_single(self, node: Node) -> None:
        """A container named after the node whose command is the node; replaces an old one."""
        name = node.service_name
        old = self.api.get(name, node.id)
        if old is not None:
            if layout.labels_of(old.attrs).get(layout.LABEL_INSTANCE) != self.api.instance:
                raise PermanentFailure(f"a container named {name} exists and is not this wnm's", node.id)
            with self.api.call(f"replacing {name}", node.id):
                old.remove(force=True)
        command = self.ctx.command_for(node)
        uid, gid = layout.owner_of(node.root_dir)
        self.api.create(
            name,
            node.id,
            image=self.ctx.settings.docker_image,
            command=list(command.argv),
            labels=layout.labels_for(self.api.instance, name, layout.MODE_SINGLE, [node.id]),
            environment={"HOME": node.root_dir, **command.env_dict},
            user=f"{uid}:{gid}",
            working_dir=node.root_dir,
            mounts=bind_mounts(
                layout.bind_roots([node.root_dir, node.log_dir]),
                [node.binary, self.ctx.settings.bootstrap_cache_dir],
            ),
        )


def single_status(attrs: Mapping[str, Any], table: ProcessTable | None) -> ProcessStatus:
    """A single-node container's status; its node is the child of docker's init."""
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

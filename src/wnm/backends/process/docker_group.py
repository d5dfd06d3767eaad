"""Several nodes per container: group containers running ``docker/wnm-supervisor.sh``.

A group container (``wnm-nodes-01`` …) bind-mounts the storage and log roots (not single node
dirs, since mounts cannot be added later) plus its control directory
``<control root>/<container name>/``. A node joins the first group with room whose image, user
and mounts suit it, else a new group is made; the node's control files say what to run and
whether it should run (see :mod:`wnm.backends.process.docker_control`), and a SIGHUP to the
container (forwarded by docker's init to the supervisor) makes the change take effect at once.
The last node leaving a group removes the container and its control directory.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wnm.backends.process import docker_layout as layout
from wnm.backends.process.base import ManagerContext, ProcessState, ProcessStatus
from wnm.backends.process.docker_api import DockerApi, bind_mounts
from wnm.backends.process.docker_control import (
    WANT_RUN,
    WANT_STOP,
    NodeControl,
    member_names,
    supervisor_ready,
)
from wnm.backends.process.docker_procs import ProcessTable
from wnm.domain.node import Node
from wnm.errors import PermanentFailure, TemporaryFailure

SUPERVISOR_GRACE = 20  # seconds the supervisor gives its nodes on container stop
READY_TIMEOUT = 15.0
START_TIMEOUT = 10.0


class GroupContainers:
    """The group-container half of the docker manager."""

    def __init__(self, api: DockerApi, ctx: ManagerContext, control_root: Path) -> None:
        self.api = api
        self.ctx = ctx
        self.control_root = control_root

    def control_dir(self, container_name: str) -> Path:
        return self.control_root / container_name

    def dir_of(self, node: Node) -> Path | None:
        """The control directory of the group holding ``node``; None when no group holds it."""
        try:
            groups = sorted(self.control_root.iterdir())
        except FileNotFoundError:
            return None
        for group in groups:
            if NodeControl(group, node.name).exists():
                return group
        return None

    def member_ids(self, attrs: Mapping[str, Any]) -> tuple[int, ...]:
        names = member_names(self.control_dir(layout.name_of(attrs)))
        return tuple(int(name) for name in names if name.isdigit())

    # -- lifecycle -------------------------------------------------------------------------------

    def create(self, node: Node) -> None:
        """Define ``node`` (not started) in its group, making the group when none has room."""
        group = self.dir_of(node) or self._pick(node) or self._new(node)
        command = self.ctx.command_for(node)
        env = {"HOME": node.root_dir, **command.env_dict}
        NodeControl(group, node.name).define(list(command.argv), env, layout.owner_of(node.root_dir))
        self._ensure_running(group.name, node.id)

    def start(self, node: Node, group: Path) -> None:
        container = self._ensure_running(group.name, node.id)
        control = NodeControl(group, node.name)
        control.want(WANT_RUN)
        self._nudge(container, node.id)
        control.wait_for(("running", "backoff"), START_TIMEOUT, f"starting node {node.name} in {group.name}")

    def stop(self, node: Node, group: Path, timeout: float) -> None:
        control = NodeControl(group, node.name)
        control.want(WANT_STOP, stop_timeout=timeout)
        container = self.api.get(group.name, node.id)
        if container is None or container.status != "running":
            return  # nothing runs; the wish is recorded for the container's next start
        self._nudge(container, node.id)
        control.wait_for(("stopped", "unknown"), timeout + 5, f"stopping node {node.name} in {group.name}")

    def remove(self, node: Node, group: Path) -> None:
        self.stop(node, group, 30)
        shutil.rmtree(group / node.name, ignore_errors=True)
        if member_names(group):
            return
        container = self.api.get(group.name, node.id)
        if container is not None:
            with self.api.call(f"removing {group.name}", node.id):
                container.stop(timeout=SUPERVISOR_GRACE + 5)
                container.remove()
        shutil.rmtree(group, ignore_errors=True)

    # -- observation -----------------------------------------------------------------------------

    def statuses(self, attrs: Mapping[str, Any], table: ProcessTable | None) -> dict[int, ProcessStatus]:
        """Every member's status from its control files; STOPPED while the container is down."""
        name = layout.name_of(attrs)
        group = self.control_dir(name)
        word = layout.status_word(attrs)
        init_pid = int(layout.state_of(attrs).get("Pid") or 0)
        found: dict[int, ProcessStatus] = {}
        for member in member_names(group):
            if not member.isdigit():
                continue
            state = NodeControl(group, member).state()
            if word != "running":
                found[int(member)] = ProcessStatus(
                    ProcessState.STOPPED, restarts=state.restarts, detail=f"container {name} {word}"
                )
            elif state.kind == "running":
                pid = table.host_pid(init_pid, state.pid) if table else None
                found[int(member)] = ProcessStatus(ProcessState.RUNNING, pid=pid, restarts=state.restarts)
            else:
                found[int(member)] = ProcessStatus(
                    ProcessState.STOPPED,
                    exit_code=state.exit_code,
                    restarts=state.restarts,
                    detail="restarting" if state.kind == "backoff" else state.kind,
                )
        return found

    # -- placement -------------------------------------------------------------------------------

    def _pick(self, node: Node) -> Path | None:
        """The first group with room whose image, user and mounts suit ``node``."""
        settings = self.ctx.settings
        uid, gid = layout.owner_of(node.root_dir)
        needed = [node.root_dir, node.log_dir, node.binary]
        groups = [c.attrs for c in self.api.list_own() if layout.mode_of(c.attrs) == layout.MODE_GROUP]
        for attrs in sorted(groups, key=layout.name_of):
            group = self.control_dir(layout.name_of(attrs))
            config = attrs.get("Config") or {}
            if (
                config.get("Image") == settings.docker_image
                and config.get("User") == f"{uid}:{gid}"
                and len(member_names(group)) < settings.max_node_per_container
                and all(layout.is_under(p, layout.mount_sources(attrs)) for p in needed)
            ):
                return group
        return None

    def _new(self, node: Node) -> Path:
        """Create a group container whose mounts cover the configured storage and log roots."""
        settings = self.ctx.settings
        name = layout.group_name(self.api.names_like(layout.GROUP_PREFIX))
        group = self.control_dir(name)
        group.mkdir(parents=True, exist_ok=True)
        uid, gid = layout.owner_of(node.root_dir)
        if os.geteuid() == 0:
            os.chown(group, uid, gid)
        roots = [
            *settings.storage_paths,
            settings.log_dir,
            os.path.dirname(node.root_dir),
            os.path.dirname(node.log_dir),
        ]
        rw = layout.bind_roots([str(group), *(p for p in roots if p and os.path.isdir(p))])
        self.api.create(
            name,
            node.id,
            image=settings.docker_image,
            command=[layout.SUPERVISOR],
            labels=layout.labels_for(self.api.instance, name, layout.MODE_GROUP, control=str(group)),
            environment={"WNM_CONTROL_DIR": str(group), "WNM_STOP_GRACE": str(SUPERVISOR_GRACE)},
            user=f"{uid}:{gid}",
            mounts=bind_mounts(rw, [node.binary, settings.bootstrap_cache_dir]),
        )
        return group

    def _ensure_running(self, name: str, node_id: int) -> Any:
        """Start the group container if it is not running and wait for its supervisor."""
        container = self.api.get(name, node_id)
        if container is None:
            raise PermanentFailure(f"group container {name} is gone; remove and re-add its nodes", node_id)
        group = self.control_dir(name)
        if container.status != "running":
            (group / ".ready").unlink(missing_ok=True)
            with self.api.call(f"starting {name}", node_id):
                container.start()
        deadline = time.monotonic() + READY_TIMEOUT
        while not supervisor_ready(group):
            if time.monotonic() > deadline:
                raise TemporaryFailure(
                    f"the supervisor in {name} did not come up in {READY_TIMEOUT:g}s", node_id
                )
            time.sleep(0.05)
        return container

    def _nudge(self, container: Any, node_id: int) -> None:
        """SIGHUP makes the supervisor read its control files now instead of at its next poll."""
        with self.api.call(f"signalling {container.name}", node_id):
            container.kill(signal="SIGHUP")

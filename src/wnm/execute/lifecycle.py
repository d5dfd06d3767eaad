"""Node lifecycle operations: add, start, stop, restart, upgrade, remove, disable, enable.

Each operation records the node's new status through the Journal as soon as it is true, in an
order chosen so that a kill at any point leaves a state the next run repairs: a node row is
written before its files exist (a row without files is seen as BROKEN and cleaned up), and a
row is deleted only after the node's process, service, port and files are gone.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from wnm.backends.firewall.base import FirewallManager
from wnm.backends.process.base import ProcessManager
from wnm.domain.enums import NodeStatus
from wnm.domain.node import Node, NodeSpec
from wnm.domain.settings import Settings
from wnm.errors import PermanentFailure, TemporaryFailure, WnmError
from wnm.execute.journal import Journal
from wnm.system import files
from wnm.system.faults import checkpoint
from wnm.system.netcheck import port_free

log = logging.getLogger(__name__)

UpgradeCheck = Callable[[Node, str], str | None]
"""Waits for an upgraded node to come back; returns None when healthy, else the problem."""


@dataclass
class Lifecycle:
    manager: ProcessManager
    firewall: FirewallManager
    journal: Journal
    settings: Settings
    confirm_upgrade: UpgradeCheck
    clock: Callable[[], float] = time.time
    stop_timeout: float = 30.0

    def _now(self) -> int:
        return int(self.clock())

    def _status(self, node: Node, status: NodeStatus, reason: str, **changes: object) -> Node:
        updated = replace(
            node,
            status=status,
            status_reason=reason,
            status_changed_at=self._now() if status is not node.status else node.status_changed_at,
            **changes,  # type: ignore[arg-type]
        )
        return updated

    # ---- add ---------------------------------------------------------------------------------

    def add(self, spec: NodeSpec, reason: str) -> Node:
        """Create and start a new node. On failure everything done so far is undone."""
        for port, proto, host in (
            (spec.port, "udp", "0.0.0.0"),
            (spec.metrics_port, "tcp", "127.0.0.1"),
        ):
            if not port_free(port, proto, host):
                raise TemporaryFailure(f"port {port}/{proto} for node {spec.id:04d} is in use", spec.id)
        now = self._now()
        node = Node(
            id=spec.id,
            generation=spec.generation,
            manager=spec.manager,
            root_dir=spec.root_dir,
            log_dir=spec.log_dir,
            binary=spec.binary,
            port=spec.port,
            metrics_port=spec.metrics_port,
            rpc_port=spec.rpc_port,
            status=NodeStatus.RESTARTING,
            status_changed_at=now,
            age=now,
            wallet=spec.wallet,
            version=spec.version,
            host=spec.host,
            environment=spec.environment,
            storage_path=spec.storage_path,
            status_reason="being created",
        )
        highest = max(self.journal.highest_node_id(), spec.id)
        self.journal.save(node, {"highest_node_id_used": highest})
        checkpoint("add.row-written")
        try:
            if not self.manager.uses_own_paths():
                files.make_dir(spec.root_dir, 0o700)
                files.make_dir(spec.log_dir)
                files.copy_executable(spec.binary_source, spec.binary)
                files.copy_companions(spec.binary_source, spec.root_dir)
            checkpoint("add.files-written")
            node = self.manager.create(node)
            self.journal.save(node)
            self.firewall.open_port(node.port, "udp", comment=node.service_name)
            self.manager.start(node)
            checkpoint("add.started")
        except WnmError as exc:
            self._undo_add(node, exc)
            raise
        node = replace(node, status_reason=reason, status_changed_at=self._now())
        self.journal.save(node)
        return node

    def _undo_add(self, node: Node, cause: WnmError) -> None:
        problems: list[str] = []
        own = self.manager.uses_own_paths()
        steps: list[Callable[[], None]] = [
            lambda: self.manager.remove(node),
            lambda: self.firewall.close_port(node.port, "udp"),
        ]
        if not own:
            steps += [
                lambda: files.remove_node_dir(node.root_dir),
                lambda: files.remove_node_dir(node.log_dir),
            ]
        for step in steps:
            try:
                step()
            except WnmError as exc:
                problems.append(str(exc))
        if problems:
            reason = f"add failed ({cause}); cleanup incomplete: {'; '.join(problems)}"
            self.journal.save(self._status(node, NodeStatus.BROKEN, reason))
        else:
            self.journal.delete(node.id)

    # ---- start / stop / restart --------------------------------------------------------------

    def start(self, node: Node, reason: str, *, forgive: bool = False) -> Node:
        """Start a node; ``forgive`` (operator's forced start) also clears its crash history."""
        self.firewall.open_port(node.port, "udp", comment=node.service_name)
        self.manager.start(node)
        node = self._status(node, NodeStatus.RESTARTING, reason)
        if forgive:
            node = replace(node, recent_deaths=())
        node = replace(node, status_changed_at=self._now())
        self.journal.save(node)
        return node

    def stop(
        self, node: Node, reason: str, *, pressure: bool = False, status: NodeStatus = NodeStatus.STOPPED
    ) -> Node:
        self.manager.stop(node, timeout=self.stop_timeout)
        self.firewall.close_port(node.port, "udp")
        node = self._status(node, status, reason, pid=None)
        machine: dict[str, object] = {"last_stopped_at": self._now()}
        if pressure:
            machine["last_pressure_at"] = self._now()
        self.journal.save(node, machine)
        return node

    def restart(self, node: Node, reason: str) -> Node:
        self.firewall.open_port(node.port, "udp", comment=node.service_name)
        self.manager.restart(node)
        node = replace(self._status(node, NodeStatus.RESTARTING, reason), status_changed_at=self._now())
        self.journal.save(node)
        return node

    def disable(self, node: Node, reason: str) -> Node:
        return self.stop(node, reason, status=NodeStatus.DISABLED)

    def quarantine(self, node: Node, reason: str) -> Node:
        """Stop a crash-looping node and keep it down, with its last failure in the reason."""
        from wnm.nodes.health import failure_reason

        detail = failure_reason(node)
        return self.stop(
            node, reason + (f"; last failure: {detail}" if detail else ""), status=NodeStatus.QUARANTINED
        )

    def enable(self, node: Node, reason: str) -> Node:
        node = self._status(node, NodeStatus.STOPPED, reason, recent_deaths=())
        self.journal.save(node)
        return node

    # ---- upgrade -----------------------------------------------------------------------------

    def upgrade(self, node: Node, source: str, version: str, reason: str) -> Node:
        """Swap the node's binary for ``source`` and confirm it comes back on ``version``.

        On success the node stays UPGRADING (``upgrade_from`` = the old version, the old binary
        kept beside the new one) until the survey has seen it healthy for ``upgrade_settle``;
        the engine rolls it back if it does not settle. If it does not even come back now, the
        old binary is put back at once, the rollout paused with the reason, and
        PermanentFailure raised.
        """
        old_version = node.version
        node = replace(self._status(node, NodeStatus.UPGRADING, reason), status_changed_at=self._now())
        self.journal.save(node)
        if self.manager.upgrade_in_place(node, source):
            backup = ""
        else:
            self.manager.stop(node, timeout=self.stop_timeout)
            checkpoint("upgrade.stopped")
            backup = files.swap_in(node.binary, source)
            checkpoint("upgrade.swapped")
            self.manager.start(node)
        checkpoint("upgrade.started")
        problem = self.confirm_upgrade(node, version)
        if problem is None:
            node = replace(
                self._status(node, NodeStatus.UPGRADING, f"upgraded to {version}; settling"),
                status_changed_at=self._now(),
                version=version,
                upgrade_from=old_version or "unknown",
                binary_stamp="",
            )
            self.journal.save(node)
            return node
        why = f"upgrade of node {node.id:04d} to {version} failed: {problem}"
        if backup:
            try:
                self.manager.stop(node, timeout=self.stop_timeout)
            finally:
                files.restore(node.binary, backup)
            self.manager.start(node)
            why += "; old binary restored"
        node = replace(
            self._status(node, NodeStatus.RESTARTING, why),
            status_changed_at=self._now(),
            binary_stamp="",
            upgrade_from="",
        )
        self.journal.save(node, {"upgrade_paused": why})
        raise PermanentFailure(why, node.id)

    def rollback(self, node: Node, version: str, reason: str) -> Node:
        """Put a node that did not settle after an upgrade back on its old binary; pause upgrades."""
        backup = node.binary + ".old"
        self.manager.stop(node, timeout=self.stop_timeout)
        restored = os.path.exists(backup)
        if restored:
            files.restore(node.binary, backup)
        self.firewall.open_port(node.port, "udp", comment=node.service_name)
        self.manager.start(node)
        why = reason + ("" if restored else f" (no {backup} to restore: restarted as it is)")
        node = replace(
            self._status(node, NodeStatus.RESTARTING, why),
            status_changed_at=self._now(),
            version=(version if version != "unknown" else "") if restored else node.version,
            upgrade_from="",
            binary_stamp="",
        )
        self.journal.save(node, {"upgrade_paused": why})
        return node

    # ---- remove ------------------------------------------------------------------------------

    def remove(self, node: Node, reason: str) -> None:
        """Stop the node and delete its service, port rule, data and logs, then its row.

        If any step fails the row stays, marked BROKEN with the problem, so the next run retries.
        """
        node = replace(self._status(node, NodeStatus.REMOVING, reason), status_changed_at=self._now())
        self.journal.save(node)
        checkpoint("remove.marked")
        try:
            self.manager.remove(node)
            checkpoint("remove.service-gone")
            self.firewall.close_port(node.port, "udp")
            if not self.manager.uses_own_paths():
                files.remove_node_dir(node.root_dir)
                if node.log_dir and not node.log_dir.startswith(node.root_dir.rstrip("/") + "/"):
                    files.remove_node_dir(node.log_dir)
        except WnmError as exc:
            self.journal.save(self._status(node, NodeStatus.BROKEN, f"removal incomplete: {exc}"))
            raise
        checkpoint("remove.files-gone")
        self.journal.delete(node.id)

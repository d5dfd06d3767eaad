"""The executor's view of the store: every write is its own committed transaction.

Committing at once means a run killed at any point leaves the database describing what really
happened up to that point, and the next run repairs the rest from observation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wnm.domain.node import Node
from wnm.store import repository as repo
from wnm.store.db import Store


class Journal:
    def __init__(self, store: Store, source: str = "run") -> None:
        self.store = store
        self.source = source

    def save(self, node: Node, machine: Mapping[str, Any] | None = None) -> None:
        """Write the node row (insert or update), and optionally machine fields, in one commit."""
        with self.store.transaction() as conn:
            repo.save_node(conn, node)
            if machine:
                repo.update_machine(conn, machine)

    def delete(self, node_id: int) -> None:
        with self.store.transaction() as conn:
            repo.delete_node(conn, node_id)

    def log(
        self,
        *,
        action: str,
        node_id: int | None,
        reason: str,
        outcome: str,
        error: str = "",
        duration: float = 0.0,
    ) -> None:
        with self.store.transaction() as conn:
            repo.log_action(
                conn,
                action=action,
                node_id=node_id,
                reason=reason,
                outcome=outcome,
                error=error,
                duration=duration,
                source=self.source,
            )

    def highest_node_id(self) -> int:
        with self.store.transaction() as conn:
            row = repo.load_machine(conn)
            return int(row["highest_node_id_used"]) if row else 0

"""The executor's view of the store: every write is its own committed transaction.

Committing at once means a run killed at any point leaves the database describing what really
happened up to that point, and the next run repairs the rest from observation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from wnm.domain.node import Node
from wnm.store import repository as repo


class Journal:
    def __init__(self, engine: Engine, source: str = "run") -> None:
        self.engine = engine
        self.source = source

    def save(self, node: Node, machine: Mapping[str, Any] | None = None) -> None:
        """Write the node row (insert or update), and optionally machine fields, in one commit."""
        with Session(self.engine) as session:
            repo.save_node(session, node)
            if machine:
                repo.update_machine(session, machine)
            session.commit()

    def delete(self, node_id: int) -> None:
        with Session(self.engine) as session:
            repo.delete_node(session, node_id)
            session.commit()

    def machine(self, values: Mapping[str, Any]) -> None:
        with Session(self.engine) as session:
            repo.update_machine(session, values)
            session.commit()

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
        with Session(self.engine) as session:
            repo.log_action(
                session,
                action=action,
                node_id=node_id,
                reason=reason,
                outcome=outcome,
                error=error,
                duration=duration,
                source=self.source,
            )
            session.commit()

    def highest_node_id(self) -> int:
        with Session(self.engine) as session:
            row = repo.load_machine(session)
            return row.highest_node_id_used if row else 0

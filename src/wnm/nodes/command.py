"""The command line a node is started with."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NodeCommand:
    """argv (binary first) and extra environment variables for one node process."""

    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()

    @property
    def env_dict(self) -> dict[str, str]:
        return dict(self.env)

"""Merging the layers: built-in defaults < stored machine row < config file < env < command line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, replace
from typing import Any

from wnm.config.options import PERSISTED
from wnm.domain.settings import Settings
from wnm.errors import ConfigError

PERSISTED_NAMES = frozenset(o.name for o in PERSISTED)
IMMUTABLE_NAMES = frozenset(o.name for o in PERSISTED if o.immutable)


def persisted_given(given: Mapping[str, Any]) -> dict[str, Any]:
    """The tunables among the options the operator gave."""
    return {k: v for k, v in given.items() if k in PERSISTED_NAMES}


def merge(base: Settings, given: Mapping[str, Any]) -> Settings:
    """``base`` (defaults or the stored row) overlaid with the given tunables."""
    values = persisted_given(given)
    return replace(base, **values) if values else base


def check_immutable(stored: Settings, given: Mapping[str, Any]) -> None:
    """Refuse to change a setting fixed at --init (repeating the stored value is fine)."""
    for name in sorted(IMMUTABLE_NAMES & given.keys()):
        if given[name] != getattr(stored, name):
            raise ConfigError(
                name,
                f"cannot be changed after --init (stored {getattr(stored, name)!r}, given {given[name]!r}); "
                "it decides where existing nodes live",
            )


def changes(stored: Settings, merged: Settings) -> dict[str, Any]:
    """Fields whose value differs between the stored row and the merged settings."""
    old, new = asdict(stored), asdict(merged)
    return {k: v for k, v in new.items() if old[k] != v}

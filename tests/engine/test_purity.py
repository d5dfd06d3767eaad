"""The engine must stay pure: it imports only the domain, itself and side-effect-free stdlib."""

from __future__ import annotations

import ast
from pathlib import Path

import wnm.engine

ENGINE_DIR = Path(wnm.engine.__file__).parent
ALLOWED = {"__future__", "collections", "dataclasses", "decimal", "hashlib", "re", "typing", "enum"}
ALLOWED_PREFIXES = ("wnm.domain", "wnm.engine")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_engine_imports_nothing_with_side_effects() -> None:
    offenders = {}
    for path in sorted(ENGINE_DIR.glob("*.py")):
        bad = {
            m
            for m in imported_modules(path)
            if m.split(".")[0] not in ALLOWED and not m.startswith(ALLOWED_PREFIXES)
        }
        if bad:
            offenders[path.name] = sorted(bad)
    assert offenders == {}


def test_engine_modules_stay_small() -> None:
    sizes = {p.name: len(p.read_text().splitlines()) for p in ENGINE_DIR.glob("*.py")}
    assert max(sizes.values()) <= 300, sizes

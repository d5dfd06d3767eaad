"""Decision cases as data: each ``cases/*.json`` is settings + snapshot + now -> expected plan.

Expectation keys (all optional except that a case must expect something):
``actions`` — the exact list of actions in plan order, each a subset match on ``type``,
``node_id``, ``priority``, ``pressure``, ``then_status``, ``target_version``, ``binary_source``,
``reason`` (substring or list of substrings) and ``spec`` (subset of NodeSpec fields);
``idle`` — bool; ``idle_reason_contains``, ``blockers_contain``, ``blockers_exclude``,
``notes_contain``, ``notes_exclude`` — substrings (``*_exclude``: none may contain it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from wnm.domain.actions import Action, Plan
from wnm.domain.enums import ActionType
from wnm.engine import decide

from .loader import Case, load_case

CASES = sorted((Path(__file__).parent / "cases").glob("*.json"))
EXPECT_KEYS = {
    "actions",
    "idle",
    "idle_reason_contains",
    "blockers_contain",
    "blockers_exclude",
    "notes_contain",
    "notes_exclude",
}
ACTION_KEYS = {
    "type",
    "node_id",
    "priority",
    "pressure",
    "then_status",
    "target_version",
    "binary_source",
    "reason",
    "spec",
}


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _check_action(index: int, action: Action, want: dict[str, Any]) -> None:
    assert set(want) <= ACTION_KEYS, f"unknown action keys {set(want) - ACTION_KEYS}"
    where = f"action {index} ({action.describe()})"
    for key, value in want.items():
        if key == "reason":
            for part in _as_list(value):
                assert part in action.reason, f"{where}: reason lacks {part!r}"
        elif key == "spec":
            assert action.spec is not None, f"{where}: no spec"
            for field, expected in value.items():
                got = getattr(action.spec, field)
                got = got.value if hasattr(got, "value") else got
                assert got == expected, f"{where}: spec.{field} {got!r} != {expected!r}"
        else:
            got = getattr(action, key)
            got = got.value if hasattr(got, "value") else got
            assert got == value, f"{where}: {key} {got!r} != {value!r}"


def _check_invariants(plan: Plan) -> None:
    """What must hold for every plan, whatever the case."""
    ids = [a.node_id for a in plan.actions if a.node_id is not None]
    assert len(ids) == len(set(ids)), f"a node has two actions: {ids}"
    priorities = [a.priority for a in plan.actions]
    assert priorities == sorted(priorities, reverse=True)
    for action in plan.actions:
        assert action.reason.strip(), action
        if action.type not in (ActionType.SURVEY, ActionType.RESURVEY):
            assert action.node_id is not None, action
        if action.type is ActionType.ADD:
            assert action.spec is not None and action.spec.id == action.node_id
        if action.type is ActionType.UPGRADE:
            assert action.target_version and action.binary_source, action
        if action.type is ActionType.ROLLBACK:
            assert action.target_version, action
    if plan.is_idle:
        assert plan.idle_reason, "an idle plan must say why"
    else:
        assert not plan.idle_reason


def _plan_text(plan: Plan) -> str:
    lines = [a.describe() for a in plan.actions]
    lines += [f"idle_reason: {plan.idle_reason}"] if plan.idle_reason else []
    lines += [f"blocker: {b}" for b in plan.blockers] + [f"note: {n}" for n in plan.notes]
    return "\n".join(lines)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case(path: Path) -> None:
    case: Case = load_case(path)
    expect = case.expect
    assert expect and set(expect) <= EXPECT_KEYS, f"bad expect keys {set(expect)}"
    plan = decide(case.snapshot, case.settings, case.now)
    assert decide(case.snapshot, case.settings, case.now) == plan, "decide is not deterministic"
    context = f"{case.description}\n--- plan ---\n{_plan_text(plan)}"
    _check_invariants(plan)
    if "actions" in expect:
        wanted = expect["actions"]
        assert len(plan.actions) == len(wanted), context
        for index, (action, want) in enumerate(zip(plan.actions, wanted, strict=True)):
            try:
                _check_action(index, action, want)
            except AssertionError as error:
                raise AssertionError(f"{error}\n{context}") from None
    if "idle" in expect:
        assert plan.is_idle is expect["idle"], context
    for part in _as_list(expect.get("idle_reason_contains", [])):
        assert part in plan.idle_reason, f"idle reason lacks {part!r}\n{context}"
    for part in expect.get("blockers_contain", []):
        assert any(part in b for b in plan.blockers), f"no blocker contains {part!r}\n{context}"
    for part in expect.get("blockers_exclude", []):
        assert not any(part in b for b in plan.blockers), f"a blocker contains {part!r}\n{context}"
    for part in expect.get("notes_contain", []):
        assert any(part in n for n in plan.notes), f"no note contains {part!r}\n{context}"
    for part in expect.get("notes_exclude", []):
        assert not any(part in n for n in plan.notes), f"a note contains {part!r}\n{context}"


def test_there_are_many_cases() -> None:
    assert len(CASES) >= 60

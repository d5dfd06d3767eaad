"""The one exception root of wnm and its families.

Every error wnm raises on purpose derives from :class:`WnmError`. The CLI maps the families to
exit codes in exactly one place (``wnm.cli``):

* :class:`UsageError` / :class:`ConfigError` -> 2 (the operator's input is wrong; nothing changed)
* :class:`AlreadyRunning` -> 75 (another run holds the lock)
* everything else -> 1 (a runtime failure)

Action failures are split into :class:`TemporaryFailure` (worth retrying next run: a timeout,
a busy port) and :class:`PermanentFailure` (retrying will not help: a missing binary, a refused
permission).
"""

from __future__ import annotations

from collections.abc import Sequence


class WnmError(Exception):
    """Root of every error wnm raises deliberately."""


class UsageError(WnmError):
    """The command line is wrong (unknown option, bad combination)."""


class ConfigError(WnmError):
    """A setting is invalid; carries the option name and the rule it broke."""

    def __init__(self, option: str, rule: str) -> None:
        super().__init__(f"--{option}: {rule}")
        self.option = option
        self.rule = rule


class NotInitialized(WnmError):
    """There is no machine row yet; the operator must run ``wnm --init`` first."""


class AlreadyRunning(WnmError):
    """Another wnm run holds the run lock."""


class StoreError(WnmError):
    """The database cannot be opened, migrated or written."""


class ActionFailure(WnmError):
    """An action on a node failed. ``node_id`` may be None for machine-wide actions."""

    def __init__(self, message: str, node_id: int | None = None) -> None:
        super().__init__(message)
        self.node_id = node_id


class TemporaryFailure(ActionFailure):
    """A failure that may go away by itself (timeout, busy resource)."""


class PermanentFailure(ActionFailure):
    """A failure that will recur until something is changed (missing file, bad setting)."""


class BackendUnavailable(WnmError):
    """A chosen process manager or firewall cannot be used on this host; ``reason`` says why."""

    def __init__(self, backend: str, reason: str) -> None:
        super().__init__(f"{backend} is not usable here: {reason}")
        self.backend = backend
        self.reason = reason


class CommandError(TemporaryFailure):
    """An external command exited non-zero. Carries argv, exit code and captured output."""

    def __init__(self, argv: Sequence[str], returncode: int, output: str) -> None:
        tail = output.strip().splitlines()[-3:] if output.strip() else []
        detail = " | ".join(tail)
        super().__init__(f"{' '.join(argv)} exited {returncode}" + (f": {detail}" if detail else ""))
        self.argv = list(argv)
        self.returncode = returncode
        self.output = output


class CommandTimeout(TemporaryFailure):
    """An external command did not finish within its timeout and was killed."""

    def __init__(self, argv: Sequence[str], timeout: float) -> None:
        super().__init__(f"{' '.join(argv)} timed out after {timeout:g}s")
        self.argv = list(argv)
        self.timeout = timeout


class CommandNotFound(PermanentFailure):
    """The program of an external command does not exist."""

    def __init__(self, program: str) -> None:
        super().__init__(f"{program}: command not found")
        self.program = program

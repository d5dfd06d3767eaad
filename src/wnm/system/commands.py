"""The one seam for external commands: argv lists, a timeout, captured output.

Backends take a :class:`CommandRunner` so tests can put a fake at this seam (only where the real
program cannot exist here, e.g. ``launchctl`` on Linux). Nothing else in wnm calls ``subprocess``
for commands that must finish (long-running node processes are spawned in ``system.spawn``).
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from wnm.errors import CommandError, CommandNotFound, CommandTimeout

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return (self.stdout + ("\n" if self.stdout and self.stderr else "") + self.stderr).strip()


class CommandRunner(Protocol):
    def __call__(
        self,
        argv: Sequence[str],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        check: bool = True,
        env: Mapping[str, str] | None = None,
        input: str | None = None,
    ) -> CommandResult: ...


def run(
    argv: Sequence[str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
) -> CommandResult:
    """Run ``argv`` (never through a shell), wait at most ``timeout`` seconds.

    ``env`` entries are added to the current environment. Raises :class:`CommandNotFound`,
    :class:`CommandTimeout`, or (with ``check``) :class:`CommandError` on a non-zero exit.
    """
    if isinstance(argv, str):  # defensive: a shell string would be a bug
        raise TypeError("argv must be a sequence, not a string")
    argv_t = tuple(str(a) for a in argv)
    full_env = None
    if env:
        full_env = dict(os.environ)
        full_env.update(env)
    log.debug("run: %s", " ".join(argv_t))
    try:
        proc = subprocess.run(
            argv_t,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=full_env,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            check=False,
        )
    except FileNotFoundError as exc:
        raise CommandNotFound(argv_t[0]) from exc
    except subprocess.TimeoutExpired as exc:
        raise CommandTimeout(argv_t, timeout) from exc
    result = CommandResult(argv_t, proc.returncode, proc.stdout or "", proc.stderr or "")
    if check and proc.returncode != 0:
        raise CommandError(argv_t, proc.returncode, result.output)
    return result


@dataclass(frozen=True)
class Privilege:
    """Whether commands that need root are prefixed with ``sudo -n`` (``+sudo`` modes only).

    ``-n`` makes sudo fail at once instead of prompting, which would hang under cron.
    """

    sudo: bool = False

    def wrap(self, argv: Sequence[str]) -> list[str]:
        if self.sudo and os.geteuid() != 0:
            return ["sudo", "-n", *argv]
        return list(argv)

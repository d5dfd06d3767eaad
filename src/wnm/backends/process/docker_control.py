"""wnm's side of the control-directory protocol of ``docker/wnm-supervisor.sh``.

A container holding several nodes runs the supervisor script; wnm steers it through plain files
in a directory bind-mounted at the same path on the host and in the container:
``<container dir>/<node name>/{argv,env,want,stop_timeout}`` written here, ``state`` and
``restarts`` written by the supervisor. Reading states is a file read on the host, no docker API
call. The full protocol is described at the top of the script.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from wnm.errors import PermanentFailure, TemporaryFailure

WANT_RUN = "run"
WANT_STOP = "stop"


@dataclass(frozen=True)
class RunState:
    """A node's state as the supervisor last wrote it.

    ``kind`` is ``running``, ``backoff`` (exited while wanted, restart pending), ``stopped`` or
    ``unknown`` (no state written yet). ``pid`` is the pid inside the container.
    """

    kind: str
    pid: int | None = None
    exit_code: int | None = None
    restarts: int = 0


def parse_state(line: str, restarts_text: str = "") -> RunState:
    """Parse a ``state`` line (``running 42 1700000000`` / ``backoff 1 …`` / ``stopped 0``)."""
    words = line.split()
    restarts = int(restarts_text) if restarts_text.strip().isdigit() else 0
    if not words:
        return RunState("unknown", restarts=restarts)
    kind, args = words[0], words[1:]
    number = int(args[0]) if args and args[0].lstrip("-").isdigit() else None
    if kind == "running":
        return RunState("running", pid=number, restarts=restarts)
    if kind in ("backoff", "stopped"):
        return RunState(kind, exit_code=number, restarts=restarts)
    return RunState("unknown", restarts=restarts)


def _write(path: Path, text: str) -> None:
    """Replace ``path`` atomically, so the supervisor never reads half a file."""
    tmp = path.with_name(f".{path.name}.wnm-{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except (FileNotFoundError, NotADirectoryError):
        return ""


def _lines(values: list[str], what: str) -> str:
    for value in values:
        if "\n" in value or "\r" in value:
            raise PermanentFailure(
                f"{what} contains a line break, which the supervisor cannot pass: {value!r}"
            )
    return "".join(f"{value}\n" for value in values)


class NodeControl:
    """The control files of one node inside one group container's directory."""

    def __init__(self, container_dir: Path, node_name: str) -> None:
        self.dir = container_dir / node_name

    def exists(self) -> bool:
        return (self.dir / "want").is_file()

    def define(self, argv: list[str], env: dict[str, str], owner: tuple[int, int] | None) -> None:
        """Write the node's command with ``want=stop`` (defined, not started); reset its counters."""
        self.dir.mkdir(parents=True, exist_ok=True)
        _write(self.dir / "argv", _lines(argv, "argv"))
        _write(self.dir / "env", _lines([f"{k}={v}" for k, v in env.items()], "env"))
        _write(self.dir / "restarts", "0\n")
        _write(self.dir / "want", f"{WANT_STOP}\n")
        if owner is not None and os.geteuid() == 0:
            for path in (self.dir, *self.dir.iterdir()):
                os.chown(path, *owner)

    def want(self, want: str, stop_timeout: float | None = None) -> None:
        if stop_timeout is not None:
            _write(self.dir / "stop_timeout", f"{max(1, int(stop_timeout))}\n")
        _write(self.dir / "want", f"{want}\n")

    def state(self) -> RunState:
        return parse_state(_read(self.dir / "state"), _read(self.dir / "restarts"))

    def output_tail(self, chars: int = 400) -> str:
        return _read(self.dir / "output")[-chars:].strip()

    def wait_for(self, kinds: tuple[str, ...], timeout: float, what: str) -> RunState:
        """Poll the state until its kind is one of ``kinds``; TemporaryFailure after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.state()
            if state.kind in kinds:
                return state
            if time.monotonic() >= deadline:
                raise TemporaryFailure(f"{what}: supervisor state is still {state.kind!r} after {timeout:g}s")
            time.sleep(0.05)


def member_names(container_dir: Path) -> list[str]:
    """Names of the nodes defined in a group container's control directory."""
    try:
        entries = sorted(container_dir.iterdir())
    except FileNotFoundError:
        return []
    return [entry.name for entry in entries if (entry / "want").is_file()]


def supervisor_ready(container_dir: Path) -> bool:
    return (container_dir / ".ready").is_file()

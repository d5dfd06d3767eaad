"""Pure rendering of a node's systemd unit, with systemd's own quoting rules.

Why this is careful (wnm-compat D30): older wnm joined argv with spaces and pasted free text into
one ``Environment=`` line, so paths with spaces broke and a newline could inject directives.
Here every ``ExecStart=`` argument and every ``Environment=`` assignment is escaped for what
systemd does to it when it loads the unit:

* specifiers: ``%`` starts a specifier in both directives, so it is written ``%%``;
* ``ExecStart=`` splits on whitespace, unquotes ``"..."`` and applies C escapes, then expands
  ``$VAR``/``${VAR}`` from the environment at exec time: an argument with whitespace, quotes,
  backslashes or ``;`` is double-quoted with ``\\`` and ``\"`` escaped, and ``$`` becomes ``$$``;
* ``Environment="K=V"``: one line per variable; ``\\`` and ``"`` escaped (no ``$`` expansion
  happens there);
* control characters (newline above all) are refused everywhere: no value can add a line.

The unit restarts always (a node that exits 0 after a self-upgrade must come back), and has an
``[Install]`` section so that enabling it brings the node back at boot (wnm-compat D29).
``KillMode=mixed``: SIGTERM goes to the node itself, and whatever is left in the unit's cgroup
(a helper or a half-started self-upgrade copy) is SIGKILLed when the stop completes.
"""

from __future__ import annotations

import re

from wnm.errors import PermanentFailure
from wnm.nodes.command import NodeCommand

RESTART_SEC = 5
TIMEOUT_STOP_SEC = 30

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NEEDS_QUOTES = re.compile(r"""[\s"'\\;]""")


def render_unit(
    command: NodeCommand,
    *,
    description: str,
    working_directory: str,
    system: bool,
    user: str | None = None,
) -> str:
    """The text of the unit file for ``command``.

    ``system`` selects a system unit (``WantedBy=multi-user.target``, may carry ``User=``) or
    a user unit (``WantedBy=default.target``, never ``User=``). Raises :class:`PermanentFailure`
    for values systemd cannot carry safely (control characters, a relative binary path, an
    invalid variable name).
    """
    if not command.argv or not command.argv[0].startswith("/"):
        raise PermanentFailure(f"systemd needs an absolute binary path, got {command.argv[:1]!r}")
    if not working_directory.startswith("/") or working_directory.endswith("\\"):
        raise PermanentFailure(f"unusable working directory for a unit: {working_directory!r}")
    if user is not None and (not user or _NEEDS_QUOTES.search(user) or _CONTROL.search(user)):
        raise PermanentFailure(f"unusable unit user name {user!r}")
    unit = ["[Unit]", f"Description={_plain(description)}", "After=network-online.target"]
    if system:
        unit.append("Wants=network-online.target")
    service = ["[Service]", "Type=simple", f"WorkingDirectory={_plain(working_directory)}"]
    service += [f"Environment={quote_environment(key, value)}" for key, value in command.env]
    service += [
        "ExecStart=" + " ".join(quote_exec_arg(arg) for arg in command.argv),
        "Restart=always",
        f"RestartSec={RESTART_SEC}",
        f"TimeoutStopSec={TIMEOUT_STOP_SEC}",
        "KillMode=mixed",
    ]
    if system and user:
        service.append(f"User={user}")
    install = ["[Install]", f"WantedBy={'multi-user.target' if system else 'default.target'}"]
    return "\n".join([*unit, "", *service, "", *install]) + "\n"


def quote_exec_arg(arg: str) -> str:
    """One ``ExecStart=`` argument as systemd must read it back to get exactly ``arg``."""
    _refuse_control(arg)
    escaped = arg.replace("%", "%%").replace("$", "$$")
    if arg and not _NEEDS_QUOTES.search(arg):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote_environment(name: str, value: str) -> str:
    """``"NAME=value"`` for an ``Environment=`` line (the line prefix is added by the caller)."""
    if not _ENV_NAME.match(name):
        raise PermanentFailure(f"invalid environment variable name {name!r}")
    _refuse_control(value)
    escaped = value.replace("%", "%%").replace("\\", "\\\\").replace('"', '\\"')
    return f'"{name}={escaped}"'


def _plain(value: str) -> str:
    """A single-valued directive (no quoting in systemd): only specifiers need escaping."""
    _refuse_control(value)
    return value.replace("%", "%%")


def _refuse_control(value: str) -> None:
    if _CONTROL.search(value):
        raise PermanentFailure(f"control characters (e.g. a newline) cannot go into a unit: {value!r}")

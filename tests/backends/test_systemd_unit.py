"""Unit rendering (snapshots + quoting rules) and the ``systemctl show`` parser on recorded output.

Snapshots live in ``snapshots/``; regenerate deliberately with ``WNM_UPDATE_SNAPSHOTS=1``. That
systemd reads these quoted lines back to the exact argv/env is proven against real systemd in
``tests/integration/inside/test_systemd_inside.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wnm.backends.process.base import ProcessState
from wnm.backends.process.systemd import SHOW_PROPERTIES, parse_show_output, status_from_properties
from wnm.backends.process.systemd_unit import quote_environment, quote_exec_arg, render_unit
from wnm.errors import PermanentFailure
from wnm.nodes.command import NodeCommand

SNAPSHOTS = Path(__file__).parent / "snapshots"
ROOT = "/var/antctl/services/antnode0001"
LEGACY_ARGV = (
    f"{ROOT}/antnode",
    "--bootstrap-cache-dir",
    "/var/antctl/bootstrap-cache",
    "--root-dir",
    ROOT,
    "--port",
    "55001",
    "--enable-metrics-server",
    "--metrics-server-port",
    "13001",
    "--log-output-dest",
    "/var/log/antnode/antnode0001",
    "--max-log-files",
    "1",
    "--max-archived-log-files",
    "1",
    "--rewards-address",
    "0x00455d78f850b0358E8cea5be24d415E01E107CF",
    "evm-arbitrum-one",
)
NASTY_ARGS = (
    "/opt/my nodes/antnode",
    "--root-dir",
    "/srv/ant nodes/antnode0002",
    "--label",
    'say "hi" \\ bye',
    "--pct",
    "100%",
    "--dollar",
    "$HOME and ${USER}",
    ";",
    "",
    "single'quote",
    "ünïcödé",
)


def check_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("WNM_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing snapshot {path}; create it with WNM_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(encoding="utf-8")


def test_system_unit_snapshot() -> None:
    command = NodeCommand(LEGACY_ARGV, (("ANT_LOG", "ant_evm=error"), ("RUST_BACKTRACE", "1")))
    text = render_unit(
        command, description="wnm node antnode0001", working_directory=ROOT, system=True, user="ant"
    )
    check_snapshot("antnode0001-system.service", text)


def test_user_unit_snapshot_has_no_user_line() -> None:
    command = NodeCommand(LEGACY_ARGV)
    text = render_unit(
        command, description="wnm node antnode0001", working_directory=ROOT, system=False, user="ant"
    )
    check_snapshot("antnode0001-user.service", text)
    assert "User=" not in text and "WantedBy=default.target" in text


def test_quoting_snapshot() -> None:
    command = NodeCommand(NASTY_ARGS, (("A_B", 'x "y" \\z %i $PATH'), ("EMPTY", "")))
    text = render_unit(
        command,
        description="wnm node antnode0002 100%",
        working_directory="/srv/ant nodes/antnode0002",
        system=True,
    )
    check_snapshot("quoting.service", text)


@pytest.mark.parametrize(
    ("arg", "quoted"),
    [
        ("/usr/bin/antnode", "/usr/bin/antnode"),
        ("/my dir/x", '"/my dir/x"'),
        ('a"b', '"a\\"b"'),
        ("a\\b", '"a\\\\b"'),
        ("50%", "50%%"),
        ("$X", "$$X"),
        ("a b$c%d", '"a b$$c%%d"'),
        (";", '";"'),
        ("", '""'),
        ("it's", '"it\'s"'),
    ],
)
def test_exec_arguments_are_quoted_for_systemd(arg: str, quoted: str) -> None:
    assert quote_exec_arg(arg) == quoted


def test_environment_lines_escape_but_do_not_touch_dollars() -> None:
    assert quote_environment("K", 'a "b" \\c 5% $D') == '"K=a \\"b\\" \\\\c 5%% $D"'


@pytest.mark.parametrize(
    ("argv", "env", "workdir"),
    [
        (("/bin/x", "a\nExecStartPre=/bin/evil"), (), "/r"),
        (("/bin/x", "tab\there"), (), "/r"),
        (("/bin/x",), (("K", "v\n[Service]"),), "/r"),
        (("/bin/x",), (("BAD NAME", "v"),), "/r"),
        (("/bin/x",), (("1X", "v"),), "/r"),
        (("antnode",), (), "/r"),
        (("/bin/x",), (), "relative"),
        (("/bin/x",), (), "/r\n"),
    ],
)
def test_values_that_could_inject_directives_are_refused(
    argv: tuple[str, ...], env: tuple[tuple[str, str], ...], workdir: str
) -> None:
    with pytest.raises(PermanentFailure):
        render_unit(NodeCommand(argv, env), description="d", working_directory=workdir, system=True)


def test_user_with_spaces_is_refused() -> None:
    with pytest.raises(PermanentFailure):
        render_unit(
            NodeCommand(("/bin/x",)), description="d", working_directory="/r", system=True, user="a b"
        )


def recorded(name: str) -> str:
    return (SNAPSHOTS / name).read_text(encoding="utf-8")


def test_parse_show_output_recorded_from_systemd_252() -> None:
    """Recorded inside nspawn: running, auto-restart after exit 0, stopped, not-found."""
    blocks = parse_show_output(recorded("systemctl-show.txt"))
    by_id = {block["Id"]: block for block in blocks}
    assert len(blocks) == 4 and set(blocks[0]) == set(SHOW_PROPERTIES)
    running = status_from_properties(by_id["antnode0001.service"])
    assert running.state is ProcessState.RUNNING and running.pid and running.pid > 0
    restarting = status_from_properties(by_id["antnode0002.service"])
    assert (restarting.state, restarting.exit_code, restarting.restarts) == (ProcessState.STOPPED, 0, 1)
    assert restarting.detail.startswith("activating/auto-restart")
    stopped = status_from_properties(by_id["antnode0003.service"])
    assert (stopped.state, stopped.detail) == (ProcessState.STOPPED, "inactive/dead")
    missing = status_from_properties(by_id["antnode0004.service"])
    assert missing.state is ProcessState.MISSING and "not-found" in missing.detail


def test_killed_main_process_reports_minus_signal() -> None:
    props = {"LoadState": "loaded", "ActiveState": "failed", "SubState": "failed", "MainPID": "0"}
    status = status_from_properties(
        {**props, "ExecMainCode": "2", "ExecMainStatus": "9", "UnitFileState": "disabled"}
    )
    assert (status.exit_code, status.detail) == (-9, "failed/failed, disabled")


def test_parse_keeps_values_containing_equals_and_skips_noise() -> None:
    assert parse_show_output("\nId=a.service\nX=k=v\n\n\nId=b.service\n") == [
        {"Id": "a.service", "X": "k=v"},
        {"Id": "b.service"},
    ]

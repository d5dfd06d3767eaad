"""launchd plist rendering (snapshot, XML escaping) and the ``launchctl list`` parser."""

from __future__ import annotations

import os
import plistlib
from pathlib import Path

import pytest

from wnm.backends.process.launchd import parse_launchctl_list
from wnm.backends.process.launchd_plist import label_for, render_plist
from wnm.errors import PermanentFailure
from wnm.nodes.command import NodeCommand

SNAPSHOTS = Path(__file__).parent / "snapshots"
ROOT = "/Users/ant/Library/Application Support/autonomi/node/antnode0001"
ARGV = (
    f"{ROOT}/antnode",
    "--root-dir",
    ROOT,
    "--port",
    "55001",
    "--metrics-server-port",
    "13001",
    "--log-output-dest",
    "/Users/ant/Library/Logs/autonomi/antnode0001",
    "--rewards-address",
    "0x00455d78f850b0358E8cea5be24d415E01E107CF",
    "evm-arbitrum-one",
)
# Recorded shape of `launchctl list` on macOS 14 (tab separated; trimmed).
LAUNCHCTL_LIST = (
    "PID\tStatus\tLabel\n"
    "-\t0\tcom.apple.SafariHistoryServiceAgent\n"
    "1523\t0\tcom.autonomi.antnode-1\n"
    "-\t-15\tcom.autonomi.antnode-2\n"
    "-\t78\tcom.autonomi.antnode-3\n"
    "675\t-9\tcom.autonomi.antnode-12\n"
)


def test_plist_snapshot() -> None:
    command = NodeCommand(ARGV, (("ANT_LOG", "ant_evm=error"),))
    data = render_plist(
        label_for(1), command, working_directory=ROOT, log_path="/Users/ant/Library/Logs/autonomi/console.log"
    )
    path = SNAPSHOTS / "com.autonomi.antnode-1.plist"
    if os.environ.get("WNM_UPDATE_SNAPSHOTS") == "1":
        path.write_bytes(data)
    assert path.exists(), f"missing snapshot {path}; create it with WNM_UPDATE_SNAPSHOTS=1"
    assert data.decode() == path.read_text(encoding="utf-8")


def test_plist_escapes_xml_and_round_trips() -> None:
    argv = ("/opt/a & b/antnode", "--label", "<x> \"q\" 'a' ]]> 100% $HOME")
    data = render_plist("com.autonomi.antnode-2", NodeCommand(argv), working_directory="/r", log_path="/l")
    assert b"&amp;" in data and b"&lt;x&gt;" in data
    job = plistlib.loads(data)
    assert job["ProgramArguments"] == list(argv)
    assert (job["KeepAlive"], job["RunAtLoad"], job["Label"]) == (True, True, "com.autonomi.antnode-2")
    assert "EnvironmentVariables" not in job


def test_plist_refuses_control_characters() -> None:
    with pytest.raises(PermanentFailure):
        render_plist("l", NodeCommand(("/bin/x", "a\x01b")), working_directory="/r", log_path="/l")


def test_parse_launchctl_list() -> None:
    jobs = parse_launchctl_list(LAUNCHCTL_LIST)
    assert jobs["com.autonomi.antnode-1"] == (1523, 0)
    assert jobs["com.autonomi.antnode-2"] == (None, -15)
    assert jobs["com.autonomi.antnode-3"] == (None, 78)
    assert jobs["com.autonomi.antnode-12"] == (675, -9)
    assert "PID" not in jobs and len(jobs) == 5

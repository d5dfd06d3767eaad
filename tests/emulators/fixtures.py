"""Helpers and pytest fixtures shared by the emulator tests (and usable by other test modules).

Import the fixtures into a test module (``from ...fixtures import procs``) so pytest finds them.
Everything started through ``Procs`` is killed by PID when the test ends, including processes
that detached themselves (self-upgrade re-exec, antctl-started nodes): those are found by their
command line containing the test's own temporary directory.
"""

from __future__ import annotations

import contextlib
import http.client
import math
import os
import random
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

REWARDS = "0x03B770D9cD32077cC0bF330c13C114a87643B124"


# --------------------------------------------------------------------------- ports and waiting


def free_port() -> int:
    """A random port free for both TCP (127.0.0.1) and UDP (0.0.0.0) right now, picked below
    Linux's ephemeral range (32768+) so outgoing connections cannot take it before it is used."""
    for _ in range(200):
        port = random.randint(20000, 32700)
        try:
            with (
                socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp,
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp,
            ):
                tcp.bind(("127.0.0.1", port))
                udp.bind(("0.0.0.0", port))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port found")


def wait_for(predicate: Callable[[], object], timeout: float = 5.0, interval: float = 0.03) -> object:
    """Poll until predicate() is truthy; returns its value or raises AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {predicate}")
        time.sleep(interval)


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def http_get(port: int, path: str = "/metrics", timeout: float = 3.0) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


# --------------------------------------------------------------------------- processes


def cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                return []
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return [p.decode(errors="replace") for p in handle.read().split(b"\0")[:-1]]
    except (OSError, IndexError):
        return []


def alive(pid: int) -> bool:
    return bool(cmdline(pid))


def pids_mentioning(text: str) -> list[int]:
    """Live processes with an argument equal to text or containing the directory text + '/'."""
    own = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == own:
            continue
        if any(part == text or text + "/" in part for part in cmdline(int(entry))):
            found.append(int(entry))
    return found


class Procs:
    """Starts processes for one test and kills every one of them (by PID) afterwards."""

    def __init__(self, scope: Path) -> None:
        self.scope = str(scope)
        self.started: list[subprocess.Popen[str]] = []

    def spawn(self, argv: Sequence[object], **kwargs: Any) -> subprocess.Popen[str]:
        kwargs.setdefault("stdout", subprocess.PIPE)
        kwargs.setdefault("stderr", subprocess.PIPE)
        kwargs.setdefault("text", True)
        process: subprocess.Popen[str] = subprocess.Popen([str(a) for a in argv], **kwargs)
        self.started.append(process)
        return process

    def run(
        self, argv: Sequence[object], timeout: float = 20.0, **kwargs: Any
    ) -> subprocess.CompletedProcess[str]:
        """Run to completion (antctl, --version, failing starts); killed on timeout."""
        process = self.spawn(argv, **kwargs)
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            raise
        return subprocess.CompletedProcess(process.args, process.returncode, out, err)

    def cleanup(self) -> None:
        for process in self.started:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGKILL)
        for _ in range(3):
            strays = pids_mentioning(self.scope)
            if not strays:
                break
            for pid in strays:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)
        for process in self.started:  # reap, and close our ends of the pipes
            with contextlib.suppress(Exception):
                process.communicate(timeout=5)


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Procs]:
    tracker = Procs(tmp_path)
    try:
        yield tracker
    finally:
        tracker.cleanup()


# --------------------------------------------------------------------------- OpenMetrics check

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SAMPLE = re.compile(rf"^({_NAME})(?:\{{(.*)\}})? (\S+)(?: (\S+))?$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "info": ("_info",),
    "unknown": ("",),
}


def _labels(text: str | None) -> list[tuple[str, str]] | None:
    if not text:
        return []
    pairs, position = [], 0
    while position < len(text):
        match = _LABEL.match(text, position)
        if not match:
            return None
        pairs.append((match.group(1), match.group(2)))
        position = match.end()
        if position < len(text):
            if text[position] != ",":
                return None
            position += 1
    return pairs


def check_openmetrics(body: str) -> list[str]:
    """Strict-enough OpenMetrics text syntax check; returns a list of problems (empty = valid)."""
    errors: list[str] = []
    if not body.endswith("# EOF\n"):
        errors.append("body does not end with '# EOF\\n'")
    lines = body.split("\n")[:-1]
    if lines.count("# EOF") != 1:
        errors.append("'# EOF' must appear exactly once, as the last line")
    family: str | None = None
    kind = "unknown"
    finished: set[str] = set()
    meta_seen: set[tuple[str, str]] = set()
    seen_samples: set[str] = set()
    buckets: dict[str, list[tuple[float, float]]] = {}
    counts: dict[str, float] = {}
    for number, line in enumerate(lines[:-1], 1):
        where = f"line {number}: {line[:80]!r}"
        if line.startswith("#"):
            match = re.match(rf"^# (HELP|TYPE|UNIT) ({_NAME})(?: (.*))?$", line)
            if not match:
                errors.append(f"{where}: malformed comment")
                continue
            word, name, rest = match.groups()
            if name != family:
                if name in finished:
                    errors.append(f"{where}: family {name} is not contiguous")
                if family:
                    finished.add(family)
                family, kind = name, "unknown"
            if (name, word) in meta_seen:
                errors.append(f"{where}: duplicate {word}")
            meta_seen.add((name, word))
            if word == "TYPE":
                if rest not in _SUFFIXES:
                    errors.append(f"{where}: unknown type {rest}")
                kind = rest or "unknown"
                if kind == "counter" and name.endswith("_total"):
                    errors.append(f"{where}: counter family name must not end in _total")
            if word == "UNIT" and not name.endswith(f"_{rest}"):
                errors.append(f"{where}: family name must end with its unit")
            if word == "HELP" and rest is None:
                errors.append(f"{where}: HELP without text")
            continue
        match = _SAMPLE.match(line)
        if not match:
            errors.append(f"{where}: not a sample line")
            continue
        name, label_text, value_text, _stamp = match.groups()
        labels = _labels(label_text)
        if labels is None:
            errors.append(f"{where}: bad labels")
            continue
        try:
            value = float(value_text)
        except ValueError:
            errors.append(f"{where}: bad value {value_text!r}")
            continue
        if family is None or not any(name == family + s for s in _SUFFIXES.get(kind, ("",))):
            errors.append(f"{where}: sample {name} outside its family (current {family}, {kind})")
            continue
        key = name + "{" + ",".join(f"{k}={v}" for k, v in labels) + "}"
        if key in seen_samples:
            errors.append(f"{where}: duplicate sample")
        seen_samples.add(key)
        if kind == "counter" and (value < 0 or math.isnan(value)):
            errors.append(f"{where}: negative counter")
        if kind == "histogram":
            series = f"{family}{{" + ",".join(f"{k}={v}" for k, v in labels if k != "le") + "}"
            if name.endswith("_bucket"):
                bound = dict(labels).get("le")
                if bound is None:
                    errors.append(f"{where}: bucket without le")
                    continue
                buckets.setdefault(series, []).append((float(bound), value))
            elif name.endswith("_count"):
                counts[series] = value
    for series, points in buckets.items():
        bounds = [b for b, _ in points]
        values = [v for _, v in points]
        if bounds != sorted(bounds) or bounds[-1] != math.inf:
            errors.append(f"histogram {series}: buckets unsorted or missing +Inf")
        if values != sorted(values):
            errors.append(f"histogram {series}: bucket counts not cumulative")
        if series in counts and counts[series] != values[-1]:
            errors.append(f"histogram {series}: +Inf bucket differs from _count")
    return errors

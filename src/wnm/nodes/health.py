"""Health signals read from a node's files: data size, log problems, why it stopped.

Second-generation nodes have no metrics endpoint (ant-node-v2.md §7), so their health comes from
the process, the size of ``<root>/chunks.mdb/data.mdb`` and known problem lines in the newest
daily log. For legacy nodes ``critical_failure.log`` holds the reason of the last failed stop.

Logs are read from the end only (:data:`TAIL_BYTES`), never whole: a node log can be 20 MiB.
"""

from __future__ import annotations

import os

from wnm.domain.enums import Generation
from wnm.domain.node import Node

TAIL_BYTES = 16 * 1024

V2_LOG_PREFIX = "ant-node."
LEGACY_LOG = "antnode.log"
CRITICAL_FAILURE_LOG = "critical_failure.log"

PROBLEM_DISK_FULL = "insufficient disk space"
PROBLEM_MULTIPLE_IDENTITIES = "multiple node identities"
PROBLEM_PORT_IN_USE = "port already in use"

# (text found in a log line, problem label); labels are stable so the engine can match them.
_PROBLEM_PATTERNS: tuple[tuple[str, str], ...] = (
    ("Insufficient disk space", PROBLEM_DISK_FULL),
    ("Multiple node identities found", PROBLEM_MULTIPLE_IDENTITIES),
    ("Address already in use", PROBLEM_PORT_IN_USE),
)


def data_size(root_dir: str) -> int:
    """Bytes a v2 node's chunk store occupies on disk (0 when it has none yet).

    Uses the allocated size when smaller than the apparent one: LMDB files can be sparse.
    """
    try:
        st = os.stat(os.path.join(root_dir, "chunks.mdb", "data.mdb"))
    except OSError:
        return 0
    allocated = getattr(st, "st_blocks", 0) * 512
    return min(st.st_size, allocated) if allocated else st.st_size


def newest_v2_log(log_dir: str) -> str | None:
    """Path of the newest daily log ``ant-node.YYYY-MM-DD.log`` in ``log_dir`` (names sort by date)."""
    try:
        with os.scandir(log_dir) as it:
            names = [e.name for e in it if e.name.startswith(V2_LOG_PREFIX) and e.name.endswith(".log")]
    except OSError:
        return None
    return os.path.join(log_dir, max(names)) if names else None


def read_tail(path: str, limit: int = TAIL_BYTES) -> str:
    """The last ``limit`` bytes of ``path`` as text, starting at a line boundary; "" if unreadable."""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            start = max(0, size - limit)
            f.seek(start)
            data = f.read(limit)
    except OSError:
        return ""
    if start > 0:
        cut = data.find(b"\n")
        data = data[cut + 1 :] if cut >= 0 else b""
    return data.decode("utf-8", errors="replace")


def log_problems(text: str) -> tuple[str, ...]:
    """Known problem labels (``PROBLEM_*``) found in log ``text``, in table order, each once."""
    return tuple(label for needle, label in _PROBLEM_PATTERNS if needle in text)


def v2_log_problems(node: Node) -> tuple[str, ...]:
    """Problems in the tail of a v2 node's newest log; () when it logs nowhere we can read."""
    path = newest_v2_log(node.log_dir)
    return log_problems(read_tail(path)) if path else ()


def last_error_line(text: str) -> str:
    """The last ``ERROR`` line of a log text (either generation's format), stripped; "" if none."""
    for line in reversed(text.splitlines()):
        if " ERROR " in line:
            return line.strip()
    return ""


def failure_reason(node: Node) -> str:
    """Why a node stopped, from its own files: for quarantine and DEAD reasons.

    Legacy: the content of ``critical_failure.log`` (written on a failed stop, deleted at the
    next start), else the last ERROR line of ``antnode.log``. v2: the last ERROR line of the
    newest daily log. "" when nothing tells.
    """
    if node.generation is Generation.LEGACY:
        critical = read_tail(os.path.join(node.log_dir, CRITICAL_FAILURE_LOG), 2048).strip()
        if critical:
            return critical.splitlines()[-1].strip()
        return last_error_line(read_tail(os.path.join(node.log_dir, LEGACY_LOG)))
    path = newest_v2_log(node.log_dir)
    return last_error_line(read_tail(path)) if path else ""

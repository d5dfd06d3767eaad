"""Pure parsing of what ``antctl`` prints: ``add`` stdout, ``status --json`` and error texts.

Kept apart from the manager so the rules can be tested against recorded output (antctl.md §3.6,
§6.3, §1) without running anything. Every parser raises :class:`AntctlOutputError` (a
ValueError) when the text is not what antctl prints, never returns half-read data silently.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

SERVICE_RE = re.compile(r"\b(antnode\d+)\b")
_ADDED_LINE = re.compile(r"^\s*✓\s+(antnode\d+)\s*$")
_PATH_LINE = re.compile(r"^\s*-\s+(Antnode|Data|Log) path:\s*(\S.*?)\s*$")
_DOWNLOAD_LINE = re.compile(r"^Downloading antnode version (\S+?)\.*$")
_CAUSE_LINE = re.compile(r"^\s*\d+:\s*(\S.*?)\s*$")
_FAILED_LINE = re.compile(r"^\s*✕\s*(\S.*?)\s*$")
_USAGE_LINE = re.compile(r"^error:\s*(\S.*?)\s*$")


class AntctlOutputError(ValueError):
    """antctl printed something this parser does not understand."""


@dataclass(frozen=True)
class AddedService:
    """One service from ``antctl add`` stdout; paths are empty when antctl did not print them."""

    service: str
    binary: str = ""
    data_dir: str = ""
    log_dir: str = ""
    version: str = ""  # only known when antctl downloaded the binary


@dataclass(frozen=True)
class RegistryEntry:
    """The fields of one ``status --json`` node object that wnm uses.

    ``status`` is antctl's word (``Added``, ``Running``, ``Stopped``, ``Removed``); ``pid`` is
    None unless antctl saw the process; ports are None when antctl chose none.
    """

    service: str
    status: str
    pid: int | None = None
    node_port: int | None = None
    metrics_port: int | None = None
    rpc_port: int | None = None
    data_dir: str = ""
    log_dir: str = ""
    binary: str = ""
    version: str = ""
    peer_id: str = ""
    rewards_address: str = ""


def parse_added(stdout: str) -> list[AddedService]:
    """The services listed under ``Services Added:``, in order, with the path lines that follow.

    Raises AntctlOutputError when no ``✓ antnodeN`` line is present.
    """
    services: list[AddedService] = []
    fields: dict[str, str] = {}
    version = ""
    current = ""

    def flush() -> None:
        if current:
            services.append(
                AddedService(
                    current,
                    binary=fields.get("Antnode", ""),
                    data_dir=fields.get("Data", ""),
                    log_dir=fields.get("Log", ""),
                    version=version,
                )
            )

    for line in stdout.splitlines():
        download = _DOWNLOAD_LINE.match(line.strip())
        if download:
            version = download.group(1)
            continue
        added = _ADDED_LINE.match(line)
        if added:
            flush()
            current, fields = added.group(1), {}
            continue
        path = _PATH_LINE.match(line)
        if path and current:
            fields[path.group(1)] = path.group(2)
    flush()
    if not services:
        raise AntctlOutputError(f"no added service in antctl add output: {_excerpt(stdout)}")
    return services


def parse_status_json(stdout: str) -> list[RegistryEntry]:
    """Node entries of ``antctl status --json`` (Removed ones included).

    Empty output means an empty registry (antctl prints nothing then). Lines before the JSON
    document (log noise that ended up on stdout) are skipped. Raises AntctlOutputError when no
    well-formed ``{"nodes": [...]}`` document is found.
    """
    if not stdout.strip():
        return []
    document = _json_document(stdout)
    nodes = document.get("nodes")
    if not isinstance(nodes, list):
        raise AntctlOutputError("antctl status --json has no 'nodes' list")
    return [_entry(raw) for raw in nodes]


def error_text(output: str) -> str:
    """antctl's own explanation in a failed command's output, as one line.

    Takes the numbered causes of a color_eyre report (``Error:`` / ``   0: …``), the ``✕`` lines
    of a start or upgrade summary, and clap's ``error: …`` line; falls back to the last
    meaningful line. Debug log noise (``[… DEBUG …]``) is ignored.
    """
    causes: list[str] = []
    failed: list[str] = []
    usage: list[str] = []
    in_report = False
    for line in output.splitlines():
        stripped = line.strip()
        if stripped.startswith("Error:"):
            in_report = True
            rest = stripped[len("Error:") :].strip()
            if rest:
                causes.append(rest)
            continue
        if stripped.startswith(("Location:", "Backtrace", "Suggestion:", "Note:")):
            in_report = False
            continue
        cause = _CAUSE_LINE.match(line)
        if in_report and cause:
            causes.append(cause.group(1))
            continue
        bad = _FAILED_LINE.match(line)
        if bad:
            failed.append(bad.group(1))
            continue
        clap = _USAGE_LINE.match(stripped)
        if clap:
            usage.append(clap.group(1))
    parts = _unique(failed + causes + usage)
    if parts:
        return "; ".join(parts)
    meaningful = [
        s for s in (ln.strip() for ln in output.splitlines()) if s and not s.startswith("[") and "═" not in s
    ]
    return meaningful[-1] if meaningful else "(no output)"


def _json_document(stdout: str) -> dict[str, Any]:
    decoder = json.JSONDecoder()
    offset = 0
    for line in stdout.splitlines(keepends=True):
        if line.lstrip().startswith("{"):
            start = offset + (len(line) - len(line.lstrip()))
            try:
                value, _end = decoder.raw_decode(stdout, start)
            except json.JSONDecodeError as exc:
                raise AntctlOutputError(f"antctl status --json is not valid JSON: {exc}") from exc
            if not isinstance(value, dict):
                raise AntctlOutputError("antctl status --json is not a JSON object")
            return value
        offset += len(line)
    raise AntctlOutputError(f"no JSON document in antctl status --json output: {_excerpt(stdout)}")


def _entry(raw: object) -> RegistryEntry:
    if not isinstance(raw, dict):
        raise AntctlOutputError("a node in antctl status --json is not an object")
    service = raw.get("service_name")
    status = raw.get("status")
    if not isinstance(service, str) or not isinstance(status, str):
        raise AntctlOutputError(f"node without service_name/status in antctl status --json: {raw!r:.200}")
    return RegistryEntry(
        service=service,
        status=status,
        pid=_int(raw.get("pid")),
        node_port=_int(raw.get("node_port")),
        metrics_port=_int(raw.get("metrics_port")),
        rpc_port=_rpc_port(raw.get("rpc_socket_addr")),
        data_dir=_str(raw.get("data_dir_path")),
        log_dir=_str(raw.get("log_dir_path")),
        binary=_str(raw.get("antnode_path")),
        version=_str(raw.get("version")),
        peer_id=_str(raw.get("peer_id")),
        rewards_address=_str(raw.get("rewards_address")),
    )


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _rpc_port(value: object) -> int | None:
    if not isinstance(value, str):
        return None
    port = value.rpartition(":")[2]
    return int(port) if port.isdigit() else None


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _excerpt(text: str, limit: int = 200) -> str:
    flat = " | ".join(line.strip() for line in text.strip().splitlines() if line.strip())
    return (flat[:limit] + "…") if len(flat) > limit else (flat or "(empty)")

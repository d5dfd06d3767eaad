"""Read the few samples wnm needs from an antnode ``/metrics`` or ``/metadata`` body.

The bodies are OpenMetrics text (antnode.md §8.2, §10): ≈ 550 lines / 55 KB of which wnm needs
about twenty samples, and a run may read a thousand of them. So this is not a general parser:
it jumps to each wanted sample name with ``str.find`` (searching on from where the previous one
was found, since bodies list families in registration order) and parses only those lines, fully
(labels with escapes, the value with NaN / ±Inf, an optional timestamp). OpenMetrics and the
Prometheus text format both keep all samples of a family on consecutive lines, which is how a
labelled family (``ant_node_put_record_ok_total{record_type=…}``) is summed without a rescan.

A body is *complete* when it ends with ``# EOF``. A truncated body is not an error: the samples
on whole lines are returned with ``complete=False`` (a cut-off last line is dropped), and the
caller decides — the survey does not store metrics from an incomplete body, because missing
samples would read as zeros. Text that is not an exposition at all raises
:class:`MetricsFormatError`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from wnm.domain.node import NodeMetrics
from wnm.errors import WnmError

Labels = tuple[tuple[str, str], ...]

_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:")
_AFTER_NAME = (" ", "\t", "{")
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}


class MetricsFormatError(WnmError):
    """The body is not OpenMetrics / Prometheus text, or a needed sample line is malformed."""


@dataclass(frozen=True)
class Sample:
    name: str
    labels: Labels
    value: str  # the raw value token, so huge integers (atto balances) keep every digit

    def label(self, key: str) -> str:
        return next((v for k, v in self.labels if k == key), "")


class Exposition:
    """A decoded body, searched sample name by sample name.

    Searches start where the previous hit ended and wrap around once, so names asked for in
    the order the body lists them cost one pass in total; any order is still correct.
    ``complete`` tells whether the body ended with ``# EOF``.
    """

    def __init__(self, body: bytes | str) -> None:
        text = _decode(body)
        stripped = text.rstrip()
        self.complete = stripped.endswith("\n# EOF") or stripped == "# EOF"
        self._text = "\n" + text
        self._pos = 0

    def samples(self, name: str) -> tuple[Sample, ...]:
        """Every sample named exactly ``name`` (labels any), in body order; () when absent.

        Raises :class:`MetricsFormatError` for a malformed line of that sample.
        """
        text = self._text
        needle = "\n" + name
        skip = len(needle)
        i = text.find(needle, self._pos)
        if i < 0 and self._pos:
            i = text.find(needle, 0, self._pos + skip)
        while i >= 0 and text[i + skip : i + skip + 1] not in _AFTER_NAME:
            i = text.find(needle, i + 1)  # a longer name that starts with this one
        found: list[Sample] = []
        while i >= 0:
            end = text.find("\n", i + 1)
            if end < 0:
                if not self.complete:
                    break  # the cut-off last line of a truncated body
                end = len(text)
            found.append(_parse_line(text, i + 1, end, name))
            self._pos = end
            # the samples of one family are consecutive lines
            more = text.startswith(needle, end) and text[end + skip : end + skip + 1] in _AFTER_NAME
            i = end if more else -1
        return tuple(found)

    def first(self, *names: str) -> Sample | None:
        """The first sample of the first of ``names`` present (e.g. ``x_total``, then ``x``)."""
        for name in names:
            found = self.samples(name)
            if found:
                return found[0]
        return None


def _decode(body: bytes | str) -> str:
    """Body as text. Raises :class:`MetricsFormatError` when empty, not UTF-8 or not metrics text."""
    if isinstance(body, bytes):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MetricsFormatError(f"body is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    else:
        text = body
    head = text.lstrip("\n")[:1]
    if not head:
        raise MetricsFormatError("empty body")
    if head != "#" and head not in _NAME_START:
        raise MetricsFormatError(f"body does not look like metrics text: {text[:40]!r}")
    return text


def _parse_line(text: str, start: int, end: int, name: str) -> Sample:
    """One sample line ``name[{labels}] value [timestamp]`` between ``start`` and ``end``."""
    pos = start + len(name)
    labels: Labels = ()
    if text[pos] == "{":
        labels, pos = parse_labels(text, pos, end)
    rest = text[pos:end].split(None, 1)  # the value, then maybe a timestamp and an exemplar
    if not rest:
        raise MetricsFormatError(f"sample without a value: {text[start:end][:120]!r}")
    try:
        float(rest[0])
    except ValueError:
        raise MetricsFormatError(f"bad value {rest[0]!r} for {name}") from None
    return Sample(name, labels, rest[0])


def parse_labels(text: str, pos: int, end: int) -> tuple[Labels, int]:
    """Parse ``{k="v",…}`` starting at ``text[pos] == "{"``; returns the labels and the offset after ``}``.

    Label values may hold escaped quotes, backslashes and newlines (``\\"``, ``\\\\``, ``\\n``)
    and any other character, commas and braces included.
    """
    labels: list[tuple[str, str]] = []
    pos += 1
    while True:
        while pos < end and text[pos] in " \t,":
            pos += 1
        if pos < end and text[pos] == "}":
            return tuple(labels), pos + 1
        eq = text.find("=", pos, end)
        if eq < 0 or text[eq + 1 : eq + 2] != '"':
            raise MetricsFormatError(f"malformed labels: {text[pos - 1 : end][:120]!r}")
        key = text[pos:eq].strip()
        value, pos = _label_value(text, eq + 2, end)
        labels.append((key, value))
        if pos < end and text[pos] not in ",}":
            raise MetricsFormatError(f"malformed labels: {text[pos - 1 : end][:120]!r}")


def _label_value(text: str, pos: int, end: int) -> tuple[str, int]:
    """A quoted label value from after its opening quote: the value and the offset after its closing quote."""
    close = text.find('"', pos, end)
    backslash = text.find("\\", pos, end)
    if close >= 0 and (backslash < 0 or backslash > close):
        return text[pos:close], close + 1  # the common case: no escapes
    out: list[str] = []
    while pos < end:
        ch = text[pos]
        if ch == '"':
            return "".join(out), pos + 1
        if ch == "\\" and pos + 1 < end:
            pos += 1
            out.append(_ESCAPES.get(text[pos], "\\" + text[pos]))
        else:
            out.append(ch)
        pos += 1
    raise MetricsFormatError(f"unterminated label value: {text[pos - 40 : end][:120]!r}")


def to_float(token: str) -> float:
    """A sample value as float (``NaN``, ``+Inf`` and exponents included)."""
    return float(token)


def to_int(token: str) -> int:
    """A sample value as int; exact for integer tokens of any size; 0 for NaN / ±Inf."""
    if token.isdigit():
        return int(token)
    value = float(token)
    return int(value) if math.isfinite(value) else 0


def to_integer_text(token: str) -> str:
    """A sample value as a decimal integer string, keeping every digit of huge integers."""
    if token.isdigit():
        return token.lstrip("0") or "0"
    return str(to_int(token))


# (NodeMetrics field, sample names tried in order: the OpenMetrics counter name, then the bare
# name of the older Prometheus text format). In the order antnode registers the families.
_PUTS = ("ant_node_put_record_ok_total", "ant_node_put_record_ok")
_REWARDS = "ant_node_current_reward_wallet_balance"
_UPTIME = "ant_node_uptime"
_INT_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("records", ("ant_networking_records_stored",)),
    ("connected_peers", ("ant_networking_connected_peers",)),
    ("network_size", ("ant_networking_estimated_network_size",)),
    ("open_connections", ("ant_networking_open_connections",)),
    ("routing_table_peers", ("ant_networking_peers_in_routing_table",)),
    ("shunned_count", ("ant_networking_shunned_count_total", "ant_networking_shunned_count")),
    ("bad_peers", ("ant_networking_bad_peers_count_total", "ant_networking_bad_peers_count")),
)
_MEM = "ant_networking_process_memory_used_mb"
_CPU = "ant_networking_process_cpu_usage_percentage"
_QUOTING_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("relevant_records", ("ant_networking_relevant_records",)),
    ("max_records", ("ant_networking_max_records",)),
    ("payment_count", ("ant_networking_received_payment_count",)),
    ("live_time", ("ant_networking_live_time",)),
    ("shunned", ("ant_networking_shunned_by_close_group",)),
)
VERSION_SAMPLE = "ant_node_antnode_version_info"
PEER_ID_SAMPLE = "ant_networking_peer_id_info"


@dataclass(frozen=True)
class ParsedMetrics:
    metrics: NodeMetrics
    complete: bool


def parse_node_metrics(body: bytes | str) -> ParsedMetrics:
    """NodeMetrics from a ``/metrics`` body (antnode.md §9 names).

    ``puts`` is the sum over every ``ant_node_put_record_ok_total`` series (all record types),
    not only the first one. Missing samples read as 0. Raises :class:`MetricsFormatError` when
    the body is not metrics text or holds none of the node samples.
    """
    expo = Exposition(body)
    puts = expo.samples(_PUTS[0]) or expo.samples(_PUTS[1])
    rewards = expo.first(_REWARDS)
    uptime = expo.first(_UPTIME)
    found = [expo.first(*names) for _, names in _INT_FIELDS]
    mem = expo.first(_MEM)
    cpu = expo.first(_CPU)
    found += [expo.first(*names) for _, names in _QUOTING_FIELDS]
    if uptime is None and not puts and mem is None and all(s is None for s in found):
        raise MetricsFormatError("no antnode samples in body" + ("" if expo.complete else " (truncated)"))
    fields = [f for f, _ in _INT_FIELDS] + [f for f, _ in _QUOTING_FIELDS]
    ints = {f: to_int(s.value) if s else 0 for f, s in zip(fields, found, strict=True)}
    metrics = NodeMetrics(
        uptime=to_int(uptime.value) if uptime else 0,
        puts=sum(to_int(s.value) for s in puts),
        rewards=to_integer_text(rewards.value) if rewards else "0",
        cpu_percent=_finite(cpu.value) if cpu else 0.0,
        mem_mb=_finite(mem.value) if mem else 0.0,
        **ints,
    )
    return ParsedMetrics(metrics, expo.complete)


def _finite(token: str) -> float:
    value = float(token)
    return value if math.isfinite(value) else 0.0


@dataclass(frozen=True)
class Metadata:
    version: str
    peer_id: str
    complete: bool


def parse_metadata(body: bytes | str) -> Metadata:
    """Running version (full, with any pre-release suffix) and peer id from a ``/metadata`` body.

    Raises :class:`MetricsFormatError` when the body is not metrics text or has neither series.
    """
    expo = Exposition(body)
    version = expo.first(VERSION_SAMPLE)
    peer = expo.first(PEER_ID_SAMPLE)
    if version is None and peer is None:
        raise MetricsFormatError("no version or peer id series in /metadata body")
    return Metadata(
        version=version.label("antnode_version") if version else "",
        peer_id=peer.label("peer_id") if peer else "",
        complete=expo.complete,
    )

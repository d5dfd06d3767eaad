"""Validation of merged settings. Each rule raises ConfigError naming the option and the rule."""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path

from wnm.domain.settings import Settings
from wnm.domain.wallets import ADDRESS, WalletError, parse_wallets
from wnm.errors import ConfigError

PERCENT = ("cpu_less_than", "cpu_remove", "mem_less_than", "mem_remove", "hd_less_than", "hd_remove")
PAIRS = (
    ("cpu_less_than", "cpu_remove"),
    ("mem_less_than", "mem_remove"),
    ("hd_less_than", "hd_remove"),
    ("hdio_read_less_than", "hdio_read_remove"),
    ("hdio_write_less_than", "hdio_write_remove"),
    ("netio_read_less_than", "netio_read_remove"),
    ("netio_write_less_than", "netio_write_remove"),
    ("desired_load_average", "max_load_average_allowed"),
)
NON_NEGATIVE = (
    "node_cap",
    "delay_start",
    "delay_restart",
    "delay_upgrade",
    "delay_remove",
    "survey_delay",
    "action_delay",
    "max_concurrent_upgrades",
    "max_concurrent_starts",
    "max_concurrent_removals",
    "max_concurrent_operations",
    "crisis_bytes",
    "upgrade_settle",
    "node_disk_budget",
    "protect_age",
    "hdio_read_less_than",
    "hdio_read_remove",
    "hdio_write_less_than",
    "hdio_write_remove",
    "netio_read_less_than",
    "netio_read_remove",
    "netio_write_less_than",
    "netio_write_remove",
)
POSITIVE = ("cpu_count", "max_node_per_container", "crash_loop_count", "crash_loop_minutes")
PORT_STARTS = ("port_start", "metrics_port_start", "rpc_port_start")
IO_PAIRS = PAIRS[3:7]


def validate(settings: Settings, given: Collection[str] = ()) -> None:
    """Check every rule; ``given`` names the options the operator supplied, to blame the right one."""
    for name in NON_NEGATIVE:
        if getattr(settings, name) < 0:
            raise ConfigError(name, f"must be 0 or more, not {getattr(settings, name)}")
    for name in POSITIVE:
        if getattr(settings, name) < 1:
            raise ConfigError(name, f"must be 1 or more, not {getattr(settings, name)}")
    for name in PERCENT:
        value = getattr(settings, name)
        if not 0 <= value <= 100:
            raise ConfigError(name, f"is a percentage and must be between 0 and 100, not {value}")
    for low, high in PAIRS:
        low_v, high_v = getattr(settings, low), getattr(settings, high)
        if (low, high) in IO_PAIRS and (low_v == 0 or high_v == 0):
            continue  # a 0 I/O threshold switches that one check off
        if low_v >= high_v:
            blame, other = (high, low) if high in given and low not in given else (low, high)
            rule = "below" if blame == low else "above"
            raise ConfigError(
                blame, f"{getattr(settings, blame)} must be {rule} --{other} ({getattr(settings, other)})"
            )
    if settings.upgrade_settle >= settings.delay_upgrade and settings.enable_upgrade:
        blame, other = (
            ("delay_upgrade", "upgrade_settle")
            if "delay_upgrade" in given
            else ("upgrade_settle", "delay_upgrade")
        )
        rule = "above" if blame == "delay_upgrade" else "below"
        raise ConfigError(
            blame,
            f"{getattr(settings, blame)} must be {rule} --{other} ({getattr(settings, other)}): an upgraded "
            "node must be able to settle before it is judged",
        )
    if settings.desired_load_average <= 0:
        raise ConfigError("desired_load_average", "must be above 0")
    _validate_rewards(settings)
    _validate_ports(settings, given)
    for name in ("node_storage", "log_dir", "bootstrap_cache_dir"):
        value = getattr(settings, name)
        for path in [p.strip() for p in value.split(",")] if name == "node_storage" else [value]:
            if path:
                _creatable(name, path)
    if not settings.storage_paths:
        raise ConfigError("node_storage", "is required (a directory for node data)")


def _validate_rewards(settings: Settings) -> None:
    if not ADDRESS.match(settings.donate_address):
        raise ConfigError("donate_address", "must be 0x followed by 40 hex digits")
    try:
        parse_wallets(settings.rewards_address, settings.donate_address)
    except WalletError as exc:
        raise ConfigError("rewards_address", str(exc).removeprefix("rewards_address ")) from None


def _validate_ports(settings: Settings, given: Collection[str]) -> None:
    span = max(settings.node_cap, 1)
    ranges: list[tuple[str, int, int]] = []
    for name in PORT_STARTS:
        start = getattr(settings, name)
        base = start * 1000 if start < 1000 else start
        if start < 1 or base + 1 < 1024 or base + span > 65535:
            raise ConfigError(
                name,
                f"{start} gives ports {base + 1}-{base + span}; they must fit in 1024-65535 "
                f"(port = start*1000 + node id, for node_cap {settings.node_cap})",
            )
        ranges.append((name, base + 1, base + span))
    for i, (name_a, lo_a, hi_a) in enumerate(ranges):
        for name_b, lo_b, hi_b in ranges[i + 1 :]:
            if lo_a <= hi_b and lo_b <= hi_a:
                blame, other = (name_b, name_a) if name_b in given else (name_a, name_b)
                raise ConfigError(blame, f"port range {lo_a}-{hi_a} overlaps --{other} range {lo_b}-{hi_b}")


def _creatable(name: str, value: str) -> None:
    """The path exists as a directory, or its nearest existing ancestor is a writable directory."""
    path = Path(os.path.expanduser(value))
    if not path.is_absolute():
        raise ConfigError(name, f"must be an absolute path, not {value!r}")
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe == path:
        if not path.is_dir():
            raise ConfigError(name, f"{value} exists and is not a directory")
        return
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(name, f"{value} cannot be created ({probe} is not a writable directory)")

"""Precedence (CLI > env > config file > stored row > defaults), both spellings, falsy values,
switching booleans off, persistence, and round-tripping the env/config report formats."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult


def config_of(cli: Callable[..., CliResult], db: str, *extra: str) -> dict[str, object]:
    result = cli("--dbpath", db, "--report", "machine-config", "--json", *extra)
    assert result.code == 0, result.err
    data: dict[str, object] = json.loads(result.out)
    return data


def test_precedence_cli_env_file_row_default(
    machine: dict[str, str], cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = machine["db"]
    assert config_of(cli, db)["node_cap"] == 20  # built-in default, stored at init
    assert cli("--dbpath", db, "--force_action", "update_config", "--node_cap", "7").code == 0
    assert config_of(cli, db)["node_cap"] == 7  # stored row beats default
    conf = tmp_path / "wnm.conf"
    conf.write_text("node_cap = 8\n")
    assert config_of(cli, db, "-c", str(conf))["node_cap"] == 8  # config file beats row
    monkeypatch.setenv("NODE_CAP", "9")
    assert config_of(cli, db, "-c", str(conf))["node_cap"] == 9  # env beats config file
    assert config_of(cli, db, "-c", str(conf), "--node_cap", "10")["node_cap"] == 10  # CLI beats env
    monkeypatch.delenv("NODE_CAP")
    assert config_of(cli, db)["node_cap"] == 7  # reports never store


def test_default_config_file_location_is_read(
    machine: dict[str, str], cli: Callable[..., CliResult], isolated_env: Path
) -> None:
    path = isolated_env / ".local" / "share" / "wnm" / "config"
    path.parent.mkdir(parents=True)
    path.write_text("cpu_less_than: 33\n")
    assert config_of(cli, machine["db"])["cpu_less_than"] == 33


@pytest.mark.parametrize("spelling", ["--node_cap", "--node-cap"])
def test_both_spellings(machine: dict[str, str], cli: Callable[..., CliResult], spelling: str) -> None:
    assert cli("--dbpath", machine["db"], "--force_action", "update_config", spelling, "4").code == 0
    assert config_of(cli, machine["db"])["node_cap"] == 4


def test_dashed_db_and_dry_run_spellings(machine: dict[str, str], cli: Callable[..., CliResult]) -> None:
    for flag in ("--dry-run", "--dry_run", "--dry-run=true", "--dry_run=yes"):
        result = cli("--dbpath", machine["db"], "--report", "machine-config", flag)
        assert result.code == 0, (flag, result.err)


def test_zero_and_empty_values_can_be_set(machine: dict[str, str], cli: Callable[..., CliResult]) -> None:
    db = machine["db"]
    args = ["--survey_delay", "7", "--environment", "A=1", "--antctl_version", "0.14.2"]
    assert cli("--dbpath", db, "--force_action", "update_config", *args).code == 0
    zero = ["--survey_delay", "0", "--environment", "", "--antctl_version", "", "--node_cap", "0"]
    assert cli("--dbpath", db, "--force_action", "update_config", *zero).code == 0
    stored = config_of(cli, db)
    assert stored["survey_delay"] == 0
    assert stored["environment"] == ""
    assert stored["antctl_version"] == ""
    assert stored["node_cap"] == 0


@pytest.mark.parametrize(
    "off", ["--no-enable-upgrade", "--no_enable_upgrade", "--enable_upgrade=false", "--enable-upgrade=0"]
)
def test_booleans_can_be_switched_off(
    machine: dict[str, str], cli: Callable[..., CliResult], off: str
) -> None:
    db = machine["db"]
    assert cli("--dbpath", db, "--force_action", "update_config", "--enable_upgrade").code == 0
    assert config_of(cli, db)["enable_upgrade"] is True
    assert cli("--dbpath", db, "--force_action", "update_config", off).code == 0
    assert config_of(cli, db)["enable_upgrade"] is False


def test_boolean_env_var(
    machine: dict[str, str], cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_UPNP", "true")
    assert config_of(cli, machine["db"])["no_upnp"] is True
    monkeypatch.setenv("NO_UPNP", "false")
    assert config_of(cli, machine["db"])["no_upnp"] is False


def test_env_report_round_trips_as_input(
    machine: dict[str, str], cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db = machine["db"]
    assert (
        cli(
            "--dbpath",
            db,
            "--force_action",
            "update_config",
            "--node_cap",
            "5",
            "--environment",
            "A=1;B=two words",
        ).code
        == 0
    )
    env_text = cli("--dbpath", db, "--report", "machine-config", "--report_format", "env").out
    before = config_of(cli, db)
    # a second machine fed the first one's env output ends up with the same settings
    db2 = str(tmp_path / "second.db")
    for line in env_text.strip().splitlines():
        key, _, value = line.partition("=")
        monkeypatch.setenv(key, shlex.split(value)[0] if value else "")
    assert cli("--init", "--dbpath", db2).code == 0
    after = config_of(cli, db2)
    for key in (
        "node_cap",
        "environment",
        "rewards_address",
        "cpu_less_than",
        "node_storage",
        "process_manager",
    ):
        assert after[key] == before[key], key


def test_config_report_round_trips_as_config_file(
    machine: dict[str, str], cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    db = machine["db"]
    assert cli("--dbpath", db, "--force_action", "update_config", "--node_cap", "6", "--no_upnp").code == 0
    conf = tmp_path / "exported.conf"
    conf.write_text(cli("--dbpath", db, "--report", "machine-config", "--report_format", "config").out)
    db2 = str(tmp_path / "second.db")
    assert cli("--init", "--dbpath", db2, "-c", str(conf)).code == 0
    before, after = config_of(cli, db), config_of(cli, db2)
    for key in ("node_cap", "no_upnp", "rewards_address", "mem_remove", "log_dir"):
        assert after[key] == before[key], key


def test_text_report_is_aligned(machine: dict[str, str], cli: Callable[..., CliResult]) -> None:
    out = cli("--dbpath", machine["db"], "--report", "machine-config").out
    positions = {line.index(":") for line in out.splitlines() if line}
    values = {len(line.split(":")[0]) for line in out.splitlines() if line}
    assert len(positions) >= 1 and max(values) + 1 >= max(positions)
    first_value_columns = {len(line) - len(line[line.index(":") + 1 :].lstrip()) for line in out.splitlines()}
    assert len(first_value_columns) == 1  # every value starts in the same column

"""Every validation rule: one-line message naming the option and the rule, exit 2, DB unchanged."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import CliResult, db_snapshot

BAD_OPTIONS = [
    (["--rewards_address", "0x123"], "rewards_address", "40 hex"),
    (["--rewards_address", "nobody"], "rewards_address", "40 hex"),
    (["--rewards_address", "0x" + "ab" * 20 + ":zero"], "rewards_address", "weight"),
    (["--rewards_address", "0x" + "ab" * 20 + ":0"], "rewards_address", "weight"),
    (["--rewards_address", "faucet,,donate"], "rewards_address", "empty entry"),
    (["--cpu_less_than", "101"], "cpu_less_than", "between 0 and 100"),
    (["--mem_remove", "-1"], "mem_remove", "between 0 and 100"),
    (["--hd_remove", "150"], "hd_remove", "between 0 and 100"),
    (["--cpu_less_than", "80"], "cpu_less_than", "below --cpu_remove"),
    (["--cpu_remove", "40"], "cpu_remove", "above --cpu_less_than"),
    (["--mem_less_than", "75"], "mem_less_than", "below --mem_remove"),
    (["--hd_remove", "70"], "hd_remove", "above --hd_less_than"),
    (["--hdio_read_less_than", "500", "--hdio_read_remove", "100"], "hdio_read_less_than", "below"),
    (["--netio_write_remove", "10", "--netio_write_less_than", "20"], "netio_write_less_than", "below"),
    (["--desired_load_average", "5", "--max_load_average_allowed", "4"], "desired_load_average", "below"),
    (["--node_cap", "-1"], "node_cap", "0 or more"),
    (["--node_cap", "ten"], "node_cap", "whole number"),
    (["--delay_start", "-5"], "delay_start", "0 or more"),
    (["--max_concurrent_starts", "-1"], "max_concurrent_starts", "0 or more"),
    (["--cpu_count", "0"], "cpu_count", "1 or more"),
    (["--node_removal_strategy", "random"], "node_removal_strategy", "one of"),
    (["--firewall", "iptables"], "firewall", "one of"),
    (["--node_generation", "v3"], "node_generation", "one of"),
    (["--node_storage", "relative/path"], "node_storage", "absolute"),
    (["--node_storage", "/proc/1/nodes"], "node_storage", "cannot be created"),
    (["--log_dir", "/etc/passwd"], "log_dir", "not a directory"),
    (["--donate_address", "0xnothex"], "donate_address", "40 hex"),
    (["--node_cap", "200000"], "port_start", "must fit"),
    (["--no_upnp=maybe"], "no_upnp", "true or false"),
    (["--desired_load_average", "0", "--max_load_average_allowed", "1"], "desired_load_average", "above 0"),
]


@pytest.mark.parametrize(("args", "option", "rule"), BAD_OPTIONS)
def test_bad_option_is_one_line_exit_2_and_changes_nothing(
    machine: dict[str, str], cli: Callable[..., CliResult], args: list[str], option: str, rule: str
) -> None:
    before = db_snapshot(machine["db"])
    result = cli("--dbpath", machine["db"], "--dry-run", *args)
    assert result.code == 2, result.err
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    assert f"--{option}" in lines[0] and rule in lines[0], lines[0]
    assert "Traceback" not in result.err
    assert db_snapshot(machine["db"]) == before
    # the same mistake on a normal (non-dry) run changes nothing either
    result = cli("--dbpath", machine["db"], *args)
    assert result.code == 2
    assert db_snapshot(machine["db"]) == before


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--port_start", "56"], "port_start"),
        (["--metrics_port_start", "14"], "metrics_port_start"),
        (["--rpc_port_start", "31"], "rpc_port_start"),
        (["--process_manager", "systemd+user"], "process_manager"),
    ],
)
def test_immutable_settings_are_refused_after_init(
    machine: dict[str, str], cli: Callable[..., CliResult], args: list[str], option: str
) -> None:
    before = db_snapshot(machine["db"])
    result = cli("--dbpath", machine["db"], *args)
    assert result.code == 2
    assert f"--{option}" in result.err and "cannot be changed after --init" in result.err
    assert db_snapshot(machine["db"]) == before


def test_repeating_an_immutable_value_is_fine(machine: dict[str, str], cli: Callable[..., CliResult]) -> None:
    result = cli("--dbpath", machine["db"], "--port_start", "55", "--report", "machine-config")
    assert result.code == 0, result.err


@pytest.mark.parametrize(
    "args",
    [
        ["--node-kap", "3"],
        ["--node_ca", "3"],  # no prefix abbreviations
        ["--bogus"],
        ["positional"],
        ["--dry-run=perhaps"],
        ["--no-dry-run=true"],
    ],
)
def test_unknown_or_malformed_options_are_usage_errors(
    machine: dict[str, str], cli: Callable[..., CliResult], args: list[str]
) -> None:
    before = db_snapshot(machine["db"])
    result = cli("--dbpath", machine["db"], *args)
    assert result.code == 2, result.err
    assert len(result.err.strip().splitlines()) == 1, result.err
    assert db_snapshot(machine["db"]) == before


def test_unknown_config_file_key_is_a_usage_error(
    machine: dict[str, str], cli: Callable[..., CliResult], tmp_path
) -> None:
    conf = tmp_path / "bad.conf"
    conf.write_text("node_kap = 3\n")
    result = cli("--dbpath", machine["db"], "-c", str(conf), "--dry-run")
    assert result.code == 2
    assert "node_kap" in result.err


def test_init_requires_rewards_address(cli: Callable[..., CliResult], tmp_path) -> None:
    db = tmp_path / "x.db"
    result = cli("--init", "--dbpath", str(db), "--node_storage", str(tmp_path / "n"))
    assert result.code == 2
    assert "--rewards_address" in result.err and "required" in result.err
    assert not db.exists()


def test_init_with_bad_value_creates_no_database(cli: Callable[..., CliResult], tmp_path) -> None:
    db = tmp_path / "x.db"
    result = cli(
        "--init",
        "--dbpath",
        str(db),
        "--rewards_address",
        "faucet",
        "--cpu_less_than",
        "90",
        "--node_storage",
        str(tmp_path / "n"),
        "--process_manager",
        "setsid+user",
    )
    assert result.code == 2
    assert "--cpu_less_than" in result.err
    assert not db.exists()


def test_init_refuses_existing_machine(machine: dict[str, str], cli: Callable[..., CliResult]) -> None:
    before = db_snapshot(machine["db"])
    result = cli("--init", "--dbpath", machine["db"], "--rewards_address", "faucet")
    assert result.code == 2
    assert "already initialized" in result.err
    assert db_snapshot(machine["db"]) == before


def test_init_and_dry_run_conflict(cli: Callable[..., CliResult], tmp_path) -> None:
    result = cli("--init", "--dry-run", "--dbpath", str(tmp_path / "x.db"), "--rewards_address", "faucet")
    assert result.code == 2
    assert not (tmp_path / "x.db").exists()


def test_not_initialized_says_what_to_do(cli: Callable[..., CliResult], tmp_path) -> None:
    result = cli("--dbpath", str(tmp_path / "none.db"), "--dry-run")
    assert result.code == 2
    assert "wnm --init" in result.err
    assert not (tmp_path / "none.db").exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--restore", "/tmp/x.tar"], "--restore works only with --init"),
        (["--backup_file", "/tmp/x.tar"], "--backup_file works only with --force_action backup"),
    ],
)
def test_options_that_belong_to_another_action(
    machine: dict[str, str], cli: Callable[..., CliResult], args: list[str], needle: str
) -> None:
    result = cli("--dbpath", machine["db"], *args)
    assert result.code == 2
    assert needle in result.err

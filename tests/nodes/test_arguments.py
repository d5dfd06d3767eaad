"""Node command lines per generation and manager family."""

from __future__ import annotations

import pytest

from wnm.domain.enums import Generation, NodeStatus
from wnm.domain.node import Node
from wnm.domain.settings import Settings
from wnm.errors import ConfigError, PermanentFailure
from wnm.nodes.arguments import build_command

WALLET = "0x" + "ab" * 20


def _node(generation: Generation = Generation.LEGACY, **changes: object) -> Node:
    fields: dict[str, object] = {
        "id": 7,
        "generation": generation,
        "manager": "systemd+user",
        "root_dir": "/srv/nodes/antnode0007",
        "log_dir": "/var/log/antnode/antnode0007",
        "binary": "/srv/nodes/antnode0007/" + ("antnode" if generation is Generation.LEGACY else "ant-node"),
        "port": 55007,
        "metrics_port": 13007,
        "rpc_port": 30007,
        "status": NodeStatus.STOPPED,
        "status_changed_at": 0,
        "age": 0,
        "wallet": WALLET,
    }
    fields.update(changes)
    return Node(**fields)  # type: ignore[arg-type]


def test_legacy_full_command_line() -> None:
    settings = Settings(bootstrap_cache_dir="/var/cache/bootstrap", no_upnp=True)
    cmd = build_command(_node(), settings, "systemd")
    assert cmd.argv == (
        "/srv/nodes/antnode0007/antnode",
        "--bootstrap-cache-dir", "/var/cache/bootstrap",
        "--root-dir", "/srv/nodes/antnode0007",
        "--port", "55007",
        "--enable-metrics-server",
        "--metrics-server-port", "13007",
        "--log-output-dest", "/var/log/antnode/antnode0007",
        "--max-log-files", "1",
        "--max-archived-log-files", "1",
        "--no-upnp",
        "--stop-on-upgrade",
        "--rewards-address", WALLET,
        "evm-arbitrum-one",
    )  # fmt: skip
    assert cmd.env == ()


def test_legacy_minimal_and_start_args_before_the_subcommand() -> None:
    settings = Settings(start_args="--ip 0.0.0.0 --log-format 'json'")
    argv = build_command(_node(), settings, "setsid+user").argv
    assert "--bootstrap-cache-dir" not in argv and "--no-upnp" not in argv
    assert "--stop-on-upgrade" in argv
    assert argv[-5:] == ("--ip", "0.0.0.0", "--log-format", "json", "evm-arbitrum-one")


def test_legacy_docker_uses_host_paths() -> None:
    """The docker manager mounts every node path at the same path inside the container."""
    settings = Settings(bootstrap_cache_dir="/var/cache/bootstrap")
    docker = build_command(_node(), settings, "docker").argv
    assert docker == build_command(_node(), settings, "setsid").argv
    assert docker[0] == "/srv/nodes/antnode0007/antnode"
    assert docker[docker.index("--bootstrap-cache-dir") + 1] == "/var/cache/bootstrap"
    assert docker[-1] == "evm-arbitrum-one"


def test_v2_command_line() -> None:
    settings = Settings(bootstrap_cache_dir="/var/cache/bootstrap", no_upnp=True, start_args="--ipv4-only")
    cmd = build_command(_node(Generation.V2), settings, "launchd")
    assert cmd.argv == (
        "/srv/nodes/antnode0007/ant-node",
        "--root-dir", "/srv/nodes/antnode0007",
        "--port", "55007",
        "--rewards-address", WALLET,
        "--evm-network", "arbitrum-one",
        "--enable-logging",
        "--log-dir", "/var/log/antnode/antnode0007",
        "--metrics-port", "0",
        "--stop-on-upgrade",
        "--ipv4-only",
    )  # fmt: skip


def test_v2_docker() -> None:
    argv = build_command(_node(Generation.V2), Settings(), "docker").argv
    assert argv == build_command(_node(Generation.V2), Settings(), "setsid").argv


def test_environment_merged_node_wins() -> None:
    settings = Settings(environment="ANT_LOG=ant_evm=error;RUST_BACKTRACE=1")
    node = _node(environment="RUST_BACKTRACE=full\nEXTRA=x y")
    cmd = build_command(node, settings, "systemd")
    assert cmd.env == (("ANT_LOG", "ant_evm=error"), ("RUST_BACKTRACE", "full"), ("EXTRA", "x y"))
    assert cmd.env_dict["EXTRA"] == "x y"


def test_wallet_falls_back_to_settings_and_is_required() -> None:
    settings = Settings(rewards_address=WALLET)
    argv = build_command(_node(wallet=""), settings, "setsid").argv
    assert argv[argv.index("--rewards-address") + 1] == WALLET
    with pytest.raises(PermanentFailure) as info:
        build_command(_node(wallet=""), Settings(), "setsid")
    assert info.value.node_id == 7


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="antctl"):
        build_command(_node(), Settings(), "antctl+user")
    with pytest.raises(ConfigError) as info:
        build_command(_node(), Settings(start_args="--ip 'unclosed"), "systemd")
    assert info.value.option == "start_args"
    with pytest.raises(ConfigError):
        build_command(_node(environment="BAD KEY=1"), Settings(), "systemd")

"""The command line each node generation is started with, per process-manager family.

Managers never assemble node flags themselves; they call :func:`build_command` (through
``ManagerContext.command_for``) and only decide how to run the result.

Legacy ``antnode`` (antnode.md §2, wnm-compat §5.4)::

    antnode [--bootstrap-cache-dir C] --root-dir R --port P
            --enable-metrics-server --metrics-server-port M
            --log-output-dest L --max-log-files 1 --max-archived-log-files 1
            [--no-upnp] --stop-on-upgrade --rewards-address W [start_args…] evm-arbitrum-one

The EVM network is a clap subcommand and must come last. ``--stop-on-upgrade`` is always
passed so a self-upgrade ends in an exit wnm can see instead of an untracked re-exec.

Second generation ``ant-node`` (ant-node-v2.md §2)::

    ant-node --root-dir R --port P --rewards-address W --evm-network arbitrum-one
             --enable-logging --log-dir L --metrics-port 0 --stop-on-upgrade [start_args…]

``--metrics-port 0`` because its default 9100 would collide between nodes (and with
node_exporter) while no server is known to exist behind it.

The ``docker`` flavour uses the host paths too: the docker manager bind-mounts each node's
root dir, log dir, binary and bootstrap cache at the same paths inside its container, and runs
containers on the host network, so ports are the host's.
"""

from __future__ import annotations

import shlex

from wnm.domain.enums import Generation
from wnm.domain.node import Node
from wnm.domain.settings import Settings
from wnm.errors import ConfigError, PermanentFailure
from wnm.nodes.command import NodeCommand
from wnm.nodes.environment import merge_environment, parse_environment

FLAVORS = frozenset({"systemd", "setsid", "launchd", "docker"})


LEGACY_EVM_SUBCOMMAND = "evm-arbitrum-one"
V2_EVM_NETWORK = "arbitrum-one"


def build_command(node: Node, settings: Settings, flavor: str) -> NodeCommand:
    """argv and environment for ``node`` under a manager of ``flavor``.

    ``flavor`` is the manager family (``systemd``, ``setsid``, ``launchd``, ``docker``); a full
    mode such as ``systemd+user`` is accepted too. ``antctl`` builds its own command line and is
    rejected here. Raises :class:`PermanentFailure` when the node has no rewards address and
    :class:`ConfigError` when ``start_args`` or ``environment`` cannot be parsed.
    """
    family = flavor.partition("+")[0]
    if family not in FLAVORS:
        raise ValueError(f"no node command line for manager family {flavor!r}")
    wallet = node.wallet or settings.rewards_address
    if not wallet:
        raise PermanentFailure(f"node {node.name} has no rewards address", node_id=node.id)
    binary, root_dir, log_dir = node.binary, node.root_dir, node.log_dir
    extra = _start_args(settings.start_args)
    if node.generation is Generation.LEGACY:
        cache = settings.bootstrap_cache_dir
        argv = _legacy_argv(node, settings.no_upnp, binary, root_dir, log_dir, cache, wallet)
        argv[-1:-1] = extra  # the EVM subcommand stays last
    else:
        argv = _v2_argv(node, binary, root_dir, log_dir, wallet)
        argv.extend(extra)
    env = merge_environment(
        parse_environment(settings.environment),
        parse_environment(node.environment, option="environment (node)"),
    )
    return NodeCommand(argv=tuple(argv), env=env)


def _legacy_argv(
    node: Node, no_upnp: bool, binary: str, root_dir: str, log_dir: str, cache: str, wallet: str
) -> list[str]:
    argv = [binary]
    if cache:
        argv += ["--bootstrap-cache-dir", cache]
    argv += [
        "--root-dir", root_dir,
        "--port", str(node.port),
        "--enable-metrics-server",
        "--metrics-server-port", str(node.metrics_port),
        "--log-output-dest", log_dir,
        "--max-log-files", "1",
        "--max-archived-log-files", "1",
    ]  # fmt: skip
    if no_upnp:
        argv.append("--no-upnp")
    argv += ["--stop-on-upgrade", "--rewards-address", wallet]
    argv.append(LEGACY_EVM_SUBCOMMAND)
    return argv


def _v2_argv(node: Node, binary: str, root_dir: str, log_dir: str, wallet: str) -> list[str]:
    return [
        binary,
        "--root-dir", root_dir,
        "--port", str(node.port),
        "--rewards-address", wallet,
        "--evm-network", V2_EVM_NETWORK,
        "--enable-logging",
        "--log-dir", log_dir,
        "--metrics-port", "0",
        "--stop-on-upgrade",
    ]  # fmt: skip


def _start_args(text: str) -> list[str]:
    """``start_args`` split like a shell would (quotes honoured, nothing expanded)."""
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise ConfigError("start_args", f"cannot be split into arguments: {exc}") from exc

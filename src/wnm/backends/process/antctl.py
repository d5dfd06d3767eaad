"""antctl: nodes as services of the official node manager (modes ``antctl+user|sudo|zen``).

antctl (reference/antctl.md) owns everything about its nodes: it copies the binary, creates the
data and log dirs, numbers its services ``antnodeN`` and keeps its own registry. wnm keeps its own
node ids and stores antctl's service name in ``Node.service``; every node is found in antctl's
registry by that name (or, for a node whose name was never recorded, by its node port, which
antctl never hands out twice).

* ``+user`` / ``+sudo``: wnm chooses the data dir prefix (``--data-dir-path``), the log dir
  prefix (``--log-dir-path``, only when wnm's log dir is not inside the node's root dir) and the
  binary (``--path settings.antnode_path``); ``+sudo`` prefixes every antctl call with
  ``sudo -n``.
* ``+zen``: only ports, rewards address, ``--no-upnp`` and (if set) ``--version``; antctl
  chooses the paths and downloads the binary; upgrades let antctl pick the binary too.

Every node flag goes before the EVM subcommand (antctl.md §2: after it clap rejects them).
``start`` and ``upgrade`` pass ``--interval 0`` so antctl does not wait up to 300 s for peers:
it still fails a start whose process is gone after its 3 s check, and wnm's own observation
judges health from the metrics endpoint, as for every other manager.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from wnm.backends.process.antctl_parse import (
    AddedService,
    AntctlOutputError,
    RegistryEntry,
    error_text,
    parse_added,
    parse_status_json,
)
from wnm.backends.process.base import (
    Availability,
    ManagerContext,
    ProcessManager,
    ProcessState,
    ProcessStatus,
)
from wnm.domain.enums import Generation
from wnm.domain.node import Node
from wnm.domain.settings import Settings
from wnm.errors import (
    ActionFailure,
    CommandError,
    ConfigError,
    PermanentFailure,
    TemporaryFailure,
    WnmError,
)
from wnm.nodes.environment import merge_environment, parse_environment
from wnm.system.commands import CommandResult

log = logging.getLogger(__name__)

EVM_SUBCOMMAND = "evm-arbitrum-one"
VARIANTS = ("user", "sudo", "zen")
_VERSION_RE = re.compile(r"^Autonomi Node Manager v(\S+)")
# antctl errors that the next run would hit again unchanged (antctl.md §2.1, §5)
_PERMANENT_ERRORS = (
    "No service named",
    "Could not find node with peer id",
    "is being used by another service",
    "does not match the number of ports",
    "The provided path does not exist",
    "Failed to obtain the version",
    "Permission denied",
    "a password is required",
)
_NO_SERVICE = "No service named"
_RETRY_REMOVE = "run the command again"


class AntctlManager(ProcessManager):
    """Nodes managed through the ``antctl`` command line. See the module docstring."""

    name = "antctl"
    version_timeout = 10.0
    status_timeout = 30.0
    action_timeout = 120.0  # add (downloads in zen), start, upgrade, remove
    stop_margin = 30.0  # on top of the caller's stop timeout: antctl's own SIGTERM wait

    @classmethod
    def availability(cls, ctx: ManagerContext) -> Availability:
        if ctx.variant not in VARIANTS:
            return Availability(False, f"unknown antctl mode {ctx.mode!r} (use antctl+user|sudo|zen)")
        path = ctx.settings.antctl_path
        if not path:
            return Availability(False, "antctl_path is not set")
        if not os.path.isfile(path):
            return Availability(False, f"antctl not found at {path}")
        if not os.access(path, os.X_OK):
            return Availability(False, f"{path} is not executable")
        try:
            result = ctx.runner([path, "--version"], timeout=cls.version_timeout, check=False)
        except WnmError as exc:
            return Availability(False, f"{path} --version failed: {exc}")
        first = (result.stdout.strip().splitlines() or [""])[0]
        if result.returncode != 0 or not _VERSION_RE.match(first):
            seen = first or error_text(result.output)
            return Availability(False, f"{path} is not antctl (--version answered {seen!r})")
        return Availability(True)

    def uses_own_paths(self) -> bool:
        return True

    @property
    def zen(self) -> bool:
        return self.ctx.variant == "zen"

    # ---- lifecycle ---------------------------------------------------------------------------

    def create(self, node: Node) -> Node:
        """``antctl add`` one service; returns the node with antctl's service name and paths.

        Raises PermanentFailure for settings antctl cannot express (v2 node, no rewards address,
        an environment value with a comma, a missing antnode binary) and antctl's own errors.
        """
        settings = self.ctx.settings
        args = add_arguments(node, settings, zen=self.zen)
        if not self.zen and not os.path.isfile(settings.antnode_path):
            raise PermanentFailure(f"antnode binary {settings.antnode_path!r} does not exist", node.id)
        result = self._antctl(args, self.action_timeout, node)
        try:
            added = parse_added(result.stdout)[0]
        except AntctlOutputError as exc:
            added = self._added_by_port(node, exc)
        added = self._with_paths(node, added)
        log.info("antctl added %s as %s", node.name, added.service)
        return replace(
            node,
            service=added.service,
            root_dir=added.data_dir,
            log_dir=added.log_dir,
            binary=added.binary,
            version=added.version or ("" if self.zen else node.version),
            storage_path=os.path.dirname(added.data_dir) if self.zen else node.storage_path,
            binary_stamp="",
        )

    def start(self, node: Node) -> None:
        service = self._require_service(node)
        self._antctl(["start", "--service-name", service, "--interval", "0"], self.action_timeout, node)

    def stop(self, node: Node, timeout: float = 30.0) -> None:
        """``antctl stop``; a node antctl does not know (any more) counts as stopped."""
        service = node.service or self._service_by_port(node)
        if not service:
            return
        try:
            self._antctl(["stop", "--service-name", service], timeout + self.stop_margin, node)
        except PermanentFailure as exc:
            if _NO_SERVICE not in str(exc):
                raise
            log.info("%s: antctl has no service %s; nothing to stop", node.name, service)

    def remove(self, node: Node) -> None:
        """Stop the node if it runs, then ``antctl remove`` (which deletes its data and log dirs).

        A node antctl does not know, or already removed, is fine (an undo after a failed add).
        """
        entry = _entry_for(node, self._registry(node))
        if entry is None or entry.status == "Removed":
            log.info("%s: not in antctl's registry (or removed already)", node.name)
            return
        if entry.status == "Running":
            self._antctl(["stop", "--service-name", entry.service], self.action_timeout, node)
        argv = ["remove", "--service-name", entry.service]
        try:
            self._antctl(argv, self.action_timeout, node)
        except TemporaryFailure as exc:
            if _RETRY_REMOVE not in str(exc):
                raise
            self._antctl(argv, self.action_timeout, node)  # antctl corrected a stale Running

    def status_all(self, nodes: Sequence[Node]) -> Mapping[int, ProcessStatus]:
        """One ``antctl status --json`` for all nodes."""
        entries = self._registry(None)
        return {node.id: _status_of(_entry_for(node, entries)) for node in nodes}

    def upgrade_in_place(self, node: Node, source: str) -> bool:
        """``antctl upgrade`` swaps the binary and restarts the node; wnm only confirms it.

        ``+zen`` leaves the binary choice to antctl (latest, or ``antctl_version``).
        """
        service = self._require_service(node)
        args = ["upgrade", "--service-name", service, "--interval", "0"]
        if self.zen:
            if self.ctx.settings.antctl_version:
                args += ["--version", self.ctx.settings.antctl_version]
        else:
            args += ["--path", source, "--force"]
        self._antctl(args, self.action_timeout, node)
        return True

    # ---- helpers -----------------------------------------------------------------------------

    def _antctl(self, args: Sequence[str], timeout: float, node: Node | None) -> CommandResult:
        """Run antctl; its failures become ActionFailures carrying antctl's own message.

        CommandTimeout and CommandNotFound pass through unchanged.
        """
        argv = [self.ctx.settings.antctl_path]
        if self.ctx.settings.antctl_debug:
            argv.append("--debug")
        argv += args
        if self.ctx.variant == "sudo":
            argv = self.ctx.privilege.wrap(argv)
        try:
            return self.ctx.runner(argv, timeout=timeout)
        except CommandError as exc:
            raise _failure(args, exc, node) from exc

    def _registry(self, node: Node | None) -> list[RegistryEntry]:
        result = self._antctl(["status", "--json"], self.status_timeout, node)
        try:
            return parse_status_json(result.stdout)
        except AntctlOutputError as exc:
            raise TemporaryFailure(f"antctl status --json: {exc}", node.id if node else None) from exc

    def _require_service(self, node: Node) -> str:
        service = node.service or self._service_by_port(node)
        if not service:
            raise PermanentFailure(f"node {node.name} has no antctl service (it was never added)", node.id)
        return service

    def _service_by_port(self, node: Node) -> str:
        entry = _entry_for(node, self._registry(node))
        return entry.service if entry and entry.status != "Removed" else ""

    def _added_by_port(self, node: Node, problem: AntctlOutputError) -> AddedService:
        """The service ``add`` created when its stdout could not be read: found by node port."""
        entry = _entry_for(replace(node, service=""), self._registry(node))
        if entry is None:
            raise TemporaryFailure(f"antctl add: {problem}", node.id)
        return AddedService(entry.service, entry.binary, entry.data_dir, entry.log_dir)

    def _with_paths(self, node: Node, added: AddedService) -> AddedService:
        """Fill paths antctl did not print from its registry."""
        if added.binary and added.data_dir and added.log_dir:
            return added
        entry = _entry_for(replace(node, service=added.service), self._registry(node))
        if entry is None or not entry.data_dir:
            raise TemporaryFailure(f"antctl added {added.service} but does not report its paths", node.id)
        return replace(
            added,
            binary=added.binary or entry.binary or os.path.join(entry.data_dir, "antnode"),
            data_dir=added.data_dir or entry.data_dir,
            log_dir=added.log_dir or entry.log_dir,
        )


def add_arguments(node: Node, settings: Settings, *, zen: bool) -> list[str]:
    """The ``antctl add`` arguments (after the program) for one node, EVM subcommand last.

    Raises PermanentFailure when the node cannot be expressed to antctl: a v2 node, no rewards
    address, an unparsable environment, or an environment value containing a comma (antctl's
    ``--env`` separator).
    """
    if node.generation is not Generation.LEGACY:
        raise PermanentFailure(f"antctl runs legacy antnode only, not {node.generation} nodes", node.id)
    wallet = node.wallet or settings.rewards_address
    if not wallet:
        raise PermanentFailure(f"node {node.name} has no rewards address", node.id)
    args = [
        "add",
        "--count", "1",
        "--node-port", str(node.port),
        "--metrics-port", str(node.metrics_port),
        "--rpc-port", str(node.rpc_port),
        "--rewards-address", wallet,
    ]  # fmt: skip
    if settings.no_upnp:
        args.append("--no-upnp")
    if zen:
        if settings.antctl_version:
            args += ["--version", settings.antctl_version]
    else:
        args += ["--data-dir-path", node.storage_path or os.path.dirname(node.root_dir.rstrip("/"))]
        log_prefix = _log_prefix(node)
        if log_prefix:
            args += ["--log-dir-path", log_prefix]
        args += ["--path", settings.antnode_path]
    env = _environment(node, settings)
    if env:
        args += ["--env", env]
    args.append(EVM_SUBCOMMAND)
    return args


def _log_prefix(node: Node) -> str:
    """The parent of wnm's log dir, unless that dir is inside the root dir (antctl's default then)."""
    log_dir = node.log_dir.rstrip("/")
    root = node.root_dir.rstrip("/")
    if not log_dir or log_dir == root or log_dir.startswith(root + "/"):
        return ""
    return os.path.dirname(log_dir)


def _environment(node: Node, settings: Settings) -> str:
    try:
        pairs = merge_environment(
            parse_environment(settings.environment),
            parse_environment(node.environment, option="environment (node)"),
        )
    except ConfigError as exc:
        raise PermanentFailure(str(exc), node.id) from exc
    for key, value in pairs:
        if "," in value:
            raise PermanentFailure(
                f"environment value of {key} contains a comma, which antctl --env cannot pass", node.id
            )
    return ",".join(f"{key}={value}" for key, value in pairs)


def _entry_for(node: Node, entries: Sequence[RegistryEntry]) -> RegistryEntry | None:
    """The node's registry entry: by service name, or by node port among live entries."""
    if node.service:
        named = [e for e in entries if e.service == node.service]
        return named[-1] if named else None
    live = [e for e in entries if e.status != "Removed" and e.node_port == node.port]
    return live[-1] if live else None


def _status_of(entry: RegistryEntry | None) -> ProcessStatus:
    if entry is None:
        return ProcessStatus(ProcessState.MISSING, detail="not in antctl's registry")
    if entry.status == "Running":
        return ProcessStatus(ProcessState.RUNNING, pid=entry.pid)
    if entry.status == "Stopped":
        return ProcessStatus(ProcessState.STOPPED, detail=f"antctl: {entry.service} stopped")
    if entry.status == "Added":
        return ProcessStatus(ProcessState.STOPPED, detail=f"antctl: {entry.service} added, never started")
    if entry.status == "Removed":
        return ProcessStatus(ProcessState.MISSING, detail=f"antctl: {entry.service} removed")
    return ProcessStatus(ProcessState.UNKNOWN, detail=f"antctl: {entry.service} has status {entry.status!r}")


def _failure(args: Sequence[str], exc: CommandError, node: Node | None) -> ActionFailure:
    """antctl's message as a Permanent- or TemporaryFailure (usage errors are permanent)."""
    target = next((a for a in args if a.startswith("antnode")), "")
    text = error_text(exc.output)
    message = f"antctl {args[0]}{' ' + target if target else ''} failed (exit {exc.returncode}): {text}"
    node_id = node.id if node else None
    if exc.returncode == 2 or any(marker in text for marker in _PERMANENT_ERRORS):
        return PermanentFailure(message, node_id)
    return TemporaryFailure(message, node_id)

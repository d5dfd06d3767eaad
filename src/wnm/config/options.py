"""Every command-line option of wnm, in one table.

Names are those of wnm-compat (snake_case); each option also accepts the dashed spelling, and
every persisted option has an environment variable (its name upper-cased) and a config-file key
(its name). Persisted options are the fields of ``Settings`` and the columns of ``machine``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["int", "float", "str", "bool"]

MODES = (
    "systemd+user",
    "systemd+sudo",
    "setsid+user",
    "setsid+sudo",
    "launchd+user",
    "launchd+sudo",
    "antctl+user",
    "antctl+sudo",
    "antctl+zen",
    "docker",
)
FIREWALLS = ("auto", "ufw", "firewalld", "null")
STRATEGIES = ("youngest", "oldest", "least_records", "most_shunned", "highest_cpu", "lowest_rewards")
GENERATIONS = ("auto", "legacy", "v2")
FORCE_ACTIONS = (
    "add",
    "remove",
    "start",
    "stop",
    "restart",
    "upgrade",
    "disable",
    "enable",
    "teardown",
    "survey",
    "backup",
    "nullop",
    "update_config",
    "resume_upgrades",
)
REPORTS = (
    "machine-config",
    "node-status",
    "node-status-details",
    "machine-metrics",
    "action-log",
    "influx-resources",
)
REPORT_FORMATS = ("text", "json", "env", "config")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class Option:
    name: str
    kind: Kind
    help: str
    persisted: bool = False
    immutable: bool = False
    env: bool = True
    choices: tuple[str, ...] = ()
    short: str = ""
    metavar: str = ""

    @property
    def env_var(self) -> str | None:
        return self.name.upper() if self.env else None


def _p(name: str, kind: Kind, help: str, **kw: object) -> Option:
    return Option(name, kind, help, persisted=True, **kw)  # type: ignore[arg-type]


PERSISTED: tuple[Option, ...] = (
    _p("node_cap", "int", "most nodes to run on this host"),
    _p("cpu_less_than", "int", "add nodes only while CPU %% is below this"),
    _p("cpu_remove", "int", "stop a node when CPU %% is above this"),
    _p("mem_less_than", "int", "add nodes only while memory %% is below this"),
    _p("mem_remove", "int", "stop a node when memory %% is above this"),
    _p("hd_less_than", "int", "add nodes only while every node filesystem is below this %%"),
    _p("hd_remove", "int", "remove a node when a node filesystem is above this %%"),
    _p("hdio_read_less_than", "int", "add only while disk reads are below this bytes/s (0 = off)"),
    _p("hdio_read_remove", "int", "stop a node when disk reads exceed this bytes/s (0 = off)"),
    _p("hdio_write_less_than", "int", "add only while disk writes are below this bytes/s (0 = off)"),
    _p("hdio_write_remove", "int", "stop a node when disk writes exceed this bytes/s (0 = off)"),
    _p("netio_read_less_than", "int", "add only while network receive is below this bytes/s (0 = off)"),
    _p("netio_read_remove", "int", "stop a node when network receive exceeds this bytes/s (0 = off)"),
    _p("netio_write_less_than", "int", "add only while network send is below this bytes/s (0 = off)"),
    _p("netio_write_remove", "int", "stop a node when network send exceeds this bytes/s (0 = off)"),
    _p("desired_load_average", "float", "add nodes only while every load average is below this"),
    _p("max_load_average_allowed", "float", "stop a node when any load average is above this"),
    _p("cpu_count", "int", "CPU count used for load defaults (default: CPUs available to wnm)"),
    _p("delay_start", "int", "seconds a starting node is given before it is judged"),
    _p("delay_restart", "int", "seconds after a stop before that node or a new one is started"),
    _p("delay_upgrade", "int", "seconds an upgrading node is given before it is judged"),
    _p("delay_remove", "int", "seconds a removing node is given before its removal is finished"),
    _p("survey_delay", "int", "milliseconds between node probes (0 = all at once)"),
    _p("action_delay", "int", "milliseconds between actions of one run"),
    _p("max_concurrent_upgrades", "int", "nodes upgrading at once"),
    _p("max_concurrent_starts", "int", "nodes starting (or being added) at once"),
    _p("max_concurrent_removals", "int", "nodes being stopped or removed at once"),
    _p("max_concurrent_operations", "int", "actions in flight at once, all kinds together"),
    _p("node_removal_strategy", "str", "which node to stop or remove first", choices=STRATEGIES),
    _p("rewards_address", "str", "0x address, faucet, donate, or weighted list addr:weight,..."),
    _p("donate_address", "str", "address used for 'donate' in rewards_address"),
    _p("node_storage", "str", "parent dir(s) of node dirs; comma-separate one path per disk"),
    _p("log_dir", "str", "parent dir of node log dirs (default: inside each node dir)"),
    _p("bootstrap_cache_dir", "str", "shared bootstrap cache dir passed to legacy nodes"),
    _p("port_start", "int", "node port = port_start*1000 + id (fixed at --init)", immutable=True),
    _p("metrics_port_start", "int", "metrics port = metrics_port_start*1000 + id (fixed)", immutable=True),
    _p("rpc_port_start", "int", "rpc port = rpc_port_start*1000 + id (fixed at --init)", immutable=True),
    _p("host", "str", "address wnm uses to reach node metrics"),
    _p("process_manager", "str", "how nodes run (fixed at --init)", choices=MODES, immutable=True),
    _p("firewall", "str", "firewall to open node ports in", choices=FIREWALLS),
    _p("environment", "str", "extra environment for nodes: K=V separated by ';' or newlines"),
    _p("start_args", "str", "extra arguments appended to every node's command line"),
    _p("no_upnp", "bool", "pass --no-upnp to legacy nodes"),
    _p("crisis_bytes", "int", "free bytes below which a node filesystem is in crisis"),
    _p("antnode_path", "str", "legacy antnode binary new nodes are copied from"),
    _p("node_binary_path", "str", "v2 ant-node binary new nodes are copied from"),
    _p("node_generation", "str", "generation of new nodes", choices=GENERATIONS),
    _p("antctl_path", "str", "antctl binary for the antctl modes"),
    _p("antctl_debug", "bool", "pass --debug to antctl"),
    _p("antctl_version", "str", "antnode version antctl installs (empty = latest)"),
    _p("docker_image", "str", "image for docker nodes"),
    _p("max_node_per_container", "int", "nodes per docker container"),
    _p("min_container_count", "int", "containers to keep for docker nodes"),
    _p("enable_upgrade", "bool", "upgrade nodes to the version of the source binary"),
    _p("upgrade_settle", "int", "seconds an upgraded node must stay healthy before the next"),
    _p("crash_loop_count", "int", "deaths within crash_loop_minutes that quarantine a node"),
    _p("crash_loop_minutes", "int", "window for crash_loop_count"),
    _p("node_disk_budget", "int", "bytes of disk to reserve per new node"),
    _p("protect_age", "int", "seconds of age that protect a node's identity from removal"),
)

RUN: tuple[Option, ...] = (
    Option("config", "str", "config file", env=False, short="-c", metavar="FILE"),
    Option("dbpath", "str", "database path or sqlite:/// URL", metavar="PATH"),
    Option("loglevel", "str", "log level", choices=LOG_LEVELS),
    Option("logfile", "str", "also append log lines to this file", metavar="FILE"),
    Option("quiet", "bool", "log errors only", env=False, short="-q"),
    Option("verbose", "bool", "log debug detail", env=False, short="-v"),
    Option("dry_run", "bool", "survey and print the plan; change nothing"),
    Option("init", "bool", "create the machine row and exit", env=False),
    Option("force_action", "str", "act now on named or counted nodes", choices=FORCE_ACTIONS),
    Option("service_name", "str", "comma list of nodes for --force_action/--report", metavar="NAMES"),
    Option("count", "int", "how many nodes for --force_action"),
    Option(
        "backup_file",
        "str",
        "tar file for --force_action backup (default: wnm-identities-<UTC time>.tar beside the database)",
        metavar="FILE",
    ),
    Option(
        "restore", "str", "with --init: recreate the nodes of an identity backup", env=False, metavar="FILE"
    ),
    Option("force", "bool", "let --force_action ignore node_cap", env=False),
    Option("confirm", "bool", "confirm a destructive --force_action (teardown)", env=False),
    Option("report", "str", "print a report and exit (read-only)", choices=REPORTS),
    Option("report_format", "str", "report format", choices=REPORT_FORMATS),
    Option("json", "bool", "same as --report_format json; JSON plan for --dry-run", env=False),
    Option("this_survey_delay", "int", "survey_delay for this run only (ms)"),
    Option("this_action_delay", "int", "action_delay for this run only (ms)"),
    Option("interval", "int", "same as --this_action_delay (antctl spelling)"),
    Option("show_machine_config", "bool", "log the settings each run", env=False),
    Option("show_machine_metrics", "bool", "log the host metrics each run", env=False),
    Option("show_decisions", "bool", "log the decision details each run", env=False),
    Option("remove_lockfile", "bool", "compatibility: the lock needs no removal; says so", env=False),
)

OPTIONS: tuple[Option, ...] = PERSISTED + RUN
BY_NAME: dict[str, Option] = {o.name: o for o in OPTIONS}

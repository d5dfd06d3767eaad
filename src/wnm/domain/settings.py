"""The machine's settings: one frozen value built once per run and passed explicitly.

Field names are the option names of wnm-compat (snake_case) and the columns of the ``machine``
table. Delays are seconds; ``survey_delay``/``action_delay`` milliseconds; thresholds percent.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

DONATE_ADDRESS = "0x00455d78f850b0358E8cea5be24d415E01E107CF"
FAUCET_ADDRESS = "0x03B770D9cD32077cC0bF330c13C114a87643B124"
GIB = 1024**3


@dataclass(frozen=True)
class Settings:
    """Tunables of one machine (persisted in the ``machine`` row)."""

    # capacity and thresholds
    node_cap: int = 20
    cpu_less_than: int = 50
    cpu_remove: int = 70
    mem_less_than: int = 60
    mem_remove: int = 75
    hd_less_than: int = 75
    hd_remove: int = 90
    hdio_read_less_than: int = 0
    hdio_read_remove: int = 0
    hdio_write_less_than: int = 0
    hdio_write_remove: int = 0
    netio_read_less_than: int = 0
    netio_read_remove: int = 0
    netio_write_less_than: int = 0
    netio_write_remove: int = 0
    desired_load_average: float = 1.2
    max_load_average_allowed: float = 2.0
    cpu_count: int = 2
    # delays (seconds) and pacing (milliseconds)
    delay_start: int = 300
    delay_restart: int = 600
    delay_upgrade: int = 300
    delay_remove: int = 300
    survey_delay: int = 0
    action_delay: int = 0
    # concurrency
    max_concurrent_upgrades: int = 1
    max_concurrent_starts: int = 1
    max_concurrent_removals: int = 1
    max_concurrent_operations: int = 1
    node_removal_strategy: str = "youngest"
    # rewards
    rewards_address: str = ""
    donate_address: str = DONATE_ADDRESS
    # placement and identity
    node_storage: str = ""
    log_dir: str = ""
    bootstrap_cache_dir: str = ""
    port_start: int = 55
    metrics_port_start: int = 13
    rpc_port_start: int = 30
    host: str = "127.0.0.1"
    process_manager: str = "setsid+user"
    firewall: str = "auto"
    environment: str = ""
    start_args: str = ""
    no_upnp: bool = False
    crisis_bytes: int = 2_000_000_000
    # binaries
    antnode_path: str = ""
    node_binary_path: str = ""
    node_generation: str = "auto"
    antctl_path: str = ""
    antctl_debug: bool = False
    antctl_version: str = ""
    # docker
    docker_image: str = "wnm/node:latest"
    max_node_per_container: int = 1
    min_container_count: int = 1
    # lifecycle policy
    enable_upgrade: bool = False
    upgrade_settle: int = 60
    crash_loop_count: int = 5
    crash_loop_minutes: int = 10
    node_disk_budget: int = 20 * GIB
    protect_age: int = 7 * 86400

    @property
    def storage_paths(self) -> tuple[str, ...]:
        """``node_storage`` split into its paths (one per disk)."""
        return tuple(p.strip() for p in self.node_storage.split(",") if p.strip())

    @property
    def port_base(self) -> int:
        return _thousands(self.port_start)

    @property
    def metrics_port_base(self) -> int:
        return _thousands(self.metrics_port_start)

    @property
    def rpc_port_base(self) -> int:
        return _thousands(self.rpc_port_start)


def _thousands(start: int) -> int:
    """``55`` and ``55000`` both mean a first port of 55001 (wnm-compat accepts both)."""
    return start * 1000 if start < 1000 else start


SETTING_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Settings))


@dataclass(frozen=True)
class MachineState:
    """Run-to-run state kept in the machine row (not tunables)."""

    boot_time: int = 0
    last_stopped_at: int = 0
    last_pressure_at: int = 0
    highest_node_id_used: int = 0
    upgrade_paused: str = ""

"""SQLAlchemy 2.0 typed models. Column names are snake_case and follow wnm-compat where they overlap."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class MachineRow(Base):
    """The one machine row (id 1): tunables (see domain.settings.Settings) and run-to-run state."""

    __tablename__ = "machine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # thresholds and capacity
    node_cap: Mapped[int] = mapped_column(Integer)
    cpu_less_than: Mapped[int] = mapped_column(Integer)
    cpu_remove: Mapped[int] = mapped_column(Integer)
    mem_less_than: Mapped[int] = mapped_column(Integer)
    mem_remove: Mapped[int] = mapped_column(Integer)
    hd_less_than: Mapped[int] = mapped_column(Integer)
    hd_remove: Mapped[int] = mapped_column(Integer)
    hdio_read_less_than: Mapped[int] = mapped_column(Integer, default=0)
    hdio_read_remove: Mapped[int] = mapped_column(Integer, default=0)
    hdio_write_less_than: Mapped[int] = mapped_column(Integer, default=0)
    hdio_write_remove: Mapped[int] = mapped_column(Integer, default=0)
    netio_read_less_than: Mapped[int] = mapped_column(Integer, default=0)
    netio_read_remove: Mapped[int] = mapped_column(Integer, default=0)
    netio_write_less_than: Mapped[int] = mapped_column(Integer, default=0)
    netio_write_remove: Mapped[int] = mapped_column(Integer, default=0)
    desired_load_average: Mapped[float] = mapped_column(Float)
    max_load_average_allowed: Mapped[float] = mapped_column(Float)
    cpu_count: Mapped[int] = mapped_column(Integer)
    # delays
    delay_start: Mapped[int] = mapped_column(Integer)
    delay_restart: Mapped[int] = mapped_column(Integer)
    delay_upgrade: Mapped[int] = mapped_column(Integer)
    delay_remove: Mapped[int] = mapped_column(Integer)
    survey_delay: Mapped[int] = mapped_column(Integer, default=0)
    action_delay: Mapped[int] = mapped_column(Integer, default=0)
    # concurrency
    max_concurrent_upgrades: Mapped[int] = mapped_column(Integer, default=1)
    max_concurrent_starts: Mapped[int] = mapped_column(Integer, default=1)
    max_concurrent_removals: Mapped[int] = mapped_column(Integer, default=1)
    max_concurrent_operations: Mapped[int] = mapped_column(Integer, default=1)
    node_removal_strategy: Mapped[str] = mapped_column(String(32), default="youngest")
    # rewards and placement
    rewards_address: Mapped[str] = mapped_column(Text)
    donate_address: Mapped[str] = mapped_column(Text)
    node_storage: Mapped[str] = mapped_column(Text)
    log_dir: Mapped[str] = mapped_column(Text, default="")
    bootstrap_cache_dir: Mapped[str] = mapped_column(Text, default="")
    port_start: Mapped[int] = mapped_column(Integer)
    metrics_port_start: Mapped[int] = mapped_column(Integer)
    rpc_port_start: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(Text, default="127.0.0.1")
    process_manager: Mapped[str] = mapped_column(String(32))
    firewall: Mapped[str] = mapped_column(String(32), default="auto")
    environment: Mapped[str] = mapped_column(Text, default="")
    start_args: Mapped[str] = mapped_column(Text, default="")
    no_upnp: Mapped[bool] = mapped_column(Boolean, default=False)
    crisis_bytes: Mapped[int] = mapped_column(Integer, default=2_000_000_000)
    # binaries
    antnode_path: Mapped[str] = mapped_column(Text, default="")
    node_binary_path: Mapped[str] = mapped_column(Text, default="")
    node_generation: Mapped[str] = mapped_column(String(16), default="auto")
    antctl_path: Mapped[str] = mapped_column(Text, default="")
    antctl_debug: Mapped[bool] = mapped_column(Boolean, default=False)
    antctl_version: Mapped[str] = mapped_column(Text, default="")
    # docker
    docker_image: Mapped[str] = mapped_column(Text, default="wnm/node:latest")
    max_node_per_container: Mapped[int] = mapped_column(Integer, default=1)
    min_container_count: Mapped[int] = mapped_column(Integer, default=1)
    # lifecycle policy
    enable_upgrade: Mapped[bool] = mapped_column(Boolean, default=False)
    upgrade_settle: Mapped[int] = mapped_column(Integer, default=60)
    crash_loop_count: Mapped[int] = mapped_column(Integer, default=5)
    crash_loop_minutes: Mapped[int] = mapped_column(Integer, default=10)
    node_disk_budget: Mapped[int] = mapped_column(Integer, default=20 * 1024**3)
    protect_age: Mapped[int] = mapped_column(Integer, default=7 * 86400)
    # state
    boot_time: Mapped[int] = mapped_column(Integer, default=0)
    last_stopped_at: Mapped[int] = mapped_column(Integer, default=0)
    last_pressure_at: Mapped[int] = mapped_column(Integer, default=0)
    highest_node_id_used: Mapped[int] = mapped_column(Integer, default=0)
    upgrade_paused: Mapped[str] = mapped_column(Text, default="")
    host_counters: Mapped[str] = mapped_column(Text, default="")
    binary_cache: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[int] = mapped_column(Integer, default=0)


class ContainerRow(Base):
    """A docker container holding one or more nodes."""

    __tablename__ = "container"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machine.id"), default=1)
    container_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(Text)
    image: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[int] = mapped_column(Integer)


class NodeRow(Base):
    """One node. ``timestamp`` is when ``status`` last changed; ``age`` when the node was created."""

    __tablename__ = "node"
    __table_args__ = (Index("ix_node_status", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machine.id"), default=1)
    container_id: Mapped[int | None] = mapped_column(ForeignKey("container.id"), nullable=True)
    manager_type: Mapped[str] = mapped_column(String(32))
    generation: Mapped[str] = mapped_column(String(16), default="legacy")
    node_name: Mapped[str] = mapped_column(String(10))
    service: Mapped[str] = mapped_column(Text)
    binary: Mapped[str] = mapped_column(Text)
    binary_stamp: Mapped[str] = mapped_column(Text, default="")
    upgrade_from: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[str] = mapped_column(Text, default="")
    root_dir: Mapped[str] = mapped_column(Text)
    log_dir: Mapped[str] = mapped_column(Text, default="")
    storage_path: Mapped[str] = mapped_column(Text, default="")
    port: Mapped[int] = mapped_column(Integer)
    metrics_port: Mapped[int] = mapped_column(Integer)
    rpc_port: Mapped[int] = mapped_column(Integer, default=0)
    network: Mapped[str] = mapped_column(Text, default="evm-arbitrum-one")
    wallet: Mapped[str] = mapped_column(String(42), default="")
    peer_id: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(32))
    status_reason: Mapped[str] = mapped_column(Text, default="")
    timestamp: Mapped[int] = mapped_column(Integer)
    age: Mapped[int] = mapped_column(Integer)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    recent_deaths: Mapped[str] = mapped_column(Text, default="")
    host: Mapped[str] = mapped_column(Text, default="127.0.0.1")
    environment: Mapped[str] = mapped_column(Text, default="")
    # latest metrics
    uptime: Mapped[int] = mapped_column(Integer, default=0)
    records: Mapped[int] = mapped_column(Integer, default=0)
    connected_peers: Mapped[int] = mapped_column(Integer, default=0)
    total_peers: Mapped[int] = mapped_column(Integer, default=0)
    shunned: Mapped[int] = mapped_column(Integer, default=0)
    shunned_count: Mapped[int] = mapped_column(Integer, default=0)
    bad_peers: Mapped[int] = mapped_column(Integer, default=0)
    open_connections: Mapped[int] = mapped_column(Integer, default=0)
    network_size: Mapped[int] = mapped_column(Integer, default=0)
    rewards: Mapped[str] = mapped_column(Text, default="0")
    puts: Mapped[int] = mapped_column(Integer, default=0)
    payment_count: Mapped[int] = mapped_column(Integer, default=0)
    rel_records: Mapped[int] = mapped_column(Integer, default=0)
    max_records: Mapped[int] = mapped_column(Integer, default=0)
    live_time: Mapped[int] = mapped_column(Integer, default=0)
    cpu: Mapped[float] = mapped_column(Float, default=0.0)
    mem: Mapped[float] = mapped_column(Float, default=0.0)
    data_size: Mapped[int] = mapped_column(Integer, default=0)


class ActionLogRow(Base):
    """One executed (or failed) action: what wnm did, to which node, why, and how it went."""

    __tablename__ = "action_log"
    __table_args__ = (Index("ix_action_log_time", "time"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    time: Mapped[float] = mapped_column(Float)
    action: Mapped[str] = mapped_column(String(16))
    node_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(16))
    error: Mapped[str] = mapped_column(Text, default="")
    duration: Mapped[float] = mapped_column(Float, default=0.0)
    source: Mapped[str] = mapped_column(String(16), default="run")

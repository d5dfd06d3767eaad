"""Initial wnm 1.0 schema: machine, container, node and action_log.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "machine",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("node_cap", sa.Integer(), nullable=False),
        sa.Column("cpu_less_than", sa.Integer(), nullable=False),
        sa.Column("cpu_remove", sa.Integer(), nullable=False),
        sa.Column("mem_less_than", sa.Integer(), nullable=False),
        sa.Column("mem_remove", sa.Integer(), nullable=False),
        sa.Column("hd_less_than", sa.Integer(), nullable=False),
        sa.Column("hd_remove", sa.Integer(), nullable=False),
        sa.Column("hdio_read_less_than", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("hdio_read_remove", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("hdio_write_less_than", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("hdio_write_remove", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("netio_read_less_than", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("netio_read_remove", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("netio_write_less_than", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("netio_write_remove", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("desired_load_average", sa.Float(), nullable=False),
        sa.Column("max_load_average_allowed", sa.Float(), nullable=False),
        sa.Column("cpu_count", sa.Integer(), nullable=False),
        sa.Column("delay_start", sa.Integer(), nullable=False),
        sa.Column("delay_restart", sa.Integer(), nullable=False),
        sa.Column("delay_upgrade", sa.Integer(), nullable=False),
        sa.Column("delay_remove", sa.Integer(), nullable=False),
        sa.Column("survey_delay", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("action_delay", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("max_concurrent_upgrades", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("max_concurrent_starts", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("max_concurrent_removals", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("max_concurrent_operations", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("node_removal_strategy", sa.String(32), nullable=False, server_default="youngest"),
        sa.Column("rewards_address", sa.Text(), nullable=False),
        sa.Column("donate_address", sa.Text(), nullable=False),
        sa.Column("node_storage", sa.Text(), nullable=False),
        sa.Column("log_dir", sa.Text(), nullable=False, server_default=""),
        sa.Column("bootstrap_cache_dir", sa.Text(), nullable=False, server_default=""),
        sa.Column("port_start", sa.Integer(), nullable=False),
        sa.Column("metrics_port_start", sa.Integer(), nullable=False),
        sa.Column("rpc_port_start", sa.Integer(), nullable=False),
        sa.Column("host", sa.Text(), nullable=False, server_default="127.0.0.1"),
        sa.Column("process_manager", sa.String(32), nullable=False),
        sa.Column("firewall", sa.String(32), nullable=False, server_default="auto"),
        sa.Column("environment", sa.Text(), nullable=False, server_default=""),
        sa.Column("start_args", sa.Text(), nullable=False, server_default=""),
        sa.Column("no_upnp", sa.Boolean(), nullable=False, server_default="0"),
        sa.Column("crisis_bytes", sa.Integer(), nullable=False, server_default="2000000000"),
        sa.Column("antnode_path", sa.Text(), nullable=False, server_default=""),
        sa.Column("node_binary_path", sa.Text(), nullable=False, server_default=""),
        sa.Column("node_generation", sa.String(16), nullable=False, server_default="auto"),
        sa.Column("antctl_path", sa.Text(), nullable=False, server_default=""),
        sa.Column("antctl_debug", sa.Boolean(), nullable=False, server_default="0"),
        sa.Column("antctl_version", sa.Text(), nullable=False, server_default=""),
        sa.Column("docker_image", sa.Text(), nullable=False, server_default="wnm/node:latest"),
        sa.Column("max_node_per_container", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("min_container_count", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("enable_upgrade", sa.Boolean(), nullable=False, server_default="0"),
        sa.Column("upgrade_settle", sa.Integer(), nullable=False, server_default="60"),
        sa.Column("crash_loop_count", sa.Integer(), nullable=False, server_default="5"),
        sa.Column("crash_loop_minutes", sa.Integer(), nullable=False, server_default="10"),
        sa.Column("node_disk_budget", sa.Integer(), nullable=False, server_default="21474836480"),
        sa.Column("protect_age", sa.Integer(), nullable=False, server_default="604800"),
        sa.Column("boot_time", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_stopped_at", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_pressure_at", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("highest_node_id_used", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("upgrade_paused", sa.Text(), nullable=False, server_default=""),
        sa.Column("host_counters", sa.Text(), nullable=False, server_default=""),
        sa.Column("binary_cache", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "container",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("machine_id", sa.Integer(), sa.ForeignKey("machine.id"), nullable=False),
        sa.Column("container_id", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("image", sa.Text(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("created_at", sa.Integer(), nullable=False),
    )
    op.create_table(
        "node",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("machine_id", sa.Integer(), sa.ForeignKey("machine.id"), nullable=False),
        sa.Column("container_id", sa.Integer(), sa.ForeignKey("container.id"), nullable=True),
        sa.Column("manager_type", sa.String(32), nullable=False),
        sa.Column("generation", sa.String(16), nullable=False, server_default="legacy"),
        sa.Column("node_name", sa.String(10), nullable=False),
        sa.Column("service", sa.Text(), nullable=False),
        sa.Column("binary", sa.Text(), nullable=False),
        sa.Column("binary_stamp", sa.Text(), nullable=False, server_default=""),
        sa.Column("upgrade_from", sa.Text(), nullable=False, server_default=""),
        sa.Column("version", sa.Text(), nullable=False, server_default=""),
        sa.Column("root_dir", sa.Text(), nullable=False),
        sa.Column("log_dir", sa.Text(), nullable=False, server_default=""),
        sa.Column("storage_path", sa.Text(), nullable=False, server_default=""),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("metrics_port", sa.Integer(), nullable=False),
        sa.Column("rpc_port", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("network", sa.Text(), nullable=False, server_default="evm-arbitrum-one"),
        sa.Column("wallet", sa.String(42), nullable=False, server_default=""),
        sa.Column("peer_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("timestamp", sa.Integer(), nullable=False),
        sa.Column("age", sa.Integer(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("recent_deaths", sa.Text(), nullable=False, server_default=""),
        sa.Column("host", sa.Text(), nullable=False, server_default="127.0.0.1"),
        sa.Column("environment", sa.Text(), nullable=False, server_default=""),
        sa.Column("uptime", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("records", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("connected_peers", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("total_peers", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("shunned", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("shunned_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("bad_peers", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("open_connections", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("network_size", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("rewards", sa.Text(), nullable=False, server_default="0"),
        sa.Column("puts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("payment_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("rel_records", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("max_records", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("live_time", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("cpu", sa.Float(), nullable=False, server_default="0.0"),
        sa.Column("mem", sa.Float(), nullable=False, server_default="0.0"),
        sa.Column("data_size", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "action_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("time", sa.Float(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=False, server_default=""),
        sa.Column("duration", sa.Float(), nullable=False, server_default="0.0"),
        sa.Column("source", sa.String(16), nullable=False, server_default="run"),
    )
    op.create_index("ix_node_status", "node", ["status"])
    op.create_index("ix_action_log_time", "action_log", ["time"])


def downgrade() -> None:
    op.drop_index("ix_action_log_time", table_name="action_log")
    op.drop_index("ix_node_status", table_name="node")
    op.drop_table("action_log")
    op.drop_table("node")
    op.drop_table("container")
    op.drop_table("machine")

"""Alembic environment for wnm. wnm runs migrations itself (wnm.store.migrate); this file only
connects alembic to the connection wnm hands over, or to WNM_DATABASE_URL for manual use."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

from wnm.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = os.environ.get("WNM_DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set WNM_DATABASE_URL=sqlite:////path/to/colony.db")
    engine = create_engine(url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()

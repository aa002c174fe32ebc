"""Alembic environment: migrations run against the URL the caller configured (never a default)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from carnet.models import metadata

config = context.config


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("sqlalchemy.url is not configured")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("Carnet migrations run online only: `carnet migrate`")
run_migrations_online()

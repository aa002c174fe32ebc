from __future__ import annotations

from collections.abc import Callable

from alembic import command
from sqlalchemy import inspect

from carnet.kit.db import alembic_config, make_engine
from carnet.models import metadata


def test_models_and_migrations_agree(database_url: str) -> None:
    command.check(alembic_config(database_url))  # raises when autogenerate would produce a change


def test_migrations_go_down_and_up_again(fresh_database: Callable[[], str]) -> None:
    url = fresh_database()
    config = alembic_config(url)
    command.downgrade(config, "base")
    engine = make_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
        command.upgrade(config, "head")
        inspector = inspect(engine)
        assert set(metadata.tables) <= set(inspector.get_table_names())
    finally:
        engine.dispose()

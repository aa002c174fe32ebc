"""Engine, sessions and the one-transaction-per-unit-of-work rule; migrations run from here too."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def sqlalchemy_url(url: str) -> str:
    """Use psycopg 3 whatever the scheme the operator wrote."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


APP_ROLE = "carnet_app"


def make_engine(url: str, *, role: str | None = APP_ROLE, pool_size: int = 5) -> Engine:
    """An engine whose connections act as `role` (the application's restricted role) when one is given."""
    engine = create_engine(sqlalchemy_url(url), pool_size=pool_size, pool_pre_ping=True)
    if role:
        statement = f"SET ROLE {engine.dialect.identifier_preparer.quote(role)}"

        @event.listens_for(engine, "connect")
        def _act_as_role(connection: Any, _record: Any) -> None:
            with connection.cursor() as cursor:
                cursor.execute(statement)
            connection.commit()

    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed if the block succeeds, rolled back otherwise. Services never commit."""
    with factory() as session, session.begin():
        yield session


def alembic_config(url: str, *, app_role: str = APP_ROLE) -> Config:
    config = Config()
    config.set_main_option("carnet.app_role", app_role)
    config.set_main_option("script_location", str(resources.files("carnet") / "migrations"))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(slug)s")
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return config


def migrate(url: str, *, app_role: str = APP_ROLE) -> None:
    command.upgrade(alembic_config(url, app_role=app_role), "head")


def schema_is_current(engine: Engine, url: str) -> bool:
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head

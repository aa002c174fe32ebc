"""Everything a running Carnet holds: settings, database engine, master keys. Built by the CLI, never at import."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from carnet.context import Context
from carnet.kit.crypto import KeyProvider
from carnet.kit.db import make_engine, make_sessionmaker, migrate, schema_is_current, transaction
from carnet.kit.embedded import ensure_database, start_embedded_server
from carnet.kit.errors import ConfigurationError
from carnet.records.keys import verify_master_keys
from carnet.settings import Settings

EMBEDDED_DATABASE = "carnet"


def resolve_database_url(settings: Settings) -> str:
    """The external server's URL when configured; otherwise the embedded server under the data folder."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    maintenance = start_embedded_server(settings.data_dir / "pgdata")
    return ensure_database(maintenance, EMBEDDED_DATABASE)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    keys: KeyProvider

    @contextmanager
    def unit_of_work(self) -> Iterator[Context]:
        """One transaction, committed when the block succeeds."""
        with transaction(self.sessions) as session:
            yield Context(session=session, keys=self.keys, max_document_bytes=self.settings.max_document_bytes)


def start_runtime(settings: Settings, *, apply_migrations: bool = False, url: str | None = None) -> Runtime:
    """Connect, bring or check the schema, and check the master key; refuse to start on any mismatch."""
    keys = settings.key_provider()
    url = url or resolve_database_url(settings)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        engine.dispose()
        raise ConfigurationError(f"Cannot reach the database: {str(exc.orig).strip()}") from None
    if apply_migrations:
        migrate(url)
    elif not schema_is_current(engine, url):
        engine.dispose()
        raise ConfigurationError("The database schema is not up to date: run `carnet migrate` first.")
    runtime = Runtime(settings=settings, engine=engine, sessions=make_sessionmaker(engine), keys=keys)
    with transaction(runtime.sessions) as session:
        verify_master_keys(session, keys)
    return runtime

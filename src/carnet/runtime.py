"""Everything a running Carnet holds: settings, database engine, master keys. Built by the CLI, never at import."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from carnet.audit import service as audit_service
from carnet.context import Context
from carnet.kit.crypto import KeyProvider
from carnet.kit.db import make_engine, make_sessionmaker, migrate, schema_is_current, transaction
from carnet.kit.embedded import ensure_database, start_embedded_server
from carnet.kit.errors import ConfigurationError
from carnet.notify import service as notify_service
from carnet.records.keys import verify_master_keys
from carnet.settings import Settings

EMBEDDED_DATABASE = "carnet"
_log = logging.getLogger(__name__)


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

    def unit_of_work(
        self, *, source: str | None = None, request_id: str | None = None
    ) -> AbstractContextManager[Context]:
        """One transaction, committed when the block succeeds; its audit trail is written either way."""
        return unit_of_work(
            self.sessions,
            self.keys,
            max_document_bytes=self.settings.max_document_bytes,
            source=source,
            request_id=request_id,
        )


@contextmanager
def unit_of_work(
    sessions: sessionmaker[Session],
    keys: KeyProvider,
    *,
    max_document_bytes: int,
    source: str | None = None,
    request_id: str | None = None,
) -> Iterator[Context]:
    """One transaction for the work, and the gate's decisions written to the audit trail.

    On success the trail is written in the same transaction. If the work fails, its transaction is rolled
    back and the decisions (refusals above all) are written in a transaction of their own, so a refused
    request is recorded durably even though it fails.
    """
    session = sessions()
    ctx = Context(
        session=session, keys=keys, max_document_bytes=max_document_bytes, source=source, request_id=request_id
    )
    try:
        with session.begin():
            yield ctx
            notify_service.enqueue_for(session, ctx.audit, unit_id=uuid.uuid4())
            audit_service.write_events(session, ctx.audit)
    except BaseException:
        if ctx.audit:
            _write_after_failure(sessions, ctx)
        raise
    finally:
        session.close()


def _write_after_failure(sessions: sessionmaker[Session], ctx: Context) -> None:
    try:
        with transaction(sessions) as session:
            audit_service.write_events(session, ctx.audit)
    except Exception:
        # The original failure is what the caller must see; this one is for the operators.
        _log.exception("could not write %d audit events after a failed unit of work", len(ctx.audit))


def start_runtime(settings: Settings, *, apply_migrations: bool = False, url: str | None = None) -> Runtime:
    """Connect, bring or check the schema, and check the master key; refuse to start on any mismatch."""
    keys = settings.key_provider()
    url = url or resolve_database_url(settings)
    if apply_migrations:
        # First: the migrations create the role the application's connections act as.
        try:
            migrate(url, app_role=settings.database_role)
        except DBAPIError as exc:
            raise ConfigurationError(f"Cannot migrate the database: {str(exc.orig).strip()}") from None
    engine = make_engine(url, role=settings.database_role)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except DBAPIError as exc:
        engine.dispose()
        reason = str(exc.orig).strip()
        if "role" in reason and "does not exist" in reason:
            reason += " (run `carnet migrate`, which creates it)"
        raise ConfigurationError(f"Cannot reach the database: {reason}") from None
    if not schema_is_current(engine, url):
        engine.dispose()
        raise ConfigurationError("The database schema is not up to date: run `carnet migrate` first.")
    runtime = Runtime(settings=settings, engine=engine, sessions=make_sessionmaker(engine), keys=keys)
    with transaction(runtime.sessions) as session:
        verify_master_keys(session, keys)
    return runtime

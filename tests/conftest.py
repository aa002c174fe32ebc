"""Tests run against real PostgreSQL: the embedded server, or CARNET_TEST_DATABASE_URL's server.

The schema is built once by the migrations; each test runs in a transaction rolled back at its end.
Tests that need committed data (CLI, runtime) get a database of their own from `fresh_database`.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from carnet.access import gate
from carnet.audit import service as audit_service
from carnet.context import Context
from carnet.kit.crypto import StaticKeyProvider, generate_master_key_text, parse_master_keys
from carnet.kit.db import make_engine, migrate
from carnet.kit.embedded import drop_database, ensure_database, start_embedded_server

# The real application over HTTP, for the JSON API's and the FHIR API's tests.
pytest_plugins = ["tests.server_log", "tests.http_fixtures"]

MAX_TEST_DOCUMENT_BYTES = 64 * 1024

# The portal's browser tests (tests/e2e) leave a screenshot of each page they visit here, for people to look at.
SCREENSHOTS = Path(__file__).resolve().parents[1] / "var" / "screenshots" / "portal"


def pytest_sessionstart(session: pytest.Session) -> None:
    """This run's screenshots only. `make test` runs the tests in two worker processes (pytest-xdist): the
    folder is cleared once, by the process that starts them, before any worker takes a screenshot."""
    if not hasattr(session.config, "workerinput"):
        shutil.rmtree(SCREENSHOTS, ignore_errors=True)


@pytest.fixture(scope="session")
def maintenance_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    external = os.environ.get("CARNET_TEST_DATABASE_URL")
    if external:
        return external
    pgdata: Path = tmp_path_factory.mktemp("postgres") / "pgdata"
    return start_embedded_server(pgdata, delete_on_exit=True)


@pytest.fixture(scope="session")
def database_url(maintenance_url: str) -> Iterator[str]:
    name = f"carnet_test_{os.getpid()}"
    url = ensure_database(maintenance_url, name, recreate=True)
    migrate(url)
    yield url
    drop_database(maintenance_url, name)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with engine.connect() as connection:
        transaction = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
            yield session
        transaction.rollback()


@pytest.fixture
def master_key_text() -> str:
    return generate_master_key_text()


@pytest.fixture
def keys(master_key_text: str) -> StaticKeyProvider:
    return parse_master_keys(master_key_text, source="test")


@pytest.fixture
def ctx(session: Session, keys: StaticKeyProvider) -> Iterator[Context]:
    """A unit of work inside the test's transaction; its audit events are written when the test ends."""
    context = Context(session=session, keys=keys, max_document_bytes=MAX_TEST_DOCUMENT_BYTES)
    yield context
    if session.in_transaction() and session.get_transaction() is not None:
        audit_service.write_events(session, context.audit)


@pytest.fixture(autouse=True)
def every_decision_is_audited(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Across the whole suite: each decision the gate makes leaves exactly one audit event, written."""
    counts = {"decisions": 0, "written": 0}

    def counting(name: str) -> None:
        original = getattr(gate, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                result = original(*args, **kwargs)
            except Exception:
                counts["decisions"] += 1
                raise
            if not (name == "authorize" and kwargs.get("item_follows")):
                counts["decisions"] += 1
            return result

        monkeypatch.setattr(gate, name, wrapper)

    for name in (
        "authorize",
        "authorize_item",
        "authorize_unscoped",
        "record_missing",
        "record_unknown_record",
        "trace_authentication",
    ):
        counting(name)
    original_write = audit_service.write_events

    def write(session: Session, events: Any) -> int:
        counts["written"] += len(events)
        return original_write(session, events)

    monkeypatch.setattr(audit_service, "write_events", write)
    yield
    assert counts["written"] == counts["decisions"], counts


@pytest.fixture
def fresh_database(maintenance_url: str) -> Iterator[Callable[[], str]]:
    """Make migrated databases of a test's own; they are dropped after the test."""
    names: list[str] = []

    def make() -> str:
        name = f"carnet_fresh_{uuid.uuid4().hex[:12]}"
        names.append(name)
        url = ensure_database(maintenance_url, name)
        migrate(url)
        return url

    yield make
    for name in names:
        drop_database(maintenance_url, name)


@pytest.fixture
def base_env(tmp_path: Path) -> dict[str, str]:
    """The environment a `carnet` process starts from: no CARNET_ variable but a data folder of the test's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARNET_")}
    env["CARNET_DATA_DIR"] = str(tmp_path / "data")
    return env

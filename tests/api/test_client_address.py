"""The address Carnet sees for a client, over a real `carnet serve` process: forwarded headers count only
when they come from a proxy named in CARNET_TRUSTED_PROXIES, so no client can forge its "from where"."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
from sqlalchemy import select

from carnet.audit.models import AuditEntry
from carnet.kit.crypto import generate_master_key_text
from carnet.kit.db import make_engine
from tests.test_cli import CARNET, free_port, run

FORGED = "203.0.113.77"  # a documentation address (RFC 5737) the client claims to be


@contextmanager
def served(env: dict[str, str]) -> Iterator[str]:
    """`carnet serve` on a free loopback port, until the block ends."""
    port = free_port()
    server = subprocess.Popen([CARNET, "serve", "--port", str(port)], env=env, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/health", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def _source_of_a_login(database_url: str, url: str, forwarded_for: str) -> str | None:
    """Where the trail says a failed sign-in came from, the request claiming `forwarded_for`."""
    request_id = uuid.uuid4().hex
    answer = httpx.post(
        f"{url}/auth/login",
        json={"login": f"nobody-{request_id[:8]}", "password": "not-the-password-1"},
        headers={"X-Forwarded-For": forwarded_for, "X-Request-Id": request_id},
    )
    assert answer.status_code == 401, answer.text
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(AuditEntry.source).where(AuditEntry.request_id == request_id))
    finally:
        engine.dispose()


def _env(base_env: dict[str, str], database_url: str, **more: str) -> dict[str, str]:
    return {**base_env, "CARNET_DATABASE_URL": database_url, "CARNET_MASTER_KEY": generate_master_key_text(), **more}


def test_a_forwarded_address_from_a_client_that_is_not_a_named_proxy_is_ignored(
    fresh_database: Callable[[], str], base_env: dict[str, str]
) -> None:
    database_url = fresh_database()
    with served(_env(base_env, database_url)) as url:
        assert _source_of_a_login(database_url, url, FORGED) == "127.0.0.1"
        # Nor can one machine escape the per-address limit by claiming a new address each time.
        codes = [
            httpx.post(
                f"{url}/auth/login",
                json={"login": f"spray-{uuid.uuid4().hex[:8]}", "password": "spray-password-1"},
                headers={"X-Forwarded-For": f"203.0.113.{i + 1}"},
            ).status_code
            for i in range(31)
        ]
        assert codes[0] == 401 and codes[-1] == 429


def test_a_named_proxy_says_where_its_clients_are(fresh_database: Callable[[], str], base_env: dict[str, str]) -> None:
    database_url = fresh_database()
    env = _env(base_env, database_url, CARNET_TRUSTED_PROXIES="10.9.8.7, 127.0.0.0/8")
    with served(env) as url:
        assert _source_of_a_login(database_url, url, FORGED) == FORGED
        # Through the proxy, the client's own claim (the left of the chain) is not believed: the proxy's is.
        assert _source_of_a_login(database_url, url, f"192.0.2.1, {FORGED}") == FORGED


def test_a_trusted_proxy_that_is_not_an_address_stops_the_start(
    fresh_database: Callable[[], str], base_env: dict[str, str]
) -> None:
    env = _env(base_env, fresh_database(), CARNET_TRUSTED_PROXIES="proxy.internal")
    result = run(env, "serve", timeout=60)
    assert result.returncode == 2
    assert "CARNET_TRUSTED_PROXIES" in result.stderr and "proxy.internal" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout

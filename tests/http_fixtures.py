"""The real application over HTTP (httpx through the ASGI interface), on a committed database of its own.

The app commits its own transactions, so these tests cannot roll back: they share one migrated database
and stay apart by using fresh identifiers (INS, logins, card serials, addresses) each time.
"""

from __future__ import annotations

import itertools
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from carnet.access.actor import Actor
from carnet.api.deps import Web
from carnet.app import create_app
from carnet.identity.cards import SimulatedCard, register_card
from carnet.identity.tokens import TokenIssuer
from carnet.kit import clock
from carnet.kit.crypto import generate_master_key_text, parse_master_keys
from carnet.kit.db import make_engine, make_sessionmaker, migrate
from carnet.kit.embedded import drop_database, ensure_database
from carnet.runtime import Runtime
from carnet.settings import Settings
from tests.factories import new_ins
from tests.server_log import served

BASE_URL = "https://carnet.test"
INSURER = Actor.system("insurer-cards")
PASSWORD = "lune-verte-kiosque-42"
_addresses = itertools.count(1)


def fresh_address() -> str:
    """A documentation address (RFC 5737) no other test uses, so throttles do not mix."""
    n = next(_addresses) + (os.getpid() % 50) * 1000
    return f"198.51.{n // 250 % 250}.{n % 250 + 1}"


@pytest.fixture(scope="session")
def http_database(maintenance_url: str) -> Iterator[str]:
    name = f"carnet_http_{os.getpid()}"
    url = ensure_database(maintenance_url, name, recreate=True)
    migrate(url)
    yield url
    drop_database(maintenance_url, name)


def make_settings(tmp: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "master_key": SecretStr(MASTER_KEY),
        "token_signing_key": SecretStr(TOKEN_KEY),
        "public_url": BASE_URL,
        "data_dir": tmp,
    }
    values.update(overrides)
    return Settings.model_validate(values)


MASTER_KEY = generate_master_key_text()
TOKEN_KEY = generate_master_key_text()  # 32 random bytes in base64: an Ed25519 seed


@pytest.fixture(scope="session")
def runtime(http_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    settings = make_settings(tmp_path_factory.mktemp("http-data"))
    engine = make_engine(http_database)
    yield Runtime(settings, engine, make_sessionmaker(engine), parse_master_keys(MASTER_KEY, source="test"))
    engine.dispose()


@pytest.fixture(scope="session")
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime)


@pytest.fixture
def issuer(app: FastAPI) -> TokenIssuer:
    web: Web = app.state.web
    return web.issuer


@pytest.fixture
def client_for(app: FastAPI) -> Iterator[Callable[..., TestClient]]:
    """HTTP clients, each from its own network address unless told otherwise."""
    made: list[TestClient] = []

    def make(address: str | None = None) -> TestClient:
        client = TestClient(
            served(app), base_url=BASE_URL, raise_server_exceptions=False, client=(address or fresh_address(), 50000)
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@dataclass
class Person:
    """An insured person with a carte Vitale, record or not yet."""

    ins: str
    card: SimulatedCard


@pytest.fixture
def person(runtime: Runtime) -> Person:
    ins = new_ins()
    card = SimulatedCard.new(f"VIT{uuid.uuid4().int % 10**12:012d}")
    with runtime.unit_of_work() as ctx:
        register_card(ctx, INSURER, ins, card.serial, card.public_key())
    return Person(ins, card)


_last_step: dict[str, int] = {}


def totp_now(uri: str) -> str:
    """A code the phone would show now, never one already used: Carnet accepts each code once (RFC 6238
    §5.2). Tests sign in faster than people, so a second sign-in within one 30-second step takes the next
    step's code (Carnet forgives one step of clock drift), and a third waits for the next step."""
    totp = pyotp.parse_uri(uri)
    assert isinstance(totp, pyotp.TOTP)
    present = totp.timecode(clock.now())
    step = max(present, _last_step.get(totp.secret, present - 1) + 1)
    if step > present + 1:
        time.sleep(totp.interval - clock.now().timestamp() % totp.interval + 0.05)  # then step is the next's
    _last_step[totp.secret] = step
    return totp.generate_otp(step)

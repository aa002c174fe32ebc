from __future__ import annotations

import asyncio
import re

import httpx
from pydantic import SecretStr

from carnet.app import create_app
from carnet.kit.crypto import generate_master_key_text, parse_master_keys
from carnet.kit.db import make_engine, make_sessionmaker
from carnet.runtime import Runtime
from carnet.settings import Settings


def get(runtime: Runtime, path: str) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://carnet.test") as client:
            return await client.get(path)

    return asyncio.run(call())


def runtime_for(url: str) -> Runtime:
    key = generate_master_key_text()
    engine = make_engine(url)
    return Runtime(
        Settings(master_key=SecretStr(key)), engine, make_sessionmaker(engine), parse_master_keys(key, source="t")
    )


def test_health_says_ok_when_the_database_answers(database_url: str) -> None:
    response = get(runtime_for(database_url), "/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok", "database": "ok"})


def test_health_says_unavailable_when_it_does_not() -> None:
    response = get(runtime_for("postgresql://carnet:@127.0.0.1:1/carnet"), "/health")
    assert (response.status_code, response.json()) == (503, {"status": "unavailable", "database": "unreachable"})


def test_the_api_description_page_works_offline(database_url: str) -> None:
    """/docs loads Swagger UI from Carnet itself: no CDN to reach, no third party told who reads it."""
    runtime = runtime_for(database_url)
    page = get(runtime, "/docs")
    assert page.status_code == 200
    sources = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text) + re.findall(
        r"""url: ?["']([^"']+)["']""", page.text
    )
    assert sources, page.text
    assert not [s for s in sources if s.startswith(("http:", "https:", "//"))], sources
    for source in sources:
        assert get(runtime, source).status_code == 200, source
    assert get(runtime, "/redoc").status_code == 404  # its page would load a script from a CDN

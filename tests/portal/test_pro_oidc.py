"""Professionals sign in through their identity provider (a real HTTP OpenID Connect provider run by the test):
authorization code with PKCE, state and nonce; each refusal is a readable page, never a trace."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from carnet.app import create_app
from carnet.identity import staff
from carnet.portal.staff import STAFF_COOKIE
from carnet.runtime import Runtime
from tests.factories import finess
from tests.http_fixtures import BASE_URL, fresh_address, make_settings
from tests.portal.forms import post, unescaped
from tests.portal.oidc_issuer import CLIENT_ID, CLIENT_SECRET, Issuer, serve
from tests.portal.professionals import listed


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    yield from serve()


@pytest.fixture
def client(runtime: Runtime, tmp_path: Path, issuer: Issuer) -> Iterator[TestClient]:
    settings = make_settings(
        tmp_path,
        env="production",
        database_url=SecretStr("postgresql://unused"),
        oidc_issuer=issuer.url,
        oidc_jwks_url=f"{issuer.url}/jwks",
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=SecretStr(CLIENT_SECRET),
    )
    app = create_app(Runtime(settings, runtime.engine, runtime.sessions, runtime.keys))
    with TestClient(app, base_url=BASE_URL, client=(fresh_address(), 1), raise_server_exceptions=False) as made:
        yield made


def _through_the_provider(client: TestClient) -> httpx.Response:
    """The sign-in page's button, the provider's authorization (the professional proves who they are there), and
    the provider's redirect back to Carnet."""
    started = post(client, "/staff/oidc/start", {}, token_from="/staff/sign-in?space=professional")
    assert started.status_code == 303, started.text
    asked = urllib.parse.urlsplit(started.headers["location"])
    query = dict(urllib.parse.parse_qsl(asked.query))
    assert (query["code_challenge_method"], query["response_type"], query["client_id"]) == ("S256", "code", CLIENT_ID)
    assert query["state"] and query["nonce"] and query["redirect_uri"] == f"{BASE_URL}/staff/oidc/callback"
    back = httpx.get(started.headers["location"], follow_redirects=False)
    assert back.status_code == 302
    landed: httpx.Response = client.get(back.headers["location"].removeprefix(BASE_URL), follow_redirects=False)
    return landed


def test_a_professional_signs_in_through_their_provider(client: TestClient, runtime: Runtime, issuer: Issuer) -> None:
    doctor = listed(runtime, "Girard")
    organisation = finess(7)
    issuer.claims = {"rpps": doctor.rpps, "profession": "10", "organisation": organisation, "name": doctor.name}
    page = client.get("/staff/sign-in?space=professional")
    assert 'action="/staff/oidc/start"' in page.text and "/staff/sign-in/development" not in page.text
    landed = _through_the_provider(client)
    assert landed.status_code == 200 and 'content="0;url=/pro"' in landed.text, landed.text
    token = client.cookies.get(STAFF_COOKIE)
    assert token
    with runtime.unit_of_work() as ctx:
        member = staff.resolve(ctx, token)
    assert (member.actor.ref, member.actor.profession, member.actor.organisation) == (doctor.rpps, "10", organisation)
    assert client.get("/pro").status_code == 200


def test_the_national_identifier_of_pro_sante_connect_names_the_rpps(
    client: TestClient, runtime: Runtime, issuer: Issuer
) -> None:
    doctor = listed(runtime, "Noël")
    issuer.claims = {"rpps": "8" + doctor.rpps, "profession": "10"}
    assert _through_the_provider(client).status_code == 200
    token = client.cookies.get(STAFF_COOKIE)
    assert token
    with runtime.unit_of_work() as ctx:
        assert staff.resolve(ctx, token).actor.ref == doctor.rpps


@pytest.mark.parametrize(
    ("answer", "status", "said"),
    [
        ("wrong-nonce", 401, "Cette connexion n'a pas commencé ici ou a expiré"),
        ("expired", 401, "Cette connexion a expiré"),
        ("other-key", 401, "n'est pas signée par ses clés"),
        ("no-rpps", 401, "n'a pas indiqué votre numéro RPPS"),
    ],
)
def test_an_answer_that_does_not_hold_is_refused_readably(
    client: TestClient, runtime: Runtime, issuer: Issuer, answer: str, status: int, said: str
) -> None:
    issuer.claims = {"rpps": listed(runtime, "Perrin").rpps, "profession": "10"}
    issuer.answer = answer
    refused = _through_the_provider(client)
    assert refused.status_code == status and said in unescaped(refused.text), refused.text
    assert STAFF_COOKIE not in client.cookies and "Traceback" not in refused.text


def test_a_wrong_state_is_refused_and_the_code_is_never_spent(client: TestClient, issuer: Issuer) -> None:
    started = post(client, "/staff/oidc/start", {}, token_from="/staff/sign-in?space=professional")
    back = httpx.get(started.headers["location"], follow_redirects=False)
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(back.headers["location"]).query))["code"]
    forged = client.get(f"/staff/oidc/callback?code={code}&state=an-attackers-state-value-xx", follow_redirects=False)
    assert forged.status_code == 401 and "n'a pas commencé ici" in unescaped(forged.text)
    assert code in issuer.codes  # refused before the token endpoint was asked
    denied = client.get("/staff/oidc/callback?error=access_denied")
    assert denied.status_code == 401 and "a refusé cette connexion" in unescaped(denied.text)


def test_without_a_configured_provider_there_is_no_such_page(client_for: Callable[..., TestClient]) -> None:
    plain = client_for()
    assert plain.get("/staff/oidc/callback?code=x&state=y").status_code == 404
    assert 'action="/staff/oidc/start"' not in plain.get("/staff/sign-in?space=professional").text

"""Signing in to the spaces of professionals, pharmacy counters and insurance desks (development's picker)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from carnet.access.actor import ActorKind
from carnet.app import create_app
from carnet.identity import staff
from carnet.kit.crypto import parse_master_keys
from carnet.kit.db import make_engine, make_sessionmaker
from carnet.kit.errors import Unauthenticated
from carnet.portal.staff import STAFF_COOKIE
from carnet.runtime import Runtime
from tests.http_fixtures import BASE_URL, MASTER_KEY, make_settings
from tests.portal.forms import post
from tests.portal.professionals import listed

Client = Callable[..., TestClient]
PHARMACY = "750000028"


def _member(runtime: Runtime, client: TestClient) -> staff.Staff:
    token = client.cookies.get(STAFF_COOKIE)
    assert token
    with runtime.unit_of_work() as ctx:
        return staff.resolve(ctx, token)


def test_a_professional_picks_themselves_and_lands_in_their_space(client_for: Client, runtime: Runtime) -> None:
    doctor = listed(runtime, "Vidal")
    client = client_for()
    choice = client.get("/staff/sign-in?space=professional")
    assert choice.status_code == 200 and doctor.name in choice.text
    assert choice.headers["cache-control"] == "no-store"
    done = post(client, "/staff/sign-in/development", {"space": "professional", "rpps": doctor.rpps, "finess": ""})
    assert done.status_code == 303 and done.headers["location"] == "/pro"
    member = _member(runtime, client)
    assert member.actor.kind is ActorKind.PROFESSIONAL and member.actor.ref == doctor.rpps
    assert member.actor.profession == "10" and member.identity.name == doctor.name


def test_a_pharmacist_signs_in_for_their_pharmacy_and_only_a_pharmacist_can(
    client_for: Client, runtime: Runtime
) -> None:
    pharmacist, nurse = listed(runtime, "Garnier", "21"), listed(runtime, "Blanc", "60")
    client = client_for()
    page = client.get("/staff/sign-in?space=pharmacy")
    assert pharmacist.name in page.text and nurse.name not in page.text  # the counter's picker: pharmacists
    refused = post(client, "/staff/sign-in/development", {"space": "pharmacy", "rpps": nurse.rpps, "finess": PHARMACY})
    assert refused.status_code == 422 and "n&#39;est pas celui d&#39;un pharmacien" in refused.text
    assert STAFF_COOKIE not in client.cookies
    bad_finess = post(
        client, "/staff/sign-in/development", {"space": "pharmacy", "rpps": pharmacist.rpps, "finess": "750000029"}
    )
    assert bad_finess.status_code == 422 and 'id="finess-error"' in bad_finess.text
    assert 'value="750000029"' in bad_finess.text  # what was typed stays
    done = post(
        client, "/staff/sign-in/development", {"space": "pharmacy", "rpps": pharmacist.rpps, "finess": PHARMACY}
    )
    assert done.headers["location"] == "/counter"
    member = _member(runtime, client)
    assert member.identity.space == "pharmacy" and member.actor.organisation == PHARMACY


def test_a_desk_agent_names_their_office_and_bad_codes_are_said_beside_the_field(
    client_for: Client, runtime: Runtime
) -> None:
    browser = client_for()
    refused = post(browser, "/staff/sign-in/development", {"space": "desk", "staff_id": "agent 1", "office": "CPAM75"})
    assert refused.status_code == 422 and 'id="staff_id-error"' in refused.text
    assert "Un identifiant d&#39;agent a de 1 à 32 lettres ou chiffres." in refused.text
    done = post(browser, "/staff/sign-in/development", {"space": "desk", "staff_id": "agent1", "office": "cpam75"})
    assert done.headers["location"] == "/desk"
    member = _member(runtime, browser)
    assert member.actor.kind is ActorKind.DESK and (member.actor.ref, member.actor.organisation) == ("AGENT1", "CPAM75")


def test_back_to_the_page_asked_only_within_the_space_signed_in_to(client_for: Client, runtime: Runtime) -> None:
    doctor = listed(runtime, "Fabre")
    client = client_for()
    asked = post(
        client, "/staff/sign-in/development", {"space": "professional", "rpps": doctor.rpps, "next": "/pro/patients"}
    )
    assert asked.headers["location"] == "/pro/patients"
    elsewhere = post(
        client, "/staff/sign-in/development", {"space": "desk", "staff_id": "A1", "office": "B2", "next": "/pro/x"}
    )
    assert elsewhere.headers["location"] == "/desk"
    outside = post(
        client,
        "/staff/sign-in/development",
        {"space": "desk", "staff_id": "A1", "office": "B2", "next": "//evil.example/desk"},
    )
    assert outside.headers["location"] == "/desk"


def test_signing_out_ends_the_session(client_for: Client, runtime: Runtime) -> None:
    client = client_for()
    post(client, "/staff/sign-in/development", {"space": "desk", "staff_id": "A2", "office": "B2"})
    token = client.cookies.get(STAFF_COOKIE)
    assert token
    out = post(client, "/staff/sign-out", {}, token_from="/staff/sign-in")
    assert out.status_code == 303 and out.headers["location"] == "/staff/signed-out"
    with runtime.unit_of_work() as ctx, pytest.raises(Unauthenticated):
        staff.resolve(ctx, token)


def test_a_space_choice_that_does_not_exist_is_refused_with_a_message(client_for: Client) -> None:
    client = client_for()
    refused = post(client, "/staff/sign-in/development", {"space": "astronaut"}, token_from="/staff/sign-in")
    assert refused.status_code == 422 and "Choisissez l&#39;espace où vous travaillez." in refused.text
    unknown = client.get("/staff/sign-in?space=astronaut")  # a query out of range: no such page, no trace
    assert unknown.status_code == 404 and "Cette page n&#39;existe pas." in unknown.text


@pytest.fixture
def production_client(http_database: str, tmp_path: Path) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, env="production", database_url=http_database, cookie_secure=True)
    engine = make_engine(http_database)
    runtime = Runtime(settings, engine, make_sessionmaker(engine), parse_master_keys(MASTER_KEY, source="test"))
    with TestClient(create_app(runtime), base_url=BASE_URL, raise_server_exceptions=False) as client:
        yield client
    engine.dispose()


def test_production_has_no_picker(production_client: TestClient) -> None:
    page = production_client.get("/staff/sign-in?space=professional")
    assert page.status_code == 200 and "fournisseur d'identité national" in page.text
    assert "/staff/sign-in/development" not in page.text
    refused = post(
        production_client,
        "/staff/sign-in/development",
        {"space": "desk", "staff_id": "A", "office": "B"},
        token_from="/staff/sign-in",
    )
    assert refused.status_code == 404 and STAFF_COOKIE not in production_client.cookies

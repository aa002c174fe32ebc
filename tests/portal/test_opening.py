"""The account's journeys over HTTP on the real services: the authenticator app confirmed by its first code."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from carnet.audit.models import AuditEntry
from carnet.identity.models import PatientAccount
from carnet.runtime import Runtime
from tests.api.flows import new_login
from tests.http_fixtures import PASSWORD, Person, totp_now
from tests.portal.forms import activation_form, field_error, post, totp_uri_of
from tests.portal.patients import ready_patient

Client = Callable[..., TestClient]


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def _activated(client: TestClient, runtime: Runtime, person: Person) -> tuple[uuid.UUID, str, str]:
    ready = ready_patient(runtime, person)
    login = new_login()
    done = post(client, "/patient/activate", activation_form(person, ready.activation_code, login))
    assert done.status_code == 200, done.text
    return ready.patient_id, login, totp_uri_of(done)


def _confirmed_at(runtime: Runtime, patient_id: uuid.UUID) -> object:
    with runtime.unit_of_work() as ctx:
        return ctx.session.scalar(
            select(PatientAccount.totp_confirmed_at).where(PatientAccount.patient_id == patient_id)
        )


def test_the_apps_first_code_on_the_activation_page_confirms_it_and_opens_the_record(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    client = client_for()
    patient_id, _, uri = _activated(client, runtime, person)
    page = client.get("/patient/activate")  # any page: the CSRF cookie is the client's
    assert _confirmed_at(runtime, patient_id) is None
    confirmed = post(client, "/patient/activate/confirm", {"code": totp_now(uri)}, token_from="/")
    assert (confirmed.status_code, confirmed.headers["location"]) == (303, "/patient")
    assert page.status_code == 200 and client.get("/patient").status_code == 200
    assert _confirmed_at(runtime, patient_id) is not None
    with runtime.unit_of_work() as ctx:
        actions = ctx.session.scalars(select(AuditEntry.action).where(AuditEntry.chain_id == patient_id)).all()
    assert "account.confirm-totp" in actions and "login.second-factor" in actions


def test_a_wrong_first_code_shows_the_qr_code_again_to_that_browser_alone(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    client = client_for()
    patient_id, login, uri = _activated(client, runtime, person)
    refused = post(client, "/patient/activate/confirm", {"code": _wrong(totp_now(uri))}, token_from="/")
    assert refused.status_code == 401
    assert field_error(refused, "code") == "Ce code est incorrect ou a expiré."
    assert totp_uri_of(refused) == uri and '<svg role="img"' in refused.text  # the same key, to scan again
    assert refused.headers["cache-control"] == "no-store"
    # Someone else with the password signs in: they are asked the app's code and never shown the key.
    other = client_for()
    first = post(other, "/patient/sign-in", {"login": login, "password": PASSWORD})
    assert first.status_code == 303
    stolen = post(other, "/patient/activate/confirm", {"code": _wrong(totp_now(uri))}, token_from="/")
    assert stolen.status_code == 401 and 'class="secret"' not in stolen.text and "<svg" not in stolen.text
    assert _confirmed_at(runtime, patient_id) is None
    empty = post(client, "/patient/activate/confirm", {"code": " "}, token_from="/")
    assert empty.status_code == 422 and field_error(empty, "code") == "Saisissez le code à 6 chiffres."
    confirmed = post(client, "/patient/activate/confirm", {"code": totp_now(uri)}, token_from="/")
    assert confirmed.status_code == 303


def test_signing_in_before_confirming_asks_the_apps_code_which_then_confirms_it(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    client = client_for()
    patient_id, login, uri = _activated(client, runtime, person)
    later = client_for()
    first = post(later, "/patient/sign-in", {"login": login, "password": PASSWORD})
    assert first.headers["location"].startswith("/patient/sign-in/code?factor=totp")
    assert "carnet_session" not in later.cookies  # no session without the app's code
    second = post(later, "/patient/sign-in/code", {"code": totp_now(uri)}, token_from="/")
    assert second.status_code == 303
    assert _confirmed_at(runtime, patient_id) is not None


def test_without_the_activations_session_the_confirmation_asks_to_sign_in(client_for: Client) -> None:
    client = client_for()
    client.cookies.set("carnet_lang", "en", domain="carnet.test")
    restarted = post(client, "/patient/activate/confirm", {"code": "123456"}, token_from="/")
    assert restarted.status_code == 401
    assert field_error(restarted, "login") == "This sign-in has expired: start again with your password."

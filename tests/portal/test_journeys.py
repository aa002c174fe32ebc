"""The patient's journeys over HTTP, on the real services: activation, sign-in, home, account, sign-out."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from carnet.audit.models import AuditEntry
from carnet.identity.models import LoginSession
from carnet.kit import clock
from carnet.records.document_checks import accept_document
from carnet.records.document_legacy import from_metadata
from carnet.records.documents import deposit_resource
from carnet.runtime import Runtime
from tests.api.flows import new_login, outbox_text
from tests.factories import PDF, SYSTEM, document_meta
from tests.http_fixtures import PASSWORD, Person, totp_now
from tests.portal.forms import activation_form, field_error, post, sign_in, summary_links, totp_uri_of, unescaped
from tests.portal.patients import FIRST_DOCUMENT, SECOND_DOCUMENT, ready_patient

Client = Callable[..., TestClient]


def _activated(client: TestClient, runtime: Runtime, person: Person) -> tuple[uuid.UUID, str, str]:
    ready = ready_patient(runtime, person)
    login = new_login()
    done = post(client, "/patient/activate", activation_form(person, ready.activation_code, login))
    assert done.status_code == 200, done.text
    return ready.patient_id, login, totp_uri_of(done)


def test_activation_shows_the_qr_code_then_sign_in_opens_the_patient_home(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    client = client_for()
    ready = ready_patient(runtime, person)
    login = new_login()
    done = post(client, "/patient/activate", activation_form(person, ready.activation_code, login))
    assert done.status_code == 200
    assert "Votre compte est activé" in done.text
    assert '<svg role="img"' in done.text and "<title>QR code pour votre application" in done.text
    assert done.headers["cache-control"] == "no-store"
    uri = totp_uri_of(done)

    first = post(client, "/patient/sign-in", {"login": login, "password": PASSWORD, "next": "/patient"})
    assert first.status_code == 303 and first.headers["location"].startswith("/patient/sign-in/code?factor=totp")
    assert "carnet_session" not in client.cookies  # the password alone opens no session
    code_page = client.get(first.headers["location"])
    assert "application d'authentification" in unescaped(code_page.text)
    second = post(client, "/patient/sign-in/code", {"code": totp_now(uri), "next": "/patient"}, token_from="/")
    assert (second.status_code, second.headers["location"]) == (303, "/patient")

    home = client.get("/patient")
    assert home.status_code == 200
    assert "Bonjour Claire" in home.text
    assert home.text.index(SECOND_DOCUMENT) < home.text.index(FIRST_DOCUMENT)  # the latest deposit first
    assert "9 juin 2026" in home.text and "Synthèse" in home.text and "Dr Martin" in home.text
    assert home.headers["cache-control"] == "no-store"
    assert "Claire" not in home.text.split("<title>")[1].split("</title>")[0]
    # The portal's session is the API's: the same cookie signs the JSON API in.
    assert client.get("/auth/session").json()["patient_id"] == str(ready.patient_id)
    with runtime.unit_of_work() as ctx:
        actions = set(
            ctx.session.scalars(select(AuditEntry.action).where(AuditEntry.chain_id == ready.patient_id)).all()
        )
    assert {"account.activate", "login.second-factor", "record.read", "document.list"} <= actions


def test_the_home_page_greets_in_english_with_english_dates(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    client = client_for()
    client.cookies.set("carnet_lang", "en", domain="carnet.test")
    _, login, uri = _activated(client, runtime, person)
    sign_in(client, login, uri)
    home = client.get("/patient")
    assert "Hello Claire" in home.text and "9 June 2026" in home.text and "Summary" in home.text


def test_wrong_activation_code_keeps_what_was_typed_but_no_secret(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    client = client_for()
    ready_patient(runtime, person)
    login = new_login()
    refused = post(client, "/patient/activate", activation_form(person, "WRONG-CODE", login))
    assert refused.status_code == 401
    assert unescaped(field_error(refused, "nir")).startswith("Ces informations ne correspondent pas")
    assert summary_links(refused) == ["nir"]
    assert f'value="{login}"' in refused.text and f'value="{person.card.serial}"' in refused.text
    assert PASSWORD not in refused.text and "WRONG-CODE" not in refused.text


def test_a_weak_password_is_refused_naming_the_rule_and_the_code_stays_usable(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    client = client_for()
    ready = ready_patient(runtime, person)
    form = activation_form(person, ready.activation_code, new_login(), password="court")
    refused = post(client, "/patient/activate", form)
    assert refused.status_code == 422
    assert unescaped(field_error(refused, "password")) == "Choisissez un mot de passe d'au moins 12 caractères."
    common = post(client, "/patient/activate", {**form, "password": "Motdepasse2024!"})
    assert "premiers qu'essaient les attaquants" in unescaped(field_error(common, "password"))
    # The rules are on the page before any failure.
    blank = client.get("/patient/activate")
    assert "compter au moins 12 caractères" in blank.text
    done = post(client, "/patient/activate", {**form, "password": PASSWORD})
    assert done.status_code == 200, done.text


def test_missing_fields_are_listed_in_the_summary_linking_to_each(client_for: Client) -> None:
    client = client_for()
    client.cookies.set("carnet_lang", "en", domain="carnet.test")
    empty = post(client, "/patient/activate", {"second_factor": "email"})
    assert empty.status_code == 422
    assert summary_links(empty) == ["nir", "card_serial", "activation_code", "login", "password", "email"]
    assert field_error(empty, "email") == "Enter the e-mail address that will receive your codes."


def test_wrong_password_and_wrong_code_are_shown_beside_the_field(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    client = client_for()
    _, login, uri = _activated(client, runtime, person)
    wrong = post(client, "/patient/sign-in", {"login": login, "password": "not the password at all"})
    assert wrong.status_code == 401
    assert unescaped(field_error(wrong, "password")) == "L'identifiant ou le mot de passe est incorrect."
    assert f'value="{login}"' in wrong.text and "not the password" not in wrong.text
    first = post(client, "/patient/sign-in", {"login": login, "password": PASSWORD})
    assert first.status_code == 303
    bad = "000000" if totp_now(uri) != "000000" else "111111"
    refused = post(client, "/patient/sign-in/code", {"code": bad}, token_from="/")
    assert refused.status_code == 401
    assert field_error(refused, "code") == "Ce code est incorrect ou a expiré."
    assert "carnet_session" not in client.cookies


def test_the_code_by_email_signs_in(client_for: Client, runtime: Runtime, person: Person) -> None:
    client = client_for()
    ready = ready_patient(runtime, person)
    login = new_login()
    form = activation_form(person, ready.activation_code, login, second_factor="email", email="claire@example.org")
    done = post(client, "/patient/activate", form)
    assert "un code sera envoyé à votre adresse e-mail" in done.text and "<svg" not in done.text
    first = post(client, "/patient/sign-in", {"login": login, "password": PASSWORD})
    assert first.headers["location"].startswith("/patient/sign-in/code?factor=email")
    assert "Nous avons envoyé un code à 6 chiffres à votre adresse e-mail" in client.get(first.headers["location"]).text
    code = outbox_text(runtime, ready.patient_id, "sign-in-code").split(" : ")[1][:6]
    second = post(client, "/patient/sign-in/code", {"code": code}, token_from="/")
    assert second.status_code == 303
    assert client.get("/patient").status_code == 200


def test_an_expired_session_asks_to_sign_in_and_comes_back_to_the_page(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    client = client_for()
    patient_id, login, uri = _activated(client, runtime, person)
    assert client.get("/patient/account", follow_redirects=False).headers["location"] == (
        "/patient/sign-in?next=/patient/account"
    )
    sign_in(client, login, uri)
    assert client.get("/patient/account").status_code == 200
    with runtime.unit_of_work() as ctx:  # thirty-one minutes without activity
        ctx.session.execute(
            update(LoginSession)
            .where(LoginSession.stage == "active", LoginSession.revoked_at.is_(None), LoginSession.address != "")
            .where(LoginSession.subject_id.in_(_account_ids(runtime, patient_id)))
            .values(last_seen_at=clock.now() - timedelta(minutes=31))
        )
    asked = client.get("/patient/account", follow_redirects=False)
    assert asked.headers["location"] == "/patient/sign-in?next=/patient/account&ended=true"
    page = client.get(asked.headers["location"])
    assert "Votre session est terminée" in page.text and 'name="next" value="/patient/account"' in page.text
    back = sign_in(client, login, uri, next_page="/patient/account")
    assert back.headers["location"] == "/patient/account"


def _account_ids(runtime: Runtime, patient_id: uuid.UUID) -> list[uuid.UUID]:
    from carnet.identity.models import PatientAccount

    with runtime.unit_of_work() as ctx:
        return list(ctx.session.scalars(select(PatientAccount.id).where(PatientAccount.patient_id == patient_id)))


def test_sign_out_ends_this_session_and_sign_out_everywhere_ends_the_others(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    phone, laptop = client_for(), client_for()
    _, login, uri = _activated(phone, runtime, person)
    sign_in(phone, login, uri)
    sign_in(laptop, login, uri)
    out = post(laptop, "/patient/sign-out", {}, token_from="/patient")
    assert out.headers["location"] == "/patient/signed-out"
    assert laptop.get("/patient", follow_redirects=False).status_code == 303
    assert phone.get("/patient").status_code == 200  # the other device stays signed in

    sign_in(laptop, login, uri)
    everywhere = post(laptop, "/patient/sign-out-everywhere", {}, token_from="/patient/account")
    assert everywhere.headers["location"] == "/patient/signed-out?everywhere=1"
    assert "Toutes les sessions de votre compte sont terminées" in laptop.get(everywhere.headers["location"]).text
    assert phone.get("/patient", follow_redirects=False).headers["location"].endswith("&ended=true")
    assert laptop.get("/patient", follow_redirects=False).status_code == 303


def test_a_preliminary_document_says_preliminary_on_the_home_page(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    """Issue 19, meaning in every view: a report its writer called preliminary is not shown as a final one."""
    client = client_for()
    patient_id, login, uri = _activated(client, runtime, person)
    resource = from_metadata(patient_id, document_meta(title="Compte rendu provisoire"), PDF)
    resource["docStatus"] = "preliminary"
    with runtime.unit_of_work() as ctx:
        deposit_resource(ctx, SYSTEM, accept_document(resource), PDF)
    first = post(client, "/patient/sign-in", {"login": login, "password": PASSWORD, "next": "/patient"})
    assert first.status_code == 303
    post(client, "/patient/sign-in/code", {"code": totp_now(uri), "next": "/patient"}, token_from="/")
    item = client.get("/patient").text.split("Compte rendu provisoire")[1].split("</li>")[0]
    assert "Provisoire" in item
    others = client.get("/patient").text.split("Compte rendu provisoire")[0]
    assert "Provisoire" not in others  # the final ones carry no status

"""Account recovery in the portal, over HTTP on the real services: the link by e-mail, a new password, sign-in.

The request answers the same for a login that exists and one that does not; the link's page shows the
password rules before any failure; a weak password keeps the link usable; a used or expired link says so.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from carnet.audit.models import AuditEntry
from carnet.identity.models import PatientAccount, RecoveryToken
from carnet.kit import clock
from carnet.runtime import Runtime
from tests.api.flows import new_login, outbox_text
from tests.http_fixtures import PASSWORD, Person
from tests.portal.forms import activation_form, field_error, post, unescaped
from tests.portal.patients import ready_patient

Client = Callable[..., TestClient]
NEW_PASSWORD = "tortue velours fanfare 48"


def _account_by_email(client: TestClient, runtime: Runtime, person: Person) -> tuple[uuid.UUID, str]:
    ready = ready_patient(runtime, person)
    login = new_login()
    form = activation_form(person, ready.activation_code, login, second_factor="email", email="claire@example.org")
    assert post(client, "/patient/activate", form).status_code == 200
    return ready.patient_id, login


def _link_token(runtime: Runtime, patient_id: uuid.UUID) -> str:
    body = outbox_text(runtime, patient_id, "recovery")
    found = re.search(r"(\S+)/patient/recovery/new#(\S+)$", body)
    assert found, body
    return found.group(2)


def _main(page_text: str) -> str:
    return page_text.split("<main", 1)[1].split("</main>", 1)[0]


def test_a_forgotten_password_is_replaced_through_the_link_and_the_new_one_signs_in(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    client = client_for()
    patient_id, login = _account_by_email(client, runtime, person)
    signed_in_elsewhere = client_for()
    assert post(signed_in_elsewhere, "/patient/sign-in", {"login": login, "password": PASSWORD}).status_code == 303

    sign_in_page = client.get("/patient/sign-in")
    assert 'href="/patient/recovery"' in sign_in_page.text and "Mot de passe oublié ?" in sign_in_page.text
    sent = post(client, "/patient/recovery", {"login": login})
    assert sent.status_code == 200 and "Consultez vos messages" in sent.text
    token = _link_token(runtime, patient_id)

    blank = client.get("/patient/recovery/new")
    assert blank.headers["cache-control"] == "no-store"
    assert "compter au moins 12 caractères" in blank.text  # the rules before any failure
    assert '<script src="/static/recovery.js"' in blank.text
    done = post(client, "/patient/recovery/new", {"token": token, "password": NEW_PASSWORD})
    assert done.status_code == 200 and "Votre mot de passe est changé" in done.text

    old = post(client, "/patient/sign-in", {"login": login, "password": PASSWORD})
    assert old.status_code == 401
    new = post(client, "/patient/sign-in", {"login": login, "password": NEW_PASSWORD})
    assert new.status_code == 303 and new.headers["location"].startswith("/patient/sign-in/code?factor=email")
    again = post(client, "/patient/recovery/new", {"token": token, "password": "encore un autre mot 51"})
    assert again.status_code == 401 and "Ce lien ne fonctionne plus" in again.text
    with runtime.unit_of_work() as ctx:
        actions = ctx.session.scalars(
            select(AuditEntry.action).where(AuditEntry.chain_id == patient_id, AuditEntry.action.like("recovery.%"))
        ).all()
    assert sorted(actions) == ["recovery.complete", "recovery.request"]


def test_the_answer_is_the_same_for_an_unknown_login(client_for: Client, runtime: Runtime, person: Person) -> None:
    client = client_for()
    _, login = _account_by_email(client, runtime, person)
    known = post(client, "/patient/recovery", {"login": login})
    unknown = post(client, "/patient/recovery", {"login": f"nobody-{uuid.uuid4().hex[:8]}"})
    assert known.status_code == unknown.status_code == 200
    assert _main(known.text) == _main(unknown.text)  # one client: the same CSRF token in both


def test_an_empty_login_is_asked_for_beside_the_field(client_for: Client) -> None:
    client = client_for()
    client.cookies.set("carnet_lang", "en", domain="carnet.test")
    refused = post(client, "/patient/recovery", {"login": "  "})
    assert refused.status_code == 422
    assert field_error(refused, "login") == "Enter your login."


def test_too_many_requests_are_refused_beside_the_field_keeping_the_login(client_for: Client) -> None:
    client = client_for()
    login = f"someone-{uuid.uuid4().hex[:8]}"
    answers = [post(client, "/patient/recovery", {"login": login}).status_code for _ in range(7)]
    assert answers[:5] == [200] * 5 and answers[-1] == 429
    refused = post(client, "/patient/recovery", {"login": login})
    assert "Trop d'essais échoués" in unescaped(field_error(refused, "login"))
    assert f'value="{login}"' in refused.text


def test_a_weak_new_password_names_the_rule_and_the_link_still_works(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    client = client_for()
    patient_id, login = _account_by_email(client, runtime, person)
    post(client, "/patient/recovery", {"login": login})
    token = _link_token(runtime, patient_id)
    weak = post(client, "/patient/recovery/new", {"token": token, "password": "court"})
    assert weak.status_code == 422
    assert unescaped(field_error(weak, "password")) == "Choisissez un mot de passe d'au moins 12 caractères."
    assert "court" not in _main(weak.text)  # the password typed is not given back
    assert f'value="{token}"' in weak.text  # the link's token stays in the form, which is never cached
    common = post(client, "/patient/recovery/new", {"token": token, "password": "Motdepasse2024!"})
    assert "premiers qu'essaient les attaquants" in unescaped(field_error(common, "password"))
    done = post(client, "/patient/recovery/new", {"token": token, "password": NEW_PASSWORD})
    assert done.status_code == 200


def test_an_expired_link_says_so_and_offers_a_new_one(client_for: Client, runtime: Runtime, person: Person) -> None:
    client = client_for()
    client.cookies.set("carnet_lang", "en", domain="carnet.test")
    patient_id, login = _account_by_email(client, runtime, person)
    post(client, "/patient/recovery", {"login": login})
    token = _link_token(runtime, patient_id)
    with runtime.unit_of_work() as ctx:
        account_id = ctx.session.scalar(select(PatientAccount.id).where(PatientAccount.patient_id == patient_id))
        ctx.session.execute(
            update(RecoveryToken)
            .where(RecoveryToken.account_id == account_id)
            .values(expires_at=clock.now() - timedelta(minutes=1))
        )
    expired = post(client, "/patient/recovery/new", {"token": token, "password": NEW_PASSWORD})
    assert expired.status_code == 401
    assert "This reset link is unknown, expired or already used." in expired.text
    assert 'href="/patient/recovery"' in expired.text
    assert post(client, "/patient/sign-in", {"login": login, "password": PASSWORD}).status_code == 303


def test_without_the_link_the_end_of_it_is_asked_for(client_for: Client) -> None:
    client = client_for()
    client.cookies.set("carnet_lang", "en", domain="carnet.test")
    refused = post(client, "/patient/recovery/new", {"token": "", "password": ""})
    assert refused.status_code == 422
    assert field_error(refused, "token") == "Paste the end of the link you received, after the # sign."
    assert field_error(refused, "password") == "Choose a password."

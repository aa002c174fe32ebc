"""The account's journeys over HTTP on the real services: the authenticator app confirmed by its first code,
and opening one's own record online with the carte Vitale and a code sent to the insurer's contact."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import timedelta

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from carnet.audit.models import AuditEntry
from carnet.identity.cards import SimulatedCard, register_card
from carnet.identity.models import OnlineOpening, PatientAccount
from carnet.identity.opening import MAX_CODE_ATTEMPTS
from carnet.kit import clock
from carnet.notify.models import OutboxMessage
from carnet.notify.worker import message_content
from carnet.records.models import Record
from carnet.runtime import Runtime
from tests.api.flows import new_login
from tests.factories import new_ins
from tests.http_fixtures import INSURER, PASSWORD, Person, totp_now
from tests.portal.forms import activation_form, field_error, post, token_of, totp_uri_of, unescaped
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


# Opening one's record online.

CLAIRE = {"family_name": "Dupont", "given_names": "Claire Marie", "birth_date": "12/04/1985", "postcode": "75011"}


def _card_with_contact(runtime: Runtime, *, email: str | None = "claire@example.org") -> Person:
    ins = new_ins()
    card = SimulatedCard.new(f"VIT{uuid.uuid4().int % 10**12:012d}")
    with runtime.unit_of_work() as ctx:
        register_card(ctx, INSURER, ins, card.serial, card.public_key(), email=email)
    return Person(ins, card)


def _opening_messages(runtime: Runtime, serial: str) -> list[str]:
    with runtime.unit_of_work() as ctx:
        rows = ctx.session.scalars(
            select(OutboxMessage).where(OutboxMessage.card_serial == serial, OutboxMessage.kind == "opening-code")
        ).all()
        contents = [message_content(ctx, row) for row in rows]
    return [content[1] for content in contents if content is not None]


def _code(runtime: Runtime, serial: str) -> str:
    (body,) = _opening_messages(runtime, serial)
    found = re.search(r" : (\d{6})\.", body)
    assert found, body
    return found.group(1)


def _start(client: TestClient, nir: str, serial: str) -> TestClient:
    asked = post(client, "/patient/open", {"nir": nir, "card_serial": serial})
    assert (asked.status_code, asked.headers["location"]) == (303, "/patient/open/code"), asked.text
    return client


def _main(response: httpx.Response) -> str:
    return response.text.split("<main", 1)[1].split("</main>", 1)[0]


def test_a_patient_opens_their_record_online_then_activates_and_signs_in(client_for: Client, runtime: Runtime) -> None:
    person = _card_with_contact(runtime)
    client = client_for()
    assert 'href="/patient/open"' in client.get("/patient/sign-in").text
    _start(client, person.ins[:13], person.card.serial)
    assert "carnet_opening" in client.cookies and person.card.serial not in str(client.cookies)
    code_page = client.get("/patient/open/code")
    assert code_page.status_code == 200 and code_page.headers["cache-control"] == "no-store"
    code = _code(runtime, person.card.serial)
    wrong = post(client, "/patient/open/code", {"code": _wrong(code)}, token_from="/patient/open/code")
    assert wrong.status_code == 401 and field_error(wrong, "code") == "Ce code est incorrect ou a expiré."
    proven = post(client, "/patient/open/code", {"code": code}, token_from="/patient/open/code")
    assert (proven.status_code, proven.headers["location"]) == (303, "/patient/open/identity")

    missing = post(client, "/patient/open/identity", {**CLAIRE, "family_name": ""})
    assert missing.status_code == 422
    assert field_error(missing, "family_name") == "Indiquez votre nom de famille."
    assert 'value="Claire Marie"' in missing.text  # what was typed stays
    postcode = post(client, "/patient/open/identity", {**CLAIRE, "postcode": "7501"})
    assert postcode.status_code == 422 and "Indiquez le code postal" in field_error(postcode, "postcode")
    future = post(client, "/patient/open/identity", {**CLAIRE, "birth_date": "01/01/2999"})
    assert field_error(future, "birth_date") == "Votre date de naissance doit être passée."
    no_such_day = post(client, "/patient/open/identity", {**CLAIRE, "birth_date": "31/02/1985"})
    assert "jour/mois/année" in field_error(no_such_day, "birth_date") and 'value="31/02/1985"' in no_such_day.text
    opened = post(client, "/patient/open/identity", CLAIRE)
    assert (opened.status_code, opened.headers["location"]) == (303, "/patient/open/account")

    account_page = client.get("/patient/open/account")
    assert account_page.status_code == 200
    assert 'name="activation_code"' not in account_page.text and 'name="nir"' not in account_page.text
    login = new_login()
    weak = post(
        client,
        "/patient/open/account",
        {"login": login, "password": "court", "second_factor": "totp", "email": "", "phone": ""},
        token_from="/patient/open/account",
    )
    assert weak.status_code == 422 and "12 caractères" in unescaped(field_error(weak, "password"))
    assert f'value="{login}"' in weak.text
    done = post(
        client,
        "/patient/open/account",
        {"login": login, "password": PASSWORD, "second_factor": "totp", "email": "", "phone": ""},
        token_from="/patient/open/account",
    )
    assert done.status_code == 200 and "Votre compte est activé" in done.text
    assert "carnet_opening" not in client.cookies
    uri = totp_uri_of(done)
    signed_in = post(client, "/patient/activate/confirm", {"code": totp_now(uri)}, token_from="/")
    assert (signed_in.status_code, signed_in.headers["location"]) == (303, "/patient")
    assert "Bonjour Claire" in client.get("/patient").text

    with runtime.unit_of_work() as ctx:
        record = ctx.session.scalars(select(Record).where(Record.ins == person.ins)).one()
        entries = ctx.session.execute(
            select(AuditEntry.action, AuditEntry.allowed, AuditEntry.actor_ref).where(
                AuditEntry.chain_id == record.patient_id
            )
        ).all()
    assert (record.channel, record.opened_by, record.state) == ("online", "patient", "open")
    assert ("record.open", True, "online-opening") in entries
    assert ("record.open-online", True, str(record.patient_id)) in entries
    assert {"account.activate", "account.confirm-totp"} <= {action for action, _, _ in entries}
    # The journey is over: its token opens nothing any more.
    assert client.get("/patient/open/account").status_code == 401


def test_unknown_card_wrong_serial_and_no_contact_get_the_same_answers(client_for: Client, runtime: Runtime) -> None:
    person = _card_with_contact(runtime)
    silent = _card_with_contact(runtime, email=None)
    pages = []
    for nir, serial in (
        (person.ins[:13], f"VIT{uuid.uuid4().int % 10**12:012d}"),  # no such card
        (new_ins()[:13], person.card.serial),  # the card is someone else's
        (silent.ins[:13], silent.card.serial),  # the insurer holds no contact
        (person.ins[:13], person.card.serial),  # the right details
    ):
        client = _start(client_for(), nir, serial)
        pages.append(_main(client.get("/patient/open/code")).replace(token_of(client.get("/")), ""))
        refused = post(client, "/patient/open/code", {"code": "123456"}, token_from="/patient/open/code")
        assert refused.status_code == 401 and field_error(refused, "code") == "Ce code est incorrect ou a expiré."
    assert len(set(pages)) == 1
    assert len(_opening_messages(runtime, person.card.serial)) == 1  # only the holder's contact got a code
    assert _opening_messages(runtime, silent.card.serial) == []


def test_a_record_already_open_is_said_only_once_the_code_is_proven(client_for: Client, runtime: Runtime) -> None:
    person = _card_with_contact(runtime)
    ready_patient(runtime, person)
    client = _start(client_for(), person.ins[:13], person.card.serial)
    assert "déjà" not in _main(client.get("/patient/open/code"))
    already = post(client, "/patient/open/code", {"code": _code(runtime, person.card.serial)}, token_from="/")
    assert already.status_code == 200 and "Vous avez déjà un dossier" in already.text
    assert 'href="/patient/sign-in"' in already.text and 'href="/patient/activate"' in already.text
    with runtime.unit_of_work() as ctx:
        assert len(ctx.session.scalars(select(Record).where(Record.ins == person.ins)).all()) == 1


def test_an_expired_code_and_five_wrong_ones_are_refused_alike(client_for: Client, runtime: Runtime) -> None:
    person = _card_with_contact(runtime)
    client = _start(client_for(), person.ins[:13], person.card.serial)
    code = _code(runtime, person.card.serial)
    for _ in range(MAX_CODE_ATTEMPTS):
        post(client, "/patient/open/code", {"code": _wrong(code)}, token_from="/")
    spent = post(client, "/patient/open/code", {"code": code}, token_from="/")
    assert spent.status_code == 401 and field_error(spent, "code") == "Ce code est incorrect ou a expiré."

    later = _card_with_contact(runtime)
    other = _start(client_for(), later.ins[:13], later.card.serial)
    with runtime.unit_of_work() as ctx:
        ctx.session.execute(
            update(OnlineOpening)
            .where(OnlineOpening.card_serial == later.card.serial)
            .values(expires_at=clock.now() - timedelta(seconds=1))
        )
    expired = post(other, "/patient/open/code", {"code": _code(runtime, later.card.serial)}, token_from="/")
    assert expired.status_code == 401 and field_error(expired, "code") == "Ce code est incorrect ou a expiré."


def test_too_many_requests_for_one_nir_are_refused_beside_the_field(client_for: Client, runtime: Runtime) -> None:
    person = _card_with_contact(runtime)
    client = client_for()
    for _ in range(6):  # five free, the sixth locks (identity.sessions)
        _start(client, person.ins[:13], person.card.serial)
    refused = post(client, "/patient/open", {"nir": person.ins[:13], "card_serial": person.card.serial})
    assert refused.status_code == 429
    assert "Trop d'essais échoués" in unescaped(field_error(refused, "nir"))
    assert f'value="{person.card.serial}"' in refused.text


def test_bad_details_and_a_journey_not_begun_say_what_to_do(client_for: Client) -> None:
    client = client_for()
    client.cookies.set("carnet_lang", "en", domain="carnet.test")
    empty = post(client, "/patient/open", {"nir": "", "card_serial": ""})
    assert empty.status_code == 422
    assert field_error(empty, "card_serial") == "Enter the serial number of your carte Vitale."
    malformed = post(client, "/patient/open", {"nir": "12345", "card_serial": "VIT1"})
    assert malformed.status_code == 422 and "13 characters" in field_error(malformed, "nir")
    assert client.get("/patient/open/identity").status_code == 401
    ended = post(client, "/patient/open/identity", CLAIRE, token_from="/patient/open")
    assert ended.status_code == 401 and "This opening has expired" in ended.text
    assert client.get("/patient/open/code", follow_redirects=False).headers["location"] == "/patient/open"

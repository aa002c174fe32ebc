"""A patient's account over HTTP: activation, password and second factor, sessions, re-authentication, recovery."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from carnet.audit.models import AuditEntry
from carnet.identity.models import LoginSession, PatientAccount
from carnet.identity.tokens import TokenIssuer
from carnet.kit import clock
from carnet.records.models import Record
from carnet.runtime import Runtime
from tests.api.flows import activation, new_login, open_at_desk, outbox_text, sign_in
from tests.http_fixtures import PASSWORD, Person, totp_now

Client = Callable[..., TestClient]


def _opened(client: TestClient, issuer: TokenIssuer, person: Person) -> tuple[uuid.UUID, str]:
    opened = open_at_desk(client, issuer.for_desk("AGENT42"), person)
    return uuid.UUID(opened["patient_id"]), opened["activation_code"]


def test_activation_then_sign_in_with_totp_opens_a_session(
    client_for: Client, issuer: TokenIssuer, person: Person, runtime: Runtime
) -> None:
    client = client_for()
    patient_id, code = _opened(client, issuer, person)
    login = new_login()
    activated = client.post("/auth/activate", json=activation(person, code, login))
    assert activated.status_code == 201, activated.text
    uri = activated.json()["totp_uri"]
    assert uri.startswith("otpauth://totp/Carnet:")

    assert client.get("/auth/session").status_code == 401  # activation alone signs nobody in
    first = client.post("/auth/login", json={"login": login.upper(), "password": PASSWORD})
    assert first.json() == {"second_factor": "totp", "warning": None}
    assert "carnet_session" not in client.cookies  # the password alone opens no session
    right = totp_now(uri)
    wrong = client.post("/auth/login/second-factor", json={"code": "000000" if right != "000000" else "111111"})
    assert (wrong.status_code, wrong.json()["code"]) == (401, "bad-code")
    second = client.post("/auth/login/second-factor", json={"code": right})
    assert second.status_code == 204
    cookie = second.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookie if c.startswith("carnet_session="))
    for flag in ("HttpOnly", "Secure", "SameSite=strict", "Path=/"):
        assert flag.lower() in session_cookie.lower()
    assert client.get("/auth/session").json()["patient_id"] == str(patient_id)

    with runtime.unit_of_work() as ctx:
        trail = [
            (row.action, row.allowed)
            for row in ctx.session.execute(
                select(AuditEntry.action, AuditEntry.allowed).where(AuditEntry.chain_id == patient_id)
            )
        ]
    assert {("account.activate", True), ("login.password", True), ("login.second-factor", False)} <= set(trail)
    assert ("login.second-factor", True) in set(trail)


def test_the_activation_code_works_once(client_for: Client, issuer: TokenIssuer, person: Person) -> None:
    client = client_for()
    _, code = _opened(client, issuer, person)
    assert client.post("/auth/activate", json=activation(person, code, new_login())).status_code == 201
    replay = client.post("/auth/activate", json=activation(person, code, new_login()))
    assert (replay.status_code, replay.json()["code"]) == (401, "activation-refused")


def test_activation_needs_the_matching_card_nir_and_code(
    client_for: Client, issuer: TokenIssuer, person: Person
) -> None:
    client = client_for()
    _, code = _opened(client, issuer, person)
    answers = {
        client.post("/auth/activate", json=activation(person, "AAAA-BBBB-CCCC", new_login())).json()["message"],
        client.post("/auth/activate", json=activation(person, code, new_login(), card_serial="VIT000000000001")).json()[
            "message"
        ],
        client.post("/auth/activate", json=activation(person, code, new_login(), nir="2850375999999")).json()[
            "message"
        ],
    }
    assert len(answers) == 1  # one answer, whichever piece is wrong
    assert client.post("/auth/activate", json=activation(person, code, new_login())).status_code == 201


def test_a_weak_password_is_refused_and_the_code_is_not_spent(
    client_for: Client, issuer: TokenIssuer, person: Person
) -> None:
    client = client_for()
    _, code = _opened(client, issuer, person)
    for weak, why in (("short", "at least 12"), ("Motdepasse2024!", "attackers try"), ("Lefebvre-1979-06", "name")):
        refused = client.post("/auth/activate", json=activation(person, code, new_login(), password=weak))
        assert (refused.status_code, refused.json()["code"]) == (422, "weak-password"), weak
        assert why in refused.json()["message"]
    assert client.post("/auth/activate", json=activation(person, code, new_login())).status_code == 201


def test_unknown_login_and_wrong_password_get_the_same_answer(
    client_for: Client, issuer: TokenIssuer, person: Person
) -> None:
    client = client_for()
    _, code = _opened(client, issuer, person)
    login = new_login()
    client.post("/auth/activate", json=activation(person, code, login))
    wrong = client.post("/auth/login", json={"login": login, "password": "not-the-password-at-all"})
    unknown = client.post("/auth/login", json={"login": new_login(), "password": "not-the-password-at-all"})
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json() == unknown.json() == {"code": "bad-credentials", "message": "The login or the password is wrong."}
    )


def test_sessions_end_when_idle_past_their_end_and_on_logout(
    client_for: Client, issuer: TokenIssuer, person: Person, runtime: Runtime
) -> None:
    client = client_for()
    _, code = _opened(client, issuer, person)
    login = new_login()
    uri = client.post("/auth/activate", json=activation(person, code, login)).json()["totp_uri"]
    sign_in(client, login, uri)
    _rewind(runtime, login, last_seen_at=clock.now() - timedelta(minutes=31))
    assert client.get("/auth/session").json()["code"] == "session-ended"

    sign_in(client, login, uri)
    _rewind(runtime, login, expires_at=clock.now() - timedelta(seconds=1))
    assert client.get("/auth/session").status_code == 401

    sign_in(client, login, uri)
    assert client.get("/auth/session").status_code == 200
    assert client.post("/auth/logout").status_code == 204
    assert client.get("/auth/session").status_code == 401


def _rewind(runtime: Runtime, login: str, **values: object) -> None:
    """Move the account's live sessions back in time, as if the patient had waited."""
    with runtime.unit_of_work() as ctx:
        account_id = ctx.session.scalar(select(PatientAccount.id).where(PatientAccount.login == login))
        ctx.session.execute(
            update(LoginSession)
            .where(
                LoginSession.subject_id == account_id,
                LoginSession.stage == "active",
                LoginSession.revoked_at.is_(None),
            )
            .values(**values)
        )


def test_logout_everywhere_ends_the_other_devices_sessions(
    client_for: Client, issuer: TokenIssuer, person: Person
) -> None:
    phone, laptop = client_for(), client_for()
    _, code = _opened(phone, issuer, person)
    login = new_login()
    uri = phone.post("/auth/activate", json=activation(person, code, login)).json()["totp_uri"]
    sign_in(phone, login, uri)
    sign_in(laptop, login, uri)
    assert laptop.post("/auth/logout-everywhere").status_code == 204
    assert phone.get("/auth/session").status_code == 401
    assert laptop.get("/auth/session").status_code == 401


def test_closing_the_record_needs_a_fresh_password(
    client_for: Client, issuer: TokenIssuer, person: Person, runtime: Runtime
) -> None:
    client = client_for()
    patient_id, code = _opened(client, issuer, person)
    login = new_login()
    uri = client.post("/auth/activate", json=activation(person, code, login)).json()["totp_uri"]
    sign_in(client, login, uri)
    _rewind(runtime, login, authenticated_at=clock.now() - timedelta(minutes=10))  # signed in ten minutes ago
    refused = client.post("/me/record/close")
    assert (refused.status_code, refused.json()["code"]) == (401, "reauthentication-required")
    bad = client.post("/auth/reauthenticate", json={"password": "wrong-password-here"})
    assert bad.status_code == 401
    assert client.post("/auth/reauthenticate", json={"password": PASSWORD}).status_code == 204
    assert client.post("/me/record/close").status_code == 204
    with runtime.unit_of_work() as ctx:
        assert ctx.session.get(Record, patient_id).state == "closed"  # type: ignore[union-attr]


def test_second_factor_by_email_goes_through_the_outbox(
    client_for: Client, issuer: TokenIssuer, person: Person, runtime: Runtime
) -> None:
    client = client_for()
    patient_id, code = _opened(client, issuer, person)
    login = f"{uuid.uuid4().hex[:8]}@example.org"
    form = activation(person, code, login, second_factor="email", email=login)
    assert client.post("/auth/activate", json=form).json() == {"second_factor": "email", "totp_uri": None}
    assert client.post("/auth/login", json={"login": login, "password": PASSWORD}).json()["second_factor"] == "email"
    body = outbox_text(runtime, patient_id, "sign-in-code")
    sent = body.split(" : ")[1][:6]
    assert client.post("/auth/login/second-factor", json={"code": sent}).status_code == 204
    assert client.get("/auth/session").status_code == 200


def test_password_recovery_link_works_once_and_ends_every_session(
    client_for: Client, issuer: TokenIssuer, person: Person, runtime: Runtime
) -> None:
    client, other = client_for(), client_for()
    patient_id, code = _opened(client, issuer, person)
    login = new_login()
    form = activation(person, code, login, email=f"{login}@example.org")
    uri = client.post("/auth/activate", json=form).json()["totp_uri"]
    sign_in(other, login, uri)
    asked = client.post("/auth/recovery", json={"login": login})
    unknown = client.post("/auth/recovery", json={"login": new_login()})
    assert asked.status_code == unknown.status_code == 202
    assert asked.json() == unknown.json()
    body = outbox_text(runtime, patient_id, "recovery")
    token = body.split("#")[1]
    new_password = "nuage-orange-pivert-77"
    assert client.post("/auth/recovery/complete", json={"token": token, "password": new_password}).status_code == 204
    reused = client.post("/auth/recovery/complete", json={"token": token, "password": "un-autre-mot-long-88"})
    assert (reused.status_code, reused.json()["code"]) == (401, "bad-token")
    assert other.get("/auth/session").status_code == 401  # the reset ended the other device's session
    sign_in(client, login, uri, password=new_password)  # the second factor is still asked for
    old = client.post("/auth/login", json={"login": login, "password": PASSWORD})
    assert old.status_code == 401


def test_a_totp_code_opens_one_session_only(client_for: Client, issuer: TokenIssuer, person: Person) -> None:
    """RFC 6238 §5.2: a code read over the patient's shoulder, or relayed by a phishing page, is spent once
    the patient used it; it does not open a second session in the minute and a half it stays on the phone."""
    client = client_for()
    _, code = _opened(client, issuer, person)
    login = new_login()
    uri = client.post("/auth/activate", json=activation(person, code, login)).json()["totp_uri"]
    used = totp_now(uri)
    assert client.post("/auth/login", json={"login": login, "password": PASSWORD}).status_code == 200
    assert client.post("/auth/login/second-factor", json={"code": used}).status_code == 204
    thief = client_for()
    assert thief.post("/auth/login", json={"login": login, "password": PASSWORD}).status_code == 200
    replayed = thief.post("/auth/login/second-factor", json={"code": used})
    assert (replayed.status_code, replayed.json()["code"]) == (401, "bad-code")
    assert thief.get("/auth/session").status_code == 401

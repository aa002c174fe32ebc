"""Brute force is slowed, locks are bounded and do not stop the patient's own device, and the timing is equal."""

from __future__ import annotations

import itertools
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from carnet.audit.chain import NO_RECORD
from carnet.audit.models import AuditEntry
from carnet.identity import sessions
from carnet.identity.tokens import TokenIssuer
from carnet.kit import clock
from carnet.runtime import Runtime
from tests.api.flows import activation, new_login, open_at_desk, sign_in
from tests.http_fixtures import PASSWORD, Person

Client = Callable[..., TestClient]


def _account(client: TestClient, issuer: TokenIssuer, person: Person) -> tuple[uuid.UUID, str, str]:
    opened = open_at_desk(client, issuer.for_desk("AGENT7"), person)
    login = new_login()
    uri = client.post("/auth/activate", json=activation(person, opened["activation_code"], login)).json()["totp_uri"]
    return uuid.UUID(opened["patient_id"]), login, uri


def test_brute_force_is_locked_out_for_a_bounded_time_and_audited(
    client_for: Client, issuer: TokenIssuer, person: Person, runtime: Runtime
) -> None:
    patient_id, login, _ = _account(client_for(), issuer, person)
    attacker = client_for()
    answers = [
        attacker.post("/auth/login", json={"login": login, "password": f"guess-number-{i}"}).status_code
        for i in range(sessions.FREE_FAILURES)
    ]
    assert answers == [401] * sessions.FREE_FAILURES
    locked = attacker.post("/auth/login", json={"login": login, "password": "guess-number-6"})
    assert locked.status_code == 401  # the failure that crosses the limit is still a plain failure
    for _ in range(20):
        locked = attacker.post("/auth/login", json={"login": login, "password": PASSWORD})
    assert (locked.status_code, locked.json()["code"]) == (429, "too-many-attempts")
    assert 0 < int(locked.headers["retry-after"]) <= sessions.ATTACKER_LOCK_CAP.total_seconds()  # never forever
    # The lock is the guesser's, on this name from their address: the patient elsewhere is not stopped.
    assert client_for().post("/auth/login", json={"login": login, "password": PASSWORD}).status_code == 200
    with runtime.unit_of_work() as ctx:
        reasons = ctx.session.scalars(
            select(AuditEntry.reason).where(AuditEntry.chain_id == patient_id, AuditEntry.action == "login.password")
        ).all()
    assert reasons.count("bad-credentials") == sessions.FREE_FAILURES + 1
    assert "locked" in reasons


def test_a_known_device_still_signs_in_while_strangers_lock_the_name(
    client_for: Client, issuer: TokenIssuer, person: Person
) -> None:
    phone = client_for()
    _, login, uri = _account(phone, issuer, person)
    sign_in(phone, login, uri)  # the phone becomes a known device
    phone.post("/auth/logout")
    attacker = client_for()
    for i in range(sessions.FREE_FAILURES + 3):
        attacker.post("/auth/login", json={"login": login, "password": f"guess-number-{i}"})
    assert attacker.post("/auth/login", json={"login": login, "password": PASSWORD}).status_code == 429
    sign_in(phone, login, uri)
    assert phone.get("/auth/session").status_code == 200


def test_unknown_logins_are_throttled_and_audited_like_known_ones(client_for: Client, runtime: Runtime) -> None:
    attacker, login = client_for(), new_login()
    for i in range(sessions.FREE_FAILURES + 1):
        attacker.post("/auth/login", json={"login": login, "password": f"guess-number-{i}"})
    assert attacker.post("/auth/login", json={"login": login, "password": "x" * 12}).status_code == 429
    with runtime.unit_of_work() as ctx:
        refused = ctx.session.scalars(
            select(AuditEntry.reason).where(
                AuditEntry.chain_id == NO_RECORD, AuditEntry.action == "login.password", AuditEntry.allowed.is_(False)
            )
        ).all()
    assert {"bad-credentials", "locked"} <= set(refused)


def test_one_address_spraying_many_logins_is_locked(client_for: Client) -> None:
    sprayer = client_for()
    codes = [
        sprayer.post("/auth/login", json={"login": new_login(), "password": "spray-password-1"}).status_code
        for _ in range(sessions.ADDRESS_FREE_FAILURES + 2)
    ]
    assert codes[0] == 401 and codes[-1] == 429


def test_login_takes_the_same_time_for_an_unknown_account_and_a_wrong_password(
    client_for: Client, issuer: TokenIssuer, runtime: Runtime, person: Person
) -> None:
    """The one timing check in the tests: medians over many alternated attempts, each from a fresh address
    and against a fresh name, so no throttle interferes. A missing dummy hash check makes the unknown
    account answer in a small fraction of the time (argon2id costs tens of milliseconds)."""
    _, login, _ = _account(client_for(), issuer, person)
    rounds = 24
    known: list[float] = []
    unknown: list[float] = []
    for i in range(rounds):
        for target, times in ((login, known), (new_login(), unknown)):
            client = client_for()
            if i == 0:
                client.post("/auth/login", json={"login": new_login(), "password": "warm-up-password"})
            started = time.perf_counter()
            response = client.post("/auth/login", json={"login": target, "password": f"wrong-password-{i}"})
            times.append(time.perf_counter() - started)
            assert response.status_code == 401
        if i % 4 == 3:  # the account's own throttle must not lock it during the measure
            with runtime.unit_of_work() as ctx:
                sessions.clear_throttle(ctx.session, [sessions.throttle_key("name", login)])
    known_median, unknown_median = statistics.median(known), statistics.median(unknown)
    assert abs(known_median - unknown_median) < 0.25 * max(known_median, unknown_median), (known_median, unknown_median)


def test_a_stranger_failing_every_quarter_hour_keeps_neither_the_patient_out_nor_their_own_pace(
    client_for: Client, issuer: TokenIssuer, person: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack that held an account today: one wrong password each time the lock (15 minutes) ends.
    The clock is driven, a quarter of an hour per guess, over a whole day."""
    _, login, uri = _account(client_for(), issuer, person)
    start, elapsed = clock.now(), [timedelta(0)]
    monkeypatch.setattr(clock, "now", lambda: start + elapsed[0])
    attacker = client_for()
    checked: list[int] = []  # the quarters in which the attacker's guess was actually tried
    for quarter in range(4 * 24):
        elapsed[0] = quarter * timedelta(minutes=15)
        answer = attacker.post("/auth/login", json={"login": login, "password": f"guess-number-{quarter}"})
        assert answer.status_code in (401, 429), answer.text
        if answer.status_code == 401:
            checked.append(quarter)
        if quarter in (12, 48, 95):  # the patient, from a phone never used before, gets in at once
            newcomer = client_for()
            sign_in(newcomer, login, uri)
            assert newcomer.get("/auth/session").status_code == 200
    # The stranger's own address is slowed more and more: each wait is longer than the one before.
    waits = [later - earlier for earlier, later in itertools.pairwise(checked)]
    assert waits[: sessions.FREE_FAILURES] == [1] * sessions.FREE_FAILURES
    increasing = waits[sessions.FREE_FAILURES :]
    assert len(increasing) >= 3 and increasing == sorted(set(increasing)), waits
    assert len(checked) <= 12, checked  # a dozen guesses in a day, not 96
    still = attacker.post("/auth/login", json={"login": login, "password": PASSWORD})
    assert (still.status_code, still.json()["code"]) == (429, "too-many-attempts")  # not even the right one

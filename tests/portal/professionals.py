"""Professionals in the directory for the portal's tests, each with a fresh RPPS number and name."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

from fastapi.testclient import TestClient

from carnet.access.actor import Actor, Mode
from carnet.identity.directory import set_entry
from carnet.runtime import Runtime
from tests.api.flows import new_login
from tests.factories import rpps
from tests.http_fixtures import Person
from tests.portal.forms import activation_form, post, sign_in, totp_uri_of
from tests.portal.patients import ready_patient


@dataclass(frozen=True)
class Listed:
    rpps: str
    name: str
    profession: str

    def actor(self, mode: Mode = Mode.NORMAL) -> Actor:
        return Actor.professional(self.rpps, self.profession, mode=mode)


def listed(runtime: Runtime, family: str, profession: str = "10") -> Listed:
    """A professional the directory knows, named `Dr <family> <unique tag>` so a search finds them alone."""
    number = rpps(random.randrange(1, 999_999))
    name = f"Dr {family} {uuid.uuid4().hex[:6]}"
    with runtime.unit_of_work() as ctx:
        set_entry(ctx.session, operator="test", rpps=number, name=name, profession=profession, email="pro@example.org")
    return Listed(number, name, profession)


@dataclass(frozen=True)
class SignedIn:
    patient_id: uuid.UUID
    login: str
    uri: str


def signed_in(client: TestClient, runtime: Runtime, person: Person) -> SignedIn:
    """A patient who activated their account and signed in on this client."""
    ready = ready_patient(runtime, person)
    login = new_login()
    done = post(client, "/patient/activate", activation_form(person, ready.activation_code, login))
    assert done.status_code == 200, done.text
    uri = totp_uri_of(done)
    sign_in(client, login, uri)
    return SignedIn(ready.patient_id, login, uri)

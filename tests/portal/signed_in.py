"""A patient signed in to the portal over HTTP, and entries a professional wrote in their profile."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from carnet.records.profile import add_profile_resource
from carnet.runtime import Runtime
from tests.api.flows import new_login
from tests.factories import SYSTEM, rpps
from tests.http_fixtures import Person
from tests.portal.forms import activation_form, post, sign_in, totp_uri_of
from tests.portal.patients import ready_patient


@dataclass(frozen=True)
class SignedIn:
    client: TestClient
    patient_id: uuid.UUID
    login: str
    uri: str


def signed_in(client_for: Callable[..., TestClient], runtime: Runtime, person: Person, lang: str = "fr") -> SignedIn:
    client = client_for()
    if lang == "en":
        client.cookies.set("carnet_lang", "en", domain="carnet.test")
    ready = ready_patient(runtime, person)
    login = new_login()
    done = post(client, "/patient/activate", activation_form(person, ready.activation_code, login))
    assert done.status_code == 200, done.text
    uri = totp_uri_of(done)
    sign_in(client, login, uri)
    return SignedIn(client, ready.patient_id, login, uri)


def written_by_a_professional(runtime: Runtime, patient_id: uuid.UUID, resource: dict[str, Any]) -> uuid.UUID:
    """An entry imported on a professional's behalf (class 11), as a hospital's software would send it."""
    subject = "patient" if resource["resourceType"] in ("AllergyIntolerance", "Immunization") else "subject"
    body = {**resource, subject: {"reference": f"Patient/{patient_id}"}}
    with runtime.unit_of_work() as ctx:
        return add_profile_resource(ctx, SYSTEM, patient_id, body, source_class="11", author_rpps=rpps())

"""A legal representative switches to the record of the minor they represent, and back."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import update

from carnet.access.models import Representative
from carnet.kit import clock
from carnet.runtime import Runtime
from tests.factories import new_ins, open_test_record
from tests.http_fixtures import Person
from tests.portal.forms import post
from tests.portal.patients import KEPT_FROM_PARENTS, SHOWN_TO_PARENTS, child_covered_on_the_card
from tests.portal.signed_in import SignedIn, signed_in

Client = Callable[..., TestClient]


def _family(client_for: Client, runtime: Runtime, person: Person) -> tuple[SignedIn, uuid.UUID]:
    """A signed-in parent, and the record of their child covered on their card."""
    parent = signed_in(client_for, runtime, person)
    return parent, child_covered_on_the_card(runtime, person)


def test_the_parent_switches_to_the_childs_record_and_back(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    parent, child_id = _family(client_for, runtime, person)
    client = parent.client
    home = client.get("/patient")
    assert 'href="/patient/representing"' in home.text and "Vous consultez le dossier" not in home.text
    choice = client.get("/patient/representing")
    assert choice.status_code == 200 and "Léa Dupont" in choice.text and str(child_id) in choice.text
    switched = post(client, "/patient/representing", {"record": str(child_id)})
    assert switched.status_code == 303 and switched.headers["location"] == "/patient"
    home = client.get("/patient")
    assert (
        "Le dossier de Léa" in home.text and "Vous consultez le dossier d'un enfant que vous représentez." in home.text
    )
    documents = client.get("/patient/documents")
    assert SHOWN_TO_PARENTS in documents.text and KEPT_FROM_PARENTS not in documents.text
    assert "Vous consultez le dossier d'un enfant" in documents.text  # the banner is on every page
    back = post(client, "/patient/representing", {"record": "own"}, token_from="/patient")
    assert back.status_code == 303
    home = client.get("/patient")
    assert "Bonjour" in home.text and "Vous consultez le dossier d'un enfant" not in home.text
    assert SHOWN_TO_PARENTS not in client.get("/patient/documents").text


def test_a_record_one_does_not_represent_cannot_be_chosen(client_for: Client, runtime: Runtime, person: Person) -> None:
    parent = signed_in(client_for, runtime, person)
    with runtime.unit_of_work() as ctx:
        stranger = open_test_record(ctx, ins=new_ins())
    for chosen in (str(stranger), str(uuid.uuid4()), "not-an-id"):
        refused = post(parent.client, "/patient/representing", {"record": chosen}, token_from="/patient")
        assert refused.status_code == 404 and "Cette page n&#39;existe pas." in refused.text
    assert "Vous consultez le dossier d'un enfant" not in parent.client.get("/patient").text
    nobody = parent.client.get("/patient/representing")
    assert "Vous ne représentez aucun enfant dans Carnet." in nobody.text


def test_when_the_child_comes_of_age_the_session_shows_the_parents_own_record(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    parent, child_id = _family(client_for, runtime, person)
    post(parent.client, "/patient/representing", {"record": str(child_id)}, token_from="/patient")
    with runtime.unit_of_work() as ctx:
        ctx.session.execute(
            update(Representative).where(Representative.patient_id == child_id).values(until=clock.today())
        )
    home = parent.client.get("/patient")
    assert "Bonjour" in home.text and "Vous consultez le dossier d'un enfant" not in home.text
    assert SHOWN_TO_PARENTS not in parent.client.get("/patient/documents").text

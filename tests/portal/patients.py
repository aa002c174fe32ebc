"""Patients for the portal's tests: ready to activate (a record opened at a pharmacy, an activation code, two
documents), already activated, and with a child covered on their card."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from carnet.access.actor import Actor
from carnet.access.service import grant_authorisation
from carnet.identity import accounts
from carnet.identity.accounts import Activation, issue_activation_code
from carnet.identity.cards import cover_minors
from carnet.kit import clock
from carnet.records.documents import deposit_document, set_author_flags
from carnet.records.schemas import PatientIdentity
from carnet.runtime import Runtime
from tests.factories import PDF, SYSTEM, document_meta, finess, new_ins, open_test_record, rpps
from tests.http_fixtures import INSURER, PASSWORD, Person

FIRST_DOCUMENT = "Consultation de cardiologie"
SECOND_DOCUMENT = "Bilan sanguin de contrôle"


@dataclass(frozen=True)
class Ready:
    patient_id: uuid.UUID
    activation_code: str


def ready_patient(runtime: Runtime, person: Person) -> Ready:
    with runtime.unit_of_work() as ctx:
        patient_id = open_test_record(ctx, ins=person.ins)
        code = issue_activation_code(ctx, patient_id, issued_by="pharmacy:test")
        deposit_document(ctx, SYSTEM, patient_id, document_meta(title=FIRST_DOCUMENT, act_date=date(2026, 3, 3)), PDF)
        second = document_meta(title=SECOND_DOCUMENT, class_code="11", type_code="11502-2", act_date=date(2026, 6, 9))
        deposit_document(ctx, SYSTEM, patient_id, second, PDF)
    return Ready(patient_id, code.code)


@dataclass(frozen=True)
class Activated:
    patient_id: uuid.UUID
    login: str
    totp_secret: str


def activated_patient(runtime: Runtime, person: Person, login: str) -> Activated:
    """A patient whose account is active with an authenticator app, as the activation journey leaves it."""
    ready = ready_patient(runtime, person)
    activation = Activation(
        nir=person.ins[:13],
        card_serial=person.card.serial,
        code=ready.activation_code,
        login=login,
        password=PASSWORD,
        second_factor="totp",
        email=None,
        phone=None,
    )
    with runtime.unit_of_work() as ctx:
        step = accounts.activate(ctx, activation, address="127.0.0.1")
    assert step.totp_uri is not None
    return Activated(ready.patient_id, login, step.totp_uri.split("secret=")[1].split("&")[0])


PAEDIATRICIAN = Actor.professional(rpps(41), "10", finess(41))
SHOWN_TO_PARENTS = "Bilan de santé des 8 ans"
KEPT_FROM_PARENTS = "Consultation confidentielle"


def child_covered_on_the_card(runtime: Runtime, person: Person) -> uuid.UUID:
    """A child of 8 covered on this person's card, with a record holding one document for the parents and one a
    professional kept from representatives: the insurer's registry makes the person their representative."""
    today = clock.today()
    born = today.replace(year=today.year - 8) - timedelta(days=40)
    child = PatientIdentity(family_name="Dupont", given_names="Léa", birth_date=born, sex="F", postcode="44000")
    author = {"rpps": PAEDIATRICIAN.ref, "name": "Dr Roche", "organisation": "Cabinet de pédiatrie"}
    child_ins = new_ins()
    with runtime.unit_of_work() as ctx:
        child_id = open_test_record(ctx, ins=child_ins, identity=child)
        grant_authorisation(ctx, child_id, PAEDIATRICIAN.ref, scope="read_write", via="card")
        deposit_document(ctx, PAEDIATRICIAN, child_id, document_meta(title=SHOWN_TO_PARENTS, author=author), PDF)
        kept_meta = document_meta(title=KEPT_FROM_PARENTS, author=author)
        kept = deposit_document(ctx, PAEDIATRICIAN, child_id, kept_meta, PDF)
        set_author_flags(
            ctx, PAEDIATRICIAN, child_id, kept, hidden_from_patient_until=None, hidden_from_representatives=True
        )
        cover_minors(ctx, INSURER, person.card.serial, [(child_ins, born)])
    return child_id

"""Small builders for tests: valid identifiers, a record, documents of each format."""

from __future__ import annotations

import itertools
import uuid
from datetime import date
from typing import Any

from carnet.access.actor import Actor
from carnet.context import Context
from carnet.kit.identifiers import luhn_check_digit, nir_key
from carnet.records.codes import Channel
from carnet.records.schemas import NewDocument, PatientIdentity
from carnet.records.service import open_record
from carnet.synthetic import minimal_cda, minimal_pdf

SYSTEM = Actor.system("test-import")
_serial = itertools.count(1)


def new_ins() -> str:
    """A valid INS no other test uses."""
    number = next(_serial) + uuid.uuid4().int % 900_000
    nir = f"2850375{number:06d}"
    return nir + nir_key(nir)


def rpps(seed: int = 1) -> str:
    payload = f"1000{seed:06d}"
    return payload + luhn_check_digit(payload)


def finess(seed: int = 1) -> str:
    payload = f"75{seed:06d}"
    return payload + luhn_check_digit(payload)


IDENTITY = PatientIdentity(
    family_name="Dupont", given_names="Claire", birth_date=date(1985, 3, 14), sex="F", postcode="44000"
)


def open_test_record(ctx: Context, *, ins: str | None = None, identity: PatientIdentity = IDENTITY) -> uuid.UUID:
    return open_record(
        ctx, SYSTEM, ins=ins or new_ins(), identity=identity, channel=Channel.PHARMACY, opened_by=finess()
    )


PDF = minimal_pdf("Compte rendu de consultation : hypertension artérielle.")
CDA = minimal_cda("Bilan biologique", "Hémoglobine 13,5 g/dL")


def document_meta(**overrides: Any) -> NewDocument:
    fields: dict[str, Any] = {
        "class_code": "10",
        "type_code": "11488-4",
        "title": "Consultation de cardiologie",
        "act_date": date(2026, 3, 3),
        "format": "application/pdf",
        "author": {"rpps": rpps(), "name": "Dr Martin", "organisation": "CHU de Nantes"},
    }
    fields.update(overrides)
    return NewDocument.model_validate(fields)


def patient_meta(**overrides: Any) -> NewDocument:
    return document_meta(**{"class_code": "90", "author": None, "title": "Mon carnet de vaccination", **overrides})

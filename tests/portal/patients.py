"""A patient ready to activate online: a record opened at a pharmacy, an activation code, two documents."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from carnet.identity.accounts import issue_activation_code
from carnet.records.documents import deposit_document
from carnet.runtime import Runtime
from tests.factories import PDF, SYSTEM, document_meta, open_test_record
from tests.http_fixtures import Person

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

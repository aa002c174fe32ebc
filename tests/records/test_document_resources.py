"""The records service keeps a DocumentReference as written; the columns come from `derive_document` alone."""

from __future__ import annotations

import base64
import uuid
from datetime import date
from typing import Any

import pytest

from carnet.access.actor import Actor
from carnet.context import Context
from carnet.fhir.codes import CLASS_SYSTEM, CONFIDENTIALITY_SYSTEM, LOINC, MASKED, RPPS_SYSTEM
from carnet.kit.errors import Invalid
from carnet.records.document_checks import accept_document
from carnet.records.document_types import V3_CONFIDENTIALITY, derive_document
from carnet.records.documents import deposit_resource, document_history, get_document, set_masked
from tests.factories import open_test_record, rpps

TEXT = b"Compte rendu.\n"


def reference(patient_id: uuid.UUID, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "status": "current",
        "type": {"coding": [{"system": "urn:oid:1.2.3", "code": "local"}, {"system": LOINC, "code": "11502-2"}]},
        "category": [
            {"coding": [{"system": "http://ihe.net/classes", "code": "Lab"}]},
            {"coding": [{"system": CLASS_SYSTEM, "code": "10"}]},
        ],
        "subject": {"reference": f"Patient/{patient_id}"},
        "description": "Bilan sanguin",
        "content": [{"attachment": {"contentType": "text/plain", "data": base64.b64encode(TEXT).decode()}}],
        "context": {"period": {"start": "2025-11"}},
        **extra,
    }


def test_a_mask_made_outside_fhir_changes_carnets_label_only_and_each_version_keeps_its_resource(
    ctx: Context,
) -> None:
    patient_id = open_test_record(ctx)
    patient = Actor.patient(patient_id)
    labels = [{"coding": [{"system": V3_CONFIDENTIALITY, "code": "N"}]}]
    sent = reference(patient_id, securityLabel=labels, meta={"tag": [{"system": "urn:t", "code": "x"}]})
    sent["category"][1]["coding"][0]["code"] = "90"
    document_id = deposit_resource(ctx, patient, accept_document(sent), TEXT)
    set_masked(ctx, patient, patient_id, document_id, True)
    now = get_document(ctx, patient, patient_id, document_id).resource
    assert now["meta"]["security"] == [{"system": CONFIDENTIALITY_SYSTEM, "code": MASKED}]
    assert now["meta"]["tag"] == sent["meta"]["tag"] and now["securityLabel"] == labels
    second, first = document_history(ctx, patient, patient_id, document_id)
    assert "security" not in first.resource["meta"] and second.resource["meta"]["versionId"] == "2"
    assert {k: v for k, v in first.resource.items() if k != "meta"} == {k: v for k, v in now.items() if k != "meta"}


def test_derive_reads_the_class_type_act_date_and_authors_as_written() -> None:
    patient_id = uuid.uuid4()
    contained = {"resourceType": "Practitioner", "id": "p", "identifier": [{"system": RPPS_SYSTEM, "value": rpps(4)}]}
    contained["name"] = [{"family": "Durand", "given": ["Léa"]}]
    authors = [
        {"reference": "Organization/labo"},
        {"reference": "#p"},
        {"identifier": {"system": RPPS_SYSTEM, "value": f"8{rpps(5)}"}},
    ]
    facts = derive_document(reference(patient_id, author=authors, contained=[contained], docStatus="preliminary"))
    assert (facts.class_code, facts.type_code, facts.act_date) == ("10", "11502-2", date(2025, 11, 1))
    assert facts.authors_rpps == (rpps(4), rpps(5)) and facts.author_name == "Léa Durand"
    assert facts.doc_status == "preliminary" and not facts.visibility.any


@pytest.mark.parametrize(
    ("change", "expression"),
    [
        (
            {"category": [{"coding": [{"system": "http://ihe.net/classes", "code": "Lab"}]}]},
            "DocumentReference.category",
        ),
        ({"type": {"coding": [{"system": LOINC, "code": "00000-0"}]}}, "DocumentReference.type.coding[0].code"),
        ({"context": {}}, "DocumentReference.context.period.start"),
        ({"description": " "}, "DocumentReference.description"),
        (
            {"author": [{"identifier": {"system": RPPS_SYSTEM, "value": "123"}}]},
            "DocumentReference.author[0].identifier.value",
        ),
        (
            {"meta": {"security": [{"system": CONFIDENTIALITY_SYSTEM, "code": "INVISIBLE_PATIENT"}]}},
            "DocumentReference.meta.security",
        ),
    ],
)
def test_derive_refuses_naming_the_element(change: dict[str, Any], expression: str) -> None:
    with pytest.raises(Invalid) as refused:
        derive_document(reference(uuid.uuid4(), **change))
    assert refused.value.expression == expression

"""record_bundle: the whole record in one collection Bundle, $everything's content unpaged, as the patient sees it."""

from __future__ import annotations

from datetime import date, timedelta

from fhir.resources.R4B.bundle import Bundle

from carnet.access.actor import Actor
from carnet.context import Context
from carnet.fhir.everything import record_bundle
from carnet.fhir.wire import checked
from carnet.records.documents import deposit_document
from carnet.records.profile import add_profile_resource
from tests.factories import PDF, SYSTEM, document_meta, open_test_record

BASE = "https://carnet.test/fhir"


def test_every_document_profile_entry_and_the_patient_in_one_bundle(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    patient = Actor.patient(patient_id)
    for day in range(105):  # more than one page of documents (100)
        meta = document_meta(title=f"Compte rendu {day}", act_date=date(2026, 1, 1) + timedelta(days=day))
        deposit_document(ctx, SYSTEM, patient_id, meta, PDF)
    allergy = {"resourceType": "AllergyIntolerance", "code": {"text": "Pollen"}}
    add_profile_resource(ctx, patient, patient_id, {**allergy, "patient": {"reference": f"Patient/{patient_id}"}})

    whole = checked(record_bundle(ctx, patient, patient_id, BASE))
    bundle = Bundle.model_validate(whole)  # a valid R4 Bundle
    assert bundle.type == "collection" and not bundle.link
    resources = [e["resource"] for e in whole["entry"]]
    assert [r["resourceType"] for r in resources[:2]] == ["Patient", "AllergyIntolerance"]
    documents = [r for r in resources if r["resourceType"] == "DocumentReference"]
    assert len(documents) == 105 and len({r["id"] for r in documents}) == 105
    assert documents[0]["description"] == "Compte rendu 104"  # newest act first, as $everything
    first = whole["entry"][1]
    assert first["fullUrl"] == f"{BASE}/AllergyIntolerance/{first['resource']['id']}" and "search" not in first

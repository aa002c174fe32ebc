"""What is written is what is read (SPEC §2): each change of meaning issue 19 found, now read back as written.

Each of these failed before profile entries kept their resource: the unit replaced, a status reversed, the
verification dropped, "no known allergy" turned into an allergy, a refusal naming Carnet's internal fields.
"""

from __future__ import annotations

import uuid
from typing import Any

from carnet.fhir.codes import CLASS_SYSTEM, EXT_SOURCE_CLASS, LOINC, RPPS_SYSTEM, UCUM
from tests.conformance.examples import without_server_elements
from tests.factories import rpps
from tests.fhir.conftest import Opened

SNOMED = "http://snomed.info/sct"
TERMINOLOGY = "http://terminology.hl7.org/CodeSystem/"


def _concept(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": f"{TERMINOLOGY}{system}", "code": code}]}


def _kept(opened: Opened, sent: dict[str, Any]) -> dict[str, Any]:
    """Post, read back, and check the read is what was sent apart from what Carnet sets; the read is returned."""
    created = opened.doctor.post(sent["resourceType"], sent)
    assert created.status_code == 201, created.text
    read: dict[str, Any] = opened.doctor.get(f"{sent['resourceType']}/{created.json()['id']}").json()
    assert read == created.json()
    assert without_server_elements(read) == without_server_elements(sent)
    assert read["meta"]["versionId"] == "1"
    return read


def _search(opened: Opened, resource_type: str) -> list[dict[str, Any]]:
    bundle = opened.doctor.get(resource_type, patient=f"Patient/{opened.patient_id}").json()
    return [e["resource"] for e in bundle.get("entry", [])]


def _patient(opened: Opened) -> dict[str, str]:
    return {"reference": f"Patient/{opened.patient_id}"}


def _refused(opened: Opened, sent: dict[str, Any], status: int, expression: str) -> str:
    answer = opened.doctor.post(sent["resourceType"], sent)
    issue = answer.json()["issue"][0]
    assert (answer.status_code, issue.get("expression")) == (status, [expression]), answer.text
    assert _search(opened, sent["resourceType"]) == []  # nothing stored
    return str(issue["diagnostics"])


def test_a_weight_in_pounds_reads_back_in_pounds(opened: Opened) -> None:
    weight = {"value": 185, "unit": "lbs", "system": UCUM, "code": "[lb_av]"}
    read = _kept(
        opened,
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "29463-7", "display": "Body Weight"}]},
            "subject": _patient(opened),
            "effectiveDateTime": "2016-03-28T09:30:00+01:00",
            "valueQuantity": weight,
        },
    )
    assert read["valueQuantity"] == weight
    assert read["effectiveDateTime"] == "2016-03-28T09:30:00+01:00"
    everything = opened.doctor.get(f"Patient/{opened.patient_id}/$everything").json()
    assert read in [e["resource"] for e in everything["entry"]]  # $everything returns the stored resource


def test_not_done_immunization_and_procedure_read_not_done_with_their_reason(opened: Opened) -> None:
    reason = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "MEDPREC"}]}
    immunization = _kept(
        opened,
        {
            "resourceType": "Immunization",
            "status": "not-done",
            "statusReason": reason,
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "01"}]},
            "patient": _patient(opened),
            "occurrenceDateTime": "2013-01-10",
        },
    )
    procedure = _kept(
        opened,
        {
            "resourceType": "Procedure",
            "status": "not-done",
            "statusReason": {"text": "Patient refused"},
            "code": {"coding": [{"system": SNOMED, "code": "80146002"}]},
            "subject": _patient(opened),
        },
    )
    assert (immunization["status"], immunization["statusReason"]) == ("not-done", reason)
    assert procedure["status"] == "not-done"
    assert [r["status"] for r in _search(opened, "Immunization")] == ["not-done"]  # not done is still listed


def test_an_entry_in_error_reads_so_and_is_left_out_of_lists(opened: Opened) -> None:
    read = _kept(
        opened,
        {
            "resourceType": "MedicationStatement",
            "status": "entered-in-error",
            "medicationCodeableConcept": {"text": "Atorvastatine 20 mg"},
            "subject": _patient(opened),
            "effectiveDateTime": "2024-09",
        },
    )
    assert read["status"] == "entered-in-error"
    assert _search(opened, "MedicationStatement") == []


def test_a_resolved_condition_reads_resolved(opened: Opened) -> None:
    read = _kept(
        opened,
        {
            "resourceType": "Condition",
            "clinicalStatus": _concept("condition-clinical", "resolved"),
            "category": [_concept("condition-category", "encounter-diagnosis")],
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "J45"}], "text": "Asthme"},
            "subject": _patient(opened),
            "onsetString": "dans l'enfance",
            "abatementAge": {"value": 12, "unit": "a", "system": UCUM, "code": "a"},
        },
    )
    assert read["clinicalStatus"]["coding"][0]["code"] == "resolved"
    assert read["category"][0]["coding"][0]["code"] == "encounter-diagnosis"


def test_refuted_and_unconfirmed_allergies_keep_their_verification(opened: Opened) -> None:
    for verification in ("refuted", "unconfirmed"):
        read = _kept(
            opened,
            {
                "resourceType": "AllergyIntolerance",
                "clinicalStatus": _concept("allergyintolerance-clinical", "active"),
                "verificationStatus": _concept("allergyintolerance-verification", verification),
                "code": {"coding": [{"system": "urn:oid:2.16.840.1.113883.6.73", "code": "N02BA01"}]},
                "patient": _patient(opened),
                "onsetDateTime": "2004",
                "recorder": {"identifier": {"system": RPPS_SYSTEM, "value": f"8{rpps(3)}"}},
            },
        )
        assert read["verificationStatus"]["coding"][0]["code"] == verification
        assert read["onsetDateTime"] == "2004"


def test_no_known_allergy_reads_as_that(opened: Opened) -> None:
    nka = {"coding": [{"system": SNOMED, "code": "716186003", "display": "No Known Allergy (situation)"}]}
    read = _kept(
        opened,
        {
            "resourceType": "AllergyIntolerance",
            "clinicalStatus": _concept("allergyintolerance-clinical", "active"),
            "verificationStatus": _concept("allergyintolerance-verification", "confirmed"),
            "code": nka,
            "patient": _patient(opened),
        },
    )
    assert read["code"] == nka
    assert "type" not in read


def test_any_observation_code_and_a_contained_medication_are_kept(opened: Opened) -> None:
    _kept(
        opened,
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "4548-4", "display": "HbA1c"}]},
            "subject": _patient(opened),
            "effectivePeriod": {"start": "2025-01-10T08:00:00+01:00", "end": "2025-01-10T08:05:00+01:00"},
            "valueQuantity": {"value": 6.9, "unit": "%", "system": UCUM, "code": "%"},
            "referenceRange": [{"high": {"value": 6, "unit": "%", "system": UCUM, "code": "%"}}],
            "interpretation": [_concept("v3-ObservationInterpretation", "H")],
        },
    )
    _kept(
        opened,
        {
            "resourceType": "MedicationDispense",
            "status": "completed",
            "contained": [
                {
                    "resourceType": "Medication",
                    "id": "med",
                    "code": {"coding": [{"system": "urn:oid:1.2.250.1.213.2.3.1", "code": "3400930000000"}]},
                }
            ],
            "medicationReference": {"reference": "#med"},
            "subject": _patient(opened),
            "quantity": {"value": 180, "unit": "comprimé", "system": UCUM, "code": "{tbl}"},
            "whenHandedOver": "2025-02-03T17:42:00+01:00",
        },
    )


def test_what_cannot_be_honoured_is_refused_naming_the_fhir_element(opened: Opened) -> None:
    condition = {"resourceType": "Condition", "subject": _patient(opened), "code": {"text": "Asthme"}}
    message = _refused(opened, {**condition, "onsetDateTime": "2023-02-30"}, 400, "Condition.onsetDateTime")
    assert "since" not in message
    _refused(
        opened,
        {**condition, "evidence": [{"detail": [{"reference": f"Patient/{uuid.uuid4()}"}]}]},
        422,
        "Condition.evidence[0].detail[0].reference",
    )
    _refused(
        opened,
        {**condition, "contained": [{"resourceType": "Medication", "id": "orphan"}]},
        422,
        "Condition.contained[0]",
    )
    _refused(
        opened,
        {**condition, "meta": {"security": [{"system": f"{TERMINOLOGY}v3-Confidentiality", "code": "SECRET"}]}},
        422,
        "Condition.meta.security[0]",
    )
    _refused(
        opened,
        {**condition, "onsetAge": {"unit": "a", "system": UCUM, "code": "a"}},
        422,
        "Condition.onsetAge.value",
    )
    _refused(
        opened,
        {**condition, "recorder": {"identifier": {"system": RPPS_SYSTEM, "value": "812345"}}},
        422,
        "Condition.recorder.identifier.value",
    )


def test_a_malformed_source_class_extension_is_a_clear_refusal(opened: Opened) -> None:
    malformed: list[tuple[Any, int]] = [(7, 400), ([{"url": EXT_SOURCE_CLASS, "valueCoding": "10"}], 400)]
    for extension, status in malformed:
        sent = {"resourceType": "Condition", "subject": _patient(opened), "extension": extension}
        answer = opened.doctor.post("Condition", sent)
        assert answer.status_code == status, answer.text
        assert answer.json()["issue"][0]["expression"][0].startswith("Condition.extension"), answer.text
    empty = {"resourceType": "Condition", "subject": _patient(opened), "extension": [{"url": EXT_SOURCE_CLASS}]}
    _refused(opened, empty, 422, "Condition.extension[0].valueCoding.code")
    unknown = {"url": EXT_SOURCE_CLASS, "valueCoding": {"system": CLASS_SYSTEM, "code": "77"}}
    sent = {"resourceType": "Condition", "subject": _patient(opened), "extension": [unknown]}
    _refused(opened, sent, 422, "Condition.extension[0].valueCoding.code")

"""Dates at the edges of the calendar inside FHIR bodies: kept as written, or refused naming the element.

The year 1 with the easternmost offset and the year 9999 with the westernmost fall outside Python's datetime
once turned to UTC; a date that does not exist is no date. None may answer 500 or be stored changed.
"""

from __future__ import annotations

from typing import Any

import pytest

from carnet.fhir.codes import LOINC, UCUM
from tests.conformance.examples import without_server_elements
from tests.fhir.conftest import Opened, checked
from tests.fhir.documents import document

EDGES = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01",
    "9999-12-31",
    "2023-02-30",
    "2026-01-01T24:00:00Z",
    "2026-01-01T00:00:00+99:99",
]


def _weight(patient_id: str, when: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "29463-7"}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": when,
        "valueQuantity": {"value": 70, "unit": "kg", "system": UCUM, "code": "kg"},
    }


def _kept_or_refused(opened: Opened, resource_type: str, sent: dict[str, Any], element: str) -> None:
    answer = opened.doctor.post(resource_type, sent)
    assert answer.status_code < 500, answer.text
    body = checked(answer).json()
    if answer.status_code == 201:
        read = checked(opened.doctor.get(f"{resource_type}/{body['id']}")).json()
        assert without_server_elements(read) == without_server_elements(sent) or resource_type == "DocumentReference"
        return
    assert answer.status_code in (400, 422), answer.text
    issue = body["issue"][0]
    assert element in (issue.get("expression", [""])[0] + issue["diagnostics"]), issue


@pytest.mark.parametrize("when", EDGES)
def test_an_observation_dated_at_a_calendar_edge_is_kept_or_refused(opened: Opened, when: str) -> None:
    _kept_or_refused(opened, "Observation", _weight(opened.patient_id, when), "effective")


@pytest.mark.parametrize("when", EDGES)
def test_a_document_dated_at_a_calendar_edge_is_refused_or_stored_never_500(opened: Opened, when: str) -> None:
    sent = document(opened.patient_id, date=when if "T" in when else f"{when}T00:00:00Z")
    _kept_or_refused(opened, "DocumentReference", sent, "date")
    sent = document(opened.patient_id, context={"period": {"start": when}})
    _kept_or_refused(opened, "DocumentReference", sent, "period")


@pytest.mark.parametrize("when", ["0001-01-01", "9999-12-31", "2023-02-30", "2025-13-01"])
def test_a_patient_born_at_a_calendar_edge_is_refused_never_500(opened: Opened, when: str) -> None:
    answer = opened.doctor.get("Patient", birthdate=when)
    assert answer.status_code < 500, answer.text

"""The blood group, written whole (LOINC 882-1) or as ABO (883-9) and Rh (10331-7) apart, is the blood group view."""

from __future__ import annotations

from typing import Any

import pytest

from carnet.access.actor import Actor
from carnet.context import Context
from carnet.fhir.codes import LOINC
from carnet.records.profile import add_profile_resource, list_profile
from carnet.records.profile_types import derive
from tests.factories import open_test_record

SNOMED = "http://snomed.info/sct"


def typing_result(patient_id: str, loinc: str, value: tuple[str, str]) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": loinc}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": "2018-03-11T16:07:54+00:00",
        "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": value[0]}], "text": value[1]},
    }


@pytest.mark.parametrize(
    ("loinc", "kind"),
    [("882-1", "blood_group"), ("883-9", "blood_group"), ("10331-7", "blood_group"), ("34532-2", "observation")],
)
def test_each_blood_typing_code_is_the_blood_group(loinc: str, kind: str) -> None:
    assert derive(typing_result("x", loinc, ("112144000", "A"))).kind == kind


def test_abo_and_rh_written_apart_are_both_shown_as_the_blood_group(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    patient = Actor.patient(patient_id)
    abo = typing_result(str(patient_id), "883-9", ("112144000", "A"))
    rh = typing_result(str(patient_id), "10331-7", ("165747007", "Rh positive"))
    for sent in (abo, rh):
        add_profile_resource(ctx, patient, patient_id, sent)
    shown = list_profile(ctx, patient, patient_id, kind="blood_group")
    assert sorted(e.resource["code"]["coding"][0]["code"] for e in shown) == ["10331-7", "883-9"]
    assert list_profile(ctx, patient, patient_id, kind="observation") == []

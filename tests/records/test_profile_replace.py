"""replace_profile_entry: an author corrects their entry; the old one is kept, retired, and the new one is current."""

from __future__ import annotations

import uuid

import pytest

from carnet.access.actor import Actor
from carnet.context import Context
from carnet.kit.errors import BadRequest, CarnetError
from carnet.records.profile import add_profile_resource, list_profile, replace_profile_entry
from tests.factories import SYSTEM, open_test_record, rpps


def _allergy(patient_id: uuid.UUID, text: str) -> dict[str, object]:
    return {
        "resourceType": "AllergyIntolerance",
        "code": {"text": text},
        "patient": {"reference": f"Patient/{patient_id}"},
    }


def test_the_new_resource_is_current_and_the_old_one_kept_retired(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    patient = Actor.patient(patient_id)
    old = add_profile_resource(ctx, patient, patient_id, _allergy(patient_id, "Pénicilline"))
    new = replace_profile_entry(
        ctx, patient, patient_id, old, _allergy(patient_id, "Amoxicilline"), expected_type="AllergyIntolerance"
    )
    current = list_profile(ctx, patient, patient_id, kind="allergy")
    assert [(e.id, e.resource["code"]["text"]) for e in current] == [(new, "Amoxicilline")]
    everything = list_profile(ctx, patient, patient_id, kind="allergy", include_retired=True)
    assert {e.id: e.status for e in everything} == {old: "retired", new: "active"}


def test_a_refused_resource_leaves_the_old_entry_unchanged_within_the_transaction(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    patient = Actor.patient(patient_id)
    old = add_profile_resource(ctx, patient, patient_id, _allergy(patient_id, "Pénicilline"))
    with pytest.raises(BadRequest), ctx.session.begin_nested():  # the request's unit rolls back as this does
        replace_profile_entry(
            ctx,
            patient,
            patient_id,
            old,
            {**_allergy(patient_id, "X"), "onsetDateTime": "hier"},
            expected_type="AllergyIntolerance",
        )
    assert [e.id for e in list_profile(ctx, patient, patient_id, kind="allergy")] == [old]


def test_a_patient_cannot_replace_a_professionals_entry(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    written = add_profile_resource(
        ctx, SYSTEM, patient_id, _allergy(patient_id, "Latex"), source_class="11", author_rpps=rpps()
    )
    with pytest.raises(CarnetError):
        replace_profile_entry(
            ctx,
            Actor.patient(patient_id),
            patient_id,
            written,
            _allergy(patient_id, "Rien"),
            expected_type="AllergyIntolerance",
        )

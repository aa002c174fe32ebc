from __future__ import annotations

import uuid
from typing import Any

import pytest

from carnet.access.actor import Actor
from carnet.context import Context
from carnet.kit.errors import Forbidden, Invalid, NotFound
from carnet.records.profile import add_profile_entry, list_profile, retire_profile_entry
from carnet.records.profile_kinds import PROFILE_KINDS
from tests.factories import SYSTEM, open_test_record, rpps

ONE_OF_EACH: list[dict[str, Any]] = [
    {"kind": "allergy", "substance": "pénicilline", "reaction": "urticaire", "severity": "moderate"},
    {"kind": "medical_history", "condition": "asthme", "since": "2001-05-01"},
    {"kind": "surgical_history", "procedure": "appendicectomie", "performed_on": "1999-07-14"},
    {"kind": "family_history", "relation": "mère", "condition": "diabète de type 2"},
    {"kind": "treatment", "medication": "Ventoline", "dosage": "2 bouffées si besoin", "since": "2020-01-01"},
    {"kind": "prescription", "medication": "Amoxicilline 1 g", "prescribed_on": "2026-02-01", "quantity": 2},
    {"kind": "dispensation", "medication": "Amoxicilline 1 g", "dispensed_on": "2026-02-02", "dispenser": "Pharmacie"},
    {"kind": "vaccination", "vaccine": "DTP", "administered_on": "2015-03-01", "dose": 3},
    {"kind": "blood_group", "group": "O-"},
    {"kind": "weight", "kilograms": 64.5, "measured_on": "2026-01-10"},
    {"kind": "height", "centimetres": 168, "measured_on": "2026-01-10"},
    {"kind": "blood_pressure", "systolic_mmhg": 125, "diastolic_mmhg": 80, "measured_on": "2026-01-10"},
    {"kind": "advance_directive", "text": "Pas d'acharnement thérapeutique.", "written_on": "2024-02-02"},
    {"kind": "organ_donation", "choice": "accepts"},
    {"kind": "emergency_contact", "name": "Paul Dupont", "relation": "frère", "phone": "06 12 34 56 78"},
    {"kind": "care_team", "name": "Dr Martin", "profession": "10", "role": "médecin traitant"},
]


def test_every_kind_round_trips(ctx: Context) -> None:
    assert sorted(entry["kind"] for entry in ONE_OF_EACH) == sorted(PROFILE_KINDS)
    patient_id = open_test_record(ctx)
    patient = Actor.patient(patient_id)
    for payload in ONE_OF_EACH:
        add_profile_entry(ctx, patient, patient_id, payload)
    entries = list_profile(ctx, patient, patient_id)
    assert sorted(e.kind for e in entries) == sorted(PROFILE_KINDS)
    assert all(e.source_class == "90" and e.author_kind == "patient" for e in entries)
    contact = list_profile(ctx, patient, patient_id, kind="emergency_contact")[0].resource
    assert contact["telecom"] == [{"system": "phone", "value": "0612345678"}]


def test_imported_entries_carry_their_source_class_and_author(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    add_profile_entry(
        ctx, SYSTEM, patient_id, {"kind": "blood_group", "group": "A+"}, source_class="11", author_rpps=rpps()
    )
    (entry,) = list_profile(ctx, Actor.patient(patient_id), patient_id, kind="blood_group")
    assert (entry.source_class, entry.author_kind, entry.author_ref) == ("11", "professional", rpps())
    with pytest.raises(Invalid, match="class of the document"):
        add_profile_entry(ctx, SYSTEM, patient_id, {"kind": "blood_group", "group": "A+"}, author_rpps=rpps())
    with pytest.raises(Invalid, match="names its professional author"):
        add_profile_entry(ctx, SYSTEM, patient_id, {"kind": "blood_group", "group": "A+"}, source_class="11")
    with pytest.raises(Invalid, match="class 90"):
        add_profile_entry(
            ctx, Actor.patient(patient_id), patient_id, {"kind": "blood_group", "group": "A+"}, source_class="11"
        )


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"kind": "tattoo"}, "kind"),
        ({"kind": "blood_group", "group": "C+"}, "blood_group.group"),
        ({"kind": "weight", "kilograms": -3, "measured_on": "2026-01-01"}, "weight.kilograms"),
        (
            {"kind": "blood_pressure", "systolic_mmhg": 80, "diastolic_mmhg": 120, "measured_on": "2026-01-01"},
            "diastolic pressure must be lower",
        ),
        ({"kind": "vaccination", "vaccine": "DTP", "administered_on": "2999-01-01"}, "must not be in the future"),
        ({"kind": "emergency_contact", "name": "A", "relation": "B", "phone": "call me"}, "phone number"),
        ({"kind": "care_team", "name": "Dr X", "profession": "99"}, "unknown profession code"),
        ({"kind": "treatment", "medication": "X", "since": "2020-01-02", "until": "2020-01-01"}, "cannot precede"),
        ({"kind": "allergy", "substance": "x", "colour": "red"}, "allergy.colour"),
    ],
)
def test_bad_entries_are_refused_naming_the_field(ctx: Context, payload: dict[str, Any], fragment: str) -> None:
    patient_id = open_test_record(ctx)
    patient = Actor.patient(patient_id)
    with pytest.raises(Invalid, match=fragment):
        add_profile_entry(ctx, patient, patient_id, payload)
    assert list_profile(ctx, patient, patient_id) == []


def test_retire_by_author_only_and_kept(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    patient = Actor.patient(patient_id)
    own = add_profile_entry(ctx, patient, patient_id, {"kind": "organ_donation", "choice": "refuses"})
    imported = add_profile_entry(
        ctx, SYSTEM, patient_id, {"kind": "blood_group", "group": "B+"}, source_class="11", author_rpps=rpps()
    )
    retire_profile_entry(ctx, patient, patient_id, own)
    with pytest.raises(Forbidden, match="Only the author"):
        retire_profile_entry(ctx, patient, patient_id, imported)
    with pytest.raises(NotFound):
        retire_profile_entry(ctx, patient, patient_id, uuid.uuid4())
    assert [e.id for e in list_profile(ctx, patient, patient_id)] == [imported]
    retired = list_profile(ctx, patient, patient_id, include_retired=True)
    assert {(e.id, e.status) for e in retired} == {(own, "retired"), (imported, "active")}
    with pytest.raises(Invalid, match="Unknown profile entry kind"):
        list_profile(ctx, patient, patient_id, kind="horoscope")


def test_other_patients_and_professionals_cannot_read_the_profile(ctx: Context) -> None:
    patient_id, other = open_test_record(ctx), open_test_record(ctx)
    add_profile_entry(ctx, Actor.patient(patient_id), patient_id, {"kind": "blood_group", "group": "O+"})
    for intruder in (Actor.patient(other), Actor.professional(rpps(), "10"), SYSTEM):
        with pytest.raises((NotFound, Forbidden)):
            list_profile(ctx, intruder, patient_id)

"""Profile resources with random optional elements round-trip exactly through the service, or are refused naming
the element; the columns derived from a resource say what it says."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from carnet.access.actor import Actor
from carnet.context import Context
from carnet.fhir.codes import LOINC, RPPS_SYSTEM, UCUM
from carnet.fhir.wire import dumps, loads
from carnet.kit.errors import CarnetError, Invalid
from carnet.records.profile import add_profile_resource, get_profile_entry, list_profile
from carnet.records.profile_types import PROFILE_TYPES, derive
from tests.conformance.examples import exact, without_server_elements
from tests.factories import open_test_record, rpps

TERMINOLOGY = "http://terminology.hl7.org/CodeSystem/"
words = st.text(st.sampled_from("abcdéèçàô XYZ0123-'"), min_size=1, max_size=30).map(str.strip).filter(bool)
codes = st.text(st.sampled_from("ABCXYZ0123456789-."), min_size=1, max_size=12).filter(lambda c: c[0] not in "-.")
systems = st.sampled_from(
    [LOINC, "http://snomed.info/sct", "http://hl7.org/fhir/sid/icd-10", "urn:oid:1.2.250.1.213.2.3.1"]
)
coding = st.fixed_dictionaries({"system": systems, "code": codes}, optional={"display": words})
concept = st.fixed_dictionaries(
    {}, optional={"coding": st.lists(coding, min_size=1, max_size=3), "text": words}
).filter(bool)
days = st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31))
partial_dates = st.one_of(
    days.map(lambda d: d.isoformat()),
    days.map(lambda d: d.isoformat()[:7]),
    days.map(lambda d: d.isoformat()[:4]),
    days.map(lambda d: f"{d.isoformat()}T08:30:00+01:00"),
)
units = st.sampled_from([("kg", "kg"), ("[lb_av]", "lbs"), ("mm[Hg]", "mmHg"), ("%", "%"), ("mmol/L", "mmol/l")])
quantity = st.builds(
    lambda value, unit: {"value": value, "unit": unit[1], "system": UCUM, "code": unit[0]},
    st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False).map(float),
    units,
) | st.just({"unit": "kg", "system": UCUM, "code": "kg"})  # no value: refused
onset = st.one_of(
    partial_dates.map(lambda d: {"onsetDateTime": d}),
    st.builds(lambda a, b: {"onsetPeriod": {"start": min(a, b), "end": max(a, b)}}, partial_dates, partial_dates),
    st.integers(1, 90).map(lambda y: {"onsetAge": {"value": y, "unit": "a", "system": UCUM, "code": "a"}}),
    words.map(lambda w: {"onsetString": w}),
    st.just({"onsetDateTime": "2023-02-30"}),  # a day that does not exist: refused
)
notes = st.lists(st.fixed_dictionaries({"text": words}), min_size=1, max_size=3)


def _status(system: str, values: list[str]) -> Any:
    return st.sampled_from(values).map(lambda c: {"coding": [{"system": f"{TERMINOLOGY}{system}", "code": c}]})


def _resource(name: str, required: dict[str, Any], optional: dict[str, Any]) -> Any:
    return st.fixed_dictionaries(required, optional=optional).map(lambda r: {"resourceType": name, **r})


resources = st.one_of(
    st.builds(
        lambda base, extra: {**base, **extra},
        _resource(
            "Condition",
            {"code": concept},
            {
                "clinicalStatus": _status("condition-clinical", ["active", "recurrence", "inactive", "resolved"]),
                "verificationStatus": _status(
                    "condition-ver-status", ["unconfirmed", "provisional", "refuted", "entered-in-error"]
                ),
                "note": notes,
            },
        ),
        onset,
    ),
    _resource(
        "AllergyIntolerance",
        {"code": concept},
        {
            "verificationStatus": _status("allergyintolerance-verification", ["unconfirmed", "confirmed", "refuted"]),
            "criticality": st.sampled_from(["low", "high", "unable-to-assess"]),
            "reaction": st.lists(st.fixed_dictionaries({"manifestation": st.lists(concept, min_size=1, max_size=2)})),
            "note": notes,
        },
    ),
    _resource(
        "Observation",
        {"status": st.sampled_from(["preliminary", "final", "amended", "entered-in-error"]), "code": concept},
        {"valueQuantity": quantity, "effectiveDateTime": partial_dates, "note": notes},
    ),
    _resource(
        "MedicationStatement",
        {
            "status": st.sampled_from(["active", "completed", "stopped", "entered-in-error", "not-taken"]),
            "medicationCodeableConcept": concept,
        },
        {
            "effectiveDateTime": partial_dates,
            "dosage": st.lists(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "text": words,
                        "route": concept,
                        "timing": st.fixed_dictionaries(
                            {"repeat": st.fixed_dictionaries({"frequency": st.integers(1, 6), "period": st.just(1)})}
                        ).map(lambda t: {"repeat": {**t["repeat"], "periodUnit": "d"}}),
                        "doseAndRate": st.lists(st.fixed_dictionaries({"doseQuantity": quantity}), max_size=1),
                    },
                ).filter(bool),
                max_size=2,
            ),
        },
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sent=resources)
def test_a_resource_reads_back_as_written_or_is_refused_naming_the_element(ctx: Context, sent: dict[str, Any]) -> None:
    patient_id = open_test_record(ctx)
    sent = {**sent, PROFILE_TYPES[sent["resourceType"]].subject: {"reference": f"Patient/{patient_id}"}}
    patient = Actor.patient(patient_id)
    try:
        entry_id = add_profile_resource(ctx, patient, patient_id, sent)
    except CarnetError as exc:
        assert exc.expression and exc.expression.startswith(sent["resourceType"]), exc.message
        event(f"refused: {exc.code}")
        assert list_profile(ctx, patient, patient_id, include_retired=True) == []
        return
    event(f"kept: {sent['resourceType']}")
    kinds = PROFILE_TYPES[sent["resourceType"]].kinds
    read = get_profile_entry(ctx, patient, patient_id, entry_id, kinds=kinds)
    # As JSON writes them: the float 0.01 sent is the decimal 0.01 read (fhir.wire keeps a number's text).
    assert exact(without_server_elements(read.resource)) == exact(loads(dumps(sent)))
    listed = [e.id for e in list_profile(ctx, patient, patient_id)]
    assert (entry_id in listed) is not read.in_error


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (
            {
                "resourceType": "Observation",
                "status": "final",
                "code": {"coding": [{"system": LOINC, "code": "8302-2"}]},
            },
            ("height", "final", None, False),
        ),
        (
            {
                "resourceType": "Observation",
                "status": "final",
                "code": {"coding": [{"system": LOINC, "code": "2160-0"}]},
            },
            ("observation", "final", None, False),
        ),
        (
            {
                "resourceType": "Condition",
                "clinicalStatus": {"coding": [{"code": "resolved"}]},
                "verificationStatus": {"coding": [{"code": "entered-in-error"}]},
            },
            ("medical_history", "resolved", "entered-in-error", True),
        ),
        ({"resourceType": "RelatedPerson", "active": False}, ("emergency_contact", "inactive", None, False)),
        ({"resourceType": "Immunization", "status": "not-done"}, ("vaccination", "not-done", None, False)),
    ],
)
def test_the_kind_and_statuses_come_from_the_resource(resource: dict[str, Any], expected: tuple[Any, ...]) -> None:
    derived = derive(resource)
    assert (derived.kind, derived.status, derived.verification, derived.in_error) == expected


@pytest.mark.parametrize(
    ("written", "first_day"),
    [("2004", "2004-01-01"), ("2004-12", "2004-12-01"), ("2004-12-03T23:30:00-05:00", "2004-12-03")],
)
def test_a_partial_date_counts_from_its_first_day(written: str, first_day: str) -> None:
    derived = derive({"resourceType": "Condition", "onsetDateTime": written})
    assert derived.occurred_on == date.fromisoformat(first_day)
    assert derived.occurred_at == "Condition.onsetDateTime"


@pytest.mark.parametrize("written", [rpps(4), f"8{rpps(4)}"])
def test_the_author_is_named_by_rpps_in_either_french_form(written: str) -> None:
    recorder = {"identifier": {"system": RPPS_SYSTEM, "value": written}}
    assert derive({"resourceType": "Condition", "recorder": recorder}).author_rpps == rpps(4)
    with pytest.raises(Invalid) as refused:
        derive(
            {"resourceType": "Condition", "recorder": {"identifier": {"system": RPPS_SYSTEM, "value": "9" + written}}}
        )
    assert refused.value.expression == "Condition.recorder.identifier.value"

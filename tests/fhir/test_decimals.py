"""FHIR decimals read back as written: the digits a professional sent (`66.90`, `3.50`, `1.0E2`) come back
byte for byte, on create, read, search and $everything, and in what is stored."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from carnet.fhir.codes import LOINC, UCUM
from carnet.fhir.wire import WrittenNumber, dumps, loads
from carnet.records.profile_checks import accept_resource
from tests.fhir.conftest import FHIR_JSON, Opened, checked


def observation_text(patient_id: str, value: str = "66.90", low: str = "3.50") -> str:
    """An Observation as a client writes it, numbers included: JSON text, not Python floats."""
    return (
        '{"resourceType":"Observation","status":"final",'
        f'"code":{{"coding":[{{"system":"{LOINC}","code":"8302-2"}}]}},'
        f'"subject":{{"reference":"Patient/{patient_id}"}},"effectiveDateTime":"2024-03-01",'
        f'"valueQuantity":{{"value":{value},"unit":"in","system":"{UCUM}","code":"[in_i]"}},'
        f'"referenceRange":[{{"low":{{"value":{low},"unit":"in","system":"{UCUM}","code":"[in_i]"}}}}]}}'
    )


def post_text(opened: Opened, path: str, text: str) -> bytes:
    headers = opened.doctor.headers({"Content-Type": FHIR_JSON})
    response = checked(opened.doctor.client.post(f"/fhir/{path}", content=text.encode(), headers=headers))
    assert response.status_code == 201, response.text
    return response.content


def test_a_quantity_and_a_reference_range_read_back_with_their_trailing_zeros(opened: Opened) -> None:
    pid = opened.patient_id
    created = post_text(opened, "Observation", observation_text(pid))
    entry_id = loads(created)["id"]
    read = opened.doctor.client.get(f"/fhir/Observation/{entry_id}", headers=opened.doctor.headers()).content
    found = opened.doctor.client.get(f"/fhir/Observation?patient={pid}", headers=opened.doctor.headers()).content
    whole = opened.doctor.client.get(f"/fhir/Patient/{pid}/$everything", headers=opened.doctor.headers()).content
    for answer in (created, read, found, whole):
        assert b'"valueQuantity":{"value":66.90,' in answer
        assert b'"low":{"value":3.50,' in answer


def test_exponents_and_long_decimals_read_back_as_written(opened: Opened) -> None:
    long = "3.14159265358979323846264338327950288419716939937510"
    created = post_text(opened, "Observation", observation_text(opened.patient_id, "1.0E2", long))
    read = opened.doctor.client.get(f"/fhir/Observation/{loads(created)['id']}", headers=opened.doctor.headers())
    assert b'"value":1.0E2,' in read.content
    assert f'"value":{long},'.encode() in read.content


# JSON's number grammar, as FHIR writes decimals: sign, integer part without leading zero, fraction, exponent.
DIGITS = st.text("0123456789", min_size=1, max_size=30)
INTEGER = st.one_of(st.just("0"), st.builds(lambda first, rest: first + rest, st.sampled_from("123456789"), DIGITS))
DECIMAL_TEXT = st.builds(
    lambda sign, whole, fraction, exponent: f"{sign}{whole}{fraction}{exponent}",
    st.sampled_from(["", "-"]),
    INTEGER,
    st.one_of(st.just(""), DIGITS.map(lambda d: f".{d}")),
    st.one_of(
        st.just(""),
        st.builds(
            lambda e, s, d: f"{e}{s}{d}",
            st.sampled_from("eE"),
            st.sampled_from(["", "+", "-"]),
            st.text("0123456789", min_size=1, max_size=4),
        ),
    ),
)


@given(DECIMAL_TEXT)
def test_every_json_number_reads_back_as_written(text: str) -> None:
    parsed = loads(f'{{"value":{text}}}')
    assert dumps(parsed) == f'{{"value":{text}}}'
    assert parsed["value"] == WrittenNumber(text)  # and the value is the exact decimal written


@given(DECIMAL_TEXT)
def test_a_profile_resource_keeps_its_decimals_through_the_checks_and_the_stored_text(text: str) -> None:
    patient_id = str(uuid.uuid4())
    sent = observation_text(patient_id, text, text)
    accepted = accept_resource(loads(sent), uuid.UUID(patient_id), "Observation")
    assert dumps(accepted) == sent

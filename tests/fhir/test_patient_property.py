"""Property test for Patient (issue 19): a Patient with random optional elements (names, telecoms, addresses
abroad and at home, contacts, languages, marital status, multiple birth, identifiers, partial-free dates)
reads back exactly as sent apart from what Carnet sets, or is refused 4xx naming the element."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from carnet.identity.cards import SimulatedCard, register_card
from carnet.runtime import Runtime
from tests.api.flows import card_shown
from tests.factories import new_ins
from tests.fhir.conftest import Fhir, checked, new_patient
from tests.fhir.test_patient_as_written import sent_part, writer_part
from tests.http_fixtures import INSURER, Person

words = st.text(st.sampled_from("abcdéèçàô XYZ-'"), min_size=1, max_size=20).map(str.strip).filter(bool)
TERMINOLOGY = "http://terminology.hl7.org/CodeSystem/"
address = st.fixed_dictionaries(
    {},
    optional={
        "use": st.sampled_from(["home", "work", "temp", "old"]),
        "line": st.lists(words, min_size=1, max_size=2),
        "city": words,
        "postalCode": st.sampled_from(["35000", "2A004", "94043", "75013", "SW1A 1AA"]),
        "country": st.sampled_from(["FR", "US", "BE", "France"]),
    },
)
telecom = st.fixed_dictionaries(
    {"system": st.sampled_from(["phone", "email", "sms"]), "value": words},
    optional={"use": st.sampled_from(["home", "mobile", "work"]), "rank": st.integers(1, 3)},
)
extras = st.fixed_dictionaries(
    {},
    optional={
        "telecom": st.lists(telecom, min_size=1, max_size=3),
        "address_more": st.lists(address, min_size=1, max_size=2),
        "maritalStatus": st.sampled_from(["M", "S", "D", "W", "U"]).map(
            lambda c: {"coding": [{"system": f"{TERMINOLOGY}v3-MaritalStatus", "code": c}]}
        ),
        "multipleBirthInteger": st.integers(1, 4),
        "multipleBirthBoolean": st.booleans(),
        "communication": st.lists(
            st.fixed_dictionaries(
                {"language": st.sampled_from(["fr", "en", "br", "eu"]).map(lambda c: {"text": c})},
                optional={"preferred": st.booleans()},
            ),
            min_size=1,
            max_size=2,
        ),
        "contact": st.lists(
            st.fixed_dictionaries(
                {"name": st.builds(lambda f: {"family": f}, words)}, optional={"telecom": st.lists(telecom, max_size=1)}
            ),
            min_size=1,
            max_size=2,
        ),
        "identifier": st.lists(
            st.builds(lambda v: {"system": "urn:oid:1.2.250.1.71.4.2.7", "value": v}, words), max_size=2
        ),
        "deceasedBoolean": st.just(False),
        "active": st.booleans(),  # false is refused: a record opens for an active patient
        "link": st.just([{"other": {"display": "autre dossier"}, "type": "seealso"}]),  # refused: one Patient per INS
        "given_more": st.lists(words, min_size=1, max_size=2),
    },
)


def _person(runtime: Runtime) -> Person:
    ins = new_ins()
    card = SimulatedCard.new(f"VIT{uuid.uuid4().int % 10**12:012d}")
    with runtime.unit_of_work() as ctx:
        register_card(ctx, INSURER, ins, card.serial, card.public_key())
    return Person(ins, card)


def _patient(base: dict[str, Any], chosen: dict[str, Any]) -> dict[str, Any]:
    sent = dict(base)
    sent["address"] = [{"use": "home", "postalCode": "35000", "country": "FR"}, *chosen.pop("address_more", [])]
    given = chosen.pop("given_more", None)
    if given:
        sent["name"] = [{**base["name"][0], "given": [*base["name"][0]["given"], *given]}]
    if "multipleBirthInteger" in chosen and "multipleBirthBoolean" in chosen:
        del chosen["multipleBirthBoolean"]  # R4 allows one of the two
    return {**sent, **chosen}


def test_a_patient_reads_back_as_written_or_is_refused_naming_the_element(
    runtime: Runtime, client_for: Callable[..., TestClient], doctor_token: Callable[..., str]
) -> None:
    doctor = Fhir(client_for(), doctor_token(seed=13))
    outcomes: set[str] = set()

    @given(chosen=extras)
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def round_trip(chosen: dict[str, Any]) -> None:
        person = _person(runtime)
        sent = _patient(new_patient(person, card_shown(doctor.client, doctor.token, person.card)), chosen)
        answer = checked(doctor.post("Patient", sent))
        assert answer.status_code < 500, answer.text
        if answer.status_code >= 400:
            issue = answer.json()["issue"][0]
            assert issue.get("expression", [""])[0].startswith("Patient."), issue
            event(f"refused {issue['expression'][0].split('[')[0]}")
            outcomes.add("refused")
            return
        event("kept")
        outcomes.add("kept")
        read = checked(doctor.get(f"Patient/{answer.json()['id']}")).json()
        assert sent_part(read) == writer_part(sent)

    round_trip()
    assert outcomes == {"kept", "refused"}, outcomes  # both sides of the property were exercised

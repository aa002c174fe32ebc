"""A narrative (`text.div`) that is not an R4 narrative is refused 400 naming the element; nothing is stored.
A good one is kept as written (Carnet never renders it raw: templates escape it)."""

from __future__ import annotations

from typing import Any

import pytest

from carnet.fhir.codes import LOINC, UCUM
from carnet.kit.xhtml import narrative_problem
from tests.fhir.conftest import Opened
from tests.fhir.documents import document

NS = 'xmlns="http://www.w3.org/1999/xhtml"'
GOOD = [
    f"<div {NS}>Poids : 70 kg</div>",
    f'<div {NS}><p>Poids <b>70</b> kg</p><table><tr><td class="x">a</td></tr></table></div>',
    f'<div {NS}><img src="#photo" alt="photo"/></div>',
    f'<div {NS}><a href="https://example.org/x">lien</a></div>',
]
BAD = [
    ("<div>unclosed", "well-formed"),
    ("plain text", "well-formed"),
    ("<div>no namespace</div>", "div"),
    (f"<div {NS}><script>alert(1)</script></div>", "<script>"),
    (f'<div {NS}><p onclick="steal()">a</p></div>', "onclick"),
    (f'<div {NS}><a href=" JavaScript:steal()">a</a></div>', "script link"),
    (f"<div {NS}><form><input/></form></div>", "<form>"),
    (f"<div {NS}><iframe src='x'/></div>", "<iframe>"),
    (f"<div {NS}>   </div>", "empty"),
    (f'<!DOCTYPE x [<!ENTITY e "boom">]><div {NS}>&e;</div>', "well-formed"),
]


@pytest.mark.parametrize("div", GOOD)
def test_a_basic_narrative_is_accepted(div: str) -> None:
    assert narrative_problem(div) is None


@pytest.mark.parametrize(("div", "why"), BAD)
def test_what_is_not_a_narrative_is_named(div: str, why: str) -> None:
    problem = narrative_problem(div)
    assert problem is not None and why in problem, problem


def _weight(patient_id: str, div: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "text": {"status": "generated", "div": div},
        "code": {"coding": [{"system": LOINC, "code": "29463-7"}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "valueQuantity": {"value": 70, "unit": "kg", "system": UCUM, "code": "kg"},
    }


def _listed(opened: Opened, resource_type: str) -> int:
    bundle = opened.doctor.get(resource_type, patient=f"Patient/{opened.patient_id}").json()
    return len(bundle.get("entry", []))


@pytest.mark.parametrize(("div", "why"), BAD[:6])
def test_an_observation_with_a_bad_narrative_is_refused_naming_it(opened: Opened, div: str, why: str) -> None:
    answer = opened.doctor.post("Observation", _weight(opened.patient_id, div))
    issue = answer.json()["issue"][0]
    assert (answer.status_code, issue["expression"]) == (400, ["Observation.text.div"]), answer.text
    assert why in issue["diagnostics"]
    assert _listed(opened, "Observation") == 0


def test_a_good_narrative_reads_back_as_written(opened: Opened) -> None:
    sent = _weight(opened.patient_id, GOOD[1])
    created = opened.doctor.post("Observation", sent)
    assert created.status_code == 201, created.text
    assert created.json()["text"] == sent["text"]


def test_a_contained_resources_narrative_is_checked_too(opened: Opened) -> None:
    sent = document(opened.patient_id)
    sent["contained"] = [{"resourceType": "Practitioner", "id": "a", "text": {"status": "generated", "div": BAD[3][0]}}]
    sent["author"] = [{"reference": "#a"}]
    answer = opened.doctor.post("DocumentReference", sent)
    issue = answer.json()["issue"][0]
    assert (answer.status_code, issue["expression"]) == (400, ["DocumentReference.contained[0].text.div"]), answer.text
    assert _listed(opened, "DocumentReference") == 0
